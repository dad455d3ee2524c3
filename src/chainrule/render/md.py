"""Markdown that renders as meant (GitHub's flavour): code spans, text and tables.

A `|` inside a table cell ends the cell even within backticks unless it is escaped, and
`*`, `_`, `[`, `<` start emphasis, links and HTML in text.  Every Markdown view writes its
prose through :func:`text`, its formulas through :func:`code`, and its tables through
:func:`table`, which escapes every `|` of every cell, whatever made the cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from chainrule.errors import visible

_SPECIAL = "\\`*_[]<>|#"


def code(text: str) -> str:
    """`text` as a code span, with enough backticks around it that a backtick inside does not end
    it (in a table, :func:`table` escapes its pipes)."""
    text = visible(text.replace("\n", " "))
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def text(words: str) -> str:
    """Prose with Markdown's special characters escaped, so that x_1 * y_2 stays as typed (and
    control characters as their escapes); a line break as <br>."""
    words = "\n".join(visible(line) for line in words.split("\n"))
    for ch in _SPECIAL:
        words = words.replace(ch, "\\" + ch)
    return words.replace("\n", "<br>")


_BARE_PIPE = re.compile(r"(?<!\\)\|")  # a pipe that no backslash escapes yet


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """The lines of a GFM table.  Every `|` inside a cell is escaped as \\|, code spans included
    (GFM splits the row at a bare pipe before it reads code, and reads \\| as | there; outside
    a table a backslash in code would stay a backslash, so only a table escapes them)."""
    return [row(header), "|" + "---|" * len(header), *(row(cells) for cells in rows)]


def row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(_BARE_PIPE.sub(r"\\|", cell) for cell in cells) + " |"
