"""Time budgets for slow symbolic work.

SymPy has no timeout of its own.  :func:`deadline` arms a timer signal
(``SIGALRM``) that raises inside the running computation.  Deadlines nest:
the inner budget of a simplification runs inside the budget of the whole
command, and whichever ends first fires.  Where signals are unavailable
(another thread, or no SIGALRM on the platform) the block runs unbudgeted.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chainrule.errors import OutOfTime

__all__ = ["OutOfTime", "attempt", "deadline"]


_stack: list[tuple[float, Callable[[], BaseException]]] = []
_raised: list[BaseException] = []  # expiries raised so far, to recognise one that was swallowed
RETRY = 0.05  # seconds: an expiry raised inside a finalizer is lost, so it is raised again


def _usable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _arm() -> None:
    if not _stack:
        signal.setitimer(signal.ITIMER_REAL, 0)
        return
    remaining = min(d for d, _ in _stack) - time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, max(remaining, 1e-4))


def _on_alarm(signum: int, frame: Any) -> None:
    now = time.monotonic()
    expired = [entry for entry in _stack if entry[0] <= now + 1e-3]
    if not expired:
        _arm()
        return
    # The outermost expired budget wins: it is the one the caller must hear about.
    error = expired[0][1]()
    _raised.append(error)
    # If the signal landed in a finalizer or a weakref callback, Python ignores the
    # exception and the work goes on: ask again shortly, until the block has ended.
    signal.setitimer(signal.ITIMER_REAL, RETRY)
    raise error


def _quiet(previous: Callable[[Any], object]) -> Callable[[Any], object]:
    """An unraisable hook that drops our own swallowed expiries and passes on the rest."""

    def hook(info: Any) -> object:
        if any(info.exc_value is raised for raised in _raised):
            return None
        return previous(info)

    return hook


@contextmanager
def deadline(seconds: float | None, error: Callable[[], BaseException]) -> Iterator[None]:
    """Run the block for at most `seconds`; then raise error() inside it."""
    if seconds is None or seconds <= 0 or not _usable():
        yield
        return
    first = not _stack
    previous = signal.getsignal(signal.SIGALRM) if first else None
    previous_hook = sys.unraisablehook
    if first:
        signal.signal(signal.SIGALRM, _on_alarm)
        sys.unraisablehook = _quiet(previous_hook)
    entry = (time.monotonic() + seconds, error)
    _stack.append(entry)
    _arm()
    try:
        yield
    finally:
        _stack.remove(entry)
        _arm()
        if first:
            if previous is not None:
                signal.signal(signal.SIGALRM, previous)
            sys.unraisablehook = previous_hook
            _raised.clear()


class _Expired(Exception):
    pass


def attempt(seconds: float, work: Callable[[], Any]) -> Any | None:
    """work(), or None if it takes longer than `seconds`."""
    try:
        with deadline(seconds, _Expired):
            return work()
    except _Expired:
        return None
