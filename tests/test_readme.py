"""The README's examples are real: each `$ command` block prints what the README shows."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```console\n\$ (.+?)\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.parametrize(("command", "shown"), BLOCKS, ids=[c for c, _ in BLOCKS])
def test_readme_example_is_real_output(command: str, shown: str) -> None:
    if "| jq" in command and shutil.which("jq") is None:
        pytest.skip("jq is not installed")
    env = dict(os.environ, COLUMNS="100", NO_COLOR="1")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    result = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, env=env, timeout=120, cwd=README.parent
    )
    output = (result.stdout + result.stderr).rstrip()
    if result.returncode:
        output += f"\n(exit code {result.returncode})"
    assert output == shown.rstrip()


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 10
