"""The catalogue of mistakes: one record per kind of slip a teacher names.

``check`` grades a derivative and, when it is wrong, names the slip in these
terms; a grader of learners' work line by line reads the same table.  Each
record is the whole of a kind as a reader meets it: its key (the ``kind`` of a
finding in ``--json``, kept stable), a teacher's title, and its wording, a
template whose fields the grader fills in.  A kind that shows in more than one
form (the power rule: the exponent not lowered, or its factor left out) has a
wording per form.  Adding a kind is one record here; the JSON schema's list of
kinds is checked against :data:`KINDS` by the tests.

Formulas in the wording are written in the variables (``the inner function
3·x + 1``), never by a layer's name: check's output does not list the layers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Mistake:
    """One kind of mistake.

    key: the finding's kind in the JSON, stable across releases.
    title: what a teacher writes in the margin.
    wording: the message, a template over named fields (str.format).
    forms: more wordings, by form, for a kind that shows in several ways.
    """

    key: str
    title: str
    wording: str
    forms: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def say(self, form: str | None = None, **fields: Any) -> str:
        """The message, in one of the forms (default: the wording)."""
        template = self.wording if form is None else self.forms[form]
        return template.format(**fields)


MISSING_FACTOR = Mistake(
    key="missing-factor",
    title="Missing inner factor",
    wording=(
        "You stopped too early: the chain rule multiplies by the derivative of the inner function "
        "{inner} with respect to {input}, which is {factor}, and your answer leaves that factor out "
        "({where} it is {value})."
    ),
    forms=MappingProxyType(
        {
            "outer": (
                "Your answer leaves out the outer derivative: {rule}, so the chain rule multiplies by "
                "{factor} ({where} it is {value})."
            ),
            "constant": "Your answer leaves out a factor of {factor}: your answer times {factor} is the derivative.",
        }
    ),
)

WRONG_POINT = Mistake(
    key="wrong-point",
    title="Outer derivative at the wrong point",
    wording=(
        "The outer derivative must be taken at the inner function: {rule}, with u = {right_at}, not u = "
        "{wrong_at}. Your answer has {wrong} where it needs {right} ({where} they are {wrong_value} and "
        "{right_value})."
    ),
)

EXTRA_FACTOR = Mistake(
    key="extra-factor",
    title="An extra factor",
    wording="Your answer multiplies by {factor}, the derivative of {inner}, once too often ({where} it is {value}).",
    forms=MappingProxyType(
        {"constant": "Your answer is {factor} times the derivative: it has an extra factor of {factor}."}
    ),
)

SWAPPED = Mistake(
    key="swapped",
    title="Inside and outside swapped",
    wording=(
        "Your answer is the derivative of {swapped}, with the inside and outside functions swapped. In "
        "{composition} the outside function is {outer} and the inside function is {inner}: the outer "
        "derivative is taken at the inside function, and multiplied by the inside function's derivative."
    ),
)

SIGN = Mistake(
    key="sign",
    title="Sign error",
    wording="Your answer has the opposite sign of the derivative.{hint}",
)

POWER_RULE = Mistake(
    key="power-rule",
    title="Power-rule slip",
    wording=(
        "The power rule lowers the exponent by one: d/du u{n_sup} = {rule}. Your answer keeps the exponent "
        "{n}: with u = {base} it has {wrong} where it needs {right}."
    ),
    forms=MappingProxyType(
        {
            "coefficient": (
                "The power rule brings the exponent down as a factor: d/du u{n_sup} = {rule}. Your answer "
                "leaves out the factor {n}: with u = {base} it has {wrong} where it needs {right}."
            ),
            "exponential": (
                "The power rule is for a constant exponent; {base}ᵘ has the exponent u = {exponent}, and "
                "d/du {base}ᵘ = {rule}. Your answer has {wrong} where it needs {right}."
            ),
            "logarithm": (
                "The exponential rule has a factor ln({base}): d/du {base}ᵘ = {base}ᵘ·ln({base}). Your answer "
                "leaves it out: with u = {exponent} it has {wrong} where it needs {right}."
            ),
        }
    ),
)

OTHER = Mistake(
    key="other",
    title="Another mistake",
    wording=(
        "Your answer is not the derivative, and not one of the usual chain-rule slips: {where} it gives "
        "{answer}, the derivative is {expected}."
    ),
    forms=MappingProxyType(
        {
            "term": (
                "Your answer leaves out a term: {variable} reaches the result along {count} paths, and the "
                "derivative is the sum over all of them ({rule}). The missing term is {term}."
            ),
            "plain": "Your answer is not the derivative.",
        }
    ),
)

CATALOGUE: tuple[Mistake, ...] = (
    MISSING_FACTOR,
    WRONG_POINT,
    EXTRA_FACTOR,
    SWAPPED,
    SIGN,
    POWER_RULE,
    OTHER,
)

BY_KEY: Mapping[str, Mistake] = MappingProxyType({m.key: m for m in CATALOGUE})
KINDS: tuple[str, ...] = tuple(m.key for m in CATALOGUE)


def title(key: str) -> str:
    """A finding's title, by its kind."""
    return BY_KEY[key].title
