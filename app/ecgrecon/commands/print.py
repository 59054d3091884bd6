"""``ecgrecon print IN [IN ...] --inputs I,II,V2 (-o OUT.pdf | --outdir DIR)``: 12-lead printouts as PDF.

Each input is reconstructed with the chosen model and printed as a standard
12-lead page (vector PDF); ``--measured`` prints a file as it is, without a
model. Qt is imported only when a printout is written.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ..conditioning import FilterSpec
from ..errors import EcgReconError, InputError
from ..leads import canonical_lead
from ..papergrid import LAYOUTS, ORDERS
from ..recording import Role


def add_parser(sub) -> None:
    from .reconstruct import add_patient_args

    p = sub.add_parser("print", help="print a (reconstructed) 12-lead ECG as a vector PDF")
    p.add_argument("input", nargs="+", help="recording file(s): .hea, .csv, .edf, .npz, .mat")
    p.add_argument("--inputs", help="the three measured leads, e.g. I,II,V2 (default: the model's)")
    p.add_argument("--arch", choices=["ensemble", "conv", "temporal", "linear"],
                   help="architecture (default: the configuration's default model)")
    p.add_argument("--model", help="model id (see `ecgrecon models`); overrides --inputs/--arch choice")
    p.add_argument("--bspm-layout", help="electrode layout of a body surface map input (name or .json; "
                   "default: detected from the channel names)")
    add_patient_args(p)
    p.add_argument("--measured", action="store_true",
                   help="print the recording as measured (no reconstruction), e.g. a 12-lead file")
    p.add_argument("--layout", choices=LAYOUTS, default="3x4", help="3x4 with a rhythm strip (default), 6x2, 12x1")
    p.add_argument("--order", choices=ORDERS, default="standard", help="lead order (default standard)")
    p.add_argument("--paper", choices=["a4", "letter"], default="a4")
    p.add_argument("--portrait", action="store_true", help="portrait page (default landscape)")
    p.add_argument("--speed", type=float, default=25.0, help="paper speed in mm/s (default 25)")
    p.add_argument("--gain", type=float, default=10.0, help="gain in mm/mV (default 10)")
    p.add_argument("--rhythm-lead", default="II", help="lead of the 3x4 rhythm strip (default II)")
    p.add_argument("--filters", default="",
                   help="display filters, comma-separated: baseline[HZ] (0.5), notch50|notch60, lowpass[HZ] (40)")
    p.add_argument("--truth-page", choices=["none", "separate", "overlay"], default="none",
                   help="when the file has its own 12 leads: add the recorded ECG as a page, or an overlay page")
    p.add_argument("--start", type=float, default=0.0, help="recording time (s) at the page's left edge")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("-o", "--output", help="output PDF (one input only)")
    out.add_argument("--outdir", help="folder for one PDF per input, named <stem>.pdf")
    p.add_argument("--force", action="store_true", help="replace existing PDFs")
    p.add_argument("--threads", type=int, default=1, help="onnxruntime threads (default 1)")
    p.add_argument("--fs", type=float, help="sampling rate for CSV input without a time column")
    p.set_defaults(func=run)


_FILTER_RE = re.compile(r"(baseline|notch|lowpass)(\d+(?:\.\d+)?)?(?:hz)?")


def parse_filters(text: str | None) -> FilterSpec:
    """``baseline,notch50,lowpass40`` -> FilterSpec; empty or ``none`` -> no filters."""
    spec = {"baseline": None, "notch": None, "lowpass": None}
    default = {"baseline": 0.5, "notch": 50.0, "lowpass": 40.0}
    for tok in (t.strip().lower() for t in (text or "").split(",")):
        if not tok or tok == "none":
            continue
        m = _FILTER_RE.fullmatch(tok.replace(" ", "").replace("=", ""))
        if not m:
            raise InputError(f"unknown filter {tok!r}; use baseline[HZ], notch50, notch60, lowpass[HZ]")
        hz = float(m.group(2)) if m.group(2) else default[m.group(1)]
        if hz <= 0:
            raise InputError(f"filter {tok!r}: frequency must be positive")
        spec[m.group(1)] = hz
    return FilterSpec(baseline_hz=spec["baseline"], notch_hz=spec["notch"], lowpass_hz=spec["lowpass"])


def _targets(args) -> list[tuple[Path, Path]]:
    ins = [Path(f) for f in args.input]
    if args.output:
        if len(ins) > 1:
            raise InputError(f"{len(ins)} input files but one -o; use --outdir DIR for several files")
        out = Path(args.output)
        if out.suffix.lower() != ".pdf":
            raise InputError("printout must be a .pdf file", out)
        return [(ins[0], out)]
    outdir = Path(args.outdir)
    if outdir.exists() and not outdir.is_dir():
        raise InputError("is not a folder", outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    pairs = [(f, outdir / f"{f.stem}.pdf") for f in ins]
    seen: dict[Path, Path] = {}
    for f, o in pairs:
        if o in seen:
            raise InputError(f"{seen[o]} and {f} would both print to {o}; print them separately")
        seen[o] = f
    return pairs


def run(args: argparse.Namespace) -> int:
    from ..printing.pdf import PrintOptions

    if args.measured and (args.inputs or args.model or args.arch):
        raise InputError("--measured prints the file as it is; it takes no --inputs, --model or --arch")
    opts = PrintOptions(layout=args.layout, order=args.order, paper=args.paper, landscape=not args.portrait,
                        speed=args.speed, gain=args.gain, rhythm_lead=canonical_lead(args.rhythm_lead),
                        filters=parse_filters(args.filters), truth_page=args.truth_page, page_start_s=args.start)
    pairs = _targets(args)
    failed = 0
    for src, out in pairs:
        try:
            _print_one(args, src, out, opts)
        except EcgReconError as e:
            if len(pairs) == 1:
                raise
            failed += 1
            print(f"ecgrecon: error: {e}", file=sys.stderr)
    if failed:
        print(f"ecgrecon: {failed} of {len(pairs)} printouts failed", file=sys.stderr)
        return 2
    return 0


def _print_one(args, src: Path, out: Path, opts) -> None:
    from .. import pipeline
    from ..inference import calibration_words
    from ..io import read_recording
    from ..printing.pdf import PrintJob, write_pdf
    from .reconstruct import plan_for

    pipeline.guard_output(out, [src], args.force)  # before the (slow) reconstruction
    if args.measured:
        rec = read_recording(src, fs=args.fs, layout=getattr(args, "bspm_layout", None))
        rec = rec.with_roles({n: Role.MEASURED for n, r in zip(rec.leads, rec.roles, strict=True)
                              if r == Role.UNKNOWN})
        job = PrintJob(rec, opts)
        write_pdf(job, out, overwrite=args.force)
        desc = f"as measured, {len(rec.leads)} leads"
    else:
        from ..io.wfdb_blocks import open_recording
        from ..printing.pdf import print_span

        rec = open_recording(src, fs=args.fs, layout=getattr(args, "bspm_layout", None))
        # only the page (with the filters' and the measurements' margins) is reconstructed, not the recording
        start, duration = print_span(opts)
        plan = plan_for(argparse.Namespace(**{**vars(args), "start": start, "duration": duration}), rec)
        card = plan.model
        job = pipeline.run(plan, pipeline.PdfSink(out, opts, overwrite=args.force))
        calib = calibration_words(card)
        desc = f"model {card.id} v{card.version}{', ' + calib if calib else ''}, measured {','.join(card.input_leads)}"
    print(f"wrote {out} ({len(job)} page{'s' if len(job) > 1 else ''}; {desc})")
    if job.truth_skipped and not args.measured:
        print(f"  note: {src.name} has no 12 measured leads of its own: no {opts.truth_page} truth page")


__all__ = ["add_parser", "run", "parse_filters"]
