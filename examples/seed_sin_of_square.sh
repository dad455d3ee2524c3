#!/usr/bin/env bash
# The composition y = sin((2x + 1)²): three layers, three local derivatives, one product.
# expect: 4·(2·x + 1)·cos((2·x + 1)²)
set -euo pipefail
chainrule diff "sin((2x+1)^2)" --at 3
