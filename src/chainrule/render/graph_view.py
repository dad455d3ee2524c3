"""The computational graph as a Mermaid flowchart or a Graphviz dot file.

Nodes carry their expression, and with a point their value and adjoint;
edges carry the local derivative, and with a point its value.
"""

from __future__ import annotations

from chainrule.backprop import Gradient
from chainrule.derive import Derivation
from chainrule.printing import form, pretty
from chainrule.render.common import num


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
