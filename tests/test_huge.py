"""Exact numbers too long to write out: held powers, digit counts and scientific forms.

Python refuses to write an integer of more than 4,300 digits in decimal.  The reference for
every number here is Python's decimal module (libmpdec converts an integer without that limit)
or plain integer arithmetic, never the code under test.
"""

from __future__ import annotations

import decimal
import re
from fractions import Fraction

import mpmath
import pytest
import sympy

from chainrule import huge
from chainrule.printing import latex, mathml, plain, pretty

x = sympy.Symbol("x", real=True)


def decimal_of(p: int, q: int = 1, digits: int = 12) -> decimal.Decimal:
    with decimal.localcontext() as context:
        context.prec = digits
        return decimal.Decimal(p) / decimal.Decimal(q)


def size(value: object) -> str:
    """A test id for a number that may be too long for str()."""
    return f"{huge.digits(value)}-digits" if isinstance(value, int) else f"{type(value).__name__}"


@pytest.mark.parametrize(
    "n", [0, 9, 10, 99, 100, 10**4299, 10**4300 - 1, 10**4300, 7**5200, -(3**9000), 2**65536], ids=size
)
def test_digits_counts_the_decimal_digits_without_writing_them(n: int) -> None:
    expected = decimal.Decimal(abs(n)).adjusted() + 1 if n else 1
    assert huge.digits(n) == expected


@pytest.mark.parametrize(
    ("p", "q"),
    [(7**5200, 1), (1, 10**5000), (10001**1100, 10000**1100), (-(7**5201), 3), (2**1030, 1), (3**9000, 2**9000)],
    ids=size,
)
def test_scientific_form_is_the_value_to_ten_digits(p: int, q: int) -> None:
    mantissa, _, exponent = huge.scientific(p, q).partition("e")
    found = decimal.Decimal(mantissa) * decimal.Decimal(10) ** int(exponent or 0)
    expected = decimal_of(p, q)
    assert abs(found - expected) <= abs(expected) * decimal.Decimal("1e-9")


def test_a_number_beyond_pythons_limit_is_described_with_its_digit_count() -> None:
    assert huge.described(7**6000) == "3.874717869e5070 (5,071 digits)"
    assert huge.described(1, 10**5000) == "1e-5000 (1 digit over 5,001)"
    assert huge.too_long(10**4300) and not huge.too_long(10**4299)


HUGE = [
    sympy.Integer(7) ** 6000,
    sympy.Rational(1, 10**5000),
    sympy.Rational(3, 7) ** 6000,
    -(sympy.Integer(3) ** 9500) / 7,
]


@pytest.mark.parametrize("number", HUGE, ids=["7^6000", "1e-5000", "(3/7)^6000", "-3^9500/7"])
@pytest.mark.parametrize("printer", [plain, pretty, latex, mathml])
def test_every_printer_describes_a_number_too_long_to_write(number: sympy.Rational, printer: object) -> None:
    assert "digits" in printer(number * x + 1)  # type: ignore[operator]  # inside a formula, whole or in parts
    text = printer(number)  # type: ignore[operator]
    assert f"{huge.digits(int(number.p)):,} digit" in text
    found = re.search(r"(\d+(?:\.\d+)?)(?:e(-?\d+)| \\cdot 10\^\{(-?\d+)\})", text)
    assert found is not None, text
    shown = decimal.Decimal(found[1]).scaleb(int(found[2] or found[3]))
    expected = abs(decimal_of(int(number.p), int(number.q)))
    assert abs(shown - expected) <= expected * decimal.Decimal("1e-9"), text


@pytest.mark.parametrize(
    ("a", "b", "held"),
    [
        (sympy.Rational(10001, 10000), sympy.Integer(1100), True),  # 4,401 digits over 4,401
        (sympy.Integer(7), sympy.Integer(5200), True),
        (sympy.Integer(7), sympy.Integer(1000), False),  # 846 digits: kept exact
        (sympy.Rational(3, 2), sympy.Integer(100), False),
        (sympy.Integer(-1), sympy.Integer(10) ** 1000, False),  # ±1 to any power is ±1
        (sympy.Integer(1), sympy.Integer(10) ** 1000, False),
        (sympy.Integer(2), sympy.Rational(7, 3), False),
    ],
)
def test_a_power_is_held_exactly_when_its_exact_value_would_be_huge(
    a: sympy.Rational, b: sympy.Rational, held: bool
) -> None:
    power = huge.power(a, b)
    assert power.has(huge.HeldPower) == held
    with mpmath.workdps(40):
        expected = mpmath.power(mpmath.mpf(int(a.p)) / int(a.q), mpmath.mpf(int(b.p)) / int(b.q))
        assert mpmath.almosteq(mpmath.mpf(sympy.N(power, 30)._mpf_), expected, rel_eps=mpmath.mpf(10) ** -25)


def test_a_held_power_survives_every_rewrite_and_prints_as_written() -> None:
    h = huge.power(sympy.Integer(7), sympy.Integer(5200))
    expr = x / h + sympy.sin(h * x)
    for rewritten in (
        sympy.together(expr),
        sympy.factor(sympy.together(x / h)),
        sympy.simplify(expr),
        expr.diff(x),
        expr.subs(x, 2),
    ):
        assert rewritten.has(huge.HeldPower)
        plain(rewritten), pretty(rewritten), latex(rewritten), mathml(rewritten), str(rewritten)
    assert pretty(h) == "7⁵²⁰⁰" and plain(h) == "7**5200" and latex(h) == "7^{5200}"
    assert pretty(huge.power(sympy.Rational(10001, 10000), sympy.Integer(1100))) == "1.0001¹¹⁰⁰"
    assert plain(huge.power(sympy.Integer(7), sympy.Integer(-5200))) == "1/7**5200"  # one form for both


def test_a_tower_is_one_node_whose_value_is_none_beyond_any_number_system() -> None:
    tower = sympy.Integer(65536)
    for _ in range(1000):  # 2^2^…^65536: a thousand levels, one HeldPower
        tower = huge.power(sympy.Integer(2), tower)
    assert isinstance(tower, huge.HeldPower) and len(tower.args) == 1001
    assert pretty(tower).endswith("2⁶⁵⁵³⁶" + ")" * 999)
    assert tower.evalf(15) == tower  # no value: SymPy keeps it, and nothing raises
    two = huge.power(sympy.Integer(2), huge.power(sympy.Integer(2), sympy.Integer(65536)))
    assert two.evalf(15) == two  # 2^(2^65536) has 10^19728 digits: beyond even mpmath


@pytest.mark.parametrize(("base", "exponent"), [(-7, 5201), (-7, 5200), (-3, 9001)])
def test_a_held_power_knows_its_sign(base: int, exponent: int) -> None:
    h = huge.power(sympy.Integer(base), sympy.Integer(exponent))
    assert h.is_negative == (exponent % 2 == 1) and h.is_positive == (exponent % 2 == 0)
    assert h.is_integer and h.is_real and not h.is_zero


def test_the_limit_is_read_from_python_and_never_raised() -> None:
    import sys

    limit = sys.get_int_max_str_digits()
    huge.described(7**6000), plain(sympy.Integer(7) ** 6000)
    assert sys.get_int_max_str_digits() == limit
    with pytest.raises(ValueError, match="4300"):
        str(10**5000)  # the limit still protects the rest of the program


def test_fractions_reference_agrees_with_held_power_to_double_precision() -> None:
    h = huge.power(sympy.Rational(10001, 10000), sympy.Integer(1100))
    assert float(sympy.N(h, 20)) == pytest.approx(float(Fraction(10001, 10000) ** 1100), rel=1e-15)
