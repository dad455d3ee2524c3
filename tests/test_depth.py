"""Depth safety: every stage handles a chain 10,000 layers deep without recursion.

These are not timing tests; they only require that nothing raises.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import mpmath
import pytest

from chainrule.derive import differentiate
from chainrule.render import explain_view, json_view, latex_view, text_view

FUNCTIONS = ("sin", "cos", "tanh", "atan")
MP = {"sin": mpmath.sin, "cos": mpmath.cos, "tanh": mpmath.tanh, "atan": mpmath.atan}
DERIVATIVE = {
    "sin": mpmath.cos,
    "cos": lambda u: -mpmath.sin(u),
    "tanh": lambda u: 1 - mpmath.tanh(u) ** 2,
    "atan": lambda u: 1 / (1 + u**2),
}


def chain(depth: int) -> tuple[str, list[str]]:
    names = [FUNCTIONS[i % 4] for i in range(depth)]
    return "".join(f"{n}(" for n in reversed(names)) + "x" + ")" * depth, names


def forward_mode_in_mpmath(names: list[str], x0: str) -> tuple[Any, Any]:
    """An independent forward-mode evaluation: (value, derivative) at 50 digits."""
    with mpmath.workdps(50):
        value, slope = mpmath.mpf(x0), mpmath.mpf(1)
        for name in names:
            value, slope = MP[name](value), DERIVATIVE[name](value) * slope
        return +value, +slope


@pytest.fixture(scope="module")
def deep() -> Any:
    text, names = chain(10_000)
    return text, names, differentiate(text, at="0.5")


def test_low_recursion_limit_is_enough(deep: Any) -> None:
    text, _, _ = deep
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        d = differentiate(text, at="0.5")
        json_view.render(d)
        explain_view.render(d)
    finally:
        sys.setrecursionlimit(limit)


def test_deep_chain_matches_forward_mode_in_mpmath(deep: Any) -> None:
    _, names, d = deep
    value, slope = forward_mode_in_mpmath(names, "0.5")
    assert d.value == pytest.approx(float(value), rel=1e-12)
    assert len(d.layers) == 10_000 and d.path_count == 1
    # The product of 10,000 factors underflows a double; compare its logarithm.
    log_product = sum(math.log(abs(layer.locals[0].value)) for layer in d.layers)
    assert log_product == pytest.approx(float(mpmath.log(abs(slope))), rel=1e-10)
    # The tool reports the derivative itself with an unbounded exponent.
    assert d.derivative_value == 0.0 and d.derivative_beyond is not None
    reported = mpmath.mpf(d.derivative_beyond.mantissa) * mpmath.mpf(10) ** d.derivative_beyond.exponent
    assert float(reported / slope) == pytest.approx(1, rel=1e-10)


def test_a_thousand_deep_chain_value_matches_mpmath() -> None:
    text, names = chain(1000)
    d = differentiate(text, at="0.5")
    _, slope = forward_mode_in_mpmath(names, "0.5")
    assert d.derivative_value == pytest.approx(float(slope), rel=1e-10)
    assert d.check is not None and d.check.agrees


def test_deep_chain_renders_in_every_view(deep: Any) -> None:
    _, _, d = deep
    doc = json.loads(json_view.render(d))
    assert len(doc["layers"]) == 10_000
    assert doc["derivative"]["expression"] is None and "omitted" in doc["derivative"]["note"]
    assert doc["derivative"]["product"].count("*") >= 9_999
    text = text_view.render(d, width=120)
    assert "u9999" in text and "9,960 more layers" in text and "(10,000 factors)" in text
    assert len(text) < 20_000  # the terminal view shows the ends of a long chain
    assert "too many to draw" in latex_view.markdown(d)
    assert "──▶ y" in explain_view.render(d)


def test_deep_sum_and_product_are_depth_safe() -> None:
    n = 5000
    d = differentiate("+".join(f"sin({k}x)" for k in range(1, n + 1)), at="0.1")
    assert d.derivative_value == pytest.approx(sum(k * math.cos(k * 0.1) for k in range(1, n + 1)))
    d = differentiate("*".join(["(x+1)"] * 50), at="0.5")
    assert d.derivative_value == pytest.approx(50 * 1.5**49)
