"""The command line, read the way a user's script reads it: exit codes and parsed JSON."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from typing import Any

import pytest


def test_seed_example_in_json(run_json: Any) -> None:
    code, doc = run_json("diff", "sin((2x+1)^2)", "--at", "3")
    assert code == 0
    assert doc["schema"] == "chainrule.diff/1"
    assert doc["input"] == "sin((2x+1)^2)"
    assert doc["function"] == "sin((2*x + 1)**2)"
    assert doc["variable"] == "x" and doc["point"] == {"x": 3.0}
    assert [layer["name"] for layer in doc["layers"]] == ["u1", "u2", "y"]
    assert [layer["expression"] for layer in doc["layers"]] == ["2*x + 1", "u1**2", "sin(u2)"]
    assert [layer["value"] for layer in doc["layers"]][:2] == [7.0, 49.0]
    locals_ = [layer["local"][0] for layer in doc["layers"]]
    assert [(entry["wrt"], entry["expression"], entry["rule"]) for entry in locals_] == [
        ("x", "2", "sum"),
        ("u1", "2*u1", "power"),
        ("u2", "cos(u2)", "sin"),
    ]
    assert [entry["value"] for entry in locals_][:2] == [2.0, 14.0]
    assert locals_[2]["value"] == pytest.approx(math.cos(49))
    assert doc["derivative"]["expression"] == "4*(2*x + 1)*cos((2*x + 1)**2)"
    assert doc["derivative"]["product"] == "cos(u2)*2*u1*2"
    assert doc["derivative"]["value"] == pytest.approx(28 * math.cos(49), rel=1e-15)
    check = doc["check"]
    assert check["nudge"]["h"] == 0.001
    assert check["agrees"] is True
    assert check["abs_error"] < 1e-12


def test_seed_nudge_in_json(run_json: Any) -> None:
    code, doc = run_json("diff", "(2x+1)^2", "--at", "3")
    assert code == 0
    assert doc["derivative"]["value"] == 28
    assert round(doc["check"]["nudge"]["value"], 6) == 28.004


def test_without_a_point_values_and_check_are_left_out(run_json: Any) -> None:
    code, doc = run_json("diff", "(3x+1)^2")
    assert code == 0
    assert doc["point"] is None
    assert "check" not in doc and "value" not in doc["derivative"]
    assert all("value" not in layer for layer in doc["layers"])
    assert doc["derivative"]["expression"] == "6*(3*x + 1)"


def test_leading_minus_is_an_expression_not_an_option(run_json: Any, run: Any) -> None:
    code, doc = run_json("diff", "-x^2", "--at", "3")
    assert code == 0 and doc["derivative"]["value"] == -6
    code, out, _ = run("diff", "-x^2", "--at", "3")
    assert code == 0 and "-6" in out


def test_several_variables(run_json: Any) -> None:
    code, doc = run_json("diff", "x^2 + x*y + y^2", "--wrt", "x", "--at", "x=0.7,y=1.3")
    assert code == 0
    assert doc["derivative"]["value"] == pytest.approx(2.7)
    assert doc["point"] == {"x": 0.7, "y": 1.3}
    assert [entry["wrt"] for entry in doc["layers"][0]["local"]] == ["x", "y"]


def test_parse_error_json_and_stderr(run: Any) -> None:
    code, out, err = run("diff", "sinn(x)", "--json")
    assert code == 2
    doc = json.loads(out)
    assert doc == {
        "schema": "chainrule.diff/1",
        "error": {
            "kind": "parse",
            "message": "unknown function 'sinn'; did you mean 'sin'?",
            "position": 0,
            "hint": "to multiply, write sinn*(...)",
        },
    }
    assert "did you mean 'sin'?" in err and "^~~~" in err


def test_math_error_exit_1(run: Any) -> None:
    code, out, err = run("diff", "ln(x-4)", "--at", "3")
    assert code == 1
    assert out == ""
    assert "positive argument" in err and "Traceback" not in err


@pytest.mark.parametrize(("expr", "at"), [("|x|", "0"), ("relu(x)", "0"), ("1/x", "0"), ("sqrt(x)", "-1")])
def test_math_errors_in_json_are_strict(run: Any, expr: str, at: str) -> None:
    code, out, _ = run("diff", expr, "--at", at, "--json")
    assert code == 1
    doc = json.loads(out, parse_constant=lambda name: pytest.fail(f"non-strict JSON {name}"))
    assert doc["error"]["kind"] == "math"
    assert doc["error"]["reason"] in {"undefined", "complex", "not-differentiable", "overflow"}


def test_usage_error_exit_2(run: Any) -> None:
    code, _, err = run("diff", "a+b", "--at", "1")
    assert code == 2
    assert "--wrt" in err


def test_text_view(run: Any) -> None:
    code, out, _ = run("diff", "sin((2x+1)^2)", "--at", "3")
    assert code == 0
    for piece in ("u1", "2·x + 1", "du2/du1 = 2·u1", "dy/du2 = cos(u2)", "power", "agrees"):
        assert piece in out
    assert "dy/dx = cos(u2)·2·u1·2 = 4·(2·x + 1)·cos((2·x + 1)²)" in out
    assert "\x1b[" not in out  # plain text when not a terminal


def test_explain_reads_like_the_lesson(run: Any) -> None:
    code, out, _ = run("diff", "(2x+1)^2", "--at", "3", "--explain")
    assert code == 0
    assert "x ──[×2]──▶ u1 ──[×14]──▶ y" in out
    assert "28.004 ≈ 28 ✓" in out
    assert "du1/dx = 2" in out and "dy/du1 = 2·u1" in out
    assert "= 4·(2·x + 1)" in out


def test_explain_for_the_issue_example(run: Any) -> None:
    code, out, _ = run("diff", "sin((2x+1)^2)", "--at", "3", "--explain")
    assert code == 0
    assert "x ──[×2]──▶ u1 ──[×14]──▶ u2 ──[×cos(49)]──▶ y" in out
    assert "must be evaluated at u2 = (2·x + 1)², not at x" in out


def test_format_option_is_the_same_as_the_shortcuts(run: Any) -> None:
    assert run("diff", "x^2", "--format", "json")[1] == run("diff", "x^2", "--json")[1]
    assert run("diff", "x^2", "--format", "explain")[1] == run("diff", "x^2", "--explain")[1]


def test_granularity_ops(run_json: Any) -> None:
    code, doc = run_json("diff", "(a*b+1)^2", "--wrt", "a", "--at", "a=2,b=3", "--granularity", "ops")
    assert code == 0
    assert [layer["expression"] for layer in doc["layers"]] == ["a*b", "u1 + 1", "u2**2"]
    assert doc["derivative"]["value"] == 42


def test_version(run: Any) -> None:
    from chainrule import __version__

    code, out, _ = run("--version")
    assert code == 0 and out.strip() == f"chainrule {__version__}"


def test_internal_errors_exit_70_without_traceback(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import chainrule.derive

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(chainrule.derive, "differentiate", broken)
    code, out, err = run("diff", "x", "--json")
    assert code == 70
    assert json.loads(out)["error"]["kind"] == "internal"  # still one JSON document on stdout
    assert "bug" in err and "Traceback" not in err


def test_python_dash_m_and_help_do_not_import_sympy() -> None:
    probe = "import sys, runpy; sys.argv = ['chainrule', '--help']\n"
    probe += "try:\n    runpy.run_module('chainrule', run_name='__main__')\nexcept SystemExit:\n    pass\n"
    probe += "print('SYMPY' if 'sympy' in sys.modules else 'NO-SYMPY')"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "diff" in out and out.strip().endswith("NO-SYMPY")


def test_python_dash_m_runs_the_seed() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "diff", "(2x+1)^2", "--at", "3", "--json"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert json.loads(result.stdout)["derivative"]["value"] == 28


def test_a_wrong_rule_is_caught_by_the_check_with_exit_3(run_json: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from chainrule import rules

    # a wrong rule in the table: its numeric slope and its symbolic partial alike
    wrong = dataclasses.replace(
        rules.RULES["sin"], slopes=(lambda n, u: -n.cos(u),), partials=(lambda u: -rules.sympy.cos(u),)
    )
    monkeypatch.setitem(rules.RULES, "sin", wrong)
    code, doc = run_json("diff", "sin(x^2)", "--at", "1.5")
    assert code == 3
    assert doc["check"]["agrees"] is False
    assert doc["derivative"]["value"] == pytest.approx(-math.cos(2.25) * 3)


def test_the_console_script_pauses_the_collector_only_until_the_engine_is_imported() -> None:
    """main() pauses the garbage collector for SymPy's import; the command's own
    work runs with it on (a deep chain's garbage is collected), and it is on
    again when main returns."""
    probe = """
import gc, sys
import chainrule.derive
seen = []
real = chainrule.derive.differentiate
def spy(*args, **kwargs):
    seen.append(gc.isenabled())
    return real(*args, **kwargs)
chainrule.derive.differentiate = spy
sys.argv = ['chainrule', 'diff', 'sin(x^2)', '--at', '1', '--json']
from chainrule.cli import main
try:
    main()
except SystemExit as done:
    code = done.code
print('RESULT', code, seen, gc.isenabled(), len(gc.get_objects()) > 0, gc.get_freeze_count() > 0)
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "RESULT 0 [True] True True True"


def test_a_format_given_twice_is_a_usage_error_answered_in_json(run: Any) -> None:
    """The parser would keep the last --format; a reader who asked for JSON first would get text."""
    code, out, err = run("diff", "x^2", "--format", "json", "--format", "text")
    doc = json.loads(out)
    assert code == 2 and doc["error"]["kind"] == "usage" and "more than once" in doc["error"]["message"]
    assert "more than once" in err
