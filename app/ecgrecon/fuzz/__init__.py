"""Mutation fuzzing of the readers (issue 16). Qt-free.

:mod:`.corpus` builds seed records from resources/samples and mutates them; :mod:`.runner` reads each case
in a forked child with a time and memory limit and classifies the outcome; ``python -m ecgrecon.fuzz`` (or
``make fuzz``) runs it for every reader and prints the figures that docs/robustness.md reports.
"""

from __future__ import annotations

from collections import Counter

FAILURES = ("uncaught", "hang", "crash", "bigalloc", "invariant", "bad_message")


def summarize(outcomes) -> list[dict]:
    """One row per reader, in the order met: counts per outcome kind, catch-all refusals, stderr, slowest."""
    order: list[str] = []
    for o in outcomes:
        if o.reader not in order:
            order.append(o.reader)
    rows = []
    for r in order:
        mine = [o for o in outcomes if o.reader == r]
        c = Counter(o.kind for o in mine)
        row = {"reader": r, "n": len(mine), "accepted": c["accepted"], "refused": c["refused"],
               "generic": sum(o.generic for o in mine), "stderr": sum(bool(o.stderr.strip()) for o in mine),
               "max_s": round(max((o.seconds for o in mine), default=0.0), 1),
               "hang_finished_on_rerun": sum(o.kind == "hang" and o.rerun_s is not None for o in mine)}
        row.update({k: c[k] for k in FAILURES})
        rows.append(row)
    return rows
