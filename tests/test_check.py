"""chainrule check: the verdict, and the mistake named in the seeds' terms."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

import pytest

import chainrule
from chainrule import grade as grade_module
from chainrule import mistakes
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
    assert "(the product rule). The missing term is sin(x)." in finding.message


def test_a_forgotten_term_names_the_rule_where_the_paths_meet() -> None:
    (quotient,) = grade("sin(x)/x", "cos(x)/x").diagnosis
    assert "(the quotient rule)" in quotient.message
    # the factors here are far beyond doubles at most points (an inner factor squared overflowed)
    (term,) = grade("((x+1)^50+(x-1)^50)^10", "((x+1)^50+(x-1)^50)^9*(x+1)^49*500").diagnosis
    assert term.kind == "other" and "(the sum rule)" in term.message and "(x - 1)⁴⁹" in term.message


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


# --------------------------------------------------------------------------- issue 23: the classic slips

ISSUE_SLIPS = [
    ("exp(x^3)", "exp(x^3)", ["missing-factor"]),
    ("tanh(5*x)", "1 - tanh(5*x)^2", ["missing-factor"]),
    ("sin(x)^3", "3*x^2*cos(x)", ["wrong-point"]),
    ("exp(x^2)", "2*x*exp(x)", ["wrong-point"]),
    ("exp(-x^2)", "2*x*exp(-x^2)", ["sign"]),
    ("(3*x)^2", "36*x", ["extra-factor"]),
    ("sin(x^2 + 1)", "2*sin(x)*cos(x)", ["swapped"]),
    ("(x^2 + 1)^3", "3*(x^2 + 1)^3*2*x", ["power-rule"]),
    ("sqrt(x^2 + 1)", "(x^2 + 1)^(-1/2)*2*x", ["power-rule"]),
    ("2^x", "x*2^(x - 1)", ["power-rule"]),
    ("10^(x^2)", "10^(x^2)*2*x", ["power-rule"]),
    ("sin(x^2)", "cos(2*x)", ["wrong-point", "missing-factor"]),
    ("sin(x)", "cos(x)*(1 + 10^-12)", ["other"]),
]


@pytest.mark.parametrize(("expression", "answer", "kinds"), ISSUE_SLIPS)
def test_the_issues_slips_are_named_and_exit_3(run: Any, expression: str, answer: str, kinds: list[str]) -> None:
    code, out, _ = run("check", expression, answer, "--json")
    doc = json.loads(out)
    assert code == 3 and doc["verdict"] == "wrong"
    assert [f["kind"] for f in doc["diagnosis"]] == kinds
    assert all(f["title"] == mistakes.BY_KEY[f["kind"]].title for f in doc["diagnosis"])


def test_a_wrong_point_of_a_power_layer_reads_as_the_power_rule_at_the_inner_function() -> None:
    (finding,) = grade("sin(x)^3", "3*x^2*cos(x)").diagnosis
    assert "d/du u³ = 3·u², with u = sin(x), not u = x" in finding.message
    assert "has 3·x² where it needs 3·sin(x)²" in finding.message
    assert finding.at == {"x": 1.0}


def test_the_power_rule_slips_say_which_rule() -> None:
    (kept,) = grade("(x^2 + 1)^3", "3*(x^2 + 1)^3*2*x").diagnosis
    assert "lowers the exponent by one: d/du u³ = 3·u²" in kept.message and "u = x² + 1" in kept.message
    (dropped,) = grade("(x^2 + 1)^3", "(x^2 + 1)^2*2*x").diagnosis
    assert dropped.kind == "power-rule" and "leaves out the factor 3" in dropped.message
    (exponential,) = grade("2^x", "x*2^(x - 1)").diagnosis
    assert "The power rule is for a constant exponent" in exponential.message
    (logarithm,) = grade("10^(x^2)", "10^(x^2)*2*x").diagnosis
    assert "leaves it out" in logarithm.message and "ln(10)" in logarithm.message


def test_an_extra_or_missing_constant_is_named_with_its_value() -> None:
    (extra,) = grade("(3*x)^2", "36*x").diagnosis
    assert extra.kind == "extra-factor" and extra.factor == "2"
    (missing,) = grade("log10(x)", "1/x").diagnosis  # d/du log10(u) = 1/(u·ln(10)): the ln(10) left out
    assert missing.kind == "missing-factor" and missing.factor == "1/ln(10)"


def readable(value: float) -> bool:
    return abs(value) <= 5 and round(value, 2) == value


@pytest.mark.parametrize(("expression", "answer", "kinds"), ISSUE_SLIPS)
def test_the_points_shown_are_ones_a_student_can_read(expression: str, answer: str, kinds: list[str]) -> None:
    """x = 1, 0.5, 2, -1 …, where the values are moderate: never x = -16.79 with 1e-121 (the seeded
    points still decide the verdict)."""
    result = grade(expression, answer)
    shown = [f.at for f in result.diagnosis if f.at is not None]
    assert all(readable(v) for point in shown for v in point.values())  # sign and constants show none
    numbers = [float(n) for f in result.diagnosis for n in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", f.message)]
    assert all(n == 0 or 1e-6 <= abs(n) <= 1e6 for n in numbers)
    point = re.search(r"not 0 at x = (\S+)\)?$", result.method)
    assert point is None or readable(float(point.group(1).rstrip(")")))


VIEWS = ["text", "json", "markdown", "latex", "html"]
NESTED = [
    ("sin((3*x+1)^2)", "cos((3*x+1)^2)*2*(3*x+1)"),
    ("sin((2*x+1)^2)", "cos(2*x+1)*4*(2*x+1)"),
    ("sin(cos(x^2))", "cos(cos(x^2))*sin(x^2)"),
    ("tanh(tanh(tanh(x)))", "1 - tanh(x)^2"),
    ("x*exp(3*x)", "exp(3*x) + x*exp(3*x)"),
    ("x*sin(x)", "x*cos(x)"),
    ("sin(x)^3", "3*x^2*cos(x)"),
    ("sin(x^2 + 1)", "2*sin(x)*cos(x)"),
    ("exp(sin(x))", "exp(cos(x))"),
    ("(2*x+1)^5", "5*(2*x+1)^4"),
]


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize(("expression", "answer"), NESTED)
def test_no_view_of_check_names_a_layer_it_does_not_show(run: Any, view: str, expression: str, answer: str) -> None:
    """check lists no layers, so its messages name a layer by its formula, never as u1 or u2."""
    code, out, _ = run("check", expression, answer, "--format", view)
    assert code == 3
    if view == "json":
        doc = json.loads(out)
        out = " ".join(f["message"] for f in doc["diagnosis"]) + doc["method"]
        assert all(f.get("layer") is None or f["formula"] for f in doc["diagnosis"])
    assert not re.search(r"\bu_?\{?\d+\b", out), out


def test_a_finding_still_names_its_layer_for_tools() -> None:
    """The JSON keeps the layer's name (as diff and graph give it) beside its formula."""
    (finding,) = grade("sin((3*x+1)^2)", "cos((3*x+1)^2)*2*(3*x+1)").diagnosis
    assert (finding.layer, finding.formula) == ("u1", "3*x + 1")


# --------------------------------------------------------------------------- the catalogue


def test_the_catalogue_is_one_record_per_kind_and_the_schema_lists_them() -> None:
    keys = [m.key for m in mistakes.CATALOGUE]
    assert len(set(keys)) == len(keys) and tuple(keys) == mistakes.KINDS
    assert {
        "missing-factor",
        "wrong-point",
        "extra-factor",
        "swapped",
        "sign",
        "power-rule",
        "other",
    } == set(keys)
    assert len({m.title for m in mistakes.CATALOGUE}) == len(keys)
    schema = json.loads((Path(chainrule.__file__).parent / "schemas" / "check.schema.json").read_text())
    kinds = schema["$defs"]["result"]["properties"]["diagnosis"]["items"]["properties"]["kind"]["enum"]
    assert kinds == list(mistakes.KINDS)


def test_every_wording_names_its_fields() -> None:
    """Each wording is a template whose fields are names (no positional {} to fill by order)."""
    for mistake in mistakes.CATALOGUE:
        for template in (mistake.wording, *mistake.forms.values()):
            fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
            assert all(name.isidentifier() for name in fields), (mistake.key, template)


# --------------------------------------------------------------------------- right answers stay right

RIGHT_IN_THE_REAL_DOMAIN = [
    ("acosh(x/6)", "1/(6*sinh(acosh(x/6)))"),  # sinh(acosh(t)) is complex below t = 1 in SymPy
    ("acosh(x/6)", "1/sqrt(x^2 - 36)"),
    ("acosh(x)", "1/(sqrt(x - 1)*sqrt(x + 1))"),  # real where acosh is; SymPy's is real at x < -1 too
    ("cosh(acosh(x))", "1"),
    ("acosh(x^2 + 1)", "2*x/(abs(x)*sqrt(x^2 + 2))"),
    ("-x", "(-1)^(1/3)"),  # chainrule's odd root of −1 is −1; SymPy's principal one is complex
    ("x*(-8)^(1/3)", "-2"),
    ("x*(-8)^(2/3)", "4"),
    ("x^(2/3)", "2/(3*x^(1/3))"),
    ("(-x)^(1/3)", "-1/(3*(-x)^(2/3))"),
    ("(x^3)^(1/3)", "1"),
    ("x^(1/3)*x^(2/3)", "1"),
    ("ln(-x)", "1/x"),  # a logarithm of a negative variable
    ("ln(abs(x))", "1/x"),
    ("ln(x^2)", "2/x"),
    ("ln(x^2 - 1)", "1/(x - 1) + 1/(x + 1)"),
    ("sqrt(-x)", "-1/(2*sqrt(-x))"),
    ("asin(2*x)", "2/sqrt(1 - 4*x^2)"),  # only |x| ≤ 1/2
    ("acos(x/3)", "-1/sqrt(9 - x^2)"),
    ("asin(x)", "1/cos(asin(x))"),
    ("acos(x)", "-1/sin(acos(x))"),
    ("asec(x)", "1/(abs(x)*sqrt(x^2 - 1))"),
    ("sqrt(x^2)", "x/abs(x)"),  # sqrt(x²) is |x|
    ("sqrt(x^2)", "sign(x)"),
    ("sqrt(x^4)", "2*x"),
    ("abs(x)^3", "3*x*abs(x)"),
    ("x*abs(x)", "2*abs(x)"),
    ("sqrt(x)^2", "1"),
    ("tanh(atanh(x/2))", "1/2"),
]


@pytest.mark.parametrize(("expression", "answer"), RIGHT_IN_THE_REAL_DOMAIN)
def test_a_right_answer_is_right_on_the_functions_real_domain(expression: str, answer: str) -> None:
    assert grade(expression, answer).verdict == "correct"


@pytest.mark.parametrize(("expression", "answer"), RIGHT_IN_THE_REAL_DOMAIN)
def test_a_right_answer_is_right_by_numbers_alone_too(
    monkeypatch: pytest.MonkeyPatch, expression: str, answer: str
) -> None:
    """SymPy's simplification switched off: chainrule's own numbers, on the real domain, decide."""
    monkeypatch.setattr(grade_module, "_symbolic_difference", lambda expected, answer: None)
    assert grade(expression, answer).verdict == "correct"


def test_the_acosh_example_exits_0(run: Any) -> None:
    code, out, _ = run("check", "acosh(x/6)", "1/(6 sinh(acosh(x/6)))", "--json")
    assert code == 0 and json.loads(out)["verdict"] == "correct"


def test_a_point_outside_the_real_domain_proves_nothing() -> None:
    """At x = -34.63 SymPy's 1/(6·√(x/6 − 1)·√(x/6 + 1)) is real and differs from the chain rule's
    1/(6·√(x²/36 − 1)), but acosh(x/6) has no value there."""
    result = grade("acosh(x/6)", "1/(6*sinh(acosh(x/6)))")
    assert "not 0 at" not in result.method


# --------------------------------------------------------------------------- raised precision

OFF_BY_A_LITTLE = [
    ("sin(x)", "cos(x)*(1 + 10^-12)"),
    ("sin(x)", "cos(x)*(1 - 10^-13)"),
    ("sin(x)", "cos(x) + 10^-12*cos(x)"),
    ("x^2", "2.000000000001*x"),
    ("exp(2*x)", "2*exp(2*x)*(1 + 10^-12)"),
    ("tanh(x)", "(1 - tanh(x)^2)*(1 + 10^-12)"),  # 1 − tanh² cancels in doubles
    ("ln(x^2 + 1)", "2*x/(x^2 + 1.000000000001)"),
]


@pytest.mark.parametrize(("expression", "answer"), OFF_BY_A_LITTLE)
def test_an_answer_off_by_a_relative_1e_12_is_wrong(
    monkeypatch: pytest.MonkeyPatch, expression: str, answer: str
) -> None:
    assert grade(expression, answer).verdict == "wrong"
    monkeypatch.setattr(grade_module, "_symbolic_difference", lambda expected, answer: None)
    assert grade(expression, answer).verdict == "wrong"


def test_the_issues_tiny_relative_difference_exits_3(run: Any) -> None:
    code, out, _ = run("check", "sin(x)", "cos(x)*(1+10^-12)", "--json")
    doc = json.loads(out)
    assert code == 3 and doc["verdict"] == "wrong" and doc["diagnosis"][0]["kind"] == "other"
    assert "at x = 1 it gives 0.540302305869" in doc["diagnosis"][0]["message"]


RIGHT_WITH_CANCELLATION = [
    ("sin(x)^2 + cos(x)^2", "0"),  # the chain rule's terms cancel
    ("exp(x) - exp(x)", "0"),
    ("tanh(x)", "1 - tanh(x)^2"),  # cancels in doubles for |x| > 10
    ("tanh(x)", "4/(exp(x) + exp(-x))^2"),
    ("x^2", "(x + 1)^2 - x^2 - 1"),
    ("x^2", "((x + 10^10)^2 - (x - 10^10)^2)/(2*10^10)"),  # 20 digits cancel
    ("x^2", "((x + 10^30)^2 - (x - 10^30)^2)/(2*10^30)"),  # 60: more than the first 40 digits hold
    ("exp(x)", "exp(x)*(1 + 10^-30) - 10^-30*exp(x)"),
    ("log(1 + exp(x))", "1 - 1/(1 + exp(x))"),
    ("sqrt(x^2 + 1) - x", "x/sqrt(x^2 + 1) - 1"),
    ("(x + 1)^3 - x^3", "3*(x + 1)^2 - 3*x^2"),
    ("atan(x) + atan(1/x)", "0"),
    # every digit cancels where the derivative is 1e-364, at x = -84: counted as 0 there
    ("tanh(5*x)", "5 - 5*(exp(5*x) - exp(-5*x))^2/(exp(5*x) + exp(-5*x))^2"),
    # SymPy ran out of memory evaluating this at x = -30 (erf(x³)/2 + 1/2 cancels 10¹² bits)
    ("gelu(x^3)", "3*sqrt(2)*x^5*exp(-x^6/2)/(2*sqrt(pi)) + 3*x^2*(erf(sqrt(2)*x^3/2)/2 + 1/2)"),
]


@pytest.mark.parametrize(("expression", "answer"), RIGHT_WITH_CANCELLATION)
def test_a_right_answer_with_cancellation_stays_correct(
    monkeypatch: pytest.MonkeyPatch, expression: str, answer: str
) -> None:
    assert grade(expression, answer).verdict == "correct"
    monkeypatch.setattr(grade_module, "_symbolic_difference", lambda expected, answer: None)
    assert grade(expression, answer).verdict == "correct"


def test_a_right_answer_that_cancels_more_digits_than_the_first_pass_holds_is_correct(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """(x + 10^50) − 10^50 is 0 at 40 digits, x at 80; (x + 10^120) − 10^120 at 160."""
    monkeypatch.setattr(grade_module, "_symbolic_difference", lambda expected, answer: None)
    assert grade("x^2", "((x + 10^50) - 10^50)*2").verdict == "correct"
    assert grade("x^2", "((x + 10^120) - 10^120)*2").verdict == "correct"
    assert grade("x^2", "((x + 10^120) - 10^120)*2.000000000001").verdict == "wrong"
