"""The Python API misused: every wrong argument is a ChainruleError with a message that names it.

A program that passes 10**400, nan, True, bytes, a complex array or a ragged list gets one of our
errors (UsageError and its family), never an OverflowError, AttributeError or TypeError from deep
inside; what sensibly has an answer (numpy numbers, a Fraction, a SymPy symbol as wrt) has it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import sympy

from chainrule import check, differentiate, gradient
from chainrule.errors import ChainruleError

x, y = sympy.symbols("x y")
NAN, INF = float("nan"), float("inf")

Call = Callable[[], Any]

# (a name for the case, the call, a fragment the message must hold)
REFUSED: list[tuple[str, Call, str]] = [
    # --- the expression ------------------------------------------------------------------------
    ("expression None", lambda: differentiate(None, at=1), "not None"),  # type: ignore[arg-type]
    ("expression bytes", lambda: differentiate(b"x^2", at=1), "bytes"),  # type: ignore[arg-type]
    ("expression bytearray", lambda: differentiate(bytearray(b"x"), at=1), "bytes"),  # type: ignore[arg-type]
    ("expression int", lambda: differentiate(5, at=1), "not int"),  # type: ignore[arg-type]
    ("expression float", lambda: differentiate(2.5, at=1), "not float"),  # type: ignore[arg-type]
    ("expression list", lambda: differentiate(["x"], at=1), "not list"),  # type: ignore[arg-type]
    ("expression dict", lambda: differentiate({"x": 1}), "not dict"),  # type: ignore[arg-type]
    ("expression empty", lambda: differentiate("", at=1), ""),
    ("expression blank", lambda: differentiate("   "), ""),
    ("expression NUL", lambda: differentiate("x\0"), ""),
    ("expression too long", lambda: differentiate("x+" * 600_000 + "x"), "limit"),
    ("expression sympy.I", lambda: differentiate(x * sympy.I, at=1), "imaginary"),
    ("expression sympy.oo", lambda: differentiate(x + sympy.oo), "oo"),
    ("expression sympy.zoo", lambda: differentiate(x * sympy.zoo), "zoo"),
    ("expression sympy.nan", lambda: differentiate(x + sympy.nan), "nan"),
    ("expression -oo", lambda: differentiate(x - sympy.oo), "oo"),
    ("expression Eq", lambda: differentiate(sympy.Eq(x, 1)), "Equality"),
    ("expression Matrix", lambda: differentiate(sympy.Matrix([x])), "Matrix"),
    ("expression Integral", lambda: differentiate(sympy.Integral(x, x)), "Integral"),
    ("expression Derivative", lambda: differentiate(sympy.Derivative(x**2, x)), "Derivative"),
    ("expression Piecewise", lambda: differentiate(sympy.Piecewise((x, x > 0), (0, True))), "Piecewise"),
    ("expression floor", lambda: differentiate(sympy.floor(x)), "floor"),
    ("expression gamma", lambda: differentiate(sympy.gamma(x)), "gamma"),
    ("expression EulerGamma", lambda: differentiate(x * sympy.EulerGamma), "EulerGamma"),
    ("expression undefined F", lambda: differentiate(sympy.Function("F")(x)), "F"),
    ("expression f of two", lambda: differentiate(sympy.Function("f")(x, y), wrt="x"), "f"),
    ("expression Heaviside(x, 0)", lambda: differentiate(sympy.Heaviside(x, 0)), "Heaviside"),
    ("expression complex root", lambda: differentiate(x * (-1) ** sympy.Rational(1, 3)), "complex"),
    ("expression symbol e", lambda: differentiate(sympy.Symbol("e") * x, wrt="x"), "'e'"),
    ("expression symbol pi", lambda: differentiate(sympy.Symbol("pi") + x, wrt="x"), "'pi'"),
    ("expression symbol with a space", lambda: differentiate(sympy.Symbol("a b") + x, wrt="x"), "'a b'"),
    ("expression two symbols x", lambda: differentiate(x + sympy.Symbol("x", positive=True)), "both named"),
    ("expression a Tuple", lambda: differentiate(sympy.Tuple(x, y)), "Tuple"),
    ("expression a boolean", lambda: differentiate(sympy.true), "BooleanTrue"),
    ("expression a set", lambda: differentiate(sympy.Interval(0, 1)), "Interval"),
    # --- the point -----------------------------------------------------------------------------
    ("at 10**400", lambda: differentiate("x^2", at=10**400), "range of doubles"),
    ("at -10**400", lambda: differentiate("x^2", at=-(10**400)), "range of doubles"),
    ("at 10**5000", lambda: differentiate("x^2", at=10**5000), "range of doubles"),
    ("at nan", lambda: differentiate("x^2", at=NAN), "finite"),
    ("at inf", lambda: differentiate("x^2", at=INF), "finite"),
    ("at -inf", lambda: differentiate("x^2", at=-INF), "finite"),
    ("at True", lambda: differentiate("x^2", at=True), "truth value"),
    ("at False", lambda: differentiate("x^2", at=False), "truth value"),
    ("at numpy bool", lambda: differentiate("x^2", at=np.bool_(True)), "truth value"),
    ("at complex", lambda: differentiate("x^2", at=1 + 2j), "complex"),
    ("at 1j", lambda: differentiate("x^2", at=1j), "complex"),
    ("at numpy complex", lambda: differentiate("x^2", at=np.complex128(1)), "complex"),
    ("at bytes", lambda: differentiate("x^2", at=b"1"), "not bytes"),
    ("at a list", lambda: differentiate("x^2", at=[1, 2]), "list"),
    ("at a tuple", lambda: differentiate("x^2", at=(1,)), "list"),
    ("at a numpy vector", lambda: differentiate("x^2", at=np.array([1.0, 2.0])), "list"),
    ("at object()", lambda: differentiate("x^2", at=object()), "not object"),
    ("at a set", lambda: differentiate("x^2", at={1.0}), "not set"),
    ("at Decimal nan", lambda: differentiate("x^2", at=Decimal("nan")), "finite"),
    ("at numpy nan", lambda: differentiate("x^2", at=np.float64("nan")), "finite"),
    ("at text nan", lambda: differentiate("x^2", at="nan"), ""),
    ("at text inf", lambda: differentiate("x^2", at="inf"), ""),
    ("at a string array", lambda: differentiate("x^2", at=np.array("1")), "array"),
    ("at sympy.I", lambda: differentiate("x^2", at=sympy.I), "imaginary"),
    ("at sympy.oo", lambda: differentiate("x^2", at=sympy.oo), "oo"),
    ("at sympy.nan", lambda: differentiate("x^2", at=sympy.nan), "nan"),
    ("at a sympy symbol", lambda: differentiate("x^2", at=y), "variables"),
    ("at {x: None}", lambda: differentiate("x^2", at={"x": None}), "not None"),
    ("at {x: abc}", lambda: differentiate("x^2", at={"x": "abc"}), ""),
    ("at {x: True}", lambda: differentiate("x^2", at={"x": True}), "truth value"),
    ("at {x: 10**400}", lambda: differentiate("x^2", at={"x": 10**400}), "range of doubles"),
    ("at {x: nan}", lambda: differentiate("x^2", at={"x": NAN}), "finite"),
    ("at {x: 1j}", lambda: differentiate("x^2", at={"x": 1j}), "complex"),
    ("at {x: [1]}", lambda: differentiate("x^2", at={"x": [1.0]}), "gradient()"),
    ("at {1: 2}", lambda: differentiate("x^2", at={1: 2}), "names must be text"),
    ("at {None: 2}", lambda: differentiate("x^2", at={None: 2}), "names must be text"),
    ("at {(x,): 2}", lambda: differentiate("x^2", at={("x",): 2}), "names must be text"),
    ("at {y: 1}", lambda: differentiate("x^2", at={"y": 1}), "not a variable"),
    ("at keyword nan", lambda: differentiate("x^2", x=NAN), "finite"),
    ("at keyword True", lambda: differentiate("x^2", x=True), "truth value"),
    ("at keyword huge", lambda: differentiate("x^2", x=10**400), "range of doubles"),
    ("at twice", lambda: differentiate("x^2", at=1, x=2), "not both"),
    ("at symbol and name twice", lambda: differentiate("x^2", at={"x": 1, x: 2}), "twice"),
    # --- wrt, order, granularity ---------------------------------------------------------------
    ("wrt 5", lambda: differentiate("x*y", at="x=1,y=2", wrt=5), "not int"),  # type: ignore[arg-type]
    ("wrt bytes", lambda: differentiate("x*y", at="x=1,y=2", wrt=b"x"), "not bytes"),  # type: ignore[arg-type]
    ("wrt a list in diff", lambda: differentiate("x*y", at="x=1,y=2", wrt=["x"]), "one variable"),  # type: ignore[arg-type]
    ("wrt ['x', 3]", lambda: gradient("x*y", at="x=1,y=2", wrt=["x", 3]), "not int"),  # type: ignore[list-item]
    ("wrt ['x', None]", lambda: gradient("x*y", at="x=1,y=2", wrt=["x", None]), "not None"),  # type: ignore[list-item]
    ("wrt []", lambda: gradient("x*y", at="x=1,y=2", wrt=[]), "empty"),
    ("wrt huge", lambda: gradient("x*y", at="x=1,y=2", wrt=10**5000), "5,001 digits"),  # type: ignore[arg-type]
    ("wrt unknown", lambda: differentiate("x*y", at="x=1,y=2", wrt="z"), "does not occur"),
    ("wrt empty text", lambda: differentiate("x*y", at="x=1,y=2", wrt=""), ""),
    ("order '2'", lambda: differentiate("x^3", at=1, order="2"), "whole number"),  # type: ignore[arg-type]
    ("order 2.5", lambda: differentiate("x^3", at=1, order=2.5), "whole number"),  # type: ignore[arg-type]
    ("order 2.0", lambda: differentiate("x^3", at=1, order=2.0), "whole number"),  # type: ignore[arg-type]
    ("order -1", lambda: differentiate("x^3", at=1, order=-1), "between 1"),
    ("order 0", lambda: differentiate("x^3", at=1, order=0), "between 1"),
    ("order True", lambda: differentiate("x^3", at=1, order=True), "whole number"),
    ("order None", lambda: differentiate("x^3", at=1, order=None), "whole number"),  # type: ignore[arg-type]
    ("order 10**400", lambda: differentiate("x^3", at=1, order=10**400), "between 1"),
    ("granularity 'x'", lambda: differentiate("x^2", granularity="x"), "granularity"),
    ("granularity 5", lambda: differentiate("x^2", granularity=5), "granularity"),  # type: ignore[arg-type]
    ("granularity None", lambda: gradient("x^2", at=1, granularity=None), "granularity"),  # type: ignore[arg-type]
    ("granularity OPS", lambda: gradient("x^2", at=1, granularity="OPS"), "granularity"),
    # --- shape and seed ------------------------------------------------------------------------
    ("shape entry 'a'", lambda: gradient("sum(W @ x)", shape={"W": ("a", 2), "x": 2}), "whole numbers"),
    ("shape entry 2.5", lambda: gradient("sum(W @ x)", shape={"W": (2.5, 2), "x": 2}), "whole numbers"),
    ("shape entry -1", lambda: gradient("sum(W @ x)", shape={"W": (3, -1), "x": 2}), "from 1"),
    ("shape entry 0", lambda: gradient("sum(W @ x)", shape={"W": (0,), "x": 2}), "from 1"),
    ("shape entry None", lambda: gradient("sum(W @ x)", shape={"W": [3, None], "x": 2}), "whole numbers"),
    ("shape entry True", lambda: gradient("sum(W @ x)", shape={"W": True, "x": 2}), "whole numbers"),
    ("shape entry huge", lambda: gradient("sum(W @ x)", shape={"W": (10**400,), "x": 2}), "from 1"),
    ("shape key 5", lambda: gradient("sum(W @ x)", shape={5: 3}), "as text"),  # type: ignore[dict-item]
    ("shape a list", lambda: gradient("sum(W @ x)", shape=[3, 2]), "mapping"),  # type: ignore[arg-type]
    ("shape text bad", lambda: gradient("sum(W @ x)", shape="W=3xq"), "not a shape"),
    ("shape three axes", lambda: gradient("sum(W)", shape={"W": (2, 2, 2)}), "1 to"),
    ("seed 'a'", lambda: gradient("sum(W @ x)", shape={"W": (2, 2), "x": 2}, seed="a"), "whole number"),  # type: ignore[arg-type]
    ("seed 2.5", lambda: gradient("sum(W @ x)", shape={"W": (2, 2), "x": 2}, seed=2.5), "whole number"),  # type: ignore[arg-type]
    ("seed -1", lambda: gradient("sum(W @ x)", shape={"W": (2, 2), "x": 2}, seed=-1), "seed"),
    ("seed 10**400", lambda: gradient("sum(W @ x)", shape={"W": (2, 2), "x": 2}, seed=10**400), "seed"),
    ("seed True", lambda: gradient("sum(W @ x)", shape={"W": (2, 2), "x": 2}, seed=True), "whole number"),
    ("seed without shape", lambda: gradient("x^2", at=1, seed=1), "shape"),
    # --- tensor values -------------------------------------------------------------------------
    ("array with nan", lambda: gradient("sum(W @ x)", W=np.array([[NAN, 1.0]]), x=[1, 2]), "finite"),
    ("array with inf", lambda: gradient("sum(W @ x)", W=np.array([[INF, 1.0]]), x=[1, 2]), "finite"),
    ("array complex", lambda: gradient("sum(W)", W=np.array([1j])), "complex"),
    ("array complex, zero imaginary part", lambda: gradient("sum(W)", W=np.array([1 + 0j, 2])), "complex"),
    ("list with a complex", lambda: gradient("sum(W)", W=[1.0, 2j]), "complex"),
    ("nested list with a complex", lambda: gradient("sum(W)", W=[[1.0], [2j]]), "complex"),
    ("list ragged", lambda: gradient("sum(W)", W=[[1, 2], [3]]), "rectangular"),
    ("list ragged deeper", lambda: gradient("sum(W)", W=[[1, [2]], [3, 4]]), ""),
    ("list of text", lambda: gradient("sum(W)", W=["1", "2"]), "numbers"),
    ("list of None", lambda: gradient("sum(W)", W=[None, 1]), "not None"),
    ("list of bools", lambda: gradient("sum(W)", W=[True, False]), "truth values"),
    ("list of huge ints", lambda: gradient("sum(W)", W=[10**400, 1]), "range of doubles"),
    ("list empty", lambda: gradient("sum(W)", W=[]), "empty"),
    ("list three deep", lambda: gradient("sum(W)", W=[[[1.0]]]), "at most 2"),
    ("list nested 100,000 deep", lambda: gradient("sum(W)", W=_deep(100_000)), "at most 2"),
    ("array three axes", lambda: gradient("sum(W)", W=np.ones((2, 2, 2))), "at most 2"),
    ("array of objects", lambda: gradient("sum(W)", W=np.array([object(), 1], dtype=object)), "not object"),
    ("array of datetimes", lambda: gradient("sum(W)", W=np.array(["2020-01-01"], dtype="datetime64[D]")), "numbers"),
    ("a set as a value", lambda: gradient("sum(W @ x)", W={1, 2}, x=[1, 2]), ""),
    ("a dict as a value", lambda: gradient("sum(W @ x)", W={"a": 1}, x=[1, 2]), ""),
    ("a list for a scalar program", lambda: gradient("a*b", a=[1, 2], b=3), ""),
    # --- check ---------------------------------------------------------------------------------
    ("check answer None", lambda: check("x^2", None), "the answer"),  # type: ignore[arg-type]
    ("check answer bytes", lambda: check("x^2", b"2x"), "bytes"),  # type: ignore[arg-type]
    ("check answer sympy.I", lambda: check("x^2", 2 * x * sympy.I), "imaginary"),
    ("check expression bytes", lambda: check(b"x^2", "2x"), "bytes"),  # type: ignore[arg-type]
    ("check wrt 3", lambda: check("x^2", "2x", wrt=3), "not int"),  # type: ignore[arg-type]
    ("check answer a Matrix", lambda: check("x^2", sympy.ImmutableMatrix([2 * x])), "Matrix"),
]


def _deep(depth: int) -> list[Any]:
    value: list[Any] = [1.0]
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(("case", "call", "fragment"), REFUSED, ids=[case for case, _, _ in REFUSED])
def test_a_misused_argument_is_a_chainrule_error_that_says_what_is_wrong(case: str, call: Call, fragment: str) -> None:
    with pytest.raises(ChainruleError) as caught:
        call()
    assert fragment in caught.value.message, caught.value.message
    assert len(caught.value.message) < 400


# What has an answer gets it: (a name, the call, the derivative or gradient it must give)
ACCEPTED: list[tuple[str, Call, Any]] = [
    ("at numpy float", lambda: differentiate("x^2", at=np.float64(1.5)).value, 3.0),
    ("at numpy int", lambda: differentiate("x^2", at=np.int64(2)).value, 4.0),
    ("at a 0-d array", lambda: differentiate("x^2", at=np.array(2.0)).value, 4.0),
    ("at Fraction", lambda: differentiate("x^2", at=Fraction(1, 2)).value, 1.0),
    ("at Decimal", lambda: differentiate("x^2", at=Decimal("1.5")).value, 3.0),
    ("at int within doubles", lambda: differentiate("x^2", at=10**300).value, 2e300),
    ("at sympy.pi", lambda: differentiate("sin(x)", at=sympy.pi).value, -1.0),
    ("at sympy.Rational", lambda: differentiate("x^2", at=sympy.Rational(1, 4)).value, 0.5),
    ("at a mapping with a sympy symbol", lambda: differentiate("x*y", at={x: 2, "y": 3}, wrt="x").value, 3.0),
    ("at text pi/4", lambda: differentiate("sin(x)", at={"x": "pi/4"}).value, math.cos(math.pi / 4)),
    ("wrt a sympy symbol", lambda: differentiate("x*y", at="x=1,y=2", wrt=y).value, 1.0),
    ("wrt a tuple", lambda: gradient("x*y", at="x=1,y=2", wrt=("x", "y")).gradient, {"x": 2.0, "y": 1.0}),
    ("wrt symbols", lambda: gradient("x*y", at="x=1,y=2", wrt=[x, y]).gradient, {"x": 2.0, "y": 1.0}),
    ("order numpy int", lambda: differentiate("x^3", at=1, order=np.int64(2)).derivation.orders[-1].value, 6.0),
    ("seed numpy int", lambda: gradient("sum(W)", shape={"W": 2}, seed=np.int64(1)).gradient["W"].tolist(), [1, 1]),
    ("shape numpy int", lambda: gradient("sum(W)", shape={"W": (np.int64(2),)}, seed=0).gradient["W"].tolist(), [1, 1]),
    ("a tuple as a vector", lambda: gradient("sum(W)", W=(1.0, 2.0)).gradient["W"].tolist(), [1, 1]),
    ("an int array", lambda: gradient("sum(W)", W=np.array([1, 2])).gradient["W"].tolist(), [1, 1]),
    (
        "a float32 array",
        lambda: gradient("sum(W)", W=np.array([1, 2], dtype=np.float32)).gradient["W"].tolist(),
        [1, 1],
    ),
]


@pytest.mark.parametrize(("case", "call", "expected"), ACCEPTED, ids=[case for case, _, _ in ACCEPTED])
def test_an_argument_with_a_sensible_meaning_is_accepted(case: str, call: Call, expected: Any) -> None:
    found = call()
    assert found == pytest.approx(expected, rel=1e-12)


def test_the_corpus_is_large() -> None:
    assert len(REFUSED) + len(ACCEPTED) >= 100
