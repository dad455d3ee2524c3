"""The chain rule on a graph of layers: values, local factors, adjoints, paths.

Forward: every DAG node's value at the point, then each layer's local factors
(forward mode inside the layer, by the rule table's numeric slopes).
Backward: the adjoint of every layer and variable, as ``Value.backward()``
computes it: start with 1 at the output and, in reverse topological order,
add adjoint × local factor into each input.  ``diff`` reads the adjoint of one
variable; ``grad`` reads all of them.  Symbolically, the derivative is the sum
over the paths from the variable to the output of the product of the local
derivatives along each path.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol, TypeVar

from chainrule import huge, interpret, wide
from chainrule.errors import MathError, Reason
from chainrule.graph import Graph, Layer
from chainrule.interpret import FloatBackend, MpBackend, SympyBackend
from chainrule.point import mpf_point
from chainrule.syntax import Node

T = TypeVar("T")

MAX_PATHS = 16


def evaluate(graph: Graph, point: Mapping[str, float], known: Mapping[int, float] | None = None) -> list[float]:
    """The value of every DAG node at the point, in floating point; the nodes in `known` (found
    exactly by the exact pass) have those values, and the others follow from them."""
    values = interpret.evaluate(graph.dag, FloatBackend(point, graph.source), given=known)
    return [values[i] for i in range(len(graph.dag))]


Factors = tuple["float | None", ...]  # a layer's local factors; None where no chosen variable is upstream


def depends(graph: Graph, variables: Iterable[str]) -> list[bool]:
    """Per DAG node: whether it depends on one of the variables."""
    chosen = set(variables)
    found: list[bool] = []
    for node in graph.dag:
        found.append((node.kind == "var" and node.text in chosen) or any(found[a] for a in node.args))
    return found


class Numbers(interpret.Differentiable[Any], Protocol):
    """A number system a layer's local factors are computed in: doubles, mpmath, or exact numbers."""

    def isfinite(self, value: Any) -> bool: ...

    def fail(self, node: Node, message: str, reason: Reason, hint: str | None = None) -> MathError: ...


def local_factors(
    graph: Graph,
    layer: Layer,
    values: Sequence[Any] | Mapping[int, Any],
    needed: list[bool] | None = None,
    backend: Numbers | None = None,
) -> tuple[Any, ...]:
    """The value of each local derivative of a layer at the point: the reverse
    sweep inside the layer, with the rule table's numeric slopes.

    With `needed`, only the factors on paths from the chosen variables are
    computed (the others are None), so ∂(xʸ)/∂x exists at x = −2 although
    ∂(xʸ)/∂y, which needs ln(−2), does not."""
    backend = backend or FloatBackend({}, graph.source)
    operands = {i: values[i] for i in layer.ops} | {i: values[i] for i in layer.sources}

    def constant(a: int) -> bool:
        return graph.constant[a] if needed is None else not needed[a]

    found = interpret.sweep(graph.dag, layer.ops, layer.sources, operands, backend, constant, rules=False).locals
    factors = tuple(f if needed is None or needed[s] else None for s, f in zip(layer.sources, found, strict=True))
    if not all(f is None or backend.isfinite(f) for f in factors):
        node = graph.dag[layer.root]
        raise backend.fail(node, "the local derivative overflows here", Reason.overflow)
    return factors


@dataclass(frozen=True)
class Contribution:
    """One step of the backward pass: a node passes upstream × local to one input."""

    node: int  # the layer passing the gradient back
    input: int  # the input receiving it
    slot: int  # which of the node's inputs
    local: float
    upstream: float  # the node's adjoint, d(output)/d(node)
    contribution: float  # upstream × local
    accumulated: float  # the input's adjoint after this step (+=)


class Arithmetic(Protocol[T]):
    """The numbers a backward pass over the layers runs in."""

    zero: T
    one: T

    def times(self, adjoint: T, partial: T) -> T: ...

    def total(self, terms: list[T]) -> T: ...


def backward(
    graph: Graph,
    local: Callable[[int, int], T | None],
    arithmetic: Arithmetic[T],
    on_step: Callable[[int, int, T, T, T], None] | None = None,
) -> dict[int, T]:
    """Adjoints d(output)/d(node) for every layer and variable, by one reverse
    sweep over the layers, as ``Value.backward()`` does: start with 1 at the
    output and, in reverse topological order, add upstream × local into each
    input.  `local(layer index, input index)` gives a local derivative;
    `on_step(layer index, input index, upstream, local, contribution)` sees
    every step.  The contributions to a node are totalled once, when the
    sweep reaches it."""
    pending: dict[int, list[T]] = {graph.output: [arithmetic.one]}
    adjoint: dict[int, T] = {}
    for li in range(len(graph.layers) - 1, -1, -1):
        layer = graph.layers[li]
        upstream = arithmetic.total(pending.pop(layer.root, [arithmetic.zero]))
        adjoint[layer.root] = upstream
        for k, source in enumerate(layer.sources):
            factor = local(li, k)
            if factor is None:  # not on a path from the chosen variables
                continue
            contribution = arithmetic.times(upstream, factor)
            pending.setdefault(source, []).append(contribution)
            if on_step is not None:
                on_step(li, k, upstream, factor, contribution)
    for index, terms in pending.items():
        adjoint[index] = arithmetic.total(terms)
    return adjoint


def _float_backward(
    graph: Graph, factors: list[Factors], steps: bool = True
) -> tuple[dict[int, float], tuple[Contribution, ...], bool]:
    """The backward pass in doubles, its steps (when asked for), and whether a product or sum on
    the way left the range of doubles."""
    recorded: list[Contribution] = []
    running: dict[int, float] = {}
    lost = False

    def record(li: int, k: int, upstream: float, factor: float, contribution: float) -> None:
        nonlocal lost
        layer = graph.layers[li]
        source = layer.sources[k]
        total = running[source] = running.get(source, 0.0) + contribution
        lost = lost or wide.lost(contribution, upstream, factor) or not wide.in_range(total)
        if steps:
            recorded.append(Contribution(layer.root, source, k, factor, upstream, contribution, total))

    adjoint = backward(graph, lambda li, k: factors[li][k], FloatBackend({}), record)
    return adjoint, tuple(recorded), lost


class _Capped:
    """SymPy arithmetic that gives up (None) once an expression would exceed `limit` nodes:
    past that, a product stands for nothing a reader could take in, and forming it again
    for every layer would cost time quadratic in the depth."""

    def __init__(self, limit: int) -> None:
        self.sympy = SympyBackend()
        self.zero, self.one = self.sympy.zero, self.sympy.one
        self.limit = limit

    def times(self, adjoint: Any, partial: Any) -> Any:
        return None if adjoint is None else self._small(self.sympy.times(adjoint, partial))

    def total(self, terms: list[Any]) -> Any:
        return None if any(t is None for t in terms) else self._small(self.sympy.total(terms))

    def _small(self, expr: Any) -> Any:
        return None if too_big(expr, self.limit) else expr


def symbolic_adjoints(graph: Graph, limit: int = 400) -> dict[int, Any]:
    """d(output)/d(node) for every node, in terms of the layers' symbols: the
    backward pass done symbolically (2·d·1·b for d(loss)/da in the lesson).

    Each node's adjoint is formed once, from its consumers' adjoints; an adjoint
    larger than `limit` nodes is None, and so is every adjoint it feeds into, so
    a chain of any depth costs time linear in its depth.  `through` gives the
    same adjoint one step at a time, at any size."""
    return backward(graph, lambda li, k: graph.layers[li].locals[k].expression, _Capped(limit))


def through(graph: Graph) -> dict[int, tuple[tuple[int, int], ...]]:
    """The one-step form of every d(output)/d(node): per node, the (layer index, input slot)
    of each layer that takes it as an input.  d(output)/d(node) is the sum, over them, of
    d(output)/d(layer) × the layer's local derivative there (``+=`` in ``backward``)."""
    found: dict[int, list[tuple[int, int]]] = {}
    for li, layer in enumerate(graph.layers):
        for k, source in enumerate(layer.sources):
            found.setdefault(source, []).append((li, k))
    return {node: tuple(steps) for node, steps in found.items()}


@dataclass(frozen=True)
class Exactly:
    """What the exact pass (:mod:`chainrule.exact`) found at an exact point, rounded once to
    doubles: the values of DAG nodes, the (layer, input) local factors and the adjoints it knows
    exactly.  Doubles make an exact 0 1.1e-16 or 6.1e-17 (cos(π/2)), and sin(π/4) differ from
    cos(π/4) in the last digit; the pass uses these instead."""

    values: Mapping[int, float] = field(default_factory=dict)
    factors: Mapping[tuple[int, int], float] = field(default_factory=dict)
    adjoints: Mapping[int, float] = field(default_factory=dict)
    adjoints_beyond: Mapping[int, Any] = field(default_factory=dict)  # mpmath numbers doubles cannot hold


@dataclass(frozen=True)
class Pass:
    """Everything the chain rule knows at one point."""

    values: list[float]  # every DAG node's value
    factors: list[Factors]  # every layer's local factors, one per input (None: not needed)
    adjoints: dict[int, float]  # d(output)/d(node), from one backward sweep
    steps: tuple[Contribution, ...]  # that sweep, step by step
    beyond: Mapping[int, wide.Wide]  # adjoints beyond the range of doubles (there 0.0 or ±inf)
    values_beyond: dict[int, wide.Wide] = field(default_factory=dict)  # values below the range (there 0.0)
    factors_beyond: dict[tuple[int, int], wide.Wide] = field(default_factory=dict)  # (layer, input) -> factor
    exact: Exactly | None = None  # what the exact pass found, at an exact point
    precise: frozenset[int] = frozenset()  # nodes whose adjoint was taken again in mpmath: its terms cancel

    def named_adjoints(self, graph: Graph) -> dict[str, float]:
        """The adjoints of the variables and layers, by name."""
        return {graph.names[i]: a for i, a in self.adjoints.items() if i in graph.names}


def run(
    graph: Graph,
    point: Mapping[str, float],
    wrt: Iterable[str] | None = None,
    steps: bool = True,
    exact: Exactly | None = None,
) -> Pass:
    """The forward pass, the local factors and the backward pass at a point.

    With `wrt`, only the local factors on paths from those variables are
    computed: a factor that does not exist elsewhere cannot fail the pass.
    Without `steps`, the backward pass is not recorded step by step (``Pass.steps``
    is empty): for callers that read only adjoints, such as ``check``'s samples.

    When a product of factors leaves the range of doubles (a vanishing or
    exploding gradient through thousands of layers), the backward pass runs
    again with an unbounded exponent: adjoints that fit in a double get their
    full precision back, and the others are kept in `Pass.beyond`.

    `exact` holds what the exact pass found at an exact point: those values, factors and adjoints
    are taken from it, rounded once (sin(π) is 0, not 1.2e-16; cos at the decimal 1.5707963267948966
    is 1.92e-17, not cos of the double nearest it).  A wrong numeric formula is still caught: the
    accurate check differentiates the function alone, and the rule table's test holds every
    numeric slope against its symbolic partial.

    Where the terms of an adjoint cancel (sin(x) + cos(x) near π/4: a sum of terms of size 0.7 that
    is 1e-17), doubles keep few of its digits: the pass is taken again in mpmath at
    :data:`PRECISE_DIGITS` digits, at the point as given, and those adjoints are kept (`Pass.precise`).
    """
    needed = depends(graph, wrt) if wrt is not None else None
    try:
        values = evaluate(graph, point, exact.values if exact is not None else None)
        factors = [local_factors(graph, layer, values, needed) for layer in graph.layers]
        if exact is not None and exact.factors:
            factors = [
                tuple(f if f is None else exact.factors.get((li, k), f) for k, f in enumerate(layer))
                for li, layer in enumerate(factors)
            ]
    except MathError:
        # A value beyond the range of doubles (e^-800 read as 0, e^1000 as an overflow) can make an
        # operation fail (ln of 0, a corner of |u| or √u at 0): the pass is taken again with
        # unbounded exponents.
        if (found := _wide_pass(graph, point, needed, steps)) is None:
            raise
        return _exactly(found, exact)
    if (
        _underflow_possible(graph, values, factors, exact)
        and (found := _wide_pass(graph, point, needed, steps)) is not None
    ):
        return _exactly(found, exact)
    adjoints, recorded, lost = _float_backward(graph, factors, steps)
    beyond: Mapping[int, wide.Wide] = {}
    if lost:  # again, in doubles whose exponent cannot under- or overflow
        scaled = backward(graph, lambda li, k: factors[li][k], wide.ScaledArithmetic())
        adjoints = {node: wide.to_double(value) for node, value in scaled.items()}
        beyond = wide.Beyond(adjoints, scaled, scaled=True)
    precise: frozenset[int] = frozenset()
    cancelled = _cancelled(graph, factors, adjoints, wrt, exact) if not lost else {}
    if cancelled and (better := _precise_adjoints(graph, point, needed, cancelled)) is not None:
        doubles = {i: float(v) for i, v in better.items()}
        adjoints = {**adjoints, **doubles}
        precise = frozenset(better)
        if any(wide.beyond(doubles[i], v) for i, v in better.items()):  # 3.3e-601: below the range of doubles
            beyond = wide.Beyond(adjoints, better)
    if precise:
        recorded = tuple(_settled(recorded, {i: adjoints[i] for i in precise}))
    return _exactly(Pass(values, factors, adjoints, recorded, beyond, exact=exact, precise=precise), exact)


def _exactly(found: Pass, exact: Exactly | None) -> Pass:
    """A pass with the adjoints the exact pass knows: rounded once where a double holds them, and
    in `beyond` where none does (x·sin(1/x) at 1e200: 3.3e-601), whichever way the pass went."""
    if exact is None or not (exact.adjoints or exact.adjoints_beyond):
        return found
    import mpmath

    known = {i: v for i, v in exact.adjoints.items() if i in found.adjoints}
    extra = {i: wide.from_mpf(v) for i, v in exact.adjoints_beyond.items() if i in found.adjoints}
    with mpmath.workdps(20):
        known.update({i: float(exact.adjoints_beyond[i]) for i in extra})
    adjoints = {**found.adjoints, **known}
    beyond = {i: found.beyond[i] for i in found.beyond if i not in known}
    beyond.update(extra)
    recorded = tuple(_settled(found.steps, known)) if found.steps else found.steps
    return dataclasses.replace(found, adjoints=adjoints, beyond=beyond, steps=recorded, exact=exact)


CANCELLED = 1e-6  # an adjoint this small beside the terms it sums has lost most of its digits to cancellation
PRECISE_DIGITS = 30  # the digits of the pass taken again where terms cancel
PRECISE_NODES = 2_000  # and the largest graph it is taken on (a network's is left to doubles)
PRECISE_MAX_DIGITS = 960  # the most digits it doubles to
PRECISE_WORK = 2_000_000  # digits × nodes it may spend


def _cancelled(
    graph: Graph,
    factors: list[Factors],
    adjoints: Mapping[int, float],
    wrt: Iterable[str] | None,
    exact: Exactly | None,
) -> dict[int, float]:
    """The variables' nodes whose adjoint is far smaller than the terms it sums (and not known
    exactly already)."""
    if len(graph.dag) > PRECISE_NODES:
        return {}
    chosen = graph.variables if wrt is None else tuple(wrt)
    known = exact.adjoints if exact is not None else {}
    indices = [graph.index_of(v) for v in chosen if graph.uses(v) and graph.index_of(v) not in known]
    if not indices:
        return {}
    sizes = backward(graph, lambda li, k: None if (f := factors[li][k]) is None else abs(f), FloatBackend({}))
    found = {}
    for i in indices:
        size, value = sizes.get(i, 0.0), abs(adjoints.get(i, 0.0))
        if math.isfinite(size) and size > 0 and value < CANCELLED * size:
            found[i] = size
    return found


def _precise_adjoints(
    graph: Graph, point: Mapping[str, float], needed: list[bool] | None, nodes: dict[int, float]
) -> dict[int, Any] | None:
    """The adjoints of `nodes` (each with the size of the terms it sums) by the chain rule in
    mpmath, at the point as given: from PRECISE_DIGITS digits up, doubling, until each stands
    clear of the rounding of its terms (cosh(x) − sinh(x) at 300 cancels 130 digits) or the digits
    cost too much; one that never stands clear is 0 to within them (x·(1/x)).  In mpmath, so
    that one below the range of doubles is kept (x·sin(1/x) at 1e200: 3.3e-601).  None where the
    pass fails, or the exponent of a value cannot be carried."""
    import mpmath

    digits = PRECISE_DIGITS
    while True:
        with mpmath.workdps(digits):
            try:
                _, _, adjoints_mp = _mp_pass(graph, point, needed)
            except MathError:
                return None
            noise = mpmath.mpf(10) ** (5 - digits)
            found = {}
            clear = True
            for i, size in nodes.items():
                value = +adjoints_mp.get(i, mpmath.mpf(0))
                if abs(value) > noise * size:
                    found[i] = value
                else:
                    found[i] = mpmath.mpf(0)
                    clear = False
        if clear or digits * 2 > PRECISE_MAX_DIGITS or digits * 2 * len(graph.dag) > PRECISE_WORK:
            break
        digits *= 2
    if not all(wide.carried(v) for v in found.values()):
        return None
    return found


def _settled(recorded: tuple[Contribution, ...], adjoints: Mapping[int, float]) -> Iterable[Contribution]:
    """The steps of the backward pass with the last += into each node whose adjoint is known
    exactly accumulating to it (√2/2 − √2/2 is 0, not 1.1e-16)."""
    last = {step.input: k for k, step in enumerate(recorded) if step.input in adjoints}
    for k, step in enumerate(recorded):
        if last.get(step.input) == k:
            total = adjoints[step.input]
            step = Contribution(step.node, step.input, step.slot, step.local, step.upstream, step.contribution, total)
        yield step


def magnitudes(graph: Graph, at: Pass) -> dict[int, float]:
    """Per node, the size of the terms d(output)/d(node) adds up: the sum over paths of the products
    of |local factor|, by one more backward sweep.  Rounding in doubles is relative to this, not to
    the derivative, when the terms cancel (d/dx of sin²x + cos²x)."""
    return backward(graph, lambda li, k: None if (f := at.factors[li][k]) is None else abs(f), FloatBackend({}))


def _underflow_possible(
    graph: Graph, values: list[float], factors: list[Factors], exact: Exactly | None = None
) -> bool:
    """Whether a value or factor may be a number below the range of doubles: a subnormal one, or
    a 0 that the same operation, on the same inputs, makes a number other than 0 once its
    exponent is unbounded (e^-800; σ′(−800) as a layer's factor).  A 0 typed in, a weight of 0,
    a sum that cancels or relu of a negative number is exactly 0, and costs nothing more; so is a
    value or factor the exact pass proved 0 (`exact`)."""
    import mpmath

    exact = exact or Exactly()

    with mpmath.workprec(53):
        backend = MpBackend({}, graph.source)
        for i, v in enumerate(values):
            if (v != 0.0 and abs(v) >= wide.MIN_NORMAL) or i in exact.values:
                continue
            node = graph.dag[i]
            if v != 0.0:
                return True
            if node.kind == "var":
                continue  # as given
            if node.kind == "num":
                if Fraction(node.text) != 0:  # 1e-400 as typed: not 0
                    return True
                continue
            if node.kind == "const":
                continue
            given = {a: mpmath.mpf(values[a]) for a in node.args}
            try:
                if interpret.evaluate(graph.dag, backend, [i], given)[i] != 0:
                    return True
            except MathError:
                return True
        for li, (layer, found) in enumerate(zip(graph.layers, factors, strict=True)):
            if all(
                f is None or (f != 0.0 and abs(f) >= wide.MIN_NORMAL) or (li, k) in exact.factors
                for k, f in enumerate(found)
            ):
                continue
            if any(f is not None and f != 0.0 and abs(f) < wide.MIN_NORMAL for f in found):
                return True  # subnormal
            operands = {i: mpmath.mpf(values[i]) for i in (*layer.ops, *layer.sources)}
            try:
                mp_factors = local_factors(graph, layer, operands, None, backend)
            except MathError:
                return True
            if any(f == 0.0 and mp_factors[k] != 0 and (li, k) not in exact.factors for k, f in enumerate(found)):
                return True
    return False


def _wide_pass(graph: Graph, point: Mapping[str, float], needed: list[bool] | None, steps: bool) -> Pass | None:
    """The whole pass in mpmath at 53 bits, whose exponent cannot under- or overflow, when it finds
    a value or a factor that doubles lost (beyond their range); None when it finds none.  A MathError when
    the mathematics fails with unbounded exponents too."""
    import mpmath

    with mpmath.workprec(53):
        values_mp, factors_mp, adjoints_mp = _mp_pass(graph, point, needed)
    numbers = itertools.chain(values_mp, (f for layer in factors_mp for f in layer), adjoints_mp.values())
    if not all(f is None or wide.carried(f) for f in numbers):
        return None  # an exponent too large even to print (e^(10³⁰⁸)): the doubles' answer stands
    values = [float(v) for v in values_mp]
    factors = [tuple(None if f is None else float(f) for f in layer) for layer in factors_mp]
    values_beyond = {i: wide.from_mpf(v) for i, v in enumerate(values_mp) if wide.beyond(values[i], v)}
    factors_beyond = {
        (li, k): wide.from_mpf(f)
        for li, layer in enumerate(factors_mp)
        for k, f in enumerate(layer)
        if f is not None and wide.beyond(factors[li][k] or 0.0, f)
    }
    if not values_beyond and not factors_beyond:
        return None
    _, recorded, _ = _float_backward(graph, factors, steps)
    adjoints = {node: float(value) for node, value in adjoints_mp.items()}
    beyond = wide.Beyond(adjoints, adjoints_mp)
    return Pass(values, factors, adjoints, recorded, beyond, values_beyond, factors_beyond)


def _mp_pass(
    graph: Graph, point: Mapping[str, Any], needed: list[bool] | None
) -> tuple[list[Any], list[tuple[Any, ...]], dict[int, Any]]:
    """The forward pass, the local factors and the backward pass in mpmath at the working
    precision: (values, factors, adjoints).  A MathError where the mathematics fails."""
    backend = MpBackend(mpf_point(point), graph.source)  # at the point as given: pi/2, not its double
    found = interpret.evaluate(graph.dag, backend)
    values = [found[i] for i in range(len(graph.dag))]
    factors = [local_factors(graph, layer, values, needed, backend) for layer in graph.layers]
    adjoints = backward(graph, lambda li, k: factors[li][k], MpBackend({}))
    return values, factors, adjoints


def exact_derivative(graph: Graph, point: Mapping[str, Any], wrt: str) -> tuple[Any, Any]:
    """d(output)/d(wrt) at the point by the chain rule in mpmath at the working precision, and the
    size of the terms it sums (the sum over paths of the products of |local factor|), against which
    rounding in a sum that cancels is measured.  A MathError outside the function's real domain."""
    import mpmath

    index = graph.variable_index(wrt)
    if index < 0:
        return mpmath.mpf(0), mpmath.mpf(0)
    _, factors, adjoints = _mp_pass(graph, point, depends(graph, (wrt,)))
    sizes = backward(graph, lambda li, k: None if (f := factors[li][k]) is None else abs(f), MpBackend({}))
    return +adjoints.get(index, mpmath.mpf(0)), +sizes.get(index, mpmath.mpf(0))


# --------------------------------------------------------------------------- paths


@dataclass(frozen=True)
class Path:
    """One path from the variable to the output: (layer index, local index), outer first."""

    steps: tuple[tuple[int, int], ...]


def count_paths(graph: Graph, wrt: int) -> int:
    """How many paths lead from the variable to the output."""
    count: dict[int, int] = {wrt: 1}
    for layer in graph.layers:
        count[layer.root] = sum(count.get(s, 0) for s in layer.sources)
    return count.get(graph.output, 1 if graph.output == wrt else 0)


def paths(graph: Graph, wrt: int) -> tuple[Path, ...]:
    """Every path from the variable to the output.  Call only when count_paths is small.

    Paths are kept as linked cells while they are built, so a chain of n
    layers costs O(n), not O(n²).
    """
    at: dict[int, list[Any]] = {wrt: [None]}  # cells: (previous cell, step) or None
    for li, layer in enumerate(graph.layers):
        cells: list[Any] = []
        for k, source in enumerate(layer.sources):
            cells.extend((prev, (li, k)) for prev in at.get(source, []))
        if cells:
            at[layer.root] = cells
    result = []
    for cell in at.get(graph.output, []):
        steps = []
        while cell is not None:
            cell, step = cell
            steps.append(step)
        result.append(Path(tuple(steps)))  # already outer first
    return tuple(result)


# --------------------------------------------------------------------------- symbolic


def expand_in_variables(graph: Graph, size_limit: int = 4000) -> tuple[dict[int, Any], bool]:
    """Each layer's expression in terms of the variables, while it stays small.

    Returns the expressions found and whether all of them were built.
    """
    forms: dict[int, Any] = {i: graph.symbol(n) for i, n in graph.names.items() if graph.dag[i].kind == "var"}
    for layer in graph.layers:
        mapping = {graph.symbol(graph.names[s]): forms[s] for s in layer.sources}
        expr = layer.expression.xreplace(mapping)
        forms[layer.root] = expr
        if too_big(expr, size_limit):
            return forms, False
    return forms, True


def too_big(expr: Any, limit: int) -> bool:
    return any(count >= limit for count, _ in enumerate(_preorder(expr)))


def _preorder(expr: Any) -> Any:
    stack = [expr]
    while stack:
        e = stack.pop()
        yield e
        stack.extend(e.args)


def _local_in_variables(graph: Graph, layer: Layer, k: int, forms: dict[int, Any]) -> Any:
    mapping = {graph.symbol(graph.names[s]): forms[s] for s in layer.sources}
    return layer.locals[k].expression.xreplace(mapping)


def path_sum_in_variables(graph: Graph, found: tuple[Path, ...], forms: dict[int, Any]) -> Any:
    """The sum over paths of the product of local derivatives, in the variables.

    The product is formed in the layers' symbols, then every symbol is
    replaced at once, without distributing numbers over sums, so it keeps the
    lesson's shape: cos(u2)·2·u1·2 becomes 4·(2x + 1)·cos((2x + 1)²).
    """
    import sympy

    terms = [sympy.Mul(*(graph.layers[li].locals[k].expression for li, k in path.steps)) for path in found]
    return in_variables(graph, sympy.Add(*terms), forms)


def in_variables(graph: Graph, expr: Any, forms: dict[int, Any]) -> Any:
    """An expression in the layers' symbols, rewritten in the variables.

    Each factor of each product is rewritten with SymPy's usual evaluation;
    only the outer products are formed without distributing a number over a
    sum, so 4·u1 becomes 4·(2x + 1) rather than 8x + 4.  (Distribution is not
    switched off inside functions: cos(−a − c) would then never settle.)
    """
    import sympy
    from sympy.core.parameters import distribute

    mapping = {graph.symbol(graph.names[i]): form for i, form in forms.items()}
    terms = []
    for term in sympy.Add.make_args(expr):
        factors = [factor.xreplace(mapping) for factor in sympy.Mul.make_args(term)]
        with distribute(False):
            terms.append(sympy.Mul(*factors))
    return sympy.Add(*terms)


def derivative_in_variables(graph: Graph, wrt: int, forms: dict[int, Any], size_limit: int = 4000) -> Any | None:
    """d(output)/d(variable) in terms of the variables: forward accumulation of
    local derivatives with each layer's input replaced by its expression.
    Used when there are too many paths to list."""
    import sympy

    zero = sympy.Integer(0)
    tangent: dict[int, Any] = {wrt: sympy.Integer(1)}
    for layer in graph.layers:
        total = zero
        for k, source in enumerate(layer.sources):
            t = tangent.get(source, zero)
            if t != 0:
                total += _local_in_variables(graph, layer, k, forms) * t
        tangent[layer.root] = total
        if too_big(total, size_limit):
            return None
    return tangent.get(graph.output, sympy.Integer(1 if graph.output == wrt else 0))


def tidy(expr: Any, seconds: float = 0.5) -> Any:
    """A sensible simplification within a time budget: the shortest of a few
    cheap rewritings, or the expression as it is."""
    import sympy

    from chainrule.budget import attempt

    best, best_ops = expr, sympy.count_ops(expr)
    if best_ops > 300 or huge.holds_too_long(expr):  # SymPy's polynomials would str() that number
        return expr
    rewrites: list[Callable[[], Any]] = [lambda: sympy.factor_terms(sympy.powsimp(expr))]
    if any(p.is_Pow and p.exp.is_negative for p in sympy.preorder_traversal(expr)):
        rewrites.append(lambda: sympy.factor(sympy.together(expr)))  # only a quotient gains from this
    for rewrite in rewrites:
        candidate = attempt(seconds / len(rewrites), rewrite)
        if candidate is not None and (ops := sympy.count_ops(candidate)) < 0.8 * best_ops:
            best, best_ops = candidate, ops
    return best


def slope_at(graph: Graph, layer: Layer, x: float) -> float | None:
    """The slope of a layer's outer function taken at x itself: the value a
    student gets by evaluating f′ at x instead of at g(x).  None where it has none."""
    node = graph.dag[layer.root]
    if len(node.args) != 1:
        return None
    try:
        return float(FloatBackend({}, graph.source).partial(node, interpret.rule_of(node), 0, (x,)))
    except MathError:
        return None
