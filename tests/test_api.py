"""The Python API as a program uses it: SymPy expressions, points as keywords, lists, orders, types."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sympy

from chainrule import check, differentiate, gradient
from chainrule.errors import UsageError

x, y, a, b = sympy.symbols("x y a b")


@pytest.mark.parametrize(
    ("expression", "point", "expected"),
    [
        (sympy.sin((2 * x + 1) ** 2), 3, sympy.cos(49) * 28),  # the seeds' composition
        ((2 * x + 1) ** 2, 3, 28),
        (sympy.exp(-(x**2)), 0.5, -sympy.exp(-sympy.Rational(1, 4))),
        (sympy.Abs(x - 1) + sympy.Max(x, 1), 3, 2),
        (sympy.sqrt(x) * sympy.log(x, 2), 4, 1 / sympy.Integer(4) * 2 + 2 / (4 * sympy.log(2))),
        (x ** sympy.Rational(2, 3), 8, sympy.Rational(2, 3) / 2),
        (sympy.atan2(x, 1), 1, sympy.Rational(1, 2)),
    ],
)
def test_a_sympy_expression_is_read_by_our_own_parser(expression: object, point: float, expected: object) -> None:
    result = differentiate(expression, at=point)
    assert result.value == pytest.approx(float(sympy.N(expected)), rel=1e-12)


def test_the_point_as_keyword_arguments() -> None:
    assert differentiate("x*y", x=1.5, y=2, wrt="x").value == 2
    assert gradient("c = a*b; d = c + 1; loss = d^2", a=2, b=3).gradient == {"a": 42.0, "b": 28.0}


def test_the_point_given_twice_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not both"):
        differentiate("x*y", at="x=1,y=2", x=1, y=2, wrt="x")


def test_wrt_as_a_list_and_granularity_on_gradient() -> None:
    result = gradient("sin(a*b)", a=2, b=3, wrt=["a", "b"], granularity="ops")
    assert result.gradient == pytest.approx({"a": 3 * float(sympy.cos(6)), "b": 2 * float(sympy.cos(6))})
    assert gradient("a*b + b", a=2, b=3, wrt=["b"]).gradient == {"b": 3.0}


def test_order() -> None:
    orders = differentiate("sin(x)", at=1, order=2).derivation.orders
    assert orders[-1].value == pytest.approx(-float(sympy.sin(1)))


def test_check_takes_sympy_expressions() -> None:
    assert check(sympy.sin(x**2), 2 * x * sympy.cos(x**2)).correct
    assert not check(sympy.sin(x**2), sympy.cos(x**2)).correct


def test_the_api_keeps_its_types_for_mypy(tmp_path: Path) -> None:
    program = tmp_path / "uses_chainrule.py"
    program.write_text(
        "from chainrule import differentiate\n"
        "result = differentiate('x^2', at=3)\n"
        "value: float | None = result.value\n"
        "wrong: int = result\n"
    )
    found = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(program)], capture_output=True, text=True
    )
    assert 'Incompatible types in assignment (expression has type "DiffResult"' in found.stdout, found.stdout
    assert found.stdout.count("error:") == 1, found.stdout


# --- SymPy objects keep their meaning ------------------------------------------------------------

t = sympy.Symbol("t")


@pytest.mark.parametrize(
    ("expression", "point"),
    [
        (sympy.E * x, 2),  # E is e, not a variable named E
        (sympy.E**x, 0.5),
        (sympy.exp(x) * sympy.pi, 1),
        (sympy.pi * x**2, 3),
        (sympy.Rational(1, 3) * x, 5),
        (x ** sympy.Rational(2, 3), 8),
        (sympy.asinh(x), 0.3),
        (sympy.acosh(x / 6 + 2), 1),
        (sympy.Abs(x - 1), 3),
        (sympy.Heaviside(x) * x**2, 2),
        (sympy.Max(x, 1, x**2 / 8), 3),
        (sympy.Min(x, sympy.cos(x)), 2),
        (sympy.atan2(x, 2), 1),
        (sympy.sec(x) ** 2, 0.4),
        (sympy.log(x, 2), 4),
        (sympy.sqrt(x**2 + 1), 1.5),
        (sympy.sign(x) * x, 2),
        (sympy.erf(x) + sympy.erfc(2 * x), 0.2),
        (sympy.Float(0.25) * x**3, 2),
        (-x / 3 + sympy.cot(x), 1),
        (sympy.exp(-(x**2)) * sympy.tanh(x), 0.7),
        (sympy.Rational(-7, 3) / x**2, 2),
    ],
)
def test_a_sympy_expression_keeps_its_meaning(expression: object, point: float) -> None:
    real = sympy.Symbol("x", real=True)
    expected = float(sympy.diff(expression.subs(x, real), real).subs(real, point).evalf(30))  # SymPy's own
    assert differentiate(expression, at=point).value == pytest.approx(expected, rel=1e-12)


def test_sympy_e_is_eulers_number_and_a_rational_stays_exact() -> None:
    result = differentiate(sympy.E * x + sympy.Rational(1, 3) * x)
    assert result.derivative == sympy.E + sympy.Rational(1, 3)
    assert result.to_dict()["variable"] == "x"


def test_a_sympy_symbol_is_the_variable_of_its_name() -> None:
    theta = sympy.Symbol("theta")
    assert differentiate(sympy.sin(theta) * t, at={theta: 0.5, t: 2}, wrt=theta).value == pytest.approx(
        2 * float(sympy.cos(0.5))
    )
    assert gradient(theta * t, at={"theta": 2, "t": 3}, wrt=[theta, t]).gradient == {"theta": 3.0, "t": 2.0}


def test_our_own_functions_come_back_as_ours() -> None:
    from chainrule.rules import CLASSES

    sigmoid = CLASSES["sigmoid"]
    expected = float((sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2).subs(x, 0.3))
    assert differentiate(sigmoid(x), at=0.3).value == pytest.approx(expected, rel=1e-12)


def test_a_sympy_tree_thousands_deep_is_read_without_recursion() -> None:
    import mpmath

    deep = x
    for _ in range(5000):
        deep = sympy.sin(deep, evaluate=False)
    value, slope = mpmath.mpf("0.5"), mpmath.mpf(1)
    for _ in range(5000):  # the chain rule by hand: the product of cos of each inner value
        slope *= mpmath.cos(value)
        value = mpmath.sin(value)
    assert differentiate(deep, at=0.5).value == pytest.approx(float(slope), rel=1e-9)


def test_a_huge_sympy_integer_stays_exact() -> None:
    result = differentiate(sympy.Integer(7) ** 5000 * x, at=1)
    beyond = result.derivation.derivative_beyond
    assert beyond is not None and (beyond.mantissa, beyond.exponent) == pytest.approx((3.0917194013597693, 4225))
    assert check(sympy.Integer(10) ** 400 * x**2, 2 * sympy.Integer(10) ** 400 * x).correct
