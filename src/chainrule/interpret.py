"""The one interpreter of the tape, and the one reverse sweep inside a layer.

:func:`evaluate` walks tape nodes in order (children first) and asks a
*backend* for each node's value: a literal, a variable, or a rule applied to
its operands' values.  The backends are:

* :class:`SympyBackend`: SymPy expressions (a layer's formula, in its inputs' symbols);
* :class:`FloatBackend`: doubles, with the domain checks that make a failure a
  :class:`MathError` at the node's place in the input;
* :class:`MpBackend`: mpmath numbers at the working precision (the accurate check);
* :class:`TextBackend`: the formula as text, parenthesised by precedence;
* :class:`ShapeBackend`: the shape of every node of a program on vectors and
  matrices, before any number (a mismatch is an error with a caret);
* :class:`ArrayBackend`: numpy arrays.  Elementwise operations apply the scalar
  table's formulas entry by entry through :class:`FloatBackend` (the same domain
  checks, the same slopes); whole-tensor operations (``@``, softmax) come from
  :mod:`chainrule.tensor_rules`, and their partials are vector–Jacobian products.

:func:`sweep` is reverse mode inside one layer: from the layer's root down to
its inputs, each node adds adjoint × partial into its operands.  With the
SymPy backend it gives a layer's local derivatives as formulas; with the
float backend, their values at a point.

With the array backend, the sweep is backpropagation on tensors: each partial
is a vector–Jacobian product, and adjoint × partial applies it.
Nothing here recurses: a tape ten thousand nodes deep is a loop.
"""

from __future__ import annotations

import functools
import math
import string
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Generic, Protocol, TypeAlias, TypeVar

from chainrule import wide
from chainrule.errors import MathError, Reason, ShapeError
from chainrule.rules import FLOAT, MP, RULES, Rule, abstract_rule, apply, rule_for
from chainrule.syntax import TENSOR_KINDS, Node
from chainrule.tensor_rules import TENSOR_RULES, Shape, ShapeProblem, TensorRule, describe

T = TypeVar("T")


def rule_of(node: Node) -> Rule:
    """The table entry for a node's operation."""
    if node.kind == "call":
        return RULES[node.text]
    if node.kind == "apply":
        return abstract_rule(node.text)
    return RULES[node.kind]


def operation_of(node: Node) -> Rule | TensorRule:
    """The table entry for a node, on vectors and matrices too: @, .T, z[i], [a, b], softmax."""
    if node.kind in TENSOR_KINDS:
        return TENSOR_RULES[node.kind]
    if node.kind == "call" and node.text in TENSOR_RULES:
        return TENSOR_RULES[node.text]
    return rule_of(node)


def label(node: Node, constant: Callable[[int], bool]) -> tuple[str, str]:
    """(rule name, identity) for a node, by which of its operands vary."""
    if node.kind in ("call", "apply"):
        rule = rule_of(node)
        return rule.name, rule.identity
    return rule_for(node.kind, tuple(not constant(a) for a in node.args))


class Backend(Protocol[T]):
    """What the interpreter needs of a number system."""

    def literal(self, node: Node) -> T: ...

    def variable(self, node: Node) -> T: ...

    def apply(self, node: Node, rule: Rule, args: tuple[T, ...]) -> T: ...


class Differentiable(Backend[T], Protocol[T]):
    """A backend that can also run the reverse sweep inside a layer."""

    zero: T
    one: T

    def partial(self, node: Node, rule: Rule, k: int, args: tuple[T, ...]) -> T: ...

    def times(self, adjoint: T, partial: T) -> T: ...

    def total(self, terms: list[T]) -> T: ...


def evaluate(
    nodes: tuple[Node, ...],
    backend: Backend[T],
    ops: Iterable[int] | None = None,
    given: Mapping[int, T] | None = None,
    lookup: Callable[[Node], Any] = rule_of,
) -> dict[int, T]:
    """The value of every node in `ops` (default: all), children first.

    `given` holds values fixed beforehand (a layer's inputs); nodes outside
    `ops` must be among them.  `lookup` finds a node's table entry
    (:func:`operation_of` for programs on tensors).
    """
    values: dict[int, T] = dict(given or {})
    gather = getattr(backend, "gathers_sums", False)
    pending: dict[int, list[Any]] = {}
    order = list(range(len(nodes)) if ops is None else ops)
    uses = _uses(nodes, order) if gather else {}
    for i in order:
        if i in values:
            continue
        node = nodes[i]
        if node.kind in ("num", "const"):
            values[i] = backend.literal(node)
        elif node.kind == "var":
            values[i] = backend.variable(node)
        elif gather and node.kind in ("add", "sub"):
            # Runs of + and − are gathered into one list of terms and added once:
            # a sum of n terms costs O(n), not the O(n²) of adding one at a time.
            terms = _take(pending, values, uses, node.args[0], 1)
            terms.extend(_take(pending, values, uses, node.args[1], 1 if node.kind == "add" else -1))
            pending[i] = terms
        elif gather:
            args = tuple(_get(pending, values, a, backend) for a in node.args)
            values[i] = backend.apply(node, lookup(node), args)
        else:
            values[i] = backend.apply(node, lookup(node), tuple(values[a] for a in node.args))
    for i in list(pending):
        _get(pending, values, i, backend)
    return values


def _uses(nodes: tuple[Node, ...], order: list[int]) -> dict[int, int]:
    uses = dict.fromkeys(order, 0)
    for i in order:
        for a in nodes[i].args:
            if a in uses:
                uses[a] += 1
    return uses


def _take(
    pending: dict[int, list[Any]], values: Mapping[int, Any], uses: dict[int, int], a: int, sign: int
) -> list[Any]:
    if a not in pending:
        items = [values[a]]
    elif uses.get(a) == 1:
        items = pending.pop(a)  # only this sum uses it: extend it in place
    else:
        items = list(pending[a])
    return items if sign > 0 else [-t for t in items]


def _get(pending: dict[int, list[Any]], values: dict[int, Any], a: int, backend: Any) -> Any:
    if a not in values:
        values[a] = backend.total(pending[a])
    return values[a]


@dataclass(frozen=True)
class Sweep(Generic[T]):
    """The result of the reverse sweep inside a layer."""

    locals: tuple[T, ...]  # d(root)/d(source), one per source
    rules: tuple[tuple[tuple[str, str], ...], ...]  # per source: every (rule, identity) met, outer first


def sweep(
    nodes: tuple[Node, ...],
    ops: tuple[int, ...],
    sources: tuple[int, ...],
    values: Mapping[int, Any],
    backend: Differentiable[T],
    constant: Callable[[int], bool],
    rules: bool = True,
    lookup: Callable[[Node], Any] = rule_of,
    trace: Callable[[int, T, int, int, T], None] | None = None,
) -> Sweep[T]:
    """Reverse mode inside one layer: d(root)/d(source) for every source.

    Contributions to a node are summed once, when the sweep reaches it.
    With `rules`, it also notes every rule met on the way to each source
    (the graph shows them; the numbers do not need them).  `trace` is told
    every step: (node, its adjoint, operand number k, operand, contribution).
    """
    root = ops[-1]
    node = nodes[root]
    if trace is None and len(ops) == 1 and len(sources) == len(node.args) == len(set(node.args)):
        # One operation on distinct inputs, as in most layers of a chain: its partials are the locals.
        only = rule_of(node)
        operands: tuple[Any, ...] = tuple(values[a] for a in node.args)
        found = tuple(
            backend.zero if constant(s) else backend.partial(node, only, node.args.index(s), operands) for s in sources
        )
        return Sweep(found, ((label(node, constant),),) * len(sources) if rules else ())
    contributions: dict[int, list[T]] = {root: [backend.one]}
    met: dict[int, tuple[tuple[str, str], ...]] = {root: ()}
    for i in reversed(ops):
        node = nodes[i]
        if not node.args or i not in contributions:
            continue
        rule = lookup(node)
        adjoint = backend.total(contributions.pop(i))
        here = (*met[i], label(node, constant)) if rules else ()
        args: tuple[Any, ...] = tuple(values.get(a) for a in node.args)  # a gathered partial sum has none
        for k, a in enumerate(node.args):
            if constant(a):
                continue
            partial = backend.partial(node, rule, k, args)
            contribution = backend.times(adjoint, partial)
            contributions.setdefault(a, []).append(contribution)
            if trace is not None:
                trace(i, adjoint, k, a, contribution)
            if rules:
                met[a] = tuple(dict.fromkeys((*met.get(a, ()), *here)))
    return Sweep(
        tuple(backend.total(contributions.get(s, [backend.zero])) for s in sources),
        tuple(met.get(s, ()) for s in sources) if rules else (),
    )


# --------------------------------------------------------------------------- SymPy


class SympyBackend:
    """SymPy expressions; variables (and a layer's inputs) are real symbols."""

    gathers_sums = True  # a run of + and − becomes one Add

    def __init__(self, symbols: Mapping[str, Any] | None = None) -> None:
        import sympy

        self.sympy = sympy
        self.symbols = symbols or {}
        self.zero = sympy.Integer(0)
        self.one = sympy.Integer(1)

    def literal(self, node: Node) -> Any:
        if node.kind == "const":
            return self.sympy.pi if node.text == "pi" else self.sympy.E
        frac = Fraction(node.text)
        return self.sympy.Rational(frac.numerator, frac.denominator)

    def variable(self, node: Node) -> Any:
        return self.symbols.get(node.text) or self.sympy.Symbol(node.text, real=True)

    def apply(self, node: Node, rule: Rule, args: tuple[Any, ...]) -> Any:
        return apply(rule.builder, *args)

    def partial(self, node: Node, rule: Rule, k: int, args: tuple[Any, ...]) -> Any:
        return apply(rule.partials[k], *args)

    def times(self, adjoint: Any, partial: Any) -> Any:
        return partial if adjoint is self.one else adjoint * partial

    def total(self, terms: list[Any]) -> Any:
        return terms[0] if len(terms) == 1 else self.sympy.Add(*terms)


_SORTS = frozenset({"max", "min"})  # SymPy's Max and Min sort their numbers: each must be comparable


class RealBackend:
    """Whether every value is a real number, decided exactly: a constant by its value in SymPy
    (1/0 is zoo, ln(−1) is iπ, tan(π/2) is zoo), anything else by the constants it depends on.
    A value is (the constant's SymPy value, or None for one that varies; the index of the node
    where the value stopped being a real number, or None).

    A rule that compares its operands (max, |u|, relu's u > 0: ``Rule.compares``) has no answer
    for one that is not real; it is refused with a MathError at the place where that operand
    stopped being real, with that node's own message where mpmath has one ("ln needs a positive
    argument"): max(x, 1/0), relu(x + ln(−1)), min(tanh(x − 3), log1p(−2))."""

    def __init__(self, nodes: tuple[Node, ...], source: str | None = None) -> None:
        import sympy

        self.nodes = nodes
        self.source = source
        self.sympy = SympyBackend()
        self.index = {id(n): i for i, n in enumerate(nodes)}
        self.unreal = (sympy.S.NaN, sympy.S.ComplexInfinity, sympy.S.Infinity, sympy.S.NegativeInfinity)

    def literal(self, node: Node) -> tuple[Any, int | None]:
        return self.sympy.literal(node), None

    def variable(self, node: Node) -> tuple[Any, int | None]:
        return None, None

    def apply(self, node: Node, rule: Rule, args: tuple[tuple[Any, int | None], ...]) -> tuple[Any, int | None]:
        culprit = next((c for _, c in args if c is not None), None)
        if rule.compares and culprit is not None:
            raise self.refused(rule, culprit)
        if rule.key in _SORTS:
            self._comparable(node, rule, args)
        if culprit is not None or any(value is None for value, _ in args):
            return None, culprit
        value = self.sympy.apply(node, rule, tuple(value for value, _ in args))
        return value, (self.index[id(node)] if self._not_real(value) else None)

    def incomparable(self, values: Mapping[int, tuple[Any, int | None]]) -> bool:
        """Whether a rule that compares has a constant operand, among `values`, that SymPy cannot
        compare (the rest of the expression must then be read, and the rule refused)."""
        for node in self.nodes:
            if node.kind != "call" or node.text not in _SORTS:
                continue
            for a in node.args:
                value = values.get(a, (None, None))[0]
                if value is not None and value.is_number and value.is_comparable is False:
                    return True
        return False

    def _comparable(self, node: Node, rule: Rule, args: tuple[tuple[Any, int | None], ...]) -> None:
        """A constant operand of max or min that SymPy cannot compare, since it has no value in any
        number system (2^2^2^2^2^2 has 10^19728 digits), is refused too: max(x, 2^2^2^2^2^2)."""
        for a, (value, _) in zip(node.args, args, strict=True):
            if value is not None and value.is_comparable is False and value.is_number:
                operand = self.nodes[a]
                text = self.source[operand.start : operand.end] if self.source is not None else "an operand"
                name = rule.key if rule.function else f"the {rule.name}"
                raise MathError(
                    f"{name} needs operands it can compare, but {text} is too large for any number system",
                    reason=Reason.overflow,
                    source=self.source,
                    position=operand.start,
                    end=operand.end,
                )

    def _not_real(self, value: Any) -> bool:
        return bool(value.has(*self.unreal) or value.is_extended_real is False)

    def refused(self, rule: Rule, culprit: int) -> MathError:
        """The error for an operand of `rule` that is not real: the node's own failure in mpmath
        (at 53 bits, with an unbounded exponent, so 7^5200 is a number), or one said here."""
        node = self.nodes[culprit]
        evaluate(self.nodes, MpBackend({}, self.source), _below(self.nodes, culprit))  # raises, mostly
        value = self.sympy_value(culprit)
        undefined = value is None or bool(value.has(*self.unreal))
        text = self.source[node.start : node.end] if self.source is not None else "an operand"
        what = "undefined" if undefined else "not a real number"
        name = rule.key if rule.function else f"the {rule.name}"
        return MathError(
            f"{name} needs real operands, but {text} is {what}",
            reason=Reason.undefined if undefined else Reason.complex,
            source=self.source,
            position=node.start,
            end=node.end,
        )

    def sympy_value(self, index: int) -> Any:
        values = evaluate(self.nodes, self.sympy, _below(self.nodes, index))
        return values[index]


def _below(nodes: tuple[Node, ...], index: int) -> list[int]:
    """The node at `index` and every node it depends on, children first."""
    seen = {index}
    stack = [index]
    while stack:
        for a in nodes[stack.pop()].args:
            if a not in seen:
                seen.add(a)
                stack.append(a)
    return sorted(seen)


# --------------------------------------------------------------------------- numbers


def _point_text(args: tuple[Any, ...]) -> str:
    return ", ".join(_number_text(a) for a in args)


def _number_text(a: Any) -> str:
    """An operand for a message: 6 significant digits, also beyond the range of doubles (an
    mpmath value such as 7^5200 is not 'inf')."""
    value = float(a)
    number = a.c[0] if hasattr(a, "c") else a  # a Taylor series (SeriesBackend): its value
    if (math.isfinite(value) and value != 0) or number == 0 or not hasattr(number, "_mpf_"):
        return f"{value:.6g}"
    if wide.carried(number):
        return wide.text(wide.from_mpf(number), 6)
    return "a number beyond 10^(10^13)"


class _Numeric:
    """Shared by the float and mpmath backends: domain checks, failures as MathError."""

    numbers: Any = FLOAT

    def __init__(self, point: Mapping[str, Any], source: str | None = None) -> None:
        self.point = point
        self.source = source

    def fail(self, node: Node, message: str, reason: Reason, hint: str | None = None) -> MathError:
        return MathError(message, reason=reason, source=self.source, position=node.start, end=node.end, hint=hint)

    def number(self, value: Any) -> Any:
        raise NotImplementedError

    def literal(self, node: Node) -> Any:
        if node.kind == "const":
            return self.number(self.numbers.pi if node.text == "pi" else self.numbers.e)
        return self.number(node.text)

    def variable(self, node: Node) -> Any:
        return self.number(self.point[node.text])

    def _refuse_abstract(self, node: Node) -> None:
        if node.kind == "apply":
            raise self.fail(
                node,
                f"{node.text} is an abstract function: it has no numeric value",
                Reason.abstract,
                hint="leave out --at to see the symbolic steps",
            )

    def apply(self, node: Node, rule: Rule, args: tuple[Any, ...]) -> Any:
        self._refuse_abstract(node)

        def value() -> Any:
            if (problem := rule.problem(*args)) is not None:
                reason, message = problem
                raise self.fail(node, f"{message}; here the input is {_point_text(args)}", Reason(reason))
            return rule.value(self.numbers, *args)

        return self._compute(node, value, args, "value")

    def partial(self, node: Node, rule: Rule, k: int, args: tuple[Any, ...]) -> Any:
        self._refuse_abstract(node)

        def slope() -> Any:
            if rule.kink is not None and (problem := rule.kink(*args)):
                raise self.fail(node, f"not differentiable here: {problem}", Reason.not_differentiable)
            return rule.slopes[k](self.numbers, *args)

        return self._compute(node, slope, args, "slope")

    def _compute(self, node: Node, work: Callable[[], Any], args: tuple[Any, ...], what: str) -> Any:
        """The one place where a numeric formula's arithmetic failure becomes a MathError."""
        try:
            result = self.number(work())
        except OverflowError:
            raise self.fail(node, f"the {what} overflows at {_point_text(args)}", Reason.overflow) from None
        except ZeroDivisionError:
            raise self.fail(node, f"division by zero at {_point_text(args)}", Reason.undefined) from None
        except ValueError:  # math's domain errors, which the table's checks should already have caught
            if what == "slope":
                raise self.fail(node, f"not differentiable at {_point_text(args)}", Reason.not_differentiable) from None
            raise self.fail(node, f"no real {what} at {_point_text(args)}", Reason.complex) from None
        self.finite(node, result, args, what)
        return result

    def finite(self, node: Node, result: Any, args: tuple[Any, ...], what: str) -> None:
        raise NotImplementedError

    def isfinite(self, value: Any) -> bool:
        raise NotImplementedError


class FloatBackend(_Numeric):
    """Doubles: a value that overflows, or is not real, is a MathError at its node."""

    numbers = FLOAT
    zero = 0.0
    one = 1.0

    def number(self, value: Any) -> float:
        return float(value)

    def finite(self, node: Node, result: Any, args: tuple[Any, ...], what: str) -> None:
        if math.isinf(result):
            raise self.fail(node, f"the {what} overflows at {_point_text(args)}", Reason.overflow)
        if math.isnan(result):  # pragma: no cover - the domain checks catch these first
            raise self.fail(node, f"undefined at {_point_text(args)}", Reason.undefined)

    def isfinite(self, value: Any) -> bool:
        return math.isfinite(value)

    def times(self, adjoint: float, partial: float) -> float:
        return adjoint * partial

    def total(self, terms: list[float]) -> float:
        result = 0.0
        for term in terms:
            result += term
        return result


class MpBackend(_Numeric):
    """mpmath numbers at the working precision, with an unbounded exponent."""

    numbers = MP

    def __init__(self, point: Mapping[str, Any], source: str | None = None) -> None:
        import mpmath

        super().__init__(point, source)
        self.mpmath = mpmath
        self.zero = mpmath.mpf(0)
        self.one = mpmath.mpf(1)

    def literal(self, node: Node) -> Any:
        if node.kind == "num":  # as typed, exactly, then rounded once: .5, 7., 1e-400
            frac = Fraction(node.text)
            return self.mpmath.mpf(frac.numerator) / frac.denominator
        return super().literal(node)

    def number(self, value: Any) -> Any:
        result = +self.mpmath.mpmathify(value)  # constants such as π at the working precision
        if isinstance(result, self.mpmath.mpc) and result.imag == 0:
            result = result.real
        return result

    def finite(self, node: Node, result: Any, args: tuple[Any, ...], what: str) -> None:
        if isinstance(result, self.mpmath.mpc):
            raise self.fail(node, f"no real {what} at {_point_text(args)}", Reason.complex)
        if not self.mpmath.isfinite(result):
            raise self.fail(node, f"the {what} is undefined at {_point_text(args)}", Reason.undefined)

    def isfinite(self, value: Any) -> bool:
        return bool(self.mpmath.isfinite(value))

    def times(self, adjoint: Any, partial: Any) -> Any:
        return adjoint * partial

    def total(self, terms: list[Any]) -> Any:
        return self.mpmath.fsum(terms)


class SeriesBackend(MpBackend):
    """Taylor series in one variable (:mod:`chainrule.series`): every value carries its
    derivatives of orders 1 to terms−1 at the point, computed by the rule table's own formulas."""

    def __init__(self, point: Mapping[str, Any], variable: str, terms: int, source: str | None = None) -> None:
        from chainrule import series

        super().__init__(point, source)
        self.series = series
        self.numbers = series.SERIES
        self.wrt = variable
        self.terms = terms

    def variable(self, node: Node) -> Any:
        if node.text == self.wrt:
            return self.series.variable(self.mpmath.mpf(self.point[node.text]), self.terms)
        return self.number(self.point[node.text])

    def number(self, value: Any) -> Any:
        if isinstance(value, self.series.Series):
            return value
        return super().number(value)

    def finite(self, node: Node, result: Any, args: tuple[Any, ...], what: str) -> None:
        if isinstance(result, self.series.Series):
            if not all(self.mpmath.isfinite(c) for c in result.c):
                raise self.fail(node, f"the {what} is undefined at {_point_text(args)}", Reason.undefined)
            return
        super().finite(node, result, args, what)


# --------------------------------------------------------------------------- text

_ATOM = 100  # a name, a number or a call; the operators' precedences are their rules' (Rule.notation)
_NEG = RULES["neg"].notation.precedence if RULES["neg"].notation is not None else 25  # a negative literal
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")

# A formula's text as a rope: a string, or a small tuple of pieces that are strings or
# earlier ropes.  Building one costs O(1) per node, whatever the depth; the text is joined
# once, by `flatten`.  (Concatenating strings at every node costs O(depth²): a chain of
# 100,000 minus signs made gigabytes of intermediate strings.)
Rope: TypeAlias = "str | tuple[Rope, ...]"
Text: TypeAlias = "tuple[Rope, int]"  # (rope, precedence): a value of the text backend


def superscript(text: str) -> str:
    return text.translate(_SUP)


def flatten(rope: Rope) -> str:
    """The text of a rope, joined without recursion (a rope may be 100,000 pieces deep)."""
    if isinstance(rope, str):
        return rope
    out: list[str] = []
    stack: list[Iterator[Rope]] = [iter(rope)]  # the ropes being read, outermost first
    while stack:
        for piece in stack[-1]:
            if isinstance(piece, str):
                out.append(piece)
            else:
                stack.append(iter(piece))
                break
        else:
            stack.pop()
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _template(template: str) -> tuple[tuple[str, int | None], ...]:
    """A rule's print template ("sin({0})", "|{0}|") as (literal text, operand index or None) pairs."""
    parts: list[tuple[str, int | None]] = []
    auto = 0
    for literal, field, _spec, _conversion in string.Formatter().parse(template):
        index = None
        if field is not None:
            index = int(field) if field else auto
            auto += 1
        parts.append((literal, index))
    return tuple(parts)


class TextBackend:
    """A formula as text, keeping the user's structure and operand order.

    ``plain`` is SymPy's notation (``2*x + 1``, ``u1**2``); ``pretty`` is the
    lessons' (``2·x + 1``, ``u1²``, ``|x|``, ``ln``, ``σ``).  Values are
    (rope, precedence) pairs: a node's rope refers to its operands' ropes
    instead of copying their text, so a formula of n nodes takes O(n) memory;
    :func:`flatten` gives the text.

    `shared` holds the indices of nodes the formula uses more than once: their
    text is joined when they are made, so printing a DAG whose text doubles at
    every level (``a2 = a1*a1; a3 = a2*a2``) copies strings, not pieces, as
    often as the text repeats them.
    """

    def __init__(
        self, nodes: tuple[Node, ...], names: Mapping[int, str], pretty: bool, shared: Collection[int] = ()
    ) -> None:
        self.nodes = nodes
        self.names = names
        self.pretty = pretty
        self.shared = {id(nodes[i]) for i in shared} if shared else None

    def leaf(self, index: int) -> Text:
        return self.names[index], _ATOM

    def literal(self, node: Node) -> Text:
        if node.kind == "const":
            if node.text == "pi":
                return ("π" if self.pretty else "pi"), _ATOM
            return ("e" if self.pretty else "E"), _ATOM
        return node.text, _NEG if node.text.startswith("-") else _ATOM

    def variable(self, node: Node) -> Text:
        return node.text, _ATOM

    def apply(self, node: Node, rule: Rule, args: tuple[Text, ...]) -> Text:
        value = self._apply(node, rule, args)
        if self.shared is not None and id(node) in self.shared:
            return flatten(value[0]), value[1]
        return value

    def _apply(self, node: Node, rule: Rule, args: tuple[Text, ...]) -> Text:
        def wrap(arg: Text, below: int) -> Rope:
            return ("(", arg[0], ")") if arg[1] < below else arg[0]

        notation = rule.notation  # an operator: its symbol and precedences come from its rule
        if notation is not None and len(args) == 1:
            return (notation.text, wrap(args[0], notation.operands[0])), notation.precedence
        if notation is not None:
            left = wrap(args[0], notation.operands[0])
            if notation.superscript and self.pretty and self.nodes[node.args[1]].kind == "num":
                # A number's rope is its text (or its name, when the caller printed it by name).
                exponent = flatten(args[1][0])
                if exponent.lstrip("-").isdigit():
                    return (left, superscript(exponent)), notation.precedence
            symbol = notation.text if self.pretty or notation.plain is None else notation.plain
            return (left, symbol, wrap(args[1], notation.operands[1])), notation.precedence
        template = rule.pretty if self.pretty else rule.plain
        if template is not None:
            pieces: list[Rope] = []
            for literal, index in _template(template):
                if literal:
                    pieces.append(literal)
                if index is not None:
                    pieces.append(args[index][0])
            return tuple(pieces), _ATOM
        pieces = [f"{rule.key}("]
        for i, arg in enumerate(args):
            if i:
                pieces.append(", ")
            pieces.append(arg[0])
        pieces.append(")")
        return tuple(pieces), _ATOM


# --------------------------------------------------------------------------- vectors and matrices


def implicit_matmul(node: Node, source: str, shapes: tuple[Shape, ...]) -> bool:
    """Aᵀx, W·h, x W, a·b: a product written by juxtaposition or with a dot is the matrix product when
    one side is a matrix and the other a vector or matrix, and a dot between two vectors is their dot
    product.  '*' (and ×) is always entry by entry, as in numpy."""
    if node.kind != "mul" or len(shapes) != 2 or not shapes[0] or not shapes[1]:
        return False
    written = source[node.pos : node.pos + 1]
    if written in ("*", "×"):
        return False
    if len(shapes[0]) == 1 and len(shapes[1]) == 1:
        return written in _DOTS
    return True


_DOTS = ("·", "⋅", "∙")


class ShapeBackend:
    """Shapes: a variable's from the point, a literal's (); an operation's from its rule."""

    def __init__(self, shapes: Mapping[str, Shape], source: str) -> None:
        self.shapes = shapes
        self.source = source

    def literal(self, node: Node) -> Shape:
        return ()

    def variable(self, node: Node) -> Shape:
        return self.shapes[node.text]

    def _hint(self, node: Node, shapes: tuple[Shape, ...]) -> str | None:
        """A way out of a mismatch, in the operands' own words."""
        if len(shapes) != 2 or node.kind not in ("mul", "matmul"):
            return None
        left = self.source[node.start : node.pos].strip()
        right = self.source[node.pos + 1 : node.end].strip()
        if not (0 < len(left) <= 20 and 0 < len(right) <= 20) or ";" in left or "\n" in left:
            left, right = "A", "x"
        if node.kind == "mul" and len(shapes[0]) == 2:
            return f"for a matrix product write @: {left} @ {right}"
        if node.kind == "matmul" and len(shapes[0]) == 2 and shapes[1] and shapes[0][0] == shapes[1][0]:
            return f"transpose the left operand: {_grouped(left)}.T @ {right}"
        return None

    def apply(self, node: Node, rule: Rule | TensorRule, args: tuple[Shape, ...]) -> Shape:
        if node.kind == "apply":
            raise _failure(
                self.source, node, f"{node.text} is an abstract function: it has no value on tensors", Reason.abstract
            )
        try:
            if isinstance(rule, TensorRule):
                return rule.shape(node.text, *args)
            if implicit_matmul(node, self.source, args):
                return TENSOR_RULES["matmul"].shape(node.text, *args)
            return broadcast(args)
        except ShapeProblem as problem:
            raise ShapeError(
                str(problem) if isinstance(rule, TensorRule) else f"{rule.name} of {_shapes_text(args)}: {problem}",
                source=self.source,
                position=node.pos,
                end=node.end if node.kind in ("index", "list") or node.kind == "call" else node.pos + 1,
                hint=self._hint(node, args),
            ) from None


def _failure(source: str, node: Node, message: str, reason: Reason) -> MathError:
    """A failure on tensors, at the operation's own operator or name (not the span of the earlier
    statements its operands come from)."""
    return MathError(message, reason=reason, source=source, position=node.pos, end=max(node.end, node.pos + 1))


def _grouped(text: str) -> str:
    return text if text.replace("_", "").isalnum() else f"({text})"


def broadcast(shapes: tuple[Shape, ...]) -> Shape:
    """numpy's broadcasting of elementwise operands; a ShapeProblem when the shapes do not fit."""
    result: list[int] = []
    for k in range(1, max((len(s) for s in shapes), default=0) + 1):
        sizes = {s[-k] for s in shapes if len(s) >= k} - {1}
        if len(sizes) > 1:
            raise ShapeProblem("the shapes do not broadcast: each axis, counted from the last, must match or be 1")
        result.append(sizes.pop() if sizes else 1)
    return tuple(reversed(result))


def _shapes_text(shapes: tuple[Shape, ...]) -> str:
    return " and ".join(describe(s) for s in shapes)


def _unbroadcast(np: Any, value: Any, shape: Shape) -> Any:
    """The adjoint of a broadcast operand: summed over the axes it was stretched along."""
    while value.ndim > len(shape):
        value = value.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and value.shape[axis] != 1:
            value = value.sum(axis=axis, keepdims=True)
    return value


class Product:
    """A vector–Jacobian product: G -> the adjoint one operand receives (the partial of a tensor node)."""

    def __init__(self, apply: Callable[[Any], Any]) -> None:
        self.apply = apply


_ARRAYWISE = frozenset({"add", "sub", "mul", "neg"})  # formulas without branches or domain checks


class ArrayBackend:
    """numpy arrays of doubles, on a tape whose implicit products are already matrix products
    (tensor.shaped rewrites them).  Elementwise operations run the scalar table entry by entry
    (through :class:`FloatBackend`: one set of domain checks and slopes); the others come from
    :mod:`chainrule.tensor_rules`.  A failure names the entry where it happened."""

    def __init__(self, point: Mapping[str, Any], source: str) -> None:
        import numpy

        self.np = numpy
        self.point = point
        self.source = source
        self.scalar = FloatBackend({}, source)
        self.zero = numpy.zeros(())
        self.one = numpy.ones(())

    def literal(self, node: Node) -> Any:
        return self.np.array(self.scalar.literal(node))

    def variable(self, node: Node) -> Any:
        return self.point[node.text]

    def apply(self, node: Node, rule: Rule | TensorRule, args: tuple[Any, ...]) -> Any:
        if isinstance(rule, TensorRule):
            return self._whole(node, lambda: rule.value(self.np, node.text, *args), "value")
        return self._entries(node, rule, args, lambda xs: self.scalar.apply(node, rule, xs), rule.value)

    def partial(self, node: Node, rule: Rule | TensorRule, k: int, args: tuple[Any, ...]) -> Product:
        np = self.np
        if isinstance(rule, TensorRule):
            if rule.kink is not None and (why := rule.kink(np, node.text, *args)):
                raise _failure(self.source, node, f"not differentiable here: {why}", Reason.not_differentiable)
            out = rule.value(np, node.text, *args)
            product = rule.product(k)
            return Product(lambda g: self._whole(node, lambda: product(np, node.text, g, out, *args), "adjoint"))
        slope = self._entries(node, rule, args, lambda xs: self.scalar.partial(node, rule, k, xs), rule.slopes[k])
        shape = args[k].shape
        return Product(lambda g: _unbroadcast(np, g * slope, shape))

    def times(self, adjoint: Any, partial: Product) -> Any:
        return partial.apply(adjoint)

    def total(self, terms: list[Any]) -> Any:
        result = terms[0]
        for term in terms[1:]:
            result = result + term
        return result

    def _entries(
        self, node: Node, rule: Rule, args: tuple[Any, ...], one: Callable[[tuple[float, ...]], Any], formula: Any
    ) -> Any:
        """An elementwise rule over broadcast operands, one entry at a time (or whole, when its
        formula has neither branches nor domain checks)."""
        np = self.np
        stretched = np.broadcast_arrays(*args)
        shape = stretched[0].shape if stretched else ()
        if rule.key in _ARRAYWISE:
            with np.errstate(all="ignore"):
                result = np.broadcast_to(np.asarray(formula(FLOAT, *stretched), dtype=float), shape)
            if np.all(np.isfinite(result)):
                return np.array(result)
        result = np.empty(shape)
        for where in np.ndindex(*shape):
            entry = tuple(float(a[where]) for a in stretched)
            try:
                result[where] = one(entry)
            except MathError as err:
                if shape:
                    err.message = f"{err.message} (entry {list(where)})"
                # Its own operator or name, not the span of earlier statements its operands come from.
                err.position, err.end = node.pos, max(node.end, node.pos + 1)
                if 0.0 in entry and err.hint is None:
                    err.hint = (
                        "an entry of exactly 0 may have underflowed, as softmax's do for logits far apart: "
                        "log_softmax(z) and cross_entropy(z, class) stay finite"
                    )
                raise
        return result

    def _whole(self, node: Node, work: Callable[[], Any], what: str) -> Any:
        np = self.np
        try:
            with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
                result = np.asarray(work(), dtype=float)
        except ShapeProblem as problem:
            raise ShapeError(str(problem), source=self.source, position=node.pos, end=node.end) from None
        except FloatingPointError as err:
            raise _failure(
                self.source,
                node,
                f"the {what} of {operation_of(node).name} fails in double precision ({err})",
                Reason.overflow,
            ) from None
        return result
