#!/usr/bin/env bash
# f, its tangent line at the point (slope f′(x0)), and f′ on one figure. Needs the plot extra.
# expect: wrote a PNG of
set -euo pipefail
out="$(mktemp -d)/tangent.png"
chainrule diff "sin(x^2)" --at 1.5 --plot "$out" > /dev/null
python3 -c 'import sys, os; print("wrote a PNG of", os.path.getsize(sys.argv[1]), "bytes:", open(sys.argv[1], "rb").read(4)[1:4].decode())' "$out"
