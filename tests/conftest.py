"""Shared helpers: an independent oracle built from Python syntax (test code only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
import sympy
from hypothesis import HealthCheck, settings
from sympy.parsing.sympy_parser import parse_expr
from typer.testing import CliRunner

from chainrule.cli import app

X = sympy.Symbol("x", real=True)

# Property tests draw the same examples on every run, so the suite's time is steady and a
# failure reproduces; CHAINRULE_HYPOTHESIS_RANDOM=1 draws new ones.
# A loaded machine (CI's two cores) must not fail a run for drawing examples slowly.
SLOW_IS_FINE = [HealthCheck.too_slow]
settings.register_profile("steady", derandomize=True, deadline=None, suppress_health_check=SLOW_IS_FINE)
settings.register_profile("random", deadline=None, suppress_health_check=SLOW_IS_FINE)
settings.load_profile("random" if os.environ.get("CHAINRULE_HYPOTHESIS_RANDOM") else "steady")


def oracle(python_text: str) -> Any:
    """A SymPy expression from trusted test text, in Python syntax."""
    local = {
        "sigmoid": lambda u: 1 / (1 + sympy.exp(-u)),
        "softplus": lambda u: sympy.log(1 + sympy.exp(u)),
        "x": X,
    }
    return parse_expr(python_text, local_dict=local)


def numeric(expr: Any, subs: dict[Any, float]) -> float:
    """An expression's value at 30 digits, with our own functions rewritten for SymPy."""
    from chainrule.rules import elementary

    e = elementary(expr)  # sigmoid, relu, softplus by their definitions, from the rule table
    value = complex(e.evalf(30, subs=subs))
    assert abs(value.imag) <= 1e-12 * max(1.0, abs(value.real)), value
    return value.real


def same_function(a: Any, b: Any, points: tuple[float, ...] = (0.3, 0.71, 1.3)) -> bool:
    """a and b agree at several points."""
    for p in points:
        va = numeric(a, {s: p for s in a.free_symbols})
        vb = numeric(b, {s: p for s in b.free_symbols})
        if abs(va - vb) > 1e-9 * max(1.0, abs(vb)):
            return False
    return True


@pytest.fixture(autouse=True)
def _a_terminal_of_100_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Terminal views are laid out for 100 columns unless a test says otherwise: the width of the
    terminal the suite happens to run in (or an xdist worker's) never changes what a test sees."""
    monkeypatch.setenv("COLUMNS", "100")


@pytest.fixture
def run() -> Any:
    """Run the CLI in-process; returns (exit code, stdout, stderr), as a terminal would receive them
    (color=True: click would otherwise strip ANSI sequences from captured output, hiding a leak)."""
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args), input=stdin, color=True)
        return result.exit_code, result.stdout, result.stderr

    return invoke


@pytest.fixture
def run_json(run: Any) -> Any:
    def invoke(*args: str) -> tuple[int, dict[str, Any]]:
        code, out, _ = run(*args, "--json")
        return code, json.loads(out, parse_constant=_reject)

    return invoke


def _reject(name: str) -> None:
    raise ValueError(f"not strict JSON: {name}")


# The console script under a probe that reports the peak resident memory of its own process
# (VmHWM: ru_maxrss of a child would count the pytest process it was forked from).
PEAK_PROBE = """
import sys
from chainrule.cli import main
code = 0
try:
    main()
except SystemExit as done:
    code = done.code
peak = [line for line in open("/proc/self/status") if line.startswith("VmHWM")][0].split()[1]
print("PEAK", peak, code, file=sys.stderr)
"""


@pytest.fixture
def measured() -> Any:
    """Run chainrule in a subprocess; (peak memory in MiB, exit code as text, stdout bytes)."""
    if not os.path.exists("/proc/self/status"):
        pytest.skip("needs Linux's /proc")

    def invoke(*args: str, stdin: Any = None) -> tuple[float, str, bytes]:
        result = subprocess.run(
            [sys.executable, "-c", PEAK_PROBE, *args], stdin=stdin, capture_output=True, timeout=120
        )
        peak_kb, code = result.stderr.decode().split("PEAK")[-1].split()
        return int(peak_kb) / 1024, code, result.stdout

    return invoke
