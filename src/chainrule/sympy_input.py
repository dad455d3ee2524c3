"""A SymPy expression as chainrule's own text, so that it keeps its meaning.

The Python API takes SymPy expressions as well as text.  ``sympy.sstr`` would turn ``E`` into
the text "E", which our parser reads as a variable named E; this module writes each node as our
parser reads it instead: ``E`` is ``e``, ``pi`` is ``pi``, ``Rational(1, 3)`` is ``(1/3)``
(exact), ``Abs`` is ``abs``, ``Heaviside`` is ``step``, a SymPy function is the rule table's
name for it.  What has no real meaning here is refused with a usage error naming it: ``I``
(complex), ``oo``, ``zoo`` and ``nan``, relations, matrices, integrals, unknown functions.

The walk is over the SymPy tree with an explicit stack (a tree thousands deep converts without
recursion), and the text goes to our own parser: nothing here calls ``sympify`` or evaluates.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from chainrule.errors import UsageError
from chainrule.interpret import Rope, flatten
from chainrule.syntax import MAX_INPUT

_ADD, _MUL, _POW, _ATOM = 1, 2, 3, 4  # precedence of a node's text, to know when it needs parentheses
_CHUNK = 10**90  # an integer longer than the parser's 100 digits is written in pieces of 90 digits


@functools.cache
def _functions() -> Mapping[type, str]:
    """SymPy's function classes, and ours, by the rule table's name for them."""
    from chainrule.rules import CLASSES, RULES

    names = {rule.build: key for key, rule in RULES.items() if isinstance(rule.build, type) and rule.function}
    names.update({cls: key for key, cls in CLASSES.items()})
    return names


class _Part:
    """A node's text as a rope (:mod:`chainrule.interpret`'s: pieces that refer to the children's
    ropes, joined once at the end), its precedence, and its length."""

    __slots__ = ("length", "precedence", "rope")

    def __init__(self, pieces: list[str | _Part], precedence: int) -> None:
        self.rope: Rope = tuple(p if isinstance(p, str) else p.rope for p in pieces)
        self.length: int = 0
        for p in pieces:
            self.length += len(p) if isinstance(p, str) else p.length
        self.precedence = precedence


def text_of(expr: Any, what: str = "the expression") -> str:
    """`expr`, a SymPy expression, as text our parser reads with the same meaning."""
    import sympy

    if not isinstance(expr, sympy.Basic):
        raise UsageError(f"{what} must be text or a SymPy expression, not {type(expr).__name__}")
    done: dict[int, _Part] = {}  # id(node) -> its text
    stack: list[tuple[Any, bool]] = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in done:
            continue
        if not ready and node.args and not _leaf(node):
            _known(node, what)  # before its arguments: an Integral is refused as one, not by its limits
            stack.append((node, True))
            stack.extend((a, False) for a in reversed(node.args) if id(a) not in done)
            continue
        part = _node(node, [done[id(a)] for a in node.args] if not _leaf(node) else [], what)
        if part.length > MAX_INPUT:  # shared subtrees make a long text: the parser would refuse it anyway
            raise UsageError(f"{what} is too large: its text is longer than {MAX_INPUT:,} characters")
        done[id(node)] = part
    return flatten(done[id(expr)].rope)


def _known(node: Any, what: str) -> None:
    """Refuse a node with arguments that has no meaning here (a relation, a matrix, an integral)."""
    import sympy

    if node.is_Add or node.is_Mul or node.is_Pow or isinstance(node, sympy.core.function.AppliedUndef):
        return
    if node.func in _functions() or isinstance(node, sympy.Heaviside):
        return
    raise UsageError(
        f"{what}: SymPy's {type(node).__name__} has no meaning in chainrule, which works with real functions"
    )


def _leaf(node: Any) -> bool:
    """Nodes written from themselves, not from their arguments (numbers, and held powers)."""
    return bool(node.is_Number or node.is_NumberSymbol or type(node).__name__ == "HeldPower")


def _wrap(part: _Part, below: int) -> str | _Part:
    return _Part(["(", part, ")"], _ATOM) if part.precedence < below else part


def _joined(parts: list[_Part], separator: str, below: int, precedence: int) -> _Part:
    pieces: list[str | _Part] = []
    for k, part in enumerate(parts):
        if k:
            pieces.append(separator)
        pieces.append(_wrap(part, below))
    return _Part(pieces, precedence)


def _atom(text: str, precedence: int = _ATOM) -> _Part:
    return _Part([text], precedence)


def _node(node: Any, args: list[_Part], what: str) -> _Part:
    """One node's text from its arguments' texts."""
    import sympy

    if node.is_Symbol:
        return _atom(node.name)
    if node in (sympy.S.Infinity, sympy.S.NegativeInfinity, sympy.S.ComplexInfinity, sympy.S.NaN):
        raise UsageError(f"{what} holds {node}, which is not a number chainrule can compute with")
    if node.is_Number or node.is_NumberSymbol or isinstance(node, sympy.core.numbers.ImaginaryUnit):
        return _number(node, what)
    if type(node).__name__ == "HeldPower":
        return _held(node, what)
    if node.is_Add:
        return _joined(args, " + ", _ADD, _ADD)
    if node.is_Mul:
        return _joined(args, "*", _MUL + 1, _MUL)
    if node.is_Pow:
        if node.base.is_number and node.base.is_negative and node.exp.is_Rational and not node.exp.is_Integer:
            # SymPy's (−1)^(1/3) is the principal root, a complex number; our text would be the real one
            raise UsageError(f"{what} holds {node}, which SymPy takes as a complex root: chainrule works with reals")
        base, exponent = args
        return _Part([_wrap(base, _POW + 1), "^", _wrap(exponent, _ATOM)], _POW)
    if isinstance(node, sympy.Heaviside):
        if len(node.args) > 1 and node.args[1] != sympy.Rational(1, 2):
            raise UsageError(
                f"{what}: Heaviside with the value {node.args[1]} at 0 is not chainrule's step, which is ½ there"
            )
        return _Part(["step(", args[0], ")"], _ATOM)
    if isinstance(node, sympy.core.function.AppliedUndef):
        if node.func.__name__ not in ("f", "g", "h") or len(node.args) != 1:
            raise UsageError(
                f"{what}: the undefined function {node.func.__name__} with {len(node.args)} argument(s); "
                "chainrule's abstract functions are f, g and h of one argument"
            )
        return _Part([f"{node.func.__name__}(", args[0], ")"], _ATOM)
    name = _functions().get(node.func)
    if name is not None:
        return _Part([f"{name}(", _joined(args, ", ", 0, _ATOM), ")"], _ATOM)
    raise UsageError(
        f"{what}: SymPy's {type(node).__name__} has no meaning in chainrule, which works with real functions"
    )


def _number(node: Any, what: str) -> _Part:
    import sympy

    if node is sympy.S.Exp1:
        return _atom("e")
    if node is sympy.S.Pi:
        return _atom("pi")
    if node is sympy.S.ImaginaryUnit:
        raise UsageError(f"{what} holds the imaginary unit I: chainrule works with real numbers")
    if node.is_Integer:
        return _integer(int(node.p))
    if node.is_Rational:
        return _Part([_wrap(_integer(int(node.p)), _MUL), "/", _wrap(_integer(int(node.q)), _ATOM)], _MUL)
    if node.is_Float:
        return _float(node)
    raise UsageError(f"{what}: the SymPy constant {type(node).__name__} has no meaning in chainrule")


def _integer(n: int) -> _Part:
    """An integer exactly, however long: in pieces of 90 digits beyond the parser's 100
    ((c₂·10^180 + c₁·10^90 + c₀), without ever writing more than 90 digits at once)."""
    sign, n = ("-" if n < 0 else ""), abs(n)
    if n < _CHUNK:
        return _atom(f"{sign}{n}", _ADD if sign else _ATOM)
    pieces = []
    k = 0
    while n:
        n, digits = divmod(n, _CHUNK)
        if digits:
            pieces.append(f"{digits}*10^{90 * k}" if k else str(digits))
        k += 1
    body = " + ".join(reversed(pieces))
    return _atom(f"-({body})", _ADD) if sign else _atom(f"({body})")


def _float(node: Any) -> _Part:
    """A SymPy Float by its value to its own precision, as a decimal the parser reads exactly."""
    import mpmath

    digits = max(int(node._prec * 0.30103) + 1, 1)
    text = mpmath.nstr(mpmath.mpf(node._mpf_), digits, min_fixed=-20, max_fixed=20)
    return _atom(text, _ADD if text.startswith("-") else _ATOM)


def _held(node: Any, what: str) -> _Part:
    """chainrule's own held power (a result passed back in): its tower, from the top down."""
    parts = [_wrap(_number(a, what), _ATOM) for a in node.args]
    text = parts[-1]
    for base in reversed(parts[:-1]):
        text = _Part([base, "^(", text, ")"], _POW)
    return text if isinstance(text, _Part) else _Part([text], _ATOM)


def variables_kept(expr: Any, names: tuple[str, ...], what: str = "the expression") -> None:
    """Refuse a SymPy symbol whose name our parser reads otherwise (e is the constant e; xy may be
    x·y): `names` are the variables the parser found in the text."""
    wanted = sorted(str(s.name) for s in _symbols(expr))
    if len(set(wanted)) < len(wanted):
        twice = next(n for n in wanted if wanted.count(n) > 1)
        raise UsageError(f"{what}: two different SymPy symbols are both named {twice!r} (their assumptions differ)")
    if sorted(names) != wanted:
        lost = sorted(set(wanted) - set(names)) or sorted(set(names) - set(wanted))
        raise UsageError(
            f"{what}: the SymPy symbol {lost[0]!r} does not read as a variable of that name here "
            "(e and pi are constants; a name must be letters, digits and _)",
            hint="rename the symbol, as in sympy.Symbol('x')",
        )


def _symbols(expr: Any) -> set[Any]:
    """The symbols of an expression, by a walk with a stack (SymPy's free_symbols recurses)."""
    found: set[Any] = set()
    seen: set[int] = set()
    stack = [expr]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if e.is_Symbol:
            found.add(e)
        else:
            stack.extend(e.args)
    return found
