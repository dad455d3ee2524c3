"""One specification per operation on vectors and matrices: the table the tensor stage reads.

The scalar table (:mod:`chainrule.rules`) already knows every elementwise function
and operator; applied to a tensor, each acts element by element, and its local
rule is the vector–Jacobian product G ⊙ f′(u).  This table holds the operations
that are not elementwise: ``@``, ``.T``, indexing, list literals, reductions and
the functions of a whole vector (softmax, cross-entropy).

Each :class:`TensorRule` has named fields: the names a person types, the rule's
name as the lessons say it, its shape rule, its value and one vector–Jacobian
product per operand (as formulas over an array module, numpy, passed first, as
the scalar table passes a number system), its formula and the same products as
formula trees (``G·Bᵀ``, :mod:`chainrule.tensor_forms`, which every printer reads:
text, LaTeX, Markdown, MathML), why the rule has its form (``--explain`` reads it),
and its expansion into scalar expressions, which lets the scalar engine check it
element by element.

Adding an operation is one entry here and one row in ``tests/test_tensor.py``;
``tests/test_tensor_rules.py`` checks every entry's value, products, formulas and
expansion against each other.

Nothing here imports numpy: the array module is an argument.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from chainrule.rules import ENTRYWISE, MINUS, NEGATE, OVER, PLUS
from chainrule.tensor_forms import (
    ATOM,
    LOOSE,
    ONES,
    TIGHT,
    ZERO,
    Call,
    Form,
    Index,
    Infix,
    Norm,
    Notation,
    One,
    Operand,
    Prefix,
    Scaled,
    Scatter,
    Stack,
    Sym,
    Unit,
    bare,
    is_unit,
    transpose,
)

Shape = tuple[int, ...]

# The lessons' notation for the matrix product (W·x) and for Σ written before its operand (ΣG).
PRODUCT = Notation(text="·", latex="\\cdot", precedence=TIGHT, operands=(LOOSE + 1, LOOSE + 1))
SIGMA = Notation(text="Σ", latex="\\textstyle\\sum", precedence=TIGHT, associativity="prefix", operands=(ATOM,))
SUM_LATEX = "\\textstyle\\sum"


@dataclass(frozen=True)
class Site:
    """Where a vector–Jacobian product is written: the node's text (the indices of z[3]), its
    operands' shapes (empty when unknown), and n, the number of entries of operand 0."""

    text: str
    shapes: tuple[Shape, ...]
    n: Form


class ShapeProblem(Exception):
    """An operation does not accept these shapes (the tensor stage adds the caret)."""


@dataclass(frozen=True, kw_only=True)
class TensorRule:
    """One operation on whole tensors and its vector–Jacobian products.

    key: the tape's name for it (``matmul``, ``softmax``); name: as the lessons say it.
    identity: the rule as the backward table shows it, in G (the adjoint of the result).
    why: one sentence on why the rule has its form, for ``--explain``.
    arity: (fewest, most) operands; function: called by name (``softmax(z)``), not written
      as an operator.  constant: operands that are data, never differentiated (a class index).
    shape: (node text, operand shapes) -> the result's shape; raises ShapeProblem.
    value: (np, node text, *operands) -> the result.
    vjps: per operand, (np, node text, G, result, *operands) -> the adjoint it receives.
    partial_forms: per operand, the same as a formula: (site, G, out, *operands) -> the
      adjoint's formula, over the formulas of G (the adjoint), out (the result) and the
      operands, each written as one unit (:class:`~chainrule.tensor_forms.Operand`).
    formula: (node text, *operands' formulas) -> the result's formula (``W·x``); None:
      the call ``key(operands)``.  latex: the name in LaTeX; None: ``\\operatorname{key}``.
    expand: (node text, *operands as arrays of scalar expressions) -> the result as an array
      of scalar expressions, written for the scalar parser.
    kink: (np, node text, *operands) -> why the operation has no derivative there, or None.
    """

    key: str
    name: str
    identity: str
    why: str
    shape: Callable[..., Shape]
    value: Callable[..., Any]
    vjps: tuple[Callable[..., Any], ...]
    partial_forms: tuple[Callable[..., Form], ...]
    expand: Callable[..., Any]
    formula: Callable[..., Form] | None = None
    latex: str | None = None
    arity: tuple[int, int] = (1, 1)
    function: bool = True
    constant: tuple[int, ...] = ()
    kink: Callable[..., str | None] | None = None  # (np, text, *operands) -> why there is no derivative there

    def product(self, k: int) -> Callable[..., Any]:
        """The vector–Jacobian product for operand k (a list's element k receives G[k])."""
        return _list_vjp(k) if self.key == "list" else self.vjps[k]

    @property
    def latex_name(self) -> str:
        return self.latex or "\\operatorname{" + self.key.replace("_", "\\_") + "}"

    def form(self, text: str, args: tuple[Form, ...]) -> Form:
        """The result as a formula in its operands' formulas."""
        if self.formula is not None:
            return self.formula(text, *args)
        return Call(self.key, args, latex=self.latex_name)

    def partial_form(self, k: int, site: Site) -> Callable[..., Form]:
        """The vector–Jacobian product for operand k as a formula builder; for a matrix product
        it depends on which operands are vectors (a·b, a row vector times B, A times b)."""
        if self.key == "list":
            return _list_form(k)
        shapes = site.shapes
        if self.key == "matmul" and shapes and len(shapes[0]) == 1:
            if len(shapes[1]) == 1:
                return (_dot_left, _dot_right)[k]
            return (_row_left, _row_right)[k]
        return self.partial_forms[k]


# --------------------------------------------------------------------------- shapes


def _vector(what: str, shape: Shape) -> None:
    if len(shape) != 1:
        raise ShapeProblem(f"{what} takes a vector, not {describe(shape)}")


def describe(shape: Shape) -> str:
    """A shape as the lessons write it: a scalar, a vector of 4, a 8×4 matrix."""
    if not shape:
        return "a scalar"
    if len(shape) == 1:
        return f"a vector of {shape[0]}"
    return "a " + "×".join(map(str, shape)) + (" matrix" if len(shape) == 2 else " tensor")


def _matmul_shape(text: str, a: Shape, b: Shape) -> Shape:
    if not a or not b or len(a) > 2 or len(b) > 2:
        raise ShapeProblem(f"@ multiplies vectors and matrices, not {describe(a)} and {describe(b)}")
    if a[-1] != b[0]:
        raise ShapeProblem(
            f"@ needs the columns of the left ({a[-1]}) to equal the rows of the right ({b[0]}): "
            f"{'×'.join(map(str, a))} @ {'×'.join(map(str, b))}"
        )
    return a[:-1] + b[1:]


def _transpose_shape(text: str, a: Shape) -> Shape:
    if len(a) > 2:
        raise ShapeProblem(f".T transposes a matrix, not {describe(a)}")
    return a[::-1]


def indices(text: str) -> tuple[int, ...]:
    return tuple(int(k) for k in text.split(","))


def _index_shape(text: str, a: Shape) -> Shape:
    where = indices(text)
    if len(where) > len(a):
        raise ShapeProblem(f"{len(where)} {'index' if len(where) == 1 else 'indices'} into {describe(a)}")
    for k, (i, n) in enumerate(zip(where, a, strict=False)):
        if not -n <= i < n:
            axis = "" if len(a) == 1 else f" on axis {k}"
            raise ShapeProblem(f"index {i} is out of range{axis}: {describe(a)} has indices 0 to {n - 1}")
    return a[len(where) :]


def _list_shape(text: str, *shapes: Shape) -> Shape:
    for k, s in enumerate(shapes[1:], 1):
        if s != shapes[0]:
            raise ShapeProblem(
                f"the elements of a list must have one shape: element 0 is {describe(shapes[0])}, "
                f"element {k} is {describe(s)}"
            )
    if len(shapes[0]) >= 2:
        raise ShapeProblem("a list of matrices would have 3 axes: vectors and matrices have at most 2")
    return (len(shapes), *shapes[0])


def _reduce_shape(text: str, a: Shape) -> Shape:
    return ()


def _softmax_shape(text: str, a: Shape) -> Shape:
    _vector("softmax", a)
    return a


def _cross_entropy_shape(text: str, z: Shape, c: Shape) -> Shape:
    _vector("cross_entropy's logits", z)
    if c:
        raise ShapeProblem(f"cross_entropy's class is one whole number, not {describe(c)}")
    return ()


def _mse_shape(text: str, a: Shape, b: Shape) -> Shape:
    if a != b:
        raise ShapeProblem(f"mse compares two tensors of one shape, not {describe(a)} and {describe(b)}")
    return ()


# --------------------------------------------------------------------------- values and products


def _outer(np: Any, g: Any, v: Any) -> Any:
    return np.multiply.outer(g, v)


def _matmul_left(np: Any, text: str, g: Any, out: Any, a: Any, b: Any) -> Any:
    if b.ndim == 1:
        return _outer(np, g, b)  # A·b: ∂L/∂A = G·bᵀ
    return g @ b.T


def _matmul_right(np: Any, text: str, g: Any, out: Any, a: Any, b: Any) -> Any:
    if a.ndim == 1:
        return _outer(np, a, g)  # aᵀ·B: ∂L/∂B = a·Gᵀ
    return a.T @ g


def _index_vjp(np: Any, text: str, g: Any, out: Any, a: Any) -> Any:
    result = np.zeros_like(a)
    result[indices(text)] = g
    return result


def _softmax(np: Any, z: Any) -> Any:
    e = np.exp(z - z.max())
    return e / e.sum()


def _log_softmax(np: Any, z: Any) -> Any:
    m = z.max()
    return z - m - np.log(np.exp(z - m).sum())


def class_of(c: Any, size: int) -> int:
    """The class index of cross_entropy: a whole number in range (ShapeProblem otherwise)."""
    value = float(c)
    if not value.is_integer() or not 0 <= value < size:
        raise ShapeProblem(f"the class must be a whole number from 0 to {size - 1}, not {c:g}")
    return int(value)


def _cross_entropy(np: Any, text: str, z: Any, c: Any) -> Any:
    return -_log_softmax(np, z)[class_of(c, z.shape[0])]


def _cross_entropy_vjp(np: Any, text: str, g: Any, out: Any, z: Any, c: Any) -> Any:
    onehot = np.zeros_like(z)
    onehot[class_of(c, z.shape[0])] = 1.0
    return g * (_softmax(np, z) - onehot)


def _norm(np: Any, a: Any) -> Any:
    """‖a‖, scaled by the largest entry so that tiny entries do not underflow when squared."""
    m = np.abs(a).max()
    return m * np.sqrt(((a / m) ** 2).sum()) if m > 0 else np.zeros(())


LAYER_NORM_EPSILON = 1e-5  # added to the variance, as torch.nn.LayerNorm's eps
LAYER_NORM_EPSILON_TEXT = "0.00001"


def _layer_norm_shape(text: str, a: Shape) -> Shape:
    if not a:
        raise ShapeProblem("layernorm normalises a vector (or each row of a matrix), not a scalar")
    return a


def _layer_norm(np: Any, x: Any) -> Any:
    """(x − mean)/√(var + ε) over the last axis."""
    centred = x - x.mean(axis=-1, keepdims=True)
    return centred / np.sqrt((centred**2).mean(axis=-1, keepdims=True) + LAYER_NORM_EPSILON)


def _layer_norm_vjp(np: Any, text: str, g: Any, out: Any, x: Any) -> Any:
    """(G − mean(G) − x̂·mean(G ⊙ x̂))/σ, row by row: x̂ = out, σ = √(var + ε)."""
    centred = x - x.mean(axis=-1, keepdims=True)
    sigma = np.sqrt((centred**2).mean(axis=-1, keepdims=True) + LAYER_NORM_EPSILON)
    return (g - g.mean(axis=-1, keepdims=True) - out * (g * out).mean(axis=-1, keepdims=True)) / sigma


def _no_vjp(np: Any, text: str, g: Any, out: Any, *args: Any) -> Any:  # a constant operand
    return np.zeros_like(args[-1])


def _list_vjp(k: int) -> Callable[..., Any]:
    return lambda np, text, g, out, *args: g[k]


# --------------------------------------------------------------------------- formulas


def _dot_left(site: Site, g: Form, out: Form, a: Form, b: Form) -> Form:
    return Infix(PRODUCT, g, b)  # a·b: G·b


def _dot_right(site: Site, g: Form, out: Form, a: Form, b: Form) -> Form:
    return Infix(PRODUCT, g, a)


def _row_left(site: Site, g: Form, out: Form, a: Form, b: Form) -> Form:
    return Infix(PRODUCT, b, g)  # aᵀ·B: B·G


def _row_right(site: Site, g: Form, out: Form, a: Form, b: Form) -> Form:
    return Infix(PRODUCT, a, transpose(g))  # a·Gᵀ


def _list_form(k: int) -> Callable[..., Form]:
    def form(site: Site, g: Form, out: Form, *items: Form) -> Form:
        if is_unit(g):  # a part of 𝟙 is 𝟙
            return One(tensor=bool(site.shapes and site.shapes[k]))
        return Index(g, (str(k),))

    return form


def _index_form(site: Site, g: Form, out: Form, a: Form) -> Form:
    """The adjoint of z[i]: e₃ (a unit vector) times G, or G at one entry, 0 elsewhere."""
    where = tuple(site.text.split(","))
    shape = site.shapes[0] if site.shapes else ()
    unit = Unit(where)
    if len(shape) == 1:
        return unit if is_unit(g) else Infix(PRODUCT, g, unit)
    if len(shape) == 2 and len(where) == 1:
        return Infix(PRODUCT, unit, transpose(g))
    return Scatter(g, where)


def _transpose_form(site: Site, g: Form, out: Form, a: Form) -> Form:
    if site.shapes and len(site.shapes[0]) < 2:
        return bare(g)  # a vector's transpose is the vector itself
    return transpose(g)


def _sum_form(site: Site, g: Form, out: Form, a: Form) -> Form:
    return ONES if is_unit(g) else Infix(PRODUCT, g, ONES)


def _mean_form(site: Site, g: Form, out: Form, a: Form) -> Form:
    ones = ONES if is_unit(g) else Infix(PRODUCT, g, ONES)
    return Infix(OVER, ones, site.n)


def _mse_form(sign: bool) -> Callable[..., Form]:
    def form(site: Site, g: Form, out: Form, a: Form, b: Form) -> Form:
        scale = Prefix(NEGATE, g) if sign else g
        return Infix(OVER, Infix(PRODUCT, scale, Scaled("2", Infix(MINUS, a, b))), site.n)

    return form


def _no_form(site: Site, g: Form, *args: Form) -> Form:  # a constant operand
    return ZERO


def _layer_norm_form(site: Site, g: Form, out: Form, x: Form) -> Form:
    """(G − mean(G) − x̂ ⊙ mean(G ⊙ x̂))/sqrt(var(x) + ε), x̂ the result."""
    spread_g = Call("mean", (Infix(ENTRYWISE, g, out),))
    centred = Infix(MINUS, Infix(MINUS, g, Call("mean", (g,))), Infix(ENTRYWISE, out, spread_g))
    spread = Call("sqrt", (Infix(PLUS, Call("var", (x,)), Sym(LAYER_NORM_EPSILON_TEXT)),))
    return Infix(OVER, centred, spread)


# --------------------------------------------------------------------------- expansion into scalars


def _sum_text(terms: list[str]) -> str:
    return " + ".join(terms) if terms else "0"


def _expand_matmul(text: str, a: Any, b: Any) -> Any:
    import numpy as np

    a2 = a if a.ndim == 2 else a.reshape(1, -1)
    b2 = b if b.ndim == 2 else b.reshape(-1, 1)
    out = np.empty((a2.shape[0], b2.shape[1]), dtype=object)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = _sum_text([f"{a2[i, k]}*{b2[k, j]}" for k in range(a2.shape[1])])
    return out.reshape(tuple(a.shape[:-1]) + tuple(b.shape[1:]))


def _expand_list(text: str, *items: Any) -> Any:
    import numpy as np

    return np.stack(items)


def _lse(z: Any) -> str:
    flat = list(z.ravel())
    return f"logsumexp({', '.join(flat)})" if len(flat) > 1 else flat[0]


def _expand_softmax(text: str, z: Any) -> Any:
    import numpy as np

    lse = _lse(z)
    return np.array([f"exp({v} - {lse})" for v in z], dtype=object)


def _expand_log_softmax(text: str, z: Any) -> Any:
    import numpy as np

    lse = _lse(z)
    return np.array([f"{v} - {lse}" for v in z], dtype=object)


def _expand_cross_entropy(text: str, z: Any, c: Any) -> Any:
    import numpy as np

    k = class_of(float(str(c.item()).strip("()")), z.shape[0])
    return np.array(f"{_lse(z)} - {z[k]}", dtype=object)


def _expand_mse(text: str, a: Any, b: Any) -> Any:
    import numpy as np

    terms = [f"({x} - {y})^2" for x, y in zip(a.ravel(), b.ravel(), strict=True)]
    return np.array(f"({_sum_text(terms)})/{len(terms)}", dtype=object)


def _expand_reduce(mean: bool) -> Callable[..., Any]:
    def expand(text: str, a: Any) -> Any:
        import numpy as np

        total = _sum_text(list(a.ravel()))
        return np.array(f"({total})/{a.size}" if mean else total, dtype=object)

    return expand


def _expand_layer_norm(text: str, x: Any) -> Any:
    import numpy as np

    rows = x.reshape(-1, x.shape[-1])
    out = np.empty(rows.shape, dtype=object)
    for r, row in enumerate(rows):
        n = len(row)
        mean = f"({_sum_text(list(row))})/{n}"
        var = f"({_sum_text([f'({v} - {mean})^2' for v in row])})/{n}"
        for j, v in enumerate(row):
            out[r, j] = f"({v} - {mean})/sqrt({var} + {LAYER_NORM_EPSILON_TEXT})"
    return out.reshape(x.shape)


def _expand_norm(text: str, a: Any) -> Any:
    import numpy as np

    return np.array(f"sqrt({_sum_text([f'{v}^2' for v in a.ravel()])})", dtype=object)


# fmt: off
_TABLE: list[TensorRule] = [
    TensorRule(
        key="matmul", name="matrix product", identity="∂L/∂A = G·Bᵀ, ∂L/∂B = Aᵀ·G",
        why="each entry A[i][k] multiplies B[k][j] into C[i][j], so ∂L/∂A[i][k] = Σⱼ G[i][j]·B[k][j]: "
            "that sum runs along a row of B, which is a column of Bᵀ, so the transpose appears; "
            "in the same way ∂L/∂B[k][j] = Σᵢ A[i][k]·G[i][j] = (Aᵀ·G)[k][j]",
        shape=_matmul_shape, value=lambda np, text, a, b: a @ b, vjps=(_matmul_left, _matmul_right),
        partial_forms=(lambda s, g, out, a, b: Infix(PRODUCT, g, transpose(b)),
                       lambda s, g, out, a, b: Infix(PRODUCT, transpose(a), g)),
        formula=lambda text, a, b: Infix(PRODUCT, Operand(a), Operand(b)),
        expand=_expand_matmul, arity=(2, 2), function=False,
    ),
    TensorRule(
        key="transpose", name="transpose", identity="∂L/∂A = Gᵀ",
        why="Aᵀ[j][i] is A[i][j]: each entry moves and is not scaled, so the adjoint moves back",
        shape=_transpose_shape, value=lambda np, text, a: a.T, vjps=(lambda np, text, g, out, a: g.T,),
        partial_forms=(_transpose_form,), formula=lambda text, a: transpose(Operand(a)),
        expand=lambda text, a: a.T, function=False,
    ),
    TensorRule(
        key="index", name="indexing", identity="∂L/∂A = G at the index, 0 elsewhere",
        why="indexing picks entries without scaling them: the picked entries receive G, "
            "the others do not reach L through it and receive 0 (for an embedding, only the looked-up row learns)",
        shape=_index_shape, value=lambda np, text, a: a[indices(text)], vjps=(_index_vjp,),
        partial_forms=(_index_form,), formula=lambda text, a: Index(Operand(a), tuple(text.split(","))),
        expand=lambda text, a: a[indices(text)], function=False,
    ),
    TensorRule(
        key="list", name="list", identity="∂L/∂aₖ = G[k]",
        why="a list stacks its elements: element k receives row k of the adjoint",
        shape=_list_shape, value=lambda np, text, *items: np.stack(items), vjps=(),
        partial_forms=(), formula=lambda text, *items: Stack(items),
        expand=_expand_list, arity=(1, 1_000_000), function=False,
    ),
    TensorRule(
        key="sum", name="sum", identity="∂L/∂u = G·𝟙",
        why="every entry adds into the sum with weight 1, so each receives the adjoint G unchanged",
        shape=_reduce_shape, value=lambda np, text, a: a.sum(),
        vjps=(lambda np, text, g, out, a: np.full_like(a, g),), partial_forms=(_sum_form,),
        formula=lambda text, a: Call("Σ", (a,), latex=SUM_LATEX),
        expand=_expand_reduce(mean=False),
    ),
    TensorRule(
        key="mean", name="mean", identity="∂L/∂u = G·𝟙/n",
        why="every entry adds into the mean with weight 1/n, so each receives G/n",
        shape=_reduce_shape, value=lambda np, text, a: a.mean(),
        vjps=(lambda np, text, g, out, a: np.full_like(a, g / a.size),), partial_forms=(_mean_form,),
        expand=_expand_reduce(mean=True),
    ),
    TensorRule(
        key="softmax", name="softmax", identity="∂L/∂z = (diag(p) − p·pᵀ)·G",
        why="pᵢ = e^zᵢ/Σⱼ e^zⱼ depends on every zⱼ: ∂pᵢ/∂zⱼ = pᵢ(δᵢⱼ − pⱼ), the Jacobian diag(p) − p·pᵀ, "
            "which is symmetric, so the vector–Jacobian product needs no transpose",
        shape=_softmax_shape, value=lambda np, text, z: _softmax(np, z),
        vjps=(lambda np, text, g, p, z: p * (g - (g * p).sum()),), partial_forms=(
            lambda s, g, p, z: Infix(
                PRODUCT, Infix(MINUS, Call("diag", (p,)), Infix(PRODUCT, p, transpose(p))), g
            ),
        ),
        expand=_expand_softmax,
    ),
    TensorRule(
        key="log_softmax", name="log-softmax", identity="∂L/∂z = G − softmax(z)·ΣG",
        why="log pᵢ = zᵢ − log Σⱼ e^zⱼ: the first term passes G through, the second takes "
            "softmax(z) times the total of G from every entry",
        shape=_softmax_shape, value=lambda np, text, z: _log_softmax(np, z),
        vjps=(lambda np, text, g, out, z: g - np.exp(out) * g.sum(),), partial_forms=(
            lambda s, g, out, z: Infix(MINUS, g, Infix(PRODUCT, Call("softmax", (z,)), Prefix(SIGMA, g))),
        ),
        expand=_expand_log_softmax,
    ),
    TensorRule(
        key="cross_entropy", name="cross-entropy", identity="∂L/∂z = G·(p − onehot(y)), p = softmax(z)",
        why="cross_entropy(z, y) = log Σⱼ e^zⱼ − z_y: the log-sum-exp gives softmax(z), and −z_y takes 1 "
            "from the true class, so softmax and the log cancel into p − onehot(y)",
        shape=_cross_entropy_shape, value=_cross_entropy, vjps=(_cross_entropy_vjp, _no_vjp),
        partial_forms=(
            lambda s, g, out, z, c: Infix(PRODUCT, g, Infix(MINUS, Call("softmax", (z,)), Call("onehot", (c,)))),
            _no_form,
        ),
        expand=_expand_cross_entropy, arity=(2, 2),
        constant=(1,),
    ),
    TensorRule(
        key="mse", name="mean squared error", identity="∂L/∂a = G·2(a − b)/n, ∂L/∂b = −G·2(a − b)/n",
        why="mse(a, b) = Σ(aᵢ − bᵢ)²/n: each term's slope is 2(aᵢ − bᵢ), and the mean divides by n",
        shape=_mse_shape, value=lambda np, text, a, b: ((a - b) ** 2).mean(),
        vjps=(lambda np, text, g, out, a, b: g * 2 * (a - b) / a.size,
              lambda np, text, g, out, a, b: -g * 2 * (a - b) / a.size),
        partial_forms=(_mse_form(sign=False), _mse_form(sign=True)),
        expand=_expand_mse, arity=(2, 2),
    ),
    TensorRule(
        key="norm2", name="Euclidean norm", identity="∂L/∂u = G·u/‖u‖",
        why="‖u‖ = √Σuᵢ²: the slope of the square root is 1/(2‖u‖), and of uᵢ² it is 2uᵢ, so uᵢ/‖u‖",
        shape=_reduce_shape, value=lambda np, text, a: _norm(np, a),
        vjps=(lambda np, text, g, out, a: g * a / out,),
        partial_forms=(lambda s, g, out, a: Infix(OVER, Infix(PRODUCT, g, a), Norm(a)),),
        formula=lambda text, a: Norm(a),
        expand=_expand_norm,
        kink=lambda np, text, a: None if np.any(a) else "‖u‖ has a corner at 0: its slope depends on the direction",
    ),
    TensorRule(
        key="layernorm", name="layer normalization",
        identity="∂L/∂x = (G − mean(G) − x̂ ⊙ mean(G ⊙ x̂))/σ, x̂ = layernorm(x), σ = √(var(x) + ε)",
        why="x̂ = (x − μ)/σ: every entry moves μ by 1/n and σ by x̂ᵢ/n, so besides G/σ each entry gives back "
            "the mean of G (through μ) and x̂ times the mean of G ⊙ x̂ (through σ); over the last axis, row by row",
        shape=_layer_norm_shape, value=lambda np, text, x: _layer_norm(np, x), vjps=(_layer_norm_vjp,),
        partial_forms=(_layer_norm_form,), expand=_expand_layer_norm,
    ),
]
# fmt: on

TENSOR_RULES: Mapping[str, TensorRule] = MappingProxyType({rule.key: rule for rule in _TABLE})
# The functions the parser reads by name, with their arity.
TENSOR_FUNCTIONS: Mapping[str, tuple[int, int]] = MappingProxyType(
    {rule.key: rule.arity for rule in _TABLE if rule.function}
)
