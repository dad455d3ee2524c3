"""Formulas on vectors and matrices as trees: what the tensor stage writes and every printer reads.

The tensor stage (:mod:`chainrule.tensor`) writes each node's formula (``W1·x + b1``), each
backward step's vector–Jacobian product (``∂L/∂u1·xᵀ``) and each gradient's matrix formula as
a tree of the frozen records here; :mod:`chainrule.render.formula_print` prints a tree as text
(the lessons' notation), LaTeX, Markdown or MathML, choosing the parentheses from precedences.

How an operator is written (its symbol in each notation, how tightly it binds, what each operand
needs to go without parentheses) is a :class:`Notation`, and each lives in the rule specification
(:mod:`chainrule.rules`, :mod:`chainrule.tensor_rules`), beside the rule's name.

The helpers below build trees with the lessons' simplifications (a transpose of a transpose is
the matrix itself, 1·G is G), by looking at the trees, never at printed text.  Nothing here
imports anything: the rule tables import this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

LOOSE = 10  # a + b, a − b, a ⊙ b: written with spaces, binds loosest
TIGHT = 20  # a·b, a/b, −a, a^b, Σ(a), ‖a‖
ATOM = 100  # a name, a number, f(a), (a)


@dataclass(frozen=True, kw_only=True)
class Notation:
    """How an operator is written.

    text: the lessons' symbol, as printed between (or before) the operands: ``" + "``, ``"·"``.
    plain: SymPy's symbol (``"*"``, ``"**"``), for the scalar text printer; None: the same as text.
    latex: the LaTeX symbol (``r"\\odot"``); ``"^"`` writes a power with a braced exponent.
    mathml: the symbol in a MathML ``<mo>``; None: text without spaces.
    precedence: how tightly it binds (LOOSE, TIGHT, or the scalar printer's 10–40).
    associativity: "left", "right" or "prefix"; with precedence it gives `operands` by default.
    operands: the precedence each operand needs to be written without parentheses.
    superscript: a whole-number exponent is written as a superscript (u²), in the lessons' text.
    """

    text: str
    latex: str
    precedence: int
    associativity: str = "left"
    operands: tuple[int, ...] = ()
    plain: str | None = None
    mathml: str | None = None
    superscript: bool = False

    def __post_init__(self) -> None:
        if not self.operands:
            p = self.precedence
            demands = {"left": (p, p + 1), "right": (p + 1, p), "prefix": (p,)}[self.associativity]
            object.__setattr__(self, "operands", demands)

    @property
    def symbol(self) -> str:
        """The symbol in MathML's <mo>."""
        return self.mathml if self.mathml is not None else self.text.strip()


# --------------------------------------------------------------------------- the records


@dataclass(frozen=True)
class Sym:
    """A name or a number as it is written: x, W1, yhat, 2, 0.5, π."""

    name: str


@dataclass(frozen=True)
class One:
    """The number 1, or 𝟙 (a tensor of ones, the adjoint of a sum's operand)."""

    tensor: bool = False


@dataclass(frozen=True)
class Adjoint:
    """∂L/∂name: the adjoint of a node, by its name."""

    name: str
    of: str = "L"


@dataclass(frozen=True)
class Infix:
    """left op right."""

    op: Notation
    left: Form
    right: Form


@dataclass(frozen=True)
class Prefix:
    """op arg: −a, Σa."""

    op: Notation
    arg: Form


@dataclass(frozen=True)
class Call:
    """name(args); with `prime`, the derivative name′(args).  latex: the name in LaTeX
    (``\\sigma``); None writes ``\\operatorname{name}``."""

    name: str
    args: tuple[Form, ...]
    prime: bool = False
    latex: str | None = None


@dataclass(frozen=True)
class Transpose:
    """argᵀ."""

    arg: Form


@dataclass(frozen=True)
class Index:
    """arg[i, j]: `where` holds the indices as written."""

    arg: Form
    where: tuple[str, ...]


@dataclass(frozen=True)
class Scaled:
    """A number written before its operand: 2x, 2(yhat − y)."""

    factor: str
    arg: Form


@dataclass(frozen=True)
class Sup:
    """arg with a superscript written out: b²."""

    arg: Form
    exponent: str


@dataclass(frozen=True)
class Norm:
    """‖arg‖."""

    arg: Form


@dataclass(frozen=True)
class Stack:
    """[a, b, c]: a list."""

    items: tuple[Form, ...]


@dataclass(frozen=True)
class Unit:
    """e₃: the unit vector (or matrix row) at the indices `where`."""

    where: tuple[str, ...]


@dataclass(frozen=True)
class Scatter:
    """arg at [i, j], 0 elsewhere: an adjoint placed at one entry of a matrix."""

    arg: Form
    where: tuple[str, ...]


@dataclass(frozen=True)
class Terms:
    """a + b + c: the contributions an adjoint sums (two or more)."""

    items: tuple[Form, ...]


@dataclass(frozen=True)
class Operand:
    """arg written as one unit: a name or a call as it is, anything else in parentheses.  The
    operands of a rule's template are written so (``softmax(z) − onehot(2)``, ``(W·x)ᵀ``)."""

    arg: Form


Form: TypeAlias = (
    "Sym | One | Adjoint | Infix | Prefix | Call | Transpose | Index | Scaled | Sup | Norm | Stack | Unit"
    " | Scatter | Terms | Operand"
)

ZERO = Sym("0")
ONE = One()
ONES = One(tensor=True)


def children(form: Form) -> tuple[Form, ...]:
    """The operands of a record, in the order they are written."""
    if isinstance(form, Infix):
        return (form.left, form.right)
    if isinstance(form, (Prefix, Transpose, Index, Scaled, Sup, Norm, Scatter, Operand)):
        return (form.arg,)
    if isinstance(form, Call):
        return form.args
    if isinstance(form, Stack):
        return form.items
    if isinstance(form, Terms):
        return form.items
    return ()


# --------------------------------------------------------------------------- building, with the simplifications


def bare(form: Form) -> Form:
    """The form inside any Operand wrappers."""
    while isinstance(form, Operand):
        form = form.arg
    return form


_ATOM_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.′π𝟙")


def word(name: str) -> bool:
    """Whether a name is written as one token (letters, digits, _ . ′ π 𝟙): x1, 0.5, relu′."""
    return bool(name) and all(c in _ATOM_CHARS for c in name)


def is_one(form: Form) -> bool:
    """1 (the number, as a record or as a literal)."""
    form = bare(form)
    return (isinstance(form, One) and not form.tensor) or form == Sym("1")


def is_unit(form: Form) -> bool:
    """1 or 𝟙: an adjoint that scales nothing."""
    form = bare(form)
    return isinstance(form, One) or form == Sym("1")


def is_minus_one(form: Form) -> bool:
    form = bare(form)
    return isinstance(form, Prefix) and form.op.text == "−" and is_one(form.arg)


def is_number(form: Form, minus: bool = True) -> bool:
    """A number written out (2, 0.5, −1, π, e): a constant multiple, written before what it scales."""
    form = bare(form)
    if minus and isinstance(form, Prefix) and form.op.text == "−":
        form = bare(form.arg)
        return isinstance(form, Sym) and _digits(form.name)
    if isinstance(form, One):
        return not form.tensor
    return isinstance(form, Sym) and (_digits(form.name) or form.name in ("π", "e"))


def _digits(text: str) -> bool:
    return bool(text) and all(c in "0123456789." for c in text)


def _ends_transposed(form: Form) -> Form | None:
    """When form is written ending in ᵀ with nothing around it (xᵀ, 2xᵀ), the form without that ᵀ."""
    if isinstance(form, Operand):
        inner = _ends_transposed(form.arg)
        return None if inner is None else Operand(inner)
    if isinstance(form, Transpose):
        arg = bare(form.arg)
        if isinstance(arg, Sym) and word(arg.name):
            return arg
        if isinstance(arg, Index) and isinstance(bare(arg.arg), Sym) and word(bare(arg.arg).name):  # type: ignore[union-attr]
            return arg
        return None
    if isinstance(form, Scaled):
        inner = _ends_transposed(form.arg)
        return None if inner is None else Scaled(form.factor, inner)
    return None


def transpose(form: Form) -> Form:
    """formᵀ; the transpose of xᵀ is x."""
    undone = _ends_transposed(form)
    return undone if undone is not None else Transpose(form)


def total(terms: list[Form]) -> Form:
    """The sum of contributions, without its zeros."""
    kept = [t for t in terms if t != ZERO]
    if not kept:
        return ZERO
    return kept[0] if len(kept) == 1 else Terms(tuple(kept))


def _unparenthesised(child: Form, demand: int) -> bool:
    """Whether an Infix operand is written without parentheses (its precedence meets the demand)."""
    return isinstance(child, Infix) and child.op.precedence >= demand


def without_leading_one(form: Form) -> Form | None:
    """1·X written first (the output's own adjoint times X): X; None when form does not start so.
    At the top, X loses its parentheses too: 1·(p − onehot(y)) is p − onehot(y)."""
    path: list[Infix] = []
    node = form
    while isinstance(node, Infix):
        if node.op.text == "·" and is_one(node.left):
            rest: Form = node.right
            if not path:
                return bare(rest)
            for parent in reversed(path):
                rest = Infix(parent.op, rest, parent.right)
            return rest
        if not _unparenthesised(node.left, node.op.operands[0]):
            return None
        path.append(node)
        node = node.left  # type: ignore[assignment]
    return None


def without_trailing_one(form: Form) -> Form | None:
    """X·1 written last: X; None when form does not end so."""
    path: list[Infix] = []
    node = form
    while isinstance(node, Infix):
        if node.op.text == "·" and is_one(node.right):
            rest: Form = node.left
            for parent in reversed(path):
                rest = Infix(parent.op, parent.left, rest)
            return rest
        if not _unparenthesised(node.right, node.op.operands[1]):
            return None
        path.append(node)
        node = node.right  # type: ignore[assignment]
    return None


def subscript(where: tuple[str, ...]) -> str:
    """e₃'s subscript: the indices in subscript digits, run together."""
    return "".join(_SUBSCRIPT.get(c, c) for c in "".join(where))


_SUBSCRIPT = dict(zip("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋", strict=True))
