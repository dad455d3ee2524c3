"""The budgets: deadlines nest, and an expiry is never lost; the default memory budget keeps a run
under 1 GiB."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import typer

from chainrule import batch
from chainrule.budget import DEFAULT_MEMORY, DEFAULT_MEMORY_TEXT, OutOfTime, attempt, deadline, memory_size
from chainrule.cli import app


class _SlowFinalizer:
    def __del__(self) -> None:
        time.sleep(0.2)  # the alarm lands here, where Python ignores exceptions


def test_an_expiry_inside_a_finalizer_is_raised_again() -> None:
    start = time.monotonic()
    with pytest.raises(OutOfTime), deadline(0.05, lambda: OutOfTime("late")):
        _SlowFinalizer()  # deleted at once: its __del__ swallows the first alarm
        while time.monotonic() - start < 3:
            pass
    assert time.monotonic() - start < 1


def test_inner_budget_falls_back_and_outer_one_still_holds() -> None:
    def spin() -> None:
        while True:
            pass

    with pytest.raises(OutOfTime), deadline(0.3, lambda: OutOfTime("outer")):
        assert attempt(0.05, spin) is None
        spin()


def test_no_budget_means_no_timer() -> None:
    with deadline(None, lambda: OutOfTime("never")):
        time.sleep(0.01)


def _spin(seconds: float) -> None:
    start = time.thread_time()
    while time.thread_time() - start < seconds:
        pass


class _Outer(Exception):
    pass


def _in_a_thread(work: Any) -> list[Any]:
    import threading

    found: list[Any] = []
    thread = threading.Thread(target=lambda: found.append(work()))
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    return found


def test_a_deadline_holds_in_a_thread_other_than_the_main_one() -> None:
    def work() -> str:
        try:
            with deadline(0.2, lambda: OutOfTime("over")):
                _spin(5)
        except OutOfTime as err:
            return err.message
        return "not stopped"

    assert _in_a_thread(work) == ["over"]


def test_in_a_thread_an_outer_deadline_goes_past_an_inner_attempt() -> None:
    """The outer budget runs out inside attempt(): attempt must not swallow it, and the block
    must not go on unbudgeted."""

    def work() -> tuple[str, float]:
        start = time.thread_time()
        try:
            with deadline(0.2, _Outer):
                attempt(5, lambda: _spin(0.6))
                _spin(3)
        except _Outer:
            return "outer", time.thread_time() - start
        return "not stopped", time.thread_time() - start

    ((which, spent),) = _in_a_thread(work)
    assert which == "outer" and spent < 0.6


def test_in_a_thread_an_inner_attempt_expires_alone_and_nothing_lands_later() -> None:
    def work() -> list[Any]:
        seen: list[Any] = []
        with deadline(2, _Outer):
            seen.append(attempt(0.1, lambda: _spin(1)))
        for _ in range(10):  # no stray raise after the deadlines are left
            _spin(0.05)
        seen.append("clean")
        return seen

    assert _in_a_thread(work) == [[None, "clean"]]


# --- the default memory budget -------------------------------------------------------------------

GIB = 1 << 30


def test_the_default_memory_budget_is_one_constant_that_every_command_uses() -> None:
    assert memory_size(DEFAULT_MEMORY_TEXT) == DEFAULT_MEMORY < GIB
    command = typer.main.get_command(app)
    defaults = {
        name: [p.default for p in sub.params if p.name == "memory"]
        for name, sub in command.commands.items()  # type: ignore[attr-defined]
    }
    budgeted = {name: found for name, found in defaults.items() if found}
    assert set(budgeted) == {"diff", "grad", "check", "batch", "graph"}
    assert all(found == [DEFAULT_MEMORY_TEXT] for found in budgeted.values()), budgeted
    assert batch.DEFAULT.memory == batch.Settings().memory == batch.Settings.of().memory == DEFAULT_MEMORY


# Memory that grows a MiB at a time, every page touched, inside the default budget, after what a
# command holds at its heaviest start (SymPy, mpmath and numpy imported); the kernel's VmHWM is
# the peak of resident memory.
GROWER = """
import sys
import numpy, sympy, mpmath
from chainrule.budget import DEFAULT_MEMORY, above_current, memory
held = []
try:
    with memory(above_current(DEFAULT_MEMORY)):
        while True:
            held.append(bytearray(b"x" * (1 << 20)))
except MemoryError:
    held.clear()
    stopped = "MemoryError"
else:
    stopped = "never"
peak = [line for line in open("/proc/self/status") if line.startswith("VmHWM")][0].split()[1]
print(stopped, int(peak) // 1024)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_memory_that_grows_without_bound_stops_under_1_gib_by_default() -> None:
    result = subprocess.run([sys.executable, "-c", GROWER], capture_output=True, text=True, timeout=120)
    stopped, peak = result.stdout.split()
    assert stopped == "MemoryError", result.stderr
    assert int(peak) < 1024, f"{peak} MiB resident at the peak"
    assert int(peak) > DEFAULT_MEMORY >> 21  # the budget was really used, not refused at once


@pytest.mark.parametrize(
    "args",
    [
        ["check", "x^x^x^x^x^x", "x"],  # with the old default of 2G it held 1.8 GiB before stopping
        ["check", "x^x^x^x^x^x", "x", "--json"],
    ],
)
def test_a_run_that_grew_without_bound_stays_under_1_gib(measured: Any, args: list[str]) -> None:
    """It grew to 1.8 GiB with the old default; now it is graded (x is not the derivative, exit 3) or,
    should the grading grow again, stops with the memory error: either way under 1 GiB."""
    peak, code, out = measured(*args)
    assert code in ("1", "3") and peak < 1024
    if "--json" in args:
        doc = json.loads(out)
        assert doc.get("verdict") == "wrong" or doc["error"]["kind"] == "memory"
