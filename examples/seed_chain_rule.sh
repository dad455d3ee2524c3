#!/usr/bin/env bash
# The first lesson: h(x) = (2x + 1)² at x = 3 gives 28, and the 0.001 nudge gives 28.004.
# expect: 28.004 ≈ 28 ✓
set -euo pipefail
chainrule diff "(2x+1)^2" --at 3 --explain
