"""LaTeX and Markdown: a derivation ready for a paper or for notes."""

from __future__ import annotations

from typing import Any

from chainrule.derive import Derivation
from chainrule.errors import visible
from chainrule.printing import GREEK_LETTERS, form, pretty, symbol_tex
from chainrule.printing import latex as latex_text
from chainrule.render import md
from chainrule.render.common import (
    derivative_number,
    function_text,
    limit_sentence,
    num,
    point_text,
    product,
    ratio,
    reference_text,
)
from chainrule.render.higher_view import lines as higher_lines


def _tex(expr: Any) -> str:

    return latex_text(expr)


def _frac(top: str, bottom: str, partial: bool) -> str:
    d = r"\partial " if partial else "d"
    return rf"\frac{{{d}{name_tex(top)}}}{{{d}{name_tex(bottom)}}}"


def name_tex(name: str) -> str:
    """A name in LaTeX, as SymPy's printer writes it in the formulas (printing.symbol_tex)."""
    return symbol_tex(name)


def latex(d: Derivation) -> str:
    """A fragment for a document with amsmath: the layers, local derivatives, product, value and
    higher orders in a display (\\[ … \\]), then the notes, the limit and the check as paragraphs."""
    return display(aligned(d)) + paragraphs(d.notes, _closing(d))


def display(body: str) -> str:
    """An aligned block as displayed mathematics, ready to paste into a document."""
    return "\\[\n" + body + "\\]\n"


def paragraphs(notes: tuple[str, ...], sentences: list[str]) -> str:
    """The prose after a display: each note, then each sentence, as LaTeX text."""
    lines = [rf"\noindent Note: {tex_text(note)}\par" for note in notes]
    lines += [rf"\noindent {sentence}\par" for sentence in sentences]
    return "".join(line + "\n" for line in lines)


def _closing(d: Derivation) -> list[str]:
    """The limit and the check, as LaTeX sentences."""
    sentences = []
    if (sentence := limit_sentence(d)) is not None:
        sentences.append(tex_text(sentence[0].upper() + sentence[1:] + "."))
    if d.check is not None and d.check.value is not None:
        verdict = "agrees" if d.check.agrees else "disagrees"
        text = (
            f"Check: the nudge h = {d.check.nudge.h:g} gives {num(d.check.nudge.value)}"
            + (f" ({d.check.nudge.gap})" if d.check.nudge.close is False and d.check.nudge.gap else "")
            + "; "
            f"{d.check.method}: {reference_text(d.check)} ({verdict})"
            + (f"; {d.check.note}" if d.check.note else "")
            + "."
        )
        sentences.append(tex_text(text))
    return sentences


def aligned(d: Derivation) -> str:
    """An aligned block: layers, local derivatives, the product, the value, the higher orders."""
    rows = []
    for layer, built in zip(d.layers, d.graph.layers, strict=True):
        for k, local in enumerate(layer.locals):
            lhs = f"{name_tex(layer.name)} &= {_tex(built.expression)}" if k == 0 else "&"
            frac = _frac(layer.name, local.wrt, len(layer.inputs) > 1)
            shown = local.value is not None and not local.expression.is_number
            value = rf" = {num(local.value)}" if shown else ""
            rows.append(rf"{lhs} & {frac} &= {_tex(local.expression)}{value} && \text{{{tex_text(local.rule)}}}")
    total = _frac(d.output, d.variable, False)
    if d.paths is not None and d.paths:
        terms = [r" \cdot ".join(_tex(d.layers[li].locals[k].expression) for li, k in path.steps) for path in d.paths]
        rows.append(rf"{total} &= {' + '.join(terms)}")
    if d.derivative is not None:
        rows.append(rf"&= {_tex(d.derivative)}")
    if d.point is not None and d.derivative_value is not None:
        at = ", ".join(f"{name_tex(k)}={num(v)}" for k, v in d.point.items())
        rows.append(rf"\left.{total}\right|_{{{at}}} &= {number_tex(derivative_number(d))}")
    for o in d.orders[1:]:
        lhs = rf"\frac{{d^{{{o.order}}}{name_tex(d.output)}}}{{d{name_tex(d.variable)}^{{{o.order}}}}}"
        formula = _tex(o.layered) if o.layered is not None else r"\text{(too large to show)}"
        rows.append(rf"{lhs} &= {formula}")
        if o.expanded is not None:
            rows.append(rf"&= {_tex(o.expanded)}")
        if o.value is not None:
            rows.append(rf"&= {number_tex(num(o.value))}")
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}\n"


GRAPH_LAYERS = 60  # beyond this, Markdown leaves out the Mermaid graph


def tex_text(sentence: str) -> str:
    """Prose for \\text{…}: LaTeX's special characters escaped (control characters as their escapes)."""
    sentence = visible(sentence)
    for char, escaped in (("\\", r"\textbackslash{}"), ("{", r"\{"), ("}", r"\}"), ("_", r"\_"), ("%", r"\%"),
                          ("&", r"\&"), ("#", r"\#"), ("$", r"\$"), ("^", r"\ensuremath{{}^\wedge}")):  # fmt: skip
        sentence = sentence.replace(char, escaped)
    for char, escaped in _UNICODE.items():  # the lessons' typography, which a TeX engine may lack
        sentence = sentence.replace(char, escaped)
    if not sentence.isascii():  # anything else: named, never a character pdflatex would refuse
        sentence = "".join(ch if ch.isascii() else f"(U+{ord(ch):04X})" for ch in sentence)
    return sentence


_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-", strict=True))
_UNICODE = {
    "−": "-",
    "·": r"\ensuremath{\cdot}",
    "′": "'",
    "√": r"\ensuremath{\surd}",
    "σ": r"\ensuremath{\sigma}",
    "π": r"\ensuremath{\pi}",
    "|": r"\ensuremath{|}",
    "∛": r"\ensuremath{\sqrt[3]{\,}}",
    "±": r"\ensuremath{\pm}",
    "≥": r"\ensuremath{\geq}",
    "≤": r"\ensuremath{\leq}",
    "≈": r"\ensuremath{\approx}",
    "→": r"\ensuremath{\to}",
    **{char: rf"\textsuperscript{{{digit}}}" for char, digit in _SUPERSCRIPTS.items()},
    **{char: rf"\textsubscript{{{digit}}}" for char, digit in zip("₀₁₂₃₄₅₆₇₈₉", "0123456789", strict=True)},
    **{char: rf"\ensuremath{{\{name}}}" for char, name in GREEK_LETTERS.items() if char not in "σπ"},
    "∂": r"\ensuremath{\partial}",
    "∇": r"\ensuremath{\nabla}",
    "×": r"\ensuremath{\times}",
    "∞": r"\ensuremath{\infty}",
    "≠": r"\ensuremath{\neq}",
    "⊙": r"\ensuremath{\odot}",
    "⊘": r"\ensuremath{\oslash}",
    "‖": r"\ensuremath{\|}",
    "ᵀ": r"\ensuremath{^{\top}}",
    "𝟙": r"\ensuremath{\mathbf{1}}",
    "°": r"\ensuremath{^{\circ}}",
    "✓": r"\ensuremath{\checkmark}",
    "✗": "x",
    "…": r"\ldots{}",
    "—": "---",
    "–": "--",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
    "″": "''",
    "ŷ": r"\ensuremath{\hat{y}}",
}


def number_tex(text: str) -> str:
    """4.3e-649 as 4.3 \\times 10^{-649}."""
    mantissa, e, exponent = text.partition("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}" if e else text


def markdown(d: Derivation) -> str:
    """The layers table, the steps, and the graph as Mermaid."""
    at = d.point is not None
    out = [
        f"### d{d.output}/d{d.variable} of {md.code(function_text(d, 'pretty'))}"
        + (f" at {md.text(point_text(d))}" if at else ""),
        "",
        *(f"*Note: {md.text(note)}*\n" for note in d.notes),
    ]
    rows = []
    for layer in d.layers:
        for k, local in enumerate(layer.locals):
            cells = [
                layer.name if k == 0 else "",
                md.code(form(d.graph.dag, layer.ops, d.graph.names, "pretty")) if k == 0 else "",
                md.code(f"{ratio(layer, local)} = {pretty(local.expression)}"),
                md.text(local.rule),
            ]
            if at:
                cells += [num(layer.value, 6) if k == 0 else "", num(local.value, 6)]
            rows.append(cells)
    header = ["layer", "expression", "local derivative", "rule"] + (["value", "factor"] if at else [])
    out += md.table(header, rows)
    out.append("")
    prod = product(d, "pretty")
    if prod is not None:
        out.append(
            f"**Product.** {md.code(f'd{d.output}/d{d.variable} = {prod}')}"
            + (f" {md.code(f'= {pretty(d.derivative)}')}" if d.derivative is not None else "")
        )
    if at:
        out.append("")
        out.append(
            f"**Value.** {md.code(f'd{d.output}/d{d.variable} = {derivative_number(d)}')} at {md.text(point_text(d))}"
        )
        if d.check is not None and d.check.value is not None:
            verdict = "agrees" if d.check.agrees else "disagrees"
            out.append("")
            out.append(
                f"**Check.** nudge h = {d.check.nudge.h:g}: {num(d.check.nudge.value)}"
                + (f" ({md.text(d.check.nudge.gap)})" if d.check.nudge.close is False and d.check.nudge.gap else "")
                + "; "
                + md.text(f"{d.check.method}: {reference_text(d.check)} ({verdict})")
                + (f"; {md.text(d.check.note)}" if d.check.note else "")
            )
    if (sentence := limit_sentence(d)) is not None:
        out += ["", f"**Limit.** {md.text(sentence[0].upper() + sentence[1:])}."]
    if d.orders:
        out += ["", "**Higher orders.**", "", "```text", *higher_lines(d, d.orders), "```"]
    if len(d.layers) <= GRAPH_LAYERS:
        out += ["", "```mermaid", _mermaid(d).rstrip(), "```", ""]
    else:
        out += ["", f"(The graph is left out: {len(d.layers):,} layers are too many to draw.)", ""]
    return "\n".join(out)


def _mermaid(d: Derivation) -> str:
    from chainrule.render.graph_view import mermaid

    return mermaid(d)


def document(body: str, title: str) -> str:
    """A whole LaTeX document around a fragment (--latex-document): pdflatex compiles it as it is."""
    return (
        "\\documentclass{article}\n"
        "\\usepackage{amsmath,amssymb}\n"
        "\\allowdisplaybreaks\n"
        "\\begin{document}\n"
        f"\\section*{{{tex_text(title)}}}\n"
        f"{body}"
        "\\end{document}\n"
    )


def latex_document(d: Derivation) -> str:
    return document(latex(d), f"The chain rule for {function_text(d, 'pretty')}")
