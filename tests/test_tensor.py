"""Backpropagation on vectors and matrices, stage by stage: the table, the point, shapes,
the passes, the formulas, the checks, the command line and the views.

The oracles: central differences and the scalar engine on the program written out entry
by entry (both run inside every gradient, and must agree here), numpy written by hand
for the lessons' identities, and ``tests/test_tensor_oracle.py`` (autograd).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from chainrule import interpret, tensor
from chainrule.cli import app
from chainrule.errors import InputError, MathError, UsageError
from chainrule.render import formula_print, tensor_views
from chainrule.rules import RULES
from chainrule.syntax import parse, parse_program
from chainrule.tensor_rules import TENSOR_RULES

runner = CliRunner()

SEED_NETWORK = "h = relu(W1 @ x + b1); yhat = W2 @ h + b2; L = sum((yhat - y)^2)"
SEED_SHAPES = "W1=8x4,b1=8,W2=1x8,b2=1,x=4,y=1"
SOFTMAX = "z = W @ x + b; p = softmax(z); L = -log(p[2])"
SOFTMAX_AT = "W=[[0.5,-1],[1,0.2],[-0.3,0.8]],x=[1,2],b=[0,0.1,-0.1]"
EMBEDDING = "e = E[3]; z = W @ e; L = cross_entropy(z, 1)"


def grad(program: str, at: Any = None, shape: str | None = None, seed: int | None = None, **kw: Any) -> Any:
    return tensor.gradient(parse_program(program), at=at, shape=shape, seed=seed, **kw)


def form(g: Any, v: str) -> str | None:
    """∂L/∂v's matrix formula as the views show it (None: too long)."""
    return tensor_views.form_text(g, v)


# --------------------------------------------------------------------------- the table

# One row per operation: a program that uses it.  Every gradient must agree with central
# differences and with the scalar engine.  Adding an operation is one entry and one row here.
ROWS = {
    "matmul": ("L = sum(tanh(W @ x) * (v @ W))", "W=3x3,x=3,v=3"),
    "transpose": ("L = sum((A.T @ B) ^ 2)", "A=3x2,B=3x4"),
    "index": ("L = E[2] @ E[1] + sin(x[0]) * A[1, 0]", "E=4x3,x=2,A=2x2"),
    "list": ("v = [a, 2 * a, a ^ 2]; L = sum(v * w)", "a=scalar,w=3"),
    "sum": ("L = sum(exp(W))", "W=2x3"),
    "mean": ("L = mean(W ^ 2) + mean(x)", "W=2x3,x=4"),
    "softmax": ("p = softmax(z); L = p[0] - 2 * p[2]", "z=4"),
    "log_softmax": ("L = sum(log_softmax(z) * t)", "z=5,t=5"),
    "cross_entropy": ("L = cross_entropy(W @ x, 2)", "W=4x3,x=3"),
    "mse": ("L = mse(tanh(W @ x), y)", "W=3x2,x=2,y=3"),
    "norm2": ("L = norm2(A @ x - y) ^ 2", "A=3x2,x=2,y=3"),
    "layernorm": ("L = sum(layernorm(W @ x) * v) + sum(layernorm(A) * B)", "W=4x3,x=3,v=4,A=2x3,B=2x3"),
}


def test_every_tensor_operation_has_a_row() -> None:
    assert set(ROWS) == set(TENSOR_RULES)


@pytest.mark.parametrize("key", sorted(TENSOR_RULES))
def test_every_operation_agrees_with_central_differences_and_the_scalar_engine(key: str) -> None:
    rule = TENSOR_RULES[key]
    assert rule.name and rule.identity and rule.why
    assert key == "list" or len(rule.vjps) == len(rule.partial_forms) == rule.arity[1]
    program, shapes = ROWS[key]
    g = grad(program, shape=shapes, seed=3)
    assert g.scalar_checked, "the scalar engine must see the program entry by entry"
    for name, c in g.checks.items():
        assert c.error <= 1 and c.scalar is True, (key, name, c)
    assert set(g.gradient) == set(g.tensors.variables)


ELEMENTWISE = sorted(k for k, r in RULES.items() if r.function and r.arity[0] == 1)  # f(u), and f(u, a=default)


@pytest.mark.parametrize("key", ELEMENTWISE)
def test_every_elementwise_function_applies_entry_by_entry(key: str) -> None:
    rule = RULES[key]
    candidates = [0.3, 0.6, 0.9, 1.5, 2.5, 3.5, -0.4]
    fine = [v for v in candidates if rule.problem(v, *[0.01] * (len(rule.partials) - 1)) is None]
    fine = [v for v in fine if rule.kink is None or rule.kink(v, *[0.01] * (len(rule.partials) - 1)) is None]
    point = fine[:3]
    assert len(point) == 3, key
    g = grad(f"L = sum({key}(x) * w)", at={"x": point, "w": [1.0, -2.0, 0.5]})
    expected = np.array([rule.slopes[0](interpret.FLOAT, v, *[0.01] * (len(rule.partials) - 1)) for v in point])
    np.testing.assert_allclose(g.gradient["x"], expected * [1.0, -2.0, 0.5], rtol=1e-12)
    assert all(c.agrees for c in g.checks.values())


# --------------------------------------------------------------------------- the point


def test_values_come_from_nested_lists_shapes_with_a_seed_and_bound_literals() -> None:
    g = grad("L = sum(W @ x)", at="W=[[1, 2], [3, 4]], x=[1, -1]")
    np.testing.assert_array_equal(g.gradient["W"], [[1, -1], [1, -1]])
    np.testing.assert_array_equal(g.gradient["x"], [4, 6])
    first, again = grad("L = sum(W @ x)", shape="W=3x2,x=2", seed=7), grad("L = sum(W @ x)", shape="W=3x2,x=2", seed=7)
    np.testing.assert_array_equal(first.point["W"], again.point["W"])  # reproducible
    assert first.drawn == ("W", "x") and np.abs(first.point["W"]).max() <= 1
    leaf = grad("x = [1, 2, 3]; L = sum(x ^ 2)")
    np.testing.assert_array_equal(leaf.gradient["x"], [2, 4, 6])  # a bound literal is a leaf, as a = -4.0 is


@pytest.mark.parametrize(
    ("at", "shape", "seed", "message"),
    [
        ("W=[[1, 2], [3]],x=[1, 2]", None, None, "not a rectangular list"),
        ("W=[],x=[1, 2]", None, None, "empty list"),
        ("W=[[1, 2]],x=[1, 2],q=[1]", None, None, "not a variable of the program"),
        ("W=[[1, 2]]", None, None, "'x' has no value"),
        (None, "W=2x2", 1, "'x' has no value"),
        (None, None, 1, "the seed draws the values of the shapes"),  # the CLI says --seed and --shape
        (None, "W=2x2,x=2", -1, "the seed must be"),
        (None, "W=2x0,x=2", None, "a vector or matrix of 1 to"),
        (None, "W=100000x100000,x=2", None, "a vector or matrix of 1 to"),
        (None, "W=2x2x2,x=2", None, "a vector or matrix"),
        (None, "W=two,x=2", None, "is not a shape"),
        ("W=[[1, 2]]", "x=2,W=1x2", None, "both a value"),
        ("W=[[1, nan]],x=[1, 2]", None, None, "a number or a constant expression"),
    ],
)
def test_bad_values_are_usage_errors(at: str | None, shape: str | None, seed: int | None, message: str) -> None:
    with pytest.raises(UsageError) as info:
        grad("L = sum(W @ x)", at=at, shape=shape, seed=seed)
    assert message in info.value.message


# --------------------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    ("program", "shapes", "message", "at"),
    [
        ("L = sum(W @ x)", "W=3x4,x=3", "columns of the left (4) to equal the rows of the right (3): 3×4 @ 3", "@"),
        ("L = sum(W @ x + b)", "W=3x4,x=4,b=2", "a vector of 3 and a vector of 2", "+"),
        ("L = sum(W * x)", "W=3x4,x=3", "a 3×4 matrix and a vector of 3", "*"),
        ("L = x[5]", "x=3", "index 5 is out of range", "["),
        ("L = E[1, 2, 0]", "E=3x3", "3 indices into a 3×3 matrix", "["),
        ("L = cross_entropy(z, 4)", "z=4", "the class must be a whole number from 0 to 3", "c"),
        ("L = softmax(W)[0]", "W=2x2", "softmax takes a vector, not a 2×2 matrix", "s"),
        ("L = mse(x, y)", "x=2,y=3", "one shape", "m"),
        ("L = W @ x", "W=3x4,x=4", "the output is a vector of 3", "W"),
    ],
)
def test_shape_mismatches_point_at_the_operation_and_name_both_shapes(
    program: str, shapes: str, message: str, at: str
) -> None:
    with pytest.raises(InputError) as info:
        grad(program, shape=shapes)
    err = info.value
    assert message in err.message
    assert err.position is not None and program[err.position] == at


def test_a_matrix_written_beside_a_vector_is_their_product_with_a_note() -> None:
    g = grad("L = sum(Aᵀx)", at="A=[[1, 2], [3, 4]],x=[1, 1]")
    assert g.loss == pytest.approx(4 + 6)
    assert any("matrix product" in n for n in g.notes)
    scalar = grad("L = sum(2x)", at="x=[1, 2]")
    assert scalar.loss == 6  # a number beside a vector stays a multiple


def test_domain_errors_name_the_entry() -> None:
    with pytest.raises(MathError) as info:
        grad("L = sum(log(x))", at="x=[1, -2, 3]")
    assert "entry [1]" in info.value.message


# --------------------------------------------------------------------------- the passes and the lessons' identities


def test_the_seed_network_has_a_gradient_per_parameter_in_the_parameters_shape() -> None:
    g = grad(SEED_NETWORK, shape=SEED_SHAPES, seed=0)
    p = g.point
    z = p["W1"] @ p["x"] + p["b1"]
    h = np.maximum(z, 0)
    yhat = p["W2"] @ h + p["b2"]
    delta = 2 * (yhat - p["y"])  # ∂L/∂ŷ
    dz = (p["W2"].T @ delta) * (z > 0)
    np.testing.assert_allclose(g.gradient["W2"], np.outer(delta, h), rtol=1e-12)
    np.testing.assert_allclose(g.gradient["W1"], np.outer(dz, p["x"]), rtol=1e-12)  # δ·xᵀ
    np.testing.assert_allclose(g.gradient["b1"], dz, rtol=1e-12)
    assert {v: g.gradient[v].shape for v in g.wrt} == {v: p[v].shape for v in g.wrt}
    assert form(g, "W1") == "(W2ᵀ·2(yhat − y) ⊙ relu′(W1·x + b1))·xᵀ"
    assert form(g, "W2") == "2(yhat − y)·hᵀ"


@pytest.mark.parametrize("classes", [3, 10])
def test_softmax_with_cross_entropy_gives_p_minus_onehot(classes: int) -> None:
    g = grad("L = cross_entropy(z, 2)", shape=f"z={classes}", seed=classes)
    z = g.point["z"]
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    onehot = np.eye(classes)[2]
    np.testing.assert_allclose(g.gradient["z"], p - onehot, rtol=1e-12, atol=1e-15)
    assert form(g, "z") == "softmax(z) − onehot(2)"


def test_an_embedding_lookup_sends_the_gradient_to_one_row_only() -> None:
    g = grad(EMBEDDING, shape="E=10x4,W=5x4", seed=1)
    rows = np.flatnonzero(np.abs(g.gradient["E"]).sum(axis=1))
    assert list(rows) == [3]
    assert (f := form(g, "E")) is not None and f.startswith("e₃·")


def test_quadratic_form_and_least_squares_identities() -> None:
    g = grad("L = 0.5 * (x @ (A @ x))", at="A=[[1, 2], [0, 3]],x=[1, -2]")
    a, x = g.point["A"], g.point["x"]
    np.testing.assert_allclose(g.gradient["x"], 0.5 * (a + a.T) @ x, rtol=1e-12)
    np.testing.assert_allclose(g.gradient["A"], 0.5 * np.outer(x, x), rtol=1e-12)
    g = grad("L = norm2(A @ x - y)^2", shape="A=4x3,x=3,y=4", seed=5)
    a, x, y = g.point["A"], g.point["x"], g.point["y"]
    np.testing.assert_allclose(g.gradient["x"], 2 * a.T @ (a @ x - y), rtol=1e-10)


def test_a_bias_broadcast_over_rows_sums_its_adjoint() -> None:
    g = grad("L = sum(tanh(X @ W.T + b))", shape="X=5x3,W=4x3,b=4", seed=2)
    x, w, b = g.point["X"], g.point["W"], g.point["b"]
    slope = 1 - np.tanh(x @ w.T + b) ** 2
    np.testing.assert_allclose(g.gradient["b"], slope.sum(axis=0), rtol=1e-12)
    assert (f := form(g, "b")) is not None and f.startswith("Σ(")


def test_backward_steps_are_vector_jacobian_products_with_shapes() -> None:
    g = grad(SEED_NETWORK, shape=SEED_SHAPES, seed=0)
    texts = {
        (g.tensors.names[s.node], g.tensors.names[s.operand]): formula_print.plain_text(tensor.step_form(g.tensors, s))
        for s in g.run.steps
    }
    assert texts[("u1", "W1")] == "∂L/∂u1·xᵀ"
    assert texts[("u1", "x")] == "W1ᵀ·∂L/∂u1"
    assert texts[("h", "u2")] == "∂L/∂h ⊙ relu′(u2)"
    for step in g.run.steps:
        assert np.shape(step.contribution) == g.tensors.shapes[step.operand]


def test_deep_programs_are_linear_and_need_no_recursion() -> None:
    depth = 3000
    g = grad("L = sum(" + "tanh(" * depth + "x" + ")" * depth + ")", shape="x=3", seed=0)
    assert form(g, "x") is None  # too long to show whole
    assert g.agrees


def test_a_wrong_product_is_caught_by_both_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    honest = interpret.ArrayBackend.times
    monkeypatch.setattr(interpret.ArrayBackend, "times", lambda self, a, p: 1.01 * honest(self, a, p))
    g = grad("L = sum(tanh(W @ x))", shape="W=2x2,x=2", seed=0)
    assert not g.agrees
    assert all(c.error > 1 and c.scalar is False for c in g.checks.values())


# --------------------------------------------------------------------------- the command line


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.mark.parametrize(
    "args",
    [
        [SEED_NETWORK, "--shape", SEED_SHAPES, "--seed", "0"],
        [SOFTMAX, "--at", SOFTMAX_AT],
        [EMBEDDING, "--shape", "E=10x4,W=5x4", "--seed", "1"],
    ],
)
def test_the_issues_commands_give_json_that_matches_the_python_result(args: list[str]) -> None:
    result = invoke("grad", *args, "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == "chainrule.grad.tensor/1" and doc["agrees"] is True
    g = grad(
        args[0],
        at=args[2] if args[1] == "--at" else None,
        shape=args[2] if args[1] == "--shape" else None,
        seed=int(args[4]) if len(args) > 4 else None,
    )
    for v in g.wrt:
        np.testing.assert_array_equal(np.array(doc["gradient"][v]["value"]), g.gradient[v])
        assert doc["gradient"][v]["shape"] == list(g.gradient[v].shape)
    for fmt in ("text", "explain", "latex", "markdown", "mermaid", "dot"):
        assert invoke("grad", *args, "--format", fmt).exit_code == 0, fmt


def test_the_explain_view_says_why_the_transpose_appears() -> None:
    result = invoke("grad", SEED_NETWORK, "--shape", SEED_SHAPES, "--explain")
    assert result.exit_code == 0
    assert "so the transpose appears" in result.stdout
    assert "vector–Jacobian product" in result.stdout
    assert "drew the values with seed 0" in result.stdout  # --shape without --seed says which seed


def test_a_disagreement_exits_3(monkeypatch: pytest.MonkeyPatch) -> None:
    honest = interpret.ArrayBackend.times
    monkeypatch.setattr(interpret.ArrayBackend, "times", lambda self, a, p: 1.01 * honest(self, a, p))
    result = invoke("grad", "L = sum(tanh(W @ x))", "--shape", "W=2x2,x=2", "--json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["agrees"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grad", "L = sum(W @ x)", "--shape", "W=3x4,x=3", "--json"], "3×4 @ 3"),
        (["grad", "c = a*b; loss = c^2", "--seed", "1", "--json"], "--seed draws"),
        (["grad", "L = sum(W @ x)", "--shape", "W=3x4,x=4", "--format=csv", "--json"], "choose one format"),
        (["diff", "W @ x", "--json"], "vectors and matrices are for chainrule grad"),
        (["check", "sum(x)", "1", "--json"], "vectors and matrices are for chainrule grad"),
        (["diff", "x^2", "--at", "x=[1, 2]", "--json"], "--at gives a list"),
    ],
)
def test_refusals_are_exit_2_with_one_json_document(args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert message in doc["error"]["message"]


def test_an_unknown_format_is_a_usage_error() -> None:
    result = invoke("grad", "L = sum(W @ x)", "--shape", "W=3x4,x=4", "--format", "csv")
    assert result.exit_code == 2 and "no 'csv' format" in result.stderr


def test_graph_draws_tensor_programs_with_shapes_values_and_adjoints() -> None:
    result = invoke("graph", SEED_NETWORK, "--shape", SEED_SHAPES)
    assert result.exit_code == 0
    assert result.stdout.startswith("flowchart LR") and "8×4" in result.stdout
    result = invoke("graph", SEED_NETWORK, "--shape", SEED_SHAPES, "--format", "dot")
    assert result.stdout.startswith("digraph") and 'label="1×8; ∂L/∂W2 += ∂L/∂u3·hᵀ"' in result.stdout


def test_scalar_programs_are_unchanged() -> None:
    result = invoke("grad", "c = a*b; d = c + 1; loss = d^2", "--at", "a=2,b=3", "--json")
    assert json.loads(result.stdout)["gradient"] == {"a": 42.0, "b": 28.0}


def test_the_scalar_parser_refuses_tensor_syntax_with_a_caret() -> None:
    with pytest.raises(InputError) as info:
        parse("sin(W @ x)")
    assert info.value.position == 6


# --------------------------------------------------------------------------- the API and the views


def test_the_api_returns_arrays() -> None:
    from chainrule import gradient

    result = gradient("L = sum(relu(W @ x))", W=[[1, -2], [3, 4]], x=[1, 2])
    np.testing.assert_array_equal(result.gradient["W"], [[0, 0], [1, 2]])
    result = gradient("L = mse(W @ x, y)", shape={"W": (3, 4), "x": 4, "y": 3}, seed=0)
    assert result.gradient["W"].shape == (3, 4) and result.agrees
    assert result.to_dict()["schema"] == "chainrule.grad.tensor/1"
    assert "| parameter |" in result._repr_markdown_()


def test_markdown_tables_parse_with_the_expected_cells() -> None:
    g = grad(SEED_NETWORK, shape=SEED_SHAPES, seed=0)
    tokens = MarkdownIt("commonmark").enable("table").parse(tensor_views.render_markdown(g))
    cells = [t.content for t in tokens if t.type == "inline"]
    assert "∂L/∂W1 += ∂L/∂u1·xᵀ" in cells
    assert "(W2ᵀ·2(yhat − y) ⊙ relu′(W1·x + b1))·xᵀ" in cells
    assert sum(t.type == "table_open" for t in tokens) == 3
