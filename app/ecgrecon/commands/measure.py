"""``ecgrecon measure FILE [--json]``: heart rate, intervals, axes, ST levels and voltages."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

from ..batch import PartStore, run_with_store
from ..discovery import database_guess, discover
from ..errors import EcgReconError, InputError
from ..io import read_recording
from ..measurements import GLOBAL_KEYS, LABELS, LEAD_KEYS, LONGEST_S, STRIP_S, Measurements, measure, measurement_strip
from ..results_table import measurement_rows, write_table
from .batchargs import add_batch_args, workers_of


def add_parser(sub) -> None:
    p = sub.add_parser("measure", help="heart rate, PR, QRS, QT/QTc, axes, ST levels and voltages")
    p.add_argument("file", nargs="+")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--start", type=float, default=None, help="start of the strip to measure, s")
    p.add_argument("--duration", type=float, default=None,
                   help=f"length of the strip, s (default: the whole file up to {LONGEST_S:g} s, else "
                        f"{STRIP_S:g} s)")
    p.add_argument("--fs", type=float, help="sampling rate for CSV files without a time column")
    add_batch_args(p)
    p.set_defaults(func=run)


def strip(rec, start: float | None, duration: float | None):
    """The part of the recording to measure, and a note when it is not the whole file."""
    if start is not None and not 0 <= start < rec.duration:
        raise InputError(f"--start {start:g} s is outside the recording (0-{rec.duration:.1f} s)", rec.meta.source)
    if duration is not None and duration <= 0:
        raise InputError("--duration must be positive")
    return measurement_strip(rec, start, duration)


def fmt(v, unit: str) -> str:
    return "-" if v is None else f"{v:.0f} {unit}"


def report_lines(m: Measurements) -> list[str]:
    dep = m.dependent_on_reconstructed()
    star = any(dep.values())
    out = []
    for k in GLOBAL_KEYS:
        v = m.values[k]
        unit = "bpm" if k.endswith("bpm") else ("deg" if k.endswith("deg") else "ms")
        mark = "*" if v is not None and dep.get(f"global.{k}") else ""
        why = f"   ({m.reasons[f'global.{k}']})" if v is None and f"global.{k}" in m.reasons else ""
        out.append(f"  {LABELS[k]:<15} {fmt(v, unit) + mark:>9}{why}")
    for k, v in m.voltages.items():
        mark = "*" if v is not None and dep.get(f"voltages.{k}") else ""
        why = f"   ({m.reasons[f'voltages.{k}']})" if v is None and f"voltages.{k}" in m.reasons else ""
        out.append(f"  {LABELS[k]:<15} {'-' if v is None else f'{v / 1000:.2f} mV' + mark:>9}{why}")
    out.append(f"  {'lead':<5} {'role':<14}" + "".join(f"{k:>11}" for k in LEAD_KEYS))
    for n, d in m.leads.items():
        out.append(f"  {n:<5} {m.roles.get(n, ''):<14}" + "".join(
            f"{'-' if d[k] is None else f'{d[k]:.0f}':>11}" for k in LEAD_KEYS))
    out.append(f"  beats: {m.n_beats} found, {m.beats_used} in the median beat; ST against the PR segment, uV; "
               "S as depth below it")
    for note in m.notes:
        out.append(f"  note: {note}")
    if star:
        out.append("  * computed with reconstructed leads")
    return out


@dataclass(frozen=True)
class MeasureJob:
    path: str
    start: float | None = None
    duration: float | None = None
    fs: float | None = None


def measure_record(job: MeasureJob) -> dict:
    """One file's measurements as JSON (in a worker); input errors come back as {"error": ...}."""
    try:
        rec = read_recording(job.path, fs=job.fs)
        part, note = strip(rec, job.start, job.duration)
    except EcgReconError as e:
        return {"error": str(e)}
    m = measure(part)
    d = {"file": job.path, "database": database_guess(job.path), **m.to_json()}
    if note:
        d["notes"] = [note, *d["notes"]]
    d["text"] = "\n".join(report_lines(m))
    return d


def run(args: argparse.Namespace) -> int:
    found = discover(args.file)
    for note in found.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.resume and not args.table:
        raise InputError("--resume needs --table (its .parts folder holds the finished records)")
    jobs = [MeasureJob(str(f), args.start, args.duration, args.fs) for f in found.records]
    if len(jobs) == 1:  # one file: its errors are the command's
        res = [measure_record(jobs[0])]
        if "error" in res[0]:
            raise InputError(res[0]["error"])
    else:
        res = run_with_store(measure_record, jobs, workers=workers_of(args), scheduler=args.scheduler,
                             label="measure", store=PartStore(args.table) if args.table else None,
                             resume=args.resume)
    failed = [r["error"] for r in res if "error" in r]
    ok = [r for r in res if "error" not in r]
    if args.table:
        write_table([row for r in ok for row in measurement_rows(r)], args.table)
        print(f"wrote {args.table}", file=sys.stderr)
    if args.json:
        out = [{k: v for k, v in r.items() if k != "text"} for r in ok]
        print(json.dumps(out[0] if len(out) == 1 and len(jobs) == 1 else out, indent=2, ensure_ascii=False))
    else:
        for r in ok:
            note = next((n for n in r["notes"] if n.startswith("measured on")), None)
            print(r["file"] + (f"  ({note})" if note else ""))
            print(r["text"])
    for e in failed:
        print(f"ecgrecon: error: {e}", file=sys.stderr)
    if any(r["fiducials_ms_from_r"] is None for r in ok):
        print("ecgrecon: some recordings could not be measured (reasons above)", file=sys.stderr)
    return 2 if failed else 0
