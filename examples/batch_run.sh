#!/usr/bin/env bash
# Many expressions in one process: plain lines share --at, NDJSON lines carry their own point.
# A bad line becomes an error document in its place, and the batch goes on (exit code 1).
# expect: line 3: error (parse): unknown function 'sinn'; did you mean 'sin'?
set -uo pipefail
printf '%s\n' \
    '(2x+1)^2' \
    '{"expression": "sin(x^2)", "at": {"x": 1.5}}' \
    'sinn(x)' |
    chainrule batch --at 3 |
    python3 -c '
import json, sys
for line in sys.stdin:
    doc = json.loads(line)
    error = doc.get("error")
    if error:
        print("line {}: error ({}): {}".format(doc["line"], error["kind"], error["message"]))
    else:
        print("line {}: d/dx {} at {} = {}".format(doc["line"], doc["input"], doc["point"], doc["derivative"]["value"]))
'
echo "exit code of the batch: ${PIPESTATUS[1]}"
