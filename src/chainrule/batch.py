"""``batch``: many expressions in one process, one NDJSON result per input line.

A line is either a JSON object ``{"expression": "...", "at": {"x": 0.5}, "wrt": "x"}``
or a plain expression that uses the shared ``--at`` and ``--wrt``.  Each result
is the ``diff`` JSON document with the line number added; a bad line becomes
an error document on its own line and the batch goes on.  Blank lines and
lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from chainrule.budget import deadline
from chainrule.derive import differentiate
from chainrule.errors import ChainruleError, InputError
from chainrule.render.json_view import SCHEMA, diff_document, error_document


def _request(text: str, at: str | None, wrt: str | None) -> tuple[str, Any, str | None]:
    if not text.startswith("{"):
        return text, at, wrt
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON: {err.msg}", source=text, position=err.pos) from None
    if not isinstance(obj, dict) or not isinstance(obj.get("expression"), str):
        raise InputError('a JSON line needs "expression": a string', source=text, position=0)
    point = obj.get("at", at)
    if isinstance(point, dict):
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in point.values()):
            raise InputError('"at" must map names to numbers', source=text, position=0)
        point = {str(k): float(v) for k, v in point.items()}
    elif isinstance(point, (int, float)) and not isinstance(point, bool):
        point = repr(float(point))
    elif point is not None and not isinstance(point, str):
        raise InputError('"at" must be a number, a string or an object', source=text, position=0)
    chosen = obj.get("wrt", wrt)
    if chosen is not None and not isinstance(chosen, str):
        raise InputError('"wrt" must be a string', source=text, position=0)
    return obj["expression"], point, chosen


def run(
    lines: Iterable[str], at: str | None, wrt: str | None, timeout: float, out_of_time: Callable[[], BaseException]
) -> Iterator[tuple[str, bool]]:
    """(NDJSON line, succeeded) for every input line that is not blank or a comment."""
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            with deadline(timeout, out_of_time):
                expression, point, chosen = _request(text, at, wrt)
                doc = diff_document(differentiate(expression, wrt=chosen, at=point))
            ok = True
        except ChainruleError as err:
            doc, ok = error_document(err, SCHEMA), False
        doc["line"] = number
        yield json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":")), ok
