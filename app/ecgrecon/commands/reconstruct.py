"""``ecgrecon reconstruct IN --inputs I,II,V2 -o OUT.hea``: 12-lead file + metrics sidecar."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import pipeline
from ..batch import run_with_store
from ..discovery import discover
from ..errors import EcgReconError, InputError
from ..io import write_recording
from ..io.common import atomic_write
from ..io.wfdb_blocks import open_recording, write_wfdb_blocks
from ..measurements import measure_pair
from ..modelcard import load_zoo
from ..pipeline import parse_inputs  # noqa: F401  (re-exported for callers of this command module)
from .batchargs import add_batch_args, model_path, workers_of


def add_parser(sub) -> None:
    p = sub.add_parser("reconstruct", help="rebuild the 12-lead ECG from three leads")
    p.add_argument("input", nargs="+", help="one or more recordings")
    p.add_argument("--inputs", help="the three measured leads, e.g. I,II,V2, bipolar electrode pairs of a body "
                   "surface map, e.g. E-S,A-S,A-I, or a configuration name (EASI) (default: the model's)")
    p.add_argument("--bspm-layout", help="electrode layout of a body surface map input (name or .json; "
                   "default: detected from the channel names)")
    p.add_argument("--arch", choices=["ensemble", "conv", "temporal", "linear"],
                   help="architecture (default: the configuration's default model)")
    p.add_argument("--model", help="model id (see `ecgrecon models`); overrides --inputs/--arch choice")
    add_patient_args(p)
    p.add_argument("-o", "--output", required=True,
                   help="output file (.hea WFDB, .csv, .edf, .npz) for one input, or a folder for many")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("--threads", type=int, default=1, help="onnxruntime threads (default 1)")
    p.add_argument("--fs", type=float, help="sampling rate for CSV input without a time column")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    add_span_args(p)
    add_batch_args(p, table=False)
    p.set_defaults(func=run)


def add_span_args(p, start_help: str = "first second to reconstruct (default 0)") -> None:
    p.add_argument("--start", type=float, default=0.0, help=start_help)
    p.add_argument("--duration", type=float, default=None,
                   help="seconds to reconstruct from --start (default: to the end); only this span, plus the "
                        "margin the network and the filters need, is read and computed")


def add_patient_args(p) -> None:
    p.add_argument("--patient", metavar="PACK_DIR",
                   help="patient pack from `ecgrecon calibrate` (overrides --model/--arch; inputs from the pack)")
    p.add_argument("--force-patient", action="store_true",
                   help="use the pack even though the recording names another patient")


def plan_for(args, rec, zoo=None):
    """The pipeline plan for one file from the shared options (--inputs, --arch, --model, --patient)."""
    zoo = zoo or load_zoo()
    layout = getattr(args, "bspm_layout", None)
    p = pipeline.plan(rec, inputs=pipeline.parse_inputs(getattr(args, "inputs", None), layout, zoo),
                      arch=getattr(args, "arch", None), model_id=getattr(args, "model", None),
                      patient=getattr(args, "patient", None), force_patient=getattr(args, "force_patient", False),
                      zoo=zoo, threads=getattr(args, "threads", 1) or 1, start_s=getattr(args, "start", 0.0) or 0.0,
                      duration_s=getattr(args, "duration", None))
    for note in p.notes:
        print(f"note: {note}", file=sys.stderr)
    return p


def _run_streaming(args, plan, out: Path, progress, show) -> int:
    card = plan.model
    if out.suffix.lower() != ".hea":
        raise InputError(f"{plan.duration / 3600:.1f} h to reconstruct; write it as WFDB (.hea), "
                         "which is streamed to disk", out)
    pipeline.guard_output(out, [args.input], args.force, companions=(".dat",), extra=(sidecar_path(out),))
    res = pipeline.run(plan, pipeline.WfdbStreamSink(out), progress=progress)
    if show:
        print(file=sys.stderr)
    tm = card.trust
    side = {"input_file": str(args.input), "output_file": str(out), "model": card.id,
            "model_version": card.version, "architecture": card.architecture,
            "measured_leads": list(card.input_leads), "model_note": plan.length_note or None,
            "span_s": span_of(plan), "roles": {n: r.value for n, r in res.roles.items()},
            "ground_truth": res.metrics is not None,
            "metrics_note": res.metrics_note or "no ground truth in the input file",
            "summary": res.metrics.summary() if res.metrics else None,
            "leads": [{"lead": n, "role": r.value, **_stream_scores(res, n), **(res.trust or {}).get(n, {})}
                      for n, r in res.roles.items()],
            "trust": None if res.trust is None else {
                "threshold": tm.threshold if tm else None, "per_block": True,
                "low_confidence_leads": [n for n, t in res.trust.items() if t["low_confidence"]],
                "meaning": "streamed recording: expected R per lead for each minute (from its first 10 s, the "
                           "length the trust model was fitted on); median, 10th percentile and the share of "
                           "minutes below the threshold; low_confidence: the median is below it"},
            "measurements": None,
            "measurements_note": "not computed for streamed recordings; `ecgrecon reconstruct IN --start S "
                                 "--duration 10 -o strip.hea` gives a strip with its measurements"}
    sc = sidecar_path(out)
    atomic_write(sc, lambda tmp: tmp.write_text(json.dumps(side, indent=2)))
    print(f"wrote {out} (12 leads, {plan.duration / 3600:.2f} h, streamed; model {card.id} v{card.version}, "
          f"measured {','.join(card.input_leads)})")
    print(f"wrote {sc}")
    if res.metrics:
        s = res.metrics.summary()["reconstructed"]
        print(f"reconstructed leads against the file's own: median over minutes of R {s['median_r']:.3f}, "
              f"RMSE {s['median_rmse_uv']:.0f} uV")
    low = (side["trust"] or {}).get("low_confidence_leads")
    if low:
        print(f"LOW CONFIDENCE for most of the recording (do not read clinically): {', '.join(low)}")
    return 0


def _stream_scores(res, lead: str) -> dict:
    """A streamed lead's R/RMSE (medians over minutes) and share of minutes below R 0.8, when compared."""
    m = {x.lead: x for x in res.metrics.leads} if res.metrics else {}
    if lead not in m:
        return {}
    return {"r": m[lead].r, "rmse_uv": m[lead].rmse_uv, "share_of_minutes_r_below_0_8": res.share_low_r[lead]}


def span_of(plan) -> dict | None:
    """The reconstructed span in seconds, when it is not the whole recording."""
    a, b = plan.span
    if (a, b) == (0, plan.recording.n_samples):
        return None
    return {"start": a / plan.recording.fs, "duration": (b - a) / plan.recording.fs}


def sidecar_path(out: Path) -> Path:
    return out.with_name(out.stem + ".metrics.json")


@dataclass(frozen=True)
class ReconJob:
    """One input -> one output, with the command's options; plain so it can travel to a Dask worker."""

    path: str
    output: str
    options: tuple  # sorted (name, value) pairs of the command's options
    model_path: str = ""


def output_complete(out: Path) -> bool:
    """An earlier run finished this output: outputs are written atomically and the sidecar last."""
    sc = sidecar_path(out)
    if not (out.exists() and sc.exists()) or (out.suffix.lower() == ".hea" and not out.with_suffix(".dat").exists()):
        return False
    try:
        return json.loads(sc.read_text()).get("output_file") == str(out)
    except (OSError, ValueError):
        return False


def reconstruct_record(job: ReconJob) -> dict:
    """Run one input in a worker; what it would have printed comes back as text."""
    import contextlib
    import io

    from ..batch import worker_zoo

    worker_zoo(job.model_path)
    args = argparse.Namespace(**dict(job.options))
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            run_one(args, job.path, Path(job.output))
    except EcgReconError as e:
        return {"error": str(e), "text": buf.getvalue()}
    return {"output": job.output, "text": buf.getvalue()}


def run(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if len(args.input) == 1 and not out.is_dir() and not Path(args.input[0]).is_dir():
        return run_one(args, args.input[0], out)
    # many inputs (or a folder): OUT is a folder, one <record>.hea each; a failure is reported and the rest go on
    if not out.is_dir():
        raise InputError("with several inputs or a folder, -o must be an existing folder", out)
    found = discover(args.input)
    for note in found.notes:
        print(f"note: {note}", file=sys.stderr)
    opts = tuple(sorted((k, v) for k, v in vars(args).items() if k not in ("func", "input", "output")))
    jobs, skipped = [], 0
    for src in found.records:
        target = out / (src.stem + ".hea")
        if args.resume and output_complete(target):
            skipped += 1
            continue
        job_opts = opts
        if args.resume and target.exists():  # an earlier run's unfinished output: redo it (inputs stay guarded)
            job_opts = tuple((k, True if k == "force" else v) for k, v in opts)
        jobs.append(ReconJob(str(src), str(target), job_opts, model_path()))
    if skipped:
        print(f"resuming: {skipped} of {len(found.records)} outputs already complete", file=sys.stderr)
    failed = 0

    def show(_i, _job, res) -> None:
        nonlocal failed
        if res.get("text"):
            print(res["text"], end="", flush=True)
        if "error" in res:
            failed += 1
            print(f"ecgrecon: error: {res['error']}", file=sys.stderr)

    run_with_store(reconstruct_record, jobs, workers=workers_of(args), scheduler=args.scheduler,
                   label="reconstruct", on_result=show)
    n = len(found.records)
    print(f"{n - failed} of {n} recordings reconstructed into {out}" + (f"; {failed} failed" if failed else "")
          + (f" ({skipped} already complete)" if skipped else ""))
    return 2 if failed else 0


def run_one(args: argparse.Namespace, src: str, out: Path) -> int:
    args = argparse.Namespace(**{**vars(args), "input": src, "output": str(out)})
    rec = open_recording(args.input, fs=args.fs, layout=getattr(args, "bspm_layout", None))
    plan = plan_for(args, rec)
    rec, card = plan.recording, plan.model
    show = sys.stderr.isatty() and plan.duration > 120

    def progress(f: float) -> None:
        if show:
            print(f"\r{f * 100:5.1f}%", end="", file=sys.stderr, flush=True)

    if plan.streamed and out.suffix.lower() == ".hea":
        return _run_streaming(args, plan, out, progress, show)
    pipeline.guard_output(out, [args.input], args.force, companions=(".dat",) if out.suffix == ".hea" else (),
                          extra=(sidecar_path(out),))
    res = pipeline.run(plan, progress=progress)
    if show:
        print(file=sys.stderr)
    if out.suffix.lower() != ".hea" or not write_wfdb_blocks(res.result, out):  # (guarded above)
        write_recording(res.result, out, overwrite=args.force, protect=(args.input,))
    from ..inference import calibration_words

    side = {
        "input_file": str(args.input), "output_file": str(out), "model": card.id, "model_version": card.version,
        "architecture": card.architecture, "measured_leads": list(card.input_leads),
        "model_note": plan.length_note or None, "span_s": span_of(plan),
        "patient_calibration": calibration_words(card) or None,
        "patient_pack": (card.raw.get("personal") or None) and {
            k: card.raw["personal"][k] for k in ("patient_id", "source_record", "date", "base_model")},
        "roles": {n: r.value for n, r in res.roles.items()},
        "ground_truth": res.metrics is not None,
        "metrics_note": res.notes[0] if res.notes else "no ground truth in the input file",
        "summary": res.metrics.summary() if res.metrics else None,
        "leads": lead_rows(res),
        "trust": trust_block(res),
        "measurements": measure_pair(res.result, res.truth),
    }
    sc = sidecar_path(out)
    atomic_write(sc, lambda tmp: tmp.write_text(json.dumps(side, indent=2, allow_nan=True)))
    if args.json:
        print(json.dumps(side, indent=2))
        return 0
    calib = calibration_words(card)
    print(f"wrote {out} (12 leads, model {card.id} v{card.version}{', ' + calib if calib else ''}, "
          f"measured {','.join(card.input_leads)})")
    print(f"wrote {sc}")
    if res.metrics:
        s = res.metrics.summary()
        print(f"reconstructed leads: median R {s['reconstructed']['median_r']:.3f}, "
              f"median RMSE {s['reconstructed']['median_rmse_uv']:.0f} uV  (all 12: median R "
              f"{s['all_12']['median_r']:.3f})")
        for m in res.metrics.leads:
            lt = (res.trust or {}).get(m.lead)
            print(f"  {m.lead:<4} {m.role:<14} R {m.r:6.3f}  RMSE {m.rmse_uv:6.1f} uV"
                  + (f"  {lt.words()}" if lt else ""))
    else:
        print("no ground truth in the input: nothing to compare against")
        for n, lt in (res.trust or {}).items():
            print(f"  {n:<4} reconstructed  {lt.words()}")
    print_measurements(side["measurements"])
    if res.low_confidence_leads():
        print(f"LOW CONFIDENCE (do not read clinically): {', '.join(res.low_confidence_leads())}")
    return 0


def print_measurements(block: dict) -> None:
    """One line of the clinical figures, with reconstruction - truth when there is a truth."""
    keys = (("heart_rate_bpm", "HR", "bpm"), ("pr_ms", "PR", "ms"), ("qrs_ms", "QRS", "ms"), ("qt_ms", "QT", "ms"),
            ("qtc_bazett_ms", "QTcB", "ms"), ("qrs_axis_deg", "QRS axis", "deg"))
    rec, diff = block["reconstruction"]["global"], (block["difference"] or {}).get("global", {})
    dep = block["reconstruction"]["depends_on_reconstructed"]
    parts = []
    for k, label, unit in keys:
        v = rec.get(k)
        if v is None:
            parts.append(f"{label} -")
            continue
        d = diff.get(k)
        parts.append(f"{label} {v:.0f}{'*' if dep.get(f'global.{k}') else ''} {unit}"
                     + (f" ({d:+.0f})" if d is not None else ""))
    print("measurements: " + ", ".join(parts) + ("  (reconstruction - truth in brackets)" if diff else "")
          + ("; * uses reconstructed leads" if any(dep.values()) else ""))


def lead_rows(res) -> list[dict]:
    """Sidecar ``leads``: every lead's role, R/RMSE when there is a truth, expected_r/low_confidence when
    the model has a trust signal (reconstructed leads only)."""
    metrics = {m.lead: m for m in res.metrics.leads} if res.metrics else {}
    rows = []
    for n, role in res.roles.items():
        row: dict = {"lead": n, "role": role.value}
        if n in metrics:
            row.update(r=metrics[n].r, rmse_uv=metrics[n].rmse_uv)
        lt = (res.trust or {}).get(n)
        if lt is not None:
            row.update(expected_r=lt.expected_r, low_confidence=lt.low_confidence)
            if lt.basis:
                row["expected_r_from"] = lt.basis
        rows.append(row)
    return rows


def trust_block(res) -> dict | None:
    tm = res.model.trust
    if tm is None or res.trust is None:
        return None
    return {"threshold": tm.threshold, "fitted_on": tm.fitted_on,
            "low_confidence_leads": list(res.low_confidence_leads()),
            "meaning": "expected_r: the model's estimate of Pearson R against the recorded lead, learned on "
                       "databases the model was not trained on; low_confidence: below the threshold, do not read "
                       "clinically"}
