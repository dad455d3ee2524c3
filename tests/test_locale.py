"""A locale that is not UTF-8: every view in ASCII, JSON with escapes, arguments read as typed.

On an output that cannot encode Unicode (the C locale with PYTHONUTF8=0, or
ISO-8859-1) the registry writes ASCII forms (render.ascii.to_ascii) and JSON
with \\uXXXX escapes (render.ascii.json_ascii); start-up re-reads arguments
typed in UTF-8 (startup.decoded_argv) and asks whether stdout can take the
notation (startup.stream_is_unicode).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import tokenize
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainrule.render import json_view
from chainrule.render.ascii import escape, json_ascii, to_ascii
from chainrule.render.registry import VIEWS, Terminal, renderer
from chainrule.startup import PROBE, decoded_argv, stream_is_unicode

SOURCE = Path(__file__).resolve().parents[1] / "src" / "chainrule"

# Characters the views may print that deliberately have no ASCII spelling and are written as
# their \uXXXX escape.  Empty: every character in the sources has one.
DELIBERATELY_ESCAPED: frozenset[str] = frozenset()


def source_characters() -> dict[str, str]:
    """Every non-ASCII character in the package's code and strings (not its comments), with a file it is in."""
    found: dict[str, str] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        with path.open("rb") as source:
            for token in tokenize.tokenize(source.readline):
                if token.type == tokenize.COMMENT:
                    continue
                for ch in token.string:
                    if not ch.isascii():
                        found.setdefault(ch, path.name)
    return found


def test_the_sources_have_non_ascii_characters_to_check() -> None:
    assert {"σ", "²", "·", "→", "′", "√", "π", "✓", "─"} <= set(source_characters())


@pytest.mark.parametrize(("ch", "where"), sorted(source_characters().items()))
def test_every_character_in_the_sources_has_an_ascii_form(ch: str, where: str) -> None:
    spelled = to_ascii(ch)
    assert spelled.isascii(), (ch, where)
    if ch not in DELIBERATELY_ESCAPED:
        assert spelled != escape(ch), f"{ch!r} (U+{ord(ch):04X}, in {where}) has no ASCII form in render/ascii.py"


def test_every_character_of_richs_boxes_and_ellipsis_has_an_ascii_form() -> None:
    from rich import box

    drawn = {ch for b in vars(box).values() if isinstance(b, box.Box) for ch in str(b) if not ch.isascii()}
    assert drawn
    for ch in [*sorted(drawn), "…"]:
        spelled = to_ascii(ch)
        assert spelled.isascii() and spelled != escape(ch), ch
    assert to_ascii("─━═│┃║┌┐└┘├┤┬┴┼╭╮╰╯") == "--=|||" + "+" * 13


@pytest.mark.parametrize(
    ("text", "ascii_"),
    [
        ("x²", "x^2"),
        ("x²³", "x^23"),
        ("x⁻¹", "x^(-1)"),
        ("sin²(x)", "sin^2(x)"),
        ("d(aᵇ) = b·aᵇ⁻¹·da + aᵇ·ln(a)·db", "d(a^b) = b*a^(b-1)*da + a^b*ln(a)*db"),
        ("d/du uⁿ = n·uⁿ⁻¹", "d/du u^n = n*u^(n-1)"),
        ("2/(eᵘ + e⁻ᵘ)", "2/(e^u + e^(-u))"),
        ("x₁ + x₁₂ + xₙ₋₁", "x_1 + x_12 + x_(n-1)"),
        ("1/(2·√c)", "1/(2*sqrt(c))"),
        ("d/du √u = 1/(2√u)", "d/du sqrt(u) = 1/(2sqrt(u))"),
        ("d/du ∛u = 1/(3·∛u²)", "d/du cbrt(u) = 1/(3*cbrt(u)^2)"),
        ("√(1 − u²)", "sqrt(1 - u^2)"),
        ("√sin(x) + √√x + √√(x) + √π", "sqrt(sin(x)) + sqrt(sqrt(x)) + sqrt(sqrt(x)) + sqrt(pi)"),
        ("√f(√g(x))", "sqrt(f(sqrt(g(x))))"),
        ("√", "sqrt"),
        ("√2.5 and √u.", "sqrt(2.5) and sqrt(u)."),
        ("√(x", "sqrt(x"),
        ("σ(x) + π + Σ + θ", "sigma(x) + pi + Sigma + theta"),
        ("f′(u) g″", "f'(u) g''"),
        ("a ≈ b ≠ c ≤ d ≥ e ± f × g − h", "a ~= b != c <= d >= e +/- f * g - h"),
        ("∂y/∂x → ∞", "dy/dx -> inf"),
        ("agrees ✓, DISAGREES ✗", "agrees [ok], DISAGREES [!]"),
        ("x ──[×cos(1)]──▶ u1", "x --[*cos(1)]--> u1"),
        ("u1 … y ⋮ — █▌", "u1 ... y : -- ##"),
        ("é 𝑥", "\\u00e9 \\U0001d465"),  # no ASCII form: the escape, so nothing is lost
        ("plain ascii\n", "plain ascii\n"),
    ],
)
def test_to_ascii(text: str, ascii_: str) -> None:
    assert to_ascii(text) == ascii_


@given(st.text())
def test_to_ascii_is_always_ascii_and_leaves_ascii_alone(text: str) -> None:
    spelled = to_ascii(text)
    assert spelled.isascii()
    assert to_ascii(spelled) == spelled
    assert to_ascii(text, columns=True).isascii()


@given(st.text(alphabet="x(√∛)²σ ·\n", max_size=40))
def test_radicals_close_every_parenthesis_they_open(text: str) -> None:
    spelled = to_ascii(text)
    assert spelled.count("(") - spelled.count(")") == text.count("(") - text.count(")")


@pytest.mark.parametrize(
    "text",
    [
        "√" * 100_000 + "x",
        "√f(" * 40_000 + "x" + ")" * 40_000,
        "√" + "x" * 200_000,
        "√(" * 40_000 + "x" + ")" * 40_000,
        "x" + "²" * 200_000,
        ("σ(x)·u²" + " " * 5) * 40_000,
    ],
)
def test_to_ascii_is_linear(text: str) -> None:
    start = time.perf_counter()
    spelled = to_ascii(text, columns=True)
    assert spelled.isascii()
    assert time.perf_counter() - start < 5  # quadratic would take hours at this size


def test_columns_take_the_widened_cells_width_from_the_padding() -> None:
    table = "σ(x)   v   w\nx      1   2\n"
    assert to_ascii(table) == "sigma(x)   v   w\nx      1   2\n"
    assert to_ascii(table, columns=True) == "sigma(x)  v  w\nx      1   2\n"  # still two spaces apart
    assert to_ascii("a² b      c\nd        e", columns=True) == "a^2 b     c\nd        e"


@cache
def results() -> dict[str, Any]:
    from chainrule import tensor
    from chainrule.backprop import gradient
    from chainrule.derive import differentiate
    from chainrule.grade import grade
    from chainrule.syntax import parse_program

    g = gradient("c = a*b; d = sigmoid(c) + sqrt(c); loss = d^2", at="a=1,b=2")
    t = tensor.gradient(
        parse_program("h = relu(W @ x + b); p = softmax(h); L = norm2(p - y) + sum(h / 2) + x[0]"),
        shape="W=3x2,x=2,b=3,y=3",
        seed=0,
    )
    return {
        "grad tensor": t,
        "grad tensor --view sensitivity": t,
        "graph tensor": t,
        "diff": differentiate("sigmoid(sqrt(x)^2) + pi*x", at="1"),
        "diff --view sensitivity": differentiate("sin(sqrt(x))^2", at="1"),
        "grad": g,
        "grad --view sensitivity": g,
        "graph": g,
        "check": grade("sigmoid(x)^2", "2sigmoid(x)"),
    }


VIEW_FORMATS = [(view, format_) for view, table in VIEWS.items() for format_ in table]


@pytest.mark.parametrize(("view", "format_"), VIEW_FORMATS)
def test_every_view_writes_ascii_on_an_ascii_terminal(view: str, format_: str) -> None:
    render = renderer(view, format_)
    result = results()[view]
    unicode = render(result, Terminal(width=100))
    ascii_ = render(result, Terminal(width=100, ascii=True))
    spelled = format_.startswith("latex") or format_ == "html" or (view, format_) == ("graph", "json")
    assert not unicode.isascii() or spelled  # (these spell it in ASCII: the graph's JSON in a*b, d**2)
    assert ascii_.isascii()
    if format_ in ("text", "explain", "markdown", "mermaid", "dot"):  # (LaTeX and JSON write \\u themselves)
        assert "\\u" not in ascii_  # every character had an ASCII form
    if format_ == "json":
        assert json.loads(ascii_) == json.loads(unicode)
    elif format_ in ("text", "explain"):  # fitted to the width after the spelling
        assert ascii_.split() == to_ascii(unicode, columns=format_ in ("text", "explain")).split()
        assert all(len(line) <= 100 or len(line.split()) == 1 for line in ascii_.splitlines())
    else:
        assert ascii_ == to_ascii(unicode, columns=format_ in ("text", "explain"))


@pytest.mark.parametrize("view", ["diff", "grad"])
def test_the_ascii_tables_keep_their_columns(view: str) -> None:
    render = renderer(view, "text")
    result = results()[view]
    unicode = render(result, Terminal(width=120)).splitlines()
    ascii_ = render(result, Terminal(width=120, ascii=True)).splitlines()
    ruled = [i for i, line in enumerate(unicode) if line and set(line) == {"─"}]
    ruled_ascii = [i for i, line in enumerate(ascii_) if line and set(line) == {"-"}]
    assert ruled and len(ruled) == len(ruled_ascii)  # (a prose line may wrap otherwise: sigma is wider than σ)
    for i, k in zip(ruled, ruled_ascii, strict=True):  # each table's rows end where they did: numbers line up
        assert len(ascii_[k]) == len(unicode[i])
        for j in range(1, len(unicode) - i):
            if not re.search(r"\d$", unicode[i + j].rstrip()) or "  " not in unicode[i + j]:
                break
            assert len(ascii_[k + j].rstrip()) == len(unicode[i + j].rstrip()), (unicode[i + j], ascii_[k + j])


JSON_TEXT = st.text()  # astral characters included (lone surrogates are not text)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | JSON_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(JSON_TEXT, inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(JSON_TEXT, JSON_VALUES, max_size=5))
def test_json_ascii_is_the_same_document_spelled_in_ascii(doc: dict[str, Any]) -> None:
    for indent in (None, 2):
        text = json.dumps(doc, ensure_ascii=False, indent=indent)
        escaped = json_ascii(text)
        assert escaped.isascii()
        assert json.loads(escaped) == json.loads(text)
        assert escaped == json.dumps(doc, ensure_ascii=True, indent=indent)  # exactly json's own escapes
    assert json_view.dumps(doc, ascii=True) == json_ascii(json_view.dumps(doc))


def test_json_ascii_writes_astral_characters_as_surrogate_pairs() -> None:
    assert json_ascii('{"x": "σ𝑥"}') == '{"x": "\\u03c3\\ud835\\udc65"}'
    assert json_ascii('{"x": 1}') == '{"x": 1}'


def argv_as_the_c_locale_reads_it(typed: str) -> str:
    """What sys.argv holds in the C locale with PYTHONUTF8=0: UTF-8 bytes read as ASCII with surrogateescape."""
    return typed.encode("utf-8").decode("ascii", "surrogateescape")


def test_decoded_argv_reads_utf8_as_typed() -> None:
    argv = [argv_as_the_c_locale_reads_it(a) for a in ("diff", "σ(x)²", "--at", "1", "π/4")]
    assert argv[1] != "σ(x)²"
    assert decoded_argv(argv) == ["diff", "σ(x)²", "--at", "1", "π/4"]


def test_decoded_argv_leaves_other_arguments_alone() -> None:
    not_utf8 = b"x\xe9".decode("ascii", "surrogateescape")  # ISO-8859-1 é: not UTF-8 either
    lone = "x\ud800"  # a surrogate that is not an escaped byte
    argv = ["diff", "σ(x)²", "plain", not_utf8, lone, ""]
    assert decoded_argv(argv) == argv
    assert decoded_argv([]) == []


@pytest.mark.parametrize(
    ("encoding", "unicode"),
    [("utf-8", True), ("UTF-8", True), ("utf-16", True), ("ascii", False), ("latin-1", False), ("cp1252", False)],
)
def test_stream_is_unicode(encoding: str, unicode: bool) -> None:
    stream = io.TextIOWrapper(io.BytesIO(), encoding=encoding)
    assert stream_is_unicode(stream) is unicode
    stream.close()
    assert stream_is_unicode(stream) is False


def test_stream_is_unicode_without_a_stream_or_an_encoding() -> None:
    assert stream_is_unicode(None) is False
    assert stream_is_unicode(io.StringIO()) is True
    assert stream_is_unicode(object()) is False
    assert not PROBE.isascii()


# The console script in a locale that is not UTF-8.  These need the CLI wired (needs cli wiring):
#   args = startup.decoded_argv(sys.argv[1:])  and
#   Terminal(color=..., width=..., ascii=not startup.stream_is_unicode(sys.stdout)),
# and the error documents written with json_view.dumps(..., ascii=...).


def console_script() -> list[str]:
    script = Path(sys.executable).parent / "chainrule"
    return [str(script)] if script.exists() else [sys.executable, "-m", "chainrule"]


def iso_8859_1_locale() -> str | None:
    """An ISO-8859-1 locale installed on this machine, if there is one."""
    try:
        names = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return None
    return next((n for n in names if re.search(r"\.iso-?8859-?1$", n, re.IGNORECASE)), None)


TEXT_SETTINGS = ("PYTHONUTF8", "PYTHONIOENCODING", "PYTHONCOERCECLOCALE", "LANG", "LANGUAGE")


def locale_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_") and k not in TEXT_SETTINGS}
    env.update(settings)
    return env


C_LOCALE = locale_env(LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
_ISO = iso_8859_1_locale()
LATIN_1 = locale_env(LC_ALL=_ISO) if _ISO else locale_env(LC_ALL="C.UTF-8", PYTHONIOENCODING="latin-1")
UTF_8 = locale_env(LC_ALL="C.UTF-8", PYTHONUTF8="1")
LOCALES = {"C": C_LOCALE, "latin-1": LATIN_1}


def run_in(env: dict[str, str], *args: str) -> tuple[int, bytes, str]:
    command = [a.encode() for a in console_script()] + [a.encode("utf-8") for a in args]  # typed in UTF-8
    done = subprocess.run(command, capture_output=True, env=env, timeout=120)
    err = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and "UnicodeEncodeError" not in err, err
    return done.returncode, done.stdout, err


COMMANDS = [
    (("diff", "sin(x)^2", "--at", "1"), 0),
    (("diff", "sin(x)^2", "--at", "1", "--explain"), 0),
    (("diff", "sin(x)^2", "--at", "1", "--json"), 0),
    (("diff", "sin(x)^2", "--at", "1", "--format", "latex"), 0),
    (("diff", "sigmoid(sqrt(x))^2", "--at", "1", "--format", "markdown"), 0),
    (("diff", "sin(x)^2", "--at", "1", "--view", "sensitivity"), 0),
    (("grad", "c = a*b; loss = sigmoid(c)^2", "--at", "a=1,b=2"), 0),
    (("grad", "c = a*b; loss = sigmoid(c)^2", "--at", "a=1,b=2", "--explain"), 0),
    (("grad", "c = a*b; loss = sigmoid(c)^2", "--at", "a=1,b=2", "--json"), 0),
    (("graph", "sigmoid(x)^2", "--at", "1"), 0),
    (("graph", "sigmoid(x)^2", "--at", "1", "--format", "dot"), 0),
    (("check", "sin(x)^2", "2sin(x)cos(x)"), 0),
    (("check", "sin(x)^2", "2cos(x)"), 3),
    (("check", "sin(x)^2", "2cos(x)", "--json"), 3),
    (("diff", "sin(x)^2 + ∂", "--json"), 2),  # the error document quotes the input
]


@pytest.mark.parametrize("where", sorted(LOCALES))
@pytest.mark.parametrize(("args", "code"), COMMANDS, ids=[" ".join(a) for a, _ in COMMANDS])
def test_every_view_runs_in_a_locale_that_is_not_utf8(where: str, args: tuple[str, ...], code: int) -> None:
    # needs cli wiring
    returncode, out, _ = run_in(LOCALES[where], *args)
    assert returncode == code
    text = out.decode("ascii")  # ASCII forms and JSON escapes only
    assert text.strip()
    if "--json" in args:
        json.loads(text)


def test_unicode_typed_in_the_c_locale_is_read_as_typed() -> None:
    # needs cli wiring
    code, out, _ = run_in(C_LOCALE, "diff", "σ(x)²", "--at", "1", "--json")
    assert code == 0
    doc = json.loads(out.decode("ascii"))
    assert doc["input"] == "σ(x)²"
    assert doc["function"] == "sigmoid(x)**2"
    code, out, _ = run_in(C_LOCALE, "diff", "σ(x)²", "--at", "1")
    assert code == 0
    assert out.decode("ascii").splitlines()[0].startswith("y = sigma(x)^2")
    code, out, _ = run_in(C_LOCALE, "check", "σ(x)²", "2σ(x)·(1 − σ(x))·σ(x)")
    assert code == 0, out


def test_a_utf8_locale_keeps_the_notation() -> None:
    # needs cli wiring (the ASCII forms are only for a stream that cannot encode the notation)
    code, out, _ = run_in(UTF_8, "diff", "σ(x)²", "--at", "1")
    assert code == 0
    assert out.decode("utf-8").splitlines()[0].startswith("y = σ(x)²")
    code, out, _ = run_in(UTF_8, "diff", "σ(x)²", "--at", "1", "--json")
    assert json.loads(out.decode("utf-8"))["layers"][1]["local"][0]["identity"] == "d/du uⁿ = n·uⁿ⁻¹"
    assert "uⁿ" in out.decode("utf-8")  # not escaped where the stream can take it
