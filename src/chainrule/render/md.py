"""Markdown that renders as meant (GitHub's flavour): code spans and text safe inside tables.

A `|` inside a table cell ends the cell even within backticks unless it is escaped, and
`*`, `_`, `[`, `<` start emphasis, links and HTML in text.  Every Markdown view writes its
cells and prose through these two functions.
"""

from __future__ import annotations

from chainrule.errors import visible

_SPECIAL = "\\`*_[]<>|#"


def code(text: str, cell: bool = False) -> str:
    """`text` as a code span, with enough backticks around it that a backtick inside does not end
    it; in a table `cell`, a pipe escaped (GFM reads \\| there as |, even in code; elsewhere a
    backslash in code is a backslash)."""
    text = visible(text.replace("\n", " "))
    if cell:
        text = text.replace("|", "\\|")
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
