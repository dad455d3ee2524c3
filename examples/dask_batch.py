"""batch's work on Dask: the per-line function on a cluster, the output of `chainrule batch`.

Here the cluster is a LocalCluster of two worker processes on this machine; on a real
cluster, give Client the scheduler's address.  Needs `pip install "chainrule[dask]"`.

expect: {"line":1,"schema":"chainrule.diff/1"
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import dask.bag as db
from dask.distributed import Client, LocalCluster

from chainrule.batch import Settings, result_line

ANSWERS = ["(2x+1)^2", "sin(x^2)", '{"expression": "exp(2x)", "at": {"x": 0.5}}', "sinn(x)", "", "x^3"]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "answers.txt")
        path.write_text("\n".join(ANSWERS) + "\n", encoding="utf-8")
        settings = Settings.of(at="3", timeout=5)  # as `chainrule batch answers.txt --at 3 --timeout 5`
        with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster):
            with path.open("rb") as lines:
                numbered = db.from_sequence(enumerate(lines, start=1), npartitions=2)
            results = numbered.starmap(result_line, settings=settings).compute()  # in input order
    for line in results:
        doc = json.loads(line)
        shown = {"line": doc["line"], "schema": doc.get("schema")}
        if "derivative" in doc:
            shown["value"] = doc["derivative"]["value"]
        if "error" in doc:
            shown["error"] = doc["error"]["kind"]
        if "skipped" in doc:
            shown["skipped"] = doc["skipped"]
        print(json.dumps(shown, separators=(",", ":")))


if __name__ == "__main__":
    main()
