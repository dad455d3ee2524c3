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


def from_mpf(value: Any) -> Wide:
    """A nonzero mpmath number as a Wide."""
    import mpmath

    with mpmath.workprec(80):
        exponent = int(mpmath.floor(mpmath.log10(abs(value))))
        mantissa = float(value / mpmath.mpf(10) ** exponent)
    if abs(mantissa) >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    elif abs(mantissa) < 1:
        mantissa, exponent = mantissa * 10, exponent - 1
    return Wide(mantissa, exponent)


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
