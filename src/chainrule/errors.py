"""The one exception root, and the errors that derive from it.

Every error carries a message meant for a person.  Errors that concern a
place in the input carry the input and the position, so a renderer can echo
the line with a caret under the offending span.  Nothing here knows about
exit codes: ``cli.py`` maps error classes to them.
"""

from __future__ import annotations

import re
from enum import Enum

# What a terminal would obey rather than show: C0 controls (ESC, BEL, backspace, carriage return,
# tab, newline), DEL, C1 controls (CSI U+009B among them), and the bidirectional overrides,
# embeddings, isolates and marks that reorder the text around them.
CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """User text as a terminal should show it: every control character written as its escape
    (ESC as \\x1b, U+202E as \\u202e), everything else as it is, so an echo of what someone typed
    cannot move the cursor, ring, retitle the window or reorder the line."""
    return CONTROLS.sub(_escape, text)


def quoted(text: str, limit: int = 60, *, bare: bool = False) -> str:
    """User text for a message: repr(text), or the text itself (its controls escaped) when
    `bare`, cut to `limit` characters with "…", so no message repeats a 40 KB input."""
    if len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return visible(text) if bare else repr(text)


def _lines(text: str) -> str:
    """A message for a terminal: its own lines kept, any control character in them escaped."""
    return "\n".join(visible(line) for line in text.split("\n"))


class ChainruleError(Exception):
    """Root of every error chainrule raises on purpose."""

    kind = "error"

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        position: int | None = None,
        end: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.position = position
        self.end = end
        self.hint = hint

    def caret_lines(self) -> list[str]:
        """The input echoed, with a caret (and tildes) under the span.

        A long line is echoed as a window of at most 200 characters around the
        position, with "…" where it is cut; the underline of a span that goes
        on past the window ends at its edge, with "…".
        """
        if self.source is None or self.position is None:
            return []
        context, window = 60, 200  # characters of context on each side; the most echoed
        line_start = self.source.rfind("\n", 0, self.position) + 1
        line_end = self.source.find("\n", self.position)
        if line_end < 0:
            line_end = len(self.source)
        line = self.source[line_start:line_end]
        col = self.position - line_start
        width = 1
        if self.end is not None and self.end > self.position:
            width = min(self.end, line_end) - self.position
        lo = max(0, col - context)
        hi = min(len(line), col + max(width, 1) + context, lo + window)
        # Control characters are shown escaped, and the caret goes under the escape (\x1b is 4 wide).
        before, span = visible(line[lo:col]), visible(line[col:hi])
        shown = ("…" if lo > 0 else "") + before + span + ("…" if hi < len(line) else "")
        pad = len(before) + (1 if lo > 0 else 0)
        cut = col + width > hi  # the span goes on past the window
        width = max(1, len(visible(line[col : col + max(1, min(width, hi - col))])))
        return [shown, " " * pad + "^" + "~" * (width - 1) + ("…" if cut else "")]

    def describe(self) -> str:
        """The full human message: text, echoed input with caret, hint."""
        lines = [f"error: {_lines(self.message)}"]
        lines += ["  " + text for text in self.caret_lines()]
        if self.hint:
            lines.append(f"hint: {_lines(self.hint)}")
        return "\n".join(lines)


class InputError(ChainruleError):
    """The input cannot be read: syntax, unknown names, limits, usage."""

    kind = "parse"


class UsageError(InputError):
    """The options do not fit the expression (missing --wrt, bad --at)."""

    kind = "usage"


class ShapeError(InputError):
    """The shapes of vectors and matrices do not fit the operation (8×4 @ 8)."""

    kind = "shape"


class Reason(str, Enum):
    """Why the mathematics fails: the `reason` of a MathError, as JSON carries it."""

    undefined = "undefined"  # no value: division by zero, ln of 0, tan at π/2
    complex = "complex"  # the value is not a real number
    not_differentiable = "not-differentiable"  # a corner or a vertical tangent
    overflow = "overflow"  # beyond the range of doubles
    abstract = "abstract"  # f, g, h have no numeric value


class MathError(ChainruleError):
    """The mathematics fails at the point: undefined, complex, not differentiable."""

    kind = "math"

    def __init__(
        self,
        message: str,
        *,
        reason: Reason = Reason.undefined,
        source: str | None = None,
        position: int | None = None,
        end: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, source=source, position=position, end=end, hint=hint)
        self.reason = reason


class OutOfTime(ChainruleError):
    """A computation used up its time budget."""

    kind = "timeout"


class OutOfMemory(ChainruleError):
    """A computation needed more memory than its budget."""

    kind = "memory"


class FileError(InputError):
    """A file cannot be read or written: a missing folder, no permission, a full disk."""

    kind = "file"


class Interrupted(ChainruleError):
    """The person stopped the command: Ctrl-C (signal 2, SIGINT), or `signum`, the signal that did
    (SIGTERM, SIGHUP)."""

    kind = "interrupted"

    def __init__(self, message: str, *, signum: int = 2) -> None:
        super().__init__(message)
        self.signum = signum
