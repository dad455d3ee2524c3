"""The evaluation record that diff and grad share: a graph, a point, one pass.

A :class:`LayerStep` holds its graph :class:`~chainrule.graph.Layer` and the
numbers the pass found for it; it copies nothing.  Every view reads layers
through these steps.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from chainrule.engine import Pass
from chainrule.graph import Graph, Layer, Local
from chainrule.wide import Wide


def _delegate(record: str, name: str) -> Any:
    """A read-only property that reads `name` from the record held in field `record`."""
    return property(lambda self: getattr(getattr(self, record), name), doc=f"{record}.{name}")


@dataclass(frozen=True)
class LocalStep:
    """A layer's local derivative with respect to one input, and its value at the point."""

    local: Local
    value: float | None
    value_beyond: Wide | None = None  # the value, when it is below the range of doubles (value is then 0)

    wrt = _delegate("local", "wrt")
    expression = _delegate("local", "expression")
    rule = _delegate("local", "rule")
    identity = _delegate("local", "identity")
    rules = _delegate("local", "rules")


@dataclass(frozen=True)
class LayerStep:
    """A layer, its value at the point and its local factors there."""

    layer: Layer
    value: float | None
    factors: tuple[float | None, ...] | None  # None without a point; an entry is None when not needed
    value_beyond: Wide | None = None  # the value, when it is below the range of doubles (value is then 0)
    factors_beyond: tuple[Wide | None, ...] = ()  # the same for each factor

    name = _delegate("layer", "name")
    ops = _delegate("layer", "ops")
    inputs = _delegate("layer", "inputs")
    kind = _delegate("layer", "kind")

    @functools.cached_property
    def locals(self) -> tuple[LocalStep, ...]:
        factors, beyond = self.factors, self.factors_beyond
        return tuple(
            LocalStep(local, factors[k] if factors is not None else None, beyond[k] if beyond else None)
            for k, local in enumerate(self.layer.locals)
        )


@dataclass(frozen=True)
class Evaluation:
    """A graph, optionally a point, and the one forward-and-backward pass there."""

    graph: Graph
    point: dict[str, float] | None
    at: Pass | None  # None without a point

    @functools.cached_property
    def layers(self) -> tuple[LayerStep, ...]:
        at = self.at
        return tuple(
            LayerStep(
                layer,
                at.values[layer.root] if at is not None else None,
                at.factors[li] if at is not None else None,
                at.values_beyond.get(layer.root) if at is not None else None,
                tuple(at.factors_beyond.get((li, k)) for k in range(len(layer.sources)))
                if at is not None and at.factors_beyond
                else (),
            )
            for li, layer in enumerate(self.graph.layers)
        )

    @functools.cached_property
    def by_name(self) -> dict[str, LayerStep]:
        return {step.name: step for step in self.layers}

    @property
    def input(self) -> str:
        return self.graph.source

    @property
    def output(self) -> str:
        return self.graph.output_name

    @property
    def value(self) -> float | None:
        """The output's value at the point."""
        return self.at.values[self.graph.output] if self.at is not None else None

    @property
    def value_beyond(self) -> Wide | None:
        """The output's value, when it is below the range of doubles."""
        return self.at.values_beyond.get(self.graph.output) if self.at is not None else None

    def value_of(self, name: str) -> float | None:
        """The value of a variable or a layer at the point."""
        if self.at is None:
            return None
        return self.at.values[self.graph.index_of(name)]

    @functools.cached_property
    def adjoints(self) -> dict[str, float] | None:
        """d(output)/d(node) for every layer and variable, by name."""
        return self.at.named_adjoints(self.graph) if self.at is not None else None

    def adjoint(self, variable: str) -> float | None:
        """d(output)/d(variable) at the point: 0 for a variable the output does not use."""
        if self.at is None:
            return None
        index = self.graph.variable_index(variable)
        return self.at.adjoints.get(index, 0.0) if index >= 0 else 0.0

    def beyond(self, variable: str) -> Wide | None:
        """d(output)/d(variable) when it is beyond the range of doubles."""
        if self.at is None or not self.graph.uses(variable):
            return None
        return self.at.beyond.get(self.graph.index_of(variable))


class Evaluated:
    """What diff's and grad's results read from their evaluation, by the same names."""

    evaluation: Evaluation

    graph = _delegate("evaluation", "graph")
    point = _delegate("evaluation", "point")
    layers = _delegate("evaluation", "layers")
    input = _delegate("evaluation", "input")
    output = _delegate("evaluation", "output")
    value = _delegate("evaluation", "value")  # f at the point
    adjoints = _delegate("evaluation", "adjoints")  # d(output)/d(node) for every node and variable, by name
