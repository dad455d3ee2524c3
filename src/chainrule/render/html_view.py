"""The lesson page: one self-contained HTML file that works offline (``--format html``).

It holds the layers table with the mathematics as MathML (SymPy's presentation printer;
browsers render it natively), the computational graph as an inline SVG laid out by
grandalf's Sugiyama layout, and a stepper: buttons (and the arrow keys) go through the
forward pass, node by node, then the backward pass, edge by edge, each step showing
upstream × local = contribution and the adjoint it updates.  The numbers the page shows
are the result's, carried in the page as JSON: the page computes nothing.

One page for both engines: a scalar graph and a tensor program are two inputs of the same
builder, through their :class:`~chainrule.render.lesson.Lesson`.  On tensors a node shows its
shape and a backward step its vector–Jacobian product (∂L/∂W += ∂L/∂z·xᵀ), and the values are
the text view's (a small tensor in full, a larger one by its range, mean and norm).

For print, the controls are hidden and the tables of every step are shown.
"""

from __future__ import annotations

import json
from typing import Any

from chainrule import printing
from chainrule.backprop import Gradient
from chainrule.derive import Derivation
from chainrule.grade import Grade
from chainrule.render import lesson as lessons
from chainrule.render.common import exact, function_text, num, where
from chainrule.render.lesson import Lesson, cell, escape_lines
from chainrule.render.lesson import escape as _esc
from chainrule.tensor import TensorGradient

GRAPH_NODES = 60  # beyond this many nodes the page leaves out the drawing (the tables stay)
NODE_WIDTH, NODE_HEIGHT, GAP_X, GAP_Y = 150, 64, 40, 22


def mathml(expr: Any) -> str:
    """An expression as presentation MathML, inline."""
    return f'<math display="inline">{printing.mathml(expr)}</math>'


def lesson(e: Gradient | Derivation | TensorGradient) -> dict[str, Any]:
    """Nodes, edges, and the steps of the forward and the backward pass, as the page shows them."""
    return lessons.of(e).data


# --------------------------------------------------------------------------- the drawing


def svg(data: dict[str, Any]) -> str:
    """The computational graph, laid out left to right by grandalf's Sugiyama layout."""
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    class Box:
        w, h = NODE_HEIGHT, NODE_WIDTH  # laid out top to bottom, then turned: x is the rank

    names = [n["name"] for n in data["nodes"]]
    if not names or len(names) > GRAPH_NODES:
        return ""
    vertices = {name: Vertex(name) for name in names}
    for v in vertices.values():
        v.view = Box()
    links = [(e["from"], e["to"]) for e in data["edges"] if e["from"] in vertices and e["to"] in vertices]
    layout = Graph(list(vertices.values()), [Edge(vertices[a], vertices[b]) for a, b in dict.fromkeys(links)])
    places: dict[str, tuple[float, float]] = {}
    offset = 0.0
    for component in layout.C:
        sugiyama = SugiyamaLayout(component)
        sugiyama.yspace, sugiyama.xspace = NODE_WIDTH + GAP_X, NODE_HEIGHT + GAP_Y
        sugiyama.init_all()
        sugiyama.draw()
        ys = [v.view.xy[0] for v in component.sV]
        low = min(ys)
        for v in component.sV:
            across, along = v.view.xy
            places[v.data] = (along, across - low + offset)
        offset += max(ys) - low + NODE_HEIGHT + GAP_Y
    xs = [p[0] for p in places.values()]
    ys = [p[1] for p in places.values()]
    left, top = min(xs) - NODE_WIDTH / 2 - 10, min(ys) - NODE_HEIGHT / 2 - 10
    width = max(xs) - min(xs) + NODE_WIDTH + 20
    height = max(ys) - min(ys) + NODE_HEIGHT + 20
    parts = [
        f'<svg id="graph" role="img" aria-labelledby="graph-title" viewBox="{left:.0f} {top:.0f} {width:.0f} '
        f'{height:.0f}" width="{width:.0f}" height="{height:.0f}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="graph-title">The computational graph of {_esc(data["output"])}: inputs on the left, '
        "the output on the right</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="10" markerHeight="10" '
        'markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#444"/></marker></defs>',
    ]
    for e in data["edges"]:
        if e["from"] not in places or e["to"] not in places:
            continue
        (x1, y1), (x2, y2) = places[e["from"]], places[e["to"]]
        parts.append(
            f'<line class="edge" data-from="{_esc(e["from"])}" data-to="{_esc(e["to"])}" '
            f'x1="{x1 + NODE_WIDTH / 2:.1f}" y1="{y1:.1f}" x2="{x2 - NODE_WIDTH / 2:.1f}" y2="{y2:.1f}" '
            'marker-end="url(#arrow)"><title>' + _esc(e["local"]) + "</title></line>"
        )
    for n in data["nodes"]:
        x, y = places[n["name"]]
        shape = "rx" if n["kind"] == "variable" else "rx-small"
        radius = NODE_HEIGHT / 2 if shape == "rx" else 6
        parts.append(
            f'<g class="node {n["kind"]}" data-node="{_esc(n["name"])}">'
            f'<rect x="{x - NODE_WIDTH / 2:.1f}" y="{y - NODE_HEIGHT / 2:.1f}" width="{NODE_WIDTH}" '
            f'height="{NODE_HEIGHT}" rx="{radius:.0f}"/>'
            f'<text x="{x:.1f}" y="{y - 12:.1f}" class="formula">{_esc(_short(n["formula"], n["name"]))}</text>'
            f'<text x="{x:.1f}" y="{y + 6:.1f}" class="value">value ?</text>'
            f'<text x="{x:.1f}" y="{y + 22:.1f}" class="adjoint">∂{_esc(data["output"])}/∂{_esc(n["name"])} ?</text>'
            "</g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _short(formula: str, name: str) -> str:
    text = formula if formula == name else f"{name} = {formula}"
    return text if len(text) <= 22 else text[:20] + "…"


# --------------------------------------------------------------------------- the page


_STYLE = """
:root { color-scheme: light; }
body { font: 16px/1.5 system-ui, sans-serif; color: #1a1a1a; background: #ffffff; margin: 2rem auto;
       max-width: 72rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { border-bottom: 1px solid #8c8c8c; padding: 0.25rem 0.75rem; text-align: left; vertical-align: top; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
td.array, span.array { white-space: pre; font-variant-numeric: tabular-nums; }
span.array { display: inline-block; vertical-align: top; }
.controls { display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; margin: 1rem 0; }
button { font: inherit; padding: 0.4rem 0.9rem; border: 2px solid #1f4e99; border-radius: 6px;
         background: #1f4e99; color: #ffffff; cursor: pointer; }
button:disabled { background: #e8e8e8; color: #444444; border-color: #8c8c8c; cursor: default; }
button:focus-visible { outline: 3px solid #8a3b00; outline-offset: 2px; }
#step-text { font-size: 1.1rem; padding: 0.5rem 0.75rem; background: #f3f6fb; border-left: 4px solid #1f4e99;
             min-height: 1.6rem; }
.graph-box { overflow-x: auto; margin: 1rem 0; }
#graph { display: block; }
#graph rect { fill: #ffffff; stroke: #444444; stroke-width: 1.5; }
#graph .variable rect { fill: #f3f6fb; }
#graph text { text-anchor: middle; font-size: 13px; fill: #1a1a1a; }
#graph .edge { stroke: #444444; stroke-width: 1.5; }
#graph .current rect { stroke: #8a3b00; stroke-width: 4; }
#graph .edge.current { stroke: #8a3b00; stroke-width: 4; }
#graph .done rect { fill: #fff4e0; }
.verdict-correct { color: #1b5e20; } .verdict-wrong { color: #8b0000; }
@media print {
  .controls, #step-text { display: none; }
  body { margin: 0; max-width: none; }
  .graph-box { overflow: visible; }
  #graph { page-break-inside: avoid; max-width: 100%; height: auto; }
}
"""

_SCRIPT = """
(function () {
  const data = JSON.parse(document.getElementById('lesson-data').textContent);
  const steps = [];
  data.forward.forEach((s) => steps.push({kind: 'forward', step: s}));
  data.backward.forEach((s) => steps.push({kind: 'backward', step: s}));
  let index = 0;  // steps taken
  const text = document.getElementById('step-text');
  const counter = document.getElementById('step-counter');
  const prev = document.getElementById('previous');
  const next = document.getElementById('next');
  const reset = document.getElementById('reset');
  const fmt = (v) => (v === null || v === undefined) ? '?' : typeof v === 'string' ? v  // beyond doubles
    : Number(v).toPrecision(6).replace(/\\.?0+$/, '').replace(/\\.?0+e/, 'e');
  const brief = (v) => {  // a node of the drawing: a tensor's first entries; a number whole
    const s = fmt(v).replace(/\\s+/g, ' ');
    return /^\\[|: /.test(s) && s.length > 15 ? s.slice(0, 14) + '\\u2026' : s; };
  function nodeOf(name) { return document.querySelector('#graph [data-node="' + CSS.escape(name) + '"]'); }
  function setCell(kind, name, value) {
    document.querySelectorAll('[data-cell-' + kind + '="' + CSS.escape(name) + '"]').forEach((el) => {
      if (value === null) { el.textContent = '?'; el.removeAttribute('data-number'); }
      else { el.textContent = fmt(value); el.setAttribute('data-number', String(value)); }
    });
    const g = nodeOf(name);
    if (g) {
      const t = g.querySelector('.' + kind);
      if (kind === 'value') t.textContent = 'value ' + (value === null ? '?' : brief(value));
      else t.textContent = '\\u2202' + data.output + '/\\u2202' + name + ' ' + (value === null ? '?' : brief(value));
    }
  }
  function render() {
    document.querySelectorAll('#graph .current').forEach((el) => el.classList.remove('current'));
    document.querySelectorAll('#graph .done').forEach((el) => el.classList.remove('done'));
    data.nodes.forEach((n) => {
      setCell('value', n.name, n.kind === 'variable' ? n.value : null);
      setCell('adjoint', n.name, null);
    });
    const forwardDone = Math.min(index, data.forward.length);
    for (let k = 0; k < forwardDone; k++) {
      setCell('value', data.forward[k].node, data.forward[k].value);
      const g = nodeOf(data.forward[k].node); if (g) g.classList.add('done');
    }
    if (index > data.forward.length) setCell('adjoint', data.output, 1);
    for (let k = 0; k < index - data.forward.length; k++) {
      const s = data.backward[k];
      setCell('adjoint', s.input, s.adjoint);
    }
    let say = 'Press Next (or the right arrow key) to start the forward pass.';
    if (index > 0) {
      const current = steps[index - 1];
      const s = current.step;
      if (current.kind === 'forward') {
        say = 'Forward step ' + index + ' of ' + data.forward.length + ': ' + s.node + ' = ' + s.formula +
          ' = ' + fmt(s.value) + (s.shape ? ' (' + s.shape + ')' : '');
        const g = nodeOf(s.node); if (g) g.classList.add('current');
      } else {
        const k = index - data.forward.length;
        const head = 'Backward step ' + k + ' of ' + data.backward.length + ': ';
        say = s.rule !== undefined  // a vector-Jacobian product, on tensors
          ? head + s.rule + ' = ' + fmt(s.contribution) + ' (' + s.shape + '); the adjoint of ' + s.input +
            ' is now ' + fmt(s.adjoint)
          : head + '\\u2202' + data.output + '/\\u2202' + s.input + ' += upstream \\u00d7 local = ' + fmt(s.upstream) +
            ' \\u00d7 ' + fmt(s.local) + ' = ' + fmt(s.contribution) + '; the adjoint of ' + s.input + ' is now ' +
            fmt(s.adjoint);
        document.querySelectorAll('#graph .edge').forEach((el) => {
          if (el.dataset.from === s.input && el.dataset.to === s.node) el.classList.add('current');
        });
      }
    } else if (steps.length === 0) {
      say = 'There are no steps to show: give a point with --at.';
    }
    if (index === steps.length && steps.length > 0) say += ' (the last step)';
    text.textContent = say;
    text.dataset.step = String(index);
    counter.textContent = 'step ' + index + ' of ' + steps.length;
    prev.disabled = index === 0;
    next.disabled = index === steps.length;
  }
  prev.addEventListener('click', () => { if (index > 0) { index--; render(); } });
  next.addEventListener('click', () => { if (index < steps.length) { index++; render(); } });
  reset.addEventListener('click', () => { index = 0; render(); });
  document.addEventListener('keydown', (event) => {
    if (event.target && event.target.tagName === 'INPUT') return;
    if (event.key === 'ArrowRight') { next.click(); event.preventDefault(); }
    if (event.key === 'ArrowLeft') { prev.click(); event.preventDefault(); }
    if (event.key === 'Home') { reset.click(); event.preventDefault(); }
  });
  render();
})();
"""


def _document(title: str, body: str, data: dict[str, Any] | None) -> str:
    payload = ""
    if data is not None:
        text = json.dumps(data, ensure_ascii=True, allow_nan=False).replace("</", "<\\/")
        payload = f'<script type="application/json" id="lesson-data">{text}</script><script>{_SCRIPT}</script>'
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
        f"{body}\n</main>\n{payload}\n</body>\n</html>\n"
    )
    # ASCII throughout, whatever the terminal: characters as references (the script and its data
    # spell theirs as \\u escapes), so the page is the same file on every machine.
    return page.encode("ascii", "xmlcharrefreplace").decode("ascii")


def _stepper(data: dict[str, Any]) -> str:
    total = len(data["forward"]) + len(data["backward"])
    return (
        '<section aria-labelledby="steps-heading"><h2 id="steps-heading">Step through the passes</h2>'
        '<div class="controls" role="group" aria-label="Step through the forward and backward passes">'
        '<button id="previous" type="button" aria-label="Previous step">◀ Previous</button>'
        '<button id="next" type="button" aria-label="Next step">Next ▶</button>'
        '<button id="reset" type="button" aria-label="Back to the start">Reset</button>'
        f'<span id="step-counter" aria-hidden="true">step 0 of {total}</span></div>'
        '<p id="step-text" role="status" aria-live="polite"></p>'
        f'<div class="graph-box">{svg(data)}</div></section>'
    )


def _nodes_table(lesson: Lesson) -> str:
    data = lesson.data
    kind = "array" if lesson.shaped else "number"
    rows = []
    for n in data["nodes"]:
        shown = lesson.operations.get(n["name"], _esc(n["formula"]))
        shape = f"<td>{_esc(n['shape'])}</td>" if lesson.shaped else ""
        rows.append(
            f'<tr><th scope="row">{_esc(n["name"])}</th><td>{shown}</td>{shape}'
            f'<td class="{kind}" data-cell-value="{_esc(n["name"])}">?</td>'
            f'<td class="{kind}" data-cell-adjoint="{_esc(n["name"])}">?</td></tr>'
        )
    shape_head = '<th scope="col">shape</th>' if lesson.shaped else ""
    return (
        '<table id="nodes"><caption>Every node: its value (forward pass) and its adjoint '
        f"∂{_esc(data['output'])}/∂node (backward pass)</caption>"
        f'<thead><tr><th scope="col">node</th><th scope="col">operation</th>{shape_head}<th scope="col">value</th>'
        f'<th scope="col">adjoint</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _layers_table(lesson: Lesson) -> str:
    valued = any(row.value is not None for row in lesson.rules)
    rows = "".join(
        "<tr>"
        + (f'<th scope="row">{_esc(row.layer)}</th>' if row.layer else "<td></td>")
        + f"<td>{row.derivative}</td><td>{_esc(row.rule)}</td>"
        + (f'<td class="number">{_esc(row.value or "")}</td>' if valued else "")
        + "</tr>"
        for row in lesson.rules
    )
    what = "vector–Jacobian product" if lesson.shaped else "local derivative"
    head = f'<th scope="col">{what}</th><th scope="col">rule</th>' + (
        '<th scope="col">local value</th>' if valued else ""
    )
    return (
        f'<table id="layers"><caption>Each layer\'s {what} and its rule</caption>'
        f'<thead><tr><th scope="col">layer</th>{head}</tr></thead><tbody>{rows}</tbody></table>'
    )


def _backward_table(lesson: Lesson) -> str:
    steps = lesson.data["backward"]
    if not steps:
        return ""
    kind = "array" if lesson.shaped else "number"
    rows = "".join(
        f"<tr><td>{_esc(s['node'])} → {_esc(s['input'])}</td>"
        + (f"<td>{_esc(s['rule'])}</td>" if lesson.shaped else "")
        + "".join(f'<td class="{kind}">{escape_lines(cell(s[key]))}</td>' for _, key in lesson.backward_columns)
        + "</tr>"
        for s in steps
    )
    rule = '<th scope="col">vector–Jacobian product</th>' if lesson.shaped else ""
    titles = "".join(f'<th scope="col">{_esc(title)}</th>' for title, _ in lesson.backward_columns)
    what = "its adjoint through the local rule" if lesson.shaped else "upstream × local"
    return (
        f'<table id="backward"><caption>The backward pass: each node passes {what} to an input</caption>'
        f'<thead><tr><th scope="col">step</th>{rule}{titles}</tr></thead><tbody>{rows}</tbody></table>'
    )


def _notes(notes: tuple[str, ...]) -> str:
    return "".join(f'<p class="note">Note: {_esc(n)}</p>' for n in notes)


def _page(title: str, head: str, lesson: Lesson) -> str:
    """The one lesson page: a heading, what the result says (`head`, HTML), the stepper through the
    passes and the tables, for a scalar graph and a tensor program alike."""
    body = (
        f"<h1>{_esc(title)}</h1>{head}{_stepper(lesson.data)}<h2>Layers</h2>"
        f"{_layers_table(lesson)}{_nodes_table(lesson)}{_backward_table(lesson)}"
    )
    return _document(title, body, lesson.data)


def diff_page(d: Derivation) -> str:
    """The lesson page of a derivative."""
    point = f" at {where(d.point)}" if d.point else ""
    title = f"The chain rule for {function_text(d, 'pretty')}{point}"
    summary = f"d{d.output}/d{d.variable} = {mathml(d.derivative)}" if d.derivative is not None else ""
    value = (
        f' = <span id="derivative" data-value="{d.derivative_value!r}">{_esc(exact(d.derivative_value))}</span>'
        if d.derivative_value is not None
        else ""
    )
    check = ""
    if d.check is not None and d.check.value is not None:
        verdict = "agrees" if d.check.agrees else "disagrees"
        check = (
            f"<p>Check: the nudge h = {d.check.nudge.h:g} gives {_esc(num(d.check.nudge.value))}"
            + (f" ({_esc(d.check.nudge.gap)})" if d.check.nudge.close is False and d.check.nudge.gap else "")
            + "; "
            + f"{_esc(d.check.method)} gives {_esc(num(d.check.value))} ({verdict}).</p>"
        )
    return _page(title, f"{_notes(d.notes)}<p>{summary}{value}</p>{check}", lessons.scalar(d))


def grad_page(g: Gradient | TensorGradient) -> str:
    """The lesson page of a gradient (backpropagation), on numbers or on vectors and matrices."""
    if isinstance(g, TensorGradient):
        return _tensor_page(g)
    point = f" at {where(g.point)}" if g.point else ""
    title = f"Backpropagation for {g.output}{point}"
    gradient = g.gradient or {}
    items = "".join(
        f'<li>∂{_esc(g.output)}/∂{_esc(v)} = <span data-gradient="{_esc(v)}" data-value="{gradient[v]!r}">'
        f"{_esc(exact(gradient[v]))}</span></li>"
        for v in g.wrt
        if gradient.get(v) is not None
    )
    return _page(title, f"{_notes(g.notes)}<ul id='gradient'>{items}</ul>", lessons.scalar(g))


def _tensor_page(g: TensorGradient) -> str:
    from chainrule.render.tensor_views import (
        GRADIENT_IN_FULL,
        _check_text,
        _point_line,
        array_text,
        form_text,
        shape_text,
    )

    out = g.tensors.output
    title = f"Backpropagation for {g.tensors.statement}"
    items = []
    for v in g.wrt:
        value = g.gradient[v]
        form = form_text(g, v)
        items.append(
            f"<li>∂{_esc(out)}/∂{_esc(v)} ({_esc(shape_text(value.shape))})"
            + (f" = {_esc(form)}" if form else "")
            + f' = <span class="array" data-gradient="{_esc(v)}" data-value="{_esc(lessons.nested(value))}">'
            f"{escape_lines(array_text(value, limit=GRADIENT_IN_FULL))}</span>"
            f'<br><span class="check">{_esc(_check_text(g, v))}</span></li>'
        )
    head = (
        f"{_notes(g.notes)}<p>{_esc(_point_line(g))}</p><ul id='gradient'>{''.join(items)}</ul>"
        f'<p>{_esc(out)} = <span id="loss" data-value="{g.loss!r}">{_esc(exact(g.loss))}</span></p>'
    )
    return _page(title, head, lessons.tensor(g))


def check_page(g: Grade) -> str:
    """The page of a graded answer: the answer, the chain rule's derivative, the verdict and why."""
    title = f"Checking d/d{g.variable} of {g.expression}"
    answer = mathml(g.answer_expression) if g.answer_expression is not None else _esc(g.answer)
    expected = mathml(g.expected) if g.expected is not None else "(too large to show)"
    findings = "".join(
        f'<li data-kind="{_esc(f.kind)}"><strong>{_esc(f.title)}:</strong> {_esc(f.message)}</li>' for f in g.diagnosis
    )
    body = (
        f"<h1>{_esc(title)}</h1>{_notes(g.notes)}"
        f"<p>Your answer: {answer}</p><p>The chain rule gives: {expected}</p>"
        f'<p id="verdict" class="verdict-{_esc(g.verdict)}">Verdict: {_esc(g.verdict)} (compared {_esc(g.method)})</p>'
        + (f"<ul id='diagnosis'>{findings}</ul>" if findings else "")
    )
    return _document(title, body, None)
