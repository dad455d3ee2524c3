"""Views of a gradient on vectors and matrices: tables with shapes, a lesson, JSON, Markdown,
LaTeX, Mermaid and dot.  Every one reads a :class:`~chainrule.tensor.TensorGradient`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text

from chainrule.render import formula_print, md
from chainrule.render.common import exact
from chainrule.render.documents import dumps
from chainrule.render.graph_view import Edges, Nodes, digraph, flowchart, graph_document
from chainrule.render.text_view import Column, console, table
from chainrule.tensor import FORM_LIMIT, Step, TensorGradient, step_form
from chainrule.tensor_forms import Form
from chainrule.tensor_rules import TensorRule

SCHEMA = "chainrule.grad.tensor/1"
IN_FULL = 16  # a tensor of at most this many entries is shown whole in a table; larger ones summarised
GRADIENT_IN_FULL = 64  # the gradient section shows tensors of at most this many entries whole
DIGITS = 4


# --------------------------------------------------------------------------- numbers and shapes


def shape_text(shape: tuple[int, ...]) -> str:
    """8×4, 8, or 'scalar'."""
    return "×".join(map(str, shape)) if shape else "scalar"


def _number(value: float, digits: int = DIGITS) -> str:
    if value == 0:
        return "0"
    text = f"{value:.{digits}g}"
    return text.replace("-", "−")


def array_text(a: Any, digits: int = DIGITS, limit: int = IN_FULL, full: bool = False) -> str:
    """A tensor in the lessons' notation: 1.5, [1, −2, 3], or a matrix one row per line;
    a larger one (unless `full`) by its shape and its range."""
    if a.ndim == 0:
        return _number(float(a), digits)
    if a.size > limit and not full:
        return summary(a)
    if a.ndim == 1:
        return "[" + ", ".join(_number(float(v), digits) for v in a) + "]"
    rows = ["[" + ", ".join(_number(float(v), digits) for v in row) + "]" for row in a]
    return "[" + ",\n ".join(rows) + "]"


def summary(a: Any) -> str:
    """A large tensor in one line: its shape, range, mean and norm."""
    import numpy as np

    return (
        f"{shape_text(a.shape)}: min {_number(float(a.min()), 3)}, max {_number(float(a.max()), 3)}, "
        f"mean {_number(float(a.mean()), 3)}, ‖·‖ {_number(float(np.linalg.norm(a)), 3)}"
    )


def _nested(a: Any) -> Any:
    return a.tolist()


# --------------------------------------------------------------------------- the parts every view shows


def _text(form: Form) -> str:
    return formula_print.plain_text(form)


def form_text(g: TensorGradient, v: str) -> str | None:
    """∂L/∂v as a matrix formula's text; None when it is too long to show whole."""
    form = g.forms.get(v)
    return None if form is None else formula_print.text(form, limit=FORM_LIMIT)


def _operation(g: TensorGradient, i: int) -> str | None:
    form = g.formulas.get(i)
    return None if form is None else _text(form)


def _rule(g: TensorGradient, i: int) -> tuple[str, str]:
    """(rule name, identity) of node i."""
    rule = g.tensors.operation(i)
    if isinstance(rule, TensorRule):
        return rule.name, rule.identity
    if g.tensors.node(i).kind in ("add", "sub", "neg", "mul", "div", "pow"):
        return f"elementwise {rule.name}", f"G ⊙ the local derivative, entry by entry ({rule.identity})"
    return f"elementwise {rule.name}", f"∂L/∂u = G ⊙ {rule.key}′(u), where {rule.identity}"


def _why(g: TensorGradient, i: int) -> str:
    rule = g.tensors.operation(i)
    if isinstance(rule, TensorRule):
        return rule.why
    shapes = [g.tensors.shapes[a] for a in g.tensors.node(i).args]
    broadcast = any(s != g.tensors.shapes[i] for s in shapes)
    text = (
        "each entry of the result depends only on the same entry of the operand, so the Jacobian is diagonal "
        "and its product with G is an entrywise product ⊙"
    )
    if broadcast:
        text += (
            "; an operand that was broadcast (a bias added to every row) reached several entries, "
            "so its adjoint sums G over the axes it was stretched along (Σ)"
        )
    return text


def forward_rows(g: TensorGradient, full: bool) -> list[tuple[str, str, str, str]]:
    """(name, operation, shape, value) for every variable and operation, inputs first."""
    rows = []
    t = g.tensors
    seen: set[str] = set()
    for i in t.order:
        node = t.node(i)
        if i not in t.names or t.names[i] in seen:
            continue
        seen.add(t.names[i])
        what = f"drawn with seed {g.seed}" if node.kind == "var" and node.text in g.drawn else "given"
        operation = _operation(g, i)
        if operation is None:
            operation = what if node.kind == "var" else ""
        rows.append((t.names[i], operation, shape_text(t.shapes[i]), array_text(g.run.values[i], full=full)))
    return rows


def backward_rows(g: TensorGradient, full: bool) -> list[tuple[str, str, str, str, str]]:
    """(node, operand, local rule as a vector–Jacobian product, shape, contribution) per step."""
    t = g.tensors
    rows = []
    for step in g.run.steps:
        operand = t.names.get(step.operand, "")
        if not operand:
            continue
        text = f"∂L/∂{operand} += {_text(step_form(t, step))}"
        rows.append(
            (
                t.names[step.node],
                operand,
                text,
                shape_text(t.shapes[step.operand]),
                array_text(step.contribution, full=full),
            )
        )
    return rows


def i_operation(text: str) -> bool:
    """Whether a forward row's operation is one (not 'given' or 'drawn with seed 0')."""
    return text != "given" and not text.startswith("drawn with seed")


def _check_text(g: TensorGradient, v: str) -> str:
    c = g.checks.get(v)
    if c is None:
        return "not checked"
    what = (
        f"central differences, {c.compared} entries"
        if c.method == "entries"
        else f"central differences along {c.compared} random directions"
    )
    mark = "✓" if c.error <= 1 else "✗"
    what = what.replace(" 1 entries", " 1 entry")
    text = f"{mark} {what} (largest error {c.error:.2g} of the tolerance)"
    if c.blunt:
        text += f", though rounding blurs the differences by up to {c.rounding:.2g}"
    if c.scalar is not None:
        text += "; ✓ the scalar engine agrees" if c.scalar else "; ✗ the scalar engine disagrees"
    return text


def _heading(g: TensorGradient) -> str:
    return f"∇{_output(g)} for {g.tensors.statement}"


def _output(g: TensorGradient) -> str:
    return g.tensors.output


def _point_line(g: TensorGradient) -> str:
    parts = [f"{v} ({shape_text(g.point[v].shape)})" for v in g.tensors.variables]
    drawn = f"; values drawn with seed {g.seed}" if g.drawn else ""
    return "at " + ", ".join(parts) + drawn


# --------------------------------------------------------------------------- text


def _table(con: Any, titles: tuple[str, ...], right: set[str], rows: Sequence[tuple[str, ...]]) -> None:
    """Names and shapes whole, formulas and values wrapped at spaces (text_view.table)."""
    columns = [Column(t, right=t in right, whole=t in ("node", "to", "shape")) for t in titles]
    table(con, columns, [list(r) for r in rows], con.width)


def render_text(g: TensorGradient, color: bool = False, width: int = 100, full: bool = False) -> str:
    """The forward pass, the backward pass and the gradient as tables, with shapes."""
    con, out = console(color, width)
    con.print(Text(_heading(g), style="bold"))
    con.print(_point_line(g))
    for note in g.notes:
        con.print(Text(f"note: {note}"))
    con.print(Text("forward pass", style="bold"), "  every node, its shape and its value, inputs first")
    _table(con, ("node", "operation", "shape", "value"), set(), forward_rows(g, full))
    con.print(
        Text("backward pass", style="bold"),
        f"  reverse order: each node passes its adjoint G = ∂{_output(g)}/∂node through the local rule, "
        f"a vector–Jacobian product; ∂{_output(g)}/∂{_output(g)} = 1",
    )
    _table(
        con,
        ("node", "to", "local rule (vector–Jacobian product)", "shape", "contribution"),
        set(),
        backward_rows(g, full),
    )
    con.print(Text("gradient", style="bold"), "  every parameter's gradient has the parameter's shape")
    for v in g.wrt:
        value = g.gradient[v]
        form = form_text(g, v)
        con.print(Text(f"∂{_output(g)}/∂{v}", style="bold green"), f" {shape_text(value.shape)}")
        con.print(f"  = {form}" if form else "  (the formula is too long to show whole; the steps above build it)")
        con.print("  = " + array_text(value, limit=GRADIENT_IN_FULL, full=full).replace("\n", "\n    "))
        con.print("  " + _check_text(g, v))
    con.print(Text(f"{_output(g)} = {exact(g.loss)}", style="bold"))
    if not full and any(a.size > IN_FULL for a in g.run.values.values()):
        con.print(Text("(--full shows every entry; --json gives them all)", style="dim"))
    return out.getvalue()


# --------------------------------------------------------------------------- the lesson


def render_explain(g: TensorGradient, full: bool = False) -> str:
    """The backward pass on tensors as a lesson: shapes, vector–Jacobian products, and why."""
    t = g.tensors
    out = _output(g)
    lines = [f"Backpropagation on vectors and matrices: {_heading(g)}", _point_line(g), ""]
    for note in g.notes:
        lines.append(f"note: {note}")
    lines += [
        "1. The forward pass computes every node, inputs first. Each value is a tensor: "
        "a vector, a matrix, or at the end one number, the loss.",
    ]
    for name, operation, shape, value in forward_rows(g, full):
        shown = value.replace("\n", "\n        ")
        lines.append(
            f"   {name} = {operation}  ({shape})" if i_operation(operation) else f"   {name} ({shape}, {operation})"
        )
        lines.append(f"      = {shown}")
    lines += [
        "",
        f"2. The backward pass starts from ∂{out}/∂{out} = 1 and goes through the nodes in reverse. "
        f"A node's adjoint G = ∂{out}/∂node has the node's shape. For a tensor, the local derivative "
        "is a Jacobian matrix; backpropagation never builds it, but multiplies G by it: the "
        "vector–Jacobian product. Each operand's adjoint is the sum of what its users send it.",
    ]
    explained: set[str] = set()
    current = None
    for step in g.run.steps:
        if step.operand not in t.names:
            continue
        if step.node != current:
            current = step.node
            name, identity = _rule(g, step.node)
            lines.append(f"   {t.names[step.node]} = {_operation(g, step.node) or ''}: {name}, {identity}")
            rule = t.operation(step.node)
            kind = rule.key if isinstance(rule, TensorRule) else "elementwise"
            on_numbers = not t.shapes[step.node] and not any(t.shapes[a] for a in t.node(step.node).args)
            if kind not in explained and not (kind == "elementwise" and on_numbers):
                explained.add(kind)
                lines.append(f"      why: {_why(g, step.node)}")
        operand = t.names[step.operand]
        lines.append(f"      ∂{out}/∂{operand} += {_text(step_form(t, step))}  ({shape_text(t.shapes[step.operand])})")
        value = array_text(step.contribution, full=full).replace("\n", "\n" + " " * 11)
        lines.append(f"         = {value}")
    lines += ["", "3. The gradient: each parameter's gradient has the parameter's shape, as PyTorch's .grad does."]
    for v in g.wrt:
        value = g.gradient[v]
        form = form_text(g, v)
        lines.append(f"   ∂{out}/∂{v} ({shape_text(value.shape)})" + (f" = {form}" if form else ""))
        lines.append("      = " + array_text(value, limit=GRADIENT_IN_FULL, full=full).replace("\n", "\n        "))
    lines += [
        "",
        "4. The check. Each gradient is compared with central differences (L(v + h) − L(v − h))/2h, "
        "entry by entry for small tensors and along random directions for large ones, as "
        "torch.autograd.gradcheck does"
        + (
            "; and with the scalar engine, which sees the program written out entry by entry."
            if g.scalar_checked
            else "."
        ),
    ]
    for v in g.wrt:
        lines.append(f"   {v}: {_check_text(g, v)}")
    lines += ["", f"{out} = {exact(g.loss)}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- JSON


def document(g: TensorGradient) -> dict[str, Any]:
    t = g.tensors
    nodes = []
    for i in t.order:
        if i not in t.names:
            continue
        node = t.node(i)
        rule = _rule(g, i)[0] if node.kind != "var" else "variable"
        nodes.append(
            {
                "name": t.names[i],
                "operation": _operation(g, i),
                "rule": rule,
                "shape": list(t.shapes[i]),
                "value": _nested(g.run.values[i]),
                "adjoint": _nested(g.run.adjoints[i]) if i in g.run.adjoints else None,
            }
        )
    backward = [
        {
            "node": t.names[step.node],
            "input": t.names[step.operand],
            "rule": _text(step_form(t, step)),
            "identity": _rule(g, step.node)[1],
            "shape": list(t.shapes[step.operand]),
            "contribution": _nested(step.contribution),
        }
        for step in g.run.steps
        if step.operand in t.names
    ]
    return {
        "schema": SCHEMA,
        "input": t.expr.typed or t.expr.source,
        "output": _output(g),
        "loss": g.loss,
        "variables": {
            v: {"shape": list(g.point[v].shape), "value": _nested(g.point[v]), "drawn": v in g.drawn}
            for v in t.variables
        },
        "seed": g.seed,
        "wrt": list(g.wrt),
        "nodes": nodes,
        "backward": backward,
        "gradient": {
            v: {"shape": list(g.gradient[v].shape), "value": _nested(g.gradient[v]), "form": form_text(g, v)}
            for v in g.wrt
        },
        "check": {
            v: {
                "method": c.method,
                "compared": c.compared,
                "error": c.error,
                "agrees": c.agrees,
                "scalar_engine": c.scalar,
                "numeric": _nested(c.numeric),
                "analytic": _nested(c.analytic),
            }
            for v, c in g.checks.items()
        },
        "agrees": g.agrees,
        "notes": list(g.notes),
    }


def render_json(g: TensorGradient) -> str:
    return dumps(document(g))


# --------------------------------------------------------------------------- Markdown


def _cell(text: str) -> str:
    """A table cell of prose or numbers: Markdown's characters escaped, matrix rows on lines of their own."""
    return md.text(text)


def render_markdown(g: TensorGradient) -> str:
    name = _output(g)
    lines = [f"### {_cell(_heading(g))}", "", _cell(_point_line(g)), ""]
    lines += [f"> note: {_cell(n)}" for n in g.notes]
    lines += ["", "**Forward pass**", ""]
    lines += md.table(
        ["node", "operation", "shape", "value"],
        (
            [md.code(node), _cell(operation), shape, _cell(value)]
            for node, operation, shape, value in forward_rows(g, False)
        ),
    )
    lines += ["", f"**Backward pass** (∂{name}/∂{name} = 1; each step is a vector–Jacobian product)", ""]
    lines += md.table(
        ["node", "to", "local rule", "shape", "contribution"],
        (
            [md.code(node), md.code(operand), _cell(text), shape, _cell(value)]
            for node, operand, text, shape, value in backward_rows(g, False)
        ),
    )
    lines += ["", "**Gradient**", ""]
    lines += md.table(
        ["parameter", "shape", "formula", "value", "check"],
        (
            [
                md.code(v),
                shape_text(g.gradient[v].shape),
                _cell(form_text(g, v) or "(long: see the steps)"),
                _cell(array_text(g.gradient[v], limit=GRADIENT_IN_FULL)),
                _cell(_check_text(g, v)),
            ]
            for v in g.wrt
        ),
    )
    lines += ["", f"{name} = {exact(g.loss)}", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- LaTeX


def _bmatrix(a: Any, limit: int = GRADIENT_IN_FULL) -> str:
    if a.ndim == 0:
        return _number(float(a)).replace("−", "-")
    if a.size > limit:
        return r"\text{" + summary(a).replace("−", "-").replace("‖·‖", "norm").replace("×", "x") + "}"
    rows = a.reshape(-1, 1) if a.ndim == 1 else a
    body = r" \\ ".join(" & ".join(_number(float(v)).replace("−", "-") for v in row) for row in rows)
    return r"\begin{bmatrix} " + body + r" \end{bmatrix}"


def _partial(out: str, name: str) -> str:
    return f"\\frac{{\\partial {out}}}{{\\partial {formula_print.name_tex(name)}}}"


def _align(heading: str, rows: list[str], empty: str) -> list[str]:
    """A paragraph heading and its rows in an align* environment."""
    return [heading, r"\begin{align*}", " \\\\\n".join(rows) if rows else empty, r"\end{align*}"]


def render_latex(g: TensorGradient) -> str:
    """A fragment for a document with amsmath: the steps and the gradient in align* environments,
    every formula printed from its tree (:func:`chainrule.render.formula_print.latex`)."""
    t = g.tensors
    out = formula_print.name_tex(_output(g))
    lines = ["% chainrule: backpropagation on vectors and matrices (needs the amsmath and amssymb packages)"]
    lines.append(rf"\setcounter{{MaxMatrixCols}}{{{GRADIENT_IN_FULL}}}")  # amsmath's matrices stop at 10 columns
    rows = []
    seen: set[str] = set()
    for i in t.order:
        if i not in t.names or t.names[i] in seen:
            continue
        seen.add(t.names[i])
        form = g.formulas.get(i)
        if form is not None:
            shape = shape_text(t.shapes[i]).replace("×", " x ")
            rows.append(f"{formula_print.name_tex(t.names[i])} &= {formula_print.latex(form)} && \\text{{{shape}}}")
    lines += _align(r"\paragraph{Forward pass.}", rows, r"\text{(no operations)}")
    steps = [
        f"{_partial(out, t.names[step.operand])} &\\mathrel{{+}}= {formula_print.latex(step_form(t, step))}"
        for step in g.run.steps
        if step.operand in t.names
    ]
    lines += _align(r"\paragraph{Backward pass} (each step a vector--Jacobian product).", steps, r"\text{(no steps)}")
    grads = []
    for v in g.wrt:
        form = g.forms.get(v)
        shown = form is not None and form_text(g, v) is not None
        middle = f" &= {formula_print.latex(form)} \\\\\n&= " if shown and form is not None else " &= "
        grads.append(_partial(out, v) + middle + _bmatrix(g.gradient[v]))
    lines += _align(r"\paragraph{Gradient.}", grads, r"\text{(no variables)}")
    lines.append(
        f"${out} = {exact(g.loss).replace('−', '-')}$; the check: "
        + ("every gradient agrees with central differences." if g.agrees else "a gradient disagrees with the check.")
    )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- Mermaid and dot


def _walk(g: TensorGradient) -> list[tuple[int, bool, list[tuple[int, Step | None]]]]:
    """Every named node once, children first: (node, is a variable, its named operands, each with
    the backward step along that edge): the one walk the drawings and the graph's JSON read."""
    t = g.tensors
    steps = {(step.operand, step.node): step for step in g.run.steps}
    walked = []
    for i in t.order:
        if i in t.names:
            node = t.node(i)
            operands = [(a, steps.get((a, i))) for a in dict.fromkeys(node.args) if a in t.names]
            walked.append((i, node.kind == "var", operands))
    return walked


def _graph(g: TensorGradient) -> tuple[Nodes, Edges]:
    """Nodes labelled with name, operation, shape, value and adjoint; edges with the operand's shape
    and the backward step along them (the vector–Jacobian product)."""
    t = g.tensors
    nodes = []
    edges = []
    for i, variable, operands in _walk(g):
        head = t.names[i] if variable else f"{t.names[i]} = {_operation(g, i) or ''}"
        lines = [head, shape_text(t.shapes[i]), "value " + array_text(g.run.values[i], digits=3, limit=4)]
        if i in g.run.adjoints:
            lines.append(f"∂{_output(g)}/∂{t.names[i]} " + array_text(g.run.adjoints[i], digits=3, limit=4))
        nodes.append((i, [line.replace("\n", " ") for line in lines], variable))
        for a, step in operands:
            label = shape_text(t.shapes[a])
            if step is not None:
                label += f"; ∂{_output(g)}/∂{t.names[a]} += {_text(step_form(t, step))}"
            edges.append((a, i, label))
    return nodes, edges


def mermaid(g: TensorGradient) -> str:
    return flowchart(*_graph(g))


def graph_json(g: TensorGradient) -> str:
    """The graph as JSON, in the document scalar graphs have (:func:`graph_view.graph_document`)."""
    t = g.tensors
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for i, variable, operands in _walk(g):
        nodes.append(
            {
                "id": i,
                "name": t.names[i],
                "kind": "variable" if variable else "layer",
                "expression": None if variable else _operation(g, i),
                "shape": list(t.shapes[i]),
                "value": _nested(g.run.values[i]),
                "adjoint": _nested(g.run.adjoints[i]) if i in g.run.adjoints else None,
            }
        )
        edges += [
            {
                "from": a,
                "to": i,
                "local": None if step is None else _text(step_form(t, step)),
                "value": None if step is None else _nested(step.contribution),
            }
            for a, step in operands
        ]
    return dumps(graph_document(t.expr.typed or t.expr.source, _output(g), True, nodes, edges))


def dot(g: TensorGradient) -> str:
    return digraph(*_graph(g))


def render_latex_document(g: TensorGradient) -> str:
    from chainrule.render.latex_view import document

    return document(render_latex(g), f"Backpropagation on vectors and matrices: {g.tensors.statement}")
