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
