"""--plot: f, its tangent line at the point, and f′, on one figure (PNG or SVG bytes).

matplotlib is an optional extra: pip install "chainrule[plot]".
"""

from __future__ import annotations

import io
import math

from chainrule import engine
from chainrule.derive import Derivation
from chainrule.errors import ChainruleError, UsageError

SAMPLES = 400
INSTALL = 'pip install "chainrule[plot]"'


def _window(x0: float) -> tuple[float, float]:
    half = max(2.0, 0.5 * abs(x0))
    return x0 - half, x0 + half


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
        except ChainruleError:
            fs.append(math.nan)
            dfs.append(math.nan)
    return fs, dfs


def plot(d: Derivation, kind: str) -> bytes:
    """The figure as PNG or SVG bytes."""
    if d.point is None or d.value is None or d.derivative_value is None:
        raise UsageError("--plot needs a point: add --at")
    if kind not in ("png", "svg"):
        raise UsageError(f"--plot writes .png or .svg files, not .{kind}")
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError(f"--plot needs matplotlib, an optional extra: {INSTALL}") from None
    x0, f0, slope = d.point[d.variable], d.value, d.derivative_value
    lo, hi = _window(x0)
    xs = [lo + (hi - lo) * k / (SAMPLES - 1) for k in range(SAMPLES)]
    fs, dfs = _curves(d, xs)
    figure = Figure(figsize=(7, 4.5), dpi=100)
    axes = figure.add_subplot()
    axes.plot(xs, fs, label=f"{d.output}({d.variable})", color="#1f5fa8", linewidth=2)
    axes.plot(xs, [f0 + slope * (x - x0) for x in xs], "--", color="#d9822b", label=f"tangent, slope {slope:.4g}")
    axes.plot(xs, dfs, color="#3a9d5d", label=f"d{d.output}/d{d.variable}")
    axes.plot([x0], [f0], "o", color="#1f5fa8")
    finite = [v for v in fs + dfs if math.isfinite(v)]
    if finite:
        top, bottom = max(finite), min(finite)
        pad = 0.1 * (top - bottom or 1.0)
        axes.set_ylim(bottom - pad, top + pad)
    axes.axhline(0, color="#999999", linewidth=0.5)
    axes.set_xlabel(d.variable)
    axes.set_title(f"{d.input} at {d.variable} = {x0:g}")
    axes.legend(loc="best")
    axes.grid(alpha=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=kind, bbox_inches="tight")
    return buffer.getvalue()
