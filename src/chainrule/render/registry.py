"""The registry of views: (view, format) -> renderer.  Where every format lives.

A renderer is a pure function from a result (and the terminal's size and
colour, for the terminal views) to text.  A pair that is not here is a usage
error naming the formats the view does have: never a silent fallback.

Where the output cannot encode Unicode (``Terminal.ascii``) every renderer
writes ASCII (:mod:`chainrule.render.ascii`): JSON with ``\\uXXXX`` escapes, the
same document; every other format in ASCII notation (``x^2``, ``*``,
``sqrt``, ``sigma``, ``->``).

Each renderer is a record (:class:`View`): the command, the format, the function
and how it is laid out.  The functions are imported when first used (:class:`Lazy`),
so that ``chainrule --help`` imports neither Rich nor SymPy.  Adding a format is
one view file and one record; :meth:`Registry.with_view` makes a registry with one
more, which is how the tests add one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from importlib import import_module
from types import MappingProxyType
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


class Lazy:
    """A view function imported when it is first called, so that ``chainrule --help`` imports
    neither Rich nor SymPy: ``Lazy("text_view", "render")`` is chainrule.render.text_view.render."""

    def __init__(self, module: str, function: str) -> None:
        self.module = module
        self.function = function
        self._loaded: Callable[..., str] | None = None

    def __call__(self, result: Any, **options: Any) -> str:
        if self._loaded is None:
            self._loaded = getattr(import_module(f"chainrule.render.{self.module}"), self.function)
        return str(self._loaded(result, **options))

    def __repr__(self) -> str:
        return f"Lazy({self.module!r}, {self.function!r})"


@dataclass(frozen=True)
class View:
    """One renderer of one command's result in one format, and how it is laid out."""

    command: str  # "diff", "grad", "grad tensor" (grad on vectors and matrices), "diff --view sensitivity", …
    format: str  # "text", "json", "latex", …
    render: Callable[..., str]  # result (and the options below) -> text
    terminal: bool = False  # takes the terminal's colour and width (a Rich view)
    sized: bool = False  # takes the terminal's width (charts laid out by it)
    summarizing: bool = False  # takes --full: a large result is summarized unless asked for in full
    reflowed: bool = False  # its lines are fitted to the terminal's width (reflow)


@dataclass(frozen=True)
class Registry:
    """Every (command, format) pair there is, and its renderer.  A pair that is not here is a
    usage error naming the formats the command does have."""

    views: tuple[View, ...]
    names: Mapping[str, str] = field(default_factory=dict)  # how a message names a command not as typed

    def __post_init__(self) -> None:
        pairs = [(v.command, v.format) for v in self.views]
        if len(pairs) != len(set(pairs)):
            raise ValueError("a (command, format) pair is registered twice")

    def with_view(self, view: View) -> Registry:
        """A registry with one more view (a new format, say): the registry itself is not changed."""
        return Registry((*self.views, view), self.names)

    def commands(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.command for v in self.views))

    def formats(self, command: str) -> tuple[str, ...]:
        return tuple(v.format for v in self.views if v.command == command)

    def find(self, command: str, format_: str) -> View | None:
        return next((v for v in self.views if v.command == command and v.format == format_), None)

    def renderer(self, command: str, format_: str) -> Renderer:
        """The renderer for a command's result in a format; a UsageError when there is none."""
        view = self.find(command, format_)
        if view is None:
            shown = self.names.get(command, command)
            raise UsageError(
                f"{shown} has no {quoted(format_)} format",
                hint=f"{shown} writes: {', '.join(self.formats(command))}",
            )
        return partial(_render, view)


def _render(view: View, result: Any, terminal: Terminal) -> str:
    options: dict[str, Any] = {}
    if view.terminal:
        options.update(color=terminal.color, width=terminal.width)
    elif view.sized:
        options.update(width=terminal.width)
    if view.summarizing:
        options.update(full=terminal.full)
    text = view.render(result, **options)
    if terminal.ascii:
        text = json_ascii(text) if view.format == "json" else to_ascii(text, columns=view.format in COLUMNS)
    # after the spelling: sigma and x^2 take more columns than σ and x²
    return reflow(text, terminal.width) if view.reflowed else text


COLUMNS = {"text", "explain"}  # formats laid out in columns, which their ASCII forms keep aligned


def _views() -> tuple[View, ...]:
    """The table: one record per (command, format)."""
    text_view = View("diff", "text", Lazy("text_view", "render"), terminal=True, reflowed=True)
    explain = View("diff", "explain", Lazy("explain_view", "render"), sized=True, reflowed=True)
    grad_text = Lazy("grad_views", "render_text")
    grad_explain = Lazy("grad_views", "render_explain")
    tensor_text = Lazy("tensor_views", "render_text")
    tensor_explain = Lazy("tensor_views", "render_explain")
    sensitivity = Lazy("sensitivity_view", "render_grad")
    sensitivity_json = Lazy("sensitivity_view", "render_grad_json")  # the grad document, with the chart
    return (
        text_view,
        explain,
        View("diff", "json", Lazy("json_view", "render")),
        View("diff", "latex", Lazy("latex_view", "latex")),
        View("diff", "latex-document", Lazy("latex_view", "latex_document")),
        View("diff", "html", Lazy("html_view", "diff_page")),
        View("diff", "markdown", Lazy("latex_view", "markdown")),
        View("diff --view sensitivity", "text", Lazy("sensitivity_view", "render"), sized=True, reflowed=True),
        # the diff document carries the sensitivity chart
        View("diff --view sensitivity", "json", Lazy("json_view", "render")),
        View("grad", "text", grad_text, terminal=True, summarizing=True, reflowed=True),
        View("grad", "explain", grad_explain, summarizing=True, reflowed=True),
        View("grad", "json", Lazy("grad_views", "render_json")),
        View("grad", "latex", Lazy("grad_views", "render_latex")),
        View("grad", "latex-document", Lazy("grad_views", "render_latex_document")),
        View("grad", "html", Lazy("html_view", "grad_page")),
        View("grad", "markdown", Lazy("grad_views", "render_markdown")),
        View("grad", "mermaid", Lazy("graph_view", "mermaid")),  # the graph, as chainrule graph draws it
        View("grad", "dot", Lazy("graph_view", "dot")),
        # one renderer of the sensitivity view for both engines
        View("grad --view sensitivity", "text", sensitivity, sized=True, reflowed=True),
        View("grad --view sensitivity", "json", sensitivity_json),
        View("grad tensor --view sensitivity", "text", sensitivity, sized=True, reflowed=True),
        View("grad tensor --view sensitivity", "json", sensitivity_json),
        View("grad tensor", "text", tensor_text, terminal=True, summarizing=True, reflowed=True),
        View("grad tensor", "explain", tensor_explain, summarizing=True, reflowed=True),
        View("grad tensor", "json", Lazy("tensor_views", "render_json")),
        View("grad tensor", "latex", Lazy("tensor_views", "render_latex")),
        View("grad tensor", "latex-document", Lazy("tensor_views", "render_latex_document")),
        View("grad tensor", "html", Lazy("html_view", "grad_page")),  # the same page as on numbers
        View("grad tensor", "markdown", Lazy("tensor_views", "render_markdown")),
        View("grad tensor", "mermaid", Lazy("tensor_views", "mermaid")),
        View("grad tensor", "dot", Lazy("tensor_views", "dot")),
        View("graph", "mermaid", Lazy("graph_view", "mermaid")),
        View("graph", "dot", Lazy("graph_view", "dot")),
        View("graph", "json", Lazy("graph_view", "render_json")),
        View("graph tensor", "mermaid", Lazy("tensor_views", "mermaid")),
        View("graph tensor", "dot", Lazy("tensor_views", "dot")),
        View("graph tensor", "json", Lazy("tensor_views", "graph_json")),
        View("check", "text", Lazy("check_view", "render_text"), reflowed=True),
        View("check", "json", Lazy("check_view", "render_json")),
        View("check", "latex", Lazy("check_view", "render_latex")),
        View("check", "latex-document", Lazy("check_view", "render_latex_document")),
        View("check", "html", Lazy("html_view", "check_page")),
        View("check", "markdown", Lazy("check_view", "render_markdown")),
    )


REGISTRY = Registry(
    _views(),
    {
        "grad tensor": "grad on vectors and matrices",
        "graph tensor": "graph on vectors and matrices",
        "grad tensor --view sensitivity": "grad --view sensitivity on vectors and matrices",
    },
)
# command -> its formats, for callers that only ask which formats there are
VIEWS: Mapping[str, tuple[str, ...]] = MappingProxyType({c: REGISTRY.formats(c) for c in REGISTRY.commands()})


def formats(view: str) -> tuple[str, ...]:
    return REGISTRY.formats(view)


def renderer(view: str, format_: str) -> Renderer:
    """The default registry's renderer for a view in a format; a UsageError when there is none."""
    return REGISTRY.renderer(view, format_)


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
