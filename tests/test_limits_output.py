"""Output stays proportional to what it shows: printing is linear, error messages are bounded.

Printing a formula builds a rope and joins it once, so a chain of 99,999 minus
signs prints in tens of megabytes, not the gigabytes of one string per node.
An error echoes a window of about 200 characters around the caret, and quotes
user text shortened with "…", so a 40 KB input never comes back whole.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from subprocess import PIPE
from typing import Any

import pytest

from chainrule.errors import InputError, quoted
from chainrule.graph import build_graph
from chainrule.printing import form
from chainrule.syntax import parse_program

CHAINRULE = [sys.executable, "-m", "chainrule"]
BIG = 40_000
NAME = "a" * BIG  # a 40 KB identifier

# --------------------------------------------------------------------------- printing

# Measured: form() peaks at about 31 MB for this chain (tracemalloc); joining a string
# at every node peaked at 5 GB.  The address-space cap makes the quadratic version
# fail in seconds instead of taking the machine's memory.
FORM_PEAK_LIMIT = 60_000_000

PROBE = textwrap.dedent(
    """
    import resource, sys, tracemalloc
    from chainrule.printing import form
    from chainrule.syntax import parse

    n = 99_999
    expr = parse("-" * n + "x")
    try:
        with open("/proc/self/status") as status:
            size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
        resource.setrlimit(resource.RLIMIT_AS, (size + 1_500_000_000, resource.RLIM_INFINITY))
    except (OSError, ValueError, StopIteration):
        pass  # no /proc or no limit: the tracemalloc bound still decides
    sys.setrecursionlimit(200)  # printing recurses nowhere, however deep the formula
    tracemalloc.start()
    text = form(expr.nodes, range(len(expr.nodes)), {}, "plain")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(peak, text == "-" * n + "x")
    """
)


def test_printing_a_chain_of_99999_minus_signs_takes_linear_memory() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    peak, same = done.stdout.split()
    assert same == "True"
    assert int(peak) < FORM_PEAK_LIMIT, f"form() peaked at {int(peak) / 1e6:.0f} MB"


def test_a_subexpression_used_twice_prints_twice() -> None:
    """Nodes the DAG shares are joined once and repeated, as the text repeats them."""
    program = parse_program("a1 = x*x; a2 = a1*a1; a3 = sin(a2)/a2; loss = a3 - a3^2")
    g = build_graph(program.expr, "functions", program.bindings)
    whole = g.subtree(g.output)
    assert form(g.dag, whole, g.names, "pretty") == "sin(x·x·(x·x))/(x·x·(x·x)) - (sin(x·x·(x·x))/(x·x·(x·x)))²"
    assert form(g.dag, whole, g.names, "plain") == "sin(x*x*(x*x))/(x*x*(x*x)) - (sin(x*x*(x*x))/(x*x*(x*x)))**2"
    assert [form(g.dag, layer.ops, g.names, "pretty") for layer in g.layers] == [
        "x·x",
        "a1·a1",
        "sin(a2)",
        "u1/a2",
        "a3²",
        "a3 - u2",
    ]


def test_a_doubling_program_prints_its_whole_text() -> None:
    program = parse_program("; ".join(["a1 = x + 1", *(f"a{k} = a{k - 1}*a{k - 1}" for k in range(2, 12))]))
    g = build_graph(program.expr, "functions", program.bindings)
    text = form(g.dag, g.subtree(g.output), g.names, "plain")
    assert text.count("x + 1") == 2**10
    assert len(text) == 2**10 * len("(x + 1)") + (2**10 - 1) * len("*") + 2 * (2**9 - 1)


# --------------------------------------------------------------------------- the caret window


def caret(source: str, position: int, end: int | None = None) -> list[str]:
    return InputError("bad", source=source, position=position, end=end).caret_lines()


def test_a_short_input_is_echoed_whole() -> None:
    assert caret("2*sinn(x)+1", 2, 6) == ["2*sinn(x)+1", "  ^~~~"]


@pytest.mark.parametrize(
    ("position", "width"),
    [(0, BIG), (0, 1), (10, 5_000), (20_000, 1), (20_000, 5_000), (20_000, 100), (BIG - 3, 3), (BIG, 1)],
)
def test_a_long_line_is_echoed_as_a_window(position: int, width: int) -> None:
    source = "".join(chr(ord("a") + k % 26) for k in range(BIG))
    shown, underline = caret(source, position, position + width)
    assert len(shown) <= 202 and len(underline) <= 202
    assert shown.replace("…", "") in source
    pad = underline.index("^")
    marked = len(underline.rstrip("…")) - pad  # the caret and its tildes
    assert underline.rstrip("…") == " " * pad + "^" + "~" * (marked - 1)
    for k in range(min(marked, BIG - position)):
        assert shown[pad + k] == source[position + k]  # every mark under its character
    if underline.endswith("…"):  # the span goes on past the window: both lines end in one column
        assert marked < width and len(underline) == len(shown) and shown.endswith("…")
    else:
        assert marked == max(1, min(width, BIG - position))


def test_the_window_keeps_the_position_on_a_later_line() -> None:
    source = "x\n" + "y" * 10_000 + "\nz"
    shown, underline = caret(source, 2 + 5_000, 2 + 5_004)
    assert len(shown) <= 202 and shown.startswith("…") and shown.endswith("…")
    assert underline.strip() == "^~~~" and underline.index("^") == 61


def test_quoted_shortens_user_text() -> None:
    assert quoted("sinn") == "'sinn'"
    assert quoted("sinn", bare=True) == "sinn"
    assert quoted(NAME) == "'" + "a" * 59 + "…'"
    assert quoted(NAME, 10, bare=True) == "a" * 9 + "…"
    assert quoted("it's") == '"it\'s"'  # repr's own quoting


# --------------------------------------------------------------------------- 40 KB inputs through the CLI

CASES: dict[str, list[str]] = {
    "unknown function": ["diff", NAME + "(x)"],
    "a bad character far in": ["diff", "x + " + "@" * BIG],
    "a number 40,000 digits long": ["diff", "1" * BIG + "x"],
    "too many layers": ["diff", "-" * BIG + "x", "--granularity", "ops"],
    "--at: a long number": ["diff", "x", "--at", "1" * BIG],
    "--at: a long expression": ["diff", "x", "--at", "x=" + "y+" * (BIG // 2) + "1"],
    "--at: an unknown long name": ["diff", "x", "--at", NAME + "=1"],
    "check: an answer with a bad character": ["check", "sin(x)", "cos(x)+" + "@" * BIG],
    "check: an answer with an unknown name": ["check", "sin(x)", NAME],
    "check: an answer with an unknown function": ["check", "sin(x)", NAME + "(x)"],
    "grad: a long binding compounded before it is defined": ["grad", f"{NAME} += x"],
    "grad: a long binding used before it is defined": ["grad", f"y = {NAME} + 1; {NAME} = x"],
    "grad: --wrt a long name": ["grad", "x*y", "--wrt", NAME],
    "diff: --wrt a long name": ["diff", "x", "--wrt", NAME],
    "diff: a long variable, --wrt another": ["diff", NAME + "+x", "--wrt", "z"],
    "diff: a long --format": ["diff", "x", "--format", NAME],
    "diff: a long --order": ["diff", "x", "--order", NAME],
    "diff: a long --granularity": ["diff", "x", "--granularity", NAME],
}
KNOWN: dict[str, str] = {}  # cases still echoed whole, and where


def both(*commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """Run the commands side by side: each is half a second of start-up."""
    runs = [subprocess.Popen([*CHAINRULE, *args], stdout=PIPE, stderr=PIPE, text=True) for args in commands]
    done = []
    for run in runs:
        out, err = run.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(run.args, run.returncode, out, err))
    return done


def strict(text: str) -> Any:
    def refuse(name: str) -> None:
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, marks=pytest.mark.xfail(reason=KNOWN[c], strict=True)) if c in KNOWN else c for c in CASES],
)
def test_a_40kb_input_is_never_echoed_whole(case: str) -> None:
    args = CASES[case]
    text, as_json = both(args, [*args, "--json"])
    assert text.returncode == 2, text.stderr[:500]
    assert text.stdout == ""
    # ours ("error: ...") or the option parser's ("Usage: ...", then "Error: ...")
    assert text.stderr.lower().count("error: ") == 1 and "Traceback" not in text.stderr
    assert len(text.stderr) < 1_000, text.stderr[:500]
    assert as_json.returncode == 2
    assert len(as_json.stdout) < 2_000, as_json.stdout[:500]
    assert len(as_json.stderr) < 1_000, as_json.stderr[:500]
    doc = strict(as_json.stdout)
    assert doc["error"]["kind"] in {"parse", "usage"}
    assert len(doc["error"]["message"]) < 400
