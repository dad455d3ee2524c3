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


@dataclass(frozen=True)
class Nudge:
    """The lesson's check: nudge x by h and divide the change by h."""

    h: float
    x0: float
    f0: float
    f1: float | None  # None when f is undefined at x0 + h
    value: float | None
    why: str | None = None  # why there is no nudge: "undefined", or "beyond the range of doubles"


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
                self._exact[digits] = values_mp(self.graph, {k: mpmath.mpf(v) for k, v in self.point.items()})
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


def _nudge(function: Function, wrt: str, f0: float) -> Nudge:
    x0 = function.point[wrt]
    try:
        f1 = function.nudged(wrt, x0 + NUDGE_H)
    except MathError as err:
        why = "beyond the range of doubles" if err.reason is Reason.overflow else "undefined"
        return Nudge(NUDGE_H, x0, f0, None, None, why)
    if not math.isfinite(f0) or not math.isfinite(f1):
        return Nudge(NUDGE_H, x0, f0, None, None, "beyond the range of doubles")
    return Nudge(NUDGE_H, x0, f0, f1, (f1 - f0) / NUDGE_H)


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
        return check(
            ev.graph, ev.point, variable, f0, derivative, ev.beyond(variable), self.at.values, scale, self.function
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
) -> Check:
    """Compare a derivative's value with the nudge and with mpmath.

    `beyond` is the derivative when it is outside the range of doubles
    (`derivative` is then 0.0 or ±inf); `values` are the nodes' values in
    doubles, to tell when one of them underflowed."""
    function = function or Function(graph, point, values)
    nudge = _nudge(function, wrt, f0)
    try:
        exact = function.exact(DIGITS)
        reference = _reference(function, wrt, DIGITS)
        if beyond is not None:
            return _compare_beyond(function, wrt, nudge, reference, beyond)
        lost = function.underflow() if values is not None else None
        if lost is not None and reference != 0 and abs(reference) < SMALL:
            return _undecided(
                nudge,
                f"{lost} underflows in doubles, and the derivative (about {mpmath.nstr(reference, 3)} by "
                f"{METHOD}) is too small for the check to judge",
            )
        if reference != 0 and abs(reference) < SMALL:
            # a small derivative (tanh′(30) ≈ 3.5e-26): compare relatively once more digits confirm it
            finer = _reference(function, wrt, DIGITS + FINER)
            if abs(finer - reference) <= RESOLVED * abs(finer):
                return _relative(nudge, finer, derivative, f"mpmath.diff at {DIGITS + FINER} digits")
            # The reference does not settle: mpmath's step lost it in rounding.  A tiny derivative
            # (a vanishing gradient through hundreds of layers) is resolved with as many digits as
            # its size needs, within the same bound on work as a retry.
            if derivative != 0 and (deep := _deep_reference(function, wrt, derivative)) is not None:
                return _relative(nudge, deep[0], derivative, deep[1])
            noise = float(max(abs(reference), abs(finer)))
            if abs(derivative) <= 10 * noise:
                return Check(
                    nudge, METHOD, 0.0, abs(derivative), None, True, f"the derivative is 0 to within {noise:.1e}"
                )
            return _undecided(nudge, f"the reference does not settle: it is 0 to within {noise:.1e}")
    except MathError:
        return _undecided(nudge, "the function is not defined on both sides")
    result = compare(nudge, float(reference), derivative, scale)
    if result.agrees is False:
        # Before a disagreement is declared, the reference is taken again with more digits (a
        # saturated activation cancels them) and with steps smaller than |x| (beside a corner).
        try:
            confirmed = _retry(function, wrt, nudge, derivative)
        except MathError:
            confirmed = None
        if confirmed is not None:
            return confirmed
    f_exact = exact[graph.output]
    if result.agrees is False and not math.isfinite(f0):
        return _undecided(
            nudge,
            f"the function is beyond the range of doubles here (about {wide.text(wide.from_mpf(f_exact))} at "
            f"{DIGITS} digits), and the check cannot judge a derivative",
        )
    if result.agrees is False and abs(f0 - f_exact) > CONDITION_RTOL * max(1, abs(f_exact)):
        return _undecided(
            nudge,
            f"ill-conditioned: the function is {f0:.10g} in doubles but {float(f_exact):.10g} at {DIGITS} "
            "digits; rounding errors grow so much here that the check cannot judge a derivative",
        )
    return result


def _retry(function: Function, wrt: str, nudge: Nudge, derivative: float) -> Check | None:
    """An agreeing check at finer settings, or None when the disagreement stands."""
    graph, point = function.graph, function.point
    x0 = abs(mpmath.mpf(point[wrt]))
    attempts = [(DIGITS * 2, None), (DIGITS * 3, x0 * mpmath.mpf(2) ** -40 if x0 else None)]
    if x0 > 1e15:
        # far from 0 a step needs the digits of x itself: sin at 1e308 needs about 340
        needed = DIGITS + FINER + int(mpmath.log10(x0))
        if _affordable(needed, len(graph.dag)):
            attempts.append((needed, None))
    if derivative != 0 and abs(derivative) < 1e-20:
        # a tiny slope on a flat function (tanh at 205: 3.5e-178): as many digits as its size needs
        needed = DIGITS + FINER + int(-math.log10(abs(derivative)))
        if _affordable(needed, len(graph.dag)):
            attempts.append((needed, None))
    if math.isfinite(derivative) and abs(derivative) > 1e6:
        # a steep function (tanh(10·tanh(10·…x)) at 0: slope 1e100) is linear only over a step
        # smaller than 1/slope: such a step, and the digits that x0 + step needs
        needed = DIGITS + 10 + int(math.log10(abs(derivative)) + max(0.0, float(mpmath.log10(x0)) if x0 else 0.0))
        if _affordable(needed, len(graph.dag)):
            attempts.append((needed, mpmath.mpf(2) ** -30 / abs(derivative)))
    for digits, step in attempts:
        reference = _reference(function, wrt, digits, step)
        how = f"mpmath.diff at {digits} digits" + (f", step {mpmath.nstr(step, 3)}" if step is not None else "")
        if reference == 0 and derivative == 0:
            return Check(nudge, how, 0.0, 0.0, None, True)
        if reference != 0 and (check := _relative(nudge, reference, derivative, how)).agrees:
            return check
    return None


def _deep_reference(function: Function, wrt: str, derivative: float) -> tuple[Any, str] | None:
    """The reference of a tiny derivative at as many digits as its size needs, when it settles:
    (value, method); None when that is too much work or it does not settle."""
    digits = DIGITS + FINER + max(0, int(-math.log10(abs(derivative))))
    if not _affordable(digits, len(function.graph.dag)):
        return None
    first = _reference(function, wrt, digits)
    second = _reference(function, wrt, digits + FINER)
    if second != 0 and abs(first - second) <= RESOLVED * abs(second):
        return second, f"mpmath.diff at {digits + FINER} digits"
    return None


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


def compare(nudge: Nudge, reference: float, derivative: float, scale: float) -> Check:
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
    return Check(nudge, METHOD, reference, abs_error, rel_error, agrees, note)


def _reference(function: Function, wrt: str, digits: int, step: Any = None) -> Any:
    """mpmath.diff of the function alone at `digits` digits (with its own step, or `step`)."""
    with mpmath.workdps(digits):
        options = {} if step is None else {"h": step}
        x0 = mpmath.mpf(function.point[wrt])
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
        fixed = {k: mpmath.mpf(v) for k, v in point.items()}
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
