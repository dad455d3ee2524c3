"""chainrule check: the verdict, and the mistake named in the seeds' terms."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chainrule import grade as grade_module
from chainrule.errors import InputError, UsageError
from chainrule.grade import grade

EXAMPLES = [
    ("sin((2x+1)^2)", "4(2x+1)cos((2x+1)^2)", "correct", []),
    ("(2x+1)^2", "8x+4", "correct", []),
    ("sin((3x+1)^2)", "cos((3x+1)^2)*2(3x+1)", "wrong", ["missing-factor"]),
    ("sin(x^2)", "cos(x)*2x", "wrong", ["wrong-point"]),
    ("cos(3x)", "3sin(3x)", "wrong", ["sign"]),
]


@pytest.mark.parametrize(("expression", "answer", "verdict", "kinds"), EXAMPLES)
def test_the_issue_examples(run: Any, expression: str, answer: str, verdict: str, kinds: list[str]) -> None:
    code, out, _ = run("check", expression, answer, "--json")
    doc = json.loads(out)
    assert doc["schema"] == "chainrule.check/1"
    assert doc["expression"] == expression and doc["answer"] == answer
    assert doc["verdict"] == verdict
    assert [f["kind"] for f in doc["diagnosis"]] == kinds
    assert code == (0 if verdict == "correct" else 3)
    assert doc["expected"]


def test_the_missing_factor_is_shown_with_its_value() -> None:
    g = grade("sin((3x+1)^2)", "cos((3x+1)^2)*2(3x+1)")
    (finding,) = g.diagnosis
    assert finding.factor == "3" and finding.value == 3 and finding.layer == "u1"
    assert finding.formula == "3*x + 1" and finding.title == "Missing inner factor"
    assert "stopped too early" in finding.message and "the inner function 3·x + 1" in finding.message
    assert "u1" not in finding.message


def test_wrong_point_names_the_inner_function_by_its_formula() -> None:
    (finding,) = grade("sin(x^2)", "cos(x)*2x").diagnosis
    assert "d/du sin(u) = cos(u), with u = x², not u = x" in finding.message
    assert "your answer has cos(x) where it needs cos(x²)".lower() in finding.message.lower()
    assert finding.factor == "cos(x)" and "u1" not in finding.message


def test_extra_factor_and_sign_together() -> None:
    assert [f.kind for f in grade("sin(x^2)", "4x^2 cos(x^2)").diagnosis] == ["extra-factor"]
    assert [f.kind for f in grade("cos(x^2)", "sin(x^2)").diagnosis] == ["sign", "missing-factor"]


def test_a_forgotten_term_of_the_product_rule() -> None:
    (finding,) = grade("x*sin(x)", "x cos(x)").diagnosis
    assert finding.kind == "other" and "leaves out a term" in finding.message
    assert "The missing term is sin(x)." in finding.message


def test_something_else_entirely() -> None:
    (finding,) = grade("exp(3x)", "5").diagnosis
    assert finding.kind == "other"


def test_correct_in_another_form() -> None:
    assert grade("x^x", "x^x (ln(x) + 1)").verdict == "correct"
    assert grade("(2x)/(3x+2)", "4/(3x+2)^2").verdict == "correct"


def test_text_view(run: Any) -> None:
    code, out, _ = run("check", "sin(x^2)", "cos(x)*2x")
    assert code == 3 and "✗ wrong" in out and "Outer derivative at the wrong point:" in out
    code, out, _ = run("check", "(2x+1)^2", "8x+4")
    assert code == 0 and "✓ correct" in out


def test_bad_input_exit_2(run: Any) -> None:
    assert run("check", "sin(x", "cos(x)")[0] == 2
    assert run("check", "sin(x)", "cos(x")[0] == 2
    assert run("check", "sin(x)", "cos(y)")[0] == 2
    with pytest.raises(InputError, match="in the answer"):
        grade("sin(x)", "cos(x")
    with pytest.raises(UsageError, match="'y'"):
        grade("sin(x)", "cos(y)")


@pytest.mark.parametrize(
    ("expression", "answer"),
    [
        ("x^2/10^9", "x/10^9"),
        ("sin(x)/1e9", "cos(2x)/1e9"),
        ("exp(-x^2)/1e8", "0"),
        # the derivative plus a polynomial that vanishes at the twelve points the old check used
        (
            "x^3",
            "3x^2 + (x-0.37)(x-0.81)(x-1.23)(x-1.77)(x-2.31)(x+0.43)(x+1.19)(x-2.9)(x-0.11)(x+2.2)(x-3.7)(x+3.1)",
        ),
    ],
)
def test_small_or_trap_answers_are_graded_wrong(expression: str, answer: str) -> None:
    assert grade(expression, answer).verdict == "wrong"


@pytest.mark.parametrize(
    ("expression", "answer"),
    [
        ("acosh(x/10)", "1/(10 sinh(acosh(x/10)))"),  # defined only for x ≥ 10
        ("atanh(6|x|)", "6x/(|x|(1-36x^2))"),  # defined only for |x| < 1/6
    ],
)
def test_answers_right_only_inside_a_narrow_domain_are_graded_correct(expression: str, answer: str) -> None:
    result = grade(expression, answer)
    assert result.verdict == "correct"
    assert not result.diagnosis


def test_no_proof_and_no_points_is_undecided_with_exit_4(run: Any) -> None:
    assert grade("sqrt(-1-x^2)", "1").verdict == "undecided"
    code, out, _ = run("check", "sqrt(-1-x^2)", "1", "--json")
    assert code == 4
    doc = json.loads(out)
    assert doc["verdict"] == "undecided" and isinstance(doc["seed"], int)


def test_the_sample_points_are_reproducible_and_reported() -> None:
    first, second = grade("sin(x^2)", "cos(x^2)*2x"), grade("sin(x^2)", "cos(x^2)*2x")
    assert first.seed == second.seed and first.method == second.method
    assert f"seed {first.seed}" in first.method


def test_an_answer_off_by_a_tiny_constant_is_wrong() -> None:
    result = grade("sin(x)", "cos(x) + 1e-200")
    assert result.verdict == "wrong" and "constant" in result.method


def test_an_answer_of_zero_to_a_derivative_below_the_range_of_doubles_is_wrong() -> None:
    """The derivative of a 2,500-deep chain is about 1e-500: 0.0 in doubles, but not 0."""
    from chainrule.grade import grade

    text = "".join(f"{('sin', 'cos', 'tanh', 'atan')[i % 4]}(" for i in range(2500)) + "x" + ")" * 2500
    result = grade(text, "0")
    assert result.verdict == "wrong"
    assert "beyond the range of doubles" in result.diagnosis[0].message


def test_numbers_beyond_doubles_are_compared_as_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A right answer that underflows in doubles agrees; a wrong one beyond them does not, by numbers
    alone (SymPy's simplification switched off)."""
    monkeypatch.setattr(grade_module, "_symbolic_difference", lambda expected, answer: None)
    right = grade("x/2^1100", "1/2^1100")
    assert right.verdict == "correct" and right.method.startswith("numerically")
    assert grade("x/2^1100", "1.01/2^1100").verdict == "wrong"
    assert grade("x/2^1100", "0").verdict == "wrong"
    assert grade("2^1100*x", "2^1100").verdict == "correct"
    assert grade("2^1100*x", "2^1100*(1+10^-12)").verdict == "wrong"


def test_answers_beyond_the_range_of_doubles_are_graded() -> None:
    from chainrule.grade import grade

    assert grade("2^1030*x", "2^1030").verdict == "correct"
    wrong = grade("2*x", "2^2000")
    assert wrong.verdict == "wrong" and wrong.diagnosis[0].kind == "other"


def test_a_steep_derivative_is_checked_with_a_step_below_its_scale() -> None:
    """tanh(10·tanh(10·…x)) 100 deep at 0 has the slope 10¹⁰⁰: the reference needs a step far
    smaller than mpmath's own, and agrees with it."""
    from chainrule.derive import differentiate

    d = differentiate("tanh(10*" * 100 + "x" + ")" * 100, at="0")
    assert d.derivative_value == pytest.approx(1e100, rel=1e-12)
    assert d.check is not None and d.check.agrees is True
