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
