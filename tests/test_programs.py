"""Programs as micrograd and PyTorch users write them, checked by an independent autodiff."""

from __future__ import annotations

import math
from typing import Any

import pytest

from chainrule.backprop import gradient
from chainrule.errors import InputError
from chainrule.syntax import parse_program

MICROGRAD = """\
a = Value(-4.0)
b = Value(2.0)
c = a + b
d = a * b + b**3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + (b + a).relu()
d += 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
"""


class Value:
    """A scalar with a gradient, as micrograd's own README defines it: the independent oracle."""

    def __init__(self, data: float, children: tuple[Value, ...] = ()) -> None:
        self.data, self.grad, self._children = data, 0.0, children
        self._backward = lambda: None

    def __add__(self, other: Any) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def backward() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out._backward = backward
        return out

    def __mul__(self, other: Any) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = backward
        return out

    def __pow__(self, k: float) -> Value:
        out = Value(self.data**k, (self,))

        def backward() -> None:
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = backward
        return out

    def relu(self) -> Value:
        out = Value(max(self.data, 0.0), (self,))

        def backward() -> None:
            self.grad += (out.data > 0) * out.grad

        out._backward = backward
        return out

    def __neg__(self) -> Value:
        return self * -1

    def __radd__(self, other: Any) -> Value:
        return self + other

    def __sub__(self, other: Any) -> Value:
        return self + (-other)

    def __rmul__(self, other: Any) -> Value:
        return self * other

    def __truediv__(self, other: Any) -> Value:
        return self * other**-1

    def __rtruediv__(self, other: Any) -> Value:
        return other * self**-1

    def backward(self) -> None:
        order: list[Value] = []
        seen: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:  # a topological order, without recursion
            node, done = stack.pop()
            if done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node._children)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


def _oracle() -> tuple[float, float, float]:
    namespace: dict[str, Any] = {"Value": Value}
    exec(MICROGRAD, namespace)  # trusted test text: the oracle runs the program as Python does
    g = namespace["g"]
    g.backward()
    return g.data, namespace["a"].grad, namespace["b"].grad


def test_the_micrograd_readme_example_pasted_as_it_stands() -> None:
    value, da, db = _oracle()
    assert (round(value, 4), round(da, 4), round(db, 4)) == (24.7041, 138.8338, 645.5773)  # micrograd's README
    result = gradient(MICROGRAD)
    assert result.evaluation.value == pytest.approx(value, rel=1e-12)
    assert result.gradient == pytest.approx({"a": da, "b": db}, rel=1e-12)
    assert all(c.agrees for c in result.checks.values())


def test_rebinding_makes_versions_and_leaves_take_their_values() -> None:
    program = parse_program(MICROGRAD)
    assert program.leaves == {"a": -4.0, "b": 2.0}
    assert {"c", "c′", "c″", "d", "d′", "d″", "g", "g′"} <= set(program.bindings.values())
    assert program.output == "g′"


def test_at_overrides_a_leaf() -> None:
    assert gradient("a = 2.0; b = 3.0; loss = a*b", at="a=5").gradient == {"a": 3.0, "b": 5.0}


def test_a_bare_number_in_at_is_the_first_variable_without_a_value() -> None:
    assert gradient("a = 2.0; loss = a*x", at="3").gradient == {"a": 3.0, "x": 2.0}


@pytest.mark.parametrize(
    ("program", "value"),
    [
        ("x = 3.0; y = x; y += 2", 5.0),
        ("x = 3.0; y = x*1; y -= 2", 1.0),
        ("x = 3.0; y = x+0; y *= 2", 6.0),
        ("x = 3.0; y = x*1; y /= 2", 1.5),
        ("x = 2.0\ny = x**2  # a square\ny = y + 1", 5.0),
    ],
)
def test_compound_assignment_and_comments(program: str, value: float) -> None:
    assert gradient(program).evaluation.value == pytest.approx(value)


@pytest.mark.parametrize(
    ("method", "function"),
    [
        ("relu", lambda u: max(u, 0.0)),
        ("tanh", math.tanh),
        ("exp", math.exp),
        ("log", math.log),
        ("sigmoid", lambda u: 1 / (1 + math.exp(-u))),
    ],
)
def test_methods_apply_their_function(method: str, function: Any) -> None:
    result = gradient(f"x = 0.7; y = (x*2).{method}()")
    assert result.evaluation.value == pytest.approx(function(1.4))


def test_a_method_binds_tighter_than_any_operator() -> None:
    assert gradient("x = 0.5; y = -x.exp()*2").evaluation.value == pytest.approx(-2 * math.exp(0.5))


def test_e_f_g_h_may_be_bound_with_a_note() -> None:
    program = parse_program("a = 1.0; e = a*2; f = e + 1")
    assert any("not the constant e" in note for note in program.expr.notes)


@pytest.mark.parametrize(
    ("program", "message"),
    [("y += 1", "defined first"), ("x = 1.0; y = x.cosx()", "unknown method"), ("pi = 3", "cannot be bound")],
)
def test_refused_with_a_reason(program: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_program(program)
