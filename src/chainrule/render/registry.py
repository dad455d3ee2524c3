"""The registry of views: (view, format) -> renderer.  Where every format lives.

A renderer is a pure function from a result (and the terminal's size and
colour, for the terminal views) to text.  A pair that is not here is a usage
error naming the formats the view does have: never a silent fallback.

Where the output cannot encode Unicode (``Terminal.ascii``) every renderer
writes ASCII (:mod:`chainrule.render.ascii`): JSON with ``\\uXXXX`` escapes, the
same document; every other format in ASCII notation (``x^2``, ``*``,
``sqrt``, ``sigma``, ``->``).

Renderers are named as ``module:function`` and imported when used, so that
``chainrule --help`` imports neither Rich nor SymPy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib import import_module
from typing import Any

from chainrule.errors import UsageError, quoted
from chainrule.render.ascii import json_ascii, to_ascii


@dataclass(frozen=True)
class Terminal:
    """What the terminal views need to know of where they are shown."""

    color: bool = False
    width: int = 100
    ascii: bool = False  # the output cannot encode Unicode: write ASCII forms and JSON escapes
    full: bool = False  # every row of a large result, not a summary (--full)


Renderer = Callable[[Any, Terminal], str]

# view -> format -> "module:function"
VIEWS: dict[str, dict[str, str]] = {
    "diff": {
        "text": "text_view:render",
        "explain": "explain_view:render",
        "json": "json_view:render",
        "latex": "latex_view:latex",
        "latex-document": "latex_view:latex_document",
        "html": "html_view:diff_page",
        "markdown": "latex_view:markdown",
    },
    "diff --view sensitivity": {
        "text": "sensitivity_view:render",
        "json": "json_view:render",  # the diff document carries the sensitivity chart
    },
    "grad": {
        "text": "grad_views:render_text",
        "explain": "grad_views:render_explain",
        "json": "grad_views:render_json",
        "latex": "grad_views:render_latex",
        "latex-document": "grad_views:render_latex_document",
        "html": "html_view:grad_page",
        "markdown": "grad_views:render_markdown",
        "mermaid": "graph_view:mermaid",  # the graph, as chainrule graph draws it
        "dot": "graph_view:dot",
    },
    "grad --view sensitivity": {
        "text": "sensitivity_view:render_grad",
        "json": "sensitivity_view:render_grad_json",  # the grad document, with the sensitivity chart
    },
    "grad tensor --view sensitivity": {  # the same views: one renderer for both engines
        "text": "sensitivity_view:render_grad",
        "json": "sensitivity_view:render_grad_json",
    },
    "grad tensor": {  # grad on vectors and matrices
        "text": "tensor_views:render_text",
        "explain": "tensor_views:render_explain",
        "json": "tensor_views:render_json",
        "latex": "tensor_views:render_latex",
        "latex-document": "tensor_views:render_latex_document",
        "html": "html_view:grad_page",  # the same page as on numbers
        "markdown": "tensor_views:render_markdown",
        "mermaid": "tensor_views:mermaid",
        "dot": "tensor_views:dot",
    },
    "graph": {
        "mermaid": "graph_view:mermaid",
        "dot": "graph_view:dot",
        "json": "graph_view:render_json",
    },
    "graph tensor": {
        "mermaid": "tensor_views:mermaid",
        "dot": "tensor_views:dot",
        "json": "tensor_views:graph_json",
    },
    "check": {
        "text": "check_view:render_text",
        "json": "check_view:render_json",
        "latex": "check_view:render_latex",
        "latex-document": "check_view:render_latex_document",
        "html": "html_view:check_page",
        "markdown": "check_view:render_markdown",
    },
}

# the views that use the terminal's size and colour
# How a message names a view that is not a command as typed.
SHOWN = {
    "grad tensor": "grad on vectors and matrices",
    "graph tensor": "graph on vectors and matrices",
    "grad tensor --view sensitivity": "grad --view sensitivity on vectors and matrices",
}
TERMINAL = {"text_view:render", "grad_views:render_text", "tensor_views:render_text"}
# the views that lay out charts by the terminal's width (besides the terminal views)
SIZED = {"explain_view:render", "sensitivity_view:render", "sensitivity_view:render_grad"}
SUMMARIZING = {
    "grad_views:render_text",
    "grad_views:render_explain",
    "tensor_views:render_text",
    "tensor_views:render_explain",
}  # views that summarize a large result
# the views fitted to the terminal's width (registry.reflow): lessons, and the lines around tables
REFLOWED = {
    "explain_view:render",
    "grad_views:render_explain",
    "tensor_views:render_explain",
    "check_view:render_text",
    "sensitivity_view:render",
    "sensitivity_view:render_grad",
    *TERMINAL,
}
COLUMNS = {"text", "explain"}  # formats laid out in columns, which their ASCII forms keep aligned


def formats(view: str) -> tuple[str, ...]:
    return tuple(VIEWS[view])


def renderer(view: str, format_: str) -> Renderer:
    """The renderer for a view in a format; a UsageError when there is none."""
    table = VIEWS[view]
    name = table.get(format_)
    if name is None:
        shown = SHOWN.get(view, view)
        raise UsageError(
            f"{shown} has no {quoted(format_)} format",
            hint=f"{shown} writes: {', '.join(table)}",
        )
    module_name, function_name = name.split(":")
    function = getattr(import_module(f"chainrule.render.{module_name}"), function_name)

    def draw(result: Any, terminal: Terminal) -> str:
        options: dict[str, Any] = {}
        if name in TERMINAL:
            options.update(color=terminal.color, width=terminal.width)
        elif name in SIZED:
            options.update(width=terminal.width)
        if name in SUMMARIZING:
            options.update(full=terminal.full)
        return str(function(result, **options))

    spell = json_ascii if format_ == "json" else partial(to_ascii, columns=format_ in COLUMNS)

    def render(result: Any, terminal: Terminal) -> str:
        text = draw(result, terminal)
        if terminal.ascii:
            text = spell(text)
        # after the spelling: sigma and x^2 take more columns than σ and x²
        return reflow(text, terminal.width) if name in REFLOWED else text

    return render


_STYLE = re.compile(r"\x1b\[[0-9;]*m")  # the colours of a terminal view take no columns
_LABEL = re.compile(r"(\S+(?: \S+)?)( {2,})(?=\S)")  # "product  …", "local derivative  …": a row's title


def _columns(text: str) -> int:
    return len(_STYLE.sub("", text))


def reflow(text: str, width: int) -> str:
    """Lines fitted to the terminal: a line longer than `width` is wrapped at spaces (never inside a
    word or a number: a word longer than the whole width stands alone on its line), its
    continuation indented under its own text (under the text after a row's title, such as
    "product  "); shorter lines, such as the rows of a table, stay as they are."""
    lines = []
    for line in text.split("\n"):
        lines += [line] if _columns(line) <= width else _wrapped(line, width)
    return "\n".join(lines)


def _bound(pieces: list[str], width: int) -> list[str]:
    """Words, with a short equation such as "x = 1" or "h = 0.001" kept as one: a line never
    breaks between a name and its value."""
    out = pieces[:1]
    k = 1
    while k < len(pieces):
        if (
            k + 3 < len(pieces)
            and pieces[k + 1] == "="
            and len(out[-1]) <= 12
            and len(pieces[k + 3].rstrip(",.;)")) <= 16
            and pieces[k] == pieces[k + 2] == " "
            and len(out[-1]) + 3 + len(pieces[k + 3]) <= width // 2
        ):
            out[-1] += " = " + pieces[k + 3]
            k += 4
            continue
        out += pieces[k : k + 2]
        k += 2
    return out


def _wrapped(line: str, width: int) -> list[str]:
    plain = _STYLE.sub("", line)
    indent = len(plain) - len(plain.lstrip(" "))
    label = _LABEL.match(plain) if indent == 0 else None
    hang = label.end() if label else indent if indent <= 3 else indent + 2  # prose, or under a row's text
    if hang > width // 3:  # a narrow terminal: the continuation gets most of the line
        hang = min(indent + 2, width // 3)
    pieces = _bound(re.split("( +)", line), width)  # word, spaces, word, …
    out: list[str] = []
    current = pieces[0]
    for k in range(1, len(pieces), 2):
        space, word = pieces[k], pieces[k + 1]
        if not _STYLE.sub("", current).strip() or _columns(current) + len(space) + _columns(word) <= width:
            current += space + word
        else:
            out.append(current)
            # under the text when the word fits there, else as far right as it fits (a word wider
            # than the whole width stands alone at the left)
            current = " " * max(0, min(hang, width - _columns(word))) + word
    out.append(current.rstrip(" "))
    return out
