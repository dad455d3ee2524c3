"""Stage 1: text -> tape.  Every syntax form, every error, and depth."""

from __future__ import annotations

import pytest

from chainrule.errors import InputError
from chainrule.graph import build_graph
from chainrule.printing import form
from chainrule.syntax import parse


def shown(text: str) -> str:
    """The parsed expression printed back in SymPy's notation."""
    g = build_graph(parse(text))
    return form(g.dag, range(len(g.dag)), {i: n for i, n in g.names.items() if g.dag[i].kind == "var"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", "3"),
        ("0.5", "0.5"),
        (".5*x", ".5*x"),
        ("1e-3*x", "1e-3*x"),
        ("pi*x", "pi*x"),
        ("π x", "pi*x"),
        ("e^x", "exp(x)"),
        ("e*x", "E*x"),
        ("x+1-2", "x + 1 - 2"),
        ("x-(1-2)", "x - (1 - 2)"),
        ("x*y/z", "x*y/z"),
        ("x/(y*z)", "x/(y*z)"),
        ("x^2", "x**2"),
        ("x**2", "x**2"),
        ("x^y^z", "x**y**z"),
        ("(x^y)^z", "(x**y)**z"),
        ("-x^2", "-x**2"),
        ("(-x)^2", "(-x)**2"),
        ("2^-x", "2**(-x)"),
        ("+x", "x"),
        ("--x", "--x"),
        ("x²", "x**2"),
        ("x³+x⁻¹", "x**3 + x**(-1)"),
        ("2·x×3−1", "2*x*3 - 1"),
        ("2x", "2*x"),
        ("2(x+1)", "2*(x + 1)"),
        ("(x+1)(x-1)", "(x + 1)*(x - 1)"),
        ("2 sin(x)", "2*sin(x)"),
        ("3x^2", "3*x**2"),
        ("x y", "x*y"),
        ("xy", "xy"),
        ("x(x+1)", "x*(x + 1)"),
        ("sin(x)cos(x)", "sin(x)*cos(x)"),
        ("sin x", "sin(x)"),
        ("sin x^2", "sin(x**2)"),
        ("sin x cos x", "sin(x)*cos(x)"),
        ("sin^2(x)", "sin(x)**2"),
        ("sin^2 x", "sin(x)**2"),
        ("sin²(x)", "sin(x)**2"),
        ("sin^-1(x)", "asin(x)"),
        ("tanh^-1(x)", "atanh(x)"),
        ("arcsin(x)", "asin(x)"),
        ("arctanh(x/2)", "atanh(x/2)"),
        ("ln(x)", "log(x)"),
        ("log(x)", "log(x)"),
        ("log(x, 2)", "log(x, 2)"),
        ("log10(x)+log2(x)", "log10(x) + log2(x)"),
        ("sqrt(x)+cbrt(x)", "sqrt(x) + cbrt(x)"),
        ("abs(x)", "Abs(x)"),
        ("|x|", "Abs(x)"),
        ("||x|-1|", "Abs(Abs(x) - 1)"),
        ("|x||y|", "Abs(x)*Abs(y)"),
        ("σ(x)+sigmoid(x)", "sigmoid(x) + sigmoid(x)"),
        ("relu(x)+softplus(x)", "relu(x) + softplus(x)"),
        ("sec(x)+csc(x)+cot(x)", "sec(x) + csc(x) + cot(x)"),
        ("asec(x)+acsc(x)+acot(x)", "asec(x) + acsc(x) + acot(x)"),
        ("sinh(x)+cosh(x)+tanh(x)", "sinh(x) + cosh(x) + tanh(x)"),
        ("sech(x)+csch(x)+coth(x)", "sech(x) + csch(x) + coth(x)"),
        ("asinh(x)+acosh(x)+atanh(x)", "asinh(x) + acosh(x) + atanh(x)"),
        ("asech(x)+acsch(x)+acoth(x)", "asech(x) + acsch(x) + acoth(x)"),
        ("f(g(x))", "f(g(x))"),
        ("h(x)", "h(x)"),
        ("f*x", "f*x"),
        ("w_1*x", "w_1*x"),
    ],
)
def test_syntax_forms(text: str, expected: str) -> None:
    assert shown(text) == expected


def test_minus_binds_looser_than_power() -> None:
    nodes = parse("-x^2").nodes
    assert nodes[-1].kind == "neg" and nodes[nodes[-1].args[0]].kind == "pow"


def test_power_is_right_associative() -> None:
    nodes = parse("2^3^4").nodes
    root = nodes[-1]
    assert root.kind == "pow" and nodes[root.args[1]].kind == "pow"


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("", "empty", 0),
        ("sinn(x)", "unknown function 'sinn'; did you mean 'sin'?", 0),
        ("cosx(2)", "did you mean 'cos'", 0),
        ("sin 2(x+1)", "ambiguous", 0),
        ("sin x (y)", "ambiguous", 0),
        ("(x+1", "'(' is never closed", 0),
        ("sin(x", "'sin(' is never closed", 0),
        ("|x", "'|' is never closed", 0),
        ("x)", "unmatched ')'", 1),
        ("x+", "ends too early", 2),
        ("*x", "expected a number, a name or '('", 0),
        ("2 3", "two numbers in a row", 2),
        ("x;y", "unexpected character ';'", 1),
        ("x.y", "unexpected character '.'", 1),
        ("x = 1", "unexpected character '='", 2),
        ("x @ y", "'@' is the matrix product", 2),
        ("__import__('os')", "not a name chainrule accepts", 0),
        ("x_", "not a name", 0),
        ("import os", "reserved word", 0),
        ("lambda", "reserved word", 0),
        ("а+1", "CYRILLIC", 0),
        ("sin(x, y)", "takes 1 argument, not 2", 0),
        ("log(x, 2, 3)", "takes 1 or 2 arguments, not 3", 0),
        ("f(x, y)", "takes 1 argument", 0),
        ("sin", "needs an argument", 0),
        ("sin^x(x)", "expected a whole number", 4),
        ("ln^-1(x)", "ambiguous", 0),
        ("x, y", "',' outside", 1),
        ("()", "expected a number", 1),
        ("x^²", "expected a number", 2),
        ("1" * 101, "101 digits", 0),
    ],
)
def test_errors_point_into_the_input(text: str, message: str, position: int) -> None:
    with pytest.raises(InputError) as info:
        parse(text)
    err = info.value
    assert message in err.message
    assert err.position == position
    lines = err.describe().splitlines()
    if text:
        assert lines[1].strip() == text.strip()[:200] or "…" in lines[1]
        assert lines[2].index("^") - 2 == position


def test_caret_under_the_offending_span() -> None:
    with pytest.raises(InputError) as info:
        parse("2*sinn(x)+1")
    assert info.value.caret_lines() == ["2*sinn(x)+1", "  ^~~~"]


def test_input_length_limit() -> None:
    with pytest.raises(InputError, match="limit is 1,000,000"):
        parse("x+" * 600_000 + "x")


def test_ten_thousand_nested_layers_parse_without_recursion() -> None:
    depth = 10_000
    text = "sin(" * depth + "x" + ")" * depth
    expr = parse(text)
    assert len(expr.nodes) == depth + 1
    assert expr.variables() == ("x",)


def test_long_right_associated_power_tower_parses() -> None:
    expr = parse("x" + "^x" * 5000)
    assert len(expr.nodes) == 2 * 5000 + 1


@pytest.mark.parametrize(("text", "exponent"), [("1e5000*x", "5,000"), ("2.5E-999999999*x", "-999,999,999")])
def test_huge_exponents_are_refused_before_any_number_is_built(text: str, exponent: str) -> None:
    # Numbers are exact: 1e999999999 would be a billion-digit integer.
    with pytest.raises(InputError, match=f"exponent {exponent}; the limit is ±1,000") as caught:
        parse(text)
    assert caught.value.position == 0


def test_exponents_within_the_limit_parse() -> None:
    assert parse("1e1000*x + 1e-1000").variables() == ("x",)


def test_variables_are_ordered_by_first_appearance_not_by_substring() -> None:
    # "b" first occurs inside "ab" as text, but as a variable only at the end.
    expr = parse("ab*c + b")
    assert expr.variables() == ("ab", "c", "b")
    assert build_graph(expr).variables == ("ab", "c", "b")
