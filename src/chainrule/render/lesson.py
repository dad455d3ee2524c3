"""What a lesson shows of a pass, whichever engine made it: the adapter between a result and the
lesson page (:mod:`chainrule.render.html_view`).

A :class:`Lesson` holds the nodes, the edges and the steps of the forward and the backward pass as
the page shows them, and the rows of its tables.  A scalar graph (:class:`~chainrule.backprop.Gradient`,
:class:`~chainrule.derive.Derivation`) and a tensor program (:class:`~chainrule.tensor.TensorGradient`)
are its two inputs; the page is built from the lesson alone, so both get one page.  A scalar's values
are numbers (the page formats them); a tensor's are the text view's: a small tensor in full, a
larger one by its shape, range, mean and norm.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chainrule.backprop import Gradient
from chainrule.derive import Derivation
from chainrule.errors import visible
from chainrule.printing import form, pretty
from chainrule.render.common import exact, num
from chainrule.tensor import TensorGradient
from chainrule.wide import Wide
from chainrule.wide import text as wide

Number = float | str | None  # a double, the text of a value beyond doubles or of a tensor, or unknown


@dataclass(frozen=True)
class RuleRow:
    """A row of the layers table: a layer's local derivative (or vector–Jacobian product) and its rule."""

    layer: str  # "" on a layer's second and later rows
    derivative: str  # HTML: MathML for a scalar, escaped text for a tensor
    rule: str  # plain text
    value: str | None  # the local value at the point, where it is one number


@dataclass(frozen=True)
class Lesson:
    """The page's data (strict JSON: output, nodes, edges, forward, backward) and its tables.

    A node is {name, kind ("variable" or "layer"), formula, value, shape?}; a forward step
    {node, formula, value, text, shape?}; a backward step {node, input, contribution, adjoint} with
    either upstream and local (numbers: upstream × local) or rule (a vector–Jacobian product) and shape.
    """

    data: dict[str, Any]
    operations: Mapping[str, str]  # node name -> its operation as HTML, where it is more than plain text
    rules: tuple[RuleRow, ...]
    backward_columns: tuple[tuple[str, str], ...]  # (title, key) of the backward table's number columns
    shaped: bool  # the nodes are tensors: the tables show shapes, and values as arrays


def escape(text: str) -> str:
    """Text for the page: HTML's special characters escaped, and control characters shown as escapes."""
    return html.escape(visible(text), quote=True)


def escape_lines(text: str) -> str:
    """The same for a tensor's text, whose rows stay on lines of their own."""
    return "\n".join(map(escape, text.split("\n")))


def _number(value: float | None, beyond: Wide | None = None) -> float | str | None:
    """A value for the page's data, which is strict JSON: the double, the text of a value beyond
    the range of doubles (1.233935551e4294), or None where there is neither."""
    if beyond is not None:
        return wide(beyond)
    return value if value is not None and math.isfinite(value) else None


def text(value: Number) -> str:
    """A lesson's value as the tables show it before the page's script runs."""
    return value if isinstance(value, str) else exact(value)


def cell(value: Number) -> str:
    """A number of a table, to 6 digits; a tensor's text as it is."""
    return value if isinstance(value, str) else num(value, 6)


def _mathml(expr: Any) -> str:
    from chainrule import printing

    return f'<math display="inline">{printing.mathml(expr)}</math>'


def scalar(e: Gradient | Derivation) -> Lesson:
    """A scalar graph's lesson: every layer a node, every local derivative an edge, every
    contribution upstream × local a backward step."""
    graph = e.graph
    at = e.evaluation.at
    point = e.point or {}
    nodes: list[dict[str, Any]] = []
    for v in graph.variables:
        if graph.uses(v):
            nodes.append({"name": v, "kind": "variable", "formula": v, "value": point.get(v)})
    edges: list[dict[str, Any]] = []
    forward: list[dict[str, Any]] = []
    rules: list[RuleRow] = []
    operations: dict[str, str] = {}
    for layer, built in zip(e.layers, graph.layers, strict=True):
        formula = form(graph.dag, layer.ops, graph.names, "pretty")
        value = _number(layer.value, layer.value_beyond)
        operations[layer.name] = _mathml(built.expression)
        nodes.append({"name": layer.name, "kind": "layer", "formula": formula, "value": value})
        forward.append({"node": layer.name, "formula": formula, "value": value, "text": text(value)})
        d = "∂" if len(layer.inputs) > 1 else "d"
        for k, local in enumerate(layer.locals):
            edges.append(
                {
                    "from": local.wrt,
                    "to": layer.name,
                    "local": f"∂{layer.name}/∂{local.wrt} = {pretty(local.expression)}",
                    "value": _number(local.value, local.value_beyond),
                    "slot": k,
                }
            )
            rules.append(
                RuleRow(
                    layer.name if k == 0 else "",
                    f"{d}{escape(layer.name)}/{d}{escape(local.wrt)} = {_mathml(local.expression)}",
                    local.rule,
                    num(local.value, 6) if e.point is not None else None,
                )
            )
    backward: list[dict[str, Any]] = []
    if at is not None:
        for step in at.steps:
            backward.append(
                {
                    "node": graph.names[step.node],
                    "input": graph.names[step.input],
                    "upstream": _number(step.upstream),
                    "local": _number(step.local),
                    "contribution": _number(step.contribution),
                    "adjoint": _number(step.accumulated),
                }
            )
    data = {"output": e.output, "nodes": nodes, "edges": edges, "forward": forward, "backward": backward}
    columns = (("upstream", "upstream"), ("local", "local"), ("contribution", "contribution"), ("adjoint", "adjoint"))
    return Lesson(data, operations, tuple(rules), columns, shaped=False)


def _tensor_texts(g: TensorGradient) -> tuple[dict[int, str], dict[int, str]]:
    """Each operation's formula and each backward step's rule, as text: the one place the lesson
    reads the tensor formulas (keyed by node, and by the step's place in the pass)."""
    from chainrule.render.tensor_views import _operation, _text
    from chainrule.tensor import step_form

    t = g.tensors
    formulas = {i: text for i in g.formulas if (text := _operation(g, i)) is not None}
    return formulas, {k: _text(step_form(t, step)) for k, step in enumerate(g.run.steps) if step.operand in t.names}


def tensor(g: TensorGradient) -> Lesson:
    """A tensor program's lesson: every named value a node with its shape, every backward step a
    vector–Jacobian product (∂L/∂W += ∂L/∂z·xᵀ) with the tensor it sends."""
    import numpy as np

    from chainrule.render.tensor_views import _rule, array_text, shape_text

    t = g.tensors
    out = t.output
    formulas, rules_text = _tensor_texts(g)
    nodes: list[dict[str, Any]] = []
    forward: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    seen: set[str] = set()
    sent = {(step.operand, step.node): k for k, step in enumerate(g.run.steps) if k in rules_text}
    for i in t.order:
        if i not in t.names or t.names[i] in seen:
            continue
        name = t.names[i]
        seen.add(name)
        node = t.node(i)
        shape = shape_text(t.shapes[i])
        value = array_text(g.run.values[i])
        if node.kind == "var":
            drawn = f"drawn with seed {g.seed}" if name in g.drawn else "given"
            nodes.append({"name": name, "kind": "variable", "formula": name, "value": value, "shape": shape})
            nodes[-1]["origin"] = drawn
            continue
        formula = formulas.get(i, "")
        nodes.append({"name": name, "kind": "layer", "formula": formula, "value": value, "shape": shape})
        forward.append({"node": name, "formula": formula, "value": value, "text": value, "shape": shape})
        for k, a in enumerate(dict.fromkeys(node.args)):
            if a in t.names:
                place = sent.get((a, i))
                local = f"∂{out}/∂{t.names[a]} += {rules_text[place]}" if place is not None else shape_text(t.shapes[a])
                edges.append({"from": t.names[a], "to": name, "local": local, "value": None, "slot": k})
    backward: list[dict[str, Any]] = []
    rules: list[RuleRow] = []
    running: dict[str, Any] = {}
    current = None
    for k, step in enumerate(g.run.steps):
        if k not in rules_text:
            continue
        operand = t.names[step.operand]
        sent_shape = t.shapes[step.operand]
        sum_ = running.get(operand)
        part = np.broadcast_to(step.contribution, sent_shape)
        running[operand] = part if sum_ is None else sum_ + part
        rule = f"∂{out}/∂{operand} += {rules_text[k]}"
        backward.append(
            {
                "node": t.names[step.node],
                "input": operand,
                "rule": rule,
                "shape": shape_text(sent_shape),
                "contribution": array_text(step.contribution),
                "adjoint": array_text(running[operand]),
            }
        )
        name, identity = _rule(g, step.node)
        first = step.node != current
        current = step.node
        rules.append(
            RuleRow(
                t.names[step.node] if first else "",
                escape(rule),
                f"{name}: {identity}" if first else "",
                None,
            )
        )
    operations = {n["name"]: escape(n["origin"]) for n in nodes if n["kind"] == "variable"}
    data = {"output": out, "nodes": nodes, "edges": edges, "forward": forward, "backward": backward}
    columns = (("shape", "shape"), ("contribution", "contribution"), ("adjoint", "adjoint"))
    return Lesson(data, operations, tuple(rules), columns, shaped=True)


def of(result: Gradient | Derivation | TensorGradient) -> Lesson:
    """The lesson of a result of either engine."""
    return tensor(result) if isinstance(result, TensorGradient) else scalar(result)


def nested(a: Any) -> str:
    """A tensor as strict JSON, for an attribute the page's readers (and tests) can parse."""
    return json.dumps(a.tolist(), allow_nan=False) if all(map(math.isfinite, a.flat)) else "null"
