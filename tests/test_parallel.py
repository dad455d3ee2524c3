"""batch --jobs: worker processes, results in input order, streamed as they are ready."""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
from typing import Any

import pytest
from typer.testing import CliRunner

from chainrule import batch
from chainrule.cli import app

CHAINRULE = [sys.executable, "-m", "chainrule"]
MIXED = (
    '(2x+1)^2\nsinn(x)\n\n# a comment\n{"expression": "sin(x^2)", "at": {"x": 1.5}}\nln(x-4)\n\xff\nx^3\n' * 1
).encode("latin-1")


def run(*args: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CHAINRULE, "batch", *args], input=stdin, capture_output=True, timeout=120)


def test_more_jobs_write_the_same_output_byte_for_byte() -> None:
    stdin = MIXED + b"".join(f"sin({k}x)^2\n".encode() for k in range(1, 30))
    one = run("--at", "3", "--jobs", "1", stdin=stdin)
    two = run("--at", "3", "--jobs", "2", stdin=stdin)
    three = run("--at", "3", "--jobs", "3", stdin=stdin)
    assert one.returncode == two.returncode == three.returncode == 1
    assert one.stdout == two.stdout == three.stdout
    assert [json.loads(line)["line"] for line in two.stdout.splitlines()] == list(range(1, 38))


def test_a_result_is_written_before_the_next_line_arrives() -> None:
    with subprocess.Popen(
        [*CHAINRULE, "batch", "--at", "3", "--jobs", "2"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as child:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(b"(2x+1)^2\n")
        child.stdin.flush()
        ready, _, _ = select.select([child.stdout], [], [], 60)  # stdin stays open: no more lines yet
        assert ready, "the first result did not come while the input was still open"
        assert json.loads(child.stdout.readline())["derivative"]["value"] == 28
        child.stdin.close()
        assert child.wait(timeout=60) == 0


@pytest.mark.parametrize("jobs", ["0", "-1", "257"])
def test_jobs_must_be_a_sensible_number(jobs: str) -> None:
    result = run(f"--jobs={jobs}", stdin=b"x\n")
    assert result.returncode == 2 and b"--jobs" in result.stderr


def test_a_bug_in_a_worker_is_reported_on_its_line_and_the_batch_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    real = batch.differentiate

    def buggy(expression: str, **options: Any) -> Any:
        if expression == "x^5":
            raise RuntimeError("a bug")
        return real(expression, **options)

    monkeypatch.setattr(batch, "differentiate", buggy)  # the forked workers inherit it
    started = time.monotonic()
    result = CliRunner().invoke(app, ["batch", "--at", "1", "--jobs", "2"], input="x^2\nx^5\nx^3\n")
    assert time.monotonic() - started < 60
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 70
    assert docs[0]["derivative"]["value"] == 2 and docs[2]["derivative"]["value"] == 3
    assert docs[1]["error"]["kind"] == "internal" and docs[1]["line"] == 2
    assert "internal error" in result.stderr
