"""Every LaTeX output of the example corpus compiles with a real TeX engine (pdflatex), both as
the fragment `--format latex` prints, pasted into a document with amsmath, and as the whole
document `--latex-document` prints.  Names with subscripts and primes stay distinct.

CI installs TeX (.ci/run) and sets CHAINRULE_CI: there a missing pdflatex is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from chainrule import tensor
from chainrule.backprop import gradient
from chainrule.derive import differentiate
from chainrule.grade import grade
from chainrule.printing import symbol_tex
from chainrule.render.registry import Terminal, renderer
from chainrule.syntax import parse_program

DIFFS: list[tuple[str, dict[str, Any]]] = [
    ("(2x+1)^2", {"at": "3"}),
    ("sin((2x+1)^2)", {"at": "3"}),
    ("(3x+1)^2", {}),
    ("sin(x^2)", {"at": "1.5"}),
    ("sigmoid(sigmoid(x))", {"at": "0", "order": 2}),
    ("f(g(x))", {}),
    ("sin(theta_1 * x1 * x_1)", {"wrt": "x_1", "at": "theta_1=1,x1=2,x_1=0.5", "order": 3}),
    ("x^2 ln 9x", {"at": "2"}),
    ("sin(30°) + x", {"at": "1"}),
    ("tan(x)", {"at": "1.4"}),
    ("e^(2x) * log_2(x)", {"at": "2"}),
    ("cbrt(x) + |x|^3", {"at": "-8"}),
    ("sin(" * 40 + "x" + ")" * 40, {"at": "0.5"}),
    ("x^1000 * 1e-300", {"at": "0.001"}),
]
GRADS: list[tuple[str, dict[str, Any]]] = [
    ("c = a*b; d = c + 1; loss = d^2", {"at": "a=2,b=3"}),
    (
        "z = w1*x + b1; a = sigmoid(z); yhat = w2*a + b2; L = 1/2*(yhat - y)^2",
        {"at": "w1=0.5,x=1.5,b1=0.1,w2=-0.3,b2=0.2,y=1"},
    ),
    ("a = -4.0; b = 2.0; c = a + b; c += c + 1; d = a * b + b**3; e = c - d; g = e**2", {}),
    ("h = theta_1 * x_1 + theta1; L = h^2", {"at": "theta_1=1,x_1=2,theta1=3"}),
]
CHECKS = [("sin(x^2)", "2x cos(x^2)"), ("sin(x^2)", "cos(x^2)"), ("(2x+1)^2", "2(2x+1)"), ("|x|^3", "3x|x|")]
TENSORS = [
    ("h = relu(W1 @ x + b1); yhat = W2 @ h + b2; L = sum((yhat - y)^2)", "W1=8x4,b1=8,W2=1x8,b2=1,x=4,y=1"),
    ("z = W @ x + b; p = softmax(z); L = -log(p[2])", "W=3x2,x=2,b=3"),
    ("e = E[3]; z = W @ e; L = cross_entropy(z, 1)", "E=10x4,W=5x4"),
    ("L = sum(W^2) + A[1, 0]", "W=2x11,A=2x2"),
    ("z = W @ x + b; h = tanh(z); L = sum(h^2)", "W=3x2,x=2,b=3"),
]


def corpus() -> list[tuple[str, str, Any]]:
    """(label, view, result) for every example."""
    found: list[tuple[str, str, Any]] = []
    for expression, options in DIFFS:
        found.append((f"diff {expression[:40]}", "diff", differentiate(expression, **options)))
    for program, options in GRADS:
        found.append((f"grad {program[:40]}", "grad", gradient(program, **options)))
    for expression, answer in CHECKS:
        found.append((f"check {expression} {answer}", "check", grade(expression, answer)))
    for program, shapes in TENSORS:
        found.append(
            (f"tensor {program[:40]}", "grad tensor", tensor.gradient(parse_program(program), shape=shapes, seed=0))
        )
    return found


def pdflatex(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("pdflatex") is None:
        if os.environ.get("CHAINRULE_CI"):
            pytest.fail("CI must have a TeX engine: .ci/run installs texlive")
        pytest.skip("no TeX engine on this machine (CI installs one)")
    (tmp_path / "doc.tex").write_text(source, encoding="utf-8")
    return subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def wrapped(fragment: str) -> str:
    return "\\documentclass{article}\\usepackage{amsmath,amssymb}\\begin{document}\n" + fragment + "\\end{document}\n"


def test_every_fragment_compiles_when_pasted_into_a_document(tmp_path: Path) -> None:
    items = corpus()
    fragments = [renderer(view, "latex")(result, Terminal()) for _, view, result in items]
    for fragment in fragments:
        assert fragment.isascii(), "a fragment pdflatex reads in any encoding"
    run = pdflatex(tmp_path, wrapped("\n\\clearpage\n".join(fragments)))
    if run.returncode != 0:  # find the example that fails, for the message
        for (label, _, _), fragment in zip(items, fragments, strict=True):
            one = pdflatex(tmp_path, wrapped(fragment))
            assert one.returncode == 0, f"{label}:\n{one.stdout[-1500:]}"
    assert run.returncode == 0, run.stdout[-1500:]


@pytest.mark.parametrize("index", [0, 5, 14, 18, 22])
def test_latex_document_is_a_whole_document(tmp_path: Path, index: int) -> None:
    label, view, result = corpus()[index]
    source = renderer(view, "latex-document")(result, Terminal())
    assert source.startswith("\\documentclass") and source.rstrip().endswith("\\end{document}")
    run = pdflatex(tmp_path, source)
    assert run.returncode == 0, f"{label}:\n{run.stdout[-1500:]}"


def test_distinct_names_stay_distinct_in_latex() -> None:
    names = ["x", "x1", "x_1", "theta", "theta_1", "theta1", "loss", "u1", "c", "c′", "c″", "w_in", "W1"]
    shown = [symbol_tex(n) for n in names]
    assert len(set(shown)) == len(names)
    assert symbol_tex("theta_1") == r"\theta_{1}" and symbol_tex("x_1") == "x_{1}" and symbol_tex("c′") == "c'"


def test_abstract_derivatives_are_primes_not_unicode() -> None:
    text = renderer("diff", "latex")(differentiate("f(g(x))"), Terminal())
    assert "g'" in text and "′" not in text and text.startswith("\\[")
