"""The exact pass (chainrule.exact): exact points decided exactly, against SymPy at the exact point."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import X, oracle

from chainrule.errors import MathError, Reason
from chainrule.exact import UNKNOWN, Exact, ExactBackend, Undecided, sign
from chainrule.interpret import evaluate
from chainrule.syntax import parse

PI = sympy.pi


def _point(text: str) -> Any:
    """The exact value of a point as the test writes it (trusted test text): 3pi/2 is 3*pi/2."""
    return oracle(_python(text))


# --------------------------------------------------------------------------- the sign oracle


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (sympy.Rational(1, 3) - sympy.Rational(1, 3), 0),
        (sympy.cos(PI / 2), 0),
        ((1 + sympy.sqrt(2)) ** 2 - 3 - 2 * sympy.sqrt(2), 0),  # 0, though not written as 0
        (sympy.sin(sympy.Rational(1, 3)) ** 2 + sympy.cos(sympy.Rational(1, 3)) ** 2 - 1, 0),
        (PI - sympy.Rational(355, 113), -1),
        (sympy.sqrt(2) - sympy.Rational(14142135623730951, 10**16), -1),  # √2 = 1.41421356237309504…
        (sympy.Rational(-7, 10**400), -1),
    ],
)
def test_the_sign_of_an_exact_number_is_decided_exactly(value: Any, expected: int) -> None:
    assert sign(value) == expected


def test_exact_comparisons_read_the_rule_tables_domain_checks_as_numbers() -> None:
    half_pi = Exact(PI / 2)
    assert Exact(sympy.sin(PI)) == 0
    assert abs(Exact(sympy.cos(PI))) == 1
    assert -1 <= Exact(sympy.sin(PI / 3)) <= 1
    assert half_pi > 1.5707963267948966  # the double π/2 is below π/2
    assert half_pi.exact_cos() == 0


# --------------------------------------------------------------------------- the backend


def _exact_value(text: str) -> Any:
    expr = parse(text)
    return evaluate(expr.nodes, ExactBackend({}, expr.source))[expr.root]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sin(pi/4) - cos(pi/4)", sympy.Integer(0)),
        ("0.1 + 0.2 - 0.3", sympy.Integer(0)),
        ("(-8)^(1/3)", sympy.Integer(-2)),  # the real root, as the doubles take it
        ("(-8)^(2/3)", sympy.Integer(4)),
        ("relu(-2) + sigmoid(0)", sympy.Rational(1, 2)),
        ("sqrt(2)^2", sympy.Integer(2)),
    ],
)
def test_the_exact_backend_follows_chainrules_conventions(text: str, expected: Any) -> None:
    assert sympy.simplify(_exact_value(text) - expected) == 0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("tan(pi/2)", Reason.undefined),
        ("cot(pi)", Reason.undefined),
        ("ln(cos(pi/2))", Reason.undefined),
        ("1/(0.1 + 0.2 - 0.3)", Reason.undefined),
        ("2^(1/cos(pi/2))", Reason.undefined),
        ("asin(1.0000000000000001)", Reason.undefined),
        ("ln(-1)", Reason.undefined),
        ("sqrt(sin(pi) - 1/10)", Reason.complex),
        ("(-2)^(1/2)", Reason.complex),
        ("acosh(1/2)", Reason.undefined),
    ],
)
def test_an_exact_constant_without_a_real_value_is_a_math_error(text: str, reason: Reason) -> None:
    with pytest.raises(MathError) as found:
        _exact_value(text)
    assert found.value.reason is reason
    assert found.value.position is not None


def test_a_value_too_large_to_follow_is_unknown_not_computed() -> None:
    assert _exact_value("9^9^9") is UNKNOWN  # 369 million digits
    assert _exact_value("1.0001^100000") is UNKNOWN


def test_an_undecidable_sign_is_unknown_not_guessed() -> None:
    with pytest.raises(Undecided):
        sign(sympy.Symbol("t") - 1)


# --------------------------------------------------------------------------- diff at exact points

POLES = [
    ("tan(x)", "pi/2"),
    ("tan(x)", "3pi/2"),
    ("tan(x)", "-pi/2"),
    ("sec(x)", "pi/2"),
    ("sec(x)", "3pi/2"),
    ("cot(x)", "pi"),
    ("csc(x)", "2pi"),
    ("cot(x)", "0"),
    ("1/sin(x)", "pi"),
    ("1/(x - 1/3)", "1/3"),
    ("ln(x - sqrt(2))", "sqrt(2)"),
    ("tan(2x)", "pi/4"),
    ("1/cos(x)^2", "5pi/2"),
]


@pytest.mark.parametrize(("expression", "at"), POLES)
def test_a_pole_at_an_exact_point_is_a_math_error_not_a_huge_value(run_json: Any, expression: str, at: str) -> None:
    reference = oracle(_python(expression)).subs(X, _point(at))
    assert reference.has(sympy.zoo, sympy.nan, sympy.oo) or reference.is_real is False  # SymPy: no value
    code, doc = run_json("diff", expression, "--at", at)
    assert code == 1, doc
    assert doc["error"]["kind"] == "math"


CORNERS = [
    ("|x - pi|", "pi", (-1, 1)),
    ("|sin(x)|", "pi", (-1, 1)),
    ("|cos(x)|", "pi/2", (-1, 1)),
    ("|sin(x)|", "-2pi", (-1, 1)),
    ("|x - sqrt(2)|", "sqrt(2)", (-1, 1)),
    ("relu(x - 1/3)", "1/3", (0, 1)),
    ("|3x - 1|", "1/3", (-3, 3)),
    ("max(sin(x), cos(x))", "pi/4", (-(2**0.5) / 2, 2**0.5 / 2)),
]


@pytest.mark.parametrize(("expression", "at", "sides"), CORNERS)
def test_a_corner_at_an_exact_point_has_its_two_one_sided_slopes(
    run_json: Any, expression: str, at: str, sides: tuple[float, float]
) -> None:
    f = oracle(_python(expression))
    p = _point(at)
    left, right = _sides(f, p)
    assert (left, right) == pytest.approx(sides)  # the test's own numbers, by SymPy
    code, doc = run_json("diff", expression, "--at", at)
    assert code == 1, doc
    message = doc["error"]["message"]
    assert doc["error"]["reason"] == "not-differentiable"
    assert f"from the left it is {float(left):.10g}" in message
    assert f"from the right it is {float(right):.10g}" in message


def test_a_corner_that_is_smooth_in_the_whole_function_is_decided_by_exact_limits(run_json: Any) -> None:
    code, doc = run_json("diff", "(x - pi)|x - pi|", "--at", "pi")
    assert code == 0, doc
    assert doc["derivative"]["value"] == 0.0


ZEROS = [
    ("sin(x) + cos(x)", "pi/4"),
    ("sin(x)", "pi/2"),
    ("cos(x)", "pi"),
    ("sin(2x)", "pi/4"),
    ("x^2 - 2x", "1"),
    ("sin(x)^2", "pi"),
    ("cos(x)^2 + sin(x)^2", "1/3"),
    ("tan(x) - 2x", "pi/4"),
    ("sqrt(x^2 + 1) - x/sqrt(2)", "1"),
    ("e^(x^2 - 2x)", "1"),
]


@pytest.mark.parametrize(("expression", "at"), ZEROS)
def test_an_exact_zero_derivative_is_0_and_agrees(run_json: Any, expression: str, at: str) -> None:
    reference = sympy.simplify(sympy.diff(oracle(_python(expression)), X).subs(X, _point(at)))
    assert reference == 0  # SymPy: exactly 0
    code, doc = run_json("diff", expression, "--at", at)
    assert code == 0, doc
    assert doc["derivative"]["value"] == 0.0
    assert doc["check"]["agrees"] is True


def test_equal_exact_values_are_equal_doubles(run_json: Any) -> None:
    _, doc = run_json("diff", "sin(x) + cos(x)", "--at", "pi/4")
    first, second = (layer["value"] for layer in doc["layers"][:2])
    assert first == second == float(sympy.sqrt(2) / 2)


@pytest.mark.parametrize(
    "expression",
    ["x*ln(cos(pi/2))", "x*tan(pi/2)", "x/(0.1+0.2-0.3)", "x^(1/cos(pi/2))", "x*asin(1.0000000000000001)"],
)
def test_an_undefined_constant_is_a_math_error_with_or_without_a_point(run: Any, expression: str) -> None:
    for args in ((), ("--at", "1")):
        code, out, _ = run("diff", expression, *args, "--json")
        doc = json.loads(out)
        assert code == 1, doc
        assert doc["error"]["kind"] == "math"
    code, out, _ = run("grad", f"L = {expression}", "--at", "x=1", "--json")
    assert code == 1 and json.loads(out)["error"]["kind"] == "math"
    code, out, _ = run("check", expression, "1", "--json")
    assert code == 1 and json.loads(out)["error"]["kind"] == "math"


def test_a_point_with_no_value_is_refused(run_json: Any) -> None:
    code, doc = run_json("diff", "x^2", "--at", "tan(pi/2)")
    assert code == 2
    assert doc["error"]["kind"] == "usage"


def test_grad_decides_an_exact_corner_per_variable(run_json: Any) -> None:
    code, doc = run_json("grad", "L = |sin(a)| + b^2", "--at", "a=pi,b=1")
    assert code == 0, doc
    assert doc["gradient"]["b"] == 2.0
    assert "a" in doc["missing"]


def test_a_python_float_is_the_decimal_it_prints_as() -> None:
    from chainrule import differentiate

    with pytest.raises(MathError):  # |x − 0.1| at 0.1 is a corner, not a slope of 1
        differentiate("|x - 0.1|", at=0.1).to_dict()


# --------------------------------------------------------------------------- the nudge


def test_the_seeds_nudge_is_close(run_json: Any) -> None:
    _, doc = run_json("diff", "(2x+1)^2", "--at", "3")
    assert doc["check"]["nudge"]["value"] == pytest.approx(28.004)
    assert doc["check"]["nudge"]["close"] is True


def test_a_nudge_across_a_pole_is_not_close_and_says_why(run: Any) -> None:
    _code, out, _ = run("diff", "tan(x)", "--at", "1.5707963", "--json")
    nudge = json.loads(out)["check"]["nudge"]
    assert nudge["close"] is False
    assert "pole" in nudge["gap"]
    _, text, _ = run("diff", "tan(x)", "--at", "1.5707963")
    assert "≉" in text and "≈ 2." not in text


def test_a_curved_functions_nudge_names_the_curvature_it_measures(run_json: Any) -> None:
    _, doc = run_json("diff", "sin((2x+1)^2)", "--at", "3")
    nudge = doc["check"]["nudge"]
    assert nudge["close"] is False
    second = float(sympy.diff(sympy.sin((2 * X + 1) ** 2), X, 2).subs(X, sympy.Rational(3001, 1000)))
    stated = float(nudge["gap"].split("f″ ≈ ")[1].split(",")[0])
    assert stated == pytest.approx(second, rel=0.02)  # f″ near x + h, where the second difference is centred


# --------------------------------------------------------------------------- a right number never fails its check


@pytest.mark.parametrize(
    ("expression", "at"),
    [
        ("ln(cosh(x)) - x", "20"),  # cancels to −8.5e-18: the terms are of size 1
        ("sin(x) + cos(x)", "pi/4 + 1/10^12"),
        ("sqrt(x^2 + 1) - x", "1e8"),
    ],
)
def test_a_derivative_whose_terms_cancel_is_not_called_wrong(run_json: Any, expression: str, at: str) -> None:
    code, doc = run_json("diff", expression, "--at", at)
    assert code == 0, doc
    assert doc["check"]["agrees"] is not False


# Found by red-teaming: a right number whose check disagreed (a corner beside a tiny x, f huge beside its
# change, terms that cancel, the typed decimal against its double), and a wrong number the check passed.
RED_TEAM = [
    ("abs(x)+1", "1e-200"),
    ("ln(1+abs(x))", "1e-200"),
    ("atan(1/x)", "1e-200"),
    ("exp(-abs(x))", "1e-300"),
    ("cos(cbrt(x))", "1e-300"),
    ("x+exp(500)", "1"),
    ("sqrt(x)+1e200", "4"),
    ("sin(x)", "1.5707963267948966"),
    ("cos(x)", "3.141592653589793"),
    ("sin(x)/x", "1e100"),
    ("x/sqrt(x^2+4)", "1e8"),
    ("cos(2*x)+2*sin(x)", "0.5235987755982989"),
    ("x-2*sin(x)", "1.0471975511965979"),
    ("x^(1/x)", "2.718281828459045"),
    ("ln(cosh(x))-x", "20"),
    ("ln(cosh(x))-x", "45"),
    ("cosh(x)-sinh(x)", "300"),
    ("sigmoid(x)-x/4", "1e-20"),
    ("sin(x)/x", "1e-200"),
    ("x+atan(1/x)", "1e-50"),
    ("exp(-x)-exp(-x)*(1+1e-30)", "1"),
    ("exp(x-1)/exp(x)", "1000"),
    ("x^3", "0"),
]


def _true_derivative(expression: str, at: str) -> float:
    """SymPy's derivative at the typed decimal, at 400 digits (an oracle independent of chainrule)."""
    import re

    python = re.sub(r"\b(\d+(?:\.\d+)?e-?\d+)", r"Rational('\1')", _python(expression))  # 1e-30 exactly
    f = oracle(python.replace("cbrt(x)", "x**Rational(1, 3)"))
    return float(sympy.diff(f, X).subs(X, sympy.Float(at, 1000)).evalf(1000))


@pytest.mark.parametrize(("expression", "at"), RED_TEAM)
def test_a_right_number_is_never_failed_by_its_check(run_json: Any, expression: str, at: str) -> None:
    truth = _true_derivative(expression, at)
    code, doc = run_json("diff", expression, "--at", at, "--timeout", "20")
    assert code == 0, doc
    assert doc["derivative"]["value"] == pytest.approx(truth, rel=1e-9, abs=1e-300)
    assert doc["check"]["agrees"] is True, doc["check"]


@pytest.mark.parametrize(
    ("expression", "at"),
    [("x^3*sin(1/x^2)", "1e-100"), ("x*cos(1/x)", "1e-200"), ("x*sin(1/x)", "1e-300"), ("x*(1/x)", "1e-160")],
)
def test_a_number_doubles_cannot_give_is_never_passed(run_json: Any, expression: str, at: str) -> None:
    """Ill-conditioned in doubles (sin of a rounded 1/x², terms beyond doubles): the chain rule's number is
    off, and the check never says it agrees (it disagrees, or cannot decide)."""
    truth = _true_derivative(expression, at)
    _, doc = run_json("diff", expression, "--at", at, "--timeout", "20")
    if doc["derivative"]["value"] != pytest.approx(truth, rel=1e-6):
        assert doc["check"]["agrees"] is not True, doc["check"]


# --------------------------------------------------------------------------- the family, generated

_ATOMS = ["x", "2x", "x/2", "x + pi/4", "3x - pi"]
_OUTER = ["sin({})", "cos({})", "tan({})", "|sin({})|", "|cos({})|", "sqrt(sin({})^2)", "ln(|cos({})|)", "cot({})"]


@st.composite
def _exact_cases(draw: Any) -> tuple[str, str]:
    inner = draw(st.sampled_from(_ATOMS))
    outer = draw(st.sampled_from(_OUTER))
    k = draw(st.integers(-4, 4))
    m = draw(st.sampled_from([1, 2, 3, 4, 6]))
    return outer.format(inner), f"{k}*pi/{m}"


def _python(expression: str) -> str:
    """The test's own notation in Python syntax, for SymPy (trusted test text only)."""
    import re

    text = re.sub(r"(\d)(x|pi|sqrt)", r"\1*\2", expression).replace("^", "**").replace("ln(", "log(")
    text = text.replace("e**", "exp").replace("relu(", "Max(0, ").replace("max(", "Max(")
    while "|" in text:
        text = text.replace("|", "abs(", 1).replace("|", ")", 1)
    return text


def _sides(f: Any, p: Any) -> tuple[float, float]:
    """The one-sided slopes of f at p by SymPy's own arithmetic at 80 digits: the difference
    quotients at h = 1e-40 (to 1e-30 they must agree, or the slope is infinite: then ±inf)."""
    found = []
    for direction in (-1, 1):
        quotients = []
        for k in (30, 40):
            h = direction * sympy.Integer(10) ** -k
            quotients.append(((f.subs(X, p + h) - f.subs(X, p)) / h).evalf(80))
        q30, q40 = (complex(q) for q in quotients)
        if abs(q30 - q40) > 1e-8 * max(1.0, abs(q40)) or q30.imag or q40.imag:
            found.append(float("inf"))
        else:
            found.append(0.0 if abs(q40.real) < 1e-25 else q40.real)
    return found[0], found[1]


@settings(max_examples=60)
@given(_exact_cases())
def test_at_multiples_of_pi_chainrule_agrees_with_sympy_at_the_exact_point(case: tuple[str, str]) -> None:
    """SymPy at the exact point decides: no value (exit 1), a corner (exit 1, or the limit when it
    exists), or a derivative, which chainrule gives to 1e-9 and an exact 0 as 0."""
    from typer.testing import CliRunner

    from chainrule.cli import app

    expression, at = case
    f = oracle(_python(expression))
    p = oracle(at)
    value = f.subs(X, p)
    result = CliRunner().invoke(app, ["diff", expression, "--at", at, "--json"])
    doc = json.loads(result.stdout)
    if value.has(sympy.zoo, sympy.nan, sympy.oo) or value.is_real is False:
        assert result.exit_code == 1, (case, doc)
        return
    left, right = _sides(f, p)
    if left != pytest.approx(right, rel=1e-8, abs=1e-20) or abs(left) == float("inf"):
        assert result.exit_code == 1, (case, doc)
        return
    assert result.exit_code == 0, (case, doc)
    derivative = doc["derivative"]["value"]
    slope = sympy.diff(f, X).subs(X, p)
    if slope.is_finite and sympy.simplify(slope) == 0:
        assert derivative == 0.0, case
    else:
        assert derivative == pytest.approx(left, rel=1e-9, abs=1e-15), case
    assert doc["check"]["agrees"] is not False, case


@pytest.mark.parametrize(("expression", "at"), [("exp(-1/x)", "1e-100"), ("x*9^9^9^9", "1"), ("x^x^x^x", "pi")])
def test_an_exact_value_no_exponent_carries_is_no_internal_error(run: Any, expression: str, at: str) -> None:
    code, out, _ = run("diff", expression, "--at", at, "--json")
    assert code in (0, 1, 3)
    json.loads(out, parse_constant=lambda name: pytest.fail(f"not strict JSON: {name}"))
