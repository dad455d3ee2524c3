"""The terminal views at any width (60, 80, 120 and 200 columns, through Rich's console width):
no number is cut, a table that cannot fit stacks its rows, and a lesson reflows at spaces,
never inside a word."""

from __future__ import annotations

from typing import Any

import pytest

from chainrule import tensor
from chainrule.backprop import gradient
from chainrule.derive import differentiate
from chainrule.grade import grade
from chainrule.render.common import value_text
from chainrule.render.registry import Terminal, renderer
from chainrule.syntax import parse_program

WIDTHS = [60, 80, 120, 200]


def results() -> dict[str, Any]:
    return {
        "diff": differentiate("sin((2x+1)^2) + sigmoid(x)/3", at="3"),
        "grad": gradient(
            "z = w1*x + b1; a = sigmoid(z); yhat = w2*a + b2; L = 1/2*(yhat - y)^2",
            at="w1=0.5,x=1.5,b1=0.1,w2=-0.3,b2=0.2,y=1",
        ),
        "check": grade("sin(x^2)", "cos(x^2)"),
        "grad tensor": tensor.gradient(
            parse_program("h = relu(W1 @ x + b1); L = sum(h^2)"), shape="W1=3x2,x=2,b1=3", seed=0
        ),
    }


RESULTS = results()


def numbers(view: str, result: Any) -> list[str]:
    """The numbers the text view must show whole."""
    if view == "diff":
        return [value_text(layer.value, None) for layer in result.layers] + [
            value_text(local.value, None) for layer in result.layers for local in layer.locals
        ]
    if view == "grad":
        return [value_text(layer.value, None) for layer in result.layers] + [repr(v) for v in result.gradient.values()]
    return []


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("view", ["diff", "grad", "check", "grad tensor"])
def test_no_number_is_cut_at_any_width(view: str, width: int) -> None:
    text = renderer(view, "text")(RESULTS[view], Terminal(width=width))
    for line in text.splitlines():
        assert len(line.rstrip()) <= width, line
    assert "…" not in text  # Rich's mark of a cut cell
    for shown in numbers(view, RESULTS[view]):
        assert shown in text, f"{shown} is not shown whole at {width} columns"
    if view != "grad tensor":
        assert ("agrees ✓" in text) or ("DISAGREES ✗" in text) or view == "check"  # the mark stays with its word


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("view", ["diff", "grad", "grad tensor"])
def test_the_lesson_reflows_at_spaces(view: str, width: int) -> None:
    wide = renderer(view, "explain")(RESULTS[view], Terminal(width=10_000))
    text = renderer(view, "explain")(RESULTS[view], Terminal(width=width))
    for line in text.splitlines():
        assert len(line) <= width or " " not in line.strip(), line  # only an unbreakable word may stick out
    assert text.split() == wide.split()  # the same words, none broken


def test_a_narrow_terminal_stacks_a_table_that_cannot_fit() -> None:
    text = renderer("grad", "text")(RESULTS["grad"], Terminal(width=60))
    assert "contribution  " in text  # "title  cell" lines: the backward table stacked
