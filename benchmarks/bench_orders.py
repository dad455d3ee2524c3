"""Higher orders: --order 10 on sin(x^2)*exp(x)/(1+x^2) at 0.7, against SymPy differentiating ten times.

* ours: one `chainrule diff --order 10 --json` process, start-up included: the
  orders while their formulas are small, every value by Taylor-mode arithmetic
  through the layers, each checked against mpmath.diff.
* baseline: one Python process that imports SymPy and evaluates
  sympy.diff(expr, x, 10) at the point.

Targets: ours at most 2 s of CPU time on this machine; its value equal to
mpmath's to 10 significant digits.
Run: python benchmarks/bench_orders.py
"""

from __future__ import annotations

import json
import platform
import resource
import subprocess
import sys
from pathlib import Path

EXPRESSION, PYTHON, POINT = "sin(x^2)*exp(x)/(1+x^2)", "sin(x**2)*exp(x)/(1+x**2)", "0.7"

BASELINE = f"""
import sympy
x = sympy.Symbol('x')
expr = sympy.sin(x**2) * sympy.exp(x) / (1 + x**2)
print(float(sympy.diff(expr, x, 10).evalf(subs={{x: sympy.Rational('{POINT}')}})))
"""


def cpu_of(command: list[str]) -> tuple[float, str]:
    """The CPU time of a child process (user + system) and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out


def main() -> None:
    bindir = Path(sys.executable).parent
    chainrule = str(bindir / "chainrule") if (bindir / "chainrule").exists() else "chainrule"
    t_ours, out = cpu_of([chainrule, "diff", EXPRESSION, "--at", POINT, "--order", "10", "--json"])
    t_base, base = cpu_of([sys.executable, "-c", BASELINE])
    derivative = json.loads(out)["derivative"]
    value, reference = derivative["value"], derivative["check"]["value"]
    agrees = abs(value - reference) <= 1e-10 * abs(reference)
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    print(f"{'case':<52} {'ours':>9} {'SymPy':>9} {'ratio':>7}  met")
    row = "--order 10, CPU seconds (start-up included)"
    ratio = t_base / t_ours
    print(f"{row:<52} {t_ours:>9.2f} {t_base:>9.2f} {ratio:>6.1f}×  {'yes' if t_ours <= 2 else 'NO'} (at most 2 s)")
    print(f"value {value!r}; mpmath.diff {reference!r}; SymPy {float(base)!r}; 10 digits: {'yes' if agrees else 'NO'}")


if __name__ == "__main__":
    main()
