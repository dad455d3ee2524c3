"""The published JSON Schemas describe what the commands really print, errors included."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from chainrule.cli import app


def schema(name: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["schema", name])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(doc)
    return doc


def output(*args: str) -> dict[str, Any]:
    return json.loads(CliRunner().invoke(app, list(args)).stdout)


@pytest.mark.parametrize(
    "args",
    [
        ["diff", "sin((2x+1)^2)", "--at", "3", "--json"],
        ["diff", "(3x+1)^2", "--json"],
        ["diff", "x*sin(x)", "--at", "1", "--json", "--order", "2"],
        ["diff", "sigmoid(sigmoid(sigmoid(x)))", "--at", "0", "--json"],
        ["diff", "sinn(x)", "--json"],
        ["diff", "ln(x)", "--at", "-1", "--json"],
        ["diff", "x", "--bogus", "--json"],
    ],
)
def test_diff_outputs_validate(args: list[str]) -> None:
    jsonschema.validate(output(*args), schema("diff"))


@pytest.mark.parametrize(
    "args",
    [
        ["grad", "c = a*b; d = c + 1; loss = d^2", "--at", "a=2,b=3", "--json"],
        ["grad", "(a*b+1)^2", "--json"],
        ["grad", "c = d; d = a", "--json"],
    ],
)
def test_grad_outputs_validate(args: list[str]) -> None:
    jsonschema.validate(output(*args), schema("grad"))


@pytest.mark.parametrize(
    "args",
    [
        ["check", "sin(x^2)", "cos(x)*2x", "--json"],
        ["check", "(2x+1)^2", "8x+4", "--json"],
        ["check", "sin(x^2 + 1)", "2*sin(x)*cos(x)", "--json"],  # swapped
        ["check", "(x^2 + 1)^3", "3*(x^2 + 1)^3*2*x", "--json"],  # power-rule
        ["check", "(3*x)^2", "36*x", "--json"],  # a constant factor: no layer, no point
        ["check", "x*sin(x)", "x*cos(x)", "--json"],  # a missing term
        ["check", "sin(x)", "cos(", "--json"],
    ],
)
def test_check_outputs_validate(args: list[str]) -> None:
    jsonschema.validate(output(*args), schema("check"))


def test_batch_lines_validate() -> None:
    result = CliRunner().invoke(app, ["batch", "--at", "2"], input="x^2\nsinn(x)\n")
    validator = schema("batch")
    for line in result.stdout.splitlines():
        jsonschema.validate(json.loads(line), validator)


def test_a_wrong_document_is_rejected() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"schema": "chainrule.diff/1", "layers": []}, schema("diff"))
