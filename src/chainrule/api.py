"""The Python API, for notebooks and other programs.

    >>> from chainrule import differentiate
    >>> differentiate("sin((2x+1)^2)", at=3).to_dict()["derivative"]["value"]   # 28·cos(49)
    8.416591224821838

Each function returns a frozen result whose ``to_dict()`` is the same document
the command line prints with ``--json``; in Jupyter it shows as its lesson page
(``--format html``), with its Markdown and LaTeX views for other front ends.

Budgets.  Every call runs under the command line's budgets: 5 seconds of CPU
time (``timeout=``, in seconds) and 768M of memory above what the process
holds as the call begins (``memory=``, in bytes or as text such as ``"2G"``);
``None`` is no such budget, and 0 is refused, as ``--timeout 0`` is.  Beyond a
budget the call raises :class:`chainrule.errors.OutOfTime` or
:class:`chainrule.errors.OutOfMemory`, the errors the command line answers
with exit 1.  A result's views (``to_dict()``, ``explain()``, the notebook's)
are rendered later, within the same budgets.  In the main thread the budgets
are the command line's own (a profiling timer, which counts the process's CPU
time; a cap on the address space, lifted as the call returns).  In another
thread they are kept by a watcher thread: the calling thread's own CPU time,
and the process's resident memory read every 20 ms.

Threads.  The API may be called from any thread, and from several at once;
each call gives exactly the result it gives alone.  mpmath's precision is the
whole process's, so calls take turns: each call (and each rendering of its
views) holds one lock, :data:`chainrule.budget.ENGINE`, shared with batch's
per-line function.  A call's time budget starts once it holds the lock, so
waiting for its turn costs it nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, TypeAlias, TypeVar

import sympy

from chainrule import exact, points, tensor
from chainrule.backprop import Gradient
from chainrule.backprop import gradient as _gradient
from chainrule.budget import DEFAULT_MEMORY, DEFAULT_MEMORY_TEXT, DEFAULT_SECONDS, ENGINE, within
from chainrule.derive import Derivation
from chainrule.derive import differentiate as _differentiate
from chainrule.errors import ChainruleError, Concern, Name, OutOfMemory, OutOfTime, UsageError, pairs, quoted
from chainrule.grade import Grade, grade
from chainrule.point import number as exact_number
from chainrule.syntax import parse_program
from chainrule.tensor import TensorGradient

Point = float | int | str | Mapping[str, float] | None
Expression: TypeAlias = "str | sympy.Basic"  # text as a person types it, or a SymPy expression
Variable: TypeAlias = "str | sympy.Symbol | None"  # a name, or the SymPy symbol of that name
Variables: TypeAlias = "str | sympy.Symbol | Sequence[str | sympy.Symbol] | None"
Timeout: TypeAlias = "float | None"  # seconds of CPU time; None: no time budget
Memory: TypeAlias = "int | str | None"  # bytes, or a size as text ("2G", "512M"); None: no memory budget


# --------------------------------------------------------------------------- the edge
#
# Every argument of the API is checked here, once, before any work: a misuse is a UsageError
# that names the argument, never a TypeError or an OverflowError from deep inside.  The checked
# values are typed, as the stages below take them: the point as chainrule.points reads it, the
# variables as names, the shapes as tuples.  The stages' errors name the inputs by concept
# ("the point"); the API words them by its keyword arguments (at=, wrt=).


def _keyword_point(spec: str) -> str:
    return "at={" + ", ".join(f"{k!r}: {v}" for k, v in pairs(spec)) + "}"


def _keyword_shapes(spec: str) -> str:
    def sizes(text: str) -> str:
        dims = text.split("x")
        return dims[0] if len(dims) == 1 else "(" + ", ".join(dims) + ")"

    return "shape={" + ", ".join(f"{k!r}: {sizes(v)}" for k, v in pairs(spec)) + "}"


def _keyword_gradient(spec: str) -> str:
    program, _, point = spec.partition(";")
    return f"gradient({program!r}, " + ", ".join(f"{k}={v}" for k, v in pairs(point)) + ")"


KEYWORDS: dict[str, Name] = {
    Concern.point.value: Name("at=", _keyword_point),
    Concern.variables.value: Name("wrt=", lambda spec: f"wrt={spec!r}"),
    Concern.shapes.value: Name("shape=", _keyword_shapes),
    Concern.seed.value: Name("seed=", lambda spec: f"seed={spec}"),
    Concern.granularity.value: Name("granularity="),
    Concern.order.value: Name("order="),
    Concern.grad.value: Name("gradient()", _keyword_gradient),
}


@contextmanager
def _worded() -> Iterator[None]:
    """Errors as the API words them: the inputs by their keyword arguments."""
    try:
        yield
    except ChainruleError as err:
        err.word(KEYWORDS)
        raise


@dataclass(frozen=True)
class _Request:
    """The arguments of one API call, checked."""

    text: str
    at: points.Given | None
    wrt: str | tuple[str, ...] | None
    order: int = 1
    granularity: str = "functions"
    shape: dict[str, tuple[int, ...]] | None = None
    seed: int | None = None


def _request(
    expression: Any,
    at: Any,
    named: Mapping[str, Any],
    wrt: Any,
    *,
    order: Any = 1,
    granularity: Any = "functions",
    shape: Any = None,
    seed: Any = None,
    several: bool = False,
    tensors: bool = False,
) -> _Request:
    """The checked request: `several` allows several variables in `wrt`, `tensors` arrays as values."""
    text = _text(expression)
    if named:
        if at is not None:
            raise UsageError("give the point either as at=... or as keyword arguments, not both")
        at = dict(named)
    return _Request(
        text=text,
        at=_point(at, tensors),
        wrt=_variables(wrt, several),
        order=_whole(order, "order"),
        granularity=_choice(granularity),
        shape=_shapes(shape),
        seed=None if seed is None else _seed(seed),
    )


def _text(expression: Any, what: str = "the expression") -> str:
    """Text as given, or a SymPy expression as our own text (never sympify's), keeping its meaning."""
    if isinstance(expression, str):
        return expression
    if isinstance(expression, (bytes, bytearray)):
        raise UsageError(f"{what} must be text (str), not bytes", hint="decode it first: data.decode('utf-8')")
    if not isinstance(expression, sympy.Basic):
        raise UsageError(f"{what} must be text or a SymPy expression, not {_kind(expression)}")
    from chainrule.sympy_input import text_of, variables_kept
    from chainrule.syntax import parse_program

    text = text_of(expression, what)
    variables_kept(expression, parse_program(text).expr.variables(), what)
    return text


def _kind(value: Any) -> str:
    return "None" if value is None else type(value).__name__


def _shown(value: Any) -> str:
    """A value for a message: its repr, cut to 60 characters (an integer too long for Python's
    text, 10**5000, by its size)."""
    from chainrule import huge

    if isinstance(value, int) and huge.too_long(value):
        return f"an integer of {huge.digits(value):,} digits"
    return quoted(repr(value), 60, bare=True)


def _number(value: Any, what: str) -> float | str:
    """A coordinate of the point: a real number within the range of doubles, or text (pi/4)."""
    import math
    import numbers

    if isinstance(value, str):
        return value
    if isinstance(value, sympy.Basic):
        if not value.is_number:
            raise UsageError(f"{what} must be a number, not the expression {value} (it has variables)")
        return _text(value, what)
    if isinstance(value, bool) or (_scalar_array(value) and value.dtype.kind == "b"):
        raise UsageError(f"{what} must be a number, not {value} (a truth value)")
    if isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real):
        raise UsageError(f"{what} must be a real number, not the complex number {_shown(value)}")
    if not isinstance(value, (numbers.Real, Decimal)) and not _scalar_array(value):
        raise UsageError(f"{what} must be a number, not {_kind(value)}")
    if _scalar_array(value) and value.dtype.kind not in "iuf":
        raise UsageError(f"{what} must be a real number, not an array of {value.dtype}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise UsageError(f"{what} must be a finite number within the range of doubles (about ±1.8e308)")
    return number


def _scalar_array(value: Any) -> bool:
    """A numpy scalar or 0-dimensional array (without importing numpy)."""
    return hasattr(value, "dtype") and getattr(value, "shape", None) == ()


def _point(at: Any, tensors: bool) -> points.Given | None:
    """`at` as a number, "x=1,y=2" or a mapping of names (str, or SymPy symbols) to values."""
    if at is None:
        return None
    if isinstance(at, str):
        return points.read(at)
    if isinstance(at, Mapping):
        values: dict[str, points.Value] = {}
        for name, value in at.items():
            key = name.name if isinstance(name, sympy.Symbol) else name
            if not isinstance(key, str):
                raise UsageError(
                    f"the point's names must be text, as in {{'x': 1.5}}, not {_kind(name)} {_shown(name)}"
                )
            if key in values:
                raise UsageError(f"the point gives {key!r} twice")
            values[key] = _value(value, key, tensors)
        return points.Given(tuple(values.values()))
    if isinstance(at, (list, tuple)) or (hasattr(at, "shape") and getattr(at, "shape", ()) != ()):
        raise UsageError(
            "at= takes one number, 'x=1,y=2' or a mapping of names to values, not a list",
            hint="name the values: at={'W': [[1, 2], [3, 4]]}" if tensors else "name the values: at={'x': 1, 'y': 2}",
        )
    return points.Given((_scalar(None, at, "at="),))


def _scalar(name: str | None, value: Any, what: str) -> points.Value:
    """A number of the point, exactly as given (0.1 is 1/10), or a constant expression (pi/4)."""
    number = _number(value, what)
    if isinstance(number, str):
        double, precise = points.constant(number, number, 0)
        return points.Value(name, double, None if precise is exact.UNKNOWN else precise)
    return points.Value(name, number, exact_number(number))


def _value(value: Any, name: str, tensors: bool) -> points.Value:
    """One value of a mapping: a number, or for tensors a (nested) list or array of real numbers."""
    if isinstance(value, (list, tuple)) or (hasattr(value, "shape") and getattr(value, "shape", ()) != ()):
        if not tensors:
            raise UsageError(f"the value of {name!r} is a list: vectors and matrices are for gradient()")
        return points.Value(name, array=points.array_value(name, _array(value, name)))
    return _scalar(name, value, f"the value of {name!r}")


def _array(value: Any, name: str) -> Any:
    """A tensor's value, as numpy reads it, refused when it is not a rectangular array of finite real
    numbers (complex entries are not made real, and truth values are not numbers)."""
    import numpy as np

    from chainrule.points import MAX_SHAPE_AXES

    depth, inner = 0, value
    while isinstance(inner, (list, tuple)) and inner:  # deeper than a matrix: refused before numpy reads it
        depth, inner = depth + 1, inner[0]
        if depth > MAX_SHAPE_AXES:
            raise UsageError(f"{name!r} is nested more than {MAX_SHAPE_AXES} deep; vectors and matrices have at most 2")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        raise UsageError(
            f"the value of {name!r} is not a rectangular list of numbers (every row must have as many entries)"
        ) from None
    if array.dtype.kind == "c" or (array.dtype.kind == "O" and any(isinstance(v, complex) for v in array.flat)):
        raise UsageError(f"the value of {name!r} has complex entries: chainrule works with real numbers")
    if array.dtype.kind == "b" or (array.dtype.kind == "O" and any(isinstance(v, bool) for v in array.flat)):
        raise UsageError(f"the value of {name!r} has truth values (True, False), not numbers")
    if array.dtype.kind == "O":
        for entry in array.flat:
            _number(entry, f"an entry of {name!r}")
    elif array.dtype.kind not in "iuf":
        raise UsageError(f"the value of {name!r} must hold numbers, not {array.dtype}")
    try:
        return array.astype(float)
    except (ValueError, TypeError, OverflowError):
        raise UsageError(f"the value of {name!r} is not a rectangular list of finite numbers") from None


def _variables(wrt: Any, several: bool) -> str | tuple[str, ...] | None:
    """`wrt`: a name (text or a SymPy symbol), or for gradient several, as "a,b" or a list."""
    if wrt is None:
        return None
    if isinstance(wrt, sympy.Symbol):
        return str(wrt.name)
    if isinstance(wrt, str):
        return points.variables(wrt) if several else wrt
    if isinstance(wrt, (list, tuple)) and several:
        if not wrt:
            raise UsageError("wrt= is an empty list: name at least one variable, or leave it out for all of them")
        for w in wrt:
            if not isinstance(w, (str, sympy.Symbol)):
                raise UsageError(f"wrt= names variables as text, not {_kind(w)} {_shown(w)}")
        return tuple(str(w.name) if isinstance(w, sympy.Symbol) else w for w in wrt)
    if isinstance(wrt, (list, tuple)):
        raise UsageError("wrt= takes one variable here, as text: wrt='x' (gradient takes several)")
    raise UsageError(f"wrt= takes a variable's name as text, not {_kind(wrt)} {_shown(wrt)}")


def _whole(value: Any, what: str) -> int:
    """A whole number (order=, seed=), not a float, text or truth value."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise UsageError(f"{what}= must be a whole number, not {_kind(value)} {_shown(value)}")
    return int(value)


def _seed(seed: Any) -> int:
    value = _whole(seed, "seed")
    if not 0 <= value < 2**63:
        raise UsageError(f"seed= must be a whole number from 0 to 2^63 − 1, not {_shown(value)}")
    return value


def _choice(granularity: Any) -> str:
    from chainrule.graph import GRANULARITIES

    if not isinstance(granularity, str) or granularity not in GRANULARITIES:
        choices = ", ".join(map(repr, GRANULARITIES))
        raise UsageError(f"granularity= must be one of {choices}, not {_shown(granularity)}")
    return granularity


def _shapes(shape: Any) -> dict[str, tuple[int, ...]] | None:
    """shape={"W": (8, 4), "b": 8}, or as text, W=8x4,b=8: each variable's shape."""
    if shape is None:
        return None
    if isinstance(shape, str):
        return tensor.parse_shapes(shape)
    if not isinstance(shape, Mapping):
        raise UsageError(f"shape= takes a mapping of names to sizes, as {{'W': (8, 4), 'b': 8}}, not {_kind(shape)}")
    shapes: dict[str, tuple[int, ...]] = {}
    for name, dims in shape.items():
        if not isinstance(name, str):
            raise UsageError(f"shape= names variables as text, not {_kind(name)} {_shown(name)}")
        sizes = (dims,) if not isinstance(dims, (list, tuple)) else tuple(dims)
        for size in sizes:
            if isinstance(size, bool) or not hasattr(size, "__index__"):
                raise UsageError(f"shape= gives {name!r} the size {_shown(size)}: sizes are whole numbers, as (8, 4)")
            if not 1 <= int(size) <= 10**9:
                raise UsageError(f"shape= gives {name!r} the size {_shown(int(size))}: sizes are from 1 to 10^9")
        if not tensor.NAME.fullmatch(name):
            raise UsageError(f"shape= names variables, not {_shown(name)}")
        shapes[name] = tensor.check_shape(name, tuple(int(d) for d in sizes))
    return shapes


# --------------------------------------------------------------------------- the budgets
#
# Checked at the edge with the other arguments; every call, and every rendering of its views, runs
# under ENGINE and within its budgets (see the module's docstring).


@dataclass(frozen=True)
class _Budgets:
    """A call's budgets, checked: seconds of CPU time and bytes of memory (None: no such budget)."""

    seconds: float | None = DEFAULT_SECONDS
    memory: int | None = DEFAULT_MEMORY


def _budgets(timeout: Any, memory: Any) -> _Budgets:
    """timeout= and memory= as given: checked as --timeout and --memory are, and named as keywords."""
    import math
    import numbers

    from chainrule import budget

    seconds: float | None = None
    if isinstance(timeout, bool) or not (timeout is None or isinstance(timeout, numbers.Real)):
        raise UsageError(
            f"timeout= takes a number of seconds of CPU time (None: no time budget), not {_kind(timeout)} "
            f"{_shown(timeout)}"
        )
    if timeout is not None:
        try:
            number = float(timeout)
        except OverflowError:
            number = math.inf
        seconds = budget.seconds(number, "timeout=")
    size: int | None = None
    if isinstance(memory, str):
        size = budget.memory_size(memory, "memory=")
    elif isinstance(memory, numbers.Integral) and not isinstance(memory, bool):
        if not budget.MIN_MEMORY <= int(memory) <= budget.MAX_MEMORY:
            raise UsageError(
                f"memory= takes a size from 32M to 1T, in bytes (2**30) or as text ('1G'), not {_shown(memory)}",
                hint=f"the default is {DEFAULT_MEMORY_TEXT}",
            )
        size = int(memory)
    elif memory is not None:
        raise UsageError(
            f"memory= takes a size in bytes (2**30) or as text ('1G', '512M'), or None for no memory budget, "
            f"not {_kind(memory)} {_shown(memory)}"
        )
    return _Budgets(seconds, size)


_T = TypeVar("_T")


def _budgeted(budgets: _Budgets, work: Callable[[], _T]) -> _T:
    """work(), in its turn (ENGINE) and then within its budgets: time counts from its turn."""
    with ENGINE:
        try:
            with within(budgets.seconds, budgets.memory, _out_of_time):
                return work()
        except MemoryError:
            raise OutOfMemory(
                "the computation needed more memory than its budget",
                hint=f"raise it with memory=SIZE, such as memory='2G' (the default is {DEFAULT_MEMORY_TEXT}), "
                "or memory=None for none",
            ) from None


def _out_of_time() -> OutOfTime:
    return OutOfTime(
        "the computation took longer than the time budget",
        hint=f"raise it with timeout=SECONDS (the default is {DEFAULT_SECONDS:g} seconds of CPU time), "
        "or timeout=None for none",
    )


def framed(page: str, height: int = 720) -> str:
    """A lesson page for a notebook cell: in an iframe of its own, so that two pages in one
    notebook (and the notebook's own styles and scripts) never meet."""
    import html

    return (
        f'<iframe srcdoc="{html.escape(page, quote=True)}" title="chainrule lesson page" '
        f'style="width: 100%; height: {height}px; border: 1px solid #ccc;" '
        'sandbox="allow-scripts"></iframe>'
    )


@dataclass(frozen=True)
class _Shown:
    """A result, and what a notebook shows of it, from the registry of views: the lesson page (in a
    frame of its own), the Markdown view and the LaTeX fragment; and its JSON document as a dict."""

    result: Any
    budgets: _Budgets = field(default=_Budgets(), repr=False, compare=False)  # the call's: views render within them
    view: ClassVar[str]

    def _show(self, format_: str) -> str | None:
        from chainrule.render.registry import VIEWS, Terminal, renderer

        if format_ not in VIEWS[self.view]:
            return None
        render = renderer(self.view, format_)
        return _budgeted(self.budgets, lambda: render(self.result, Terminal(width=100)))

    def to_dict(self) -> dict[str, Any]:
        text = self._show("json")
        assert text is not None  # every view has JSON
        document: dict[str, Any] = json.loads(text)
        return document

    def explain(self) -> str | None:
        """The lesson, as --explain prints it (None where the view has none: check)."""
        return self._show("explain")

    def _repr_markdown_(self) -> str | None:
        return self._show("markdown")

    def _repr_latex_(self) -> str | None:
        return self._show("latex")

    def _repr_html_(self) -> str | None:
        page = self._show("html")
        return framed(page) if page is not None else None


@dataclass(frozen=True)
class DiffResult(_Shown):
    """d(output)/d(variable), step by step."""

    result: Derivation
    view: ClassVar[str] = "diff"

    @property
    def derivation(self) -> Derivation:
        return self.result

    @property
    def value(self) -> float | None:
        return self.result.derivative_value

    @property
    def derivative(self) -> Any:
        return self.result.derivative


@dataclass(frozen=True)
class GradResult(_Shown):
    """The gradient by one backward pass."""

    result: Gradient
    view: ClassVar[str] = "grad"

    @property
    def gradient(self) -> dict[str, float] | None:
        return self.result.gradient


@dataclass(frozen=True)
class TensorGradResult(_Shown):
    """The gradient of a program on vectors and matrices: `gradient` maps each parameter to a
    numpy array of its shape, as PyTorch's ``.grad`` does."""

    result: TensorGradient
    view: ClassVar[str] = "grad tensor"

    @property
    def gradient(self) -> dict[str, Any]:
        return dict(self.result.gradient)

    @property
    def loss(self) -> float:
        return self.result.loss

    @property
    def agrees(self) -> bool:
        return self.result.agrees


@dataclass(frozen=True)
class CheckResult(_Shown):
    """A graded answer."""

    result: Grade
    view: ClassVar[str] = "check"

    @property
    def correct(self) -> bool:
        return self.result.verdict == "correct"


def differentiate(
    expression: Expression,
    at: Point = None,
    wrt: Variable = None,
    *,
    order: int = 1,
    granularity: str = "functions",
    timeout: Timeout = DEFAULT_SECONDS,
    memory: Memory = DEFAULT_MEMORY,
    **point: float,
) -> DiffResult:
    """Differentiate by the chain rule, layer by layer.

    `expression` is text as on paper, or a SymPy expression.  The point is a
    number, "x=1,y=2", a mapping, or keyword arguments: ``differentiate("x*y", x=1, y=2, wrt="x")``.
    `timeout` (seconds of CPU time) and `memory` (bytes, or "2G") are the budgets; None is none.
    """
    budgets = _budgets(timeout, memory)

    def work() -> DiffResult:
        r = _request(expression, at, point, wrt, order=order, granularity=granularity)
        assert not isinstance(r.wrt, tuple)
        derivation = _differentiate(r.text, wrt=r.wrt, at=r.at, granularity=r.granularity, order=r.order)
        return DiffResult(derivation, budgets)

    with _worded():
        return _budgeted(budgets, work)


TensorPoint = str | Mapping[str, Any] | None


def gradient(
    expression: Expression,
    at: Point | TensorPoint = None,
    wrt: Variables = None,
    *,
    granularity: str = "functions",
    shape: str | Mapping[str, Sequence[int] | int] | None = None,
    seed: int | None = None,
    timeout: Timeout = DEFAULT_SECONDS,
    memory: Memory = DEFAULT_MEMORY,
    **point: Any,
) -> GradResult | TensorGradResult:
    """Backpropagation on an expression or a program of bindings; `wrt` a name, "a,b" or a list.

    On vectors and matrices (``W @ x``, softmax, or values that are lists or arrays) the result
    is a :class:`TensorGradResult` whose ``gradient`` maps each parameter to a numpy array::

        gradient("L = sum(relu(W @ x))", W=[[1, -2], [3, 4]], x=[1, 2]).gradient["W"]
        gradient("L = mse(W @ x, y)", shape={"W": (3, 4), "x": 4, "y": 3}, seed=0)

    `timeout` (seconds of CPU time) and `memory` (bytes, or "2G") are the budgets; None is none.
    """
    budgets = _budgets(timeout, memory)
    # numpy before the memory budget, as the command line imports it: its libraries map more address
    # space than a small memory= leaves (the budget is counted above what the process holds).
    import numpy  # noqa: F401

    def work() -> GradResult | TensorGradResult:
        r = _request(
            expression, at, point, wrt, granularity=granularity, shape=shape, seed=seed, several=True, tensors=True
        )
        program = parse_program(r.text)
        if tensor.wanted(program, r.at, r.shape):
            found = tensor.gradient(program, at=r.at, wrt=r.wrt, shape=r.shape, seed=r.seed)
            return TensorGradResult(found, budgets)
        if r.seed is not None:
            raise tensor.seed_without_shapes()
        return GradResult(_gradient(r.text, at=r.at, wrt=r.wrt, granularity=r.granularity, program=program), budgets)

    with _worded():
        return _budgeted(budgets, work)


def check(
    expression: Expression,
    answer: Expression,
    wrt: Variable = None,
    *,
    timeout: Timeout = DEFAULT_SECONDS,
    memory: Memory = DEFAULT_MEMORY,
) -> CheckResult:
    """Grade a hand-derived derivative (text, or SymPy expressions).

    `timeout` (seconds of CPU time) and `memory` (bytes, or "2G") are the budgets; None is none.
    """
    budgets = _budgets(timeout, memory)

    def work() -> CheckResult:
        r = _request(expression, None, {}, wrt)
        assert not isinstance(r.wrt, tuple)
        return CheckResult(grade(r.text, _text(answer, "the answer"), wrt=r.wrt), budgets)

    with _worded():
        return _budgeted(budgets, work)
