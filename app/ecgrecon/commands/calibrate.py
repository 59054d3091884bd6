"""``ecgrecon calibrate FILE --inputs I,II,V3 -o PACK_DIR``: a patient model from the patient's own 12-lead."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..calibration import MIN_SECONDS, calibrate
from ..errors import InputError
from ..io import read_recording
from ..modelcard import load_zoo
from ..pipeline import parse_inputs


def add_parser(sub) -> None:
    p = sub.add_parser("calibrate", help="fit a patient model from the patient's 12-lead ECG (a patient pack)")
    p.add_argument("input", help=f"the patient's 12-lead recording (any supported format, at least {MIN_SECONDS:g} s)")
    p.add_argument("--inputs", help="the three leads the patch/wearable will record, e.g. I,II,V3")
    p.add_argument("--base", help="universal model to calibrate (default: the configuration's default model)")
    p.add_argument("--patient-id", help="patient id to store in the pack (default: from the file, else its name)")
    p.add_argument("-o", "--output", required=True, help="pack folder to create (nothing is written elsewhere)")
    p.add_argument("--force", action="store_true", help="replace an existing pack folder")
    p.add_argument("--fs", type=float, help="sampling rate for CSV input without a time column")
    p.add_argument("--json", action="store_true", help="print the pack's card as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    zoo = load_zoo()
    out = Path(args.output)
    src = Path(args.input)
    if out.resolve() == src.resolve() or src.resolve().is_relative_to(out.resolve()):
        raise InputError("the pack folder would contain or replace the input file; choose another folder", out)
    rec = read_recording(src, fs=args.fs)
    if args.base:
        base = zoo.get(args.base)
    else:
        inputs = parse_inputs(args.inputs)
        if inputs is None:
            raise InputError("choose the three leads the wearable will record with --inputs, e.g. I,II,V3")
        base = zoo.default_for(inputs)
    if args.inputs and set(parse_inputs(args.inputs) or ()) != set(base.input_leads):
        raise InputError(f"--base {base.id} takes {','.join(base.input_leads)}, not {args.inputs}")
    card = calibrate(rec, base, zoo, out, patient_id=args.patient_id, force=args.force)
    p = card.raw["personal"]
    if args.json:
        print(json.dumps(card.raw, indent=1))
        return 0
    print(f"wrote patient pack {out} (model {card.id}, base {base.id}, inputs {','.join(card.input_leads)})")
    print(f"patient {p['patient_id']}, {card.raw['personal']['source_record']}, {p['date']}; fitted on "
          f"{p['fit_seconds']:.1f} s, scored on the last {p['held_out_seconds']:.1f} s (held out):")
    for lead, h in p["held_out"].items():
        print(f"  {lead:<4} R {h['r']:.3f} (universal {h['base_r']:.3f})  RMSE {h['rmse_uv']:5.0f} uV "
              f"(universal {h['base_rmse_uv']:.0f})")
    return 0
