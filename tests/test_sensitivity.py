"""The sensitivity view: vanishing and exploding gradients along a chain."""

from __future__ import annotations

import math
from typing import Any

import pytest

from chainrule.derive import differentiate


def chain(name: str, depth: int) -> str:
    return f"{name}(" * depth + "x" + ")" * depth


def test_a_deep_sigmoid_chain_vanishes() -> None:
    view = differentiate(chain("sigmoid", 10), at="0").sensitivity
    assert view is not None and view.trend == "vanishing"
    assert len(view.steps) == 10 and view.responsible[0] == "u1"
    assert all(abs(s.factor) <= 0.25 for s in view.steps)
    assert view.steps[-1].running_product == pytest.approx(math.prod(s.factor for s in view.steps))


@pytest.mark.parametrize("text", [chain("relu", 10), "((((x))))+0", chain("sin", 1)])
def test_relu_and_identity_chains_have_no_remark(text: str) -> None:
    d = differentiate(text, at="1")
    view = d.sensitivity
    assert view is None or view.trend is None


def test_exploding_chain() -> None:
    view = differentiate("(" * 6 + "3x" + ")*3" * 6, at="1", granularity="ops").sensitivity
    assert view is not None and view.trend == "exploding"


def test_cli_views(run: Any, run_json: Any) -> None:
    code, out, _ = run("diff", chain("sigmoid", 10), "--at", "0", "--view", "sensitivity")
    assert code == 0 and "vanishing" in out.lower() and "█" in out
    code, out, _ = run("diff", chain("relu", 10), "--at", "1", "--view", "sensitivity")
    assert code == 0 and "vanishing" not in out.lower() and "exploding" not in out.lower()
    code, out, _ = run("diff", chain("sigmoid", 10), "--at", "0", "--explain")
    assert "6. Sensitivity" in out and "Vanishing gradient" in out
    code, doc = run_json("diff", chain("sigmoid", 3), "--at", "0")
    assert [entry["layer"] for entry in doc["sensitivity"]] == ["u1", "u2", "y"]
    assert doc["sensitivity"][0] == {
        "layer": "u1",
        "factor": 0.25,
        "running_product": 0.25,
        "running_log10": math.log10(0.25),
    }


def test_graphs_and_symbolic_runs_have_no_sensitivity_view(run: Any) -> None:
    code, out, _ = run("diff", "x*sin(x)", "--at", "1", "--view", "sensitivity")
    assert code == 0 and "needs a chain" in out
    assert differentiate(chain("sigmoid", 3)).sensitivity is None


# --------------------------------------------------------------------------- grad --view sensitivity: backwards


def _schema() -> Any:
    import json
    from pathlib import Path

    import chainrule

    return json.loads((Path(chainrule.__file__).parent / "schemas" / "grad.schema.json").read_text())


def _rows_agree(rows: list[dict[str, Any]], expected: list[tuple[str, float, float]]) -> None:
    """Each row: the layer, ‖∂L/∂layer‖ and the size of what it passes on, as the oracle has them;
    the factor is their ratio, and log10 is that of the size passed on."""
    assert [r["layer"] for r in rows] == [name for name, _, _ in expected]
    for row, (_, incoming, sent) in zip(rows, expected, strict=True):
        assert row["adjoint_norm"] == pytest.approx(incoming, rel=1e-12)
        assert row["running_product"] == pytest.approx(sent, rel=1e-12)
        assert row["factor"] == pytest.approx(sent / incoming, rel=1e-12)
        assert row["running_log10"] == pytest.approx(math.log10(sent), rel=1e-12, abs=1e-15)


def test_a_tensor_program_has_the_sensitivity_view_with_autograd_adjoints(run_json: Any) -> None:
    import autograd.numpy as anp
    import jsonschema
    import numpy as np
    from autograd import grad

    program = "z = W @ x + b; h = tanh(z); L = sum(h^2)"
    code, doc = run_json("grad", program, "--shape", "W=3x2,x=2,b=3", "--seed", "0", "--view", "sensitivity")
    assert code == 0
    jsonschema.validate(doc, _schema())
    w, x, b = (np.array(doc["variables"][v]["value"], dtype=float) for v in ("W", "x", "b"))
    h = np.tanh(w @ x + b)
    norm = np.linalg.norm
    # the adjoints by autograd, each of L as a function of that node alone
    d_u2 = np.ones(3)  # L = sum(u2)
    d_h = grad(lambda h_: anp.sum(h_**2))(h)
    d_z = grad(lambda z_: anp.sum(anp.tanh(z_) ** 2))(w @ x + b)
    d_u1 = grad(lambda u_: anp.sum(anp.tanh(u_ + b) ** 2))(w @ x)
    d_w = grad(lambda w_: anp.sum(anp.tanh(anp.dot(w_, x) + b) ** 2))(w)
    expected = [
        ("L", 1.0, norm(d_u2)),
        ("u2", norm(d_u2), norm(d_h)),
        ("h", norm(d_h), norm(d_z)),
        ("z", norm(d_z), norm(d_u1)),  # z = u1 + b: down the deeper operand, u1
        ("u1", norm(d_u1), norm(d_w)),  # u1 = W·x: W and x are as deep; the first
    ]
    _rows_agree(doc["sensitivity"], expected)
    assert doc["sensitivity_variable"] == "W"


def test_grad_on_numbers_has_the_same_view_and_finds_the_vanishing_chain(run_json: Any, run: Any) -> None:
    import jsonschema
    from autograd import grad
    from autograd.numpy import exp

    def s(v: Any) -> Any:
        return 1 / (1 + exp(-v))

    program = "u1 = sigmoid(x); u2 = sigmoid(u1); u3 = sigmoid(u2); L = sigmoid(u3)"
    code, doc = run_json("grad", program, "--at", "x=0.3", "--view", "sensitivity")
    assert code == 0
    jsonschema.validate(doc, _schema())
    u1 = s(0.3)
    u2 = s(u1)
    u3 = s(u2)
    d_u3 = grad(s)(u3)
    d_u2 = grad(lambda v: s(s(v)))(u2)
    d_u1 = grad(lambda v: s(s(s(v))))(u1)
    d_x = grad(lambda v: s(s(s(s(v)))))(0.3)
    expected = [("L", 1.0, d_u3), ("u3", d_u3, d_u2), ("u2", d_u2, d_u1), ("u1", d_u1, d_x)]
    _rows_agree(doc["sensitivity"], expected)
    assert doc["sensitivity_trend"] == "vanishing" and doc["sensitivity_variable"] == "x"
    code, out, _ = run("grad", program, "--at", "x=0.3", "--view", "sensitivity")
    assert code == 0 and "Vanishing gradient" in out and "‖∂L/∂layer‖" in out
    table = [line.split() for line in out.splitlines() if line.startswith("  u")]
    assert [float(r[1]) for r in table] == pytest.approx([d_u3, d_u2, d_u1], rel=1e-3)


def test_the_sensitivity_view_has_text_and_json_only(run: Any) -> None:
    code, _, err = run("grad", "L = sum(W @ x)", "--shape", "W=2x2,x=2", "--view", "sensitivity", "--format", "html")
    assert code == 2 and "writes: text, json" in err
