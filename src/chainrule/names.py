"""The whitelist of names the parser accepts.

The functions' names are derived from the rule table (:mod:`chainrule.rules`),
the one specification of each function; this module adds the constants, the
abstract functions f, g, h, and the words refused as code.
"""

from __future__ import annotations

import difflib
import keyword
import re

# The functions, their other spellings (ALIASES) and their f^-1 inverses come from the rule table.
from types import MappingProxyType

from chainrule.rules import CALLS, INVERSES, RULES
from chainrule.rules import FUNCTIONS as SCALAR_FUNCTIONS
from chainrule.rules import SPELLINGS as ALIASES
from chainrule.tensor_rules import TENSOR_FUNCTIONS

# Every function the parser reads by name: the scalar table's, and those of whole vectors (softmax, sum).
FUNCTIONS = MappingProxyType({**SCALAR_FUNCTIONS, **TENSOR_FUNCTIONS})

__all__ = [
    "ABSTRACT",
    "ALIASES",
    "CALLS",
    "CONSTANTS",
    "FUNCTIONS",
    "IDENTIFIER",
    "INVERSES",
    "RESERVED",
    "RULES",
    "TENSOR_FUNCTIONS",
]

# Single letters that name abstract (unspecified) functions when applied.
ABSTRACT = frozenset({"f", "g", "h"})

CONSTANTS: dict[str, str] = {"pi": "pi", "π": "pi", "e": "E"}

IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*\Z")

# Words that read like code, not mathematics.  Refused as variable names so
# that pasted code gets a clear "this is not an expression" error.
RESERVED = frozenset(keyword.kwlist) | frozenset(
    [
        "eval",
        "exec",
        "compile",
        "open",
        "input",
        "print",
        "getattr",
        "setattr",
        "delattr",
        "globals",
        "locals",
        "vars",
        "dir",
        "type",
        "object",
        "class",
        "import",
        "lambda",
        "sympify",
        "parse_expr",
        "lambdify",
        "Symbol",
        "Function",
        "Integer",
        "Float",
        "Rational",
        "Add",
        "Mul",
        "Pow",
        "os",
        "sys",
        "subprocess",
        "builtins",
    ]
)


def canonical_function(name: str) -> str | None:
    """The canonical function for a spelling, or None if it is not one."""
    name = ALIASES.get(name, name)
    return name if name in FUNCTIONS else None


def known_names() -> list[str]:
    return sorted(set(FUNCTIONS) | set(ALIASES) | {"pi", "e"})


def suggest(name: str) -> str | None:
    """The nearest known function name, if one is close enough."""
    match = difflib.get_close_matches(name.lower(), known_names(), n=1, cutoff=0.6)
    return match[0] if match else None
