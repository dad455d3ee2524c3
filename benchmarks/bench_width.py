"""Width: the whole gradient of a 10,273-parameter network, against micrograd-style autodiff.

The network is examples/mlp_network.py (8 inputs, tanh 96, tanh 96, linear output,
squared-error loss), written as let-bindings and piped to `chainrule grad - --json`.

* ours: the whole process: parse, graph, forward and backward pass, every node's
  local gradients, the numerical check of 50 partials, and 13 MB of JSON.
* baseline: what a micrograd user runs: Value objects built for the same network,
  then loss.backward(), in a fresh Python process (a dozen lines of autodiff, no
  symbols, no checks, no output but the numbers).

Targets (issue "Scale"): `grad --json` at most 10 s on this machine, and its text
view (a summary by name) as well; both gradients agree.

Run: python benchmarks/bench_width.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHAINRULE = str(BIN / "chainrule") if (BIN / "chainrule").exists() else "chainrule"


def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("mlp_network", ROOT / "examples" / "mlp_network.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Value:
    """micrograd's Value, as in its README: data, grad, and a closure per operation."""

    def __init__(self, data: float, children: tuple[Value, ...] = ()) -> None:
        self.data, self.grad, self._prev, self._backward = data, 0.0, children, lambda: None

    def __add__(self, other: Value) -> Value:
        out = Value(self.data + other.data, (self, other))

        def backward() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out._backward = backward
        return out

    def __mul__(self, other: Value) -> Value:
        out = Value(self.data * other.data, (self, other))

        def backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = backward
        return out

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        out = Value(t, (self,))

        def backward() -> None:
            self.grad += (1 - t * t) * out.grad

        out._backward = backward
        return out

    def square_minus(self, target: Value) -> Value:
        d = self.data - target.data
        out = Value(d * d, (self, target))

        def backward() -> None:
            self.grad += 2 * d * out.grad
            target.grad -= 2 * d * out.grad

        out._backward = backward
        return out

    def backward(self) -> None:
        order: list[Value] = []
        seen: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:  # iterative topological sort (micrograd's is recursive)
            node, done = stack.pop()
            if done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


def micrograd_gradient(inputs: int = 8, hidden: int = 96) -> dict[str, float]:
    p = {name: Value(v) for name, v in load_example().parameters(inputs, hidden).items()}
    a = [p[f"x{i}"] for i in range(1, inputs + 1)]
    for layer in (1, 2):
        h = []
        for j in range(1, hidden + 1):
            z = p[f"b{layer}_{j}"]
            for i in range(1, len(a) + 1):
                z = z + p[f"w{layer}_{j}_{i}"] * a[i - 1]
            h.append(z.tanh())
        a = h
    out = p["c"]
    for i in range(1, hidden + 1):
        out = out + p[f"v_{i}"] * a[i - 1]
    loss = out.square_minus(p["target"])
    loss.backward()
    return {name: value.grad for name, value in p.items()}


def timed(command: list[str], stdin: bytes | None) -> tuple[float, bytes]:
    start = time.perf_counter()
    result = subprocess.run(command, input=stdin, capture_output=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{command[:3]} failed ({result.returncode}): {result.stderr[-400:]!r}")
    return elapsed, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--micrograd", action="store_true", help=argparse.SUPPRESS)  # the baseline's process
    args = parser.parse_args()
    if args.micrograd:
        print(json.dumps(micrograd_gradient()))
        return
    program = load_example().network().encode()
    ours_json, ours_text, base = [], [], []
    for _ in range(args.repeat):
        t, document = timed([CHAINRULE, "grad", "-", "--json"], program)
        ours_json.append(t)
        ours_text.append(timed([CHAINRULE, "grad", "-"], program)[0])
        t, numbers = timed([sys.executable, __file__, "--micrograd"], None)
        base.append(t)
    ours = json.loads(document)["gradient"]
    reference = json.loads(numbers)
    scale = max(abs(v) for v in reference.values())
    worst = max(abs(ours[k] - v) for k, v in reference.items()) / scale
    j, t, b = (statistics.median(x) for x in (ours_json, ours_text, base))
    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {python}; {len(ours):,} partial derivatives")
    print(f"{'case':<58} {'ours':>8} {'baseline':>9} {'ratio':>7}  met")
    print(f"{'grad - --json, 10,273 parameters (target ≤ 10 s)':<58} {j:>8.2f} {b:>9.2f} {j / b:>6.1f}×  "
          f"{'yes' if j <= 10 else 'NO'}")  # fmt: skip
    print(f"{'grad - (the text view, a summary by name) (≤ 10 s)':<58} {t:>8.2f} {b:>9.2f} {t / b:>6.1f}×  "
          f"{'yes' if t <= 10 else 'NO'}")  # fmt: skip
    print(
        f"the two gradients agree: largest difference {worst:.1e} of the largest partial"
        f" ({'yes' if worst < 1e-12 else 'NO'})"
    )


if __name__ == "__main__":
    main()
