"""``ecgrecon measure FILE [--json]``: heart rate, intervals, axes, ST levels and voltages."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import InputError
from ..io import read_recording
from ..measurements import GLOBAL_KEYS, LEAD_KEYS, LONGEST_S, STRIP_S, Measurements, measure, measurement_strip

LABELS = {"heart_rate_bpm": "Heart rate", "rr_ms": "RR", "p_ms": "P duration", "pr_ms": "PR", "qrs_ms": "QRS",
          "qt_ms": "QT", "qtc_bazett_ms": "QTc Bazett", "qtc_fridericia_ms": "QTc Fridericia",
          "p_axis_deg": "P axis", "qrs_axis_deg": "QRS axis", "t_axis_deg": "T axis",
          "sokolow_lyon_uv": "Sokolow-Lyon", "cornell_uv": "Cornell"}


def add_parser(sub) -> None:
    p = sub.add_parser("measure", help="heart rate, PR, QRS, QT/QTc, axes, ST levels and voltages")
    p.add_argument("file", nargs="+")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--start", type=float, default=None, help="start of the strip to measure, s")
    p.add_argument("--duration", type=float, default=None,
                   help=f"length of the strip, s (default: the whole file up to {LONGEST_S:g} s, else "
                        f"{STRIP_S:g} s)")
    p.add_argument("--fs", type=float, help="sampling rate for CSV files without a time column")
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


def run(args: argparse.Namespace) -> int:
    results = []
    for f in args.file:
        rec = read_recording(f, fs=args.fs)
        part, note = strip(rec, args.start, args.duration)
        m = measure(part)
        d = {"file": str(f), **m.to_json()}
        if note:
            d["notes"] = [note, *d["notes"]]
        results.append((d, m, note))
    if args.json:
        out = [d for d, _, _ in results]
        print(json.dumps(out[0] if len(out) == 1 else out, indent=2, ensure_ascii=False))
        return 0
    for d, m, note in results:
        print(d["file"] + (f"  ({note})" if note else ""))
        for line in report_lines(m):
            print(line)
    if any(r[1].fiducials is None for r in results):
        print("ecgrecon: some recordings could not be measured (reasons above)", file=sys.stderr)
    return 0
