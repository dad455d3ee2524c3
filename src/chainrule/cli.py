"""The command line.  The only module that touches argv, stdout, stderr and exit codes.

Heavy modules (SymPy, mpmath, the engine) are imported inside the commands,
so ``chainrule --help`` and ``chainrule --version`` start quickly.
"""

from __future__ import annotations

import gc
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

from chainrule import __version__
from chainrule.errors import ChainruleError, InputError

EXIT_OK = 0
EXIT_MATH = 1  # a mathematical problem at the point, or the time budget
EXIT_INPUT = 2  # bad input or usage
EXIT_DISAGREES = 3  # the check disagrees with the chain rule
EXIT_INTERNAL = 70  # a bug in chainrule
BUG_REPORT = "this is a bug in chainrule; please report it with the command you ran"


class Format(str, Enum):
    text = "text"
    explain = "explain"
    json = "json"
    latex = "latex"
    markdown = "markdown"


class View(str, Enum):
    sensitivity = "sensitivity"


class Granularity(str, Enum):
    functions = "functions"
    ops = "ops"


# The argument parser's own error class: click's, whether typer vendors click or not.
_PARSER_ERROR: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def _wants_json(argv: list[str]) -> bool:
    pairs = itertools.pairwise(argv)
    return "--json" in argv or "--format=json" in argv or any(a == "--format" and b == "json" for a, b in pairs)


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
                from chainrule.render.json_view import dumps

                command = argv[0] if argv and argv[0] in ("diff", "grad", "check") else "diff"
                message = err.format_message()  # type: ignore[attr-defined]
                body = {"kind": "usage", "message": message, "position": None}
                typer.echo(dumps({"schema": f"chainrule.{command}/1", "error": body}))
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


def _settle() -> None:
    """Import the engine (SymPy, mpmath) while the garbage collector is paused,
    then freeze what was imported and let the collector run again.

    The console script pauses the collector at start-up (see `main`): each
    full collection during SymPy's import would otherwise walk every object
    SymPy has made so far.  Frozen objects are never scanned again, so the
    command's own garbage is collected as usual.
    """
    if not _PAUSED:
        return
    from importlib import import_module

    for module in ("chainrule.engine", "chainrule.numcheck"):  # SymPy, the rule table, mpmath
        import_module(module)

    gc.freeze()
    gc.enable()
    _PAUSED.clear()


_PAUSED: list[bool] = []  # non-empty while main() holds the collector paused


def _run(json_mode: bool, schema: str, work: Callable[[], tuple[str, int]]) -> NoReturn:
    """Run a command's work; turn its errors into messages and exit codes."""
    try:
        _settle()
        text, code = work()
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
        typer.echo(f"internal error ({type(err).__name__}): {BUG_REPORT}", err=True)
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
    Format | None, typer.Option("--format", help="text, explain, json, latex or markdown.", case_sensitive=False)
]
GranularityOption = Annotated[
    Granularity,
    typer.Option("--granularity", help="functions: the lesson's layers; ops: every operation a node."),
]
Timeout = Annotated[float, typer.Option("--timeout", help="Give up after this many seconds.")]
TAKES_MINUS = {"ignore_unknown_options": True}  # "-x^2" is an expression, not an option


def _format(format_: Format | None, json_: bool, explain: bool) -> Format:
    return format_ or (Format.json if json_ else Format.explain if explain else Format.text)


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
    chosen = _format(format_, json_, explain)

    def work() -> tuple[str, int]:
        from chainrule.budget import deadline
        from chainrule.derive import differentiate

        with deadline(timeout, _timeout_error):
            result = differentiate(expression, wrt=wrt, at=at, granularity=granularity.value)
            if view is View.sensitivity and chosen is not Format.json:
                from chainrule.render import sensitivity_view

                text = sensitivity_view.render(result)
            else:
                text = _render_diff(result, chosen)
            wrong = result.check is not None and result.check.agrees is False
            if plot is not None:
                from chainrule.render.plot_view import plot as draw

                plot.write_bytes(draw(result, plot.suffix.lower().lstrip(".")))
            if order != 1:
                text, wrong_order = _with_orders(result, order, chosen, text)
                wrong = wrong or wrong_order
        return text, EXIT_DISAGREES if wrong else EXIT_OK

    _run(chosen is Format.json, "chainrule.diff/1", work)


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
    chosen = _format(format_, json_, explain)

    def work() -> tuple[str, int]:
        from chainrule.backprop import gradient
        from chainrule.budget import deadline
        from chainrule.render import grad_views

        with deadline(timeout, _timeout_error):
            result = gradient(expression, at=at, wrt=wrt, granularity=granularity.value)
            views = {
                Format.json: grad_views.render_json,
                Format.explain: grad_views.render_explain,
                Format.latex: grad_views.render_latex,
                Format.markdown: grad_views.render_markdown,
            }
            view = views.get(chosen)
            text = view(result) if view else grad_views.render_text(result, color=_color(), width=_width())
        wrong = any(c.agrees is False for c in result.checks.values())
        return text, EXIT_DISAGREES if wrong else EXIT_OK

    _run(chosen is Format.json, "chainrule.grad/1", work)


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

    Exit codes: 0 correct, 3 wrong, 2 bad input.
    """
    chosen = _format(format_, json_, False)

    def work() -> tuple[str, int]:
        from chainrule.budget import deadline
        from chainrule.grade import grade
        from chainrule.render import check_view

        with deadline(timeout, _timeout_error):
            result = grade(expression, answer, wrt=wrt)
            views = {
                Format.json: check_view.render_json,
                Format.latex: check_view.render_latex,
                Format.markdown: check_view.render_markdown,
            }
            text = views.get(chosen, check_view.render_text)(result)
        return text, EXIT_OK if result.verdict == "correct" else EXIT_DISAGREES

    _run(chosen is Format.json, "chainrule.check/1", work)


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
    _settle()
    from chainrule.batch import run

    failed = False
    try:
        for line, ok in run(source, at, wrt, timeout, _timeout_error):
            typer.echo(line)
            failed = failed or not ok
    except BrokenPipeError:
        raise
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


class GraphFormat(str, Enum):
    mermaid = "mermaid"
    dot = "dot"


@app.command(context_settings=TAKES_MINUS)
def graph(
    expression: Annotated[str, typer.Argument(help="An expression, or bindings separated by ';'.")],
    at: At = None,
    format_: Annotated[
        GraphFormat, typer.Option("--format", help="mermaid (renders in GitHub Markdown) or dot (Graphviz).")
    ] = GraphFormat.mermaid,
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
        from chainrule.render import graph_view

        with deadline(timeout, _timeout_error):
            result = gradient(expression, at=at, granularity=granularity.value)
            text = graph_view.mermaid(result) if format_ is GraphFormat.mermaid else graph_view.dot(result)
        return text, EXIT_OK

    _run(False, "chainrule.graph/1", work)


def _with_orders(result: Any, order: int, chosen: Format, text: str) -> tuple[str, bool]:
    """Add the derivatives of orders 2..N to a diff's output."""
    import json

    from chainrule.higher import higher_orders
    from chainrule.render import higher_view
    from chainrule.render.json_view import dumps

    orders = higher_orders(result, order)
    wrong = any(o.agrees is False for o in orders)
    if chosen is Format.json:
        doc = json.loads(text)
        doc["order"] = order
        doc["orders"] = higher_view.fields(orders)
        return dumps(doc), wrong
    return text.rstrip("\n") + "\n\n" + "\n".join(higher_view.lines(result, orders)) + "\n", wrong


def _render_diff(result: Any, chosen: Format) -> str:
    if chosen is Format.json:
        from chainrule.render import json_view

        return json_view.render(result)
    if chosen is Format.explain:
        from chainrule.render import explain_view

        return explain_view.render(result)
    if chosen in (Format.latex, Format.markdown):
        from chainrule.render import latex_view

        return latex_view.latex(result) if chosen is Format.latex else latex_view.markdown(result)
    from chainrule.render import text_view

    return text_view.render(result, color=_color(), width=_width())


def main() -> None:
    """The console script.  The collector stays paused until the engine is imported (`_settle`)."""
    if not gc.isenabled():  # the caller manages the collector itself
        app(prog_name="chainrule")
        return
    gc.disable()
    _PAUSED.append(True)
    try:
        app(prog_name="chainrule")
    finally:
        _PAUSED.clear()
        gc.enable()
