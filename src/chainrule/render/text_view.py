"""The default terminal view: a table of layers, the product, the value and the check."""

from __future__ import annotations

import io
from dataclasses import dataclass

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from chainrule.derive import Derivation
from chainrule.printing import pretty
from chainrule.render.common import (
    beyond_note,
    derivative_number,
    derivative_text,
    error_text,
    exact,
    function_text,
    layer_text,
    limit_sentence,
    nudge_gap,
    nudge_relation,
    num,
    path_factors,
    point_text,
    product,
    ratio,
    reference_text,
    rule_names,
    value_text,
)
from chainrule.render.higher_view import lines as higher_lines
from chainrule.render.higher_view import notation

FULL = 500  # layers; a larger chain shows its first and last ENDS layers and SHOWN_FACTORS factors
ENDS = 20
SHOWN_FACTORS = 5


def console(color: bool, width: int) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    con = Console(
        file=out,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        width=width,
        highlight=False,
        emoji=False,
        soft_wrap=True,  # lines are fitted by registry.reflow, at spaces; Rich would fold a long number
    )
    return con, out


@dataclass(frozen=True)
class Column:
    """A column of a terminal table.  `whole` cells (names and numbers) are never cut or folded."""

    title: str
    right: bool = False
    style: str | None = None
    whole: bool = False


GAP = 2  # the spaces after a title in a stacked row
SEPARATOR = 3  # the columns between two columns of a table (padding, rule, padding)


def table(con: Console, columns: list[Column], rows: list[list[str]], width: int) -> None:
    """A table that keeps every number whole at any width: a text column is at least as wide as its
    longest word, so it wraps at spaces and never inside a number; when the columns do not fit side
    by side even so, each row is stacked as "title  cell" lines instead.  The widths are decided
    here, not by Rich, whose squeezing can crop the last column."""
    least, natural = [], []
    for k, c in enumerate(columns):
        cells = [c.title, *(r[k] for r in rows)]
        natural.append(max(len(line) for cell in cells for line in cell.splitlines() or [""]))
        least.append(natural[-1] if c.whole else max([len(word) for cell in cells for word in cell.split()] or [1]))
    room = width - SEPARATOR * (len(columns) - 1)
    if sum(least) > room:
        _stacked(con, columns, rows, width)
        return
    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for c, w in zip(columns, _widths(least, natural, room), strict=True):
        grid.add_column(
            c.title,
            justify="right" if c.right else "left",
            style=c.style,
            no_wrap=c.whole,
            width=w,
            overflow="fold",
        )
    for r in rows:
        grid.add_row(*r)
    con.print(grid, soft_wrap=False)


def _cut(text: str, end: int) -> str:
    """The text up to about `end`, cut between two characters of which one at least is not part of a
    number or a name, so that no number is cut."""
    end = max(end, 1)
    while 0 < end < len(text) and _inside(text[end - 1]) and _inside(text[end]):
        end -= 1
    return text[:end]


def _inside(char: str) -> bool:
    return char.isalnum() or char in "._"


def _widths(least: list[int], natural: list[int], room: int) -> list[int]:
    """Column widths that fill at most `room`: each its natural width when they all fit; otherwise
    its least width and a share of what is left, in proportion to how much more it would take."""
    if sum(natural) <= room:
        return natural
    spare, wants = room - sum(least), [n - m for n, m in zip(natural, least, strict=True)]
    shares = [spare * want // sum(wants) for want in wants]
    for k in sorted(range(len(wants)), key=lambda k: -wants[k])[: spare - sum(shares)]:
        shares[k] += 1  # what the rounding down left, to the columns that want the most
    return [m + s for m, s in zip(least, shares, strict=True)]


def _stacked(con: Console, columns: list[Column], rows: list[list[str]], width: int) -> None:
    """A narrow terminal's table: each row a block, each cell on a line of its own after its title,
    or on the lines below it, indented, when title and cell do not fit side by side."""
    pad = max(len(c.title) for c in columns) + GAP
    for r in rows:
        for c, cell in zip(columns, r, strict=True):
            if not cell:
                continue
            if pad + max(len(word) for word in cell.split() or [""]) <= width:
                con.print(Text.assemble((c.title.ljust(pad), "bold"), (cell, c.style or "")))
            else:
                con.print(Text(c.title, style="bold"))
                for line in cell.splitlines():
                    con.print(Text("  " + line, style=c.style or ""))
        con.print()


def render(d: Derivation, color: bool = False, width: int = 100) -> str:
    con, out = console(color, width)
    at = d.point is not None
    function = function_text(d, "pretty")
    if len(d.layers) > FULL and len(function) > 2 * width:
        function = f"{_cut(function, width - 10)} … ({len(d.layers):,} layers)"
    headline = notation(d, len(d.orders)) if d.orders else f"d{d.output}/d{d.variable}"
    title = Text.assemble(
        (f"{d.output} = {function}", "bold"),
        f"    {headline}" + (f" at {point_text(d)}" if at else ""),
    )
    con.print(title)
    for reading in d.notes:
        con.print(Text(f"note: {reading}"))
    columns = [
        Column("layer", style="bold cyan", whole=True),
        Column("expression"),
        Column("local derivative"),
        Column("rule", style="magenta"),
    ]
    if at:
        columns += [Column("value", right=True, whole=True), Column("factor", right=True, style="green", whole=True)]
    rows: list[list[str]] = []
    many = len(d.layers) > FULL
    shown = [*d.layers[:ENDS], None, *d.layers[-ENDS:]] if many else list(d.layers)
    for layer in shown:
        if layer is None:
            hidden = len(d.layers) - 2 * ENDS
            rows.append(
                ["⋮", f"{hidden:,} more layers (--json or --explain lists every one)", *[""] * (4 if at else 2)]
            )
            continue
        for k, local in enumerate(layer.locals):
            first = k == 0
            row = [
                layer.name if first else "",
                layer_text(d, layer, "pretty") if first else "",
                f"{ratio(layer, local)} = {pretty(local.expression)}",
                rule_names(local),
            ]
            if at:
                row += [
                    value_text(layer.value, layer.value_beyond) if first else "",
                    value_text(local.value, local.value_beyond),
                ]
            rows.append(row)
    if d.layers:
        table(con, columns, rows, width)
    else:
        con.print(f"  {d.output} has no layers: it is a variable or a constant.")
    lhs = f"d{d.output}/d{d.variable}"
    prod = _product(d, many)
    expanded = derivative_text(d, "pretty")
    if prod is not None:
        line = f"{lhs} = {prod}"
        if expanded is not None and expanded != prod:
            line += f" = {expanded}"
        con.print(Text.assemble(("product  ", "bold"), line))
        if d.path_count > 1:
            con.print(f"         the sum over the {d.path_count} paths from {d.variable} to {d.output}")
    else:
        con.print(
            Text.assemble(
                ("product  ", "bold"),
                f"{lhs} is the sum over {d.path_count} paths; they are too many to list",
            )
        )
        if expanded is not None:
            con.print(f"         {lhs} = {expanded}")
    if d.derivative is None:
        con.print(f"         (the expanded form is omitted: {len(d.layers):,} layers make it too large)")
    if at:
        con.print(
            Text.assemble(
                ("value    ", "bold"),
                f"{d.output} = {value_text(d.value, d.evaluation.value_beyond, 10)}, "
                f"{lhs} {'≈' if d.derivative_beyond else '='} ",
            ),
            Text(derivative_number(d), style="bold green"),
            sep="",
        )
        if (note := beyond_note(d)) is not None:
            con.print(f"         ({note})")
        if (sentence := limit_sentence(d)) is not None:
            con.print(Text.assemble(("limit    ", "bold"), sentence[0].upper() + sentence[1:] + "."))
    if d.check is not None:
        c = d.check
        con.print(
            Text.assemble(
                ("check    ", "bold"),
                f"nudge {d.variable} by h = {c.nudge.h:g}: ({d.output}(x + h) − {d.output}(x))/h = "
                f"{num(c.nudge.value)} {nudge_relation(c)} {derivative_number(d, 5)}"
                if c.nudge.value is not None
                else f"nudge by h = {c.nudge.h:g}: {d.output} is {c.nudge.why or 'undefined'} at "
                f"{num(c.nudge.x0 + c.nudge.h)}",
            )
        )
        if (gap := nudge_gap(c)) is not None:
            con.print(f"         ({gap})")
        if c.value is None:
            con.print(f"         {c.method}: not available ({c.note})")
        else:
            verdict = Text("agrees ✓", style="bold green") if c.agrees else Text("DISAGREES ✗", style="bold red")
            line = f"         {c.method}: {reference_text(c)}, {error_text(c)} "
            if len(line) + len(verdict) > width:  # the verdict on a line of its own, never split from its mark
                con.print(line.rstrip())
                con.print(Text.assemble("         ", verdict))
            else:
                con.print(Text.assemble(line, verdict))
            if c.note:
                con.print(f"         ({c.note})")
    if d.orders:
        con.print()
        for line in higher_lines(d, d.orders):
            con.print(line)
        top = d.orders[-1]
        if top.value is not None:
            con.print(
                Text.assemble(("value    ", "bold"), f"{headline} = "),
                Text(exact(top.value), style="bold green"),
                sep="",
            )
    return out.getvalue()


def _product(d: Derivation, many: bool) -> str | None:
    """The product in layers; for a long chain, its first and last factors."""
    if not many or d.paths is None or len(d.paths) != 1:
        return product(d, "pretty")
    factors = path_factors(d, 0, "pretty")
    if len(factors) <= 2 * SHOWN_FACTORS:
        return product(d, "pretty")
    head, tail = "·".join(factors[:SHOWN_FACTORS]), "·".join(factors[-SHOWN_FACTORS:])
    return f"{head}· … ·{tail}  ({len(factors):,} factors)"
