"""Every Markdown view, parsed by a GFM parser (markdown-it-py with its table rule): the tables
keep their columns whatever the expression holds (|x|, x_1, *), and the cells say what the text
view says, in the same notation."""

from __future__ import annotations

from typing import Any

import pytest
from markdown_it import MarkdownIt

from chainrule import tensor
from chainrule.backprop import gradient
from chainrule.derive import differentiate
from chainrule.grade import grade
from chainrule.printing import form, pretty
from chainrule.render import check_view, grad_views, latex_view, tensor_views
from chainrule.syntax import parse_program

PARSER = MarkdownIt("commonmark").enable("table")

DIFFS = [
    ("sin((2x+1)^2)", "3"),
    ("|x|^2 + sin(x)", "1"),
    ("|2x - 1| * x_1", "x=2,x_1=3"),
    ("sqrt(|x|) + x^3/3", None),
    ("f(g(x))", None),
    ("sigmoid(x)*tanh(x)", "0.5"),
]
GRADS = [
    ("c = a*b; d = c + 1; loss = d^2", "a=2,b=3"),
    ("h = |w_1*x - b|; L = h^2", "w_1=0.5,x=2,b=3"),
    ("y = x_1 * x_2 + |x_1|", None),
]
CHECKS = [("sin(x^2)", "2x cos(x^2)"), ("|x|^2", "2|x|"), ("x_1^2", "2 x_1")]


def tables(text: str) -> list[list[list[Any]]]:
    """Each table as rows of cells, each cell its inline token; and a check that every row has
    the header's number of cells."""
    tokens = PARSER.parse(text)
    found: list[list[list[Any]]] = []
    row: list[Any] = []
    for tok in tokens:
        if tok.type == "table_open":
            found.append([])
        elif tok.type == "tr_open":
            row = []
        elif tok.type == "inline" and found and tok.level > 3:
            row.append(tok)
        elif tok.type == "tr_close":
            found[-1].append(row)
    for table in found:
        assert all(len(r) == len(table[0]) for r in table), "a row has more or fewer cells than the header"
    return found


def codes(cell: Any) -> list[str]:
    return [child.content for child in cell.children or [] if child.type == "code_inline"]


def plain(cell: Any) -> str:
    return "".join(child.content for child in cell.children or [] if child.type in ("text", "code_inline"))


@pytest.mark.parametrize(("expression", "at"), DIFFS)
def test_diff_markdown_tables_hold_each_layer_in_the_text_views_notation(expression: str, at: str | None) -> None:
    d = differentiate(expression, at=at)
    text = latex_view.markdown(d)
    [table] = tables(text)[:1]
    rows = table[1:]
    expected = [form(d.graph.dag, layer.ops, d.graph.names, "pretty") for layer in d.layers]
    shown = [codes(r[1])[0] for r in rows if codes(r[1])]
    assert shown == expected
    heading = PARSER.parse(text)[1]
    assert heading.type == "inline" and "**" not in heading.content  # the text view's notation, not Python's
    assert "\\|" not in PARSER.render(text)  # every escape was read as one


@pytest.mark.parametrize(("program", "at"), GRADS)
def test_grad_markdown_tables_keep_their_columns(program: str, at: str | None) -> None:
    g = gradient(program, at=at)
    nodes, variables = tables(grad_views.render_markdown(g))
    assert [plain(r[0]) for r in nodes[1:]] == [layer.name for layer in g.layers]
    assert [plain(r[0]) for r in variables[1:]] == list(g.wrt)
    assert "\\|" not in PARSER.render(grad_views.render_markdown(g))


@pytest.mark.parametrize(("expression", "answer"), CHECKS)
def test_check_markdown_shows_the_answer_as_typed_notation(expression: str, answer: str) -> None:
    g = grade(expression, answer)
    html = PARSER.render(check_view.render_markdown(g))
    assert f"<code>{pretty(g.answer_expression)}</code>".replace("|", "|") in html.replace("&lt;", "<")
    assert "<em>" not in html  # x_1 * y_1 is not emphasis


def test_tensor_markdown_tables_keep_their_columns() -> None:
    g = tensor.gradient(parse_program("h = |W @ x_1|; L = sum(h * b_2)"), shape="W=2x2,x_1=2,b_2=2", seed=0)
    forward, backward, grads = tables(tensor_views.render_markdown(g))
    assert [codes(r[0])[0] for r in forward[1:]] == ["W", "x_1", "u1", "h", "b_2", "u2", "L"]
    assert len(backward) == 1 + sum(1 for s in g.run.steps if s.operand in g.tensors.names)
    assert [codes(r[0])[0] for r in grads[1:]] == list(g.wrt)
