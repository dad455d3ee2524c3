"""The time budget: deadlines nest, and an expiry is never lost."""

from __future__ import annotations

import time
from typing import Any

import pytest

from chainrule.budget import OutOfTime, attempt, deadline


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
