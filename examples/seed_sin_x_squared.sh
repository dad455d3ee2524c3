#!/usr/bin/env bash
# The numerical check from the lessons: d/dx sin(x²) at 1.5 is cos(2.25)·3.
# expect: -1.884520868
set -euo pipefail
chainrule diff "sin(x^2)" --at 1.5 --json | python3 -c '
import json, math, sys
doc = json.load(sys.stdin)
value = doc["derivative"]["value"]
print(f"{value:.10}", "= cos(2.25)*3 =", f"{math.cos(2.25) * 3:.10}")
assert abs(value - math.cos(2.25) * 3) < 1e-12
'
