"""The sensitivity view as text: |local factor| and the running product, on a log scale."""

from __future__ import annotations

import math

from chainrule.derive import Derivation
from chainrule.render.common import num, point_text
from chainrule.render.higher_view import lines as higher_lines
from chainrule.sensitivity import Sensitivity, Step, remark, running
from chainrule.wide import text as wide

BAR = 32  # the longest bar
SHORTEST_BAR = 8  # a narrower room stacks each layer's row instead


def lines(d: Derivation, view: Sensitivity, width: int = 100) -> list[str]:
    """The chart: one row per layer, a bar for the running product on a log scale; on a terminal
    too narrow for the row and a bar of SHORTEST_BAR, each layer is a block of lines instead."""
    logs = [s.running_log10 for s in view.steps if s.running_log10 is not None and math.isfinite(s.running_log10)]
    logs = logs or [0.0]
    lo, hi = min([*logs, 0.0]), max([*logs, 0.0])
    span = hi - lo or 1.0
    names = max(len(s.layer) for s in view.steps)
    factors = [num(abs(s.factor), 4) for s in view.steps]
    products = [_running(s) for s in view.steps]
    scale = f"(bar: log scale, 10^{lo:.0f} to 10^{hi:.0f})"
    room = width - (2 + names + 2 + 10 + 2 + 15 + 2)  # what the row leaves for its bar

    def bar(s: Step, most: int) -> str:
        if s.running_log10 is None or not math.isfinite(s.running_log10):
            return ""
        return "█" * (1 + round((s.running_log10 - lo) / span * (most - 1)))

    if room >= SHORTEST_BAR and max(map(len, factors)) <= 10 and max(map(len, products)) <= 15:
        most = min(BAR, room)
        out = [f"  {'layer'.ljust(names)}  {'|factor|':>10}  {'running product':>15}  {scale}"]
        for s, factor, running_product in zip(view.steps, factors, products, strict=True):
            out.append(f"  {s.layer.ljust(names)}  {factor:>10}  {running_product:>15}  {bar(s, most)}")
    else:
        most = max(1, min(BAR, width - 4))
        out = [f"  each layer: |factor|, the running product, and a bar {scale}"]
        for s, factor, running_product in zip(view.steps, factors, products, strict=True):
            out += [f"  {s.layer}", f"    |factor| {factor}", f"    running {running_product}", f"    {bar(s, most)}"]
    sentence = remark(view, d.variable, d.output)
    if sentence:
        out.append("")
        out.append("  " + sentence)
    return out


def _running(step: Step) -> str:
    value = running(step)
    return num(value, 4) if isinstance(value, float) else wide(value, 4)


def render(d: Derivation, width: int = 100) -> str:
    view = d.sensitivity
    if view is None:
        return "The sensitivity view needs a chain (one path from the variable to the output) and a point (--at).\n"
    head = f"How each layer of {d.output} scales a wiggle of {d.variable}, at {point_text(d)}"
    orders = ["", *higher_lines(d, d.orders)] if d.orders else []
    return "\n".join([head, *lines(d, view, width), *orders]) + "\n"
