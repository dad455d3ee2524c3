"""The command line.  The only module that touches argv, stdout, stderr and exit codes.

Each command computes one result, asks the registry of views
(:mod:`chainrule.render.registry`) for the renderer of the chosen format, and
prints what it returns.  Heavy modules (SymPy, mpmath, the engine) are
imported inside the commands, so ``chainrule --help`` and ``chainrule
--version`` start quickly; the start-up machinery is in :mod:`chainrule.startup`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
import typer.core

from chainrule import __version__, startup
from chainrule.budget import DEFAULT_MEMORY_TEXT, DEFAULT_SECONDS
from chainrule.errors import (
    ChainruleError,
    Concern,
    InputError,
    Interrupted,
    Name,
    OutOfMemory,
    UsageError,
    pairs,
    quoted,
)

if TYPE_CHECKING:
    from chainrule.batch import Settings

MAX_JOBS = 256
EXIT_OK = 0
EXIT_MATH = 1  # a mathematical problem at the point, or the time budget
EXIT_INPUT = 2  # bad input or usage
EXIT_DISAGREES = 3  # the check disagrees with the chain rule; check: the answer is wrong
EXIT_UNDECIDED = 4  # check: neither a proof nor enough points to judge the answer
EXIT_INTERNAL = 70  # a bug in chainrule
EXIT_OUTPUT = 74  # stdout is closed or full: the results could not be written
EXIT_INTERRUPTED = 130  # Ctrl-C
EXIT_BROKEN_PIPE = 141  # the reader of stdout went away (| head): quietly, as a shell tool does
_AS_SCRIPT: list[bool] = []  # non-empty when main() runs the console script
_STOPPING_TOO = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
_HANDLED: list[int] = []  # of those, the ones main() answers as Ctrl-C (not ignored by the caller)
BUG_REPORT = "this is a bug in chainrule; please report it with the command you ran"


def _shell(text: str) -> str:
    """An option's value as a shell takes it: in double quotes when it has blanks."""
    return f'"{text}"' if " " in text else text


def _at_example(spec: str) -> str:
    return "--at " + _shell(",".join(f"{k}={v}" for k, v in pairs(spec)))


def _grad_example(spec: str) -> str:
    program, _, point = spec.partition(";")
    return f'chainrule grad "{program}" {_at_example(point)}'


# The inputs by their flags: errors below the command line name them by concept ("the point");
# every message a command prints is worded with these (ChainruleError.word).
def _shape_example(spec: str) -> str:
    return "--shape " + _shell(",".join(spec.split(";")))


FLAGS: dict[str, Name] = {
    Concern.point.value: Name("--at", _at_example),
    Concern.variables.value: Name("--wrt"),
    Concern.shapes.value: Name("--shape", _shape_example),
    Concern.seed.value: Name("--seed"),
    Concern.granularity.value: Name("--granularity"),
    Concern.order.value: Name("--order"),
    Concern.grad.value: Name("chainrule grad", _grad_example),
}


class View(str, Enum):
    sensitivity = "sensitivity"


class Granularity(str, Enum):
    functions = "functions"
    ops = "ops"


# The argument parser's own error class: click's, whether typer vendors click or not.
_PARSER_ERROR: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class _Group(typer.core.TyperGroup):
    """Errors found while reading the command line also answer in JSON when --json was asked for."""

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> NoReturn:
        argv = list(sys.argv[1:] if args is None else args)
        formats = [a for a in argv if a == "--format" or a.startswith("--format=")]
        if len(formats) > 1:  # the parser would keep the last one; a JSON reader would wait for the first
            err = UsageError("choose one format: --format was given more than once")
            _say(f"error: {err.message}")
            _early_document(argv, err)
            sys.exit(EXIT_INPUT)
        try:
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except _PARSER_ERROR as err:
            err.message = quoted(err.message, 300, bare=True)  # type: ignore[attr-defined]  # a 40 KB value
            with contextlib.suppress(OSError):  # stderr full: the exit code and the JSON still tell
                err.show()  # type: ignore[attr-defined]
            _early_document(argv, UsageError(err.format_message()))  # type: ignore[attr-defined]
            sys.exit(EXIT_INPUT)
        except typer.Abort as abort:  # Ctrl-C (SIGTERM, SIGHUP) while the command line was being read
            cause = abort.__cause__
            _interrupted_early(argv, cause if isinstance(cause, KeyboardInterrupt) else None)
        except SystemExit as done:  # click ends a broken pipe (help text to `| head`) with exit 1
            if done.code == 1 and type(sys.stdout).__name__ == "PacifyFlushWrapper":
                sys.exit(EXIT_BROKEN_PIPE)
            raise
        sys.exit(code if isinstance(code, int) else EXIT_OK)


def _early_document(argv: list[str], err: ChainruleError) -> None:
    """With --json, the one document for an error found before a command's work began."""
    if startup.wants_json(argv):
        from chainrule.render.documents import early_document

        _print_or_exit(early_document(argv, err, ascii=_ascii()))


def _interrupted_early(argv: list[str], stop: KeyboardInterrupt | None = None) -> NoReturn:
    """Ctrl-C (or SIGTERM, SIGHUP) before a command began its work: said on stderr, and in JSON
    with --json."""
    _heard()
    answer = _interruption(stop or KeyboardInterrupt())
    _say(f"error: {answer.message}")
    _early_document(argv, answer)
    sys.exit(_signal_exit(answer.signum))


app = typer.Typer(
    name="chainrule",
    cls=_Group,
    help="The chain rule, step by step: layers, local derivatives, their product, and a check.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"chainrule {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    """The chain rule, step by step: layers, local derivatives, their product, and a check."""


def _exit_code(err: ChainruleError) -> int:
    # A mathematical problem, the time budget, and any other error about the computation: 1.
    return EXIT_INPUT if isinstance(err, InputError) else EXIT_MATH


def _color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _ascii() -> bool:
    """Whether stdout needs the ASCII forms (a C or Latin-1 locale), not the lessons' notation."""
    return not startup.stream_is_unicode(sys.stdout)


MIN_WIDTH, MAX_WIDTH = 20, 240  # columns the terminal views are laid out for


def _width() -> int:
    return max(MIN_WIDTH, min(shutil.get_terminal_size(fallback=(100, 24)).columns, MAX_WIDTH))


class _OutputLost(Exception):
    """stdout cannot take the output (closed, full, or the reader went away)."""

    def __init__(self, error: OSError | None) -> None:
        super().__init__(error)
        self.error = error


@contextmanager
def _whole() -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP wait until the block (writing one result) is done, so output stays
    well formed."""
    from chainrule.budget import held

    with held():
        yield


def _emit(text: str, final: bool = False) -> None:
    """Write text (and a newline) to stdout, all of it; _OutputLost if it cannot be written.

    Straight to the file descriptor, in a loop: a buffered stream may drop the
    rest of a short write (a file at its size limit) without an error.  When
    a file cannot take all of it (a full disk, a size limit), the part that was
    written is taken back, so the file ends with the last whole line (NDJSON)
    or whole document.  After the `final` output, a Ctrl-C (held back while it
    is written) is ignored: it could only turn a complete answer into an
    interruption.
    """
    stream = sys.stdout
    if stream is None:
        raise _OutputLost(None)
    text = text if text.endswith("\n") else text + "\n"
    with _whole():
        try:
            stream.flush()
            fd = _fileno(stream)
            if fd is None:  # not a file (tests capture stdout in memory)
                stream.write(text)
                stream.flush()
                return
            data = memoryview(text.encode(stream.encoding or "utf-8", stream.errors or "strict"))
            start, written = _file_end(fd), 0
            try:
                while written < len(data):
                    written += os.write(fd, data[written:])
            except OSError:
                _take_back(fd, start, written)
                raise
        except OSError as err:
            raise _OutputLost(err) from None
        finally:
            if final:
                _finished()


def _file_end(fd: int) -> int | None:
    """Where output written to `fd` will begin, when it is a regular file (a pipe or a terminal
    cannot take anything back): the file's end when it appends (>>), its offset otherwise."""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.fstat(fd).st_size if _appends(fd) else os.lseek(fd, 0, os.SEEK_CUR)
    except OSError:
        return None


def _appends(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: an offset is where the next write goes
        return False
    return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND)


def _take_back(fd: int, start: int | None, written: int) -> None:
    """A write that failed part way: cut the file back to where it began, so that no half line (or
    half document) is left, when what follows `start` is only what this write put there."""
    if start is None or written == 0:
        return
    with contextlib.suppress(OSError):
        end = os.fstat(fd).st_size if _appends(fd) else os.lseek(fd, 0, os.SEEK_CUR)
        if end == start + written:  # nobody else wrote to the file meanwhile
            os.ftruncate(fd, start)
            os.lseek(fd, start, os.SEEK_SET)


def _fileno(stream: Any) -> int | None:
    try:
        return int(stream.fileno())
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return None


def _say(text: str) -> None:
    """A message on stderr.  A stderr that cannot take it (closed, full) is not an error:
    the exit code, and with --json the document on stdout, still tell."""
    with contextlib.suppress(OSError, ValueError):
        typer.echo(text, err=True)


def _lost(lost: _OutputLost) -> NoReturn:
    """stdout failed: say so on stderr (unless the reader simply went away) and exit."""
    raise typer.Exit(_lost_code(lost.error))


def _lost_code(err: OSError | None) -> int:
    """Report a failed stdout; the exit code.  Later writes (and the final flush) go nowhere."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    if err is not None and err.errno == errno.EPIPE:
        return EXIT_BROKEN_PIPE
    why = "it is closed" if err is None or err.errno == errno.EBADF else (err.strerror or str(err))
    _say(f"error: the results cannot be written to standard output: {why}")
    return EXIT_OUTPUT


def _streams() -> tuple[int, ...]:
    """The file descriptors of stdout and stderr, which --plot must never write over."""
    found = []
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            found.append(stream.fileno())
    return tuple(found)


def _out_of_memory() -> OutOfMemory:
    return OutOfMemory(
        "the computation needed more memory than its budget",
        hint=f"raise it with --memory SIZE (the default is {DEFAULT_MEMORY_TEXT})",
    )


def _run(
    json_mode: bool, schema: str, work: Callable[[], tuple[str, int]], after: Callable[[], None] | None = None
) -> NoReturn:
    """Run a command's work; turn its errors into messages and exit codes.

    `after` runs once the work has succeeded, before anything is printed (it
    writes --plot's file).  A bug (any exception that is not ours) is exit 70
    with a one-line message, and with --json still one JSON document; set
    CHAINRULE_DEBUG=1 to see its traceback.
    """
    try:
        try:
            startup.settle()
            text, code = work()
            if after is not None:
                after()
        except MemoryError:
            raise _out_of_memory() from None
        except KeyboardInterrupt as stop:
            _heard()
            raise _interruption(stop) from None
    except ChainruleError as err:
        err.word(FLAGS)
        _say(err.describe())
        if json_mode:
            from chainrule.render.documents import dumps, error_document

            _print_or_exit(dumps(error_document(err, schema), ascii=_ascii()))
        raise typer.Exit(_signal_exit(err.signum) if isinstance(err, Interrupted) else _exit_code(err)) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as err:
        if os.environ.get("CHAINRULE_DEBUG"):
            raise
        message = f"internal error ({type(err).__name__}): {BUG_REPORT}"
        _say(message)
        if json_mode:
            from chainrule.render.documents import dumps, internal_document

            _print_or_exit(dumps(internal_document(message, schema), ascii=_ascii()))
        raise typer.Exit(EXIT_INTERNAL) from None
    _print_or_exit(text)
    raise typer.Exit(code)


def _heard() -> None:
    """A Ctrl-C (or SIGTERM, SIGHUP) is being answered (exit 128 + signum): no further one may cut
    the answer short."""
    from chainrule.budget import heard

    heard()
    _finished()


def _interruption(stop: KeyboardInterrupt) -> Interrupted:
    """The error that answers a stopping signal: 'interrupted' for Ctrl-C, 'stopped by SIGTERM'."""
    from chainrule.budget import signal_of

    signum = signal_of(stop)
    if signum == signal.SIGINT:
        return Interrupted("interrupted")
    return Interrupted(f"stopped by {signal.Signals(signum).name}", signum=signum)


def _signal_exit(signum: int) -> int:
    """A shell's exit code for a command ended by a signal: 128 + its number (130 for Ctrl-C)."""
    return 128 + signum


def _finished() -> None:
    """The output is written: a Ctrl-C from now on would only turn a success into exit 130, and a
    SIGTERM or SIGHUP ends the process as it would any other (nothing is left half written).

    Only in the console script: in-process callers (tests) keep their own handlers."""
    if _AS_SCRIPT and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for signum in _HANDLED:
            signal.signal(signum, signal.SIG_DFL)


def _print_or_exit(text: str) -> None:
    """The command's one output (its result, or its error document)."""
    try:
        _emit(text, final=True)
    except _OutputLost as lost:
        _lost(lost)


@contextmanager
def _budgets(timeout: float, memory: str) -> Iterator[None]:
    """The command's budgets of CPU time and memory, checked as a person gave them."""
    from chainrule import budget

    seconds, limit = budget.seconds(timeout), budget.memory_size(memory)
    with budget.within(seconds, limit, _timeout_error):
        yield


def _arrays_first(source: str, shape: str | None) -> None:
    """numpy, imported before the memory budget when the program may be on tensors: its libraries
    map more address space than a small --memory leaves (the budget is counted above what is held)."""
    from chainrule.tensor import may_need_arrays

    if may_need_arrays(source, shape):
        import numpy  # noqa: F401


def _point(at: str | None) -> Any:
    """--at, read once (chainrule.points): every command takes the point from here."""
    from chainrule import points

    return None if at is None else points.read(at)


def _timeout_error() -> ChainruleError:
    from chainrule.budget import OutOfTime

    return OutOfTime("the computation took longer than the time budget", hint="raise it with --timeout SECONDS")


Expression = Annotated[
    str, typer.Argument(help="The expression, as on paper: \"sin((2x+1)^2)\"; '-' reads it from standard input.")
]
At = Annotated[
    str | None,
    typer.Option("--at", help="The point: a number (3, pi/4) or name=value pairs (x=0.7,y=1.3)."),
]
Explain = Annotated[bool, typer.Option("--explain", help="Show the lesson, step by step.")]
Json = Annotated[bool, typer.Option("--json", help="One strict JSON document on stdout.")]
ShapeOption = Annotated[
    str | None,
    typer.Option("--shape", help="Vectors and matrices by shape, with values drawn by --seed: W1=8x4,b1=8,x=4."),
]
SeedOption = Annotated[
    int | None, typer.Option("--seed", help="The seed of the small values --shape draws (default 0).")
]
LatexDocument = Annotated[
    bool,
    typer.Option("--latex-document", help="A whole LaTeX document (--format latex gives a fragment to paste)."),
]
FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format", help="text, explain, json, latex, latex-document, markdown or html (as the command has them)."
    ),
]
GranularityOption = Annotated[
    Granularity,
    typer.Option("--granularity", help="functions: the lesson's layers; ops: every operation a node."),
]
Timeout = Annotated[
    float,
    typer.Option("--timeout", help="Give up after this many seconds of CPU time (above 0, at most 3600)."),
]
Memory = Annotated[
    str,
    typer.Option(
        "--memory",
        help="Give up beyond this much memory, above what chainrule holds at start: 512M, 2G, ... (from 32M to 1T).",
    ),
]
TAKES_MINUS = {"ignore_unknown_options": True}  # "-x^2" is an expression, not an option


MAX_STDIN = 16 << 20  # bytes of an expression or program read from standard input ('-')


def _source(argument: str, what: str = "the expression") -> str:
    """The argument as given, or for '-' all of standard input: a program too long for a command
    line (a shell passes at most 128 KiB in one argument), such as a network's 10,000 weights."""
    if argument != "-":
        return argument
    from chainrule.errors import FileError

    if sys.stdin is None:
        raise FileError(
            f"{what} is '-', but standard input is closed", hint="pipe the text in, or give it as an argument"
        )
    stream = getattr(sys.stdin, "buffer", None)
    try:
        data = stream.read(MAX_STDIN + 1) if stream is not None else sys.stdin.read(MAX_STDIN + 1).encode()
    except OSError as err:  # opened for writing only, a directory, ...
        raise FileError(f"{what} is '-', but standard input cannot be read: {err.strerror or err}") from None
    if data is None:  # a non-blocking stream with nothing in it yet
        raise FileError(f"{what} is '-', but standard input has nothing to read yet (it is non-blocking)")
    if len(data) > MAX_STDIN:
        raise InputError(f"{what} on standard input is longer than {MAX_STDIN:,} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        bad = data[err.start]
        raise InputError(
            f"{what} on standard input is not UTF-8 text: byte 0x{bad:02x} at byte {err.start + 1} ({err.reason})"
        ) from None
    if not text.strip():
        raise InputError(f"{what} on standard input is empty")
    return text.replace("\r\n", "\n")  # a program saved with Windows line endings


def _format(format_: str | None, json_: bool, explain: bool = False, document: bool = False) -> str:
    """The format asked for by --format, --json, --explain or --latex-document; asking for two is a
    usage error (--latex-document with --format latex is one: the whole document)."""
    chosen = format_.lower() if format_ is not None else None
    if document and chosen in (None, "latex"):
        chosen = "latex-document"
    elif document:
        raise UsageError(f"--latex-document writes LaTeX: it cannot go with --format {chosen}")
    asked = {f for f, on in ((chosen, chosen is not None), ("json", json_), ("explain", explain)) if on}
    if len(asked) > 1:
        shown = ", ".join(quoted(str(a), 20, bare=True) for a in sorted(map(str, asked)))
        raise UsageError(f"choose one format: {shown} were asked for together")
    if chosen is not None:
        return chosen
    return "json" if json_ else "explain" if explain else "text"


def _json_mode(format_: str | None, json_: bool) -> bool:
    return json_ or (format_ or "").lower() == "json"


def _renderer(view: str, chosen: str, full: bool = False) -> Callable[[Any], str]:
    """The registry's renderer for the chosen format, on this terminal."""
    from chainrule.render.registry import Terminal, renderer

    render = renderer(view, chosen)
    terminal = Terminal(color=_color(), width=_width(), ascii=_ascii(), full=full)
    return lambda result: render(result, terminal)


@app.command(context_settings=TAKES_MINUS)
def diff(
    expression: Expression,
    at: At = None,
    wrt: Annotated[str | None, typer.Option("--wrt", help="The variable to differentiate by.")] = None,
    explain: Explain = False,
    json_: Json = False,
    latex_document: LatexDocument = False,
    format_: FormatOption = None,
    granularity: GranularityOption = Granularity.functions,
    timeout: Timeout = DEFAULT_SECONDS,
    memory: Memory = DEFAULT_MEMORY_TEXT,
    view: Annotated[
        View | None,
        typer.Option("--view", help="sensitivity: only how each layer scales a wiggle (needs --at)."),
    ] = None,
    order: Annotated[int, typer.Option("--order", help="The order of the derivative: 2 for the second, ...")] = 1,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Draw f, its tangent and its derivative to a .png or .svg file (needs --at)."),
    ] = None,
    window: Annotated[
        str | None, typer.Option("--window", help="The x-range of --plot: a,b (default: around the point).")
    ] = None,
) -> None:
    """Differentiate an expression by the chain rule, layer by layer.

    Exit codes: 0 ok, 1 a mathematical problem at the point or out of time,
    2 bad input, 3 the check disagrees with the chain rule.
    """
    json_mode = _json_mode(format_, json_)
    figure: list[bytes] = []

    def work() -> tuple[str, int]:
        from chainrule.derive import differentiate

        render = _renderer(
            "diff --view sensitivity" if view is View.sensitivity else "diff",
            _format(format_, json_, explain, latex_document),
        )
        if plot is not None:  # before the work: a path that cannot be written is found at once
            from chainrule.files import writable
            from chainrule.render.plot_view import kind_of

            kind_of(plot)
            writable(plot, "--plot", _streams())
        if window is not None and plot is None:
            raise UsageError("--window sets the x-range of --plot: give --plot FILE too")
        span = None
        if window is not None:
            from chainrule.render.plot_view import parse_window

            span = parse_window(window)
        with _budgets(timeout, memory):
            source = _source(expression)
            result = differentiate(source, wrt=wrt, at=_point(at), granularity=granularity.value, order=order)
            text = render(result)
            if plot is not None:
                from chainrule.render.plot_view import plot as draw

                figure.append(draw(result, kind_of(plot), span))
        wrong = (result.check is not None and result.check.agrees is False) or any(
            o.agrees is False for o in result.orders
        )
        return text, EXIT_DISAGREES if wrong else EXIT_OK

    def write_plot() -> None:  # only once everything else has succeeded; whole, or not at all
        if plot is not None and figure:
            from chainrule.files import write_atomically

            write_atomically(plot, figure[0], "--plot", _streams())

    _run(json_mode, "chainrule.diff/1", work, after=write_plot)


@app.command(context_settings=TAKES_MINUS)
def grad(
    expression: Annotated[
        str,
        typer.Argument(
            help='An expression, or bindings: "c = a*b; d = c + 1; loss = d^2" (or one per line); '
            "'-' reads them from standard input."
        ),
    ],
    at: At = None,
    wrt: Annotated[
        str | None, typer.Option("--wrt", help="The variables to differentiate by (default: all), e.g. w1,b1.")
    ] = None,
    explain: Explain = False,
    json_: Json = False,
    latex_document: LatexDocument = False,
    format_: FormatOption = None,
    granularity: GranularityOption = Granularity.functions,
    timeout: Timeout = DEFAULT_SECONDS,
    memory: Memory = DEFAULT_MEMORY_TEXT,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Every node, step and partial in the text and explain views, not a summary of a large one."
        ),
    ] = False,
    shape: ShapeOption = None,
    seed: SeedOption = None,
    view: Annotated[
        View | None,
        typer.Option("--view", help="sensitivity: only how each layer scales the adjoint on its way back."),
    ] = None,
) -> None:
    """Backpropagation on the computational graph: forward pass, backward pass, gradient.

    One backward pass gives the derivative of the output with respect to every
    variable.  On vectors and matrices (@, .T, z[i], softmax, cross_entropy, with
    --shape or lists in --at) each step is a vector-Jacobian product.  Exit codes
    as for diff.
    """
    json_mode = _json_mode(format_, json_)

    def work() -> tuple[str, int]:
        from chainrule import points, tensor
        from chainrule.backprop import gradient
        from chainrule.syntax import parse_program

        chosen = _format(format_, json_, explain, latex_document)
        source = _source(expression)
        _arrays_first(source, shape)
        variables = points.variables(wrt)
        with _budgets(timeout, memory):
            given, shapes = _point(at), None if shape is None else tensor.parse_shapes(shape)
            program = parse_program(source)
            suffix = " --view sensitivity" if view is View.sensitivity else ""
            if tensor.wanted(program, given, shapes):
                render = _renderer("grad tensor" + suffix, chosen, full)
                found = tensor.gradient(program, at=given, wrt=variables, shape=shapes, seed=seed)
                return render(found), EXIT_OK if found.agrees else EXIT_DISAGREES
            if seed is not None:
                raise tensor.seed_without_shapes()
            render = _renderer("grad" + suffix, chosen, full)
            result = gradient(source, at=given, wrt=variables, granularity=granularity.value, program=program)
            text = render(result)
        wrong = any(c.agrees is False for c in result.checks.values())
        return text, EXIT_DISAGREES if wrong else EXIT_OK

    _run(json_mode, "chainrule.grad/1", work)


@app.command(context_settings=TAKES_MINUS)
def check(
    expression: Expression,
    answer: Annotated[str, typer.Argument(help='Your derivative, as on paper: "4(2x+1)cos((2x+1)^2)".')],
    wrt: Annotated[str | None, typer.Option("--wrt", help="The variable to differentiate by.")] = None,
    json_: Json = False,
    latex_document: LatexDocument = False,
    format_: FormatOption = None,
    timeout: Timeout = DEFAULT_SECONDS,
    memory: Memory = DEFAULT_MEMORY_TEXT,
) -> None:
    """Grade a hand-derived derivative, and name the chain-rule mistake if it is wrong.

    Exit codes: 0 correct, 3 wrong, 4 undecided (no proof, and too few points
    inside both domains), 2 bad input.
    """
    json_mode = _json_mode(format_, json_)

    def work() -> tuple[str, int]:
        from chainrule.grade import grade

        render = _renderer("check", _format(format_, json_, document=latex_document))
        with _budgets(timeout, memory):
            if expression == answer == "-":
                raise UsageError("only one of the expression and the answer can be read from standard input ('-')")
            result = grade(_source(expression), _source(answer, "the answer"), wrt=wrt)
            text = render(result)
        codes = {"correct": EXIT_OK, "wrong": EXIT_DISAGREES, "undecided": EXIT_UNDECIDED}
        return text, codes[result.verdict]

    _run(json_mode, "chainrule.check/1", work)


@app.command()
def batch(
    source: Annotated[str, typer.Argument(help="A file of expressions or NDJSON requests; '-' for stdin.")] = "-",
    at: At = None,
    wrt: Annotated[str | None, typer.Option("--wrt", help="The variable for plain lines.")] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds of CPU time for each line (above 0, at most 3600).")
    ] = DEFAULT_SECONDS,
    memory: Memory = DEFAULT_MEMORY_TEXT,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", help="Worker processes (default: the number of cores); results stay in input order."),
    ] = None,
) -> None:
    """Differentiate many expressions: one NDJSON result per input line, in input order.

    A line is a plain expression (using --at and --wrt) or a JSON object
    {"expression": ..., "at": {...}, "wrt": ...}.  Every input line gets one
    output line, in order: a bad line an error document, a blank line or a
    comment {"line": n, "skipped": ...}.  Exit code 0 when every line
    succeeded, 1 when some became error documents, 2 when the input cannot
    be read at all, 74 when the output cannot be written (it ends with its
    last whole line), 130 when interrupted by Ctrl-C, 143 by SIGTERM and 129
    by SIGHUP (the lines written are complete, and no worker is left).
    """

    try:
        startup.settle()
        from chainrule.batch import Settings

        settings = Settings.of(at, wrt, timeout, memory, words=FLAGS)  # the per-line function's own, as for Dask
        workers = _jobs(jobs)
        with _input(source, threaded=workers > 1) as stream:
            failed, bugs = _batch_lines(stream, settings, workers)
    except ChainruleError as err:  # the input as a whole: it cannot be opened, or is UTF-16
        err.word(FLAGS)
        _say(err.describe())
        raise typer.Exit(_exit_code(err)) from None
    except _OutputLost as lost:
        _lost(lost)
    except KeyboardInterrupt as stop:
        _heard()
        answer = _interruption(stop)
        _say(f"{answer.message}: the lines written so far are complete")
        raise typer.Exit(_signal_exit(answer.signum)) from None
    _finished()
    if bugs:
        _say(f"internal error on {bugs} line(s): {BUG_REPORT}")
    raise typer.Exit(EXIT_INTERNAL if bugs else EXIT_MATH if failed else EXIT_OK)


@contextmanager
def _input(source: str, threaded: bool) -> Iterator[Any]:
    """batch's input as a byte stream: a file, or stdin for '-'; read without a lock (batch.Unbuffered),
    so a reader thread still waiting on a pipe when the batch ends cannot stop the interpreter's exit.
    A `threaded` reader's descriptor is left to it (closed at the end of the input, or at exit)."""
    from chainrule.batch import Unbuffered
    from chainrule.errors import FileError

    if source == "-":
        if sys.stdin is None:
            raise FileError("standard input is closed", hint="give a file, or pipe the lines in")
        stream = sys.stdin.buffer
    else:
        try:
            stream = open(source, "rb")  # noqa: SIM115 - closed below
        except OSError as err:
            raise FileError(f"batch cannot read {source!r}: {err.strerror or err}") from None
    with contextlib.ExitStack() as opened:
        if source != "-":
            opened.callback(stream.close)
        reader = Unbuffered.of(stream)
        if isinstance(reader, Unbuffered) and not threaded:
            opened.callback(reader.close)
        yield reader


def _jobs(jobs: int | None) -> int:
    from chainrule.parallel import default_jobs

    if jobs is None:
        return default_jobs()
    if not 1 <= jobs <= MAX_JOBS:
        raise UsageError(f"--jobs takes a number of processes from 1 to {MAX_JOBS}, not {jobs}")
    return jobs


def _batch_lines(stream: Any, settings: Settings, jobs: int) -> tuple[bool, int]:
    """Write one result line for every input line; (whether some failed, how many hit a bug)."""
    from chainrule import batch as batch_
    from chainrule.parallel import outcomes
    from chainrule.render.documents import SCHEMA, internal_document

    ascii_only = _ascii()
    failed, bugs = False, 0
    with contextlib.closing(outcomes(batch_.lines(stream), settings, jobs)) as results:
        for line, outcome in results:
            try:
                doc, ok = outcome()
            except Exception as err:  # a bug on one line: reported, and the batch goes on
                if os.environ.get("CHAINRULE_DEBUG"):
                    raise
                message = f"internal error ({type(err).__name__}): {BUG_REPORT}"
                doc, ok = {**internal_document(message, SCHEMA), "line": line.number}, False
                bugs += 1
            failed = failed or not ok
            _emit(batch_.ndjson(doc, ascii_only))
    return failed, bugs


class SchemaName(str, Enum):
    diff = "diff"
    grad = "grad"
    check = "check"
    batch = "batch"
    graph = "graph"


@app.command()
def schema(name: Annotated[SchemaName, typer.Argument(help="diff, grad, check, batch or graph.")]) -> None:
    """Print the JSON Schema of a command's --json output."""
    from importlib.resources import files

    text = files("chainrule").joinpath(f"schemas/{name.value}.schema.json").read_text(encoding="utf-8")
    _print_or_exit(text)


@app.command(context_settings=TAKES_MINUS)
def graph(
    expression: Annotated[
        str,
        typer.Argument(
            help="An expression, or bindings separated by ';' or lines; '-' reads them from standard input."
        ),
    ],
    at: At = None,
    format_: Annotated[
        str,
        typer.Option("--format", help="mermaid (renders in GitHub Markdown), dot (Graphviz) or json."),
    ] = "mermaid",
    granularity: GranularityOption = Granularity.functions,
    timeout: Timeout = DEFAULT_SECONDS,
    memory: Memory = DEFAULT_MEMORY_TEXT,
    shape: ShapeOption = None,
    seed: SeedOption = None,
) -> None:
    """Write the computational graph as a Mermaid flowchart, Graphviz dot or JSON.

    With --at, nodes show their values and adjoints, and edges the values of
    their local derivatives.
    """

    def work() -> tuple[str, int]:
        from chainrule import tensor
        from chainrule.backprop import gradient
        from chainrule.syntax import parse_program

        source = _source(expression)
        _arrays_first(source, shape)
        with _budgets(timeout, memory):
            given, shapes = _point(at), None if shape is None else tensor.parse_shapes(shape)
            program = parse_program(source)
            if tensor.wanted(program, given, shapes):
                render = _renderer("graph tensor", format_.lower())
                return render(tensor.gradient(program, at=given, shape=shapes, seed=seed, checked=False)), EXIT_OK
            if seed is not None:
                raise tensor.seed_without_shapes()
            render = _renderer("graph", format_.lower())
            result = gradient(source, at=given, granularity=granularity.value, checked=False, program=program)
            text = render(result)
        return text, EXIT_OK

    _run(format_.lower() == "json", "chainrule.graph/1", work)


def main() -> None:
    """The console script.  The collector stays paused until the engine is imported (`startup.settle`).

    A closed stdout is found before any work is done.  Whatever happens, no
    budget timer outlives the command.
    """
    if sys.stdout is None:
        _say("error: standard output is closed; chainrule writes its results there")
        sys.exit(EXIT_OUTPUT)
    if sys.stderr is None:  # closed: messages go nowhere (click would print them on stdout, into the JSON)
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    args = startup.decoded_argv(sys.argv[1:])
    _AS_SCRIPT.append(True)
    from chainrule.budget import interrupt

    # Ctrl-C is raised again until heard, if library code swallows it; a Ctrl-C the caller
    # ignores (a background job) stays ignored.  SIGTERM and SIGHUP are answered the same way
    # (whole output, one message, exit 128 + signum) unless ignored (nohup).
    if threading.current_thread() is threading.main_thread():
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, interrupt)
        for signum in _STOPPING_TOO:
            if signal.getsignal(signum) is signal.SIG_DFL:
                signal.signal(signum, interrupt)
                _HANDLED.append(signum)
    try:
        startup.paused(lambda: app(args=args, prog_name="chainrule"))
    except OSError as err:  # the commands catch everything: this is --help or --version writing to stdout
        sys.exit(_lost_code(err))
    except KeyboardInterrupt as stop:  # Ctrl-C before a command began its work
        _interrupted_early(args, stop)
    finally:
        from chainrule.budget import disarm

        disarm()
