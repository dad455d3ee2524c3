"""Property tests on generated expressions: the product of local factors is the derivative."""

from __future__ import annotations

import math

import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from tests.conftest import X, numeric, oracle, same_function

from chainrule.derive import differentiate
from chainrule.errors import MathError

Pair = tuple[str, str]  # (our syntax, Python syntax for the oracle)

LEAVES: list[Pair] = [("x", "x"), ("2x", "2*x"), ("(x+1)", "(x+1)"), ("x^2", "x**2"), ("3", "3"), ("(1-x)", "(1-x)")]
FUNCTIONS = ["sin", "cos", "atan", "tanh", "exp", "sigmoid", "softplus", "asinh", "cosh"]


def apply(name: str, inner: Pair) -> Pair:
    return f"{name}({inner[0]})", f"{name}({inner[1]})"


def combine(op: str, a: Pair, b: Pair) -> Pair:
    if op == "/":
        return f"({a[0]})/(({b[0]})^2+1)", f"({a[1]})/(({b[1]})**2+1)"
    if op == "^":
        return f"({a[0]})^2", f"({a[1]})**2"
    if op == "ln":
        return f"ln(({a[0]})^2+1)", f"log(({a[1]})**2+1)"
    if op == "sqrt":
        return f"sqrt(({a[0]})^2+1)", f"sqrt(({a[1]})**2+1)"
    return f"({a[0]}){op}({b[0]})", f"({a[1]}){op}({b[1]})"


def extend(children: st.SearchStrategy[Pair]) -> st.SearchStrategy[Pair]:
    return st.one_of(
        st.builds(apply, st.sampled_from(FUNCTIONS), children),
        st.builds(combine, st.sampled_from(["+", "-", "*", "/", "^", "ln", "sqrt"]), children, children),
    )


expressions = st.recursive(st.sampled_from(LEAVES), extend, max_leaves=6)
chains = st.lists(st.sampled_from(FUNCTIONS + ["ln1p2", "sq"]), min_size=1, max_size=12).map(
    lambda names: _chain(names)
)


def _chain(names: list[str]) -> Pair:
    ours, python = "x", "x"
    for name in names:
        if name == "ln1p2":
            ours, python = f"ln(({ours})^2+1)", f"log(({python})**2+1)"
        elif name == "sq":
            ours, python = f"({ours})^2", f"({python})**2"
        else:
            ours, python = f"{name}({ours})", f"{name}({python})"
    return ours, python


def _derive_or_skip(text: str, at: str | None) -> object:
    try:
        return differentiate(text, at=at)
    except MathError as err:
        assume(err.reason != "overflow")
        raise


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions)
def test_symbolic_derivative_equals_sympy_diff(pair: Pair) -> None:
    ours, python = pair
    d = differentiate(ours)
    assert d.derivative is not None
    assert same_function(d.derivative, sympy.diff(oracle(python), X))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions, st.sampled_from([-0.8, 0.3, 1.7]))
def test_value_at_a_point_equals_the_oracle(pair: Pair, x0: float) -> None:
    ours, python = pair
    d = _derive_or_skip(ours, repr(x0))
    expected = numeric(sympy.diff(oracle(python), X), {X: sympy.Float(x0, 30)})
    assume(math.isfinite(expected) and abs(expected) < 1e12)
    assert d.derivative_value == pytest.approx(expected, rel=1e-9, abs=1e-11)  # type: ignore[attr-defined]
    assert d.check.agrees  # type: ignore[attr-defined]


@settings(max_examples=80, deadline=None)
@given(chains, st.sampled_from([-0.4, 0.25, 0.9]))
def test_a_chain_is_one_path_whose_factors_multiply_to_the_derivative(pair: Pair, x0: float) -> None:
    ours, _ = pair
    d = _derive_or_skip(ours, repr(x0))
    assert d.path_count == 1 and d.paths is not None  # type: ignore[attr-defined]
    product = math.prod(d.layers[li].locals[k].value for li, k in d.paths[0].steps)  # type: ignore[attr-defined]
    assert product == pytest.approx(d.derivative_value, rel=1e-12, abs=1e-300)  # type: ignore[attr-defined]


@settings(max_examples=60, deadline=None)
@given(expressions)
def test_each_symbolic_local_derivative_matches_its_numeric_factor(pair: Pair) -> None:
    ours, _ = pair
    d = _derive_or_skip(ours, "0.6")
    values = {layer.name: layer.value for layer in d.layers}  # type: ignore[attr-defined]
    values.update(d.point)  # type: ignore[attr-defined]
    for layer in d.layers:  # type: ignore[attr-defined]
        for local in layer.locals:
            expr = local.expression
            subs = {s: values[s.name] for s in expr.free_symbols}
            exact = numeric(expr, subs)
            assert local.value == pytest.approx(exact, rel=1e-9, abs=1e-12)
