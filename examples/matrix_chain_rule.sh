#!/usr/bin/env bash
# The matrix chain rule: the seed's PyTorch network nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
# with a squared error, by shape. Every parameter's gradient has the parameter's shape; the one of W1 is
# δ·xᵀ, where δ = (W2ᵀ·2(ŷ − y)) ⊙ relu′(W1·x + b1) is what reaches the first layer.
# expect: = (W2ᵀ·2(yhat − y) ⊙ relu′(W1·x + b1))·xᵀ
set -euo pipefail
chainrule grad "h = relu(W1 @ x + b1); yhat = W2 @ h + b2; L = sum((yhat - y)^2)" \
    --shape W1=8x4,b1=8,W2=1x8,b2=1,x=4,y=1 --seed 0 --wrt W1,b1,W2,b2
