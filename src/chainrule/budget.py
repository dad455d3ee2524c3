"""Budgets: the CPU time and the memory a command may use.

Time.  SymPy has no timeout of its own.  :func:`deadline` arms a profiling
timer (``ITIMER_PROF``, which counts the CPU time of this process, so a busy
machine does not shorten the budget) whose signal raises inside the running
computation.  Deadlines nest: the inner budget of a simplification runs
inside the budget of the whole command, and whichever ends first fires.
In a thread other than the main one (a Dask worker's), where no signal can
reach, a watcher thread reads that thread's own CPU clock and raises into it
when the budget is spent (:class:`_Watch`).  Without ``setitimer`` (not POSIX)
the main thread runs unbudgeted.

Leaving a deadline is safe against the signal itself: the timer is disarmed
and the previous handler restored even when an expiry lands while the block
is being left, so no timer outlives the outermost deadline (a timer left
armed would kill the process with the signal's default action).

Memory.  :func:`memory` caps the address space of the process
(``RLIMIT_AS``); an allocation beyond it raises ``MemoryError``, which the
command line turns into :class:`OutOfMemory`.  The cap is the whole process's,
so outside the main thread it is not set; there the thread's watcher reads the
process's resident memory every ``_Watch.POLL`` and raises ``OverMemory`` (a
``MemoryError``) into the thread once it passes what it was plus the budget.

One computation at a time.  mpmath's precision is the whole process's
setting, so the computations of one process take turns: the Python API and
batch's per-line function run under :data:`ENGINE`, and enter their budgets
(:class:`within`) only once they hold it, so waiting for a turn costs none of
a budget.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from chainrule.errors import OutOfMemory, OutOfTime, UsageError

__all__ = [
    "DEFAULT_MEMORY",
    "DEFAULT_MEMORY_TEXT",
    "DEFAULT_SECONDS",
    "ENGINE",
    "MAX_SECONDS",
    "STOPPING",
    "OutOfMemory",
    "OutOfTime",
    "OverMemory",
    "Stopped",
    "above_current",
    "attempt",
    "deadline",
    "disarm",
    "heard",
    "held",
    "interrupt",
    "memory",
    "memory_size",
    "seconds",
    "signal_of",
    "stopping",
    "within",
]

DEFAULT_SECONDS = 5.0
MAX_SECONDS = 3600.0  # an hour of CPU time for one command, or one line of a batch
GIB = 1 << 30
MIB = 1 << 20
# The default memory budget, counted above what the process holds when the budget begins (60 to
# 180 MiB: the interpreter, SymPy, numpy for arrays): a run stays under 1 GiB, resident or not.
DEFAULT_MEMORY_TEXT = "768M"
DEFAULT_MEMORY = 768 * MIB
MIN_MEMORY = 32 * MIB  # above what is held at start (SymPy is imported by then)
MAX_MEMORY = 1 << 40  # 1 TiB

_SIGNAL = getattr(signal, "SIGPROF", None)
_TIMER = getattr(signal, "ITIMER_PROF", None)
_clock = time.process_time

_stack: list[tuple[float, Callable[[], BaseException]]] = []
_raised: list[BaseException] = []  # expiries raised so far, to recognise one that was swallowed
RETRY = 0.05  # seconds: an expiry raised inside a finalizer is lost, so it is raised again

# One computation at a time in this process (the API, batch's per-line function): mpmath's precision is
# the process's own setting, so two computations at once would change each other's digits.  Costs no
# throughput: the work holds the GIL anyway.  Re-entrant, so a computation may call another.
ENGINE = threading.RLock()


def seconds(value: float, option: str = "--timeout") -> float:
    """A time budget given by a person: positive, finite and at most MAX_SECONDS."""
    if not (math.isfinite(value) and 0 < value <= MAX_SECONDS):
        raise UsageError(
            f"{option} takes a number of seconds above 0 and at most {MAX_SECONDS:g}, not {value:.12g}",
            hint=f"the default is {DEFAULT_SECONDS:g} seconds of CPU time",
        )
    return value


_UNITS = {"": MIB, "k": 1 << 10, "m": MIB, "g": GIB, "t": 1 << 40}


def memory_size(text: str, option: str = "--memory") -> int:
    """A memory budget such as 2G, 2GiB, 1500M or 1500 (MiB), in bytes."""
    cleaned = text.strip().lower().removesuffix("ib").removesuffix("b").rstrip()
    unit = cleaned[-1:] if cleaned[-1:] in _UNITS else ""
    number = cleaned[: len(cleaned) - len(unit)].strip()
    try:
        amount = float(number) if len(number) <= 20 and number.isascii() else math.nan
    except ValueError:
        amount = math.nan
    size = amount * _UNITS[unit] if math.isfinite(amount) else math.nan
    if not (MIN_MEMORY <= size <= MAX_MEMORY):
        raise UsageError(
            f"{option} takes a size from 32M to 1T, such as 2G or 512M, not {text[:40]!r}",
            hint=f"the default is {DEFAULT_MEMORY_TEXT}",
        )
    return int(size)


def _usable() -> bool:
    return _TIMER is not None and threading.current_thread() is threading.main_thread()


def _arm() -> None:
    assert _TIMER is not None
    if not _stack:
        signal.setitimer(_TIMER, 0)
        return
    remaining = min(d for d, _ in _stack) - _clock()
    signal.setitimer(_TIMER, max(remaining, 1e-4))


_DEFER_IN = {__file__, contextlib.__file__}  # code that enters and leaves budgets: never interrupted


_interrupted: list[int] = []  # the signals that stop the command, once one came: raised until heard

# The signals that stop a command: Ctrl-C, `kill` (and a system shutting down), a closed terminal.
STOPPING = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Stopped(KeyboardInterrupt):
    """A signal other than Ctrl-C that stops the command (SIGTERM, SIGHUP), raised where the work is,
    as Ctrl-C is, so the command ends the same way: whole output, one message, exit 128 + signum."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def stopping(signum: int) -> KeyboardInterrupt:
    """The exception a stopping signal raises: KeyboardInterrupt for Ctrl-C, Stopped for the others."""
    return KeyboardInterrupt() if signum == signal.SIGINT else Stopped(signum)


def signal_of(stop: KeyboardInterrupt) -> int:
    """The signal behind a KeyboardInterrupt: its own for Stopped, SIGINT otherwise."""
    return stop.signum if isinstance(stop, Stopped) else int(signal.SIGINT)


def interrupt(signum: int, frame: FrameType | None) -> None:
    """The handler of the stopping signals (the console script's): the exception now, and again shortly
    while a budget runs, since library code that catches everything (a bare except) may swallow it."""
    _interrupted.append(signum)
    if _stack and _TIMER is not None:
        signal.setitimer(_TIMER, RETRY)
        if frame is not None and frame.f_code.co_filename in _DEFER_IN:
            return  # while a budget is entered or left: raised by the timer once that is done
    raise stopping(signum)


def heard() -> None:
    """The stop has been heard (the command is ending with exit 128 + signum): raise it no more."""
    _interrupted.clear()


class held:  # noqa: N801 - used as a function: with held(): ...
    """The stopping signals wait while the block runs (writing a result, stopping the workers), so it
    is done whole; one that came meanwhile is raised as the block is left.  Main thread only."""

    def __init__(self) -> None:
        self.blocked = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()

    def __enter__(self) -> None:
        if self.blocked:
            signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)

    def __exit__(self, *exc: object) -> None:
        if self.blocked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    assert _TIMER is not None
    if _interrupted:  # a Ctrl-C that was swallowed: raise it again, outside this module's own work
        signal.setitimer(_TIMER, RETRY)
        if frame is not None and frame.f_code.co_filename in _DEFER_IN:
            return
        raise stopping(_interrupted[0])
    now = _clock()
    expired = [entry for entry in _stack if entry[0] <= now + 1e-3]
    if not expired:
        _arm()
        return
    # Ask again shortly: when the signal lands while a budget is being entered or left (this
    # module, or contextlib's machinery around it), or in a finalizer, where Python ignores
    # the exception, the expiry must be raised once that code is done.
    signal.setitimer(_TIMER, RETRY)
    if frame is not None and frame.f_code.co_filename in _DEFER_IN:
        return
    # The outermost expired budget wins: it is the one the caller must hear about.
    error = expired[0][1]()
    _raised.append(error)
    raise error


def _quiet(previous: Callable[[Any], object]) -> Callable[[Any], object]:
    """An unraisable hook that drops our own swallowed expiries and passes on the rest."""

    def hook(info: Any) -> object:
        if any(info.exc_value is raised for raised in _raised):
            return None
        if _interrupted and isinstance(info.exc_value, KeyboardInterrupt):  # raised again shortly
            return None
        return previous(info)

    return hook


class deadline:  # noqa: N801 - used as a function: with deadline(seconds, error): ...
    """Run the block for at most `seconds` of CPU time; then raise error() inside it.

    A class, not a generator: entering and leaving run in this module, where the
    signal handler never raises (see ``_on_signal``), so a deadline is always
    taken off the stack, the timer re-armed for the rest, and after the last one
    the previous handler restored.
    """

    def __init__(self, seconds: float | None, error: Callable[[], BaseException]) -> None:
        self.seconds = seconds
        self.error = error
        self.entry: tuple[float, Callable[[], BaseException]] | None = None
        self.restore: Callable[[], None] | None = None
        self.watch: _Watch | None = None  # in a thread other than the main one

    def __enter__(self) -> None:
        if self.seconds is None or self.seconds <= 0:
            return
        if threading.current_thread() is not threading.main_thread():
            self.watch = _Watch.of_this_thread()
            self.entry = self.watch.enter(self.seconds, self.error)
            return
        if not _usable():
            return
        assert _SIGNAL is not None
        if not _stack:
            previous = signal.getsignal(_SIGNAL)
            previous_hook = sys.unraisablehook

            def restore() -> None:
                signal.signal(_SIGNAL, previous)
                sys.unraisablehook = previous_hook
                _raised.clear()

            self.restore = restore
            signal.signal(_SIGNAL, _on_signal)
            sys.unraisablehook = _quiet(previous_hook)
        self.entry = (_clock() + self.seconds, self.error)
        _stack.append(self.entry)
        _arm()

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if self.watch is not None:
            assert self.entry is not None
            expired = self.watch.leave(self.entry)
            if expired and kind is not None and issubclass(kind, OverBudget):
                raise self.error() from None
            return  # another deadline's expiry goes on to it
        if self.entry is None:
            return
        if self.entry in _stack:
            _stack.remove(self.entry)
        _arm()
        if self.restore is not None and not _stack:
            self.restore()


class OverBudget(OutOfTime):
    """A thread's time budget ran out: raised into it by its watcher, and turned by ``deadline``
    into the caller's own error (or, should it land as the block is left, an OutOfTime itself)."""

    def __init__(self) -> None:
        super().__init__("the computation took longer than the time budget", hint="raise it with --timeout SECONDS")


class OverMemory(MemoryError):
    """A thread's computation took the process's resident memory past its budget: raised into it by
    its watcher, and answered as any MemoryError (the caller's OutOfMemory)."""


class _Watch:
    """The budgets of one thread other than the main one, and the thread that enforces them.

    As the signal handler does for the main thread: while a deadline on the thread's stack has
    expired (by the thread's own CPU clock), `OverBudget` is raised into the thread (CPython's
    PyThreadState_SetAsyncExc, which lands at its next bytecode), and raised again every POLL
    until that deadline is left, in case library code swallowed it; never while the thread runs
    this module's own code.  Leaving a deadline takes back a raise that has not landed yet, under
    the same lock as the raise, so it can land only inside a deadline that has expired.

    Memory likewise: while the process's resident memory is above a ceiling the thread set
    (`cap`), `OverMemory` is raised into it, until the ceiling is taken off (`uncap`).  Memory is
    read every POLL, so a computation may go past its ceiling by what it allocates in one POLL
    (or in one call into C, such as one numpy operation), and the watcher answers any growth of
    the process, this thread's or not: the computations of a process take turns (ENGINE)."""

    POLL = 0.02  # seconds between two readings of the thread's clock and the process's memory

    def __init__(self, target: int) -> None:
        self.target = target
        self.clock = _thread_clock(target)
        self.lock = threading.Lock()
        self.stack: list[tuple[float, Callable[[], BaseException]]] = []
        self.ceilings: list[int] = []  # bytes of resident memory
        self.stopped = threading.Event()

    @classmethod
    def of_this_thread(cls) -> _Watch:
        ident = threading.get_ident()
        with _WATCHES_LOCK:
            watch = _WATCHES.get(ident)
            if watch is None:
                watch = _WATCHES[ident] = cls(ident)
                if not getattr(sys.unraisablehook, "_drops_over_budget", False):
                    sys.unraisablehook = _quiet_threads(sys.unraisablehook)
                threading.Thread(target=watch.run, name="chainrule-deadline", daemon=True).start()
        return watch

    def enter(self, seconds: float, error: Callable[[], BaseException]) -> tuple[float, Callable[[], BaseException]]:
        entry = (self.clock() + seconds, error)
        with self.lock:
            self.stack.append(entry)
        return entry

    def leave(self, entry: tuple[float, Callable[[], BaseException]]) -> bool:
        """Take the deadline off the stack; whether it had expired."""
        with self.lock:
            now = self.clock()
            if entry in self.stack:
                self.stack.remove(entry)
            self._settle()
        return entry[0] <= now

    def cap(self, ceiling: int) -> None:
        """Raise OverMemory into the thread while the process holds more than `ceiling` bytes."""
        with self.lock:
            self.ceilings.append(ceiling)

    def uncap(self, ceiling: int) -> None:
        with self.lock:
            if ceiling in self.ceilings:
                self.ceilings.remove(ceiling)
            self._settle()

    def _settle(self) -> None:
        """After a budget was left (under the lock): a raise not yet landed is taken back unless
        another budget is still spent, and the watcher stops with the last budget."""
        if self._due() is None:
            _async_raise(self.target, None)
        if not self.stack and not self.ceilings:
            self.stopped.set()
            with _WATCHES_LOCK:
                if _WATCHES.get(self.target) is self:
                    del _WATCHES[self.target]

    def _due(self) -> type[BaseException] | None:
        """What to raise into the thread now: OverBudget, OverMemory, or nothing."""
        if self.stack:
            now = self.clock()
            if any(end <= now for end, _ in self.stack):
                return OverBudget
        if self.ceilings:
            resident = _resident()
            if resident is not None and resident > min(self.ceilings):
                return OverMemory
        return None

    def run(self) -> None:
        while not self.stopped.wait(self.POLL):
            with self.lock:
                if self.stopped.is_set():
                    return
                due = self._due()
                if due is not None and not self._in_budget_code():
                    _async_raise(self.target, due)

    def _in_budget_code(self) -> bool:
        frame = sys._current_frames().get(self.target)
        return frame is not None and frame.f_code.co_filename in _DEFER_IN


def _quiet_threads(previous: Callable[[Any], object]) -> Callable[[Any], object]:
    """An unraisable hook that drops an OverBudget (or OverMemory) landing where Python ignores
    exceptions (a finalizer, a gc callback): the watcher raises it again shortly, as _quiet does for
    the signal."""

    def hook(info: Any) -> object:
        if isinstance(info.exc_value, (OverBudget, OverMemory)):
            return None
        return previous(info)

    hook._drops_over_budget = True  # type: ignore[attr-defined]
    return hook


_WATCHES: dict[int, _Watch] = {}  # thread ident -> its watch, while the thread has deadlines
_WATCHES_LOCK = threading.Lock()


def _thread_clock(ident: int) -> Callable[[], float]:
    """The CPU clock of a thread (Linux), or wall time where there is none."""
    try:
        clock = time.pthread_getcpuclockid(ident)
    except (AttributeError, OSError):
        return time.monotonic
    return lambda: time.clock_gettime(clock)


def _resident() -> int | None:
    """The process's resident memory in bytes (Linux), or None where it cannot be read."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * _PAGE


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
NEAR_CAP = 8 * MIB  # an address space this close to its cap has met it (the last request was refused)


def _peak() -> int | None:
    """The largest address space the process has had (Linux's VmPeak), in bytes; None where unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _async_raise(thread: int, error: type[BaseException] | None) -> None:
    """Raise `error` in another thread at its next bytecode; None takes back one not yet raised."""
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), ctypes.py_object(error) if error else None)


def disarm() -> None:
    """Stop the timer for good (the command line calls this before the process exits)."""
    if _TIMER is not None and threading.current_thread() is threading.main_thread():
        _stack.clear()
        signal.setitimer(_TIMER, 0)


class _Expired(Exception):
    pass


def attempt(seconds: float, work: Callable[[], Any]) -> Any | None:
    """work(), or None if it takes longer than `seconds`."""
    try:
        with deadline(seconds, _Expired):
            return work()
    except _Expired:
        return None


def above_current(budget: int) -> int:
    """The address-space limit that lets a computation add `budget` bytes to what the
    process already holds (the interpreter, SymPy, and in tests the test runner)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[0])
        return budget + pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # no /proc: the budget is the whole address space
        return budget


class memory:  # noqa: N801 - used as a function: with memory(limit): ...
    """Cap the address space of the process at `limit` bytes while the block runs.

    Beyond it, allocations raise MemoryError.  The cap is lifted again on the
    way out, so that the error can be reported.  Without the resource module
    (not POSIX) the block runs unbounded.  A class, so that leaving it is never
    interrupted by a time budget's signal.
    """

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.previous: tuple[int, int] | None = None

    def __enter__(self) -> None:
        try:
            import resource
        except ImportError:  # pragma: no cover - not POSIX
            return
        if threading.current_thread() is not threading.main_thread():
            return  # the limit is the whole process's: not one thread's to set
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if self.limit is None or (hard != resource.RLIM_INFINITY and self.limit > hard):
            return
        self.previous = (soft, hard)
        resource.setrlimit(resource.RLIMIT_AS, (self.limit, hard))

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, self.previous)


class within:  # noqa: N801 - used as a function: with within(seconds, size, error): ...
    """Run the block within both budgets, in whichever thread it runs: at most `seconds` of CPU
    time (then error() is raised inside it, as :class:`deadline` does) and at most `size` bytes
    of memory above what the process holds as the block begins (then MemoryError).  None, for
    either, is no such budget.

    In the main thread, as the command line has always done: the profiling timer, and the address
    space capped at :func:`above_current`.  In another thread (a Dask worker's, a caller's of the
    Python API), by the thread's watcher: its own CPU clock, and the process's resident memory
    against what it was plus `size` (no cap on the address space: it is the whole process's).

    CPython 3.11 does not always say MemoryError when the cap refuses it memory: a frame that
    finds no room on its stack ends in SystemError('error return without exception set').  Such a
    SystemError, from a block whose address space grew to its cap, is the MemoryError it stands for."""

    def __init__(self, seconds: float | None, size: int | None, error: Callable[[], BaseException]) -> None:
        self.size = size
        self.deadline = deadline(seconds, error)
        self.cap: memory | None = None
        self.watch: _Watch | None = None
        self.ceiling = 0

    def __enter__(self) -> None:
        if self.size is not None:
            if threading.current_thread() is threading.main_thread():
                self.cap = memory(above_current(self.size))
                self.cap.__enter__()
            else:
                resident = _resident()
                if resident is not None:
                    self.watch, self.ceiling = _Watch.of_this_thread(), resident + self.size
                    self.watch.cap(self.ceiling)
        try:
            self.deadline.__enter__()
        except BaseException:
            self._release()
            raise

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        try:
            self.deadline.__exit__(kind, *exc)
        finally:
            capped = self.cap.limit if self.cap is not None and self.cap.previous is not None else None
            self._release()
        if capped is not None and kind is not None and issubclass(kind, SystemError):
            peak = _peak()
            if peak is not None and peak >= capped - NEAR_CAP:
                raise MemoryError from None

    def _release(self) -> None:
        if self.watch is not None:
            self.watch.uncap(self.ceiling)
            self.watch = None
        if self.cap is not None:
            self.cap.__exit__(None, None, None)
            self.cap = None
