"""ASCII forms of the views, for a terminal or pipe that cannot encode Unicode.

:func:`to_ascii` spells the notation the views use in plain ASCII: ``x²``
becomes ``x^2``, ``x⁻¹`` ``x^(-1)``, ``·`` and ``×`` ``*``, ``√c`` ``sqrt(c)``,
``σ`` ``sigma``, ``f′`` ``f'``, ``≈`` ``~=``, ``→`` ``->``, and Rich's box
drawing ``-``, ``|`` and ``+``.  A character it has no ASCII form for is
written as its ``\\uXXXX`` escape, so nothing is silently lost.

:func:`json_ascii` writes the non-ASCII characters of a JSON text as JSON
escapes instead: the document is unchanged, only its spelling.

Both are linear in the length of the text, and return ASCII text unchanged.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["escape", "json_ascii", "to_ascii"]

_SUPERSCRIPTS = dict(
    zip(
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ",
        "0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVW",
        strict=True,
    )
)
_SUPERSCRIPTS.update({"ᵅ": "alpha", "ᵝ": "beta", "ᵞ": "gamma", "ᵟ": "delta", "ᶿ": "theta", "ᵠ": "phi", "ᵡ": "chi"})
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥ", "0123456789+-=()aeoxhklmnpstijruv", strict=True))
_SUBSCRIPTS.update({"ᵦ": "beta", "ᵧ": "gamma", "ᵨ": "rho", "ᵩ": "phi", "ᵪ": "chi"})

_RADICALS = {"√": "sqrt", "∛": "cbrt"}

_CHARACTERS: dict[str, str] = {
    # arithmetic and relations
    "·": "*",
    "×": "*",
    "⋅": "*",
    "∙": "*",
    "÷": "/",
    "−": "-",
    "∓": "-/+",
    "±": "+/-",
    "≈": "~=",
    "≉": "!~=",
    "≃": "~=",
    "≅": "~=",
    "∼": "~",
    "≠": "!=",
    "≤": "<=",
    "≥": ">=",
    "≪": "<<",
    "≫": ">>",
    "∞": "inf",
    "∂": "d",
    "∇": "grad",
    "∑": "sum",
    "∏": "prod",
    "⊙": ".*",  # entry by entry, as MATLAB writes it (· between matrices is their product)
    "⊘": "./",
    "‖": "||",
    "𝟙": "ones",
    "ŷ": "yhat",
    "\u0302": "hat",  # a combining circumflex: x̂ is xhat
    "⊤": "T",  # the transpose in MathML (Aᵀ)
    "∫": "integral",
    "∘": "o",
    "°": "deg",
    "µ": "mu",
    "½": "1/2",
    **{fraction: unicodedata.normalize("NFKC", fraction).replace("\u2044", "/") for fraction in "⅔⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞"},
    "⁄": "/",  # fraction slash
    "∜": "root4",
    "⅓": "1/3",
    "¼": "1/4",
    "¾": "3/4",
    # primes
    "′": "'",
    "″": "''",
    "‴": "'''",
    # arrows and pointers
    "→": "->",
    "⟶": "->",
    "←": "<-",
    "⟵": "<-",
    "↔": "<->",
    "⇒": "=>",
    "⟹": "=>",
    "⇐": "<=",
    "⇔": "<=>",
    "↑": "^",
    "↓": "v",
    "↦": "|->",
    "▶": ">",
    "►": ">",
    "▸": ">",
    "◀": "<",
    "◄": "<",
    "◂": "<",
    "▲": "^",
    "▼": "v",
    # marks
    "✓": "[ok]",
    "✔": "[ok]",
    "✗": "[!]",
    "✘": "[!]",
    "•": "*",
    "◦": "o",
    "⋆": "*",
    # punctuation and spaces
    "…": "...",
    "⋯": "...",
    "⋮": ":",
    "—": "--",
    "–": "-",
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "‘": "'",
    "’": "'",
    "‚": ",",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": "<<",
    "»": ">>",
    "\u00a0": " ",  # no-break space
    "\u2002": " ",
    "\u2003": " ",
    "\u2009": " ",  # thin space
    "\u200a": " ",
    "\u202f": " ",
    "\u200b": "",  # zero-width space
    "\ufeff": "",  # byte-order mark
}


def _box_drawing() -> dict[str, str]:
    """Rich's tables and rules, and the lessons' arrows: U+2500-U+257F as - = | +, blocks as #."""
    table: dict[str, str] = {}
    for code in range(0x2500, 0x2580):
        ch = chr(code)
        name = unicodedata.name(ch, "")
        if "DIAGONAL CROSS" in name:
            table[ch] = "X"
        elif "DIAGONAL UPPER RIGHT" in name:
            table[ch] = "/"
        elif "DIAGONAL UPPER LEFT" in name:
            table[ch] = "\\"
        elif " AND " in name or " ARC " in name:
            table[ch] = "+"
        elif "HORIZONTAL" in name or name.endswith((" LEFT", " RIGHT")):
            table[ch] = "=" if "DOUBLE" in name else "-"
        else:  # vertical, and the half lines up and down
            table[ch] = "|"
    for code in range(0x2580, 0x25A0):  # block elements: the sensitivity bars
        table[chr(code)] = "#"
    return table


def _greek() -> dict[str, str]:
    """Greek letters by name: σ sigma, Σ Sigma, π pi."""
    table: dict[str, str] = {}
    for code in range(0x0391, 0x03CA):
        ch = chr(code)
        name = unicodedata.name(ch, "")
        if name.startswith(("GREEK SMALL LETTER ", "GREEK CAPITAL LETTER ")):
            word = name.split()[-1].lower()
            table[ch] = word.capitalize() if "CAPITAL" in name else word
    table.update({"ϑ": "theta", "ϕ": "phi", "ϵ": "epsilon", "ϱ": "rho", "ϖ": "pi", "ς": "sigma"})
    return table


_SINGLE: dict[str, str] = {**_box_drawing(), **_greek(), **_CHARACTERS}

_TOKEN = re.compile(
    "([{sup}]+)|([{sub}]+)|([{rad}]+)|[^\\x00-\\x7f]".format(
        sup="".join(_SUPERSCRIPTS), sub="".join(_SUBSCRIPTS), rad="".join(_RADICALS)
    )
)
_GAP = re.compile(r"\n| {3,}")  # where a line starts again, and the padding of a column
_NAME = re.compile(r"[A-Za-z0-9_]+(?:\.[0-9]+)?")  # a name or a number: √x, √2.5, but not the stop of √u.
_MIN_GAP = 2  # the fewest spaces left between two columns when a widened cell takes up padding


def escape(ch: str) -> str:
    """A character as the text of its escape: \\u03c3, or \\U0001d465 beyond the basic plane."""
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _single(ch: str) -> str:
    found = _SINGLE.get(ch)
    return found if found is not None else escape(ch)


def _script(run: str, table: dict[str, str], mark: str) -> str:
    """A run of superscripts as ^plain, of subscripts as _plain; (plain) unless one character or digits."""
    plain = "".join(table[ch] for ch in run)
    if len(run) > 1 and not plain.isdigit():
        plain = f"({plain})"
    return mark + plain


def _is_name(ch: str) -> bool:
    """A character of a name or a number: an operand of √ without parentheses (√c, √2, √π)."""
    return (ch.isascii() and (ch.isalnum() or ch == "_")) or (ch in _SINGLE and ch.isalpha())


class _Radicals:
    """Where the operand of each √ and ∛ ends, from one pass over the text's parentheses."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.closing: dict[int, int] = {}  # index of "(" -> index after its ")"
        opened: list[int] = []
        for i, ch in enumerate(text):
            if ch == "(":
                opened.append(i)
            elif ch == ")" and opened:
                self.closing[opened.pop()] = i + 1

    def operand_end(self, start: int) -> int | None:
        """The end of the operand that begins at `start` (after a run of radicals), or None if there is none."""
        text = self.text
        if start < len(text) and text[start] == "(":
            return self.closing.get(start, len(text))
        end = start
        while end < len(text) and _is_name(text[end]):  # each name is read once: it is the operand of one run
            match = _NAME.match(text, end)
            end = match.end() if match is not None else end + 1
        if end == start:
            return None
        if end < len(text) and text[end] == "(":  # a function's call: √sin(x)
            end = self.closing.get(end, len(text))
        return end


def to_ascii(text: str, *, columns: bool = False) -> str:
    """The text in ASCII: the views' notation spelled out, anything else as its \\uXXXX escape.

    With `columns`, a line whose characters became longer takes the extra
    width back from the next runs of three or more spaces (leaving two), so
    the columns of a table after the widened cell stay where they were.
    """
    if text.isascii():
        return text
    out: list[str] = []
    closes: list[int] = []  # where a radical's added ")" goes; the nearest is last (operands nest)
    radicals = _Radicals(text) if any(r in text for r in _RADICALS) else None
    owed = 0  # characters this line has gained and not yet taken back from a column's padding

    def settle(segment: str) -> None:
        """Copy ASCII text; with `columns`, take what the line owes out of its padding."""
        nonlocal owed
        if not columns or (owed <= 0 and "\n" not in segment):
            out.append(segment)
            return
        at = 0
        for gap in _GAP.finditer(segment):
            out.append(segment[at : gap.start()])
            at = gap.end()
            if gap.group() == "\n":
                owed = 0
                out.append("\n")
            else:
                taken = max(0, min(owed, len(gap.group()) - _MIN_GAP))
                owed -= taken
                out.append(" " * (len(gap.group()) - taken))
        out.append(segment[at:])

    def copy(start: int, end: int) -> None:
        """Copy text[start:end], closing each radical's operand where it ends."""
        nonlocal owed
        while closes and closes[-1] <= end:
            at = closes.pop()
            settle(text[start:at])
            out.append(")")
            owed += 1
            start = at
        settle(text[start:end])

    pos = 0
    for token in _TOKEN.finditer(text):
        copy(pos, token.start())
        pos = token.end()
        sup, sub, roots = token.group(1, 2, 3)
        if sup is not None:
            piece = _script(sup, _SUPERSCRIPTS, "^")
        elif sub is not None:
            piece = _script(sub, _SUBSCRIPTS, "_")
        elif roots is not None:
            assert radicals is not None
            end = radicals.operand_end(pos)
            # Each radical but the last takes the rest as its operand, in parentheses; the last one
            # needs its own only when its operand is a name (√c), not when it is in parentheses (√(c)).
            piece = "(".join(_RADICALS[r] for r in roots)
            wrapped = len(roots) - 1
            if end is None:  # nothing after it: the radical's name alone
                end = pos
            elif text[pos] != "(":
                piece += "("
                wrapped += 1
            closes.extend([end] * wrapped)
        else:
            piece = _single(token.group())
        out.append(piece)
        owed += len(piece) - len(token.group())
    copy(pos, len(text))  # and every operand still open ends with the text
    return "".join(out)


_JSON_ESCAPED = re.compile(r"[^\x00-\x7e]")  # as json.dumps(ensure_ascii=True): non-ASCII, and DEL


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_ascii(text: str) -> str:
    """A JSON text with its non-ASCII characters written as \\uXXXX escapes (surrogate pairs beyond U+FFFF).

    In valid JSON a non-ASCII character can only be inside a string, where its
    escape means the same character: json.loads gives the same document, and
    the text is the one json.dumps writes with ensure_ascii=True.
    """
    if text.isascii() and "\x7f" not in text:
        return text
    return _JSON_ESCAPED.sub(_json_escape, text)
