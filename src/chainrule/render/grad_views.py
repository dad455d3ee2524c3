"""Views of a gradient: the forward and backward passes as tables, a lesson, and JSON."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from rich.text import Text

from chainrule import engine
from chainrule.backprop import Gradient, groups, norm
from chainrule.printing import form, latex, plain, pretty
from chainrule.render import md
from chainrule.render.common import exact, num, value_text, where
from chainrule.render.documents import dumps, number
from chainrule.render.json_view import check_document, layer_entry, wide_entry
from chainrule.render.text_view import Column, console, table
from chainrule.wide import text as wide

SCHEMA = "chainrule.grad/1"
EXPANDED_WIDTH = 160  # the table shows a partial in the variables too when it is at most this long


def _names(g: Gradient, index: int) -> str:
    return str(g.graph.names[index])


def _node_text(g: Gradient, ops: tuple[int, ...], style: str) -> str:
    return form(g.graph.dag, ops, g.graph.names, style)


def _partial(node: str, wrt: str) -> str:
    return f"∂{node}/∂{wrt}"


def _local_text(node: str, wrt: str, expression: Any, value: float) -> str:
    """∂c/∂a = b = 3, or ∂d/∂c = 1 when the local gradient is a number."""
    text = f"{_partial(node, wrt)} = {pretty(expression)}"
    return text if expression.is_number else f"{text} = {num(value, 6)}"


def _grouped(text: str, expr: Any) -> str:
    """A local derivative as a factor after another: in parentheses unless it is one symbol,
    number or function call."""
    negative = expr.is_Number and expr < 0
    return text if (expr.is_Atom and not negative) or expr.is_Function else f"({text})"


def _symbolic(g: Gradient, v: str, style: str = "pretty") -> str:
    """∂output/∂v in the nodes' names: the whole product while it is small, otherwise one
    step back, through the adjoints of the nodes v feeds (∂y/∂u1 · 1/(x² + 1))."""
    whole = g.symbolic[v]
    if whole is not None:
        return latex(whole) if style == "latex" else pretty(whole)
    terms = []
    for li, k in g.through[v]:
        layer = g.graph.layers[li]
        local = layer.locals[k].expression
        if style == "latex":
            from chainrule.render.latex_view import name_tex

            upstream = rf"\frac{{\partial {name_tex(g.output)}}}{{\partial {name_tex(layer.name)}}}"
            terms.append(upstream if local == 1 else rf"{upstream} \cdot {_grouped(latex(local), local)}")
        else:
            upstream = _partial(g.output, layer.name)
            terms.append(upstream if local == 1 else f"{upstream}·{_grouped(pretty(local), local)}")
    return " + ".join(terms)


# --------------------------------------------------------------------------- JSON


def document(g: Gradient) -> dict[str, Any]:
    at = g.point is not None
    nodes = []
    for layer in g.layers:
        entry = layer_entry(g.graph, layer, at)
        if at and g.adjoints is not None:
            entry["adjoint"] = number(g.adjoints.get(layer.name, 0.0))
        nodes.append(entry)
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "input": g.input,
        "point": dict(g.point) if g.point is not None else None,
        "output": g.output,
        "variables": list(g.graph.variables),
        "wrt": list(g.wrt),
    }
    if at:
        doc["value"] = number(g.value)
    doc["nodes"] = nodes
    if at:
        doc["backward"] = [
            {
                "node": _names(g, step.node),
                "input": _names(g, step.input),
                "local": number(step.local),
                "upstream": number(step.upstream),
                "contribution": number(step.contribution),
                "adjoint": number(step.accumulated),
            }
            for step in g.backward
        ]
        gradient = g.gradient or {}
        doc["gradient"] = {v: number(gradient.get(v)) for v in g.wrt}
        if g.missing:  # partials that do not exist at the point (null above), and why
            doc["missing"] = dict(g.missing)
        if g.beyond:  # gradient values beyond the range of doubles (there 0, or null for an overflow)
            doc["beyond_double"] = {name: wide_entry(w) for name, w in g.beyond.items()}
    doc["symbolic"] = {
        v: {
            "nodes": plain(g.symbolic[v]) if g.symbolic[v] is not None else None,
            "variables": plain(g.expanded[v]) if v in g.expanded else None,
            "through": [
                {"node": g.graph.layers[li].name, "local": plain(g.graph.layers[li].locals[k].expression)}
                for li, k in g.through[v]
            ],
        }
        for v in g.wrt
    }
    if at:
        doc["check"] = {v: check_document(c) for v, c in g.checks.items()}
        doc["unchecked"] = g.unchecked
    if g.notes:
        doc["notes"] = list(g.notes)
    return doc


def _verdict(agrees: bool | None, yes: str, no: str, undecided: str) -> str:
    return undecided if agrees is None else yes if agrees else no


def _value(g: Gradient, name: str) -> str:
    """A gradient's value: every digit of the double, or the number beyond their range."""
    if name in g.beyond:
        return wide(g.beyond[name])
    if name in g.missing:
        return "does not exist"
    return exact((g.gradient or {}).get(name))


def render_json(g: Gradient) -> str:
    return dumps(document(g))


# --------------------------------------------------------------------------- text


SUMMARY = 40  # more rows than this in a table, and the text view summarizes it (--full: every row)
ENDS = 8  # rows kept at each end of a long table
HEADER = 200  # characters of the whole formula the first line shows


def _rows(count: int, full: bool) -> tuple[range, range]:
    """The rows of a table to show: all of them, or its first and last ENDS."""
    if full or count <= SUMMARY:
        return range(count), range(0)
    return range(ENDS), range(count - ENDS, count)


def _heading(g: Gradient) -> str:
    """`loss = (out − target)²`: the whole formula while it is short, otherwise the output node's own."""
    nodes = g.graph.subtree(g.graph.output)
    if len(nodes) <= HEADER or not g.layers:  # more nodes than characters: not printed only to be dropped
        whole = _node_text(g, tuple(nodes), "pretty")
        if len(whole) <= HEADER or not g.layers:
            return f"{g.output} = {whole}"
    return f"{g.output} = {_node_text(g, g.layers[-1].ops, 'pretty')}    ({len(g.layers):,} nodes)"


def _abridged(text: str, full: bool, limit: int = 90) -> str:
    """A long formula cut in the middle (w2_96_1·h1_1 + w2_96_2·h1_2 + … + b2_96), unless `full`."""
    if full or len(text) <= limit:
        return text
    head = text[: 2 * limit // 3].rsplit(" ", 1)[0]
    tail = text[-limit // 3 :].split(" ", 1)[-1]
    return f"{head} … {tail}"


def _point_phrase(g: Gradient, full: bool) -> str:
    """'at x = 3, y = 0.5', or for a network's thousands of values 'at the given values (10,282)'."""
    point = g.point or {}
    shown = len(point) <= (SUMMARY if full else ENDS)  # the tables list the rest
    return f"at {where(point)}" if shown else f"at the given values ({len(point):,})"


def _chosen(g: Gradient, full: bool) -> str:
    names = ", ".join(g.wrt) if len(g.wrt) <= SUMMARY else f"{len(g.wrt):,} variables"
    return f"    gradient with respect to {names}" + (f" {_point_phrase(g, full)}" if g.point is not None else "")


def _large(g: Gradient) -> bool:
    """Whether the views summarize the gradient (unless --full): more than SUMMARY variables,
    nodes, backward steps or values at the point."""
    return max(len(g.wrt), len(g.layers), len(g.backward), len(g.point or {})) > SUMMARY


def render_text(g: Gradient, color: bool = False, width: int = 100, full: bool = False) -> str:
    """The forward pass, the backward pass and the gradient as tables.  A table longer than
    SUMMARY rows shows its two ends, and a gradient of more than SUMMARY variables a summary by
    prefix (count, norm, largest entries), unless `full`."""
    con, out = console(color, width)
    at = g.point is not None
    full = full or not _large(g)
    con.print(Text.assemble((_heading(g), "bold"), _chosen(g, full)))
    for note in g.notes:
        con.print(Text(f"note: {note}"))
    con.print(Text("forward pass", style="bold"), "  every node's value, inputs first")
    rows: list[list[str]] = []
    head, tail = _rows(len(g.layers), full)
    for part in (head, tail):
        if part is tail and tail:
            rows.append([f"… {len(g.layers) - 2 * ENDS:,} more nodes", "", "", "", *([""] if at else [])])
        for i in part:
            layer = g.layers[i]
            inputs = ", ".join(layer.inputs) if full or len(layer.inputs) <= ENDS else f"{len(layer.inputs)} inputs"
            row = [layer.name, _abridged(_node_text(g, layer.ops, "pretty"), full), inputs, layer.kind]
            rows.append([*row, *([value_text(layer.value, layer.value_beyond)] if at else [])])
    _table(con, ("node", "operation", "inputs", "rule") + (("value",) if at else ()), {"value"}, rows)
    if at:
        con.print(
            Text("backward pass", style="bold"),
            f"  reverse order: each node passes upstream × local to its inputs (+=); d{g.output}/d{g.output} = 1",
        )
        index = {layer.name: layer for layer in g.layers}
        steps = g.backward
        rows = []
        head, tail = _rows(len(steps), full)
        for part in (head, tail):
            if part is tail and tail:
                rows.append([f"… {len(steps) - 2 * ENDS:,} more steps", "", "", "", "", ""])
            for i in part:
                step = steps[i]
                node, inp = _names(g, step.node), _names(g, step.input)
                local = index[node].locals[step.slot]
                rows.append(
                    [
                        node,
                        inp,
                        _local_text(node, inp, local.expression, step.local),
                        num(step.upstream, 6),
                        num(step.contribution, 6),
                        num(step.accumulated, 6),
                    ]
                )
        titles = ("node", "input", "local gradient", "upstream", "contribution", "adjoint")
        _table(con, titles, {"upstream", "contribution", "adjoint"}, rows)
    if full or len(g.wrt) <= SUMMARY:
        _gradient_table(g, con)
    else:
        _gradient_summary(g, con)
    for v, why in g.missing.items():
        con.print(f"∂{g.output}/∂{v} does not exist here: {why}")
    if g.unchecked:
        con.print(
            f"({g.unchecked:,} of {len(g.wrt):,} variables were left out of the numerical check;"
            " an even sample was checked)"
        )
    if not full:
        con.print(Text("(--full shows every node, step and partial derivative; --json gives them all)", style="dim"))
    return out.getvalue()


def _whole(title: str) -> bool:
    """Columns of names and numbers, which are never cut."""
    return title in (
        *("node", "input", "variable", "value", "upstream", "contribution", "adjoint", "to", "shape"),
        *("group", "count", "norm"),
    )


LONG = 400  # rows: a longer table (--full on a network) is laid out in plain columns, without Rich


def _table(con: Any, titles: tuple[str, ...], right: set[str], rows: list[list[str]], bold: str = "") -> None:
    """A table: names and numbers whole at any width (text_view.table), or for more than LONG rows
    plain columns (Rich takes about a second per thousand rows; a network's backward pass has twenty
    thousand)."""
    if len(rows) <= LONG:
        columns = [
            Column(title, right=title in right, style="bold green" if title == bold else None, whole=_whole(title))
            for title in titles
        ]
        table(con, columns, rows, con.width)
        return
    widths = [max(len(title), *(len(row[k]) for row in rows)) for k, title in enumerate(titles)]

    def line(cells: list[str] | tuple[str, ...]) -> str:
        return "   ".join(
            cell.rjust(w) if title in right else cell.ljust(w)
            for cell, w, title in zip(cells, widths, titles, strict=True)
        ).rstrip()

    if len(line(titles)) <= con.width:
        text = [line(titles), "─" * len(line(["─" * w for w in widths]))] + [line(row) for row in rows]
    else:  # stacked, as text_view.table does on a narrow terminal
        pad = max(map(len, titles)) + 2
        text = [
            f"{title.ljust(pad)}{cell}".rstrip()
            for row in rows
            for title, cell in [*zip(titles, row, strict=True), ("", "")]
        ]
    con.file.write("\n".join(text) + "\n")


def _gradient_table(g: Gradient, con: Any) -> None:
    at = g.point is not None
    con.print(Text("gradient", style="bold"))
    rows = []
    for v in g.wrt:
        symbolic = _symbolic(g, v)
        if v in g.expanded and (expanded := pretty(g.expanded[v])) != symbolic and len(expanded) <= EXPANDED_WIDTH:
            symbolic += f" = {expanded}"
        row = [v, symbolic]
        if at:
            c = g.checks.get(v)
            verdict = "—" if c is None else _verdict(c.agrees, "agrees ✓", "DISAGREES ✗", "no reference")
            if c is not None and c.abs_error is not None:
                verdict += f" (error {num(c.abs_error, 2)})"
            row += [_value(g, v), verdict]
        rows.append(row)
    titles = ("variable", f"∂{g.output}/∂v") + (("value", "check") if at else ())
    _table(con, titles, {"value"}, rows, bold="value")


def _gradient_summary(g: Gradient, con: Any) -> None:
    """A gradient too long to list: per group of variables (w1 for w1_3_5), the count, the norm of
    the partials and the largest ones; then the numerical check in one line."""
    at = g.point is not None and g.gradient is not None
    con.print(Text("gradient", style="bold"), f"  {len(g.wrt):,} partial derivatives ∂{g.output}/∂v, by name")
    titles = ("group", "count") + (("norm", f"largest |∂{g.output}/∂v|") if at else (f"∂{g.output}/∂v, for example",))
    rows = []
    for group in groups(g):
        if at:
            largest = ", ".join(f"{v} = {_short(g, v)}" for v in group.largest)
            rows.append(
                [group.name, f"{len(group.variables):,}", value_text(group.norm, group.norm_beyond, 4), largest]
            )
        else:
            v = group.variables[0]
            rows.append([group.name, f"{len(group.variables):,}", f"∂{g.output}/∂{v} = {_symbolic(g, v)}"])
    if at:
        total, total_beyond = norm(g, g.wrt)
        rows.append(["all", f"{len(g.wrt):,}", value_text(total, total_beyond, 4), ""])
    _table(con, titles, {"count", "norm"}, rows)
    if g.checks:
        agreed = sum(c.agrees is True for c in g.checks.values())
        wrong = [v for v, c in g.checks.items() if c.agrees is False]
        errors = [c.abs_error for c in g.checks.values() if c.abs_error is not None]
        line = f"check: {len(g.checks):,} partials compared with mpmath.diff, {agreed:,} agree"
        if undecided := sum(c.agrees is None for c in g.checks.values()):
            line += f", {undecided:,} cannot be decided (--json says why)"
        if wrong:
            line += f"; DISAGREES ✗ for {', '.join(wrong[:ENDS])}"
        if errors:
            line += f" (largest error {num(max(errors), 2)})"
        con.print(line)


def _short(g: Gradient, v: str) -> str:
    """A partial's value in 6 digits, or beyond the range of doubles, or missing."""
    if v in g.beyond:
        return wide(g.beyond[v], 6)
    if v in g.missing:
        return "does not exist"
    return num((g.gradient or {}).get(v), 6)


# --------------------------------------------------------------------------- explain


def _listed(lines: list[str], items: list[Any], line: Callable[[Any], str], full: bool, what: str) -> None:
    """Append a line per item, or for more than SUMMARY items the first and last ENDS with the
    count left out between them."""
    head, tail = _rows(len(items), full)
    lines.extend(line(items[i]) for i in head)
    if tail:
        lines.append(f"     … {len(items) - 2 * ENDS:,} more {what} …")
        lines.extend(line(items[i]) for i in tail)


def render_explain(g: Gradient, full: bool = False) -> str:
    """The lesson: the graph, the forward pass, the backward pass step by step, the gradient.
    A list longer than SUMMARY shows its two ends, unless `full`."""
    at = g.point is not None
    full = full or not _large(g)
    lines = [f"Backpropagation, step by step: {g.output}" + (f", {_point_phrase(g, full)}" if at else "")]
    lines += [f"note: {note}" for note in g.notes]
    lines.append("")
    lines.append("1. The computational graph")
    nodes = f"{len(g.layers):,} node{'' if len(g.layers) == 1 else 's'}"
    lines.append(f"   {g.output} is computed by {nodes}; each knows only its own local gradients:")

    def node_line(layer: Any) -> str:
        shown = layer.locals if full or len(layer.locals) <= ENDS else layer.locals[:ENDS]
        locals_ = ", ".join(f"{_partial(layer.name, lo.wrt)} = {pretty(lo.expression)}" for lo in shown)
        if len(shown) < len(layer.locals):
            locals_ += f", … ({len(layer.locals)} in all)"
        return f"     {layer.name} = {_abridged(_node_text(g, layer.ops, 'pretty'), full)}    ({locals_})"

    _listed(lines, list(g.layers), node_line, full, "nodes")
    lines.append("")
    if not at:
        lines.append("2. The gradient, symbolically: the backward pass on the local gradients")
        _listed(
            lines,
            list(g.wrt),
            lambda v: f"     ∂{g.output}/∂{v} = {_abridged(_symbolic(g, v), full, 120)}",
            full,
            "variables",
        )
        return _explained(lines, full)
    lines.append("2. Forward pass: compute and store every node's value, inputs first")
    _listed(
        lines,
        list(g.layers),
        lambda layer: f"     {layer.name} = {_abridged(_node_text(g, layer.ops, 'pretty'), full)} = {num(layer.value)}",
        full,
        "nodes",
    )
    lines.append("")
    lines.append("3. Backward pass: start from the output and go in reverse")
    lines.append(f"   d{g.output}/d{g.output} = 1. Each node multiplies its own adjoint (the upstream gradient)")
    lines.append("   by each local gradient and adds the product into that input's adjoint (+=):")
    index = {layer.name: layer for layer in g.layers}

    def step_line(step: engine.Contribution) -> str:
        node, inp = _names(g, step.node), _names(g, step.input)
        local = index[node].locals[step.slot]
        return (
            f"     {node} → {inp}: {num(step.upstream)} × {_local_text(node, inp, local.expression, step.local)}"
            f" = {num(step.contribution)};  adjoint of {inp} = {num(step.accumulated)}"
        )

    _listed(lines, list(g.backward), step_line, full, "steps")
    received = Counter(step.input for step in g.backward)
    shared = sorted(_names(g, i) for i, count in received.items() if count > 1)
    if shared:
        named = ", ".join(shared) if full or len(shared) <= ENDS else f"{len(shared):,} nodes and variables"
        lines.append(f"   {named} feed{'s' if len(shared) == 1 else ''} more than one node, so")
        lines.append("   their adjoints accumulate one contribution per path.")
    lines.append("")
    lines.append("4. The gradient: one backward pass gives every partial derivative at once")

    def partial_line(v: str) -> str:
        c = g.checks.get(v)
        verdict = ""
        if c is not None and c.nudge.value is not None:
            verdict = f"   nudge {v} by {c.nudge.h:g}: {num(c.nudge.value, 6)}"
            if c.nudge.close is False:
                verdict += " (far from it: see the check)"
            verdict += f", and the accurate check {_verdict(c.agrees, 'agrees', 'DISAGREES', 'cannot decide')}"
        return f"     ∂{g.output}/∂{v} = {_abridged(_symbolic(g, v), full, 120)} = {_value(g, v)}{verdict}"

    _listed(lines, list(g.wrt), partial_line, full, "partial derivatives")
    return _explained(lines, full)


def _explained(lines: list[str], full: bool) -> str:
    if not full:
        lines += ["", "(--full shows every line; --json gives every number)"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- LaTeX, Markdown


def render_latex(g: Gradient) -> str:

    from chainrule.render.latex_view import display, name_tex, number_tex, paragraphs, tex_text

    rows = []
    for layer, built in zip(g.layers, g.graph.layers, strict=True):
        locals_ = ", ".join(
            rf"\frac{{\partial {name_tex(layer.name)}}}{{\partial {name_tex(lo.wrt)}}} = {latex(lo.expression)}"
            for lo in layer.locals
        )
        value = rf" = {num(layer.value)}" if layer.value is not None else ""
        rows.append(rf"{name_tex(layer.name)} &= {latex(built.expression)}{value} && {locals_}")
    gradient = g.gradient or {}
    for v in g.wrt:
        value = rf" = {number_tex(_value(g, v))}" if v in gradient else ""
        frac = rf"\frac{{\partial {name_tex(g.output)}}}{{\partial {name_tex(v)}}}"
        rows.append(rf"{frac} &= {_symbolic(g, v, 'latex')}{value}")
    checks = [
        tex_text(f"Check of ∂{g.output}/∂{v}: {c.method}, {_verdict(c.agrees, 'agrees', 'disagrees', 'undecided')}.")
        for v, c in g.checks.items()
    ]
    return display("\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}\n") + paragraphs(g.notes, checks)


def render_markdown(g: Gradient) -> str:
    from chainrule.render.graph_view import mermaid

    at = g.point is not None
    out = [f"### Gradient of {md.code(g.output)}" + (f" at {md.text(where(g.point))}" if at else ""), ""]
    out += [f"*Note: {md.text(note)}*\n" for note in g.notes]
    rows = []
    for layer in g.layers:
        locals_ = ", ".join(md.code(f"{_partial(layer.name, lo.wrt)} = {pretty(lo.expression)}") for lo in layer.locals)
        cells = [
            md.text(layer.name),
            md.code(_node_text(g, layer.ops, "pretty")),
            md.text(", ".join(layer.inputs)),
            locals_,
        ]
        if at:
            adjoint = (g.adjoints or {}).get(layer.name)
            cells += [num(layer.value, 6), num(adjoint, 6)]
        rows.append(cells)
    out += md.table(["node", "operation", "inputs", "local gradients"] + (["value", "adjoint"] if at else []), rows)
    rows = []
    for v in g.wrt:
        cells = [md.text(v), md.code(_symbolic(g, v))]
        if at:
            c = g.checks.get(v)
            cells += [
                _value(g, v),
                "—" if c is None else _verdict(c.agrees, "agrees", "disagrees", "undecided"),
            ]
        rows.append(cells)
    out += ["", *md.table(["variable", "gradient"] + (["value", "check"] if at else []), rows)]
    out += ["", "```mermaid", mermaid(g).rstrip(), "```", ""]
    return "\n".join(out)


def render_latex_document(g: Gradient) -> str:
    from chainrule.render.latex_view import document

    return document(render_latex(g), f"Backpropagation for {g.output}")
