"""Pieces shared by the renderers: numbers, derivative notation, products."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sympy

from chainrule.derive import Derivation
from chainrule.exact import exact_point
from chainrule.exact import text as exact_text
from chainrule.numcheck import Check
from chainrule.printing import form, plain, pretty
from chainrule.steps import LayerStep, LocalStep
from chainrule.wide import Wide
from chainrule.wide import text as wide


def num(value: float | None, digits: int = 10) -> str:
    """A number for people: up to `digits` significant digits, no trailing zeros."""
    if value is None or value != value:  # not computed, or NaN (a product of 0 and ∞ beyond doubles)
        return "—"
    if value == 0:
        return "0"
    text = f"{value:.{digits}g}"
    return text.replace("e-0", "e-").replace("e+0", "e+").replace("e+", "e")


def exact(value: float | None) -> str:
    """Every digit of a double (the shortest text that reads back the same), 28 not 28.0."""
    if value is None:
        return "—"
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def derivative_number(d: Derivation, digits: int | None = None) -> str:
    """The derivative's value: every digit of the double (or `digits` of them),
    or the number beyond the range of doubles that the double could not hold."""
    if d.derivative_beyond is not None:
        return wide(d.derivative_beyond, digits or 10)
    return exact(d.derivative_value) if digits is None else num(d.derivative_value, digits)


def beyond_note(d: Derivation) -> str | None:
    """Why the value is not the double, when it is beyond their range."""
    if d.derivative_beyond is None:
        return None
    where = "below" if d.derivative_beyond.exponent < 0 else "above"
    double = exact(d.derivative_value)
    return f"{where} the range of doubles, where it is {double}: computed again with an unbounded exponent"


def layer_text(d: Derivation, layer: LayerStep, style: str) -> str:
    return form(d.graph.dag, layer.ops, d.graph.names, style)


def function_text(d: Derivation, style: str) -> str:
    g = d.graph
    return form(g.dag, range(len(g.dag)), {i: n for i, n in g.names.items() if g.dag[i].kind == "var"}, style)


def ratio(layer: LayerStep, local: LocalStep) -> str:
    """dy/du2, or ∂y/∂x for a layer with several inputs."""
    d = "∂" if len(layer.inputs) > 1 else "d"
    return f"{d}{layer.name}/{d}{local.wrt}"


def factor(expr: Any, printer: Callable[[Any], str], first: bool) -> str:
    """A local derivative as a factor of a product, parenthesised where needed."""
    from sympy.printing.precedence import PRECEDENCE, precedence

    text = printer(expr)
    if precedence(expr) < PRECEDENCE["Mul"] or (text.startswith("-") and not first) or "/" in text:
        return f"({text})"
    return text


def product(d: Derivation, style: str) -> str | None:
    """The derivative written in layers: the sum over paths of the products of local derivatives."""
    if d.paths is None:
        return None
    times = "·" if style == "pretty" else "*"
    terms = []
    for p in range(len(d.paths)):
        factors = path_factors(d, p, style)
        terms.append(times.join(factors) if factors else "1")
    if not terms:
        return "0"
    return " + ".join(terms)


def path_factors(d: Derivation, path_index: int, style: str) -> list[str]:
    """The local derivatives along one path, outer first, each ready to multiply."""
    assert d.paths is not None
    printer = pretty if style == "pretty" else plain
    exprs = [d.layers[li].locals[k].expression for li, k in d.paths[path_index].steps]
    if len(exprs) == 1:
        return [printer(exprs[0])]
    return [factor(e, printer, first=(n == 0)) for n, e in enumerate(exprs)]


def ratios(d: Derivation, path_index: int) -> str:
    """dy/du2 · du2/du1 · du1/dx for one path."""
    assert d.paths is not None
    parts = [ratio(d.layers[li], d.layers[li].locals[k]) for li, k in d.paths[path_index].steps]
    return " · ".join(parts)


def factor_values(d: Derivation, path_index: int) -> list[float | None]:
    assert d.paths is not None
    return [d.layers[li].locals[k].value for li, k in d.paths[path_index].steps]


def point_text(d: Derivation) -> str:
    return where(d.point)


def where(point: Mapping[str, float] | None) -> str:
    """x = 3, y = 0.5; an exact value as it was given: x = π/4, t = 1/3."""
    if not point:
        return ""
    return ", ".join(f"{k} = {coordinate(point, k)}" for k in point)


def coordinate(point: Mapping[str, float], name: str) -> str:
    """One value of a point: exactly as given (π/4, √2, 1/3) unless it is a plain decimal."""
    value = point[name]
    precise = exact_point(point).get(name)
    if precise is None or (isinstance(precise, sympy.Rational) and _decimal(precise.q)):
        return num(value)
    return exact_text(precise)


def _decimal(denominator: int) -> bool:
    """Whether 1/denominator is a terminating decimal (its only prime factors are 2 and 5)."""
    for p in (2, 5):
        while denominator % p == 0:
            denominator //= p
    return denominator == 1


def derivative_text(d: Derivation, style: str) -> str | None:
    if d.derivative is None:
        return None
    return pretty(d.derivative) if style == "pretty" else plain(d.derivative)


def rule_names(local: LocalStep) -> str:
    """'sum, constant multiple': every rule a local derivative used, outer first."""
    return ", ".join(name for name, _ in local.rules) or local.rule


def limit_sentence(d: Derivation) -> str | None:
    """Why the chain rule does not apply at the point, and the derivative by the limit definition."""
    limit = d.limit
    if limit is None:
        return None
    step = d.evaluation.by_name.get(limit.layer)
    layer = f"{limit.layer} = {layer_text(d, step, 'pretty')}" if step is not None else limit.layer
    return (
        f"the chain rule does not apply at {point_text(d)}, because the local derivative of layer {layer} "
        f"does not exist there ({limit.reason}); the derivative still exists, by the limit definition: "
        f"from the left it is {num(limit.left.value)}, from the right {num(limit.right.value)}, "
        f"so d{d.output}/d{d.variable} = {num(limit.value)}"
    )


def nudge_relation(c: Check) -> str:
    """≈ when the nudge is close to the derivative (Nudge.close), ≉ when it is not."""
    return "≉" if c.nudge.close is False else "≈"


def nudge_gap(c: Check) -> str | None:
    """Why the nudge is far from the derivative, as a sentence fragment; None when it is close."""
    return c.nudge.gap if c.nudge.close is False else None


def reference_text(c: Check) -> str:
    """The accurate check's reference value, beyond the range of doubles where it is."""
    return wide(c.reference_beyond, 10) if c.reference_beyond is not None else num(c.value, 15)


def error_text(c: Check) -> str:
    """'error 1.2e-42 (relative 3.4e-17)', or only the relative error where the absolute one is beyond doubles."""
    relative = f"relative {num(c.rel_error, 2)}" if c.rel_error is not None else ""
    if c.abs_error is None:
        return relative
    return f"error {num(c.abs_error, 2)}" + (f" ({relative})" if relative else "")


def value_text(value: float | None, beyond: Wide | None, digits: int = 6) -> str:
    """A value or factor at the point: beyond the range of doubles where it is."""
    return wide(beyond, digits) if beyond is not None else num(value, digits)
