"""Backpropagation on vectors and matrices: the chain rule as neural networks use it.

The stages are the scalar ones, on the same tape and through the same interpreter
(:mod:`chainrule.interpret`):

1. :func:`values` takes the point: ``--at W=[[1, 2], [3, 4]],x=[1, 2]`` (nested lists,
   read by :mod:`chainrule.points`), ``--shape W=8x4 --seed 0`` (reproducible small values), or a
   binding of a literal (``x = [1, 2, 3]``, which declares a leaf, as ``a = -4.0`` does);
2. :func:`shaped` gives every node its shape (:class:`~chainrule.interpret.ShapeBackend`):
   a mismatch is an error with a caret and both shapes, before any number;
3. :func:`forward_backward` is one evaluation with
   :class:`~chainrule.interpret.ArrayBackend` and one reverse sweep, whose partials are
   vector–Jacobian products; every step is recorded (:class:`Step`);
4. :func:`forms` writes each adjoint as a matrix formula (``((W2ᵀ·2(yhat − y)) ⊙
   relu′(W1·x + b1))·xᵀ``) by the same sweep over formula trees
   (:mod:`chainrule.tensor_forms`, printed by :mod:`chainrule.render.formula_print`);
5. :func:`check` compares every parameter's gradient with central differences, entry by
   entry for small tensors and along random directions for large ones (as
   ``torch.autograd.gradcheck`` does), and with the scalar engine on the program written
   out entry by entry (:func:`expand`).

:class:`TensorGradient` holds it all; every view of ``grad`` on tensors reads it.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from chainrule import interpret, points
from chainrule.errors import Concern, InputError, MathError, OutOfMemory, Phrase, ShapeError, UsageError, quoted
from chainrule.points import MAX_ENTRIES, MAX_SHAPE_AXES, PointInput
from chainrule.rules import ENTRYWISE as HADAMARD
from chainrule.rules import NEGATE, TIMES, Rule
from chainrule.syntax import TENSOR_KINDS, Expr, Node, Program, tensor_node
from chainrule.tensor_forms import (
    ONE,
    ZERO,
    Adjoint,
    Call,
    Form,
    Infix,
    Operand,
    Prefix,
    Sym,
    is_minus_one,
    is_number,
    is_one,
    is_unit,
    total,
    without_leading_one,
    without_trailing_one,
)
from chainrule.tensor_rules import SUM_LATEX, TENSOR_FUNCTIONS, Shape, Site, TensorRule, describe

ENTRYWISE = 64  # tensors of at most this many entries are checked entry by entry
DIRECTIONS = 3  # larger ones along this many random directions
STEP = 1e-6  # the central difference's step, as gradcheck's eps
ATOL, RTOL = 1e-5, 1e-3  # gradcheck's tolerances
SCALAR_LIMIT = 1_500  # the scalar engine checks programs of at most this many scalar operations
FORM_LIMIT = 400  # a matrix formula longer than this (as text) is not shown whole


# --------------------------------------------------------------------------- the point


def wanted(program: Program, at: PointInput, shape: ShapesInput) -> bool:
    """Whether a program is about vectors and matrices: its operations, shapes, or a list in the
    point (as the reader found it, :mod:`chainrule.points`)."""
    if shape is not None or tensor_node(program.expr) is not None:
        return True
    given = points.given(at)
    return given is not None and given.arrays


_TENSOR_TEXT = re.compile(r"@|\[|\.T\b|ᵀ|\b(?:" + "|".join(TENSOR_FUNCTIONS) + r")\s*\(")
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")  # a variable's name in the point and the shapes
_NAME = NAME


def may_need_arrays(source: str, shape: object | None) -> bool:
    """Whether a program may be about tensors, before it is parsed (a cheap look at its text)."""
    return shape is not None or _TENSOR_TEXT.search(source) is not None


def _array(np: Any, name: str, value: Any, option: str) -> Any:
    try:
        array = np.array(value, dtype=float)
    except (ValueError, TypeError):
        raise UsageError(
            f"{option}: the value of {quoted(name)} is not a rectangular list of numbers "
            "(every row must have as many entries)"
        ) from None
    if array.ndim > MAX_SHAPE_AXES:
        raise UsageError(f"{option}: {quoted(name)} has {array.ndim} axes; vectors and matrices have at most 2")
    if array.size > MAX_ENTRIES:
        raise UsageError(f"{option}: {quoted(name)} has {array.size:,} entries; the limit is {MAX_ENTRIES:,}")
    if not np.all(np.isfinite(array)):
        raise UsageError(f"{option}: the value of {quoted(name)} must be finite")
    if array.size == 0:
        raise UsageError(f"{option}: {quoted(name)} is empty")
    return array


ShapesInput = str | Mapping[str, Shape] | None


def _shape_error(message: Phrase) -> UsageError:
    return UsageError(message, concerns=Concern.shapes)


def parse_shapes(text: str) -> dict[str, Shape]:
    """Shapes as text, W1=8x4,b1=8,s=1x1: each variable's shape (a scalar is 'scalar' or '()')."""
    shapes: dict[str, Shape] = {}
    for part in text.split(","):
        name, eq, dims = part.partition("=")
        name, dims = name.strip(), dims.strip().lower().replace("×", "x").replace("*", "x")
        if not eq or not _NAME.fullmatch(name):
            raise _shape_error(
                Phrase("{shapes} takes name=shape pairs, as in W=8x4,b=8, not {0}", quoted(part.strip()))
            )
        if dims in ("scalar", "()", ""):
            shapes[name] = ()
            continue
        if not re.fullmatch(r"\d+(x\d+)*", dims):
            raise _shape_error(
                Phrase("{shapes} {0}: {1} is not a shape such as 8x4 or 8", quoted(name, bare=True), quoted(dims))
            )
        shape = tuple(int(d) for d in dims.split("x"))
        if name in shapes:
            raise _shape_error(Phrase("{shapes} gives {0} twice", quoted(name)))
        shapes[name] = check_shape(name, shape, dims)
    return shapes


def check_shape(name: str, shape: Shape, written: str | None = None) -> Shape:
    """A shape of a vector or matrix of 1 to MAX_ENTRIES entries (or a scalar's, ())."""
    if len(shape) > MAX_SHAPE_AXES or 0 in shape or math.prod(shape) > MAX_ENTRIES:
        shown = written if written is not None else "x".join(map(str, shape))
        raise _shape_error(
            Phrase(
                "{shapes} {0}: a vector or matrix of 1 to {1:,} entries, not {2}",
                quoted(name, bare=True),
                MAX_ENTRIES,
                shown,
            )
        )
    return shape


def values(
    program: Program,
    at: PointInput,
    shape: ShapesInput,
    seed: int | None,
) -> tuple[dict[str, Any], tuple[str, ...], Expr]:
    """The value of every variable, the names whose values were drawn, and the tape with each
    bound literal list (x = [1, 2, 3]) turned into a leaf named by its binding."""
    import numpy as np

    expr, leaves = _literal_leaves(program)
    variables = expr.variables()
    present = frozenset(variables)
    point: dict[str, Any] = {name: np.array(v) for name, v in program.leaves.items()}
    point.update(leaves)
    read = points.given(at)
    given = read.named() if read is not None else {}
    if read is not None and read.bare is not None:
        raise read.error(Phrase("{point}: expected name=value"), read.bare)
    for name, value in given.items():
        assert read is not None
        if name not in present:
            raise read.error(
                Phrase(
                    "{point} gives a value for {0}, which is not a variable of the program ({1})",
                    quoted(name),
                    _variables_phrase(variables),
                ),
                value,
            )
        point[name] = value.array if value.is_array else np.array(value.double)
    drawn: list[str] = []
    if seed is not None and not 0 <= seed < 2**63:
        raise UsageError(
            Phrase("{seed} must be a whole number from 0 to 2^63 − 1, not {0}", seed), concerns=Concern.seed
        )
    if shape is not None:
        shapes = parse_shapes(shape) if isinstance(shape, str) else dict(shape)
        rng = np.random.default_rng(0 if seed is None else seed)
        for name in variables:  # in order of appearance: a value does not depend on the other names given
            if name not in shapes:
                continue
            if name in given:
                raise UsageError(
                    Phrase("{0} has both a value ({point}) and a shape ({shapes}): give one", quoted(name)),
                    concerns=Concern.shapes,
                )
            point[name] = np.round(rng.uniform(-1.0, 1.0, shapes[name]), 2)
            drawn.append(name)
        unknown = [n for n in shapes if n not in present]
        if unknown:
            raise _shape_error(
                Phrase(
                    "{shapes} names {0}, not a variable of the program ({1})",
                    ", ".join(map(quoted, unknown)),
                    _variables_phrase(variables),
                )
            )
    elif seed is not None:
        raise seed_without_shapes()
    missing = [v for v in variables if v not in point]
    if missing:
        raise UsageError(
            Phrase("{0} {1} no value", ", ".join(map(quoted, missing)), "has" if len(missing) == 1 else "have"),
            hint=Phrase(
                "give values with {point:W=[[1, 2], [3, 4]];x=[1, 2]}, or shapes with {shapes:W=2x2;x=2} {seed:0}"
            ),
            concerns=Concern.point,
        )
    return point, tuple(drawn), expr


def seed_without_shapes() -> UsageError:
    """A seed draws the values of the shapes: without them it has nothing to draw."""
    return UsageError(
        Phrase("{seed} draws the values of {shapes}: give the shapes too, as in {shapes:W=8x4}"),
        concerns=Concern.seed,
    )


def _variables_phrase(variables: tuple[str, ...]) -> str:
    if not variables:
        return "it has none: every value in it is written out"
    return f"they are: {quoted(', '.join(variables), 200, bare=True)}"


def _literal_leaves(program: Program) -> tuple[Expr, dict[str, Any]]:
    """x = [1, 2, 3]: a bound list of numbers is a leaf with that value, as a = -4.0 is."""
    import numpy as np

    expr = program.expr
    nodes = list(expr.nodes)
    literal = [False] * len(nodes)
    number: dict[int, float] = {}
    for i, node in enumerate(nodes):
        if node.kind == "num":
            literal[i] = True
            number[i] = float(Fraction(node.text))
        elif node.kind == "neg" and nodes[node.args[0]].kind == "num":
            literal[i] = True
            number[i] = -number[node.args[0]]
        elif node.kind == "list":
            literal[i] = all(literal[a] for a in node.args)
    built: dict[int, Any] = {}  # every literal list, children first: one pass over the tape
    for j, node in enumerate(nodes):
        if node.kind == "list" and literal[j]:
            built[j] = [built[a] if nodes[a].kind == "list" else number[a] for a in node.args]
    leaves: dict[str, Any] = {}
    for i, name in program.bindings.items():
        if nodes[i].kind != "list" or not literal[i] or not _NAME.fullmatch(name):
            continue
        leaves[name] = _array(np, name, built[i], "the program")
        node = nodes[i]
        nodes[i] = Node("var", name, (), node.start, node.end, node.pos)
    if not leaves:
        return expr, {}
    return Expr(expr.source, tuple(nodes), expr.output, expr.notes, expr.typed), leaves


# --------------------------------------------------------------------------- shapes and the forward pass


@dataclass(frozen=True)
class Tensors:
    """A program on tensors, shaped: which nodes there are, their shapes and names."""

    expr: Expr
    bindings: Mapping[int, str]
    order: tuple[int, ...]  # the nodes the output depends on, children first
    shapes: Mapping[int, Shape]
    names: Mapping[int, str]  # every operation's and variable's name: its binding, or u1, u2, …
    constant: Mapping[int, bool]  # nodes that depend on no variable
    variables: tuple[str, ...]

    @property
    def root(self) -> int:
        return self.expr.root

    @property
    def output(self) -> str:
        """The output's name: its binding, or L."""
        return self.names.get(self.root, "L") if self.node(self.root).kind != "var" else "L"

    @property
    def statement(self) -> str:
        """The output as it was typed: L = sum((yhat - y)^2)."""
        typed = self.expr.typed or self.expr.source
        statements = [part for part in re.split(r"[;\n]", re.sub(r"#[^\n]*", "", typed)) if part.strip()]
        last = statements[-1].strip() if statements else ""
        bound = re.match(r"[A-Za-z][A-Za-z0-9_]*\s*=(?!=)", last)
        return f"{self.output} = {last[bound.end() :].strip() if bound else last}"

    def node(self, i: int) -> Node:
        return self.expr.nodes[i]

    @functools.cached_property
    def _places(self) -> dict[int, int]:
        return {id(self.expr.nodes[i]): i for i in self.order}

    def index(self, node: Node) -> int | None:
        """Where a node of this tape stands (a backend is handed nodes, not their indices)."""
        return self._places.get(id(node))

    def sweep(
        self,
        values: Mapping[int, Any],
        backend: Any,
        wrt: tuple[str, ...],
        trace: Callable[[int, Any, int, int, Any], None] | None = None,
    ) -> tuple[tuple[int, ...], interpret.Sweep[Any]]:
        """The one reverse sweep from the output, in any backend (arrays, or text for the formulas):
        the variables' nodes, and what reaches each."""
        chosen = frozenset(wrt)
        sources = tuple(i for i in self.order if self.node(i).kind == "var" and self.node(i).text in chosen)
        swept = interpret.sweep(
            self.expr.nodes,
            self.order,
            sources,
            values,
            backend,
            lambda a: self.constant[a],
            rules=False,
            lookup=interpret.operation_of,
            trace=trace,
        )
        return sources, swept

    def operation(self, i: int) -> Rule | TensorRule:
        return interpret.operation_of(self.expr.nodes[i])


def shaped(expr: Expr, bindings: Mapping[int, str], point: Mapping[str, Any]) -> Tensors:
    """Every node's shape; Aᵀx written without an operator becomes the matrix product it means."""
    order = expr.reachable()
    shapes = interpret.evaluate(
        expr.nodes,
        interpret.ShapeBackend({k: tuple(v.shape) for k, v in point.items()}, expr.source),
        order,
        lookup=interpret.operation_of,
    )
    nodes = list(expr.nodes)
    for i in order:
        node = nodes[i]
        operation = interpret.operation_of(node) if node.kind in ("call", *TENSOR_KINDS) else None
        for k in operation.constant if isinstance(operation, TensorRule) else ():
            data = nodes[node.args[k]]
            if data.kind != "num":  # a class index is data: written out, never differentiated
                raise InputError(
                    f"the class of {node.text} must be a whole number written out, as in {node.text}(z, 2)",
                    source=expr.source,
                    position=data.start,
                    end=data.end,
                )
        if node.args and interpret.implicit_matmul(node, expr.source, tuple(shapes[a] for a in node.args)):
            nodes[i] = Node("matmul", "", node.args, node.start, node.end, node.pos)
    expr = Expr(expr.source, tuple(nodes), expr.output, expr.notes, expr.typed)
    constant: dict[int, bool] = {}
    names: dict[int, str] = {}
    taken = set(expr.variables()) | set(bindings.values())
    count = 0
    for i in order:
        node = nodes[i]
        constant[i] = node.kind in ("num", "const") or (node.kind != "var" and all(constant[a] for a in node.args))
        if node.kind == "var":
            names[i] = node.text
        elif i in bindings:
            names[i] = bindings[i]
        elif not constant[i]:
            count += 1
            while f"u{count}" in taken:
                count += 1
            names[i] = f"u{count}"
    return Tensors(expr, bindings, tuple(order), shapes, names, constant, expr.variables())


@dataclass(frozen=True)
class Step:
    """One step of the backward pass: node `node` (whose adjoint is G) sends `contribution`
    to its operand number k, `operand`."""

    node: int
    k: int
    operand: int
    contribution: Any


@dataclass(frozen=True)
class Pass:
    """One forward and one backward pass: every node's value and adjoint, and the steps between."""

    values: Mapping[int, Any]
    adjoints: Mapping[int, Any]
    steps: tuple[Step, ...]
    gradient: Mapping[str, Any]  # d(output)/d(variable), in the variable's shape


def forward(tensors: Tensors, point: Mapping[str, Any]) -> dict[int, Any]:
    backend = interpret.ArrayBackend(point, tensors.expr.source)
    return interpret.evaluate(tensors.expr.nodes, backend, tensors.order, lookup=interpret.operation_of)


def output(tensors: Tensors, point: Mapping[str, Any]) -> float:
    return float(forward(tensors, point)[tensors.root])


def forward_backward(tensors: Tensors, point: Mapping[str, Any], wrt: tuple[str, ...], backward: bool = True) -> Pass:
    """Values, then one reverse sweep of vector–Jacobian products from the output.  An output that
    is not one number has no gradient: an error, or without `backward` (a drawing) the values alone."""
    import numpy as np

    root = tensors.root
    shape = tensors.shapes[root]
    if shape and not backward:
        return Pass(forward(tensors, point), {}, (), {})
    if shape:
        node = tensors.node(root)
        raise ShapeError(
            f"the output is {describe(shape)}: a gradient needs one number at the end",
            source=tensors.expr.source,
            position=node.start,
            end=node.end,
            hint="reduce it to a loss, as in sum(…), mean(…), mse(…, y) or cross_entropy(z, class)",
        )
    backend = interpret.ArrayBackend(point, tensors.expr.source)
    vals = interpret.evaluate(tensors.expr.nodes, backend, tensors.order, lookup=interpret.operation_of)
    adjoints: dict[int, Any] = {root: backend.one}
    steps: list[Step] = []

    def record(i: int, adjoint: Any, k: int, a: int, contribution: Any) -> None:
        adjoints[i] = adjoint
        steps.append(Step(i, k, a, contribution))

    sources, swept = tensors.sweep(vals, backend, wrt, record)
    gradient: dict[str, Any] = {name: np.zeros_like(point[name]) for name in wrt}
    for i, local in zip(sources, swept.locals, strict=True):
        name = tensors.node(i).text
        gradient[name] = gradient[name] + np.broadcast_to(local, point[name].shape)
        adjoints[i] = gradient[name]
    return Pass(vals, adjoints, tuple(steps), gradient)


# --------------------------------------------------------------------------- formulas


class Forms:
    """Formulas in the lessons' notation (:mod:`chainrule.tensor_forms`): each node's formula, and
    each vector–Jacobian product (a Differentiable backend over formulas, so the sweep writes the
    matrix form of each adjoint).  Every symbol and partial comes from the node's rule."""

    zero: Form = ZERO
    one: Form = ONE

    def __init__(self, tensors: Tensors, inline: bool) -> None:
        self.tensors = tensors
        self.inline = inline  # operands written out (W1·x + b1), or named (u1)

    def literal(self, node: Node) -> Form:
        return Sym({"pi": "π", "E": "e"}.get(node.text, node.text))

    def variable(self, node: Node) -> Form:
        return Sym(node.text)

    def formula(self, node: Node, rule: Rule | TensorRule, args: tuple[Form, ...]) -> Form:
        if isinstance(rule, TensorRule):
            return rule.form(node.text, args)
        notation = rule.on_tensors
        if notation is None:
            return Call(rule.key, args, latex=rule.latex_name)
        if rule.scaled is not None and any(is_number(a, minus=False) for a in args):
            notation = rule.scaled  # a number times a tensor: 2·W, not 2 ⊙ W
        return Prefix(notation, args[0]) if len(args) == 1 else Infix(notation, args[0], args[1])

    def apply(self, node: Node, rule: Rule | TensorRule, args: tuple[Form, ...]) -> Form:
        index = self.tensors.index(node)
        if self.inline and node.kind == "transpose" and len(self.tensors.shapes[node.args[0]]) < 2:
            return args[0]  # a vector's transpose is the vector itself (numpy's .T of 1-D)
        form = self.formula(node, rule, args)
        if self.inline and index is not None and index in self.tensors.bindings:
            return Sym(self.tensors.bindings[index])
        return form

    def partial(self, node: Node, rule: Rule | TensorRule, k: int, args: tuple[Form, ...]) -> Any:
        index = self.tensors.index(node)
        out: Form = Sym(self.tensors.names.get(index, "") if index is not None else "")
        if self.inline and index is not None:
            bound = self.tensors.bindings.get(index)
            out = Sym(bound) if bound else self.formula(node, rule, args)
        return lambda g: product_form(rule, node, k, args, g, out, self.tensors, index)

    def times(self, adjoint: Form, partial: Any) -> Form:
        return partial(adjoint)  # type: ignore[no-any-return]

    def total(self, terms: list[Form]) -> Form:
        return total(terms)


def product_form(
    rule: Rule | TensorRule,
    node: Node,
    k: int,
    args: tuple[Form, ...],
    g: Form,
    out: Form,
    tensors: Tensors,
    index: int | None,
) -> Form:
    """The vector–Jacobian product of operand k as a formula: G·Bᵀ, G ⊙ relu′(u), (diag(p) − p·pᵀ)·G."""
    shapes = tuple(tensors.shapes[a] for a in node.args) if index is not None else ()
    if isinstance(rule, TensorRule):
        site = Site(node.text, shapes, Sym(str(math.prod(shapes[0])) if shapes else "n"))
        build = rule.partial_form(k, site)
        form = build(site, Operand(g), Operand(out), *(Operand(a) for a in args))
        if g == ONE:  # the output's own adjoint, the number 1: 1·xᵀ is xᵀ (but 𝟙·xᵀ is an outer product)
            form = without_leading_one(form) or without_trailing_one(form) or form
        return form
    local = rule.partial_form(k, args)
    if is_one(local):
        form = g
    elif is_minus_one(local):
        form = Prefix(NEGATE, Operand(g))
    else:
        form = _scaled(g, local, scalar=index is not None and not tensors.shapes[index])
    if shapes and index is not None and shapes[k] != tensors.shapes[index]:
        form = Call(
            "Σ", (form,), latex=SUM_LATEX
        )  # a broadcast operand sums the adjoint over the axes it was stretched along
    return form


def _scaled(g: Form, local: Form, scalar: bool = False) -> Form:
    """G ⊙ local (G·local between numbers), without the 1 of the output's own adjoint."""
    if is_unit(g):
        return local
    if is_minus_one(g):
        return Prefix(NEGATE, Operand(local))
    if is_number(local):  # a constant multiple: 0.5·G
        return Infix(TIMES, local, Operand(g))
    if scalar:
        return Infix(TIMES, Operand(g), Operand(local))
    return Infix(HADAMARD, g, local)


def forms(tensors: Tensors, wrt: tuple[str, ...]) -> dict[str, Form]:
    """∂L/∂v for each variable, as one matrix formula (the views show it when it is short:
    :data:`FORM_LIMIT`)."""
    backend = Forms(tensors, inline=True)
    built = interpret.evaluate(tensors.expr.nodes, backend, tensors.order, lookup=interpret.operation_of)
    sources, swept = tensors.sweep(built, backend, wrt)
    found: dict[str, list[Form]] = {}
    for i, form in zip(sources, swept.locals, strict=True):
        if form != ZERO:
            found.setdefault(tensors.node(i).text, []).append(form)
    return {name: total(found.get(name, [])) for name in wrt}


def formulas(tensors: Tensors) -> dict[int, Form]:
    """Each operation's formula in its operands' names (the forward table's middle column)."""
    backend = Forms(tensors, inline=False)
    result: dict[int, Form] = {}
    for i in tensors.order:
        node = tensors.node(i)
        if node.kind in ("var", "num", "const"):
            continue
        args = tuple(_operand_form(tensors, a) for a in node.args)
        result[i] = backend.formula(node, tensors.operation(i), args)
    return result


def _operand_form(tensors: Tensors, a: int) -> Form:
    node = tensors.node(a)
    if a in tensors.names:
        return Sym(tensors.names[a])
    if node.kind in ("num", "const"):
        return Sym({"pi": "π", "E": "e"}.get(node.text, node.text))
    return formulas_of_constant(tensors, a)


def formulas_of_constant(tensors: Tensors, a: int) -> Form:
    """A constant operand (−1, 2·3, [1, 2]) written out; constants are small."""
    backend = Forms(tensors, inline=False)
    below = [False] * (a + 1)
    below[a] = True
    for i in range(a, -1, -1):
        if below[i]:
            for b in tensors.node(i).args:
                below[b] = True
    ops = [i for i in range(a + 1) if below[i]]
    built = interpret.evaluate(tensors.expr.nodes, backend, ops, lookup=interpret.operation_of)
    return built[a]


def step_form(tensors: Tensors, step: Step) -> Form:
    """A backward step's rule with the adjoint named: ∂L/∂u1·xᵀ (for ∂L/∂W1)."""
    node = tensors.node(step.node)
    args = tuple(_operand_form(tensors, a) for a in node.args)
    g: Form = ONE if step.node == tensors.root else Adjoint(tensors.names[step.node])
    return product_form(
        tensors.operation(step.node), node, step.k, args, g, Sym(tensors.names[step.node]), tensors, step.node
    )


# --------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class Check:
    """How one variable's gradient compares with central differences and with the scalar engine."""

    method: str  # "entries" (every entry) or "directions" (⟨grad, v⟩ along random unit directions)
    compared: int  # entries or directions compared
    error: float  # the largest |analytic − numeric| / tolerance: at most 1 agrees
    worst: tuple[int, ...] | None  # the entry (or direction number) of the largest error
    numeric: Any  # the central differences (entries), or the directional derivatives
    analytic: Any  # the same from the backward pass
    rounding: float = 0.0  # the largest part of the tolerance that the differences' rounding takes
    blunt: bool = False  # rounding, not the formula, limits some difference (L is huge beside its change)
    scalar: bool | None = None  # agrees with the scalar engine on the program written out; None: not run
    skipped: int = 0  # entries (or directions) whose differences leave the domain at every step

    @property
    def agrees(self) -> bool:
        return self.error <= 1.0 and self.scalar is not False


ROUNDING = 16 * 2.0**-52  # the relative rounding of a loss computed in doubles, generously
SMALLER = (1.0, 1e-2, 1e-4)  # the steps tried, as fractions of the first: past a corner, or inside a domain


def magnitude(tensors: Tensors, run: Pass) -> float:
    """How large the loss's rounding can be: the largest |value × adjoint| of any node (x + 10⁸ − 10⁸
    loses 8 digits of x, however small L is)."""
    import numpy as np

    sizes = [abs(float(run.values[tensors.root]))]
    for i, adjoint in run.adjoints.items():
        with np.errstate(over="ignore", invalid="ignore"):
            product = np.abs(np.asarray(run.values[i]) * np.asarray(adjoint))
        if product.size and np.all(np.isfinite(product)):
            sizes.append(float(product.max()))
    return max(sizes)


def _central(
    tensors: Tensors, point: Mapping[str, Any], name: str, direction: Any, h: float, size: float
) -> tuple[float, float] | None:
    """(L(v + h·d) − L(v − h·d))/2h, and how much rounding can move it; None when a side leaves the
    domain (√ at a negative entry)."""
    base = point[name]
    try:
        plus = output(tensors, {**point, name: base + h * direction})
        minus = output(tensors, {**point, name: base - h * direction})
    except (MathError, InputError):
        return None
    return (plus - minus) / (2 * h), ROUNDING * max(abs(plus), abs(minus), size) / h


def _closest(
    tensors: Tensors, point: Mapping[str, Any], name: str, direction: Any, h: float, size: float, analytic: float
) -> tuple[float, float, float] | None:
    """(difference, rounding, error) for the first step that agrees, else the closest; smaller steps
    are tried when a larger one crosses a corner (relu near 0) or leaves the domain."""
    best: tuple[float, float, float] | None = None
    for fraction in SMALLER:
        found = _central(tensors, point, name, direction, h * fraction, size)
        if found is None:
            continue
        numeric, rounding = found
        error = abs(analytic - numeric) / (ATOL + RTOL * abs(numeric) + rounding)
        if best is None or error < best[2]:
            best = (numeric, rounding, error)
        if error <= 1:
            break
    return best


def numeric_check(
    tensors: Tensors, point: Mapping[str, Any], name: str, grad: Any, seed: int, size: float = 0.0
) -> Check:
    """gradcheck's test: |analytic − numeric| ≤ atol + rtol·|numeric|, widened by the rounding of the
    differences themselves (`size`, from :func:`magnitude`).  Entries whose differences cannot be taken
    at any step (both sides outside the domain) are left out, and counted."""
    import numpy as np

    base = point[name]
    rows: list[tuple[float, float, float, float, tuple[int, ...]]] = []  # numeric, rounding, error, analytic, where
    skipped = 0
    if base.size <= ENTRYWISE:
        method = "entries"
        numeric = np.array(grad, dtype=float)
        for where in np.ndindex(*base.shape):
            unit = np.zeros_like(base)
            unit[where] = 1.0
            h = STEP * max(1.0, abs(float(base[where])))
            found = _closest(tensors, point, name, unit, h, size, float(grad[where]))
            if found is None:
                skipped += 1
                continue
            numeric[where] = found[0]
            rows.append((*found, float(grad[where]), where))
        analytic = grad
    else:
        method = "directions"
        rng = np.random.default_rng(seed)
        h = STEP * max(1.0, float(np.abs(base).max()))
        values = []
        for k in range(DIRECTIONS):
            v = rng.standard_normal(base.shape)
            v /= np.linalg.norm(v)
            slope = float((grad * v).sum())
            found = _closest(tensors, point, name, v, h, size, slope)
            if found is None:
                skipped += 1
                continue
            rows.append((*found, slope, (k,)))
            values.append((found[0], slope))
        numeric = np.array([n for n, _ in values])
        analytic = np.array([a for _, a in values])
    if not rows:
        return Check(method, 0, 0.0, None, numeric, analytic, skipped=skipped)
    worst = max(rows, key=lambda row: row[2])
    rounding = max(row[1] for row in rows)
    blunt = any(row[1] > 0.01 * (abs(row[3]) + ATOL) for row in rows)
    return Check(method, len(rows), worst[2], worst[4], numeric, analytic, rounding, blunt, skipped=skipped)


# --------------------------------------------------------------------------- the scalar engine's view


_ELEMENTWISE = {
    "add": "{0} + {1}",
    "sub": "{0} - {1}",
    "mul": "{0}*{1}",
    "div": "{0}/{1}",
    "pow": "{0}^{1}",
    "neg": "-{0}",
}


class Expand:
    """A backend whose values are arrays of scalar names: each operation becomes let-bindings,
    one per entry, that the scalar engine reads (``u3_0 = W1_0_0*x_0 + W1_0_1*x_1``)."""

    def __init__(self, tensors: Tensors, point: Mapping[str, Any]) -> None:
        import numpy as np

        self.np = np
        self.tensors = tensors
        self.point = point
        self.lines: list[str] = []
        self.size = 0

    def literal(self, node: Node) -> Any:
        text = {"pi": "pi", "E": "e"}.get(node.text, node.text)
        return self.np.array(f"({text})", dtype=object)

    def variable(self, node: Node) -> Any:
        shape = self.point[node.text].shape
        names = self.np.empty(shape, dtype=object)
        for where in self.np.ndindex(*shape):
            names[where] = entry_name(node.text, where)
        return names

    def apply(self, node: Node, rule: Rule | TensorRule, args: tuple[Any, ...]) -> Any:
        np = self.np
        if isinstance(rule, TensorRule):
            result = np.asarray(rule.expand(node.text, *args), dtype=object)
        else:
            stretched = np.broadcast_arrays(*args)
            result = np.empty(stretched[0].shape, dtype=object)
            called = rule.key + "(" + ", ".join(f"{{{k}}}" for k in range(len(args))) + ")"
            template = _ELEMENTWISE.get(rule.key) or called
            for where in np.ndindex(*result.shape):
                result[where] = template.format(*(a[where] for a in stretched))
        i = self.tensors.index(node)
        assert i is not None
        named = np.empty(result.shape, dtype=object)
        for where in np.ndindex(*result.shape):
            named[where] = name = entry_name(f"t{i}", where)
            self.lines.append(f"{name} = {result[where]}")
            self.size += 1 + str(result[where]).count(" + ") + str(result[where]).count(",")
            if self.size > SCALAR_LIMIT:
                raise _TooLarge
        return named


class _TooLarge(Exception):
    """The program written out entry by entry is beyond what the scalar check takes on."""


def entry_name(name: str, where: tuple[int, ...]) -> str:
    return name + "".join(f"_{k}" for k in where)


def expand(tensors: Tensors, point: Mapping[str, Any]) -> str | None:
    """The program written out entry by entry, as let-bindings; None when it is too large."""
    backend = Expand(tensors, point)
    try:
        names = interpret.evaluate(tensors.expr.nodes, backend, tensors.order, lookup=interpret.operation_of)
    except _TooLarge:
        return None
    root = names[tensors.root]
    if tensors.node(tensors.root).kind == "var":
        return None
    backend.lines.append(f"L_out = {root.item()}")
    return "\n".join(backend.lines)


def scalar_gradient(tensors: Tensors, point: Mapping[str, Any], wrt: tuple[str, ...]) -> dict[str, Any] | None:
    """The gradient by the scalar engine, on the program written out entry by entry."""
    import numpy as np

    from chainrule import engine
    from chainrule.graph import build_graph
    from chainrule.syntax import parse_program

    text = expand(tensors, point)
    if text is None:
        return None
    program = parse_program(text)
    graph = build_graph(program.expr, "functions", program.bindings)
    scalar_point: dict[str, float] = {}
    for name, value in point.items():
        for where in np.ndindex(*value.shape):
            scalar_point[entry_name(name, where)] = float(value[where])
    names = [v for v in graph.variables if v in scalar_point]
    if len(names) != len(graph.variables):
        return None
    run = engine.run(graph, {v: scalar_point[v] for v in graph.variables}, steps=False)
    adjoints = {graph.names[i]: a for i, a in run.adjoints.items() if i in graph.names}
    result: dict[str, Any] = {}
    for name in wrt:
        grad = np.zeros_like(point[name])
        for where in np.ndindex(*grad.shape):
            grad[where] = adjoints.get(entry_name(name, where), 0.0)
        result[name] = grad
    return result


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class TensorGradient:
    """The gradient of a program on vectors and matrices: every view of grad on tensors reads this."""

    tensors: Tensors
    point: Mapping[str, Any]  # every variable's value
    drawn: tuple[str, ...]  # the variables whose values --shape and --seed drew
    seed: int | None
    run: Pass
    wrt: tuple[str, ...]
    formulas: Mapping[int, Form]  # each operation in its operands' names
    forms: Mapping[str, Form]  # ∂L/∂v as a matrix formula (shown when its text is at most FORM_LIMIT long)
    checks: Mapping[str, Check]
    scalar_checked: bool  # the scalar engine saw the program entry by entry
    notes: tuple[str, ...] = field(default=())

    @property
    def gradient(self) -> Mapping[str, Any]:
        return self.run.gradient

    @property
    def loss(self) -> float:
        return float(self.run.values[self.tensors.root])

    @property
    def agrees(self) -> bool:
        return all(c.agrees for c in self.checks.values())


def gradient(
    program: Program,
    at: PointInput = None,
    wrt: str | Sequence[str] | None = None,
    shape: ShapesInput = None,
    seed: int | None = None,
    checked: bool = True,
) -> TensorGradient:
    """Backpropagation on a program of vectors and matrices, with its checks."""
    try:
        import numpy as np
    except ImportError as err:  # a dependency: missing only when the memory budget leaves no room for it
        raise OutOfMemory(
            f"numpy could not be loaded within the memory budget ({err})", hint="raise it with --memory"
        ) from None

    from chainrule.backprop import parse_wrt

    point, drawn, expr = values(program, at, shape, seed)
    bindings = {i: n for i, n in program.bindings.items() if expr.nodes[i].kind != "var"}
    tensors = shaped(expr, bindings, point)
    chosen = parse_wrt(wrt, tensors.variables)
    run = forward_backward(tensors, point, chosen, backward=checked)
    # f, g and h have no meaning on tensors (no abstract function has a shape): a note that a
    # binding named h is not the abstract function h would only puzzle here.
    notes = [n for n in program.expr.notes if "not the abstract function" not in n]
    if shape is not None and seed is None:
        notes.append("--shape drew the values with seed 0; --seed N draws others")
    implicit = [i for i in tensors.order if tensors.node(i).kind == "matmul" and expr.nodes[i].kind == "mul"]
    if implicit:
        notes.append(
            "a matrix written beside a vector or matrix (Aᵀx), or with a dot (W·x), is read as their matrix "
            "product, A.T @ x; '*' multiplies entry by entry"
        )
    checks: dict[str, Check] = {}
    scalar_checked = False
    if checked:
        scalar = None
        try:
            scalar = scalar_gradient(tensors, point, chosen)
        except (InputError, MathError):
            scalar = None  # the scalar engine's own limits (a kink it refuses): the differences still check
        scalar_checked = scalar is not None
        size = magnitude(tensors, run)
        for k, name in enumerate(chosen):
            found = numeric_check(tensors, point, name, run.gradient[name], (seed or 0) + k, size)
            if scalar is not None:
                agree = bool(np.allclose(scalar[name], run.gradient[name], rtol=1e-9, atol=1e-12))
                found = dataclasses.replace(found, scalar=agree)
            checks[name] = found
    return TensorGradient(
        tensors=tensors,
        point=point,
        drawn=drawn,
        seed=seed if seed is not None or shape is None else 0,
        run=run,
        wrt=chosen,
        formulas=formulas(tensors),
        forms=forms(tensors, chosen) if run.steps or not tensors.shapes[tensors.root] else {},
        checks=checks,
        scalar_checked=scalar_checked,
        notes=tuple(dict.fromkeys(notes)),
    )
