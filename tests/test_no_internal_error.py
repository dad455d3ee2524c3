"""No internal error: huge exact numbers and undefined operands end in a result or a clear error.

Two families gave exit 70 in every command:

* exact rationals beyond Python's 4,300-digit text limit (1.0001^1100 is a fraction of 4,401
  digits over 4,401; 7^5200 an integer of 4,395 digits), in constants, exponents, answers,
  programs and batch lines;
* a rule that compares its operands (max, min, |u|, relu, sign, step, sigmoid's branch, …)
  given one that is undefined or complex (1/0, ln(−1), log1p(−2)): now a MathError, exit 1,
  with the caret under the operand.

Each example is run through the command line in-process and its JSON parsed strictly; the
references are Python's Fraction and decimal arithmetic, independent of chainrule.  Two
Hypothesis properties draw more members of each family (derandomized by the conftest profile).
"""

from __future__ import annotations

import decimal
import json
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.batch import Settings, result_line


def strict(text: str) -> Any:
    def reject(name: str) -> None:
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=reject)


def beyond(doc: dict[str, Any]) -> decimal.Decimal:
    """The derivative beyond the range of doubles, as mantissa·10^exponent."""
    wide = doc["derivative"]["beyond_double"]
    return decimal.Decimal(repr(wide["mantissa"])).scaleb(wide["exponent"])


def close(found: decimal.Decimal, expected: decimal.Decimal, rel: str = "1e-12") -> bool:
    return abs(found - expected) <= abs(expected) * decimal.Decimal(rel)


def exactly(p: int, q: int = 1) -> decimal.Decimal:
    with decimal.localcontext() as context:
        context.prec = 30
        return decimal.Decimal(p) / decimal.Decimal(q)


# --- huge exact numbers ------------------------------------------------------------------------


def test_the_issues_examples_have_their_values(run_json: Any) -> None:
    code, doc = run_json("diff", "x*1.0001^1100", "--at", "1")
    assert code == 0 and doc["derivative"]["value"] == pytest.approx(float(Fraction(10001, 10000) ** 1100), rel=1e-14)
    assert doc["derivative"]["expression"] == "(10001/10000)**1100"
    code, doc = run_json("diff", "x/7^5200", "--at", "1")
    assert code == 0 and close(beyond(doc), exactly(1, 7**5200))
    assert doc["derivative"]["expression"] == "7**(-5200)" or doc["derivative"]["expression"] == "1/7**5200"
    code, doc = run_json("diff", "x*7^1000*7^1000*7^1000*7^1000*7^1000*7^1000", "--at", "1")
    assert code == 0 and close(beyond(doc), exactly(7**6000))
    assert doc["derivative"]["expression"] == "3.874717869e5070 (5,071 digits)"  # too long: described


@pytest.mark.parametrize(
    "args",
    [
        ["diff", "x*1.0001^1100"],
        ["diff", "x/7^5200", "--at", "1", "--explain"],
        ["diff", "x/7^5200", "--at", "1", "--format", "html"],
        ["diff", "x*1.0001^1100", "--at", "1", "--format", "latex"],
        ["diff", "x + 3^9000", "--at", "1", "--format", "html"],  # a value beyond doubles in the page's data
        ["diff", "x*1.0001^1100", "--at", "1", "--format", "markdown"],
        ["diff", "x*1.0001^1100", "--at", "1", "--order", "2"],
        ["diff", "x*1.0001^1100", "--at", "1", "--view", "sensitivity"],
        ["diff", "x^(7^5200)", "--at", "1"],  # seconds of mpmath's repeated squaring, before
        ["diff", "sin(x*7^1000*7^1000*7^1000*7^1000*7^1000*7^1000)"],  # a huge number inside a function
        ["diff", "x*1e-1000*1e-1000*1e-1000*1e-1000*1e-1000", "--at", "1"],
        ["diff", "2^2^2^2^2^2^2*x"],
        ["diff", "x*" + "^".join(["2"] * 1000)],  # a tower a thousand high is one number
        ["graph", "x/7^5200"],
        ["graph", "x*1.0001^1100", "--at", "x=1", "--format", "dot"],
        ["grad", "a = 7^5200; y = a*x", "--at", "x=1"],
        ["grad", "x*1.0001^1100", "--at", "x=1", "--format", "html"],
        ["check", "x*1.0001^1100", "7^5200"],
        ["check", "x*(1/3)^9000", "1"],
        ["check", "x^2", "x*1.0001^1100"],
    ],
)
def test_a_number_too_long_for_text_never_ends_in_an_internal_error(run: Any, args: list[str]) -> None:
    code, out, err = run(*args)
    assert code in (0, 1, 3, 4), err
    assert "internal error" not in err and "Traceback" not in err
    code, out, _ = run(*args, "--json") if "--format" not in args and "--explain" not in args else (code, "{}", "")
    strict(out)


@pytest.mark.parametrize(
    ("expression", "answer", "verdict"),
    [
        ("x*1.0001^1100", "1.0001^1100", "correct"),
        ("x^2*7^5200", "2x*7^5200", "correct"),
        ("x/7^5200", "7^-5200", "correct"),
        ("x*1.0001^1100", "1.0001^1101", "wrong"),
        ("sin(x)*7^5200", "cos(x)*7^5199", "wrong"),
        ("sin(1e1000*x)", "1e1000*cos(1e1000*x)", "correct"),  # SymPy's simplify recursed 1,000 deep
        ("sin(2^1200*x)", "cos(x*2^1200)*2^1200", "correct"),
    ],
)
def test_check_grades_answers_that_hold_huge_numbers(run_json: Any, expression: str, answer: str, verdict: str) -> None:
    code, doc = run_json("check", expression, answer)
    assert doc["verdict"] == verdict and code == (0 if verdict == "correct" else 3)


def test_batchs_per_line_function_answers_huge_numbers_as_dask_runs_it() -> None:
    settings_ = Settings.of(at="1")
    doc = strict(result_line(1, b"x*1.0001^1100\n", settings_))  # what Dask runs, line by line
    assert doc["derivative"]["value"] == pytest.approx(float(Fraction(10001, 10000) ** 1100), rel=1e-14)
    doc = strict(result_line(2, '{"expression": "x/7^5200", "at": {"x": 2}}', settings_))
    assert close(beyond(doc), exactly(1, 7**5200))


def test_batch_writes_one_strict_line_for_each_huge_or_undefined_line() -> None:
    from typer.testing import CliRunner

    from chainrule.cli import app

    lines = ["x*1.0001^1100", "x/7^5200", "max(x, 1/0)", "x*7^1000*7^1000*7^1000*7^1000*7^1000*7^1000", "(2x+1)^2"]
    result = CliRunner().invoke(app, ["batch", "--at", "3", "--jobs", "1"], input="\n".join(lines) + "\n")
    docs = [strict(line) for line in result.stdout.split("\n")[:-1]]
    assert result.exit_code == 1 and [d["line"] for d in docs] == [1, 2, 3, 4, 5]
    assert docs[2]["error"]["kind"] == "math" and docs[4]["derivative"]["value"] == 28
    assert "internal error" not in result.stderr


# --- undefined operands ------------------------------------------------------------------------

UNDEFINED = ["1/0", "ln(-1)", "sqrt(-1)", "asin(2)", "log1p(-2)", "0^-1", "ln(0)", "acosh(0)", "atanh(2)", "0/0"]
UNDEFINED_EXACTLY = ["tan(pi/2)", "1/cos(pi/2)"]  # undefined only exactly: doubles give 1.6e16
COMPARING = [
    "max(x, {u})",
    "min({u}, x)",
    "min(tanh(x-3), {u})",
    "max(x, 2, {u})",
    "abs({u})*x",
    "relu(x + {u})",
    "sign({u}*x)",
    "step(x - {u})",
    "leaky_relu({u}, x)",
    "elu(x*({u}))",
    "sigmoid({u} + x)",
    "softplus({u})*x",
    "logsumexp(x, {u})",
    "atan2({u}, x)",
    "hypot(x, {u})",
    "cbrt({u})*x",
    "x^({u})",
    "({u})^x",
]


def _cases() -> list[tuple[str, str]]:
    return [(context.format(u=u), u) for context in COMPARING for u in [*UNDEFINED, *UNDEFINED_EXACTLY]]


@pytest.mark.parametrize(("expression", "operand"), _cases())
def test_a_rule_that_compares_refuses_an_undefined_operand_at_its_place(
    run_json: Any, expression: str, operand: str
) -> None:
    start = expression.index(operand)
    start -= expression[start - 1] == "("  # a node's span holds its parentheses: (1/0)
    for args in (["diff", expression, "--at", "0.5"], ["diff", expression], ["grad", expression, "--at", "x=0.5"]):
        code, doc = run_json(*args)
        assert code == 1, (args, doc)
        error = doc["error"]
        assert error["kind"] == "math" and error["reason"] in ("undefined", "complex"), (args, error)
        assert start <= error["position"] < start + len(operand) + 1, (args, error)


@pytest.mark.parametrize(("expression", "operand"), _cases()[::7])
def test_check_and_batch_refuse_an_undefined_operand_too(run: Any, expression: str, operand: str) -> None:
    code, _, err = run("check", expression, "1")
    assert code == 1 and "internal error" not in err and err.startswith("error: ")
    doc = strict(result_line(1, expression, Settings.of(at="0.5")))
    assert doc["error"]["kind"] == "math"


def test_a_negative_number_to_an_odd_root_is_real_and_comparable(run_json: Any) -> None:
    code, doc = run_json("diff", "max(x, (-8)^(1/3))", "--at", "1")
    assert code == 0 and doc["derivative"]["value"] == 1
    code, doc = run_json("diff", "x*(-8)^(2/3)")
    assert code == 0 and doc["derivative"]["expression"] == "4"  # the real root squared, not 4·(-1)^(2/3)


# --- the fuzz: more members of each family ------------------------------------------------------

FUZZ = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

long_decimals = st.builds(
    lambda whole, digits: f"{whole}.{digits}",
    st.sampled_from(["0", "1", "2"]),
    st.text("0123456789", min_size=3, max_size=99),
)
bases = st.one_of(st.sampled_from(["7", "2", "13", "1.0001", "0.9999", "(1/3)", "(2/7)", "1.5", "(-7)"]), long_decimals)
exponents = st.one_of(st.integers(1000, 12000), st.integers(-12000, -1000)).map(lambda n: f"({n})" if n < 0 else str(n))
powers = st.builds(lambda b, e: f"{b}^{e}", bases, exponents)
tiny = st.sampled_from(["1e-1000", "2.5e-999", "1e1000", "9.99e999"])
huge_constants = st.one_of(
    powers,
    tiny,
    long_decimals,
    st.lists(st.one_of(powers, tiny, st.sampled_from(["7^1000", "3^2000"])), min_size=2, max_size=5).map("*".join),
    st.integers(3, 40).map(lambda n: "^".join(["2"] * n)),
)
HUGE_CONTEXTS = [
    "x*{c}",
    "{c}*sin(x)",
    "x/{c}",
    "x^({c})",
    "({c})^x",
    "sin({c}*x)",
    "exp(x)*{c} + {c}",
    "max(x, {c})",
    "{c}/(x + {c})",
    "tanh(x*{c})",
    "x^2 + {c}",
    "ln(x)*{c}",
]
COMMANDS = [
    ["diff", "{e}", "--at", "1"],
    ["diff", "{e}"],
    ["diff", "{e}", "--at", "0.5", "--explain"],
    ["diff", "{e}", "--at", "2", "--format", "latex"],
    ["diff", "{e}", "--at", "1", "--format", "html"],
    ["grad", "{e}", "--at", "x=1"],
    ["graph", "{e}", "--at", "x=1"],
    ["check", "{e}", "{e}"],
    ["check", "x^2", "{e}"],
    ["batch", "--at", "1"],
]


def _run_everywhere(run: Any, expression: str, command: list[str]) -> None:
    """One command on one expression: never exit 70, and with --json one strict document."""
    args = [expression if word == "{e}" else word for word in command]
    text_only = any(word in ("--explain", "--format") for word in args)
    stdin = expression + "\n" if args[0] == "batch" else None
    for extra in ([], [] if text_only or args[0] in ("graph", "batch") else ["--json"]):
        code, out, err = run(*args, *extra, "--timeout", "2") if stdin is None else _batch(run, args, stdin)
        assert code != 70 and "internal error" not in err + out and "Traceback" not in err + out, (args, err)
        if extra or args[0] == "batch":
            for line in out.split("\n") if args[0] == "batch" else [out]:
                if line.strip():
                    strict(line)


def _batch(run: Any, args: list[str], stdin: str) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from chainrule.cli import app

    result = CliRunner().invoke(app, [*args, "--jobs", "1", "--timeout", "2"], input=stdin)
    return result.exit_code, result.stdout, result.stderr


@FUZZ
@given(constant=huge_constants, context=st.sampled_from(HUGE_CONTEXTS), command=st.sampled_from(COMMANDS))
def test_huge_rational_literals_never_end_in_an_internal_error(
    run: Any, constant: str, context: str, command: list[str]
) -> None:
    _run_everywhere(run, context.format(c=constant), command)


undefined = st.sampled_from([*UNDEFINED, *UNDEFINED_EXACTLY, "(-1)^(1/2)", "asin(1 + 1/2)", "0^(-2)", "log(-2, 10)"])
ELSEWHERE = ["x*{u}", "sin({u}*x)", "x + {u}", "{u}/x", "exp(x*{u})", "x^2*(1 + {u})", "f({u}*x)"]


@FUZZ
@given(
    operand=undefined,
    context=st.sampled_from(COMPARING + ELSEWHERE),
    nested=st.sampled_from(["{}", "sin({})", "({})^2", "2*{}"]),
    command=st.sampled_from(COMMANDS),
)
def test_undefined_operands_never_end_in_an_internal_error(
    run: Any, operand: str, context: str, nested: str, command: list[str]
) -> None:
    _run_everywhere(run, nested.format(context.format(u=operand)), command)
