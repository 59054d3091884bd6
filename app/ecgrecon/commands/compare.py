"""``ecgrecon compare IN [--configs EASI I-II-V2 ...] [--json]``: R per configuration x lead."""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass

from ..batch import run_with_store
from ..comparison import compare_configurations
from ..discovery import discover
from ..errors import EcgReconError
from ..io import read_recording
from ..leads import STANDARD_12
from .batchargs import add_batch_args, model_path, workers_of


def add_parser(sub) -> None:
    p = sub.add_parser("compare", help="run several lead configurations on one recording and compare them")
    p.add_argument("input", nargs="+", help="recordings or folders")
    p.add_argument("--configs", nargs="+", metavar="CONFIG",
                   help="configurations by name (EASI, I-II-V2, ...) or inputs (E-S,A-S,A-I); "
                        "default: every installed configuration the recording supports")
    p.add_argument("--arch", choices=["ensemble", "conv", "temporal", "linear"],
                   help="architecture (default: each configuration's default model)")
    p.add_argument("--bspm-layout", help="electrode layout of a body surface map (name or .json; default: detect)")
    p.add_argument("--fs", type=float, help="sampling rate for CSV/.mat input without one")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--patient", metavar="PACK_DIR",
                   help="patient pack: compare the universal model and the patient-calibrated one side by side")
    p.add_argument("--force-patient", action="store_true",
                   help="use the pack even though the recording names another patient")
    add_batch_args(p, table=False)
    p.set_defaults(func=run)


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


@dataclass(frozen=True)
class CompareJob:
    path: str
    options: tuple  # sorted (name, value) pairs of the command's options
    model_path: str = ""


def compare_record(job: CompareJob) -> dict:
    """One recording's comparison (JSON and the printed table) in a worker."""
    import contextlib
    import io

    from ..batch import worker_zoo

    worker_zoo(job.model_path)
    args = argparse.Namespace(**dict(job.options), input=job.path)
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            data = compare_one(args)
    except EcgReconError as e:
        return {"error": str(e)}
    return {"file": job.path, "json": data, "text": buf.getvalue()}


def run(args: argparse.Namespace) -> int:
    found = discover(args.input)
    for note in found.notes:
        print(f"note: {note}", file=sys.stderr)
    if len(found.records) == 1:
        a = argparse.Namespace(**{**vars(args), "input": str(found.records[0])})
        data = compare_one(a)
        if args.json:
            print(json.dumps(data, indent=2))
        return 0
    opts = tuple(sorted((k, v) for k, v in vars(args).items() if k not in ("func", "input")))
    jobs = [CompareJob(str(f), opts, model_path()) for f in found.records]
    res = run_with_store(compare_record, jobs, workers=workers_of(args), scheduler=args.scheduler,
                         label="compare")
    failed = [r["error"] for r in res if "error" in r]
    if args.json:
        print(json.dumps([r["json"] for r in res if "error" not in r], indent=2))
    else:
        for r in res:
            if "error" not in r:
                print(r["text"], end="")
    for e in failed:
        print(f"ecgrecon: error: {e}", file=sys.stderr)
    return 2 if failed else 0


def compare_one(args: argparse.Namespace) -> dict | None:
    """Compare the configurations on one recording; prints the table unless ``args.json``; returns the JSON."""
    rec = read_recording(args.input, fs=args.fs, layout=args.bspm_layout)
    configs = [c for item in (args.configs or []) for c in ([item] if "," in item else item.split())] or None
    if args.patient:
        from ..calibration import load_pack
        from ..comparison import run_configs
        from ..modelcard import ModelZoo, load_zoo

        zoo = load_zoo()
        pack = load_pack(args.patient, zoo)
        zoo = ModelZoo([*zoo.cards, pack], list(zoo.problems))
        base = zoo.get(pack.raw["personal"]["base_model"])
        res = run_configs(rec, [base, pack], zoo, force_patient=args.force_patient)
    else:
        res = compare_configurations(rec, configs, arch=args.arch, layout=args.bspm_layout)
    if args.json:
        out = {"file": str(args.input), "bspm": rec.electrodes is not None,
               "metrics_note": "Pearson R and RMSE after each model's preprocessing on reconstruction and truth alike",
               "configurations": []}
        for c in res:
            d = c.to_dict()
            d["reconstructed_median_r"] = _num(d["reconstructed_median_r"])
            d["reconstructed_median_rmse_uv"] = _num(d["reconstructed_median_rmse_uv"])
            for v in d["leads"].values():
                v["r"], v["rmse_uv"] = _num(v["r"]), _num(v["rmse_uv"])
            out["configurations"].append(d)
        return out
    w = max(12, *(len(c.configuration) for c in res))
    mw = max(20, *(len(c.model) for c in res))
    print(f"{args.input}: R per lead (m = measured input, d = exact from inputs, otherwise reconstructed; "
          "! = low confidence by the model's trust signal)")
    print(f"{'configuration':<{w}} {'model':<{mw}} " + " ".join(f"{n:>7}" for n in STANDARD_12) + "  recon-med")
    for c in res:
        cells = []
        for n in STANDARD_12:
            tag = {"measured": "m", "derived": "d"}.get(c.roles.get(n, ""), "!" if n in c.low_confidence else " ")
            cells.append(f"{c.r.get(n, float('nan')):6.3f}{tag}")
        print(f"{c.configuration:<{w}} {c.model:<{mw}} " + " ".join(cells) + f"  {c.reconstructed_median_r:8.3f}")
    return None
