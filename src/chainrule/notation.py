"""What a person typed -> the canonical text the parser reads.  One pure stage.

People paste from LaTeX, PDFs, textbooks and Python.  :func:`read` rewrites
those forms into the plain notation of :mod:`chainrule.syntax` and keeps

* a map from every position of the canonical text back to the typed text, so
  a parse error puts its caret under what the person typed, and
* notes on readings a person could doubt ("read SIN as sin", "read 30° as
  30·π/180"), which the views show.

The rewriting is one left-to-right scan with an explicit stack of open
brackets: no recursion, linear time, nothing evaluated.  Brackets of every
kind are matched here, so ``(x]`` is refused with the caret at ``(``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from chainrule.errors import InputError, quoted
from chainrule.names import canonical_function

# Greek letters read as variable names (π is the constant and σ the sigmoid, as before;
# omicron is left out: it looks like o).
GREEK = "αβγδεζηθικλμνξρτυφχψωΓΔΘΛΞΦΨΩ"
_LATEX_GREEK = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "varepsilon": "ε",
    "zeta": "ζ",
    "eta": "η",
    "theta": "θ",
    "vartheta": "θ",
    "iota": "ι",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "nu": "ν",
    "xi": "ξ",
    "rho": "ρ",
    "tau": "τ",
    "upsilon": "υ",
    "phi": "φ",
    "varphi": "φ",
    "chi": "χ",
    "psi": "ψ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Xi": "Ξ",
    "Phi": "Φ",
    "Psi": "Ψ",
    "Omega": "Ω",
    "pi": "π",
    "sigma": "σ",
}
_LATEX_OPERATORS = {"cdot": "*", "times": "*", "ast": "*", "div": "/"}
_LATEX_SPACES = frozenset({",", ";", ":", "!", " ", "quad", "qquad"})
_LATEX_WORDS = frozenset({"operatorname", "mathrm", "text", "mathit", "textrm", "rm"})
_FRACTIONS = frozenset({"frac", "dfrac", "tfrac"})

_SUPERSCRIPTS = dict(
    zip(
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱˣʸᵃᵇᶜᵈᵉᶠᵍʰʲᵏˡᵐᵒᵖʳˢᵗᵘᵛʷᶻᶿ",
        "0123456789+-=()nixyabcdefghjklmoprstuvwzθ",
        strict=True,
    )
)
_DIGIT_SUPERSCRIPTS = frozenset("⁰¹²³⁴⁵⁶⁷⁸⁹⁻")  # the parser reads these itself: x², sin⁻¹
_VULGAR = {
    "½": "1/2",
    "⅓": "1/3",
    "⅔": "2/3",
    "¼": "1/4",
    "¾": "3/4",
    "⅕": "1/5",
    "⅖": "2/5",
    "⅗": "3/5",
    "⅘": "4/5",
    "⅙": "1/6",
    "⅚": "5/6",
    "⅛": "1/8",
    "⅜": "3/8",
    "⅝": "5/8",
    "⅞": "7/8",
}
_SIGNS = {
    "ᵀ": ".T ",  # Aᵀ: the transpose
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2212": "-",  # minus sign
    "\u2217": "*",  # asterisk operator
    "\u00d7": "*",  # multiplication sign
    "\u00f7": "/",  # division sign
    "\u2215": "/",  # division slash
    "\u2044": "/",  # fraction slash
    "\u00a0": " ",  # no-break space
    "\u2009": " ",  # thin space
    "\u202f": " ",  # narrow no-break space
}
# The dots of multiplication stay as typed: between matrices a dot is their product (W·x), and the
# parser reads each as '*' (the tensor stage tells them from '*' by the character).
_DOTS = frozenset("\u00b7\u22c5\u2219")
_KEEP = frozenset("πσ√") | frozenset(GREEK) | _DIGIT_SUPERSCRIPTS | _DOTS
_CLOSERS = {"(": ")", "[": "]", "{": "}"}
_OPENERS = {v: k for k, v in _CLOSERS.items()}

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CAPITALIZED_HEAD = re.compile(r"([A-Z][A-Za-z]*?)[0-9]")  # Sin2x, SIN2X: a capitalized name glued to a number
_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_COMMAND = re.compile(r"\\([A-Za-z]+|.)", re.DOTALL)
_BRACED_WORD = re.compile(r"\s*\{\s*([A-Za-z]+)\s*\}")
_ROOT_INDEX = re.compile(r"\s*\[\s*(\d{1,4})\s*\]\s*(?=[({\\])")
_POWER_AFTER_FUNCTION = re.compile(r"\s*\^\s*[({]\s*([+-]?\s*\d{1,4})\s*[)}]")
_DEGREE = re.compile(r"\s*°")
_ATOM = re.compile(r"\s*(?:[A-Za-z]|\d+(?:\.\d*)?)")

# Equation forms, read before the scan.
_WRAPPERS = ((r"$$", r"$$"), (r"$", r"$"), (r"\[", r"\]"), (r"\(", r"\)"))
_LEFT_SIDE = re.compile(r"\s*(?:y|[a-zA-Z]\s*\(\s*[a-z]\s*\))\s*=(?![=<>])")
_ANSWER_LEFT = re.compile(
    r"\s*(?:[a-z]\s*['′]|d[a-z]\s*/\s*d[a-z]|\\frac\s*\{\s*d[a-z]\s*\}\s*\{\s*d[a-z]\s*\}"
    r"|[a-zA-Z]\s*['′]\s*\(\s*[a-z]\s*\))\s*=(?![=<>])"
)
_DIFF_PREFIX = re.compile(
    r"\s*(?:d\s*/\s*d[a-z]|\\frac\s*\{\s*d\s*\}\s*\{\s*d[a-z]\s*\}|\\frac\s*\{\s*\\mathrm\s*\{\s*d\s*\}\s*\}"
    r"\s*\{\s*\\mathrm\s*\{\s*d\s*\}\s*[a-z]\s*\})\s*(?=\S)"
)
_CONSTANT_OF_INTEGRATION = re.compile(r"\s*\+\s*C\s*\Z")


@dataclass(frozen=True)
class Reading:
    """The canonical text, where each of its characters came from, and the notes."""

    typed: str
    text: str
    origin: tuple[int, ...]  # origin[i]: the typed position of text[i]; origin[len(text)] = len(typed)
    notes: tuple[str, ...]

    def typed_position(self, position: int) -> int:
        """The typed position of a canonical position (clamped to the text)."""
        return self.origin[max(0, min(position, len(self.origin) - 1))]

    def typed_end(self, position: int, end: int) -> int:
        """The typed end of a canonical span [position, end)."""
        if end <= position:
            return self.typed_position(position) + 1
        return max(self.typed_position(end - 1) + 1, self.typed_position(position) + 1)


@dataclass
class _Group:
    """An open bracket: what typed it, where, and the text that will close it."""

    opener: str  # "(", "[" or "{"
    pos: int
    end: int
    close: str
    role: str = ""  # "root": root(u, n); its comma becomes ")^(1/("
    comma: bool = False


_INDICES = re.compile(r"\s*-?\d+\s*(?:,\s*-?\d+\s*)*\]")


def _brackets(typed: str, lo: int, hi: int) -> tuple[frozenset[int], dict[int, int]]:
    """The '[' that hold a comma at their own level, and where each '[' closes: one pass, with a stack."""
    stack: list[list[Any]] = []  # [opener, position, holds a comma]
    commas: set[int] = set()
    closes: dict[int, int] = {}
    for k in range(lo, hi):
        ch = typed[k]
        if ch in "([{":
            stack.append([ch, k, False])
        elif ch in ")]}" and stack:
            opener, at, comma = stack.pop()
            if opener == "[":
                closes[at] = k
                if comma:
                    commas.add(at)
        elif ch == "," and stack:
            stack[-1][2] = True
    return frozenset(commas), closes


_NUMBER_ONLY = re.compile(r"\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*")


class _Scanner:
    def __init__(self, typed: str, lo: int, hi: int) -> None:
        self.typed = typed
        self.i = self.lo = lo
        self.hi = hi
        self.out: list[str] = []
        self.origin: list[int] = []
        self.notes: list[str] = []
        self.stack: list[_Group] = []
        self.roles: list[tuple[str, str, str]] = []  # the next braces' (role, open text, close text)
        self.brackets: tuple[frozenset[int], dict[int, int]] | None = None  # see _brackets

    def emit(self, text: str, at: int) -> None:
        self.out.append(text)
        self.origin.extend([at] * len(text))

    def word_out(self, word: str, at: int, after: int) -> None:
        """A name from a command (\\sin, \\theta), apart from the letters and digits around it."""
        before = self.out[-1][-1:] if self.out else ""
        following = self.typed[after : after + 1]
        space = " " if before and (before.isalnum() or before in "πσ√") else ""
        self.emit(space + word + (" " if following.isalnum() or following == "\\" else ""), at)

    def copy(self, lo: int, hi: int) -> None:
        self.out.append(self.typed[lo:hi])
        self.origin.extend(range(lo, hi))

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def error(self, message: str, pos: int, end: int | None = None, hint: str | None = None) -> InputError:
        return InputError(message, source=self.typed, position=pos, end=end, hint=hint)

    # -- the scan ---------------------------------------------------------------

    def run(self) -> None:
        typed = self.typed
        while self.i < self.hi:
            i = self.i
            ch = typed[i]
            if ch.isascii():
                if ch.isalpha() or ch == "_":
                    self.word()
                elif ch.isdigit() or (ch == "." and i + 1 < self.hi and typed[i + 1] in "0123456789"):  # not .²
                    self.number()
                elif ch == "\\":
                    self.command()
                elif ch == "[" and (self.indexing(i) or self.listing(i)):
                    self.stack.append(_Group("[", i, i + 1, "]", "index" if self.indexing(i) else "list"))
                    self.emit("[", i)  # z[2], E[3] and [1, 2, 3] are kept for the parser
                    self.i = i + 1
                elif ch in _CLOSERS:
                    self.open(ch, i, i + 1)
                elif ch in _OPENERS:
                    self.close(ch, i, i + 1)
                elif ch == ",":
                    self.comma(i)
                else:
                    self.copy(i, i + 1)
                    self.i = i + 1
            else:
                self.unicode(ch, i)
        if self.stack:
            self.unclosed(self.stack[-1])

    def indexing(self, i: int) -> bool:
        """x[0]: '[' right after a name that is not a function's; softmax(z)[2], (W @ x)[1] and
        A[1][0]: right after a closing bracket, holding whole numbers only ((x+1)[x-1] is a product)."""
        if i > self.lo and self.typed[i - 1] in ")]":
            return bool(_INDICES.match(self.typed, i + 1, self.hi))
        j = i
        while j > self.lo and (
            self.typed[j - 1].isascii() and (self.typed[j - 1].isalnum() or self.typed[j - 1] == "_")
        ):
            j -= 1
        word = self.typed[j:i]
        return bool(word) and word[0].isalpha() and canonical_function(word.lower()) is None

    def listing(self, i: int) -> bool:
        """A '[' where a value starts is a list when it holds a comma at its own level ([1, 2, 3]),
        is an element of a list, holds one list only ([[1, 2, 3]], a 1×3 matrix), or is a number
        bound whole (b = [0.5]).  Otherwise it is a bracket: [x+1]^2, y = [x+1]."""
        j = i - 1
        while j >= self.lo and self.typed[j] in " \t":
            j -= 1
        before = self.typed[j] if j >= self.lo else ""
        if before and (before.isalnum() or before in ")]_."):
            return False
        if self.brackets is None:
            self.brackets = _brackets(self.typed, self.lo, self.hi)
        commas, closes = self.brackets
        if i in commas or (bool(self.stack) and self.stack[-1].role == "list" and before in ",["):
            return True
        close = closes.get(i)
        if close is None:
            return False
        inner = self.typed[i + 1 : close]
        k = i + 1 + len(inner) - len(inner.lstrip())
        if k in commas and closes.get(k) == i + len(inner.rstrip()):  # [[1, 2, 3]]
            return True
        after = self.typed[close + 1 : self.hi].lstrip(" \t")
        whole = before == "=" and (not after or after[0] in ";\n#")
        return whole and bool(_NUMBER_ONLY.fullmatch(inner))

    def unclosed(self, group: _Group) -> None:
        if group.opener == "(" and group.role != "root":
            return  # the parser says which '(' or 'sin(' is never closed, at the same place
        shown = self.typed[group.pos : group.end]
        raise self.error(f"{shown!r} is never closed", group.pos, group.end, hint="add the closing bracket")

    def word(self) -> None:
        i = self.i
        m = _NAME.match(self.typed, i, self.hi)
        assert m is not None
        word = m.group()
        j = m.end()
        if word == "root" and self.peek("(", j):
            self.roles.append(("root", "((", ")))"))
            self.emit("", i)
            self.i = j
            return
        function = canonical_function(word)
        if function is None and len(word) > 1 and canonical_function(word.lower()) is not None:
            self.note(f"read {word} as {word.lower()}")
            word = word.lower()
            function = canonical_function(word)
        if function is None and (head := _CAPITALIZED_HEAD.match(word)) is not None:
            name = head.group(1)
            if canonical_function(name) is None and canonical_function(name.lower()) is not None:
                self.note(f"read {name} as {name.lower()}")  # Sin2x, as a phone types sin2x
                self.emit(name.lower(), i)
                self.copy(i + len(name), j)
                self.i = j
                return
        if function is None:
            self.copy(i, j)
            self.i = j
            return
        if word == self.typed[i:j]:
            self.copy(i, j)
        else:
            self.emit(word, i)
        self.i = j
        self.after_function(word, i, j)

    def after_function(self, word: str, start: int, j: int) -> None:
        """sqrt[3](x), sin^(-1)(x), sin^{2}(x): the forms that follow a function's name."""
        typed = self.typed
        if canonical_function(word) == "sqrt" and (m := _ROOT_INDEX.match(typed, j, self.hi)):
            self.root(int(m.group(1)), start, m.end())
            return
        if m := _POWER_AFTER_FUNCTION.match(typed, j, self.hi):
            self.emit("^" + re.sub(r"\s|\+", "", m.group(1)), j)
            self.i = m.end()

    def root(self, index: int, start: int, end: int) -> None:
        """The index of a root, before its bracketed argument: √ for 2, cbrt for 3, else a power."""
        if index < 2:
            raise self.error("the index of a root must be 2 or more", start, end)
        # The function's name is already out: make it the name of the right root.
        name_chars = len(self.out[-1])
        del self.out[-1]
        del self.origin[-name_chars:]
        if index == 2:
            self.emit("sqrt", start)
            self.roles.append(("", "(", ")"))
        elif index == 3:
            self.emit("cbrt", start)
            self.roles.append(("", "(", ")"))
        else:
            self.emit("", start)
            self.roles.append(("", "((", f")^(1/{index}))"))
        self.note(f"read {quoted(self.typed[start:end], 30, bare=True)}… as {_root_text(index)}")
        self.i = end

    def peek(self, chars: str, j: int) -> bool:
        while j < self.hi and self.typed[j] in " \t":
            j += 1
        return j < self.hi and self.typed[j] in chars

    def number(self) -> None:
        i = self.i
        m = _NUMBER.match(self.typed, i, self.hi)
        assert m is not None
        j = m.end()
        if degree := _DEGREE.match(self.typed, j, self.hi):
            self.emit("(", i)
            self.copy(i, j)
            self.emit("*π/180)", degree.start())
            self.note(f"read {m.group()}° as {m.group()}·π/180: degrees are turned into radians")
            self.i = degree.end()
            return
        if not self.stack and self.typed.startswith(",", j) and j + 1 < self.hi and self.typed[j + 1].isdigit():
            raise self.error(
                "a comma between digits",
                j,
                j + 1,
                hint=f"use a decimal point: {m.group()}.{self.typed[j + 1]}…; "
                "commas only separate a function's arguments",
            )
        self.copy(i, j)
        self.i = j

    def command(self) -> None:
        typed, i = self.typed, self.i
        m = _COMMAND.match(typed, i, self.hi)
        if m is None:
            raise self.error("a lone '\\' at the end", i)
        name, j = m.group(1), m.end()
        self.i = j
        if name in ("left", "right"):
            k = j
            while k < self.hi and typed[k] in " \t":
                k += 1
            if typed.startswith(("\\{", "\\}"), k):
                bracket, after = typed[k + 1], k + 2
            elif k < self.hi and typed[k] in "()[]|":
                bracket, after = typed[k], k + 1
            else:
                raise self.error(f"\\{name} must be followed by a bracket: ( [ \\{{ or |", i, j)
            if bracket == "|":
                self.emit("|", i)
                self.i = after
            elif bracket in _CLOSERS:
                self.i = after
                self.open(bracket, i, after)
            else:
                self.i = after
                self.close(bracket, i, after)
            return
        if name in ("{", "}"):
            if name == "{":
                self.open("{", i, j)
            else:
                self.close("}", i, j)
            return
        if name in _LATEX_SPACES:
            self.emit(" ", i)
            return
        if name in _LATEX_OPERATORS:
            self.emit(_LATEX_OPERATORS[name], i)
            return
        if name in _LATEX_GREEK:
            self.word_out(_LATEX_GREEK[name], i, j)
            return
        if name in _FRACTIONS:
            if not self.peek("{", j):
                raise self.error(f"\\{name} needs {{numerator}}{{denominator}}", i, j)
            self.emit("(", i)
            self.roles.append(("numerator", "(", ")/"))
            self.roles.append(("denominator", "(", "))"))
            return
        if name == "sqrt":
            if m2 := _ROOT_INDEX.match(typed, j, self.hi):
                self.emit("sqrt", i)
                self.root(int(m2.group(1)), i, m2.end())
                return
            if self.peek("[", j):
                raise self.error("the index of \\sqrt[n]{…} must be a whole number", i, j)
            self.word_out("sqrt", i, j)
            return
        if name in _LATEX_WORDS:
            word = _BRACED_WORD.match(typed, j, self.hi)
            if word is None:
                raise self.error(f"\\{name} needs a name in braces, as in \\{name}{{sech}}", i, j)
            text = word.group(1)
            if canonical_function(text) is None and len(text) > 1:
                raise self.error(f"unknown function {quoted(text)} in \\{name}", word.start(1), word.end(1))
            self.word_out(text, i, word.end())
            self.i = word.end()
            if canonical_function(text) is not None:
                self.after_function(text, i, word.end())
            return
        if canonical_function(name) is not None:
            self.word_out(name, i, j)
            self.after_function(name, i, j)
            return
        raise self.error(
            f"unknown LaTeX command \\{quoted(name, 30, bare=True)}",
            i,
            j,
            hint="chainrule reads \\frac, \\sqrt, \\cdot, \\left( \\right), functions such as \\sin and Greek letters",
        )

    def open(self, opener: str, pos: int, end: int) -> None:
        role, text, close = self.roles.pop(0) if self.roles else ("", "(", ")")
        if role in ("numerator", "denominator") and opener != "{":
            raise self.error(f"expected '{{' for the {role} of \\frac", pos, end)
        self.stack.append(_Group(opener, pos, end, close, role))
        self.emit(text, pos)
        self.i = max(self.i, end)

    def close(self, closer: str, pos: int, end: int) -> None:
        self.i = max(self.i, end)
        if not self.stack:
            if closer == ")":
                self.emit(")", pos)  # the parser says "unmatched ')'" at the same place
                return
            raise self.error(f"unmatched {self.typed[pos:end]!r}", pos, end)
        group = self.stack[-1]
        if _CLOSERS[group.opener] != closer:
            shown = self.typed[group.pos : group.end]
            raise self.error(
                f"{shown!r} is closed by {self.typed[pos:end]!r}",
                group.pos,
                group.end,
                hint=f"close it with {_CLOSERS[group.opener]!r}, or open with {_OPENERS[closer]!r}",
            )
        if group.role == "root" and not group.comma:
            raise self.error("root(u, n) takes the radicand and the index n", group.pos, end)
        self.stack.pop()
        self.emit(group.close, pos)
        if group.role == "numerator" and not self.peek("{", end):
            raise self.error("\\frac needs {numerator}{denominator}", end)

    def comma(self, i: int) -> None:
        self.i = i + 1
        if self.stack and self.stack[-1].role == "root" and not self.stack[-1].comma:
            self.stack[-1].comma = True
            self.emit(")^(1/(", i)
            self.note("read root(u, n) as u^(1/n)")
            return
        self.emit(",", i)

    def unicode(self, ch: str, i: int) -> None:
        typed = self.typed
        self.i = i + 1
        if ch in _KEEP and ch not in _DIGIT_SUPERSCRIPTS:
            self.copy(i, i + 1)
            return
        if ch in _SUPERSCRIPTS:
            j = i
            while j < self.hi and typed[j] in _SUPERSCRIPTS:
                j += 1
            run = typed[i:j]
            self.i = j
            if all(c in _DIGIT_SUPERSCRIPTS for c in run):
                self.copy(i, j)
            else:
                self.emit("^(" + "".join(_SUPERSCRIPTS[c] for c in run) + ")", i)
            return
        if ch in _VULGAR:
            self.emit("(" + _VULGAR[ch] + ")", i)
            return
        if ch in "∛∜":
            self.fourth_or_cube_root(ch, i)
            return
        self.copy(i, i + 1)  # the parser names the character that it does not read

    def fourth_or_cube_root(self, ch: str, i: int) -> None:
        if ch == "∛":
            self.emit("cbrt ", i)
            return
        if self.peek("([{", i + 1):
            self.roles.append(("", "((", ")^(1/4))"))
            self.note("read ∜(u) as u^(1/4)")
            return
        atom = _ATOM.match(self.typed, i + 1, self.hi)
        if atom is None:
            raise self.error("'∜' needs an argument, as in ∜x or ∜(x+1)", i)
        self.emit("(", i)
        self.copy(i + 1, atom.end())
        self.emit("^(1/4))", atom.end() - 1)
        self.note(f"read ∜{atom.group().strip()} as {atom.group().strip()}^(1/4)")
        self.i = atom.end()


def _shown(left: str) -> str:
    """'y = …' for a note: what stands before the expression, in quotes that it does not hold (y')."""
    mark = '"' if "'" in left else "'"
    return f"{mark}{quoted(left, 40, bare=True)} …{mark}"


def _root_text(n: int) -> str:
    return {2: "sqrt(…)", 3: "cbrt(…), the real cube root"}.get(n, f"(…)^(1/{n})")


def _strip_wrappers(typed: str, lo: int, hi: int) -> tuple[int, int]:
    """$…$, $$…$$, \\[…\\] and \\(…\\) around the whole input."""
    while lo < hi and typed[lo].isspace():
        lo += 1
    while hi > lo and typed[hi - 1].isspace():
        hi -= 1
    for left, right in _WRAPPERS:
        if typed.startswith(left, lo) and hi - lo >= len(left) + len(right) and typed.endswith(right, lo, hi):
            return lo + len(left), hi - len(right)
    return lo, hi


_OWN = frozenset(_SUPERSCRIPTS) | frozenset(_VULGAR) | _KEEP | frozenset("∛∜°′")


def _normalize(typed: str) -> tuple[str, list[int]]:
    """Signs to ASCII and full-width forms by NFKC, character by character (not ² or ½,
    which NFKC would turn into 2 and 1⁄2).  Returns the text and each character's origin."""
    if typed.isascii():
        return typed, list(range(len(typed) + 1))
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(typed):
        if ch.isascii() or ch in _OWN:
            text = ch
        elif ch in _SIGNS:
            text = _SIGNS[ch]
        else:
            normal = unicodedata.normalize("NFKC", ch)
            text = normal if all(c.isascii() or c in _KEEP for c in normal) else ch
            text = _SIGNS.get(text, text)
        out.append(text)
        origin.extend([i] * len(text))
    origin.append(len(typed))
    return "".join(out), origin


def read(typed: str, *, equation: bool = False, answer: bool = False) -> Reading:
    """The canonical text of `typed`.  `equation`: one expression, which may be written
    y = …, f(x) = … or d/dx …; `answer`: a derivative given to check (y' = …, + C)."""
    text, before = _normalize(typed)
    try:
        canonical, origin, notes = _read(text, equation=equation, answer=answer)
    except InputError as err:
        if text is typed or err.position is None:
            raise
        start = before[err.position]
        raise InputError(
            err.message,
            source=typed,
            position=start,
            end=None if err.end is None else max(start + 1, before[max(err.end - 1, 0)] + 1),
            hint=err.hint,
        ) from None
    return Reading(typed, canonical, tuple(before[k] for k in origin), notes)


def _read(typed: str, *, equation: bool, answer: bool) -> tuple[str, list[int], tuple[str, ...]]:
    lo, hi = _strip_wrappers(typed, 0, len(typed))
    notes: list[str] = []
    if equation or answer:
        if answer and (m := _ANSWER_LEFT.match(typed, lo, hi)):
            notes.append(f"read {_shown(typed[lo : m.end()].strip())} as the answer after '='")
            lo = m.end()
        elif m := _LEFT_SIDE.match(typed, lo, hi):
            notes.append(f"read {_shown(typed[lo : m.end()].strip())} as the expression after '='")
            lo = m.end()
        if equation and (m := _DIFF_PREFIX.match(typed, lo, hi)):
            prefix = typed[lo : m.end()].strip()
            notes.append(f"read {_shown(prefix)} as the derivative of the expression after {prefix}")
            lo = m.end()
        while lo < hi and typed[lo] in " \t":
            lo += 1
        if answer and (m := _CONSTANT_OF_INTEGRATION.search(typed, lo, hi)):
            notes.append(
                "'+ C' is a constant of integration: this looks like an antiderivative, "
                "not a derivative; the verdict is on the rest"
            )
            hi = m.start()
    scanner = _Scanner(typed, lo, hi)
    scanner.run()
    scanner.origin.append(hi)
    return "".join(scanner.out), scanner.origin, tuple(notes + scanner.notes)


__all__ = ["GREEK", "Reading", "read"]
