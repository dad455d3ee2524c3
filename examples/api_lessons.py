"""The seeds' three lessons through the Python API.

expect: d(loss)/da = 42.0
"""

import math

from chainrule import check, differentiate, gradient

# Lesson 1: h(x) = (2x + 1)² at x = 3.
h = differentiate("(2x+1)^2", at=3).to_dict()
print("dh/dx at 3 =", h["derivative"]["value"], "; the nudge gives", round(h["check"]["nudge"]["value"], 6))

# Lesson 2: sin(x²) at 1.5 is cos(2.25)·3.
s = differentiate("sin(x^2)", at=1.5)
# (to 15 digits: in doubles, cos(2.25)·3 rounds twice; chainrule's value is rounded once)
print(f"d/dx sin(x²) at 1.5 = {s.value:.15g} = cos(2.25)·3 = {math.cos(2.25) * 3:.15g}")

# Lesson 3: the three-node graph, and a student's slip graded.
g = gradient("c = a*b; d = c + 1; loss = d^2", at={"a": 2, "b": 3})
print("d(loss)/da =", g.gradient["a"] if g.gradient else None)
print(check("sin((3x+1)^2)", "cos((3x+1)^2)*2(3x+1)").to_dict()["diagnosis"][0]["message"])
