"""Batch throughput: chainrule batch against a plain SymPy loop, over the same 300 expressions.

* ours: one `chainrule batch` process over 300 NDJSON lines, start-up included,
  producing for each the layers, the steps, the value and both checks.
* baseline: one Python process that imports SymPy and, for each expression,
  evaluates sympy.diff(expr, x).evalf(subs={x: x0}).

* ours with --jobs 2 against ours with --jobs 1, in the same run: the worker
  processes' gain (on a machine with at least 2 cores).

Targets: our throughput (one job) at least 0.5× the baseline's; 2 jobs at least
1.7× one job.
Run: python benchmarks/bench_batch.py
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FUNCTIONS = ["sin", "cos", "tanh", "atan", "exp", "sigmoid"]


def expressions(n: int = 300) -> list[tuple[str, str, float]]:
    """(ours, Python syntax, point) for n compositions two to four layers deep."""
    out = []
    for k in range(n):
        a, b = k % 7 + 1, k % 5 - 2
        names = [FUNCTIONS[(k + j) % len(FUNCTIONS)] for j in range(2 + k % 3)]
        ours, python = f"({a}x{b:+d})^2", f"({a}*x{b:+d})**2"
        for name in names:
            ours = f"{name}({ours})"
            python = f"(1/(1+exp(-({python}))))" if name == "sigmoid" else f"{name}({python})"
        out.append((ours, python, 0.1 + (k % 9) / 10))
    return out


BASELINE = """
import json, sys
import sympy
x = sympy.Symbol('x')
for line in open(sys.argv[1]):
    item = json.loads(line)
    expr = sympy.sympify(item['python'], locals={'x': x})
    print(float(sympy.diff(expr, x).evalf(subs={x: item['at']})))
"""


def main() -> None:
    items = expressions()
    bindir = Path(sys.executable).parent
    chainrule = str(bindir / "chainrule") if (bindir / "chainrule").exists() else "chainrule"
    with tempfile.TemporaryDirectory() as tmp:
        ours_in = Path(tmp, "ours.ndjson")
        ours_in.write_text("".join(json.dumps({"expression": e, "at": {"x": p}}) + "\n" for e, _, p in items))
        base_in = Path(tmp, "base.ndjson")
        base_in.write_text("".join(json.dumps({"python": py, "at": p}) + "\n" for _, py, p in items))
        script = Path(tmp, "baseline.py")
        script.write_text(BASELINE)

        start = time.perf_counter()
        ours = subprocess.run([chainrule, "batch", str(ours_in), "--jobs", "1"], capture_output=True, text=True)
        t_ours = time.perf_counter() - start
        start = time.perf_counter()
        two = subprocess.run([chainrule, "batch", str(ours_in), "--jobs", "2"], capture_output=True, text=True)
        t_two = time.perf_counter() - start
        start = time.perf_counter()
        base = subprocess.run([sys.executable, str(script), str(base_in)], capture_output=True, text=True, check=True)
        t_base = time.perf_counter() - start

    results = [json.loads(line) for line in ours.stdout.splitlines()]
    expected = [float(v) for v in base.stdout.split()]
    pairs = [(r["derivative"]["value"], e) for r, e in zip(results, expected, strict=True) if "derivative" in r]
    values = [v for v, _ in pairs]
    worst = max(abs(a - b) / max(1.0, abs(b)) for a, b in pairs if a is not None)
    failed = [f"{r['line']}: {r['error']['kind']}" for r in results if "error" in r]
    agree = sum(1 for r in results if r.get("check", {}).get("agrees"))
    n = len(items)
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    print(f"{'case':<46} {'ours':>12} {'baseline':>12} {'ratio':>7}  met")
    ratio = (n / t_ours) / (n / t_base)
    row = f"{n} expressions, throughput (expressions/s)"
    print(f"{row:<46} {n / t_ours:>12.1f} {n / t_base:>12.1f} {ratio:>6.2f}×  {'yes' if ratio >= 0.5 else 'NO'}")
    gain = (n / t_two) / (n / t_ours)
    row = "the same with --jobs 2, against --jobs 1"
    print(f"{row:<46} {n / t_two:>12.1f} {n / t_ours:>12.1f} {gain:>6.2f}×  {'yes' if gain >= 1.7 else 'NO'}")
    same = "yes" if two.stdout == ours.stdout else "NO"
    print(f"--jobs 2 writes the same output as --jobs 1, byte for byte: {same}")
    if failed:
        print(f"lines that gave an error instead of a result: {', '.join(failed)}")
    print(f"results: {len(values)} of {n}; checks that agree: {agree}; largest difference from SymPy: {worst:.1e}")


if __name__ == "__main__":
    main()
