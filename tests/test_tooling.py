"""ruff and mypy are clean, and CI runs the test command the README gives."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_lint() -> None:
    result = run("ruff", "check", "src", "tests", "examples", "benchmarks", "docs")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = run("ruff", "format", "--check", "src", "tests", "examples", "benchmarks", "docs")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_src() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- test-command -->\s*```sh\n(.+?)\n```", readme)
    assert match, "README.md marks its test command with <!-- test-command -->"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "test-command" in ci  # .ci/run reads the command from README.md
