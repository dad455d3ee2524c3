"""The computational graph as a Mermaid flowchart, a Graphviz dot file or JSON.

Nodes carry their expression, and with a point their value and adjoint;
edges carry the local derivative, and with a point its value.  The JSON
document (schema ``chainrule.graph/1``) is the same graph for programs: nodes
and edges by id, for scalars and for vectors and matrices alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chainrule.backprop import Gradient
from chainrule.derive import Derivation
from chainrule.graph import Layer
from chainrule.printing import form, plain, pretty
from chainrule.render.common import num
from chainrule.render.documents import dumps, number

GRAPH_SCHEMA = "chainrule.graph/1"


@dataclass(frozen=True)
class _Node:
    """A variable or a layer of the graph, with its value and adjoint where there is a point."""

    id: int
    name: str
    layer: Layer | None  # None for a variable
    value: float | None
    adjoint: float | None


@dataclass(frozen=True)
class _Edge:
    """An input of a layer, with the local derivative along it and that derivative's value."""

    source: int
    layer: Layer
    local: Any  # the local derivative, a SymPy expression in the layer's inputs
    value: float | None


def _walk(g: Gradient | Derivation) -> tuple[list[_Node], list[_Edge]]:
    """Every node and edge once: the one walk that every drawing of the graph, and its JSON, reads."""
    graph = g.graph
    at = g.evaluation.at is not None
    adjoint = g.adjoints or {}
    nodes = [
        _Node(
            graph.index_of(name),
            name,
            None,
            g.point[name] if at and g.point else None,
            adjoint.get(name) if at else None,
        )
        for name in graph.variables
    ]
    edges: list[_Edge] = []
    for layer, step in zip(graph.layers, g.layers, strict=True):
        nodes.append(
            _Node(
                layer.root,
                layer.name,
                layer,
                step.value if at else None,
                adjoint.get(layer.name, 0.0) if at else None,
            )
        )
        for source, local, local_step in zip(layer.sources, layer.locals, step.locals, strict=True):
            edges.append(_Edge(source, layer, local.expression, local_step.value if at else None))
    return nodes, edges


def _labels(g: Gradient | Derivation) -> tuple[list[tuple[int, list[str], bool]], list[tuple[int, int, str]]]:
    """(node id, label lines, is a variable) and (from, to, label) for every node and edge."""
    graph = g.graph
    walked, walked_edges = _walk(g)
    nodes: list[tuple[int, list[str], bool]] = []
    for n in walked:
        if n.layer is None:
            lines = [f"{n.name} = {num(n.value)}" if n.value is not None else n.name]
        else:
            lines = [f"{n.name} = {form(graph.dag, n.layer.ops, graph.names, 'pretty')}"]
            if n.value is not None:
                lines.append(f"= {num(n.value, 6)}")
        if n.adjoint is not None:
            lines.append(f"∂{g.output}/∂{n.name} = {num(n.adjoint, 6)}")
        nodes.append((n.id, lines, n.layer is None))
    edges: list[tuple[int, int, str]] = []
    for e in walked_edges:
        d = "∂" if len(e.layer.sources) > 1 else "d"
        text = f"{d}{e.layer.name}/{d}{graph.names[e.source]} = {pretty(e.local)}"
        if e.value is not None and not e.local.is_number:
            text += f" = {num(e.value, 6)}"
        edges.append((e.source, e.layer.root, text))
    return nodes, edges


Nodes = list[tuple[int, list[str], bool]]  # (id, label lines, is a variable)
Edges = list[tuple[int, int, str]]  # (from, to, label)


def flowchart(nodes: Nodes, edges: Edges) -> str:
    """A Mermaid flowchart of labelled nodes (variables rounded) and labelled edges."""

    def quote(text: str) -> str:
        return '"' + text.replace('"', "#quot;") + '"'

    out = ["flowchart LR"]
    for i, lines, variable in nodes:
        label = quote("<br/>".join(lines))
        out.append(f"    n{i}([{label}])" if variable else f"    n{i}[{label}]")
    for a, b, label in edges:
        out.append(f"    n{a} -- {quote(label)} --> n{b}")
    return "\n".join(out) + "\n"


def digraph(nodes: Nodes, edges: Edges) -> str:
    """The same graph in Graphviz dot (variables as ellipses)."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace('"', '\\"')

    out = ["digraph chainrule {", "    rankdir=LR;", '    node [shape=box, fontname="Helvetica"];']
    out.append('    edge [fontname="Helvetica", fontsize=10];')
    for i, lines, variable in nodes:
        shape = ", shape=ellipse" if variable else ""
        label = "\\n".join(escape(line) for line in lines)
        out.append(f'    n{i} [label="{label}"{shape}];')
    for a, b, label in edges:
        out.append(f'    n{a} -> n{b} [label="{escape(label)}"];')
    out.append("}")
    return "\n".join(out) + "\n"


def mermaid(g: Gradient | Derivation) -> str:
    return flowchart(*_labels(g))


def dot(g: Gradient | Derivation) -> str:
    return digraph(*_labels(g))


def graph_document(
    source: str, output: str, at: bool, nodes: list[dict[str, Any]], edges: list[dict[str, Any]]
) -> dict[str, Any]:
    """The graph as JSON: one document for scalar and tensor programs (nodes and edges by id)."""
    return {"schema": GRAPH_SCHEMA, "input": source, "output": output, "at": at, "nodes": nodes, "edges": edges}


def document(g: Gradient | Derivation) -> dict[str, Any]:
    graph = g.graph
    walked, walked_edges = _walk(g)
    nodes: list[dict[str, Any]] = [
        {
            "id": n.id,
            "name": n.name,
            "kind": "variable" if n.layer is None else "layer",
            "expression": None if n.layer is None else form(graph.dag, n.layer.ops, graph.names, "plain"),
            "shape": [],
            "value": number(n.value),
            "adjoint": number(n.adjoint),
        }
        for n in walked
    ]
    edges = [
        {"from": e.source, "to": e.layer.root, "local": plain(e.local), "value": number(e.value)} for e in walked_edges
    ]
    return graph_document(graph.source, g.output, g.evaluation.at is not None, nodes, edges)


def render_json(g: Gradient | Derivation) -> str:
    return dumps(document(g))
