# ruff: noqa: N803, N806  (matrices are capitals, W, A, E, X, as in the lessons and the programs)
"""Backpropagation on vectors and matrices against an independent oracle.

Every gradient chainrule computes here is compared, entry by entry, with

* autograd (``autograd.numpy``), a reverse-mode autodiff that shares no code with chainrule,
  on the same function written as plain array code below;
* the closed form the lessons give, where there is one (p − onehot(y), ½(A + Aᵀ)x, 2Aᵀ(Ax − y));
* chainrule's own scalar engine on the program written out entry by entry
  (:func:`chainrule.tensor.scalar_gradient`);

and chainrule's own checks (central differences and the scalar engine) must agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from chainrule import tensor
from chainrule.errors import InputError
from chainrule.syntax import parse_program

RTOL, ATOL = 1e-9, 1e-12  # chainrule against autograd: both are exact reverse mode in doubles
EXACT = {"rtol": 1e-12, "atol": 1e-15}  # a closed form computed the same way (p − onehot)

SEED_NETWORK = "h = relu(W1 @ x + b1); yhat = W2 @ h + b2; L = sum((yhat - y)^2)"
SEED_SHAPES = "W1=8x4,b1=8,W2=1x8,b2=1,x=4,y=1"


# --------------------------------------------------------------------------- the oracle


def relu(u: Any) -> Any:
    return anp.where(u > 0, u, 0.0)  # relu′ is 1 or 0: the tests stay off its corner at 0


def sigmoid(u: Any) -> Any:
    return 1.0 / (1.0 + anp.exp(-u))


def softplus(u: Any) -> Any:
    return anp.logaddexp(0.0, u)


def logsumexp(z: Any) -> Any:
    m = anp.max(z)
    return m + anp.log(anp.sum(anp.exp(z - m)))


def log_softmax(z: Any) -> Any:
    return z - logsumexp(z)


def softmax(z: Any) -> Any:
    return anp.exp(log_softmax(z))


def cross_entropy(z: Any, c: int) -> Any:
    return -log_softmax(z)[c]


def np_softmax(z: Any) -> Any:
    e = np.exp(z - z.max())
    return e / e.sum()


def onehot(c: int, n: int) -> Any:
    v = np.zeros(n)
    v[c] = 1.0
    return v


def chain(program: str, at: Any = None, shape: str | None = None, seed: int | None = None, wrt: str | None = None):
    return tensor.gradient(parse_program(program), at=at, wrt=wrt, shape=shape, seed=seed)


def autograd_gradient(f: Callable[..., Any], point: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """∂f/∂name by autograd, each variable in turn, the others held at the point."""
    found = {}
    for name in names:
        found[name] = np.asarray(grad(lambda v, name=name: f(**{**point, name: v}))(point[name]))
    return found


def assert_matches_oracle(g: Any, f: Callable[..., Any]) -> dict[str, Any]:
    """chainrule's loss and every gradient equal autograd's and the scalar engine's, and every
    check chainrule made agrees.  Returns autograd's gradients for further closed-form checks."""
    point = {name: np.asarray(value, dtype=float) for name, value in g.point.items()}
    assert_allclose(g.loss, f(**point), rtol=RTOL, atol=ATOL, err_msg="the loss")
    expected = autograd_gradient(f, point, g.wrt)
    assert set(g.gradient) == set(g.wrt)
    for name in g.wrt:
        assert np.shape(g.gradient[name]) == point[name].shape, name
        assert_allclose(g.gradient[name], expected[name], rtol=RTOL, atol=ATOL, err_msg=f"∂L/∂{name} vs autograd")
    scalar = tensor.scalar_gradient(g.tensors, g.point, g.wrt)
    assert scalar is not None, "the program is small: the scalar engine must take it"
    for name in g.wrt:
        assert_allclose(scalar[name], expected[name], rtol=RTOL, atol=ATOL, err_msg=f"∂L/∂{name}: scalar engine")
    assert set(g.checks) == set(g.wrt)
    for name, check in g.checks.items():
        assert check.scalar is True, f"{name}: the scalar engine's check did not run or disagrees"
        assert check.error <= 1.0, f"{name}: central differences disagree ({check.error})"
        assert check.agrees, name
    assert g.agrees
    return expected


def test_the_oracle_can_fail() -> None:
    """The harness is not vacuous: a function whose gradient differs from the program's is caught."""
    g = chain("L = sum(tanh(W @ x))", shape="W=3x2,x=2", seed=4)
    assert_matches_oracle(g, lambda W, x: anp.sum(anp.tanh(anp.dot(W, x))))
    x0 = np.array(g.point["x"])
    # The same loss at the point, a gradient wrong by 2e-7·x: caught.
    with pytest.raises(AssertionError, match="∂L/∂x vs autograd"):
        assert_matches_oracle(g, lambda W, x: anp.sum(anp.tanh(anp.dot(W, x))) + 1e-7 * anp.sum(x * x - x0 * x0))


# --------------------------------------------------------------------------- the seed network


def seed_network(W1: Any, b1: Any, W2: Any, b2: Any, x: Any, y: Any) -> Any:
    h = relu(anp.dot(W1, x) + b1)
    yhat = anp.dot(W2, h) + b2
    return anp.sum((yhat - y) ** 2)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_seed_network_every_parameter(seed: int) -> None:
    g = chain(SEED_NETWORK, shape=SEED_SHAPES, seed=seed)
    assert set(g.wrt) == {"W1", "b1", "W2", "b2", "x", "y"}
    assert {name: g.point[name].shape for name in g.wrt} == {
        "W1": (8, 4), "b1": (8,), "W2": (1, 8), "b2": (1,), "x": (4,), "y": (1,),
    }  # fmt: skip
    p = g.point
    u = p["W1"] @ p["x"] + p["b1"]
    assert np.all(u != 0), "relu's corner: pick another seed"
    expected = assert_matches_oracle(g, seed_network)
    # The closed forms: δ = 2(yhat − y), ∂L/∂W2 = δ·hᵀ, ∂L/∂W1 = (W2ᵀδ ⊙ relu′(u))·xᵀ.
    h = np.maximum(u, 0)
    delta = 2 * (p["W2"] @ h + p["b2"] - p["y"])
    back = (p["W2"].T @ delta) * (u > 0)
    assert_allclose(g.gradient["b2"], delta, rtol=RTOL, atol=ATOL)
    assert_allclose(g.gradient["y"], -delta, rtol=RTOL, atol=ATOL)
    assert_allclose(g.gradient["W2"], np.outer(delta, h), rtol=RTOL, atol=ATOL)
    assert_allclose(g.gradient["b1"], back, rtol=RTOL, atol=ATOL)
    assert_allclose(g.gradient["W1"], np.outer(back, p["x"]), rtol=RTOL, atol=ATOL)
    assert_allclose(g.gradient["x"], p["W1"].T @ back, rtol=RTOL, atol=ATOL)
    assert np.any(expected["W1"] != 0), "a network whose hidden layer is all off tests little"


def test_seed_network_at_given_values() -> None:
    """The same network with its values given (a dict of arrays), not drawn."""
    rng = np.random.default_rng(11)
    at = {
        "W1": rng.standard_normal((8, 4)), "b1": rng.standard_normal(8), "W2": rng.standard_normal((1, 8)),
        "b2": rng.standard_normal(1), "x": rng.standard_normal(4), "y": rng.standard_normal(1),
    }  # fmt: skip
    g = chain(SEED_NETWORK, at=at)
    for name, value in at.items():
        assert_allclose(g.point[name], value, rtol=0, atol=0)
    assert_matches_oracle(g, seed_network)


def test_seed_network_some_parameters() -> None:
    """wrt picks parameters: their gradients are the full gradient's, and only they are checked."""
    full = chain(SEED_NETWORK, shape=SEED_SHAPES, seed=0)
    some = chain(SEED_NETWORK, shape=SEED_SHAPES, seed=0, wrt="W2,b1")
    assert some.wrt == ("W2", "b1")
    assert set(some.gradient) == set(some.checks) == {"W2", "b1"}
    for name in some.wrt:
        assert_allclose(some.gradient[name], full.gradient[name], rtol=0, atol=0)
    assert_matches_oracle(some, seed_network)


def test_values_as_text() -> None:
    """--at as text (nested lists, a Unicode minus) reads the same numbers as a dict."""
    text = "A=[[1, 2, -0.5], [3, 4, 1.5], [0.25, −2, 3e0]], x=[1, -2, 5e-1]"
    g = chain("L = 0.5 * (x @ (A @ x))", at=text)
    assert_allclose(g.point["A"], A_NONSYMMETRIC, rtol=0, atol=0)
    assert_allclose(g.point["x"], [1.0, -2.0, 0.5], rtol=0, atol=0)
    assert_matches_oracle(g, lambda A, x: 0.5 * anp.dot(x, anp.dot(A, x)))


def test_seed_network_cli_json(run_json: Any) -> None:
    code, doc = run_json("grad", SEED_NETWORK, "--shape", SEED_SHAPES, "--seed", "0")
    assert code == 0
    assert doc["agrees"] is True
    point = {name: np.array(v["value"], dtype=float) for name, v in doc["variables"].items()}
    assert_allclose(doc["loss"], seed_network(**point), rtol=RTOL, atol=ATOL)
    expected = autograd_gradient(seed_network, point, tuple(point))
    assert set(doc["gradient"]) == set(expected)
    for name, value in expected.items():
        assert_allclose(np.array(doc["gradient"][name]["value"]), value, rtol=RTOL, atol=ATOL, err_msg=name)


# --------------------------------------------------------------------------- softmax and cross-entropy


@pytest.mark.parametrize("classes, target", [(3, 2), (10, 2), (10, 7)])
@pytest.mark.parametrize(
    "program",
    ["L = cross_entropy(z, {c})", "p = softmax(z); L = -log(p[{c}])", "q = log_softmax(z); L = -q[{c}]"],
)
def test_softmax_cross_entropy_is_p_minus_onehot(classes: int, target: int, program: str) -> None:
    g = chain(program.format(c=target), shape=f"z={classes}", seed=classes + target)
    z = g.point["z"]
    expected = assert_matches_oracle(g, lambda z: cross_entropy(z, target))
    p = np_softmax(z)
    assert_allclose(g.loss, -np.log(p[target]), rtol=RTOL, atol=ATOL)
    assert_allclose(g.gradient["z"], p - onehot(target, classes), **EXACT)
    assert_allclose(expected["z"], p - onehot(target, classes), **EXACT)
    assert abs(g.gradient["z"].sum()) < 1e-15 * classes  # p sums to 1


@pytest.mark.parametrize("classes", [3, 10])
def test_cross_entropy_of_a_linear_layer(classes: int) -> None:
    g = chain("z = W @ x + b; L = cross_entropy(z, 1)", shape=f"W={classes}x4,x=4,b={classes}", seed=3)
    expected = assert_matches_oracle(g, lambda W, x, b: cross_entropy(anp.dot(W, x) + b, 1))
    p = g.point
    delta = np_softmax(p["W"] @ p["x"] + p["b"]) - onehot(1, classes)
    assert_allclose(expected["b"], delta, **EXACT)
    assert_allclose(g.gradient["b"], delta, **EXACT)
    assert_allclose(g.gradient["W"], np.outer(delta, p["x"]), rtol=RTOL, atol=ATOL)
    assert_allclose(g.gradient["x"], p["W"].T @ delta, rtol=RTOL, atol=ATOL)


@settings(max_examples=25, deadline=None)
@given(
    logits=st.lists(st.floats(-30, 30, allow_nan=False, allow_infinity=False), min_size=2, max_size=10),
    pick=st.integers(0, 1_000),
)
def test_cross_entropy_property(logits: list[float], pick: int) -> None:
    target = pick % len(logits)
    z = np.array(logits)
    g = chain(f"L = cross_entropy(z, {target})", at={"z": z})
    assert_allclose(g.gradient["z"], np_softmax(z) - onehot(target, len(z)), **EXACT)
    assert_allclose(g.gradient["z"], autograd_gradient(lambda z: cross_entropy(z, target), {"z": z}, ("z",))["z"],
                    rtol=RTOL, atol=ATOL)  # fmt: skip


# --------------------------------------------------------------------------- an embedding lookup


def test_embedding_lookup_only_the_row_looked_up_learns() -> None:
    g = chain("e = E[3]; z = W @ e; L = cross_entropy(z, 1)", shape="E=6x4,W=3x4", seed=5)
    expected = assert_matches_oracle(g, lambda E, W: cross_entropy(anp.dot(W, E[3]), 1))
    E, W = g.point["E"], g.point["W"]
    dE = g.gradient["E"]
    others = [r for r in range(6) if r != 3]
    assert_allclose(dE[others], 0.0, rtol=0, atol=0)  # exactly zero, not small
    assert np.all(dE[3] != 0)
    delta = np_softmax(W @ E[3]) - onehot(1, 3)
    assert_allclose(dE[3], W.T @ delta, rtol=RTOL, atol=ATOL)
    assert_allclose(expected["E"][3], W.T @ delta, rtol=RTOL, atol=ATOL)
    assert_allclose(g.gradient["W"], np.outer(delta, E[3]), rtol=RTOL, atol=ATOL)


def test_embedding_rows_used_twice_add() -> None:
    g = chain("L = E[0] @ E[2] + sum(E[2])", shape="E=4x3", seed=2)
    assert_matches_oracle(g, lambda E: anp.dot(E[0], E[2]) + anp.sum(E[2]))
    E = g.point["E"]
    assert_allclose(g.gradient["E"][0], E[2], rtol=RTOL, atol=ATOL)
    assert_allclose(g.gradient["E"][2], E[0] + 1, rtol=RTOL, atol=ATOL)
    assert_allclose(g.gradient["E"][[1, 3]], 0.0, rtol=0, atol=0)


# --------------------------------------------------------------------------- quadratic forms and least squares

A_NONSYMMETRIC = [[1.0, 2.0, -0.5], [3.0, 4.0, 1.5], [0.25, -2.0, 3.0]]


@pytest.mark.parametrize(
    "program",
    ["L = 0.5 * (x @ (A @ x))", "L = 0.5 * x.T @ A @ x", "L = (x @ A.T @ x) / 2", "L = 0.5 * sum(x * (A @ x))"],
)
def test_quadratic_form(program: str) -> None:
    A = np.array(A_NONSYMMETRIC)
    x = np.array([1.0, -2.0, 0.5])
    assert not np.allclose(A, A.T)
    g = chain(program, at={"A": A, "x": x})
    expected = assert_matches_oracle(g, lambda A, x: 0.5 * anp.dot(x, anp.dot(A, x)))
    assert_allclose(g.loss, 0.5 * x @ A @ x, rtol=RTOL, atol=ATOL)
    assert_allclose(g.gradient["x"], 0.5 * (A + A.T) @ x, rtol=RTOL, atol=ATOL)
    assert_allclose(expected["x"], 0.5 * (A + A.T) @ x, rtol=RTOL, atol=ATOL)
    assert not np.allclose(g.gradient["x"], A @ x)  # the symmetric answer Ax would be wrong here
    assert_allclose(g.gradient["A"], 0.5 * np.outer(x, x), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("program", ["L = norm2(A @ x - y)^2", "r = A @ x - y; L = r @ r", "L = norm2(A @ x - y)²"])
def test_least_squares(program: str) -> None:
    g = chain(program, shape="A=5x3,x=3,y=5", seed=8)
    A, x, y = g.point["A"], g.point["x"], g.point["y"]
    expected = assert_matches_oracle(g, lambda A, x, y: anp.sqrt(anp.sum((anp.dot(A, x) - y) ** 2)) ** 2)
    r = A @ x - y
    assert_allclose(g.gradient["x"], 2 * A.T @ r, rtol=RTOL, atol=ATOL)
    assert_allclose(expected["x"], 2 * A.T @ r, rtol=RTOL, atol=ATOL)
    assert_allclose(g.gradient["A"], 2 * np.outer(r, x), rtol=RTOL, atol=ATOL)
    assert_allclose(g.gradient["y"], -2 * r, rtol=RTOL, atol=ATOL)


def test_norm2_is_the_euclidean_norm() -> None:
    g = chain("L = norm2(M)", shape="M=3x4", seed=6)
    M = g.point["M"]
    assert_matches_oracle(g, lambda M: anp.sqrt(anp.sum(M * M)))
    assert_allclose(g.gradient["M"], M / np.linalg.norm(M), rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------------- losses and reductions


def test_mse() -> None:
    g = chain("L = mse(W @ x, y)", shape="W=3x4,x=4,y=3", seed=3)
    expected = assert_matches_oracle(g, lambda W, x, y: anp.mean((anp.dot(W, x) - y) ** 2))
    W, x, y = g.point["W"], g.point["x"], g.point["y"]
    r = W @ x - y
    assert_allclose(g.gradient["y"], -2 * r / 3, rtol=RTOL, atol=ATOL)
    assert_allclose(expected["W"], np.outer(2 * r / 3, x), rtol=RTOL, atol=ATOL)


def test_mse_of_matrices() -> None:
    g = chain("L = mse(A, B)", shape="A=2x3,B=2x3", seed=4)
    assert_matches_oracle(g, lambda A, B: anp.mean((A - B) ** 2))
    assert_allclose(g.gradient["A"], 2 * (g.point["A"] - g.point["B"]) / 6, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "program, shape, f",
    [
        ("L = mean(tanh(W @ x + b))", "W=3x4,x=4,b=3", lambda W, x, b: anp.mean(anp.tanh(anp.dot(W, x) + b))),
        ("L = mean(M^2)", "M=3x5", lambda M: anp.mean(M**2)),
        ("L = sum((x - mean(x))^2)", "x=6", lambda x: anp.sum((x - anp.mean(x)) ** 2)),
    ],
)
def test_mean(program: str, shape: str, f: Callable[..., Any]) -> None:
    g = chain(program, shape=shape, seed=9)
    assert_matches_oracle(g, f)


def test_mean_closed_form() -> None:
    g = chain("L = mean(M^2)", shape="M=3x5", seed=9)
    assert_allclose(g.gradient["M"], 2 * g.point["M"] / 15, rtol=RTOL, atol=ATOL)


def test_log_softmax_weighted() -> None:
    """∂/∂z Σ tᵢ·log_softmax(z)ᵢ = t − softmax(z)·Σt."""
    g = chain("L = sum(log_softmax(z) * t)", shape="z=6,t=6", seed=12)
    z, t = g.point["z"], g.point["t"]
    assert_matches_oracle(g, lambda z, t: anp.sum(log_softmax(z) * t))
    assert_allclose(g.gradient["z"], t - np_softmax(z) * t.sum(), rtol=RTOL, atol=ATOL)
    assert_allclose(g.gradient["t"], z - z.max() - np.log(np.exp(z - z.max()).sum()), rtol=RTOL, atol=ATOL)


def test_log_softmax_of_a_layer() -> None:
    g = chain("L = sum(log_softmax(W @ x)^2)", shape="W=4x3,x=3", seed=2)
    assert_matches_oracle(g, lambda W, x: anp.sum(log_softmax(anp.dot(W, x)) ** 2))


def test_softmax_weighted() -> None:
    """∂/∂z Σ tᵢ·softmax(z)ᵢ = (diag(p) − p·pᵀ)·t."""
    g = chain("L = sum(softmax(z) * t)", shape="z=5,t=5", seed=1)
    z, t = g.point["z"], g.point["t"]
    p = np_softmax(z)
    assert_matches_oracle(g, lambda z, t: anp.sum(softmax(z) * t))
    assert_allclose(g.gradient["z"], (np.diag(p) - np.outer(p, p)) @ t, rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------------- broadcasting


def test_bias_broadcast_over_rows() -> None:
    g = chain("Z = X @ W.T + b; L = sum(tanh(Z)^2)", shape="X=5x3,W=4x3,b=4", seed=3)
    X, W, b = g.point["X"], g.point["W"], g.point["b"]
    assert_matches_oracle(g, lambda X, W, b: anp.sum(anp.tanh(anp.dot(X, W.T) + b) ** 2))
    Z = X @ W.T + b
    dZ = 2 * np.tanh(Z) * (1 - np.tanh(Z) ** 2)
    assert g.gradient["b"].shape == (4,)
    assert_allclose(g.gradient["b"], dZ.sum(axis=0), rtol=RTOL, atol=ATOL)  # summed over the 5 rows
    assert_allclose(g.gradient["W"], dZ.T @ X, rtol=RTOL, atol=ATOL)
    assert_allclose(g.gradient["X"], dZ @ W, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "program, shape, f",
    [
        ("L = sum((M + r)^2)", "M=2x3,r=1x3", lambda M, r: anp.sum((M + r) ** 2)),
        ("L = sum((M * c)^3)", "M=2x3,c=2x1", lambda M, c: anp.sum((M * c) ** 3)),
        ("L = sum((c + v)^2)", "c=3x1,v=2", lambda c, v: anp.sum((c + v) ** 2)),
        ("L = sum(s * M^2)", "s=scalar,M=2x3", lambda s, M: anp.sum(s * M**2)),
        ("L = sum((b + X @ w)^2)", "b=1,X=4x3,w=3", lambda b, X, w: anp.sum((b + anp.dot(X, w)) ** 2)),
        ("L = mean((X @ W.T + b)^2)", "X=5x3,W=4x3,b=4", lambda X, W, b: anp.mean((anp.dot(X, W.T) + b) ** 2)),
    ],
)
def test_broadcasting(program: str, shape: str, f: Callable[..., Any]) -> None:
    g = chain(program, shape=shape, seed=13)
    assert_matches_oracle(g, f)


def test_broadcast_division_and_subtraction() -> None:
    at = {"M": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "c": [[2.0], [-3.0]], "d": [0.5, 1.5, -2.0]}
    g = chain("L = sum(M / c) + sum((d - M)^2)", at=at)
    assert_matches_oracle(g, lambda M, c, d: anp.sum(M / c) + anp.sum((d - M) ** 2))
    M, c = np.array(at["M"]), np.array(at["c"])
    assert_allclose(g.gradient["c"], -(M / c**2).sum(axis=1, keepdims=True), rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------------- elementwise functions


@pytest.mark.parametrize(
    "name, f, slope",
    [
        ("tanh", anp.tanh, lambda u: 1 - np.tanh(u) ** 2),
        ("sigmoid", sigmoid, lambda u: np.exp(-u) / (1 + np.exp(-u)) ** 2),
        ("exp", anp.exp, np.exp),
        ("softplus", softplus, lambda u: 1 / (1 + np.exp(-u))),
        ("sin", anp.sin, np.cos),
        ("relu", relu, lambda u: (u > 0).astype(float)),
    ],
)
def test_elementwise(name: str, f: Callable[..., Any], slope: Callable[..., Any]) -> None:
    """∂/∂W Σ t ⊙ f(W·x) = (t ⊙ f′(W·x))·xᵀ."""
    g = chain(f"L = sum({name}(W @ x) * t)", shape="W=4x3,x=3,t=4", seed=21)
    W, x, t = g.point["W"], g.point["x"], g.point["t"]
    assert np.all(W @ x != 0)
    assert_matches_oracle(g, lambda W, x, t: anp.sum(f(anp.dot(W, x)) * t))
    assert_allclose(g.gradient["W"], np.outer(t * slope(W @ x), x), rtol=RTOL, atol=ATOL)


def test_elementwise_composition() -> None:
    g = chain("L = sum(sigmoid(x) * exp(x) + tanh(x) + log(x^2 + 1))", shape="x=6", seed=3)
    assert_matches_oracle(g, lambda x: anp.sum(sigmoid(x) * anp.exp(x) + anp.tanh(x) + anp.log(x**2 + 1)))


def test_elementwise_at_large_inputs() -> None:
    """Saturated tanh and sigmoid, and softplus far out: still autograd's values."""
    x = np.array([30.0, -30.0, 0.1, 12.0, -25.0])
    g = chain("L = sum(tanh(x) + sigmoid(x) + softplus(x))", at={"x": x})
    assert_matches_oracle(g, lambda x: anp.sum(anp.tanh(x) + sigmoid(x) + softplus(x)))


# --------------------------------------------------------------------------- random networks


ACTIVATIONS: dict[str, Callable[..., Any]] = {"relu": relu, "tanh": anp.tanh, "sigmoid": sigmoid, "softplus": softplus}


def mlp(sizes: list[int], activation: str, loss: str, target: int) -> tuple[str, str, Callable[..., Any]]:
    """A network of len(sizes) − 1 layers, as chainrule's program, its --shape, and autograd's function."""
    layers = len(sizes) - 1
    lines, shapes = [], [f"x={sizes[0]}"]
    previous = "x"
    for k in range(1, layers + 1):
        shapes += [f"W{k}={sizes[k]}x{sizes[k - 1]}", f"b{k}={sizes[k]}"]
        if k < layers:
            lines.append(f"h{k} = {activation}(W{k} @ {previous} + b{k})")
            previous = f"h{k}"
        else:
            lines.append(f"yhat = W{k} @ {previous} + b{k}")
    if loss == "cross_entropy":
        lines.append(f"L = cross_entropy(yhat, {target})")
    else:
        shapes.append(f"y={sizes[-1]}")
        lines.append("L = sum((yhat - y)^2)" if loss == "squared" else "L = mse(yhat, y)")
    act = ACTIVATIONS[activation]

    def f(**p: Any) -> Any:
        h = p["x"]
        for k in range(1, layers + 1):
            u = anp.dot(p[f"W{k}"], h) + p[f"b{k}"]
            h = act(u) if k < layers else u
        if loss == "cross_entropy":
            return cross_entropy(h, target)
        return anp.sum((h - p["y"]) ** 2) if loss == "squared" else anp.mean((h - p["y"]) ** 2)

    return "; ".join(lines), ",".join(shapes), f


def pre_activations(sizes: list[int], point: dict[str, Any]) -> list[Any]:
    found, h = [], point["x"]
    for k in range(1, len(sizes) - 1):
        u = point[f"W{k}"] @ h + point[f"b{k}"]
        found.append(u)
        h = np.maximum(u, 0)
    return found


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4),
    activation=st.sampled_from(sorted(ACTIVATIONS)),
    loss=st.sampled_from(["squared", "mse", "cross_entropy"]),
    pick=st.integers(0, 1_000),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_mlp_matches_autograd(sizes: list[int], activation: str, loss: str, pick: int, seed: int) -> None:
    program, shape, f = mlp(sizes, activation, loss, pick % sizes[-1])
    parsed = parse_program(program)
    point, _, _ = tensor.values(parsed, None, shape, seed)
    if activation == "relu":  # relu has no slope at 0: chainrule refuses it, and rightly
        assume(all(np.all(u != 0) for u in pre_activations(sizes, point)))
    g = tensor.gradient(parsed, at=None, wrt=None, shape=shape, seed=seed)
    for name, value in point.items():
        assert_allclose(g.point[name], value, rtol=0, atol=0)
    assert_matches_oracle(g, f)


# --------------------------------------------------------------------------- found by these tests, and fixed


@pytest.mark.parametrize(
    "program, f",
    [
        ("L = -log(softmax(z)[2])", lambda z: -anp.log(softmax(z)[2])),
        ("L = sum(softmax(z)[2] * t)", lambda z, t: anp.sum(softmax(z)[2] * t)),
        ("L = (W @ z)[1]", lambda W, z: anp.dot(W, z)[1]),
    ],
)
def test_index_of_a_call(program: str, f: Callable[..., Any]) -> None:
    """softmax(z)[2] and (W @ x)[1] index the result (they were read as products by 2 and 1)."""
    at = {"z": [0.5, -1.0, 2.0], "t": [1.0, 2.0, 3.0], "W": [[1.0, 2.0, 0.5], [-1.0, 0.25, 3.0]]}
    g = chain(program, at={k: v for k, v in at.items() if re.search(rf"\b{k}\b", program)})
    assert_matches_oracle(g, f)


@pytest.mark.parametrize(
    "program, at",
    [
        ("c = 2; L = cross_entropy(z, c)", {"z": [1.0, 2.0, 3.0]}),
        ("L = cross_entropy(z, 1 + 1)", {"z": [1.0, 2.0, 3.0]}),
        ("L = cross_entropy(z, c)", {"z": [1.0, 2.0, 3.0], "c": 2}),
    ],
)
def test_cross_entropy_class_not_a_literal(program: str, at: dict[str, Any]) -> None:
    """A class that is not written out is refused at its place (it crashed the scalar check)."""
    with pytest.raises(InputError) as info:
        chain(program, at=at, wrt="z")
    assert "must be a whole number written out" in info.value.message
    assert info.value.position == program.rindex(program.split(", ")[-1].rstrip(")"))
