"""Syntax tree -> graph of layers.

The tape is first made a DAG: equal sub-results become one node.  Then some
nodes are chosen as *layer roots*.  Each layer is the part of the DAG between
its root and the layer roots or variables below it (its *sources*); it has a
small SymPy expression in terms of its sources and, for each source, a local
derivative given by the rule table.

Granularity ``functions`` follows the lessons: a new layer starts at each
function application and each power, the innermost polynomial piece is one
layer, and a product or quotient of two varying pieces is a node with two
inputs (the product and quotient rules are the chain rule on that node).
Granularity ``ops`` makes every operation a node, as micrograd does.

Everything here walks the DAG by index, in order or in reverse: no recursion.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy

from chainrule.errors import InputError
from chainrule.rules import RULES, Rule, abstract_rule, apply, rule_for
from chainrule.syntax import Expr, Node

GRANULARITIES = ("functions", "ops")
MAX_LAYERS = 15_000  # keeps the largest graph inside the time budget and well under 1 GiB


@dataclass(frozen=True)
class Local:
    """The local derivative of a layer with respect to one of its inputs."""

    wrt: str
    expression: Any  # sympy.Expr, in terms of the layer's inputs
    rule: str
    identity: str
    rules: tuple[tuple[str, str], ...]  # every (rule, identity) used, outer first


@dataclass(frozen=True)
class Layer:
    """One node of the graph: a named intermediate result."""

    name: str
    root: int  # index of its top operation in Graph.dag
    ops: tuple[int, ...]  # its operations, children before parents, root last
    sources: tuple[int, ...]  # indices of its inputs (variables or lower layers)
    expression: Any  # sympy.Expr in terms of the inputs' symbols
    locals: tuple[Local, ...]  # one per input, in the order of `sources`
    kind: str  # the rule name of its top operation


@dataclass(frozen=True)
class Graph:
    """The expression as a graph of layers, inner first; the last layer is the output."""

    source: str
    dag: tuple[Node, ...]
    names: dict[int, str]  # dag index -> name, for variables and layer roots
    variables: tuple[str, ...]
    layers: tuple[Layer, ...]
    output: int  # dag index of the result
    constant: tuple[bool, ...]  # per dag node: depends on no variable

    def symbol(self, name: str) -> Any:
        return self._symbols.get(name) or sympy.Symbol(name, real=True)

    @functools.cached_property
    def _symbols(self) -> dict[str, Any]:
        return {n: sympy.Symbol(n, real=True) for n in self.names.values()}

    def subtree(self, index: int) -> list[int]:
        """Every DAG node the node at `index` depends on, itself included, in order."""
        seen = {index}
        stack = [index]
        while stack:
            for a in self.dag[stack.pop()].args:
                if a not in seen:
                    seen.add(a)
                    stack.append(a)
        return sorted(seen)

    def index_of(self, name: str) -> int:
        """The DAG index of a variable or layer, by name."""
        return self._indices[name]

    def variable_index(self, name: str) -> int:
        """The DAG index of a variable, or -1 when the expression does not use it."""
        return self.index_of(name) if name in self.variables else -1

    @functools.cached_property
    def _indices(self) -> dict[str, int]:
        return {n: i for i, n in self.names.items()}


def rule_of(node: Node) -> Rule:
    """The table entry for a DAG node's operation."""
    if node.kind == "call":
        return RULES[node.text]
    if node.kind == "apply":
        return abstract_rule(node.text)
    return RULES[node.kind]


def literal(node: Node) -> Any:
    """A number or constant node as an exact SymPy number."""
    if node.kind == "const":
        return sympy.pi if node.text == "pi" else sympy.E
    frac = Fraction(node.text)
    return sympy.Rational(frac.numerator, frac.denominator)


# --------------------------------------------------------------------------- DAG


def to_dag(expr: Expr) -> tuple[tuple[Node, ...], dict[int, int]]:
    """Merge equal sub-results: returns the DAG (post-order) and where each tape node went."""
    keys: dict[tuple[str, str, tuple[int, ...]], int] = {}
    remap: dict[int, int] = {}
    dag: list[Node] = []
    for i in expr.reachable():
        node = expr.nodes[i]
        args = tuple(remap[a] for a in node.args)
        key = (node.kind, node.text, args)
        if key not in keys:
            keys[key] = len(dag)
            dag.append(Node(node.kind, node.text, args, node.start, node.end, node.pos))
        remap[i] = keys[key]
    return tuple(dag), remap


# Classes of DAG nodes, for choosing layer roots.
_C, _S, _M, _P, _B = "const", "source", "monomial", "polynomial", "layer"


def _classify(dag: tuple[Node, ...], root: int, granularity: str, forced: set[int]) -> tuple[list[str], list[bool]]:
    """Which nodes are constants, monomials, polynomial pieces or layer roots."""
    cls: list[str] = []
    splits: list[bool] = []  # a function, power, product or quotient of varying parts
    parents = [0] * len(dag)
    for node in dag:
        for a in node.args:
            parents[a] += 1

    def scaled(c: str) -> str:  # the class of (constant * c)
        return _M if c in (_S, _B) else c

    for i, node in enumerate(dag):
        kids = [cls[a] for a in node.args]
        if node.kind in ("num", "const"):
            c = _C
        elif node.kind == "var":
            c = _S
        elif all(k == _C for k in kids):
            c = _C
        elif node.kind in ("call", "apply"):
            c = _B
        elif node.kind == "pow":
            simple = dag[node.args[0]].kind == "var" and kids[1] == _C
            c = _M if simple else _B
        elif node.kind == "neg":
            c = scaled(kids[0])
        elif node.kind in ("add", "sub"):
            c = _P
        elif node.kind == "div" and kids[1] != _C:
            c = _B
        elif _C in kids:  # mul by a constant, or div by a constant
            c = scaled(kids[0] if kids[1] == _C else kids[1])
        else:  # mul of two varying factors
            c = _B if _P in kids else _M
        splits.append(c == _B)
        if c in (_M, _P) and (granularity == "ops" or parents[i] > 1 or i == root or i in forced):
            c = _B
        cls.append(c)
    # The inner pieces of a function, a power, a product or a quotient of
    # varying parts are layers of their own: u1 = 2x + 1 in sin(2x + 1).
    for i in range(len(dag) - 1, -1, -1):
        if splits[i]:
            for a in dag[i].args:
                if cls[a] in (_M, _P):
                    cls[a] = _B
    return cls, [c == _C for c in cls]


# --------------------------------------------------------------------------- layers


def _collect(dag: tuple[Node, ...], root: int, is_source: list[bool]) -> tuple[list[int], list[int]]:
    """The operations of the layer at `root` and its sources, left to right."""
    ops: set[int] = set()
    sources: dict[int, None] = {}
    stack = [root]
    while stack:
        i = stack.pop()
        if i != root and is_source[i]:
            sources.setdefault(i)
            continue
        if i in ops:
            continue
        ops.add(i)
        stack.extend(reversed(dag[i].args))
    return sorted(ops), list(sources)


def _layer_names(roots: list[int], root: int, named: dict[int, str], taken: set[str]) -> dict[int, str]:
    """u1, u2, ... for the unnamed intermediate layers and y for the output,
    avoiding the user's names."""
    prefix = next(p for p in ("u", "v", "w", "t", "layer") if not any(n.startswith(p) for n in taken))
    out = next(n for n in ("y", "f", "out", "result") if n not in taken)
    names: dict[int, str] = {}
    count = 0
    for i in roots:
        if i in named:
            names[i] = named[i]
        elif i == root:
            names[i] = out
        else:
            count += 1
            names[i] = f"{prefix}{count}"
    return names


def build_graph(
    expr: Expr,
    granularity: str = "functions",
    bindings: dict[int, str] | None = None,
) -> Graph:
    """Build the graph of layers for a parsed expression.

    `bindings` names tape nodes (the let-bindings of a program); each becomes
    a layer under the user's name.
    """
    dag, remap = to_dag(expr)
    root = remap[expr.root]
    named = {remap[i]: name for i, name in (bindings or {}).items()}
    cls, constant = _classify(dag, root, granularity, set(named))
    variables = expr.variables()
    roots = [i for i, c in enumerate(cls) if c == _B]
    if len(roots) > MAX_LAYERS:
        raise InputError(
            f"the expression has {len(roots):,} layers; the limit is {MAX_LAYERS:,}",
            source=expr.source,
            position=0,
            end=min(len(expr.source), 80),
        )
    is_source = [c in (_S, _B) for c in cls]
    node_names = {i: dag[i].text for i, n in enumerate(dag) if n.kind == "var"}
    node_names.update(_layer_names(roots, root, named, set(variables) | set(named.values())))
    symbols = {i: sympy.Symbol(n, real=True) for i, n in node_names.items()}
    layers = []
    for r in roots:
        ops, sources = _collect(dag, r, is_source)
        layers.append(_make_layer(dag, r, ops, sources, node_names[r], symbols, constant))
    return Graph(
        source=expr.source,
        dag=dag,
        names=node_names,
        variables=variables,
        layers=tuple(layers),
        output=root,
        constant=tuple(constant),
    )


def _make_layer(
    dag: tuple[Node, ...],
    root: int,
    ops: list[int],
    sources: list[int],
    name: str,
    symbols: dict[int, Any],
    constant: list[bool],
) -> Layer:
    value = _build(dag, ops, {s: symbols[s] for s in sources})
    locals_ = _locals(dag, ops, sources, value, symbols, constant)
    kind = _rule_label(dag[root], constant)[0] if dag[root].args else "identity"
    return Layer(name, root, tuple(ops), tuple(sources), value[root], locals_, kind)


def _build(dag: tuple[Node, ...], ops: list[int], value: dict[int, Any]) -> dict[int, Any]:
    """The SymPy expression of each operation of a layer.

    Runs of + and − are gathered into one list of terms and added once, so a
    sum of n terms costs O(n), not the O(n²) of adding one term at a time.  A
    partial sum that only feeds the next + or − is never built, and is absent
    from the result.
    """
    pending: dict[int, list[Any]] = {}
    uses = dict.fromkeys(ops, 0)
    for i in ops:
        for a in dag[i].args:
            if a in uses:
                uses[a] += 1

    def take(a: int, sign: int) -> list[Any]:
        if a not in pending:
            items = [value[a]]
        elif uses[a] == 1:
            items = pending.pop(a)  # only this sum uses it: extend it in place
        else:
            items = list(pending[a])
        return items if sign > 0 else [-t for t in items]

    def get(a: int) -> Any:
        if a not in value:
            value[a] = sympy.Add(*pending[a])
        return value[a]

    for i in ops:
        node = dag[i]
        if not node.args:
            value[i] = literal(node)
        elif node.kind in ("add", "sub"):
            terms = take(node.args[0], 1)
            terms.extend(take(node.args[1], 1 if node.kind == "add" else -1))  # in place: O(1) per term
            pending[i] = terms
        else:
            value[i] = apply(rule_of(node).build, *(get(a) for a in node.args))
    get(ops[-1])
    return value


def _rule_label(node: Node, constant: list[bool]) -> tuple[str, str]:
    rule = rule_of(node)
    if node.kind in ("call", "apply"):
        return rule.name, rule.identity
    return rule_for(node.kind, tuple(not constant[a] for a in node.args))


def _locals(
    dag: tuple[Node, ...],
    ops: list[int],
    sources: list[int],
    value: dict[int, Any],
    symbols: dict[int, Any],
    constant: list[bool],
) -> tuple[Local, ...]:
    """Reverse mode inside one layer, by the rule table: one sweep from the
    layer's root down to its inputs gives the local derivative for every input,
    and the rules met on the way."""
    zero, one = sympy.Integer(0), sympy.Integer(1)
    root = ops[-1]
    node = dag[root]
    if len(ops) == 1 and len(sources) == len(node.args) == len(set(node.args)):
        # One operation on distinct inputs (most layers of a chain): its partials are the locals.
        label = _rule_label(node, constant)
        rule = rule_of(node)
        operands = [value[a] for a in node.args]
        return tuple(
            Local(str(symbols[a]), apply(rule.partials[node.args.index(a)], *operands), label[0], label[1], (label,))
            for a in sources
        )
    contributions: dict[int, list[Any]] = {root: [one]}  # summed once, when complete
    met: dict[int, tuple[tuple[str, str], ...]] = {root: ()}  # rules between the root and a node
    for i in reversed(ops):
        node = dag[i]
        if not node.args or i not in contributions:
            continue
        rule = rule_of(node)
        adjoint = sympy.Add(*contributions.pop(i))
        here = (*met[i], _rule_label(node, constant))
        operands = [value.get(a) for a in node.args]
        for k, a in enumerate(node.args):
            if constant[a]:
                continue
            partial = rule.partials[k](*operands)
            contributions.setdefault(a, []).append(partial if adjoint is one else adjoint * partial)
            met[a] = tuple(dict.fromkeys((*met.get(a, ()), *here)))
    result = []
    for s in sources:
        labels = met.get(s, ())
        top = labels[0] if labels else ("identity", "du/du = 1")
        result.append(
            Local(
                wrt=str(symbols[s]),
                expression=sympy.Add(*contributions.get(s, [zero])),
                rule=top[0],
                identity=top[1],
                rules=labels,
            )
        )
    return tuple(result)
