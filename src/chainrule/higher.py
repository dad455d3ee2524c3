"""Higher-order derivatives, layer by layer.

The first derivative is a product of local derivatives along each path: an
expression in the layers' symbols.  The next derivative differentiates that
product again by the chain rule: for every layer symbol s in it,
∂(product)/∂s · ds/dx, where ds/dx is itself the product of the local
derivatives below s.  On a chain this is the product rule over the layer
factors.  The accurate check is mpmath.diff of the function alone, of the
same order, at raised precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mpmath

from chainrule import engine
from chainrule.derive import Derivation
from chainrule.errors import UsageError
from chainrule.numcheck import DIGITS, evaluate_mp

MAX_ORDER = 10
MAX_LAYERS = 60


@dataclass(frozen=True)
class Term:
    """One use of the chain rule: ∂(previous)/∂s · ds/dx."""

    symbol: str
    partial: Any  # ∂(previous)/∂s
    tangent: Any  # ds/dx


@dataclass(frozen=True)
class Order:
    order: int
    layered: Any  # in the layers' symbols
    expanded: Any | None  # in the variables, when small
    terms: tuple[Term, ...]  # how it came from the order below (empty for order 1)
    value: float | None
    reference: float | None  # mpmath.diff of the same order
    agrees: bool | None


def higher_orders(d: Derivation, order: int) -> tuple[Order, ...]:
    """The derivatives of orders 1 to `order`, each from the one below."""
    import sympy

    if not 1 <= order <= MAX_ORDER:
        raise UsageError(f"--order must be between 1 and {MAX_ORDER}")
    graph = d.graph
    if len(graph.layers) > MAX_LAYERS:
        raise UsageError(f"--order above 1 needs at most {MAX_LAYERS} layers; this expression has {len(graph.layers)}")
    x = graph.symbol(d.variable)
    zero = sympy.Integer(0)
    tangent: dict[Any, Any] = {x: sympy.Integer(1)}  # ds/dx in the layers' symbols
    for layer in graph.layers:
        total = zero
        for source, local in zip(layer.sources, layer.locals, strict=True):
            total += local.expression * tangent.get(graph.symbol(graph.names[source]), zero)
        tangent[graph.symbol(layer.name)] = total
    forms, complete = engine.expand_in_variables(graph)
    values = _values(d)
    current = tangent.get(graph.symbol(d.output), sympy.Integer(1 if d.output == d.variable else 0))
    orders = []
    terms: tuple[Term, ...] = ()
    for n in range(1, order + 1):
        if n > 1:
            terms = tuple(
                Term(str(s), sympy.diff(current, s), tangent[s])
                for s in sorted(current.free_symbols, key=str)
                if s in tangent and tangent[s] != 0
            )
            current = sympy.Add(*(t.partial * t.tangent for t in terms))
        expanded = engine.tidy(engine.in_variables(graph, current, forms)) if complete else None
        value = reference = agrees = None
        if values is not None and d.point is not None:
            value = _evaluate(current, values)
            reference = _reference(d, n)
            if value is not None and reference is not None:
                agrees = abs(value - reference) <= 1e-10 + 1e-8 * abs(reference)
        orders.append(Order(n, current, expanded, terms, value, reference, agrees))
    return tuple(orders)


def _values(d: Derivation) -> dict[str, float] | None:
    if d.point is None:
        return None
    values = dict(d.point)
    for layer in d.layers:
        if layer.value is not None:
            values[layer.name] = layer.value
    return values


def _evaluate(expr: Any, values: dict[str, float]) -> float | None:
    import sympy

    with mpmath.workdps(DIGITS):
        number = expr.xreplace({s: sympy.Float(values[s.name], DIGITS) for s in expr.free_symbols})
        try:
            return float(sympy.N(number, DIGITS))
        except TypeError:
            return None


def _reference(d: Derivation, n: int) -> float | None:
    assert d.point is not None
    point = d.point
    try:
        with mpmath.workdps(DIGITS):
            fixed = {k: mpmath.mpf(v) for k, v in point.items()}
            result = mpmath.diff(lambda t: evaluate_mp(d.graph, {**fixed, d.variable: t}), fixed[d.variable], n)
            return float(result)
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return None
