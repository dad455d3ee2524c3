#!/usr/bin/env bash
# The lessons' three-node graph: a = 2, b = 3, c = a·b, d = c + 1, loss = d². d(loss)/da = 42.
# expect: c → a: 14 × ∂c/∂a = b = 3 = 42;  adjoint of a = 42
set -euo pipefail
chainrule grad "c = a*b; d = c + 1; loss = d^2" --at a=2,b=3 --explain
chainrule graph "c = a*b; d = c + 1; loss = d^2" --at a=2,b=3 --format mermaid
