"""Dataset-scale evaluation: 2 Dask workers against 1 (in-process) on the same records; prints figures.

    python benchmarks/bench_batch.py [--records 324] [--inputs I,II,V3]

Records: LUDB and the multi-database records in ../shared/data (each WFDB record once), the first N.
Each job reports its process's peak resident memory, so memory per worker is measured, not guessed.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "app"))

from ecgrecon.batch import run_with_store  # noqa: E402
from ecgrecon.commands.evaluate import EvalJob, aggregate, evaluate_record  # noqa: E402
from ecgrecon.discovery import discover  # noqa: E402
from ecgrecon.modelcard import load_zoo  # noqa: E402


@dataclass(frozen=True)
class Timed:
    job: EvalJob


def timed_record(t: Timed) -> dict:
    import os

    res = evaluate_record(t.job)
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    res["pid"] = os.getpid()
    return res


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=324)
    ap.add_argument("--inputs", default="I,II,V3")
    a = ap.parse_args()
    data = REPO.parent / "shared" / "data"
    if not (data / "ludb").is_dir():
        print("needs ../shared/data (LUDB and cinc/)")
        return 0
    files = list(discover([data / "ludb" / "data", data / "cinc" / "records"]).records)[: a.records]
    zoo = load_zoo()
    card = zoo.default_for(tuple(a.inputs.split(",")))
    jobs = [Timed(EvalJob(str(f), card.id)) for f in files]
    out = {}
    for workers in (1, 2):
        t0 = time.perf_counter()
        res = run_with_store(timed_record, jobs, workers=workers, scheduler=None, label=f"{workers} worker(s)")
        wall = time.perf_counter() - t0
        summary = aggregate(card, res)
        rss: dict[int, float] = {}
        for r in res:
            rss[r["pid"]] = max(rss.get(r["pid"], 0.0), r.get("peak_rss_mb", 0.0))
        out[workers] = (wall, summary)
        print(f"{workers} worker(s): {len(files)} records in {wall:.1f} s = {len(files) / wall:.2f} records/s; "
              f"peak memory per worker {', '.join(f'{v:.0f} MB' for v in rss.values())}; "
              f"reconstructed median R {summary['summary']['reconstructed']['r']['median']:.4f}", flush=True)
    (w1, s1), (w2, s2) = out[1], out[2]
    # compared as JSON text: a NaN (a flat lead's R) is never == itself, but it prints the same
    same = json.dumps(s1, sort_keys=True, default=str) == json.dumps(s2, sort_keys=True, default=str)
    if not same:
        print("first difference:", _first_difference(s1, s2))
    print(f"2 workers / 1 worker: {w2 / w1:.2f}x the time (target <= 0.7x; includes starting the local cluster); "
          f"summaries identical: {same}")
    return 0


def _first_difference(a, b, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                return f"{path}/{k}: only in one"
            d = _first_difference(a[k], b[k], f"{path}/{k}")
            if d:
                return d
        return ""
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = _first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return ""
    same = json.dumps(a, default=str) == json.dumps(b, default=str)
    return "" if same else f"{path}: {a!r} vs {b!r}"


if __name__ == "__main__":
    raise SystemExit(main())
