"""The table of differentiation rules.

Each operation the parser can produce has one :class:`Rule`: how to build it
in SymPy, its local derivative with respect to each operand (the identity
shown to users), how to evaluate it in floating point and in mpmath, and
where it is undefined or not differentiable.  Operators whose rule depends on
which operands vary (a product with a constant factor is the constant-multiple
rule) have *variants*, looked up by the pattern of varying operands.

Nothing in this module decides by a chain of ifs which rule applies: the
engine looks rules up with :func:`rule_for`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy

Sym = Callable[..., Any]
Num = Callable[..., float]
Check = Callable[..., "str | None"]


class sigmoid(sympy.Function):  # type: ignore[misc]  # noqa: N801 - SymPy names functions in lower case
    """The logistic function 1/(1 + e^-u)."""

    @classmethod
    def eval(cls, u: sympy.Expr) -> sympy.Expr | None:
        # SymPy's hook for simplifying sigmoid(0) to 1/2; not Python's eval, and it sees
        # only SymPy objects built from the parser's whitelist.
        return sympy.S.Half if u == 0 else None

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, u: sympy.Expr, **kwargs: Any) -> sympy.Expr:
        return 1 / (1 + sympy.exp(-u))


class relu(sympy.Function):  # type: ignore[misc]  # noqa: N801
    """max(0, u)."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sympy.Heaviside(self.args[0])

    def _eval_rewrite_as_Max(self, u: sympy.Expr, **kwargs: Any) -> sympy.Expr:
        return sympy.Max(0, u)


class softplus(sympy.Function):  # type: ignore[misc]  # noqa: N801
    """ln(1 + e^u), a smooth relu."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, u: sympy.Expr, **kwargs: Any) -> sympy.Expr:
        return sympy.log(1 + sympy.exp(u))


@dataclass(frozen=True)
class Rule:
    """One differentiation rule.

    key: the operation it belongs to; name: what users read ("power");
    identity: the rule as a formula; build: operands -> SymPy expression;
    partials: for each operand, operands -> the local derivative;
    value / slopes / mp: the same in floating point and in mpmath;
    undefined / complex_ / kink: operands (floats) -> a reason why the value is
    undefined, not real, or not differentiable there; or None.
    """

    key: str
    name: str
    identity: str
    build: Sym
    partials: tuple[Sym, ...]
    value: Num
    slopes: tuple[Num, ...]
    mp: Sym
    undefined: Check | None = None
    kink: Check | None = None
    complex_: Check | None = None
    variants: dict[tuple[bool, ...], tuple[str, str]] = field(default_factory=dict)


def _fn(
    key: str,
    identity: str,
    build: Sym,
    d: Sym,
    value: Num,
    slope: Num,
    mp: Sym,
    undefined: Check | None = None,
    kink: Check | None = None,
    name: str | None = None,
    complex_: Check | None = None,
) -> Rule:
    return Rule(
        key=key,
        name=name or key,
        identity=identity,
        build=build,
        partials=(d,),
        value=value,
        slopes=(slope,),
        mp=mp,  # a complex result is refused where it is used (numcheck.values_mp)
        undefined=undefined,
        kink=kink,
        complex_=complex_,
    )


def _sec(u: float) -> float:
    return 1 / math.cos(u)


def _csc(u: float) -> float:
    return 1 / math.sin(u)


def _cot(u: float) -> float:
    return math.cos(u) / math.sin(u)


def _cbrt(u: float) -> float:
    """The real cube root (math.cbrt needs Python 3.11)."""
    return math.copysign(abs(u) ** (1 / 3), u)


def _sigmoid(u: float) -> float:
    if u >= 0:
        return 1 / (1 + math.exp(-u))
    z = math.exp(u)
    return z / (1 + z)


def _softplus(u: float) -> float:
    return max(u, 0.0) + math.log1p(math.exp(-abs(u)))


def _power(a: float, b: float) -> float:
    if a == 0 and b < 0:
        raise ZeroDivisionError("0 to a negative power")
    if a < 0 and not float(b).is_integer():
        raise ValueError("complex")
    return math.pow(a, b)


def _need(cond: bool, reason: str) -> str | None:
    return None if cond else reason


sp = sympy
_ONE = sympy.Integer(1)

_TABLE: list[Rule] = [
    # --- arithmetic -------------------------------------------------------------
    Rule(
        "add",
        "sum",
        "d(a + b) = da + db",
        lambda a, b: a + b,
        (lambda a, b: _ONE, lambda a, b: _ONE),
        lambda a, b: a + b,
        (lambda a, b: 1.0, lambda a, b: 1.0),
        lambda a, b: a + b,
    ),
    Rule(
        "sub",
        "difference",
        "d(a − b) = da − db",
        lambda a, b: a - b,
        (lambda a, b: _ONE, lambda a, b: -_ONE),
        lambda a, b: a - b,
        (lambda a, b: 1.0, lambda a, b: -1.0),
        lambda a, b: a - b,
    ),
    Rule(
        "neg",
        "negation",
        "d(−u) = −du",
        lambda a: -a,
        (lambda a: -_ONE,),
        lambda a: -a,
        (lambda a: -1.0,),
        lambda a: -a,
    ),
    Rule(
        "mul",
        "product",
        "d(a·b) = b·da + a·db",
        lambda a, b: a * b,
        (lambda a, b: b, lambda a, b: a),
        lambda a, b: a * b,
        (lambda a, b: b, lambda a, b: a),
        lambda a, b: a * b,
        variants={
            (True, False): ("constant multiple", "d(u·c) = c·du"),
            (False, True): ("constant multiple", "d(c·u) = c·du"),
        },
    ),
    Rule(
        "div",
        "quotient",
        "d(a/b) = da/b − a·db/b²",
        lambda a, b: a / b,
        (lambda a, b: 1 / b, lambda a, b: -a / b**2),
        lambda a, b: a / b,
        (lambda a, b: 1 / b, lambda a, b: -a / b**2),
        lambda a, b: a / b,
        undefined=lambda a, b: _need(b != 0, "division by zero"),
        variants={
            (True, False): ("constant multiple", "d(u/c) = du/c"),
            (False, True): ("reciprocal", "d(c/u) = −c·du/u²"),
        },
    ),
    Rule(
        "pow",
        "general power",
        "d(aᵇ) = b·aᵇ⁻¹·da + aᵇ·ln(a)·db",
        lambda a, b: _pow(a, b),
        (lambda a, b: b * _pow(a, b - 1), lambda a, b: _pow(a, b) * sympy.log(a)),
        _power,
        (lambda a, b: b * _power(a, b - 1), lambda a, b: _power(a, b) * math.log(a)),
        lambda a, b: a**b,
        undefined=lambda a, b: _need(not (a == 0 and b < 0), "0 raised to a negative power is undefined"),
        complex_=lambda a, b: _need(
            a >= 0 or float(b).is_integer(), "a negative number to a fractional power is not a real number"
        ),
        kink=lambda a, b: _need(not (a == 0 and 0 < b < 1), "the slope of a fractional power is infinite at 0"),
        variants={
            (True, False): ("power", "d/du uⁿ = n·uⁿ⁻¹"),
            (False, True): ("exponential", "d/du aᵘ = aᵘ·ln(a)"),
        },
    ),
    Rule(
        "logb",
        "logarithm",
        "d/du log_b(u) = 1/(u·ln(b))",
        lambda a, b: sympy.log(a, b),
        (lambda a, b: 1 / (a * sympy.log(b)), lambda a, b: -sympy.log(a) / (b * sympy.log(b) ** 2)),
        lambda a, b: math.log(a, b),
        (lambda a, b: 1 / (a * math.log(b)), lambda a, b: -math.log(a) / (b * math.log(b) ** 2)),
        lambda a, b: mpmath.log(a, b),
        undefined=lambda a, b: (
            _need(a > 0, "the logarithm needs a positive argument")
            or _need(b > 0 and b != 1, "the base of a logarithm must be positive and not 1")
        ),
    ),
    # --- elementary functions -----------------------------------------------------
    _fn("sin", "d/du sin(u) = cos(u)", sp.sin, sp.cos, math.sin, math.cos, mpmath.sin),
    _fn("cos", "d/du cos(u) = −sin(u)", sp.cos, lambda u: -sp.sin(u), math.cos, lambda u: -math.sin(u), mpmath.cos),
    _fn(
        "tan",
        "d/du tan(u) = sec²(u)",
        sp.tan,
        lambda u: sp.sec(u) ** 2,
        math.tan,
        lambda u: _sec(u) ** 2,
        mpmath.tan,
        undefined=lambda u: _need(math.cos(u) != 0, "tan is undefined where cos is 0"),
    ),
    _fn(
        "sec",
        "d/du sec(u) = sec(u)·tan(u)",
        sp.sec,
        lambda u: sp.sec(u) * sp.tan(u),
        _sec,
        lambda u: _sec(u) * math.tan(u),
        mpmath.sec,
        undefined=lambda u: _need(math.cos(u) != 0, "sec is undefined where cos is 0"),
    ),
    _fn(
        "csc",
        "d/du csc(u) = −csc(u)·cot(u)",
        sp.csc,
        lambda u: -sp.csc(u) * sp.cot(u),
        _csc,
        lambda u: -_csc(u) * _cot(u),
        mpmath.csc,
        undefined=lambda u: _need(math.sin(u) != 0, "csc is undefined where sin is 0"),
    ),
    _fn(
        "cot",
        "d/du cot(u) = −csc²(u)",
        sp.cot,
        lambda u: -(sp.csc(u) ** 2),
        _cot,
        lambda u: -(_csc(u) ** 2),
        mpmath.cot,
        undefined=lambda u: _need(math.sin(u) != 0, "cot is undefined where sin is 0"),
    ),
    _fn(
        "asin",
        "d/du asin(u) = 1/√(1 − u²)",
        sp.asin,
        lambda u: 1 / sp.sqrt(1 - u**2),
        math.asin,
        lambda u: 1 / math.sqrt(1 - u * u),
        mpmath.asin,
        undefined=lambda u: _need(-1 <= u <= 1, "asin needs an argument between −1 and 1"),
        kink=lambda u: _need(abs(u) != 1, "asin has a vertical tangent at ±1"),
    ),
    _fn(
        "acos",
        "d/du acos(u) = −1/√(1 − u²)",
        sp.acos,
        lambda u: -1 / sp.sqrt(1 - u**2),
        math.acos,
        lambda u: -1 / math.sqrt(1 - u * u),
        mpmath.acos,
        undefined=lambda u: _need(-1 <= u <= 1, "acos needs an argument between −1 and 1"),
        kink=lambda u: _need(abs(u) != 1, "acos has a vertical tangent at ±1"),
    ),
    _fn(
        "atan",
        "d/du atan(u) = 1/(1 + u²)",
        sp.atan,
        lambda u: 1 / (1 + u**2),
        math.atan,
        lambda u: 1 / (1 + u * u),
        mpmath.atan,
    ),
    _fn(
        "asec",
        "d/du asec(u) = 1/(|u|·√(u² − 1))",
        sp.asec,
        lambda u: 1 / (u**2 * sp.sqrt(1 - 1 / u**2)),
        lambda u: math.acos(1 / u),
        lambda u: 1 / (abs(u) * math.sqrt(u * u - 1)),
        mpmath.asec,
        undefined=lambda u: _need(abs(u) >= 1, "asec needs |u| ≥ 1"),
        kink=lambda u: _need(abs(u) != 1, "asec has a vertical tangent at ±1"),
    ),
    _fn(
        "acsc",
        "d/du acsc(u) = −1/(|u|·√(u² − 1))",
        sp.acsc,
        lambda u: -1 / (u**2 * sp.sqrt(1 - 1 / u**2)),
        lambda u: math.asin(1 / u),
        lambda u: -1 / (abs(u) * math.sqrt(u * u - 1)),
        mpmath.acsc,
        undefined=lambda u: _need(abs(u) >= 1, "acsc needs |u| ≥ 1"),
        kink=lambda u: _need(abs(u) != 1, "acsc has a vertical tangent at ±1"),
    ),
    _fn(
        "acot",
        "d/du acot(u) = −1/(1 + u²)",
        sp.acot,
        lambda u: -1 / (1 + u**2),
        lambda u: math.atan(1 / u) if u != 0 else math.pi / 2,
        lambda u: -1 / (1 + u * u),
        mpmath.acot,
    ),
    _fn("sinh", "d/du sinh(u) = cosh(u)", sp.sinh, sp.cosh, math.sinh, math.cosh, mpmath.sinh),
    _fn("cosh", "d/du cosh(u) = sinh(u)", sp.cosh, sp.sinh, math.cosh, math.sinh, mpmath.cosh),
    _fn(
        "tanh",
        "d/du tanh(u) = 1 − tanh²(u)",
        sp.tanh,
        lambda u: 1 - sp.tanh(u) ** 2,
        math.tanh,
        lambda u: 1 - math.tanh(u) ** 2,
        mpmath.tanh,
    ),
    _fn(
        "sech",
        "d/du sech(u) = −sech(u)·tanh(u)",
        sp.sech,
        lambda u: -sp.sech(u) * sp.tanh(u),
        lambda u: 1 / math.cosh(u),
        lambda u: -math.tanh(u) / math.cosh(u),
        mpmath.sech,
    ),
    _fn(
        "csch",
        "d/du csch(u) = −csch(u)·coth(u)",
        sp.csch,
        lambda u: -sp.csch(u) * sp.coth(u),
        lambda u: 1 / math.sinh(u),
        lambda u: -math.cosh(u) / math.sinh(u) ** 2,
        mpmath.csch,
        undefined=lambda u: _need(u != 0, "csch is undefined at 0"),
    ),
    _fn(
        "coth",
        "d/du coth(u) = 1 − coth²(u)",
        sp.coth,
        lambda u: 1 - sp.coth(u) ** 2,
        lambda u: 1 / math.tanh(u),
        lambda u: -1 / math.sinh(u) ** 2,
        mpmath.coth,
        undefined=lambda u: _need(u != 0, "coth is undefined at 0"),
    ),
    _fn(
        "asinh",
        "d/du asinh(u) = 1/√(u² + 1)",
        sp.asinh,
        lambda u: 1 / sp.sqrt(u**2 + 1),
        math.asinh,
        lambda u: 1 / math.sqrt(u * u + 1),
        mpmath.asinh,
    ),
    _fn(
        "acosh",
        "d/du acosh(u) = 1/√(u² − 1)",
        sp.acosh,
        lambda u: 1 / sp.sqrt(u**2 - 1),
        math.acosh,
        lambda u: 1 / math.sqrt(u * u - 1),
        mpmath.acosh,
        undefined=lambda u: _need(u >= 1, "acosh needs an argument of at least 1"),
        kink=lambda u: _need(u != 1, "acosh has a vertical tangent at 1"),
    ),
    _fn(
        "atanh",
        "d/du atanh(u) = 1/(1 − u²)",
        sp.atanh,
        lambda u: 1 / (1 - u**2),
        math.atanh,
        lambda u: 1 / (1 - u * u),
        mpmath.atanh,
        undefined=lambda u: _need(-1 < u < 1, "atanh needs an argument strictly between −1 and 1"),
    ),
    _fn(
        "asech",
        "d/du asech(u) = −1/(u·√(1 − u²))",
        sp.asech,
        lambda u: -1 / (u * sp.sqrt(1 - u**2)),
        lambda u: math.acosh(1 / u),
        lambda u: -1 / (u * math.sqrt(1 - u * u)),
        mpmath.asech,
        undefined=lambda u: _need(0 < u <= 1, "asech needs an argument in (0, 1]"),
        kink=lambda u: _need(u != 1, "asech has a vertical tangent at 1"),
    ),
    _fn(
        "acsch",
        "d/du acsch(u) = −1/(|u|·√(1 + u²))",
        sp.acsch,
        lambda u: -1 / (u**2 * sp.sqrt(1 + 1 / u**2)),
        lambda u: math.asinh(1 / u),
        lambda u: -1 / (abs(u) * math.sqrt(1 + u * u)),
        mpmath.acsch,
        undefined=lambda u: _need(u != 0, "acsch is undefined at 0"),
    ),
    _fn(
        "acoth",
        "d/du acoth(u) = 1/(1 − u²)",
        sp.acoth,
        lambda u: 1 / (1 - u**2),
        lambda u: math.atanh(1 / u),
        lambda u: 1 / (1 - u * u),
        mpmath.acoth,
        undefined=lambda u: _need(abs(u) > 1, "acoth needs |u| > 1"),
    ),
    _fn("exp", "d/du eᵘ = eᵘ", sp.exp, sp.exp, math.exp, math.exp, mpmath.exp),
    _fn(
        "log",
        "d/du ln(u) = 1/u",
        sp.log,
        lambda u: 1 / u,
        math.log,
        lambda u: 1 / u,
        mpmath.log,
        undefined=lambda u: _need(u > 0, "ln needs a positive argument"),
        name="ln",
    ),
    _fn(
        "log10",
        "d/du log10(u) = 1/(u·ln(10))",
        lambda u: sp.log(u, 10),
        lambda u: 1 / (u * sp.log(10)),
        math.log10,
        lambda u: 1 / (u * math.log(10)),
        mpmath.log10,
        undefined=lambda u: _need(u > 0, "log10 needs a positive argument"),
    ),
    _fn(
        "log2",
        "d/du log2(u) = 1/(u·ln(2))",
        lambda u: sp.log(u, 2),
        lambda u: 1 / (u * sp.log(2)),
        math.log2,
        lambda u: 1 / (u * math.log(2)),
        lambda u: mpmath.log(u, 2),
        undefined=lambda u: _need(u > 0, "log2 needs a positive argument"),
    ),
    _fn(
        "sqrt",
        "d/du √u = 1/(2√u)",
        sp.sqrt,
        lambda u: 1 / (2 * sp.sqrt(u)),
        math.sqrt,
        lambda u: 1 / (2 * math.sqrt(u)),
        mpmath.sqrt,
        complex_=lambda u: _need(u >= 0, "the square root of a negative number is not a real number"),
        kink=lambda u: _need(u != 0, "the slope of √u is infinite at 0"),
    ),
    _fn(
        "cbrt",
        "d/du ∛u = 1/(3·∛u²)",
        sp.cbrt,
        lambda u: 1 / (3 * sp.cbrt(u) ** 2),
        _cbrt,
        lambda u: 1 / (3 * _cbrt(u) ** 2),
        lambda u: mpmath.sign(u) * mpmath.cbrt(abs(u)),
        kink=lambda u: _need(u != 0, "the slope of ∛u is infinite at 0"),
    ),
    _fn(
        "abs",
        "d/du |u| = sign(u)",
        sp.Abs,
        sp.sign,
        abs,
        lambda u: math.copysign(1.0, u),
        abs,
        kink=lambda u: _need(u != 0, "|u| has a corner at 0: its slope jumps from −1 to 1"),
        name="absolute value",
    ),
    _fn(
        "sigmoid",
        "d/du σ(u) = σ(u)·(1 − σ(u))",
        sigmoid,
        lambda u: sigmoid(u) * (1 - sigmoid(u)),
        _sigmoid,
        lambda u: _sigmoid(u) * (1 - _sigmoid(u)),
        lambda u: 1 / (1 + mpmath.exp(-u)),
    ),
    _fn(
        "relu",
        "d/du relu(u) = 1 if u > 0, 0 if u < 0",
        relu,
        sympy.Heaviside,
        lambda u: max(u, 0.0),
        lambda u: 1.0 if u > 0 else 0.0,
        lambda u: max(u, 0),
        kink=lambda u: _need(u != 0, "relu has a corner at 0: its slope jumps from 0 to 1"),
    ),
    _fn(
        "softplus",
        "d/du softplus(u) = σ(u)",
        softplus,
        sigmoid,
        _softplus,
        _sigmoid,
        lambda u: mpmath.log(1 + mpmath.exp(u)),
    ),
]

RULES: dict[str, Rule] = {rule.key: rule for rule in _TABLE}


def _pow(a: Any, b: Any) -> Any:
    """a**b, but left unevaluated when both are numbers and the result would be huge."""
    if isinstance(a, sympy.Number) and isinstance(b, sympy.Number):
        size = abs(float(b)) * math.log10(max(abs(float(a)), 2.0))
        if size > 1000:  # keep it unevaluated, even inside later products and sums
            return sympy.UnevaluatedExpr(sympy.Pow(a, b, evaluate=False))
    return a**b


_PLAIN = sympy.Symbol("t", real=True)  # a layer's input symbol, as graph.py makes them


def apply(build: Sym, *args: Any) -> Any:
    """build(*args), skipping SymPy's evaluation when it cannot change anything.

    A SymPy function applied to one plain real symbol, sin(u7) say, is built
    thousands of times in a deep chain, and each time SymPy's ``eval`` looks
    for π multiples, imaginary units and minus signs that a symbol cannot
    have.  Whether ``eval`` changes f(symbol) depends only on the symbol's
    assumptions, never its name, so it is asked once per function, on a
    template symbol with the same assumptions.
    """
    if len(args) == 1 and type(args[0]) is sympy.Symbol and isinstance(build, type):
        u = args[0]
        if u.assumptions0 == _PLAIN.assumptions0 and _inert(build):
            return build(u, evaluate=False)
    return build(*args)


@functools.cache
def _inert(function: type) -> bool:
    """Whether evaluation leaves function(t) unchanged for a plain real symbol t."""
    return bool(function(_PLAIN) == function(_PLAIN, evaluate=False))


def rule_for(key: str, varying: tuple[bool, ...]) -> tuple[str, str]:
    """The (name, identity) of the rule for an operation, given which operands vary."""
    rule = RULES[key]
    return rule.variants.get(varying, (rule.name, rule.identity))


# Abstract functions f, g, h: symbolic only.
def abstract_rule(name: str) -> Rule:
    f = sympy.Function(name)

    def no_value(*args: float) -> float:
        raise TypeError(f"{name} has no numeric value")

    return Rule(
        key="apply",
        name=f"{name}′",
        identity=f"d/du {name}(u) = {name}′(u)",
        build=f,
        partials=(lambda u: sympy.Derivative(f(u), u),),
        value=no_value,
        slopes=(no_value,),
        mp=no_value,
    )
