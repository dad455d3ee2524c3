"""Beyond one machine: batch's per-line function on a Dask cluster gives batch's own output.

`chainrule.batch.result_line` is a module-level function of picklable values; a
dask.distributed LocalCluster with two worker processes runs it over 1,000 lines,
and the result must be `chainrule batch`'s output on the same file, byte for byte.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from chainrule.batch import Settings, result_line

EXPRESSIONS = [
    "(2x+1)^2",
    "sin(x^2)",
    "x^3 - 2x + 1",
    "exp(2x)",
    "ln(x^2 + 1)",
    "cos(3x)·x",
    "sqrt(x^2 + 4)",
    "tanh(x)",
    "sigmoid(2x)",
    "1/(1+x^2)",
]


def lines(count: int) -> list[str]:
    """Plain lines (with --at), JSON requests, and lines that must give errors or be skipped."""
    found = []
    for k in range(count):
        expression = EXPRESSIONS[k % len(EXPRESSIONS)]
        if k % 97 == 5:
            found.append("sinn(x)")  # an unknown function: an error document on its line
        elif k % 89 == 7:
            found.append("")  # skipped: blank
        elif k % 83 == 11:
            found.append("# a comment")
        elif k % 3 == 0:
            found.append(f'{{"expression": "{expression}", "at": {{"x": {0.1 * (k % 17) + 0.05:.2f}}}}}')
        else:
            found.append(expression)
    return found


def test_result_line_and_its_settings_pickle() -> None:
    settings = Settings.of(at="3", timeout=2)
    assert pickle.loads(pickle.dumps(settings)) == settings
    assert pickle.loads(pickle.dumps(result_line)) is result_line
    assert '"value":28.0' in result_line(1, b"(2x+1)^2\n", settings)
    assert result_line(2, "  ", settings) == '{"line":2,"skipped":"blank"}'
    assert '"error"' in result_line(3, b"x\xff", settings)


def test_a_line_in_a_worker_thread_keeps_its_time_budget() -> None:
    """Dask runs tasks in threads, where no signal arrives: the budget holds by the thread's own
    CPU clock, and the line becomes a timeout document."""
    found: list[str] = []
    slow = "sin(" * 3000 + "x" + ")" * 3000  # about 2 s of CPU time
    thread = threading.Thread(target=lambda: found.append(result_line(1, slow, Settings.of(at="0.3", timeout=0.2))))
    thread.start()
    thread.join(timeout=60)
    assert found and '"kind":"timeout"' in found[0], found


def test_a_thousand_lines_on_a_local_dask_cluster_match_chainrule_batch(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    bag = pytest.importorskip("dask.bag")
    source = tmp_path / "lines.txt"
    source.write_text("\n".join(lines(1000)) + "\n", encoding="utf-8")
    expected = subprocess.run(
        [sys.executable, "-m", "chainrule", "batch", str(source), "--at", "0.7"], capture_output=True, timeout=600
    )
    assert expected.returncode == 1  # some lines are errors, on purpose
    assert expected.stdout.count(b"\n") == 1000

    settings = Settings.of(at="0.7")
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster),
    ):
        with source.open("rb") as stream:
            numbered = bag.from_sequence(enumerate(stream, start=1), npartitions=20)
        results = numbered.starmap(result_line, settings=settings).compute()
    assert "".join(line + "\n" for line in results).encode() == expected.stdout


def test_threads_of_one_process_take_turns_and_agree_with_one_thread() -> None:
    """mpmath's precision is the process's own setting: lines run in threads at the same time
    must not change each other's checks."""
    line = "sigmoid(" * 150 + "x" + ")" * 150
    settings = Settings.of(at="0.5")
    alone = result_line(1, line, settings)
    found: list[str] = []

    def work() -> None:
        for _ in range(3):
            found.append(result_line(1, line, settings))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert found == [alone] * 9


def test_a_line_at_the_limit_reads_the_same_in_batch_and_in_result_line(tmp_path: Path) -> None:
    from chainrule.batch import MAX_LINE

    settings = Settings.of(at="1")
    for body, bom in ((b"x" + b" " * (MAX_LINE - 1), True), (b"x" + b" " * MAX_LINE, False)):
        raw = (b"\xef\xbb\xbf" if bom else b"") + body + b"\r\n"
        path = tmp_path / "line.txt"
        path.write_bytes(raw + b"x^2\n")
        shown = subprocess.run(
            [sys.executable, "-m", "chainrule", "batch", str(path), "--at", "1"], capture_output=True, timeout=120
        ).stdout.decode()
        assert shown.splitlines() == [result_line(1, raw, settings), result_line(2, b"x^2\n", settings)]
