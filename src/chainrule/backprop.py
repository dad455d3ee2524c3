"""The ``grad`` pipeline: text -> program -> graph -> forward pass -> backward pass.

The same graph engine as ``diff``, run backwards once for every variable at
the same time: each node's adjoint d(output)/d(node) is the sum, over the
nodes it feeds, of their adjoint times the local gradient (``+=``), exactly
as ``Value.backward()`` in micrograd.  One sweep gives every partial
derivative, so the cost grows with the number of nodes, not nodes × variables.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from chainrule import engine, exact, points, wide
from chainrule.derive import check_granularity, parse_point
from chainrule.errors import Concern, MathError, Phrase, Reason, UsageError, quoted
from chainrule.graph import Graph, build_graph
from chainrule.numcheck import Check, Checker
from chainrule.point import exact_point
from chainrule.points import PointInput
from chainrule.steps import Evaluated, Evaluation
from chainrule.syntax import Program, parse_program, refuse_tensors
from chainrule.wide import Wide

MAX_CHECKED = 50  # variables checked numerically; a larger gradient checks an even sample
EXPAND_LAYERS = 60  # beyond this many layers, or
EXPAND_VARIABLES = 20  # this many variables, or
EXPAND_SIZE = 500  # an output this large, the gradient is shown in terms of the nodes only
SYMBOLIC_SIZE = 400  # a partial in the nodes' names larger than this is shown one step back
SYMBOLIC_VARIABLES = 200  # with more variables than this (a network's weights), all are shown one step back


@dataclass(frozen=True)
class Gradient(Evaluated):
    """The gradient of a program's output by one backward pass: every view of grad reads this."""

    evaluation: Evaluation
    wrt: tuple[str, ...]
    symbolic: dict[str, Any]  # d(output)/d(v) in terms of the nodes' names; None when too large to show
    through: dict[str, tuple[tuple[int, int], ...]]  # d(output)/d(v) one step back: (layer, input slot), per layer fed
    expanded: dict[str, Any]  # the same in terms of the variables, when small
    checks: dict[str, Check]
    unchecked: int  # variables left out of the numerical check
    missing: dict[str, str]  # variables whose partial does not exist at the point -> why
    notes: tuple[str, ...] = ()  # how doubtful forms of the input were read (notation.py)

    @property
    def backward(self) -> tuple[engine.Contribution, ...]:
        """The steps of the backward pass."""
        return self.evaluation.at.steps if self.evaluation.at is not None else ()

    @functools.cached_property
    def gradient(self) -> dict[str, float] | None:
        if self.evaluation.at is None:
            return None
        return {v: self.evaluation.adjoint(v) or 0.0 for v in self.wrt if v not in self.missing}

    @functools.cached_property
    def beyond(self) -> dict[str, Wide]:
        """Gradient values beyond the range of doubles (in `gradient` they are 0.0 or ±inf)."""
        return {v: w for v in self.wrt if (w := self.evaluation.beyond(v)) is not None}


@dataclass(frozen=True)
class Group:
    """Variables that share a prefix (w1 for w1_3_5, b for b12), as a summary of a large gradient
    shows them: how many, the norm of their partials, and the largest few."""

    name: str
    variables: tuple[str, ...]
    norm: float  # √(Σ (∂output/∂v)²) over the group (0 or inf when it is beyond the range of doubles)
    largest: tuple[str, ...]  # the variables with the largest |∂output/∂v|, largest first
    norm_beyond: Wide | None = None  # the norm, when it is beyond the range of doubles


LARGEST = 3  # variables named per group


def prefix(name: str) -> str:
    """The group of a variable's name: the part before the first underscore (w1 for w1_3_5), or
    the name without its trailing digits and primes (w for w12, x for x3); the name itself when
    that leaves nothing."""
    head = name.split("_", 1)[0] if "_" in name.strip("_") else name
    stem = head.rstrip("0123456789′″‴'")
    return stem if stem and head == name else head or name


def groups(g: Gradient) -> tuple[Group, ...]:
    """The chosen variables by prefix, in order of first appearance."""
    by: dict[str, list[str]] = {}
    for v in g.wrt:
        by.setdefault(prefix(v), []).append(v)
    gradient = g.gradient or {}
    beyond = g.beyond

    def size(v: str) -> float:  # log10 |∂output/∂v|, beyond the range of doubles too
        if v in beyond:
            return math.log10(abs(beyond[v].mantissa)) + beyond[v].exponent
        value = abs(gradient.get(v, 0.0))
        return math.log10(value) if value > 0 else -math.inf

    found = []
    for name, members in by.items():
        value, beyond_norm = norm(g, members)
        largest = tuple(sorted(members, key=size, reverse=True)[:LARGEST]) if g.gradient is not None else ()
        found.append(Group(name, tuple(members), value, largest, beyond_norm))
    return tuple(found)


def norm(g: Gradient, names: Iterable[str]) -> tuple[float, Wide | None]:
    """√(Σ (∂output/∂v)²) over the variables, and the same as a Wide when partials beyond the range
    of doubles (exp(-1000)·p, a deep chain) make it leave that range."""
    names = list(names)
    gradient = g.gradient or {}
    beyond = g.beyond
    if not any(v in beyond for v in names):
        return math.hypot(*(gradient.get(v, 0.0) for v in names)), None
    import mpmath

    with mpmath.workprec(80):
        exact = mpmath.sqrt(
            mpmath.fsum(
                (wide.to_mpmath(beyond[v]) if v in beyond else mpmath.mpf(gradient.get(v, 0.0))) ** 2 for v in names
            )
        )
        double = float(exact)
        return double, wide.from_mpf(exact) if wide.beyond(double, exact) else None


def parse_wrt(wrt: str | Sequence[str] | None, variables: tuple[str, ...]) -> tuple[str, ...]:
    """The variables to differentiate by: names (or text naming them, a,b), all by default."""
    chosen = points.variables(wrt)
    if chosen is None:
        return variables
    present = frozenset(variables)
    for name in chosen:
        if name not in present:
            raise UsageError(
                Phrase(
                    "{variables} {0}: {1} does not occur in the expression (its variables: {2})",
                    quoted(name, bare=True),
                    quoted(name),
                    quoted(", ".join(variables), 120, bare=True),
                ),
                concerns=Concern.variables,
            )
    return chosen


def gradient(
    text: str,
    at: PointInput = None,
    wrt: str | Sequence[str] | None = None,
    granularity: str = "functions",
    checked: bool = True,
    program: Program | None = None,
) -> Gradient:
    """The gradient of a program's output with respect to its variables.  Without `checked`, the
    numerical checks are left out (``graph`` draws no check).  `program` is `text` already
    parsed.  Vectors and matrices are :mod:`chainrule.tensor`'s: here they are refused."""
    import sympy

    check_granularity(granularity)
    if program is None:
        program = parse_program(text)
    refuse_tensors(program.expr)
    graph = build_graph(program.expr, granularity, program.bindings)
    variables = graph.variables
    chosen = parse_wrt(wrt, variables)
    first = next((v for v in variables if v not in program.leaves), variables[0] if variables else "x")
    point = parse_point(at, variables, first, program.leaves)  # a bare value: the first variable without one
    missing: dict[str, str] = {}
    at_point = None
    if point is not None:
        at_point, missing = _run(graph, point, chosen)
    evaluation = Evaluation(graph, point, at_point)
    if len(chosen) <= SYMBOLIC_VARIABLES:
        symbolic_by_index = engine.symbolic_adjoints(graph, SYMBOLIC_SIZE)
        symbolic = {v: symbolic_by_index.get(graph.index_of(v), sympy.Integer(0)) for v in chosen}
    else:  # ten thousand whole products would cost more than the rest of the gradient, and say less
        symbolic = dict.fromkeys(chosen)
    consumers = engine.through(graph)
    expanded: dict[str, Any] = {}
    if len(graph.layers) <= EXPAND_LAYERS and len(chosen) <= EXPAND_VARIABLES:
        forms, complete = engine.expand_in_variables(graph, size_limit=EXPAND_SIZE)
        if complete:
            for v, expr in symbolic.items():
                if expr is not None and not engine.too_big(
                    form := engine.in_variables(graph, expr, forms), EXPAND_SIZE
                ):
                    expanded[v] = engine.tidy(form)
    checks: dict[str, Check] = {}
    sample = chosen
    if len(chosen) > MAX_CHECKED:
        stride = len(chosen) / MAX_CHECKED
        sample = tuple(chosen[int(k * stride)] for k in range(MAX_CHECKED))
    if not checked:
        sample = ()
    if point is not None and at_point is not None:
        checker = Checker(evaluation)
        checks = {v: checker(v) for v in sample if v not in missing}
    return Gradient(
        evaluation=evaluation,
        wrt=chosen,
        symbolic=symbolic,
        through={v: consumers.get(graph.index_of(v), ()) for v in chosen},
        expanded=expanded,
        checks=checks,
        unchecked=len(chosen) - len(sample) if point is not None else 0,
        missing=missing,
        notes=program.expr.notes,
    )


def _run(graph: Graph, point: dict[str, float], chosen: tuple[str, ...]) -> tuple[engine.Pass, dict[str, str]]:
    """The pass for every chosen variable; when a local factor does not exist, the partials
    that need it are reported missing and the others are still given.  A failure of the
    forward pass (the function has no value) fails the whole gradient.  An exact point is
    decided exactly first (:mod:`chainrule.exact`): a corner at exactly 0 is a corner.

    The factors that do not exist are found in one sweep over the layers, and a variable's
    partial is missing when the input of such a factor depends on it: one more pass, not one
    per variable (a network with one corner would otherwise cost 10,000 passes)."""
    precise = exact_point(point)
    try:  # what has no value exactly fails the whole gradient; a corner only the partials through it
        decided = exact.decide(graph, precise, chosen)
    except MathError as corner:
        if corner.reason is not Reason.not_differentiable:
            raise
        first: MathError = corner
    else:
        try:
            return engine.run(graph, point, chosen, exact=decided.exactly if decided else None), {}
        except MathError as failed:
            first = failed
    values = engine.evaluate(graph, point)  # raises when the function itself has no value here
    known = exact.values(graph, precise) if precise else None
    missing = {} if known is None else _missing(graph, known, chosen, exact.ExactBackend(precise, graph.source))
    for name, why in _missing(graph, values, chosen, None).items():
        missing.setdefault(name, why)
    given = tuple(v for v in chosen if v not in missing)
    if not given:
        raise first from None
    try:
        decided = exact.decide(graph, precise, given)
        return engine.run(graph, point, given, exact=decided.exactly if decided else None), missing
    except MathError:  # a failure that only the pass beyond doubles meets: one variable at a time
        return _one_by_one(graph, point, chosen, first)


def _missing(graph: Graph, values: Any, chosen: tuple[str, ...], backend: Any) -> dict[str, str]:
    """The chosen variables whose partial needs a local factor that does not exist at these values
    (in doubles, or exactly with the exact backend), and why."""
    needed = engine.depends(graph, chosen)
    missing: dict[str, str] = {}
    wanted = set(chosen)
    for layer in graph.layers:
        try:
            engine.local_factors(graph, layer, values, needed, backend)
            continue
        except MathError:
            pass
        for source in layer.sources:
            if not needed[source]:
                continue
            alone = [False] * len(needed)
            alone[source] = True
            try:
                engine.local_factors(graph, layer, values, alone, backend)
            except MathError as err:
                for index in graph.subtree(source):
                    name = graph.names.get(index)
                    if name in wanted and graph.dag[index].kind == "var":
                        missing.setdefault(name, err.message)
    return missing


def _one_by_one(
    graph: Graph, point: dict[str, float], chosen: tuple[str, ...], first: MathError
) -> tuple[engine.Pass, dict[str, str]]:
    missing: dict[str, str] = {}
    for v in chosen:
        try:
            engine.run(graph, point, (v,))
        except MathError as err:
            missing[v] = err.message
    given = tuple(v for v in chosen if v not in missing)
    if not given:
        raise first from None
    return engine.run(graph, point, given), missing
