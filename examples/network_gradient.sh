#!/usr/bin/env bash
# The one-hidden-unit network of the lessons: z = w1·x + b1, a = σ(z), ŷ = w2·a + b2, L = ½(ŷ − y)².
# One backward pass gives ∂L/∂w1 = (ŷ − y)·w2·σ′(z)·x and the other three parameters' gradients.
# expect: u1·w2·x·(1 - σ(z))·σ(z)
set -euo pipefail
chainrule grad "z = w1*x + b1; a = sigmoid(z); yhat = w2*a + b2; L = 1/2*(yhat - y)^2" \
    --at w1=0.5,x=1.5,b1=0.1,w2=-0.3,b2=0.2,y=1 --wrt w1,b1,w2,b2
