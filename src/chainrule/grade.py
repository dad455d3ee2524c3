"""``check``: grade a hand-derived derivative and name the mistake.

The verdict compares the answer with the chain rule's derivative at several
seeded points of the function's real domain, in mpmath at raised precision
(so that an answer off by a relative 10⁻¹² is wrong), and symbolically within
a time budget.  A point is in the real domain when chainrule's own evaluation
of the expression, its derivative and the answer all give real numbers there;
what SymPy says at a point outside it (where its principal roots are complex)
proves nothing.

When the answer is wrong, the layers explain why.  Each mistake of the
catalogue (:mod:`chainrule.mistakes`) is a transformation of the right
derivative's local factors: one left out or taken twice, an outer derivative
taken at the wrong point, inside and outside swapped, a slip in the power rule, the
opposite sign, or two of these at once.  The one that reproduces the answer
at every point the diagnosis reads is the diagnosis.  Those points are ones a
student can read (x = 1, 0.5, 2, −1, …) where the values are moderate, and the
message shows the first of them where the slip is visible.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
import statistics
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath

from chainrule import engine, huge, interpret, mistakes, wide
from chainrule.budget import attempt
from chainrule.derive import EXPAND_LIMIT, Derivation, choose_variable, derive
from chainrule.errors import InputError, MathError, Reason, UsageError, quoted
from chainrule.graph import Graph, Layer, build_graph
from chainrule.interpret import FloatBackend, SympyBackend, evaluate
from chainrule.numcheck import evaluate_mp
from chainrule.printing import form, plain, pretty
from chainrule.rules import RULES, Rule
from chainrule.syntax import Node, parse

SCALES = (0.05, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)  # sample points are drawn at every scale of these
POINTS = 12  # sample points wanted
DEEP = 2_000  # layers: beyond this, each point's pass through every layer costs enough that
DEEP_POINTS = 6  # fewer points are drawn (a 10,000-deep chain: 0.1 s a point)
TRIES = 150  # candidate points drawn at most
NEEDED = 3  # usable points for a numerical verdict

# The verdict, in mpmath.
EXACT_DIGITS = 40  # the derivative and the answer are compared at this many digits
FINER = (80, 160)  # and a disagreement is confirmed at these many (a right answer that cancels agrees there)
EXACT_RTOL = 1e-15  # relative agreement that makes a point agree: 1e-12 apart is wrong
SIZE_RTOL = 1e-30  # and rounding allowed relative to the size of the terms the chain rule sums
EXACT_FLOOR = 1e-25  # values below this fraction of the derivative's typical size at the samples count as 0
PROOF_DIGITS = 50  # a symbolic difference is evaluated at this many digits
PROOF_RTOL = 1e-30
MAX_DIGIT_NODES = 2_000_000  # digits × nodes that confirming a tiny constant difference may spend
MAX_DIGITS = 2_000

# The diagnosis, in doubles, at points a student can read.
READABLE = (1.0, 0.5, 2.0, -1.0, -0.5, 1.5, -2.0, 0.25, 3.0, -1.5, 0.75, -0.25, 2.5, -3.0, 0.1, 4.0, -0.75, 5.0)
SHOWN = 8  # readable points the diagnosis reads at most
DEEP_SHOWN = 2  # for a graph deeper than DEEP (each costs a pass through every layer)
MODERATE = 1e6  # a point is read where |the derivative| is within [1/MODERATE, MODERATE]
RTOL = 1e-8  # relative agreement of the answer and a slip at a point
FLOOR = 1e-12  # a difference below this fraction of the terms the derivative sums at a point counts as 0
VISIBLE = 1e-3  # a slip is shown where it changes the derivative by this much, relatively
LONG = 60  # nodes: a formula larger than this is shown by its outermost function only
MAX_STEPS = 60  # steps of a path whose slips are tried (the outermost and innermost halves of a longer one)
MAX_PAIRS = 60  # single slips beyond which two at once are not tried


@dataclass(frozen=True)
class Finding:
    kind: str  # a key of the catalogue (mistakes.KINDS)
    message: str
    factor: str | None = None  # the factor in question, in the variables
    layer: str | None = None  # the layer it belongs to, by name (as diff and graph show it)
    value: float | None = None  # its value at the point shown
    formula: str | None = None  # that layer's formula in the variables (check's output does not list layers)
    at: dict[str, float] | None = None  # the point the message shows

    @property
    def title(self) -> str:
        return mistakes.title(self.kind)


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
class _Exact:
    """The derivative (by the chain rule) and the answer at a point, in mpmath."""

    expected: Any
    answer: Any
    size: Any  # the sum of |terms| the derivative adds up: rounding in a sum that cancels is relative to it
    digits: int

    def agrees(self, floor: float = 0.0) -> bool:
        """Agreement relative to the numbers, to the terms the chain rule sums, or to `floor` (both
        far below the derivative's typical size: a right answer that cancels all its digits there)."""
        gap = abs(self.answer - self.expected)
        if abs(self.answer) <= floor and abs(self.expected) <= floor:
            return True
        return bool(gap <= EXACT_RTOL * max(abs(self.answer), abs(self.expected)) + SIZE_RTOL * self.size)


class _Sample:
    """The chain rule's pass and the answer at one point of both real domains, in doubles (what
    the diagnosis reads) and, when asked for, in mpmath (what the verdict reads)."""

    def __init__(self, point: dict[str, float], expected: float, answer: float, at: engine.Pass, sampler: _Sampler):
        self.point = point
        self.expected = expected
        self.answer = answer
        self.at = at
        self._sampler = sampler

    @functools.cached_property
    def exact(self) -> _Exact | None:
        """At EXACT_DIGITS digits (None where mpmath finds no real value, at the very edge of a
        domain): computed once it is needed, since on a deep chain it costs a pass."""
        return self._sampler.exact(self.point, EXACT_DIGITS)

    def known(self) -> bool:
        """Whether the numbers in mpmath are computed already."""
        return "exact" in self.__dict__

    @property
    def factors(self) -> list[engine.Factors]:
        return self.at.factors

    def faithful(self) -> bool:
        """Whether doubles hold every number of the pass and the answer (nothing beyond their range)."""
        at = self.at
        return not (at.beyond or at.values_beyond or at.factors_beyond) and math.isfinite(self.answer)

    def moderate(self) -> bool:
        """Whether the derivative is a number of moderate size here, and the answer finite."""
        size = abs(self.expected)
        return self.faithful() and 1 / MODERATE <= size <= MODERATE and abs(self.answer) <= MODERATE**2


class _Sampler:
    """The derivative (by the chain rule) and the answer at a point, in chainrule's own conventions
    (real odd roots); None outside either real domain."""

    def __init__(self, graph: Graph, answer_graph: Graph, variable: str) -> None:
        self.graph = graph
        self.answer_graph = answer_graph
        self.variable = variable
        self.wrt = graph.variable_index(variable)
        self.deep = len(graph.layers) > DEEP
        self.floor = 0.0  # values below this count as 0 (set from the samples: EXACT_FLOOR of their typical size)

    def __call__(self, point: dict[str, float], exact: bool = True) -> _Sample | None:
        """The sample at a point; with `exact`, only where mpmath finds real numbers too (a point at the
        edge of a domain in doubles may be just outside it)."""
        graph, answer_graph = self.graph, self.answer_graph
        try:
            try:
                answer = engine.evaluate(answer_graph, point)[answer_graph.output]
            except MathError as err:  # beyond the range of doubles: the verdict compares in mpmath
                if err.reason is not Reason.overflow:
                    raise
                answer = math.inf
            at = engine.run(graph, point, (self.variable,), steps=False)
        except MathError:  # outside a domain (never a timeout: that ends the check)
            return None
        sample = _Sample(point, at.adjoints.get(self.wrt, 0.0), answer, at, self)
        if exact:
            found = self.exact(point, EXACT_DIGITS)
            if found is None:
                return None
            sample.__dict__["exact"] = found  # the cached_property's value
        return sample

    def exact(self, point: dict[str, float], digits: int) -> _Exact | None:
        """The derivative and the answer at `digits` digits; None where either has no real value."""
        try:
            with mpmath.workdps(digits):
                answer = +evaluate_mp(self.answer_graph, point)
                expected, size = engine.exact_derivative(self.graph, point, self.variable)
                return _Exact(expected, answer, size, digits)
        except MathError:
            return None

    def settled(self, s: _Sample) -> bool | None:
        """Whether the answer is the derivative at this point, in mpmath; None when rounding there
        is too large to tell.  A disagreement at EXACT_DIGITS is confirmed with more digits (FINER):
        a right answer that cancels 50 digits ((x + 10⁵⁰) − 10⁵⁰) agrees there."""
        before = s.exact
        if before is None:
            return None
        if before.agrees(self.floor):
            return True
        for digits in FINER if not self.deep else FINER[:1]:
            finer = self.exact(s.point, digits)
            if finer is None:
                return None
            if finer.agrees(self.floor):
                return True
            with mpmath.workdps(digits):
                # The numbers moved by this much since the previous precision; a loss of digits to
                # cancellation leaves these numbers that much more exact, 10^-(digits added) times.
                moved = abs(finer.answer - before.answer) + abs(finer.expected - before.expected)
                error = moved * mpmath.mpf(10) ** (before.digits - digits)
                unsure = error > EXACT_RTOL * max(abs(finer.answer), abs(finer.expected))
            before = finer
        return None if unsure else False


def seed_of(expression: str, answer: str, variable: str) -> int:
    """The sample points' seed: a function of the inputs, reported with the verdict."""
    return zlib.crc32("\0".join((expression, answer, variable)).encode())


def _points(variables: tuple[str, ...], rng: random.Random) -> list[dict[str, float]]:
    """Candidate points at every scale, both signs, for every variable."""
    return [{v: float(f"{rng.uniform(-1.0, 1.0) * rng.choice(SCALES):.4g}") for v in variables} for _ in range(TRIES)]


def _readable_points(variables: tuple[str, ...]) -> list[dict[str, float]]:
    """Points a student can read, the variable's simplest values first; other variables step along
    the same list from elsewhere, so that no two variables are equal."""
    n = len(READABLE)
    return [{v: READABLE[(i + 3 * j) % n] for j, v in enumerate(variables)} for i in range(n)]


def _samples(variables: tuple[str, ...], sample_at: _Sampler, seed: int, wanted: int = POINTS) -> list[_Sample]:
    """Up to `wanted` points where the function, its derivative and the answer all have real values.
    Their numbers in mpmath are computed when the verdict reads them."""
    found: list[_Sample] = []
    for point in _points(variables, random.Random(seed)):
        if (sample := sample_at(point, exact=False)) is not None:
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
    if wrt is not None and wrt not in expr.variables():  # xy --wrt x reads as diff reads it
        expr = parse(expression, letters=frozenset({wrt}))
    variable = choose_variable(expr, wrt)
    try:  # the expression's variables are the answer's letters: 2xy is 2·x·y when x and y are variables
        answer_tape = parse(answer, answer=True, letters=frozenset({*expr.variables(), variable}))
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
    sampler = _Sampler(graph, answer_graph, variable)
    deep = len(graph.layers) > DEEP
    variables = tuple(dict.fromkeys((variable, *graph.variables)))
    samples = _samples(variables, sampler, seed, DEEP_POINTS if deep else POINTS)
    sampler.floor = EXACT_FLOOR * _scale(samples)
    answer_expr = _in_variables(answer_graph)
    verdict, method = _verdict(samples, d.derivative, answer_expr, seed, sampler, variables)
    diagnosis: tuple[Finding, ...] = ()
    if verdict == "wrong":
        diagnosis = _diagnose(d, graph, samples, sampler, variables, deep)
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
    expected: Any,
    answer: Any,
    seed: int,
    sampler: _Sampler,
    variables: tuple[str, ...],
) -> tuple[str, str]:
    """(verdict, how it was reached).  A proof wins over numbers: a point of the real domain where
    chainrule's numbers and SymPy's at 50 digits both differ, or SymPy's simplification of the
    difference (0, or a constant chainrule's numbers confirm).  Without a proof or enough points
    inside both domains, the verdict is 'undecided', never 'wrong'."""
    where = f"at {len(samples)} points (seed {seed})"
    if expected is not None and answer is not None and not _abstract(expected - answer):
        # first, since a wrong answer then needs no simplification
        point = _nonzero_at(expected - answer, expected, answer, samples, seed, sampler, variables)
        if point is not None:
            return "wrong", f"symbolically: the difference is not 0 at {point}"
    difference = _symbolic_difference(expected, answer)
    if difference is not None and difference == 0:
        return "correct", "symbolically" + (f" and numerically {where}" if samples else "")
    if difference is not None and difference.is_number and difference.is_zero is False:
        if _constant_holds(difference, samples, sampler):
            return "wrong", f"symbolically: the answer differs from the derivative by the constant {pretty(difference)}"
    elif difference is not None and _abstract(difference):
        # f′ has no values to sample, and an answer cannot name f′: it must equal the chain
        # rule's form for every f, and this difference is not 0 as an expression in f.
        return "wrong", "symbolically: the difference is not 0 for every f"
    if len(samples) >= NEEDED:
        unsure = 0
        for s in samples:
            agrees = sampler.settled(s)
            if agrees is False:
                return "wrong", f"numerically {where}"
            unsure += agrees is None
        if len(samples) - unsure >= NEEDED:
            return "correct", f"numerically {where}"
        return (
            "undecided",
            f"neither symbolically nor numerically: at {unsure} of {len(samples)} points (seed {seed}) "
            "rounding is too large to compare",
        )
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


def _constant_holds(difference: Any, samples: list[_Sample], sampler: _Sampler) -> bool:
    """Whether chainrule's own numbers confirm that the answer differs from the derivative by this
    constant.  SymPy reads (−1)^(1/3) as a complex number where chainrule reads −1: a constant that
    is not real, or that chainrule's numbers do not show, proves nothing.  A tiny constant (1e-200)
    is looked for with as many digits as it needs."""
    import sympy

    if difference.is_real is not True:
        return False
    value = attempt(0.5, lambda: sympy.N(difference, 30))
    if value is None or not value.is_Number or not value.is_finite:
        return False
    if not samples:
        return True  # a constant answer to a constant expression: nothing to evaluate differently
    with mpmath.workdps(30):
        constant = mpmath.mpf(sympy.Float(value, 30)._mpf_)
    nodes = len(sampler.graph.dag) + len(sampler.answer_graph.dag)
    for s in samples[:3]:
        first = s.exact
        if first is None:
            continue
        with mpmath.workdps(EXACT_DIGITS):
            size = max(abs(first.expected), abs(first.answer), first.size, mpmath.mpf(1))
            digits = EXACT_DIGITS + max(0, int(mpmath.log10(size / abs(constant))))
        if digits > MAX_DIGITS or digits * nodes > MAX_DIGIT_NODES:
            return True  # too small to see at an affordable precision: SymPy's real constant stands
        found = sampler.exact(s.point, digits)
        if found is None:
            continue
        with mpmath.workdps(digits):
            if abs((found.expected - found.answer) - constant) <= 1e-6 * abs(constant):
                return True
    return False


def _nonzero_at(
    difference: Any,
    expected: Any,
    answer: Any,
    samples: list[_Sample],
    seed: int,
    sampler: _Sampler,
    variables: tuple[str, ...],
) -> str | None:
    """A point where the symbolic difference is, at 50 digits, clearly not 0, and chainrule's own
    numbers differ too: a proof that the answer is not the derivative.  Only points of the real
    domain count (where chainrule finds real values of the expression, its derivative and the answer):
    SymPy's principal roots make sinh(acosh(t)) complex below t = 1, where the function has no value.
    Readable points are tried first, then the samples and more seeded points, where the values are
    moderate (SymPy's adaptive precision can run out of memory at x = -30 in erf(x³)-like forms)."""
    import sympy

    if any(_abstract(e) for e in (difference, expected, answer)):
        return None  # f, g, h have no values: no point can prove anything
    symbols = {s.name: s for s in (difference.free_symbols | expected.free_symbols | answer.free_symbols)}
    if not set(symbols) <= set(variables):
        return None
    readable = _readable_points(variables)[:6]
    extra = _points(variables, random.Random(seed + 1))[:8]
    known = {id(s.point): s for s in samples}
    for point in readable + [s.point for s in samples] + extra:
        mine = known.get(id(point)) or sampler(point)
        if mine is None or not mine.moderate() or sampler.settled(mine) is not False:
            continue  # outside the real domain, where SymPy's numbers may run away, or where chainrule's agree
        mapping = {symbols[name]: sympy.Float(point[name], PROOF_DIGITS) for name in symbols}
        values = [_number_at(e, mapping) for e in (difference, expected, answer)]
        if values[0] is None or values[1] is None or values[2] is None:
            continue
        gap, size = abs(values[0]), abs(values[1]) + abs(values[2])
        if gap > PROOF_RTOL * size and gap > 0:
            return _point_text(point, variables)
    return None


# --------------------------------------------------------------------------- diagnosis


Step = tuple[int, int]  # (layer index, input slot)
Changes = dict[Step, float]  # the local factors a slip gives, where they differ from the right ones


@dataclass(frozen=True)
class _Slip:
    """One candidate mistake: the local factors it changes at a point (None where it has none), and
    the finding it stands for, worded at the point shown (written only for the slip that matches)."""

    changes: Callable[[_Sample], Changes | None]
    finding: Callable[[_Sample], Finding]
    steps: frozenset[Step]


def _diagnose(
    d: Derivation, graph: Graph, samples: list[_Sample], sampler: _Sampler, variables: tuple[str, ...], deep: bool
) -> tuple[Finding, ...]:
    cases = _cases(samples, sampler, variables, deep)
    words = _Words(d, graph)
    if not cases:
        return (_other(d, words, samples, cases),)
    if len(cases) < NEEDED or not d.paths:  # too many paths to list, or none: the derivative is 0
        return (_other(d, words, samples, cases),)
    # Rounding in doubles is relative to the size of the terms the derivative sums at each point
    # (not to the derivative, when they cancel; not to a median over points of wildly different size).
    wrt = graph.variable_index(d.variable)
    floors = [FLOOR * engine.magnitudes(graph, s.at).get(wrt, 0.0) for s in cases]
    if all(_close(s.answer, s.expected, floor) for s, floor in zip(cases, floors, strict=True)):
        # the answer differs from the derivative by less than doubles resolve: no slip is that small
        return (_other(d, words, samples, cases),)
    sums = _PathSums(d.paths, cases)
    singles = _singles(d, graph, words)
    # Per slip, the slipped derivative at each point (None where the slip has no value there).
    table = [sums.totals([slip.changes(s) for s in cases]) for slip in singles]

    def matches(values: list[float | None], sign: bool = False) -> bool:
        return _matches(cases, [None if v is None else -v if sign else v for v in values], floors)

    if len(d.paths) > 1 and (term := _missing_path(d, words, cases, floors)) is not None:
        return (term,)  # a term of the product rule forgotten: before any slip inside a term
    for slip, values in zip(singles, table, strict=True):
        if matches(values):
            return (slip.finding(_shown(cases, values)),)
    if matches([s.expected for s in cases], sign=True):
        return (words.sign(),)
    for slip, values in zip(singles, table, strict=True):
        if matches(values, sign=True):
            return (words.sign(), slip.finding(_shown(cases, values)))
    if (ratio := _ratio(cases, floors)) is not None:
        return _ratio_findings(ratio, words)
    if len(singles) > MAX_PAIRS:
        return (_other(d, words, samples, cases),)
    pairs = [(a, b, sums.totals(changes)) for a, b, changes in _pairs(singles, cases)]
    for sign in (False, True):
        for first, second, values in pairs:
            if matches(values, sign):
                at = _shown(cases, values)
                return (*((words.sign(),) if sign else ()), first.finding(at), second.finding(at))
    return (_other(d, words, samples, cases),)


def _cases(samples: list[_Sample], sampler: _Sampler, variables: tuple[str, ...], deep: bool) -> list[_Sample]:
    """The points the diagnosis reads: readable ones where the values are moderate, then seeded
    samples where they are; points where doubles lost a number only when there are no others."""
    wanted = DEEP_SHOWN if deep else SHOWN
    readable: list[_Sample] = []
    for point in _readable_points(variables)[: wanted if deep else 2 * wanted + 2]:
        if (s := sampler(point, exact=False)) is not None and s.moderate():
            readable.append(s)
            if len(readable) == wanted:
                break
    cases = readable + [s for s in samples if s.moderate()][: max(0, wanted - len(readable))]
    if len(cases) < NEEDED:
        cases += [s for s in samples if s.faithful() and not s.moderate()][: NEEDED - len(cases)]
    return cases


def _scale(samples: Sequence[_Sample]) -> float:
    """The typical size of the derivative at the points (the median, which a few huge values
    at far points do not move): what 'close to 0' is measured against."""
    sizes = [abs(s.expected) for s in samples if math.isfinite(s.expected)]
    return statistics.median(sizes) if sizes else 0.0


def _close(a: float, b: float, floor: float) -> bool:
    """Relative agreement, so that x/10⁹ and 2x/10⁹ differ; a difference below `floor` counts as 0."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return a == b
    return abs(a - b) <= RTOL * max(abs(a), abs(b)) + floor


def _matches(cases: list[_Sample], values: list[float | None], floors: list[float]) -> bool:
    """Whether the answer is the slipped derivative at every point where the slip has a value (at
    least NEEDED of them)."""
    usable = 0
    for s, value, floor in zip(cases, values, floors, strict=True):
        if value is None:
            continue
        if not _close(s.answer, value, floor):
            return False
        usable += 1
    return usable >= min(NEEDED, len(cases))


def _shown(cases: list[_Sample], values: list[float | None]) -> _Sample:
    """The first point (the most readable) where the slip changes the derivative visibly."""
    for s, value in zip(cases, values, strict=True):
        if value is not None and abs(value - s.expected) > VISIBLE * max(abs(value), abs(s.expected)):
            return s
    return cases[0]


class _PathSums:
    """The derivative at each point as the sum over paths of the products of local factors, and the
    same sum with some factors changed by a slip."""

    def __init__(self, paths: tuple[engine.Path, ...], cases: list[_Sample]) -> None:
        self.paths = [p.steps for p in paths]
        self.cases = cases
        self.members = [set(p) for p in self.paths]
        self.products = [[math.prod(_factor(s, step) for step in p) for p in self.paths] for s in cases]

    def totals(self, changes: list[Changes | None]) -> list[float | None]:
        """The slipped derivative at each point, from the changes a slip makes there."""
        return [None if c is None else self.total(i, c) for i, c in enumerate(changes)]

    def total(self, i: int, changes: Changes) -> float | None:
        s = self.cases[i]
        total = 0.0
        for steps, members, product in zip(self.paths, self.members, self.products[i], strict=True):
            changed = [step for step in changes if step in members]
            if not changed:
                total += product
                continue
            if all(_factor(s, step) != 0 for step in changed):
                term = product
                for step in changed:
                    term = term / _factor(s, step) * changes[step]
            else:
                term = math.prod(changes.get(step, _factor(s, step)) for step in steps)
            total += term
        return total if math.isfinite(total) else None


def _factor(s: _Sample, step: Step) -> float:
    """A local factor on a path from the variable: always computed."""
    factor = s.factors[step[0]][step[1]]
    assert factor is not None, "factors on the paths from the variable are always computed"
    return factor


def _path_steps(d: Derivation) -> list[tuple[Step, tuple[Step, ...]]]:
    """Each step of the paths once, outer first, with the steps below it on its first path; on a
    long chain, the outermost and innermost MAX_STEPS / 2."""
    assert d.paths is not None
    seen: dict[Step, tuple[Step, ...]] = {}
    for path in d.paths:
        for i, step in enumerate(path.steps):
            seen.setdefault(step, path.steps[i + 1 :])
    steps = list(seen.items())
    if len(steps) > MAX_STEPS:
        steps = steps[: MAX_STEPS // 2] + steps[-MAX_STEPS // 2 :]
    return steps


def _singles(d: Derivation, graph: Graph, words: _Words) -> list[_Slip]:
    """Every single slip the layers on the paths allow, outer layer first: a factor left out or taken
    twice (one layer's, or the whole inner function's), an outer derivative at the wrong point, a
    slip in the power rule, inside and outside swapped."""
    found: list[_Slip] = []
    for step, below in _path_steps(d):
        li, k = step
        layer = graph.layers[li]
        local = layer.locals[k].expression
        constant = not local.free_symbols
        if not (constant and abs(local) == 1):
            found.append(_Slip(_left_out((step,)), words.missing((step,)), frozenset({step})))
            found.append(_Slip(_twice((step,)), words.extra((step,)), frozenset({step})))
        if len(layer.sources) == 1 and not constant:
            found += _wrong_points(graph, words, step, below)
        found += _power_slips(graph, words, step)
        if len(layer.sources) == 1 and _chain(graph, step, below, words.variable):
            if len(below) > 1:  # the whole inner function's derivative, left out or taken twice
                found.append(_Slip(_left_out(below), words.missing(below), frozenset(below)))
                found.append(_Slip(_twice(below), words.extra(below), frozenset(below)))
            found.append(_swapped(graph, words, step, below))
    return found


def _left_out(steps: tuple[Step, ...]) -> Callable[[_Sample], Changes | None]:
    def changes(s: _Sample) -> Changes | None:
        return dict.fromkeys(steps, 1.0)

    return changes


def _twice(steps: tuple[Step, ...]) -> Callable[[_Sample], Changes | None]:
    def changes(s: _Sample) -> Changes | None:
        return {step: _factor(s, step) * _factor(s, step) for step in steps}  # inf, not OverflowError, when huge

    return changes


def _chain(graph: Graph, step: Step, below: tuple[Step, ...], variable: str) -> bool:
    """Whether the steps below a layer are a chain of one-input layers from the variable up to it."""
    if not below:
        return False
    above = graph.layers[step[0]].sources[step[1]]
    for li, k in below:
        layer = graph.layers[li]
        if len(layer.sources) != 1 or layer.root != above:
            return False
        above = layer.sources[k]
    return above == graph.variable_index(variable)


def _layer_at(graph: Graph, layer: Layer, t: float) -> tuple[float, float] | None:
    """A one-input layer's value and local derivative with its input at t; None where it has none."""
    backend = FloatBackend({}, graph.source)
    try:
        values = interpret.evaluate(graph.dag, backend, layer.ops, {layer.sources[0]: t})
        return values[layer.root], engine.local_factors(graph, layer, values, None, backend)[0]
    except MathError:
        return None


def _safely(work: Callable[[], float]) -> float | None:
    """A slip's factor, or None where it has no value (outside a domain)."""
    try:
        value = work()
    except MathError:
        return None
    return value if math.isfinite(value) else None


def _slope_at(graph: Graph, layer: Layer, t: float) -> float | None:
    found = _layer_at(graph, layer, t)
    return None if found is None else found[1]


def _wrong_points(graph: Graph, words: _Words, step: Step, below: tuple[Step, ...]) -> list[_Slip]:
    """The outer derivative of a layer taken at x, or at a layer further in, instead of at its input;
    or at the inner function's derivative (cos(2x) for sin(x²))."""
    layer = graph.layers[step[0]]
    source = layer.sources[0]
    if graph.dag[source].kind == "var":
        return []  # taken at x is taken at its input
    wrt = graph.variable_index(words.variable)
    lower = [graph.layers[b[0]].sources[b[1]] for b in below[:3]]  # the inputs of the layers further in
    places = [i for i in dict.fromkeys([wrt, *lower]) if i != source and i >= 0]
    found: list[_Slip] = []
    for place in places:

        def changes(s: _Sample, place: int = place) -> Changes | None:
            slope = _slope_at(graph, layer, s.at.values[place])
            return None if slope is None else {step: slope}

        found.append(_Slip(changes, words.wrong_point(step, place), frozenset({step})))
    if below and lower and graph.dag[lower[0]].kind == "var" and lower[0] == wrt:
        inner = below[0]  # the inner layer is a function of x: its local factor is its derivative

        def at_slope(s: _Sample, inner: Step = inner) -> Changes | None:
            slope = _slope_at(graph, layer, _factor(s, inner))
            return None if slope is None else {step: slope}

        found.append(_Slip(at_slope, words.wrong_point(step, None, inner), frozenset({step})))
    return found


def _swapped(graph: Graph, words: _Words, outer: Step, inside: tuple[Step, ...]) -> _Slip:
    """Inside and outside swapped: for f(g(x)), the derivative of g(f(x)), g′(f(x))·f′(x), where g is
    the chain of layers below f (`inside`, outer first); the layers above f are as they are."""
    layer_o = graph.layers[outer[0]]
    wrt = graph.variable_index(words.variable)

    def changes(s: _Sample) -> Changes | None:
        outside = _layer_at(graph, layer_o, s.at.values[wrt])
        if outside is None:
            return None
        at, slope = outside
        found = {outer: slope}
        for step in reversed(inside):  # g's layers from the inside out, starting at f(x)
            here = _layer_at(graph, graph.layers[step[0]], at)
            if here is None:
                return None
            at, found[step] = here
        return found

    return _Slip(changes, words.swapped(outer), frozenset({outer, *inside}))


class _Overridden(FloatBackend):
    """Doubles, with one node's partial replaced by the slope a slip gives it."""

    def __init__(self, source: str, node: Node, k: int, slope: Callable[[FloatBackend, tuple[Any, ...]], float]):
        super().__init__({}, source)
        self.target, self.k, self.slope = node, k, slope

    def partial(self, node: Node, rule: Rule, k: int, args: tuple[Any, ...]) -> Any:
        if node is self.target and k == self.k:
            return self.slope(self, args)
        return super().partial(node, rule, k, args)


_POWER = RULES["pow"]
_ROOTS = {"sqrt": Fraction(1, 2), "cbrt": Fraction(1, 3)}


def _power_slips(graph: Graph, words: _Words, step: Step) -> list[_Slip]:
    """Slips in the power rule at a power inside the layer: uⁿ → n·uⁿ (the exponent kept) or uⁿ⁻¹
    (its factor left out); √u and ∛u are powers too.  And on an exponential: aᵘ → u·aᵘ⁻¹ (the power
    rule where the exponent varies) or aᵘ without ln(a)."""
    li, k = step
    layer = graph.layers[li]
    dag = graph.dag
    found: list[_Slip] = []

    def slip(node: Node, slot: int, slope: Callable[[FloatBackend, tuple[Any, ...]], float], words_of: Any) -> None:
        backend = _Overridden(graph.source, node, slot, slope)

        def changes(s: _Sample) -> Changes | None:
            factor = _safely(lambda: engine.local_factors(graph, layer, s.at.values, None, backend)[k])
            return None if factor is None else {step: factor}

        found.append(_Slip(changes, words_of, frozenset({step})))

    for i in layer.ops:
        node = dag[i]
        varies = [not graph.constant[a] for a in node.args]
        if node.kind == "pow" and varies == [True, False]:
            base, exponent = node.args

            def kept(b: FloatBackend, args: tuple[Any, ...], node: Node = node) -> float:
                return float(args[1] * b.apply(node, _POWER, (args[0], args[1])))

            def dropped(b: FloatBackend, args: tuple[Any, ...], node: Node = node) -> float:
                return float(b.apply(node, _POWER, (args[0], args[1] - 1)))

            slip(node, 0, kept, words.power(step, base, exponent, None, "kept"))
            if words.sym(exponent) != -1:  # leaving out the factor −1 is a sign error
                slip(node, 0, dropped, words.power(step, base, exponent, None, "coefficient"))
        elif node.kind == "call" and node.text in _ROOTS:
            n = float(_ROOTS[node.text])

            def kept_root(b: FloatBackend, args: tuple[Any, ...], node: Node = node, n: float = n) -> float:
                return float(n * b.apply(node, _POWER, (args[0], n)))

            def dropped_root(b: FloatBackend, args: tuple[Any, ...], node: Node = node, n: float = n) -> float:
                return float(b.apply(node, _POWER, (args[0], n - 1)))

            root = _ROOTS[node.text]
            slip(node, 0, kept_root, words.power(step, node.args[0], None, root, "kept"))
            slip(node, 0, dropped_root, words.power(step, node.args[0], None, root, "coefficient"))
        elif node.kind == "div" and varies == [False, True]:  # c/u = c·u⁻¹

            def kept_reciprocal(b: FloatBackend, args: tuple[Any, ...]) -> float:
                return float(-args[0] / args[1])

            slip(node, 1, kept_reciprocal, words.power(step, node.args[1], None, Fraction(-1), "kept"))
        elif (node.kind == "pow" and varies == [False, True]) or (node.kind == "call" and node.text == "exp"):
            slot = 1 if node.kind == "pow" else 0

            def as_power(b: FloatBackend, args: tuple[Any, ...], node: Node = node, slot: int = slot) -> float:
                base = args[0] if slot == 1 else math.e
                return float(args[slot] * b.apply(node, _POWER, (base, args[slot] - 1)))

            slip(node, slot, as_power, words.exponential(step, i, "exponential"))
            if node.kind == "pow" and not (dag[node.args[0]].kind == "const" and dag[node.args[0]].text == "e"):

                def without_ln(b: FloatBackend, args: tuple[Any, ...], node: Node = node) -> float:
                    return float(b.apply(node, _POWER, (args[0], args[1])))

                slip(node, 1, without_ln, words.exponential(step, i, "logarithm"))
    return found


def _pairs(singles: list[_Slip], cases: list[_Sample]) -> Iterable[tuple[_Slip, _Slip, list[Changes | None]]]:
    """Two slips at once, at different steps: the outer derivative at x and the inner factor left out."""
    rows = [[slip.changes(s) for s in cases] for slip in singles]
    for (a, ra), (b, rb) in itertools.combinations(zip(singles, rows, strict=True), 2):
        if a.steps & b.steps:
            continue
        yield a, b, [None if p is None or q is None else {**p, **q} for p, q in zip(ra, rb, strict=True)]


def _ratio(cases: list[_Sample], floors: list[float]) -> float | None:
    """The constant c when the answer is c times the derivative at every point (c not ±1 or 0)."""
    ratios = [
        s.answer / s.expected for s, f in zip(cases, floors, strict=True) if s.expected != 0 and abs(s.expected) > f
    ]
    if len(ratios) < min(NEEDED, len(cases)) or not ratios:
        return None
    c = ratios[0]
    if c == 0 or not math.isfinite(c) or abs(abs(c) - 1) <= RTOL:
        return None
    return c if all(abs(r - c) <= RTOL * abs(c) for r in ratios) else None


def _constant(c: float) -> tuple[str, Any | None]:
    """A positive constant factor as a person writes it (2, 3/2, π/2, ln(10)) and as a SymPy number;
    else its value to 6 digits, and None."""
    import sympy

    for unit in (sympy.Integer(1), sympy.pi, sympy.E, sympy.log(2), sympy.log(10)):
        for times in (True, False):
            scaled = c / float(unit) if times else c * float(unit)
            q = Fraction(scaled).limit_denominator(100)
            if q != 0 and abs(q.numerator) <= 10_000 and abs(float(q) - scaled) <= 1e-9 * abs(scaled):
                number = sympy.Rational(q.numerator, q.denominator) * (unit if times else 1 / unit)
                return pretty(number), number
    return f"{c:.6g}", None


def _ratio_findings(c: float, words: _Words) -> tuple[Finding, ...]:
    """The answer is c times the derivative: an extra factor of c, or a missing one of 1/c (a
    logarithm's 1/ln(10) left out is said so, not as an extra ln(10))."""
    import sympy

    sign = (words.sign(),) if c < 0 else ()
    size = abs(c)
    text, value = _constant(size)
    logs = set(value.atoms(sympy.log)) if value is not None else set()
    expected = words.d.derivative
    if size > 1 and not (logs and expected is not None and logs <= expected.atoms(sympy.log)):
        return (*sign, Finding("extra-factor", mistakes.EXTRA_FACTOR.say("constant", factor=text), text))
    text, _ = _constant(1 / size)
    return (*sign, Finding("missing-factor", mistakes.MISSING_FACTOR.say("constant", factor=text), text))


def _missing_path(d: Derivation, words: _Words, cases: list[_Sample], floors: list[float]) -> Finding | None:
    """The answer is the sum over all paths but one: a term of the product or quotient rule is missing."""
    assert d.paths is not None
    for path in d.paths:
        without: list[float | None] = [s.expected - math.prod(_factor(s, step) for step in path.steps) for s in cases]
        if _matches(cases, without, floors):
            term = words.term(path.steps)
            return Finding(
                "other",
                mistakes.OTHER.say(
                    "term", variable=d.variable, count=len(d.paths), term=term, rule=_branching(d, path.steps)
                ),
                term,
            )
    return None


_RULES_BY_NAME = {
    "product": "the product rule",
    "quotient": "the quotient rule",
    "sum": "the sum rule",
    "difference": "the sum rule",
}


def _branching(d: Derivation, steps: tuple[Step, ...]) -> str:
    """The rule at the outermost layer where this path meets another one: the product rule for x·sin(x)."""
    graph = d.graph
    for li, k in steps:
        layer = graph.layers[li]
        if len(layer.sources) > 1:
            return _RULES_BY_NAME.get(layer.locals[k].rule, "the chain rule, along every input")
    return "the chain rule, along every input"


def _sign_finding(hint: str) -> Finding:
    return Finding("sign", mistakes.SIGN.say(hint=hint))


def _other(d: Derivation, words: _Words, samples: list[_Sample], cases: list[_Sample]) -> Finding:
    """Not a known slip: the values at the most readable point where they differ (in mpmath when
    doubles do not show the difference, or lost a number beyond their range)."""
    floor = samples[0]._sampler.floor if samples else 0.0
    for s in cases:
        if abs(s.answer - s.expected) > VISIBLE * max(abs(s.answer), abs(s.expected)):
            answer, expected = _apart(s.answer, s.expected)
            return _other_at(d, s, answer, expected)
    for s in cases:
        if s.exact is not None and not s.exact.agrees(floor):
            return _other_exact(d, s)
    known = [s for s in samples if s.known() and s.exact is not None and not s.exact.agrees(floor)]
    for s in samples if not known else []:
        if s.exact is not None and not s.exact.agrees(floor):
            known = [s]
            break
    if not known:
        return Finding("other", mistakes.OTHER.say("plain"))
    return _other_exact(d, max(known, key=_relative_difference))


def _other_exact(d: Derivation, s: _Sample) -> Finding:
    exact = s.exact
    assert exact is not None
    answer, expected = _apart_exact(exact.answer, exact.expected)
    if wide.beyond(float(exact.expected), exact.expected):
        expected += ", beyond the range of doubles"
    if wide.beyond(float(exact.answer), exact.answer):
        answer += ", beyond the range of doubles"
    return _other_at(d, s, answer, expected)


def _other_at(d: Derivation, s: _Sample, answer: str, expected: str) -> Finding:
    return Finding(
        "other",
        mistakes.OTHER.say(where=_where(s.point, d.variable), answer=answer, expected=expected),
        at=dict(s.point),
    )


def _relative_difference(s: _Sample) -> Any:
    e = s.exact
    assert e is not None
    with mpmath.workdps(EXACT_DIGITS):
        scale = max(abs(e.expected), abs(e.answer))
        return abs(e.answer - e.expected) / scale if scale > 0 else mpmath.mpf(0)


def _apart(a: float, b: float) -> tuple[str, str]:
    """Two different numbers, with as many digits as it takes for them to read differently."""
    for digits in (6, 9, 12, 15, 17):
        shown = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if shown[0] != shown[1]:
            break
    return shown


def _apart_exact(a: Any, b: Any) -> tuple[str, str]:
    """The same for mpmath numbers, up to 30 digits."""
    for digits in (6, 9, 12, 15, 18, 21, 25, 30):
        shown = mpmath.nstr(a, digits), mpmath.nstr(b, digits)
        if shown[0] != shown[1]:
            break
    return shown


def _point_text(point: dict[str, float], variables: Sequence[str]) -> str:
    return ", ".join(f"{name} = {point[name]:g}" for name in variables if name in point)


def _where(point: dict[str, float], variable: str) -> str:
    others = [name for name in point if name != variable]
    return "at " + _point_text(point, [variable, *others])


def _num(value: float) -> str:
    return f"{value:.6g}"


# --------------------------------------------------------------------------- wording


class _Words:
    """The findings' text, with every layer named by its formula in the variables: check's output
    does not list the layers, so u1 and u2 would name nothing a reader can see."""

    def __init__(self, d: Derivation, graph: Graph) -> None:
        self.d = d
        self.graph = graph
        self.variable = d.variable
        self.forms: dict[int, Any] = {}
        if len(graph.layers) <= EXPAND_LIMIT:
            self.forms, _ = engine.expand_in_variables(graph)
        self.roots = {layer.root: li for li, layer in enumerate(graph.layers)}

    # formulas ------------------------------------------------------------------------

    def text(self, index: int) -> str:
        """A node's formula in the variables, as the user wrote it; the outermost function only
        (sin(…)) when the formula is long."""
        graph = self.graph
        subtree = graph.subtree(index)
        if len(subtree) <= LONG:
            return form(graph.dag, subtree, {}, "pretty")
        if index in self.roots:
            layer = graph.layers[self.roots[index]]
            return form(graph.dag, layer.ops, {s: "…" for s in layer.sources}, "pretty")
        return "…"

    def sym(self, index: int) -> Any:
        """A node's formula in the variables, as a SymPy expression."""
        import sympy

        if index in self.forms:
            return self.forms[index]
        subtree = self.graph.subtree(index)
        if len(subtree) <= LONG:
            return evaluate(self.graph.dag, SympyBackend(), subtree)[index]
        return sympy.Symbol("…")

    def in_x(self, expr: Any) -> Any:
        """An expression in the layers' symbols, in the variables (a layer too large to write out is …)."""
        import sympy

        graph = self.graph
        if self.forms:
            expr = engine.in_variables(graph, expr, self.forms)
        layers = {graph.names[layer.root]: layer.root for layer in graph.layers}
        mapping = {
            symbol: self.forms.get(layers[symbol.name], sympy.Symbol("…"))
            for symbol in expr.free_symbols
            if symbol.name in layers
        }
        return expr.xreplace(mapping)

    def in_u(self, layer: Layer, expr: Any) -> Any:
        """An expression in a one-input layer's input, written in u (as the rules are)."""
        return expr.xreplace({self.graph.symbol(self.graph.names[layer.sources[0]]): _u()})

    def rule(self, layer: Layer, k: int) -> str:
        """The layer's rule in u: d/du sin(u) = cos(u)."""
        outer, derivative = self.in_u(layer, layer.expression), self.in_u(layer, layer.locals[k].expression)
        return f"d/du {pretty(outer)} = {pretty(derivative)}"

    # findings ------------------------------------------------------------------------

    def _factor_of(self, steps: tuple[Step, ...]) -> Any:
        """The product of the steps' local derivatives, in the variables."""
        import sympy

        return self.in_x(sympy.Mul(*(self.graph.layers[li].locals[k].expression for li, k in steps)))

    def missing(self, steps: tuple[Step, ...]) -> Callable[[_Sample], Finding]:
        """The factor of one step left out, or of a chain of steps (the whole inner function's)."""

        def finding(s: _Sample) -> Finding:
            li, k = steps[0]
            graph = self.graph
            layer = graph.layers[li]
            factor = self._factor_of(steps)
            value = math.prod(_factor(s, step) for step in steps)
            where = _where(s.point, self.variable)
            bottom = graph.layers[steps[-1][0]].sources[steps[-1][1]]
            if len(steps) == 1 and layer.root == graph.output and len(layer.sources) == 1:
                message = mistakes.MISSING_FACTOR.say(
                    "outer", rule=self.rule(layer, k), factor=pretty(factor), where=where, value=_num(value)
                )
            else:
                message = mistakes.MISSING_FACTOR.say(
                    inner=self.text(layer.root),
                    input=self.text(bottom),
                    factor=pretty(factor),
                    where=where,
                    value=_num(value),
                )
            return self._finding("missing-factor", message, steps[0], plain(factor), value, s)

        return finding

    def extra(self, steps: tuple[Step, ...]) -> Callable[[_Sample], Finding]:
        def finding(s: _Sample) -> Finding:
            layer = self.graph.layers[steps[0][0]]
            factor = self._factor_of(steps)
            value = math.prod(_factor(s, step) for step in steps)
            message = mistakes.EXTRA_FACTOR.say(
                factor=pretty(factor),
                inner=self.text(layer.root),
                where=_where(s.point, self.variable),
                value=_num(value),
            )
            return self._finding("extra-factor", message, steps[0], plain(factor), value, s)

        return finding

    def wrong_point(self, step: Step, place: int | None, inner: Step | None = None) -> Callable[[_Sample], Finding]:
        """The outer derivative at `place` (a variable or a layer further in), or, with `inner`, at
        the inner layer's derivative."""

        def finding(s: _Sample) -> Finding:
            li, k = step
            graph = self.graph
            layer = graph.layers[li]
            source_symbol = graph.symbol(graph.names[layer.sources[0]])
            local = layer.locals[k].expression
            if place is not None:
                at_text, at_sym, at_value = self.text(place), self.sym(place), s.at.values[place]
            else:
                assert inner is not None
                inner_layer = graph.layers[inner[0]]
                at_sym = self.in_x(inner_layer.locals[inner[1]].expression)
                at_text = f"{pretty(at_sym)}, the derivative of {self.text(inner_layer.root)}"
                at_value = _factor(s, inner)
            wrong = local.xreplace({source_symbol: at_sym})
            right = self.in_x(local)
            wrong_value = _slope_at(graph, layer, at_value)
            message = mistakes.WRONG_POINT.say(
                rule=self.rule(layer, k),
                right_at=self.text(layer.sources[0]),
                wrong_at=at_text,
                wrong=pretty(wrong),
                right=pretty(right),
                where=_where(s.point, self.variable),
                wrong_value=_num(wrong_value) if wrong_value is not None else "undefined",
                right_value=_num(_factor(s, step)),
            )
            return self._finding("wrong-point", message, step, plain(wrong), wrong_value, s)

        return finding

    def swapped(self, outer: Step) -> Callable[[_Sample], Finding]:
        def finding(s: _Sample) -> Finding:
            graph = self.graph
            layer_o = graph.layers[outer[0]]
            x = graph.symbol(self.variable)
            f_of_x = self.in_u(layer_o, layer_o.expression).xreplace({_u(): x})
            g_of_f = self.sym(layer_o.sources[0]).xreplace({x: f_of_x})
            message = mistakes.SWAPPED.say(
                swapped=pretty(g_of_f),
                composition=self.text(layer_o.root),
                outer=pretty(self.in_u(layer_o, layer_o.expression)),
                inner=f"u = {self.text(layer_o.sources[0])}",
            )
            return self._finding("swapped", message, outer, None, None, s)

        return finding

    def power(
        self, step: Step, base: int, exponent: int | None, root: Fraction | None, form_: str
    ) -> Callable[[_Sample], Finding]:
        """A power-rule slip at a power of `base`: by the exponent node, or a root's fixed exponent."""

        def finding(s: _Sample) -> Finding:
            import sympy

            n = self.sym(exponent) if exponent is not None else sympy.Rational(root.numerator, root.denominator)  # type: ignore[union-attr]
            u = _u()
            b = self.sym(base)
            rule = pretty(n * u ** (n - 1))
            wrong = n * b**n if form_ == "kept" else b ** (n - 1)
            right = n * b ** (n - 1)
            n_sup = interpret.superscript(str(n)) if n.is_Integer else f"^({pretty(n)})"
            message = mistakes.POWER_RULE.say(
                None if form_ == "kept" else "coefficient",
                n_sup=n_sup,
                n=pretty(n),
                rule=rule,
                base=self.text(base),
                wrong=pretty(wrong),
                right=pretty(right),
            )
            return self._finding("power-rule", message, step, plain(wrong), None, s)

        return finding

    def exponential(self, step: Step, node: int, form_: str) -> Callable[[_Sample], Finding]:
        """A slip of the rule for aᵘ or eᵘ at `node`."""

        def finding(s: _Sample) -> Finding:
            import sympy

            dag = self.graph.dag
            n = dag[node]
            if n.kind == "pow":
                base_sym, u_index = self.sym(n.args[0]), n.args[1]
                base_text = self.text(n.args[0])
            else:
                base_sym, u_index, base_text = sympy.E, n.args[0], "e"
            u = _u()
            g = self.sym(u_index)
            right = base_sym**g * sympy.log(base_sym)
            if form_ == "exponential":
                rule = pretty(base_sym**u * sympy.log(base_sym))
                wrong = g * base_sym ** (g - 1)
            else:
                rule = ""
                wrong = base_sym**g
            message = mistakes.POWER_RULE.say(
                form_,
                base=base_text if len(base_text) == 1 or base_text.isalnum() else f"({base_text})",
                exponent=self.text(u_index),
                rule=rule,
                wrong=pretty(wrong),
                right=pretty(right),
            )
            return self._finding("power-rule", message, step, plain(wrong), None, s)

        return finding

    def sign(self) -> Finding:
        """The sign slip, with the factor whose sign to check: a rule with a minus sign on the
        path (d/du cos(u) = −sin(u)), or else an inner function whose derivative is negative."""
        graph = self.graph
        assert self.d.paths
        steps = self.d.paths[0].steps
        for li, k in steps:
            local = graph.layers[li].locals[k]
            if "−" in local.identity and local.rule not in ("difference", "negation"):
                return _sign_finding(f" Check the rule: {local.identity}.")
        for li, k in steps:
            layer = graph.layers[li]
            expression = layer.locals[k].expression
            if expression.could_extract_minus_sign():
                factor = pretty(self.in_x(expression))
                return _sign_finding(f" Check the sign of the derivative of {self.text(layer.root)}: it is {factor}.")
        return _sign_finding("")

    def term(self, steps: tuple[Step, ...]) -> str:
        import sympy

        product = sympy.Mul(*(self.graph.layers[li].locals[k].expression for li, k in steps))
        return pretty(self.in_x(product))

    def _finding(
        self, kind: str, message: str, step: Step, factor: str | None, value: float | None, s: _Sample
    ) -> Finding:
        layer = self.graph.layers[step[0]]
        return Finding(
            kind,
            message,
            factor,
            layer.name,
            value,
            plain(self.sym(layer.root)) if layer.root in self.forms else self.text(layer.root),
            dict(s.point),
        )


@functools.cache
def _u() -> Any:
    import sympy

    return sympy.Symbol("u")
