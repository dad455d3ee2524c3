#!/usr/bin/env bash
# The one-hidden-unit network: z = w1·x + b1, a = σ(z), ŷ = w2·a + b2, L = ½(ŷ − y)².
# ∂L/∂w1 = (ŷ − y)·w2·σ′(z)·x, written here as one expression.
# expect: agrees
set -euo pipefail
chainrule diff "1/2*(w2*sigmoid(w1*x + b1) + b2 - y)^2" --wrt w1 \
    --at w1=0.5,x=1.5,b1=0.1,w2=-0.3,b2=0.2,y=1
