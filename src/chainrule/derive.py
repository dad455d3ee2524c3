"""The ``diff`` pipeline: text -> tape -> graph -> derivation (-> check).

A :class:`Derivation` is the record every renderer reads: the layers with
their local derivatives and rules, the paths whose products make the
derivative, the values at the point and the check.  It holds SymPy objects
and numbers, never formatted text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chainrule import engine
from chainrule.errors import ChainruleError, InputError, UsageError
from chainrule.graph import GRANULARITIES, Graph, build_graph
from chainrule.numcheck import Check, check
from chainrule.syntax import Expr, parse
from chainrule.wide import Wide

EXPAND_LIMIT = 60  # layers; beyond this the derivative is shown in layer form only


@dataclass(frozen=True)
class LocalStep:
    wrt: str
    expression: Any  # sympy.Expr in the layer's inputs
    rule: str
    identity: str
    rules: tuple[tuple[str, str], ...]
    value: float | None


@dataclass(frozen=True)
class LayerStep:
    name: str
    ops: tuple[int, ...]  # the layer's operations in Derivation.graph.dag
    inputs: tuple[str, ...]
    kind: str
    value: float | None
    locals: tuple[LocalStep, ...]


@dataclass(frozen=True)
class Derivation:
    input: str
    graph: Graph
    variable: str
    point: dict[str, float] | None
    value: float | None  # f at the point
    layers: tuple[LayerStep, ...]
    path_count: int
    paths: tuple[engine.Path, ...] | None  # None when there are too many to list
    derivative: Any | None  # sympy.Expr in the variables; None when too large
    derivative_value: float | None  # 0.0 or ±inf when the value is beyond the range of doubles:
    check: Check | None
    output: str
    derivative_beyond: Wide | None = None  # then it is here
    adjoints: dict[str, float] | None = None  # d(output)/d(node) for every layer and variable, at the point


def parse_point(
    text: str | Mapping[str, float] | None, variables: tuple[str, ...], wrt: str
) -> dict[str, float] | None:
    """--at: '3' (the value of the variable) or 'x=0.7,y=1.3'.  Values may be constant
    expressions such as pi/4.  From Python, a mapping of names to numbers."""
    if text is None:
        return None
    if isinstance(text, Mapping):
        text = ",".join(f"{name}={float(value)!r}" for name, value in text.items())
    point: dict[str, float] = {}
    items = [part for part in text.split(",")]
    if len(items) == 1 and "=" not in items[0]:
        items = [f"{wrt}={items[0]}"]
    offset = 0
    for item in items:
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or not name:
            raise UsageError(
                "--at takes a number, or name=value pairs separated by commas",
                source=text,
                position=offset,
                end=offset + len(item),
            )
        if name not in variables and name != wrt:
            known = ", ".join(variables) or "none"
            raise UsageError(
                f"--at gives a value for {name!r}, which is not a variable of the expression (they are: {known})",
                source=text,
                position=offset,
                end=offset + len(item),
            )
        point[name] = _constant(value, text, offset + len(item) - len(value))
        offset += len(item) + 1
    missing = [v for v in variables if v not in point]
    if missing:
        raise UsageError(
            f"--at leaves {', '.join(missing)} without a value",
            hint="give every variable a value: --at " + ",".join(f"{v}=..." for v in variables),
        )
    return point


def _constant(text: str, whole: str, offset: int) -> float:
    """A point coordinate: a number or a constant expression, parsed by our own parser."""
    try:
        expr = parse(text.strip())
        if expr.variables():
            raise InputError("a value in --at must be a number or a constant expression such as pi/4")
        graph = build_graph(expr)
        value = engine.evaluate(graph, {})[graph.output]
    except ChainruleError as err:
        shift = offset + (len(text) - len(text.lstrip()))
        raise UsageError(
            f"in --at: {err.message}",
            source=whole,
            position=shift + (err.position or 0),
            end=shift + (err.end or len(text)),
        ) from None
    if not math.isfinite(value):  # pragma: no cover - evaluate raises first
        raise UsageError("a value in --at must be finite", source=whole, position=offset)
    return value


def choose_variable(expr: Expr, wrt: str | None) -> str:
    variables = expr.variables()
    if wrt is not None:
        if wrt not in variables:
            known = ", ".join(variables) or "none"
            raise UsageError(f"--wrt {wrt}: {wrt!r} does not occur in the expression (its variables: {known})")
        return wrt
    if len(variables) == 1:
        return variables[0]
    if "x" in variables:
        return "x"
    if not variables:
        return "x"
    raise UsageError(
        f"the expression has several variables ({', '.join(variables)}): say which with --wrt",
        hint=f"for example: --wrt {variables[0]}",
    )


def differentiate(
    text: str,
    wrt: str | None = None,
    at: str | Mapping[str, float] | None = None,
    granularity: str = "functions",
) -> Derivation:
    """Differentiate `text` with respect to `wrt`, step by step, optionally at a point."""
    if granularity not in GRANULARITIES:
        raise UsageError(f"--granularity must be one of {', '.join(GRANULARITIES)}")
    expr = parse(text)
    variable = choose_variable(expr, wrt)
    point = parse_point(at, expr.variables(), variable)
    graph = build_graph(expr, granularity)
    return derive(graph, variable, point)


def layer_steps(
    graph: Graph, values: list[float] | None, factors: list[tuple[float, ...]] | None
) -> tuple[LayerStep, ...]:
    """Each layer with its local derivatives, and their values when there is a point."""
    return tuple(
        LayerStep(
            name=layer.name,
            ops=layer.ops,
            inputs=tuple(graph.names[s] for s in layer.sources),
            kind=layer.kind,
            value=values[layer.root] if values else None,
            locals=tuple(
                LocalStep(
                    wrt=local.wrt,
                    expression=local.expression,
                    rule=local.rule,
                    identity=local.identity,
                    rules=local.rules,
                    value=factors[li][k] if factors else None,
                )
                for k, local in enumerate(layer.locals)
            ),
        )
        for li, layer in enumerate(graph.layers)
    )


def derive(graph: Graph, variable: str, point: dict[str, float] | None) -> Derivation:
    """The steps of d(output)/d(variable) on a built graph."""
    wrt = graph.variable_index(variable)
    at = engine.run(graph, point) if point is not None else None
    layers = layer_steps(graph, at.values if at else None, at.factors if at else None)
    count = engine.count_paths(graph, wrt)
    paths = engine.paths(graph, wrt) if count <= engine.MAX_PATHS else None
    derivative = None
    if len(graph.layers) <= EXPAND_LIMIT:
        forms, complete = engine.expand_in_variables(graph)
        if complete and paths is not None:
            derivative = engine.path_sum_in_variables(graph, paths, forms)
        elif complete:
            derivative = engine.derivative_in_variables(graph, wrt, forms)
        if derivative is not None:
            derivative = engine.tidy(derivative)
    f0 = d0 = beyond = None
    result_check = None
    if at is not None and point is not None:
        f0 = at.values[graph.output]
        d0 = at.adjoints.get(wrt, 0.0)
        beyond = at.beyond.get(wrt)
        result_check = check(graph, point, variable, f0, d0, beyond, at.values)
    output = graph.names.get(graph.output, graph.source.strip())
    return Derivation(
        input=graph.source,
        graph=graph,
        variable=variable,
        point=point,
        value=f0,
        layers=layers,
        path_count=count,
        paths=paths,
        derivative=derivative,
        derivative_value=d0,
        check=result_check,
        output=output,
        derivative_beyond=beyond,
        adjoints=at.named_adjoints(graph) if at else None,
    )
