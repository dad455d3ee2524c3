"""Fuzzing the whole command line: no command, format, point or input ever crashes chainrule.

Every command (diff, grad, graph, check, batch) runs in-process through typer's CliRunner
on expressions and let-binding programs generated from a small grammar, and on broken
variants of them (characters deleted, inserted or swapped).  Every run must:

- never exit 70 (an internal error) nor raise anything but SystemExit;
- never print "Traceback" or "internal error" on stdout or stderr;
- with --json or --format json, print exactly one strict JSON document (no NaN, no
  Infinity): an object with a "schema" key; batch prints one such object per line.

Usage errors (exit 2), mathematical problems and timeouts (exit 1) and wrong answers
(exit 3) are all fine.  Each command gets a small --timeout so that no input can hang.

The default run is derandomized and small enough for CI.  For a longer, random run, set
CHAINRULE_FUZZ_EXAMPLES to the number of examples per test:

    CHAINRULE_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz.py
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

import chainrule.names
from chainrule.cli import app

# ---------------------------------------------------------------------------
# Settings: derandomized and bounded by default, longer and random on request.

_LONG_RUN = os.environ.get("CHAINRULE_FUZZ_EXAMPLES")

settings.register_profile(
    "chainrule-fuzz",
    derandomize=_LONG_RUN is None,
    deadline=None,
    print_blob=True,
    # A failure shrinks to one small example; CI need not explain it nor shrink a second bug.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
_PROFILE = settings.get_profile("chainrule-fuzz")


def fuzz(examples: int) -> settings:
    """The fuzz profile with `examples` examples, or CHAINRULE_FUZZ_EXAMPLES when it is set."""
    return settings(_PROFILE, max_examples=int(_LONG_RUN) if _LONG_RUN else examples)


TIMEOUT = "2"  # seconds per command (per line for batch): a timeout is exit 1, which is fine

# ---------------------------------------------------------------------------
# The grammar of valid expressions.

NUMBERS = ["0", "1", "2", "3", "0.5", "2.5", "1e3"]
VARIABLES = ["x", "y", "a", "b", "w"]
CONSTANTS = ["pi", "e"]
SUPERSCRIPTED = ["x²", "y³", "w²", "a²"]
FUNCTIONS = [
    "sin",
    "cos",
    "tan",
    "exp",
    "log",
    "ln",
    "sqrt",
    "abs",
    "tanh",
    "sigmoid",
    "relu",
    "softplus",
    "asin",
    "acos",
    "atan",
    "cbrt",
    "sec",
]
ABSTRACT = ["f", "g"]
OPERATORS = ["+", "-", "*", "/", "^"]

# Every spelling of a scalar function the parser reads inside a word: sin, arcsin, ln, log2, Abs
# (sum, mean and norm2 are functions of vectors only when called: otherwise they are names).
GLUE_NAMES = sorted(
    name
    for name in (*chainrule.names.FUNCTIONS, *chainrule.names.ALIASES)
    if name.isascii() and name.isalnum() and name not in chainrule.names.TENSOR_FUNCTIONS
)


@st.composite
def glued_words(draw: st.DrawFn) -> str:
    """A function's name glued to digits and letters, as people type it: sin2x, 2cos3x^2, xlog2t,
    tanh10xy, log23x, sin2.5x, atan2x, max2x, e^-2x."""
    prefix = draw(st.sampled_from(["", "", "2", "x", "-", "e^", "e^-", "1/"]))
    name = draw(st.sampled_from(GLUE_NAMES))
    digits = draw(st.sampled_from(["", "0", "1", "2", "3", "10", "23", "100", "2.5", "05"]))
    letters = draw(st.sampled_from(["x", "y", "t", "xy", "x2", "", "e", "pi", "xcos3x", "(x)"]))
    power = draw(st.sampled_from(["", "", "^2", "²", "^-1"]))
    return f"{prefix}{name}{digits}{letters}{power}"


leaves: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(NUMBERS + VARIABLES + CONSTANTS + SUPERSCRIPTED),
    st.builds(lambda n, v: n + v, st.sampled_from(["2", "3", "0.5"]), st.sampled_from(VARIABLES)),  # 2x
    glued_words(),
)


def _binary(op: str, spaced: bool, left: str, right: str) -> str:
    gap = " " if spaced else ""
    return f"({left}){gap}{op}{gap}({right})"


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(_binary, st.sampled_from(OPERATORS), st.booleans(), children, children),
        st.builds("-({})".format, children),  # unary minus
        st.builds("2({})".format, children),  # implicit multiplication
        st.builds("({})({})".format, children, children),
        st.builds("{}({})".format, st.sampled_from(FUNCTIONS), children),
        st.builds("log({}, 10)".format, children),
        st.builds("|{}|".format, children),
        st.builds("{}({})".format, st.sampled_from(ABSTRACT), children),
        st.builds("({})²".format, children),
    )


expressions: st.SearchStrategy[str] = st.recursive(leaves, _extend, max_leaves=5)

BINDING_NAMES = ["c", "d", "h", "k", "z"]


@st.composite
def programs(draw: st.DrawFn) -> str:
    """Let-bindings like "c = a*b; d = c + 1; loss = d^2", each using an earlier name, some unused."""
    count = draw(st.integers(1, len(BINDING_NAMES)))
    available = list(VARIABLES)
    bindings: list[str] = []
    for name in BINDING_NAMES[:count]:
        used = draw(st.sampled_from(available))
        body = draw(st.sampled_from([used, f"{used} {draw(st.sampled_from(OPERATORS))} ({draw(expressions)})"]))
        bindings.append(f"{name} = {body}")
        available.append(name)
    if draw(st.booleans()):
        position = draw(st.integers(0, len(bindings)))
        bindings.insert(position, f"unused = {draw(expressions)}")
    bindings.append(f"loss = {draw(st.sampled_from(available[len(VARIABLES) :]))}^2")
    return draw(st.sampled_from(["; ", ";"])).join(bindings)


# ---------------------------------------------------------------------------
# Broken inputs: valid ones with characters deleted, inserted or swapped.

INSERTABLE = "()|^*+-/,;=[]{}\\. xyzab019e" + "²³·−πθ√"


@st.composite
def broken(draw: st.DrawFn, valid: st.SearchStrategy[str]) -> str:
    text = draw(valid)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["delete", "insert", "swap"]))
        if kind == "insert" or not text:
            i = draw(st.integers(0, len(text)))
            text = text[:i] + draw(st.sampled_from(INSERTABLE)) + text[i:]
        elif kind == "delete":
            i = draw(st.integers(0, len(text) - 1))
            text = text[:i] + text[i + 1 :]
        else:
            i, j = sorted((draw(st.integers(0, len(text) - 1)), draw(st.integers(0, len(text) - 1))))
            text = text[:i] + text[j] + text[i + 1 : j] + text[i] + text[j + 1 :] if i != j else text
    return text


# ---------------------------------------------------------------------------
# Programs on vectors and matrices, with the shapes and values they may be given.

TENSOR_NAMES = ["W", "x", "b", "y", "E", "A"]
TENSOR_LEAVES = [*TENSOR_NAMES, "W.T", "E[1]", "x[0]", "A[0, 1]", "[1, 2]", "[[1, 2], [3, 4]]", "2", "0.5"]
TENSOR_FUNCTIONS = ["relu", "tanh", "sigmoid", "exp", "log", "sqrt", "abs", "softmax", "log_softmax"]
REDUCTIONS = ["sum", "mean", "norm2"]


def _tensor_extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds("({}) @ ({})".format, children, children),
        st.builds(_binary, st.sampled_from(OPERATORS), st.booleans(), children, children),
        st.builds("{}({})".format, st.sampled_from(TENSOR_FUNCTIONS + REDUCTIONS), children),
        st.builds("({}).T".format, children),
        st.builds("({})[1]".format, children),
        st.builds("mse({}, {})".format, children, children),
        st.builds("cross_entropy({}, 1)".format, children),
    )


tensor_expressions: st.SearchStrategy[str] = st.recursive(st.sampled_from(TENSOR_LEAVES), _tensor_extend, max_leaves=5)


@st.composite
def tensor_programs(draw: st.DrawFn) -> str:
    """h = relu(W @ x + b); L = sum(h): a binding, then a reduction to one number."""
    first = draw(tensor_expressions)
    return f"h = {first}; L = {draw(st.sampled_from(REDUCTIONS))}(h)"


tensor_inputs: st.SearchStrategy[str] = st.one_of(tensor_programs(), broken(tensor_programs()))
inputs: st.SearchStrategy[str] = st.one_of(expressions, broken(expressions))
program_inputs: st.SearchStrategy[str] = st.one_of(programs(), expressions, broken(programs()), broken(expressions))

# ---------------------------------------------------------------------------
# Options.

FORMATS = ["text", "explain", "json", "latex", "markdown", "html", "latex-document"]
POINTS = [
    "0.7",
    "0",
    "1",
    "-1",
    "pi/4",
    "1e3",
    "x=0.7,y=1.3",
    "x=0.7,y=1.3,a=0.4,b=2,w=-0.5",
    "x=1",
    "x=0",
    "nan",
    "inf",
    "1e999",
    "x=",
    "x=1,x=2",
]
maybe_point: st.SearchStrategy[list[str]] = st.one_of(st.just([]), st.sampled_from(POINTS).map(lambda p: ["--at", p]))
output: st.SearchStrategy[list[str]] = st.sampled_from(
    [[], ["--json"], ["--explain"], ["--explain", "--json"]] + [["--format", f] for f in FORMATS]
)
GRAPHS = ["mermaid", "dot"]  # grad writes these too, on numbers and on tensors
every_output: st.SearchStrategy[list[str]] = st.sampled_from(
    [[], ["--json"], ["--explain"], ["--explain", "--json"]] + [["--format", f] for f in [*FORMATS, *GRAPHS]]
)
check_output: st.SearchStrategy[list[str]] = st.sampled_from([[], ["--json"]] + [["--format", f] for f in FORMATS])


def flag(present: st.SearchStrategy[bool], *words: str) -> st.SearchStrategy[list[str]]:
    return present.map(lambda on: list(words) if on else [])


def optional(option: str, values: Sequence[str]) -> st.SearchStrategy[list[str]]:
    return st.one_of(st.just([]), st.sampled_from(values).map(lambda v: [option, v]))


def joined(*parts: st.SearchStrategy[list[str]]) -> st.SearchStrategy[list[str]]:
    return st.tuples(*parts).map(lambda lists: [word for words in lists for word in words])


diff_options = joined(
    output,
    maybe_point,
    optional("--wrt", ["x", "y", "a"]),
    flag(st.booleans(), "--order", "2"),
    flag(st.booleans(), "--view", "sensitivity"),
    flag(st.booleans(), "--granularity", "ops"),
)
grad_options = joined(
    every_output,
    maybe_point,
    optional("--wrt", ["x", "x,y", "a,b,w", "c"]),
    flag(st.booleans(), "--granularity", "ops"),
    flag(st.booleans(), "--full"),
    flag(st.booleans(), "--view", "sensitivity"),
)
graph_options = joined(
    optional("--format", ["mermaid", "dot"]), maybe_point, flag(st.booleans(), "--granularity", "ops")
)


@st.composite
def tensor_options(draw: st.DrawFn, program: str) -> list[str]:
    """--shape or --at for the names the program uses (sizes that usually fit, sometimes not)."""
    n, m = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dims = {"W": (m, n), "x": (n,), "b": (m,), "y": (m,), "E": (3, n), "A": (n, n)}
    used = [name for name in TENSOR_NAMES if re.search(rf"\b{name}\b", program)]
    wrong = st.sampled_from(["2", "1x3", "0", "x", "scalar", "[1, 2", "[[1], [2, 3]]", "[]", "nan"])
    entry = st.sampled_from(["0", "1", "-1", "0.5", "2", "-3", "1e3"])

    def value(shape: tuple[int, ...]) -> str:
        if len(shape) == 1:
            return "[" + ", ".join(draw(entry) for _ in range(shape[0])) + "]"
        return "[" + ", ".join(value(shape[1:]) for _ in range(shape[0])) + "]"

    by_shape = draw(st.integers(0, 3)) < 3
    pairs = []
    for name in used:
        if draw(st.integers(0, 9)) == 9:  # hypothesis favours 0: the rare case is the last
            pairs.append(f"{name}={draw(wrong)}")
        else:
            pairs.append(f"{name}={'x'.join(map(str, dims[name]))}" if by_shape else f"{name}={value(dims[name])}")
    if draw(st.integers(0, 9)) == 9:
        pairs.append("q=2")
    values = ["--shape" if by_shape else "--at", ",".join(pairs) or "W=2"]
    seed = optional("--seed", ["0", "1", "-3"]) if by_shape else st.just([])
    wrt = optional("--wrt", [*used[:1], ",".join(used[:2]), "q"] if used else ["q"])
    sensitivity = flag(st.booleans(), "--view", "sensitivity")
    return [*values, *draw(joined(every_output, seed, wrt, flag(st.booleans(), "--full"), sensitivity))]


# Every option of every command, to mix freely: unsupported pairs may exit 2.
ANY_OPTION: list[list[str]] = (
    [["--json"], ["--explain"], ["--view", "sensitivity"], ["--order", "2"], ["--order", "0"], ["--order", "-1"]]
    + [["--full"], ["--latex-document"], ["--window", "0,1"], ["--window", "1,0"]]
    + [["--format", f] for f in [*FORMATS, "mermaid", "dot", "csv"]]
    + [["--at", p] for p in POINTS[:4]]
    + [["--wrt", v] for v in ["x", "x,y", "q"]]
    + [["--granularity", g] for g in ["functions", "ops"]]
    + [["--memory", m] for m in ["1G", "1k", "nan"]]
    + [["--plot", p] for p in ["/nonexistent/folder/x.png", "x.gif"]]
)

# ---------------------------------------------------------------------------
# Running the CLI and the invariants of every run.

runner = CliRunner()


def _reject(name: str) -> Any:
    raise ValueError(f"not strict JSON: {name}")


def strict_json(text: str) -> Any:
    return json.loads(text, parse_constant=_reject)


def wants_json(args: Sequence[str]) -> bool:
    pairs = itertools.pairwise(args)
    return "--json" in args or "--format=json" in args or any(a == "--format" and b == "json" for a, b in pairs)


def describe(args: Sequence[str], result: Result) -> str:
    first = (result.stderr.strip().splitlines() or [""])[0]
    return f"chainrule {shlex.join(args)}  ->  exit {result.exit_code}; stderr: {first}"


def invoke(args: Sequence[str], stdin: str | None = None) -> Result:
    """Run the CLI with `args` and check the invariants every run must keep."""
    result = runner.invoke(app, list(args), input=stdin)
    where = describe(args, result)
    assert result.exit_code != 70, where
    assert result.exception is None or isinstance(result.exception, SystemExit), f"{where}: {result.exception!r}"
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream, where
        assert "internal error" not in stream, where
    if wants_json(args):
        try:
            doc = strict_json(result.stdout)
        except ValueError as err:
            raise AssertionError(f"{where}; stdout is not one strict JSON document ({err})") from None
        assert isinstance(doc, dict), where
        assert "schema" in doc, where
    return result


# ---------------------------------------------------------------------------
# The fuzz tests.


@fuzz(600)
@given(expression=inputs, options=diff_options)
def test_diff_never_crashes_for_any_expression_format_or_point(expression: str, options: list[str]) -> None:
    invoke(["diff", expression, *options, "--timeout", TIMEOUT])


@fuzz(300)
@given(expression=program_inputs, options=grad_options)
def test_grad_never_crashes_for_any_program_format_or_point(expression: str, options: list[str]) -> None:
    invoke(["grad", expression, *options, "--timeout", TIMEOUT])


@fuzz(250)
@given(data=st.data(), expression=tensor_inputs)
def test_grad_on_tensors_never_crashes_for_any_program_shape_or_format(data: st.DataObject, expression: str) -> None:
    invoke(["grad", expression, *data.draw(tensor_options(expression)), "--timeout", TIMEOUT])


@fuzz(60)
@given(data=st.data(), expression=tensor_inputs, fmt=st.sampled_from(["mermaid", "dot"]))
def test_graph_on_tensors_never_crashes(data: st.DataObject, expression: str, fmt: str) -> None:
    values = data.draw(tensor_options(expression))[:2]
    invoke(["graph", expression, *values, "--format", fmt, "--timeout", TIMEOUT])


@fuzz(250)
@given(expression=program_inputs, options=graph_options)
def test_graph_never_crashes_in_mermaid_or_dot(expression: str, options: list[str]) -> None:
    invoke(["graph", expression, *options, "--timeout", TIMEOUT])


@fuzz(250)
@given(
    expression=inputs,
    answer=st.one_of(st.just(None), inputs),
    wrt=optional("--wrt", ["x", "y"]),
    options=check_output,
)
def test_check_never_crashes_on_a_right_or_a_wrong_answer(
    expression: str, answer: str | None, wrt: list[str], options: list[str]
) -> None:
    if answer is None:  # the right answer: diff's own derivative, when it has one
        result = invoke(["diff", expression, *wrt, "--json", "--timeout", TIMEOUT])
        derivative = strict_json(result.stdout).get("derivative")
        found = derivative.get("expression") if isinstance(derivative, dict) else None
        answer = found if isinstance(found, str) else "0"
    invoke(["check", expression, answer, *wrt, *options, "--timeout", TIMEOUT])


@st.composite
def batch_lines(draw: st.DrawFn) -> str:
    """A plain expression, a JSON request, a comment, a blank line or broken JSON."""
    kind = draw(st.sampled_from(["plain", "request", "comment", "blank", "bad json"]))
    if kind == "plain":
        return draw(inputs)
    if kind == "comment":
        return "# " + draw(expressions)
    if kind == "blank":
        return draw(st.sampled_from(["", "   "]))
    if kind == "bad json":
        return draw(st.sampled_from(['{"expression": ', "{}", '{"expression": 3}', '{"at": "x"}', "{nan}"]))
    request: dict[str, Any] = {"expression": draw(inputs)}
    at = draw(st.sampled_from([None, 0.7, "0.7", {"x": 0.7}, {"x": 0.7, "y": 1.3}, {"q": 1}, [1], True]))
    if at is not None:
        request["at"] = at
    wrt = draw(st.sampled_from([None, "x", "y", 3]))
    if wrt is not None:
        request["wrt"] = wrt
    return json.dumps(request, ensure_ascii=draw(st.booleans()))


@fuzz(120)
@given(
    lines=st.lists(batch_lines(), min_size=1, max_size=4),
    options=joined(maybe_point, optional("--wrt", ["x", "y"])),
    source=st.sampled_from(["stdin", "dash", "file"]),
)
def test_batch_answers_every_line_with_one_strict_json_object(
    lines: list[str], options: list[str], source: str
) -> None:
    text = "\n".join(lines) + "\n"
    args = ["batch", *options, "--timeout", TIMEOUT]
    with tempfile.TemporaryDirectory() as folder:
        if source == "file":
            path = Path(folder) / "lines.txt"
            path.write_text(text, encoding="utf-8")
            result = invoke([*args, str(path)])
        else:
            result = invoke(args + (["-"] if source == "dash" else []), stdin=text)
    where = describe(args, result)
    # NDJSON lines end at "\n" only: str.splitlines would also split at U+2028 inside a string.
    docs = [strict_json(line) for line in result.stdout.split("\n")[:-1]]
    if result.exit_code == 2:  # the options as a whole are refused: no line is read
        assert docs == [], where
        return
    assert [doc["line"] for doc in docs] == list(range(1, text.count("\n") + 1)), where  # one for every input line
    for doc in docs:
        assert "schema" in doc or set(doc) == {"line", "skipped"}, where
    assert result.stdout.endswith("\n"), where


@fuzz(250)
@given(
    command=st.sampled_from(["diff", "grad", "check", "graph", "batch"]),
    expression=program_inputs,
    answer=inputs,
    options=st.lists(st.sampled_from(ANY_OPTION), max_size=4),
    dash=st.booleans(),
)
def test_no_command_and_flag_combination_ever_crashes(
    command: str, expression: str, answer: str, options: list[list[str]], dash: bool
) -> None:
    """With `dash`, the expression is '-' and comes on standard input, as a long program would."""
    given = "-" if dash else expression
    arguments = [given, answer] if command == "check" else [] if command == "batch" else [given]
    flags = [word for words in options for word in words]
    invoke([command, *arguments, *flags, "--timeout", TIMEOUT], stdin=expression + "\n")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("shortcut", ["--json", "--explain"])
@pytest.mark.parametrize(
    "command", [["diff", "sin(x^2)", "--at", "1"], ["grad", "c = x*y; loss = c^2"], ["check", "x^2", "2x"]]
)
def test_every_output_flag_combination_keeps_the_json_promise(command: list[str], shortcut: str, fmt: str) -> None:
    invoke([*command, shortcut, "--format", fmt, "--timeout", TIMEOUT])


TENSOR_PROGRAMS = [
    ["z = W @ x + b; h = tanh(z); L = sum(h^2)", "--shape", "W=3x2,x=2,b=3", "--seed", "0"],
    ["h = relu(W @ x); L = mean(h)", "--shape", "W=8x5,x=5"],  # summarised: more entries than a table shows
    ["p = softmax(W @ x); L = cross_entropy(W @ x, 1)", "--at", "W=[[1, 2], [3, 4]],x=[0.5, -1]"],
    ["L = sum(x^2)", "--at", "x=[0, 0]"],  # every adjoint 0: the sensitivity's factors are 0
]
TENSOR_FLAGS = [[], ["--full"], ["--view", "sensitivity"], ["--json"], ["--explain"], ["--latex-document"]]


@pytest.mark.parametrize("fmt", [*FORMATS, *GRAPHS, "csv"])
@pytest.mark.parametrize("extra", TENSOR_FLAGS, ids=[" ".join(f) or "plain" for f in TENSOR_FLAGS])
@pytest.mark.parametrize("program", TENSOR_PROGRAMS, ids=[p[0][:24] for p in TENSOR_PROGRAMS])
def test_every_format_and_flag_on_a_tensor_program_works_or_names_the_formats(
    program: list[str], extra: list[str], fmt: str
) -> None:
    """A valid tensor program in every format with every flag: it is written (strict JSON for
    json), or it is a usage error naming what was asked for or the formats that exist."""
    for command in ("grad", "graph"):
        flags = extra if command == "grad" else []
        result = invoke([command, *program, *flags, "--format", fmt, "--timeout", TIMEOUT])
        where = describe([command, *program, *flags, "--format", fmt], result)
        if result.exit_code == 0:
            assert result.stdout.strip(), where
            continue
        assert result.exit_code == 2, where
        assert (
            f"has no '{fmt}' format" in result.stderr
            or "choose one format" in result.stderr
            or ("--latex-document" in result.stderr)
        ), where
        if "has no" in result.stderr:
            assert "writes: " in result.stderr, where


# ---------------------------------------------------------------------------
# Known-hard inputs: each must end without an internal error.

PROGRAM = "a = x^2; b = x^3; c = a + 1"
KNOWN_HARD: list[tuple[list[str], int | None]] = [
    (["grad", PROGRAM, "--at", "x=1"], None),
    (["graph", PROGRAM, "--at", "x=1"], None),
    (["diff", "f(x^2)"], None),
    (["diff", "f(2x)"], None),
    (["grad", "f(sin(x))"], None),
    (["graph", "f(x^2)"], None),
    (["check", "f(x^2)", "2x"], None),
    (["check", "3", "3"], None),
    (["check", "pi", "pi"], None),
    (["diff", "x + sin(y)", "--wrt", "x", "--at", "x=1,y=2", "--explain"], None),
    (["diff", "x*exp(y)", "--wrt", "x", "--explain"], None),
    (["check", "log(x^2+1, 10)", "2x/(x^2+1)"], None),
    (["diff", "y+f+out+result", "--wrt", "y"], None),
    (["diff", "u*v*w*t*layer", "--wrt", "u"], None),
    (["diff", "sin(x)*softplus(3)", "--at", "1", "--order", "2", "--json"], None),
    (["grad", "x", "--format", "csv"], 2),
    (["check", "sin(x)", "cos(x)", "--format", "explain"], None),
    (["diff", "sin(x)", "--at", "1", "--view", "sensitivity", "--format", "latex"], None),
]


@pytest.mark.parametrize(("args", "expected"), KNOWN_HARD, ids=[shlex.join(args) for args, _ in KNOWN_HARD])
def test_known_hard_input_ends_without_an_internal_error(args: list[str], expected: int | None) -> None:
    result = invoke([*args, "--timeout", TIMEOUT])
    if expected is not None:
        assert result.exit_code == expected, describe(args, result)


# ---------------------------------------------------------------------------
# Glued names: a function's name run together with a number is never read as a variable.


@fuzz(300)
@given(word=glued_words(), point=st.sampled_from([[], ["--at", "0.3"], ["--at", "x=0.3,y=1.3,t=0.2"]]))
def test_a_glued_name_is_read_as_functions_or_refused_never_as_a_variable(word: str, point: list[str]) -> None:
    """sin2x is sin(2x), log2x is log2(x); log23x and sinx2 are refused with a caret.  Whatever
    the outcome, no variable of the result holds a function's name and a digit."""
    result = invoke(["diff", word, *point, "--json", "--timeout", TIMEOUT])
    where = describe(["diff", word, *point], result)
    if result.exit_code == 2:
        return  # refused: a clash (log23x), a function that needs parentheses (max2x), a usage error
    doc = strict_json(result.stdout)
    variables = [doc["variable"], *(doc.get("point") or {})] if "variable" in doc else []
    for variable in variables:
        assert not any(
            re.search(rf"{name}[0-9]", variable) or (name in variable and not name.isalpha()) for name in GLUE_NAMES
        ), f"{where}: the variable {variable!r}"
