"""User text never reaches eval, exec, compile, sympify, parse_expr or lambdify."""

from __future__ import annotations

import ast
import builtins
from pathlib import Path
from typing import Any

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "chainrule"
BANNED_CALLS = {"eval", "exec", "compile", "sympify", "parse_expr", "lambdify", "S", "__import__"}
BANNED_MODULES = ("sympy.parsing", "sympy.utilities.lambdify")


def test_source_calls_none_of_the_dangerous_functions() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                harmless = (
                    isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "re"
                )
                if name in BANNED_CALLS and not harmless:
                    found.append(f"{path.name}:{node.lineno} calls {name}")
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(BANNED_MODULES):
                found.append(f"{path.name}:{node.lineno} imports {node.module}")
            if isinstance(node, ast.Import):
                found += [f"{path.name}:{node.lineno}" for a in node.names if a.name.startswith(BANNED_MODULES)]
    assert found == []


@pytest.mark.parametrize(
    "text",
    [
        "sin((2x+1)^2)",
        "x*sin(x) + |x - 1| + sigmoid(x)^2",
        "f(g(x))",
        "log(x, 2) + sqrt(x) + e^x + pi",
        "x^x / (1 + x²)",
    ],
)
def test_no_dynamic_code_runs_while_differentiating(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    import sys

    import sympy

    from chainrule.derive import differentiate
    from chainrule.render import explain_view, json_view, text_view

    def refuse(name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            if args and isinstance(args[0], str):
                raise AssertionError(f"{name} called with text {args[0]!r}")
            return original[name](*args, **kwargs)

        return call

    original = {"eval": builtins.eval, "exec": builtins.exec, "compile": builtins.compile}
    module = sys.modules["sympy.core.sympify"]
    original["sympify"] = module.sympify
    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, refuse(name))
    monkeypatch.setattr(module, "sympify", refuse("sympify"))
    monkeypatch.setattr(sympy, "sympify", refuse("sympify"))
    d = differentiate(text, at=None if "f(" in text else "0.7")
    json_view.render(d)
    text_view.render(d)
    explain_view.render(d)
