"""One core under every command: the inputs that used to crash (exit 70) end with an answer or a clear error."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import sympy

from chainrule.derive import differentiate
from chainrule.errors import InputError, MathError, Reason


def _strict(text: str) -> Any:
    def reject(name: str) -> None:
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=reject)


def test_an_unused_binding_is_left_out_of_the_gradient_and_the_graph(run: Any) -> None:
    code, out, _ = run("grad", "a = x^2; b = x^3; c = a + 1", "--at", "x=1", "--json")
    assert code == 0
    doc = _strict(out)
    assert doc["gradient"] == {"x": 2.0}
    assert [node["name"] for node in doc["nodes"]] == ["a", "c"]
    code, out, _ = run("graph", "a = x^2; b = x^3; c = a + 1", "--at", "x=1")
    assert code == 0 and "c = a + 1" in out


@pytest.mark.parametrize("inner", ["x^2", "2x", "sin(x)"])
def test_an_abstract_function_of_an_expression_gives_the_lessons_formula(run: Any, inner: str) -> None:
    f = sympy.Function("f")
    x = sympy.Symbol("x", real=True)
    expr = {"x^2": x**2, "2x": 2 * x, "sin(x)": sympy.sin(x)}[inner]
    d = differentiate(f"f({inner})")
    assert sympy.simplify(d.derivative.doit() - sympy.diff(f(expr), x)) == 0
    for command in ("diff", "grad", "graph"):
        code, out, err = run(command, f"f({inner})")
        assert code == 0, (command, err)
        assert "f′" in out
    code, out, _ = run("check", f"f({inner})", "2x", "--json")
    assert code == 3 and _strict(out)["verdict"] == "wrong"


@pytest.mark.parametrize("constant", ["3", "pi"])
def test_a_constant_is_not_its_own_derivative(run: Any, constant: str) -> None:
    code, out, _ = run("check", constant, constant, "--json")
    assert code == 3
    doc = _strict(out)
    assert doc["verdict"] == "wrong" and doc["expected"] == "0"
    code, out, _ = run("check", constant, "0", "--json")
    assert code == 0 and _strict(out)["verdict"] == "correct"


@pytest.mark.parametrize(
    "args",
    [
        ("x + sin(y)", "--wrt", "x", "--at", "x=1,y=2"),
        ("x + sin(y)", "--wrt", "x"),
        ("x*exp(y)", "--wrt", "x", "--at", "x=1,y=2"),
        ("x*exp(y)", "--wrt", "x"),
    ],
)
def test_the_lesson_of_a_function_of_another_variable_has_no_pitfall_on_it(run: Any, args: tuple[str, ...]) -> None:
    code, out, err = run("diff", *args, "--explain")
    assert code == 0, err
    assert "The chain rule, step by step" in out
    assert "Pitfall" not in out  # sin(y) and exp(y) are of a variable, not of an inner layer


def test_a_logarithm_with_a_base_is_graded_and_its_mistake_named(run: Any) -> None:
    code, out, _ = run("check", "log(x^2+1, 10)", "2x/(x^2+1)", "--json")
    assert code == 3
    doc = _strict(out)
    assert doc["verdict"] == "wrong" and doc["diagnosis"]
    code, out, _ = run("check", "log(x^2+1, 10)", "2x/((x^2+1) ln(10))", "--json")
    assert code == 0


@pytest.mark.parametrize("depth", [200, 10_000])
def test_check_grades_a_deep_chain_without_recursion(run: Any, depth: int) -> None:
    expression = "sin(" * depth + "x" + ")" * depth
    code, out, err = run("check", expression, "cos(x)", "--json", "--timeout", "30")
    assert code == 3, err
    doc = _strict(out)
    assert doc["verdict"] == "wrong" and doc["diagnosis"][0]["kind"] in ("missing-factor", "other")


@pytest.mark.parametrize(
    ("expression", "wrt", "output"),
    [("y+f+out+result", "y", "output"), ("u*v*w*t*layer", "u", "y"), ("u1*sin(v1*w1*t1*layer1)", "u1", "y")],
)
def test_layer_and_output_names_never_run_out(run: Any, expression: str, wrt: str, output: str) -> None:
    code, out, err = run("diff", expression, "--wrt", wrt, "--json")
    assert code == 0, err
    doc = _strict(out)
    assert doc["output"] == output
    names = [layer["name"] for layer in doc["layers"]]
    assert len(set(names)) == len(names)
    assert not set(names[:-1]) & {"u1", "v1", "w1", "t1", "layer1", "y", "f", "out", "result", "output"} - {output}


def test_a_long_superscript_meets_the_digit_limit(run: Any) -> None:
    code, _, err = run("diff", "x" + "⁹" * 5000)
    assert code == 2
    assert "the limit is 100" in err


def test_a_second_derivative_through_softplus_carries_its_value(run: Any) -> None:
    code, out, _ = run("diff", "sin(x)*softplus(3)", "--at", "1", "--order", "2", "--json")
    assert code == 0
    second = _strict(out)["orders"][1]
    expected = -math.sin(1) * math.log1p(math.exp(3))
    assert second["value"] == pytest.approx(expected, rel=1e-14)
    assert second["check"]["agrees"] is True


@pytest.mark.parametrize(
    ("args", "supported"),
    [
        (("grad", "x", "--format", "csv"), "text, explain, json, latex, latex-document, html, markdown"),
        (("check", "sin(x)", "cos(x)", "--format", "explain"), "text, json, latex, latex-document, html, markdown"),
        (("diff", "sin(x)", "--at", "1", "--view", "sensitivity", "--format", "latex"), "text, json"),
        (("graph", "x", "--format", "latex"), "mermaid, dot, json"),
    ],
)
def test_an_unsupported_format_is_a_usage_error_naming_the_supported_ones(
    run: Any, args: tuple[str, ...], supported: str
) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == "" or _strict(out)["error"]["kind"] == "usage"  # with --format json, still JSON
    assert supported in err


def test_two_formats_at_once_are_a_usage_error_in_json(run: Any) -> None:
    code, out, _ = run("diff", "x", "--json", "--format", "latex")
    assert code == 2
    assert _strict(out)["error"]["kind"] == "usage"


def test_math_errors_carry_an_enumerated_reason() -> None:
    with pytest.raises(MathError) as caught:
        differentiate("ln(x)", at="-1")
    assert caught.value.reason is Reason.undefined
    with pytest.raises(MathError) as caught:
        differentiate("sqrt(x)", at="-1")
    assert caught.value.reason is Reason.complex
    with pytest.raises(MathError) as caught:
        differentiate("|x|", at="0")
    assert caught.value.reason is Reason.not_differentiable


def test_a_point_is_read_without_building_a_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    import chainrule.derive

    built: list[str] = []
    real = chainrule.derive.build_graph

    def counting(expr: Any, *args: Any, **kwargs: Any) -> Any:
        built.append(expr.source)
        return real(expr, *args, **kwargs)

    monkeypatch.setattr(chainrule.derive, "build_graph", counting)
    d = differentiate("sin(x)", at="pi/4")
    assert built == ["sin(x)"]
    assert d.point == {"x": pytest.approx(math.pi / 4)}
    with pytest.raises(InputError, match="in the point") as caught:  # the CLI words it "in --at"
        differentiate("sin(x)", at="1/0")
    assert caught.value.concerns == "point"


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("check", "x", "1/0"), 1, "division by zero"),
        (("check", "x", "sqrt(-1)"), 1, "not a real number"),
        (("diff", "|x|", "--at", "0"), 1, "no derivative at x = 0"),
        (("diff", "f(x^2)", "--order", "2"), 2, "abstract functions"),
        (("diff", "x", "--format", ""), 2, "diff writes"),
        (("diff", "sin(x)", "--at", "1", "--plot", "/nonexistent/a.png"), 2, "--plot cannot write"),
    ],
)
def test_edges_found_in_review_end_with_a_clear_error(
    run: Any, args: tuple[str, ...], code: int, fragment: str
) -> None:
    got, _, err = run(*args)
    assert got == code
    assert fragment in err


def test_a_domain_check_at_a_point_beyond_doubles_does_not_crash_the_check(run: Any) -> None:
    code, _, err = run("diff", "tan(x + 1/(((1+4e-16)-1)*1.3e-293))", "--at", "0")
    assert code in (0, 1, 3), err


def test_format_names_are_case_insensitive_and_json_errors_stay_json(run: Any) -> None:
    code, out, _ = run("diff", "ln(x)", "--at", "0", "--format", "JSON")
    assert code == 1 and _strict(out)["error"]["reason"] == "undefined"
    code, out, _ = run("diff", "x", "--format=JSON", "--json")
    assert code == 0 and _strict(out)["schema"] == "chainrule.diff/1"


def test_a_higher_order_without_a_finite_value_is_shown_unchecked(run: Any) -> None:
    code, out, _ = run("diff", "x^(3/2)", "--at", "0", "--order", "2", "--json")
    assert code == 0
    second = _strict(out)["orders"][1]
    assert second.get("value") is None or second["check"]["agrees"] is None


def test_a_batch_line_that_is_not_utf8_is_an_error_on_that_line_not_a_crash() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "batch", "-", "--at", "1"], input=b"x\n\xff\xfex\n", capture_output=True
    )
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["derivative"]["value"] == 1
    assert second["line"] == 2 and "not UTF-8" in second["error"]["message"]
