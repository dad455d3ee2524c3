"""The one exception root, and the errors that derive from it.

Every error carries a message meant for a person.  Errors that concern a
place in the input carry the input and the position, so a renderer can echo
the line with a caret under the offending span.  Nothing here knows about
exit codes: ``cli.py`` maps error classes to them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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


class Concern(str, Enum):
    """The input an error is about, whatever an edge calls it: the CLI's --at, the API's at=."""

    point = "point"
    variables = "variables"
    shapes = "shapes"
    seed = "seed"
    granularity = "granularity"
    order = "order"
    grad = "grad"  # the gradient's command, which a refusal sends vectors and matrices to


@dataclass(frozen=True)
class Name:
    """How one edge names an input in its messages.  In a :class:`Phrase`, ``{point}`` is the
    name alone, and ``{point:x=1;y=2}`` an example of a value, written neutrally (name=value
    pairs separated by ';'; for the gradient's command, its program first): `example` writes it
    the edge's way (by default after the name)."""

    word: str
    example: Callable[[str], str] | None = None  # a module-level function, so that a Name pickles

    def __format__(self, spec: str) -> str:
        if not spec:
            return self.word
        if self.example is not None:
            return self.example(spec)
        return f"{self.word} " + ", ".join(spec.split(";"))


def pairs(spec: str) -> list[tuple[str, str]]:
    """The name=value pairs of an example (see :class:`Name`)."""
    return [(k.strip(), v.strip()) for k, _, v in (part.partition("=") for part in spec.split(";"))]


Words = Mapping[str, Name]


class Phrase:
    """A message that names inputs by their role ({point}, {variables}, {shapes}), so that each
    edge words it its own way.  User text goes in `args` ({0}, {1}), never in the template."""

    def __init__(self, template: str, *args: object) -> None:
        self.template = template
        self.args = args

    def worded(self, words: Words) -> str:
        return self.template.format(*self.args, **words)


# Below the edges an input is named by its concept; the CLI words it by its flags, the API by
# its keyword arguments (ChainruleError.word).
def _gradient_example(spec: str) -> str:
    program, _, point = spec.partition(";")
    return f"the gradient of {program} at {point}"


CONCEPTS: dict[str, Name] = {
    "point": Name("the point"),
    "variables": Name("the variables"),
    "shapes": Name("the shapes"),
    "seed": Name("the seed"),
    "granularity": Name("the granularity"),
    "order": Name("the order"),
    "grad": Name("the gradient", _gradient_example),
}


class ChainruleError(Exception):
    """Root of every error chainrule raises on purpose.

    A message or hint may be a :class:`Phrase`: it is worded by concept ("the point") until an
    edge words it by its own names (:meth:`word`); `concerns` says which input it is about."""

    kind = "error"

    def __init__(
        self,
        message: str | Phrase,
        *,
        source: str | None = None,
        position: int | None = None,
        end: int | None = None,
        hint: str | Phrase | None = None,
        concerns: Concern | None = None,
    ) -> None:
        self.phrases = (message, hint)
        self.concerns = concerns
        self.source = source
        self.position = position
        self.end = end
        self.message = ""
        self.hint: str | None = None
        self.word(CONCEPTS)

    def word(self, words: Words) -> None:
        """Word the message and the hint with an edge's names of the inputs (its flags, its
        keyword arguments); a name that `words` leaves out keeps its concept's."""
        names = {**CONCEPTS, **words}
        message, hint = self.phrases
        if isinstance(message, Phrase) or not self.message:
            self.message = message.worded(names) if isinstance(message, Phrase) else message
            self.args = (self.message,)
        if isinstance(hint, Phrase) or self.hint is None:
            self.hint = hint.worded(names) if isinstance(hint, Phrase) else hint

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
        hint: str | Phrase | None = None,
        concerns: Concern | None = None,
    ) -> None:
        super().__init__(message, source=source, position=position, end=end, hint=hint, concerns=concerns)
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

    def __init__(self, message: str | Phrase, *, signum: int = 2) -> None:
        super().__init__(message)
        self.signum = signum
