"""One reader for every point (chainrule.points): scalars, constant expressions with commas in
them, nested lists; the same record from text, from Python and from batch's JSON.

The oracles are independent of the reader: Python's math for the constants, numpy arrays built
by hand for the lists, SymPy for the derivatives the commands give at the points read.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import chainrule
from chainrule import points
from chainrule.batch import Settings, result_line
from chainrule.cli import app
from chainrule.errors import UsageError
from chainrule.render.registry import VIEWS

# --------------------------------------------------------------------------- the property


NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(lambda n: "__" not in n and n[-1] != "_")


@st.composite
def scalars(draw: Any) -> tuple[str, float]:
    """A value as text, and what it is by Python's math (not by our interpreter)."""
    kind = draw(st.sampled_from(["int", "decimal", "hypot", "pi", "sum", "max"]))
    a, b = draw(st.integers(-50, 50)), draw(st.integers(1, 50))
    if kind == "int":
        return str(a), float(a)
    if kind == "decimal":
        value = draw(st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 6)))
        return repr(value), value
    if kind == "hypot":
        return f"hypot({a}, {b})" if draw(st.booleans()) else f"hypot({a},{b})", math.hypot(a, b)
    if kind == "pi":
        return f"pi/{b}", math.pi / b
    if kind == "sum":
        return f"({a} + {b})*2", (a + b) * 2.0
    return f"max({a},{b})", float(max(a, b))


@st.composite
def values(draw: Any) -> tuple[str, Any]:
    """A number, a vector or a matrix: its text and its value (a float or a numpy array)."""
    shape = draw(st.sampled_from([(), (1,), (3,), (2, 2), (1, 3), (3, 1)]))
    if not shape:
        return draw(scalars())
    size = math.prod(shape)
    entries = [draw(scalars()) for _ in range(size)]
    texts = [t for t, _ in entries]
    array = np.array([v for _, v in entries]).reshape(shape)
    blank = draw(st.sampled_from(["", " "]))
    if len(shape) == 1:
        return "[" + f",{blank}".join(texts) + "]", array
    rows = ["[" + f",{blank}".join(texts[r * shape[1] : (r + 1) * shape[1]]) + "]" for r in range(shape[0])]
    return "[" + f",{blank}".join(rows) + "]", array


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(NAMES, values(), min_size=1, max_size=4), st.sampled_from([",", ", "]))
def test_a_point_written_out_reads_back_to_the_same_values(point: dict[str, tuple[str, Any]], comma: str) -> None:
    text = comma.join(f"{name}={shown}" for name, (shown, _) in point.items())
    read = points.read(text)
    assert read.names == tuple(point)
    for value in read.values:
        assert value.name is not None
        shown, expected = point[value.name]
        assert text[value.span[0] : value.span[1]] == shown  # the caret of a later error goes here
        if isinstance(expected, np.ndarray):
            assert value.is_array and value.array.shape == expected.shape
            np.testing.assert_allclose(value.array, expected, rtol=1e-15)
        else:
            assert not value.is_array
            assert value.double == pytest.approx(expected, rel=1e-15, abs=0)


@settings(max_examples=50, deadline=None)
@given(scalars())
def test_a_bare_value_is_kept_exactly(value: tuple[str, float]) -> None:
    read = points.read(value[0])
    bare = read.bare
    assert bare is not None and bare.double == pytest.approx(value[1], rel=1e-15)
    assert bare.exact is not None and float(bare.exact) == pytest.approx(value[1], rel=1e-15)


def test_exact_values_are_what_was_typed() -> None:
    read = points.read("a=-4, b=1e-3, c=pi/4, d=hypot(3,4)").named()
    assert read["a"].exact == -4 and read["b"].exact == sympy.Rational(1, 1000)
    assert read["c"].exact == sympy.pi / 4 and read["d"].exact == 5


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("text", "message", "caret"),
    [
        ("x=1,z=", "the value of 'z' is empty", 6),
        ("3,4", "name=value pairs", 0),
        ("x=[1, [2]]", "not a rectangular list", 2),
        ("x=[[1, 2], [3]]", "not a rectangular list", 2),
        ("x=[]", "an empty list", 2),
        ("x=[1 2]", "two numbers in a row", 5),
        ("x=[1,,2]", "expected a number or '['", 5),
        ("x=[1, 2]3", "after the list", 8),
        ("x=[[[1]]]", "'x' has 3 axes", 4),
        ("x=hypot(3,4", "never closed", 2),
        ("x=1, y=q", "a number or a constant expression", 7),
    ],
)
def test_refusals_name_the_point_with_a_caret_into_its_text(text: str, message: str, caret: int) -> None:
    with pytest.raises(UsageError) as caught:
        points.read(text)
    assert message in caught.value.message and caught.value.message.count("the point") >= 1
    assert caught.value.concerns == "point" and caught.value.source == text
    assert caught.value.position == caret


def test_nesting_a_million_deep_is_refused_at_once() -> None:
    deep = "x=" + "[" * 100_000 + "1" + "]" * 100_000
    with pytest.raises(UsageError, match="'x' has 100000 axes; vectors and matrices have at most 2") as caught:
        points.read(deep)
    assert caught.value.position == 4  # the third bracket
    with pytest.raises(UsageError, match="in the point"):  # the parser's own bound, with a caret
        points.read("x=" + "(" * 200_000 + "1" + ")" * 200_000)


# --------------------------------------------------------------------------- every command


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def _x() -> sympy.Symbol:
    return sympy.Symbol("x")


@pytest.mark.parametrize("format_", list(VIEWS["diff"]))
def test_diff_takes_a_constant_with_a_comma_in_every_format(format_: str) -> None:
    result = invoke("diff", "x^2", "--at", "x=hypot(3,4)", "--format", format_)
    assert result.exit_code == 0, result.stderr
    if format_ == "json":
        doc = json.loads(result.stdout)
        expected = float(sympy.diff(_x() ** 2, _x()).subs(_x(), math.hypot(3, 4)))
        assert doc["derivative"]["value"] == pytest.approx(expected) and doc["point"] == {"x": 5.0}


def test_diff_with_several_constant_expressions_as_json() -> None:
    result = invoke("diff", "sin(x)*y", "--at", "x=pi/4,y=hypot(3,4)", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    x, y = sympy.symbols("x y")
    expected = sympy.diff(sympy.sin(x) * y, x).subs({x: sympy.pi / 4, y: 5})
    assert doc["derivative"]["value"] == pytest.approx(float(expected))


def test_grad_takes_a_list_with_a_constant_expression() -> None:
    result = invoke("grad", "L = sum(x^2)", "--at", "x=[1, hypot(3,4)]", "--json")
    assert result.exit_code == 0, result.stdout
    doc = json.loads(result.stdout)
    np.testing.assert_allclose(doc["gradient"]["x"]["value"], 2 * np.array([1.0, math.hypot(3, 4)]))


def test_grad_on_scalars_takes_constant_expressions_and_its_defaults() -> None:
    result = invoke("grad", "a = 2.0; L = a*x*y", "--at", "x=hypot(6,8), y=max(1,3)", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["gradient"] == {"a": pytest.approx(10.0 * 3), "x": pytest.approx(2.0 * 3), "y": pytest.approx(2.0 * 10)}


def test_a_list_makes_a_scalar_program_a_tensor_one_by_the_value_read() -> None:
    doc = json.loads(invoke("grad", "L = sum(x)*y", "--at", "x=[1, 2], y=3", "--json").stdout)
    np.testing.assert_allclose(doc["gradient"]["x"]["value"], [3.0, 3.0])
    scalar = json.loads(invoke("grad", "L = x*y", "--at", "x=max(1, 2), y=3", "--json").stdout)
    assert scalar["gradient"]["x"] == pytest.approx(3.0)  # parentheses hold no list: the scalar engine
    shown = json.loads(invoke("grad", "L = x*y", "--at", "x=[1, 2], y=3", "--json").stdout)
    assert shown["error"]["kind"] == "shape"  # a list made it a tensor program, whose output is a vector


@pytest.mark.parametrize(
    ("args", "message", "position"),
    [
        (["diff", "x", "--at", "x=1,z=hypot(3,4)"], "--at gives a value for 'z', which is not a variable", 4),
        (["diff", "x^2", "--at", "x=[1, hypot(3,4)]"], "--at gives a list", 2),
        (["diff", "x", "--at", "x=hypot(3,4,"], "in --at:", None),
        (["grad", "L = sum(x^2)", "--at", "x=[1, [2]]"], "--at: the value of 'x' is not a rectangular", 2),
        (["grad", "L = sum(x^2)", "--at", "y=[1], x=[2]"], "--at gives a value for 'y'", 0),
        (["graph", "L = sum(x^2)", "--at", "x=[1, q]", "--format", "json"], None, None),
    ],
)
def test_errors_keep_their_flags_and_carets(args: list[str], message: str | None, position: int | None) -> None:
    result = invoke(*args, *([] if "--format" in args else ["--json"]))
    assert result.exit_code == 2
    if message is None:  # graph has no JSON format: a usage error, said on stderr
        assert "error:" in result.stderr
        return
    doc = json.loads(result.stdout)
    assert message in doc["error"]["message"]
    if position is not None:
        assert doc["error"]["position"] == position
    assert "the point" not in doc["error"]["message"]
    assert f"  {args[3]}" in result.stderr  # the --at text is echoed under the message, with the caret


def test_batch_reads_the_shared_point_and_each_lines_own_with_the_same_reader() -> None:
    result = CliRunner().invoke(
        app,
        ["batch", "--at", "x=hypot(3,4)", "--jobs", "1"],
        input='x^2\n{"expression": "x^3", "at": {"x": 2}}\n{"expression": "x*y", "at": "x=1,y=max(2,7)"}\nx*z\n',
    )
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert docs[0]["derivative"]["value"] == pytest.approx(10.0)
    assert docs[1]["derivative"]["value"] == pytest.approx(12.0)
    assert docs[2]["derivative"]["value"] == pytest.approx(7.0)
    assert "--at leaves z without a value" in docs[3]["error"]["message"]  # the CLI's words
    alone = json.loads(result_line(4, "x*z", Settings.of(at="x=hypot(3,4)")))
    assert "the point leaves z without a value" in alone["error"]["message"]  # a concept without the CLI


def test_a_shared_point_that_cannot_be_read_is_each_lines_error() -> None:
    result = CliRunner().invoke(
        app, ["batch", "--at", "x=(", "--jobs", "1"], input='x^2\n{"expression": "x", "at": 1}\n'
    )
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert "in --at" in docs[0]["error"]["message"] and docs[1]["derivative"]["value"] == 1.0


# --------------------------------------------------------------------------- the API


def test_the_api_reads_points_as_text_numbers_and_mappings_alike() -> None:
    assert chainrule.differentiate("x^2", at="x=hypot(3,4)").value == pytest.approx(10.0)
    assert chainrule.differentiate("x^2", at={"x": "hypot(3,4)"}).value == pytest.approx(10.0)
    assert chainrule.differentiate("x^2", x=5).value == pytest.approx(10.0)
    result = chainrule.gradient("L = sum(W @ x)", at="W=[[1, 2], [3, 4]], x=[1, hypot(0,1)]")
    np.testing.assert_allclose(result.gradient["W"], [[1.0, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(result.gradient["x"], [4.0, 6.0])
    same = chainrule.gradient("L = sum(W @ x)", W=np.array([[1, 2], [3, 4]]), x=(1, 1))
    np.testing.assert_array_equal(same.gradient["x"], result.gradient["x"])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: chainrule.differentiate("x", at="x=1,z=2"), "at= gives a value for 'z', which is not a variable"),
        (lambda: chainrule.differentiate("x+y", at="x=1"), "at= leaves y without a value"),
        (lambda: chainrule.differentiate("x", at="x=[1]"), "at= gives a list: vectors and matrices are for gradient()"),
        (lambda: chainrule.differentiate("x+y", at=1, wrt="z"), "wrt= 'z' does not occur"),
        (lambda: chainrule.differentiate("a+b"), "say which with wrt="),
        (lambda: chainrule.gradient("x*y", at="x=1,y=2", wrt=["q"]), "wrt= q: 'q' does not occur"),
        (lambda: chainrule.gradient("L = sum(x)", seed=1), "seed= draws the values of shape="),
        (lambda: chainrule.gradient("L = sum(x)", shape={"x": (2, 2, 2)}), "shape= x: a vector or matrix of 1 to"),
        (lambda: chainrule.gradient("L = sum(x)", at={"x": [1]}, shape={"x": 2}), "a value (at=) and a shape (shape=)"),
        (lambda: chainrule.differentiate("x", at=1, order=11), "order= must be between 1 and"),
    ],
)
def test_api_errors_name_the_keyword_arguments(call: Any, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        call()
    assert message in caught.value.message
    assert "--" not in caught.value.message and "--" not in (caught.value.hint or "")
    assert caught.value.concerns is not None


def test_api_hints_show_python() -> None:
    with pytest.raises(UsageError) as caught:
        chainrule.differentiate("x", at="x=[1]")
    assert caught.value.hint == "try: gradient('L = sum(x^2)', x=[1, 2])"
    with pytest.raises(UsageError) as caught:
        chainrule.differentiate("x+y", at="x=1")
    assert caught.value.hint == "give every variable a value: at={'x': ..., 'y': ...}"


def test_the_plot_window_is_read_by_the_same_reader(tmp_path: Any) -> None:
    from chainrule.render.plot_view import parse_window

    assert parse_window("-pi,hypot(3,4)") == (-math.pi, 5.0)
    with pytest.raises(UsageError, match="--window takes two numbers"):
        parse_window("1,2,3")
    with pytest.raises(UsageError, match="--window a,b needs finite numbers with a < b"):
        parse_window("3,-3")
