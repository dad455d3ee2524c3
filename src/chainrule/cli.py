"""The command line.  The only module that touches argv, stdout, stderr and exit codes.

Each command computes one result, asks the registry of views
(:mod:`chainrule.render.registry`) for the renderer of the chosen format, and
prints what it returns.  Heavy modules (SymPy, mpmath, the engine) are
imported inside the commands, so ``chainrule --help`` and ``chainrule
--version`` start quickly; the start-up machinery is in :mod:`chainrule.startup`.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import typer.core

from chainrule import __version__, startup
from chainrule.errors import ChainruleError, InputError, UsageError

EXIT_OK = 0
EXIT_MATH = 1  # a mathematical problem at the point, or the time budget
EXIT_INPUT = 2  # bad input or usage
EXIT_DISAGREES = 3  # the check disagrees with the chain rule; check: the answer is wrong
EXIT_UNDECIDED = 4  # check: neither a proof nor enough points to judge the answer
EXIT_INTERNAL = 70  # a bug in chainrule
BUG_REPORT = "this is a bug in chainrule; please report it with the command you ran"


class View(str, Enum):
    sensitivity = "sensitivity"


class Granularity(str, Enum):
    functions = "functions"
    ops = "ops"


# The argument parser's own error class: click's, whether typer vendors click or not.
_PARSER_ERROR: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def _wants_json(argv: list[str]) -> bool:
    lowered = [a.lower() for a in argv]
    pairs = itertools.pairwise(lowered)
    return "--json" in argv or "--format=json" in lowered or any(a == "--format" and b == "json" for a, b in pairs)


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
        try:
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except _PARSER_ERROR as err:
            err.show()  # type: ignore[attr-defined]
            if _wants_json(argv):
                from chainrule.render.json_view import dumps, error_document

                command = argv[0] if argv and argv[0] in ("diff", "grad", "check") else "diff"
                usage = UsageError(err.format_message())  # type: ignore[attr-defined]
                typer.echo(dumps(error_document(usage, f"chainrule.{command}/1")))
            sys.exit(EXIT_INPUT)
        except typer.Abort:
            typer.echo("aborted", err=True)
            sys.exit(EXIT_MATH)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


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


def _width() -> int:
    return max(60, min(shutil.get_terminal_size(fallback=(100, 24)).columns, 160))


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
        startup.settle()
        text, code = work()
        if after is not None:
            after()
    except ChainruleError as err:
        typer.echo(err.describe(), err=True)
        if json_mode:
            from chainrule.render.json_view import dumps, error_document

            typer.echo(dumps(error_document(err, schema)))
        raise typer.Exit(_exit_code(err)) from None
    except (typer.Exit, typer.Abort, BrokenPipeError):
        raise
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None
    except Exception as err:
        if os.environ.get("CHAINRULE_DEBUG"):
            raise
        message = f"internal error ({type(err).__name__}): {BUG_REPORT}"
        typer.echo(message, err=True)
        if json_mode:
            from chainrule.render.json_view import dumps, internal_document

            typer.echo(dumps(internal_document(message, schema)))
        raise typer.Exit(EXIT_INTERNAL) from None
    typer.echo(text, nl=not text.endswith("\n"))
    raise typer.Exit(code)


def _timeout_error() -> ChainruleError:
    from chainrule.budget import OutOfTime

    return OutOfTime("the computation took longer than the time budget", hint="raise it with --timeout SECONDS")


Expression = Annotated[str, typer.Argument(help='The expression, as on paper: "sin((2x+1)^2)".')]
At = Annotated[
    str | None,
    typer.Option("--at", help="The point: a number (3, pi/4) or name=value pairs (x=0.7,y=1.3)."),
]
Explain = Annotated[bool, typer.Option("--explain", help="Show the lesson, step by step.")]
Json = Annotated[bool, typer.Option("--json", help="One strict JSON document on stdout.")]
FormatOption = Annotated[
    str | None, typer.Option("--format", help="text, explain, json, latex or markdown (as the command has them).")
]
GranularityOption = Annotated[
    Granularity,
    typer.Option("--granularity", help="functions: the lesson's layers; ops: every operation a node."),
]
Timeout = Annotated[float, typer.Option("--timeout", help="Give up after this many seconds.")]
TAKES_MINUS = {"ignore_unknown_options": True}  # "-x^2" is an expression, not an option


def _format(format_: str | None, json_: bool, explain: bool = False) -> str:
    """The format asked for by --format, --json or --explain; asking for two is a usage error."""
    chosen = format_.lower() if format_ is not None else None
    asked = {f for f, on in ((chosen, chosen is not None), ("json", json_), ("explain", explain)) if on}
    if len(asked) > 1:
        raise UsageError(f"choose one format: {', '.join(sorted(map(str, asked)))} were asked for together")
    if chosen is not None:
        return chosen
    return "json" if json_ else "explain" if explain else "text"


def _json_mode(format_: str | None, json_: bool) -> bool:
    return json_ or (format_ or "").lower() == "json"


def _renderer(view: str, chosen: str) -> Callable[[Any], str]:
    """The registry's renderer for the chosen format, on this terminal."""
    from chainrule.render.registry import Terminal, renderer

    render = renderer(view, chosen)
    terminal = Terminal(color=_color(), width=_width())
    return lambda result: render(result, terminal)


@app.command(context_settings=TAKES_MINUS)
def diff(
    expression: Expression,
    at: At = None,
    wrt: Annotated[str | None, typer.Option("--wrt", help="The variable to differentiate by.")] = None,
    explain: Explain = False,
    json_: Json = False,
    format_: FormatOption = None,
    granularity: GranularityOption = Granularity.functions,
    timeout: Timeout = 5.0,
    view: Annotated[
        View | None,
        typer.Option("--view", help="sensitivity: only how each layer scales a wiggle (needs --at)."),
    ] = None,
    order: Annotated[int, typer.Option("--order", help="The order of the derivative: 2 for the second, ...")] = 1,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Draw f, its tangent and f′ to a .png or .svg file (needs --at).")
    ] = None,
) -> None:
    """Differentiate an expression by the chain rule, layer by layer.

    Exit codes: 0 ok, 1 a mathematical problem at the point or out of time,
    2 bad input, 3 the check disagrees with the chain rule.
    """
    json_mode = _json_mode(format_, json_)
    figure: list[bytes] = []

    def work() -> tuple[str, int]:
        from chainrule.budget import deadline
        from chainrule.derive import differentiate

        render = _renderer(
            "diff --view sensitivity" if view is View.sensitivity else "diff", _format(format_, json_, explain)
        )
        with deadline(timeout, _timeout_error):
            result = differentiate(expression, wrt=wrt, at=at, granularity=granularity.value, order=order)
            text = render(result)
            if plot is not None:
                from chainrule.render.plot_view import plot as draw

                figure.append(draw(result, plot.suffix.lower().lstrip(".")))
        wrong = (result.check is not None and result.check.agrees is False) or any(
            o.agrees is False for o in result.orders
        )
        return text, EXIT_DISAGREES if wrong else EXIT_OK

    def write_plot() -> None:
        if plot is not None and figure:
            try:
                plot.write_bytes(figure[0])
            except OSError as err:
                raise UsageError(f"--plot cannot write {str(plot)!r}: {err.strerror or err}") from None

    _run(json_mode, "chainrule.diff/1", work, after=write_plot)


@app.command(context_settings=TAKES_MINUS)
def grad(
    expression: Annotated[str, typer.Argument(help='An expression, or bindings: "c = a*b; d = c + 1; loss = d^2".')],
    at: At = None,
    wrt: Annotated[
        str | None, typer.Option("--wrt", help="The variables to differentiate by (default: all), e.g. w1,b1.")
    ] = None,
    explain: Explain = False,
    json_: Json = False,
    format_: FormatOption = None,
    granularity: GranularityOption = Granularity.functions,
    timeout: Timeout = 5.0,
) -> None:
    """Backpropagation on the computational graph: forward pass, backward pass, gradient.

    One backward pass gives the derivative of the output with respect to every
    variable.  Exit codes as for diff.
    """
    json_mode = _json_mode(format_, json_)

    def work() -> tuple[str, int]:
        from chainrule.backprop import gradient
        from chainrule.budget import deadline

        render = _renderer("grad", _format(format_, json_, explain))
        with deadline(timeout, _timeout_error):
            result = gradient(expression, at=at, wrt=wrt, granularity=granularity.value)
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
    format_: FormatOption = None,
    timeout: Timeout = 5.0,
) -> None:
    """Grade a hand-derived derivative, and name the chain-rule mistake if it is wrong.

    Exit codes: 0 correct, 3 wrong, 4 undecided (no proof, and too few points
    inside both domains), 2 bad input.
    """
    json_mode = _json_mode(format_, json_)

    def work() -> tuple[str, int]:
        from chainrule.budget import deadline
        from chainrule.grade import grade

        render = _renderer("check", _format(format_, json_))
        with deadline(timeout, _timeout_error):
            result = grade(expression, answer, wrt=wrt)
            text = render(result)
        codes = {"correct": EXIT_OK, "wrong": EXIT_DISAGREES, "undecided": EXIT_UNDECIDED}
        return text, codes[result.verdict]

    _run(json_mode, "chainrule.check/1", work)


@app.command()
def batch(
    source: Annotated[
        typer.FileText, typer.Argument(help="A file of expressions or NDJSON requests; '-' for stdin.")
    ] = "-",  # type: ignore[assignment]
    at: At = None,
    wrt: Annotated[str | None, typer.Option("--wrt", help="The variable for plain lines.")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds for each line.")] = 5.0,
) -> None:
    """Differentiate many expressions in one process: one NDJSON result per line.

    A line is a plain expression (using --at and --wrt) or a JSON object
    {"expression": ..., "at": {...}, "wrt": ...}.  Exit code 0 when every line
    succeeded, 1 when some became error documents.
    """
    startup.settle()
    from chainrule.batch import run

    failed = False
    try:
        for line, ok in run(source, at, wrt, timeout, _timeout_error):
            typer.echo(line)
            failed = failed or not ok
    except BrokenPipeError:
        raise
    except UnicodeDecodeError as err:  # the input file is not UTF-8 text
        typer.echo(f"error: the input is not UTF-8 text (byte {err.start}: {err.reason})", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    except Exception as err:
        typer.echo(f"internal error ({type(err).__name__}): {BUG_REPORT}", err=True)
        raise typer.Exit(EXIT_INTERNAL) from None
    raise typer.Exit(EXIT_MATH if failed else EXIT_OK)


class SchemaName(str, Enum):
    diff = "diff"
    grad = "grad"
    check = "check"
    batch = "batch"


@app.command()
def schema(name: Annotated[SchemaName, typer.Argument(help="diff, grad, check or batch.")]) -> None:
    """Print the JSON Schema of a command's --json output."""
    from importlib.resources import files

    typer.echo(files("chainrule").joinpath(f"schemas/{name.value}.schema.json").read_text(encoding="utf-8"), nl=False)


@app.command(context_settings=TAKES_MINUS)
def graph(
    expression: Annotated[str, typer.Argument(help="An expression, or bindings separated by ';'.")],
    at: At = None,
    format_: Annotated[
        str, typer.Option("--format", help="mermaid (renders in GitHub Markdown) or dot (Graphviz).")
    ] = "mermaid",
    granularity: GranularityOption = Granularity.functions,
    timeout: Timeout = 5.0,
) -> None:
    """Write the computational graph as a Mermaid flowchart or Graphviz dot.

    With --at, nodes show their values and adjoints, and edges the values of
    their local derivatives.
    """

    def work() -> tuple[str, int]:
        from chainrule.backprop import gradient
        from chainrule.budget import deadline

        render = _renderer("graph", format_.lower())
        with deadline(timeout, _timeout_error):
            result = gradient(expression, at=at, granularity=granularity.value)
            text = render(result)
        return text, EXIT_OK

    _run(format_.lower() == "json", "chainrule.graph/1", work)


def main() -> None:
    """The console script.  The collector stays paused until the engine is imported (`startup.settle`)."""
    startup.paused(lambda: app(prog_name="chainrule"))
