"""Every file in examples/ runs, as a user would run it, and prints what it promises."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").iterdir())


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path: Path) -> None:
    text = path.read_text()
    match = re.search(r"expect: (.+)", text)
    assert match, f"{path.name} says what it should print with 'expect: ...'"
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    command = ["bash", str(path)] if path.suffix == ".sh" else [sys.executable, str(path)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert match.group(1).strip() in result.stdout
