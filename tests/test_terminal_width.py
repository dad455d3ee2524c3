"""The terminal views at any width from 20 columns (through Rich's console width and the lines
around it): no number is cut, a table that cannot fit stacks its rows, and every line wraps at
spaces, never inside a word.

The oracles: the JSON document of the same result (every number it holds that the view shows
must appear as one whole token, in some rounding of it), and the same view laid out at 10,000
columns (the numbers at a narrow width are exactly those of the wide one: a number cut in two
would be two numbers that the wide one does not have)."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

from chainrule import tensor
from chainrule.backprop import gradient
from chainrule.derive import differentiate
from chainrule.grade import grade
from chainrule.render.common import exact, num, value_text
from chainrule.render.registry import Terminal, renderer
from chainrule.syntax import parse_program

WIDTHS = [20, 30, 40, 60, 80, 120, 200]
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def results() -> dict[str, Any]:
    return {
        "diff": differentiate("sin((2x+1)^2) + sigmoid(x)/3", at="3"),
        "diff of two variables": differentiate("x^2 + x*y + y^2", wrt="x", at="x=0.7,y=1.3"),
        "diff of order 2": differentiate("sin((2x+1)^2)", at="3", order=2),
        "diff of a graph": differentiate("x*sin(x)", at="1"),
        "diff of a chain": differentiate("sigmoid(sigmoid(sigmoid(sigmoid(x))))", at="0"),
        "grad": gradient(
            "z = w1*x + b1; a = sigmoid(z); yhat = w2*a + b2; L = 1/2*(yhat - y)^2",
            at="w1=0.5,x=1.5,b1=0.1,w2=-0.3,b2=0.2,y=1",
        ),
        "grad of a network": gradient(
            "; ".join(["h0 = tanh(w0*x + b0)", *(f"h{i} = tanh(w{i}*h{i - 1} + b{i})" for i in range(1, 40))])
            + "; L = h39^2",
            at=",".join([*(f"w{i}=0.5,b{i}=0.1" for i in range(40)), "x=1"]),
        ),
        "check": grade("sin(x^2)", "cos(x^2)"),
        "check of a slip": grade("sin((3x+1)^2)", "cos((3x+1)^2)*2(3x+1)"),
        "grad tensor": tensor.gradient(
            parse_program("h = relu(W1 @ x + b1); L = sum(h^2)"), shape="W1=3x2,x=2,b1=3", seed=0
        ),
    }


RESULTS = results()
VIEWS = {  # result -> (the registry's view, the formats to lay out)
    "diff": ("diff", ["text", "explain"]),
    "diff of two variables": ("diff", ["text", "explain"]),
    "diff of order 2": ("diff", ["text", "explain"]),
    "diff of a graph": ("diff", ["text", "explain"]),
    "diff of a chain": ("diff --view sensitivity", ["text"]),
    "grad": ("grad", ["text", "explain"]),
    "grad of a network": ("grad", ["text", "explain"]),
    "check": ("check", ["text"]),
    "check of a slip": ("check", ["text"]),
    "grad tensor": ("grad tensor", ["text", "explain"]),
}
CASES = [(name, fmt) for name, (_, formats) in VIEWS.items() for fmt in formats]


def shown(name: str, fmt: str, width: int, **options: Any) -> str:
    return renderer(VIEWS[name][0], fmt)(RESULTS[name], Terminal(width=width, **options))


def tokens(text: str) -> Counter[str]:
    """The numbers of a text, each a whole token (punctuation around it taken off)."""
    words = (word.strip(",;:.()[]{}") for word in text.split())
    return Counter(word for word in words if NUMBER.fullmatch(word))


def document(name: str) -> dict[str, Any]:
    view = "diff" if VIEWS[name][0].startswith("diff") else VIEWS[name][0]
    return dict(json.loads(renderer(view, "json")(RESULTS[name], Terminal())))


def numbers(name: str) -> list[float]:
    """The numbers of the JSON document that the view shows: values, factors, adjoints, gradients."""
    doc, view = document(name), VIEWS[name][0]
    if view.startswith("diff"):
        factors = [local["value"] for layer in doc["layers"] for local in layer["local"]]
        if view == "diff --view sensitivity":
            return [abs(f) for f in factors]  # the chart shows |factor|
        return [doc["value"], doc["derivative"]["value"], *(layer["value"] for layer in doc["layers"]), *factors]
    if view == "grad":
        steps = [step[key] for step in doc["backward"] for key in ("upstream", "contribution", "adjoint")]
        return [
            *(node[key] for node in doc["nodes"] for key in ("value", "adjoint")),
            *doc["gradient"].values(),
            *steps,
        ]
    if view == "check":
        return [finding["value"] for finding in doc["diagnosis"]]
    return [doc["loss"]]


def roundings(value: float) -> set[str]:
    return {num(value, digits) for digits in range(1, 18)} | {exact(value), value_text(value, None)}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("name", "fmt"), CASES)
def test_no_number_is_cut_at_any_width(name: str, fmt: str, width: int) -> None:
    text = shown(name, fmt, width)
    wide = shown(name, fmt, 10_000)
    assert tokens(text) == tokens(wide)  # the same numbers, each whole
    for line in text.splitlines():
        assert len(line) <= width or len(line.split()) == 1, line  # only a word wider than the terminal sticks out
    assert "…" not in text or "…" in wide  # Rich's mark of a cut cell


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("name", "fmt"), [(n, f) for n, f in CASES if f == "text" and "network" not in n])
def test_every_number_of_the_json_document_appears_whole(name: str, fmt: str, width: int) -> None:
    text = tokens(shown(name, fmt, width))
    values = [v for v in numbers(name) if v is not None]  # None: a factor not needed for this variable
    assert values  # the oracle has numbers to look for
    for value in values:
        assert roundings(value) & set(text), f"{value!r} is not shown whole at {width} columns"


@pytest.mark.parametrize("width", [20, 33, 60])
@pytest.mark.parametrize(("name", "fmt"), [(n, f) for n, f in CASES if f == "text"])
def test_colour_and_ascii_keep_the_same_layout(name: str, fmt: str, width: int) -> None:
    plain = shown(name, fmt, width)
    coloured = re.sub(r"\x1b\[[0-9;]*m", "", shown(name, fmt, width, color=True))
    assert tokens(coloured) == tokens(plain)
    for line in shown(name, fmt, width, ascii=True).splitlines():  # x^2 and sigma are wider than x² and σ
        assert len(line) <= width or len(line.split()) == 1, line


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["diff", "diff of two variables", "grad", "grad tensor"])
def test_the_lesson_reflows_at_spaces(name: str, width: int) -> None:
    wide = shown(name, "explain", 10_000)
    text = shown(name, "explain", width)
    for line in text.splitlines():
        assert len(line) <= width or " " not in line.strip(), line  # only an unbreakable word may stick out
    assert text.split() == wide.split()  # the same words, none broken


def test_a_narrow_terminal_stacks_a_table_that_cannot_fit() -> None:
    text = shown("grad", "text", 60)
    assert "contribution  " in text  # "title  cell" lines: the backward table stacked


def test_a_table_that_just_fits_keeps_its_last_column() -> None:
    """At 60 columns Rich's own squeezing cut 'factor' to 'facto' and 0.300593 to 0.3."""
    text = shown("diff of order 2", "text", 60)
    assert "factor" in text and "0.300593" in text


@pytest.mark.parametrize("columns", ["20", "45", "300"])
def test_the_command_line_lays_out_for_the_terminal_it_has(
    run: Any, monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    code, out, _ = run("diff", "sin((2x+1)^2)", "--at", "3")
    assert code == 0
    width = min(int(columns), 240)
    assert max(len(line) for line in out.splitlines()) <= width
    assert (max(len(line) for line in out.splitlines()) > 60) == (width > 100)  # not clamped to 60 any more
    assert {"0.300593", "8.416591224821838", "-0.953753"} <= set(tokens(out))
