"""Backpropagation against one sympy.diff per variable, on a graph with 1,000 parameters.

The graph is tanh(w1·x1 + … + w1000·x1000): 2,000 variables, and the gradient
with respect to the 1,000 weights is wanted at one point.

* ours: chainrule's gradient() — the forward pass, one backward pass for all
  1,000 partial derivatives, every node's local gradients (symbolic and at the
  point), and the numerical check of an even sample of 50 of them.
* baseline: what a SymPy user writes: build the expression, then for each
  weight sympy.diff(expr, w).xreplace(point) (xreplace, because subs with 2,000
  values is far slower still).  By default it is timed on a sample of the
  weights and scaled to all of them, which the table says; --full times all.

Run: python benchmarks/bench_grad.py [--full] [--n 1000]
"""

from __future__ import annotations

import argparse
import platform
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="number of weights")
    parser.add_argument("--sample", type=int, default=40, help="weights timed for the baseline")
    parser.add_argument("--full", action="store_true", help="time the baseline on every weight")
    args = parser.parse_args()
    n = args.n

    expression = "tanh(" + " + ".join(f"w{i}*x{i}" for i in range(1, n + 1)) + ")"
    weights = {f"w{i}": 0.001 * i for i in range(1, n + 1)}
    inputs = {f"x{i}": 1 - 0.0005 * i for i in range(1, n + 1)}
    at = ",".join(f"{k}={v!r}" for k, v in {**weights, **inputs}.items())
    wrt = ",".join(weights)

    from chainrule.backprop import gradient

    start = time.perf_counter()
    result = gradient(expression, at=at, wrt=wrt)
    ours = time.perf_counter() - start
    ours_gradient = result.gradient or {}

    import sympy

    start = time.perf_counter()
    ws = sympy.symbols(f"w1:{n + 1}")
    xs = sympy.symbols(f"x1:{n + 1}")
    expr = sympy.tanh(sympy.Add(*[w * x for w, x in zip(ws, xs, strict=True)]))
    point = {**{w: weights[w.name] for w in ws}, **{x: inputs[x.name] for x in xs}}
    built = time.perf_counter() - start
    timed = ws if args.full else ws[: args.sample]
    start = time.perf_counter()
    baseline_values = {w.name: float(sympy.diff(expr, w).xreplace(point)) for w in timed}
    per_variable = (time.perf_counter() - start) / len(timed)
    baseline = built + per_variable * n

    # The comparison is with the exact gradient, x_i·sech²(s) at 50 digits: SymPy's doubles lose
    # it (1 − tanh²(333.6) is 0 in doubles; its true value, 7.2e-290, is within their range).
    import mpmath

    with mpmath.workdps(50):
        s = mpmath.fsum(mpmath.mpf(weights[f"w{i}"]) * mpmath.mpf(inputs[f"x{i}"]) for i in range(1, n + 1))
        exact = {f"w{i}": mpmath.mpf(inputs[f"x{i}"]) * mpmath.sech(s) ** 2 for i in range(1, n + 1)}
        worst = float(max(abs(ours_gradient[k] - v) / abs(v) for k, v in exact.items()))
        worst_sympy = float(max(abs(v - exact[k]) / abs(exact[k]) for k, v in baseline_values.items()))
    how = "timed on all" if args.full else f"timed on {len(timed)}, scaled to {n}"
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    case = f"gradient, {n} weights (baseline {how})"
    print(f"{'case':<64} {'ours':>9} {'baseline':>10} {'ratio':>8}")
    print(f"{case:<64} {ours:>8.2f}s {baseline:>9.2f}s {baseline / ours:>7.1f}×")
    print(f"largest relative error against the exact gradient (mpmath, 50 digits): ours {worst:.1e}, "
          f"SymPy's {worst_sympy:.1e}")  # fmt: skip
    agree = all(c.agrees for c in result.checks.values())
    print(f"numerically checked by chainrule: {len(result.checks)} of {n}; all agree: {agree}")


if __name__ == "__main__":
    main()
