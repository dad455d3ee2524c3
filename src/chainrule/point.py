"""A point: every variable's value in doubles, and exactly where it was given exactly.

``--at pi/2`` is π/2, not 1.5707963267948966; ``0.1`` is 1/10, and a Python float is the
decimal it prints as.  The doubles' pass reads the mapping; the exact pass
(:mod:`chainrule.exact`) and the accurate checks read :attr:`Point.exact`, so that all of
them work at the point the person meant.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import mpmath
import sympy

from chainrule.printing import pretty


def text(value: Any) -> str:
    """An exact number in the lessons' notation (π/2, √2, 1/3), or its value to 6 digits when long."""
    shown = pretty(value)
    return shown if len(shown) <= 24 else f"{float(value):.6g}"


class Point(dict[str, float]):
    """A point: each variable's value in doubles, as a mapping, and in `exact` its exact value (a
    SymPy number) where it was given exactly: every typed value is (3, 0.1, pi/2, sqrt(2)), and a
    Python float is the decimal it prints as."""

    def __init__(self, values: Mapping[str, float] = (), exact: Mapping[str, Any] = ()) -> None:  # type: ignore[assignment]
        super().__init__(values)
        self.exact: dict[str, Any] = {k: v for k, v in dict(exact).items() if v is not None}

    def mpf(self, name: str) -> Any:
        """The value of `name` at mpmath's working precision: exact where it is known."""
        if name in self.exact:
            return to_mpf(self.exact[name])
        return mpmath.mpf(self[name])

    def shown(self, name: str) -> str:
        """The value of `name` as the person gave it: π/2, not 1.570796327."""
        if name in self.exact and not isinstance(self.exact[name], sympy.Integer):
            return text(self.exact[name])
        return f"{self[name]:g}"


def exact_point(point: Mapping[str, float] | None) -> Mapping[str, Any]:
    """The exact values of a point (none for a plain mapping)."""
    return point.exact if isinstance(point, Point) else {}


def mpf_of(point: Mapping[str, float], name: str) -> Any:
    """One value of a point at mpmath's working precision, exact where it is known."""
    return point.mpf(name) if isinstance(point, Point) else mpmath.mpf(point[name])


def mpf_point(point: Mapping[str, float]) -> dict[str, Any]:
    """Every value of a point at mpmath's working precision, exact where it is known."""
    if isinstance(point, Point):
        return {k: point.mpf(k) for k in point}
    return {k: mpmath.mpf(v) for k, v in point.items()}


def number(value: Any) -> Any:
    """A number given by a program (a Python int or float, or a float read from text) as an exact
    number: a float as its shortest decimal (0.1 is 1/10, as it was typed)."""
    if isinstance(value, bool):
        raise TypeError("a truth value is not a number")
    if isinstance(value, int):
        return sympy.Integer(value)
    frac = Fraction(repr(float(value)))
    return sympy.Rational(frac.numerator, frac.denominator)


def to_mpf(value: Any) -> Any:
    """An exact number at mpmath's working precision."""
    if isinstance(value, sympy.Rational):
        return mpmath.mpf(value.p) / value.q
    return mpmath.mpf(value.evalf(mpmath.mp.dps + 5)._mpf_)
