"""Read chainrule's JSON the way any script would, and recheck every factor.

expect: product of local factors = 28.0
"""

import json
import math
import subprocess

out = subprocess.run(
    ["chainrule", "diff", "(2x+1)^2", "--at", "3", "--json"], capture_output=True, text=True, check=True
).stdout
doc = json.loads(out)
factors = [layer["local"][0]["value"] for layer in doc["layers"]]
for layer in doc["layers"]:
    local = layer["local"][0]
    print(
        f"{layer['name']} = {layer['expression']:10} d{layer['name']}/d{local['wrt']} = {local['expression']:6} "
        f"= {local['value']:g}   ({local['rule']} rule)"
    )
print("product of local factors =", math.prod(factors))
print("nudge with h = 0.001     =", round(doc["check"]["nudge"]["value"], 6))
