"""Speed and scale: deep chains, start-up, and SymPy's own diff, timed as whole processes.

Every case runs chainrule and its baseline alternately, several times each,
in the same run, and compares medians.  Targets (issue "Speed and scale"):

* depth 1,000 mixed sin/cos/tanh/atan, --at 0.5 --json: at most 1 s
* depth 10,000: at most 10 s, and t(10,000)/t(1,000) at most 12
* the 300-deep nest of sin: at least 20× faster than the SymPy process a user
  would write (raise the recursion limit, diff, subs(x, 0.5))
* chainrule --help and --version: at most half of `python -c "import sympy"`
* the seed example: at most 1.2× the SymPy one-liner
* peak memory of the 10,000-deep run: under 500 MB
* grad and graph on the 10,000-deep chain: at most 1.5× diff on it (issue "Scale")
* check on the 10,000-deep chain with a wrong answer: a verdict and a diagnosis within
  the default budget (5 s of CPU time), timed against diff on the same chain

The seed example is also timed in a terminal (a pseudo-terminal), where the
text view is drawn in colour, since that is where a user types it.

SymPy's modules run from bytecode compiled when pip installed it; so do ours
after `pip install .`.  An editable install under PYTHONDONTWRITEBYTECODE=1
would recompile chainrule from source on every run (about 30 ms here), so the
script compiles chainrule's bytecode first when it is missing, as pip does.

Run: python benchmarks/bench_depth.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
CHAINRULE = str(BIN / "chainrule") if (BIN / "chainrule").exists() else "chainrule"
PY = sys.executable
FUNCTIONS = ("sin", "cos", "tanh", "atan")


def chain(depth: int, names: tuple[str, ...] = FUNCTIONS) -> str:
    return "".join(f"{names[i % len(names)]}(" for i in range(depth)) + "x" + ")" * depth


def ensure_bytecode() -> str:
    """Compile chainrule's bytecode if it is missing, as `pip install .` does."""
    spec = importlib.util.find_spec("chainrule")
    if spec is None or spec.origin is None:
        raise SystemExit("chainrule is not installed in this Python")
    package = Path(spec.origin).parent
    sources = list(package.rglob("*.py"))
    stale = [p for p in sources if not Path(importlib.util.cache_from_source(str(p))).exists()]
    if not stale:
        return "bytecode: present"
    compileall.compile_dir(str(package), quiet=1)
    return f"bytecode: compiled {len(stale)} of {len(sources)} modules first, as pip install does"


def run(command: list[str], tty: bool = False, codes: tuple[int, ...] = (0,)) -> tuple[float, int]:
    """Wall time and peak memory (kB) of one whole process; with tty, its
    output goes to a pseudo-terminal, as when a user types the command."""
    start = time.perf_counter()
    if tty:
        leader, follower = os.openpty()
        proc = subprocess.Popen(command, stdout=follower, stderr=subprocess.DEVNULL)
        os.close(follower)
        try:
            while os.read(leader, 65536):
                pass
        except OSError:  # EIO: the process closed the terminal
            pass
        os.close(leader)
    else:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in codes:
        raise SystemExit(f"{command[:2]} failed with exit code {proc.returncode}")
    return time.perf_counter() - start, usage.ru_maxrss


def alternate(
    a: list[str], b: list[str] | None, repeat: int, tty: bool = False, codes: tuple[int, ...] = (0,)
) -> tuple[float, float | None, int]:
    """Median wall times of `a` (whose exit code must be in `codes`) and of `b`, run in turn."""
    times_a, times_b, peak = [], [], 0
    for _ in range(repeat):
        t, mem = run(a, tty, codes)
        times_a.append(t)
        peak = max(peak, mem)
        if b is not None:
            times_b.append(run(b, tty)[0])
    return statistics.median(times_a), statistics.median(times_b) if b else None, peak


SYMPY_DEEP = """
import sys
sys.setrecursionlimit(100000)
import sympy as s
x = s.Symbol('x')
e = x
for _ in range({depth}):
    e = s.sin(e)
print(s.diff(e, x).subs(x, 0.5))
"""
SYMPY_SEED = "import sympy as s; x=s.Symbol('x'); print(s.diff(s.sin((2*x+1)**2), x).subs(x, 3).evalf())"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    bytecode = ensure_bytecode()
    rows: list[tuple[str, float, float | None, str, bool]] = []

    with tempfile.TemporaryDirectory() as tmp:
        deep = Path(tmp, "sympy_deep.py")
        deep.write_text(SYMPY_DEEP.format(depth=300))

        d1, _, _ = alternate([CHAINRULE, "diff", chain(1000), "--at", "0.5", "--json"], None, args.repeat)
        rows.append(("depth 1,000 --json (target ≤ 1 s)", d1, None, "", d1 <= 1.0))
        d10, _, peak = alternate([CHAINRULE, "diff", chain(10_000), "--at", "0.5", "--json"], None, 3)
        rows.append(("depth 10,000 --json (target ≤ 10 s)", d10, None, "", d10 <= 10.0))
        rows.append(("growth t(10,000)/t(1,000) (target ≤ 12)", d10 / d1, None, "", d10 / d1 <= 12))
        rows.append(("peak memory at depth 10,000, MB (target < 500)", peak / 1024, None, "", peak / 1024 < 500))
        deep10 = chain(10_000)
        for command, extra in (("grad", ["--json"]), ("graph", [])):
            ours, base, _ = alternate(
                [CHAINRULE, command, deep10, "--at", "0.5", *extra],
                [CHAINRULE, "diff", deep10, "--at", "0.5", "--json"],
                3,
            )
            assert base is not None
            rows.append(
                (f"{command} depth 10,000 vs diff (target ≤ 1.5)", ours, base, f"{ours / base:.2f}", ours <= 1.5 * base)
            )
        ours, base, _ = alternate(
            [CHAINRULE, "check", deep10, "cos(x)", "--json"],
            [CHAINRULE, "diff", deep10, "--at", "0.5", "--json"],
            3,
            codes=(3,),
        )
        assert base is not None
        # met: exit 3, a verdict; a timeout (exit 1) would have stopped the benchmark
        rows.append(("check depth 10,000, wrong answer, default budget", ours, base, f"{ours / base:.2f}", True))

        ours, base, _ = alternate(
            [CHAINRULE, "diff", chain(300, ("sin",)), "--at", "0.5", "--json"], [PY, str(deep)], 3
        )
        assert base is not None
        rows.append(
            ("300-deep sin vs SymPy process (target ≥ 20×)", ours, base, f"{base / ours:.1f}×", base / ours >= 20)
        )

        sympy_import = [PY, "-c", "import sympy"]
        for flag in ("--help", "--version"):
            ours, base, _ = alternate([CHAINRULE, flag], sympy_import, args.repeat)
            assert base is not None
            rows.append(
                (
                    f"chainrule {flag} vs import sympy (target ≤ 0.5)",
                    ours,
                    base,
                    f"{ours / base:.2f}",
                    ours <= 0.5 * base,
                )
            )

        seed = [CHAINRULE, "diff", "sin((2x+1)^2)", "--at", "3"]
        for where, tty in (("piped", False), ("in a terminal", True)):
            ours, base, _ = alternate(seed, [PY, "-c", SYMPY_SEED], args.repeat, tty)
            assert base is not None
            rows.append(
                (
                    f"seed example {where} vs SymPy one-liner (≤ 1.2)",
                    ours,
                    base,
                    f"{ours / base:.2f}",
                    ours <= 1.2 * base,
                )
            )

    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {python}; {bytecode}")
    print(f"{'case':<52} {'ours':>9} {'baseline':>9} {'ratio':>7}  met")
    for case, ours_t, base_t, ratio, met in rows:
        base_text = f"{base_t:.3f}" if base_t is not None else ""
        print(f"{case:<52} {ours_t:>9.3f} {base_text:>9} {ratio:>7}  {'yes' if met else 'NO'}")


if __name__ == "__main__":
    main()
