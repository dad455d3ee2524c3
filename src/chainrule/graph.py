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
import itertools
import re
from dataclasses import dataclass
from typing import Any

import sympy

from chainrule.errors import InputError
from chainrule.interpret import RealBackend, SympyBackend, evaluate, label, sweep
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
    inputs: tuple[str, ...]  # the names of its inputs, in the order of `sources`


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
    output_name: str  # y, the user's last binding, or the variable when the output is one

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
        return self.index_of(name) if name in self._variables else -1

    def uses(self, name: str) -> bool:
        """Whether the expression uses a variable of this name."""
        return name in self._variables

    @functools.cached_property
    def _variables(self) -> frozenset[str]:
        return frozenset(self.variables)

    @functools.cached_property
    def _indices(self) -> dict[str, int]:
        return {n: i for i, n in self.names.items()}

    def downstream(self, index: int) -> list[int]:
        """Every DAG node whose value depends on the node at `index`, itself included, in order."""
        seen = {index}
        stack = [index]
        while stack:
            for user in self._users[stack.pop()]:
                if user not in seen:
                    seen.add(user)
                    stack.append(user)
        return sorted(seen)

    @functools.cached_property
    def _users(self) -> list[list[int]]:
        users: list[list[int]] = [[] for _ in self.dag]
        for i, node in enumerate(self.dag):
            for a in set(node.args):
                users[a].append(i)
        return users


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


_SYMPY = SympyBackend()  # its symbols are given per layer, so one serves every graph

_PREFIXES = ("u", "v", "w", "t", "layer")
_OUTPUTS = ("y", "f", "out", "result", "output")


def _layer_names(roots: list[int], root: int, named: dict[int, str], taken: set[str]) -> tuple[dict[int, str], str]:
    """u1, u2, ... for the unnamed intermediate layers and y for the output,
    avoiding the user's names.

    A prefix is free when no user name is the prefix followed by digits (a
    variable called u does not block u1).  ``u__`` can never be taken: a
    user's name has no double underscore.
    """
    prefix = next(p for p in (*_PREFIXES, "u__") if not any(re.fullmatch(rf"{p}[0-9]+", n) for n in taken))
    numbered = (f"y{k}" for k in itertools.count(1))
    out = next(n for n in itertools.chain(_OUTPUTS, numbered) if n not in taken)
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
    return names, out


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
    # A binding the output does not use is not part of the graph.
    named = {remap[i]: name for i, name in (bindings or {}).items() if i in remap}
    cls, constant = _classify(dag, root, granularity, set(named))
    _refuse_unreal_comparisons(dag, constant, expr.source)
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
    layer_names, out = _layer_names(roots, root, named, set(variables) | set(named.values()))
    node_names.update(layer_names)
    symbols = {i: sympy.Symbol(n, real=True) for i, n in node_names.items()}
    layers = []
    for r in roots:
        ops, sources = _collect(dag, r, is_source)
        layers.append(_make_layer(dag, r, ops, sources, node_names, symbols, constant))
    return Graph(
        source=expr.source,
        dag=dag,
        names=node_names,
        variables=variables,
        layers=tuple(layers),
        output=root,
        constant=tuple(constant),
        output_name=node_names.get(root, out),
    )


def _refuse_unreal_comparisons(dag: tuple[Node, ...], constant: list[bool], source: str) -> None:
    """A MathError where a rule that compares its operands (max, |u|, relu) gets one that is not a
    real number: max(x, 1/0), relu(x + ln(−1)).  The constants are decided first, exactly; only
    when one of them is not real is the rest of the expression read for where it goes."""
    backend = RealBackend(dag, source)
    constants = evaluate(dag, backend, [i for i, c in enumerate(constant) if c])
    if any(culprit is not None for _, culprit in constants.values()) or backend.incomparable(constants):
        evaluate(dag, backend, given=constants)


def _make_layer(
    dag: tuple[Node, ...],
    root: int,
    ops: list[int],
    sources: list[int],
    names: dict[int, str],
    symbols: dict[int, Any],
    constant: list[bool],
) -> Layer:
    name = names[root]
    backend = _SYMPY
    value = evaluate(dag, backend, ops, {s: symbols[s] for s in sources})
    found = sweep(dag, tuple(ops), tuple(sources), value, backend, constant.__getitem__)
    locals_ = []
    for s, expression, met in zip(sources, found.locals, found.rules, strict=True):
        top = met[0] if met else ("identity", "du/du = 1")
        locals_.append(Local(wrt=names[s], expression=expression, rule=top[0], identity=top[1], rules=met))
    kind = label(dag[root], constant.__getitem__)[0] if dag[root].args else "identity"
    inputs = tuple(names[s] for s in sources)
    return Layer(name, root, tuple(ops), tuple(sources), value[root], tuple(locals_), kind, inputs)
