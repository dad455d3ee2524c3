"""grad and graph: the same engine run backwards, checked against the seeds and sympy.diff."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from typing import Any

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import numeric, oracle

from chainrule.backprop import gradient
from chainrule.errors import InputError, UsageError
from chainrule.printing import plain
from chainrule.render import graph_view

PROGRAM = "c = a*b; d = c + 1; loss = d^2"
NETWORK = "z = w1*x + b1; a = sigmoid(z); yhat = w2*a + b2; L = 1/2*(yhat - y)^2"
NETWORK_POINT = "w1=0.5,x=1.5,b1=0.1,w2=-0.3,b2=0.2,y=1"


@pytest.mark.parametrize("text", ["(a*b+1)^2", PROGRAM, "c = a*b\nd = c + 1\nloss = d^2"])
@pytest.mark.parametrize("granularity", ["functions", "ops"])
def test_seed_three_node_graph_gives_42_and_28(text: str, granularity: str) -> None:
    g = gradient(text, at="a=2,b=3", granularity=granularity)
    assert g.gradient == {"a": 42.0, "b": 28.0}
    assert all(c.agrees for c in g.checks.values())


def test_seed_three_node_graph_steps() -> None:
    g = gradient(PROGRAM, at="a=2,b=3")
    assert [(layer.name, layer.value) for layer in g.layers] == [("c", 6.0), ("d", 7.0), ("loss", 49.0)]
    steps = [(g.graph.names[s.node], g.graph.names[s.input], s.local, s.upstream, s.accumulated) for s in g.backward]
    assert steps == [
        ("loss", "d", 14.0, 1.0, 14.0),  # 2d
        ("d", "c", 1.0, 14.0, 14.0),  # 1
        ("c", "a", 3.0, 14.0, 42.0),  # b
        ("c", "b", 2.0, 14.0, 28.0),  # a
    ]
    assert plain(g.symbolic["a"]) == "2*b*d"  # the lesson's 2d × 1 × b


def test_seed_network_gradient_for_all_four_parameters() -> None:
    g = gradient(NETWORK, at=NETWORK_POINT, wrt="w1,b1,w2,b2")
    w1, x, b1, w2, b2, y = 0.5, 1.5, 0.1, -0.3, 0.2, 1.0
    z = w1 * x + b1
    a = 1 / (1 + math.exp(-z))
    yhat = w2 * a + b2
    dsig = a * (1 - a)
    expected = {
        "w1": (yhat - y) * w2 * dsig * x,  # (ŷ − y)·W2·σ′(z)·x, as the lesson writes it
        "b1": (yhat - y) * w2 * dsig,
        "w2": (yhat - y) * a,
        "b2": (yhat - y),
    }
    assert g.gradient is not None
    for name, value in expected.items():
        assert g.gradient[name] == pytest.approx(value, rel=1e-14)
        assert g.checks[name].agrees


def test_a_sub_result_used_twice_accumulates() -> None:
    g = gradient("c = a*b; loss = c*c + sin(c)", at="a=0.5,b=2")
    into_c = [s for s in g.backward if g.graph.names[s.input] == "c"]
    assert len(into_c) == 2  # from the square and from sin: += twice
    assert into_c[-1].accumulated == pytest.approx(sum(s.contribution for s in into_c))
    c = 1.0
    assert g.gradient is not None
    assert g.gradient["a"] == pytest.approx((2 * c + math.cos(c)) * 2)


@pytest.mark.parametrize(
    ("text", "at", "wrt", "error", "message"),
    [
        ("c = d + 1; d = a", None, None, InputError, "used before it is defined"),
        ("c += a", None, None, InputError, "defined first"),  # rebinding is allowed: c = a; c = b makes c′
        ("c = c + a", None, None, InputError, "cycle"),
        ("c = a*b; c*2; d = c", None, None, InputError, "only the last statement"),
        ("(a*b+1)^2", "a=2,b=3", "z", UsageError, "'z' does not occur"),
        ("(a*b+1)^2", "a=2", None, UsageError, "b without a value"),
    ],
)
def test_program_errors(text: str, at: str | None, wrt: str | None, error: type, message: str) -> None:
    with pytest.raises(error, match=message) as info:
        gradient(text, at=at, wrt=wrt)
    if error is InputError:
        assert info.value.position is not None


def test_cli_grad_json_has_the_documented_fields(run_json: Any) -> None:
    code, doc = run_json("grad", PROGRAM, "--at", "a=2,b=3")
    assert code == 0
    assert doc["schema"] == "chainrule.grad/1"
    assert doc["input"] == PROGRAM and doc["point"] == {"a": 2.0, "b": 3.0} and doc["output"] == "loss"
    c = doc["nodes"][0]
    for local in c["local"]:
        assert local.pop("identity") == "d(a·b) = b·da + a·db" and local.pop("rules") == ["product"]
    assert c == {
        "name": "c",
        "expression": "a*b",
        "inputs": ["a", "b"],
        "rule": "product",
        "value": 6.0,
        "local": [
            {"wrt": "a", "expression": "b", "value": 3.0, "rule": "product"},
            {"wrt": "b", "expression": "a", "value": 2.0, "rule": "product"},
        ],
        "adjoint": 14.0,
    }
    assert [n["name"] for n in doc["nodes"]] == ["c", "d", "loss"]
    assert doc["gradient"] == {"a": 42.0, "b": 28.0}
    assert doc["check"]["a"]["agrees"] is True and doc["check"]["b"]["agrees"] is True


def test_cli_grad_network_wrt_subset(run_json: Any) -> None:
    code, doc = run_json("grad", NETWORK, "--at", NETWORK_POINT, "--wrt", "w1,b1,w2,b2")
    assert code == 0
    assert list(doc["gradient"]) == ["w1", "b1", "w2", "b2"]
    assert set(doc["check"]) == {"w1", "b1", "w2", "b2"}


@pytest.mark.parametrize(
    "args", [["grad", "c = d; d = a"], ["grad", "a*b", "--wrt", "q"], ["grad", "a*b", "--at", "a=1"]]
)
def test_cli_grad_errors_exit_2(run: Any, args: list[str]) -> None:
    code, out, err = run(*args, "--json")
    assert code == 2
    assert json.loads(out)["error"]["kind"] in {"parse", "usage"}
    assert "Traceback" not in err


def test_cli_grad_text_and_explain(run: Any) -> None:
    code, out, _ = run("grad", PROGRAM, "--at", "a=2,b=3")
    assert code == 0
    assert "forward pass" in out and "backward pass" in out and "agrees" in out
    code, out, _ = run("grad", PROGRAM, "--at", "a=2,b=3", "--explain")
    assert code == 0
    assert "c → a: 14 × ∂c/∂a = b = 3 = 42;  adjoint of a = 42" in out


def test_mermaid_has_every_node_and_edge() -> None:
    g = gradient(PROGRAM, at="a=2,b=3")
    text = graph_view.mermaid(g)
    assert text.startswith("flowchart LR\n")
    nodes = re.findall(r"^    (n\d+)[\[(]", text, flags=re.M)
    edges = re.findall(r"^    (n\d+) -- \"(.+?)\" --> (n\d+)$", text, flags=re.M)
    assert len(nodes) == 5  # a, b, c, d, loss
    assert len(edges) == 4
    assert '"c = a·b<br/>= 6<br/>∂loss/∂c = 14"' in text
    assert ("n0", "∂c/∂a = b = 3", "n2") in edges


def test_dot_has_every_node_and_edge() -> None:
    g = gradient("(a*b+1)^2")
    text = graph_view.dot(g)
    assert text.startswith("digraph chainrule {") and text.rstrip().endswith("}")
    assert len(re.findall(r"^    n\d+ \[label=", text, flags=re.M)) == 4
    assert len(re.findall(r"^    n\d+ -> n\d+ \[label=", text, flags=re.M)) == 3


def test_dot_renders_with_graphviz_if_installed() -> None:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed")
    g = gradient(NETWORK, at=NETWORK_POINT)
    svg = subprocess.run(["dot", "-Tsvg"], input=graph_view.dot(g), capture_output=True, text=True, check=True)
    assert "<svg" in svg.stdout


def test_cli_graph(run: Any) -> None:
    code, out, _ = run("graph", PROGRAM, "--at", "a=2,b=3", "--format", "mermaid")
    assert code == 0 and out.startswith("flowchart LR")
    code, out, _ = run("graph", "(a*b+1)^2", "--format", "dot")
    assert code == 0 and out.startswith("digraph")


# --- the oracle on generated multi-variable expressions -------------------------------------

VARS = ["a", "b", "c"]
UNARY = ["sin", "cos", "tanh", "exp", "atan", "sigmoid"]


def _combine(op: str, left: tuple[str, str], right: tuple[str, str]) -> tuple[str, str]:
    if op == "/":
        return f"({left[0]})/(({right[0]})^2+1)", f"({left[1]})/(({right[1]})**2+1)"
    return f"({left[0]}){op}({right[0]})", f"({left[1]}){op}({right[1]})"


leaves = st.sampled_from([(v, v) for v in VARS] + [("2", "2")])
multi = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda f, e: (f"{f}({e[0]})", f"{f}({e[1]})"), st.sampled_from(UNARY), inner),
        st.builds(_combine, st.sampled_from(["+", "-", "*", "/"]), inner, inner),
    ),
    max_leaves=7,
)


@settings(max_examples=60, deadline=None)
@given(multi)
def test_gradient_equals_sympy_diff_for_each_variable(pair: tuple[str, str]) -> None:
    ours, python = pair
    g = gradient(ours, at=None)
    target = oracle(python)
    point = {"a": 0.3, "b": -0.7, "c": 1.1}
    present = [v for v in VARS if v in g.graph.variables]
    g_at = gradient(ours, at=",".join(f"{v}={point[v]}" for v in present)) if present else None
    for v in g.wrt:
        expected = numeric(sympy.diff(target, sympy.Symbol(v)), {sympy.Symbol(s): point[s] for s in VARS})
        assert g_at is not None and g_at.gradient is not None
        assert g_at.gradient[v] == pytest.approx(expected, rel=1e-9, abs=1e-12)
        if v in g.expanded:
            symbols = {s: point[s.name] for s in g.expanded[v].free_symbols}
            assert numeric(g.expanded[v], symbols) == pytest.approx(expected, rel=1e-9, abs=1e-12)
