"""Properties at the edges: saturated activations and corners, against an independent oracle.

The oracle is mpmath at 50 significant digits, never chainrule's own code:

* saturation (tanh, sigmoid, softplus of an affine a·x + b, times an outer scale):
  closed forms of the outer derivative derived by hand and written without
  cancellation, tanh′ = sech², σ′(u) = e^-u/(1 + e^-u)², softplus′ = σ, times
  scale·a, all evaluated at the exact double x.  A separate property checks those
  closed forms against ``mpmath.diff`` of the functions themselves (at the extra
  digits saturation cancels: tanh(700) is 1 − 2e-1400).
* corners (x·|x|, |x|³, relu(x)², √(x⁴), ∛(x³), |x|·sin(x)): ``mpmath.diff`` of the
  function written with mpmath functions, with a step far below |x| so that the
  difference never crosses the corner; exactly at 0, the one-sided limits known
  by hand (0, or 1 for ∛(x³)).

chainrule's double must match relatively (1e-12).  Where the true derivative
lies beyond the range of doubles, chainrule reports it as ``derivative_beyond``
(a Wide) and its mantissa × 10^exponent must match instead.  chainrule cannot yet
carry a value of the forward pass, or a local factor computed in it, beyond doubles
(an open item): the properties leave those points out with ``assume`` and the
explicit cases at the end mark them ``xfail(strict=True)``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

import mpmath
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from chainrule.derive import Derivation, differentiate
from chainrule.errors import MathError, Reason

DIGITS = 50
RTOL = 1e-12
MIN_NORMAL = sys.float_info.min  # 2.2e-308: below it a double loses bits (subnormal), then is 0
MAX_DOUBLE = sys.float_info.max

# --------------------------------------------------------------------------- the oracle


def _sigmoid(u: Any) -> Any:
    return 1 / (1 + mpmath.exp(-u))


# f′(u) by hand, in forms without cancellation (mpmath's exponent is unbounded: e^700 is fine).
OUTER_SLOPE: dict[str, Callable[[Any], Any]] = {
    "tanh": lambda u: mpmath.sech(u) ** 2,
    "sigmoid": lambda u: mpmath.exp(-u) / (1 + mpmath.exp(-u)) ** 2,
    "softplus": _sigmoid,
}

# The functions themselves, for mpmath.diff (softplus through log1p: ln(1 + 1e-304) is not 0).
OUTER: dict[str, Callable[[Any], Any]] = {
    "tanh": mpmath.tanh,
    "sigmoid": _sigmoid,
    "softplus": lambda u: mpmath.log1p(mpmath.exp(u)),
}


def _real_cbrt(t: Any) -> Any:
    return mpmath.sign(t) * mpmath.cbrt(abs(t))  # mpmath.cbrt of a negative number is complex


# expression -> (the function in mpmath, its derivative at 0 from the one-sided limits, k):
# every value and local factor of the forward pass is a normal double when |x|**k is.
CORNERS: dict[str, tuple[Callable[[Any], Any], float, int]] = {
    "x*|x|": (lambda t: t * abs(t), 0.0, 1),
    "|x|^3": (lambda t: abs(t) ** 3, 0.0, 2),  # the factor 3·u² of u³
    "relu(x)^2": (lambda t: max(t, 0) ** 2, 0.0, 1),
    "sqrt(x^4)": (lambda t: mpmath.sqrt(t**4), 0.0, 4),  # the value x⁴
    "cbrt(x^3)": (lambda t: _real_cbrt(t**3), 1.0, 3),  # the value x³
    "|x|*sin(x)": (lambda t: abs(t) * mpmath.sin(t), 0.0, 1),
}


def reported(d: Derivation) -> Any:
    """chainrule's derivative as an mpmath number: the Wide when it is beyond doubles."""
    if d.derivative_beyond is not None:
        return mpmath.mpf(d.derivative_beyond.mantissa) * mpmath.mpf(10) ** d.derivative_beyond.exponent
    assert d.derivative_value is not None
    return mpmath.mpf(d.derivative_value)


def assert_matches(d: Derivation, reference: Any, rtol: float = RTOL) -> None:
    """The derivative equals the reference relatively; beyond doubles, through derivative_beyond."""
    size = abs(reference)
    if 2 * MIN_NORMAL <= size <= MAX_DOUBLE / 2:  # comfortably a normal double
        assert d.derivative_beyond is None
    elif size and not MIN_NORMAL / 2 <= size <= 2 * MAX_DOUBLE:  # comfortably beyond doubles
        assert d.derivative_beyond is not None, f"{d.derivative_value!r} without derivative_beyond"
        assert d.derivative_value is not None and not MIN_NORMAL <= abs(d.derivative_value) < math.inf
    with mpmath.workdps(DIGITS):
        got = reported(d)
        assert abs(got - reference) <= rtol * size, f"got {mpmath.nstr(got, 17)}, expected {mpmath.nstr(reference, 17)}"


# --------------------------------------------------------------------------- 1. saturation

SCALES = ("", "1e20*", "-1e20*", "1e-20*", "1e-300*", "1e100*", "1e308*")

slopes = st.floats(min_value=0.1, max_value=3.0).flatmap(lambda a: st.sampled_from((a, -a)))
offsets = st.floats(min_value=-2.0, max_value=2.0, allow_subnormal=False)
# u = a·x + b in [-700, 700): a whole part drawn across the range plus a fraction, because
# st.floats inside a tuple draws mostly small values, and saturation is in the hundreds.
inputs = st.builds(lambda whole, fraction: whole + fraction, st.integers(-700, 699), st.floats(0.0, 1.0))
saturated = st.tuples(
    st.sampled_from(sorted(OUTER_SLOPE)),
    st.sampled_from(SCALES),
    slopes,
    offsets,
    inputs,  # u = a·x + b
)


def saturated_case(case: tuple[str, str, float, float, float]) -> tuple[str, str, Any]:
    """scale·f(a·x + b), the point x where a·x + b is (about) u, and the derivative there."""
    outer, scale, a, b, u = case
    x = (u - b) / a
    with mpmath.workdps(DIGITS):
        inner = mpmath.mpf(a) * mpmath.mpf(x) + mpmath.mpf(b)  # exact at the double x
        factor = OUTER_SLOPE[outer](inner)
        c = mpmath.mpf(float(scale[:-1] or 1))
        # Left out, the open item: a local factor below the normal doubles (tanh′ for |u| > ~354),
        # or a value above them (1e308·softplus(2)).
        assume(factor >= 2 * MIN_NORMAL)
        assume(abs(c * OUTER[outer](inner)) <= MAX_DOUBLE / 2)
        reference = c * mpmath.mpf(a) * factor
    return f"{scale}{outer}({a!r}*x + {b!r})", repr(x), reference


@settings(derandomize=True, deadline=None, max_examples=200)
@given(case=saturated)
@example(case=("tanh", "1e308*", 3.0, 0.0, 0.25))  # the derivative, 2.8e308, overflows: a Wide above doubles
@example(case=("sigmoid", "1e-300*", 1.0, 0.0, -700.0))  # 1e-300·σ′(-700) ≈ 1e-604: a Wide below doubles
def test_a_saturated_activation_of_an_affine_input_has_the_exact_slope(
    case: tuple[str, str, float, float, float],
) -> None:
    expression, at, reference = saturated_case(case)
    # chainrule rounds a·x + b to a double: an error up to ~1e-13 in u moves f′ by
    # |d ln f′/du| ≤ 2 times that, relatively; far inside RTOL.
    assert_matches(differentiate(expression, at=at), reference)


@settings(derandomize=True, deadline=None, max_examples=100)
@given(case=saturated)
def test_the_check_does_not_reject_the_exact_slope_of_a_saturated_activation(
    case: tuple[str, str, float, float, float],
) -> None:
    expression, at, reference = saturated_case(case)
    d = differentiate(expression, at=at)
    assert_matches(d, reference)  # chainrule is right here …
    assert d.check is not None and d.check.agrees is not False, d.check  # … so the check must not say no


@settings(derandomize=True, deadline=None, max_examples=40)
@given(outer=st.sampled_from(sorted(OUTER)), u=st.floats(min_value=-700.0, max_value=700.0))
def test_the_oracles_closed_forms_are_mpmath_diff_of_the_functions_themselves(outer: str, u: float) -> None:
    # tanh(700) = 1 − 2e-1400: the difference quotient needs the digits that cancel.
    extra = math.ceil(2 * abs(u) / math.log(10))
    with mpmath.workdps(DIGITS + extra):
        numeric = mpmath.diff(OUTER[outer], mpmath.mpf(u))
    with mpmath.workdps(DIGITS):
        closed = OUTER_SLOPE[outer](mpmath.mpf(u))
        assert abs(numeric - closed) <= mpmath.mpf(10) ** (5 - DIGITS) * abs(closed)


# --------------------------------------------------------------------------- 2. corners

near_a_corner = st.one_of(st.sampled_from((0.0, -0.0)), st.floats(min_value=-1e-3, max_value=1e-3, allow_nan=False))


def slope_beside_a_corner(function: Callable[[Any], Any], x: float) -> Any:
    """mpmath.diff with a step 2^-60·|x|: the difference stays on x's side of the corner at 0."""
    with mpmath.workdps(DIGITS):
        t = mpmath.mpf(x)
        return mpmath.diff(function, t, h=abs(t) * mpmath.mpf(2) ** -60)


@settings(derandomize=True, deadline=None, max_examples=250)
@given(expression=st.sampled_from(sorted(CORNERS)), x=near_a_corner)
def test_a_corner_inside_a_layer_does_not_spoil_the_derivative_at_or_beside_it(expression: str, x: float) -> None:
    function, at_zero, power = CORNERS[expression]
    # Left out: points where the forward pass leaves the normal doubles (x⁴ at x = 1e-80), the open item.
    assume(x == 0 or abs(mpmath.mpf(x)) ** power >= 2 * MIN_NORMAL)
    d = differentiate(expression, at=repr(x))
    if x == 0:
        assert d.limit is not None  # the chain rule does not apply: the one-sided limits decide
        assert d.derivative_value == at_zero
        assert d.derivative_beyond is None
        return
    assert d.limit is None
    assert_matches(d, slope_beside_a_corner(function, x))
    assert d.check is not None and d.check.agrees is not False, d.check


@pytest.mark.parametrize("expression", ["|x|", "abs(x)", "relu(x)", "sqrt(x^2)", "2*relu(x) - x"])
@pytest.mark.parametrize("at", ["0", "-0.0"])
def test_a_true_corner_has_no_derivative_at_its_corner(expression: str, at: str) -> None:
    with pytest.raises(MathError) as caught:
        differentiate(expression, at=at)
    assert caught.value.reason is Reason.not_differentiable


TRUE_CORNERS: dict[str, Callable[[Any], Any]] = {"|x|": abs, "relu(x)": lambda t: max(t, 0)}


@settings(derandomize=True, deadline=None, max_examples=100)
@given(expression=st.sampled_from(sorted(TRUE_CORNERS)), x=st.floats(min_value=-1e-3, max_value=1e-3).filter(bool))
def test_beside_a_true_corner_the_slope_is_that_sides_slope(expression: str, x: float) -> None:
    d = differentiate(expression, at=repr(x))
    assert_matches(d, slope_beside_a_corner(TRUE_CORNERS[expression], x))


@settings(derandomize=True, deadline=None, max_examples=100)
@given(expression=st.sampled_from(sorted(TRUE_CORNERS)), x=st.floats(min_value=-1e-3, max_value=1e-3).filter(bool))
def test_beside_a_true_corner_the_check_does_not_reject_the_right_slope(expression: str, x: float) -> None:
    d = differentiate(expression, at=repr(x))
    assert d.check is not None and d.check.agrees is not False, d.check


# --------------------------------------------------------------------------- values beyond doubles in the forward pass


def _tanh_slope(scale: float, a: float, b: float) -> Callable[[Any], Any]:
    return lambda x: scale * a * mpmath.sech(a * x + b) ** 2


@pytest.mark.parametrize(
    ("expression", "at", "slope"),
    [
        # sech²(750.5) ≈ 1e-652 is 0.0 in doubles: derivative 0.0, and no derivative_beyond.
        pytest.param("tanh(3x - 1)", "250.5", _tanh_slope(1, 3, -1), id="tanh(3x - 1) at 250.5"),
        pytest.param(
            "1e20*tanh(-1.5*x + 0.25)",
            "300",
            _tanh_slope(1e20, -1.5, 0.25),
            id="1e20*tanh(-1.5*x + 0.25) at 300",
        ),
        # the factor 3·u² = 3e-400 is 0.0 in doubles
        pytest.param("|x|^3", "-1e-200", lambda x: 3 * x * abs(x), id="|x|^3 at -1e-200"),
        # the factor 3·u² = 3e-320 is subnormal: the Wide keeps its lost bits
        pytest.param("|x|^3", "1e-160", lambda x: 3 * x * abs(x), id="|x|^3 at 1e-160"),
        # x⁴ = 1e-320 is subnormal
        pytest.param("sqrt(x^4)", "-1e-80", lambda x: 2 * x, id="sqrt(x^4) at -1e-80"),
        # x⁴ = 1e-360 is 0.0, which puts √'s corner where the function has none
        pytest.param("sqrt(x^4)", "1e-90", lambda x: 2 * x, id="sqrt(x^4) at 1e-90"),
        # x³ = 1e-315 is subnormal
        pytest.param("cbrt(x^3)", "1e-105", lambda x: mpmath.mpf(1), id="cbrt(x^3) at 1e-105"),
        # σ(-800) is 0.0 in doubles, and ln of it is undefined
        pytest.param("ln(sigmoid(x))", "-800", lambda x: _sigmoid(-x), id="ln(sigmoid(x)) at -800"),
    ],
)
def test_a_point_where_the_forward_pass_leaves_the_doubles_still_has_the_exact_slope(
    expression: str, at: str, slope: Callable[[Any], Any]
) -> None:
    with mpmath.workdps(DIGITS):
        reference = slope(mpmath.mpf(float(at)))  # the double chainrule reads
    assert_matches(differentiate(expression, at=at), reference)
