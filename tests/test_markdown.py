"""Every Markdown view, parsed by a GFM parser (markdown-it-py with its table rule): the tables
keep their columns whatever the expression holds (|x|, |u1|, x_1, *), and the cells say what the
text view says, in the same notation.

A GFM parser drops the cells a row has beyond its header's, so a stray `|` would cut a formula
without changing the number of cells it reports: the rows are also split by GFM's own rule (at
every pipe no backslash escapes) and counted, and the cells compared with what they should hold."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from chainrule import tensor
from chainrule.backprop import gradient
from chainrule.derive import differentiate
from chainrule.grade import grade
from chainrule.printing import form, pretty
from chainrule.render import check_view, grad_views, latex_view, md, tensor_views
from chainrule.render.common import ratio
from chainrule.syntax import parse_program

PARSER = MarkdownIt("commonmark").enable("table")

DIFFS = [
    ("sin((2x+1)^2)", "3"),
    ("|x|^2 + sin(x)", "1"),
    ("|2x - 1| * x_1", "x=2,x_1=3"),
    ("sqrt(|x|) + x^3/3", None),
    ("f(g(x))", None),
    ("sigmoid(x)*tanh(x)", "0.5"),
    ("|sin(x)|^2", "1"),  # a layer |u1|
    ("sqrt(|x - 1| + |x|)", "3"),  # local derivatives with |…| in them
]
GRADS = [
    ("c = a*b; d = c + 1; loss = d^2", "a=2,b=3"),
    ("h = |w_1*x - b|; L = h^2", "w_1=0.5,x=2,b=3"),
    ("y = x_1 * x_2 + |x_1|", None),
    ("h = |sin(w*x)|; L = |h - 1|", "w=1,x=2"),  # operations |u2| and |u3|
    ("L = |x - y|^2 / |y|", "x=1,y=3"),  # |…| in local gradients and in the gradient
    ("L = |x - y|^2 / |y|", None),
]
CHECKS = [
    ("sin(x^2)", "2x cos(x^2)"),
    ("|x|^2", "2|x|"),
    ("x_1^2", "2 x_1"),
    ("|sin(x)|", "cos(x) sign(sin(x))"),
    ("x |x|", "|x|"),
]
TENSORS = [
    ("h = |W @ x_1|; L = sum(h * b_2)", "W=2x2,x_1=2,b_2=2"),
    ("L = sum(|W @ x - b|)", "W=2x3,x=3,b=2"),
    ("z = W @ x + b; h = tanh(z); L = sum(h^2)", "W=3x2,x=2,b=3"),
    ("h = relu(W1 @ x + b1); yhat = W2 @ h + b2; L = sum((yhat - y)^2)", "W1=8x4,b1=8,W2=1x8,b2=1,x=4,y=1"),
]
BARE_PIPE = re.compile(r"(?<!\\)\|")


def tables(text: str) -> list[list[list[Any]]]:
    """Each table as rows of cells, each cell its inline token; and a check that every row has
    the header's number of cells, as the parser reads it and as the source splits by GFM's rule."""
    tokens = PARSER.parse(text)
    source = text.split("\n")
    found: list[list[list[Any]]] = []
    row: list[Any] = []
    widths: list[int] = []
    for tok in tokens:
        if tok.type == "table_open":
            found.append([])
            widths = []
        elif tok.type == "tr_open":
            row = []
            assert tok.map is not None
            line = source[tok.map[0]].strip()
            widths.append(len(BARE_PIPE.split(line.removeprefix("|").removesuffix("|"))))
            assert widths[-1] == widths[0], f"a row splits into {widths[-1]} cells, not {widths[0]}: {line}"
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
@pytest.mark.parametrize("granularity", ["functions", "ops"])
def test_grad_markdown_tables_keep_their_columns(program: str, at: str | None, granularity: str) -> None:
    g = gradient(program, at=at, granularity=granularity)
    nodes, variables = tables(grad_views.render_markdown(g))
    assert [plain(r[0]) for r in nodes[1:]] == [layer.name for layer in g.layers]
    assert [codes(r[1]) for r in nodes[1:]] == [
        [form(g.graph.dag, layer.ops, g.graph.names, "pretty")] for layer in g.layers
    ]  # the operation whole, |u1| included
    assert [codes(r[3]) for r in nodes[1:]] == [
        [f"∂{layer.name}/∂{lo.wrt} = {pretty(lo.expression)}" for lo in layer.locals] for layer in g.layers
    ]
    assert [plain(r[0]) for r in variables[1:]] == list(g.wrt)
    assert all(len(codes(r[1])) == 1 and "\\" not in codes(r[1])[0] for r in variables[1:])
    assert "\\|" not in PARSER.render(grad_views.render_markdown(g))


@pytest.mark.parametrize(("expression", "answer"), CHECKS)
def test_check_markdown_shows_the_answer_as_typed_notation(expression: str, answer: str) -> None:
    g = grade(expression, answer)
    html = PARSER.render(check_view.render_markdown(g))
    assert f"<code>{pretty(g.answer_expression)}</code>".replace("|", "|") in html.replace("&lt;", "<")
    assert "<em>" not in html  # x_1 * y_1 is not emphasis


@pytest.mark.parametrize(("program", "shape"), TENSORS)
def test_tensor_markdown_tables_keep_their_columns(program: str, shape: str) -> None:
    g = tensor.gradient(parse_program(program), shape=shape, seed=0)
    text = tensor_views.render_markdown(g)
    forward, backward, grads = tables(text)
    assert [codes(r[0])[0] for r in forward[1:]] == [name for name, *_ in tensor_views.forward_rows(g, False)]
    assert [plain(r[1]) for r in forward[1:]] == [op for _, op, *_ in tensor_views.forward_rows(g, False)]
    assert len(backward) == 1 + sum(1 for s in g.run.steps if s.operand in g.tensors.names)
    assert [codes(r[0])[0] for r in grads[1:]] == list(g.wrt)
    assert "\\|" not in PARSER.render(text)


def test_the_first_tensor_table_names_every_node() -> None:
    g = tensor.gradient(parse_program("h = |W @ x_1|; L = sum(h * b_2)"), shape="W=2x2,x_1=2,b_2=2", seed=0)
    forward, _, _ = tables(tensor_views.render_markdown(g))
    assert [codes(r[0])[0] for r in forward[1:]] == ["W", "x_1", "u1", "h", "b_2", "u2", "L"]


@pytest.mark.parametrize(("expression", "at"), DIFFS)
def test_diff_markdown_local_derivatives_are_whole(expression: str, at: str | None) -> None:
    d = differentiate(expression, at=at)
    [table] = tables(latex_view.markdown(d))[:1]
    expected = [f"{ratio(layer, local)} = {pretty(local.expression)}" for layer in d.layers for local in layer.locals]
    assert [codes(r[2])[0] for r in table[1:]] == expected


@pytest.mark.parametrize(
    "render",
    [
        lambda: latex_view.markdown(differentiate("|sin(x)|^2", at="1")),
        lambda: grad_views.render_markdown(gradient("h = |sin(w*x)|; L = |h - 1|", at="w=1,x=2")),
        lambda: tensor_views.render_markdown(
            tensor.gradient(parse_program("L = sum(|W @ x - b|)"), shape="W=2x3,x=3,b=2", seed=0)
        ),
    ],
)
def test_a_pipe_outside_a_table_is_not_escaped(render: Any) -> None:
    """Only a table escapes pipes in code: a heading's or the product's code span keeps |x| as it
    is (there a backslash in code would be shown)."""
    outside = "\n".join(line for line in render().split("\n") if not line.startswith("|"))
    html = PARSER.render(outside)
    assert "|" in html and "\\|" not in html


@given(
    st.lists(
        st.lists(
            st.text(
                st.characters(codec="ascii", categories=["L", "N", "P", "S", "Zs"], exclude_characters="\\`"),
                min_size=1,
                max_size=12,
            ),
            min_size=3,
            max_size=3,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_a_table_of_code_spans_keeps_every_cell_whole_whatever_pipes_they_hold(rows: list[list[str]]) -> None:
    text = "\n".join(md.table(["a", "b", "c"], [[md.code(cell) for cell in row] for row in rows]))
    [table] = tables(text)
    # GFM trims a code span's content of one space each side when both are spaces (not all spaces)
    expected = [[c[1:-1] if len(c) > 2 and c[0] == c[-1] == " " and c.strip() else c for c in row] for row in rows]
    assert [[(codes(cell) or [""])[0] for cell in r] for r in table[1:]] == expected
