"""Rebuild README.md from docs/README.template.md by running its examples.

A line `@@command` becomes a console block with the command's real output (and
its exit code when not 0); `@@@command` becomes the bare output, for a block
such as a Mermaid diagram.  tests/test_readme.py checks that the README still
matches what the commands print.  Run from the repository root, with the
chainrule under test first on PATH:  python docs/render_readme.py
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, COLUMNS="100", NO_COLOR="1")


def run(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=ENV, cwd=ROOT)


def console(match: re.Match[str]) -> str:
    command = match.group(1)
    result = run(command)
    output = (result.stdout + result.stderr).rstrip()
    code = f"\n(exit code {result.returncode})" if result.returncode else ""
    return f"```console\n$ {command}\n{output}{code}\n```"


def main() -> None:
    text = (ROOT / "docs" / "README.template.md").read_text()
    text = re.sub(r"^@@@(.+)$", lambda m: run(m.group(1)).stdout.rstrip(), text, flags=re.M)
    text = re.sub(r"^@@(.+)$", console, text, flags=re.M)
    (ROOT / "README.md").write_text(text)


if __name__ == "__main__":
    main()
