"""The ``diff`` pipeline: text -> tape -> graph -> derivation (-> check).

A :class:`Derivation` is the record every renderer reads: the evaluation
(layers with their local derivatives, values, factors and adjoints), the
paths whose products make the derivative, the check, and the analyses
computed once here: higher orders, the sensitivity chart and the pitfall.
It holds SymPy objects and numbers, never formatted text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chainrule import engine, exact, points
from chainrule.errors import Concern, MathError, Phrase, Reason, UsageError, quoted
from chainrule.graph import GRANULARITIES, Graph, build_graph
from chainrule.higher import Order, check_order, higher_orders
from chainrule.numcheck import LIMIT_RTOL, Check, Side, check_at, one_sided
from chainrule.point import Point, exact_point, number
from chainrule.points import PointInput
from chainrule.printing import form
from chainrule.sensitivity import Sensitivity, sensitivity
from chainrule.steps import Evaluated, Evaluation, LayerStep
from chainrule.syntax import Expr, parse
from chainrule.wide import Wide

EXPAND_LIMIT = 60  # layers; beyond this the derivative is shown in layer form only


@dataclass(frozen=True)
class Pitfall:
    """The seeds' pitfall on this expression: f′ must be evaluated at g(x), not at x.

    Shown on the outermost function whose input is an inner layer.
    """

    layer: LayerStep
    inner: str  # the inner layer's name
    inner_text: str  # what it stands for, in the variables
    wrong: float | None  # the local derivative taken at x instead, when there is a point


@dataclass(frozen=True)
class Limit:
    """The derivative by the limit definition, where a layer's local derivative does not exist.

    The chain rule needs every local factor; x·|x| at 0 has a layer, |x|, with a
    corner, yet the function is differentiable there.  The one-sided derivatives
    of the function alone decide.
    """

    layer: str  # the layer whose local derivative does not exist at the point
    reason: str  # why it does not: "|u| has a corner at 0: its slope jumps from −1 to 1"
    left: Side
    right: Side
    value: float  # the derivative: both sides agree
    function: float  # f at the point


@dataclass(frozen=True)
class Derivation(Evaluated):
    """d(output)/d(variable), step by step: every view of diff reads this record."""

    evaluation: Evaluation
    variable: str
    path_count: int
    paths: tuple[engine.Path, ...] | None  # None when there are too many to list
    derivative: Any | None  # sympy.Expr in the variables; None when too large
    check: Check | None
    orders: tuple[Order, ...]  # orders 2..N when --order N asks for them, else ()
    sensitivity: Sensitivity | None  # how each layer scales a wiggle, on a chain at a point
    pitfall: Pitfall | None
    limit: Limit | None = None  # the derivative by the limit definition, where the chain rule does not apply
    notes: tuple[str, ...] = ()  # how doubtful forms of the input were read (notation.py)

    @property
    def value(self) -> float | None:
        """f at the point."""
        return self.limit.function if self.limit is not None else self.evaluation.value

    @property
    def derivative_value(self) -> float | None:
        """The derivative at the point: 0.0 or ±inf when it is beyond the range of doubles."""
        if self.limit is not None:
            return self.limit.value
        return self.evaluation.adjoint(self.variable)

    @property
    def derivative_beyond(self) -> Wide | None:
        """The derivative when it is beyond the range of doubles."""
        return self.evaluation.beyond(self.variable)


def parse_point(
    at: PointInput,
    variables: tuple[str, ...],
    wrt: str,
    defaults: Mapping[str, float] | None = None,
) -> Point | None:
    """The point as the scalar engine reads it, from what the reader gave
    (:mod:`chainrule.points`): '3' (the value of the variable `wrt`) or 'x=0.7,y=1.3', whose
    values may be constant expressions such as pi/4; or a mapping of names to numbers (or to
    constant expressions, as text), from Python and batch's JSON.

    `defaults` are values a program gives its leaves (a = -4.0): the point may override
    them, and is optional when they cover every variable.

    Every value is also kept exactly (:class:`chainrule.point.Point`): pi/2 is π/2, 0.1 is 1/10."""
    read = points.given(at)
    if defaults:
        given = Point(
            {v: defaults[v] for v in variables if v in defaults},
            {v: number(defaults[v]) for v in variables if v in defaults},
        )
        if read is None:
            return given if len(given) == len(variables) else None
        items = _point_items(read, variables, wrt)
        return _complete(Point({**given, **items}, {**given.exact, **items.exact}), variables)
    if read is None:
        return None
    return _complete(_point_items(read, variables, wrt), variables)


def _point_items(given: points.Given, variables: tuple[str, ...], wrt: str) -> Point:
    """The values the point gives (not yet checked to cover every variable): numbers only."""
    point = Point()
    present = frozenset(variables)
    for value in given.values:
        name = wrt if value.name is None else value.name
        if name not in present and name != wrt:
            known = quoted(", ".join(variables), 200, bare=True) or "none"
            raise given.error(
                Phrase(
                    "{point} gives a value for {0}, which is not a variable of the expression (they are: {1})",
                    quoted(name),
                    known,
                ),
                value,
            )
        if value.is_array:
            raise given.error(
                Phrase("{point} gives a list: vectors and matrices are for {grad}"),
                value,
                whole=False,
                hint=Phrase("try: {grad:L = sum(x^2);x=[1, 2]}"),
            )
        point[name] = value.double
        if value.exact is not None:
            point.exact[name] = value.exact
        else:
            point.exact.pop(name, None)
    return point


def _complete(point: Point, variables: tuple[str, ...]) -> Point:
    missing = [v for v in variables if v not in point]
    if missing:
        raise UsageError(
            Phrase("{point} leaves {0} without a value", ", ".join(missing)),
            hint=Phrase("give every variable a value: {point:" + ";".join(f"{v}=..." for v in variables) + "}"),
            concerns=Concern.point,
        )
    return point


def constant_value(text: str, whole: str, offset: int) -> float:
    """A point coordinate in doubles (see :func:`chainrule.points.constant`)."""
    return points.constant(text, whole, offset)[0]


def constant(text: str, whole: str, offset: int) -> tuple[float, Any]:
    """A point coordinate, in doubles and exactly (see :func:`chainrule.points.constant`)."""
    return points.constant(text, whole, offset)


def choose_variable(expr: Expr, wrt: str | None) -> str:
    variables = expr.variables()
    if wrt is not None:
        if wrt not in variables:
            known = quoted(", ".join(variables), 200, bare=True) or "none"
            raise UsageError(
                Phrase("{variables} {0} does not occur in the expression (its variables: {1})", quoted(wrt), known),
                concerns=Concern.variables,
            )
        return wrt
    if len(variables) == 1:
        return variables[0]
    if "x" in variables:
        return "x"
    if not variables:
        return "x"
    raise UsageError(
        Phrase("the expression has several variables ({0}): say which with {variables}", ", ".join(variables)),
        hint=Phrase("for example: {variables:" + variables[0] + "}"),
        concerns=Concern.variables,
    )


def differentiate(
    text: str,
    wrt: str | None = None,
    at: PointInput = None,
    granularity: str = "functions",
    order: int = 1,
) -> Derivation:
    """Differentiate `text` with respect to `wrt`, step by step, optionally at a point (a
    :class:`chainrule.points.Given`, or what :func:`chainrule.points.given` reads)."""
    check_granularity(granularity)
    check_order(order)
    expr = parse(text)
    at = points.given(at)
    given = _given_names(at, wrt)
    if given - set(expr.variables()) and set(expr.variables()) - given:  # ab, when --at gives only a and b
        expr = parse(text, letters=frozenset(given))
    variable = choose_variable(expr, wrt)
    point = parse_point(at, expr.variables(), variable)
    graph = build_graph(expr, granularity)
    return derive(graph, variable, point, order, notes=expr.notes)


def check_granularity(granularity: str) -> None:
    if granularity not in GRANULARITIES:
        raise UsageError(
            Phrase("{granularity} must be one of {0}", ", ".join(GRANULARITIES)), concerns=Concern.granularity
        )


def _given_names(at: points.Given | None, wrt: str | None) -> set[str]:
    """The names the point and the variable give a value or a role (a bare value names none)."""
    names = {wrt} if wrt is not None else set()
    return names | set(at.names) if at is not None else names


def derive(
    graph: Graph, variable: str, point: dict[str, float] | None, order: int = 1, notes: tuple[str, ...] = ()
) -> Derivation:
    """The steps of d(output)/d(variable) on a built graph, and every analysis the views show."""
    check_order(order, len(graph.layers))
    wrt = graph.variable_index(variable)
    if point is None:
        exact.decide(graph, {})  # a constant with no value (ln(cos(π/2))) is an error with or without a point
    at, limit = (_pass(graph, point, variable)) if point is not None else (None, None)
    evaluation = Evaluation(graph, point, at)
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
    return Derivation(
        evaluation=evaluation,
        variable=variable,
        path_count=count,
        paths=paths,
        derivative=derivative,
        check=check_at(evaluation, variable),
        orders=higher_orders(evaluation if limit is None else Evaluation(graph, None, None), variable, order)
        if order > 1
        else (),
        sensitivity=sensitivity(evaluation, paths),
        pitfall=_pitfall(evaluation, variable),
        limit=limit,
        notes=notes,
    )


def _pass(graph: Graph, point: dict[str, float], variable: str) -> tuple[engine.Pass | None, Limit | None]:
    """The chain rule at the point; where a local factor does not exist, the limit definition.
    An exact point is decided exactly first (:mod:`chainrule.exact`)."""
    try:
        decided = exact.decide(graph, exact_point(point), (variable,))
        return engine.run(graph, point, (variable,), exact=decided.exactly if decided is not None else None), None
    except MathError as err:
        if err.reason is not Reason.not_differentiable:
            raise
        return None, _limit(graph, point, variable, err)


def _limit(graph: Graph, point: dict[str, float], variable: str, err: MathError) -> Limit:
    """The derivative from both one-sided derivatives of the function alone; a MathError
    naming both sides when they differ or do not exist."""
    values = engine.evaluate(graph, point)
    needed = engine.depends(graph, (variable,))
    layer, reason = graph.output_name, err.message
    precise = exact.values(graph, exact_point(point))
    backends: list[tuple[Any, Any]] = [(values, None)]
    if precise is not None:
        backends.insert(0, (precise, exact.ExactBackend(exact_point(point), graph.source)))
    found_layer = False
    for known, backend in backends:
        for candidate in graph.layers:
            try:
                engine.local_factors(graph, candidate, known, needed, backend)
            except MathError as found:
                layer, reason = candidate.name, found.message.removeprefix("not differentiable here: ")
                found_layer = True
                break
        if found_layer:
            break
    left, right = one_sided(graph, point, variable)
    where = f"{variable} = {point.shown(variable) if isinstance(point, Point) else f'{point[variable]:g}'}"
    if (
        left.value is not None
        and right.value is not None
        and abs(left.value - right.value) <= LIMIT_RTOL * max(1.0, abs(left.value), abs(right.value))
    ):
        value = right.value if right.value == left.value else (left.value + right.value) / 2
        return Limit(layer, reason, left, right, value, values[graph.output])
    sides = "; ".join(f"from the {name} {_side(side)}" for name, side in (("left", left), ("right", right)))
    raise MathError(
        f"no derivative at {where}: {sides}",
        reason=Reason.not_differentiable,
        source=err.source,
        position=err.position,
        end=err.end,
        hint=f"the layer {layer} is not differentiable there: {reason}",
    )


def _side(side: Side) -> str:
    return f"it is {side.value:.10g}" if side.value is not None else str(side.why)


def _pitfall(evaluation: Evaluation, variable: str) -> Pitfall | None:
    """The outermost function applied to an inner layer, where f′(g(x)) ≠ f′(x) matters."""
    graph = evaluation.graph
    for step in reversed(evaluation.layers):
        node = graph.dag[step.layer.root]
        inputs = step.inputs
        if node.kind != "call" or len(inputs) != 1 or inputs[0] in graph.variables:
            continue
        inner = inputs[0]
        inner_text = form(graph.dag, graph.subtree(graph.index_of(inner)), graph.names, "pretty")
        wrong = None
        if evaluation.point is not None and variable in evaluation.point:
            wrong = engine.slope_at(graph, step.layer, evaluation.point[variable])
        return Pitfall(step, inner, inner_text, wrong)
    return None
