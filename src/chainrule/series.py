"""Taylor-mode arithmetic: every value a truncated power series in the variable.

A :class:`Series` holds the Taylor coefficients c0, c1, …, c(n−1) of a value
u(x0 + t) = c0 + c1·t + c2·t² + …, in mpmath at its working precision.  The
variable is x0 + t: coefficients (x0, 1, 0, …).  Arithmetic and the functions
of :data:`SERIES` carry the coefficients through each operation by the
classic recurrences (products by convolution, exp and log by their
differential equations, the others by integrating their derivative), so the
k-th derivative of any tape at a point is k!·ck, in O(n²) work per operation
and never an expression that swells.

:data:`SERIES` is a number system like ``rules.FLOAT`` and ``rules.MP``: the
rule table's numeric formulas run on it unchanged.  Comparisons, ``abs`` and
``float`` read the constant term (the value at the point), which is what
the formulas' branches (relu, |u|, the stable sigmoid) ask.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import mpmath

Scalar = Any  # an mpmath number (or an int or float, promoted)


class Series:
    """A truncated Taylor series; scalars mix in as constants."""

    __slots__ = ("c",)

    def __init__(self, coefficients: Sequence[Scalar]) -> None:
        self.c = [mpmath.mpf(v) if not isinstance(v, mpmath.mpf) else v for v in coefficients]

    # --- shape
    @property
    def n(self) -> int:
        return len(self.c)

    def _lift(self, other: Any) -> Series:
        if isinstance(other, Series):
            return other
        return Series([other] + [0] * (self.n - 1))

    # --- the value at the point
    def __float__(self) -> float:
        return float(self.c[0])

    def _key(self, other: Any) -> tuple[Scalar, Scalar]:
        return self.c[0], other.c[0] if isinstance(other, Series) else other

    def __lt__(self, other: Any) -> bool:
        a, b = self._key(other)
        return bool(a < b)

    def __le__(self, other: Any) -> bool:
        a, b = self._key(other)
        return bool(a <= b)

    def __gt__(self, other: Any) -> bool:
        a, b = self._key(other)
        return bool(a > b)

    def __ge__(self, other: Any) -> bool:
        a, b = self._key(other)
        return bool(a >= b)

    def __eq__(self, other: object) -> bool:
        a, b = self._key(other)
        return bool(a == b)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]

    # --- arithmetic
    def __neg__(self) -> Series:
        return Series([-v for v in self.c])

    def __pos__(self) -> Series:
        return self

    def __abs__(self) -> Series:
        return -self if self.c[0] < 0 else self

    def __add__(self, other: Any) -> Series:
        o = self._lift(other)
        return Series([a + b for a, b in zip(self.c, o.c, strict=True)])

    __radd__ = __add__

    def __sub__(self, other: Any) -> Series:
        return self + (-self._lift(other))

    def __rsub__(self, other: Any) -> Series:
        return self._lift(other) - self

    def __mul__(self, other: Any) -> Series:
        if not isinstance(other, Series):
            return Series([v * other for v in self.c])
        a, b = self.c, other.c
        return Series([mpmath.fsum(a[j] * b[k - j] for j in range(k + 1)) for k in range(self.n)])

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Series:
        if not isinstance(other, Series):
            return Series([v / other for v in self.c])
        a, b = self.c, other.c
        if b[0] == 0:
            raise ZeroDivisionError("division by a series that is 0 at the point")
        out: list[Scalar] = []
        for k in range(self.n):
            out.append((a[k] - mpmath.fsum(out[j] * b[k - j] for j in range(k))) / b[0])
        return Series(out)

    def __rtruediv__(self, other: Any) -> Series:
        return self._lift(other) / self

    def __pow__(self, other: Any) -> Series:
        return power(self, other)

    def __rpow__(self, other: Any) -> Series:
        return power(self._lift(other), self)

    def __format__(self, spec: str) -> str:
        return format(float(self), spec)

    def __repr__(self) -> str:
        return f"Series({[mpmath.nstr(v, 8) for v in self.c]})"


def variable(x0: Scalar, terms: int) -> Series:
    """The variable x0 + t, to `terms` coefficients."""
    return Series([x0, 1] + [0] * (terms - 2)) if terms > 1 else Series([x0])


def derivatives(value: Any, terms: int) -> list[Scalar]:
    """The value and its derivatives of orders 1 … terms−1 (k!·ck); a constant's are 0."""
    if not isinstance(value, Series):
        return [mpmath.mpf(value)] + [mpmath.mpf(0)] * (terms - 1)
    return [v * mpmath.factorial(k) for k, v in enumerate(value.c)]


# --------------------------------------------------------------------------- functions


def _scalar(f: Callable[[Scalar], Scalar], series: Callable[[Series], Series]) -> Callable[[Any], Any]:
    """A function of the number system: mpmath's on a constant, the series' on a series."""
    return lambda u: series(u) if isinstance(u, Series) else f(u)


def _integrate(u: Series, at: Scalar, derivative: Callable[[Series], Any]) -> Series:
    """f(u) from f(u0) and f′: the series of ∫ f′(u)·u′ dt."""
    slope = derivative(u)
    du = Series([(k + 1) * u.c[k + 1] for k in range(u.n - 1)] + [0])
    g = (slope * du).c if isinstance(slope, Series) else [slope * v for v in du.c]
    return Series([at] + [g[k - 1] / k for k in range(1, u.n)])


def _exp(u: Series) -> Series:
    a, out = u.c, [mpmath.exp(u.c[0])]
    for k in range(1, u.n):
        out.append(mpmath.fsum(j * a[j] * out[k - j] for j in range(1, k + 1)) / k)
    return Series(out)


def _log(u: Series) -> Series:
    a = u.c
    if a[0] <= 0:
        raise ValueError("log of a series that is not positive at the point")
    out = [mpmath.log(a[0])]
    for k in range(1, u.n):
        out.append((a[k] - mpmath.fsum(j * out[j] * a[k - j] for j in range(1, k)) / k) / a[0])
    return Series(out)


def _sin_cos(u: Series, hyperbolic: bool) -> tuple[Series, Series]:
    a = u.c
    s = [mpmath.sinh(a[0]) if hyperbolic else mpmath.sin(a[0])]
    c = [mpmath.cosh(a[0]) if hyperbolic else mpmath.cos(a[0])]
    sign = 1 if hyperbolic else -1
    for k in range(1, u.n):
        s.append(mpmath.fsum(j * a[j] * c[k - j] for j in range(1, k + 1)) / k)
        c.append(sign * mpmath.fsum(j * a[j] * s[k - j] for j in range(1, k + 1)) / k)
    return Series(s), Series(c)


def _sqrt(u: Series) -> Series:
    a = u.c
    if a[0] <= 0:
        raise ValueError("the slope of a square root is infinite at 0, or it is not real")
    out = [mpmath.sqrt(a[0])]
    for k in range(1, u.n):
        out.append((a[k] - mpmath.fsum(out[j] * out[k - j] for j in range(1, k))) / (2 * out[0]))
    return Series(out)


def power(a: Series, b: Any) -> Series:
    """a^b: by repeated products for a whole exponent, else exp(b·ln a)."""
    if not isinstance(b, Series) and mpmath.mpf(b) == int(b) and abs(int(b)) <= 64:
        k = int(b)
        result, base = a._lift(1), a if k >= 0 else 1 / a
        for _ in range(abs(k)):
            result = result * base
        return result
    if a.c[0] <= 0:
        raise ValueError("a power of a series that is not positive at the point")
    return _exp(b * _log(a))


def _atan2(y: Any, x: Any) -> Any:
    if not isinstance(y, Series) and not isinstance(x, Series):
        return mpmath.atan2(y, x)
    ys = y if isinstance(y, Series) else x._lift(y)
    xs = x if isinstance(x, Series) else ys._lift(x)
    at = mpmath.atan2(ys.c[0], xs.c[0])
    # d atan2 = (x·dy − y·dx)/(x² + y²): integrate in t.
    dy = Series([(k + 1) * ys.c[k + 1] for k in range(ys.n - 1)] + [0])
    dx = Series([(k + 1) * xs.c[k + 1] for k in range(xs.n - 1)] + [0])
    g = ((xs * dy - ys * dx) / (xs * xs + ys * ys)).c
    return Series([at] + [g[k - 1] / k for k in range(1, ys.n)])


def _hypot(a: Any, b: Any) -> Any:
    if not isinstance(a, Series) and not isinstance(b, Series):
        return mpmath.hypot(a, b)
    return _sqrt(a * a + b * b)


_PI = mpmath.pi


def _ratio(pair: tuple[Series, Series]) -> Series:
    return pair[0] / pair[1]


def _sqrt_pi() -> Any:
    return mpmath.sqrt(mpmath.pi)  # at the working precision when called


def _functions() -> dict[str, Callable[..., Any]]:
    sin_cos = _sin_cos
    sqrt_pi = _sqrt_pi
    return {
        "sin": _scalar(mpmath.sin, lambda u: sin_cos(u, False)[0]),
        "cos": _scalar(mpmath.cos, lambda u: sin_cos(u, False)[1]),
        "tan": _scalar(mpmath.tan, lambda u: _ratio(sin_cos(u, False))),
        "sinh": _scalar(mpmath.sinh, lambda u: sin_cos(u, True)[0]),
        "cosh": _scalar(mpmath.cosh, lambda u: sin_cos(u, True)[1]),
        "tanh": _scalar(mpmath.tanh, lambda u: _ratio(sin_cos(u, True))),
        "asin": _scalar(mpmath.asin, lambda u: _integrate(u, mpmath.asin(u.c[0]), lambda v: 1 / _sqrt(1 - v * v))),
        "acos": _scalar(mpmath.acos, lambda u: _integrate(u, mpmath.acos(u.c[0]), lambda v: -1 / _sqrt(1 - v * v))),
        "atan": _scalar(mpmath.atan, lambda u: _integrate(u, mpmath.atan(u.c[0]), lambda v: 1 / (1 + v * v))),
        "asinh": _scalar(mpmath.asinh, lambda u: _integrate(u, mpmath.asinh(u.c[0]), lambda v: 1 / _sqrt(v * v + 1))),
        "acosh": _scalar(mpmath.acosh, lambda u: _integrate(u, mpmath.acosh(u.c[0]), lambda v: 1 / _sqrt(v * v - 1))),
        "atanh": _scalar(mpmath.atanh, lambda u: _integrate(u, mpmath.atanh(u.c[0]), lambda v: 1 / (1 - v * v))),
        "exp": _scalar(mpmath.exp, _exp),
        "log": _scalar(mpmath.log, _log),
        "log10": _scalar(mpmath.log10, lambda u: _log(u) / mpmath.log(10)),
        "log2": _scalar(lambda v: mpmath.log(v, 2), lambda u: _log(u) / mpmath.log(2)),
        "sqrt": _scalar(mpmath.sqrt, _sqrt),
        "log1p": _scalar(mpmath.log1p, lambda u: _integrate(u, mpmath.log1p(u.c[0]), lambda v: 1 / (1 + v))),
        "expm1": _scalar(mpmath.expm1, lambda u: _exp(u) - 1 + (mpmath.expm1(u.c[0]) - (mpmath.exp(u.c[0]) - 1))),
        "erf": _scalar(
            mpmath.erf, lambda u: _integrate(u, mpmath.erf(u.c[0]), lambda v: 2 * _exp(-(v * v)) / sqrt_pi())
        ),
        "erfc": _scalar(
            mpmath.erfc, lambda u: _integrate(u, mpmath.erfc(u.c[0]), lambda v: -2 * _exp(-(v * v)) / sqrt_pi())
        ),
        "atan2": _atan2,
        "hypot": _hypot,
    }


SERIES = SimpleNamespace(
    name="series",
    one=mpmath.mpf(1),
    pi=_PI,
    e=mpmath.e,
    power=lambda a, b: power(a, b) if isinstance(a, Series) else _power_scalar(a, b),
    ln_base=mpmath.log,
    **_functions(),
)


def _power_scalar(a: Any, b: Any) -> Any:
    """a^b with a constant base: a number, or exp(b·ln a) for a series exponent."""
    if isinstance(b, Series):
        if a <= 0:
            raise ValueError("a constant base of a variable power must be positive")
        return _exp(b * mpmath.log(a))
    return mpmath.power(a, b)
