"""A small neural network written as let-bindings, for `chainrule grad -`.

8 inputs, two tanh layers of 96 units and a linear output, with a squared-error
loss: 10,273 parameters.  Every weight is a leaf with its value (w1_3_5 = 0.27),
so `chainrule grad -` needs no --at, and gives the loss's gradient with respect
to every weight, bias, input and the target in one backward pass:

    python3 examples/mlp_network.py | chainrule grad - --timeout 30   # a summary by layer
    python3 examples/mlp_network.py | chainrule grad - --json --timeout 30   # every partial

The weights are drawn from a fixed seed, so the program is the same every time.
Options: --inputs N --hidden N --seed N.

expect: loss = (out - target)^2
"""

from __future__ import annotations

import argparse
import random


def parameters(inputs: int = 8, hidden: int = 96, seed: int = 0) -> dict[str, float]:
    """Every leaf's value, by name, in the order the program binds them (the inputs, then layer by
    layer the weights and bias of each unit, then the output's, then the target)."""
    rng = random.Random(seed)
    values = {f"x{i}": round(rng.uniform(-1, 1), 3) for i in range(1, inputs + 1)}
    width = inputs
    for layer in (1, 2):
        for j in range(1, hidden + 1):
            for i in range(1, width + 1):
                values[f"w{layer}_{j}_{i}"] = round(rng.gauss(0, 1 / width**0.5), 4)
            values[f"b{layer}_{j}"] = round(rng.uniform(-0.1, 0.1), 3)
        width = hidden
    for i in range(1, hidden + 1):
        values[f"v_{i}"] = round(rng.gauss(0, 1 / hidden**0.5), 4)
    values["c"] = 0.05
    values["target"] = 0.5
    return values


def network(inputs: int = 8, hidden: int = 96, seed: int = 0) -> str:
    """The program: one binding per line, each unit after its weights, the loss last."""
    values = parameters(inputs, hidden, seed)
    lines = [f"x{i} = {values[f'x{i}']}" for i in range(1, inputs + 1)]
    previous = [f"x{i}" for i in range(1, inputs + 1)]
    for layer in (1, 2):
        units = []
        for j in range(1, hidden + 1):
            names = [f"w{layer}_{j}_{i}" for i in range(1, len(previous) + 1)] + [f"b{layer}_{j}"]
            lines += [f"{name} = {values[name]}" for name in names]
            terms = " + ".join(f"w{layer}_{j}_{i}*{p}" for i, p in enumerate(previous, 1))
            lines.append(f"h{layer}_{j} = tanh({terms} + b{layer}_{j})")
            units.append(f"h{layer}_{j}")
        previous = units
    lines += [f"v_{i} = {values[f'v_{i}']}" for i in range(1, len(previous) + 1)]
    lines.append(f"c = {values['c']}")
    lines.append("out = " + " + ".join(f"v_{i}*{p}" for i, p in enumerate(previous, 1)) + " + c")
    lines.append(f"target = {values['target']}")
    lines.append("loss = (out - target)^2")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=96)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(network(args.inputs, args.hidden, args.seed), end="")


if __name__ == "__main__":
    main()
