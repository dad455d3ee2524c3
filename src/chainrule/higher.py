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

import math
from dataclasses import dataclass
from typing import Any

import mpmath

from chainrule import engine
from chainrule.errors import Concern, MathError, Phrase, UsageError
from chainrule.numcheck import DIGITS, evaluate_mp
from chainrule.steps import Evaluation

MAX_ORDER = 10
MAX_LAYERS = 60
AGREE = 1e-10  # relative: the value of each order against mpmath.diff
SYMBOLIC_LIMIT = 600  # operations: a larger formula is neither differentiated again nor shown


@dataclass(frozen=True)
class Term:
    """One use of the chain rule: ∂(previous)/∂s · ds/dx."""

    symbol: str
    partial: Any  # ∂(previous)/∂s
    tangent: Any  # ds/dx


@dataclass(frozen=True)
class Order:
    order: int
    layered: Any | None  # in the layers' symbols; None when too large to show
    expanded: Any | None  # in the variables, when small
    terms: tuple[Term, ...]  # how it came from the order below (empty for order 1, or when too large)
    value: float | None  # at the point, when there is one: Taylor-mode arithmetic through the tape
    reference: float | None  # mpmath.diff of the same order
    agrees: bool | None
    size: int | None = None  # the operations of the first formula too large to show (then layered is None)


def check_order(order: int, layers: int | None = None) -> None:
    """Refuse an order before any work is done."""
    if not 1 <= order <= MAX_ORDER:
        raise UsageError(Phrase("{order} must be between 1 and {0}", MAX_ORDER), concerns=Concern.order)
    if order > 1 and layers is not None and layers > MAX_LAYERS:
        raise UsageError(
            Phrase("{order} above 1 needs at most {0} layers; this expression has {1:,}", MAX_LAYERS, layers),
            concerns=Concern.order,
        )


def higher_orders(ev: Evaluation, variable: str, order: int) -> tuple[Order, ...]:
    """The derivatives of orders 1 to `order`, each from the one below."""
    import sympy

    check_order(order, len(ev.graph.layers))
    graph = ev.graph
    if any(node.kind == "apply" for node in graph.dag):
        raise UsageError(
            Phrase("{order} above 1 is not available for the abstract functions f, g, h yet"), concerns=Concern.order
        )
    x = graph.symbol(variable)
    zero = sympy.Integer(0)
    tangent: dict[Any, Any] = {x: sympy.Integer(1)}  # ds/dx in the layers' symbols
    for layer in graph.layers:
        total = zero
        for source, local in zip(layer.sources, layer.locals, strict=True):
            total += local.expression * tangent.get(graph.symbol(graph.names[source]), zero)
        tangent[graph.symbol(layer.name)] = total
    forms, complete = engine.expand_in_variables(graph)
    current: Any = tangent.get(graph.symbol(ev.output), sympy.Integer(1 if ev.output == variable else 0))
    values = _taylor(ev, variable, order) if ev.point is not None else None
    orders = []
    terms: tuple[Term, ...] = ()
    size: int | None = None
    for n in range(1, order + 1):
        if n > 1 and current is not None:
            terms = tuple(
                Term(str(s), sympy.diff(current, s), tangent[s])
                for s in sorted(current.free_symbols, key=str)
                if s in tangent and tangent[s] != 0
            )
            current = sympy.Add(*(t.partial * t.tangent for t in terms))
            if (size := int(sympy.count_ops(current))) > SYMBOLIC_LIMIT:
                current, terms = None, ()  # from here on, only the numbers: Taylor-mode arithmetic
        expanded = engine.tidy(engine.in_variables(graph, current, forms)) if complete and current is not None else None
        value = reference = agrees = None
        if values is not None:
            value = values[n]
            reference = _reference(ev, variable, n)
            if value is not None and reference is not None:
                agrees = abs(value - reference) <= AGREE * (1 + abs(reference))  # 10 significant digits
        orders.append(Order(n, current, expanded, terms, value, reference, agrees, size))
        size = None  # the size is that of the first formula too large to show
    return tuple(orders)


def _taylor(ev: Evaluation, variable: str, order: int) -> list[float | None]:
    """The function's derivatives of orders 0 to `order` at the point, by Taylor-mode
    arithmetic through the tape (every value a truncated series, the rule table's own
    formulas); None where they do not exist or leave the range of doubles."""
    from chainrule import series
    from chainrule.interpret import SeriesBackend, evaluate

    assert ev.point is not None
    graph = ev.graph
    try:
        with mpmath.workdps(DIGITS):
            values = evaluate(graph.dag, SeriesBackend(ev.point, variable, order + 1, graph.source))
            found = series.derivatives(values[graph.output], order + 1)
    except MathError:
        return [None] * (order + 1)
    return [float(v) if mpmath.isfinite(v) and math.isfinite(float(v)) else None for v in found]


def _reference(ev: Evaluation, variable: str, n: int) -> float | None:
    """mpmath.diff of order n of the function alone, at raised precision; None where
    the function is not defined on both sides of the point."""
    assert ev.point is not None
    point = ev.point
    x0 = abs(point[variable])
    digits = DIGITS * n + (2 * int(abs(math.log10(x0))) if x0 > 0 else 0)  # the digits a step at x0 needs
    try:
        with mpmath.workdps(digits):
            fixed = {k: mpmath.mpf(v) for k, v in point.items()}
            step = {"h": fixed[variable] * mpmath.mpf(2) ** -40} if 0 < x0 < 1e-8 else {}  # not across 0
            result = mpmath.diff(lambda t: evaluate_mp(ev.graph, {**fixed, variable: t}), fixed[variable], n, **step)
            value = float(result)
    except MathError:
        return None
    return value if math.isfinite(value) else None
