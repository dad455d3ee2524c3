"""The ``grad`` pipeline: text -> program -> graph -> forward pass -> backward pass.

The same graph engine as ``diff``, run backwards once for every variable at
the same time: each node's adjoint d(output)/d(node) is the sum, over the
nodes it feeds, of their adjoint times the local gradient (``+=``), exactly
as ``Value.backward()`` in micrograd.  One sweep gives every partial
derivative, so the cost grows with the number of nodes, not nodes × variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chainrule import engine
from chainrule.derive import LayerStep, layer_steps, parse_point
from chainrule.errors import UsageError
from chainrule.graph import GRANULARITIES, Graph, build_graph
from chainrule.numcheck import Check, check
from chainrule.syntax import parse_program
from chainrule.wide import Wide

MAX_CHECKED = 50  # variables checked numerically; a larger gradient checks an even sample
EXPAND_LAYERS = 60  # beyond this many layers, or
EXPAND_VARIABLES = 20  # this many variables, or
EXPAND_SIZE = 500  # an output this large, the gradient is shown in terms of the nodes only


@dataclass(frozen=True)
class Gradient:
    input: str
    graph: Graph
    output: str
    point: dict[str, float] | None
    value: float | None
    layers: tuple[LayerStep, ...]  # the nodes, in topological order (the forward pass)
    adjoints: dict[str, float] | None  # d(output)/d(node) for every node and variable
    backward: tuple[engine.Contribution, ...]  # the steps of the backward pass
    wrt: tuple[str, ...]
    symbolic: dict[str, Any]  # d(output)/d(v) in terms of the nodes' names
    expanded: dict[str, Any]  # the same in terms of the variables, when small
    checks: dict[str, Check]
    unchecked: int  # variables left out of the numerical check
    beyond: dict[str, Wide]  # gradient values beyond the range of doubles (in `adjoints` 0.0 or ±inf)

    @property
    def gradient(self) -> dict[str, float] | None:
        if self.adjoints is None:
            return None
        return {v: self.adjoints.get(v, 0.0) for v in self.wrt}


def parse_wrt(text: str | None, variables: tuple[str, ...]) -> tuple[str, ...]:
    if text is None:
        return variables
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    for name in chosen:
        if name not in variables:
            raise UsageError(
                f"--wrt {name}: {name!r} does not occur in the expression (its variables: {', '.join(variables)})"
            )
    return chosen


def gradient(
    text: str,
    at: str | Mapping[str, float] | None = None,
    wrt: str | None = None,
    granularity: str = "functions",
) -> Gradient:
    """The gradient of a program's output with respect to its variables."""
    if granularity not in GRANULARITIES:
        raise UsageError(f"--granularity must be one of {', '.join(GRANULARITIES)}")
    program = parse_program(text)
    graph = build_graph(program.expr, granularity, program.bindings)
    variables = graph.variables
    chosen = parse_wrt(wrt, variables)
    point = parse_point(at, variables, variables[0] if variables else "x")
    at_point = engine.run(graph, point) if point is not None else None
    adjoints = None
    beyond: dict[str, Wide] = {}
    if at_point is not None:
        adjoints = at_point.named_adjoints(graph)
        beyond = {v: w for v in chosen if (w := at_point.beyond.get(graph.index_of(v))) is not None}
    symbolic_by_index = engine.symbolic_adjoints(graph)
    symbolic = {v: symbolic_by_index.get(graph.index_of(v), 0) for v in chosen}
    expanded: dict[str, Any] = {}
    if len(graph.layers) <= EXPAND_LAYERS and len(chosen) <= EXPAND_VARIABLES:
        forms, complete = engine.expand_in_variables(graph, size_limit=EXPAND_SIZE)
        if complete:
            expanded = {v: engine.tidy(engine.in_variables(graph, expr, forms)) for v, expr in symbolic.items()}
    checks: dict[str, Check] = {}
    sample = chosen
    if len(chosen) > MAX_CHECKED:
        stride = len(chosen) / MAX_CHECKED
        sample = tuple(chosen[int(k * stride)] for k in range(MAX_CHECKED))
    if point is not None and at_point is not None and adjoints is not None:
        f0 = at_point.values[graph.output]
        for v in sample:
            checks[v] = check(graph, point, v, f0, adjoints.get(v, 0.0), beyond.get(v), at_point.values)
    output = graph.names.get(graph.output, program.output or "y")
    return Gradient(
        input=text,
        graph=graph,
        output=output,
        point=point,
        value=at_point.values[graph.output] if at_point else None,
        layers=layer_steps(graph, at_point.values if at_point else None, at_point.factors if at_point else None),
        adjoints=adjoints,
        backward=at_point.steps if at_point else (),
        wrt=chosen,
        symbolic=symbolic,
        expanded=expanded,
        checks=checks,
        unchecked=len(chosen) - len(sample) if point is not None else 0,
        beyond=beyond,
    )
