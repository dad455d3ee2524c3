"""Every (command, format) pair, for a scalar program and a tensor program: it works for both, or
it is a usage error for both that names the formats that do exist, and those formats work.

The formats a command has are found by running it, not read from the registry: the error's list
is checked against what the command actually writes."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from chainrule.cli import app

FORMATS = ("text", "explain", "json", "latex", "latex-document", "markdown", "html", "mermaid", "dot", "pdf")
SCALAR_PROGRAM = ("z = w*x + b; h = tanh(z); L = h^2", "--at", "w=0.5,x=1.5,b=0.1")
TENSOR_PROGRAM = ("z = W @ x + b; h = tanh(z); L = sum(h^2)", "--shape", "W=3x2,x=2,b=3", "--seed", "0")
COMMANDS = {  # a command as typed -> (its scalar input, its tensor input)
    "grad": (("grad", *SCALAR_PROGRAM), ("grad", *TENSOR_PROGRAM)),
    "grad --view sensitivity": (
        ("grad", *SCALAR_PROGRAM, "--view", "sensitivity"),
        ("grad", *TENSOR_PROGRAM, "--view", "sensitivity"),
    ),
    "graph": (("graph", *SCALAR_PROGRAM), ("graph", *TENSOR_PROGRAM)),
}
MISSING = re.compile(r"has no '([^']+)' format")
WRITES = re.compile(r"writes: (.+)")


def _reject(name: str) -> None:
    raise ValueError(f"not strict JSON: {name}")


def outcome(args: tuple[str, ...], format_: str) -> tuple[bool, tuple[str, ...] | None]:
    """(whether it wrote the format, the formats its usage error names)."""
    result = CliRunner().invoke(app, [*args, "--format", format_])
    assert result.exit_code != 70, result.stderr  # never an internal error
    if result.exit_code in (0, 3):
        out = result.stdout
        assert out.strip()
        if format_ == "json":
            json.loads(out, parse_constant=_reject)
        if format_ == "html":
            assert out.startswith("<!DOCTYPE html>")
        if format_ == "latex-document":
            assert "\\begin{document}" in out and "\\end{document}" in out
        if format_ == "mermaid":
            assert out.startswith("flowchart")
        if format_ == "dot":
            assert out.startswith("digraph")
        return True, None
    assert result.exit_code == 2, (args, format_, result.stdout, result.stderr)
    missing = MISSING.search(result.stderr)
    assert missing and missing.group(1) == format_, result.stderr
    listed = WRITES.search(result.stderr)
    assert listed, result.stderr
    return False, tuple(listed.group(1).strip().split(", "))


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_format_works_for_scalars_and_tensors_alike_or_names_those_that_do(command: str) -> None:
    scalar_args, tensor_args = COMMANDS[command]
    written: dict[str, set[str]] = {}
    for kind, args in (("scalar", scalar_args), ("tensor", tensor_args)):
        works: set[str] = set()
        named: set[tuple[str, ...]] = set()
        for format_ in FORMATS:
            ok, listed = outcome(args, format_)
            if ok:
                works.add(format_)
            else:
                assert listed is not None
                named.add(listed)
        assert len(named) <= 1  # one list, whichever format was missing
        for listed in named:
            assert set(listed) >= works  # every format it writes is named ...
            for format_ in set(listed) - works:  # ... and every format named is written
                assert outcome(args, format_)[0], (kind, format_)
        written[kind] = works
    assert written["scalar"] == written["tensor"], written


def test_the_lesson_and_the_sensitivity_view_exist_for_tensors() -> None:
    _, tensor_args = COMMANDS["grad"]
    assert outcome(tensor_args, "html")[0]
    assert outcome(COMMANDS["grad --view sensitivity"][1], "text")[0]


@pytest.mark.parametrize("command", ["diff", "check"])
def test_diff_and_check_send_a_tensor_program_to_grad_in_every_format(command: str) -> None:
    args = (command, "sum(x^2)", *(("2x",) if command == "check" else ("--at", "x=[1, 2]")))
    for format_ in FORMATS:
        result = CliRunner().invoke(app, [*args, "--format", format_])
        assert result.exit_code == 2, (format_, result.stderr)
        assert "chainrule grad" in result.stderr or MISSING.search(result.stderr), result.stderr
