"""The point, read once for every command: scalars and tensors, from text or from Python.

``3``, ``pi/4``, ``x=hypot(3,4),y=2``, ``x=[1, 2], W=[[1, 2], [3, 4]]``, ``a=-4, b=1e-3``: the
text is split into tokens once (:func:`chainrule.syntax.tokenize`), the commas that separate
name=value pairs are those outside every parenthesis and bracket, and each value is a number,
a constant expression read by the project's own parser and evaluated by its interpreter
(exactly, and in doubles), or a nested list of them.  Nothing is evaluated by Python.

The result is a :class:`Given`: each value with its name, its exact value, or its array, and
where it stands in the text, so that the stages after (a value for no variable, a list where
a number is wanted) put their caret under it.  The API and batch build the same record from
mappings (:func:`of_mapping`).  Errors name the concept, "the point"; the edges word it as
their flag (--at) or keyword (at=) (:mod:`chainrule.errors`).

The reader is iterative: a list nested a million deep is refused at its third bracket.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from chainrule import exact
from chainrule.budget import attempt
from chainrule.errors import Concern, InputError, MathError, Phrase, UsageError, quoted
from chainrule.interpret import FloatBackend, evaluate
from chainrule.point import number
from chainrule.syntax import Token, parse, tokenize

MAX_ENTRIES = 1_000_000  # per variable: --shape 1000x1000 at most
MAX_SHAPE_AXES = 2


@dataclass(frozen=True)
class Value:
    """One value of a point: a number (in doubles, and exactly where it is known) or an array."""

    name: str | None  # None: a bare value (--at 3), the value of the variable the command chooses
    double: float = 0.0  # a number's value in doubles
    exact: Any = None  # its exact value (a SymPy number); None when too large to follow, or an array
    array: Any = None  # a list's value: a numpy array of doubles; None for a number
    span: tuple[int, int] | None = None  # where the value stands in Given.source
    name_span: tuple[int, int] | None = None  # where its name does

    @property
    def is_array(self) -> bool:
        return self.array is not None

    @property
    def where(self) -> tuple[int, int] | None:
        """The name=value pair in the text (the value alone for a bare one)."""
        if self.span is None:
            return None
        return (self.name_span or self.span)[0], self.span[1]


@dataclass(frozen=True)
class Given:
    """A point as it was given: its values in order, and the text they were read from (None for
    a mapping).  A name given twice keeps its last value, as a mapping would."""

    values: tuple[Value, ...] = ()
    source: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.name for v in self.values if v.name is not None))

    @property
    def arrays(self) -> bool:
        """Whether some value is a vector or a matrix."""
        return any(v.is_array for v in self.values)

    @property
    def bare(self) -> Value | None:
        """The one value given without a name (--at 3), if that is how it was given."""
        if len(self.values) == 1 and self.values[0].name is None:
            return self.values[0]
        return None

    def named(self) -> dict[str, Value]:
        """Each name's value (the last, for a name given twice)."""
        return {v.name: v for v in self.values if v.name is not None}

    def error(
        self, message: Phrase, value: Value | None = None, *, whole: bool = True, hint: Phrase | str | None = None
    ) -> UsageError:
        """A usage error about the point, with a caret under `value` (its name=value pair when
        `whole`, else the value alone) where the point was read from text."""
        span = None if value is None else (value.where if whole else value.span)
        return _error(message, self.source if span is not None else None, span, hint)


def _error(
    message: Phrase, source: str | None, span: tuple[int, int] | None, hint: Phrase | str | None = None
) -> UsageError:
    return UsageError(
        message,
        source=source,
        position=None if span is None else span[0],
        end=None if span is None else span[1],
        hint=hint,
        concerns=Concern.point,
    )


PointInput = Given | str | Mapping[str, Any] | None


def given(at: PointInput) -> Given | None:
    """Any form of a point as a :class:`Given`: text is read, a mapping taken value by value."""
    if at is None or isinstance(at, Given):
        return at
    if isinstance(at, str):
        return read(at)
    return of_mapping(at)


# --------------------------------------------------------------------------- from text


def read(text: str) -> Given:
    """A point written as text: one value (3, pi/4), or name=value pairs separated by commas."""
    try:
        tokens = list(tokenize(text, point=True))
    except InputError as err:
        end = err.end if err.end is not None else (err.position or 0) + 1
        raise _error(Phrase("in {point}: {0}", err.message), text, (err.position or 0, end)) from None
    if not (tokens[0].kind == "name" and tokens[1].kind == "equals"):
        stop = _extent(tokens, 0)
        if tokens[stop].kind != "end" or any(t.kind == "equals" for t in tokens[:stop]):
            raise _pairs_error(text, tokens, 0, stop)
        return Given((_value(text, tokens, 0, stop, None),), text)
    values: list[Value] = []
    k = 0
    while True:
        stop = _extent(tokens, k)
        if not (tokens[k].kind == "name" and tokens[k + 1].kind == "equals"):
            raise _pairs_error(text, tokens, k, stop)
        name = tokens[k]
        value = _value(text, tokens, k + 2, stop, name.text)
        values.append(replace(value, name=name.text, name_span=(name.pos, name.end)))
        if tokens[stop].kind == "end":
            return Given(tuple(values), text)
        k = stop + 1


def _pairs_error(text: str, tokens: list[Token], lo: int, stop: int) -> UsageError:
    return _error(
        Phrase("{point} takes a number, or name=value pairs separated by commas"),
        text,
        (tokens[lo].pos, max(tokens[stop].pos, tokens[lo].pos)),
    )


def _extent(tokens: list[Token], k: int) -> int:
    """The index of the token that ends the item starting at `k`: the first comma outside every
    parenthesis and bracket, or the end."""
    depth = 0
    while True:
        kind = tokens[k].kind
        if kind == "end" or (kind == "comma" and depth == 0):
            return k
        if kind in ("lparen", "lbrack"):
            depth += 1
        elif kind in ("rparen", "rbrack"):
            depth = max(depth - 1, 0)
        k += 1


def _value(text: str, tokens: list[Token], lo: int, hi: int, name: str | None) -> Value:
    """The value written by tokens[lo:hi]: a list, or a number or constant expression."""
    if lo == hi:
        at = tokens[hi].pos
        if name is None:
            raise _error(Phrase("in {point}: the expression is empty"), text, (at, at))
        raise _error(Phrase("in {point}: the value of {0} is empty", quoted(name)), text, (at, at))
    start, end = tokens[lo].pos, tokens[hi - 1].end
    if tokens[lo].kind == "lbrack":
        return Value(name, array=_list(text, tokens, lo, hi, name or "the value"), span=(start, end))
    double, precise = constant(text[start:end], text, start)
    return Value(name, double, None if precise is exact.UNKNOWN else precise, span=(start, end))


def _list(text: str, tokens: list[Token], lo: int, hi: int, name: str) -> Any:
    """A nested list of numbers, iteratively, as a numpy array of doubles: rectangular, at most
    MAX_SHAPE_AXES deep, at most MAX_ENTRIES entries, every entry finite."""
    import numpy as np

    stack: list[list[Any]] = []  # the lists open, innermost last
    shapes: list[list[tuple[int, ...]]] = []  # the shapes of their items
    opened: list[int] = []  # where each opened
    k, count = lo, 0
    while True:
        tok = tokens[k]
        if tok.kind == "lbrack":
            if len(stack) == MAX_SHAPE_AXES:
                run = 0
                while tokens[lo + run].kind == "lbrack":
                    run += 1
                axes = f"{run} axes" if run > MAX_SHAPE_AXES else f"more than {MAX_SHAPE_AXES} axes"
                raise _error(
                    Phrase("{point}: {0} has {1}; vectors and matrices have at most 2", quoted(name), axes),
                    text,
                    (tok.pos, tok.end),
                )
            stack.append([])
            shapes.append([])
            opened.append(tok.pos)
            k += 1
            if tokens[k].kind == "rbrack":
                raise _error(Phrase("{point}: an empty list has no value"), text, (tok.pos, tokens[k].end))
            continue
        stop = _entry_end(tokens, k, hi)
        if stop == k:
            raise _error(Phrase("{point}: expected a number or '['"), text, (tok.pos, tok.end))
        item: Any = _entry(text, tokens, k, stop)
        shape: tuple[int, ...] = ()
        count += 1
        if count > MAX_ENTRIES:
            raise _error(
                Phrase("{point}: {0} has more than {1:,} entries, the limit", quoted(name), MAX_ENTRIES),
                text,
                (tokens[lo].pos, tokens[hi - 1].end),
            )
        k = stop
        while True:
            stack[-1].append(item)
            shapes[-1].append(shape)
            tok = tokens[k]
            if tok.kind == "comma" and k < hi:
                k += 1
                break
            if tok.kind == "rbrack" and k < hi:
                inner = shapes.pop()
                if any(s != inner[0] for s in inner):
                    raise _error(
                        Phrase(
                            "{point}: the value of {0} is not a rectangular list of numbers "
                            "(every row must have as many entries)",
                            quoted(name),
                        ),
                        text,
                        (opened[-1], tok.end),
                    )
                item, shape = stack.pop(), (len(inner), *inner[0])
                opened.pop()
                k += 1
                if not stack:
                    if k != hi:
                        raise _error(
                            Phrase("in {point}: unexpected {0} after the list", quoted(tokens[k].text)),
                            text,
                            (tokens[k].pos, tokens[hi - 1].end),
                        )
                    return np.array(item, dtype=float)
                continue
            raise _error(
                Phrase("{point}: expected ',' or ']' in the list opened at {0}", opened[-1]),
                text,
                (tok.pos, max(tok.end, tok.pos + 1)),
            )


def _entry_end(tokens: list[Token], k: int, hi: int) -> int:
    """Where an entry of a list ends: at a comma or ']' outside its own parentheses."""
    depth = 0
    while k < hi:
        kind = tokens[k].kind
        if depth == 0 and kind in ("comma", "rbrack"):
            return k
        if kind in ("lparen", "lbrack"):
            depth += 1
        elif kind in ("rparen", "rbrack"):
            depth -= 1
        k += 1
    return k


def _entry(text: str, tokens: list[Token], lo: int, hi: int) -> float:
    """An entry of a list in doubles: a number (read from its token), or a constant expression."""
    sign, first = 1.0, lo
    if hi - lo == 2 and tokens[lo].kind == "op" and tokens[lo].text in "+-":
        sign, first = (-1.0 if tokens[lo].text == "-" else 1.0), lo + 1
    if hi - first == 1 and tokens[first].kind == "num":
        value = sign * float(tokens[first].text)
        if not math.isfinite(value):
            raise _error(Phrase("{point}: a value must be finite"), text, (tokens[lo].pos, tokens[hi - 1].end))
        return value
    start = tokens[lo].pos
    return constant(text[start : tokens[hi - 1].end], text, start)[0]


def constant(text: str, whole: str, offset: int) -> tuple[float, Any]:
    """A value of the point: a number or a constant expression, parsed by our own parser and
    evaluated by the interpreter, without building a graph: in doubles, and exactly
    (exact.UNKNOWN when the exact value is too large to follow).  `whole` is the text it comes
    from, and `offset` where it starts there (for the caret).  A constant with no real value
    exactly (tan(pi/2), which doubles make 1.6e16) is refused."""
    shift = offset + (len(text) - len(text.lstrip()))
    try:
        expr = parse(text.strip())
    except InputError as err:
        raise _wrapped(err, whole, shift, text) from None
    if expr.variables():
        raise _error(
            Phrase("in {point}: a value in {point} must be a number or a constant expression such as pi/4"),
            whole,
            (shift, shift + len(text.strip())),
        )
    try:
        precise = attempt(exact.SECONDS, lambda: evaluate(expr.nodes, exact.ExactBackend({}, expr.source))[expr.root])
        value = float(evaluate(expr.nodes, FloatBackend({}, expr.source))[expr.root])
    except (InputError, MathError) as err:  # not OutOfTime: a timeout is reported as one
        raise _wrapped(err, whole, shift, text) from None
    if not math.isfinite(value):  # pragma: no cover - evaluate raises first
        raise _error(Phrase("a value in {point} must be finite"), whole, (offset, offset + len(text)))
    return value, exact.UNKNOWN if precise is None else precise


def _wrapped(err: InputError | MathError, whole: str, shift: int, text: str) -> UsageError:
    return _error(
        Phrase("in {point}: {0}", err.message),
        whole,
        (shift + (err.position or 0), shift + (err.end or len(text))),
    )


def numbers(text: str) -> tuple[float, ...]:
    """Numbers or constant expressions separated by commas, in doubles (--window -pi,pi)."""
    try:
        tokens = list(tokenize(text, point=True))
    except InputError as err:
        raise _error(Phrase("in {point}: {0}", err.message), text, (err.position or 0, err.end or 0)) from None
    found, k = [], 0
    while True:
        stop = _extent(tokens, k)
        start = tokens[k].pos
        found.append(constant(text[start : tokens[stop].pos], text, start)[0])
        if tokens[stop].kind == "end":
            return tuple(found)
        k = stop + 1


# --------------------------------------------------------------------------- from Python


def of_mapping(mapping: Mapping[str, Any]) -> Given:
    """A point given as a mapping of names to values: a number (int, float), a constant
    expression as text (pi/4), or an array of doubles (numpy's, as the API checks it)."""
    values = []
    for key, value in mapping.items():
        name = str(key)
        if isinstance(value, str):
            double, precise = constant(value, value, 0)
            values.append(Value(name, double, None if precise is exact.UNKNOWN else precise))
        elif isinstance(value, (list, tuple)) or (hasattr(value, "shape") and getattr(value, "shape", ()) != ()):
            values.append(Value(name, array=array_value(name, value)))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            values.append(number_value(name, value))
        else:
            raise _error(Phrase("the value of {0} must be a number", quoted(name)), None, None)
    return Given(tuple(values))


def array_value(name: str, value: Any) -> Any:
    """An array given by a program, as a vector or matrix of finite doubles."""
    import numpy as np

    try:
        array = np.asarray(value, dtype=float)
    except (ValueError, TypeError, OverflowError):
        raise _error(
            Phrase(
                "{point}: the value of {0} is not a rectangular list of numbers (every row must have as many entries)",
                quoted(name),
            ),
            None,
            None,
        ) from None
    if array.ndim > MAX_SHAPE_AXES:
        raise _error(
            Phrase("{point}: {0} has {1} axes; vectors and matrices have at most {2}", quoted(name), array.ndim, 2),
            None,
            None,
        )
    if array.size > MAX_ENTRIES:
        raise _error(
            Phrase("{point}: {0} has {1:,} entries; the limit is {2:,}", quoted(name), array.size, MAX_ENTRIES),
            None,
            None,
        )
    if array.size == 0:
        raise _error(Phrase("{point}: {0} is empty", quoted(name)), None, None)
    if not np.all(np.isfinite(array)):
        raise _error(Phrase("{point}: the value of {0} must be finite", quoted(name)), None, None)
    return array


def number_value(name: str, value: float) -> Value:
    """A number from a program, exactly as it prints (0.1 is 1/10): finite, within the doubles."""
    try:
        double = float(value)
    except OverflowError:
        double = math.inf
    if not math.isfinite(double):
        raise _error(
            Phrase("the value of {0} must be a finite number within the range of doubles", quoted(name)), None, None
        )
    return Value(name, double, number(value))


# --------------------------------------------------------------------------- the variables


def variables(chosen: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """The variables to differentiate by: names, or text naming them separated by commas (a,b)."""
    if chosen is None:
        return None
    if isinstance(chosen, str):
        return tuple(part.strip() for part in chosen.split(",") if part.strip())
    return tuple(chosen)


def shown_names(names: Iterable[str]) -> str:
    """Names for a message, cut when long."""
    return quoted(", ".join(names), 200, bare=True)
