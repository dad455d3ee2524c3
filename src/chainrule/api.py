"""The Python API, for notebooks and other programs.

    >>> from chainrule import differentiate
    >>> differentiate("sin((2x+1)^2)", at=3).to_dict()["derivative"]["value"]   # 28·cos(49)
    8.416591224821838

Each function returns a frozen result whose ``to_dict()`` is the same document
the command line prints with ``--json``; in Jupyter it shows as its lesson page
(``--format html``), with its Markdown and LaTeX views for other front ends.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

import sympy

from chainrule import tensor
from chainrule.backprop import Gradient
from chainrule.backprop import gradient as _gradient
from chainrule.derive import Derivation
from chainrule.derive import differentiate as _differentiate
from chainrule.errors import UsageError
from chainrule.grade import Grade, grade
from chainrule.syntax import parse_program
from chainrule.tensor import TensorGradient

Point = float | int | str | Mapping[str, float] | None
Expression: TypeAlias = "str | sympy.Basic"  # text as a person types it, or a SymPy expression
Variables = str | Sequence[str] | None


def _text(expression: Expression) -> str:
    """A SymPy expression as text for our own parser (never sympify's)."""
    if isinstance(expression, sympy.Basic):
        return str(sympy.sstr(expression))
    return expression


def _point(at: Point, named: Mapping[str, float]) -> str | Mapping[str, float] | None:
    """`at` as a number, "x=1,y=2" or a mapping; or the point given as keyword arguments."""
    if named:
        if at is not None:
            raise UsageError("give the point either as at=... or as keyword arguments, not both")
        return dict(named)
    if at is None or isinstance(at, (str, Mapping)):
        return at
    return repr(float(at))


def framed(page: str, height: int = 720) -> str:
    """A lesson page for a notebook cell: in an iframe of its own, so that two pages in one
    notebook (and the notebook's own styles and scripts) never meet."""
    import html

    return (
        f'<iframe srcdoc="{html.escape(page, quote=True)}" title="chainrule lesson page" '
        f'style="width: 100%; height: {height}px; border: 1px solid #ccc;" '
        'sandbox="allow-scripts"></iframe>'
    )


def _variables(wrt: Variables) -> str | None:
    return wrt if wrt is None or isinstance(wrt, str) else ",".join(wrt)


@dataclass(frozen=True)
class _Shown:
    """A result, and what a notebook shows of it, from the registry of views: the lesson page (in a
    frame of its own), the Markdown view and the LaTeX fragment; and its JSON document as a dict."""

    result: Any
    view: ClassVar[str]

    def _show(self, format_: str) -> str | None:
        from chainrule.render.registry import VIEWS, Terminal, renderer

        if format_ not in VIEWS[self.view]:
            return None
        return renderer(self.view, format_)(self.result, Terminal(width=100))

    def to_dict(self) -> dict[str, Any]:
        text = self._show("json")
        assert text is not None  # every view has JSON
        document: dict[str, Any] = json.loads(text)
        return document

    def explain(self) -> str | None:
        """The lesson, as --explain prints it (None where the view has none: check)."""
        return self._show("explain")

    def _repr_markdown_(self) -> str | None:
        return self._show("markdown")

    def _repr_latex_(self) -> str | None:
        return self._show("latex")

    def _repr_html_(self) -> str | None:
        page = self._show("html")
        return framed(page) if page is not None else None


@dataclass(frozen=True)
class DiffResult(_Shown):
    """d(output)/d(variable), step by step."""

    result: Derivation
    view: ClassVar[str] = "diff"

    @property
    def derivation(self) -> Derivation:
        return self.result

    @property
    def value(self) -> float | None:
        return self.result.derivative_value

    @property
    def derivative(self) -> Any:
        return self.result.derivative


@dataclass(frozen=True)
class GradResult(_Shown):
    """The gradient by one backward pass."""

    result: Gradient
    view: ClassVar[str] = "grad"

    @property
    def gradient(self) -> dict[str, float] | None:
        return self.result.gradient


@dataclass(frozen=True)
class TensorGradResult(_Shown):
    """The gradient of a program on vectors and matrices: `gradient` maps each parameter to a
    numpy array of its shape, as PyTorch's ``.grad`` does."""

    result: TensorGradient
    view: ClassVar[str] = "grad tensor"

    @property
    def gradient(self) -> dict[str, Any]:
        return dict(self.result.gradient)

    @property
    def loss(self) -> float:
        return self.result.loss

    @property
    def agrees(self) -> bool:
        return self.result.agrees


@dataclass(frozen=True)
class CheckResult(_Shown):
    """A graded answer."""

    result: Grade
    view: ClassVar[str] = "check"

    @property
    def correct(self) -> bool:
        return self.result.verdict == "correct"


def differentiate(
    expression: Expression,
    at: Point = None,
    wrt: str | None = None,
    *,
    order: int = 1,
    granularity: str = "functions",
    **point: float,
) -> DiffResult:
    """Differentiate by the chain rule, layer by layer.

    `expression` is text as on paper, or a SymPy expression.  The point is a
    number, "x=1,y=2", a mapping, or keyword arguments: ``differentiate("x*y", x=1, y=2, wrt="x")``.
    """
    derivation = _differentiate(_text(expression), wrt=wrt, at=_point(at, point), granularity=granularity, order=order)
    return DiffResult(derivation)


TensorPoint = str | Mapping[str, Any] | None


def gradient(
    expression: Expression,
    at: Point | TensorPoint = None,
    wrt: Variables = None,
    *,
    granularity: str = "functions",
    shape: str | Mapping[str, Sequence[int] | int] | None = None,
    seed: int | None = None,
    **point: Any,
) -> GradResult | TensorGradResult:
    """Backpropagation on an expression or a program of bindings; `wrt` a name, "a,b" or a list.

    On vectors and matrices (``W @ x``, softmax, or values that are lists or arrays) the result
    is a :class:`TensorGradResult` whose ``gradient`` maps each parameter to a numpy array::

        gradient("L = sum(relu(W @ x))", W=[[1, -2], [3, 4]], x=[1, 2]).gradient["W"]
        gradient("L = mse(W @ x, y)", shape={"W": (3, 4), "x": 4, "y": 3}, seed=0)
    """
    text = _text(expression)
    program = parse_program(text)
    where = _tensor_point(at, point)
    shapes = _shapes(shape)
    if tensor.wanted(program, where, shapes):
        return TensorGradResult(tensor.gradient(program, at=where, wrt=_variables(wrt), shape=shapes, seed=seed))
    if seed is not None:
        raise UsageError("seed draws the values of shape: give the shapes too")
    return GradResult(
        _gradient(text, at=_point(at, point), wrt=_variables(wrt), granularity=granularity, program=program)
    )


def _tensor_point(at: Point | TensorPoint, named: Mapping[str, Any]) -> TensorPoint:
    """The point as the tensor stage reads it: "W=[[1, 2]],x=[3]" or a mapping of names to arrays."""
    if named:
        if at is not None:
            raise UsageError("give the point either as at=... or as keyword arguments, not both")
        return dict(named)
    if at is None or isinstance(at, (str, Mapping)):
        return at
    return repr(float(at))


def _shapes(shape: str | Mapping[str, Sequence[int] | int] | None) -> str | None:
    """shape={"W": (8, 4), "b": 8} as --shape text, W=8x4,b=8."""
    if shape is None or isinstance(shape, str):
        return shape
    parts = []
    for name, dims in shape.items():
        sizes = (dims,) if isinstance(dims, int) else tuple(dims)
        parts.append(f"{name}=" + ("x".join(str(int(d)) for d in sizes) if sizes else "scalar"))
    return ",".join(parts)


def check(expression: Expression, answer: Expression, wrt: str | None = None) -> CheckResult:
    """Grade a hand-derived derivative (text, or SymPy expressions)."""
    return CheckResult(grade(_text(expression), _text(answer), wrt=wrt))
