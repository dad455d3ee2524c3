"""Matrices: the gradient of a 2-layer MLP with 10,099 parameters, against autograd.

The network is Linear(100, 99) → ReLU → Linear(99, 1) with squared error, written with @:

    h = relu(W1 @ x + b1); yhat = W2 @ h + b2; L = sum((yhat - y)^2)

and given by shape (--shape W1=99x100,... --seed 0).

* ours: `chainrule grad ... --json` as a process: parse, shapes, the forward and the
  backward pass with every step recorded, the matrix formulas, the checks (central
  differences along random directions for every parameter), and 1 MB of JSON; and the
  text view, the same without the JSON.
* baseline: autograd's value_and_grad of the same function at the same point, in a fresh
  Python process (import numpy and autograd, then the gradient: no steps, no checks).

Target (issue "Vectors and matrices"): the gradient in at most 2 s; both gradients agree.

Run: python benchmarks/bench_tensor.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from typing import Any

from bench_width import CHAINRULE, timed  # one way of timing a command, shared by the benchmarks

PROGRAM = "h = relu(W1 @ x + b1); yhat = W2 @ h + b2; L = sum((yhat - y)^2)"
SHAPES = "W1=99x100,b1=99,W2=1x99,b2=1,x=100,y=1"
TARGET = 2.0


def autograd_gradient(point: dict[str, Any]) -> dict[str, Any]:
    """The baseline's work, in its own process: value_and_grad of the same network."""
    import autograd.numpy as anp
    from autograd import grad

    names = list(point)

    def loss(*args: Any) -> Any:
        p = dict(zip(names, args, strict=True))
        h = anp.maximum(p["W1"] @ p["x"] + p["b1"], 0.0)
        yhat = p["W2"] @ h + p["b2"]
        return anp.sum((yhat - p["y"]) ** 2)

    arrays = [anp.array(point[n]) for n in names]
    return {n: grad(loss, k)(*arrays).tolist() for k, n in enumerate(names)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--autograd", action="store_true", help=argparse.SUPPRESS)  # the baseline's process
    args = parser.parse_args()
    if args.autograd:
        print(json.dumps(autograd_gradient(json.loads(sys.stdin.read()))))
        return
    ours_json: list[float] = []
    ours_text: list[float] = []
    baseline: list[float] = []
    doc: dict[str, Any] = {}
    reference: dict[str, Any] = {}
    for _ in range(args.repeat):  # alternately, so that the machine's drift touches both
        seconds, out = timed([CHAINRULE, "grad", PROGRAM, "--shape", SHAPES, "--seed", "0", "--json"], None)
        ours_json.append(seconds)
        doc = json.loads(out)
        seconds, _ = timed([CHAINRULE, "grad", PROGRAM, "--shape", SHAPES, "--seed", "0"], None)
        ours_text.append(seconds)
        point = {name: entry["value"] for name, entry in doc["variables"].items()}
        seconds, out = timed([sys.executable, __file__, "--autograd"], json.dumps(point).encode())
        baseline.append(seconds)
        reference = json.loads(out)
    import numpy as np

    parameters = sum(int(np.prod(doc["variables"][n]["shape"])) for n in ("W1", "b1", "W2", "b2"))
    worst = max(
        float(np.max(np.abs(np.array(doc["gradient"][n]["value"]) - np.array(reference[n])))) for n in reference
    )
    j, t, b = statistics.median(ours_json), statistics.median(ours_text), statistics.median(baseline)
    python = f"Python {platform.python_version()}"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {python}; {parameters:,} parameters")
    print(f"{'case':<52} {'ours':>8} {'autograd':>9} {'ratio':>7}  met")
    for label, value in (("grad --json (target ≤ 2 s)", j), ("grad (the text view) (target ≤ 2 s)", t)):
        print(f"{label:<52} {value:>8.2f} {b:>9.2f} {value / b:>6.1f}×  {'yes' if value <= TARGET else 'NO'}")
    print(f"largest difference from autograd: {worst:.3g}; the checks agree: {doc['agrees']}")
    if worst > 1e-9 or not doc["agrees"]:
        sys.exit("the gradients disagree")


if __name__ == "__main__":
    main()
