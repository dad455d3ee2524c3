"""Exact numbers at an exact point: what doubles cannot decide.

``--at pi/2``, ``1/3``, ``3`` and ``sqrt(2)`` are exact numbers.  Doubles round them, and
rounding moves a point off a pole (tan at π/2 becomes 1.6e16), off a corner (|sin x| at π
becomes a slope of −1) or off a domain edge, and turns an exact 0 into 1.1e-16.  Before the
floating pass, this stage evaluates the tape once more with exact SymPy numbers, through
the one interpreter (:class:`ExactBackend`), and decides exactly:

* an operation with no real value at the point, or in a constant (``ln(cos(π/2))``,
  ``1/(0.1 + 0.2 − 0.3)``): a :class:`~chainrule.errors.MathError`;
* a corner, a vertical tangent or a jump in a layer (``|u|`` at u = sin(π) = 0): a
  :class:`~chainrule.errors.MathError` of reason ``not-differentiable``, so the
  derivative is decided by its one-sided limits at the exact point;
* values, local factors and adjoints that are exactly 0 (:class:`engine.Exactly`).

An exact value is followed only while it stays small (:data:`MAX_NODES` SymPy nodes,
:data:`MAX_DIGITS` digits in a fraction) and within :data:`SECONDS`; beyond that, or where a
sign cannot be decided, it is :data:`UNKNOWN` and the doubles decide, as before.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import sympy

from chainrule import engine, interpret, wide
from chainrule.budget import attempt
from chainrule.errors import MathError, Reason
from chainrule.graph import Graph
from chainrule.point import text, to_mpf
from chainrule.rules import CLASSES, RULES, Rule, odd_root
from chainrule.syntax import Node
from chainrule.wide import MIN_NORMAL

MAX_DOUBLE = 1.7976931348623157e308

MAX_NODES = 40  # SymPy nodes in an exact value that is followed further
MAX_NESTING = 3  # functions applied to functions in it: SymPy's own evaluation of tanh(tanh(…(3))) costs
#                  time quadratic in the nesting, and such a number is never a pole or a corner
MAX_DIGITS = 1_000  # digits in the numerator or denominator of an exact fraction
SIGN_DIGITS = 30  # digits to which a sign is decided numerically, before a proof of 0 is tried
PROOF_SECONDS = 0.2  # for a proof that a value that looks like 0 is 0
SECONDS = 0.5  # the whole exact pass
MAX_GRAPH = 3_000  # DAG nodes: a larger graph (a network, a deep chain) is left to the doubles


class _Unknown:
    """An exact value not followed: too large, or its sign could not be decided."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


class Undecided(Exception):
    """A comparison of exact numbers that neither numbers nor a short proof decide."""


def _size(expr: Any, cap: int = MAX_NODES + 1) -> int:
    """The number of nodes of a SymPy expression, counted up to `cap` (no recursion)."""
    count, stack = 0, [expr]
    while stack and count < cap:
        e = stack.pop()
        count += 1
        stack.extend(e.args)
    return count


def _nesting(expr: Any) -> int:
    """How deeply functions (sin, exp, …: not + · ^) are applied to functions in an expression."""
    deepest, stack = 0, [(expr, 0)]
    while stack:
        e, depth = stack.pop()
        if isinstance(e, sympy.Function):
            depth += 1
            deepest = max(deepest, depth)
        stack.extend((a, depth) for a in e.args)
    return deepest


def small(value: Any) -> bool:
    """Whether an exact value is small enough to follow."""
    if isinstance(value, sympy.Rational):
        return max(_digits(value.p), _digits(value.q)) <= MAX_DIGITS
    if _size(value) > MAX_NODES or _nesting(value) > MAX_NESTING:
        return False
    return all(max(_digits(r.p), _digits(r.q)) <= MAX_DIGITS for r in value.atoms(sympy.Rational))


def _digits(n: int) -> int:
    return max(1, math.ceil(abs(n).bit_length() * 0.30103))


def sign(value: Any) -> int:
    """−1, 0 or 1: the sign of a real exact number; Undecided when neither 30 digits nor a short
    proof tell (a 0 that is not written as 0, such as sin²(1/3) + cos²(1/3) − 1, is proved 0)."""
    if isinstance(value, sympy.Rational):
        return 1 if value.p > 0 else -1 if value.p < 0 else 0
    try:
        number = value.evalf(SIGN_DIGITS, strict=True)
    except sympy.core.evalf.PrecisionExhausted:
        number = None
    except OverflowError:  # mpmath's exponent cannot hold it (e^(e^22026)): too large to follow
        raise Undecided(f"{value} is too large to evaluate") from None
    if number is not None and number.is_Number and not number.is_zero:
        return 1 if number > 0 else -1
    # A 0 by the numbers is proved before it is believed: SymPy's evalf gives ln(1 + 10^-300) as
    # exactly 0, having rounded its argument to 1.
    if attempt(PROOF_SECONDS, lambda: value.is_zero is True or value.equals(0)) is True:
        return 0
    raise Undecided(str(value))


class Exact:
    """An exact real number whose comparisons are decided exactly (or raise Undecided), so that the
    rule table's domain checks (``u != 0``, ``-1 <= u <= 1``, ``abs(u) != 1``) read it as a number."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    @staticmethod
    def _of(other: Any) -> Any:
        if isinstance(other, Exact):
            return other.value
        if isinstance(other, float):
            return sympy.Rational(Fraction(other))
        if isinstance(other, int):
            return sympy.Integer(other)
        return other  # a SymPy number

    def _compare(self, other: Any) -> int:
        if self.value is UNKNOWN or (isinstance(other, Exact) and other.value is UNKNOWN):
            raise Undecided("a value that is not followed")
        return sign(self.value - self._of(other))

    def __eq__(self, other: object) -> bool:
        return self._compare(other) == 0

    def __ne__(self, other: object) -> bool:
        return self._compare(other) != 0

    def __lt__(self, other: Any) -> bool:
        return self._compare(other) < 0

    def __le__(self, other: Any) -> bool:
        return self._compare(other) <= 0

    def __gt__(self, other: Any) -> bool:
        return self._compare(other) > 0

    def __ge__(self, other: Any) -> bool:
        return self._compare(other) >= 0

    def __abs__(self) -> Exact:
        return Exact(UNKNOWN if self.value is UNKNOWN else sympy.Abs(self.value))

    def __neg__(self) -> Exact:
        return Exact(UNKNOWN if self.value is UNKNOWN else -self.value)

    def __float__(self) -> float:
        if self.value is UNKNOWN:
            raise Undecided("a value that is not followed")
        return float(self.value)

    def exact_cos(self) -> Exact:
        return Exact(UNKNOWN if self.value is UNKNOWN else sympy.cos(self.value))

    def exact_sin(self) -> Exact:
        return Exact(UNKNOWN if self.value is UNKNOWN else sympy.sin(self.value))

    def __hash__(self) -> int:
        return hash(self.value)


def real(value: Any) -> bool | None:
    """Whether an exact number is real: True, False, or None when 30 digits cannot tell (an
    imaginary part too small to tell from rounding).  By its value, not SymPy's assumptions,
    which cost far more."""
    if isinstance(value, sympy.Rational):
        return True
    try:
        number = value.evalf(SIGN_DIGITS)
    except OverflowError:  # mpmath's exponent cannot hold it (e^(e^22026)): too large to follow
        return None
    if number.is_Float or number.is_Rational:
        return True
    re_part, im_part = number.as_real_imag()
    if not (im_part.is_Number and re_part.is_Number):
        return None
    if abs(im_part) > sympy.Float(10) ** (5 - SIGN_DIGITS) * (1 + abs(re_part)):
        return False
    return None


_BAD = (sympy.zoo, sympy.oo, -sympy.oo, sympy.nan)


def _elementary(value: Any) -> Any:
    """Chainrule's own functions (σ, relu, softplus, …) by their definitions, so that SymPy
    evaluates them at exact numbers: relu(−2) is 0, σ(0) is 1/2."""
    for key, cls in CLASSES.items():
        if value.has(cls):
            definition = RULES[key].elementary
            assert definition is not None
            value = value.replace(cls, definition)
    return value


class ExactBackend:
    """Exact SymPy numbers at an exact point, for :func:`interpret.evaluate` and
    :func:`interpret.sweep`.  A node whose value has no real number is a MathError at its place;
    a corner or a vertical tangent met by the sweep is one of reason ``not-differentiable``.  A
    value that is too large to follow, or whose domain cannot be decided, is :data:`UNKNOWN`, and
    so is every value computed from it."""

    def __init__(self, point: Mapping[str, Any], source: str | None = None) -> None:
        self.point = point
        self.source = source
        self.zero = sympy.Integer(0)
        self.one = sympy.Integer(1)

    def fail(self, node: Node, message: str, reason: Reason, hint: str | None = None) -> MathError:
        return MathError(message, reason=reason, source=self.source, position=node.start, end=node.end, hint=hint)

    def literal(self, node: Node) -> Any:
        if node.kind == "const":
            return sympy.pi if node.text == "pi" else sympy.E
        frac = Fraction(node.text)
        return sympy.Rational(frac.numerator, frac.denominator)

    def variable(self, node: Node) -> Any:
        return self.point.get(node.text, UNKNOWN)

    def _inputs(self, args: tuple[Any, ...]) -> str:
        return ", ".join(text(a) for a in args)

    def apply(self, node: Node, rule: Rule, args: tuple[Any, ...]) -> Any:
        if node.kind == "apply":
            return UNKNOWN
        try:  # a domain check may be decided by the operands that are known: x/(0.1 + 0.2 − 0.3)
            problem = self._problem(node, rule, args)
        except Undecided:
            return UNKNOWN
        if problem is not None:
            reason, message = problem
            known = all(a is not UNKNOWN for a in args)
            where = f"; here the input is exactly {self._inputs(args)}" if known else ""
            raise self.fail(node, message + where, Reason(reason))
        if any(a is UNKNOWN for a in args):
            return UNKNOWN
        value = self._value(node, rule, args)
        if value is UNKNOWN:
            return UNKNOWN
        if value.has(*_BAD):
            raise self.fail(
                node, f"{rule.name} is undefined here: the input is exactly {self._inputs(args)}", Reason.undefined
            )
        is_real = real(value)
        if is_real is None:
            return UNKNOWN
        if not is_real:
            raise self.fail(
                node, f"{rule.name} has no real value here: the input is exactly {self._inputs(args)}", Reason.complex
            )
        return value if small(value) else UNKNOWN

    def _problem(self, node: Node, rule: Rule, args: tuple[Any, ...]) -> tuple[str, str] | None:
        if node.kind == "pow":  # chainrule's real odd roots: (−8)^(1/3) = −2, as the doubles take it
            a, b = (Exact(v) for v in args)
            if a == 0 and b < 0:
                return "undefined", "0 raised to a negative power is undefined"
            if args[1] is UNKNOWN:
                raise Undecided("the exponent is not followed")
            if a < 0 and not args[1].is_integer and odd_root(float(args[1])) is None:
                return "complex", (
                    "a negative number to a power that is not a fraction with an odd denominator is not a real number"
                )
            return None
        return rule.problem(*(Exact(v) for v in args))

    def _value(self, node: Node, rule: Rule, args: tuple[Any, ...]) -> Any:
        if _beside_a_flat_spot(rule.key, args):
            return UNKNOWN
        if node.kind == "pow":
            a, b = args
            if isinstance(a, sympy.Rational) and isinstance(b, sympy.Rational) and not _affordable_power(a, b):
                return UNKNOWN
            if isinstance(a, sympy.Rational) and not b.is_integer and max(_digits(a.p), _digits(a.q)) > MAX_ROOTED:
                return UNKNOWN  # SymPy looks for a perfect power of a 300-digit fraction: it may take minutes
            if sign(a) < 0 and not b.is_integer and (root := odd_root(float(b))) is not None:
                magnitude = (-a) ** b
                return -magnitude if root.numerator % 2 else magnitude
            return a**b
        return _elementary(rule.builder(*args))

    def partial(self, node: Node, rule: Rule, k: int, args: tuple[Any, ...]) -> Any:
        if node.kind == "apply" or any(a is UNKNOWN for a in args):
            return UNKNOWN
        try:
            kink = rule.kink(*(Exact(v) for v in args)) if rule.kink is not None else None
        except Undecided:
            return UNKNOWN
        if kink:
            raise self.fail(node, f"not differentiable here: {kink}", Reason.not_differentiable)
        if node.kind == "pow" and k == 0:
            a, b = args
            if b == 0:
                return self.zero
            lower = self._value(node, rule, (a, b - 1))
            value = UNKNOWN if lower is UNKNOWN else b * lower
        elif node.kind == "pow" and isinstance(args[0], sympy.Rational) and not _affordable_power(*args):
            return UNKNOWN
        else:
            value = _elementary(rule.partials[k](*args))
        if value is UNKNOWN:
            return UNKNOWN
        if value.has(*_BAD):
            raise self.fail(node, "not differentiable here: the slope is infinite", Reason.not_differentiable)
        return value if small(value) and real(value) else UNKNOWN

    def times(self, adjoint: Any, partial: Any) -> Any:
        if adjoint is UNKNOWN or partial is UNKNOWN:
            return UNKNOWN
        product = adjoint * partial
        return product if small(product) else UNKNOWN

    def total(self, terms: list[Any]) -> Any:
        if any(t is UNKNOWN for t in terms):
            return UNKNOWN
        result = terms[0] if len(terms) == 1 else sympy.Add(*terms)
        return result if small(result) else UNKNOWN

    def isfinite(self, value: Any) -> bool:
        return True  # a value that is not finite is a MathError before it is returned


MAX_ROOTED = 40  # digits of a fraction whose fractional power SymPy is asked for
FLAT_SPOTS = {  # where a function's value is decided by digits its argument rounds away
    "log": (1,),
    "logb": (1,),
    "log10": (1,),
    "log2": (1,),
    "log1p": (0,),
    "acos": (1, -1),
    "asin": (1, -1),
    "acosh": (1,),
    "asec": (1, -1),
    "acsc": (1, -1),
    "asech": (1,),
    "pow": (1,),
}
NEAR = sympy.Rational(1, 10**15)  # an argument this close to a flat spot (but not on it) is not followed


def _beside_a_flat_spot(key: str, args: tuple[Any, ...]) -> bool:
    """Whether the first operand is within NEAR of a point where SymPy's evalf loses the value
    (ln(1 + 10^-300) is 0 to it, acos(1 − 10^-300) is 0), without being on it."""
    for spot in FLAT_SPOTS.get(key, ()):
        gap = abs(args[0] - spot)
        try:
            if sign(gap) != 0 and sign(NEAR - gap) > 0:
                return True
        except Undecided:
            return True
    return False


def _affordable_power(a: Any, b: Any) -> bool:
    """Whether a^b of two fractions has few enough digits to compute (9^9^9 has 369 million)."""
    if a == 0 or abs(a) == 1:
        return True
    size = abs(float(b)) * max(abs(math.log10(abs(a.p)) if a.p else 0.0), math.log10(a.q) if a.q > 1 else 0.0)
    return size <= MAX_DIGITS


# --------------------------------------------------------------------------- the pass


@dataclass(frozen=True)
class Decided:
    """What the exact pass found: every node's exact value (or UNKNOWN), and what is exactly 0."""

    values: tuple[Any, ...]
    exactly: engine.Exactly


def decide(graph: Graph, point: Mapping[str, Any], wrt: Iterable[str] | None = None) -> Decided | None:
    """The exact pass on a graph at an exact point (names without an exact value are UNKNOWN;
    with an empty point, only the constants are decided).  Raises MathError for what has no value
    or, on the paths from `wrt`, no local derivative; None when it runs out of its time, or when
    the graph is too large to be worth it."""
    if len(graph.dag) > MAX_GRAPH:
        return None

    def work() -> Decided:
        backend = ExactBackend(point, graph.source)
        found = interpret.evaluate(graph.dag, backend)
        values = tuple(found[i] for i in range(len(graph.dag)))
        rounded = _rounded(enumerate(values))
        if wrt is None or not point:
            return Decided(values, engine.Exactly(rounded))
        needed = engine.depends(graph, wrt)
        factors = [engine.local_factors(graph, layer, values, needed, backend) for layer in graph.layers]
        adjoints = engine.backward(graph, lambda li, k: factors[li][k], backend)
        by_slot = (((li, k), f) for li, layer in enumerate(factors) for k, f in enumerate(layer))
        return Decided(
            values, engine.Exactly(rounded, _rounded(by_slot), _rounded(adjoints.items()), _outside(adjoints.items()))
        )

    result: Decided | None = attempt(SECONDS, work)
    return result


def values(graph: Graph, point: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """Every node's exact value (UNKNOWN where it is not followed); None when time runs out.
    Raises MathError where a value does not exist."""
    if len(graph.dag) > MAX_GRAPH:
        return None

    def work() -> tuple[Any, ...]:
        found = interpret.evaluate(graph.dag, ExactBackend(point, graph.source))
        return tuple(found[i] for i in range(len(graph.dag)))

    result: tuple[Any, ...] | None = attempt(SECONDS, work)
    return result


def _outside(found: Iterable[tuple[Any, Any]]) -> dict[Any, Any]:
    """Exact values that no double carries (below or beyond their range), in mpmath at 30 digits."""
    outside: dict[Any, Any] = {}
    with mpmath.workdps(SIGN_DIGITS):
        for key, value in found:
            if value is None or value is UNKNOWN or _is_zero(value):
                continue
            number = to_mpf(value)
            if wide.carried(number) and not MIN_NORMAL <= abs(number) <= MAX_DOUBLE:
                outside[key] = number
    return outside


def _is_zero(value: Any) -> bool:
    try:
        return sign(value) == 0
    except Undecided:
        return True  # undecided: not claimed to be outside doubles


def _rounded(found: Iterable[tuple[Any, Any]]) -> dict[Any, float]:
    """Exact values rounded once to doubles, where that is a double that carries them: 0, or a
    normal number (a value below or beyond the range of doubles is left to the pass that carries it)."""
    rounded: dict[Any, float] = {}
    for key, value in found:
        if value is None or value is UNKNOWN:
            continue
        try:
            if sign(value) == 0:
                rounded[key] = 0.0
                continue
        except Undecided:
            continue
        double = float(value.evalf(SIGN_DIGITS))
        if math.isfinite(double) and abs(double) >= MIN_NORMAL:
            rounded[key] = double
    return rounded
