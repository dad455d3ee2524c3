"""The computational graph as a Mermaid flowchart, a Graphviz dot file or JSON.

Nodes carry their expression, and with a point their value and adjoint;
edges carry the local derivative, and with a point its value.  The JSON
document (schema ``chainrule.graph/1``) is the same graph for programs: nodes
and edges by id, for scalars and for vectors and matrices alike.
"""

from __future__ import annotations

from typing import Any

from chainrule.backprop import Gradient
from chainrule.derive import Derivation
from chainrule.printing import form, plain, pretty
from chainrule.render.common import num
from chainrule.render.documents import dumps

GRAPH_SCHEMA = "chainrule.graph/1"


def _labels(g: Gradient | Derivation) -> tuple[list[tuple[int, list[str], bool]], list[tuple[int, int, str]]]:
    """(node id, label lines, is a variable) and (from, to, label) for every node and edge."""
    graph = g.graph
    at = g.evaluation.at is not None
    adjoint = g.adjoints or {}
    nodes: list[tuple[int, list[str], bool]] = []
    for name in graph.variables:
        i = graph.index_of(name)
        lines = [f"{name} = {num(g.point[name])}" if at and g.point else name]
        if at and name in adjoint:
            lines.append(f"∂{g.output}/∂{name} = {num(adjoint[name], 6)}")
        nodes.append((i, lines, True))
    edges: list[tuple[int, int, str]] = []
    for layer, step in zip(graph.layers, g.layers, strict=True):
        lines = [f"{layer.name} = {form(graph.dag, layer.ops, graph.names, 'pretty')}"]
        if at:
            lines.append(f"= {num(step.value, 6)}")
            lines.append(f"∂{g.output}/∂{layer.name} = {num(adjoint.get(layer.name, 0.0), 6)}")
        nodes.append((layer.root, lines, False))
        multi = len(layer.sources) > 1
        d = "∂" if multi else "d"
        for source, local, local_step in zip(layer.sources, layer.locals, step.locals, strict=True):
            text = f"{d}{layer.name}/{d}{graph.names[source]} = {pretty(local.expression)}"
            if at and not local.expression.is_number:
                text += f" = {num(local_step.value, 6)}"
            edges.append((source, layer.root, text))
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


def _finite(value: float | None) -> float | None:
    return value if value is not None and value == value and abs(value) != float("inf") else None


def document(g: Gradient | Derivation) -> dict[str, Any]:
    graph = g.graph
    at = g.evaluation.at is not None
    adjoint = g.adjoints or {}
    nodes: list[dict[str, Any]] = []
    for name in graph.variables:
        nodes.append(
            {
                "id": graph.index_of(name),
                "name": name,
                "kind": "variable",
                "expression": None,
                "shape": [],
                "value": _finite(g.point[name]) if at and g.point else None,
                "adjoint": _finite(adjoint.get(name)) if at else None,
            }
        )
    edges: list[dict[str, Any]] = []
    for layer, step in zip(graph.layers, g.layers, strict=True):
        nodes.append(
            {
                "id": layer.root,
                "name": layer.name,
                "kind": "layer",
                "expression": form(graph.dag, layer.ops, graph.names, "plain"),
                "shape": [],
                "value": _finite(step.value) if at else None,
                "adjoint": _finite(adjoint.get(layer.name, 0.0)) if at else None,
            }
        )
        for source, local, local_step in zip(layer.sources, layer.locals, step.locals, strict=True):
            edges.append(
                {
                    "from": source,
                    "to": layer.root,
                    "local": plain(local.expression),
                    "value": _finite(local_step.value) if at else None,
                }
            )
    return graph_document(graph.source, g.output, at, nodes, edges)


def render_json(g: Gradient | Derivation) -> str:
    return dumps(document(g))
