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


@pytest.mark.parametrize(
    "args",
    [
        ["graph", "c = a*b; d = c + 1; loss = d^2", "--at", "a=2,b=3", "--format", "json"],
        ["graph", "sin((2x+1)^2)", "--format", "json"],
        ["graph", "z = W @ x + b; L = sum(tanh(z))", "--shape", "W=2x3,x=3,b=2", "--format", "json"],
        ["graph", "sinn(x)", "--format", "json"],
    ],
)
def test_graph_outputs_validate(args: list[str]) -> None:
    jsonschema.validate(output(*args), schema("graph"))


def test_the_graph_document_is_the_lessons_graph() -> None:
    """The three-node graph of the seeds: a·b, +1, squared; 42 and 28 reach the leaves."""
    doc = output("graph", "c = a*b; d = c + 1; loss = d^2", "--at", "a=2,b=3", "--format", "json")
    by_name = {n["name"]: n for n in doc["nodes"]}
    assert (by_name["a"]["adjoint"], by_name["b"]["adjoint"], by_name["loss"]["value"]) == (42.0, 28.0, 49.0)
    ids = {n["id"] for n in doc["nodes"]}
    assert all(e["from"] in ids and e["to"] in ids for e in doc["edges"])
    into_c = {e["local"]: e["value"] for e in doc["edges"] if e["to"] == by_name["c"]["id"]}
    assert into_c == {"b": 3.0, "a": 2.0}  # ∂c/∂a = b, ∂c/∂b = a


def test_a_tensor_graph_carries_shapes_and_adjoints() -> None:
    import numpy as np

    doc = output("graph", "z = W @ x; L = sum(z^2)", "--shape", "W=2x3,x=3", "--format", "json")
    by_name = {n["name"]: n for n in doc["nodes"]}
    w, x = np.array(by_name["W"]["value"]), np.array(by_name["x"]["value"])
    assert by_name["W"]["shape"] == [2, 3]
    np.testing.assert_allclose(by_name["W"]["adjoint"], np.outer(2 * (w @ x), x))  # ∂L/∂W = 2z·xᵀ


def test_batch_lines_validate() -> None:
    result = CliRunner().invoke(app, ["batch", "--at", "2"], input="x^2\nsinn(x)\n")
    validator = schema("batch")
    for line in result.stdout.splitlines():
        jsonschema.validate(json.loads(line), validator)


def test_a_wrong_document_is_rejected() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"schema": "chainrule.diff/1", "layers": []}, schema("diff"))
