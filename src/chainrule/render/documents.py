"""The JSON documents every command shares, and strict serialisation.

Light on purpose: it imports neither SymPy nor the engine, so that an error
found while reading the command line, or a Ctrl-C during start-up, can still
answer with one JSON document at once.
"""

from __future__ import annotations

import json
import math
from typing import Any

from chainrule.errors import ChainruleError, MathError

SCHEMA = "chainrule.diff/1"
__all__ = ["COMPACT_ABOVE", "SCHEMA", "dumps", "early_document", "error_document", "internal_document", "number"]


COMPACT_ABOVE = 500  # layers or nodes; larger documents are written on one line


def number(value: float | None) -> float | None:
    """A number for strict JSON: None (null) where there is no finite value."""
    if value is None or not math.isfinite(value):
        return None
    return value


def dumps(doc: dict[str, Any], *, ascii: bool = False) -> str:
    """Strict JSON: NaN and Infinity are refused.  Indented for reading, unless large.

    With `ascii`, for an output that cannot encode Unicode, non-ASCII characters are escaped (ensure_ascii).
    """
    size = len(doc.get("layers", ())) + len(doc.get("nodes", ()))
    indent = 2 if size <= COMPACT_ABOVE else None
    return json.dumps(doc, ensure_ascii=ascii, allow_nan=False, indent=indent)


def early_document(argv: list[str], err: ChainruleError, ascii: bool = False) -> str:
    """The one JSON document for an error found before a command began its work (while the
    command line is read, or a Ctrl-C during start-up), in the schema of the command asked for."""
    command = argv[0] if argv and argv[0] in ("diff", "grad", "check") else "diff"
    return dumps(error_document(err, f"chainrule.{command}/1"), ascii=ascii)


def internal_document(message: str, schema: str = SCHEMA) -> dict[str, Any]:
    """The document for a bug in chainrule: --json still gets one JSON document."""
    return {"schema": schema, "error": {"kind": "internal", "message": message, "position": None}}


def error_document(err: ChainruleError, schema: str = SCHEMA) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": err.kind, "message": err.message, "position": err.position}
    if isinstance(err, MathError):
        body["reason"] = err.reason
    if err.hint:
        body["hint"] = err.hint
    return {"schema": schema, "error": body}
