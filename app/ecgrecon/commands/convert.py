"""``ecgrecon convert IN OUT``: format chosen by OUT's extension."""

from __future__ import annotations

import argparse

from ..io import read_recording, write_recording


def add_parser(sub) -> None:
    p = sub.add_parser("convert", help="convert between WFDB (.hea), CSV, EDF and .npz")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--fs", type=float, help="sampling rate for CSV input without a time column")
    p.add_argument("--units", help="units of CSV input columns without a unit (default mV)")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rec = read_recording(args.input, fs=args.fs, units=args.units)
    out = write_recording(rec, args.output, overwrite=args.force, protect=(args.input,))
    print(f"wrote {out} ({len(rec.leads)} leads, {rec.fs:g} Hz, {rec.duration:.2f} s)")
    return 0
