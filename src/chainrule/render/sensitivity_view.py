"""The sensitivity view as text: |local factor| and the running product, on a log scale."""

from __future__ import annotations

import math

from chainrule.derive import Derivation
from chainrule.render.common import num
from chainrule.sensitivity import Sensitivity, remark, sensitivity

BAR = 32


def lines(d: Derivation, view: Sensitivity) -> list[str]:
    """The chart: one row per layer, a bar for the running product on a log scale."""
    products = [abs(s.running_product) for s in view.steps if s.running_product != 0]
    logs = [math.log10(p) for p in products] or [0.0]
    lo, hi = min([*logs, 0.0]), max([*logs, 0.0])
    span = hi - lo or 1.0
    width = max(len(s.layer) for s in view.steps)
    scale = f"(bar: log scale, 10^{lo:.0f} to 10^{hi:.0f})"
    out = [f"  {'layer'.ljust(width)}  {'|factor|':>10}  {'running product':>15}  {scale}"]
    for s in view.steps:
        size = abs(s.running_product)
        length = 0 if size == 0 else 1 + round((math.log10(size) - lo) / span * (BAR - 1))
        out.append(
            f"  {s.layer.ljust(width)}  {num(abs(s.factor), 4):>10}  {num(s.running_product, 4):>15}  {'█' * length}"
        )
    sentence = remark(view, d.variable, d.output)
    if sentence:
        out.append("")
        out.append("  " + sentence)
    return out


def render(d: Derivation) -> str:
    view = sensitivity(d)
    if view is None:
        return "The sensitivity view needs a chain (one path from the variable to the output) and a point (--at).\n"
    where = ", ".join(f"{k} = {num(v)}" for k, v in (d.point or {}).items())
    head = f"How each layer of {d.output} scales a wiggle of {d.variable}, at {where}"
    return "\n".join([head, *lines(d, view)]) + "\n"
