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

from chainrule import huge
from chainrule.interpret import TextBackend, evaluate, flatten, superscript
from chainrule.rules import RULES
from chainrule.syntax import Node

__all__ = ["form", "latex", "mathml", "plain", "pretty", "superscript"]


def form(dag: tuple[Node, ...], ops: Iterable[int], names: Mapping[int, str], style: str = "plain") -> str:
    """Print the operations `ops` (children first, root last) of a DAG.

    Nodes named in `names` that are not in `ops` are printed by name.  One
    walk of the interpreter with the text backend, which builds a rope, and
    one join of the root's rope: time and memory linear in the formula's size.
    """
    order = list(ops)
    if not order:
        return ""
    inside = set(order)
    shared: set[int] = set()  # nodes the formula uses more than once
    if len(order) > 1:
        used: set[int] = set()
        for i in order:
            for a in dag[i].args:
                if a in used:
                    shared.add(a)
                used.add(a)
    backend = TextBackend(dag, names, pretty=style == "pretty", shared=shared)
    given = {a: backend.leaf(a) for i in order for a in dag[i].args if a not in inside}
    return flatten(evaluate(dag, backend, order, given)[order[-1]][0])


@functools.lru_cache(maxsize=8192)
def plain(expr: Any) -> str:
    """SymPy's own string for an expression (cached: views print each local twice).

    f′ at a layer's symbol reads Derivative(f(u1), u1), still valid SymPy."""
    return _by_shape(expr, "plain", _printers()[0].doprint)


def latex(expr: Any) -> str:
    """SymPy's LaTeX for an expression, with f′(u) for an abstract function's derivative."""
    return str(_printers()[2].doprint(expr))


def mathml(expr: Any) -> str:
    """Presentation MathML for an expression (the lesson page's formulas)."""
    return str(_printers()[3].doprint(expr))


def _latex_too_long(expr: Any) -> str | None:
    """A number too long to write out, in LaTeX: 1.116538092 \\cdot 10^{4400} \\text{ (4,401 digits)}."""
    if not huge.rational_too_long(expr):
        return None
    p, q = int(expr.p), int(expr.q)
    mantissa, _, power = huge.scientific(p, q).partition("e")
    value = mantissa + (f" \\cdot 10^{{{power}}}" if power else "")
    count = huge.described(p, q).partition(" (")[2].removesuffix(")")
    return f"{value} \\text{{ ({count})}}"


@functools.lru_cache(maxsize=8192)
def pretty(expr: Any) -> str:
    """The lessons' notation for a SymPy expression."""
    return _by_shape(expr, "pretty", _printers()[1].doprint)


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


def _abstract_prime(expr: Any) -> tuple[str, Any] | None:
    """(f, u) when expr is f′ at u, as the rule table writes it: Subs(Derivative(f(t), t), t, u)."""
    from sympy import Derivative

    inner, (variable,), (point,) = expr.args
    if (
        isinstance(inner, Derivative)
        and inner.variables == (variable,)
        and inner.expr.func.__name__ in "fgh"
        and inner.expr.args == (variable,)
    ):
        return inner.expr.func.__name__, point
    return None


_PRETTY = {
    ("Abs" if rule.key == "abs" else rule.key): rule.pretty for rule in RULES.values() if rule.pretty and rule.function
}


LONG_NUMBER = 40  # digits: an exact number longer than this is shown to 10 significant digits


def _long_number(expr: Any) -> str | None:
    """A huge exact number (10^-400 typed as 1e-400, 2^1030) as the lessons show it, 1e-400 or
    1.157920892e310; None for one short enough to show exactly.  JSON keeps every digit, up to
    the 4,300 that Python writes out; beyond them every view describes the number."""
    p, q = int(expr.p), int(expr.q)
    if huge.rational_too_long(expr):
        return huge.described(p, q)
    if huge.digits(p) + (huge.digits(q) if q != 1 else 0) <= LONG_NUMBER:
        return None
    return huge.scientific(p, q)


def _too_long(expr: Any) -> str | None:
    """A number too long for Python to write out, described (for the plain and LaTeX printers)."""
    return huge.described(int(expr.p), int(expr.q)) if huge.rational_too_long(expr) else None


def _decimal(number: Any) -> str | None:
    """A rational whose denominator is a power of 10 as the decimal a person typed: 1.0001."""
    p, q = int(number.p), int(number.q)
    places = huge.digits(q) - 1
    if q == 1 or q != 10**places or places > LONG_NUMBER:
        return None
    sign, p = ("-" if p < 0 else ""), abs(p)
    whole, part = divmod(p, q)
    return f"{sign}{whole}.{part:0{places}d}"


@functools.cache
def _printers() -> tuple[Any, Any, Any, Any]:
    """SymPy's string printer, the lessons' notation, SymPy's LaTeX and presentation MathML, each
    taught f′ and numbers too long to write out."""
    from sympy import Derivative, Function, S
    from sympy.printing.latex import LatexPrinter
    from sympy.printing.mathml import MathMLPresentationPrinter
    from sympy.printing.precedence import precedence
    from sympy.printing.str import StrPrinter

    class Plain(StrPrinter):  # type: ignore[misc]
        def _print_Integer(self, expr: Any) -> str:
            return _too_long(expr) or str(super()._print_Integer(expr))

        def _print_Rational(self, expr: Any) -> str:
            return _too_long(expr) or str(super()._print_Rational(expr))

        def _print_Subs(self, expr: Any) -> str:
            found = _abstract_prime(expr)
            if found is not None and found[1].is_Symbol:
                f, u = found
                return str(self._print(Derivative(Function(f)(u), u)))
            return str(super()._print_Subs(expr))

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

        def _print_Function(self, expr: Any) -> str:
            template = _PRETTY.get(expr.func.__name__)
            if template is None or len(expr.args) != template.count("{"):
                return str(super()._print_Function(expr))
            return template.format(*(self._print(a) for a in expr.args))

        def _print_Abs(self, expr: Any) -> str:
            return self._print_Function(expr)

        def _print_Subs(self, expr: Any) -> str:
            found = _abstract_prime(expr)
            if found is not None:
                return f"{found[0]}′({self._print(found[1])})"
            return str(super()._print_Subs(expr))

        def _print_Derivative(self, expr: Any) -> str:
            inner = expr.expr
            if len(expr.variables) == 1 and inner.func.__name__ in "fgh" and len(inner.args) == 1:
                return f"{inner.func.__name__}′({self._print(inner.args[0])})"
            return str(super()._print_Derivative(expr))

        def _print_Heaviside(self, expr: Any) -> str:
            return f"step({self._print(expr.args[0])})"

        def _print_Pi(self, expr: Any) -> str:
            return "π"  # as the layers' formulas write it

        def _print_Integer(self, expr: Any) -> str:
            return _long_number(expr) or str(super()._print_Integer(expr))

        def _print_Rational(self, expr: Any) -> str:
            return _long_number(expr) or str(super()._print_Rational(expr))

        def held_power(self, expr: Any) -> str:
            """7⁵²⁰⁰, 1.0001¹¹⁰⁰, (1/3)⁹⁰⁰⁰, 7^(5200/3), 2^(2^(2⁶⁵⁵³⁶)): a power too long to evaluate."""
            *bases, top = expr.args
            texts = [self._power_base(b) for b in bases]
            if top.is_Integer and not huge.rational_too_long(top):
                text = texts.pop() + superscript(str(top))
            else:
                text = str(self._print(top))
            for base in reversed(texts):
                text = f"{base}^({text})"
            return text

        def _power_base(self, base: Any) -> str:
            shown = _decimal(base) if not base.is_Integer else None
            text = shown or str(self._print(base))
            if base.is_negative or (shown is None and not base.is_Integer) or " " in text:
                text = f"({text})"
            return text

    class Latex(LatexPrinter):  # type: ignore[misc]
        def _print_Rational(self, expr: Any) -> str:  # integers too
            return _latex_too_long(expr) or str(super()._print_Rational(expr))

        def _print_Symbol(self, expr: Any, style: str = "plain") -> str:
            return symbol_tex(expr.name)

        def _print_Subs(self, expr: Any) -> str:
            found = _abstract_prime(expr)
            if found is not None:
                f, u = found
                return f"{f}'{{\\left({self._print(u)} \\right)}}"
            return str(super()._print_Subs(expr))

    class MathML(MathMLPresentationPrinter):  # type: ignore[misc]
        def _print_Rational(self, expr: Any) -> Any:  # integers too
            return self._described(expr) or super()._print_Rational(expr)

        def _described(self, expr: Any) -> Any:
            text = _too_long(expr)
            if text is None:
                return None
            element = self.dom.createElement("mtext")
            element.appendChild(self.dom.createTextNode(text))
            return element

    return Plain(), Pretty(), Latex(), MathML()


GREEK_LETTERS = dict(
    zip(
        "αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΦΨΩ",
        [
            "alpha",
            "beta",
            "gamma",
            "delta",
            "epsilon",
            "zeta",
            "eta",
            "theta",
            "iota",
            "kappa",
            "lambda",
            "mu",
            "nu",
            "xi",
            "pi",
            "rho",
            "sigma",
            "tau",
            "upsilon",
            "phi",
            "chi",
            "psi",
            "omega",
            "Gamma",
            "Delta",
            "Theta",
            "Lambda",
            "Xi",
            "Pi",
            "Sigma",
            "Phi",
            "Psi",
            "Omega",
        ],
        strict=True,
    )
)
# Names a person may spell out (theta_1): every letter above, and LaTeX's variants.
_GREEK_TEX = frozenset(GREEK_LETTERS.values()) | {"varepsilon", "vartheta", "varphi", "Upsilon"}
_LAYER_NAME = re.compile(r"u[0-9]+")
_MARK_TEX = {"′": "'", "″": "''", "‴": "'''"}


def symbol_tex(name: str) -> str:
    """A name in LaTeX, distinct names distinct: x_1 is x_{1} and x1 is \\mathit{x1}; theta_1 is
    \\theta_{1}; the layers' u12 is u_{12}; loss is \\mathrm{loss}; c′ (a rebinding) is c'."""
    marks = ""
    while name and name[-1] in _MARK_TEX:
        marks = _MARK_TEX[name[-1]] + marks
        name = name[:-1]
    if _LAYER_NAME.fullmatch(name):
        return f"u_{{{name[1:]}}}{marks}"
    base, _, sub = name.partition("_")
    text = _word_tex(base)
    if sub:
        text += "_{" + ",".join(p if p.isdigit() else _word_tex(p) for p in sub.split("_")) + "}"
    return text + marks


def _word_tex(word: str) -> str:
    if word in GREEK_LETTERS:
        return "\\" + GREEK_LETTERS[word]
    if word in _GREEK_TEX:
        return "\\" + word
    if len(word) == 1:
        return word
    return rf"\mathit{{{word}}}" if any(c.isdigit() for c in word) else rf"\mathrm{{{word}}}"
