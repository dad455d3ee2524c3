"""--plot: f, its tangent line at the point, and f′, on one figure (PNG or SVG bytes).

matplotlib is an optional extra: pip install "chainrule[plot]".
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from pathlib import PurePath

from chainrule import engine
from chainrule.derive import Derivation
from chainrule.errors import MathError, UsageError

SAMPLES = 400
INSTALL = 'pip install "chainrule[plot]"'


def window(x0: float, f0: float, slope: float) -> tuple[float, float]:
    """The x-range of the figure: ±2 around the point (more for a large x), narrowed for a steep f
    so that the curve near the point is seen (sin(1/x) at 0.05 turns within ±0.03)."""
    half = max(2.0, 0.5 * abs(x0)) if abs(x0) < 1e300 else 0.25 * abs(x0)  # the ends stay finite
    if math.isfinite(slope) and slope != 0 and math.isfinite(f0):
        steep = STEEP * max(abs(f0), 1.0) / abs(slope)
        half = max(min(half, steep), 1e-9 * max(abs(x0), 1.0))
    return x0 - half, x0 + half


STEEP = 5.0  # the window spans about this many of the function's own scales, at the point's slope
KEEP = (5.0, 95.0)  # percentiles of f the y-range keeps: poles and spikes are cut off, not drawn flat


def heights(values: list[float], must: list[float], slopes: Sequence[float] = ()) -> tuple[float, float] | None:
    """The y-range: f's values (between the KEEP percentiles when they spike, as beside a pole) and
    the `must` points (the point itself); f′'s values too, unless they spike or dwarf f (more than
    SLOPE_SCALE times its span), so that f′ never flattens f.  With a margin; None when f has no value."""
    shown = _extent([*values, *must], [v for v in must if math.isfinite(v)])
    if shown is None:
        return None
    low, high = shown
    slope = _extent(list(slopes), [])
    if slope is not None and not _spikes(list(slopes)) and slope[1] - slope[0] <= SLOPE_SCALE * max(high - low, 1e-300):
        low, high = min(low, slope[0]), max(high, slope[1])
    pad = 0.1 * (high - low or max(abs(high), 1.0))
    return low - pad, high + pad


SLOPE_SCALE = 10.0


def _extent(values: list[float], must: list[float]) -> tuple[float, float] | None:
    """(lowest, highest) of the finite values; their KEEP percentiles when they spike."""
    finite = sorted(v for v in values if math.isfinite(v))
    if not finite:
        return None
    if not _spikes(finite):
        return finite[0], finite[-1]
    low = finite[int(KEEP[0] / 100 * (len(finite) - 1))]
    high = finite[int(KEEP[1] / 100 * (len(finite) - 1))]
    return min([low, *must]), max([high, *must])


def _spikes(values: list[float]) -> bool:
    """Whether a few values stand far beyond the rest: the whole span is over 10 times the span of
    the KEEP percentiles."""
    finite = sorted(v for v in values if math.isfinite(v))
    if len(finite) < 2:
        return False
    middle = finite[int(KEEP[1] / 100 * (len(finite) - 1))] - finite[int(KEEP[0] / 100 * (len(finite) - 1))]
    return finite[-1] - finite[0] > 10 * middle


def _scale(values: list[float]) -> int:
    """The power of ten to divide by, so that matplotlib draws values near the ends of
    the doubles' range (it cannot: its transforms overflow); 0 for ordinary values."""
    largest = max((abs(v) for v in values if math.isfinite(v) and v != 0), default=1.0)
    exponent = math.floor(math.log10(largest))
    return exponent if abs(exponent) > 12 else 0


def _scaled(values: list[float], exponent: int) -> list[float]:
    if exponent == 0:
        return values
    divisor = 10.0**exponent if exponent > -300 else None
    if divisor is None:  # 10^-308 and below lose digits as a double: scale in two steps
        return [v * 1e300 / 10.0 ** (exponent + 300) if math.isfinite(v) else v for v in values]
    return [v / divisor if math.isfinite(v) else v for v in values]


def _unit(exponent: int) -> str:
    return f" (×10^{exponent})" if exponent else ""


def _curves(d: Derivation, xs: list[float]) -> tuple[list[float], list[float]]:
    """f and f′ at each x (NaN where undefined), the same engine as the steps."""
    assert d.point is not None
    graph = d.graph
    wrt = graph.variable_index(d.variable)
    fs, dfs = [], []
    for x in xs:
        point = {**d.point, d.variable: x}
        try:
            at = engine.run(graph, point, (d.variable,))
            fs.append(at.values[graph.output])
            dfs.append(at.adjoints.get(wrt, 0.0))
        except MathError:  # no value here: a gap in the curve (a timeout ends the plot)
            fs.append(math.nan)
            dfs.append(math.nan)
    return fs, dfs


def _tangent(f0: float, slope: float, dx: float) -> float:
    """The tangent line's height; NaN where it leaves the doubles."""
    try:
        value = f0 + slope * dx
    except OverflowError:  # pragma: no cover - float arithmetic gives inf, not an error
        return math.nan
    return value if math.isfinite(value) else math.nan


KINDS = ("png", "svg")


def kind_of(path: PurePath) -> str:
    """The kind of figure a path asks for, from its extension."""
    kind = path.suffix.lower().lstrip(".")
    if kind not in KINDS:
        shown = f".{kind} files" if kind else "files without an extension"
        raise UsageError(f"--plot writes .png or .svg files, not {shown}", hint="for example: --plot figure.png")
    return kind


def plot(d: Derivation, kind: str, span: tuple[float, float] | None = None) -> bytes:
    """The figure as PNG or SVG bytes; `span` is --window a,b, else the window is chosen (window())."""
    if d.point is None or d.value is None or d.derivative_value is None:
        raise UsageError("--plot needs a point: add --at")
    if kind not in KINDS:
        raise UsageError(f"--plot writes .png or .svg files, not .{kind}")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # a figure needs no BLAS threads, each a stack
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError(f"--plot needs matplotlib, an optional extra: {INSTALL}") from None
    x0, f0, slope = d.point[d.variable], d.value, d.derivative_value
    lo, hi = span if span is not None else window(x0, f0, slope)
    xs = [lo + (hi - lo) * k / (SAMPLES - 1) for k in range(SAMPLES)]
    fs, dfs = _curves(d, xs)
    tangent = [_tangent(f0, slope, x - x0) for x in xs]
    across, up = _scale(xs), _scale([*fs, *dfs, f0])
    px, (pf, pdf, pt, p0) = _scaled(xs, across), (_scaled(v, up) for v in (fs, dfs, tangent, [f0]))
    figure = Figure(figsize=(7, 4.5), dpi=100)
    axes = figure.add_subplot()
    shown = heights(pf, p0, pdf)  # f decides the y-range; f′ joins it unless it would flatten f
    if shown is not None:
        pf, pdf = _cut(pf, shown), _cut(pdf, shown)
    axes.plot(px, pf, label=f"{d.output}({d.variable})", color="#1f5fa8", linewidth=2)
    axes.plot(px, pt, "--", color="#d9822b", label=f"tangent, slope {slope:.4g}")
    axes.plot(px, pdf, color="#3a9d5d", label=f"d{d.output}/d{d.variable}")
    axes.plot(_scaled([x0], across), p0, "o", color="#1f5fa8")
    if shown is not None:
        axes.set_ylim(*shown)
    axes.axhline(0, color="#999999", linewidth=0.5)
    axes.set_xlabel(d.variable + _unit(across))
    if up:
        axes.set_ylabel(_unit(up).strip(" ()"))
    axes.set_title(f"{d.input} at {d.variable} = {x0:g}")
    axes.legend(loc="best")
    axes.grid(alpha=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=kind, bbox_inches="tight")
    return buffer.getvalue()


def _cut(values: list[float], shown: tuple[float, float]) -> list[float]:
    """Values far outside the y-range (beside a pole) as gaps, so that no line joins +∞ to −∞."""
    low, high = shown
    reach = 20 * (high - low)
    return [v if low - reach <= v <= high + reach else math.nan for v in values]


def parse_window(text: str) -> tuple[float, float]:
    """--window a,b: two finite numbers (or constants, -pi,pi: chainrule.points reads them), a < b."""
    from chainrule.points import numbers

    try:
        a, b = numbers(text)
    except (UsageError, ValueError):
        raise UsageError(f"--window takes two numbers a,b, as in --window -1,3, not {text[:40]!r}") from None
    if not (math.isfinite(a) and math.isfinite(b) and a < b):
        raise UsageError(f"--window a,b needs finite numbers with a < b, not {text[:40]!r}")
    return a, b
