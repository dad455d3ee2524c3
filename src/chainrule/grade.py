"""``check``: grade a hand-derived derivative and name the mistake.

The verdict compares the answer with the chain rule's derivative numerically
at several points of the domain, and symbolically within a time budget.  When
the answer is wrong, the layers explain why: each known mistake of the seeds
is a transformation of the right derivative, and the one that reproduces the
answer at every sample point is the diagnosis.

* missing-factor: one layer's local derivative left out (stopped too early);
* extra-factor: one layer's local derivative multiplied in once too often;
* wrong-point: an outer derivative evaluated at x instead of at the inner layer;
* sign: the opposite sign (alone, or together with one of the above);
* other: none of these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chainrule import engine
from chainrule.budget import attempt
from chainrule.derive import EXPAND_LIMIT, Derivation, choose_variable, derive
from chainrule.errors import ChainruleError, InputError, UsageError
from chainrule.graph import Graph, build_graph
from chainrule.interpret import SympyBackend, evaluate
from chainrule.printing import form, plain, pretty
from chainrule.syntax import parse

SAMPLES = (0.37, 0.81, 1.23, 1.77, 2.31, -0.43, -1.19, 2.9, 0.11, -2.2, 3.7, -3.1)
OTHERS = (0.61, 1.3, -0.7, 2.1)  # values for the other variables, in turn
NEEDED = 3  # usable points for a numerical verdict
RTOL = 1e-8


@dataclass(frozen=True)
class Finding:
    kind: str
    message: str
    factor: str | None = None  # the factor in question, in the variables
    layer: str | None = None
    value: float | None = None  # its value at the first sample point


@dataclass(frozen=True)
class Grade:
    expression: str
    answer: str
    variable: str
    verdict: str  # "correct" or "wrong"
    method: str
    expected: Any  # sympy expression of the derivative, or None when too large
    answer_expression: Any
    diagnosis: tuple[Finding, ...]


@dataclass(frozen=True)
class _Sample:
    point: dict[str, float]
    expected: float
    answer: float
    factors: list[tuple[float, ...]]  # per layer


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= RTOL * max(1.0, abs(a), abs(b))


def _samples(expr_graph: Graph, answer_graph: Graph, variable: str, wrt: int) -> list[_Sample]:
    others = [v for v in expr_graph.variables if v != variable]
    found = []
    for x in SAMPLES:
        point = {variable: x, **{v: OTHERS[k % len(OTHERS)] for k, v in enumerate(others)}}
        try:
            at = engine.run(expr_graph, point)
            answer = engine.evaluate(answer_graph, point)[answer_graph.output]
        except ChainruleError:
            continue
        found.append(_Sample(point, at.adjoints.get(wrt, 0.0), answer, at.factors))
    return found


def _in_variables(graph: Graph) -> Any:
    """The answer as one SymPy expression in the variables, when it is small."""
    if len(graph.layers) > EXPAND_LIMIT:
        return None
    forms, complete = engine.expand_in_variables(graph)
    if not complete:
        return None
    if graph.output in forms:
        return forms[graph.output]

    # no layers: a variable, or a constant, exactly as typed (once it is known to have a real value)
    if not graph.variables:
        engine.evaluate(graph, {})
    return evaluate(graph.dag, SympyBackend())[graph.output]


def grade(expression: str, answer: str, wrt: str | None = None) -> Grade:
    """Grade `answer` as the derivative of `expression` with respect to `wrt`."""
    expr = parse(expression)
    variable = choose_variable(expr, wrt)
    try:
        answer_tape = parse(answer)
    except ChainruleError as err:
        raise InputError(
            f"in the answer: {err.message}", source=err.source, position=err.position, end=err.end, hint=err.hint
        ) from None
    extra = set(answer_tape.variables()) - set(expr.variables()) - {variable}
    if extra:
        name = sorted(extra)[0]
        raise UsageError(
            f"the answer uses {name!r}, which the expression does not",
            source=answer,
            position=answer.find(name),
            end=answer.find(name) + len(name),
        )
    graph = build_graph(expr)
    answer_graph = build_graph(answer_tape)
    d = derive(graph, variable, None)
    wrt_index = graph.variable_index(variable)
    samples = _samples(graph, answer_graph, variable, wrt_index)
    answer_expr = _in_variables(answer_graph)
    symbolic_zero = _symbolically_equal(d.derivative, answer_expr)
    if len(samples) >= NEEDED:
        equal = all(_close(s.answer, s.expected) for s in samples)
        method = f"numerically at {len(samples)} points" + (" and symbolically" if symbolic_zero else "")
    elif symbolic_zero is not None:
        equal, method = symbolic_zero, "symbolically"
    else:
        raise UsageError("the answer could not be compared: too few points where both are defined")
    diagnosis: tuple[Finding, ...] = ()
    if not equal:
        diagnosis = _diagnose(d, graph, samples)
    return Grade(
        expression=expression,
        answer=answer,
        variable=variable,
        verdict="correct" if equal else "wrong",
        method=method,
        expected=d.derivative,
        answer_expression=answer_expr,
        diagnosis=diagnosis,
    )


def _symbolically_equal(expected: Any, answer: Any) -> bool | None:
    if expected is None or answer is None:
        return None
    import sympy

    def difference() -> Any:
        return sympy.simplify(expected - answer)

    result = attempt(1.0, difference)
    return None if result is None else bool(result == 0)


# --------------------------------------------------------------------------- diagnosis


Transform = Callable[[_Sample], float | None]


def _diagnose(d: Derivation, graph: Graph, samples: list[_Sample]) -> tuple[Finding, ...]:
    if not samples:
        return (Finding("other", "Your answer is not the derivative."),)
    if d.paths is None or not d.paths:  # too many paths to list, or none: the derivative is 0
        return (_other(d, samples),)
    if len(d.paths) > 1:
        return (_missing_path(d, samples) or _other(d, samples),)
    path = d.paths[0].steps  # outer first
    forms: dict[int, Any] = {}
    if len(graph.layers) <= EXPAND_LIMIT:
        forms, _ = engine.expand_in_variables(graph)
    # Each candidate is a transformation of the right derivative and the finding it
    # stands for; a finding's text is written only when its candidate matches.
    candidates: list[tuple[Transform, Callable[[], Finding]]] = []
    for li, k in path:
        candidates += _layer_candidates(d, graph, li, k, samples, forms)
    candidates.append((lambda s: -s.expected, lambda: _sign(d)))
    for transform, finding in candidates:
        if _matches(samples, transform):
            return (finding(),)
    for transform, finding in candidates[:-1]:  # a sign error on top of another mistake
        if _matches(samples, _negated(transform)):
            return (_sign(d), finding())
    return (_other(d, samples),)


def _layer_candidates(
    d: Derivation, graph: Graph, li: int, k: int, samples: list[_Sample], forms: dict[int, Any]
) -> list[tuple[Transform, Callable[[], Finding]]]:
    """The slips one layer's local derivative allows: left out, taken twice, taken at x."""
    layer, gl = d.layers[li], graph.layers[li]
    local = layer.locals[k]
    ratio = f"d{layer.name}/d{local.wrt}"
    first = samples[0].factors[li][k]
    where = _where(samples[0].point, d.variable)

    def factor_x() -> Any:
        return engine.in_variables(graph, local.expression, forms) if forms else local.expression

    def missing(s: _Sample) -> float | None:
        f = s.factors[li][k]
        return None if f == 0 else s.expected / f

    def extra(s: _Sample) -> float | None:
        return s.expected * s.factors[li][k]

    def missing_finding() -> Finding:
        return Finding(
            "missing-factor",
            f"You stopped too early: the layer {layer.name} = {_layer_text(d, li)} contributes the local "
            f"derivative {ratio} = {pretty(factor_x())}, and your answer leaves that factor out "
            f"({where} it is {first:.6g}).",
            plain(factor_x()),
            layer.name,
            first,
        )

    def extra_finding() -> Finding:
        return Finding(
            "extra-factor",
            f"Your answer multiplies by {ratio} = {pretty(factor_x())} once too often ({where} it is {first:.6g}).",
            plain(factor_x()),
            layer.name,
            first,
        )

    found: list[tuple[Transform, Callable[[], Finding]]] = [(missing, missing_finding), (extra, extra_finding)]
    node = graph.dag[gl.root]
    inner = gl.sources[0] if len(gl.sources) == 1 else None
    if node.kind == "call" and inner is not None and graph.dag[inner].kind != "var" and forms:

        def wrong_point(s: _Sample) -> float | None:
            f = s.factors[li][k]
            slope = engine.slope_at(graph, gl, s.point[d.variable])
            return None if f == 0 or slope is None else s.expected / f * slope

        def wrong_finding() -> Finding:
            wrong_x = local.expression.xreplace({graph.symbol(local.wrt): graph.symbol(d.variable)})
            inner_text = form(graph.dag, graph.subtree(inner), graph.names, "pretty")
            return Finding(
                "wrong-point",
                f"{ratio} = {pretty(local.expression)} must be evaluated at {local.wrt} = {inner_text}, "
                f"not at {d.variable}: your answer has {pretty(wrong_x)} where it needs {pretty(factor_x())}.",
                plain(wrong_x),
                layer.name,
                None,
            )

        found.append((wrong_point, wrong_finding))
    return found


def _negated(transform: Transform) -> Transform:
    def negated(s: _Sample) -> float | None:
        value = transform(s)
        return None if value is None else -value

    return negated


def _matches(samples: list[_Sample], transform: Transform) -> bool:
    usable = 0
    for s in samples:
        target = transform(s)
        if target is None:
            continue
        if not _close(s.answer, target):
            return False
        usable += 1
    return usable >= min(NEEDED, len(samples))


def _missing_path(d: Derivation, samples: list[_Sample]) -> Finding | None:
    """The answer is the sum over all paths but one: a term of the product or quotient rule is missing."""
    assert d.paths is not None
    for path in d.paths:

        def without(s: _Sample, steps: tuple[tuple[int, int], ...] = path.steps) -> float | None:
            term = 1.0
            for li, k in steps:
                term *= s.factors[li][k]
            return s.expected - term

        if _matches(samples, without):
            route = " → ".join([d.variable] + [d.layers[li].name for li, _ in reversed(path.steps)])
            factors = "·".join(pretty(d.layers[li].locals[k].expression) for li, k in path.steps)
            return Finding(
                "other",
                f"Your answer leaves out the path {route} (its product of local derivatives is {factors}). "
                f"{d.variable} reaches {d.output} along {len(d.paths)} paths, and the derivative is the sum over "
                f"all of them: this is the product or quotient rule.",
                factors,
            )
    return None


def _sign(d: Derivation) -> Finding:
    negative = [layer for layer in d.layers for lo in layer.locals if "−" in lo.identity and lo.rule != "difference"]
    hint = f" Check the rule: {negative[0].locals[0].identity}." if negative else ""
    return Finding("sign", "Your answer has the opposite sign of the derivative." + hint)


def _other(d: Derivation, samples: list[_Sample]) -> Finding:
    s = samples[0]
    return Finding(
        "other",
        f"Your answer is not the derivative, and not one of the usual chain-rule slips: "
        f"{_where(s.point, d.variable)} it gives {s.answer:.6g}, the derivative is {s.expected:.6g}.",
    )


def _where(point: dict[str, float], variable: str) -> str:
    return f"at {variable} = {point[variable]:g}"


def _layer_text(d: Derivation, li: int) -> str:
    layer = d.layers[li]
    return form(d.graph.dag, layer.ops, d.graph.names, "pretty")
