"""Start-up: the garbage collector paused while SymPy is imported.

The console script pauses the collector at start-up: each full collection
during SymPy's import would otherwise walk every object SymPy has made so
far.  :func:`settle` imports the engine (SymPy, mpmath), freezes what was
imported and lets the collector run again, so a command's own garbage is
still collected.  In-process use (tests, the Python API) is unchanged, and a
caller's own collector setting is left alone.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from importlib import import_module

_PAUSED: list[bool] = []  # non-empty while `paused` holds the collector off


def settle() -> None:
    """Import the engine while the collector is paused, then freeze it and resume."""
    if not _PAUSED:
        return
    for module in ("chainrule.engine", "chainrule.numcheck"):  # SymPy, the rule table, mpmath
        import_module(module)
    gc.freeze()
    gc.enable()
    _PAUSED.clear()


def paused(run: Callable[[], None]) -> None:
    """Run the program with the collector paused until `settle` is called."""
    if not gc.isenabled():  # the caller manages the collector itself
        run()
        return
    gc.disable()
    _PAUSED.append(True)
    try:
        run()
    finally:
        _PAUSED.clear()
        gc.enable()
