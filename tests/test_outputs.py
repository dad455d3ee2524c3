"""Output for people and tools: batch, the Python API, LaTeX and Markdown."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from typer.testing import CliRunner

from chainrule.cli import app


def batch(stdin: str, *args: str) -> tuple[int, list[dict[str, Any]]]:
    result = CliRunner().invoke(app, ["batch", *args], input=stdin)
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()]


def test_batch_plain_lines_with_a_shared_point() -> None:
    code, docs = batch("(2x+1)^2\nsin(x^2)\n", "--at", "3")
    assert code == 0
    assert [d["line"] for d in docs] == [1, 2]
    assert docs[0]["derivative"]["value"] == 28
    assert docs[1]["derivative"]["value"] == pytest.approx(6 * math.cos(9))


def test_batch_ndjson_and_bad_lines_keep_their_place() -> None:
    lines = [
        json.dumps({"expression": "(2x+1)^2", "at": {"x": 3}}),
        "sinn(x)",
        "",
        "# a comment",
        json.dumps({"expression": "a*b", "wrt": "b", "at": "a=2,b=3"}),
        "{not json",
        json.dumps({"expression": "ln(x)", "at": -1}),
        json.dumps({"at": 1}),
    ]
    code, docs = batch("\n".join(lines) + "\n")
    assert code == 1  # some lines failed; the batch went on
    assert [d["line"] for d in docs] == [1, 2, 3, 4, 5, 6, 7, 8]  # one output line for every input line
    assert docs[0]["derivative"]["value"] == 28
    assert docs[1]["error"]["kind"] == "parse" and "did you mean 'sin'" in docs[1]["error"]["message"]
    assert docs[2] == {"line": 3, "skipped": "blank"} and docs[3] == {"line": 4, "skipped": "comment"}
    assert docs[4]["derivative"]["value"] == 2
    assert docs[5]["error"]["kind"] == "parse"
    assert docs[6]["error"]["kind"] == "math"
    assert docs[7]["error"]["kind"] == "parse"


def test_batch_reads_a_file(tmp_path: Any) -> None:
    path = tmp_path / "in.txt"
    path.write_text("x^3\n")
    result = CliRunner().invoke(app, ["batch", str(path), "--at", "2"])
    assert result.exit_code == 0 and json.loads(result.stdout)["derivative"]["value"] == 12


def test_python_api() -> None:
    from chainrule import check, differentiate, gradient

    d = differentiate("sin((2x+1)^2)", at=3)
    assert d.to_dict()["derivative"]["value"] == pytest.approx(28 * math.cos(49), rel=1e-15)
    assert d.value == d.to_dict()["derivative"]["value"]
    assert "| u1 |" in d._repr_markdown_() and "\\begin{aligned}" in d._repr_latex_()
    g = gradient("c = a*b; d = c + 1; loss = d^2", at={"a": 2, "b": 3})
    assert g.gradient == {"a": 42.0, "b": 28.0} and g.to_dict()["schema"] == "chainrule.grad/1"
    c = check("cos(3x)", "3sin(3x)")
    assert not c.correct and c.to_dict()["diagnosis"][0]["kind"] == "sign"


@pytest.mark.parametrize("which", ["diff", "grad", "check"])
def test_jupyter_shows_the_lesson_page_the_markdown_view_and_latex_that_compiles(which: str) -> None:
    from chainrule import check, differentiate, gradient

    result = {
        "diff": lambda: differentiate("sin((2x+1)^2)", at=3),
        "grad": lambda: gradient("c = a*b; d = c + 1; loss = d^2", at={"a": 2, "b": 3}),
        "check": lambda: check("cos(3x)", "3sin(3x)"),
    }[which]()
    page = result._repr_html_()
    assert page.startswith("<iframe srcdoc=") and "&lt;!DOCTYPE html&gt;" in page  # the page, isolated
    assert ("| u1 |" if which == "diff" else "|" if which == "grad" else "Verdict") in result._repr_markdown_()
    assert "```mermaid" not in result._repr_markdown_().split("\n")[0]  # the view, not a bare diagram
    assert result._repr_latex_().startswith("\\[")  # a display that compiles (tests/test_latex.py)


def test_latex_and_markdown(run: Any) -> None:
    code, out, _ = run("diff", "sin((2x+1)^2)", "--at", "3", "--format", "latex")
    assert code == 0 and out.startswith("\\[\n\\begin{aligned}") and "\\end{aligned}\n\\]\n" in out
    assert out.rstrip().endswith("(agrees).\\par")  # the check, as LaTeX prose after the display
    assert "\\frac{du_{2}}{du_{1}} &= 2 u_{1} = 14" in out
    code, out, _ = run("diff", "sin((2x+1)^2)", "--at", "3", "--format", "markdown")
    assert code == 0 and "| layer | expression |" in out and "```mermaid" in out


def test_latex_and_markdown_for_grad_and_check(run: Any) -> None:
    program = "c = a*b; d = c + 1; loss = d^2"
    code, out, _ = run("grad", program, "--at", "a=2,b=3", "--format", "latex")
    assert code == 0 and "\\frac{\\partial \\mathrm{loss}}{\\partial a} &= 2 b d = 42" in out
    code, out, _ = run("grad", program, "--at", "a=2,b=3", "--format", "markdown")
    assert code == 0 and "| a | `2·b·d` | 42 | agrees |" in out and "```mermaid" in out
    code, out, _ = run("check", "sin(x^2)", "cos(x)*2x", "--format", "markdown")
    assert code == 3 and "**Outer derivative at the wrong point:**" in out
    code, out, _ = run("check", "sin(x^2)", "cos(x)*2x", "--format", "latex")
    assert (
        code == 3
        and out.startswith("\\[\n\\begin{aligned}")
        and "\\textbf{Outer derivative at the wrong point:}" in out
    )


def test_plot_png_opens_and_svg_is_svg(tmp_path: Any, run: Any) -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.image import imread

    png = tmp_path / "f.png"
    code, _, err = run("diff", "sin((2x+1)^2)", "--at", "0.3", "--plot", str(png))
    assert code == 0, err
    image = imread(str(png))
    assert image.shape[0] > 200 and image.shape[1] > 300
    svg = tmp_path / "f.svg"
    assert run("diff", "x^2", "--at", "1", "--plot", str(svg))[0] == 0
    assert "<svg" in svg.read_text()


def test_plot_needs_a_point_and_a_known_suffix(tmp_path: Any, run: Any) -> None:
    assert run("diff", "x^2", "--plot", str(tmp_path / "f.png"))[0] == 2
    code, _, err = run("diff", "x^2", "--at", "1", "--plot", str(tmp_path / "f.gif"))
    assert code == 2 and ".png or .svg" in err


def test_plot_without_matplotlib_says_how_to_install(tmp_path: Any, run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    code, _, err = run("diff", "x^2", "--at", "1", "--plot", str(tmp_path / "f.png"))
    assert code == 2 and 'pip install "chainrule[plot]"' in err
    assert not (tmp_path / "f.png").exists()


def test_printing_by_shape_matches_sympy_for_every_rule() -> None:
    """The printers reuse the text of an earlier local of the same shape (cos(u4) for
    cos(u9988)); the result must equal printing from scratch, in both styles."""
    import sympy

    from chainrule import printing
    from chainrule.rules import RULES

    printer = printing._printers()[1]  # the lessons notation
    for key, rule in RULES.items():
        for k, partial in enumerate(rule.partials):
            for name in ("u4", "u9988", "u12", "u3"):
                u = sympy.Symbol(name, real=True)
                args = [u if i == k else sympy.Integer(3) for i in range(len(rule.partials))]
                try:
                    expr = partial(*args)
                except (TypeError, ValueError):
                    continue
                assert printing.plain(expr) == sympy.sstr(expr), (key, k, name)
                assert printing.pretty(expr) == printer.doprint(expr), (key, k, name)


def test_markdown_graph_is_the_derivations_own_graph() -> None:
    """The Mermaid graph in Markdown shows the same layers as the table, at any granularity."""
    from chainrule.derive import differentiate
    from chainrule.render import latex_view

    d = differentiate("sin((2x+1)^2)", at="3", granularity="ops")
    text = latex_view.markdown(d)
    assert "| u1 | `2·x` |" in text and '["u1 = 2·x<br/>= 6' in text
    assert "∂y/∂x = 8.41659" in text  # the adjoints come from the same backward pass


def test_huge_exact_numbers_are_shown_to_ten_digits_in_the_lessons_notation() -> None:
    """1e-400 is kept exactly (JSON has every digit), but a lesson shows 1e-400, not 401 digits."""
    import sympy

    from chainrule.printing import plain, pretty

    assert pretty(sympy.Rational(1, 10**400)) == "1e-400"
    assert pretty(sympy.Integer(2) ** 1030) == "1.150523606e310"
    assert pretty(sympy.Rational(3, 7)) == "3/7" and pretty(sympy.Integer(10) ** 12) == "1000000000000"
    assert plain(sympy.Rational(1, 10**400)) == "1/1" + "0" * 400


def test_the_plot_window_keeps_poles_and_spikes_from_flattening_the_curve() -> None:
    from chainrule.render.plot_view import heights, window

    lo, hi = window(0.05, math.sin(20), -math.cos(20) / 0.0025)  # sin(1/x): it turns within hundredths
    assert hi - lo < 0.1 and lo < 0.05 < hi
    assert window(3, 49, 28) == (1, 5)  # an ordinary function keeps ±2 around the point
    xs = [0.56 + k * (2.24 - 0.56) / 399 for k in range(400)]
    fs = [math.tan(x) for x in xs]  # a pole at π/2 inside the window
    low, high = heights(fs, [math.tan(1.4)], [1 / math.cos(x) ** 2 for x in xs])  # type: ignore[misc]
    assert -40 < low < 0 < math.tan(1.4) < high < 40  # f's pole and f′'s spike both cut off
    xs = [-0.5 + k * 4 / 399 for k in range(400)]  # sin(x²) around 1.5: f′ reaches ±7, and is shown whole
    low, high = heights([math.sin(x * x) for x in xs], [math.sin(2.25)], [2 * x * math.cos(x * x) for x in xs])  # type: ignore[misc]
    assert low < -6 and high > 6


def test_window_option(tmp_path: Any, run: Any) -> None:
    pytest.importorskip("matplotlib")
    assert run("diff", "x^2", "--at", "1", "--plot", str(tmp_path / "f.png"), "--window", "-3,3")[0] == 0
    code, _, err = run("diff", "x^2", "--at", "1", "--plot", str(tmp_path / "g.png"), "--window", "3,-3")
    assert code == 2 and "a < b" in err and not (tmp_path / "g.png").exists()
    code, _, err = run("diff", "x^2", "--at", "1", "--window", "0,1")
    assert code == 2 and "give --plot FILE too" in err
