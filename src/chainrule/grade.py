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

import math
import random
import statistics
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath

from chainrule import engine, huge, wide
from chainrule.budget import attempt
from chainrule.derive import EXPAND_LIMIT, Derivation, choose_variable, derive
from chainrule.errors import InputError, MathError, Reason, UsageError, quoted
from chainrule.graph import Graph, build_graph
from chainrule.interpret import SympyBackend, evaluate
from chainrule.numcheck import DIGITS, evaluate_mp
from chainrule.printing import form, plain, pretty
from chainrule.syntax import parse
from chainrule.wide import Wide

SCALES = (0.05, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)  # sample points are drawn at every scale of these
POINTS = 12  # sample points wanted
DEEP = 2_000  # layers: beyond this, each point's pass through every layer costs enough that
DEEP_POINTS = 6  # fewer points are drawn (a 10,000-deep chain: 0.1 s a point)
TRIES = 150  # candidate points drawn at most
NEEDED = 3  # usable points for a numerical verdict
RTOL = 1e-8  # relative agreement of the answer and the derivative at a point
FLOOR = 1e-12  # values below this fraction of the derivative's typical size at the samples count as 0
PROOF_DIGITS = 50  # the symbolic difference is evaluated at this many digits
PROOF_RTOL = 1e-30


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
    verdict: str  # "correct", "wrong" or "undecided"
    method: str
    seed: int  # of the sample points, drawn from the inputs so that a trap cannot anticipate them
    expected: Any  # sympy expression of the derivative, or None when too large
    answer_expression: Any
    diagnosis: tuple[Finding, ...]
    notes: tuple[str, ...] = ()  # how doubtful forms of the expression and the answer were read


@dataclass(frozen=True)
class _Sample:
    point: dict[str, float]
    expected: float
    answer: float
    factors: list[engine.Factors]  # per layer; None off the paths from the variable
    beyond: Wide | None = None  # the derivative, when it is beyond the range of doubles (expected is 0 or ±inf)
    answer_exact: Any = None  # the answer in mpmath, when it or the derivative is beyond the range of doubles


def _factor(sample: _Sample, li: int, k: int) -> float:
    """A local factor on a path from the variable: always computed."""
    factor = sample.factors[li][k]
    assert factor is not None, "factors on the paths from the variable are always computed"
    return factor


def _scale(samples: list[_Sample]) -> float:
    """The typical size of the derivative at the samples (the median, which a few huge values
    at far points do not move): what 'close to 0' is measured against."""
    sizes = [abs(s.expected) for s in samples if math.isfinite(s.expected)]  # not one beyond doubles
    return statistics.median(sizes) if sizes else 0.0


def _agrees(s: _Sample, scale: float) -> bool:
    """Whether the answer is the derivative at a sample: in doubles, or beyond their range."""
    if s.beyond is None and s.answer_exact is None:
        return _close(s.answer, s.expected, scale)
    with mpmath.workdps(DIGITS):
        expected = mpmath.mpf(s.expected) if s.beyond is None else wide.to_mpmath(s.beyond)
        answer = mpmath.mpf(s.answer) if s.answer_exact is None else s.answer_exact
        floor = FLOOR * scale
        if abs(expected) <= floor and abs(answer) <= floor:
            return True
        return bool(abs(answer - expected) <= RTOL * max(abs(answer), abs(expected)))


def _close(a: float, b: float, scale: float) -> bool:
    """Relative agreement, so that x/10⁹ and 2x/10⁹ differ; values far below the scale count as 0."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return a == b
    return abs(a - b) <= RTOL * max(abs(a), abs(b)) + FLOOR * scale


def seed_of(expression: str, answer: str, variable: str) -> int:
    """The sample points' seed: a function of the inputs, reported with the verdict."""
    return zlib.crc32("\0".join((expression, answer, variable)).encode())


def _points(variables: tuple[str, ...], rng: random.Random) -> list[dict[str, float]]:
    """Candidate points at every scale, both signs, for every variable."""
    return [{v: float(f"{rng.uniform(-1.0, 1.0) * rng.choice(SCALES):.4g}") for v in variables} for _ in range(TRIES)]


SampleAt = Callable[[dict[str, float]], "_Sample | None"]


def _sampler(expr_graph: Graph, answer_graph: Graph, variable: str) -> SampleAt:
    """The derivative (by the chain rule) and the answer at a point, in chainrule's own
    conventions (real odd roots); None outside either domain.  The answer, the cheaper, first."""
    wrt = expr_graph.variable_index(variable)

    def sample_at(point: dict[str, float]) -> _Sample | None:
        try:
            try:
                answer = engine.evaluate(answer_graph, point)[answer_graph.output]
            except MathError as err:  # beyond the range of doubles: compared in mpmath below
                if err.reason is not Reason.overflow:
                    raise
                answer = math.inf
            at = engine.run(expr_graph, point, (variable,), steps=False)
            beyond = at.beyond.get(wrt)
            exact = None
            if beyond is not None or not wide.in_range(answer):
                # compared beyond the range of doubles: the answer 0 to a chain whose derivative
                # is 1e-500 is wrong, and a right answer that underflows in doubles is right
                with mpmath.workdps(DIGITS):
                    exact = evaluate_mp(answer_graph, point)
        except MathError:  # outside a domain (never a timeout: that ends the check)
            return None
        return _Sample(point, at.adjoints.get(wrt, 0.0), answer, at.factors, beyond, exact)

    return sample_at


def _samples(variables: tuple[str, ...], sample_at: SampleAt, seed: int, wanted: int = POINTS) -> list[_Sample]:
    """Up to `wanted` points where the function, its derivative and the answer all have real values."""
    found: list[_Sample] = []
    for point in _points(variables, random.Random(seed)):
        if (sample := sample_at(point)) is not None:
            found.append(sample)
            if len(found) == wanted:
                break
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
        try:
            engine.evaluate(graph, {})
        except MathError as err:  # 2^1030 has a value, beyond the range of doubles
            if err.reason is not Reason.overflow:
                raise
    return evaluate(graph.dag, SympyBackend())[graph.output]


def grade(expression: str, answer: str, wrt: str | None = None) -> Grade:
    """Grade `answer` as the derivative of `expression` with respect to `wrt`."""
    expr = parse(expression)
    variable = choose_variable(expr, wrt)
    try:
        answer_tape = parse(answer, answer=True)
    except InputError as err:
        raise InputError(
            f"in the answer: {err.message}", source=err.source, position=err.position, end=err.end, hint=err.hint
        ) from None
    extra = set(answer_tape.variables()) - set(expr.variables()) - {variable}
    if extra:
        name = sorted(extra)[0]
        raise UsageError(
            f"the answer uses {quoted(name)}, which the expression does not",
            source=answer,
            position=answer.find(name) if name in answer else None,
            end=answer.find(name) + len(name) if name in answer else None,
        )
    graph = build_graph(expr)
    answer_graph = build_graph(answer_tape)
    d = derive(graph, variable, None)
    seed = seed_of(expression, answer, variable)
    sample_at = _sampler(graph, answer_graph, variable)
    wanted = POINTS if len(graph.layers) <= DEEP else DEEP_POINTS
    samples = _samples(tuple(dict.fromkeys((variable, *graph.variables))), sample_at, seed, wanted)
    answer_expr = _in_variables(answer_graph)
    difference = _symbolic_difference(d.derivative, answer_expr)

    verdict, method = _verdict(samples, difference, d.derivative, answer_expr, seed, sample_at)
    diagnosis: tuple[Finding, ...] = ()
    if verdict == "wrong":
        diagnosis = _diagnose(d, graph, samples)
    return Grade(
        expression=expression,
        answer=answer,
        variable=variable,
        verdict=verdict,
        method=method,
        seed=seed,
        expected=d.derivative,
        answer_expression=answer_expr,
        diagnosis=diagnosis,
        notes=expr.notes + tuple(f"in the answer: {note}" for note in answer_tape.notes),
    )


def _verdict(
    samples: list[_Sample],
    difference: Any | None,
    expected: Any,
    answer: Any,
    seed: int,
    sample_at: SampleAt,
) -> tuple[str, str]:
    """(verdict, how it was reached).  A symbolic proof wins over numbers; without a proof or
    enough points inside both domains, the verdict is 'undecided', never 'wrong'."""
    where = f"at {len(samples)} points (seed {seed})"
    if difference is not None and difference == 0:
        return "correct", "symbolically" + (f" and numerically {where}" if samples else "")
    if difference is not None and difference.is_number and difference.is_zero is False:
        return "wrong", f"symbolically: the answer differs from the derivative by the constant {pretty(difference)}"
    if difference is not None and _abstract(difference):
        # f′ has no values to sample, and an answer cannot name f′: it must equal the chain
        # rule's form for every f, and this difference is not 0 as an expression in f.
        return "wrong", "symbolically: the difference is not 0 for every f"
    if difference is not None:
        point = _nonzero_at(difference, expected, answer, samples, seed, sample_at)
        if point is not None:
            return "wrong", f"symbolically: the difference is not 0 at {point}"
    if len(samples) >= NEEDED:
        scale = _scale(samples)
        equal = all(_agrees(s, scale) for s in samples)
        return ("correct" if equal else "wrong"), f"numerically {where}"
    return (
        "undecided",
        f"neither symbolically nor numerically: only {len(samples)} points (seed {seed}) lie in both domains",
    )


SIMPLIFY_BITS = 1000  # the longest numerator or denominator sympy.simplify is given


def _symbolic_difference(expected: Any, answer: Any) -> Any | None:
    """expected − answer, simplified within a second; None when either is unknown or time runs out."""
    if expected is None or answer is None:
        return None
    import sympy

    difference = expected - answer
    if difference.has(sympy.S.NaN, sympy.S.ComplexInfinity):  # 1/0 in a constant: nothing to prove with
        return None
    # SymPy's polynomials would str() a number too long for text, and its trigonometric rewrites
    # halve sin(2^1000·x) a thousand times, recursively: beyond 1,000 bits there is no proof to try
    if difference == 0 or huge.holds_too_long(difference, bits=SIMPLIFY_BITS):
        return difference
    return attempt(1.0, lambda: sympy.simplify(difference))


def _abstract(expr: Any) -> bool:
    """Whether an expression holds f, g or h."""
    from sympy.core.function import AppliedUndef

    return bool(expr.atoms(AppliedUndef))


def _number_at(expr: Any, mapping: dict[Any, Any]) -> Any | None:
    """expr at a point, at PROOF_DIGITS digits, when it is a finite real number there."""
    import sympy

    value = attempt(0.5, lambda: sympy.N(expr.xreplace(mapping), PROOF_DIGITS))
    if value is None or not value.is_Number or not value.is_finite or not value.is_real:
        return None
    return value


def _nonzero_at(
    difference: Any,
    expected: Any,
    answer: Any,
    samples: list[_Sample],
    seed: int,
    sample_at: SampleAt,
) -> str | None:
    """A point where the symbolic difference is, at 50 digits, clearly not 0: a proof that the
    answer is not the derivative.  The samples and more seeded points are tried."""
    import sympy

    if any(_abstract(e) for e in (difference, expected, answer)):
        return None  # f, g, h have no values: no point can prove anything
    symbols = {s.name: s for s in (difference.free_symbols | expected.free_symbols | answer.free_symbols)}
    extra = _points(tuple(symbols), random.Random(seed + 1))[:8]
    known = {id(s.point): s for s in samples}
    for point in [s.point for s in samples] + extra:
        if not all(name in point for name in symbols):
            continue
        mapping = {symbols[name]: sympy.Float(point[name], PROOF_DIGITS) for name in symbols}
        values = [_number_at(e, mapping) for e in (difference, expected, answer)]
        if values[0] is None or values[1] is None or values[2] is None:
            continue
        gap, size = abs(values[0]), abs(values[1]) + abs(values[2])
        # SymPy takes the principal (complex) root of a negative number where chainrule takes the
        # real one: a point is a proof only where chainrule's own numbers differ too.
        mine = known.get(id(point)) or sample_at(point)
        if mine is not None and _agrees(mine, 0.0):
            continue
        if gap > PROOF_RTOL * size and gap > 0:
            return ", ".join(f"{name} = {point[name]:g}" for name in symbols)
    return None


# --------------------------------------------------------------------------- diagnosis


Transform = Callable[[_Sample], float | None]


def _diagnose(d: Derivation, graph: Graph, samples: list[_Sample]) -> tuple[Finding, ...]:
    if not samples:
        return (Finding("other", "Your answer is not the derivative."),)
    if d.paths is None or not d.paths:  # too many paths to list, or none: the derivative is 0
        return (_other(d, samples),)
    if any(s.beyond is not None or s.answer_exact is not None for s in samples):  # slips are matched in
        # doubles, which lost the derivative or the answer here
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
    scale = _scale(samples)
    for transform, finding in candidates:
        if _matches(samples, transform, scale):
            return (finding(),)
    for transform, finding in candidates[:-1]:  # a sign error on top of another mistake
        if _matches(samples, _negated(transform), scale):
            return (_sign(d), finding())
    return (_other(d, samples),)


def _layer_candidates(
    d: Derivation, graph: Graph, li: int, k: int, samples: list[_Sample], forms: dict[int, Any]
) -> list[tuple[Transform, Callable[[], Finding]]]:
    """The slips one layer's local derivative allows: left out, taken twice, taken at x."""
    gl = graph.layers[li]
    local = gl.locals[k]  # what a finding's text needs is worked out only for the finding given
    ratio = f"d{gl.name}/d{local.wrt}"

    def factor_x() -> Any:
        return engine.in_variables(graph, local.expression, forms) if forms else local.expression

    def missing(s: _Sample) -> float | None:
        f = _factor(s, li, k)
        return None if f == 0 else s.expected / f

    def extra(s: _Sample) -> float | None:
        return s.expected * _factor(s, li, k)

    def missing_finding() -> Finding:
        first, where = _factor(samples[0], li, k), _where(samples[0].point, d.variable)
        return Finding(
            "missing-factor",
            f"You stopped too early: the layer {gl.name} = {_layer_text(d, li)} contributes the local "
            f"derivative {ratio} = {pretty(factor_x())}, and your answer leaves that factor out "
            f"({where} it is {first:.6g}).",
            plain(factor_x()),
            gl.name,
            first,
        )

    def extra_finding() -> Finding:
        first, where = _factor(samples[0], li, k), _where(samples[0].point, d.variable)
        return Finding(
            "extra-factor",
            f"Your answer multiplies by {ratio} = {pretty(factor_x())} once too often ({where} it is {first:.6g}).",
            plain(factor_x()),
            gl.name,
            first,
        )

    found: list[tuple[Transform, Callable[[], Finding]]] = [(missing, missing_finding), (extra, extra_finding)]
    node = graph.dag[gl.root]
    inner = gl.sources[0] if len(gl.sources) == 1 else None
    if node.kind == "call" and inner is not None and graph.dag[inner].kind != "var" and forms:

        def wrong_point(s: _Sample) -> float | None:
            f = _factor(s, li, k)
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
                gl.name,
                None,
            )

        found.append((wrong_point, wrong_finding))
    return found


def _negated(transform: Transform) -> Transform:
    def negated(s: _Sample) -> float | None:
        value = transform(s)
        return None if value is None else -value

    return negated


def _matches(samples: list[_Sample], transform: Transform, scale: float | None = None) -> bool:
    """Whether the answer is the transformed derivative at every usable sample (at least NEEDED);
    `scale`: _scale(samples), when the caller tries many transforms."""
    usable = 0
    scale = _scale(samples) if scale is None else scale
    for s in samples:
        target = transform(s)
        if target is None:
            continue
        if not _close(s.answer, target, scale):
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
                term *= _factor(s, li, k)
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
    s = max(samples, key=_relative_difference)  # the point that shows the difference best
    answer, expected = _apart(s.answer, s.expected)
    if s.beyond is not None:
        expected = f"{wide.text(s.beyond, 6)}, beyond the range of doubles"
    if s.answer_exact is not None and (s.answer == 0 or not wide.in_range(s.answer)):
        answer = mpmath.nstr(s.answer_exact, 6) if s.answer_exact != 0 else "0"
    return Finding(
        "other",
        f"Your answer is not the derivative, and not one of the usual chain-rule slips: "
        f"{_where(s.point, d.variable)} it gives {answer}, the derivative is {expected}.",
    )


def _relative_difference(s: _Sample) -> float:
    scale = max(abs(s.expected), abs(s.answer))
    return abs(s.answer - s.expected) / scale if scale > 0 and math.isfinite(scale) else 0.0


def _apart(a: float, b: float) -> tuple[str, str]:
    """Two different numbers, with as many digits as it takes for them to read differently."""
    for digits in (6, 9, 12, 15, 17):
        shown = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if shown[0] != shown[1]:
            break
    return shown


def _where(point: dict[str, float], variable: str) -> str:
    return f"at {variable} = {point[variable]:g}"


def _layer_text(d: Derivation, li: int) -> str:
    layer = d.layers[li]
    return form(d.graph.dag, layer.ops, d.graph.names, "pretty")
