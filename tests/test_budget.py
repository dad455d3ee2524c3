"""The time budget: deadlines nest, and an expiry is never lost."""

from __future__ import annotations

import time

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
