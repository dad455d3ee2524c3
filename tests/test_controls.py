"""The terminal never obeys user text: control characters are shown escaped in every echo.

ESC (and the sequences it starts: colours, cursor moves, OSC window titles), BEL, backspace,
carriage return, the other C0 and the C1 controls, DEL and the bidirectional overrides can
make a terminal redraw, ring, or show the characters in another order than they are: a
student's answer could then rewrite what a grader's terminal shows.  Every view, and every
message on stderr, writes them as escapes (\\x1b, \\u202e); JSON keeps the real characters
(its own escaping is what a JSON reader decodes).
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.errors import InputError, visible

# `run` holds no state between examples (a CliRunner), so one fixture may serve them all.
SHARED_RUN = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]

BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def obeyed(ch: str) -> bool:
    """The oracle: a character a terminal acts on (Unicode's control category, Cc) or one that
    reorders the text around it (the bidi controls, listed by hand from UAX #9)."""
    return unicodedata.category(ch) == "Cc" or ch in BIDI


def raw_controls(text: str, allowed: str = "\n\t") -> list[str]:
    return sorted({ch for ch in text if obeyed(ch) and ch not in allowed})


# Controls the parser reads as spaces reach the views (headings, the answer as typed); the others
# reach the error messages and their carets.
SPACES = st.sampled_from(["\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85"])
OTHERS = st.sampled_from(
    ["\x1b", "\x1b[31m", "\x1b[2J", "\x1b]0;owned\x07", "\x07", "\x08", "\x00", "\x7f", "\x9b", "\x9b2J", *BIDI]
)
CONTROLS = st.one_of(SPACES, SPACES, OTHERS, st.characters(codec="utf-8").filter(obeyed))

# Inputs that reach every echo: headings, notes (SIN, y = …, d/dx …, 30°, ln2x), carets.
EXPRESSIONS = ["sin((2x + 1)^2)", "SIN(x) ^ 2", "y = x^3", "d/dx x^3", "30° * x", "x*y + y^2", "ln2x", "e^sin(x)"]
ANSWERS = ["2cos(2x + 1)", "y' = 3x^2", "2x + C", "3x^2", "2 * cos(2x + 1)"]


@st.composite
def with_controls(draw: Any, texts: list[str]) -> str:
    """A text whose spaces may be tabs and whose ends may have controls that are stripped as spaces
    (it still parses), with controls of any kind inserted anywhere (it may not)."""
    words = draw(st.sampled_from(texts)).split(" ")
    text = "".join(word + draw(st.sampled_from(" \t")) for word in words[:-1]) + words[-1]
    text = draw(st.text(SPACES, max_size=2)) + text + draw(st.text(SPACES, max_size=2))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(CONTROLS) + text[at:]
    return text


FORMATS = {
    "diff": ["text", "explain", "markdown", "latex", "latex-document", "html", "json"],
    "grad": ["text", "explain", "markdown", "latex", "html", "json"],
    "check": ["text", "markdown", "latex", "latex-document", "html", "json"],
    "graph": ["mermaid", "dot"],
}


def assert_shown_escaped(code: int, out: str, err: str, fmt: str) -> None:
    assert code != 70, err
    if fmt == "json":
        json.loads(out)  # one strict document: JSON's own escaping
    else:
        assert raw_controls(out) == [], out
    assert raw_controls(err) == [], err


@settings(max_examples=60, suppress_health_check=SHARED_RUN)
@given(st.sampled_from(["diff", "grad", "graph"]), st.data(), with_controls(EXPRESSIONS))
def test_no_view_writes_a_control_character_from_the_expression(run: Any, command: str, data: Any, text: str) -> None:
    fmt = data.draw(st.sampled_from(FORMATS[command]))
    at = "x=1,y=2" if "y" in text else "1"
    code, out, err = run(command, text, "--at", at, "--format", fmt)
    assert_shown_escaped(code, out, err, fmt)


@settings(max_examples=60, suppress_health_check=SHARED_RUN)
@given(st.data(), with_controls(EXPRESSIONS), with_controls(ANSWERS), st.booleans())
def test_check_never_echoes_a_control_character_of_the_question_or_the_answer(
    run: Any, data: Any, expression: str, answer: str, spoiled: bool
) -> None:
    fmt = data.draw(st.sampled_from(FORMATS["check"]))
    question = expression if spoiled else "sin(2x+1)"
    code, out, err = run("check", question, answer, "--format", fmt)
    assert_shown_escaped(code, out, err, fmt)


@settings(max_examples=40, suppress_health_check=SHARED_RUN)
@given(with_controls(["x", "pi/4", "x=1,y=2", "x=0.5"]), st.sampled_from(["diff", "grad"]), st.booleans())
def test_a_point_with_control_characters_is_echoed_escaped(run: Any, at: str, command: str, json_: bool) -> None:
    code, out, err = run(command, "x*y" if "y" in at else "sin(x)", "--at", at, *(["--json"] if json_ else []))
    assert_shown_escaped(code, out, err, "json" if json_ else "text")


@settings(max_examples=30, suppress_health_check=SHARED_RUN)
@given(st.lists(with_controls(EXPRESSIONS), min_size=1, max_size=3))
def test_batch_error_documents_and_messages_show_control_characters_escaped(run: Any, lines: list[str]) -> None:
    source = "".join(line.replace("\n", " ").replace("\r", " ") + "\n" for line in lines)
    code, out, err = run("batch", "--at", "1", "--jobs", "1", stdin=source)
    assert code in (0, 1), err
    for line in out.splitlines():
        doc = json.loads(line)
        if "error" in doc:
            assert raw_controls(doc["error"]["message"], allowed="") == []  # the human text of the document
            assert raw_controls(doc["error"].get("hint", ""), allowed="") == []
    assert raw_controls(err) == []


@pytest.mark.parametrize("space", ["\x0c", "\x0b", "\x1c", "\x85", "\r"])  # read as spaces
def test_json_keeps_the_real_characters_and_the_text_view_escapes_them(run: Any, space: str) -> None:
    code, out, _ = run("check", f"sin(x){space}", "cos(x)", "--json")
    assert code == 0 and json.loads(out)["expression"] == f"sin(x){space}"
    code, out, _ = run("check", f"sin(x){space}", "cos(x)")
    assert code == 0 and out.splitlines()[0] == f"d/dx sin(x){visible(space)}" and raw_controls(out) == []


# --- the escape itself ------------------------------------------------------------------------------


@given(st.text(st.characters(codec="utf-8")))
def test_visible_escapes_exactly_the_characters_a_terminal_obeys(text: str) -> None:
    shown = visible(text)
    assert not any(obeyed(ch) for ch in shown)
    expected = "".join(
        {"\t": "\\t", "\n": "\\n", "\r": "\\r"}.get(ch, f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        if obeyed(ch)
        else ch
        for ch in text
    )
    assert shown == expected


@pytest.mark.parametrize(
    ("source", "position", "end", "shown", "caret"),
    [
        ("x\x1b+1", 1, None, "x\\x1b+1", " ^~~~"),  # the whole escape is the one character
        ("x\x1b+1", 2, None, "x\\x1b+1", "     ^"),
        ("a\u202eb + c", 2, 3, "a\\u202eb + c", "       ^"),
        ("a\u202eb + c", 1, 3, "a\\u202eb + c", " ^~~~~~~"),
        ("\x07\x07sin(x", 2, 8, "\\x07\\x07sin(x", "        ^~~~~"),
        ("x\t+ )", 4, None, "x\\t+ )", "     ^"),
    ],
)
def test_the_caret_stays_under_the_escaped_text(
    source: str, position: int, end: int | None, shown: str, caret: str
) -> None:
    assert InputError("bad", source=source, position=position, end=end).caret_lines() == [shown, caret]


@pytest.mark.parametrize(
    ("expression", "culprit"),
    [("sin(x) + \x1b x", "\\x1b"), ("sin(x) + \x1b]0;owned\x07 x", "]"), ("x\u202e\u202e + 1", "\\u202e")],
)
def test_the_caret_points_at_the_culprit_in_a_real_error(run: Any, expression: str, culprit: str) -> None:
    code, _, err = run("diff", expression, "--at", "1")
    assert code == 2
    echo, caret = err.splitlines()[1:3]
    assert echo.index(culprit) == caret.index("^")
    assert raw_controls(err) == []


def test_a_long_line_with_controls_keeps_its_window_and_caret() -> None:
    source = "x + " * 40 + "\x1b" + " + x" * 40
    shown, caret = InputError("bad", source=source, position=160).caret_lines()
    assert shown[caret.index("^") :].startswith("\\x1b") and shown.startswith("…") and shown.endswith("…")
