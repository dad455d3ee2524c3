"""Start-up: the garbage collector paused while SymPy is imported; the locale's text.

The console script pauses the collector at start-up: each full collection
during SymPy's import would otherwise walk every object SymPy has made so
far.  :func:`settle` imports the engine (SymPy, mpmath), freezes what was
imported and lets the collector run again, so a command's own garbage is
still collected.  In-process use (tests, the Python API) is unchanged, and a
caller's own collector setting is left alone.

Where the locale is not UTF-8 (C with PYTHONUTF8=0, or ISO-8859-1),
:func:`decoded_argv` reads arguments typed in UTF-8 as typed, and
:func:`stream_is_unicode` tells whether the output can take the views'
notation or needs their ASCII forms.
"""

from __future__ import annotations

import gc
import io
import itertools
import os
from collections.abc import Callable
from importlib import import_module
from typing import Any

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


_SURROGATES = range(0xD800, 0xE000)
PROBE = "σ²·→′√π✓─"  # the views' notation: a stream that cannot encode these gets the ASCII forms


def decoded_argv(argv: list[str]) -> list[str]:
    """The arguments as typed: UTF-8 that the locale's codec could not read is read as UTF-8.

    In the C locale with PYTHONUTF8=0 Python decodes argv as ASCII with
    surrogateescape, so a typed σ arrives as two lone surrogates.  Such an
    argument is taken back to its bytes and decoded as UTF-8; one that is not
    UTF-8 either, and every argument without surrogates, is left as it is.
    """
    return [_decoded(arg) for arg in argv]


def _decoded(arg: str) -> str:
    if arg.isascii() or not any(ord(ch) in _SURROGATES for ch in arg):
        return arg
    try:
        return os.fsencode(arg).decode("utf-8")
    except UnicodeError:
        return arg


def stream_is_unicode(stream: Any) -> bool:
    """Whether a text stream can write the views' notation: its encoding encodes PROBE.

    False for no stream (sys.stdout is None without a console) and a closed
    one; True for an in-memory StringIO, which holds text and encodes nothing.
    """
    if stream is None or getattr(stream, "closed", False):
        return False
    encoding = getattr(stream, "encoding", None)
    if not isinstance(encoding, str):
        return isinstance(stream, io.StringIO)
    try:
        PROBE.encode(encoding)
    except (UnicodeError, LookupError):
        return False
    return True


def wants_json(argv: list[str]) -> bool:
    """Whether the command line asks for JSON (--json, --format json): read before parsing,
    so that an error found while parsing, or a Ctrl-C, can answer in JSON too."""
    lowered = [a.lower() for a in argv]
    return (
        "--json" in argv
        or "--format=json" in lowered
        or any(a == "--format" and b == "json" for a, b in itertools.pairwise(lowered))
    )
