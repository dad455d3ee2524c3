"""Every tensor specification's parts agree, as tests/test_rules.py checks the scalar table: its
names, its formula and products in every printer (text, LaTeX that pdflatex compiles, MathML that
parses as XML), its value, and its vector–Jacobian products against central differences.  The
operands are the ones each operation meets in its row of tests/test_tensor.py (ROWS): adding an
operation is one specification and that one row.

Then the done-when of issue 24, item 3: layernorm, added as one specification, prints in LaTeX
that compiles and has autograd's gradient, with no view touched; and the printers of formula
trees themselves (parentheses by precedence, depth-safety).
"""

from __future__ import annotations

import inspect
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad as autograd_grad
from tests.test_latex import pdflatex, wrapped
from tests.test_tensor import ROWS

from chainrule import tensor
from chainrule.render import formula_print, tensor_views
from chainrule.render.registry import Terminal, renderer
from chainrule.rules import ENTRYWISE, MINUS, PLUS, TIMES
from chainrule.syntax import parse_program
from chainrule.tensor_forms import ONE, Adjoint, Call, Form, Infix, Norm, Operand, Sym, Transpose, transpose
from chainrule.tensor_rules import TENSOR_RULES, Site, TensorRule

H = 1e-6


def sites(key: str) -> list[tuple[TensorRule, Any, Any, tuple[Any, ...]]]:
    """(rule, gradient, node, operand values) for every node of `key` in the operation's row."""
    program, shapes = ROWS[key]
    g = tensor.gradient(parse_program(program), shape=shapes, seed=3)
    found = []
    for i in g.tensors.order:
        if g.tensors.node(i).kind in ("var", "num", "const"):
            continue
        rule = g.tensors.operation(i)
        if isinstance(rule, TensorRule) and rule.key == key:
            node = g.tensors.node(i)
            found.append((rule, g, node, tuple(g.run.values[a] for a in node.args)))
    assert found, f"the row of {key} does not use it"
    return found


def forms_of(key: str) -> list[Form]:
    """The rule's formula and each product's formula, over named operands, at each of its nodes."""
    result: list[Form] = []
    for rule, _g, node, args in sites(key):
        names = tuple(Sym(f"a{k}") for k in range(len(args)))
        result.append(rule.form(node.text, names))
        shapes = tuple(np.shape(a) for a in args)
        site = Site(node.text, shapes, Sym(str(int(np.prod(shapes[0])))))
        for k in range(len(args)):
            if k in rule.constant:
                continue
            build = rule.partial_form(k, site)
            result.append(build(site, Operand(Adjoint("u")), Operand(Sym("out")), *(Operand(n) for n in names)))
    return result


@pytest.mark.parametrize("key", sorted(TENSOR_RULES))
def test_every_specification_has_its_parts(key: str) -> None:
    rule = TENSOR_RULES[key]
    assert rule.key == key and rule.name and rule.identity and rule.why
    assert rule.latex_name.startswith("\\")
    assert key == "list" or len(rule.vjps) == len(rule.partial_forms) == rule.arity[1]


@pytest.mark.parametrize("key", sorted(TENSOR_RULES))
def test_every_value_and_product_agrees_with_central_differences(key: str) -> None:
    rng = np.random.default_rng(0)
    for rule, _, node, args in sites(key):
        out = np.asarray(rule.value(np, node.text, *args), dtype=float)
        weights = rng.standard_normal(out.shape)  # L = Σ w ⊙ f(args): its adjoint G is w
        for k, arg in enumerate(args):
            if k in rule.constant:
                continue
            product = np.asarray(rule.product(k)(np, node.text, weights, out, *args), dtype=float)
            assert product.shape == np.shape(arg), (key, k)
            numeric = np.zeros(np.shape(arg))
            for where in np.ndindex(*np.shape(arg)):
                moved = [np.array(a, dtype=float) for a in args]
                step = np.zeros(np.shape(arg))
                step[where] = H
                moved[k] = moved[k] + step
                plus = float((weights * rule.value(np, node.text, *moved)).sum())
                moved[k] = moved[k] - 2 * step
                minus = float((weights * rule.value(np, node.text, *moved)).sum())
                numeric[where] = (plus - minus) / (2 * H)
            np.testing.assert_allclose(product, numeric, rtol=1e-5, atol=1e-7, err_msg=f"{key}, operand {k}")


@pytest.mark.parametrize("key", sorted(TENSOR_RULES))
def test_every_formula_prints_in_every_format(key: str) -> None:
    for form in forms_of(key):
        shown = formula_print.render(form, "text")
        assert shown and "{" not in shown, (key, shown)
        assert formula_print.width(form) == len(shown)
        assert formula_print.render(form, "latex").isascii()
        assert formula_print.render(form, "markdown")
        root = ET.fromstring(formula_print.render(form, "mathml"))  # well-formed XML
        tags = {element.tag.split("}")[-1] for element in root.iter()}
        assert "math" in tags and tags & {"mi", "mn"}, (key, tags)


def test_every_formula_compiles_in_latex(tmp_path: Path) -> None:
    body = []
    for key in sorted(TENSOR_RULES):
        body += [f"\\[ {formula_print.latex(form)} \\]" for form in forms_of(key)]
    run = pdflatex(tmp_path, wrapped("\n".join(body) + "\n"))
    assert run.returncode == 0, run.stdout[-1500:]


# --------------------------------------------------------------------------- layernorm: one specification


LAYERNORM = "z = W @ x; h = layernorm(z); L = sum(h * v)"
LAYERNORM_AT = {"W": [[0.5, -1.0, 0.3], [1.0, 0.2, -0.7], [-0.3, 0.8, 0.1], [0.9, 0.4, -0.2]], "x": [1.0, 2.0, -0.5]}


def _layernorm_loss(w: Any, x: Any, v: Any) -> Any:
    z = anp.dot(w, x)
    centred = z - anp.mean(z)
    return anp.sum(centred / anp.sqrt(anp.mean(centred**2) + 1e-5) * v)


def test_layernorm_matches_autograd_and_prints_in_latex_that_compiles(tmp_path: Path) -> None:
    v = [1.0, -2.0, 0.5, 3.0]
    g = tensor.gradient(parse_program(LAYERNORM), at={**LAYERNORM_AT, "v": v})
    w, x = np.array(LAYERNORM_AT["W"]), np.array(LAYERNORM_AT["x"])
    expected = autograd_grad(_layernorm_loss, (0, 1))(w, x, np.array(v))
    np.testing.assert_allclose(g.gradient["W"], expected[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(g.gradient["x"], expected[1], rtol=1e-9, atol=1e-12)
    assert g.agrees
    fragment = renderer("grad tensor", "latex")(g, Terminal())
    assert "\\operatorname{layernorm}" in fragment and fragment.isascii()
    run = pdflatex(tmp_path, wrapped(fragment))
    assert run.returncode == 0, run.stdout[-1500:]
    document = renderer("grad tensor", "latex-document")(g, Terminal())
    assert pdflatex(tmp_path, document).returncode == 0
    assert "layernorm(z)" in renderer("grad tensor", "text")(g, Terminal())


def test_layernorm_needs_no_view() -> None:
    for module in (tensor_views, formula_print):
        assert "layernorm" not in inspect.getsource(module)
    assert "layernorm" not in inspect.getsource(tensor)


# --------------------------------------------------------------------------- the printers


@pytest.mark.parametrize(
    ("form", "shown"),
    [
        (Infix(TIMES, Operand(Infix(PLUS, Sym("a"), Sym("b"))), Sym("c")), "(a + b)·c"),
        (Infix(MINUS, Sym("a"), Infix(MINUS, Sym("b"), Sym("c"))), "a − (b − c)"),
        (Infix(PLUS, Sym("a"), Infix(PLUS, Sym("b"), Sym("c"))), "a + b + c"),
        (Infix(ENTRYWISE, Infix(ENTRYWISE, Sym("a"), Sym("b")), Sym("c")), "(a ⊙ b) ⊙ c"),
        (transpose(Operand(Adjoint("e"))), "(∂L/∂e)ᵀ"),
        (transpose(transpose(Sym("x"))), "x"),
        (Transpose(Operand(Call("f", (Sym("x"),)))), "f(x)ᵀ"),
        (Norm(Infix(MINUS, Sym("a"), Sym("b"))), "‖a − b‖"),
        (Infix(TIMES, ONE, Sym("x")), "1·x"),
    ],
)
def test_the_text_printer_chooses_parentheses_by_precedence(form: Form, shown: str) -> None:
    assert formula_print.text(form) == shown


def test_printers_are_depth_safe() -> None:
    form: Form = Sym("x")
    for k in range(20_000):
        form = Call("tanh", (form,)) if k % 2 else Infix(ENTRYWISE, form, Sym("y"))
    assert formula_print.text(form, limit=400) is None
    assert formula_print.width(form) > 100_000
    for fmt in ("text", "latex", "mathml"):
        assert len(formula_print.render(form, fmt)) > 100_000
    ET.fromstring(formula_print.mathml(form))


def test_a_shared_operand_is_measured_once() -> None:
    form: Form = Sym("x")
    for _ in range(200):  # its text doubles at every level: 2^200 characters
        form = Infix(ENTRYWISE, form, form)
    assert formula_print.width(form) > 2**200
    assert formula_print.text(form, limit=400) is None


def test_an_unknown_format_names_the_formats() -> None:
    with pytest.raises(ValueError, match="text, latex, markdown, mathml"):
        formula_print.render(Sym("x"), "html")
