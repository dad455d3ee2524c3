"""Higher-order derivatives: each order from the one below, checked against sympy.diff and mpmath."""

from __future__ import annotations

from typing import Any

import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from tests.conftest import X, numeric, oracle, same_function
from tests.test_properties import expressions

from chainrule.derive import differentiate
from chainrule.errors import MathError, UsageError
from chainrule.higher import higher_orders


def test_second_and_third_derivative_of_the_seed() -> None:
    orders = higher_orders(differentiate("sin((2x+1)^2)", at="3").evaluation, "x", 3)
    for o in orders:
        expected = sympy.diff(sympy.sin((2 * X + 1) ** 2), X, o.order)
        assert same_function(o.expanded, expected)
        assert o.value == pytest.approx(float(expected.subs(X, 3)), rel=1e-12)
        assert o.agrees


def test_the_second_derivative_of_6_3x_plus_1_is_18() -> None:
    orders = higher_orders(differentiate("(3x+1)^2").evaluation, "x", 2)
    assert [str(o.expanded) for o in orders] == ["6*(3*x + 1)", "18"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions)
def test_orders_two_and_three_equal_sympy_diff_and_mpmath(pair: tuple[str, str]) -> None:
    ours, python = pair
    try:
        d = differentiate(ours, at="0.6")
    except MathError:
        assume(False)
        raise
    for o in higher_orders(d.evaluation, d.variable, 3)[1:]:
        expected = sympy.diff(oracle(python), X, o.order)
        exact = numeric(expected, {X: sympy.Float("0.6", 30)})
        assume(abs(exact) < 1e8)
        if o.expanded is not None:
            assert same_function(o.expanded, expected)
        assert o.value == pytest.approx(exact, rel=1e-8, abs=1e-10)
        assert o.reference is None or o.reference == pytest.approx(exact, rel=1e-8, abs=1e-10)


def test_cli_order(run_json: Any, run: Any) -> None:
    code, doc = run_json("diff", "sin(x^2)", "--at", "1.5", "--order", "2")
    assert code == 0 and doc["order"] == 2
    assert [o["order"] for o in doc["orders"]] == [1, 2]
    assert doc["orders"][1]["check"]["agrees"] is True
    code, out, _ = run("diff", "sin(x^2)", "--at", "1.5", "--order", "2")
    assert code == 0 and "d²y/dx²" in out


def test_order_limits() -> None:
    with pytest.raises(UsageError):
        higher_orders(differentiate("sin(x)").evaluation, "x", 11)
    with pytest.raises(UsageError, match="at most 60 layers"):
        higher_orders(differentiate("sin(" * 70 + "x" + ")" * 70).evaluation, "x", 2)
