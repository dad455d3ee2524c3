"""Higher-order derivatives as text and as JSON fields."""

from __future__ import annotations

from typing import Any

from chainrule.derive import Derivation
from chainrule.higher import Order
from chainrule.printing import plain, pretty, superscript
from chainrule.render.common import exact, num
from chainrule.render.documents import number


def notation(d: Derivation, n: int) -> str:
    if n == 1:
        return f"d{d.output}/d{d.variable}"
    power = superscript(str(n))
    return f"d{power}{d.output}/d{d.variable}{power}"


def lines(d: Derivation, orders: tuple[Order, ...]) -> list[str]:
    out = ["Higher orders: each derivative is the derivative of the one below, by the chain rule again:"]
    out.append("for every layer s in it, ∂(previous)/∂s · ds/dx (on a chain: the product rule over the factors).")
    for o in orders:
        lhs = notation(d, o.order)
        if o.layered is None:
            grown = f"a formula of {o.size:,} operations" if o.size else "a larger formula still"
            out.append(f"  {lhs} = ({grown}: too large to show; its value comes from")
            out.append(f"  {' ' * len(lhs)}    Taylor-mode arithmetic through the layers)")
        elif o.terms:
            parts = " + ".join(f"({pretty(t.partial)})·({pretty(t.tangent)})" for t in o.terms)
            out.append(f"  {lhs} = {parts}")
            out.append(f"  {' ' * len(lhs)} = {pretty(o.layered)}")
        else:
            out.append(f"  {lhs} = {pretty(o.layered)}")
        if o.expanded is not None:
            out.append(f"  {' ' * len(lhs)} = {pretty(o.expanded)}")
        if o.value is not None:
            verdict = "agrees ✓" if o.agrees else "not checked" if o.agrees is None else "DISAGREES ✗"
            reference = f"mpmath.diff of order {o.order}: {num(o.reference, 15)}" if o.reference is not None else ""
            out.append(f"  {' ' * len(lhs)}   at the point: {exact(o.value)}   {reference} {verdict}".rstrip())
    return out


def fields(orders: tuple[Order, ...]) -> list[dict[str, Any]]:
    return [
        {
            "order": o.order,
            "product": plain(o.layered) if o.layered is not None else None,
            "expression": plain(o.expanded) if o.expanded is not None else None,
            **(
                {"value": number(o.value), "check": {"value": number(o.reference), "agrees": o.agrees}}
                if o.value is not None
                else {}
            ),
        }
        for o in orders
    ]
