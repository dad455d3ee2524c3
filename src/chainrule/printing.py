"""Expressions -> strings, in two styles.

``plain`` is SymPy's notation (``2*x + 1``, ``u1**2``): used in JSON and for
pasting into Python.  ``pretty`` is the notation of the lessons (``2·x + 1``,
``u1²``, ``|x|``, ``f′(u)``): used in the terminal views.

A layer's formula is printed from the DAG, so it keeps the user's structure
and operand order; derivatives come from SymPy and are printed by SymPy's
printer (plain) or a small subclass of it (pretty).  Printing a formula is
iterative, so a chain thousands of layers deep prints without recursion.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from chainrule.syntax import Node

_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_ADD, _MUL, _NEG, _POW, _ATOM = 10, 20, 25, 40, 100
_NAMES_PLAIN = {"logb": "log", "abs": "Abs"}
_NAMES_PRETTY = {"logb": "log", "log": "ln", "sigmoid": "σ"}


def superscript(text: str) -> str:
    return text.translate(_SUP)


def form(dag: tuple[Node, ...], ops: Iterable[int], names: Mapping[int, str], style: str = "plain") -> str:
    """Print the operations `ops` (children first, root last) of a DAG.

    Nodes named in `names` that are not in `ops` are printed by name.
    """
    pretty = style == "pretty"
    mul = "·" if pretty else "*"
    done: dict[int, tuple[str, int]] = {}
    last = -1
    for i in ops:
        last = i
        node = dag[i]
        args = [done[a] if a in done else (names[a], _ATOM) for a in node.args]

        def wrap(arg: tuple[str, int], below: int) -> str:
            return f"({arg[0]})" if arg[1] < below else arg[0]

        k = node.kind
        if k == "num":
            done[i] = (node.text, _NEG if node.text.startswith("-") else _ATOM)
        elif k == "const":
            done[i] = ("π" if pretty else "pi", _ATOM) if node.text == "pi" else ("e" if pretty else "E", _ATOM)
        elif k == "var":
            done[i] = (names.get(i, node.text), _ATOM)
        elif k == "add":
            done[i] = (f"{args[0][0]} + {wrap(args[1], _ADD + 1)}", _ADD)
        elif k == "sub":
            done[i] = (f"{args[0][0]} - {wrap(args[1], _ADD + 1)}", _ADD)
        elif k == "neg":
            done[i] = (f"-{wrap(args[0], _MUL)}", _NEG)
        elif k == "mul":
            done[i] = (f"{wrap(args[0], _MUL)}{mul}{wrap(args[1], _NEG + 1)}", _MUL)
        elif k == "div":
            done[i] = (f"{wrap(args[0], _MUL)}/{wrap(args[1], _NEG + 1)}", _MUL)
        elif k == "pow":
            base = wrap(args[0], _POW + 1)
            exponent = args[1][0]
            if pretty and dag[node.args[1]].kind == "num" and exponent.lstrip("-").isdigit():
                done[i] = (base + superscript(exponent), _POW)
            else:
                done[i] = (f"{base}{'^' if pretty else '**'}{wrap(args[1], _POW)}", _POW)
        elif pretty and k == "call" and node.text == "abs":
            done[i] = (f"|{args[0][0]}|", _ATOM)
        else:
            table = _NAMES_PRETTY if pretty else _NAMES_PLAIN
            name = table.get(node.text, node.text)
            done[i] = (f"{name}({', '.join(a[0] for a in args)})", _ATOM)
    return done[last][0] if last >= 0 else ""


@functools.lru_cache(maxsize=8192)
def plain(expr: Any) -> str:
    """SymPy's own string for an expression (cached: views print each local twice)."""
    import sympy

    return _by_shape(expr, "plain", sympy.sstr)


@functools.lru_cache(maxsize=8192)
def pretty(expr: Any) -> str:
    """The lessons' notation for a SymPy expression."""
    return _by_shape(expr, "pretty", _pretty_printer().doprint)


# A deep chain has thousands of locals of a few shapes: cos(u7), 1 - tanh(u8)², ...
# Each shape is printed once, with the layer's symbol as a placeholder.
_LAYER = re.compile(r"u[0-9]+")  # the names graph.py gives layers
_SHAPES: dict[tuple[Any, ...], str] = {}
_HOLE = "\0"
_SHAPE_SIZE = 40


def _by_shape(expr: Any, style: str, printer: Callable[[Any], Any]) -> str:
    """printer(expr), reusing the text of an earlier expression of the same shape.

    Only for an expression in one layer symbol (u7): its printed form then
    depends on the tree and the symbol's name alone, and the name cannot
    affect the order of terms, since every term holds the same symbol.
    """
    found = _shape(expr)
    if found is None:
        return str(printer(expr))
    shape, name = found
    key = (style, *shape)
    template = _SHAPES.get(key)
    if template is None:
        text = str(printer(expr))
        hollow = re.sub(rf"(?<![A-Za-z0-9_.]){name}(?![A-Za-z0-9_])", _HOLE, text)
        if len(_SHAPES) < 4096 and _HOLE in hollow and name not in hollow:
            _SHAPES[key] = hollow
        return text
    return template.replace(_HOLE, name)


def _shape(expr: Any) -> tuple[tuple[Any, ...], str] | None:
    """The tree of a small expression with its one layer symbol left anonymous, and the symbol's name."""
    shape: list[Any] = []
    symbol = None
    stack = [expr]
    while stack:
        e = stack.pop()
        if e.is_Symbol:
            if symbol is None:
                symbol = e
            elif e != symbol:
                return None
            shape.append("symbol")
        elif e.args:
            shape.append((type(e), len(e.args)))
            stack.extend(reversed(e.args))
        else:  # a number or constant: its type keeps 2 and 2.0 apart
            shape.append((type(e), e, getattr(e, "_prec", None)))
        if len(shape) > _SHAPE_SIZE:
            return None
    if symbol is None or not _LAYER.fullmatch(symbol.name):
        return None
    return tuple(shape), symbol.name


_PRINTER: Any = None


def _pretty_printer() -> Any:
    global _PRINTER
    if _PRINTER is None:
        from sympy import S
        from sympy.printing.precedence import precedence
        from sympy.printing.str import StrPrinter

        class Pretty(StrPrinter):  # type: ignore[misc]
            def _print_Mul(self, expr: Any) -> str:
                return str(super()._print_Mul(expr)).replace("*", "·")

            def _print_Pow(self, expr: Any, rational: bool = False) -> str:
                base, exp = expr.as_base_exp()
                if exp.is_Integer and exp > 1:
                    b = str(self.parenthesize(base, precedence(expr), strict=True))
                    return b + superscript(str(exp))
                if exp == S.Half:
                    return f"√{self.parenthesize(base, precedence(expr), strict=True)}"
                text = str(super()._print_Pow(expr, rational))
                return text.replace("**", "^")

            def _print_Abs(self, expr: Any) -> str:
                return f"|{self._print(expr.args[0])}|"

            def _print_log(self, expr: Any) -> str:
                return f"ln({self._print(expr.args[0])})"

            def _print_sigmoid(self, expr: Any) -> str:
                return f"σ({self._print(expr.args[0])})"

            def _print_Derivative(self, expr: Any) -> str:
                inner = expr.expr
                if len(expr.variables) == 1 and inner.func.__name__ in "fgh" and len(inner.args) == 1:
                    return f"{inner.func.__name__}′({self._print(inner.args[0])})"
                return str(super()._print_Derivative(expr))

            def _print_Heaviside(self, expr: Any) -> str:
                return f"step({self._print(expr.args[0])})"

        _PRINTER = Pretty()
    return _PRINTER
