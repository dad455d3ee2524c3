"""Taylor-mode arithmetic: the values of higher orders, checked against SymPy's derivatives."""

from __future__ import annotations

import mpmath
import pytest
import sympy

from chainrule.derive import differentiate
from chainrule.interpret import SympyBackend, evaluate
from chainrule.rules import RULES, elementary
from chainrule.series import Series, derivatives, variable
from chainrule.syntax import parse

X = sympy.Symbol("x", real=True)
ORDER = 4

# One composition per function of the rule table, at a point inside its domain.
CASES: list[tuple[str, float]] = [
    ("sin(2x+1)", 0.3),
    ("cos(x^2)", 0.7),
    ("tan(x/2)", 0.4),
    ("sec(x)", 0.3),
    ("csc(x)", 0.9),
    ("cot(x)", 0.8),
    ("asin(x/2)", 0.5),
    ("acos(x/2)", 0.5),
    ("atan(3x)", 0.2),
    ("asec(x+2)", 0.5),
    ("acsc(x+2)", 0.5),
    ("acot(x)", 0.7),
    ("sinh(x)", 0.6),
    ("cosh(x)", 0.6),
    ("tanh(2x)", 0.3),
    ("sech(x)", 0.4),
    ("csch(x)", 0.9),
    ("coth(x)", 0.9),
    ("asinh(x)", 0.6),
    ("acosh(x+2)", 0.5),
    ("atanh(x/2)", 0.5),
    ("asech(x/2)", 0.5),
    ("acsch(x)", 0.9),
    ("acoth(x+2)", 0.5),
    ("exp(-x^2)", 0.8),
    ("ln(1+x^2)", 0.6),
    ("log10(x)", 2.5),
    ("log2(x)", 2.5),
    ("log(x, 3)", 2.5),
    ("sqrt(1+x)", 0.5),
    ("cbrt(x)", -2.5),
    ("|x - 3|", 0.5),
    ("sigmoid(2x)", 0.3),
    ("relu(x)^2", 1.5),
    ("softplus(x)", -0.5),
    ("silu(x)", 0.7),
    ("gelu(x)", 0.4),
    ("elu(x)", -0.7),
    ("logsumexp(x, 2x, x^2)", 0.5),
    ("leaky_relu(x)", -0.7),
    ("leaky_relu(x, 0.2)", 0.7),
    ("pow(x, 3) + log_2(x)", 1.5),
    ("erf(x)", 0.6),
    ("erfc(x)", 0.6),
    ("log1p(x)", 0.25),
    ("expm1(x)", 0.25),
    ("sign(x)*x^3", 1.5),
    ("step(x)*x^3", 1.5),
    ("max(x^2, x)", 1.5),
    ("min(x^2, x)", 1.5),
    ("atan2(x, 2)", 0.7),
    ("hypot(x, 2)", 0.7),
    ("x^x", 1.3),
    ("(x^2+1)^(1/3)", 0.4),
    ("2^x/x", 1.7),
]


def _oracle(text: str, point: float) -> list[float]:
    """SymPy's own derivatives of the expression (built by the SymPy backend of the tape)."""
    tape = parse(text)
    expr = elementary(evaluate(tape.nodes, SympyBackend({"x": X}))[tape.root])
    out = []
    for k in range(1, ORDER + 1):
        value = sympy.N(sympy.diff(expr, X, k).subs(X, sympy.Rational(point)), 30)
        out.append(float(value))
    return out


def test_every_function_of_the_table_has_a_case() -> None:
    covered = set()
    for text, _ in CASES:
        tape = differentiate(text).graph.dag
        covered |= {node.text for node in tape if node.kind == "call"}
    functions = {key for key, rule in RULES.items() if rule.function} | {"logb"}
    assert functions - covered == set()


@pytest.mark.parametrize(("text", "point"), CASES, ids=[t for t, _ in CASES])
def test_taylor_mode_gives_sympys_derivatives(text: str, point: float) -> None:
    orders = differentiate(text, at=repr(point), order=ORDER).orders
    expected = _oracle(text, point)
    for o, want in zip(orders, expected, strict=True):
        assert o.value == pytest.approx(want, rel=1e-12, abs=1e-12), (o.order, o.value, want)
        assert o.agrees, (o.order, o.value, o.reference)


def test_the_issue_example_at_order_10() -> None:
    orders = differentiate("sin(x^2)*exp(x)/(1+x^2)", at="0.7", order=10).orders
    with mpmath.workdps(60):
        f = lambda t: mpmath.sin(t**2) * mpmath.exp(t) / (1 + t**2)  # noqa: E731
        reference = float(mpmath.diff(f, mpmath.mpf("0.7"), 10))
    assert orders[-1].value == pytest.approx(reference, rel=1e-12)
    assert all(o.agrees for o in orders)
    assert orders[-1].layered is None  # too large to show: the number comes from Taylor mode


def test_series_arithmetic_by_hand() -> None:
    with mpmath.workdps(30):
        x = variable(mpmath.mpf(2), 4)
        f = (x * x + 1) / x  # x + 1/x: derivatives 1 - 1/x², 2/x³, -6/x⁴
        got = derivatives(f, 4)
    assert [float(v) for v in got] == pytest.approx([2.5, 0.75, 0.25, -0.375])
    assert isinstance(f, Series) and f > 2 and not f < 2 and float(abs(-f)) == 2.5
