"""Printers of formula trees (:mod:`chainrule.tensor_forms`): text, LaTeX, Markdown and MathML.

:func:`render` is the entry point: ``render(form, "latex")``.  Every printer chooses the
parentheses itself, from each operator's precedence and what its operands need
(:class:`~chainrule.tensor_forms.Notation`, which the rule tables hold); nothing is re-read
from printed text.  A tree is walked with an explicit stack, once per distinct node, so a
formula as deep as the program costs no Python recursion, and a shared operand is printed once.

The text is the lessons' notation (``(W2ᵀ·2(yhat − y) ⊙ relu′(W1·x + b1))·xᵀ``); :func:`text`
with a limit gives None for a formula longer than that, measured before any text is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from xml.sax.saxutils import escape

from chainrule.printing import symbol_tex
from chainrule.render import md
from chainrule.tensor_forms import (
    ATOM,
    Adjoint,
    Call,
    Form,
    Index,
    Infix,
    Norm,
    One,
    Operand,
    Prefix,
    Scaled,
    Scatter,
    Stack,
    Sup,
    Sym,
    Terms,
    Transpose,
    Unit,
    bare,
    children,
    subscript,
    word,
)

FORMATS = ("text", "latex", "markdown", "mathml")

R = TypeVar("R")


def _fold(form: Form, combine: Callable[[Form, list[R], dict[int, R]], R]) -> R:
    """combine(node, its operands' results, all results so far) for every node, operands first,
    without recursion; a node met twice (a shared operand) is combined once."""
    memo: dict[int, R] = {}
    stack: list[tuple[Form, bool]] = [(form, False)]
    while stack:
        node, ready = stack.pop()
        key = id(node)
        if key in memo:
            continue
        kids = children(node)
        if ready or not kids:
            memo[key] = combine(node, [memo[id(c)] for c in kids], memo)
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in reversed(kids) if id(c) not in memo)
    return memo[id(form)]


# --------------------------------------------------------------------------- text


@dataclass(frozen=True)
class _Piece:
    """A node's text (or only its length), its precedence, and what a postfix ᵀ or [i] needs to know:
    atom: written as one token (x, x[0], xᵀ, 2x); plain: a bare name or number; tee: ends in ᵀ;
    adjoint: ∂L/∂x, which a ᵀ after it would seem to belong to."""

    text: str
    width: int
    level: int
    atom: bool = False
    plain: bool = False
    tee: bool = False
    adjoint: bool = False


def _text_combine(measure: bool) -> Callable[[Form, list[_Piece], dict[int, _Piece]], _Piece]:
    def join(parts: list[str | _Piece | tuple[_Piece, bool]]) -> tuple[str, int]:
        width = 0
        out: list[str] = []
        for part in parts:
            if isinstance(part, str):
                width += len(part)
                if not measure:
                    out.append(part)
                continue
            piece, paren = part if isinstance(part, tuple) else (part, False)
            width += piece.width + (2 if paren else 0)
            if not measure:
                out.append(f"({piece.text})" if paren else piece.text)
        return "".join(out), width

    def slot(piece: _Piece, demand: int) -> tuple[_Piece, bool]:
        return piece, piece.level < demand

    def listed(opening: str, kids: list[_Piece], closing: str, between: str = ", ") -> tuple[str, int]:
        """opening kid, kid, … closing: a call's arguments, a stack's entries, a sum's terms."""
        parts: list[str | _Piece | tuple[_Piece, bool]] = [opening]
        for k, kid in enumerate(kids):
            parts += [between, kid] if k else [kid]
        return join([*parts, closing])

    def combine(node: Form, kids: list[_Piece], memo: dict[int, _Piece]) -> _Piece:
        if isinstance(node, Sym):
            ok = word(node.name)
            return _Piece(node.name, len(node.name), ATOM if ok else 20, atom=ok, plain=ok)
        if isinstance(node, One):
            return _Piece("𝟙" if node.tensor else "1", 1, ATOM, atom=True, plain=True)
        if isinstance(node, Adjoint):
            t = f"∂{node.of}/∂{node.name}"
            return _Piece(t, len(t), ATOM, atom=node.of == "L" and word(node.name), adjoint=True)
        if isinstance(node, Infix):
            t, w = join([slot(kids[0], node.op.operands[0]), node.op.text, slot(kids[1], node.op.operands[1])])
            return _Piece(t, w, node.op.precedence)
        if isinstance(node, Prefix):
            t, w = join([node.op.text, slot(kids[0], node.op.operands[0])])
            return _Piece(t, w, node.op.precedence)
        if isinstance(node, Call):
            t, w = listed(node.name + ("′" if node.prime else "") + "(", kids, ")")
            return _Piece(t, w, ATOM if word(node.name) else 20)
        if isinstance(node, Transpose):
            child = kids[0]
            paren = child.adjoint or child.level < ATOM
            t, w = join([(child, paren), "ᵀ"])
            atom = not paren and child.atom and not child.tee and not child.adjoint
            return _Piece(t, w, ATOM if atom else 20, atom=atom, tee=True)
        if isinstance(node, Index):
            child, paren = slot(kids[0], ATOM)
            where = ", ".join(node.where)
            t, w = join([(child, paren), f"[{where}]"])
            atom = not paren and child.plain and all(i.isdigit() for i in node.where)
            return _Piece(t, w, ATOM if atom else 20, atom=atom)
        if isinstance(node, Scaled):
            child, paren = slot(kids[0], ATOM)
            t, w = join([node.factor, (child, paren)])
            ok = not paren and child.atom and not child.adjoint
            return _Piece(t, w, ATOM, atom=ok, plain=ok and child.plain, tee=ok and child.tee)
        if isinstance(node, Sup):
            t, w = join([slot(kids[0], ATOM), node.exponent])
            return _Piece(t, w, 20)
        if isinstance(node, Norm):
            t, w = join(["‖", kids[0], "‖"])
            return _Piece(t, w, 20)
        if isinstance(node, Stack):
            t, w = listed("[", kids, "]")
            return _Piece(t, w, 20)
        if isinstance(node, Unit):
            t = "e" + subscript(node.where)
            return _Piece(t, len(t), 20)
        if isinstance(node, Scatter):
            t, w = join([slot(kids[0], ATOM), f" at [{','.join(node.where)}], 0 elsewhere"])
            return _Piece(t, w, 20)
        if isinstance(node, Terms):
            t, w = listed("", kids, "", between=" + ")
            return _Piece(t, w, 10 if len(kids) > 1 else kids[0].level)
        if isinstance(node, Operand):
            child, paren = slot(kids[0], ATOM)
            t, w = join([(child, paren)])
            if paren:
                return _Piece(t, w, ATOM)
            return _Piece(t, w, ATOM, child.atom, child.plain, child.tee, child.adjoint)
        raise TypeError(f"not a formula: {node!r}")

    return combine


def width(form: Form) -> int:
    """The length of the formula's text, without building the text."""
    return _fold(form, _text_combine(measure=True)).width


def text(form: Form, limit: int | None = None) -> str | None:
    """The formula in the lessons' notation; None when it is longer than `limit`."""
    if limit is not None and width(form) > limit:
        return None
    return _fold(form, _text_combine(measure=False)).text


def plain_text(form: Form) -> str:
    """The formula's text, however long."""
    return _fold(form, _text_combine(measure=False)).text


# --------------------------------------------------------------------------- LaTeX


@dataclass(frozen=True)
class _Tex:
    tex: str
    level: int
    sup: bool = False  # ends in a superscript: braced before another one
    adjoint: bool = False


_SUPERSCRIPT_DIGITS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-", strict=True))


def name_tex(name: str) -> str:
    """A name or number in LaTeX: W1, x_1, π, 0.5."""
    if name == "π":
        return r"\pi"
    if name == "e" or all(c in "0123456789.-" for c in name):
        return name
    if name.replace("_", "").isalnum() and name.isascii() and name[0].isalpha():
        return symbol_tex(name)
    return r"\text{" + "".join(c for c in name if c.isascii() and c not in "\\{}$&#^_%~") + "}"


def _latex_combine(node: Form, kids: list[_Tex], memo: dict[int, _Tex]) -> _Tex:
    def slot(piece: _Tex, demand: int) -> str:
        return rf"\left({piece.tex}\right)" if piece.level < demand else piece.tex

    def base(piece: _Tex) -> str:
        if piece.adjoint or piece.level < ATOM:
            return rf"\left({piece.tex}\right)"
        return "{" + piece.tex + "}" if piece.sup else piece.tex

    def inner(k: int) -> str:
        """Operand k inside brackets of its own (a call's parentheses): no more parentheses."""
        child = children(node)[k]
        return memo[id(bare(child))].tex if isinstance(child, Operand) else kids[k].tex

    if isinstance(node, Sym):
        return _Tex(name_tex(node.name), ATOM if word(node.name) else 20)
    if isinstance(node, One):
        return _Tex(r"\mathbf{1}" if node.tensor else "1", ATOM)
    if isinstance(node, Adjoint):
        return _Tex(rf"\partial {name_tex(node.of)}/\partial {name_tex(node.name)}", ATOM, adjoint=True)
    if isinstance(node, Infix):
        if node.op.latex == "^":
            return _Tex(base(kids[0]) + "^{" + kids[1].tex + "}", node.op.precedence, sup=True)
        left, right = slot(kids[0], node.op.operands[0]), slot(kids[1], node.op.operands[1])
        return _Tex(f"{left} {node.op.latex} {right}", node.op.precedence)
    if isinstance(node, Prefix):
        return _Tex(f"{node.op.latex} {slot(kids[0], node.op.operands[0])}", node.op.precedence)
    if isinstance(node, Call):
        name = node.latex or r"\operatorname{" + node.name.replace("_", r"\_") + "}"
        args = ", ".join(inner(k) for k in range(len(kids)))
        return _Tex(name + ("'" if node.prime else "") + rf"\left({args}\right)", ATOM)
    if isinstance(node, Transpose):
        return _Tex(base(kids[0]) + r"^{\top}", ATOM, sup=True)
    if isinstance(node, Index):
        return _Tex(slot(kids[0], ATOM) + "[" + ", ".join(node.where) + "]", ATOM)
    if isinstance(node, Scaled):
        return _Tex(node.factor + slot(kids[0], ATOM), ATOM)
    if isinstance(node, Sup):
        exponent = "".join(_SUPERSCRIPT_DIGITS.get(c, c) for c in node.exponent)
        return _Tex(base(kids[0]) + "^{" + exponent + "}", 20, sup=True)
    if isinstance(node, Norm):
        return _Tex(r"\left\|" + inner(0) + r"\right\|", ATOM)
    if isinstance(node, Stack):
        return _Tex(r"\left[" + ", ".join(inner(k) for k in range(len(kids))) + r"\right]", ATOM)
    if isinstance(node, Unit):
        return _Tex("e_{" + ",".join(node.where) + "}", ATOM)
    if isinstance(node, Scatter):
        where = ", ".join(node.where)
        return _Tex(slot(kids[0], ATOM) + rf"\text{{ at }}[{where}]\text{{, 0 elsewhere}}", 20)
    if isinstance(node, Terms):
        return _Tex(" + ".join(k.tex for k in kids), 10)
    if isinstance(node, Operand):
        child = kids[0]
        return _Tex(slot(child, ATOM), ATOM, child.sup and child.level >= ATOM, child.adjoint)
    raise TypeError(f"not a formula: {node!r}")


def latex(form: Form) -> str:
    """The formula in LaTeX math (amsmath and amssymb): names as the scalar views write them,
    each function by its rule's LaTeX name or as \\operatorname."""
    return _fold(form, _latex_combine).tex


# --------------------------------------------------------------------------- MathML


@dataclass(frozen=True)
class _Ml:
    xml: str
    level: int
    adjoint: bool = False


def _mo(symbol: str) -> str:
    return f"<mo>{escape(symbol)}</mo>"


def _token(name: str) -> str:
    if all(c in "0123456789." for c in name):
        return f"<mn>{escape(name)}</mn>"
    return f"<mi>{escape(name)}</mi>"


def _mathml_combine(node: Form, kids: list[_Ml], memo: dict[int, _Ml]) -> _Ml:
    def group(xml: str) -> str:
        return f"<mrow>{_mo('(')}{xml}{_mo(')')}</mrow>"

    def slot(piece: _Ml, demand: int) -> str:
        return group(piece.xml) if piece.level < demand else piece.xml

    def inner(k: int) -> str:
        child = children(node)[k]
        return memo[id(bare(child))].xml if isinstance(child, Operand) else kids[k].xml

    def base(piece: _Ml) -> str:
        return group(piece.xml) if piece.adjoint or piece.level < ATOM else piece.xml

    if isinstance(node, Sym):
        return _Ml(_token(node.name), ATOM if word(node.name) else 20)
    if isinstance(node, One):
        return _Ml("<mi>𝟙</mi>" if node.tensor else "<mn>1</mn>", ATOM)
    if isinstance(node, Adjoint):
        xml = f"<mrow>{_mo('∂')}{_token(node.of)}{_mo('/')}{_mo('∂')}{_token(node.name)}</mrow>"
        return _Ml(xml, ATOM, adjoint=True)
    if isinstance(node, Infix):
        if node.op.latex == "^":
            return _Ml(f"<msup>{base(kids[0])}{kids[1].xml}</msup>", node.op.precedence)
        left, right = slot(kids[0], node.op.operands[0]), slot(kids[1], node.op.operands[1])
        return _Ml(f"<mrow>{left}{_mo(node.op.symbol)}{right}</mrow>", node.op.precedence)
    if isinstance(node, Prefix):
        return _Ml(f"<mrow>{_mo(node.op.symbol)}{slot(kids[0], node.op.operands[0])}</mrow>", node.op.precedence)
    if isinstance(node, Call):
        name = f"<mi>{escape(node.name)}</mi>" + (_mo("′") if node.prime else "")
        args = _mo(",").join(inner(k) for k in range(len(kids)))
        return _Ml(f"<mrow>{name}{_mo('(')}{args}{_mo(')')}</mrow>", ATOM)
    if isinstance(node, Transpose):
        return _Ml(f"<msup>{base(kids[0])}{_mo('⊤')}</msup>", ATOM)
    if isinstance(node, Index):
        where = _mo(",").join(_token(i) for i in node.where)
        return _Ml(f"<mrow>{slot(kids[0], ATOM)}{_mo('[')}{where}{_mo(']')}</mrow>", ATOM)
    if isinstance(node, Scaled):
        return _Ml(f"<mrow>{_token(node.factor)}{slot(kids[0], ATOM)}</mrow>", ATOM)
    if isinstance(node, Sup):
        exponent = "".join(_SUPERSCRIPT_DIGITS.get(c, c) for c in node.exponent)
        return _Ml(f"<msup>{base(kids[0])}{_token(exponent)}</msup>", 20)
    if isinstance(node, Norm):
        return _Ml(f"<mrow>{_mo('‖')}{inner(0)}{_mo('‖')}</mrow>", ATOM)
    if isinstance(node, Stack):
        items = _mo(",").join(inner(k) for k in range(len(kids)))
        return _Ml(f"<mrow>{_mo('[')}{items}{_mo(']')}</mrow>", ATOM)
    if isinstance(node, Unit):
        where = _mo(",").join(_token(i) for i in node.where)
        return _Ml(f"<msub><mi>e</mi><mrow>{where}</mrow></msub>", ATOM)
    if isinstance(node, Scatter):
        where = ", ".join(node.where)
        return _Ml(f"<mrow>{slot(kids[0], ATOM)}<mtext> at [{escape(where)}], 0 elsewhere</mtext></mrow>", 20)
    if isinstance(node, Terms):
        return _Ml("<mrow>" + _mo("+").join(k.xml for k in kids) + "</mrow>", 10)
    if isinstance(node, Operand):
        child = kids[0]
        return _Ml(slot(child, ATOM), ATOM, child.adjoint)
    raise TypeError(f"not a formula: {node!r}")


def mathml(form: Form) -> str:
    """The formula as a MathML <math> element (presentation markup: mi, mn, mo, msup, msub)."""
    body = _fold(form, _mathml_combine).xml
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML"><mrow>{body}</mrow></math>'


# --------------------------------------------------------------------------- Markdown, and the entry point


def markdown(form: Form) -> str:
    """The formula's text as Markdown prose: its special characters escaped."""
    return md.text(plain_text(form))


_PRINTERS: dict[str, Callable[[Form], str]] = {
    "text": plain_text,
    "latex": latex,
    "markdown": markdown,
    "mathml": mathml,
}


def render(form: Form, fmt: str) -> str:
    """The formula in one of FORMATS."""
    try:
        printer = _PRINTERS[fmt]
    except KeyError:
        raise ValueError(f"no formula printer for {fmt!r}; there are: {', '.join(FORMATS)}") from None
    return printer(form)
