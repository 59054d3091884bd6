"""``ecgrecon info FILE``: leads, rate, duration, units and quality warnings."""

from __future__ import annotations

import argparse
import json

from ..io import read_recording
from ..quality import check_quality, einthoven_report
from ..recording import Recording


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="describe a recording (leads, rate, duration, units, quality)")
    p.add_argument("file", nargs="+")
    p.add_argument("--fs", type=float, help="sampling rate for CSV files without a time column")
    p.add_argument("--units", help="units of CSV columns without a unit (default mV)")
    p.add_argument("--bspm-layout", help="electrode layout of a body surface map (name or .json; default: detect)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def describe(rec: Recording) -> dict:
    ein = einthoven_report(rec)
    return {
        "file": rec.meta.source,
        "record_id": rec.meta.record_id,
        "leads": list(rec.leads),
        "roles": [r.value for r in rec.roles],
        "reconstruction": None if rec.meta.reconstruction is None else rec.meta.reconstruction.to_dict(),
        "n_leads": len(rec.leads),
        "fs_hz": rec.fs,
        "n_samples": rec.n_samples,
        "duration_s": round(rec.duration, 6),
        "units_in_file": list(rec.meta.units_found),
        "units": "mV",
        "start_time": rec.meta.start_time.isoformat() if rec.meta.start_time else None,
        "patient": rec.meta.patient,
        "einthoven_max_uv": None if ein is None else round(ein, 3),
        "reader_warnings": list(rec.meta.warnings),
        "quality": [q.message for q in check_quality(rec)],
        "electrodes": None if rec.electrodes is None else list(rec.electrodes.names),
        "electrode_reference": None if rec.electrodes is None else rec.electrodes.reference,
        "electrode_layout": None if rec.electrodes is None else rec.electrodes.layout,
        "electrode_reference_in_file": None if rec.electrodes is None else
        rec.meta.provenance.get("bspm_reference_in_file", "unknown"),
    }


def run(args: argparse.Namespace) -> int:
    layout = getattr(args, "bspm_layout", None)
    infos = [describe(read_recording(f, fs=args.fs, units=args.units, layout=layout)) for f in args.file]
    if args.json:
        print(json.dumps(infos[0] if len(infos) == 1 else infos, indent=2, ensure_ascii=False))
        return 0
    for d in infos:
        print(f"{d['file']}")
        print(f"  record     {d['record_id']}")
        print(f"  leads      {d['n_leads']}: {' '.join(d['leads'])}")
        if d["electrodes"]:
            print(f"  electrodes {len(d['electrodes'])} (layout {d['electrode_layout']}; reference in file: "
                  f"{d['electrode_reference_in_file']}, shown against {d['electrode_reference']}); "
                  "the 12 leads are derived from them")
        if any(r != "unknown" for r in d["roles"]):
            print("  roles      " + " ".join(f"{n}={r}" for n, r in zip(d["leads"], d["roles"], strict=True)))
        if d["reconstruction"]:
            p = d["reconstruction"]
            print(f"  model      {p['model_id']} v{p['model_version']} ({p['architecture']}), measured "
                  f"{','.join(p['measured_leads'])}" + (f", {p['patient_calibration']}" if p["patient_calibration"]
                                                         else ""))
        print(f"  rate       {d['fs_hz']:g} Hz")
        print(f"  duration   {d['duration_s']:.3f} s ({d['n_samples']} samples)")
        units = sorted(set(d["units_in_file"]))
        print(f"  units      {', '.join(units) or 'mV'} in file; shown in mV")
        if d["start_time"]:
            print(f"  start      {d['start_time']}")
        if d["patient"]:
            print("  patient    " + ", ".join(f"{k} {v}" for k, v in d["patient"].items()))
        if d["einthoven_max_uv"] is not None:
            print(f"  Einthoven  max |III - (II - I)| = {d['einthoven_max_uv']:.1f} uV")
        for w in d["reader_warnings"]:
            print(f"  warning    {w}")
        for q in d["quality"]:
            print(f"  quality    {q}")
        if not d["quality"] and not d["reader_warnings"]:
            print("  quality    no problems found")
    return 0
