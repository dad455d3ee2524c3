"""The sensitivity view as text: |local factor| and the running product, on a log scale.

One chart for both directions: diff's wiggle from the variable up to the output, and grad's
adjoint from the output down to a variable, on a scalar graph or a tensor program alike (there
a row also shows ‖∂L/∂layer‖, and the running product is the size of what the layer passes on).
"""

from __future__ import annotations

import math
from typing import Any

from chainrule.derive import Derivation
from chainrule.render.common import num, point_text, where
from chainrule.render.documents import dumps
from chainrule.render.higher_view import lines as higher_lines
from chainrule.sensitivity import Sensitivity, Step, backward, remark, running
from chainrule.wide import text as wide

BAR = 32  # the longest bar
SHORTEST_BAR = 8  # a narrower room stacks each layer's row instead


def of_gradient(result: Any) -> Sensitivity | None:
    """The backward view of grad's result: a scalar graph (:class:`~chainrule.backprop.Gradient`)
    or a tensor program (:class:`~chainrule.tensor.TensorGradient`); None without a point."""
    from chainrule.tensor import TensorGradient

    if isinstance(result, TensorGradient):
        import numpy as np

        t, run = result.tensors, result.run
        norms = {i: float(np.linalg.norm(a)) for i, a in run.adjoints.items()}
        sends = [(s.node, s.operand, float(np.linalg.norm(s.contribution))) for s in run.steps if s.operand in t.names]
        return backward(t.names, t.root, norms, sends)
    at = result.evaluation.at
    if at is None:
        return None
    graph = result.graph
    names = graph.names
    adjoints = {i: abs(v) for i, v in at.adjoints.items()}
    sends = [(s.node, s.input, abs(s.contribution)) for s in at.steps]
    root = at.steps[0].node if at.steps else -1
    return backward(names, root, adjoints, sends)


def lines(d: Derivation, view: Sensitivity, width: int = 100) -> list[str]:
    """The chart of a derivative (see :func:`chart`)."""
    return chart(view, d.variable, d.output, width)


def chart(view: Sensitivity, variable: str, output: str, width: int = 100) -> list[str]:
    """The chart: one row per layer, a bar for the running product on a log scale; on a terminal
    too narrow for the row and a bar of SHORTEST_BAR, each layer is a block of lines instead.
    Backward, each row also shows the adjoint the layer receives."""
    logs = [s.running_log10 for s in view.steps if s.running_log10 is not None and math.isfinite(s.running_log10)]
    logs = logs or [0.0]
    lo, hi = min([*logs, 0.0]), max([*logs, 0.0])
    span = hi - lo or 1.0
    names = max(len(s.layer) for s in view.steps)
    factors = [num(abs(s.factor), 4) for s in view.steps]
    products = [_running(s) for s in view.steps]
    scale = f"(bar: log scale, 10^{lo:.0f} to 10^{hi:.0f})"
    adjoints = [num(s.adjoint, 4) if s.adjoint is not None else "" for s in view.steps] if view.backward else []
    wide_adjoint = 2 + 12 if view.backward else 0
    room = width - (2 + names + wide_adjoint + 2 + 10 + 2 + 15 + 2)  # what the row leaves for its bar
    adjoint_title = f"‖∂{output}/∂layer‖"

    def bar(s: Step, most: int) -> str:
        if s.running_log10 is None or not math.isfinite(s.running_log10):
            return ""
        return "█" * (1 + round((s.running_log10 - lo) / span * (most - 1)))

    fits = max(map(len, adjoints), default=0) <= 12
    if room >= SHORTEST_BAR and max(map(len, factors)) <= 10 and max(map(len, products)) <= 15 and fits:
        most = min(BAR, room)
        extra = f"  {adjoint_title:>12}" if view.backward else ""
        out = [f"  {'layer'.ljust(names)}{extra}  {'|factor|':>10}  {'running product':>15}  {scale}"]
        for k, (s, factor, running_product) in enumerate(zip(view.steps, factors, products, strict=True)):
            extra = f"  {adjoints[k]:>12}" if view.backward else ""
            out.append(f"  {s.layer.ljust(names)}{extra}  {factor:>10}  {running_product:>15}  {bar(s, most)}")
    else:
        most = max(1, min(BAR, width - 4))
        what = f"{adjoint_title}, |factor|" if view.backward else "|factor|"
        out = [f"  each layer: {what}, the running product, and a bar {scale}"]
        for k, (s, factor, running_product) in enumerate(zip(view.steps, factors, products, strict=True)):
            received = [f"    {adjoint_title} {adjoints[k]}"] if view.backward else []
            out += [f"  {s.layer}", *received, f"    |factor| {factor}", f"    running {running_product}"]
            out.append(f"    {bar(s, most)}")
    sentence = remark(view, variable, output)
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


# --------------------------------------------------------------------------- grad: the adjoint, backwards


def _subject(result: Any) -> tuple[str, str]:
    """(output, point) of grad's result, on a scalar graph or a tensor program."""
    from chainrule.tensor import TensorGradient

    if isinstance(result, TensorGradient):
        from chainrule.render.tensor_views import _point_line

        return result.tensors.output, _point_line(result).removeprefix("at ")
    return result.output, where(result.point) if result.point else ""


def render_grad(result: Any, width: int = 100) -> str:
    """grad --view sensitivity: how each layer scales the adjoint on its way from the output down
    to a variable, for a scalar graph and a tensor program alike."""
    view = of_gradient(result)
    output, point = _subject(result)
    if view is None:
        return "The sensitivity view needs a point (--at, or --shape for vectors and matrices) and a layer.\n"
    head = (
        f"How each layer passes the adjoint of {output} back to {view.variable} "
        f"(factor = ‖what it passes on‖ / ‖∂{output}/∂layer‖), at {point}"
    )
    return "\n".join([head, *chart(view, view.variable, output, width)]) + "\n"


def fields(view: Sensitivity | None) -> dict[str, Any]:
    """The sensitivity chart as JSON fields, for the document of grad --view sensitivity."""
    from chainrule.render.documents import number

    if view is None:
        return {"sensitivity": None, "sensitivity_trend": None}
    return {
        "sensitivity": [
            {
                "layer": s.layer,
                "adjoint_norm": number(s.adjoint),
                "factor": number(s.factor),
                "running_product": number(s.running_product),
                "running_log10": number(s.running_log10),
            }
            for s in view.steps
        ],
        "sensitivity_trend": view.trend,
        "sensitivity_variable": view.variable,
    }


def render_grad_json(result: Any) -> str:
    """grad's JSON document (scalar or tensor), with the backward sensitivity chart."""
    from chainrule.render import grad_views, tensor_views
    from chainrule.tensor import TensorGradient

    doc = tensor_views.document(result) if isinstance(result, TensorGradient) else grad_views.document(result)
    return dumps({**doc, **fields(of_gradient(result))})
