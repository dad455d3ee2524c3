"""Derivatives beyond the range of doubles, and checks that cannot decide.

A vanishing gradient through a thousand sigmoid layers is about 1e-649: in
doubles the product is 0.  The engine reruns the backward pass with an
unbounded exponent; these tests hold it to independent mpmath evaluations.
"""

from __future__ import annotations

import json
import math
from typing import Any

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule import wide
from chainrule.backprop import gradient
from chainrule.derive import differentiate
from chainrule.render import explain_view, json_view, latex_view, sensitivity_view, text_view


def nest(function: str, inner: str, depth: int) -> str:
    return f"{function}(" * depth + inner + ")" * depth


def sigmoid_chain_in_mpmath(depth: int, u0: Any, slope0: Any = 1) -> tuple[Any, Any]:
    """Forward mode at 40 digits: (value, derivative) of the sigmoid nest."""
    with mpmath.workdps(40):
        u, slope = mpmath.mpf(u0), mpmath.mpf(slope0)
        for _ in range(depth):
            s = 1 / (1 + mpmath.exp(-u))
            u, slope = s, slope * s * (1 - s)
        return +u, +slope


def as_mpf(w: wide.Wide) -> Any:
    return mpmath.mpf(w.mantissa) * mpmath.mpf(10) ** w.exponent


def test_vanishing_gradient_beyond_doubles_matches_mpmath() -> None:
    d = differentiate(nest("sigmoid", "x", 1000), at="0.5")
    value, slope = sigmoid_chain_in_mpmath(1000, "0.5")
    assert d.value == pytest.approx(float(value), rel=1e-14)
    assert d.derivative_value == 0.0  # the double underflows …
    assert d.derivative_beyond is not None  # … and the tool says what it is
    assert d.derivative_beyond.exponent == -649
    assert float(as_mpf(d.derivative_beyond) / slope) == pytest.approx(1, rel=1e-12)
    # the check resolves it: mpmath.diff at as many digits as the value needs, compared relatively
    assert d.check is not None and d.check.agrees is True
    assert d.check.reference_beyond is not None and d.check.reference_beyond.exponent == -649
    assert d.check.rel_error is not None and d.check.rel_error < 1e-9


def test_exploding_gradient_beyond_doubles_is_exact() -> None:
    # ((x²)²)²… 1,100 times at x = 1: every value is 1, every factor 2, so dy/dx = 2^1100.
    d = differentiate("(" * 1100 + "x" + ")^2" * 1100, at="1")
    assert d.value == 1.0
    assert d.derivative_value == math.inf
    assert d.derivative_beyond is not None
    assert float(as_mpf(d.derivative_beyond) / mpmath.mpf(2) ** 1100) == pytest.approx(1, rel=1e-14)
    assert d.check is not None and d.check.agrees is None and "beyond the range" in (d.check.note or "")
    doc = json.loads(json_view.render(d))
    assert doc["derivative"]["value"] is None
    assert doc["derivative"]["beyond_double"]["exponent"] == 331


def test_a_product_that_only_passes_through_subnormals_keeps_full_precision() -> None:
    # Backwards, 493 sigmoid factors take the adjoint to about 1e-320 (subnormal:
    # most bits lost), then the factor 1e300 brings it back to about 1e-20.
    # The rerun with an unbounded exponent restores every bit.
    d = differentiate(nest("sigmoid", "1e300*x", 493), at="1e-300")
    _, slope = sigmoid_chain_in_mpmath(493, "1")
    with mpmath.workdps(40):
        expected = slope * mpmath.mpf("1e300")
    assert d.derivative_beyond is None
    assert d.derivative_value == pytest.approx(float(expected), rel=1e-12)
    naive = 1.0  # the sweep in doubles alone, outer layer first
    for layer in reversed(d.layers):
        naive *= layer.locals[0].value or 0.0
    assert abs(naive / float(expected) - 1) > 1e-6


def test_every_view_shows_the_value_beyond_doubles() -> None:
    d = differentiate(nest("sigmoid", "x", 1000), at="0.5")
    assert "4.338398274e-649" in text_view.render(d, width=200)
    assert "below the range of doubles" in text_view.render(d, width=200)
    assert "4.338398274e-649" in explain_view.render(d)
    assert r"4.338398274 \times 10^{-649}" in latex_view.latex(d)
    doc = json.loads(json_view.render(d))
    beyond = doc["derivative"]["beyond_double"]
    assert doc["derivative"]["value"] == 0
    assert beyond["exponent"] == -649 and beyond["text"].startswith("4.33839827392")


def test_sensitivity_tracks_the_running_product_in_log_scale() -> None:
    d = differentiate(nest("sigmoid", "x", 1000), at="0.5")
    view = d.sensitivity
    assert view is not None and view.trend == "vanishing"
    _, slope = sigmoid_chain_in_mpmath(1000, "0.5")
    last = view.steps[-1]
    assert last.running_log10 == pytest.approx(float(mpmath.log10(slope)), rel=1e-12)
    text = sensitivity_view.render(d)
    assert "shrinks geometrically to 4.34e-649" in text
    assert "4.338e-649" in text.splitlines()[-3]  # the last row of the chart


def test_grad_reports_adjoints_beyond_doubles() -> None:
    text = nest("sigmoid", "w*x+b", 700)
    g = gradient(text, at="w=0.5,x=1,b=0.1")
    _, slope = sigmoid_chain_in_mpmath(700, "0.6")  # d/d(w·x+b) at w·x+b = 0.6
    for name, inner in (("w", 1), ("x", 0.5), ("b", 1)):
        assert g.gradient is not None and g.gradient[name] == 0.0
        assert float(as_mpf(g.beyond[name]) / (slope * inner)) == pytest.approx(1, rel=1e-12)


def test_ill_conditioned_chain_is_not_judged() -> None:
    # u → 3·sin(u) is chaotic: a thousand layers amplify rounding by ~1e200.
    d = differentiate(nest("3sin", "x", 1000).replace("3sin(", "3*sin("), at="0.5")
    assert d.check is not None and d.check.agrees is None
    assert d.check.note is not None and d.check.note.startswith("ill-conditioned")


def test_a_well_conditioned_point_is_still_judged() -> None:
    d = differentiate("sin((2x+1)^2)", at="3")
    assert d.check is not None and d.check.agrees is True and d.check.note is None


@settings(max_examples=60, deadline=None)
@given(
    st.floats(min_value=1e-300, max_value=1e300, allow_subnormal=False),
    st.integers(min_value=-1, max_value=1).filter(bool),
)
def test_from_log10_and_from_mpf_agree(magnitude: float, sign: int) -> None:
    value = sign * magnitude
    a = wide.from_log10(value, math.log10(magnitude))
    b = wide.from_mpf(mpmath.mpf(value))
    assert b is not None
    assert a.exponent == b.exponent or abs(abs(a.mantissa) - 10) < 1e-9 or abs(abs(b.mantissa) - 10) < 1e-9
    assert 1 <= abs(b.mantissa) < 10
    assert float(as_mpf(b)) == pytest.approx(value, rel=1e-14)
    assert float(as_mpf(a)) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "at"),
    [("(x+1e10)-1e10", "0.1"), ("sin(1000x)", "100000.123"), ("cos(x+1e8)", "0.3"), ("sin(x^2)", "12345.678")],
)
def test_rounding_in_the_function_alone_does_not_stop_a_verdict(text: str, at: str) -> None:
    # The function's value loses digits to cancellation here, but the derivative is right.
    d = differentiate(text, at=at)
    assert d.check is not None and d.check.agrees is True


def test_an_overflowing_sum_of_adjoints_is_caught() -> None:
    d = differentiate("x*1e308 + x*9e307", at="1e-10", granularity="ops")
    assert d.derivative_beyond is not None
    assert d.derivative_beyond.exponent == 308 and d.derivative_beyond.mantissa == pytest.approx(1.9)


def test_an_underflow_in_the_forward_pass_is_carried_beyond_doubles() -> None:
    # exp(-1000) is 0.0 in doubles, so is its local factor: the pass is taken again with an
    # unbounded exponent, and the derivative is -50·e^-1000, about -2.5e-433.
    d = differentiate("exp(-50x)", at="20")
    with mpmath.workdps(30):
        truth = -50 * mpmath.exp(-1000)
    assert d.derivative_value == 0.0
    assert d.derivative_beyond is not None
    assert float(as_mpf(d.derivative_beyond) / truth) == pytest.approx(1, rel=1e-13)
    assert d.check is not None and d.check.agrees is True
    # At x = 10 nothing underflows and the check judges the tiny value relatively.
    d = differentiate("exp(-50x)", at="10")
    assert d.check is not None and d.check.agrees is True and d.check.note is None


def test_a_mantissa_that_rounds_to_ten_carries() -> None:
    assert wide.rounded(wide.Wide(9.9999999999, -349), 4) == wide.Wide(1.0, -348)
    assert wide.rounded(wide.Wide(-9.99996, 7), 5) == wide.Wide(-1.0, 8)
    d = differentiate("exp(x)^2", at="-400.99637982124392417")
    text = text_view.render(d, width=200) + sensitivity_view.render(d)
    assert "10e-" not in text and "1e-348" in text


def test_the_explain_view_does_not_tick_a_nudge_against_an_overflowed_value() -> None:
    d = differentiate("sin(3*" * 700 + "x" + ")" * 700, at="0")
    assert d.derivative_beyond is not None and d.derivative_beyond.exponent == 333
    line = next(line for line in explain_view.render(d).splitlines() if "change:" in line)
    assert "✓" not in line


def test_grad_beyond_double_covers_only_the_chosen_variables() -> None:
    g = gradient("exp(-x)^2*y", at="x=400,y=-3")
    assert set(g.beyond) == {"x", "y"}  # ∂/∂y = e^-800 is below the range of doubles too
    with mpmath.workdps(30):
        assert float(as_mpf(g.beyond["y"]) / mpmath.exp(-800)) == pytest.approx(1, rel=1e-13)
    g = gradient("exp(-x)^2*y", at="x=400,y=-3", wrt="y")
    assert set(g.beyond) == {"y"}


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.floats(min_value=1e-6, max_value=1e6).flatmap(lambda m: st.sampled_from([m, -m])), min_size=1, max_size=400
    ),
    st.lists(st.floats(min_value=-1e300, max_value=1e300), max_size=4),
)
def test_scaled_arithmetic_agrees_with_mpmath_at_53_bits(factors: list[float], addends: list[float]) -> None:
    """Products of hundreds of factors (far beyond the range of doubles) and sums of terms of very
    different sizes, in the scaled doubles the backward pass falls back to, against mpmath's
    53-bit numbers with an unbounded exponent: one rounding per operation in both."""
    scaled = wide.ScaledArithmetic()
    s: wide.Scaled = scaled.one
    with mpmath.workprec(53):
        m = mpmath.mpf(1)
        for f in factors:
            s, m = scaled.times(s, f), m * f
        terms_s, terms_m = [s], [m]
        for a in addends:
            terms_s.append(scaled.times(scaled.one, a))
            terms_m.append(mpmath.mpf(a))
        total_s, total_m = scaled.total(terms_s), mpmath.fsum(terms_m)
    for got, want in ((s, m), (total_s, total_m)):
        exact = wide.to_mpf(got)
        if want == 0:
            assert exact == 0
        else:
            assert abs(exact - want) <= abs(want) * 2 ** -(53 - 10)  # a few roundings of 2^-53 apart
        assert wide.to_double(got) == float(want) or not math.isfinite(float(want)) or abs(float(want)) < 1e-300


def test_a_lazy_table_of_values_beyond_doubles_reads_like_a_dict() -> None:
    exact = {0: (0.5, -5000), 1: (0.75, 3), 2: (-0.5, 5000)}
    doubles = {k: wide.to_double(v) for k, v in exact.items()}
    beyond = wide.Beyond(doubles, exact, scaled=True)
    assert sorted(beyond) == [0, 2] and len(beyond) == 2 and 1 not in beyond
    assert beyond[0] == wide.from_mpf(mpmath.ldexp(mpmath.mpf(0.5), -5000))
    assert beyond[2].mantissa < 0 and beyond[2].exponent == 1504  # 2^4999 ≈ 7.06e1504
    assert beyond.get(1) is None


def test_a_sum_that_cancels_keeps_its_small_terms() -> None:
    """Two huge terms that cancel exactly leave the small one whole (mpmath's fsum would too)."""
    scaled = wide.ScaledArithmetic()
    assert scaled.total([(0.5, 2000), (-0.5, 2000), (0.5, 1)]) == (0.5, 1)
    assert scaled.total([(0.5, 3000), (0.75, -3000), (-0.5, 3000)]) == (0.75, -3000)
    assert scaled.total([(0.0, 0), (0.0, 7)]) == scaled.zero


def test_a_zero_factor_beside_a_zero_input_is_still_checked_for_underflow() -> None:
    """A bias of 0 is exact, but b·c = 1e-400 is not: ∂y/∂a is 1e-400, not 0."""
    g = gradient("y = a*b*c + d", at="a=1e200,b=1e-200,c=1e-200,d=0")
    assert float(as_mpf(g.beyond["a"]) * mpmath.mpf(10) ** 400) == pytest.approx(1.0, rel=1e-12)


def test_a_local_gradient_that_doubles_round_to_zero_is_found() -> None:
    """tanh′(333.6) = sech²(333.6) ≈ 7.2e-290 is within the range of doubles, but 1 − tanh² is 0
    in them: the factor is taken again with an unbounded exponent, and matches mpmath."""
    g = gradient("y = tanh(w*x + b)", at="w=100,x=3.336,b=0")
    with mpmath.workdps(40):
        exact = mpmath.mpf("3.336") * mpmath.sech(mpmath.mpf(100) * mpmath.mpf("3.336")) ** 2
    assert g.gradient is not None and g.gradient["w"] == pytest.approx(float(exact), rel=1e-12)
    assert g.checks["w"].agrees


def test_an_exact_zero_costs_no_second_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """relu of a negative number, a weight of 0 and a typed 0 are exactly 0: no mpmath pass."""
    from chainrule import engine

    def refuse(*args: Any) -> None:
        raise AssertionError("the pass was taken again in mpmath")

    monkeypatch.setattr(engine, "_wide_pass", refuse)
    g = gradient("h = relu(w*x + b); y = h^2 + v*x + 0*x", at="w=1,x=-2,b=0.5,v=0")
    assert g.gradient == {"w": 0.0, "x": 0.0, "b": 0.0, "v": -2.0}


def test_a_literal_below_the_range_of_doubles_is_not_zero() -> None:
    d = differentiate("1e-400*x", at="1")
    assert d.derivative_beyond is not None
    assert float(as_mpf(d.derivative_beyond) * mpmath.mpf(10) ** 400) == pytest.approx(1.0, rel=1e-12)
