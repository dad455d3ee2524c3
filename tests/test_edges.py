"""Math you can trust at the edges: each case checked against an independent reference."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import sympy

from chainrule.derive import differentiate

X, Y = sympy.symbols("x y", real=True)


@pytest.mark.parametrize(
    ("expression", "oracle", "point"),
    [
        ("x^y", X**Y, {"x": -2.0, "y": 3.0}),
        ("(x-1)^y", (X - 1) ** Y, {"x": 0.0, "y": 2.0}),
        ("x*sqrt(y)", X * sympy.sqrt(Y), {"x": 1.0, "y": 0.0}),
    ],
)
def test_only_the_local_factors_on_paths_from_the_variable_must_exist(
    expression: str, oracle: Any, point: dict[str, float]
) -> None:
    d = differentiate(expression, wrt="x", at=point)
    reference = float(sympy.diff(oracle, X).subs({X: point["x"], Y: point["y"]}))
    assert d.derivative_value == pytest.approx(reference, rel=1e-14, abs=1e-300)
    assert d.check is not None and d.check.agrees is True


def test_a_gradient_gives_the_partials_that_exist_and_names_the_one_that_does_not(run: Any) -> None:
    code, out, _ = run("grad", "x^y", "--at", "x=-2,y=3", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["gradient"] == {"x": 12.0, "y": None}
    assert "y" in doc["missing"]
    code, out, _ = run("grad", "x^y", "--at", "x=-2,y=3")
    assert code == 0 and "does not exist" in out


def test_a_function_without_a_value_still_fails_the_gradient(run: Any) -> None:
    code, _, err = run("grad", "ln(x) + y", "--at", "x=-1,y=2")
    assert code == 1 and "ln needs a positive argument" in err


@pytest.mark.parametrize(
    ("expression", "at", "reference"),
    [
        ("tanh(x)", 30.0, 4 / (math.exp(30) + math.exp(-30)) ** 2),
        ("1e30*tanh(x)", 30.0, 1e30 * 4 / (math.exp(30) + math.exp(-30)) ** 2),
        ("sigmoid(x)", 30.0, math.exp(-30) / (1 + math.exp(-30)) ** 2),
        ("1e20*sigmoid(x)", 40.0, 1e20 * math.exp(-40) / (1 + math.exp(-40)) ** 2),
    ],
)
def test_saturated_activations_keep_their_small_slopes(expression: str, at: float, reference: float) -> None:
    d = differentiate(expression, at=repr(at))
    assert d.derivative_value == pytest.approx(reference, rel=1e-13)
    assert d.check is not None and d.check.agrees is True


def test_a_saturated_chain_shows_no_factor_of_zero() -> None:
    d = differentiate("sigmoid(sigmoid(x))", at="40")
    assert d.sensitivity is not None
    assert all(step.factor != 0 for step in d.sensitivity.steps)


@pytest.mark.parametrize(
    ("expression", "oracle", "expected"),
    [
        ("x|x|", X * sympy.Abs(X), 0.0),
        ("x*abs(x)", X * sympy.Abs(X), 0.0),
        ("|x|^2", sympy.Abs(X) ** 2, 0.0),
        ("|x|^3", sympy.Abs(X) ** 3, 0.0),
        ("sqrt(x^4)", sympy.sqrt(X**4), 0.0),
        ("relu(x)^2", sympy.Max(0, X) ** 2, 0.0),
        ("cbrt(x^3)", X, 1.0),
    ],
)
def test_a_corner_in_a_layer_is_not_a_corner_in_the_function(
    run: Any, expression: str, oracle: Any, expected: float
) -> None:
    # the independent reference: both one-sided limits of the difference quotient, by SymPy
    h = sympy.Symbol("h", positive=True)
    quotient = (oracle.subs(X, h) - oracle.subs(X, 0)) / h
    assert float(sympy.limit(quotient, h, 0)) == expected
    assert float(sympy.limit((oracle.subs(X, -h) - oracle.subs(X, 0)) / (-h), h, 0)) == expected
    code, out, err = run("diff", expression, "--at", "0", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["derivative"]["value"] == pytest.approx(expected, abs=1e-20)
    by_limit = doc["derivative"]["by_limit"]
    assert by_limit["left"] == pytest.approx(expected, abs=1e-20)
    assert by_limit["right"] == pytest.approx(expected, abs=1e-20)
    code, out, _ = run("diff", expression, "--at", "0")
    assert "by the limit definition" in " ".join(out.split())  # however the terminal wraps it


@pytest.mark.parametrize(
    ("expression", "sides"),
    [("|x|", ("it is -1", "it is 1")), ("relu(x)", ("it is 0", "it is 1")), ("sqrt(x)", ("not defined", "infinite"))],
)
def test_a_true_corner_names_both_one_sided_derivatives(run: Any, expression: str, sides: tuple[str, str]) -> None:
    code, _, err = run("diff", expression, "--at", "0")
    assert code == 1
    assert "no derivative at x = 0" in err
    assert all(side in err for side in sides)


def test_with_order_n_the_nth_derivative_is_the_headline(run: Any) -> None:
    code, out, _ = run("diff", "sin(x^2)", "--at", "1.5", "--order", "2", "--json")
    assert code == 0
    doc = json.loads(out)
    reference = float(sympy.diff(sympy.sin(X**2), X, 2).subs(X, 1.5))
    assert doc["derivative"]["order"] == 2
    assert doc["derivative"]["value"] == pytest.approx(reference, rel=1e-13)
    assert doc["derivative"]["check"]["agrees"] is True
    assert [o["order"] for o in doc["orders"]] == [1, 2]
    code, out, _ = run("diff", "sin(x^2)", "--at", "1.5", "--order", "2")
    assert out.splitlines()[0].endswith("d²y/dx² at x = 1.5")
    assert out.rstrip().splitlines()[-1].startswith("value    d²y/dx² = -8.259006017")


@pytest.mark.parametrize(
    ("expression", "elementary"),
    [
        ("x^(1/3)", sympy.sign(X) * sympy.Abs(X) ** sympy.Rational(1, 3)),
        ("x^(2/3)", sympy.Abs(X) ** sympy.Rational(2, 3)),
        ("cbrt(x)", sympy.sign(X) * sympy.Abs(X) ** sympy.Rational(1, 3)),
        ("(x^2-9)^(1/5)", sympy.sign(X**2 - 9) * sympy.Abs(X**2 - 9) ** sympy.Rational(1, 5)),
    ],
)
def test_odd_roots_of_negative_numbers_are_real_as_in_calculus_texts(expression: str, elementary: Any) -> None:
    point = -8.0 if "9" not in expression else 1.0
    d = differentiate(expression, at=repr(point))
    assert d.value == pytest.approx(float(elementary.subs(X, point)), rel=1e-14)
    slope = float(sympy.diff(elementary, X).subs(X, point))
    assert d.derivative_value == pytest.approx(slope, rel=1e-14)
    assert d.check is not None and d.check.agrees is True


def test_the_derivative_of_an_odd_root_typed_back_in_is_the_same_number(run: Any) -> None:
    code, out, _ = run("check", "x^(1/3)", "1/(3 x^(2/3))", "--json")
    assert code == 0 and json.loads(out)["verdict"] == "correct"
    code, out, _ = run("diff", "1/(3 x^(2/3))", "--at", "-8", "--json")
    assert json.loads(out)["value"] == pytest.approx(1 / 12, rel=1e-14)


def test_an_even_root_of_a_negative_number_is_still_refused(run: Any) -> None:
    code, _, err = run("diff", "x^(1/2)", "--at", "-4")
    assert code == 1 and "not a real number" in err


def test_a_forward_value_below_doubles_is_carried_not_mistaken_for_zero(run: Any) -> None:
    # sigmoid(-800) = e^-800/(1 + e^-800) is below the range of doubles; ln of it is about -800
    code, out, err = run("grad", "L = ln(sigmoid(w*x))", "--at", "w=-800,x=1", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["value"] == pytest.approx(-800, rel=1e-15)
    assert doc["gradient"]["w"] == pytest.approx(1.0, rel=1e-12)  # x·σ(−wx) = 1·(1 − e^-800)
    assert doc["gradient"]["x"] == pytest.approx(-800.0, rel=1e-12)
    u2 = next(node for node in doc["nodes"] if node["name"] == "u2")
    assert u2["value_beyond_double"]["exponent"] == -348


@pytest.mark.parametrize(
    ("expression", "at", "truth"),
    [
        ("exp(exp(x))", "10", lambda mp: mp.exp(10 + mp.exp(10))),
        ("x^1000", "1e10", lambda mp: 1000 * mp.mpf("1e10") ** 999),
        ("9^9^9*x", "1", lambda mp: mp.mpf(9) ** (9**9)),
        ("1e300*1e300*x", "1", lambda mp: mp.mpf("1e600")),
    ],
)
def test_values_above_the_range_of_doubles_are_carried_not_mistaken_for_infinity(
    expression: str, at: str, truth: Any
) -> None:
    import mpmath

    d = differentiate(expression, at=at)
    assert d.derivative_beyond is not None
    with mpmath.workdps(30):
        ours = mpmath.mpf(d.derivative_beyond.mantissa) * mpmath.mpf(10) ** d.derivative_beyond.exponent
        # exp(e^10) amplifies the rounding of e^10 in doubles (2.2e4 × 1.1e-16): 1e-11, not 1e-12
        assert float(ours / truth(mpmath)) == pytest.approx(1, rel=1e-11)
    assert d.check is not None and d.check.agrees is not False


def test_a_large_power_near_one_is_a_number_not_an_overflow() -> None:
    import mpmath

    d = differentiate("x^1000000", at="1.0001")
    with mpmath.workdps(50):
        x = mpmath.mpf("1.0001")
        assert d.value == pytest.approx(float(x**1000000), rel=1e-9)
        assert d.derivative_value == pytest.approx(float(1000000 * x**999999), rel=1e-9)
    assert d.check is not None and d.check.agrees is True


@pytest.mark.parametrize(
    "args",
    [
        ("diff", "exp(exp(x))", "--at", "10", "--view", "sensitivity"),
        ("diff", "exp(exp(x))", "--at", "10", "--explain"),
        ("diff", "1/x", "--at", "5e-324", "--view", "sensitivity"),
        ("diff", "exp(-x)", "--at", "1e308", "--json"),
        ("diff", "tanh(x)", "--at", "1e308", "--json"),
        ("grad", "exp(-x)", "--at", "1e308", "--json"),
        ("graph", "c = x; loss = c^2", "--format", "json"),
    ],
)
def test_values_at_the_ends_of_the_range_never_crash(run: Any, args: tuple[str, ...]) -> None:
    code, out, err = run(*args, "--timeout", "10")
    assert code in (0, 1, 2, 3), err
    if "--json" in args or "json" in args:
        json.loads(out)


@pytest.mark.parametrize(
    ("expression", "at", "order", "truth"),
    [("sin(x)", "1e308", 1, -0.6161783468298735), ("x^2", "1e200", 2, 2.0), ("sin(x)", "1e12", 2, None)],
)
def test_the_check_does_not_disagree_far_from_zero(  # at the typed 10^308, not its double
    run: Any, expression: str, at: str, order: int, truth: float | None
) -> None:
    code, out, _ = run("diff", expression, "--at", at, "--order", str(order), "--json", "--timeout", "20")
    assert code == 0
    doc = json.loads(out)
    if truth is not None:
        assert doc["derivative"]["value"] == pytest.approx(truth, rel=1e-12)


def test_a_check_answer_in_another_form_of_an_odd_root_is_correct(run: Any) -> None:
    code, out, _ = run("check", "x^(1/3)", "1/(3*cbrt(x)^2)", "--json")
    assert code == 0 and json.loads(out)["verdict"] == "correct"


def test_the_functions_own_value_beyond_doubles_is_in_the_json(run: Any) -> None:
    code, out, _ = run("diff", "exp(-50x)", "--at", "20", "--json")
    assert code == 0
    beyond = json.loads(out)["value_beyond_double"]
    assert beyond["exponent"] == -435 and beyond["mantissa"] == pytest.approx(5.075958897549457, rel=1e-12)
