"""Stage 2: tape -> graph of layers."""

from __future__ import annotations

import pytest

from chainrule.graph import build_graph
from chainrule.printing import form, plain
from chainrule.syntax import parse


def layers(text: str, granularity: str = "functions") -> list[tuple[str, str, list[str]]]:
    g = build_graph(parse(text), granularity)
    return [
        (layer.name, form(g.dag, layer.ops, g.names), [plain(local.expression) for local in layer.locals])
        for layer in g.layers
    ]


def test_the_lesson_layers_of_sin_of_a_square() -> None:
    assert layers("sin((2x+1)^2)") == [
        ("u1", "2*x + 1", ["2"]),
        ("u2", "u1**2", ["2*u1"]),
        ("y", "sin(u2)", ["cos(u2)"]),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(3x+1)^2", [("u1", "3*x + 1"), ("y", "u1**2")]),
        ("sin(x^2)", [("u1", "x**2"), ("y", "sin(u1)")]),
        ("sin(x)", [("y", "sin(x)")]),
        ("x^2 + 3x + 1", [("y", "x**2 + 3*x + 1")]),
        ("x*sin(x)", [("u1", "sin(x)"), ("y", "x*u1")]),
        ("(2x)/(3x+2)", [("u1", "2*x"), ("u2", "3*x + 2"), ("y", "u1/u2")]),
        ("(x+1)(x-1)", [("u1", "x + 1"), ("u2", "x - 1"), ("y", "u1*u2")]),
        ("x^x", [("y", "x**x")]),
        ("2^(3x)", [("u1", "3*x"), ("y", "2**u1")]),
        ("-sin(x)", [("u1", "sin(x)"), ("y", "-u1")]),
        ("sin(2*pi)*x", [("y", "sin(2*pi)*x")]),
        ("x^2 + sin(x^2)", [("u1", "x**2"), ("u2", "sin(u1)"), ("y", "u1 + u2")]),
        ("exp(sin(x)) + sin(x)", [("u1", "sin(x)"), ("u2", "exp(u1)"), ("y", "u2 + u1")]),
    ],
)
def test_layers_follow_the_lessons(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(name, expression) for name, expression, _ in layers(text)] == expected


def test_operand_order_is_kept() -> None:
    assert layers("sin(x)*x")[-1][1] == "u1*x"


def test_layer_names_avoid_the_users_variables() -> None:
    g = build_graph(parse("sin(u1 + y)"))
    assert [layer.name for layer in g.layers] == ["v1", "f"]


def test_ops_granularity_makes_every_operation_a_node() -> None:
    assert [name for name, _, _ in layers("(a*b+1)^2", "ops")] == ["u1", "u2", "y"]
    assert [expr for _, expr, _ in layers("(a*b+1)^2", "ops")] == ["a*b", "u1 + 1", "u2**2"]


def test_a_variable_or_constant_alone_has_no_layers() -> None:
    assert build_graph(parse("x")).layers == ()
    assert build_graph(parse("2*pi")).layers == ()


def test_rules_are_named_from_the_table() -> None:
    g = build_graph(parse("sin((2x+1)^2)"))
    rules = [(local.rule, local.identity) for layer in g.layers for local in layer.locals]
    assert rules == [
        ("sum", "d(a + b) = da + db"),
        ("power", "d/du uⁿ = n·uⁿ⁻¹"),
        ("sin", "d/du sin(u) = cos(u)"),
    ]
    assert [name for name, _ in g.layers[0].locals[0].rules] == ["sum", "constant multiple"]


def test_ten_thousand_layers_build_without_recursion() -> None:
    depth = 10_000
    g = build_graph(parse("sin(" * depth + "x" + ")" * depth))
    assert len(g.layers) == depth
    assert g.layers[-1].name == "y" and g.layers[-2].name == f"u{depth - 1}"
