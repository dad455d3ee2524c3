"""Text -> syntax tree.  Our own tokenizer and precedence parser; nothing is evaluated.

The tree is stored flat, as a *tape*: a tuple of :class:`Node` in post-order,
children before parents, the root last.  A node refers to its children by
index, so no stage ever needs recursion to walk it, and a chain ten thousand
layers deep is just a long tuple.

The parser is a shunting-yard machine with an explicit operator stack.  It
alternates between two states: expecting an operand, and expecting an
operator.  Implicit multiplication is an operator inserted between a token
that ends a value and one that starts a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from chainrule import notation
from chainrule.errors import InputError, quoted
from chainrule.names import (
    ABSTRACT,
    ALIASES,
    CALLS,
    CONSTANTS,
    FUNCTIONS,
    IDENTIFIER,
    INVERSES,
    RESERVED,
    RULES,
    TENSOR_FUNCTIONS,
    canonical_function,
    suggest,
)

MAX_INPUT = 1_000_000
MAX_DIGITS = 100
MAX_EXPONENT = 1000  # in 1e…: numbers are exact, so 1e1000 is a 1,001-digit integer
MAX_DEPTH = 100_000

BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div", "^": "pow", "@": "matmul"}
# The node kinds of vectors and matrices: the scalar stages refuse them (chainrule.tensor reads them).
TENSOR_KINDS = frozenset({"matmul", "transpose", "index", "list"})


@dataclass(frozen=True, slots=True)
class Node:
    """One node of the tape.

    kind: num, const, var, neg, add, sub, mul, div, pow, call, apply; and for vectors and
      matrices matmul (A @ B), transpose (A.T), index (z[2], text "2"; A[1, 0], text "1,0")
      and list ([1, 2, 3], its elements as operands).
    text: the literal, the constant or variable name, the function name, or the indices.
    args: indices of the operands in the tape.
    start, end: the span of input text the node covers.
    pos: where its own token stands (the operator or the function name).
    """

    kind: str
    text: str
    args: tuple[int, ...]
    start: int
    end: int
    pos: int


@dataclass(frozen=True)
class Expr:
    """A parsed expression: the canonical source text and its tape (root last).

    `typed` is what the person typed, when :mod:`chainrule.notation` rewrote it
    (LaTeX, brackets, pasted typography); `notes` say how doubtful forms were read.
    """

    source: str
    nodes: tuple[Node, ...]
    output: int | None = None  # the root, when it is not the last node (programs)
    notes: tuple[str, ...] = ()
    typed: str | None = None

    @property
    def root(self) -> int:
        return len(self.nodes) - 1 if self.output is None else self.output

    def reachable(self) -> list[int]:
        """Indices reachable from the root, in tape (post-)order."""
        seen = [False] * len(self.nodes)
        seen[self.root] = True
        for i in range(self.root, -1, -1):
            if seen[i]:
                for a in self.nodes[i].args:
                    seen[a] = True
        return [i for i, s in enumerate(seen) if s]

    def variables(self) -> tuple[str, ...]:
        """Variable names in order of first appearance."""
        first: dict[str, int] = {}
        for i in self.reachable():
            node = self.nodes[i]
            if node.kind == "var":
                first[node.text] = min(first.get(node.text, node.start), node.start)
        return tuple(sorted(first, key=first.__getitem__))


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # num name op lparen rparen lbrack rbrack comma bar sup transpose end (equals other: points)
    text: str
    pos: int
    end: int


_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_CALLED = frozenset(CALLS.values())
_LOG_BASE = re.compile(r"log_([0-9]+|[A-Za-z])")
_METHOD = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)\(\s*\)")
_TRANSPOSE = re.compile(r"\.T(?![A-Za-z0-9_(])")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = {
    "+": "+",
    "-": "-",
    "\u2212": "-",  # minus sign
    "*": "*",
    "\u00b7": "*",  # middle dot
    "\u22c5": "*",  # dot operator
    "\u2219": "*",  # bullet operator
    "\u00d7": "*",  # multiplication sign
    "/": "/",
    "\u00f7": "/",
    "^": "^",
    "@": "@",
}
_SUPERSCRIPT = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-", strict=True))
_DIGITS = frozenset("0123456789")
_SINGLE_NAMES = frozenset("πσ√") | frozenset(notation.GREEK)


def _describe_char(ch: str) -> str:
    import unicodedata

    name = unicodedata.name(ch, "")
    code = f"U+{ord(ch):04X}"
    return f"{ch!r} ({code} {name})" if name else f"{ch!r} ({code})"


_SIMPLE = {"(": "lparen", ")": "rparen", ",": "comma", "|": "bar", "[": "lbrack", "]": "rbrack"}


def tokenize(source: str, start: int = 0, stop: int | None = None, *, point: bool = False) -> Iterator[Token]:
    """Split source[start:stop] into tokens.  Raises InputError at the first bad character; for
    a `point` (x=1, y=[1, 2]; chainrule.points) '=' is a token, and any other character is left to
    the parser of the value it stands in (a token 'other')."""
    i, n = start, len(source) if stop is None else stop
    while i < n:
        ch = source[i]
        if ch in " \t":
            i += 1
            continue
        if ch in _DIGITS or (ch == "." and i + 1 < n and source[i + 1] in _DIGITS):
            m = _NUMBER.match(source, i)
            assert m is not None  # the first character is a digit or .digit
            mantissa, _, exponent = m.group().lower().partition("e")
            digits = len(mantissa) - ("." in mantissa)  # the number's digits: all but its point
            if digits > MAX_DIGITS:
                raise InputError(
                    f"number with {digits} digits; the limit is {MAX_DIGITS}",
                    source=source,
                    position=i,
                    end=m.end(),
                )
            if exponent and abs(int(exponent)) > MAX_EXPONENT:  # 1e999999999 is a billion-digit integer
                raise InputError(
                    f"number with exponent {int(exponent):,}; the limit is ±{MAX_EXPONENT:,}",
                    source=source,
                    position=i,
                    end=m.end(),
                )
            yield Token("num", m.group(), i, m.end())
            i = m.end()
            continue
        if ch.isascii() and (ch.isalpha() or ch == "_"):
            m = _NAME.match(source, i)
            assert m is not None
            word = m.group()
            if not IDENTIFIER.match(word):
                raise InputError(
                    f"{quoted(word)} is not a name chainrule accepts",
                    source=source,
                    position=i,
                    end=m.end(),
                    hint="names are letters and digits, starting with a letter; underscores only between them",
                )
            yield Token("name", word, i, m.end())
            i = m.end()
            continue
        if ch == "." and (m := _TRANSPOSE.match(source, i, n)):  # A.T, as numpy writes it (and Aᵀ)
            yield Token("transpose", ".T", i, m.end())
            i = m.end()
            continue
        if ch == "." and (m := _METHOD.match(source, i, n)):  # Python's x.relu(), micrograd's too
            yield Token("method", m.group(1), i, m.end())
            i = m.end()
            continue
        if ch in _SINGLE_NAMES:
            yield Token("name", ch, i, i + 1)
            i += 1
            continue
        if ch == "*" and source.startswith("**", i):
            yield Token("op", "^", i, i + 2)
            i += 2
            continue
        if ch in _OPERATORS:
            yield Token("op", _OPERATORS[ch], i, i + 1)
            i += 1
            continue
        if ch in _SUPERSCRIPT:
            j = i
            while j < n and source[j] in _SUPERSCRIPT:
                j += 1
            text = "".join(_SUPERSCRIPT[c] for c in source[i:j])
            digits = len(text.lstrip("-"))
            if digits > MAX_DIGITS:
                raise InputError(
                    f"superscript number with {digits:,} digits; the limit is {MAX_DIGITS}",
                    source=source,
                    position=i,
                    end=j,
                )
            if not re.fullmatch(r"-?\d+", text):
                raise InputError(
                    "a superscript must be a whole number, like ² or ⁻¹",
                    source=source,
                    position=i,
                    end=j,
                )
            yield Token("sup", text, i, j)
            i = j
            continue
        if ch in _SIMPLE or point:
            yield Token(_SIMPLE.get(ch, "equals" if ch == "=" else "other"), ch, i, i + 1)
            i += 1
            continue
        raise InputError(
            f"unexpected character {_describe_char(ch)}",
            source=source,
            position=i,
            hint="chainrule reads numbers, names, + - * / ^, parentheses and |x|"
            if ch not in ";\n"
            else "one expression at a time; bindings separated by ';' belong to 'chainrule grad'",
        )
    yield Token("end", "", n, n)


# --------------------------------------------------------------------------- parser


@dataclass(slots=True)
class _Op:
    """An entry of the operator stack."""

    kind: str  # bin, neg, fn1 (function without parentheses), paren, call, bar, list ([1, 2]), index (z[2])
    text: str  # operator symbol or function name
    prec: int
    pos: int
    end: int
    power: str | None = None  # sin^2(x): the power applied to the result
    argc: int = 1
    base: Token | None = None  # log_2(x), log_b x: the base written as a subscript


_PREC = {"+": 10, "-": 10, "*": 20, "/": 20, "@": 20, "^": 40}
_NEG_PREC = 30
_FN1_PREC = 35
_ARGUMENT_PREC = 36  # the implicit product that is a function's argument: sin 2x is sin(2x)
_GROUPS = ("paren", "call", "bar", "list", "index")


_INSERT_ORDER = {")": 0, "·": 1, "(": 2}  # at one place in a note's reading: close, multiply, open


@dataclass
class _Parser:
    source: str
    start: int = 0
    stop: int | None = None
    bound: dict[str, int] = field(default_factory=dict)  # names bound so far -> their node
    later: dict[str, int] = field(default_factory=dict)  # names bound further on -> where
    current: str | None = None  # the name the statement being read binds
    letters: frozenset[str] = frozenset()  # names --at and --wrt give: ab is a·b when only a and b are given
    nodes: list[Node] = field(default_factory=list)
    values: list[int] = field(default_factory=list)
    ops: list[_Op] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # How the statement being read was read, where it could be doubted: text to insert at a
    # position, after the source up to `cut` (which drops the blanks in "sin 2x" -> "sin(2x)").
    inserts: list[tuple[int, int, str]] = field(default_factory=list)  # (position, cut, text)
    doubtful: bool = False
    others: list[str] = field(default_factory=list)  # how to write the readings not taken (for the note)
    leaves: set[str] = field(default_factory=set)  # a = -4.0 in a program: names, never split

    # -- building nodes ------------------------------------------------------

    def error(self, message: str, pos: int, end: int | None = None, hint: str | None = None) -> InputError:
        return InputError(message, source=self.source, position=pos, end=end, hint=hint)

    def emit(self, kind: str, text: str, args: tuple[int, ...], pos: int, end: int) -> int:
        start = min([pos] + [self.nodes[a].start for a in args])
        stop = max([end] + [self.nodes[a].end for a in args])
        if kind == "pow" and self.nodes[args[0]].kind == "const" and self.nodes[args[0]].text == "E":
            kind, text, args = "call", "exp", (args[1],)  # e^u is exp(u)
        self.nodes.append(Node(kind, text, args, start, stop, pos))
        return len(self.nodes) - 1

    def push_value(self, index: int) -> None:
        self.values.append(index)

    def apply(self, op: _Op) -> None:
        """Pop an operator off the stack and build its node."""
        if op.kind == "bin":
            right = self.values.pop()
            left = self.values.pop()
            self.push_value(self.emit(BINARY[op.text], "", (left, right), op.pos, op.end))
        elif op.kind == "neg":
            self.push_value(self.emit("neg", "", (self.values.pop(),), op.pos, op.end))
        elif op.kind == "fn1":
            argument = self.nodes[self.values[-1]]
            if argument.kind not in ("num", "var", "const"):
                self.doubtful = True
                if (other := self.other_argument(op, argument)) is not None:
                    self.others.append(other)
            at = argument.start
            while at > op.end and self.source[at - 1] in " \t":
                at -= 1
            self.inserts.append((argument.start, at, "("))
            self.inserts.append((argument.end, argument.end, ")"))
            argument_index = self.values.pop()
            self.push_value(self.call(op.text, (argument_index, *self.extra(op, op.text, 1)), op.pos, op.end))
            self.apply_power(op)
        else:  # pragma: no cover - groups are closed explicitly
            raise AssertionError(op.kind)

    def other_argument(self, op: _Op, argument: Node) -> str | None:
        """How to write the reading an argument without parentheses did not get: sin(2)*x for
        sin 2x, and sin(3x)^2 for sin 3x^2 (whose argument is 3x^2, as in sin x^2)."""
        name = self.source[op.pos : op.end] + (f"^{op.power}" if op.power is not None else "")
        last = self.nodes[argument.args[-1]] if argument.kind == "mul" else argument
        if last.kind == "pow" and last.end == argument.end:
            base, exponent = self.nodes[last.args[0]], self.nodes[last.args[1]]
            inner = quoted(self.source[argument.start : base.end], 30, bare=True)
            power = exponent.text if exponent.kind == "num" else self.source[exponent.start : exponent.end]
            power = quoted(power, 30, bare=True)
            raised = quoted(self.source[base.end : last.end], 30, bare=True)
            return f"write {name}({inner}){raised} for {name}({inner}) to the power {power}"
        if argument.kind != "mul":
            return None
        first = argument
        while first.kind == "mul":
            first = self.nodes[first.args[0]]
        inner = quoted(self.source[first.start : first.end], 30, bare=True)
        rest = quoted(self.source[first.end : argument.end].strip(), 30, bare=True)
        return f"write {name}({inner})*{rest} for {name}({inner}) times {rest}"

    def apply_power(self, op: _Op) -> None:
        if op.power is not None:
            exponent = self.emit("num", op.power, (), op.pos, op.end)
            base = self.values.pop()
            self.push_value(self.emit("pow", "", (base, exponent), op.pos, op.end))

    def reduce(self, prec: int, right_assoc: bool = False) -> list[_Op]:
        """Apply stacked operators that bind tighter than an incoming one."""
        popped = []
        while self.ops and self.ops[-1].kind not in _GROUPS:
            top = self.ops[-1]
            if top.prec > prec or (top.prec == prec and not right_assoc):
                popped.append(self.ops.pop())
                self.apply(top)
            else:
                break
        return popped

    def push_op(self, op: _Op) -> None:
        if len(self.ops) >= MAX_DEPTH:
            raise self.error(f"the expression nests deeper than {MAX_DEPTH} levels", op.pos)
        self.ops.append(op)

    # -- the two states --------------------------------------------------------

    def parse(self) -> Expr:
        self.statement()
        return Expr(self.source, tuple(self.nodes), notes=tuple(self.notes))

    def statement(self) -> int:
        """Parse source[start:stop] onto the tape; return the index of its value."""
        self.inserts, self.doubtful, self.others = [], False, []
        tokens = self.split_words(list(tokenize(self.source, self.start, self.stop)))
        if tokens[0].kind == "end":
            raise self.error("the expression is empty", self.start, hint='try: chainrule diff "sin(x^2)"')
        value = self.read_statement(tokens)
        if self.doubtful:
            self.note_reading(tokens[0].pos, tokens[-1].pos)
        return value

    def keeps(self, word: str) -> bool:
        """Whether a word is a name on its own: bound in the program, a leaf, or given by --at and --wrt."""
        return (
            word in self.bound
            or word in self.later
            or word in self.leaves
            or word in self.letters
            or word == self.current
        )

    def split_words(self, tokens: list[Token]) -> list[Token]:
        """sinx, lnx, xcos, sinxcosx, sin2x, log2x: a word that is no name but a function's name run
        together with single letters or a number is read as those (never as a variable called sin2x)."""
        result: list[Token] = []
        glued_end = -1  # where a number glued to a function's name ends: sin2.5x is sin 2.5 x
        for k, tok in enumerate(tokens):
            if tok.kind == "num" and tok.pos == glued_end and tok.text.startswith("."):
                number = result.pop()
                result.append(Token("num", number.text + tok.text, number.pos, tok.end))
                continue
            parts = self.pieces(tok) if tok.kind == "name" and not self.keeps(tok.text) else None
            if parts is not None and tokens[k + 1].kind == "lparen" and not _names_function(parts[-1][0]):
                parts = None  # sinn(x), cosx(2), sin2(x): an unknown function, with a suggestion
            if parts is None:
                result.append(tok)
                continue
            for m, (part, at) in enumerate(parts):
                kind = "num" if part[0] in _DIGITS else "name"
                result.append(Token(kind, part, at, at + len(part)))
                if m and _names_function(part) and not _names_function(parts[m - 1][0]):
                    self.inserts.append((at, at, "·"))
            glued_end = tok.end if parts[-1][0][0] in _DIGITS else -1
            self.doubtful = True
        return result

    def pieces(self, tok: Token) -> list[tuple[str, int]] | None:
        """The names and numbers a word is read as, with their positions; None when it is one name.
        The word is cut at each function name glued to a number (sin2x: sin 2 x) or holding one
        (log2x: log2 x); what lies between is read as a word of its own."""
        word = tok.text
        if canonical_function(word) is not None:
            return None
        out: list[tuple[str, int]] = []
        others: list[str] = []
        cut, underscore = 0, word.rfind("_")
        if (subscript := _LOG_GLUED.fullmatch(word)) is not None:  # log_2x is log_2 x
            if subscript.group(1):
                out.extend(self.plain(subscript.group(1), tok.pos))
            out.append((subscript.group(2), tok.pos + subscript.start(2)))
            cut = subscript.end(2)
        while cut < len(word):
            found = _glue(word, cut) if cut > underscore else None
            if isinstance(found, _Clash):
                raise self.error(
                    f"{quoted(word)} can be read two ways",
                    tok.pos + found.start,
                    tok.end,
                    hint=f"write {found.readings[0]} or {found.readings[1]}",
                )
            if found is None:
                out.extend(self.plain(word[cut:], tok.pos + cut))
                break
            if found.start > cut:
                out.extend(self.plain(word[cut : found.start], tok.pos + cut))
            out.append((found.function, tok.pos + found.start))
            lo, hi = found.digits
            if hi - lo > MAX_DIGITS:
                raise self.error(f"number with {hi - lo} digits; the limit is {MAX_DIGITS}", tok.pos + lo, tok.pos + hi)
            if hi > lo:
                out.append((word[lo:hi], tok.pos + lo))
            if found.other is not None:
                others.append(found.other)
            cut = hi
        if len(out) < 2:
            return None
        self.others.extend(others)
        return out

    def plain(self, word: str, at: int) -> list[tuple[str, int]]:
        """A word with no number glued to a function's name: itself, its function names and
        single letters (xcos), or the product of given names (ab, when a and b are given)."""
        if self.keeps(word):
            return [(word, at)]
        if (clash := _subscripted(word)) is not None:
            raise self.error(
                f"{quoted(word)} can be read several ways",
                at,
                at + len(word),
                hint="write " + ", ".join(clash[:-1]) + " or " + clash[-1],
            )
        parts = _split_word(word)
        if parts is None and self.letters:
            parts = _split_letters(word, self.letters)
            if parts is not None:
                given = " and ".join(dict.fromkeys(parts))
                self.notes.append(f"read {quoted(word)} as {'·'.join(parts)}, the product of the variables {given}")
        if parts is None:
            return [(word, at)]
        positions = [at]
        for part in parts[:-1]:
            positions.append(positions[-1] + len(part))
        return list(zip(parts, positions, strict=True))

    def note_reading(self, start: int, stop: int) -> None:
        """A note that shows the statement with the parentheses it was read with."""
        pieces: list[str] = []
        at = start
        for position, cut, text in sorted(self.inserts, key=lambda item: (item[0], _INSERT_ORDER.get(item[2], 1))):
            pieces.append(self.source[at:cut])
            pieces.append(text)
            at = position
        pieces.append(self.source[at:stop])
        typed = self.source[start:stop].strip()
        reading = "".join(pieces).strip()
        if reading != typed:
            other = f"; {self.others[0]}" if self.others else ""
            self.notes.append(f"read {quoted(typed)} as {quoted(reading, 80, bare=True)}{other}")

    def read_statement(self, tokens: list[Token]) -> int:
        i = 0
        expect_operand = True
        while True:
            tok = tokens[i]
            if expect_operand:
                i, expect_operand = self.operand(tokens, i)
            else:
                if tok.kind == "end":
                    break
                i, expect_operand = self.operator(tokens, i)
        self.finish(tokens[-1])
        return self.values.pop()

    def operand(self, tokens: list[Token], i: int) -> tuple[int, bool]:
        """Read a token where a value must start.  Returns (next index, expect_operand)."""
        tok = tokens[i]
        if tok.kind == "num":
            self.push_value(self.emit("num", tok.text, (), tok.pos, tok.end))
            return i + 1, False
        if tok.kind == "name":
            return self.name(tokens, i)
        if tok.kind == "lparen":
            self.push_op(_Op("paren", "(", 0, tok.pos, tok.end))
            return i + 1, True
        if tok.kind == "bar":
            self.push_op(_Op("bar", "|", 0, tok.pos, tok.end))
            return i + 1, True
        if tok.kind == "lbrack":  # [1, 2, 3]: a vector; [[1, 2], [3, 4]]: a matrix
            self.push_op(_Op("list", "[", 0, tok.pos, tok.end))
            if tokens[i + 1].kind == "rbrack":
                raise self.error("an empty list has no value", tok.pos, tokens[i + 1].end)
            return i + 1, True
        if tok.kind == "op" and tok.text in "+-":
            if tok.text == "-":
                self.push_op(_Op("neg", "-", _NEG_PREC, tok.pos, tok.end))
            return i + 1, True
        if tok.kind == "end":
            raise self.error("the expression ends too early: expected a number, a name or '('", tok.pos)
        what = {"rparen": "')'", "comma": "','", "sup": "a superscript"}.get(tok.kind, repr(tok.text))
        raise self.error(f"expected a number, a name or '(' but found {what}", tok.pos, tok.end)

    def name(self, tokens: list[Token], i: int) -> tuple[int, bool]:
        tok = tokens[i]
        word = tok.text
        nxt = tokens[i + 1]
        if word in self.bound:  # before constants and f, g, h: a program may bind e, f, g and h
            self.push_value(self.bound[word])
            return i + 1, False
        if word in self.later and (word in CONSTANTS or word in ABSTRACT):
            raise self.error(f"{quoted(word)} is used before it is defined", tok.pos, tok.end)
        function = canonical_function(word)
        if function in TENSOR_FUNCTIONS and nxt.kind != "lparen":
            function = None  # sum, mean, mse: functions when called, and otherwise names, as they were
        if function is not None:
            return self.function(tokens, i, function)
        if word in CALLS and nxt.kind == "lparen":  # pow(x, n)
            self.push_op(_Op("call", CALLS[word], 0, tok.pos, nxt.end))
            return i + 2, True
        if (subscript := _LOG_BASE.fullmatch(word)) is not None:  # log_2(x), log_10 x, log_b(x)
            at = tok.pos + subscript.start(1)
            base = Token("num" if subscript.group(1).isdigit() else "name", subscript.group(1), at, tok.end)
            return self.function(tokens, i, "log", base)
        if word in ABSTRACT and nxt.kind == "lparen":
            self.push_op(_Op("call", word, 0, tok.pos, nxt.end))
            return i + 2, True
        if word in CONSTANTS:
            self.push_value(self.emit("const", CONSTANTS[word], (), tok.pos, tok.end))
            return i + 1, False
        if word == self.current:
            raise self.error(
                f"{quoted(word)} is defined in terms of itself: the bindings form a cycle",
                tok.pos,
                tok.end,
                hint="each name must be defined from inputs and earlier names only",
            )
        if word in self.later:
            raise self.error(
                f"{quoted(word)} is used before it is defined",
                tok.pos,
                tok.end,
                hint=f"it is defined further on, at position {self.later[word]}; define it first",
            )
        if word in RESERVED:
            raise self.error(
                f"{quoted(word)} is a reserved word, not a variable or function",
                tok.pos,
                tok.end,
                hint="chainrule reads mathematical expressions, not code",
            )
        if nxt.kind == "lparen" and len(word) > 1:
            close = suggest(word)
            hint = f"to multiply, write {quoted(word, bare=True)}*(...)"
            glued = _glue(word) if "_" not in word else None
            if isinstance(glued, _Glue) and glued.start == 0 and glued.digits[1] == len(word) > glued.digits[0]:
                name, digits = glued.function, word[glued.digits[0] :]  # sin2(x): sin^2(x) or sin(2x)?
                hint = (
                    f"write {name}^{digits}(…) for a power of {name}, or {name}({digits}*(…)) for {name} of a product"
                )
            raise self.error(
                f"unknown function {quoted(word)}" + (f"; did you mean {close!r}?" if close else ""),
                tok.pos,
                tok.end,
                hint=hint,
            )
        self.push_value(self.emit("var", word, (), tok.pos, tok.end))
        return i + 1, False

    def function(self, tokens: list[Token], i: int, function: str, base: Token | None = None) -> tuple[int, bool]:
        """A function name, with an optional power (sin^2, sin^-1, sin²) and an argument."""
        tok = tokens[i]
        j = i + 1
        power: str | None = None
        if tokens[j].kind == "sup":
            power, j = tokens[j].text, j + 1
        elif tokens[j].kind == "op" and tokens[j].text == "^":
            sign = ""
            j += 1
            if tokens[j].kind == "op" and tokens[j].text in "+-":
                sign = "-" if tokens[j].text == "-" else ""
                j += 1
            if tokens[j].kind != "num" or not set(tokens[j].text) <= _DIGITS:
                raise self.error(
                    f"after '{tok.text}^' expected a whole number, as in sin^2(x) or sin^-1(x)",
                    tokens[j].pos,
                    tokens[j].end,
                )
            self.refuse_glued_power(tok, tokens[j], tokens[j + 1])
            power, j = sign + tokens[j].text, j + 1
        if power is not None and power.startswith("-"):
            if power != "-1" or function not in INVERSES:
                raise self.error(
                    f"'{tok.text}^{power}' is ambiguous",
                    tok.pos,
                    tokens[j - 1].end,
                    hint=f"write ({tok.text}(x))^{power} for a power, or use a named inverse",
                )
            function, power = INVERSES[function], None
        if power is not None and int(power) in (0, 1):
            power = None if power == "1" else power
        if tokens[j].kind == "lparen":
            self.push_op(_Op("call", function, 0, tok.pos, tokens[j].end, power=power, base=base))
            return j + 1, True
        if tokens[j].kind in ("end", "rparen", "comma") or (tokens[j].kind == "op" and tokens[j].text in "*/^+"):
            raise self.error(f"{tok.text!r} needs an argument, as in {tok.text}(x)", tok.pos, tok.end)
        if FUNCTIONS[function][0] > 1:  # max x, max2x
            raise self.error(
                f"{tok.text!r} needs parentheses",
                tok.pos,
                tok.end,
                hint=f"{tok.text} takes {FUNCTIONS[function][0]} arguments: write {tok.text}(a, b)",
            )
        self.push_op(_Op("fn1", function, _FN1_PREC, tok.pos, tok.end, power=power, base=base))
        return j, True

    def refuse_glued_power(self, name: Token, power: Token, argument: Token) -> None:
        """sin^22x: is it sin^2(2x) or sin(x)^22?  A power of two digits or more glued to its
        argument is refused when its digits split into a power and a factor of the argument."""
        if argument.kind != "name" or argument.pos != power.end or len(power.text) < 2:
            return
        splits = [k for k in range(1, len(power.text)) if int(power.text[:k]) > 1 and power.text[k] != "0"]
        if not splits:
            return  # sin^10x: sin^1(0x) is no reading
        k, fn, digits = splits[0], name.text, power.text
        raise self.error(
            f"'{fn}^{digits}{argument.text}' can be read two ways",
            name.pos,
            argument.end,
            hint=f"write {fn}^{digits[:k]}({digits[k:]}{argument.text}) or {fn}({argument.text})^{digits}",
        )

    def operator(self, tokens: list[Token], i: int) -> tuple[int, bool]:
        """Read a token after a complete value."""
        tok = tokens[i]
        if tok.kind == "op":
            right = tok.text == "^"
            self.reduce(_PREC[tok.text], right_assoc=right)
            self.push_op(_Op("bin", tok.text, _PREC[tok.text], tok.pos, tok.end))
            return i + 1, True
        if tok.kind == "method":  # u.relu(): the function of the value just read, before any operator
            function = canonical_function(tok.text)
            if function is None or FUNCTIONS[function][0] != 1:
                raise self.error(
                    f"unknown method {quoted('.' + tok.text + '()')}",
                    tok.pos,
                    tok.end,
                    hint="methods are functions of one argument: .relu(), .tanh(), .exp(), .log(), .sigmoid()",
                )
            self.push_value(self.emit("call", function, (self.values.pop(),), tok.pos, tok.end))
            return i + 1, False
        if tok.kind == "transpose":  # A.T binds to the value just read, as an exponent does
            self.push_value(self.emit("transpose", "", (self.values.pop(),), tok.pos, tok.end))
            return i + 1, False
        if tok.kind == "lbrack":  # z[2]: the index of the value just read
            self.push_op(_Op("index", "[", 0, tok.pos, tok.end))
            return i + 1, True
        if tok.kind == "rbrack":
            self.close_bracket(tok)
            return i + 1, False
        if tok.kind == "sup":
            base = self.values.pop()
            exponent = self.emit("num", tok.text, (), tok.pos, tok.end)
            self.push_value(self.emit("pow", "", (base, exponent), tok.pos, tok.end))
            return i + 1, False
        if tok.kind == "rparen":
            self.close(tok, ("paren", "call"))
            return i + 1, False
        if tok.kind == "comma":
            self.reduce(-1)
            if not self.ops or self.ops[-1].kind not in ("call", "list", "index"):
                raise self.error("',' outside a function's argument list", tok.pos)
            self.ops[-1].argc += 1
            return i + 1, True
        if tok.kind == "bar" and self.innermost_group() == "bar":
            self.close(tok, ("bar",))
            return i + 1, False
        # A value follows a value: implicit multiplication.
        if tok.kind == "num" and tokens[i - 1].kind == "num":
            raise self.error("two numbers in a row", tok.pos, tok.end, hint="write * between them to multiply")
        starts_function = tok.kind == "name" and canonical_function(tok.text) is not None
        if tok.kind in ("num", "name") and not starts_function:
            self.reduce(_ARGUMENT_PREC)
            if self.ops and self.ops[-1].kind == "fn1":  # sin 2x: the product is the argument
                self.push_op(_Op("bin", "*", _ARGUMENT_PREC, tok.pos, tok.pos))
                return i, True
        self.note_short_operand(tokens, i)
        popped = self.reduce(_PREC["*"])
        if any(op.kind == "fn1" for op in popped) and starts_function:
            self.doubtful = True  # sin x cos x
        if any(op.kind == "fn1" for op in popped) and not starts_function:
            fn = next(op for op in popped if op.kind == "fn1")
            raise self.error(
                f"ambiguous argument of {fn.text!r} without parentheses",
                fn.pos,
                tok.end,
                hint=f"write {fn.text}(...) around the whole argument",
            )
        self.push_op(_Op("bin", "*", _PREC["*"], tok.pos, tok.pos))
        return i, True

    def note_short_operand(self, tokens: list[Token], i: int) -> None:
        """e^2x, e^-2x and 1/2x keep their usual reading, (e^2)·x, (e^-2)·x and (1/2)·x, with a
        note that says so and how to write the other reading."""
        tok, number = tokens[i], tokens[i - 1]
        if number.kind != "num" or i < 3 or tok.pos != number.end or tok.kind not in ("name", "lparen"):
            return
        sign = ""
        op = tokens[i - 2]
        if op.kind == "op" and op.text in "+-" and i >= 4 and op.end == number.pos:  # e^-2x, 1/-2x
            sign, op = op.text, tokens[i - 3]
        left = tokens[i - 3 - len(sign)]
        if op.kind != "op" or op.text not in ("^", "/") or left.kind not in ("num", "name"):
            return
        after = tok.text if tok.kind == "name" else "(…)"
        shown = self.source[left.pos : tok.pos] + after
        if canonical_function(tok.text) is not None:  # e^2sin3x: (e^2)·sin(…)
            shown, after = shown + "…", f"{tok.text}(…)"
        read = f"({left.text}{op.text}{sign}{number.text})·{after}"
        other = f"{left.text}{op.text}({sign}{number.text}{after})"
        what = "to the power" if op.text == "^" else "divided by"
        self.notes.append(
            f"read {quoted(shown)} as {read}; write {other} for {left.text} {what} {sign}{number.text}{after}"
        )

    def innermost_group(self) -> str | None:
        for op in reversed(self.ops):
            if op.kind in _GROUPS:
                return op.kind
        return None

    def close(self, tok: Token, kinds: tuple[str, ...]) -> None:
        """Close a parenthesis, a call or an absolute-value bar."""
        self.reduce(-1)
        if not self.ops or self.ops[-1].kind not in kinds:
            if self.ops and self.ops[-1].kind == "bar":
                raise self.error("')' closes nothing: a '|' is still open", tok.pos, hint="close |...| first")
            raise self.error(f"unmatched {tok.text!r}", tok.pos)
        group = self.ops.pop()
        if group.kind == "paren":
            self.nodes_span_paren(group, tok)
            return
        if group.kind == "bar":
            arg = self.values.pop()
            self.push_value(self.emit("call", "abs", (arg,), group.pos, tok.end))
            return
        name, argc = group.text, group.argc
        lo, hi = (1, 1) if name in ABSTRACT else FUNCTIONS.get(name) or RULES[name].arity
        if name in RULES and RULES[name].folds and argc > hi:  # logsumexp(a, b, c) is read from the left
            args = tuple(self.values[-argc:])
            del self.values[-argc:]
            value = args[0]
            for arg in args[1:]:
                value = self.emit("call", name, (value, arg), group.pos, tok.end)
            more = ", and so on" if argc > 3 else ""
            self.notes.append(f"read {name}(…) of {argc} arguments from the left, as {name}({name}(a, b), c){more}")
            self.push_value(value)
            self.apply_power(group)
            return
        if not lo <= argc <= hi:
            want = f"{lo}" if lo == hi else f"{lo} or {hi}"
            called = next((c for c, key in CALLS.items() if key == name), name)
            raise self.error(f"{called}() takes {want} argument{'s' if hi > 1 else ''}, not {argc}", group.pos, tok.end)
        args = tuple(self.values[-argc:])
        del self.values[-argc:]
        self.push_value(self.call(name, args + self.extra(group, name, argc), group.pos, tok.end))
        self.apply_power(group)

    def close_bracket(self, tok: Token) -> None:
        """Close a list [a, b, c] or an index z[i] (whose indices must be whole numbers)."""
        self.reduce(-1)
        if not self.ops or self.ops[-1].kind not in ("list", "index"):
            raise self.error("unmatched ']'", tok.pos)
        group = self.ops.pop()
        args = tuple(self.values[-group.argc :])
        del self.values[-group.argc :]
        if group.kind == "list":
            self.push_value(self.emit("list", "", args, group.pos, tok.end))
            return
        indices = []
        for a in args:
            node = self.nodes[a]
            negative = node.kind == "neg" and self.nodes[node.args[0]].kind == "num"
            literal = self.nodes[node.args[0]] if negative else node
            if literal.kind != "num" or not literal.text.isdigit():
                raise self.error(
                    "an index must be a whole number written out, as in z[2] or A[1, 0]",
                    node.start,
                    node.end,
                    hint="indices count from 0, as in Python and PyTorch",
                )
            indices.append(("-" if negative else "") + str(int(literal.text)))
        base = self.values.pop()
        self.push_value(self.emit("index", ",".join(indices), (base,), group.pos, tok.end))

    def extra(self, group: _Op, name: str, argc: int) -> tuple[int, ...]:
        """The operands a call leaves to its notation: a subscript base, or the rule's defaults."""
        if group.base is not None:
            base = group.base
            kind, text = ("const", "E") if base.text == "e" else ("num" if base.text.isdigit() else "var", base.text)
            return (self.emit(kind, text, (), base.pos, base.end),)
        defaults = RULES[name].defaults if name in RULES else ()
        missing = defaults[len(defaults) - (len(RULES[name].partials) - argc) :] if defaults else ()
        return tuple(self.emit("num", text, (), group.end, group.end) for text in missing)

    def call(self, name: str, args: tuple[int, ...], pos: int, end: int) -> int:
        """The node of a call: a function, an abstract function, or an operator called by name (pow)."""
        if name == "log" and len(args) == 2:
            name = "logb"
        if name in ABSTRACT:
            return self.emit("apply", name, args, pos, end)
        if name in _CALLED:  # pow(x, n) is x^n
            return self.emit(name, "", args, pos, end)
        return self.emit("call", name, args, pos, end)

    def nodes_span_paren(self, group: _Op, tok: Token) -> None:
        """Widen the span of a parenthesised value to include its parentheses."""
        top = self.values[-1]
        node = self.nodes[top]
        self.nodes[top] = Node(node.kind, node.text, node.args, min(node.start, group.pos), tok.end, node.pos)

    def finish(self, end: Token) -> None:
        self.reduce(-1)
        if self.ops:
            group = self.ops[-1]
            what = {"paren": "'('", "call": f"'{group.text}('", "bar": "'|'", "list": "'['", "index": "'['"}[group.kind]
            raise self.error(f"{what} is never closed", group.pos, group.end, hint="add the closing bracket")
        assert len(self.values) == 1


def _check_length(source: str) -> None:
    if len(source) > MAX_INPUT:
        raise InputError(
            f"the input is {len(source):,} characters long; the limit is {MAX_INPUT:,}",
            source=source[:200],
            position=0,
        )


def parse(source: str, *, answer: bool = False, letters: frozenset[str] = frozenset()) -> Expr:
    """Parse one expression, as a person types it (see :mod:`chainrule.notation`): y = …
    and d/dx … are read as the expression; `answer`: a derivative given to check
    (y' = …, dy/dx = …, + C); `letters`: the names --at and --wrt give, so that a
    word made of them only (ab) is their product.  Raises InputError with a position
    in the typed text."""
    _check_length(source)
    reading = notation.read(source, equation=True, answer=answer)
    try:
        expr = _Parser(reading.text, letters=letters).parse()
        refuse_tensors(expr)
    except InputError as err:
        raise _typed_error(err, reading) from None
    return _with_reading(expr, reading)


def tensor_node(expr: Expr) -> Node | None:
    """The first node of a program that needs vectors or matrices (@, .T, z[i], [1, 2], softmax), if any."""
    for i in expr.reachable():
        node = expr.nodes[i]
        if node.kind in TENSOR_KINDS or (node.kind == "call" and node.text in TENSOR_FUNCTIONS):
            return node
    return None


def refuse_tensors(expr: Expr) -> None:
    """The scalar commands' refusal of vector and matrix operations, with a caret."""
    node = tensor_node(expr)
    if node is None:
        return
    what = {
        "matmul": "'@' is the matrix product",
        "transpose": "'.T' is the transpose of a matrix",
        "index": "indexing, as in z[2], picks entries of a vector or matrix",
        "list": "a list such as [1, 2, 3] is a vector",
    }.get(node.kind, f"{node.text}() is a function of a whole vector")
    raise InputError(
        f"{what}: vectors and matrices are for chainrule grad",
        source=expr.source,
        position=node.pos,
        end=max(node.pos + 1, node.end if node.kind in ("index", "list") else node.pos + 1),
        hint='try: chainrule grad "z = W @ x; L = sum(relu(z))" --shape W=3x4,x=4 --seed 0',
    )


def _with_reading(expr: Expr, reading: notation.Reading) -> Expr:
    notes = tuple(dict.fromkeys(reading.notes + expr.notes))
    typed = reading.typed if reading.typed != reading.text else None
    return Expr(expr.source, expr.nodes, expr.output, notes, typed)


def _typed_error(err: InputError, reading: notation.Reading) -> InputError:
    """A parse error of the canonical text, with its position moved into the typed text."""
    if reading.typed == reading.text or err.source != reading.text or err.position is None:
        return err
    return type(err)(
        err.message,
        source=reading.typed,
        position=reading.typed_position(err.position),
        end=None if err.end is None else reading.typed_end(err.position, err.end),
        hint=err.hint,
    )


def _split_letters(word: str, letters: frozenset[str]) -> list[str] | None:
    """ab -> [a, b] when a and b are both given names: the word read as their product,
    by its longest given names first; None when it is not made of them."""
    parts: list[str] = []
    i = 0
    while i < len(word):
        name = next((word[i:j] for j in range(len(word), i, -1) if word[i:j] in letters), None)
        if name is None:
            return None
        parts.append(name)
        i += len(name)
    return parts if len(parts) > 1 else None


def _split_word(word: str) -> list[str] | None:
    """sinx -> [sin, x]; xcos -> [x, cos]; sinxcosx -> [sin, x, cos, x]; None when the word
    is not a function's name run together with single letters."""
    if not word.isascii() or not word.isalpha() or not word.islower() or canonical_function(word) is not None:
        return None
    parts: list[str] = []
    i, n = 0, len(word)
    if _function_at(word, 0) is None:
        parts.append(word[0])
        i = 1
    while i < n:
        name = _function_at(word, i)
        if name is None:
            return None
        parts.append(name)
        i += len(name)
        if i < n and _function_at(word, i) is None:
            parts.append(word[i])
            i += 1
    return parts if len(parts) > 1 else None


_WORD_FUNCTIONS = sorted(  # not sum or mean: a word such as summer or meant is never split into them
    (name for name in (*FUNCTIONS, *ALIASES) if name.isascii() and name.isalpha() and name not in TENSOR_FUNCTIONS),
    key=len,
    reverse=True,
)


# The names a number can be glued to (sin2x) or that hold one (log2x, log1px, expm1x).
_GLUE_NAMES = frozenset(
    name
    for name in (*FUNCTIONS, *ALIASES)
    if name.isascii() and name.isalnum() and name[0].isalpha() and name not in TENSOR_FUNCTIONS
)
_LONGEST = max(map(len, _GLUE_NAMES))
_DIGIT_NAMES = sorted((name for name in _GLUE_NAMES if not name.isalpha()), key=len, reverse=True)
_DIGIT_RUN = re.compile(r"(?<=[A-Za-z])[0-9]+")
_LOG_GLUED = re.compile(r"([A-Za-z0-9]*?)(log_[0-9]+)([A-Za-z][A-Za-z0-9]*)")
_SUBSCRIPTED = re.compile(r"([a-z]+)([0-9]+)")
_ARGUMENT_TEXT = re.compile(r"[0-9]+[A-Za-z]*")
_DIGITS_AT = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class _Glue:
    """A function name in a word, glued to a number (sin2x) or holding one (log2x)."""

    start: int  # where the name starts in the word
    function: str  # the name as typed
    digits: tuple[int, int]  # the number glued after it; empty (end, end) for log2x
    other: str | None = None  # how to write the reading not taken: log(2x) for log2x


@dataclass(frozen=True, slots=True)
class _Clash:
    """A word that reads as two functions: log23x is log2(3x) or log(23x)."""

    start: int
    readings: tuple[str, str]


def _names_function(word: str) -> bool:
    """sin, arcsin, log2 and log_2 name functions."""
    return canonical_function(word) is not None or _LOG_BASE.fullmatch(word) is not None


def _unary(name: str) -> bool:
    function = canonical_function(name)
    return function is not None and FUNCTIONS[function][0] == 1


def _glue(word: str, start: int = 0) -> _Glue | _Clash | None:
    """The first function name of word[start:] glued to a number or holding one (positions are
    in `word`).  A name that holds digits (log2, log10, log1p, expm1) is taken whole when a
    letter follows it (log2x is log2(x)); when more digits follow and the name without its
    digits is a function too (log23x), the word is a clash.  atan2 takes two arguments, so
    atan2x is atan(2x)."""
    for run in _DIGIT_RUN.finditer(word, start):
        d, e = run.span()
        alpha = next((i for i in range(max(start, d - _LONGEST), d) if word[i:d] in _GLUE_NAMES), None)
        held = None
        for name in _DIGIT_NAMES:
            i = d - next(k for k, c in enumerate(name) if c in _DIGITS)
            if i >= start and word.startswith(name, i) and _unary(name):
                held = (i, name)
                break
        if held is not None:
            i, name = held
            end = i + len(name)
            # log2 is log with a 2 after it, as log23x and log2x could be read; log1p and expm1 are not
            alpha = alpha if alpha is not None and name.rstrip("0123456789") == word[alpha:d] else None
            if alpha is not None and word.startswith("0", end) and end + 1 < len(word):
                return _Glue(alpha, word[alpha:d], (d, e))  # log20x: log2(0x) is no reading; log(20x) is
            if end < len(word) and word[end] in _DIGITS:
                if alpha is not None:
                    return _Clash(
                        i, (f"{name}({_argument_text(word, end)})", f"{word[alpha:d]}({_argument_text(word, d)})")
                    )
                digits = _DIGITS_AT.match(word, end)
                assert digits is not None  # word[end] is a digit
                return _Glue(i, name, (end, digits.end()))
            other = None
            if alpha is not None:
                what = "the natural logarithm" if canonical_function(word[alpha:d]) == "log" else word[alpha:d]
                argument = _argument_text(word, d)
                other = f"write {word[alpha:d]}({argument}) for {what} of {argument}"
            return _Glue(i, name, (end, end), other)
        if alpha is not None:
            return _Glue(alpha, word[alpha:d], (d, e))
    return None


def _argument_text(word: str, d: int) -> str:
    """The digits at word[d] and the letters after them, up to the next function name (for a note)."""
    m = _ARGUMENT_TEXT.match(word, d)
    assert m is not None
    text = m.group()[:40]
    cut = next(
        (k for k in range(1, len(text)) if _function_at(text, k) is not None and not text[k - 1].isdigit()), None
    )
    return quoted(text[:cut], 20, bare=True)


def _subscripted(word: str) -> list[str] | None:
    """sinx2: a function's name run together with a letter that carries digits.  Is it sin(x^2),
    sin(x)*2 or sin(x2)?  The readings to offer; None for other words (x2 is a name)."""
    m = _SUBSCRIPTED.fullmatch(word)
    if m is None:
        return None
    letters, digits = m.groups()
    parts = _split_word(letters)
    if parts is None or canonical_function(parts[-1]) is not None:
        return None
    head, letter = letters[:-1], letters[-1]
    return [f"{head}({letter}^{digits})", f"{head}({letter})*{digits}", f"{head}({letter}{digits})"]


def _function_at(word: str, i: int) -> str | None:
    """The longest function name that starts at word[i]."""
    for name in _WORD_FUNCTIONS:
        if word.startswith(name, i):
            return name
    return None


@dataclass(frozen=True)
class Program:
    """Let-bindings such as ``c = a*b; d = c + 1; loss = d^2``, on one tape.

    A bound name used later refers to the bound node itself, so a sub-result
    used twice is one node.  The output is the last statement.  As micrograd
    and PyTorch users write them: ``a = -4.0`` (or ``Value(-4.0)``) declares a
    leaf with a value; ``c += …`` and binding a name again make a new node,
    named with a version mark (c′, c″); ``u.relu()`` applies a function; ``#``
    starts a comment.
    """

    expr: Expr
    bindings: dict[int, str]  # tape index -> the user's name for it
    output: str | None  # the last binding's name, or None for a bare last expression
    leaves: dict[str, float] = field(default_factory=dict)  # a = -4.0: the leaves' values


_NUMBER_TEXT = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_BINDING = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*)\s*([-+*/]?)=(?!=)")
_LEAF = re.compile(rf"\s*(?:Value\(\s*({_NUMBER_TEXT})\s*(?:,[^()]*)?\)|({_NUMBER_TEXT}))\s*")
_COMMENT = re.compile(r"#[^\n]*")
_COMPOUND = {"+": "add", "-": "sub", "*": "mul", "/": "div"}
_MARKS = ("", "′", "″", "‴")


def _version(name: str, k: int) -> str:
    """The name of the k-th rebinding of `name`: c, c′, c″, c‴, c′4, …"""
    return name + (_MARKS[k] if k < len(_MARKS) else f"′{k}")


def parse_program(source: str) -> Program:
    """Parse one expression, or statements separated by ';' or newlines."""
    _check_length(source)
    reading = notation.read(source)
    try:
        program = _parse_program(reading.text)
    except InputError as err:
        raise _typed_error(err, reading) from None
    return Program(_with_reading(program.expr, reading), program.bindings, program.output, program.leaves)


def _parse_program(source: str) -> Program:
    source = _COMMENT.sub(lambda m: " " * len(m.group()), source)  # positions stay where they were
    spans = []
    begin = 0
    for m in re.finditer(r"[;\n]", source + "\n"):
        if source[begin : m.start()].strip():
            spans.append((begin, m.start()))
        begin = m.end()
    if not spans:
        raise InputError("the input is empty", source=source, position=0)
    statements: list[tuple[str | None, str, int, int, int]] = []  # name, compound operator, at, lo, hi
    for k, (lo, hi) in enumerate(spans):
        bind = _BINDING.match(source, lo, hi)
        if bind is None and k < len(spans) - 1:
            raise InputError(
                "only the last statement may be a bare expression",
                source=source,
                position=lo + len(source[lo:hi]) - len(source[lo:hi].lstrip()),
                end=hi,
                hint="give it a name: name = ...",
            )
        if bind is None:
            statements.append((None, "", lo, lo, hi))
        else:
            statements.append((bind.group(1), bind.group(2), bind.start(1), bind.end(), hi))
    notes: list[str] = []
    later: dict[str, int] = {}  # names bound further on, by the position of their first binding
    for name, _, at, _, _ in statements:
        if name is None or name in later:
            continue
        if name in RESERVED or name in ("pi", "π") or (canonical_function(name) and name not in TENSOR_FUNCTIONS):
            raise InputError(
                f"{quoted(name)} cannot be bound: it is a reserved word, a constant or a function",
                source=source,
                position=at,
                end=at + len(name),
            )
        if name in CONSTANTS or name in ABSTRACT:
            what = "the constant e" if name in CONSTANTS else f"the abstract function {name}"
            notes.append(f"{name} is bound in the program: there it is a name, not {what}")
        later[name] = at
    parser = _Parser(source, later=later)
    bindings: dict[int, str] = {}
    leaves: dict[str, float] = {}
    versions: dict[str, int] = {}
    root = -1
    for name, compound, at, lo, hi in statements:
        parser.start, parser.stop, parser.current = lo, hi, name
        known = name is not None and (name in parser.bound or name in leaves)
        if name is not None and name in parser.later:
            del parser.later[name]
        if name is not None and not compound and not known and (leaf := _LEAF.fullmatch(source, lo, hi)):
            leaves[name] = float(leaf.group(1) or leaf.group(2))  # a = -4.0: a leaf, with its value
            parser.leaves.add(name)
            versions[name] = 0  # a = a + 1 further on makes a′
            root = parser.emit("var", name, (), at, hi)
            continue
        if compound and not known:
            assert name is not None
            raise InputError(
                f"{quoted(name)} {compound}= needs {quoted(name)} defined first", source=source, position=at
            )
        if known:
            parser.current = None  # c = c + 1 reads the c defined before
        root = parser.statement()
        if name is None:
            continue
        if compound:
            previous = parser.bound[name] if name in parser.bound else parser.emit("var", name, (), at, at + len(name))
            root = parser.emit(_COMPOUND[compound], "", (previous, root), at, hi)
        version = versions[name] = versions.get(name, -1) + 1
        # An alias of a variable or of another binding has no node of its own.
        if root not in bindings and parser.nodes[root].kind != "var":
            bindings[root] = _version(name, version)
        parser.bound[name] = root
    output = statements[-1][0]
    if output is not None and versions.get(output, 0) > 0:
        output = _version(output, versions[output])
    expr = Expr(source, tuple(parser.nodes), output=root, notes=tuple(parser.notes) + tuple(notes))
    return Program(expr, bindings, output, leaves)
