"""``batch``: many expressions in one process, one NDJSON result per input line.

A line is either a JSON object ``{"expression": "...", "at": {"x": 0.5}, "wrt": "x"}``
or a plain expression that uses the shared ``--at`` and ``--wrt``.  Each result
is the ``diff`` JSON document with the line number added.

Every input line gets exactly one output line, in order, whatever it holds:
a bad line (not UTF-8, too long, bad JSON, an error in the mathematics, out
of time or memory) becomes an error document for that line and the batch
goes on; a blank line or a comment (``#``) becomes ``{"line": n, "skipped":
...}``.  Input is read as bytes, a line at a time and at most
:data:`MAX_LINE` bytes of it at once, so a huge line costs bounded memory.
A UTF-8 byte-order mark and CRLF line endings are accepted; UTF-16 and
UTF-32 input is refused once, as a whole.
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from chainrule import points
from chainrule.budget import (
    DEFAULT_MEMORY,
    DEFAULT_MEMORY_TEXT,
    DEFAULT_SECONDS,
    ENGINE,
    memory_size,
    seconds,
    within,
)
from chainrule.derive import differentiate
from chainrule.errors import ChainruleError, FileError, InputError, Name, OutOfMemory, OutOfTime, UsageError
from chainrule.render.documents import SCHEMA, error_document
from chainrule.render.json_view import diff_document

MAX_LINE = 1 << 20  # bytes: a longer line is an error, read past in bounded chunks
MAX_NESTING = 32  # brackets deep, in a JSON request
_CHUNK = 1 << 16

_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _out_of_time() -> OutOfTime:
    return OutOfTime("the line took longer than the time budget", hint="raise it with --timeout SECONDS")


@dataclass(frozen=True)
class Line:
    """One input line: its number and either its text or why it cannot be read."""

    number: int
    text: str | None
    problem: InputError | None = None


def _refuse_wide(first: bytes) -> None:
    """UTF-16 and UTF-32 are refused once, before any line is read: by their byte-order
    mark, or by the zero byte that ASCII text has in every other (or every fourth) place."""
    found = next((name for bom, name in _WIDE_BOMS if first.startswith(bom)), None) or _wide(first)
    if found is not None:
        raise FileError(
            f"the input looks like {found} text; batch reads UTF-8",
            hint=f"convert it first: iconv -f {found} -t UTF-8 FILE | chainrule batch",
        )


def _wide(first: bytes) -> str | None:
    """UTF-32 or UTF-16 without a byte-order mark: of the 4 (or 2) byte lanes of the
    first line, all but one hold only zero bytes."""
    sample = first[:256].removesuffix(b"\n")
    for width, name in ((4, "UTF-32"), (2, "UTF-16")):
        lanes = [sample[k::width] for k in range(width)]
        if len(sample) >= 2 * width and sum(lane.count(0) == len(lane) for lane in lanes) == width - 1:
            return name
    return None


class Unbuffered:
    """A byte stream read straight from a file descriptor of its own, a line at a time.

    ``batch --jobs N`` reads its input on a thread of its own, which may be waiting on a pipe when
    the command ends (Ctrl-C, SIGTERM, a full disk).  A buffered stream holds its lock through
    that wait, and the interpreter, finding the lock of stdin taken at exit, aborts ("could not
    acquire lock for <stdin> at interpreter shutdown").  This stream holds no lock: a wait in
    ``os.read`` is simply left behind at exit.  Its descriptor is a duplicate, closed at the end
    of the input (or by :meth:`close` when no other thread reads), so closing the original cannot
    hand a waiting read some other file that reuses the number.
    """

    def __init__(self, fd: int) -> None:
        self.fd: int | None = os.dup(fd)
        self.buffer = bytearray()
        self.start = 0  # where the unread bytes begin
        self.scanned = 0  # up to where they hold no newline

    @classmethod
    def of(cls, stream: IO[bytes]) -> IO[bytes] | Unbuffered:
        """The stream read this way when it is a real file descriptor; otherwise itself (in memory)."""
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
            return stream
        return cls(fd)

    def readline(self, limit: int = -1) -> bytes:
        """The next line, with its newline; at most `limit` bytes of it; b"" at the end."""
        while True:
            end = len(self.buffer) if limit < 0 else min(len(self.buffer), self.start + limit)
            newline = self.buffer.find(b"\n", max(self.start, self.scanned), end)
            if newline >= 0:
                return self._take(newline + 1)
            if end < len(self.buffer) or self.fd is None:  # the limit, or the end of the input
                return self._take(end)
            self.scanned = end
            del self.buffer[: self.start]
            self.scanned -= self.start
            self.start = 0
            chunk = os.read(self.fd, _CHUNK)
            if chunk:
                self.buffer += chunk
            else:
                self.close()

    def _take(self, end: int) -> bytes:
        line = bytes(self.buffer[self.start : end])
        self.start = self.scanned = end
        return line

    def close(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)


def lines(stream: IO[bytes] | Unbuffered) -> Iterator[Line]:
    """The lines of a byte stream, decoded one by one; a line's problem stays on that line."""
    number = 0
    most = MAX_LINE + len(codecs.BOM_UTF8) + 2  # a whole line: a BOM (line 1), the text, CR LF
    while True:
        raw = stream.readline(most)
        if not raw:
            return
        number += 1
        if number == 1:
            _refuse_wide(raw)
        if len(raw) == most and not raw.endswith(b"\n"):
            length = len(raw) - (len(codecs.BOM_UTF8) if number == 1 and raw.startswith(codecs.BOM_UTF8) else 0)
            while raw and not raw.endswith(b"\n"):  # skip the rest of the line, a chunk at a time
                raw = stream.readline(_CHUNK)
                length += len(raw)
            length -= len(raw) - len(raw.rstrip(b"\r\n"))
            problem = InputError(f"the line has {length:,} bytes; the limit is {MAX_LINE:,}")
            yield Line(number, None, problem)
            continue
        yield decode(number, raw)


def decode(number: int, raw: bytes | str) -> Line:
    """Input line `number` as batch reads it: its line ending dropped, a byte-order mark on the
    first line dropped, and bytes that are not UTF-8 (or a line over MAX_LINE bytes) a problem
    of that line alone."""
    if isinstance(raw, str):  # as the bytes batch would read (a lone surrogate is not UTF-8)
        raw = raw.encode("utf-8", "surrogatepass")
    if number == 1:
        raw = raw.removeprefix(codecs.BOM_UTF8)
    length = len(raw.rstrip(b"\r\n"))
    if length > MAX_LINE:
        return Line(number, None, InputError(f"the line has {length:,} bytes; the limit is {MAX_LINE:,}"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        bad = raw[err.start]
        problem = InputError(f"the line is not UTF-8 text: byte 0x{bad:02x} at byte {err.start + 1} ({err.reason})")
        return Line(number, None, problem)
    return Line(number, text.rstrip("\r\n"))


class _Number(str):
    """A JSON number, kept as written: 1e400 or a 5,000-digit integer is judged by --at's rules."""


def _nesting(text: str) -> int:
    """How deep the brackets of a JSON text go (outside strings)."""
    deepest = depth = 0
    inside = escaped = False
    for char in text:
        if inside:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                inside = False
        elif char == '"':
            inside = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _json(text: str) -> Any:
    if text.count("[") + text.count("{") > MAX_NESTING and _nesting(text) > MAX_NESTING:
        raise InputError(f"the JSON is nested more than {MAX_NESTING} deep", source=text, position=0)
    try:
        return json.loads(text, parse_int=_Number, parse_float=_Number, parse_constant=_Number)
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON: {err.msg}", source=text, position=err.pos) from None


def _request(text: str, settings: Settings) -> tuple[str, points.Given | None, str | None]:
    """A line's expression, point and variable: its own (a JSON request), or the shared ones."""
    at, wrt = settings.at, settings.wrt
    if not text.startswith("{"):
        if settings.problem is not None:
            raise settings.problem
        return text, at, wrt
    obj = _json(text)
    if (
        not isinstance(obj, dict)
        or not isinstance(obj.get("expression"), str)
        or isinstance(obj["expression"], _Number)
    ):
        raise InputError('a JSON line needs "expression": a string', source=text, position=0)
    _text(obj["expression"], '"expression"', text)
    _text(obj.get("wrt"), '"wrt"', text)
    if isinstance(obj.get("at"), dict):
        for key in obj["at"]:
            _text(key, 'a name in "at"', text)
    else:
        _text(obj.get("at"), '"at"', text)
    point = obj.get("at")
    if isinstance(point, dict):
        if not all(isinstance(v, _Number) for v in point.values()):
            raise InputError('"at" must map names to numbers', source=text, position=0)
        at = points.of_mapping({str(k): str(v) for k, v in point.items()})
    elif isinstance(point, str):  # a JSON number (_Number) too, as written
        at = points.read(str(point))
    elif point is not None:
        raise InputError('"at" must be a number, a string or an object', source=text, position=0)
    elif settings.problem is not None:
        raise settings.problem
    chosen = obj.get("wrt", wrt)
    if chosen is not None and (not isinstance(chosen, str) or isinstance(chosen, _Number)):
        raise InputError('"wrt" must be a string', source=text, position=0)
    return obj["expression"], at, chosen


def _skipped(number: int, why: str) -> dict[str, Any]:
    return {"line": number, "skipped": why}


def _text(value: object, what: str, source: str) -> None:
    """A string from JSON must be text that can be written back out: no lone surrogates."""
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            raise InputError(
                f"{what} holds a lone surrogate (\\u{ord(value[err.start]):04x})", source=source, position=0
            ) from None


@dataclass(frozen=True)
class Settings:
    """What every line shares: the point and variable of plain lines, and the budgets; and the
    names the error documents give the inputs (the command line's flags, chainrule.cli.FLAGS;
    by default their concepts, "the point")."""

    at: points.Given | None = None
    wrt: str | None = None
    seconds: float = DEFAULT_SECONDS  # of CPU time, for each line
    memory: int | None = DEFAULT_MEMORY  # bytes each line may add to what the process holds (None: no cap)
    out_of_time: Callable[[], BaseException] = _out_of_time
    problem: UsageError | None = None  # the shared point cannot be read: each line that uses it says why
    words: tuple[tuple[str, Name], ...] = ()

    @classmethod
    def of(
        cls,
        at: str | None = None,
        wrt: str | None = None,
        timeout: float = DEFAULT_SECONDS,
        memory: str = DEFAULT_MEMORY_TEXT,
        words: Mapping[str, Name] | None = None,
    ) -> Settings:
        """The settings `chainrule batch --at AT --wrt WRT --timeout T --memory M` uses, checked as
        the command line checks them (a UsageError otherwise); the point is read once, here."""
        given, problem = None, None
        try:
            given = None if at is None else points.read(at)
        except UsageError as err:
            problem = err
        return cls(
            given, wrt, seconds(timeout), memory_size(memory), problem=problem, words=tuple((words or {}).items())
        )


DEFAULT = Settings.of()


def document(line: Line, settings: Settings) -> tuple[dict[str, Any], bool]:
    """The output document of one line (with its number), and whether it succeeded."""
    doc, ok = _outcome(line, settings)
    doc["line"] = line.number
    return doc, ok


def _outcome(line: Line, settings: Settings) -> tuple[dict[str, Any], bool]:
    if line.problem is not None:
        return error_document(line.problem, SCHEMA), False
    assert line.text is not None
    text = line.text.strip()
    if not text:
        return _skipped(line.number, "blank"), True
    if text.startswith("#"):
        return _skipped(line.number, "comment"), True
    try:
        try:
            with within(settings.seconds, settings.memory, settings.out_of_time):
                expression, point, chosen = _request(text, settings)
                return diff_document(differentiate(expression, wrt=chosen, at=point)), True
        except MemoryError:
            raise OutOfMemory(
                "the line needed more memory than the budget",
                hint=f"raise it with --memory SIZE (the default is {DEFAULT_MEMORY_TEXT})",
            ) from None
    except ChainruleError as err:
        err.word(dict(settings.words))
        return error_document(err, SCHEMA), False


def result_line(number: int, raw: bytes | str, settings: Settings = DEFAULT) -> str:
    """What `chainrule batch` writes for input line `number` holding `raw`: one line of NDJSON
    (without its newline), byte for byte, whatever the line holds.

    A module-level function of plain, picklable values, to run batch's work on an engine that
    spreads it over processes or machines, such as Dask::

        results = dask.bag.from_sequence(enumerate(lines, start=1)).starmap(result_line, settings=settings)

    Budgets hold in any thread: time by the thread's own CPU clock, memory by the process's resident
    memory (and the worker's own limits).  Threads of one process take turns, with each other and
    with the Python API (ENGINE: the numbers' precision is the process's own setting), and a line's
    time budget starts with its turn; to use more cores, use more processes (Dask's `nthreads=1`
    workers)."""
    with ENGINE:
        return ndjson(document(decode(number, raw), settings)[0])


def run(stream: IO[bytes] | Unbuffered, settings: Settings) -> Iterator[tuple[dict[str, Any], bool]]:
    """(the output document, succeeded) for every input line, in order."""
    for line in lines(stream):
        yield document(line, settings)


def ndjson(doc: dict[str, Any], ascii_only: bool = False) -> str:
    """One output line: compact strict JSON, with ASCII escapes for a stream that needs them."""
    return json.dumps(doc, ensure_ascii=ascii_only, allow_nan=False, separators=(",", ":"))
