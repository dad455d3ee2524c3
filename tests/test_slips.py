"""check names the classic chain-rule slips, over a corpus built with SymPy alone.

For each outer function f of the rule table and several inner functions g, the right
derivative f′(g)·g′ and each classic slip are written with SymPy (independently of
grade.py): the inner factor left out, the outer derivative taken at x, the opposite sign,
an inner factor taken twice, inside and outside swapped, and for powers and exponentials
the power-rule slips.  A slip that coincides with another one, or with the right
derivative, is left out: it has no single right name.  Each remaining slip must be graded
wrong and named with its kind.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sympy.printing.str import StrPrinter

from chainrule.grade import grade
from chainrule.rules import RULES

x = sympy.Symbol("x", real=True)
t = sympy.Symbol("t", real=True)

# Inner functions by the outer function's domain: each keeps f(g(x)) real on a wide set of x.
ANY = (5 * x, x**2 + 1, x**3, sympy.sin(x) + 2)
POSITIVE = (x**2 + 1, 5 * x, x**4 + 2)  # log, √: positive on many points (5x: x > 0)
UNIT = (x / 3, x**2 / 4, x**3 / 8)  # asin, acos, atanh: inside (−1, 1) near 0
OUTSIDE = (x**2 + 1, 5 * x, x**2 + 2)  # asec, acsc, acoth, acosh: |u| ≥ 1
NONZERO = (5 * x, x**2 + 1, x**3 + 2)

INNER: dict[str, tuple[Any, ...]] = {
    "asin": UNIT,
    "acos": UNIT,
    "atanh": UNIT,
    "asec": OUTSIDE,
    "acsc": OUTSIDE,
    "acoth": (x**2 + 2, 5 * x + 20, x**2 + 3),
    "acosh": (x**2 + 2, x**2 + 3, x**4 + 2),
    "asech": (1 / (x**2 + 2), 1 / (x**4 + 2)),
    "log": POSITIVE,
    "log10": POSITIVE,
    "log2": POSITIVE,
    "sqrt": POSITIVE,
    "log1p": (x**2, x**4 + 1, x**2 / 4),
    "csc": (x**2 + 1, 5 * x + 1, x / 2 + 1),
    "cot": (x**2 + 1, 5 * x + 1, x / 2 + 1),
    "csch": NONZERO,
    "coth": NONZERO,
    "acsch": NONZERO,
    "tan": (x**2 / 8, x / 3, x**3 / 10),
    "sec": (x**2 / 8, x / 3, x**3 / 10),
}

# Functions whose derivative is a step or 0 somewhere: no classic slip to make.
PIECEWISE = {"abs", "relu", "leaky_relu", "sign", "step", "elu", "cbrt"}

POWERS = (2, 3, 4, -1, -2, sympy.Rational(1, 2), sympy.Rational(3, 2))
POINTS = (0.3, 0.7, 1.1, 1.9, 2.6, -0.4, -1.3, -2.2)


def outer_functions() -> dict[str, Callable[[Any], Any]]:
    """Every function of one operand in the rule table, as SymPy builds it (chainrule's own
    functions by their definitions in SymPy's), except the piecewise ones."""
    found: dict[str, Callable[[Any], Any]] = {}
    for key, rule in RULES.items():
        if not rule.function or rule.arity != (1, 1) or key in PIECEWISE:
            continue
        if rule.build is not None:
            found[key] = rule.build
        elif rule.elementary is not None:
            found[key] = rule.elementary
    return found


@dataclass(frozen=True)
class Slip:
    expression: str
    answer: str
    kind: str
    what: str  # the slip, for the test's id


class _Printer(StrPrinter):
    """SymPy's text, with Euler's number as chainrule writes it (e; E would be a variable)."""

    def _print_Exp1(self, expr: Any) -> str:
        return "e"


def _text(expr: Any) -> str:
    """SymPy's text, which chainrule reads with explicit parentheses and '*': 'exp(x**3)'."""
    return str(_Printer().doprint(expr))


def _values(expr: Any) -> tuple[float | None, ...]:
    """expr at the test's points, None where it is not a finite real number."""
    found: list[float | None] = []
    for p in POINTS:
        v = sympy.N(expr.subs(x, p), 30)
        found.append(float(v) if v.is_real and v.is_finite else None)
    return tuple(found)


def _same(a: tuple[float | None, ...], b: tuple[float | None, ...]) -> bool:
    """Equal wherever both are defined (at three points at least), or defined nowhere alike."""
    both = [(p, q) for p, q in zip(a, b, strict=True) if p is not None and q is not None]
    if len(both) < 3:
        return True  # too few points to tell them apart: ambiguous
    return all(abs(p - q) <= 1e-9 * max(1.0, abs(p), abs(q)) for p, q in both)


def _unambiguous(expression: Any, candidates: list[tuple[str, str, Any]], text: str | None = None) -> list[Slip]:
    """The candidates (kind, what, answer) that differ from the right derivative and from every
    candidate of another kind; `text`: the expression as chainrule reads it (sigmoid(5*x), where
    SymPy has only its definition)."""
    right = _values(sympy.diff(expression, x))
    values = [_values(answer) for _, _, answer in candidates]
    kept = []
    for i, (kind, what, answer) in enumerate(candidates):
        if _same(values[i], right):
            continue
        if any(_same(values[i], values[j]) for j in range(len(candidates)) if j != i and candidates[j][0] != kind):
            continue
        if what.endswith(")") and " at " in what and kind == "wrong-point" and "at x" not in what:
            continue  # only there to tell ambiguous slips apart
        kept.append(Slip(text or _text(expression), _text(answer), kind, what))
    return kept


def _composition_slips(name: str, f: Callable[[Any], Any], g: Any) -> list[Slip]:
    fp = sympy.diff(f(t), t)  # f′ as a function of t
    gp = sympy.diff(g, x)
    at_g, at_x = fp.subs(t, g), fp.subs(t, x)
    candidates = [
        ("missing-factor", f"{name}: inner factor left out", at_g),
        ("wrong-point", f"{name}: outer derivative at x", at_x * gp),
        ("sign", f"{name}: opposite sign", -at_g * gp),
        ("extra-factor", f"{name}: inner factor twice", at_g * gp**2),
        ("swapped", f"{name}: inside and outside swapped", sympy.diff(g.subs(x, f(x)), x)),
    ]
    # f′ taken at a function inside g (at sin(x) for g = sin(x) + 2) is a wrong point too: a slip
    # that coincides with it is ambiguous
    for h in g.atoms(sympy.Function):
        candidates.append(("wrong-point", f"{name}: outer derivative at {h}", fp.subs(t, h) * gp))
    return _unambiguous(f(g), candidates, f"{name}({_text(g)})")


def _power_slips(n: Any, g: Any) -> list[Slip]:
    expression = g**n
    gp = sympy.diff(g, x)
    candidates = [
        ("power-rule", f"({g})^{n}: exponent not lowered", n * g**n * gp),
        ("power-rule", f"({g})^{n}: exponent's factor left out", g ** (n - 1) * gp),
        ("missing-factor", f"({g})^{n}: inner factor left out", n * g ** (n - 1)),
        ("wrong-point", f"({g})^{n}: outer derivative at x", n * x ** (n - 1) * gp),
        ("sign", f"({g})^{n}: opposite sign", -n * g ** (n - 1) * gp),
    ]
    return _unambiguous(expression, candidates)


def _exponential_slips(a: Any, g: Any) -> list[Slip]:
    expression = a**g
    gp = sympy.diff(g, x)
    candidates = [("power-rule", f"{a}^({g}): the power rule on an exponential", g * a ** (g - 1) * gp)]
    if a != sympy.E:
        candidates.append(("power-rule", f"{a}^({g}): ln({a}) left out", a**g * gp))
    candidates.append(("wrong-point", f"{a}^({g}): outer derivative at x", a**x * sympy.log(a) * gp))
    return _unambiguous(expression, candidates)


@functools.cache
def corpus() -> tuple[Slip, ...]:
    found: list[Slip] = []
    for name, f in outer_functions().items():
        for g in INNER.get(name, ANY):
            found += _composition_slips(name, f, g)
    for n in POWERS:
        for g in (x**2 + 1, sympy.sin(x) + 2, 3 * x + 1):
            found += _power_slips(n, g)
    for a in (sympy.Integer(2), sympy.Integer(10), sympy.E):
        for g in (x**2, 3 * x, sympy.sin(x)):
            found += _exponential_slips(a, g)
    # powers inside: sin(x³) → cos(x³)·3x³, and √ as a power
    for f in (sympy.sin, sympy.exp, sympy.atan):
        found += _unambiguous(
            f(x**3), [("power-rule", "x³ inside: exponent not lowered", f(t).diff(t).subs(t, x**3) * 3 * x**3)]
        )
    for g in (x**2 + 1, x**4 + 3):
        found += _unambiguous(
            sympy.sqrt(g), [("power-rule", f"√({g}): exponent not lowered", sympy.sqrt(g) / 2 * sympy.diff(g, x))]
        )
    return tuple(found)


def test_the_corpus_is_large_and_covers_every_kind() -> None:
    slips = corpus()
    assert len(slips) >= 150
    kinds = {s.kind for s in slips}
    assert kinds == {"missing-factor", "wrong-point", "sign", "extra-factor", "swapped", "power-rule"}
    assert len({s.expression for s in slips}) >= 60


def readable(value: float) -> bool:
    """A point a student can read: small, with at most two decimals (1, 0.5, -2, 0.25)."""
    return abs(value) <= 5 and round(value, 2) == value


def moderate_numbers(message: str) -> bool:
    """Every number the message shows is of moderate size: no 1e-121."""
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", message)]
    return all(n == 0 or 1e-6 <= abs(n) <= 1e6 for n in numbers)


@pytest.mark.parametrize("slip", corpus(), ids=lambda s: f"{s.what}: {s.answer}")
def test_each_classic_slip_is_named(slip: Slip) -> None:
    result = grade(slip.expression, slip.answer)
    assert result.verdict == "wrong", result.method
    kinds = [f.kind for f in result.diagnosis]
    assert kinds == [slip.kind], [f.message for f in result.diagnosis]
    for finding in result.diagnosis:
        assert not re.search(r"\bu\d+\b", finding.message)  # check's output lists no layers
        assert finding.at is None or all(readable(v) for v in finding.at.values())
        assert moderate_numbers(finding.message), finding.message


REWRITES: dict[str, Callable[[Any], Any]] = {
    "as is": lambda e: e,
    "expanded": sympy.expand,
    "factored": sympy.factor,
    "over one denominator": sympy.together,
    "cancelled": sympy.cancel,
    "powers gathered": sympy.powsimp,
    "in exponentials": lambda e: e.rewrite(sympy.exp),
}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(outer_functions())), st.integers(0, 3), st.sampled_from(sorted(REWRITES)))
def test_a_right_answer_in_any_form_is_never_graded_wrong(name: str, which: int, rewrite: str) -> None:
    """f′(g)·g′ by SymPy, rewritten (expanded, factored, in exponentials…): right, on the real domain."""
    f = outer_functions()[name]
    inners = INNER.get(name, ANY)
    g = inners[which % len(inners)]
    answer = REWRITES[rewrite](sympy.diff(f(g), x))
    assume(not answer.has(sympy.I) and not answer.has(sympy.zoo) and answer.is_real is not False)
    result = grade(f"{name}({_text(g)})", _text(answer))
    assert result.verdict == "correct", (result.method, _text(answer))
