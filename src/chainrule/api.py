"""The Python API, for notebooks and other programs.

    >>> from chainrule import differentiate
    >>> differentiate("sin((2x+1)^2)", at=3).to_dict()["derivative"]["value"]   # 28·cos(49)
    8.416591224821838

Each function returns a frozen result whose ``to_dict()`` is the same document
the command line prints with ``--json``; in Jupyter it shows as Markdown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chainrule.backprop import Gradient
from chainrule.backprop import gradient as _gradient
from chainrule.derive import Derivation
from chainrule.derive import differentiate as _differentiate
from chainrule.grade import Grade, grade

Point = float | int | str | Mapping[str, float] | None


def _point(at: Point) -> str | Mapping[str, float] | None:
    if at is None or isinstance(at, (str, Mapping)):
        return at
    return repr(float(at))


@dataclass(frozen=True)
class DiffResult:
    """d(output)/d(variable), step by step."""

    derivation: Derivation

    @property
    def value(self) -> float | None:
        return self.derivation.derivative_value

    @property
    def derivative(self) -> Any:
        return self.derivation.derivative

    def to_dict(self) -> dict[str, Any]:
        from chainrule.render.json_view import diff_document

        return diff_document(self.derivation)

    def explain(self) -> str:
        from chainrule.render.explain_view import render

        return render(self.derivation)

    def _repr_markdown_(self) -> str:
        from chainrule.render.latex_view import markdown

        return markdown(self.derivation)

    def _repr_latex_(self) -> str:
        from chainrule.render.latex_view import latex

        return "$$" + latex(self.derivation) + "$$"


@dataclass(frozen=True)
class GradResult:
    """The gradient by one backward pass."""

    result: Gradient

    @property
    def gradient(self) -> dict[str, float] | None:
        return self.result.gradient

    def to_dict(self) -> dict[str, Any]:
        from chainrule.render.grad_views import document

        return document(self.result)

    def _repr_markdown_(self) -> str:
        from chainrule.render.graph_view import mermaid

        return f"```mermaid\n{mermaid(self.result)}```\n"


@dataclass(frozen=True)
class CheckResult:
    """A graded answer."""

    result: Grade

    @property
    def correct(self) -> bool:
        return self.result.verdict == "correct"

    def to_dict(self) -> dict[str, Any]:
        from chainrule.render.check_view import document

        return document(self.result)

    def _repr_markdown_(self) -> str:
        from chainrule.render.check_view import render_text

        return "```\n" + render_text(self.result) + "```\n"


def differentiate(
    expression: str, at: Point = None, wrt: str | None = None, granularity: str = "functions"
) -> DiffResult:
    """Differentiate by the chain rule, layer by layer; `at` is a number, "x=1,y=2", or a mapping."""
    return DiffResult(_differentiate(expression, wrt=wrt, at=_point(at), granularity=granularity))


def gradient(expression: str, at: str | Mapping[str, float] | None = None, wrt: str | None = None) -> GradResult:
    """Backpropagation on an expression or a program of bindings."""
    return GradResult(_gradient(expression, at=at, wrt=wrt))


def check(expression: str, answer: str, wrt: str | None = None) -> CheckResult:
    """Grade a hand-derived derivative."""
    return CheckResult(grade(expression, answer, wrt=wrt))
