"""Time budgets for slow symbolic work.

SymPy has no timeout of its own.  :func:`deadline` arms a timer signal
(``SIGALRM``) that raises inside the running computation.  Deadlines nest:
the inner budget of a simplification runs inside the budget of the whole
command, and whichever ends first fires.  Where signals are unavailable
(another thread, or no SIGALRM on the platform) the block runs unbudgeted.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chainrule.errors import ChainruleError


class OutOfTime(ChainruleError):
    """A computation used up its time budget."""

    kind = "timeout"


_stack: list[tuple[float, Callable[[], BaseException]]] = []


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
    raise expired[0][1]()


@contextmanager
def deadline(seconds: float | None, error: Callable[[], BaseException]) -> Iterator[None]:
    """Run the block for at most `seconds`; then raise error() inside it."""
    if seconds is None or seconds <= 0 or not _usable():
        yield
        return
    previous = signal.getsignal(signal.SIGALRM) if not _stack else None
    if not _stack:
        signal.signal(signal.SIGALRM, _on_alarm)
    entry = (time.monotonic() + seconds, error)
    _stack.append(entry)
    _arm()
    try:
        yield
    finally:
        _stack.remove(entry)
        _arm()
        if not _stack and previous is not None:
            signal.signal(signal.SIGALRM, previous)


class _Expired(Exception):
    pass


def attempt(seconds: float, work: Callable[[], Any]) -> Any | None:
    """work(), or None if it takes longer than `seconds`."""
    try:
        with deadline(seconds, _Expired):
            return work()
    except _Expired:
        return None
