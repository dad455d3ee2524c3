"""Views of a graded answer: text for the student, JSON for tools.

A finding is shown under its teacher's title (the catalogue's, chainrule.mistakes); the JSON keeps
its kind, the stable key, beside it.  No view lists the layers, so no message names one (u1):
a layer is named by its formula."""

from __future__ import annotations

from typing import Any

from chainrule.errors import visible
from chainrule.grade import Grade
from chainrule.printing import latex, plain, pretty
from chainrule.render import md
from chainrule.render.documents import dumps, number
from chainrule.render.latex_view import tex_text

SCHEMA = "chainrule.check/1"
MARKS = {"correct": "✓ correct", "wrong": "✗ wrong", "undecided": "? undecided"}


def document(g: Grade) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "expression": g.expression,
        "answer": g.answer,
        "variable": g.variable,
        "verdict": g.verdict,
        "method": g.method,
        "seed": g.seed,
        "diagnosis": [
            {
                "kind": f.kind,
                "title": f.title,
                "message": f.message,
                "factor": f.factor,
                **({"layer": f.layer} if f.layer else {}),
                **({"formula": f.formula} if f.formula else {}),
                **({"value": number(f.value)} if f.value is not None else {}),
                **({"at": {name: number(v) for name, v in f.at.items()}} if f.at else {}),
            }
            for f in g.diagnosis
        ],
        "expected": plain(g.expected) if g.expected is not None else None,
        **({"notes": list(g.notes)} if g.notes else {}),
    }


def render_json(g: Grade) -> str:
    return dumps(document(g))


def render_text(g: Grade) -> str:
    lines = [f"d/d{g.variable} {visible(g.expression)}"]
    lines += [f"  note: {note}" for note in g.notes]
    lines.append(f"  your answer: {_answer(g)}")
    if g.expected is not None:
        lines.append(f"  the chain rule gives: {pretty(g.expected)}")
    mark = MARKS[g.verdict]
    lines.append(f"  verdict: {mark} (compared {g.method})")
    for f in g.diagnosis:
        lines.append("")
        lines.append(f"  {f.title}: {f.message}")
    return "\n".join(lines) + "\n"


def render_markdown(g: Grade) -> str:
    mark = MARKS[g.verdict]
    out = [f"### d/d{md.text(g.variable)} {md.code(visible(g.expression))}", ""]
    out += [f"*Note: {md.text(note)}*\n" for note in g.notes]
    out.append(f"- **Your answer:** {md.code(_answer(g))}")
    if g.expected is not None:
        out.append(f"- **The chain rule gives:** {md.code(pretty(g.expected))}")
    out.append(f"- **Verdict:** {mark} (compared {md.text(g.method)})")
    out += [f"- **{md.text(f.title)}:** {md.text(f.message)}" for f in g.diagnosis]
    return "\n".join(out) + "\n"


def render_latex(g: Grade) -> str:
    """The answer and the chain rule's derivative displayed, then the verdict and the diagnosis as prose."""
    from chainrule.render.latex_view import display, paragraphs

    answer = latex(g.answer_expression) if g.answer_expression is not None else rf"\text{{{tex_text(_answer(g))}}}"
    lines = [rf"\text{{your answer: }} & {answer}"]
    if g.expected is not None:
        lines.append(rf"\text{{the chain rule: }} & {latex(g.expected)}")
    verdict = [tex_text(f"Verdict: {g.verdict} (compared {g.method}).")]
    verdict += [rf"\textbf{{{tex_text(f.title)}:}} {tex_text(f.message)}" for f in g.diagnosis]
    return display("\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}\n") + paragraphs(g.notes, verdict)


def render_latex_document(g: Grade) -> str:
    from chainrule.render.latex_view import document

    return document(render_latex(g), f"Checking d/d{g.variable} of {visible(g.expression)}")


def _answer(g: Grade) -> str:
    """The student's answer as read, or as typed (its control characters escaped) when unread."""
    return pretty(g.answer_expression) if g.answer_expression is not None else visible(g.answer)
