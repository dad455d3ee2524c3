"""Numbers beyond the range of doubles.

A product of thousands of local factors leaves the range of doubles (about
2.2e-308 to 1.8e308).  The seeds' vanishing gradient, 0.25 × 0.25 × … → 0,
really does reach 0.0 in floating point, and an exploding one reaches
infinity.  When that happens the backward pass runs again in mpmath, whose
numbers keep the same 53-bit precision with an unbounded exponent, and the
result is recorded as a :class:`Wide`: mantissa × 10^exponent.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

MIN_NORMAL = sys.float_info.min  # 2.2250738585072014e-308


@dataclass(frozen=True)
class Wide:
    """A real number as mantissa × 10**exponent, with 1 ≤ |mantissa| < 10."""

    mantissa: float
    exponent: int


def in_range(value: float) -> bool:
    """Whether a double holds the value at full precision: 0, or a finite normal number."""
    return value == 0.0 or MIN_NORMAL <= abs(value) < math.inf


def lost(product: float, a: float, b: float) -> bool:
    """Whether the double product a·b lost its value: underflow or overflow."""
    return not in_range(product) or (product == 0.0 and a != 0.0 and b != 0.0)


def beyond(double: float, exact: Any) -> bool:
    """Whether a nonzero exact value is lost in its double: 0.0, subnormal or infinite."""
    return bool(exact) and (double == 0.0 or not in_range(double))


def from_log10(sign: float, log10: float) -> Wide:
    """sign × 10**log10 (sign: any nonzero number; only its sign is used)."""
    exponent = math.floor(log10)
    mantissa = 10 ** (log10 - exponent)
    if mantissa >= 10:  # rounding
        mantissa, exponent = mantissa / 10, exponent + 1
    return Wide(math.copysign(mantissa, sign), int(exponent))


MAX_MAGNITUDE = 2**45  # binary exponents beyond this (about 10^(10^13)) cannot be carried with a usable mantissa


def carried(value: Any) -> bool:
    """Whether an mpmath number can be kept as a Wide: finite, with an exponent we can print."""
    import mpmath

    return bool(value == 0 or (mpmath.isfinite(value) and abs(mpmath.mag(value)) < MAX_MAGNITUDE))


_LOG10_2 = math.log10(2)


def from_mpf(value: Any) -> Wide:
    """A nonzero mpmath number as a Wide.  The decimal exponent is estimated from the binary one
    (off by at most one, corrected below); the mantissa is divided out at 80 bits."""
    import mpmath

    _, man, exp, _ = value._mpf_
    man = int(man)  # gmpy2's mpz, where it is installed
    bits = man.bit_length()
    top = man >> max(bits - 53, 0)  # math.log10 of a huge integer would overflow a float
    exponent = math.floor(math.log10(top) + (exp + max(bits - 53, 0)) * _LOG10_2)
    with mpmath.workprec(80):
        mantissa = float(value / mpmath.mpf(10) ** exponent)
    if abs(mantissa) >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    elif abs(mantissa) < 1:
        mantissa, exponent = mantissa * 10, exponent - 1
    return Wide(mantissa, exponent)


Scaled = tuple[float, int]  # m·2**e: a double's 53 bits with an exponent that cannot under- or overflow


class ScaledArithmetic:
    """Products and sums of doubles whose exponent is kept apart, as an ``engine.Arithmetic``:
    the backward pass of a chain whose adjoints leave the range of doubles, with the precision
    of doubles (one rounding per operation, as mpmath at 53 bits) at a fraction of the cost."""

    zero: Scaled = (0.0, 0)
    one: Scaled = (0.5, 1)

    def times(self, adjoint: Scaled, factor: float) -> Scaled:
        m, e = math.frexp(adjoint[0] * factor)
        return m, adjoint[1] + e

    def total(self, terms: list[Scaled]) -> Scaled:
        """The sum, exactly, then rounded once: terms that cancel leave the small ones whole (the
        integers' size is the spread of the exponents, a few thousand bits at most in practice)."""
        if len(terms) == 1:
            return terms[0]
        nonzero = [(m, e) for m, e in terms if m]
        if not nonzero:
            return self.zero
        low = min(e for _, e in nonzero)
        exact = sum(int(m * 2**53) << (e - low) for m, e in nonzero)  # the sum × 2^(53 - low)
        if exact == 0:
            return self.zero
        drop = max(exact.bit_length() - 64, 0)  # 64 bits kept, rounded to 53 by float()
        m, e = math.frexp(float(exact >> drop if exact > 0 else -((-exact) >> drop)))
        return m, e + drop + low - 53


def to_double(value: Scaled) -> float:
    """The nearest double: 0.0 below the range, ±inf above it."""
    m, e = value
    try:
        return math.ldexp(m, e)
    except OverflowError:
        return math.copysign(math.inf, m)


def to_mpf(value: Scaled) -> Any:
    """The exact value as an mpmath number."""
    import mpmath

    return mpmath.ldexp(mpmath.mpf(value[0]), value[1])


class Beyond(Mapping[int, Wide]):
    """The exact numbers, among many, that their doubles lost, each turned into a Wide only when
    it is read: a backward pass through 10,000 layers has thousands of adjoints below the range
    of doubles, and a caller that reads one of them (check grading a sample) should not pay for
    all of them."""

    def __init__(self, doubles: Mapping[int, float], exact: Mapping[int, Any], scaled: bool = False) -> None:
        """`exact`: mpmath numbers, or `Scaled` pairs when `scaled`."""
        self._scaled = scaled
        self._exact = {
            key: value for key, value in exact.items() if beyond(doubles[key], value[0] if scaled else value)
        }
        self._made: dict[int, Wide] = {}

    def __getitem__(self, key: int) -> Wide:
        found = self._made.get(key)
        if found is None:
            value = self._exact[key]
            found = self._made[key] = from_mpf(to_mpf(value) if self._scaled else value)
        return found

    def __iter__(self) -> Iterator[int]:
        return iter(self._exact)

    def __len__(self) -> int:
        return len(self._exact)


def to_mpmath(value: Wide) -> Any:
    """A Wide as an mpmath number at the working precision."""
    import mpmath

    return mpmath.mpf(value.mantissa) * mpmath.mpf(10) ** value.exponent


def text(value: Wide, digits: int = 10) -> str:
    """4.338398274e-649: `digits` significant digits, a mantissa that rounds to 10 carried."""
    shown = rounded(value, digits)
    return f"{shown.mantissa:.{digits}g}e{shown.exponent}"


def rounded(value: Wide, digits: int) -> Wide:
    """The mantissa rounded to `digits` significant digits; 9.9999… carries to 1 × 10^(exponent + 1)."""
    mantissa = round(value.mantissa, digits - 1)
    if abs(mantissa) >= 10:
        return Wide(mantissa / 10, value.exponent + 1)
    return Wide(mantissa, value.exponent)
