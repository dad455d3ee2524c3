"""Names glued to numbers: sin2x is sin(2x), as textbooks mean it, never a variable called sin2x.

Every function of the rule table, under each of its spellings, is glued to numbers in many
forms (sin2x, sin5x^2, 2sin7x, xsin3x, sin3.5x, sin30t, sin3xcos2x, e^sin3x).  The oracle is
independent: the intended expression is built here with SymPy's own functions, differentiated
with sympy.diff and evaluated at 30 digits, and compared with chainrule's value and derivative
at a point inside the function's domain.  A Hypothesis property draws function × digits ×
variable letters × power.  The readings the parser must refuse (log23x: log2(3x) or log(23x)?)
are refused with a caret and a hint, and every note is checked word for word.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from chainrule.derive import differentiate
from chainrule.errors import InputError, UsageError
from chainrule.grade import grade
from chainrule.names import ALIASES, FUNCTIONS
from chainrule.syntax import parse, parse_program

# --------------------------------------------------------------------------- the oracle

Fn = Callable[[Any], Any]


def _log(base: int) -> Fn:
    return lambda u: sympy.log(u, base)


# Each function of the rule table written with SymPy's own functions (not chainrule's table).
ORACLE: dict[str, Fn] = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "sec": sympy.sec,
    "csc": sympy.csc,
    "cot": sympy.cot,
    "asin": sympy.asin,
    "acos": sympy.acos,
    "atan": sympy.atan,
    "asec": sympy.asec,
    "acsc": sympy.acsc,
    "acot": sympy.acot,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "tanh": sympy.tanh,
    "sech": sympy.sech,
    "csch": sympy.csch,
    "coth": sympy.coth,
    "asinh": sympy.asinh,
    "acosh": sympy.acosh,
    "atanh": sympy.atanh,
    "asech": sympy.asech,
    "acsch": sympy.acsch,
    "acoth": sympy.acoth,
    "exp": sympy.exp,
    "log": sympy.log,
    "log10": _log(10),
    "log2": _log(2),
    "sqrt": sympy.sqrt,
    "cbrt": lambda u: sympy.real_root(u, 3),
    "abs": sympy.Abs,
    "sigmoid": lambda u: 1 / (1 + sympy.exp(-u)),
    "relu": lambda u: sympy.Max(0, u),
    "softplus": lambda u: sympy.log(1 + sympy.exp(u)),
    "leaky_relu": lambda u: sympy.Piecewise((u, u > 0), (u / 100, True)),
    "silu": lambda u: u / (1 + sympy.exp(-u)),
    "gelu": lambda u: u * (1 + sympy.erf(u / sympy.sqrt(2))) / 2,
    "elu": lambda u: sympy.Piecewise((u, u > 0), (sympy.exp(u) - 1, True)),
    "erf": sympy.erf,
    "erfc": sympy.erfc,
    "log1p": lambda u: sympy.log(1 + u),
    "expm1": lambda u: sympy.exp(u) - 1,
    "sign": sympy.sign,
    "step": sympy.Heaviside,
}
# Where each function's argument is evaluated: inside its real domain, away from corners.
ARGUMENT = {"acosh": 1.7, "asec": 1.7, "acsc": 1.7, "acoth": 1.7, "asech": 0.4, "atanh": 0.4}

UNARY = sorted(name for name, (lo, _) in FUNCTIONS.items() if lo == 1 and name in ORACLE)
# Every spelling the parser reads inside a word: the names and their other spellings (tg, arcsin, ln, Abs).
SPELLINGS = sorted(
    {name for name in UNARY if name.isalnum()}
    | {spelling for spelling, name in ALIASES.items() if name in UNARY and spelling.isascii() and spelling.isalnum()}
)
X, T, Y = sympy.symbols("x t y", real=True)


def test_the_oracle_covers_every_function_of_one_argument() -> None:
    missing = {name for name, (lo, _) in FUNCTIONS.items() if lo == 1} - set(ORACLE)
    assert missing <= {"mean", "sum", "norm2", "softmax", "log_softmax", "layernorm"}, (
        missing
    )  # vectors: chainrule grad


def _canonical(spelling: str) -> str:
    return ALIASES.get(spelling, spelling)


def _number(text: str) -> float:
    value = complex(sympy.N(sympy.sympify(text) if isinstance(text, str) else text, 30))
    assert abs(value.imag) < 1e-20
    return value.real


def agrees(text: str, want: Any, variable: Any, at: float, **given: float) -> None:
    """chainrule's value and derivative of `text` at variable = at equal SymPy's, to 1e-9."""
    point = ",".join(f"{k}={v!r}" for k, v in {variable.name: at, **given}.items())
    d = differentiate(text, wrt=variable.name, at=point)
    subs = {variable: at, **{sympy.Symbol(k, real=True): v for k, v in given.items()}}
    value = _number(want.subs(subs))
    slope = _number(sympy.diff(want, variable).subs(subs))
    assert d.value == pytest.approx(value, rel=1e-9, abs=1e-12), (text, d.value, value)
    assert d.derivative_value == pytest.approx(slope, rel=1e-9, abs=1e-12), (text, d.derivative_value, slope)
    assert not any(spelling in v for v in d.evaluation.graph.variables for spelling in SPELLINGS if len(v) > 1), (
        text,
        d.evaluation.graph.variables,
    )


# --------------------------------------------------------------------------- every function, many forms


def _forms(spelling: str) -> list[tuple[str, Any, Any, float]]:
    """(text, intended expression, variable, point) for one spelling of a function."""
    f = ORACLE[_canonical(spelling)]
    u = ARGUMENT.get(_canonical(spelling), 0.7)
    if spelling in ("log2", "log10"):  # a name that ends in digits takes the letters glued to it
        return [
            (f"{spelling}x", f(X), X, u),
            (f"{spelling}x^2", f(X**2), X, u**0.5),
            (f"2{spelling}x", 2 * f(X), X, u),
            (f"x{spelling}x", X * f(X), X, u),
            (f"{spelling}t", f(T), T, u),
            (f"{spelling}xcos2x", f(X) * sympy.cos(2 * X), X, u),
            (f"e^{spelling}x", sympy.exp(f(X)), X, u),
            (f"{spelling}x + 1", f(X) + 1, X, u),
        ]
    return [
        (f"{spelling}3x", f(3 * X), X, u / 3),
        (f"{spelling}7x", f(7 * X), X, u / 7),
        (f"{spelling}5x^2", f(5 * X**2), X, (u / 5) ** 0.5),  # the argument is 5x², as in sin 5x^2
        (f"{spelling}3x²", f(3 * X**2), X, (u / 3) ** 0.5),
        (f"2{spelling}7x", 2 * f(7 * X), X, u / 7),
        (f"x{spelling}3x", X * f(3 * X), X, u / 3),
        (f"{spelling}3.5x", f(sympy.Rational(7, 2) * X), X, u / 3.5),
        (f"{spelling}30t", f(30 * T), T, u / 30),
        (f"{spelling}3xcos2x", f(3 * X) * sympy.cos(2 * X), X, u / 3),
        (f"{spelling}(3x)cos2x", f(3 * X) * sympy.cos(2 * X), X, u / 3),
        (f"e^{spelling}3x", sympy.exp(f(3 * X)), X, u / 3),
        (f"{spelling}3x + 1", f(3 * X) + 1, X, u / 3),
    ]


TABLE = [form for spelling in SPELLINGS for form in _forms(spelling)]


def test_the_table_holds_every_spelling_of_every_function() -> None:
    assert {_canonical(s) for s in SPELLINGS} == set(UNARY)
    assert len(TABLE) >= 700


@pytest.mark.parametrize(("text", "want", "variable", "at"), TABLE, ids=[t for t, *_ in TABLE])
def test_a_function_glued_to_a_number_is_read_as_a_textbook_means_it(
    text: str, want: Any, variable: Any, at: float
) -> None:
    agrees(text, want, variable, at)


@pytest.mark.parametrize(
    ("text", "want", "at"),
    [
        ("sin2x", sympy.sin(2 * X), 0.4),
        ("cos3x", sympy.cos(3 * X), 0.4),
        ("ln2x", sympy.log(2 * X), 0.4),
        ("sqrt2x", sympy.sqrt(2 * X), 0.4),
        ("sin3x^2", sympy.sin(3 * X**2), 0.4),
        ("e^sin2x", sympy.exp(sympy.sin(2 * X)), 0.4),
        ("tan10x", sympy.tan(10 * X), 0.04),
        ("sinh2x", sympy.sinh(2 * X), 0.4),
        ("arcsin2x", sympy.asin(2 * X), 0.3),
        ("sin2xcos3x", sympy.sin(2 * X) * sympy.cos(3 * X), 0.4),
        ("2sin3x", 2 * sympy.sin(3 * X), 0.4),
        ("sin(2x)cos3x", sympy.sin(2 * X) * sympy.cos(3 * X), 0.4),
        ("sin2 + x", sympy.sin(2) + X, 0.4),
        ("x sin2", X * sympy.sin(2), 0.4),
        ("sin2.5x", sympy.sin(sympy.Rational(5, 2) * X), 0.4),
        ("sin2x/3", sympy.sin(2 * X) / 3, 0.4),
        ("sin2x^2y", sympy.sin(2 * X**2 * Y), 0.4),
        # log2 and log10 are functions of their own: log2x is log2(x), log10x is log10(x)
        ("log2x", sympy.log(X, 2), 0.4),
        ("log10x", sympy.log(X, 10), 0.4),
        ("log2x^3", sympy.log(X**3, 2), 0.4),
        ("log3x", sympy.log(3 * X), 0.4),
        ("log20x", sympy.log(20 * X), 0.4),  # log2(0x) is no reading
        ("log100x", sympy.log(100 * X), 0.4),
        ("lg2x", sympy.log(2 * X, 10), 0.4),
        ("log_2x", sympy.log(X, 2), 0.4),
        ("log_10x", sympy.log(X, 10), 0.4),
        ("log1px", sympy.log(1 + X), 0.4),
        ("log1p2x", sympy.log(1 + 2 * X), 0.4),
        ("expm1x", sympy.exp(X) - 1, 0.4),
        ("expm12x", sympy.exp(2 * X) - 1, 0.4),
        # atan2 takes two arguments, so atan2x can only be atan(2x)
        ("atan2x", sympy.atan(2 * X), 0.4),
        ("atan23x", sympy.atan(23 * X), 0.4),
        ("arctan2x", sympy.atan(2 * X), 0.4),
        ("xsin2", X * sympy.sin(2), 0.4),
        ("x2sin3x", sympy.Symbol("x2", real=True) * sympy.sin(3 * X), 0.4),
    ],
)
def test_the_examples_of_the_issue_and_the_digit_names(text: str, want: Any, at: float) -> None:
    others = {str(s): 1.3 for s in want.free_symbols if s != X}
    agrees(text, want, X, at, **others)


# --------------------------------------------------------------------------- a property


@st.composite
def glued(draw: st.DrawFn) -> tuple[str, Any, Any, dict[str, float]]:
    """function × digits × variable letters × power: sin37t², tanh4xy^3, 2arcsin5u."""
    spelling = draw(st.sampled_from(SPELLINGS))
    digits = draw(st.integers(1, 999).map(str))
    letters = draw(st.sampled_from(["x", "t", "u", "w", "z", "xy", "tu"]))
    power = draw(st.sampled_from(["", "^2", "^3", "²", "³"]))
    n = {"": 1, "^2": 2, "^3": 3, "²": 2, "³": 3}[power]
    variables = [sympy.Symbol(c, real=True) for c in letters]
    f = ORACLE[_canonical(spelling)]
    product = sympy.Integer(digits) * sympy.Mul(*variables[:-1]) * variables[-1] ** n
    if spelling == "log" and digits in ("2", "10"):  # log2x is log2(x), log10x is log10(x)
        f, product = ORACLE["log" + digits], sympy.Mul(*variables[:-1]) * variables[-1] ** n
    text = f"{spelling}{digits}{letters}{power}"
    u = ARGUMENT.get(_canonical(spelling), 0.7)
    others = {str(v): 1.1 for v in variables[1:]}
    scale = float(product.subs({v: 1.1 for v in variables[1:]}).subs(variables[0], 1))
    at = (u / scale) ** (1 / (n if len(variables) == 1 else 1))
    return text, f(product), variables[0], others | {"_at": at}


def _clash(spelling: str, digits: str) -> bool:
    """log23x, log100x, log105x: log2 or log10 followed by more digits reads two ways."""
    if spelling in ("log2", "log10"):
        return True
    if digits.startswith(("20", "100")):  # log20x, log100x: log2(0x) and log10(0x) are no readings
        return False
    return spelling == "log" and digits.startswith(("2", "10")) and digits not in ("2", "10")


@given(glued())
def test_every_glued_word_is_read_as_the_function_of_the_product_or_refused(
    case: tuple[str, Any, Any, dict[str, float]],
) -> None:
    text, want, variable, given_values = case
    at = given_values.pop("_at")
    spelling = next(s for s in sorted(SPELLINGS, key=len, reverse=True) if text.startswith(s))
    digits = text[len(spelling) :].rstrip("xtuwyz^²³")
    if _clash(spelling, digits):
        with pytest.raises(InputError) as info:
            parse(text)
        assert info.value.position == 0 and "can be read two ways" in info.value.message
        assert info.value.hint is not None and info.value.hint.startswith(("write log2(", "write log10("))
        return
    agrees(text, want, variable, at, **given_values)


# --------------------------------------------------------------------------- refusals, with a caret


@pytest.mark.parametrize(
    ("text", "message", "position", "hint"),
    [
        ("log23x", "'log23x' can be read two ways", 0, "write log2(3x) or log(23x)"),
        ("log105x", "'log105x' can be read two ways", 0, "write log10(5x) or log(105x)"),
        ("log20", "'log20' can be read two ways", 0, "write log2(0) or log(20)"),
        ("x + log23x", "'log23x' can be read two ways", 4, "write log2(3x) or log(23x)"),
        ("sinx2", "'sinx2' can be read several ways", 0, "write sin(x^2), sin(x)*2 or sin(x2)"),
        ("2 + cosx3", "'cosx3' can be read several ways", 4, "write cos(x^3), cos(x)*3 or cos(x3)"),
        ("max2x", "'max' needs parentheses", 0, "max takes 2 arguments: write max(a, b)"),
        ("hypot3x", "'hypot' needs parentheses", 0, "hypot takes 2 arguments: write hypot(a, b)"),
        ("sin^22x", "'sin^22x' can be read two ways", 0, "write sin^2(2x) or sin(x)^22"),
        ("tanh^35t", "'tanh^35t' can be read two ways", 0, "write tanh^3(5t) or tanh(t)^35"),
        (
            "sin2(x)",
            "unknown function 'sin2'",
            0,
            "write sin^2(…) for a power of sin, or sin(2*(…)) for sin of a product",
        ),
        ("sin" + "1" * 101 + "x", "number with 101 digits; the limit is 100", 3, None),
    ],
)
def test_a_glued_word_that_reads_several_ways_is_refused_with_a_caret_and_a_hint(
    text: str, message: str, position: int, hint: str | None
) -> None:
    with pytest.raises(InputError) as info:
        parse(text)
    assert message in info.value.message
    assert info.value.position == position
    assert info.value.hint == hint


@pytest.mark.parametrize("text", ["x2", "w1*x1 + b1", "theta2", "a1b"])
def test_names_with_digits_and_no_function_stay_names(text: str) -> None:
    names = {"x2": {"x2"}, "w1*x1 + b1": {"w1", "x1", "b1"}, "theta2": {"theta2"}, "a1b": {"a1b"}}[text]
    expr = parse(text)
    assert set(expr.variables()) == names and expr.notes == ()


def test_names_a_program_binds_or_declares_are_never_split() -> None:
    program = parse_program("sin2x = 2.0; exp1 = 3.0; cost2 = x^2; y = sin2x*exp1*cost2")
    assert set(program.expr.variables()) == {"sin2x", "exp1", "x"}


def test_a_name_given_a_value_in_at_is_kept_whole() -> None:
    d = differentiate("sin2x^2", wrt="sin2x", at="sin2x=3")
    assert d.derivative_value == pytest.approx(6.0)


def test_a_huge_glued_word_is_read_in_linear_time() -> None:
    expr = parse("sin2x" * 20_000)
    assert expr.variables() == ("x",)


# --------------------------------------------------------------------------- the notes, word for word


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("sin2x", "read 'sin2x' as sin(2x); write sin(2)*x for sin(2) times x"),
        ("cos3x", "read 'cos3x' as cos(3x); write cos(3)*x for cos(3) times x"),
        ("sqrt2x", "read 'sqrt2x' as sqrt(2x); write sqrt(2)*x for sqrt(2) times x"),
        ("sin3x^2", "read 'sin3x^2' as sin(3x^2); write sin(3x)^2 for sin(3x) to the power 2"),
        ("sin 3x^2", "read 'sin 3x^2' as sin(3x^2); write sin(3x)^2 for sin(3x) to the power 2"),
        ("sin3x²", "read 'sin3x²' as sin(3x²); write sin(3x)² for sin(3x) to the power 2"),
        ("e^sin2x", "read 'e^sin2x' as e^sin(2x); write sin(2)*x for sin(2) times x"),
        ("2sin3x", "read '2sin3x' as 2sin(3x); write sin(3)*x for sin(3) times x"),
        ("sin2xcos3x", "read 'sin2xcos3x' as sin(2x)·cos(3x); write sin(2)*x for sin(2) times x"),
        ("arcsin2x", "read 'arcsin2x' as arcsin(2x); write arcsin(2)*x for arcsin(2) times x"),
        ("log2x", "read 'log2x' as log2(x); write log(2x) for the natural logarithm of 2x"),
        ("log10x", "read 'log10x' as log10(x); write log(10x) for the natural logarithm of 10x"),
        ("log1px", "read 'log1px' as log1p(x)"),
        ("log_2x", "read 'log_2x' as log_2(x)"),
        ("sin2", "read 'sin2' as sin(2)"),
        ("sin^2 3x", "read 'sin^2 3x' as sin^2(3x); write sin^2(3)*x for sin^2(3) times x"),
        ("sin x^2", "read 'sin x^2' as sin(x^2); write sin(x)^2 for sin(x) to the power 2"),
        ("e^2x", "read 'e^2x' as (e^2)·x; write e^(2x) for e to the power 2x"),
        ("e^-2x", "read 'e^-2x' as (e^-2)·x; write e^(-2x) for e to the power -2x"),
        ("e^+2x", "read 'e^+2x' as (e^+2)·x; write e^(+2x) for e to the power +2x"),
        ("2/2x", "read '2/2x' as (2/2)·x; write 2/(2x) for 2 divided by 2x"),
        ("1/-2x", "read '1/-2x' as (1/-2)·x; write 1/(-2x) for 1 divided by -2x"),
        ("e^2sin3x", "read 'e^2sin…' as (e^2)·sin(…); write e^(2sin(…)) for e to the power 2sin(…)"),
        ("logsumexp(x, 1, 2)", "read logsumexp(…) of 3 arguments from the left, as logsumexp(logsumexp(a, b), c)"),
    ],
)
def test_each_note_says_how_it_read_the_input_and_how_to_write_the_other_reading(text: str, note: str) -> None:
    assert note in parse(text).notes, parse(text).notes


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("e^-2x", sympy.exp(-2) * X),
        ("e^2x", sympy.exp(2) * X),
        ("1/-2x", -X / 2),
        ("e^2sin3x", sympy.exp(2) * sympy.sin(3 * X)),
        ("sin^10x", sympy.sin(X) ** 10),  # sin^1(0x) is no reading
        ("sin^2x", sympy.sin(X) ** 2),
        ("2/2x", X),
    ],
)
def test_a_number_after_a_power_or_a_slash_keeps_its_reading_with_or_without_a_sign(text: str, want: Any) -> None:
    agrees(text, want, X, 0.7)


# --------------------------------------------------------------------------- check reads answers the same way


@pytest.mark.parametrize(
    ("expression", "answer", "wrt"),
    [
        ("sin(2x)", "2cos2x", None),
        ("sin2x", "2cos2x", None),
        ("cos3x", "-3sin3x", None),
        ("ln2x", "1/x", None),
        ("sin3x^2", "6xcos3x^2", None),
        ("e^sin2x", "2cos2x*e^sin2x", None),
        ("tan10x", "10sec^2 10x", None),
        ("log2x", "1/(x ln2)", None),
        ("sqrt2x", "1/sqrt2x", None),
        ("sin2xcos3x", "2cos2xcos3x - 3sin2xsin3x", None),
        ("x*y", "y", "x"),
        ("x^2*y", "2xy", "x"),
        ("x^2*y", "2yx", "x"),
        ("x^2*y^3", "3x^2y^2", "y"),
    ],
)
def test_check_reads_glued_answers_and_products_of_the_variables_and_grades_them_right(
    expression: str, answer: str, wrt: str | None
) -> None:
    g = grade(expression, answer, wrt)
    assert g.verdict == "correct", (g.verdict, g.method, g.notes)
    assert g.answer_expression is not None
    x, y = sympy.symbols("x y")
    intended = {"x": x, "y": y}
    expected = sympy.diff(parse_oracle(expression), intended[wrt or "x"])
    difference = g.answer_expression.subs({s: intended[s.name] for s in g.answer_expression.free_symbols}) - expected
    point = {x: sympy.Rational(37, 100), y: sympy.Rational(13, 10)}
    assert abs(complex(difference.subs(point).evalf(50))) < 1e-30


def parse_oracle(expression: str) -> Any:
    """The intended expressions of the check table, written out in SymPy."""
    x, y = sympy.symbols("x y")
    return {
        "sin(2x)": sympy.sin(2 * x),
        "sin2x": sympy.sin(2 * x),
        "cos3x": sympy.cos(3 * x),
        "ln2x": sympy.log(2 * x),
        "sin3x^2": sympy.sin(3 * x**2),
        "e^sin2x": sympy.exp(sympy.sin(2 * x)),
        "tan10x": sympy.tan(10 * x),
        "log2x": sympy.log(x, 2),
        "sqrt2x": sympy.sqrt(2 * x),
        "sin2xcos3x": sympy.sin(2 * x) * sympy.cos(3 * x),
        "x*y": x * y,
        "x^2*y": x**2 * y,
        "x^2*y^3": x**2 * y**3,
    }[expression]


def test_a_wrong_glued_answer_is_graded_wrong_not_refused() -> None:
    assert grade("sin(2x)", "cos2x").verdict == "wrong"


def test_check_reads_xy_as_diff_reads_it() -> None:
    # diff: a word made only of given names is their product; without them it is one name
    assert differentiate("x^2*y", wrt="x", at="x=1,y=2").derivative_value == pytest.approx(4.0)
    assert differentiate("xy").variable == "xy"
    with pytest.raises(UsageError, match="does not occur"):
        differentiate("xy", wrt="x")
    with pytest.raises(UsageError, match="does not occur"):
        grade("xy", "y", "x")
    # check: the expression's variables are the answer's names
    g = grade("x^2*y", "2xy", "x")
    assert g.notes == ("in the answer: read 'xy' as x·y, the product of the variables x and y",)
    assert grade("x^2*y", "2xy", "x").verdict == "correct"
    # an answer's word that the expression does not hold is still refused, with its name
    with pytest.raises(UsageError, match="'xz'"):
        grade("x^2*y", "2xz", "x")


# --------------------------------------------------------------------------- the command line


def test_diff_json_reads_sin2x_as_sin_of_2x_with_its_note(run_json: Any) -> None:
    code, doc = run_json("diff", "sin2x", "--at", "x=1")
    assert code == 0 and doc["function"] == "sin(2*x)" and doc["variable"] == "x"
    assert doc["notes"] == ["read 'sin2x' as sin(2x); write sin(2)*x for sin(2) times x"]
    assert doc["value"] == pytest.approx(float(sympy.sin(2)))


def test_check_json_grades_2cos2x_correct(run_json: Any) -> None:
    code, doc = run_json("check", "sin(2x)", "2cos2x")
    assert code == 0 and doc["verdict"] == "correct"
    assert doc["notes"] == ["in the answer: read '2cos2x' as 2cos(2x); write cos(2)*x for cos(2) times x"]


def test_a_glued_word_that_reads_two_ways_exits_2_with_a_caret(run: Any) -> None:
    code, _, err = run("diff", "log23x")
    assert code == 2
    assert "'log23x' can be read two ways" in err and "^" in err and "write log2(3x) or log(23x)" in err


@pytest.mark.parametrize(
    ("text", "want", "note"),
    [
        ("Sin2x", sympy.sin(2 * X), "read Sin as sin"),
        ("SIN2x", sympy.sin(2 * X), "read SIN as sin"),
        ("Ln2x", sympy.log(2 * X), "read Ln as ln"),
        ("Log2x", sympy.log(X, 2), "read Log as log"),
    ],
)
def test_a_capitalized_name_glued_to_a_number_is_the_function(text: str, want: Any, note: str) -> None:
    agrees(text, want, X, 0.4)
    assert note in parse(text).notes
