"""The rule table's consistency test: one row of sample points per entry of RULES.

Every entry of :data:`chainrule.rules.RULES` states one operation several
times over: a SymPy builder, symbolic partials, float and mpmath formulas for
its value and slopes, and domain predicates.  These tests check that the
statements agree with each other and with SymPy, used as an independent
oracle (functions SymPy lacks are compared through their ``elementary``
definitions).

Adding an entry to the table adds a row to every parametrized test here; the
row fails until SAMPLES below gives it sample points inside its domain.
"""

from __future__ import annotations

from typing import Any

import mpmath
import pytest
import sympy

from chainrule import names
from chainrule.printing import pretty
from chainrule.rules import CLASSES, FLOAT, INVERSES, MP, RULES, SPELLINGS, Rule, elementary
from chainrule.syntax import parse
from chainrule.tensor_rules import TENSOR_RULES

X = sympy.Symbol("x", real=True)
Y = sympy.Symbol("y", real=True)

DIGITS = 30  # the oracle's and mpmath's working precision
FLOAT_SLOPE = 1e-9  # float slopes and values against the exact ones
FLOAT_TAIL = 1e-12  # float slopes far out in the tails, where cancellation would show
MP_VS_FLOAT = 1e-12  # mpmath at 30 digits against floats
MP_VS_EXACT = 1e-25  # mpmath at 30 digits against SymPy at 30 digits
SYMBOLIC = 1e-20  # a symbolic partial against SymPy's derivative, numerically

# Sample points strictly inside each entry's domain: a bare number for a function of
# one operand, a tuple for an operator of two.  Mostly dyadic, so that the exact
# rationals SymPy gets are small; with large magnitudes where a formula could
# overflow or cancel.
SAMPLES: dict[str, tuple[float | tuple[float, ...], ...]] = {
    # arithmetic
    "add": ((1.5, -2.25), (1e10, 3.5), (-0.125, 0.125)),
    "sub": ((1.5, -2.25), (-7.0, 0.125), (1e10, 1e10 - 1)),
    "neg": (1.5, -2.25, 1e10),
    "mul": ((1.5, -2.25), (0.125, 6.0), (1e10, -3e-10)),
    "div": ((1.5, -2.25), (-7.0, 0.125), (1e10, 3e-10)),
    "pow": ((2.5, 1.75), (0.375, -2.5), (10.0, 30.0), (3.0, 2.0)),
    "logb": ((2.5, 3.0), (0.375, 0.5), (1e10, 10.0)),
    # trigonometric
    "sin": (0.375, -2.5, 30.0),
    "cos": (0.375, -2.5, 30.0),
    "tan": (0.375, -1.25, 4.0),
    "sec": (0.375, -2.5, 4.0),
    "csc": (0.375, -2.5, 4.0),
    "cot": (0.375, -2.5, 4.0),
    "asin": (0.375, -0.875, 0.999),
    "acos": (0.375, -0.875, 0.999),
    "atan": (0.375, -2.5, 1e8),
    "asec": (1.5, -2.5, 1e8),
    "acsc": (1.5, -2.5, 1e8),
    "acot": (0.375, -2.5, 1e8),
    # hyperbolic
    "sinh": (0.375, -2.5, 30.0),
    "cosh": (0.375, -2.5, 30.0),
    "tanh": (0.375, -2.5, 30.0, -30.0),
    "sech": (0.375, -2.5, 30.0, -30.0),
    "csch": (0.375, -2.5, 30.0),
    "coth": (0.375, -2.5, 30.0),
    "asinh": (0.375, -2.5, 1e8),
    "acosh": (1.5, 1.001, 1e8),
    "atanh": (0.375, -0.875, 0.999),
    "asech": (0.375, 0.875, 1e-8),
    "acsch": (0.375, -2.5, 1e8),
    "acoth": (1.5, -2.5, 1e8),
    # exponentials, logarithms, roots
    "exp": (0.375, -2.5, 30.0),
    "log": (0.375, 2.5, 1e10),
    "log10": (0.375, 2.5, 1e10),
    "log2": (0.375, 2.5, 1e10),
    "sqrt": (0.375, 2.5, 1e10),
    "cbrt": (0.375, -2.5, 1e10),
    "abs": (1.5, -2.5),
    # machine learning
    "sigmoid": (0.375, -2.5, 30.0, -30.0),
    "relu": (1.5, -2.5, 1e10),
    "softplus": (0.375, -2.5, 30.0, -30.0),
    "silu": (0.375, -2.5, 30.0, -30.0),
    "leaky_relu": ((1.5, 0.01), (-2.5, 0.2), (1e10, 0.01), (-1e10, 0.5)),
    "gelu": (0.375, -2.5, 6.0, -6.0),
    "elu": (0.375, -2.5, 30.0, -30.0),
    # special functions
    "erf": (0.375, -2.5, 4.0),
    "erfc": (0.375, -2.5, 4.0),
    "log1p": (0.375, -0.875, 1e-10, 1e10),
    "expm1": (0.375, -2.5, 1e-10, 30.0),
    "sign": (1.5, -2.5, 1e10),
    "step": (1.5, -2.5, 1e10),
    # functions of two operands
    "max": ((1.5, -2.25), (-7.0, 0.125), (1e10, 3.0)),
    "min": ((1.5, -2.25), (-7.0, 0.125), (1e10, 3.0)),
    "logsumexp": ((1.5, -2.25), (-7.0, 0.125), (700.0, 710.0), (-800.0, -790.0)),
    "atan2": ((1.5, -2.25), (-7.0, 0.125), (1e10, 3.0), (0.5, 2.0)),
    "hypot": ((1.5, -2.25), (-7.0, 0.125), (1e10, 3.0)),
}

KEYS = sorted(RULES)


# --------------------------------------------------------------------------- helpers


def samples(key: str) -> list[tuple[float, ...]]:
    """The sample points of an entry, each a tuple of operands; fails when the row is missing."""
    if key not in SAMPLES:
        pytest.fail(
            f"RULES[{key!r}] has no sample points: add a row {key!r}: (...) to SAMPLES in "
            "tests/test_rules.py, with points strictly inside its domain (a large-magnitude one too, "
            "where the formula could overflow or cancel)",
            pytrace=False,
        )
    points = [p if isinstance(p, tuple) else (p,) for p in SAMPLES[key]]
    width = len(RULES[key].partials)
    assert all(len(p) == width for p in points), f"SAMPLES[{key!r}]: each point needs {width} operands"
    return points


def operands(rule: Rule) -> tuple[Any, ...]:
    """Real symbols, one per operand."""
    return (X, Y)[: len(rule.partials)]


def exact(key: str, f: Any, point: tuple[float, ...]) -> Any:
    """f at the exact (binary) sample point, by SymPy at 30 digits, through the elementary definitions."""
    value = sympy.N(elementary(f(*(sympy.Rational(p) for p in point))), DIGITS)
    assert value.is_Number and value.is_finite, f"{key}: SymPy has no finite real value at {at(point)}: {value}"
    return value


def at(point: tuple[float, ...]) -> str:
    return f"({', '.join(map(repr, point))})"


def agree(got: Any, want: Any, rel: float) -> bool:
    """got equals want to a relative tolerance (exactly, when want is 0)."""
    with mpmath.workdps(2 * DIGITS):
        g, w = mpmath.mpf(got), mpmath.mpf(want)
        return bool(g == w or abs(g - w) <= rel * abs(w))


def mp(point: tuple[float, ...]) -> tuple[Any, ...]:
    return tuple(mpmath.mpf(p) for p in point)


# --------------------------------------------------------------------------- the table's shape


def test_every_row_of_the_sample_table_names_a_rule() -> None:
    stale = sorted(set(SAMPLES) - set(RULES))
    assert not stale, f"SAMPLES has rows for keys RULES no longer has: {stale}"


@pytest.mark.parametrize("key", KEYS)
def test_each_rule_has_one_slope_per_partial_within_its_arity(key: str) -> None:
    rule = RULES[key]
    samples(key)
    assert rule.key == key
    assert len(rule.partials) == len(rule.slopes)
    fewest, most = rule.arity
    assert fewest <= len(rule.partials) <= most
    assert (rule.build is None) == (key in CLASSES)


# --------------------------------------------------------------------------- 1. symbolic partials


@pytest.mark.parametrize("key", KEYS)
def test_each_symbolic_partial_is_sympys_derivative_of_the_builder(key: str) -> None:
    rule = RULES[key]
    points = samples(key)
    args = operands(rule)
    built = elementary(rule.builder(*args))
    for k, (partial, var) in enumerate(zip(rule.partials, args, strict=True)):
        want = sympy.diff(built, var)
        got = elementary(partial(*args))
        if got == want or sympy.simplify(got - want) == 0:
            continue
        # simplify is inconclusive (sign and Heaviside, say): compare at the sample points, away from kinks.
        for point in points:
            subs = dict(zip(args, (sympy.Rational(p) for p in point), strict=True))
            g, w = sympy.N(got.subs(subs), DIGITS), sympy.N(want.subs(subs), DIGITS)
            assert g.is_Number and w.is_Number, f"{key}: partial {k} at {at(point)}: {g} vs {w}"
            assert agree(g, w, SYMBOLIC), f"{key}: partial {k} at {at(point)}: table {g}, sympy.diff {w}"


# --------------------------------------------------------------------------- 2. float formulas


@pytest.mark.parametrize("key", KEYS)
def test_each_float_value_and_slope_match_the_exact_ones(key: str) -> None:
    rule = RULES[key]
    for point in samples(key):
        got, want = rule.value(FLOAT, *point), exact(key, rule.builder, point)
        assert agree(got, want, FLOAT_SLOPE), f"{key} at {at(point)}: float value {got!r}, exact {want}"
        for k, (partial, slope) in enumerate(zip(rule.partials, rule.slopes, strict=True)):
            got, want = slope(FLOAT, *point), exact(key, partial, point)
            assert agree(got, want, FLOAT_SLOPE), f"{key} at {at(point)}: float slope {k} {got!r}, exact {want}"


@pytest.mark.parametrize(
    ("key", "u", "about"),
    [
        ("tanh", 30.0, 3.5026e-26),
        ("tanh", -30.0, 3.5026e-26),
        ("sigmoid", 30.0, 9.3576e-14),
        ("sigmoid", -30.0, 9.3576e-14),
        ("softplus", -30.0, 9.3576e-14),
        ("sech", 30.0, -1.8715e-13),
        ("sech", -30.0, 1.8715e-13),
    ],
)
def test_float_slopes_stay_accurate_far_out_in_the_tails(key: str, u: float, about: float) -> None:
    rule = RULES[key]
    got, want = rule.slopes[0](FLOAT, u), exact(key, rule.partials[0], (u,))
    assert agree(want, about, 1e-4), f"the oracle's {key}′({u}) is {want}, not about {about}"
    assert agree(got, want, FLOAT_TAIL), f"{key}′({u}): float {got!r}, exact {want}"


# --------------------------------------------------------------------------- 3. mpmath formulas


@pytest.mark.parametrize("key", KEYS)
def test_each_mpmath_value_and_slope_match_the_float_ones_and_the_exact_ones(key: str) -> None:
    rule = RULES[key]
    for point in samples(key):
        with mpmath.workdps(DIGITS):
            value = rule.value(MP, *mp(point))
            slopes = [slope(MP, *mp(point)) for slope in rule.slopes]
        assert agree(value, rule.value(FLOAT, *point), MP_VS_FLOAT), f"{key} at {at(point)}: mpmath value {value}"
        assert agree(value, exact(key, rule.builder, point), MP_VS_EXACT), f"{key} at {at(point)}: mpmath value {value}"
        for k, (partial, slope, got) in enumerate(zip(rule.partials, rule.slopes, slopes, strict=True)):
            assert agree(got, slope(FLOAT, *point), MP_VS_FLOAT), f"{key} at {at(point)}: mpmath slope {k} {got}"
            assert agree(got, exact(key, partial, point), MP_VS_EXACT), f"{key} at {at(point)}: mpmath slope {k} {got}"


# --------------------------------------------------------------------------- 4. SymPy's numeric evaluation


@pytest.mark.parametrize("number", [sympy.Rational, sympy.Float], ids=["rational", "float"])
@pytest.mark.parametrize("key", KEYS)
def test_each_builder_evaluates_numerically_to_the_float_value(key: str, number: Any) -> None:
    rule = RULES[key]
    for point in samples(key):
        got = sympy.N(rule.builder(*(number(p) for p in point)), DIGITS)
        assert got.is_Number and got.is_finite, f"sympy.N({key}{at(point)}) is not a finite real number: {got}"
        want = rule.value(FLOAT, *point)
        assert agree(got, want, MP_VS_FLOAT), f"sympy.N({key}{at(point)}) = {got}, float value {want!r}"


# --------------------------------------------------------------------------- 5. domain predicates


@pytest.mark.parametrize("key", KEYS)
def test_each_sample_point_is_defined_real_and_smooth(key: str) -> None:
    rule = RULES[key]
    for point in samples(key):
        assert rule.problem(*point) is None
        for name in ("undefined", "complex_", "kink"):
            check = getattr(rule, name)
            if check is not None:
                assert check(*point) is None, f"{key}.{name}{at(point)} says {check(*point)!r}"


@pytest.mark.parametrize("key", KEYS)
def test_a_rule_says_it_compares_exactly_when_its_formula_needs_real_operands(key: str) -> None:
    """compares is what makes max(x, ln(−1)) an error at ln(−1): it must be set on every rule
    whose mpmath formula cannot take a complex operand (max compares, relu tests u > 0)."""
    rule = RULES[key]
    needs_real = False
    for point in samples(key):
        for k in range(len(point)):
            operands = [mpmath.mpf(p) for p in point]
            operands[k] = mpmath.mpc(operands[k], 0.25)
            for formula in (rule.value, *rule.slopes):
                try:
                    formula(MP, *operands)
                except (TypeError, AttributeError, ValueError):  # mpc has no order, and no atan2
                    needs_real = True
    assert rule.compares == needs_real, f"{key}: compares={rule.compares}, but its formula needs real operands"


@pytest.mark.parametrize(("key", "argument"), [("log1p", -2), ("log1p", -1.5)])
def test_a_generated_function_outside_its_domain_is_a_complex_number_and_not_real(key: str, argument: float) -> None:
    value = CLASSES[key](sympy.Rational(argument))
    assert value.is_real is False and value.is_extended_real is False
    expected = complex(sympy.log(1 + sympy.Rational(argument)).evalf(30))  # SymPy's own ln
    assert complex(sympy.N(value, 30)) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(("base", "exponent"), [(-8, (1, 3)), (-8, (2, 3)), (-32, (3, 5)), (-27, (-1, 3))])
def test_a_negative_number_to_an_odd_root_is_the_real_root_in_sympy_too(base: int, exponent: tuple[int, int]) -> None:
    p, q = exponent
    built = RULES["pow"].builder(sympy.Integer(base), sympy.Rational(p, q))
    expected = sympy.real_root(sympy.Integer(base), q) ** p  # SymPy's real root
    assert sympy.simplify(built - expected) == 0 and built.is_real


# --------------------------------------------------------------------------- the parser's names


def test_the_parsers_function_names_are_the_tables_functions() -> None:
    functions = {key for key, rule in RULES.items() if rule.function}
    tensor_functions = {key for key, rule in TENSOR_RULES.items() if rule.function}
    assert not functions & tensor_functions, "a function is either elementwise or of a whole tensor"
    assert set(names.FUNCTIONS) == functions | tensor_functions
    arities = {key: RULES[key].arity for key in functions} | {k: TENSOR_RULES[k].arity for k in tensor_functions}
    assert arities == dict(names.FUNCTIONS)


def test_every_spelling_and_every_inverse_names_a_table_key() -> None:
    assert names.ALIASES == SPELLINGS
    assert not set(SPELLINGS) & set(RULES), "a spelling must not shadow a key"
    for spelling, key in SPELLINGS.items():
        assert key in RULES, f"spelling {spelling!r} maps to {key!r}, which is not in RULES"
    for function, inverse in INVERSES.items():
        assert inverse in RULES, f"the inverse of {function!r} is {inverse!r}, which is not in RULES"
        assert function in RULES, f"{inverse!r} is the inverse of {function!r}, which is not in RULES"
        assert RULES[inverse].inverse_of == function


FUNCTION_NAMES = sorted(k for k, r in RULES.items() if r.function) + sorted(SPELLINGS)


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_each_function_name_and_spelling_parses_to_a_call_of_its_key(name: str) -> None:
    key = SPELLINGS.get(name, name)
    tape = parse(f"{name}({', '.join(['x', 'y'][: RULES[key].arity[0]])})")
    root = tape.nodes[tape.root]
    assert (root.kind, root.text) == ("call", SPELLINGS.get(name, name))
    assert root.text in RULES


def test_log_with_two_arguments_parses_to_logb() -> None:
    tape = parse("log(x, 3)")
    root = tape.nodes[tape.root]
    assert (root.kind, root.text, len(root.args)) == ("call", "logb", 2)
    assert "logb" in RULES


@pytest.mark.parametrize(("function", "inverse"), sorted(INVERSES.items()))
def test_each_inverse_written_with_a_power_of_minus_one_parses_to_its_key(function: str, inverse: str) -> None:
    tape = parse(f"{function}^-1(x)")
    root = tape.nodes[tape.root]
    assert (root.kind, root.text) == ("call", inverse)


# --------------------------------------------------------------------------- the generated SymPy classes


@pytest.mark.parametrize("key", sorted(CLASSES))
def test_each_generated_class_has_an_elementary_definition_and_the_tables_derivative(key: str) -> None:
    rule, cls = RULES[key], CLASSES[key]
    assert rule.build is None and rule.elementary is not None
    assert rule.builder is cls
    args = operands(rule)
    assert not elementary(cls(*args)).atoms(*CLASSES.values()), "elementary() must replace every generated class"
    for k, operand in enumerate(args):
        assert sympy.diff(cls(*args), operand) == rule.partials[k](*args)
    assert cls(*args).is_real


# --------------------------------------------------------------------------- printing


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        (CLASSES["sigmoid"](X), "σ(x)"),
        (sympy.log(X), "ln(x)"),
        (sympy.Abs(X), "|x|"),
        (CLASSES["relu"](X), "relu(x)"),
        (CLASSES["softplus"](X), "softplus(x)"),
    ],
    ids=["sigmoid", "log", "abs", "relu", "softplus"],
)
def test_functions_print_in_the_lessons_notation(expr: Any, text: str) -> None:
    assert pretty(expr) == text


@pytest.mark.parametrize("key", sorted(CLASSES))
def test_every_generated_class_prints_as_latex_alone_and_as_a_power(key: str) -> None:
    u = sympy.Symbol("u", real=True)
    others = [sympy.Float(d) for d in RULES[key].defaults] or [sympy.Symbol("w", real=True)]
    call = CLASSES[key](u, *others[: len(RULES[key].partials) - 1])
    alone, squared = sympy.latex(call), sympy.latex(call**2)
    assert "u" in alone and alone.count("{") == alone.count("}")
    assert squared.endswith("^{2}") and alone in squared
