"""The Python API and the Dask function run under the command line's budgets, in any thread, and
calls from several threads at once give exactly what they give one by one."""

from __future__ import annotations

import inspect
import json
import math
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer

from chainrule import api, budget
from chainrule.batch import Settings, result_line
from chainrule.cli import app
from chainrule.errors import ChainruleError, MathError, OutOfTime, UsageError

# About 7 s of CPU time without a budget (a tower of 3,000 powers at 1), and quick to stop.
SLOW = "x" + "^x" * 3000
# Well beyond the default budget (about 15 s without one), however warm SymPy's caches are.
SLOWER = "x" + "^x" * 8000
# About 80 MB above what chainrule holds at start, at about 10 MB a second.
DEEP = "sin(" * 14000 + "x" + ")" * 14000


def in_a_thread(work: Callable[[], Any]) -> Any:
    """work() in a thread other than the main one: its value, or the exception it raised."""
    found: list[Any] = []

    def run() -> None:
        try:
            found.append(work())
        except BaseException as err:
            found.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive()
    return found[0]


def cpu_time_of(work: Callable[[], Any]) -> tuple[Any, float]:
    """work()'s value (or exception) and the CPU time of the thread that ran it."""
    start = time.thread_time()
    try:
        value = work()
    except ChainruleError as err:
        value = err
    return value, time.thread_time() - start


# --- (1) the default budget ------------------------------------------------------------------------


def test_the_defaults_are_the_command_lines_own_constants() -> None:
    for function in (api.differentiate, api.gradient, api.check):
        parameters = inspect.signature(function).parameters
        assert parameters["timeout"].default is budget.DEFAULT_SECONDS
        assert parameters["memory"].default is budget.DEFAULT_MEMORY
    command = typer.main.get_command(app)
    for name, sub in command.commands.items():  # type: ignore[attr-defined]
        for param in sub.params:
            if param.name == "timeout":
                assert param.default == budget.DEFAULT_SECONDS, name


def test_the_issues_tower_ends_at_once_with_a_chainrule_error_in_any_thread() -> None:
    def tower() -> Any:
        return api.differentiate("9^9^9^9*x", at=1)

    for where, run in (
        ("main", lambda: cpu_time_of(tower)),
        ("thread", lambda: in_a_thread(lambda: cpu_time_of(tower))),
    ):
        error, spent = run()
        assert isinstance(error, MathError), (where, error)
        assert spent < budget.DEFAULT_SECONDS + 2, (where, spent)


def test_a_call_beyond_the_default_budget_stops_with_the_timeout_error() -> None:
    error, spent = cpu_time_of(lambda: api.differentiate(SLOWER, at=1))
    assert isinstance(error, OutOfTime)
    assert error.kind == "timeout"
    assert error.message == "the computation took longer than the time budget"  # the command line's words
    assert "timeout=" in (error.hint or "") and "--timeout" not in (error.hint or "")
    assert budget.DEFAULT_SECONDS - 0.5 < spent < budget.DEFAULT_SECONDS + 2.5, spent


# --- (2) timeout= --------------------------------------------------------------------------------


def test_a_small_timeout_is_honoured_in_the_main_thread_and_in_another() -> None:
    for run in (cpu_time_of, lambda work: in_a_thread(lambda: cpu_time_of(work))):
        error, spent = run(lambda: api.differentiate(SLOW, at=1, timeout=0.3))
        assert isinstance(error, OutOfTime), error
        assert spent < 1.5, spent
    error, spent = in_a_thread(lambda: cpu_time_of(lambda: api.check(SLOW, "x", timeout=0.3)))
    assert isinstance(error, OutOfTime) and spent < 1.5, (error, spent)


def test_no_budget_is_none_and_a_budget_left_behind_fires_no_more() -> None:
    result = api.differentiate("sin((2x+1)^2)", at=3, timeout=None, memory=None)
    assert math.isclose(result.value or 0.0, 28 * math.cos(49), rel_tol=1e-12)
    assert budget._stack == [] and not budget._WATCHES
    for _ in range(20):  # no expiry lands after the calls have returned
        sum(range(100_000))


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("timeout", 0),
        ("timeout", -1),
        ("timeout", math.nan),
        ("timeout", math.inf),
        ("timeout", 4000),
        ("timeout", 10**400),
        ("timeout", "5"),
        ("timeout", True),
        ("memory", 1000),
        ("memory", "1k"),
        ("memory", "2X"),
        ("memory", 2.0**30),
        ("memory", True),
        ("memory", 1 << 50),
    ],
)
def test_a_budget_out_of_range_is_a_usage_error_that_names_its_keyword(keyword: str, value: Any) -> None:
    for call in (
        lambda: api.differentiate("x^2", at=1, **{keyword: value}),
        lambda: api.gradient("x^2", at=1, **{keyword: value}),
        lambda: api.check("x^2", "2x", **{keyword: value}),
    ):
        with pytest.raises(UsageError) as caught:
            call()
        assert caught.value.message.startswith(f"{keyword}="), caught.value.message
        assert "--" not in caught.value.message


def test_a_budget_reads_as_the_command_line_reads_it() -> None:
    for memory in ("1G", "1GiB", 1 << 30, "1024"):
        assert api._budgets(2.5, memory) == api._Budgets(2.5, 1 << 30)


# --- (3) memory= ---------------------------------------------------------------------------------

# Run in a fresh process: the peak of resident memory (VmHWM) is the process's own, and the address
# space of a process where threads have run holds arenas that a cap on it does not count.
GROWER = """
import json, sys, threading, time
mode = sys.argv[1]
from chainrule import api
from chainrule.batch import Settings, result_line
from chainrule.errors import ChainruleError
DEEP = "sin(" * 14000 + "x" + ")" * 14000

def resident(field):
    with open("/proc/self/status") as status:
        return [int(line.split()[1]) // 1024 for line in status if line.startswith(field)][0]

def work():
    if mode == "dask":
        settings = Settings.of(at="0.5", memory="32M", timeout=60)
        lines = [result_line(n, text, settings) for n, text in enumerate(["(2x+1)^2", DEEP, "sin(x)"], start=1)]
        return [json.loads(line).get("error", {}).get("kind", "ok") for line in lines]
    try:
        api.differentiate(DEEP, at=0.5, memory="32M", timeout=60)
    except ChainruleError as err:
        return [err.kind, err.hint]
    return ["ok"]

import sympy, numpy  # what a call holds at start, before its budget
api.differentiate("x", at=1)
start = resident("VmRSS")
found = []
if mode == "main":
    found.append(work())
else:
    thread = threading.Thread(target=lambda: found.append(work()))
    thread.start()
    thread.join()
print(json.dumps({"found": found[0], "start": start, "peak": resident("VmHWM")}))
"""


@pytest.fixture(scope="module")
def grown() -> Callable[[str], dict[str, Any]]:
    if not Path("/proc/self/status").exists():
        pytest.skip("needs Linux's /proc")

    def run(mode: str) -> dict[str, Any]:
        result = subprocess.run(
            [sys.executable, "-c", GROWER, mode], capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, result.stderr
        found: dict[str, Any] = json.loads(result.stdout)
        return found

    return run


@pytest.mark.parametrize("mode", ["main", "thread"])
def test_a_memory_budget_is_honoured_in_the_main_thread_and_in_another(
    grown: Callable[[str], dict[str, Any]], mode: str
) -> None:
    found = grown(mode)
    kind, hint = found["found"]
    assert kind == "memory"
    assert "memory=" in hint and "--memory" not in hint
    # 32M above the start, and what one reading of memory (every 20 ms) lets it grow past that
    assert found["peak"] - found["start"] < 32 + 24, found


# --- (4) threads at once give what calls one by one give -----------------------------------------

CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("differentiate", ("sin((2x+1)^2)",), {"at": 3}),
    ("differentiate", ("sigmoid(" * 150 + "x" + ")" * 150,), {"at": 0.5}),  # deep: digits planned from its size
    ("differentiate", ("tan(x)",), {"at": "pi/2"}),  # a math error at the point
    ("differentiate", ("sin(x)",), {"at": "pi/2"}),
    ("differentiate", ("cosh(x) - sinh(x)",), {"at": 300}),  # cancellation: mpmath at raised precision
    ("differentiate", ("exp(x)*ln(x)",), {"at": 2, "order": 3}),
    ("differentiate", ("x*y + sin(x*y)",), {"x": 1.5, "y": -0.5, "wrt": "y"}),
    ("differentiate", ("ln(1 + x)",), {"at": 1e-300}),
    ("gradient", ("c = a*b; d = c + sin(a); loss = d^2",), {"a": 0.3, "b": -1.2}),
    ("gradient", ("x^2 + y^3",), {"at": {"x": 1, "y": 2}, "wrt": ["x", "y"]}),
    ("gradient", ("L = sum(relu(W @ x))",), {"W": [[1, -2], [3, 4]], "x": [1, 2]}),
    ("gradient", ("L = mse(W @ x, y)",), {"shape": {"W": (3, 4), "x": 4, "y": 3}, "seed": 0}),
    ("gradient", ("L = sum(tanh(W @ x + b))",), {"shape": {"W": (3, 2), "x": 2, "b": 3}, "seed": 7}),
    ("check", ("sin((2x+1)^2)", "4(2x+1)cos((2x+1)^2)"), {}),
    ("check", ("sin((2x+1)^2)", "cos((2x+1)^2)"), {}),  # the chain rule's missing factor
    ("check", ("x^x^x", "x^x^x"), {}),
    ("check", ("sqrt(x^2 + 1)", "x/sqrt(x^2 + 1)"), {}),
    ("check", ("ln(x)", "1/x"), {"wrt": "x"}),
    ("differentiate", ("x^(1/3)",), {"at": -8}),
    ("differentiate", ("sin(" * 40 + "x" + ")" * 40,), {"at": 0.7, "granularity": "ops"}),
]


@pytest.fixture
def switching_often() -> Any:
    """Threads switch every 10 µs, not every 5 ms: calls that share a setting (mpmath's precision)
    without taking turns meet inside each other at once, and the documents differ (they did)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def outcome(call: tuple[str, tuple[Any, ...], dict[str, Any]]) -> str:
    """The call's JSON document, as text (an error's kind and message)."""
    name, args, kwargs = call
    try:
        return json.dumps(getattr(api, name)(*args, **kwargs).to_dict(), sort_keys=True)
    except ChainruleError as err:
        return f"{err.kind}: {err.message}"


def test_three_threads_of_twenty_mixed_calls_give_what_calls_one_by_one_give(switching_often: None) -> None:
    alone = [outcome(call) for call in CALLS]
    assert len(set(alone)) == len(CALLS)  # twenty different documents, errors among them
    assert sum(text.startswith("{") for text in alone) == len(CALLS) - 1  # tan at pi/2 is the error
    found: dict[int, list[str]] = {}
    start = threading.Barrier(3)

    def work(k: int) -> None:
        start.wait()
        order = list(range(len(CALLS)))
        order = order[7 * k :] + order[: 7 * k]  # each thread in its own order, so that different calls meet
        found[k] = [""] * len(CALLS)
        for i in order:
            found[k][i] = outcome(CALLS[i])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert sorted(found) == [0, 1, 2]
    for k in range(3):
        for i, text in enumerate(found[k]):
            assert text == alone[i], (k, CALLS[i][:2])


# --- (5) the Dask function -----------------------------------------------------------------------


def test_the_dask_function_stops_one_slow_line_and_goes_on_with_the_others() -> None:
    settings = Settings.of(at="0.5", timeout=0.3)
    lines = ["(2x+1)^2", json.dumps({"expression": SLOW, "at": {"x": 1}}), "sin(x)"]

    def work() -> list[tuple[str, float]]:
        found = []
        for number, text in enumerate(lines, start=1):
            start = time.thread_time()
            found.append((result_line(number, text, settings), time.thread_time() - start))
        return found

    found = in_a_thread(work)
    documents = [json.loads(line) for line, _ in found]
    assert [doc["line"] for doc in documents] == [1, 2, 3]
    assert documents[1]["error"]["kind"] == "timeout" and found[1][1] < 1.5
    assert math.isclose(documents[0]["derivative"]["value"], 8.0)  # d/dx (2x+1)^2 at 0.5
    assert math.isclose(documents[2]["derivative"]["value"], math.cos(0.5))


def test_the_dask_function_keeps_one_lines_memory_budget_in_a_thread(grown: Callable[[str], dict[str, Any]]) -> None:
    found = grown("dask")
    assert found["found"] == ["ok", "memory", "ok"]
    assert found["peak"] - found["start"] < 32 + 24, found
