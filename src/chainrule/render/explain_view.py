"""--explain: the lesson for this expression, in the seeds' words, with the user's numbers.

The composition, each local derivative with its rule, the sensitivity
pipeline, the product, the verification by nudging, and the pitfall.
"""

from __future__ import annotations

from chainrule.derive import Derivation
from chainrule.printing import pretty
from chainrule.render.common import (
    beyond_note,
    derivative_number,
    derivative_text,
    error_text,
    factor_values,
    function_text,
    layer_text,
    limit_sentence,
    nudge_gap,
    nudge_relation,
    num,
    point_text,
    product,
    ratio,
    ratios,
    reference_text,
)
from chainrule.render.higher_view import lines as higher_lines
from chainrule.render.sensitivity_view import lines as sensitivity_lines
from chainrule.steps import LayerStep

PIPELINE_WIDTH = 6  # arrows per line


def render(d: Derivation, width: int = 100) -> str:
    lines: list[str] = []
    at = f", at {point_text(d)}" if d.point is not None else ""
    lines.append(f"The chain rule, step by step: {d.output} = {function_text(d, 'pretty')}{at}")
    lines += [f"note: {note}" for note in d.notes]
    lines.append("")
    if not d.layers:
        lines.append(f"{d.output} is a single variable or a constant: there is no chain to differentiate.")
        lines.append(f"d{d.output}/d{d.variable} = {derivative_text(d, 'pretty')}")
        return "\n".join(lines) + "\n"
    chain = d.path_count == 1 and all(len(layer.inputs) == 1 for layer in d.layers)
    lines += _composition(d, chain)
    lines += _locals(d)
    if d.point is not None and d.paths is not None and d.limit is None:
        lines += _pipeline(d)
    lines += _product(d, chain)
    if d.check is not None:
        lines += _verification(d)
    view = d.sensitivity
    if view is not None and len(view.steps) > 1:
        chart = [" " + line if line else line for line in sensitivity_lines(d, view, width - 1)]
        lines += ["6. Sensitivity: how each layer scales a wiggle", *chart, ""]
    lines += _pitfall(d)
    if d.orders:
        lines += ["7. Higher orders", *("   " + line for line in higher_lines(d, d.orders)), ""]
    return "\n".join(lines).rstrip() + "\n"


def _composition(d: Derivation, chain: bool) -> list[str]:
    n = len(d.layers)
    out = ["1. The composition"]
    if n == 1:
        out.append(
            f"   {d.output} is one layer: a single operation on its input{'s' if len(d.layers[0].inputs) > 1 else ''}."
        )
    else:
        out.append(f"   {d.output} is built in {n} layers, inner first; each feeds the next:")
    width = max(len(layer.name) for layer in d.layers)
    texts = [layer_text(d, layer, "pretty") for layer in d.layers]
    text_width = min(max(len(t) for t in texts), 40)
    for layer, text in zip(d.layers, texts, strict=True):
        value = f"   = {num(layer.value)}" if layer.value is not None else ""
        out.append(f"     {layer.name.ljust(width)} = {text.ljust(text_width)}{value}".rstrip())
    if chain and n > 1 and n <= 8:
        route = " → ".join([d.variable] + [layer.name for layer in d.layers])
        out.append(f"   so {route}: a composition of functions.")
    elif not chain:
        multi = [layer for layer in d.layers if len(layer.inputs) > 1]
        if multi:
            names = ", ".join(f"{layer.name} takes {' and '.join(layer.inputs)}" for layer in multi[:3])
            out.append(f"   This is not one chain but a graph: {names}.")
        out.append(f"   {d.variable} reaches {d.output} along {d.path_count} path{'s' if d.path_count != 1 else ''}.")
    return out + [""]


def _locals(d: Derivation) -> list[str]:
    out = [
        "2. Local derivatives",
        "   Each layer needs only its own local derivative: the derivative with respect to its immediate input.",
    ]
    rows = []
    for layer in d.layers:
        for local in layer.locals:
            left = f"{ratio(layer, local)} = {pretty(local.expression)}"
            rules = "; ".join(f"{name} rule: {identity}" for name, identity in local.rules)
            rows.append((left, rules or f"{local.rule} rule: {local.identity}"))
    width = min(max(len(left) for left, _ in rows), 40)
    out += [f"     {left.ljust(width)}   {rules}" for left, rules in rows]
    return out + [""]


def _label(d: Derivation, layer: LayerStep, k: int) -> str:
    """A factor in the pipeline: cos(49) when the input is a whole number, else the value."""
    import sympy

    local = layer.locals[k]
    value = local.value
    inputs = [
        d.point.get(name) if d.point and name in d.point else d.evaluation.value_of(name) for name in layer.inputs
    ]
    if value is not None and all(v is not None and float(v).is_integer() and abs(v) < 1e6 for v in inputs):
        mapping = {d.graph.symbol(n): sympy.Integer(int(v)) for n, v in zip(layer.inputs, inputs, strict=True)}  # type: ignore[arg-type]
        exact = pretty(local.expression.xreplace(mapping))
        if len(exact) <= 12:
            return exact
    return num(value, 4)


def _pipeline(d: Derivation) -> list[str]:
    assert d.paths is not None
    out = [
        f"3. The sensitivity pipeline at {point_text(d)}",
        "   Each layer multiplies a wiggle by its local factor:",
    ]
    for p, path in enumerate(d.paths):
        arrows = []
        for li, k in reversed(path.steps):
            layer = d.layers[li]
            label = _label(d, layer, k)
            label = f"({label})" if label.startswith("-") else label
            arrows.append(f" ──[×{label}]──▶ {layer.name}")
        prefix = f"   path {p + 1}: " if len(d.paths) > 1 else "     "
        rows = [arrows[i : i + PIPELINE_WIDTH] for i in range(0, len(arrows), PIPELINE_WIDTH)]
        first = True
        for row in rows:
            out.append((prefix + d.variable if first else " " * (len(prefix) + len(d.variable))) + "".join(row))
            first = False
    view = d.sensitivity
    if view is not None and len(view.steps) <= 8:
        steps = [f"{s.layer} by {num(s.running_product, 6)}" for s in view.steps]
        out.append(f"   If {d.variable} wiggles by 1: " + ", then ".join(steps) + ".")
    return out + [""]


def _product(d: Derivation, chain: bool) -> list[str]:
    lhs = f"d{d.output}/d{d.variable}"
    out = ["4. The product" if chain else "4. The sum over paths"]
    if chain:
        out.append("   The chain rule multiplies the local derivatives along the chain:")
    else:
        out.append("   By the multivariable chain rule, the derivative is the sum, over the paths")
        out.append(f"   from {d.variable} to {d.output}, of the product of the local derivatives along each path.")
        rules = {layer.kind for layer in d.layers if len(layer.inputs) > 1}
        named = [r for r in ("product", "quotient") if r in rules]
        if named:
            verb = "rules are" if len(named) > 1 else "rule is"
            out.append(f"   (The {' and '.join(named)} {verb} this sum on a node with two inputs.)")
    pad = " " * (len(lhs) + 1)
    if d.paths is None:
        out.append(f"   There are {d.path_count} paths: too many to list.")
    elif chain:
        out.append(f"     {lhs} = {ratios(d, 0)}")
        out.append(f"     {pad}= {product(d, 'pretty')}")
    else:
        for p, path in enumerate(d.paths):
            route = " → ".join([d.variable] + [d.layers[li].name for li, _ in reversed(path.steps)])
            out.append(f"     path {p + 1}: {route}:  {ratios(d, p)}")
        out.append(f"     {lhs} = {product(d, 'pretty')}")
    expanded = derivative_text(d, "pretty")
    if expanded is not None and expanded != product(d, "pretty"):
        out.append(f"     {pad}= {expanded}")
    if d.derivative is None:
        out.append(f"   (The form in {d.variable} alone is omitted: {len(d.layers):,} layers make it too large.)")
    if d.limit is not None:
        pass  # no local factors at this point: the limit definition below gives the value
    elif d.point is not None and d.paths is not None:
        terms = [" × ".join(_signed(v) for v in factor_values(d, p)) for p in range(len(d.paths))]
        out.append(f"   At {point_text(d)}: {' + '.join(terms)} = {derivative_number(d)}")
    elif d.point is not None:
        out.append(f"   At {point_text(d)}: {lhs} = {derivative_number(d)}")
    if (note := beyond_note(d)) is not None:
        out.append(_aside(note))
    if (sentence := limit_sentence(d)) is not None:
        text = f"{sentence[0].upper()}{sentence[1:]}."
        out.append(f"   {text}")  # one line: the view reflows it to the terminal (registry.reflow)
    return out + [""]


def _verification(d: Derivation) -> list[str]:
    c = d.check
    assert c is not None and d.point is not None
    x0, h = c.nudge.x0, c.nudge.h
    f, var = d.output, d.variable
    out = ["5. Verification", f"   Nudge {var} from {num(x0)} to {num(x0 + h)}:"]
    left0, left1 = f"{f}({num(x0)})", f"{f}({num(x0 + h)})"
    width = max(len(left0), len(left1))
    out.append(f"     {left0.ljust(width)} = {num(c.nudge.f0)}")
    if c.nudge.value is None or c.nudge.f1 is None:
        out.append(f"     {left1} is {c.nudge.why or 'undefined'}, so the nudge cannot be taken here.")
    else:
        out.append(f"     {left1.ljust(width)} = {num(c.nudge.f1)}")
        change = c.nudge.f1 - c.nudge.f0
        out.append(
            f"     change: {num(change, 8)} / {num(h)} = {num(c.nudge.value, 8)} {nudge_relation(c)} "
            f"{derivative_number(d, 8)}" + (" ✓" if c.nudge.close else "")
        )
        if (gap := nudge_gap(c)) is not None:
            out.append(f"     A forward difference is only approximate: {gap}.")
    if c.value is not None:
        agree = "the chain rule agrees" if c.agrees else "THE VALUES DISAGREE"
        out.append(f"   An accurate check ({c.method}) gives {reference_text(c)}: {error_text(c)}, {agree}.")
        if c.note:
            out.append(_aside(c.note))
    else:
        out.append(f"   The accurate check ({c.method}) is not available: {c.note}.")
    return out + [""]


def _aside(note: str) -> str:
    """A note as a sentence in parentheses."""
    return f"   ({note[0].upper()}{note[1:]}.)"


def _pitfall(d: Derivation) -> list[str]:
    """f′ must be evaluated at g(x), not at x: shown on the outermost function of a layer."""
    pitfall = d.pitfall
    if pitfall is None:
        return []
    layer, inner = pitfall.layer, pitfall.inner
    local = layer.locals[0]
    out = [
        "Pitfall",
        f"   {ratio(layer, local)} = {pretty(local.expression)} must be evaluated at {inner} = "
        f"{pitfall.inner_text}, not at {d.variable}.",
    ]
    if d.point is not None and local.value is not None and d.variable in d.point:
        here = f"{inner} = {num(d.evaluation.value_of(inner), 6)}"
        text = f"   Here that is {num(local.value, 6)} (at {here})"
        if pitfall.wrong is not None:
            text += f"; taking it at {d.variable} = {num(d.point[d.variable])} would give {num(pitfall.wrong, 6)}"
        out.append(text + ".")
    return out + [""]


def _signed(value: float | None) -> str:
    text = num(value, 10)
    return f"({text})" if text.startswith("-") else text
