"""The sensitivity view as text: |local factor| and the running product, on a log scale."""

from __future__ import annotations

import math

from chainrule.derive import Derivation
from chainrule.render.common import num, point_text
from chainrule.render.higher_view import lines as higher_lines
from chainrule.sensitivity import Sensitivity, Step, remark, running
from chainrule.wide import text as wide

BAR = 32


def lines(d: Derivation, view: Sensitivity) -> list[str]:
    """The chart: one row per layer, a bar for the running product on a log scale."""
    logs = [s.running_log10 for s in view.steps if s.running_log10 is not None and math.isfinite(s.running_log10)]
    logs = logs or [0.0]
    lo, hi = min([*logs, 0.0]), max([*logs, 0.0])
    span = hi - lo or 1.0
    width = max(len(s.layer) for s in view.steps)
    scale = f"(bar: log scale, 10^{lo:.0f} to 10^{hi:.0f})"
    out = [f"  {'layer'.ljust(width)}  {'|factor|':>10}  {'running product':>15}  {scale}"]
    for s in view.steps:
        finite = s.running_log10 is not None and math.isfinite(s.running_log10)
        length = 1 + round((s.running_log10 - lo) / span * (BAR - 1)) if finite else 0  # type: ignore[operator]
        out.append(f"  {s.layer.ljust(width)}  {num(abs(s.factor), 4):>10}  {_running(s):>15}  {'█' * length}")
    sentence = remark(view, d.variable, d.output)
    if sentence:
        out.append("")
        out.append("  " + sentence)
    return out


def _running(step: Step) -> str:
    value = running(step)
    return num(value, 4) if isinstance(value, float) else wide(value, 4)


def render(d: Derivation) -> str:
    view = d.sensitivity
    if view is None:
        return "The sensitivity view needs a chain (one path from the variable to the output) and a point (--at).\n"
    head = f"How each layer of {d.output} scales a wiggle of {d.variable}, at {point_text(d)}"
    orders = ["", *higher_lines(d, d.orders)] if d.orders else []
    return "\n".join([head, *lines(d, view), *orders]) + "\n"
