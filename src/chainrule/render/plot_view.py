"""--plot: f, its tangent line at the point, and f′, on one figure (PNG or SVG bytes).

matplotlib is an optional extra: pip install "chainrule[plot]".
"""

from __future__ import annotations

import io
import math
import os
from pathlib import PurePath

from chainrule import engine
from chainrule.derive import Derivation
from chainrule.errors import MathError, UsageError

SAMPLES = 400
INSTALL = 'pip install "chainrule[plot]"'


def _window(x0: float) -> tuple[float, float]:
    half = max(2.0, 0.5 * abs(x0)) if abs(x0) < 1e300 else 0.25 * abs(x0)  # the ends stay finite
    return x0 - half, x0 + half


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


def plot(d: Derivation, kind: str) -> bytes:
    """The figure as PNG or SVG bytes."""
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
    lo, hi = _window(x0)
    xs = [lo + (hi - lo) * k / (SAMPLES - 1) for k in range(SAMPLES)]
    fs, dfs = _curves(d, xs)
    tangent = [_tangent(f0, slope, x - x0) for x in xs]
    across, up = _scale(xs), _scale([*fs, *dfs, f0])
    px, (pf, pdf, pt, p0) = _scaled(xs, across), (_scaled(v, up) for v in (fs, dfs, tangent, [f0]))
    figure = Figure(figsize=(7, 4.5), dpi=100)
    axes = figure.add_subplot()
    axes.plot(px, pf, label=f"{d.output}({d.variable})", color="#1f5fa8", linewidth=2)
    axes.plot(px, pt, "--", color="#d9822b", label=f"tangent, slope {slope:.4g}")
    axes.plot(px, pdf, color="#3a9d5d", label=f"d{d.output}/d{d.variable}")
    axes.plot(_scaled([x0], across), p0, "o", color="#1f5fa8")
    finite = [v for v in pf + pdf if math.isfinite(v)]
    if finite:
        top, bottom = max(finite), min(finite)
        pad = 0.1 * (top - bottom or 1.0)
        axes.set_ylim(bottom - pad, top + pad)
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
