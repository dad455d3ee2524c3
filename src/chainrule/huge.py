"""Exact numbers too long to write out (huge rationals and powers).

Numbers are exact: 1.0001 is 10001/10000, so 1.0001^1100 is a fraction whose numerator and
denominator have 4,401 digits each, and 7^5200 is an integer of 4,395 digits.  Python refuses to
turn an integer of more than 4,300 digits into decimal text (``sys.set_int_max_str_digits``: the
conversion takes time quadratic in the length), and so does every printer built on ``str(int)``,
SymPy's among them.  This module is the one place that knows it:

* :class:`HeldPower` keeps a power of two numbers whose exact value would be huge as the power
  itself, 7^5200, whatever SymPy does to the expression around it (it never evaluates);
* :func:`digits` counts a number's digits, and :func:`scientific` writes it in scientific form,
  both from its bits (no decimal conversion), for the printers;
* :func:`too_long` says whether a number is beyond the limit, and :func:`holds_too_long`
  whether an expression holds one: SymPy's polynomial algorithms name their generators by
  ``str()``, so such an expression is not given to them.

The limit is read from Python, never raised: a person who raised it for their own program
gets exact digits up to their limit.
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from typing import Any

import mpmath
import sympy

HELD_DIGITS = 1000  # an exact power of numbers longer than this many digits is kept as a power
MAX_PRECISION = 1 << 22  # bits: a held power is not evaluated at more (1.2 million digits)
_LOG10_2 = math.log10(2)


def text_limit() -> int:
    """The most digits Python turns into text (0: no limit; Python before 3.10.7 has none)."""
    get = getattr(sys, "get_int_max_str_digits", None)
    return int(get()) if get is not None else 0


def digits(n: int) -> int:
    """The number of decimal digits of |n|, from its bits and one comparison with a power of 10."""
    n = abs(int(n))
    if n < 10:
        return 1
    d = int(n.bit_length() * _LOG10_2)  # 10^(d-1) ≤ n < 10^(d+1)
    return d + 1 if n >= 10**d else d


def too_long(n: int) -> bool:
    """Whether Python refuses to write n in decimal."""
    limit = text_limit()
    # n has at least (bits − 1)·log10(2) digits: the cheap test first, the count only near the limit
    return bool(limit) and int(n).bit_length() > limit * 3 and digits(n) > limit


def rational_too_long(number: Any) -> bool:
    """Whether a SymPy Rational (or Integer) has a numerator or denominator too long for text."""
    return too_long(int(number.p)) or too_long(int(number.q))


def scientific(p: int, q: int = 1, significant: int = 10) -> str:
    """p/q in scientific form, from its bits: 1.157920892e310, 1e-5000, -7.5e4400."""
    with mpmath.workdps(significant + 10):
        text = mpmath.nstr(mpmath.mpf(int(p)) / mpmath.mpf(int(q)), significant, min_fixed=0, max_fixed=0)
    mantissa, _, exponent = text.partition("e")
    mantissa = mantissa.removesuffix(".0")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


def described(p: int, q: int = 1) -> str:
    """A number too long to write out: its value in scientific form and how long it is exactly,
    '3.874717869e5070 (5,071 digits)', or for a fraction '1e-5000 (1 digit over 5,001)'."""
    value = scientific(p, q)
    if q == 1:
        return f"{value} ({_count(digits(p))})"
    return f"{value} ({_count(digits(p))} over {digits(q):,})"


def _count(n: int) -> str:
    return f"{n:,} digit" + ("" if n == 1 else "s")


def holds_too_long(expr: Any, bits: int | None = None) -> bool:
    """Whether a SymPy expression holds a number too long for text, or with `bits`, a numerator
    or denominator longer than that many bits (a walk with a stack)."""
    stack = [expr]
    seen: set[int] = set()
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if getattr(e, "is_Rational", False):
            if bits is not None and max(int(e.p).bit_length(), int(e.q).bit_length()) > bits:
                return True
            if rational_too_long(e):
                return True
        else:
            stack.extend(getattr(e, "args", ()))
    return False


def exact_digits(a: Any, b: Any) -> float | None:
    """About how many digits the exact a**b has (numerator and denominator together), for
    rational a and b; None otherwise.  From the operands' bit lengths, never their digits, so
    10^(10^100) costs nothing; a lower bound within a factor of 2 (±1 gives 0: (−1)^n is ±1)."""
    if not (_rational(a) and _rational(b)):
        return None
    bits = max(int(a.p).bit_length() - 1, 0) + max(int(a.q).bit_length() - 1, 0)
    if bits == 0 or b.p == 0:
        return 0.0
    exponent = abs(Fraction(int(b.p), int(b.q)))
    if exponent > 1 << 60:
        return math.inf
    return float(exponent * bits) * _LOG10_2


def _rational(number: Any) -> bool:
    return bool(getattr(number, "is_Rational", False))


def power(a: Any, b: Any) -> Any:
    """a**b in SymPy, held as written when both are numbers and the exact result would be huge:
    1.0001^1100 is a fraction of 8,800 digits, 2^2^2^2^2^2^2 a number of 10^19728 digits.  A power
    whose exponent is held is held too, as one tower (2, 2, 65536): never a deep expression."""
    a, b = (sympy.Integer(n) if isinstance(n, int) else n for n in (a, b))
    if _rational(a) and _rational(b):
        size = exact_digits(a, b)
        if size is not None and size > HELD_DIGITS:
            # a^-n is 1/a^n, so 1/7^5200 and 7^-5200 are one expression
            return 1 / HeldPower(a, -b) if b.is_integer and b < 0 else HeldPower(a, b)
    elif _rational(a) and isinstance(b, HeldPower) and a != 0 and abs(a) != 1:
        return HeldPower(a, *b.args)
    return a**b


MAX_LOG2 = 1 << 40  # a held power beyond 2^(2^40) has no value here: no number system holds it


class HeldPower(sympy.Function):  # type: ignore[misc]
    """a1^(a2^(…^an)) for rational numbers whose exact value is too long to hold (7^5200 has 4,395
    digits; 2^2^2^2^2^2^2 is the tower 2, 2, 65536): a number that SymPy keeps as it is written,
    whatever rewrites it, since it never evaluates, and a tower of any height is one node.  Its
    value comes from mpmath, when one exists; it prints as the power (7**5200, 7⁵²⁰⁰, 7^{5200}).
    A printer with a ``held_power`` method prints it its own way."""

    @classmethod
    def eval(cls, *operands: Any) -> Any:
        return None  # never evaluated: that is its purpose

    def _eval_evalf(self, prec: int) -> Any:
        if not 0 < prec <= MAX_PRECISION:  # SymPy asks 2^(2^65536) for its exponent at 2^65536 bits
            return None
        value = self.value(prec)
        if value is None:
            return None
        if isinstance(value, mpmath.mpc):
            return sympy.Float._new(value.real._mpf_, prec) + sympy.I * sympy.Float._new(value.imag._mpf_, prec)
        return sympy.Float._new(value._mpf_, prec)

    def value(self, prec: int) -> Any:
        """The value in mpmath at `prec` bits, from the top of the tower down; None beyond 2^(2^40)."""
        operands = self.args
        with mpmath.workprec(prec + 20):
            value = _mpf(operands[-1])
            for base in reversed(operands[:-1]):
                b = _mpf(base)
                size = abs(value) * abs(mpmath.log(abs(b), 2)) if b != 0 else 0
                if size > MAX_LOG2:
                    return None
                with mpmath.extraprec(int(mpmath.log(abs(value) + 1, 2)) + 10):
                    value = mpmath.power(b, value)
        return value

    def fdiff(self, argindex: int = 1) -> Any:
        return sympy.S.Zero  # a number

    def _positive_integers(self) -> bool:
        """Whether the exponent (the tower above the base) is a positive integer."""
        return all(a.is_Integer and a > 0 for a in self.args[1:])

    def _eval_is_extended_real(self) -> bool | None:
        base = self.args[0]
        if base > 0:
            return True
        return True if (len(self.args) == 2 and self.args[1].is_integer) or self._positive_integers() else None

    def _eval_is_positive(self) -> bool | None:
        base = self.args[0]
        if base > 0:
            return True
        if len(self.args) == 2 and self.args[1].is_integer:
            return bool(self.args[1].is_even)
        return None

    def _eval_is_negative(self) -> bool | None:
        base = self.args[0]
        if base > 0:
            return False
        if len(self.args) == 2 and self.args[1].is_integer:
            return bool(self.args[1].is_odd)
        return None

    def _eval_is_zero(self) -> bool:
        return False

    def _eval_is_finite(self) -> bool:
        return True

    def _eval_is_integer(self) -> bool | None:
        return True if self.args[0].is_integer and self._positive_integers() else None

    def _eval_is_rational(self) -> bool | None:
        if (len(self.args) == 2 and self.args[1].is_integer) or self._positive_integers():
            return True
        return None

    def _sympystr(self, printer: Any) -> str:
        hook = getattr(printer, "held_power", None)
        if hook is not None:
            return str(hook(self))
        operands = [_operand(printer, a) for a in self.args]
        return "**(".join(operands[:-1]) + "**" + operands[-1] + ")" * (len(operands) - 2)

    def _latex(self, printer: Any, exp: Any = None) -> str:
        operands = [_operand(printer, a, "\\left(", "\\right)") for a in self.args[:-1]]
        text = "^{".join([*operands, _number(printer, self.args[-1])]) + "}" * len(operands)
        return text if exp is None else "\\left(" + text + "\\right)^{" + str(exp) + "}"

    def _mathml_presentation(self, printer: Any) -> Any:
        top = printer._print(self.args[-1])
        for base in reversed(self.args[:-1]):
            power = printer.dom.createElement("msup")
            inner = printer._print(base)
            if not (base.is_Integer and base >= 0):
                fenced = printer.dom.createElement("mfenced")
                fenced.appendChild(inner)
                inner = fenced
            power.appendChild(inner)
            power.appendChild(top)
            top = power
        return top


def _mpf(number: Any) -> Any:
    """A SymPy Rational in mpmath at the working precision (mpf / int goes through a float)."""
    return mpmath.mpf(int(number.p)) / mpmath.mpf(int(number.q))


def _number(printer: Any, number: Any) -> str:
    """A number by the printer, or described when it is too long for text."""
    if rational_too_long(number):
        return described(int(number.p), int(number.q))
    return str(printer._print(number))


def _operand(printer: Any, number: Any, left: str = "(", right: str = ")") -> str:
    """A number as the base or exponent of a power: in parentheses unless a natural number."""
    text = _number(printer, number)
    return text if number.is_Integer and number >= 0 and not rational_too_long(number) else f"{left}{text}{right}"
