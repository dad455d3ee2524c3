"""The whitelist of names the parser accepts.  Imports nothing heavy.

The parser consults this module only; the mathematics of each function
lives in :mod:`chainrule.rules`, keyed by the canonical names below.
"""

from __future__ import annotations

import difflib
import keyword
import re

# Canonical function name -> number of arguments it takes (min, max).
FUNCTIONS: dict[str, tuple[int, int]] = {
    name: (1, 1)
    for name in [
        "sin",
        "cos",
        "tan",
        "sec",
        "csc",
        "cot",
        "asin",
        "acos",
        "atan",
        "asec",
        "acsc",
        "acot",
        "sinh",
        "cosh",
        "tanh",
        "sech",
        "csch",
        "coth",
        "asinh",
        "acosh",
        "atanh",
        "asech",
        "acsch",
        "acoth",
        "exp",
        "log",
        "log10",
        "log2",
        "sqrt",
        "cbrt",
        "abs",
        "sigmoid",
        "relu",
        "softplus",
    ]
}
FUNCTIONS["log"] = (1, 2)

# Other spellings a person may type.
ALIASES: dict[str, str] = {
    "ln": "log",
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "arcsec": "asec",
    "arccsc": "acsc",
    "arccot": "acot",
    "arsinh": "asinh",
    "arcosh": "acosh",
    "artanh": "atanh",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
    "arsech": "asech",
    "arcsch": "acsch",
    "arcoth": "acoth",
    "σ": "sigmoid",
    "√": "sqrt",
}

# f^-1 notation: sin^-1(x) is asin(x).
INVERSES: dict[str, str] = {
    name: "a" + name
    for name in ["sin", "cos", "tan", "sec", "csc", "cot", "sinh", "cosh", "tanh", "sech", "csch", "coth"]
}

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
