#!/usr/bin/env bash
# A network of 10,273 parameters as let-bindings, read from standard input ('-'): one backward
# pass gives the loss's gradient with respect to every one of them.  The text view summarizes a
# gradient this large by name (count, norm, largest entries); --full lists it all, --json gives
# every number.
# expect: w2        9,216
set -euo pipefail
python3 "$(dirname "$0")/mlp_network.py" | chainrule grad - --timeout 30
