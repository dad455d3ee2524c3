"""Nothing lost, nothing crashes: files, batch, budgets and streams, through the real console script.

Each test runs ``python -m chainrule`` in a subprocess, as a person's shell
would: closed and full streams, signals, resource limits and symlinks only
behave truly there.  With --json, stdout must hold one strict JSON document
whenever stdout is writable.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from chainrule import budget, files
from chainrule.errors import FileError, OutOfTime

CHAINRULE = [sys.executable, "-m", "chainrule"]
SLOW = "exp(exp(exp(exp(x))))"  # its check needs many seconds at x = 3
SLOW_AT = "3"
VICTIM = b"a person's figure, made yesterday\n"


def chainrule(*args: str, stdin: bytes | None = None, **options: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CHAINRULE, *args], input=stdin, capture_output=True, timeout=120, **options)


def strict(text: bytes | str) -> Any:
    def refuse(name: str) -> None:
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def lines_of(out: bytes) -> list[dict[str, Any]]:
    return [strict(line) for line in out.decode().splitlines()]


def no_traceback(result: subprocess.CompletedProcess[bytes]) -> None:
    assert b"Traceback" not in result.stderr, result.stderr.decode()[-2000:]
    assert result.returncode != 70, result.stderr.decode()


# --- --plot never destroys a file -------------------------------------------------------------------


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "victim.png"
    path.write_bytes(VICTIM)
    return path


@pytest.mark.parametrize(
    "args",
    [
        ("diff", "x^2", "--at", "1", "--order", "11"),  # a usage error after the plot was asked for
        ("diff", "sin(" * 9000 + "x" + ")" * 9000, "--at", "0.5", "--timeout", "0.05"),  # out of time
        ("diff", "ln(x)", "--at", "-1"),  # a math error at the point
    ],
    ids=["bad-order", "timeout", "math-error"],
)
def test_a_failed_run_leaves_the_existing_file_untouched(victim: Path, args: tuple[str, ...]) -> None:
    result = chainrule(*args, "--plot", str(victim))
    no_traceback(result)
    assert result.returncode in (1, 2)
    assert victim.read_bytes() == VICTIM
    assert sorted(p.name for p in victim.parent.iterdir()) == ["victim.png"]


def test_a_successful_run_replaces_the_file_whole(victim: Path) -> None:
    result = chainrule("diff", "sin(x)", "--at", "1", "--plot", str(victim))
    assert result.returncode == 0, result.stderr
    assert victim.read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in victim.parent.iterdir()) == ["victim.png"]  # no temporary file left


def _small_files() -> None:  # in the child: files may not grow past 4 KiB, as on a full disk
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_a_full_disk_leaves_the_existing_file_untouched_and_no_partial_file(victim: Path) -> None:
    result = chainrule("diff", "sin(x)", "--at", "1", "--plot", str(victim), "--json", preexec_fn=_small_files)
    no_traceback(result)
    assert result.returncode == 2
    assert strict(result.stdout)["error"]["kind"] == "file"
    assert b"--plot cannot write" in result.stderr
    assert victim.read_bytes() == VICTIM
    assert sorted(p.name for p in victim.parent.iterdir()) == ["victim.png"]


def test_a_symlink_to_stdout_does_not_put_png_bytes_into_the_json(tmp_path: Path) -> None:
    link = tmp_path / "out.png"
    link.symlink_to("/dev/stdout")
    result = chainrule("diff", "sin(x)", "--at", "1", "--json", "--plot", str(link))
    no_traceback(result)
    assert result.returncode == 2
    doc = strict(result.stdout)  # one JSON document, no PNG bytes
    assert doc["error"]["kind"] == "file" and "is a pipe" in doc["error"]["message"]
    assert b"\x89PNG" not in result.stdout


def test_a_symlink_to_a_regular_file_is_written_through(tmp_path: Path) -> None:
    target = tmp_path / "real.png"
    target.write_bytes(VICTIM)
    link = tmp_path / "link.png"
    link.symlink_to(target)
    result = chainrule("diff", "sin(x)", "--at", "1", "--plot", str(link))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and target.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing/folder/x.png", b"does not exist"),
        ("a-folder.png", b"is a folder"),
        ("figure.gif", b"not .gif files"),
        ("figure", b"without an extension"),
        ("a-file/x.png", b"Not a directory"),  # a file where a folder should be
    ],
)
def test_a_path_that_cannot_be_written_is_exit_2_before_any_work(tmp_path: Path, name: str, message: bytes) -> None:
    (tmp_path / "a-folder.png").mkdir()
    (tmp_path / "a-file").write_text("")
    result = chainrule("diff", SLOW, "--at", SLOW_AT, "--plot", str(tmp_path / name), "--json")
    no_traceback(result)
    assert result.returncode == 2
    assert message in result.stderr
    assert strict(result.stdout)["error"]["kind"] in ("file", "usage")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_permission_denied_is_exit_2(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    result = chainrule("diff", "x", "--at", "1", "--plot", str(locked / "x.png"))
    assert result.returncode == 2 and b"Permission denied" in result.stderr


def test_a_read_only_filesystem_is_a_file_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def read_only(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(files.tempfile, "mkstemp", read_only)
    with pytest.raises(FileError, match="Read-only file system"):
        files.write_atomically(tmp_path / "x.png", b"png", "--plot")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("expression", "at"), [("1e308*x", "0"), ("exp(x)", "700"), ("x", "1e308"), ("x^2", "1e-300")])
def test_a_huge_plot_range_draws(tmp_path: Path, expression: str, at: str) -> None:
    figure = tmp_path / "p.png"
    result = chainrule("diff", expression, "--at", at, "--plot", str(figure))
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert figure.read_bytes().startswith(b"\x89PNG")


# --- batch: one output line for every input line ----------------------------------------------------


def test_every_input_line_gets_one_output_line_in_order() -> None:
    lines = [
        b'{"expression": "x", "at": {"x": 1' + b"0" * 400 + b"}}",  # an integer over 1e308
        b'{"expression": "x", "at": {"x": ' + b"9" * 5000 + b"}}",  # over Python's 4,300 digits
        b'{"a":' * 100_000,  # JSON nested 100,000 deep
        b"[" * 100_000,
        b"u1 + v1 + w1 + t1 + s1 + r1 + q1 + p1 + y + f + out + result + output + sin(x)",  # layer names
        "x" + "²" * 3000 + "",  # a long superscript
        "x⁽".encode(),
        b"sin(x)\xff",  # not UTF-8
        b"",
        b"# a comment",
        b"(2x+1)^2",
    ]
    result = chainrule(
        "batch",
        "--at",
        "3",
        stdin=b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines) + b"\n",
    )
    no_traceback(result)
    docs = lines_of(result.stdout)
    assert [d["line"] for d in docs] == list(range(1, len(lines) + 1))
    assert result.returncode == 1
    assert docs[-1]["derivative"]["value"] == 28
    assert docs[-3] == {"line": 9, "skipped": "blank"} and docs[-2] == {"line": 10, "skipped": "comment"}
    assert "not UTF-8" in docs[7]["error"]["message"]
    assert "nested" in docs[2]["error"]["message"]


def test_a_bad_byte_deep_in_the_input_loses_no_line() -> None:
    stdin = b"\n" * 5000 + b"\xff\n" + b"x\n"
    result = chainrule("batch", "--at", "1", stdin=stdin)
    no_traceback(result)
    docs = lines_of(result.stdout)
    assert len(docs) == 5002
    assert "not UTF-8" in docs[5000]["error"]["message"] and docs[5001]["derivative"]["value"] == 1


def test_utf16_is_refused_once_clearly() -> None:
    for encoding in ("utf-16", "utf-16-le", "utf-32"):
        result = chainrule("batch", "--at", "1", stdin="x^2\nsin(x)\n".encode(encoding))
        no_traceback(result)
        assert result.returncode == 2 and result.stdout == b""
        assert result.stderr.count(b"error:") == 1 and b"UTF-" in result.stderr and b"iconv" in result.stderr


def test_a_byte_order_mark_and_crlf_are_accepted() -> None:
    result = chainrule("batch", "--at", "3", stdin=b"\xef\xbb\xbf(2x+1)^2\r\nx^2\r\n")
    assert result.returncode == 0, result.stderr
    assert [d["derivative"]["value"] for d in lines_of(result.stdout)] == [28, 6]


def test_a_300_mb_line_is_rejected_in_bounded_memory(measured: Any) -> None:
    feed = "import sys\nfor _ in range(300): sys.stdout.buffer.write(b'x' * (1 << 20))\n"
    feed += "sys.stdout.buffer.write(b'\\nx\\n')"
    producer = subprocess.Popen([sys.executable, "-c", feed], stdout=subprocess.PIPE)
    assert producer.stdout is not None
    peak, code, out = measured("batch", "--at", "1", stdin=producer.stdout)
    producer.stdout.close()
    assert producer.wait(timeout=60) == 0
    first, second = lines_of(out)
    assert "the limit is 1,048,576" in first["error"]["message"]
    assert second["derivative"]["value"] == 1
    assert code == "1"
    assert peak < 300  # the line alone is 300 MB


@pytest.mark.parametrize("at", ['{"x=pi/2,y": 1}', '{"x=pi/2": 1}', '{"x": 1, "x,y": 2}', '{"": 1}'])
def test_keys_of_at_must_be_variable_names(at: str) -> None:
    result = chainrule("batch", stdin=f'{{"expression": "sin(x)", "at": {at}}}\n'.encode())
    (doc,) = lines_of(result.stdout)
    assert doc["error"]["kind"] == "usage" and "not a variable" in doc["error"]["message"]


def test_a_closed_stdin_is_a_clear_error() -> None:
    result = subprocess.run(
        ["sh", "-c", 'exec "$0" -m chainrule batch --at 1 <&-', sys.executable], capture_output=True, timeout=60
    )
    no_traceback(result)
    assert result.returncode == 2 and b"standard input is closed" in result.stderr


@pytest.mark.parametrize("source", ["/nonexistent/lines.txt", "."])
def test_an_unreadable_batch_file_is_exit_2(source: str) -> None:
    result = chainrule("batch", source)
    no_traceback(result)
    assert result.returncode == 2 and b"batch cannot read" in result.stderr


# --- interruptions and broken streams ------------------------------------------------------------


def _interrupt_after_output(args: list[str], wait_for_output: bool) -> tuple[int, bytes, bytes]:
    with subprocess.Popen(  # unbuffered: communicate() reads the pipe itself, past any read-ahead
        [*CHAINRULE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_ctrl_c_heard, bufsize=0
    ) as child:
        try:
            assert child.stdout is not None
            first = b""
            if wait_for_output:
                first = child.stdout.readline()  # the batch is under way
            else:
                _busy_for(child, 1.5)  # past start-up (about 0.6 s of CPU time): the work is under way
            child.send_signal(signal.SIGINT)
            # A Ctrl-C that SymPy's finalizers swallow is raised again within 0.05 s of CPU time.
            out, err = child.communicate(timeout=60)
        finally:
            child.kill()  # a test that failed leaves no process behind
    return child.returncode, first + out, err


def _ctrl_c_heard() -> None:
    """In the child: Ctrl-C as a terminal delivers it, even when this test runs as a background
    job (which starts with SIGINT ignored, and Python then keeps ignoring it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _busy_for(child: subprocess.Popen[bytes], seconds: float) -> None:
    """Wait until a process has used `seconds` of CPU time since it became chainrule (on a loaded
    machine wall time says little), or has ended.  The forked test runner's own CPU time before
    the exec does not count: a signal then would reach Python before it can answer."""
    ticks = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + 120
    start: float | None = None
    while time.monotonic() < deadline and child.poll() is None:
        try:
            command = Path(f"/proc/{child.pid}/cmdline").read_bytes()
            fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # it has just ended
            return
        used = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        if start is None and b"chainrule" in command:
            start = used
        if start is not None and used - start >= seconds:
            return
        time.sleep(0.01)


def test_ctrl_c_in_a_batch_keeps_every_line_written_whole(tmp_path: Path) -> None:
    source = tmp_path / "lines.txt"
    source.write_text("(2x+1)^2\n" * 3 + f"{SLOW}\n" + "sin(x)\n" * 50)
    code, out, err = _interrupt_after_output(["batch", str(source), "--at", SLOW_AT, "--timeout", "60"], True)
    assert code == 130
    docs = [strict(line) for line in out.decode().splitlines()]  # each line whole
    # In input order: the slow fourth line holds back every line after it.
    assert [d["line"] for d in docs] == list(range(1, len(docs) + 1)) and 1 <= len(docs) <= 3
    assert b"interrupted" in err and b"Traceback" not in err


def test_ctrl_c_with_json_still_gives_one_document() -> None:
    code, out, err = _interrupt_after_output(["diff", SLOW, "--at", SLOW_AT, "--timeout", "60", "--json"], False)
    assert code == 130
    assert strict(out)["error"]["kind"] == "interrupted"
    assert b"interrupted" in err and b"Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["diff", "(2x+1)^2", "--at", "3"],
        ["diff", "(2x+1)^2", "--at", "3", "--json"],
        ["batch", "--at", "3"],
        ["--help"],
        ["--version"],
    ],
)
@pytest.mark.parametrize("redirect", [">&-", ">/dev/full"])
def test_a_closed_or_full_stdout_is_a_clear_message_and_exit_74(args: list[str], redirect: str) -> None:
    command = 'exec "$0" -m chainrule "$@" ' + redirect
    result = subprocess.run(
        ["sh", "-c", command, sys.executable, *args], input=b"(2x+1)^2\n", capture_output=True, timeout=60
    )
    assert result.returncode == 74, result.stderr
    assert b"standard output" in result.stderr and b"Traceback" not in result.stderr


def test_a_reader_that_went_away_ends_the_command_quietly() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head` that has already exited
    try:
        result = subprocess.run(
            [*CHAINRULE, "diff", "(2x+1)^2", "--at", "3", "--json"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 141  # as a shell tool killed by SIGPIPE
    assert result.stderr == b""


# --- budgets -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "1e300", "3601"])
@pytest.mark.parametrize(
    "command", [["diff", "x", "--at", "1"], ["grad", "x*y", "--at", "x=1,y=2"], ["check", "x^2", "2x"]]
)
def test_timeout_takes_only_positive_finite_seconds(command: list[str], value: str) -> None:
    result = chainrule(*command, f"--timeout={value}", "--json")
    no_traceback(result)
    assert result.returncode == 2
    doc = strict(result.stdout)
    assert doc["error"]["kind"] == "usage" and "--timeout" in doc["error"]["message"]


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "1e300"])
def test_batch_timeout_takes_only_positive_finite_seconds(value: str) -> None:
    result = chainrule("batch", f"--timeout={value}", stdin=b"x\n")
    no_traceback(result)
    assert result.returncode == 2 and b"--timeout" in result.stderr


@pytest.mark.parametrize("value", ["1k", "31M", "0", "-5G", "2X", "nanG", "1e400", "9" * 50, "٣G"])
def test_memory_takes_a_size_in_range(value: str) -> None:
    result = chainrule("diff", "x", "--at", "1", f"--memory={value}", "--json")
    assert result.returncode == 2
    assert "--memory" in strict(result.stdout)["error"]["message"]


def test_memory_sizes_read_as_people_write_them() -> None:
    assert budget.memory_size("2G") == budget.memory_size("2GiB") == budget.memory_size("2048") == 2 << 30
    assert budget.memory_size("512M") == budget.memory_size("512 MB") == 512 << 20


def test_a_memory_budget_ends_with_a_clear_error() -> None:
    deep = "sin(" * 14000 + "x" + ")" * 14000  # about 80 MB above what chainrule holds at start
    result = chainrule("diff", deep, "--at", "0.5", "--json", "--memory", "32M", "--timeout", "60")
    no_traceback(result)
    assert result.returncode == 1
    assert strict(result.stdout)["error"]["kind"] == "memory"
    assert b"--memory" in result.stderr


def test_a_timeout_in_at_is_a_timeout_not_bad_input() -> None:
    at = "x=" + "sin(" * 20000 + "1" + ")" * 20000
    result = chainrule("diff", "x^2", "--at", at, "--timeout", "0.05", "--json")
    no_traceback(result)
    assert result.returncode == 1
    assert strict(result.stdout)["error"]["kind"] == "timeout"


def test_the_budget_counts_cpu_time_not_waiting() -> None:
    with budget.deadline(0.2, lambda: OutOfTime("out")):
        time.sleep(0.5)  # waiting uses no CPU time: no expiry
    with pytest.raises(OutOfTime), budget.deadline(0.2, lambda: OutOfTime("out")):
        end = time.process_time() + 5
        while time.process_time() < end:
            pass


def test_a_busy_machine_does_not_shorten_the_budget() -> None:
    burn = "import time\nend = time.monotonic() + 20\nwhile time.monotonic() < end: pass"
    burners = [subprocess.Popen([sys.executable, "-c", burn]) for _ in range(2 * (os.cpu_count() or 1))]
    try:
        result = subprocess.run(
            [*CHAINRULE, "check", "sin((2x+1)^2)", "4(2x+1)cos((2x+1)^2)", "--timeout", "3"],
            capture_output=True,
            timeout=120,
            preexec_fn=lambda: os.nice(10),
        )
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    assert result.returncode == 0, result.stderr


def test_no_timer_outlives_a_deadline_however_it_ends() -> None:
    """A deadline that expires while it is being left leaves no armed timer and our handler gone."""
    before = signal.getsignal(signal.SIGPROF)
    for k in range(300):
        seconds = 1e-4 * (k % 7 + 1)
        try:
            with budget.deadline(0.5, lambda: OutOfTime("outer")), budget.deadline(seconds, lambda: OutOfTime("inner")):
                end = time.process_time() + seconds
                while time.process_time() < end:
                    pass
        except OutOfTime:
            pass
        assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)
        assert signal.getsignal(signal.SIGPROF) == before


def test_the_alarm_never_kills_the_process() -> None:
    codes = [
        chainrule("check", "((x+1)^50+(x-1)^50)^10", "((x+1)^50+(x-1)^50)^9*(x+1)^49*500").returncode for _ in range(4)
    ]
    assert codes == [3] * 4  # never 142 (SIGALRM) or 155 (SIGPROF): a timer outliving its deadline


@pytest.mark.parametrize("cpu", [0.15, 0.3, 0.6])  # Python's own start-up (about 0.03 s) is past
def test_ctrl_c_while_starting_up_is_answered_too(cpu: float) -> None:
    child = subprocess.Popen(
        [*CHAINRULE, "diff", "(2x+1)^2", "--at", "3", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_ctrl_c_heard,
    )
    _busy_for(child, cpu)  # importing the command line, SymPy, or already at work
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert b"Traceback" not in err
    doc = strict(out)
    if child.returncode == 0:  # it finished first
        assert doc["derivative"]["value"] == 28
    else:
        # 130, or (rarely, when the signal lands as Python exits) killed by SIGINT itself, which a
        # shell reports as 130 too; either way the output is one document saying so.
        assert child.returncode in (130, -signal.SIGINT) and doc["error"]["kind"] == "interrupted"


# --- found by red-teaming the above ----------------------------------------------------------


@pytest.mark.parametrize("redirect", [">", ">>"])
def test_plot_through_a_link_to_stdout_never_replaces_the_output_file(tmp_path: Path, redirect: str) -> None:
    link = tmp_path / "so.png"
    link.symlink_to("/dev/stdout")
    output = tmp_path / "out.json"
    output.write_text("precious\n")
    command = f'exec "$0" -m chainrule diff "sin(x)" --at 1 --json --plot "$1" {redirect} "$2"'
    result = subprocess.run(["sh", "-c", command, sys.executable, str(link), str(output)], capture_output=True)
    assert result.returncode == 2 and b"output goes to" in result.stderr
    text = output.read_text()
    if redirect == ">>":
        assert text.startswith("precious\n")
        text = text.removeprefix("precious\n")
    assert strict(text)["error"]["kind"] == "file"


def test_stdout_that_fills_up_part_way_is_exit_74_not_a_silent_truncation(tmp_path: Path) -> None:
    output = tmp_path / "o.json"
    with output.open("wb") as stream:
        result = subprocess.run(
            [*CHAINRULE, "diff", "sin(x)", "--at", "1", "--json"],
            stdout=stream,
            stderr=subprocess.PIPE,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512)),
        )
    assert result.returncode == 74 and b"File too large" in result.stderr


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_without_a_byte_order_mark_are_refused(encoding: str) -> None:
    result = chainrule("batch", stdin="x^2\nsin(x)\n".encode(encoding))
    assert result.returncode == 2 and result.stdout == b"" and b"iconv" in result.stderr


def test_a_short_line_with_a_zero_byte_is_an_error_on_that_line_only() -> None:
    result = chainrule("batch", "--at", "1", stdin=b"\0x\nsin(x)\n")
    first, second = lines_of(result.stdout)
    assert first["error"]["kind"] == "parse" and second["derivative"]["value"] == pytest.approx(0.5403023058681398)


@pytest.mark.parametrize("redirect", ["2>&-", "2>/dev/full"])
def test_a_closed_or_full_stderr_leaves_one_json_document(redirect: str) -> None:
    for args in (["diff", "1/x", "--at", "0", "--json"], ["diff", "sin", "--json", "--bogus"]):
        command = 'exec "$0" -m chainrule "$@" ' + redirect
        result = subprocess.run(["sh", "-c", command, sys.executable, *args], capture_output=True, timeout=60)
        assert result.returncode in (1, 2)
        assert "error" in strict(result.stdout)


@pytest.mark.parametrize("args", [["--help"], ["schema", "diff"], ["batch", "--help"]])
def test_a_reader_that_went_away_is_141_for_every_command(args: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([*CHAINRULE, *args], stdout=write_end, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(write_end)
    assert result.returncode == 141 and b"Traceback" not in result.stderr


class _First(Exception):
    pass


class _Second(Exception):
    pass


def _busy(n: int) -> None:
    total = 0
    for k in range(n):
        total += k * k


def test_nested_deadlines_expiring_at_random_moments_never_leave_one_behind() -> None:
    """The signal may land while a deadline is entered or left; none may stay on the stack."""
    import random

    chance = random.Random(7)
    before = signal.getsignal(signal.SIGPROF)
    for _ in range(3000):
        try:
            with budget.deadline(chance.uniform(1e-4, 3e-3), _First):
                try:
                    with budget.deadline(chance.uniform(1e-4, 3e-3), _Second):
                        _busy(chance.randint(0, 20000))
                except _Second:
                    _busy(chance.randint(0, 3000))
                budget.attempt(chance.uniform(1e-4, 2e-3), lambda: _busy(chance.randint(0, 5000)))
                _busy(chance.randint(0, 3000))
        except _First:
            pass
        assert budget._stack == []
        assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)
        assert signal.getsignal(signal.SIGPROF) == before


# --- a batch stopped while it reads a pipe: Ctrl-C, SIGTERM, SIGHUP, SIGKILL ------------------------

PIPE_LINES = b"sin(x)\n"  # written first; the batch then waits on the open pipe, or on a slow line


class _Batch:
    """`chainrule batch --at 3` reading a pipe that this test keeps open, writing to a file."""

    def __init__(self, tmp_path: Path, jobs: int) -> None:
        self.out_path, self.err_path = tmp_path / f"out{jobs}", tmp_path / f"err{jobs}"
        read_end, self.feed = os.pipe()
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.child = subprocess.Popen(
                [*CHAINRULE, "batch", "--at", "3", "--jobs", str(jobs), "--timeout", "60"],
                stdin=read_end,
                stdout=out,
                stderr=err,
                preexec_fn=_ctrl_c_heard,
            )
        os.close(read_end)

    def write(self, data: bytes) -> None:
        os.write(self.feed, data)

    def wait_for_lines(self, count: int) -> None:
        deadline = time.monotonic() + 120
        while self.out_path.read_bytes().count(b"\n") < count:
            assert time.monotonic() < deadline and self.child.poll() is None, self.err_path.read_bytes()
            time.sleep(0.02)

    def workers(self) -> list[int]:
        found: list[int] = []
        for task in Path(f"/proc/{self.child.pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):
                found += [int(pid) for pid in (task / "children").read_text().split()]
        return found

    def stop(self, signum: int) -> tuple[int, bytes, bytes]:
        self.child.send_signal(signum)
        try:
            code = self.child.wait(timeout=60)
        finally:
            self.child.kill()
            os.close(self.feed)  # only now: the input stays open while the batch ends
        return code, self.out_path.read_bytes(), self.err_path.read_bytes()


def alive(pid: int) -> bool:
    """Whether a process still runs (a zombie has ended: its parent, now init, only has to reap it)."""
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (ProcessLookupError, FileNotFoundError):
        return False
    return state not in ("Z", "X")


def none_alive(pids: list[int]) -> bool:
    deadline = time.monotonic() + 10  # the kernel's SIGKILL of an orphan takes an instant
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(alive(pid) for pid in pids)


def whole_lines(out: bytes) -> list[dict[str, Any]]:
    assert out == b"" or out.endswith(b"\n"), out[-200:]
    return lines_of(out)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_while_batch_waits_on_a_pipe_is_exit_130_with_only_our_message(tmp_path: Path, jobs: int) -> None:
    for run in range(3):  # it aborted 4 times in 4 (SIGABRT, "could not acquire lock for <stdin>")
        (tmp_path / str(run)).mkdir()
        batch = _Batch(tmp_path / str(run), jobs)
        batch.write(PIPE_LINES)
        batch.wait_for_lines(1)
        code, out, err = batch.stop(signal.SIGINT)
        assert code == 130, err
        assert err == b"interrupted: the lines written so far are complete\n"
        [doc] = whole_lines(out)
        assert doc["line"] == 1 and doc["derivative"]["value"] == pytest.approx(math.cos(3), rel=1e-15)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("jobs", [1, 2])
def test_sigterm_or_sighup_keeps_every_line_and_leaves_no_worker(tmp_path: Path, signum: int, jobs: int) -> None:
    batch = _Batch(tmp_path, jobs)
    batch.write(PIPE_LINES + f"{SLOW}\n".encode() * 3 + b"x^2\n")  # the workers are busy on slow lines
    batch.wait_for_lines(1)
    workers = batch.workers()
    assert len(workers) == (jobs if jobs > 1 else 0)
    time.sleep(0.3)  # under way on the slow lines
    code, out, err = batch.stop(signum)
    assert code == 128 + signum, err
    name = signal.Signals(signum).name
    assert err == f"stopped by {name}: the lines written so far are complete\n".encode()
    docs = whole_lines(out)
    assert [d["line"] for d in docs] == [1] and docs[0]["derivative"]["value"] == pytest.approx(math.cos(3))
    assert none_alive(workers), [pid for pid in workers if alive(pid)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's parent-death signal is Linux's")
def test_a_batch_killed_outright_takes_its_workers_with_it(tmp_path: Path) -> None:
    batch = _Batch(tmp_path, 2)
    batch.write(PIPE_LINES + f"{SLOW}\n".encode() * 3)
    batch.wait_for_lines(1)
    workers = batch.workers()
    assert len(workers) == 2
    code, out, _ = batch.stop(signal.SIGKILL)  # no handler runs: the kernel ends the workers
    assert code == -signal.SIGKILL and [d["line"] for d in whole_lines(out)] == [1]
    assert none_alive(workers), [pid for pid in workers if alive(pid)]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_to_a_command_with_json_gives_one_document(signum: int) -> None:
    child = subprocess.Popen(
        [*CHAINRULE, "diff", SLOW, "--at", SLOW_AT, "--timeout", "60", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _busy_for(child, 1.5)  # past start-up: the work is under way
    child.send_signal(signum)
    out, err = child.communicate(timeout=60)
    name = signal.Signals(signum).name
    assert child.returncode == 128 + signum and err == f"error: stopped by {name}\n".encode()
    doc = strict(out)["error"]
    assert doc["kind"] == "interrupted" and doc["message"] == f"stopped by {name}"


def test_a_hangup_that_is_ignored_stays_ignored(tmp_path: Path) -> None:
    """nohup: a closed terminal must not stop the batch."""
    script = tmp_path / "lines.txt"
    script.write_text("sin(x)\n" * 3)
    command = f'trap "" HUP; exec "$0" -m chainrule batch "{script}" --at 3 & pid=$!; kill -HUP $pid; wait $pid'
    result = subprocess.run(["sh", "-c", command, sys.executable], capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(whole_lines(result.stdout)) == 3


# --- a write that fails part way leaves whole lines --------------------------------------------------


def _limited(size: int) -> Any:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    return apply


BATCH_INPUT = b"sin((2x+1)^2)\nx^2\n1/x\n(3x+1)^2\nsigmoid(x)\n" * 4


@pytest.mark.parametrize("mode", ["wb", "ab"])  # > and >>
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_file_size_limit_leaves_the_output_whole_up_to_the_last_line(tmp_path: Path, mode: str, jobs: str) -> None:
    args = ["batch", "--at", "3", "--jobs", jobs]
    reference = chainrule(*args, stdin=BATCH_INPUT).stdout.splitlines(keepends=True)
    before = b'{"earlier": "output"}\n'
    for limit in (len(before) + 10, len(before) + len(reference[0]) + 1, 1000, 4321, 9000):
        output = tmp_path / "out.ndjson"
        output.write_bytes(before)
        with output.open(mode) as stream:
            result = subprocess.run(
                [*CHAINRULE, *args],
                input=BATCH_INPUT,
                stdout=stream,
                stderr=subprocess.PIPE,
                preexec_fn=_limited(limit),
            )
        kept = output.read_bytes()
        start = before if mode == "ab" else b""
        # the oracle: the most whole lines of the unlimited run that fit under the limit
        fitting, size = 0, len(start)
        while fitting < len(reference) and size + len(reference[fitting]) <= limit:
            size += len(reference[fitting])
            fitting += 1
        assert kept == start + b"".join(reference[:fitting]), (limit, kept[-200:])
        assert result.returncode == 74 and b"File too large" in result.stderr
        whole_lines(kept[len(start) :])


@pytest.mark.parametrize(
    "args",
    [
        ["diff", "sin((2x+1)^2)", "--at", "3", "--json"],
        ["grad", "c = a*b; d = c + 1; loss = d^2", "--at", "a=2,b=3", "--json"],
        ["check", "sin(x^2)", "cos(x^2)", "--json"],
        ["diff", "sin((2x+1)^2)", "--at", "3", "--explain"],
    ],
)
@pytest.mark.parametrize("mode", ["wb", "ab"])
def test_a_file_size_limit_leaves_no_half_document(tmp_path: Path, args: list[str], mode: str) -> None:
    reference = chainrule(*args)
    whole = reference.stdout
    before = b"kept\n"
    start = before if mode == "ab" else b""  # what the file holds when the command begins
    output = tmp_path / "out.json"
    for room in (1, len(whole) // 2, len(whole) - 1, len(whole)):
        output.write_bytes(before)
        with output.open(mode) as stream:
            result = subprocess.run(
                [*CHAINRULE, *args],
                stdout=stream,
                stderr=subprocess.PIPE,
                preexec_fn=_limited(len(start) + room),
                timeout=60,
            )
        if room < len(whole):
            assert result.returncode == 74 and b"File too large" in result.stderr
            assert output.read_bytes() == start  # nothing of the document
        else:
            assert result.returncode == reference.returncode and output.read_bytes() == start + whole  # all of it


@pytest.mark.parametrize(
    "args",
    [["batch", "--at", "3", "--jobs", "1"], ["batch", "--at", "3", "--jobs", "2"], ["check", "x^2", "2x", "--json"]],
)
def test_a_full_device_writes_nothing_and_says_so(args: list[str]) -> None:
    result = subprocess.run(
        ["sh", "-c", 'exec "$0" -m chainrule "$@" >/dev/full', sys.executable, *args],
        input=BATCH_INPUT,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 74, result.stderr
    assert result.stderr == b"error: the results cannot be written to standard output: No space left on device\n"
