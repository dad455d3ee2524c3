#!/usr/bin/env bash
# Softmax with cross-entropy: ∂L/∂z = p − onehot(y), where p = softmax(z). The lesson (--explain) says
# why the softmax's Jacobian and the log cancel; the JSON gives the numbers to compare with PyTorch.
# expect: ∂L/∂z += softmax(z) − onehot(1)
set -euo pipefail
chainrule grad "z = W @ x + b; L = cross_entropy(z, 1)" \
    --at 'W=[[0.5, -1], [1, 0.2], [-0.3, 0.8]], x=[1, 2], b=[0, 0.1, -0.1]' --explain
