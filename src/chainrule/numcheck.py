"""Checks of a derivative's value that do not use the chain rule.

* The lesson's nudge: a forward difference with h = 0.001, as the seed shows
  it ((2x+1)² at 3 gives 28.004 against 28).
* An accurate check: the function alone is evaluated in mpmath at 30 digits
  and differentiated numerically by mpmath.diff (which works at raised
  precision), so its error is far below double precision.

The check says when it cannot decide.  When the values disagree and the
function's value in doubles differs from its value at 30 digits beyond 1e-9,
rounding errors are amplified too much at this point (an ill-conditioned
expression, such as a chaotic composition) to blame the chain rule.  When a
value underflows in doubles and the derivative is below the tolerance, the
check cannot resolve it.  A derivative smaller than the absolute tolerance, a
vanishing gradient, is only confirmed to be close to 0.
"""

from __future__ import annotations

import functools
import math
from collections import ChainMap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath

from chainrule import engine, wide
from chainrule.errors import MathError, Reason
from chainrule.graph import Graph
from chainrule.interpret import FloatBackend, MpBackend, evaluate
from chainrule.point import mpf_of, mpf_point
from chainrule.steps import Evaluation

NUDGE_H = 0.001
DIGITS = 30
RTOL = 1e-8
SMALL = 1e-10  # a reference below this is confirmed with more digits before it is compared
CONDITION_RTOL = 1e-9  # the function's value in doubles must be this close to its value at DIGITS
METHOD = f"mpmath.diff at {DIGITS} digits"
FINER = 20  # more digits, to confirm a small reference
SCALE_RTOL = 1e-12  # rounding allowed relative to the size of the terms a derivative sums
RESOLVED = 1e-9  # two references this close are resolved
MAX_DIGIT_NODES = 2_000_000  # digits × nodes the check may spend on a derivative below the range of doubles
MAX_DIGITS = 3_000  # and digits at most: exp and ln cost far more than linearly in them (e^-424000 at
#                     184,000 digits took a whole 5-second budget)


def _affordable(digits: int, nodes: int) -> bool:
    """Whether a reference at `digits` digits through `nodes` nodes is within the check's means."""
    return digits <= MAX_DIGITS and digits * nodes <= MAX_DIGIT_NODES


NUDGE_CLOSE = 0.01  # the nudge is close to the derivative within this, relative to max(1, |derivative|)


@dataclass(frozen=True)
class Nudge:
    """The lesson's check: nudge x by h and divide the change by h."""

    h: float
    x0: float
    f0: float
    f1: float | None  # None when f is undefined at x0 + h
    value: float | None
    why: str | None = None  # why there is no nudge: "undefined", or "beyond the range of doubles"
    close: bool | None = None  # whether the nudge is within NUDGE_CLOSE of the derivative (None: no nudge)
    gap: str | None = None  # when it is not close, why a forward difference is far from the slope here


@dataclass(frozen=True)
class Check:
    nudge: Nudge
    method: str
    value: float | None
    abs_error: float | None
    rel_error: float | None
    agrees: bool | None
    note: str | None = None
    reference_beyond: wide.Wide | None = None  # the reference, when it is beyond the range of doubles


def evaluate_mp(graph: Graph, point: Mapping[str, Any]) -> Any:
    """The function's value in mpmath at the working precision (the output only)."""
    return values_mp(graph, point)[graph.output]


def values_mp(graph: Graph, point: Mapping[str, Any]) -> list[Any]:
    """Every DAG node's value in mpmath at the working precision."""
    values = evaluate(graph.dag, MpBackend(point, graph.source))
    return [values[i] for i in range(len(graph.dag))]


class Function:
    """The function alone at one point, as the checks use it: its value with one variable moved.

    The nodes that do not depend on the moved variable keep their values at the point, computed
    once per precision (and in doubles, given by the forward pass), and only the nodes downstream
    of the variable are evaluated again.  Checking a sample of the 10,000 partials of a network
    then costs, for each, the nodes its variable reaches, not the whole graph three times over.
    It is the same function: only values that cannot change are reused.
    """

    def __init__(self, graph: Graph, point: Mapping[str, float], doubles: Sequence[float] | None = None) -> None:
        self.graph = graph
        self.point = point
        self._point = dict(point)  # beneath a moved variable (ChainMap)
        self._doubles = doubles
        self._exact: dict[int, list[Any]] = {}  # digits -> every node's value
        self._lost: tuple[str | None] | None = None  # underflow(), once found

    def exact(self, digits: int) -> list[Any]:
        """Every node's value at the point, at `digits` digits."""
        if digits not in self._exact:
            with mpmath.workdps(digits):
                self._exact[digits] = values_mp(self.graph, mpf_point(self.point))
        return self._exact[digits]

    def underflow(self) -> str | None:
        """The first node whose value in doubles is below their range, by its value at DIGITS."""
        if self._doubles is None:
            return None
        if self._lost is None:
            self._lost = (_underflow(self.graph, self._doubles, self.exact(DIGITS)),)
        return self._lost[0]

    def moved(self, wrt: str, t: Any, digits: int) -> Any:
        """The output with `wrt` at t, in mpmath at the working precision; the other nodes as at
        the point at `digits` digits."""
        return self._output(wrt, MpBackend(ChainMap({wrt: t}, self._point), self.graph.source), self.exact(digits))

    def nudged(self, wrt: str, x: float) -> float:
        """The output in doubles with `wrt` at x (a MathError where it has no value)."""
        if self._doubles is None:
            return engine.evaluate(self.graph, {**self.point, wrt: x})[self.graph.output]
        return float(self._output(wrt, FloatBackend(ChainMap({wrt: x}, self._point), self.graph.source), self._doubles))

    def _output(self, wrt: str, backend: Any, base: Sequence[Any]) -> Any:
        graph = self.graph
        index = graph.variable_index(wrt)
        if index < 0:
            return base[graph.output]
        ops = graph.downstream(index)
        if graph.output not in ops:
            return base[graph.output]
        # Constants are evaluated again at the working precision: an exponent of 1/3 must stay
        # exactly the 1/3 that makes x^(1/3) a real odd root.
        inside = set(ops)
        for i in list(inside):
            for a in graph.dag[i].args:
                if a not in inside and graph.constant[a]:
                    inside.update(graph.subtree(a))
        given = {a: base[a] for i in inside for a in graph.dag[i].args if a not in inside}
        return evaluate(graph.dag, backend, sorted(inside), given)[graph.output]


def _nudge(function: Function, wrt: str, f0: float, derivative: float | None = None) -> Nudge:
    x0 = function.point[wrt]
    h = NUDGE_H
    try:
        f1 = function.nudged(wrt, x0 + h)
    except MathError as err:
        why = "beyond the range of doubles" if err.reason is Reason.overflow else "undefined"
        return Nudge(h, x0, f0, None, None, why)
    if not math.isfinite(f0) or not math.isfinite(f1):
        return Nudge(h, x0, f0, None, None, "beyond the range of doubles")
    value = (f1 - f0) / h
    if derivative is None or not math.isfinite(derivative):
        return Nudge(h, x0, f0, f1, value)
    gap = abs(value - derivative)
    if gap <= NUDGE_CLOSE * max(1.0, abs(derivative)):
        return Nudge(h, x0, f0, f1, value, close=True)
    return Nudge(h, x0, f0, f1, value, close=False, gap=_why_apart(function, wrt, f0, f1, derivative, gap))


def _why_apart(function: Function, wrt: str, f0: float, f1: float, derivative: float, gap: float) -> str:
    """Why a forward difference is far from the slope at this point: a pole or a jump within h, or
    the curvature of f over h (estimated from f at x + 2h: the error is about h·|f″|/2)."""
    h = NUDGE_H
    if f0 * f1 < 0 and abs(derivative) * h > 2 * max(abs(f0), abs(f1)):
        return (
            f"f changes sign between x and x + h far faster than its slope at x allows: a pole or a jump "
            f"lies within h = {h:g}, so the nudge measures nothing; the accurate check decides"
        )
    try:
        f2 = function.nudged(wrt, function.point[wrt] + 2 * h)
    except MathError:
        return (
            f"f is not defined at x + 2h, close to x: a domain edge lies within {2 * h:g}; the accurate check decides"
        )
    curvature = (f2 - 2 * f1 + f0) / (h * h)
    expected = h * abs(curvature) / 2
    if math.isfinite(curvature) and 0.2 * gap <= expected <= 5 * gap:
        return (
            f"f curves over h = {h:g}: f″ ≈ {curvature:.4g}, so a forward difference is off by about "
            f"h·|f″|/2 = {expected:.3g}; the accurate check decides"
        )
    return (
        f"f changes too fast over h = {h:g} for a forward difference to approximate its slope (a pole, a "
        "jump or a sharp bend is near); the accurate check decides"
    )


class Checker:
    """The checks of partial derivatives at an evaluation's point.  What does not depend on the
    variable is found once and shared: the function's values at the point (`Function`), the size
    of the terms each partial sums, and the first value lost below the range of doubles."""

    def __init__(self, ev: Evaluation) -> None:
        assert ev.at is not None and ev.point is not None, "a check needs a point"
        self.ev = ev
        self.at = ev.at
        self.function = Function(ev.graph, ev.point, ev.at.values)

    @functools.cached_property
    def _sizes(self) -> dict[int, float]:
        return engine.magnitudes(self.ev.graph, self.at)

    def __call__(self, variable: str) -> Check:
        ev = self.ev
        f0 = self.at.values[ev.graph.output]
        derivative = ev.adjoint(variable) or 0.0
        scale = self._sizes.get(ev.graph.variable_index(variable), 0.0)
        assert ev.point is not None
        index = ev.graph.variable_index(variable)
        zero = self.at.exact is not None and self.at.exact.adjoints.get(index) == 0.0
        return check(
            ev.graph,
            ev.point,
            variable,
            f0,
            derivative,
            ev.beyond(variable),
            self.at.values,
            scale,
            self.function,
            zero,
        )


def check_at(ev: Evaluation, variable: str) -> Check | None:
    """The checks of d(output)/d(variable) at the evaluation's point; None without one."""
    if ev.at is None or ev.point is None:
        return None
    return Checker(ev)(variable)


def check(
    graph: Graph,
    point: Mapping[str, float],
    wrt: str,
    f0: float,
    derivative: float,
    beyond: wide.Wide | None = None,
    values: Sequence[float] | None = None,
    scale: float = 0.0,
    function: Function | None = None,
    exactly_zero: bool = False,
) -> Check:
    """Compare a derivative's value with the nudge and with mpmath.

    `beyond` is the derivative when it is outside the range of doubles
    (`derivative` is then 0.0 or ±inf); `values` are the nodes' values in
    doubles, to tell when one of them underflowed; `scale` is the size of the terms the derivative
    sums (rounding is relative to it); `exactly_zero`, that the exact pass proved the derivative 0."""
    function = function or Function(graph, point, values)
    nudge = _nudge(function, wrt, f0, None if beyond is not None else derivative)
    scale = scale if math.isfinite(scale) else 0.0  # terms that overflow doubles give no rounding floor
    try:
        exact = function.exact(DIGITS)
        if beyond is not None:
            return _compare_beyond(function, wrt, nudge, _reference(function, wrt, DIGITS), beyond)
        f_exact = exact[graph.output]
        settled = _settle(function, wrt, derivative, scale, f_exact)
    except MathError:
        return _undecided(nudge, "the function is not defined on both sides")
    if isinstance(settled, str):
        return _undecided(nudge, settled)
    reference, method, noise = settled
    lost = function.underflow() if values is not None else None
    if noise is not None:  # the reference is 0 to within its own precision
        if abs(derivative) <= noise:
            why = (
                "the derivative is exactly 0 at this exact point; "
                if exactly_zero
                else "the derivative is 0 to within the reference's precision; "
            )
            return Check(
                nudge,
                method,
                float(reference),
                abs(derivative - float(reference)),
                None,
                True,
                f"{why}{method} gives {mpmath.nstr(reference, 2)}, 0 to within {mpmath.nstr(noise, 2)}",
            )
        if lost is not None:
            return _undecided(nudge, f"{lost} underflows in doubles, and {method} cannot resolve the derivative")
    if reference != 0 and (abs(reference) < SMALL or abs(reference) > 1e300):
        result = _relative(nudge, reference, derivative, method)
        if result.agrees is False and abs(derivative - reference) <= SCALE_RTOL * scale:
            result = compare(nudge, float(reference), derivative, scale, method)
    else:
        result = compare(nudge, float(reference), derivative, scale, method)
    if result.agrees is False and not math.isfinite(f0):
        return _undecided(
            nudge,
            f"the function is beyond the range of doubles here (about {wide.text(wide.from_mpf(f_exact))} at "
            f"{DIGITS} digits), and the check cannot judge a derivative",
        )
    if result.agrees is False and _ill_conditioned(f0, f_exact):
        return _undecided(
            nudge,
            f"ill-conditioned: the function is {f0:.10g} in doubles but {float(f_exact):.10g} at {DIGITS} "
            "digits; rounding errors grow so much here that the check cannot judge a derivative",
        )
    return result


def _ill_conditioned(f0: float, f_exact: Any) -> bool:
    """Whether the function's value in doubles is off its value at DIGITS digits beyond rounding:
    relatively, since a tiny f (x·sin(1/x²) at 1e-100) is as ill-conditioned as a large one."""
    gap = abs(f0 - f_exact)
    return bool(gap > CONDITION_RTOL * max(abs(f_exact), abs(f0)) and gap > 1e-300)


def _plan(function: Function, wrt: str, derivative: float, scale: float, f_value: Any) -> tuple[int, Any]:
    """The digits and the step a reference needs here: more digits where the terms of the
    derivative cancel (scale ≫ |f′|), where f is huge beside its change (x + e^500), far from 0
    (sin at 1e308); a step relative to |x| where |x| is below mpmath's own step (a corner at 0
    beside x = 1e-200), and within 1/|f′| where f is steep; and the digits that step costs."""
    x0 = abs(mpf_of(function.point, wrt))
    digits = float(DIGITS)
    size = abs(derivative) if math.isfinite(derivative) else 0.0
    if size > 0:
        cancels = math.log10(scale) - math.log10(size) if scale > size else 0.0
        if cancels > 3:
            digits += cancels  # the terms cancel: ln(cosh x) − x at 45
        huge = float(mpmath.log10(abs(f_value))) - math.log10(size) if f_value != 0 else 0.0
        if huge > 3:
            digits += huge  # f huge beside its change: x + e^500
    if x0 > 1e15:
        digits += float(mpmath.log10(x0))  # sin at 1e308 needs the digits of x itself
    step = None
    candidates = []
    if 0 < x0 < mpmath.mpf(10) ** -DIGITS:
        candidates.append(x0 * mpmath.mpf(2) ** -20)  # mpmath's own step would straddle 0
    if size > 1e6:
        candidates.append(mpmath.mpf(2) ** -30 / size)  # steep: linear only within 1/|f′|
    if candidates:
        step = min(candidates)
        digits += max(0.0, float(mpmath.log10(mpmath.mpf(10) ** -DIGITS / step)))
    return math.ceil(min(digits, 10.0 * MAX_DIGITS)), step


def _settle(function: Function, wrt: str, derivative: float, scale: float, f_value: Any) -> tuple[Any, str, Any] | str:
    """The reference, settled: mpmath.diff at the planned digits and step, confirmed at FINER more
    digits (and a smaller step).  (value, method, None) when the two agree to RESOLVED; (value,
    method, noise) when both are 0 to within their precision `noise`; the digits are doubled once
    when they do neither.  A reason (text) when it does not settle or costs too much."""
    digits, step = _plan(function, wrt, derivative, scale, f_value)
    nodes = len(function.graph.dag)
    for attempt in range(2):
        if not _affordable(digits + FINER, nodes):
            return (
                f"the reference needs {digits + FINER:,} digits through {nodes:,} nodes, more than the check may spend"
            )
        first = _reference(function, wrt, digits, step)
        second = _reference(function, wrt, digits + FINER, None if step is None else step / 16)
        method = f"mpmath.diff at {digits + FINER} digits" if digits != DIGITS or attempt else METHOD
        if step is not None:
            method += f", step {mpmath.nstr(step / 16, 3)}"
        if abs(first - second) <= RESOLVED * max(abs(first), abs(second)):
            return second, method, None
        with mpmath.workdps(digits + FINER):
            noise = mpmath.mpf(10) ** (5 - digits) * max(
                mpmath.mpf(scale), abs(mpmath.mpf(f_value)), mpmath.mpf(1e-300)
            )
        if abs(first) <= noise and abs(second) <= noise:
            return second, method, noise
        if abs(second) < abs(first) < SMALL:  # shrinking with the step (x³ at 0: h²): 0 to within the larger
            return second, method, abs(first)
        digits *= 2
    shown = f"{mpmath.nstr(first, 3)} and {mpmath.nstr(second, 3)}"
    return f"the reference does not settle: {shown} at {digits // 2} and {digits // 2 + FINER} digits"


def _underflow(graph: Graph, values: Sequence[float], exact: list[Any]) -> str | None:
    """The first node whose value is below the range of doubles: 'u2 = exp(-1000) ≈ 5.08e-435'."""
    for i, (double, value) in enumerate(zip(values, exact, strict=True)):
        if wide.beyond(double, value) and abs(double) < wide.MIN_NORMAL:  # below the range, not above
            name = graph.names.get(i, graph.dag[i].text or graph.dag[i].kind)
            return f"{name} ≈ {mpmath.nstr(value, 3)}"
    return None


def _undecided(nudge: Nudge, note: str) -> Check:
    """No verdict: the accurate check has no value to compare with, for the reason in the note."""
    return Check(nudge, METHOD, None, None, None, None, note=note)


def compare(nudge: Nudge, reference: float, derivative: float, scale: float, method: str = METHOD) -> Check:
    """Agreement to RTOL relative to the reference, or to SCALE_RTOL relative to the size of the
    terms the chain rule added (`scale`: the sum over paths of the products of |local factors|),
    which is the most a sum that cancels can be trusted to."""
    if not math.isfinite(reference):
        return _undecided(nudge, "the reference value is not finite")
    abs_error = abs(derivative - reference)
    rel_error = abs_error / abs(reference) if reference != 0 else None
    floor = SCALE_RTOL * scale
    agrees = abs_error <= floor + RTOL * abs(reference)
    note = None
    if agrees and (rel_error is None or rel_error > RTOL) and abs_error > 0:
        note = f"the values agree to {floor:.1e}, the size of the rounding in a sum of terms up to {scale:.1e}"
    return Check(nudge, method, reference, abs_error, rel_error, agrees, note)


def _reference(function: Function, wrt: str, digits: int, step: Any = None) -> Any:
    """mpmath.diff of the function alone at `digits` digits (with its own step, or `step`)."""
    with mpmath.workdps(digits):
        options = {} if step is None else {"h": step}
        x0 = mpf_of(function.point, wrt)
        return mpmath.diff(lambda t: function.moved(wrt, t, digits), x0, **options)


def _relative(nudge: Nudge, reference: Any, derivative: Any, method: str) -> Check:
    """Agreement to RTOL relative to a resolved reference, at any size."""
    with mpmath.workdps(DIGITS):
        abs_error = abs(mpmath.mpf(derivative) - reference)
        rel_error = abs_error / abs(reference)
    return Check(nudge, method, float(reference), float(abs_error), float(rel_error), bool(rel_error <= RTOL))


def _compare_beyond(function: Function, wrt: str, nudge: Nudge, reference: Any, beyond: wide.Wide) -> Check:
    """A derivative outside the range of doubles, checked relatively: below the range, at as many
    digits as resolve it (a 1,000-sigmoid chain's 4.3e-649 needs about 680), within MAX_DIGITS."""
    ours = mpmath.mpf(beyond.mantissa) * mpmath.mpf(10) ** beyond.exponent
    method = METHOD
    if beyond.exponent < 0:
        digits = DIGITS + FINER - beyond.exponent
        nodes = len(function.graph.dag)
        if not _affordable(digits, nodes):
            return _undecided(
                nudge,
                f"the derivative, about 1e{beyond.exponent}, needs {digits:,} digits through {nodes:,} "
                "nodes to resolve, more than the check may spend",
            )
        reference = _reference(function, wrt, digits)
        method = f"mpmath.diff at {digits:,} digits"
    elif abs(_reference(function, wrt, DIGITS + FINER) - reference) > RESOLVED * abs(reference):
        return _undecided(
            nudge,
            f"the derivative, about 1e{beyond.exponent}, is beyond the range of doubles, and {METHOD} does not settle",
        )
    if reference == 0:
        return _undecided(nudge, f"the reference is 0 at {method}")
    check = _relative(nudge, reference, ours, method)
    return Check(
        nudge, method, float(reference), None, check.rel_error, check.agrees, reference_beyond=wide.from_mpf(reference)
    )


# --------------------------------------------------------------------------- one-sided limits

LIMIT_DIGITS = 80
LIMIT_STEPS = ("1e-30", "1e-40")  # the difference quotient at both must agree for a limit to exist
LIMIT_RTOL = 1e-8
ZERO = 1e-25  # a one-sided derivative this small is 0 (the quotients' error is about h)


@dataclass(frozen=True)
class Side:
    """The derivative from one side, by the limit definition: (f(x ± h) − f(x))/(±h) as h → 0."""

    value: float | None  # None when there is no limit
    why: str | None = None  # why there is none: "f is not defined there", "the slope is infinite"


def one_sided(graph: Graph, point: Mapping[str, float], wrt: str) -> tuple[Side, Side]:
    """The derivatives from the left and from the right, from the function alone, at 80 digits.

    Independent of the chain rule: it needs no local factor, so it answers where a
    layer has a corner that the function as a whole does not (x·|x| at 0)."""
    with mpmath.workdps(LIMIT_DIGITS):
        fixed = mpf_point(point)
        x0 = fixed[wrt]
        f0 = evaluate_mp(graph, fixed)
        sides = []
        for sign in (-1, 1):
            try:
                steps = [sign * mpmath.mpf(h) for h in LIMIT_STEPS]
                q = [(evaluate_mp(graph, {**fixed, wrt: x0 + h}) - f0) / h for h in steps]
            except MathError:
                sides.append(Side(None, "the function is not defined on that side"))
                continue
            if abs(q[0] - q[1]) > LIMIT_RTOL * max(1, abs(q[1])):
                sides.append(Side(None, "the slope is infinite" if abs(q[1]) > abs(q[0]) else "it does not settle"))
                continue
            value = float(q[1])
            sides.append(Side(0.0 if abs(value) < ZERO else value))
    return sides[0], sides[1]
