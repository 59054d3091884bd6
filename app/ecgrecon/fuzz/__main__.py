"""Mutation fuzzing of every reader: ``python -m ecgrecon.fuzz --n 10000`` (``make fuzz``).

Prints one row per reader (inputs, accepted, refused, of those by the catch-all, and the failures that
must stay at zero: uncaught exceptions, hangs over the limit, native crashes, allocations over 2 GiB,
accepted recordings breaking the invariants, error messages that are not one line naming the file) and
writes the figures and every failing case's mutations to ``--out`` (JSON). ``--keep DIR`` keeps each failing
case's files for reproduction.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from . import summarize
from .corpus import READERS


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ecgrecon.fuzz", description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000, help="mutated inputs per reader (default 10000)")
    ap.add_argument("--readers", default=",".join(READERS), help=f"comma-separated subset of {','.join(READERS)}")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds before a read counts as a hang")
    ap.add_argument("--jobs", type=int, default=1, help="parallel processes (each forks one child per input)")
    ap.add_argument("--out", default="fuzz-report.json")
    ap.add_argument("--keep", default=None, help="folder to keep failing cases in")
    ap.add_argument("--work", default=None, help="scratch folder (default: a temporary one)")
    ap.add_argument("--log", default=None, help="append each outcome to this JSON-lines file as it comes")
    ap.add_argument("--summarize", default=None, metavar="LOG", help="only print the figures of a --log file")
    a = ap.parse_args(argv)
    if a.summarize:
        from .runner import Outcome

        outs = [Outcome(**json.loads(line)) for line in Path(a.summarize).read_text().splitlines() if line.strip()]
        print(table(summarize(outs)))
        print(f"{len(outs)} inputs")
        return 0
    readers = [r.strip() for r in a.readers.split(",") if r.strip()]
    unknown = set(readers) - set(READERS)
    if unknown:
        ap.error(f"unknown reader(s) {', '.join(sorted(unknown))}")
    for f in (a.out, a.log):
        if f:
            Path(f).parent.mkdir(parents=True, exist_ok=True)
    if a.log:
        Path(a.log).write_text("")  # this run's outcomes only
    with tempfile.TemporaryDirectory(prefix="ecgrecon-fuzz-") as tmp:
        work = Path(a.work or tmp)
        t0 = time.monotonic()
        outcomes = run_all(readers, a.n, work, seed=a.seed, timeout_s=a.timeout, jobs=a.jobs,
                           keep=Path(a.keep) if a.keep else None, progress=True,
                           log=Path(a.log) if a.log else None)
        took = time.monotonic() - t0
    rows = summarize(outcomes)
    print(table(rows))
    failures = [asdict(o) for o in outcomes if o.kind not in ("accepted", "refused")]
    Path(a.out).write_text(json.dumps({"n_per_reader": a.n, "seed": a.seed, "timeout_s": a.timeout,
                                       "seconds": round(took, 1), "rows": rows, "failures": failures}, indent=1))
    print(f"{len(outcomes)} inputs in {took:.0f} s; figures and failing cases in {a.out}")
    bad = sum(r[k] for r in rows for k in ("uncaught", "hang", "crash", "bigalloc", "invariant", "bad_message"))
    return 1 if bad else 0


def run_all(readers: list[str], n: int, work: Path, *, seed: int = 0, timeout_s: float = 5.0, jobs: int = 1,
            keep: Path | None = None, progress: bool = False, log: Path | None = None):
    from ..io import read_recording
    from ..paths import samples_dir
    from .corpus import seeds

    work.mkdir(parents=True, exist_ok=True)
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    base = seeds(samples_dir(), work / "seeds")
    for r in readers:  # import each reader's parser once here, so every forked child starts with it
        for c in base[r]:
            try:
                read_recording(work / "seeds" / c.target)
            except Exception:  # noqa: BLE001 - a seed not written to the seeds folder (in-memory): fine
                pass
    # chunks taken round-robin over the readers: a run stopped early still has every reader at about the same n
    step = 100
    tasks = [(r, range(k, min(n, k + step))) for k in range(0, n, step) for r in readers]
    outcomes = []
    t0, done, total = time.monotonic(), 0, n * len(readers)
    args = [(r, base[r], idx, work, seed, timeout_s, keep, log) for r, idx in tasks]
    if jobs <= 1:
        parts = map(_task, args)
    else:
        ctx = multiprocessing.get_context("fork")  # this driver has no threads of its own; children start warm
        pool = ctx.Pool(jobs)
        parts = pool.imap_unordered(_task, args)
    for part in parts:
        outcomes += part
        done += len(part)
        if progress:
            print(f"fuzz: {done}/{total} inputs, {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
    if jobs > 1:
        pool.close()
        pool.join()
    outcomes.sort(key=lambda o: (readers.index(o.reader), o.index))
    return outcomes


def _task(args):
    from .runner import run_reader

    r, seeds, idx, work, seed, timeout_s, keep, log = args
    outs = run_reader(r, seeds, idx, work, seed=seed, timeout_s=timeout_s, keep=keep)
    if log is not None:  # outcomes as they come: a run stopped early can still be summarized (--summarize)
        with open(log, "a") as fh:
            fh.write("".join(json.dumps(asdict(o)) + "\n" for o in outs))
    return outs


def table(rows: list[dict]) -> str:
    cols = ["reader", "n", "accepted", "refused", "generic", "uncaught", "hang", "crash", "bigalloc", "invariant",
            "bad_message", "stderr", "max_s"]
    head = ("| reader | inputs | accepted | refused | (catch-all) | uncaught | hangs > limit | native crashes | "
            "allocations > 2 GiB | invariant violations | not one line | stderr output | slowest s |")
    lines = [head, "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(str(r[c]) for c in cols) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())



