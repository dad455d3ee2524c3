"""The registry of views is a table of typed records: every record loads, every pair is unique,
and adding a format is one function and one record (shown here in a temporary registry)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from chainrule.cli import app
from chainrule.errors import UsageError
from chainrule.render import registry
from chainrule.render.registry import REGISTRY, Lazy, Registry, Terminal, View


def test_every_record_names_a_function_that_exists() -> None:
    for view in REGISTRY.views:
        if isinstance(view.render, Lazy):
            from importlib import import_module

            module = import_module(f"chainrule.render.{view.render.module}")
            assert callable(getattr(module, view.render.function)), view


def test_a_pair_is_registered_once() -> None:
    view = REGISTRY.views[0]
    with pytest.raises(ValueError, match="twice"):
        REGISTRY.with_view(View(view.command, view.format, view.render))


def test_a_missing_pair_is_a_usage_error_naming_the_formats() -> None:
    with pytest.raises(UsageError) as caught:
        REGISTRY.renderer("graph", "latex")
    assert caught.value.hint == "graph writes: mermaid, dot, json"


def csv(result: Any) -> str:
    """A new format for grad: one line per variable, its name and ∂output/∂variable."""
    return "".join(f"{name},{value!r}\n" for name, value in sorted(result.gradient.items()))


def test_adding_a_format_is_one_function_and_one_record(monkeypatch: pytest.MonkeyPatch) -> None:
    program = ["grad", "c = a*b; d = c + 1; loss = d^2", "--at", "a=2,b=3"]
    before = CliRunner().invoke(app, [*program, "--format", "csv"])
    assert before.exit_code == 2 and "grad has no 'csv' format" in before.output

    temporary = REGISTRY.with_view(View("grad", "csv", csv))
    assert "csv" not in REGISTRY.formats("grad")  # the registry itself is unchanged
    monkeypatch.setattr(registry, "REGISTRY", temporary)
    result = CliRunner().invoke(app, [*program, "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = dict(line.split(",") for line in result.stdout.splitlines())
    doc = json.loads(CliRunner().invoke(app, [*program, "--json"]).stdout)
    assert {k: float(v) for k, v in rows.items()} == {"a": 42.0, "b": 28.0}
    assert doc["gradient"] == {"a": 42.0, "b": 28.0}  # the seeds' three-node graph: 42 and 28


def test_a_temporary_registry_names_its_new_format_in_its_hints() -> None:
    temporary = Registry(REGISTRY.views, REGISTRY.names).with_view(View("graph", "csv", csv))
    with pytest.raises(UsageError) as caught:
        temporary.renderer("graph", "latex")
    assert caught.value.hint == "graph writes: mermaid, dot, json, csv"


def test_layout_flags_reach_the_renderer() -> None:
    seen: dict[str, Any] = {}

    def probe(result: Any, **options: Any) -> str:
        seen.update(options)
        return "x" * 30

    terminal = Terminal(width=40, full=True, color=True)
    text = Registry((View("t", "text", probe, terminal=True, summarizing=True),)).renderer("t", "text")(None, terminal)
    assert seen == {"color": True, "width": 40, "full": True} and text == "x" * 30
