"""The strict JSON view: one document, no NaN or Infinity, numbers as numbers."""

from __future__ import annotations

from typing import Any

from chainrule.derive import Derivation
from chainrule.graph import Graph
from chainrule.numcheck import Check
from chainrule.printing import form, plain
from chainrule.render.common import derivative_text, function_text, limit_sentence, product
from chainrule.render.documents import SCHEMA, dumps, number
from chainrule.render.higher_view import fields
from chainrule.steps import LayerStep
from chainrule.wide import Wide
from chainrule.wide import text as wide


def layer_entry(graph: Graph, layer: LayerStep, at: bool) -> dict[str, Any]:
    """One layer (a node of the graph) with its local derivatives: shared by diff and grad."""
    entry: dict[str, Any] = {
        "name": layer.name,
        "expression": form(graph.dag, layer.ops, graph.names, "plain"),
        "inputs": list(layer.inputs),
        "rule": layer.kind,
    }
    if at:
        entry["value"] = number(layer.value)
        if layer.value_beyond is not None:
            entry["value_beyond_double"] = wide_entry(layer.value_beyond)
    entry["local"] = [
        {
            "wrt": local.wrt,
            "expression": plain(local.expression),
            **({"value": number(local.value)} if at else {}),
            **({"value_beyond_double": wide_entry(local.value_beyond)} if local.value_beyond is not None else {}),
            "rule": local.rule,
            "identity": local.identity,
            "rules": [name for name, _ in local.rules],
        }
        for local in layer.locals
    ]
    return entry


def diff_document(d: Derivation) -> dict[str, Any]:
    """The derivation as plain data, the same for --json and the Python API."""
    at = d.point is not None
    layers = [layer_entry(d.graph, layer, at) for layer in d.layers]
    derivative: dict[str, Any] = {
        "expression": derivative_text(d, "plain"),
        "product": product(d, "plain"),
        "paths": d.path_count,
    }
    if d.derivative is None:
        derivative["note"] = f"the expanded form is omitted: {len(d.layers):,} layers make it too large"
    if at:
        derivative["value"] = number(d.derivative_value)
        if d.derivative_beyond is not None:  # value is then 0 (or null for ±inf)
            derivative["beyond_double"] = wide_entry(d.derivative_beyond)
        if d.limit is not None:  # the chain rule does not apply at the point: the limit definition
            derivative["by_limit"] = {
                "layer": d.limit.layer,
                "reason": d.limit.reason,
                "left": d.limit.left.value,
                "right": d.limit.right.value,
                "note": limit_sentence(d),
            }
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "input": d.input,
        "function": function_text(d, "plain"),
        "variable": d.variable,
        "output": d.output,
        "point": dict(d.point) if d.point is not None else None,
    }
    if at:
        doc["value"] = number(d.value)
        if d.evaluation.value_beyond is not None:  # f beyond the range of doubles (value is then 0 or null)
            doc["value_beyond_double"] = wide_entry(d.evaluation.value_beyond)
    doc["layers"] = layers
    if d.orders:  # with --order N the N-th derivative is the headline; orders 1..N stay in "orders"
        top = d.orders[-1]
        derivative = {
            "order": top.order,
            "expression": plain(top.expanded) if top.expanded is not None else None,
            "product": plain(top.layered) if top.layered is not None else None,
            "paths": d.path_count,
        }
        if at:
            derivative["value"] = number(top.value)
            derivative["check"] = {"value": number(top.reference), "agrees": top.agrees}
    doc["derivative"] = derivative
    if d.check is not None:
        doc["check"] = check_document(d.check)
    view = d.sensitivity
    if view is not None:
        doc["sensitivity"] = [
            {
                "layer": s.layer,
                "factor": number(s.factor),
                "running_product": number(s.running_product),
                "running_log10": number(s.running_log10),
            }
            for s in view.steps
        ]
        doc["sensitivity_trend"] = view.trend
    if d.orders:
        doc["order"] = len(d.orders)
        doc["orders"] = fields(d.orders)
    if d.notes:
        doc["notes"] = list(d.notes)
    return doc


def wide_entry(value: Wide) -> dict[str, Any]:
    """A number beyond the range of doubles, for JSON."""
    return {"mantissa": value.mantissa, "exponent": value.exponent, "text": wide(value, 16)}


def check_document(c: Check) -> dict[str, Any]:
    return {
        "nudge": {
            "h": c.nudge.h,
            "f0": number(c.nudge.f0),
            "f1": number(c.nudge.f1),
            "value": number(c.nudge.value),
            "close": c.nudge.close,
            **({"gap": c.nudge.gap} if c.nudge.gap else {}),
        },
        "method": c.method,
        "value": number(c.value),
        "abs_error": number(c.abs_error),
        "rel_error": number(c.rel_error),
        "agrees": c.agrees,
        **({"note": c.note} if c.note else {}),
        **({"beyond_double": wide_entry(c.reference_beyond)} if c.reference_beyond is not None else {}),
    }


def render(d: Derivation) -> str:
    return dumps(diff_document(d))
