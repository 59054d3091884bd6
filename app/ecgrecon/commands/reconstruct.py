"""``ecgrecon reconstruct IN --inputs I,II,V2 -o OUT.hea``: 12-lead file + metrics sidecar."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import InputError
from ..inference import reconstruct
from ..io import read_recording, write_recording
from ..io.common import atomic_write
from ..modelcard import load_zoo


def add_parser(sub) -> None:
    p = sub.add_parser("reconstruct", help="rebuild the 12-lead ECG from three leads")
    p.add_argument("input")
    p.add_argument("--inputs", help="the three measured leads, e.g. I,II,V2 (default: the model's)")
    p.add_argument("--arch", choices=["ensemble", "conv", "temporal", "linear"],
                   help="architecture (default: the configuration's default model)")
    p.add_argument("--model", help="model id (see `ecgrecon models`); overrides --inputs/--arch choice")
    p.add_argument("-o", "--output", required=True, help="output file: .hea (WFDB), .csv, .edf or .npz")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("--threads", type=int, default=1, help="onnxruntime threads (default 1)")
    p.add_argument("--fs", type=float, help="sampling rate for CSV input without a time column")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.set_defaults(func=run)


def parse_inputs(text: str | None) -> tuple[str, ...] | None:
    if not text:
        return None
    from ..leads import canonical_lead

    leads = tuple(canonical_lead(x) for x in text.split(",") if x.strip())
    if len(leads) != 3 or len(set(leads)) != 3:
        raise InputError(f"--inputs needs three different leads, got {text!r}")
    return leads


def choose_model(zoo, inputs: tuple[str, ...] | None, arch: str | None, model_id: str | None, leads):
    if model_id:
        return zoo.get(model_id)
    if inputs is None:
        fits = zoo.compatible(leads)
        if not fits:
            raise InputError(f"no model fits this recording's leads ({', '.join(leads)}); give --inputs")
        if len({c.input_leads for c in fits}) > 1:
            opts = "; ".join(sorted({",".join(c.input_leads) for c in fits}))
            raise InputError(f"several input sets fit ({opts}); choose one with --inputs")
        inputs = fits[0].input_leads
    return zoo.default_for(inputs, arch)


def sidecar_path(out: Path) -> Path:
    return out.with_name(out.stem + ".metrics.json")


def run(args: argparse.Namespace) -> int:
    rec = read_recording(args.input, fs=args.fs)
    zoo = load_zoo()
    card = choose_model(zoo, parse_inputs(args.inputs), args.arch, args.model, rec.leads)
    show = sys.stderr.isatty() and rec.duration > 120

    def progress(f: float) -> None:
        if show:
            print(f"\r{f * 100:5.1f}%", end="", file=sys.stderr, flush=True)

    res = reconstruct(rec, card, zoo=zoo, threads=args.threads, progress=progress)
    if show:
        print(file=sys.stderr)
    out = Path(args.output)
    write_recording(res.result, out, overwrite=args.force, protect=(args.input,))
    side = {
        "input_file": str(args.input), "output_file": str(out), "model": card.id, "model_version": card.version,
        "architecture": card.architecture, "measured_leads": list(card.input_leads),
        "roles": {n: r.value for n, r in res.roles.items()},
        "ground_truth": res.metrics is not None,
        "metrics_note": res.notes[0] if res.notes else "no ground truth in the input file",
        **(res.metrics.to_dict() if res.metrics else {"summary": None, "leads": []}),
    }
    sc = sidecar_path(out)
    atomic_write(sc, lambda tmp: tmp.write_text(json.dumps(side, indent=2, allow_nan=True)))
    if args.json:
        print(json.dumps(side, indent=2))
        return 0
    print(f"wrote {out} (12 leads, model {card.id} v{card.version}, measured {','.join(card.input_leads)})")
    print(f"wrote {sc}")
    if res.metrics:
        s = res.metrics.summary()
        print(f"reconstructed leads: median R {s['reconstructed']['median_r']:.3f}, "
              f"median RMSE {s['reconstructed']['median_rmse_uv']:.0f} uV  (all 12: median R "
              f"{s['all_12']['median_r']:.3f})")
        for m in res.metrics.leads:
            print(f"  {m.lead:<4} {m.role:<14} R {m.r:6.3f}  RMSE {m.rmse_uv:6.1f} uV")
    else:
        print("no ground truth in the input: nothing to compare against")
    return 0
