"""``batch --jobs N``: lines worked on by N processes, results in input order, as they are ready.

:func:`outcomes` gives, for every input line in order, a way to get that
line's result: with one job it computes the line when asked; with more, the
line was handed to a worker process as soon as it was read, and asking waits
for that worker.  A result is written as soon as every line before it is
done: the caller asks for them in order while later lines are still at work.

Workers are forked from this process, so they start with SymPy and the
engine already imported.  They are the parent's to stop: they ignore Ctrl-C,
SIGTERM and SIGHUP, which the parent answers by killing them (after the lines
already written, which are whole), and on Linux the kernel kills them if the
parent dies in any other way (SIGKILL), so no worker outlives its batch.  At
most a few lines per worker are in flight, so memory stays bounded however
long the input is.  Reading the input is a thread of its own, so a result is
written even while the next line has not arrived (a slow pipe, a person
typing).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from functools import partial
from typing import Any

from chainrule.batch import Line, Settings, document
from chainrule.budget import STOPPING, held

Outcome = Callable[[], tuple[dict[str, Any], bool]]  # the line's (document, succeeded); raises a worker's bug
AHEAD = 32  # lines in flight per worker: room to go on while one line is slow
_END = object()


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def _quiet_worker(parent: int) -> None:
    """A worker's start: the stopping signals are the parent's to answer, and the worker dies with it."""
    for signum in STOPPING:
        signal.signal(signum, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
        except (OSError, AttributeError):  # no prctl in this C library: the parent's _stop still ends it
            return
        if os.getppid() != parent:  # the parent died before the worker was bound to it
            os._exit(1)


def outcomes(source: Iterable[Line], settings: Settings, jobs: int) -> Generator[tuple[Line, Outcome], None, None]:
    """(line, outcome) for every line, in input order."""
    if jobs <= 1 or not hasattr(os, "fork"):
        for line in source:
            yield line, partial(document, line, settings)
        return
    pool = ProcessPoolExecutor(
        jobs, mp_context=multiprocessing.get_context("fork"), initializer=_quiet_worker, initargs=(os.getpid(),)
    )
    try:
        # The pool's threads, the workers and the reader start with the stopping signals blocked,
        # and keep them so: a signal then reaches only the main thread, which holds it back while
        # it writes a line (any thread that took it would make the main thread raise at once).
        with held():
            # Start the workers before the reader thread exists: a fork copies only the forking thread.
            pool.submit(int).result()
            lines = _read_ahead(source)
        yield from _ordered(pool, lines, settings, jobs * AHEAD)
    finally:
        _stop(pool)


def _read_ahead(source: Iterable[Line]) -> queue.Queue[Any]:
    """The lines, read by a thread of their own into a queue that ends with _END (or the reader's error)."""
    lines: queue.Queue[Any] = queue.Queue(maxsize=64)

    def read() -> None:
        try:
            for line in source:
                lines.put(line)
        except BaseException as err:
            lines.put(err)
        lines.put(_END)

    threading.Thread(target=read, name="chainrule-batch-reader", daemon=True).start()
    return lines


def _ordered(
    pool: ProcessPoolExecutor, lines: queue.Queue[Any], settings: Settings, window: int
) -> Iterator[tuple[Line, Outcome]]:
    pending: deque[tuple[Line, Future[tuple[dict[str, Any], bool]]]] = deque()
    ended = False
    while pending or not ended:
        while pending and pending[0][1].done():  # as soon as every line before it is done
            line, future = pending.popleft()
            yield line, future.result
        if ended or len(pending) >= window:
            if pending:
                line, future = pending.popleft()
                yield line, future.result  # waits for the oldest line
            continue
        try:
            item = lines.get(timeout=0.05 if pending else None)
        except queue.Empty:
            continue
        if item is _END:
            ended = True
        elif isinstance(item, BaseException):
            raise item
        else:
            pending.append((item, pool.submit(document, item, settings)))


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now: lines still in flight are not wanted (the batch ended or was interrupted).

    Killed (they ignore the gentler signals), with a second Ctrl-C or SIGTERM held back until
    every one is gone: a stop that cut this short would leave workers behind."""
    with held():
        processes = list((getattr(pool, "_processes", None) or {}).values())
        for process in processes:
            with contextlib.suppress(OSError, ValueError):
                process.kill()
        for process in processes:
            with contextlib.suppress(OSError, ValueError):
                process.join(timeout=5)
        # With its workers gone the pool's manager thread ends; waiting for it here means nothing is
        # left for the interpreter's exit to wake (and write to closed pipes).
        pool.shutdown(wait=True, cancel_futures=True)
