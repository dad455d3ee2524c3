"""One specification per operation: the table every stage reads.

Each operation the parser can produce, from ``+`` to ``softplus``, has one
:class:`Rule` with named fields: the names a person may type, its arity, the
rule's name and identity as the lessons show them, how to build it in SymPy,
its symbolic partials, its value and slopes as one formula for every numeric
backend (floats and mpmath), where it is undefined, complex or not
differentiable, and how printers name it.  Everything else is derived:

* the parser's names (:data:`FUNCTIONS`, :data:`SPELLINGS`, :data:`INVERSES`);
* the SymPy classes of functions SymPy lacks (sigmoid, relu, softplus, and the
  real cube root: SymPy's cbrt is the principal, complex root of a negative number), whose
  ``fdiff`` is the table's partial and whose numeric evaluation is the
  table's value in mpmath;
* the printers' names for them.

Adding a function is one entry here and one row in the consistency test
(``tests/test_rules.py``), which checks that the parts of every entry agree.

Numeric formulas take a *number system* first: :data:`FLOAT` (Python floats)
or :data:`MP` (mpmath at its working precision), so the float and mpmath
values come from one formula.  The formulas are the forms that do not cancel:
σ′(u) = σ(u)·σ(−u), tanh′(u) = sech²(u) through exp.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType, SimpleNamespace
from typing import Any

import mpmath
import sympy

from chainrule import huge
from chainrule.tensor_forms import (
    ATOM,
    LOOSE,
    ONE,
    TIGHT,
    Call,
    Form,
    Infix,
    Notation,
    Operand,
    Prefix,
    Scaled,
    Sup,
)
from chainrule.tensor_forms import Sym as Name

Sym = Callable[..., Any]  # SymPy operands -> SymPy expression
Num = Callable[..., Any]  # (number system, *operands) -> number
Check = Callable[..., "str | None"]  # operands -> a reason, or None when all is well


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One operation and its differentiation rule.

    key: the tape's name for it (``add``, ``sin``, ``logb``).
    name: the rule as users read it (``sum``, ``ln``); identity: the rule as a formula.
    build: operands -> the SymPy expression; None for a function SymPy lacks,
      whose class is made from this entry.
    partials: per operand, operands -> the local derivative, symbolically.
    value, slopes: the same numerically, as formulas in a number system.
    undefined, complex_, kink: operands -> why the value is undefined, not
      real, or not differentiable there; None when it is fine.
    variants: (name, identity) by which operands vary: c·u is a constant multiple.
    spellings: other names a person may type (``ln``, ``arcsin``).
    defaults: the numbers that trailing operands default to when a call leaves them out.
    called: for an operator, the names it may be called by, as a function (``pow``).
    folds: for a binary function, that a call with more operands is read from the
      left, one operand at a time (``logsumexp(a, b, c)``, ``max(a, b, c)``).
    arity: (fewest, most) operands; inverse_of: ``asin`` is ``sin^-1``.
    pretty, plain, latex: how printers write it, as templates over the
      operands' texts; None for SymPy's own notation.
    elementary: for a function SymPy lacks, its definition in SymPy's
      functions, so an independent oracle can check it.
    compares: its numeric formula compares its operands, or needs them real
      (max(a, b), |u|, relu's u > 0, atan2): an operand that is undefined or
      complex (1/0, ln(−1)) has no answer, and is refused at its place.
    notation: for an operator, how the scalar text printer writes it (symbol, precedence);
      on_tensors: how the lessons write it entry by entry on tensors (``a ⊙ b``), and
      scaled: how when one operand is a number (``2·W``).
    partial_forms: per operand, operands' formulas -> the local derivative as a formula
      (:mod:`chainrule.tensor_forms`); empty: ``key′(u)``.
    """

    key: str
    name: str
    identity: str
    build: Sym | None
    partials: tuple[Sym, ...]
    value: Num
    slopes: tuple[Num, ...]
    undefined: Check | None = None
    complex_: Check | None = None
    kink: Check | None = None
    variants: Mapping[tuple[bool, ...], tuple[str, str]] = field(default_factory=dict)
    spellings: tuple[str, ...] = ()
    arity: tuple[int, int] = (1, 1)
    inverse_of: str | None = None
    pretty: str | None = None
    plain: str | None = None
    latex: str | None = None
    elementary: Sym | None = None
    function: bool = True
    defaults: tuple[str, ...] = ()  # the trailing operands a call may leave out: leaky_relu(x) is leaky_relu(x, 0.01)
    called: tuple[str, ...] = ()  # names under which an operator may be called as a function: pow(x, n)
    folds: bool = False  # f(a, b, c) is f(f(a, b), c): a binary rule takes any number of operands
    compares: bool = False  # its formula compares operands (max, |u|, relu's u > 0): they must be real numbers
    notation: Notation | None = None
    on_tensors: Notation | None = None
    scaled: Notation | None = None
    partial_forms: tuple[Callable[..., Form], ...] = ()

    @property
    def latex_name(self) -> str:
        """The function's name in LaTeX: from its template (\\sigma), else \\operatorname{key}."""
        if self.latex is not None and "\\left(" in self.latex:
            return self.latex.split("\\left(", 1)[0].replace("{{", "{").replace("}}", "}")
        return "\\operatorname{" + self.key.replace("_", "\\_") + "}"

    def partial_form(self, k: int, args: tuple[Form, ...]) -> Form:
        """∂(result)/∂(operand k) as a formula in the operands' formulas: relu′(u), 1/b, 2(u − y)."""
        if self.partial_forms:
            return self.partial_forms[k](*args)
        return Call(self.key, args, prime=True, latex=self.latex_name)

    def problem(self, *args: Any) -> tuple[str, str] | None:
        """(reason, message) when the operation has no real value at these operands."""
        for check, reason in ((self.undefined, "undefined"), (self.complex_, "complex")):
            if check is not None and (message := check(*args)):
                return reason, message
        return None

    @property
    def builder(self) -> Sym:
        """Operands -> the SymPy expression: `build`, or the class made from this entry."""
        return self.build or CLASSES[self.key]


# --------------------------------------------------------------------------- number systems


def _sech(n: Any, u: Any) -> Any:
    """sech(u) = 2/(eᵘ + e⁻ᵘ) through e^-|u|: no overflow, no cancellation."""
    t = n.exp(-abs(u))
    return 2 * t / (1 + t * t)


def _sigmoid(n: Any, u: Any) -> Any:
    if u >= 0:
        return 1 / (1 + n.exp(-u))
    t = n.exp(u)
    return t / (1 + t)


def _softplus(n: Any, u: Any) -> Any:
    return max(u, 0 * n.one) + n.log1p(n.exp(-abs(u)))


def _phi(n: Any, u: Any) -> Any:
    """Φ(u), the standard normal distribution function, as erfc(−u/√2)/2: no cancellation for u ≪ 0."""
    return n.erfc(-u / n.sqrt(2 * n.one)) / 2


def _gelu_slope(n: Any, u: Any) -> Any:
    """d/du u·Φ(u) = Φ(u) + u·φ(u)."""
    return _phi(n, u) + u * n.exp(-u * u / 2) / n.sqrt(2 * n.pi)


def _step(n: Any, u: Any) -> Any:
    """The unit step, ½ at 0 as SymPy's Heaviside."""
    return (1 if u > 0 else 0 if u < 0 else n.one / 2) * n.one


def _sign(n: Any, u: Any) -> Any:
    return (1 if u > 0 else -1 if u < 0 else 0) * n.one


def _logsumexp(n: Any, a: Any, b: Any) -> Any:
    """ln(eᵃ + eᵇ) = max + ln(1 + e^−|a−b|): no overflow."""
    top = a if a >= b else b
    return top + n.log1p(n.exp(-abs(a - b)))


def _cbrt(n: Any, u: Any) -> Any:
    """The real cube root."""
    root = abs(u) ** (n.one / 3)
    return -root if u < 0 else root


def _float_power(a: float, b: float) -> float:
    return math.pow(a, b)


MAX_POWER_BITS = 4096  # an integer exponent of more bits makes a power that no exponent can carry


def _mp_power(a: Any, b: Any) -> Any:
    """a^b in mpmath.  For an integer b beyond 2^64 (x^(7^5200)), as e^(b·ln|a|) with the digits
    b needs: mpmath's repeated squaring works at a precision that grows with b's bits and takes
    seconds for each value."""
    if isinstance(b, mpmath.mpf) and mpmath.isint(b) and abs(b) > 2**64 and a != 0 and abs(a) != 1:
        if mpmath.mag(b) > MAX_POWER_BITS:  # 9^(9^(9^9)): no number system carries it
            raise OverflowError("the power is beyond any exponent mpmath carries")
        with mpmath.extraprec(int(mpmath.mag(b)) + 10):
            magnitude = mpmath.exp(b * mpmath.log(abs(a)))
        return -magnitude if a < 0 and int(b) % 2 else +magnitude
    return mpmath.power(a, b)


MAX_ROOT = 1000  # the largest odd denominator read as a root: x^(1/3), x^(2/5), …


def odd_root(b: Any) -> Fraction | None:
    """b as p/q in lowest terms with q odd and > 1, when it is one (to the precision of b).

    Then a^b is real for a negative a, as calculus texts take it: (−8)^(1/3) = −2 and
    (−8)^(2/3) = 4.  Read from the value, so 1/3 typed as 0.3333333333333333 is 1/3 too."""
    value = float(b)
    if not math.isfinite(value) or value.is_integer():
        return None
    root = Fraction(value).limit_denominator(MAX_ROOT)
    if root.denominator % 2 == 0:
        return None
    if isinstance(b, float):
        close = abs(b - root.numerator / root.denominator) <= 4e-16 * abs(b)
    else:
        close = abs(b - mpmath.mpf(root.numerator) / root.denominator) <= mpmath.mpf(10) ** (3 - mpmath.mp.dps) * abs(b)
    return root if close else None


def _real_power(n: Any, a: Any, b: Any) -> Any:
    """a^b, real for a negative a and an odd root: −|a|^b when the numerator is odd, |a|^b when even."""
    if a < 0 and (root := odd_root(b)) is not None:
        magnitude = n.power(-a, b)
        return -magnitude if root.numerator % 2 else magnitude
    return n.power(a, b)


FLOAT = SimpleNamespace(
    name="float",
    one=1.0,
    pi=math.pi,
    e=math.e,
    **{f: getattr(math, f) for f in ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh")},
    **{f: getattr(math, f) for f in ("asinh", "acosh", "atanh", "exp", "log", "log10", "log2", "sqrt", "log1p")},
    **{f: getattr(math, f) for f in ("expm1", "erf", "erfc", "atan2", "hypot")},
    power=_float_power,
    ln_base=math.log,
)
MP = SimpleNamespace(
    name="mpmath",
    one=mpmath.mpf(1),
    pi=mpmath.pi,
    e=mpmath.e,
    **{f: getattr(mpmath, f) for f in ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh")},
    **{f: getattr(mpmath, f) for f in ("asinh", "acosh", "atanh", "exp", "log", "log10", "sqrt", "log1p")},
    **{f: getattr(mpmath, f) for f in ("expm1", "erf", "erfc", "atan2", "hypot")},
    log2=lambda u: mpmath.log(u, 2),
    power=_mp_power,
    ln_base=mpmath.log,
)


def _trig(name: str, u: Any) -> Any:
    """cos(u) or sin(u) for a domain check: exactly for an exact number (:class:`chainrule.exact.Exact`
    decides cos(π/2) = 0), in doubles otherwise."""
    exact = getattr(u, f"exact_{name}", None)
    return exact() if exact is not None else getattr(math, name)(u)


def _need(cond: Any, reason: str) -> str | None:
    return None if cond else reason


_ONE = sympy.Integer(1)


def _sigma(u: Any) -> Any:
    """σ(u) in SymPy (its class is made from the table, below)."""
    return CLASSES["sigmoid"](u)


_SQRT_2PI = sympy.sqrt(2 * sympy.pi)


def _normal(u: Any) -> Any:
    """Φ(u) in SymPy."""
    return (1 + sympy.erf(u / sympy.sqrt(2))) / 2


def _pow(a: Any, b: Any) -> Any:
    """a**b in SymPy: held as written when both are numbers and the exact result is huge, and for
    a negative number to an odd root the real root, as the numbers take it ((−8)^(1/3) = −2, not
    SymPy's principal root 1 + 1.73i)."""
    rationals = getattr(a, "is_Rational", False) and getattr(b, "is_Rational", False)
    if rationals and a < 0 and b.q % 2 == 1 and 1 < b.q <= MAX_ROOT:
        magnitude = huge.power(-a, b)
        return -magnitude if b.p % 2 else magnitude
    return huge.power(a, b)


# --------------------------------------------------------------------------- notation

# The scalar text printer's operators (interpret.TextBackend): SymPy's notation (plain) and the lessons'.
_SCALAR_ADD = Notation(text=" + ", latex="+", precedence=10, operands=(0, 11))
_SCALAR_SUB = Notation(text=" - ", latex="-", precedence=10, operands=(0, 11))
_SCALAR_NEG = Notation(text="-", latex="-", precedence=25, associativity="prefix", operands=(20,))
_SCALAR_MUL = Notation(text="·", plain="*", latex="\\cdot", precedence=20, operands=(20, 26))
_SCALAR_DIV = Notation(text="/", latex="/", precedence=20, operands=(20, 26))
_SCALAR_POW = Notation(text="^", plain="**", latex="^", precedence=40, associativity="right", superscript=True)

# The lessons' operators on tensors (tensor_forms, formula_print): spaced ones bind loosest.
PLUS = Notation(text=" + ", latex="+", precedence=LOOSE, operands=(0, 0))
MINUS = Notation(text=" − ", latex="-", mathml="−", precedence=LOOSE, operands=(0, LOOSE + 1))
ENTRYWISE = Notation(text=" ⊙ ", latex="\\odot", precedence=LOOSE, operands=(LOOSE + 1, LOOSE + 1))
ENTRYWISE_DIV = Notation(text=" ⊘ ", latex="\\oslash", precedence=LOOSE, operands=(LOOSE + 1, LOOSE + 1))
TIMES = Notation(text="·", latex="\\cdot", precedence=TIGHT, operands=(LOOSE + 1, LOOSE + 1))
OVER = Notation(text="/", latex="/", precedence=TIGHT, operands=(LOOSE + 1, LOOSE + 1))
NEGATE = Notation(text="−", latex="-", precedence=TIGHT, associativity="prefix", operands=(ATOM,))
POWER = Notation(text="^", latex="^", precedence=TIGHT, operands=(ATOM, ATOM))
MINUS_ONE = Prefix(NEGATE, ONE)


def _power_form(u: Form, n: Form) -> Form:
    """d/du uⁿ as a formula: 2(u − y) for n = 2, 3·u^2, n·u^(n − 1)."""
    if n == Name("2"):
        return Scaled("2", u)
    if isinstance(n, Name) and n.name.lstrip("-").isdigit() and n.name.lstrip("-").isascii():
        return Infix(TIMES, n, Infix(POWER, u, Name(str(int(n.name) - 1))))
    return Infix(TIMES, Operand(n), Infix(POWER, u, Infix(MINUS, n, Name("1"))))


def _one(*args: Form) -> Form:
    return ONE


def _minus_one(*args: Form) -> Form:
    return MINUS_ONE


def _operator(
    key: str,
    name: str,
    identity: str,
    build: Sym,
    partials: tuple[Sym, ...],
    value: Num,
    slopes: tuple[Num, ...],
    **more: Any,
) -> Rule:
    arity = (len(partials), len(partials))
    return Rule(
        key=key,
        name=name,
        identity=identity,
        build=build,
        partials=partials,
        value=value,
        slopes=slopes,
        arity=arity,
        function=False,
        **more,
    )


def _function(key: str, identity: str, build: Sym | None, partial: Sym, value: Num, slope: Num, **more: Any) -> Rule:
    name = more.pop("name", key)
    return Rule(
        key=key, name=name, identity=identity, build=build, partials=(partial,), value=value, slopes=(slope,), **more
    )


# fmt: off
_TABLE: list[Rule] = [
    # --- arithmetic -------------------------------------------------------------
    _operator("add", "sum", "d(a + b) = da + db", lambda a, b: a + b, (lambda a, b: _ONE, lambda a, b: _ONE),
              lambda n, a, b: a + b, (lambda n, a, b: 1, lambda n, a, b: 1),
              notation=_SCALAR_ADD, on_tensors=PLUS, partial_forms=(_one, _one)),
    _operator("sub", "difference", "d(a − b) = da − db", lambda a, b: a - b, (lambda a, b: _ONE, lambda a, b: -_ONE),
              lambda n, a, b: a - b, (lambda n, a, b: 1, lambda n, a, b: -1),
              notation=_SCALAR_SUB, on_tensors=MINUS, partial_forms=(_one, _minus_one)),
    _operator("neg", "negation", "d(−u) = −du", lambda a: -a, (lambda a: -_ONE,), lambda n, a: -a, (lambda n, a: -1,),
              notation=_SCALAR_NEG, on_tensors=NEGATE, partial_forms=(_minus_one,)),
    _operator(
        "mul", "product", "d(a·b) = b·da + a·db", lambda a, b: a * b, (lambda a, b: b, lambda a, b: a),
        lambda n, a, b: a * b, (lambda n, a, b: b, lambda n, a, b: a),
        variants={(True, False): ("constant multiple", "d(u·c) = c·du"),
                  (False, True): ("constant multiple", "d(c·u) = c·du")},
        notation=_SCALAR_MUL, on_tensors=ENTRYWISE, scaled=TIMES, partial_forms=(lambda a, b: b, lambda a, b: a),
    ),
    _operator(
        "div", "quotient", "d(a/b) = da/b − a·db/b²", lambda a, b: a / b, (lambda a, b: 1 / b, lambda a, b: -a / b**2),
        lambda n, a, b: a / b, (lambda n, a, b: 1 / b, lambda n, a, b: -(a / b) / b),
        undefined=lambda a, b: _need(b != 0, "division by zero"),
        variants={(True, False): ("constant multiple", "d(u/c) = du/c"),
                  (False, True): ("reciprocal", "d(c/u) = −c·du/u²")},
        notation=_SCALAR_DIV, on_tensors=ENTRYWISE_DIV,
        partial_forms=(lambda a, b: Infix(OVER, Name("1"), Operand(b)),
                       lambda a, b: Infix(OVER, Prefix(NEGATE, a), Sup(b, "²"))),
    ),
    _operator(
        "pow", "general power", "d(aᵇ) = b·aᵇ⁻¹·da + aᵇ·ln(a)·db", _pow,
        (lambda a, b: b * _pow(a, b - 1), lambda a, b: _pow(a, b) * sympy.log(a)),
        _real_power,
        (lambda n, a, b: b * _real_power(n, a, b - 1) if b != 0 else 0 * n.one,
         lambda n, a, b: n.power(a, b) * n.log(a)),
        undefined=lambda a, b: _need(not (a == 0 and b < 0), "0 raised to a negative power is undefined"),
        complex_=lambda a, b: _need(a >= 0 or float(b).is_integer() or odd_root(b) is not None,
                                    "a negative number to a power that is not a fraction with an odd denominator "
                                    "is not a real number"),
        kink=lambda a, b: _need(not (a == 0 and 0 < b < 1), "the slope of a fractional power is infinite at 0"),
        variants={(True, False): ("power", "d/du uⁿ = n·uⁿ⁻¹"),
                  (False, True): ("exponential", "d/du aᵘ = aᵘ·ln(a)")},
        called=("pow",), compares=True, notation=_SCALAR_POW, on_tensors=POWER,
        partial_forms=(_power_form, lambda a, b: Infix(TIMES, Infix(POWER, a, b), Call("ln", (a,)))),
    ),
    Rule(
        key="logb", name="logarithm", identity="d/du log_b(u) = 1/(u·ln(b))",
        build=lambda a, b: sympy.log(a, b),
        partials=(lambda a, b: 1 / (a * sympy.log(b)), lambda a, b: -sympy.log(a) / (b * sympy.log(b) ** 2)),
        value=lambda n, a, b: n.log(a) / n.log(b),
        slopes=(lambda n, a, b: 1 / (a * n.log(b)), lambda n, a, b: -n.log(a) / (b * n.log(b) ** 2)),
        undefined=lambda a, b: (_need(a > 0, "the logarithm needs a positive argument")
                                or _need(b > 0 and b != 1, "the base of a logarithm must be positive and not 1")),
        arity=(2, 2), pretty="log({0}, {1})", plain="log({0}, {1})", function=False,
    ),
    # --- elementary functions -----------------------------------------------------
    _function("sin", "d/du sin(u) = cos(u)", sympy.sin, sympy.cos, lambda n, u: n.sin(u), lambda n, u: n.cos(u)),
    _function("cos", "d/du cos(u) = −sin(u)", sympy.cos, lambda u: -sympy.sin(u), lambda n, u: n.cos(u),
              lambda n, u: -n.sin(u)),
    _function("tan", "d/du tan(u) = sec²(u)", sympy.tan, lambda u: sympy.sec(u) ** 2, lambda n, u: n.tan(u),
              lambda n, u: 1 / n.cos(u) ** 2,
              undefined=lambda u: _need(_trig("cos", u) != 0, "tan is undefined where cos is 0"),
              spellings=("tg",)),
    _function("sec", "d/du sec(u) = sec(u)·tan(u)", sympy.sec, lambda u: sympy.sec(u) * sympy.tan(u),
              lambda n, u: 1 / n.cos(u), lambda n, u: n.tan(u) / n.cos(u),
              undefined=lambda u: _need(_trig("cos", u) != 0, "sec is undefined where cos is 0")),
    _function("csc", "d/du csc(u) = −csc(u)·cot(u)", sympy.csc, lambda u: -sympy.csc(u) * sympy.cot(u),
              lambda n, u: 1 / n.sin(u), lambda n, u: -n.cos(u) / n.sin(u) ** 2,
              undefined=lambda u: _need(_trig("sin", u) != 0, "csc is undefined where sin is 0")),
    _function("cot", "d/du cot(u) = −csc²(u)", sympy.cot, lambda u: -(sympy.csc(u) ** 2),
              lambda n, u: n.cos(u) / n.sin(u), lambda n, u: -1 / n.sin(u) ** 2,
              undefined=lambda u: _need(_trig("sin", u) != 0, "cot is undefined where sin is 0"),
              spellings=("ctg",)),
    _function("asin", "d/du asin(u) = 1/√(1 − u²)", sympy.asin, lambda u: 1 / sympy.sqrt(1 - u**2),
              lambda n, u: n.asin(u), lambda n, u: 1 / n.sqrt((1 - u) * (1 + u)),
              undefined=lambda u: _need(-1 <= u <= 1, "asin needs an argument between −1 and 1"),
              kink=lambda u: _need(abs(u) != 1, "asin has a vertical tangent at ±1"),
              spellings=("arcsin",), inverse_of="sin"),
    _function("acos", "d/du acos(u) = −1/√(1 − u²)", sympy.acos, lambda u: -1 / sympy.sqrt(1 - u**2),
              lambda n, u: n.acos(u), lambda n, u: -1 / n.sqrt((1 - u) * (1 + u)),
              undefined=lambda u: _need(-1 <= u <= 1, "acos needs an argument between −1 and 1"),
              kink=lambda u: _need(abs(u) != 1, "acos has a vertical tangent at ±1"),
              spellings=("arccos",), inverse_of="cos"),
    _function("atan", "d/du atan(u) = 1/(1 + u²)", sympy.atan, lambda u: 1 / (1 + u**2),
              lambda n, u: n.atan(u), lambda n, u: 1 / (1 + u * u),
              spellings=("arctan", "arctg"), inverse_of="tan"),
    _function("asec", "d/du asec(u) = 1/(|u|·√(u² − 1))", sympy.asec, lambda u: 1 / (u**2 * sympy.sqrt(1 - 1 / u**2)),
              lambda n, u: n.acos(1 / u), lambda n, u: 1 / (abs(u) * n.sqrt(u * u - 1)),
              undefined=lambda u: _need(abs(u) >= 1, "asec needs |u| ≥ 1"),
              kink=lambda u: _need(abs(u) != 1, "asec has a vertical tangent at ±1"),
              spellings=("arcsec",), inverse_of="sec"),
    _function("acsc", "d/du acsc(u) = −1/(|u|·√(u² − 1))", sympy.acsc,
              lambda u: -1 / (u**2 * sympy.sqrt(1 - 1 / u**2)),
              lambda n, u: n.asin(1 / u), lambda n, u: -1 / (abs(u) * n.sqrt(u * u - 1)),
              undefined=lambda u: _need(abs(u) >= 1, "acsc needs |u| ≥ 1"),
              kink=lambda u: _need(abs(u) != 1, "acsc has a vertical tangent at ±1"),
              spellings=("arccsc",), inverse_of="csc"),
    _function("acot", "d/du acot(u) = −1/(1 + u²)", sympy.acot, lambda u: -1 / (1 + u**2),
              lambda n, u: n.atan(1 / u) if u != 0 else n.pi / 2,
              lambda n, u: -1 / (1 + u * u),
              spellings=("arccot", "arcctg"), inverse_of="cot"),
    _function("sinh", "d/du sinh(u) = cosh(u)", sympy.sinh, sympy.cosh, lambda n, u: n.sinh(u),
              lambda n, u: n.cosh(u)),
    _function("cosh", "d/du cosh(u) = sinh(u)", sympy.cosh, sympy.sinh, lambda n, u: n.cosh(u),
              lambda n, u: n.sinh(u)),
    _function("tanh", "d/du tanh(u) = 1 − tanh²(u)", sympy.tanh, lambda u: 1 - sympy.tanh(u) ** 2,
              lambda n, u: n.tanh(u), lambda n, u: _sech(n, u) ** 2),
    _function("sech", "d/du sech(u) = −sech(u)·tanh(u)", sympy.sech, lambda u: -sympy.sech(u) * sympy.tanh(u),
              lambda n, u: _sech(n, u), lambda n, u: -_sech(n, u) * n.tanh(u)),
    _function("csch", "d/du csch(u) = −csch(u)·coth(u)", sympy.csch, lambda u: -sympy.csch(u) * sympy.coth(u),
              lambda n, u: 1 / n.sinh(u), lambda n, u: -n.cosh(u) / n.sinh(u) ** 2,
              undefined=lambda u: _need(u != 0, "csch is undefined at 0")),
    _function("coth", "d/du coth(u) = 1 − coth²(u)", sympy.coth, lambda u: 1 - sympy.coth(u) ** 2,
              lambda n, u: 1 / n.tanh(u), lambda n, u: -1 / n.sinh(u) ** 2,
              undefined=lambda u: _need(u != 0, "coth is undefined at 0")),
    _function("asinh", "d/du asinh(u) = 1/√(u² + 1)", sympy.asinh, lambda u: 1 / sympy.sqrt(u**2 + 1),
              lambda n, u: n.asinh(u), lambda n, u: 1 / n.sqrt(u * u + 1),
              spellings=("arsinh", "arcsinh"), inverse_of="sinh"),
    _function("acosh", "d/du acosh(u) = 1/√(u² − 1)", sympy.acosh, lambda u: 1 / sympy.sqrt(u**2 - 1),
              lambda n, u: n.acosh(u), lambda n, u: 1 / n.sqrt((u - 1) * (u + 1)),
              undefined=lambda u: _need(u >= 1, "acosh needs an argument of at least 1"),
              kink=lambda u: _need(u != 1, "acosh has a vertical tangent at 1"),
              spellings=("arcosh", "arccosh"), inverse_of="cosh"),
    _function("atanh", "d/du atanh(u) = 1/(1 − u²)", sympy.atanh, lambda u: 1 / (1 - u**2),
              lambda n, u: n.atanh(u), lambda n, u: 1 / ((1 - u) * (1 + u)),
              undefined=lambda u: _need(-1 < u < 1, "atanh needs an argument strictly between −1 and 1"),
              spellings=("artanh", "arctanh"), inverse_of="tanh"),
    _function("asech", "d/du asech(u) = −1/(u·√(1 − u²))", sympy.asech, lambda u: -1 / (u * sympy.sqrt(1 - u**2)),
              lambda n, u: n.acosh(1 / u), lambda n, u: -1 / (u * n.sqrt((1 - u) * (1 + u))),
              undefined=lambda u: _need(0 < u <= 1, "asech needs an argument in (0, 1]"),
              kink=lambda u: _need(u != 1, "asech has a vertical tangent at 1"),
              spellings=("arsech",), inverse_of="sech"),
    _function("acsch", "d/du acsch(u) = −1/(|u|·√(1 + u²))", sympy.acsch,
              lambda u: -1 / (u**2 * sympy.sqrt(1 + 1 / u**2)),
              lambda n, u: n.asinh(1 / u), lambda n, u: -1 / (abs(u) * n.sqrt(1 + u * u)),
              undefined=lambda u: _need(u != 0, "acsch is undefined at 0"),
              spellings=("arcsch",), inverse_of="csch"),
    _function("acoth", "d/du acoth(u) = 1/(1 − u²)", sympy.acoth, lambda u: 1 / (1 - u**2),
              lambda n, u: n.atanh(1 / u), lambda n, u: 1 / ((1 - u) * (1 + u)),
              undefined=lambda u: _need(abs(u) > 1, "acoth needs |u| > 1"),
              spellings=("arcoth",), inverse_of="coth"),
    _function("exp", "d/du eᵘ = eᵘ", sympy.exp, sympy.exp, lambda n, u: n.exp(u), lambda n, u: n.exp(u)),
    _function("log", "d/du ln(u) = 1/u", sympy.log, lambda u: 1 / u, lambda n, u: n.log(u), lambda n, u: 1 / u,
              undefined=lambda u: _need(u > 0, "ln needs a positive argument"),
              name="ln", spellings=("ln",), arity=(1, 2), pretty="ln({0})"),
    _function("log10", "d/du log10(u) = 1/(u·ln(10))", lambda u: sympy.log(u, 10), lambda u: 1 / (u * sympy.log(10)),
              lambda n, u: n.log10(u), lambda n, u: 1 / (u * n.log(10 * n.one)),
              undefined=lambda u: _need(u > 0, "log10 needs a positive argument"), spellings=("lg",)),
    _function("log2", "d/du log2(u) = 1/(u·ln(2))", lambda u: sympy.log(u, 2), lambda u: 1 / (u * sympy.log(2)),
              lambda n, u: n.log2(u), lambda n, u: 1 / (u * n.log(2 * n.one)),
              undefined=lambda u: _need(u > 0, "log2 needs a positive argument")),
    _function("sqrt", "d/du √u = 1/(2√u)", sympy.sqrt, lambda u: 1 / (2 * sympy.sqrt(u)),
              lambda n, u: n.sqrt(u), lambda n, u: 1 / (2 * n.sqrt(u)),
              complex_=lambda u: _need(u >= 0, "the square root of a negative number is not a real number"),
              kink=lambda u: _need(u != 0, "the slope of √u is infinite at 0"), spellings=("√",)),
    _function("cbrt", "d/du ∛u = 1/(3·∛u²)", None, lambda u: 1 / (3 * CLASSES["cbrt"](u) ** 2),
              _cbrt, lambda n, u: 1 / (3 * _cbrt(n, u) ** 2),
              kink=lambda u: _need(u != 0, "the slope of ∛u is infinite at 0"), compares=True,
              elementary=lambda u: sympy.sign(u) * sympy.Abs(u) ** sympy.Rational(1, 3)),
    _function("abs", "d/du |u| = sign(u)", sympy.Abs, sympy.sign, lambda n, u: abs(u),
              lambda n, u: 1 if u > 0 else -1,
              kink=lambda u: _need(u != 0, "|u| has a corner at 0: its slope jumps from −1 to 1"),
              name="absolute value", pretty="|{0}|", plain="Abs({0})", spellings=("Abs",), compares=True),
    _function("sigmoid", "d/du σ(u) = σ(u)·(1 − σ(u))", None, lambda u: _sigma(u) * (1 - _sigma(u)),
              _sigmoid, lambda n, u: _sigmoid(n, u) * _sigmoid(n, -u),
              spellings=("σ",), pretty="σ({0})", latex=r"\sigma\left({0}\right)", compares=True,
              elementary=lambda u: 1 / (1 + sympy.exp(-u))),
    _function("relu", "d/du relu(u) = 1 if u > 0, 0 if u < 0", None, sympy.Heaviside,
              lambda n, u: u if u > 0 else 0 * n.one, lambda n, u: 1 if u > 0 else 0,
              kink=lambda u: _need(u != 0, "relu has a corner at 0: its slope jumps from 0 to 1"),
              latex=r"\operatorname{{relu}}\left({0}\right)", elementary=lambda u: sympy.Max(0, u), compares=True),
    _function("softplus", "d/du softplus(u) = σ(u)", None, lambda u: _sigma(u), _softplus,
              _sigmoid, latex=r"\operatorname{{softplus}}\left({0}\right)", compares=True,
              elementary=lambda u: sympy.log(1 + sympy.exp(u))),
    Rule(
        key="leaky_relu", name="leaky relu", identity="d/du leaky_relu(u, a) = 1 if u > 0, a if u < 0",
        build=None,
        partials=(
            lambda u, a: sympy.Piecewise((1, u > 0), (a, True)),
            lambda u, a: sympy.Piecewise((0, u > 0), (u, True)),
        ),
        value=lambda n, u, a: u if u > 0 else a * u,
        slopes=(lambda n, u, a: (1 if u > 0 else a) * n.one, lambda n, u, a: (0 if u > 0 else u) * n.one),
        kink=lambda u, a: _need(u != 0 or a == 1, "leaky relu has a corner at 0: its slope jumps from a to 1"),
        arity=(1, 2), defaults=("0.01",), spellings=("leakyrelu",), compares=True,
        latex=r"\operatorname{{leaky\_relu}}\left({0}, {1}\right)",
        elementary=lambda u, a: sympy.Piecewise((u, u > 0), (a * u, True)),
    ),
    _function("silu", "d/du silu(u) = σ(u)·(1 + u·(1 − σ(u)))", None,
              lambda u: _sigma(u) * (1 + u * (1 - _sigma(u))),
              lambda n, u: u * _sigmoid(n, u), lambda n, u: _sigmoid(n, u) * (1 + u * _sigmoid(n, -u)),
              spellings=("swish",), latex=r"\operatorname{{silu}}\left({0}\right)", compares=True,
              elementary=lambda u: u / (1 + sympy.exp(-u))),
    _function("gelu", "d/du gelu(u) = Φ(u) + u·φ(u)", None,
              lambda u: _normal(u) + u * sympy.exp(-(u**2) / 2) / _SQRT_2PI,
              lambda n, u: u * _phi(n, u), _gelu_slope, latex=r"\operatorname{{gelu}}\left({0}\right)",
              elementary=lambda u: u * _normal(u)),
    _function("elu", "d/du elu(u) = 1 if u > 0, eᵘ if u ≤ 0", None,
              lambda u: sympy.Piecewise((1, u > 0), (sympy.exp(u), True)),
              lambda n, u: u if u > 0 else n.expm1(u), lambda n, u: 1 * n.one if u > 0 else n.exp(u),
              latex=r"\operatorname{{elu}}\left({0}\right)", compares=True,
              elementary=lambda u: sympy.Piecewise((u, u > 0), (sympy.exp(u) - 1, True))),
    _function("erf", "d/du erf(u) = 2·e^(−u²)/√π", sympy.erf, lambda u: 2 * sympy.exp(-(u**2)) / sympy.sqrt(sympy.pi),
              lambda n, u: n.erf(u), lambda n, u: 2 * n.exp(-u * u) / n.sqrt(n.pi)),
    _function("erfc", "d/du erfc(u) = −2·e^(−u²)/√π", sympy.erfc,
              lambda u: -2 * sympy.exp(-(u**2)) / sympy.sqrt(sympy.pi),
              lambda n, u: n.erfc(u), lambda n, u: -2 * n.exp(-u * u) / n.sqrt(n.pi)),
    _function("log1p", "d/du ln(1 + u) = 1/(1 + u)", None, lambda u: 1 / (1 + u),
              lambda n, u: n.log1p(u), lambda n, u: 1 / (1 + u),
              undefined=lambda u: _need(u > -1, "log1p needs an argument above −1"),
              latex=r"\operatorname{{log1p}}\left({0}\right)", elementary=lambda u: sympy.log(1 + u)),
    _function("expm1", "d/du (eᵘ − 1) = eᵘ", None, sympy.exp,
              lambda n, u: n.expm1(u), lambda n, u: n.exp(u),
              latex=r"\operatorname{{expm1}}\left({0}\right)", elementary=lambda u: sympy.exp(u) - 1),
    _function("sign", "d/du sign(u) = 0 (u ≠ 0)", sympy.sign, lambda u: sympy.S.Zero,
              _sign, lambda n, u: 0 * n.one,
              kink=lambda u: _need(u != 0, "sign jumps at 0, from −1 to 1"), spellings=("sgn",), compares=True),
    _function("step", "d/du step(u) = 0 (u ≠ 0)", sympy.Heaviside, lambda u: sympy.S.Zero,
              _step, lambda n, u: 0 * n.one,
              kink=lambda u: _need(u != 0, "the step jumps at 0, from 0 to 1"),
              spellings=("heaviside", "Heaviside"), pretty="step({0})", plain="Heaviside({0})", compares=True),
    # --- functions of two operands ------------------------------------------------------
    Rule(
        key="max", name="maximum", identity="d max(a, b) = da where a > b, db where b > a",
        build=sympy.Max, partials=(lambda a, b: sympy.Heaviside(a - b), lambda a, b: sympy.Heaviside(b - a)),
        value=lambda n, a, b: max(a, b) * n.one,
        slopes=(lambda n, a, b: (1 if a > b else 0) * n.one, lambda n, a, b: (1 if b > a else 0) * n.one),
        kink=lambda a, b: _need(a != b, "max has a corner where its arguments are equal"),
        arity=(2, 2), pretty="max({0}, {1})", plain="Max({0}, {1})", spellings=("Max",), folds=True, compares=True,
    ),
    Rule(
        key="min", name="minimum", identity="d min(a, b) = da where a < b, db where b < a",
        build=sympy.Min, partials=(lambda a, b: sympy.Heaviside(b - a), lambda a, b: sympy.Heaviside(a - b)),
        value=lambda n, a, b: min(a, b) * n.one,
        slopes=(lambda n, a, b: (1 if a < b else 0) * n.one, lambda n, a, b: (1 if b < a else 0) * n.one),
        kink=lambda a, b: _need(a != b, "min has a corner where its arguments are equal"),
        arity=(2, 2), pretty="min({0}, {1})", plain="Min({0}, {1})", spellings=("Min",), folds=True, compares=True,
    ),
    Rule(
        key="logsumexp", name="log-sum-exp", identity="d logsumexp(a, b) = σ(a − b)·da + σ(b − a)·db",
        build=None, partials=(lambda a, b: _sigma(a - b), lambda a, b: _sigma(b - a)),
        value=_logsumexp, slopes=(lambda n, a, b: _sigmoid(n, a - b), lambda n, a, b: _sigmoid(n, b - a)),
        arity=(2, 2), folds=True, latex=r"\operatorname{{logsumexp}}\left({0}, {1}\right)", compares=True,
        elementary=lambda a, b: sympy.log(sympy.exp(a) + sympy.exp(b)),
    ),
    Rule(
        key="atan2", name="atan2", identity="d atan2(y, x) = (x·dy − y·dx)/(x² + y²)",
        build=sympy.atan2, partials=(lambda y, x: x / (x**2 + y**2), lambda y, x: -y / (x**2 + y**2)),
        value=lambda n, y, x: n.atan2(y, x),
        slopes=(lambda n, y, x: x / (x * x + y * y), lambda n, y, x: -y / (x * x + y * y)),
        undefined=lambda y, x: _need(x != 0 or y != 0, "atan2(0, 0) is undefined"),
        kink=lambda y, x: _need(not (x < 0 and y == 0), "atan2 jumps across the negative x-axis"),
        arity=(2, 2), compares=True,
    ),
    Rule(
        key="hypot", name="hypot", identity="d hypot(a, b) = (a·da + b·db)/hypot(a, b)",
        build=lambda a, b: sympy.sqrt(a**2 + b**2),
        partials=(lambda a, b: a / sympy.sqrt(a**2 + b**2), lambda a, b: b / sympy.sqrt(a**2 + b**2)),
        value=lambda n, a, b: n.hypot(a, b),
        slopes=(lambda n, a, b: a / n.hypot(a, b), lambda n, a, b: b / n.hypot(a, b)),
        kink=lambda a, b: _need(a != 0 or b != 0, "hypot has a corner at (0, 0)"),
        arity=(2, 2), pretty="hypot({0}, {1})", compares=True,
    ),
]
# fmt: on

RULES: dict[str, Rule] = {rule.key: rule for rule in _TABLE}

# The parser's names, derived from the table.
FUNCTIONS: Mapping[str, tuple[int, int]] = MappingProxyType({rule.key: rule.arity for rule in _TABLE if rule.function})
SPELLINGS: Mapping[str, str] = MappingProxyType({spelling: rule.key for rule in _TABLE for spelling in rule.spellings})
CALLS: Mapping[str, str] = MappingProxyType({name: rule.key for rule in _TABLE for name in rule.called})
INVERSES: Mapping[str, str] = MappingProxyType(
    {rule.inverse_of: rule.key for rule in _TABLE if rule.inverse_of is not None}
)


# --------------------------------------------------------------------------- SymPy classes


def _sympy_class(rule: Rule) -> type:
    """A SymPy function for an entry SymPy lacks: fdiff and numeric evaluation from the entry."""

    def fdiff(self: Any, argindex: int = 1) -> Any:
        return rule.partials[argindex - 1](*self.args)

    def _eval_evalf(self: Any, prec: int) -> Any:
        args = [a._eval_evalf(prec) for a in self.args]
        if not all(isinstance(a, sympy.Float) for a in args):
            return None
        with mpmath.workprec(prec):
            result = mpmath.mpmathify(rule.value(MP, *(mpmath.mpf(a._mpf_) for a in args)))
        if isinstance(result, mpmath.mpc):  # log1p(−2) = iπ: the value is not real, and says so
            return sympy.Float._new(result.real._mpf_, prec) + sympy.I * sympy.Float._new(result.imag._mpf_, prec)
        return sympy.Float._new(result._mpf_, prec)

    def _eval_is_real(self: Any) -> bool | None:
        real = self.args[0].is_real
        if real and all(a.is_number for a in self.args) and (rule.undefined or rule.complex_):
            # a number outside the domain (log1p(−2)) has no real value: the table's own checks say so
            values = [a.evalf(30) for a in self.args]
            if all(v.is_Float for v in values) and rule.problem(*(float(v) for v in values)) is not None:
                return False
        return real  # type: ignore[no-any-return]

    def _latex(self: Any, printer: Any, exp: Any = None) -> str:
        template = rule.latex or r"\operatorname{{" + rule.key + r"}}\left({0}\right)"
        text = template.format(*(printer._print(a) for a in self.args))
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"

    def rewrite_elementary(self: Any, *args: Any, **hints: Any) -> Any:
        assert rule.elementary is not None
        return rule.elementary(*args)

    namespace = {
        "__doc__": f"{rule.key}: {rule.identity}",
        "__module__": __name__,
        "nargs": len(rule.partials),
        "fdiff": fdiff,
        "_eval_evalf": _eval_evalf,
        "_eval_is_real": _eval_is_real,
        "_eval_is_extended_real": _eval_is_real,
        "_latex": _latex,
        "_eval_rewrite_as_elementary": rewrite_elementary,
    }
    return type(rule.key, (sympy.Function,), namespace)


CLASSES: Mapping[str, type] = MappingProxyType({r.key: _sympy_class(r) for r in _TABLE if r.build is None})


def elementary(expr: Any) -> Any:
    """An expression with chainrule's own functions replaced by their definitions in SymPy's."""
    for key, cls in CLASSES.items():
        definition = RULES[key].elementary
        assert definition is not None
        expr = expr.replace(cls, definition)
    return expr


# --------------------------------------------------------------------------- rule lookup


def rule_for(key: str, varying: tuple[bool, ...]) -> tuple[str, str]:
    """The (name, identity) of the rule for an operation, given which operands vary."""
    rule = RULES[key]
    return rule.variants.get(varying, (rule.name, rule.identity))


@functools.cache
def abstract_rule(name: str) -> Rule:
    """f, g, h: functions known only by name, symbolic only."""
    f = sympy.Function(name)
    t = sympy.Dummy("t")

    def no_value(*args: Any) -> Any:
        raise AssertionError(f"{name} has no numeric value; the backend refuses it first")

    return Rule(
        key=name,
        name=f"{name}′",
        identity=f"d/du {name}(u) = {name}′(u)",
        build=f,
        # f′ at u, as SymPy writes it: it stays valid when u is replaced by an expression in x.
        partials=(lambda u: sympy.Subs(sympy.Derivative(f(t), t), t, u),),
        value=no_value,
        slopes=(no_value,),
    )


_PLAIN = sympy.Symbol("t", real=True)  # a layer's input symbol, as graph.py makes them


def apply(build: Sym, *args: Any) -> Any:
    """build(*args), skipping SymPy's evaluation when it cannot change anything.

    A SymPy function applied to one plain real symbol, sin(u7) say, is built
    thousands of times in a deep chain, and each time SymPy's ``eval`` looks
    for π multiples, imaginary units and minus signs that a symbol cannot
    have.  Whether ``eval`` changes f(symbol) depends only on the symbol's
    assumptions, never its name, so it is asked once per function, on a
    template symbol with the same assumptions.
    """
    if len(args) == 1 and type(args[0]) is sympy.Symbol and args[0].assumptions0 == _PLAIN.assumptions0:
        u = args[0]
        if isinstance(build, type):
            if _inert(build):
                return build(u, evaluate=False)
        elif (template := _template(build)) is not None:
            return _renamed(template, u)  # a local derivative such as 1 − tanh²(u7): built once, renamed
    return build(*args)


_OTHER = sympy.Symbol("s", real=True)  # a second template symbol, to test a template


@functools.cache
def _template(build: Sym) -> Any | None:
    """build(t) on the template symbol, when renaming t to any plain real symbol gives exactly
    what build would (tested on a second symbol); None otherwise.  With one symbol in it, an
    expression's canonical form depends on the symbol's assumptions, never on its name."""
    try:
        made = build(_PLAIN)
        return made if _renamed(made, _OTHER) == build(_OTHER) else None
    except (TypeError, ValueError, AttributeError):  # a build that rebuilding cannot mirror
        return None


def _renamed(expr: Any, u: Any) -> Any:
    """expr with the template symbol replaced by u, rebuilt without SymPy's evaluation (the
    template is already in canonical form).  Partials are a few nodes deep."""
    if expr == _PLAIN:
        return u
    if not expr.args or _PLAIN not in expr.free_symbols:
        return expr
    return expr.func(*(_renamed(a, u) for a in expr.args), evaluate=False)


@functools.cache
def _inert(function: type) -> bool:
    """Whether evaluation leaves function(t) unchanged for a plain real symbol t."""
    return bool(function(_PLAIN) == function(_PLAIN, evaluate=False))
