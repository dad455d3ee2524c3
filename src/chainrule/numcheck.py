"""Checks of a derivative's value that do not use the chain rule.

* The lesson's nudge: a forward difference with h = 0.001, as the seed shows
  it ((2x+1)² at 3 gives 28.004 against 28).
* An accurate check: the function alone is evaluated in mpmath at 30 digits
  and differentiated numerically by mpmath.diff (which works at raised
  precision), so its error is far below double precision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import mpmath

from chainrule.engine import evaluate
from chainrule.errors import ChainruleError
from chainrule.graph import Graph, rule_of

NUDGE_H = 0.001
DIGITS = 30
RTOL = 1e-8
ATOL = 1e-10
METHOD = f"mpmath.diff at {DIGITS} digits"


@dataclass(frozen=True)
class Nudge:
    """The lesson's check: nudge x by h and divide the change by h."""

    h: float
    x0: float
    f0: float
    f1: float | None  # None when f is undefined at x0 + h
    value: float | None


@dataclass(frozen=True)
class Check:
    nudge: Nudge
    method: str
    value: float | None
    abs_error: float | None
    rel_error: float | None
    agrees: bool | None
    note: str | None = None


def evaluate_mp(graph: Graph, point: Mapping[str, Any]) -> Any:
    """The function's value in mpmath at the working precision (the output only)."""
    values: list[Any] = []
    for node in graph.dag:
        if node.kind == "num":
            values.append(mpmath.mpf(node.text))
        elif node.kind == "const":
            values.append(+mpmath.pi if node.text == "pi" else +mpmath.e)
        elif node.kind == "var":
            values.append(mpmath.mpf(point[node.text]))
        else:
            result = rule_of(node).mp(*(values[a] for a in node.args))
            if isinstance(result, mpmath.mpc):
                if result.imag != 0:
                    raise ValueError("complex")
                result = result.real
            values.append(result)
    return values[graph.output]


def _nudge(graph: Graph, point: Mapping[str, float], wrt: str, f0: float) -> Nudge:
    x0 = point[wrt]
    try:
        f1 = evaluate(graph, {**point, wrt: x0 + NUDGE_H})[graph.output]
    except ChainruleError:
        return Nudge(NUDGE_H, x0, f0, None, None)
    return Nudge(NUDGE_H, x0, f0, f1, (f1 - f0) / NUDGE_H)


def check(graph: Graph, point: Mapping[str, float], wrt: str, f0: float, derivative: float) -> Check:
    """Compare a derivative's value with the nudge and with mpmath."""
    nudge = _nudge(graph, point, wrt, f0)
    try:
        with mpmath.workdps(DIGITS):
            fixed = {k: mpmath.mpf(v) for k, v in point.items()}

            def f(t: Any) -> Any:
                return evaluate_mp(graph, {**fixed, wrt: t})

            reference = float(mpmath.diff(f, fixed[wrt]))
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return Check(nudge, METHOD, None, None, None, None, note="the function is not defined on both sides")
    return compare(nudge, reference, derivative)


def compare(nudge: Nudge, reference: float, derivative: float) -> Check:
    if not math.isfinite(reference):
        return Check(nudge, METHOD, None, None, None, None, note="the reference value is not finite")
    abs_error = abs(derivative - reference)
    rel_error = abs_error / abs(reference) if reference != 0 else None
    agrees = abs_error <= ATOL + RTOL * abs(reference)
    return Check(nudge, METHOD, reference, abs_error, rel_error, agrees)
