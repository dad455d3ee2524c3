"""How each layer of a chain scales a wiggle: the seeds' vanishing-gradient view.

A wiggle of the variable is multiplied by each layer's local factor in turn.
When the factors are small (sigmoid′ ≤ 0.25) the running product shrinks
geometrically and the gradient vanishes; when they are large it explodes.

The same view runs backwards for ``grad`` (:func:`backward`), on a scalar graph and on a tensor
program alike: from the output down to a variable, each layer receives the adjoint ∂L/∂layer and
passes on ∂L/∂layer through its local rule; its factor is ‖what it passes on‖ / ‖∂L/∂layer‖ (for a
number, |local derivative|), and the running product is the size of what it passes on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from chainrule.engine import Path
from chainrule.steps import Evaluation
from chainrule.wide import Wide, from_log10, in_range, text

VANISHING = 0.5  # geometric mean of |factor| at or below this, over 3 or more layers
EXPLODING = 2.0  # at or above this


@dataclass(frozen=True)
class Step:
    layer: str
    factor: float
    running_product: float  # in doubles: 0.0 or ±inf once it leaves their range
    running_log10: float | None  # log10 of its size, exact at any depth; None once a factor is 0
    adjoint: float | None = None  # backward: ‖∂L/∂layer‖, the adjoint the layer receives


@dataclass(frozen=True)
class Sensitivity:
    steps: tuple[Step, ...]  # inner layer first
    trend: str | None  # "vanishing", "exploding" or None
    responsible: tuple[str, ...]  # the layers whose factors drive the trend
    mean_factor: float  # the geometric mean of |factor|
    backward: bool = False  # from the output to `variable` (grad), not from the variable to the output
    variable: str = ""  # backward: the variable the adjoint is followed down to


def sensitivity(ev: Evaluation, paths: tuple[Path, ...] | None) -> Sensitivity | None:
    """The view for a chain at a point; None when there is no single path or no point."""
    if paths is None or len(paths) != 1 or ev.at is None:
        return None
    steps = []
    sizes: list[float | None] = []  # log10 |factor|, None for a factor of 0
    running = 1.0
    log10: float | None = 0.0
    for li, k in reversed(paths[0].steps):
        layer = ev.graph.layers[li]
        factor = ev.at.factors[li][k]
        if factor is None:  # pragma: no cover - the path runs from the variable, where every factor is computed
            return None
        running *= factor
        wide_factor = ev.at.factors_beyond.get((li, k))
        size = _log10(factor, wide_factor)
        log10 = None if log10 is None or size is None else log10 + size
        steps.append(Step(layer.name, factor, running, log10))
        sizes.append(size)
    return _trend(steps, sizes)


def _trend(steps: list[Step], sizes: list[float | None], variable: str = "") -> Sensitivity | None:
    """The view of the steps, with its trend: the factors' geometric mean, and the layers that drive it."""
    if not steps:
        return None
    zero = any(size is None for size in sizes)
    mean = 0.0 if zero else 10 ** min(300.0, sum(s for s in sizes if s is not None) / len(sizes))
    trend = None
    responsible: tuple[str, ...] = ()
    if len(steps) >= 3 and mean <= VANISHING:
        trend = "vanishing"
        responsible = tuple(s.layer for s in steps if abs(s.factor) < 1)
    elif len(steps) >= 3 and mean >= EXPLODING:
        trend = "exploding"
        responsible = tuple(s.layer for s in steps if abs(s.factor) > 1)
    return Sensitivity(tuple(steps), trend, responsible, mean, backward=bool(variable), variable=variable)


Send = tuple[int, int, float]  # one backward step: (node, operand, ‖what the node sends the operand‖)


def backward(
    names: Mapping[int, str], root: int, adjoints: Mapping[int, float], sends: Iterable[Send]
) -> Sensitivity | None:
    """The backward view of one pass of either engine: from the output, through each node's deepest
    operand (the one with the most layers below it; the first on a tie), down to a variable.

    `sends` are the backward steps in the order of the sweep (a node's steps before its operands'),
    `adjoints[n]` is ‖∂L/∂n‖."""
    out: dict[int, list[tuple[int, float]]] = {}
    for node, operand, sent_size in sends:
        out.setdefault(node, []).append((operand, sent_size))
    depth: dict[int, int] = {}
    for node in reversed(list(out)):  # operands before the nodes that use them
        depth[node] = 1 + max(depth.get(a, 0) for a, _ in out[node])
    steps: list[Step] = []
    sizes: list[float | None] = []
    n = root
    while n in out:
        operand, sent = max(out[n], key=lambda item: depth.get(item[0], 0))  # max keeps the first on a tie
        incoming = adjoints.get(n, 0.0)
        factor = sent / incoming if incoming and math.isfinite(incoming) else 0.0
        log10 = None if sent == 0 or not math.isfinite(sent) else math.log10(sent)
        sizes.append(_log10(factor, None))
        steps.append(Step(names[n], factor, sent, log10, adjoint=incoming))
        n = operand
    return _trend(steps, sizes, names.get(n, "")) if steps else None


def _log10(factor: float, beyond: Wide | None) -> float | None:
    """log10 |factor|, also for a factor beyond the range of doubles; None for 0."""
    if beyond is not None:
        return math.log10(abs(beyond.mantissa)) + beyond.exponent
    return None if factor == 0 or not math.isfinite(factor) else math.log10(abs(factor))


def running(step: Step) -> float | Wide:
    """The running product: a double while it fits, else a Wide."""
    if step.running_log10 is None or (step.running_product != 0 and in_range(step.running_product)):
        return step.running_product
    return from_log10(math.copysign(1.0, step.running_product), step.running_log10)  # IEEE keeps the sign


def remark(view: Sensitivity, variable: str, output: str) -> str | None:
    """A plain sentence about the trend, naming the layers responsible."""
    if view.trend is None:
        return None
    names = ", ".join(view.responsible[:8]) + (" …" if len(view.responsible) > 8 else "")
    last = running(view.steps[-1])
    final = f"{abs(last):.3g}" if isinstance(last, float) else text(Wide(abs(last.mantissa), last.exponent), 3)
    if view.backward:
        grows = "shrinks" if view.trend == "vanishing" else "grows"
        than = "less" if view.trend == "vanishing" else "more"
        return (
            f"{view.trend.capitalize()} gradient: the factors average {view.mean_factor:.3g} in size, so the "
            f"adjoint {grows} geometrically from 1 at {output} to {final} by the time it reaches {view.variable}. "
            f"The layers responsible ({names}) each multiply it by {than} than 1."
        )
    if view.trend == "vanishing":
        return (
            f"Vanishing gradient: the factors average {view.mean_factor:.3g} in size, so a wiggle of {variable} "
            f"shrinks geometrically to {final} by the time it reaches {output}. "
            f"The layers responsible ({names}) each multiply it by less than 1."
        )
    return (
        f"Exploding gradient: the factors average {view.mean_factor:.3g} in size, so a wiggle of {variable} "
        f"grows geometrically to {final} by the time it reaches {output}. "
        f"The layers responsible ({names}) each multiply it by more than 1."
    )
