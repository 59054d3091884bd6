"""``ecgrecon evaluate``: metrics of a model over many records with ground truth.

Figures are pooled over (record, lead) pairs, after the model's preprocessing on
reconstruction and truth alike, exactly as ``models/REPORT.md`` computes them;
with no files given it evaluates the held-out LUDB test subjects, so
``ecgrecon evaluate --all-models`` reproduces the report's figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import pipeline
from ..batch import PartStore, run_with_store
from ..discovery import database_guess, discover
from ..errors import EcgReconError, InputError
from ..evaluation import default_data_dir, load_split
from ..io import read_recording
from ..leads import STANDARD_12
from ..measurements import flat_differences, measure_pair, summarise_agreement
from ..modelcard import load_zoo
from ..results_table import evaluation_rows, write_table
from .batchargs import add_batch_args, model_path, workers_of
from .reconstruct import add_patient_args

GROUPS = ("reconstructed", "derived", "measured")


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="per-lead and summary metrics over many 12-lead records")
    p.add_argument("paths", nargs="*", help="12-lead files or folders (default: the LUDB test subjects)")
    p.add_argument("--inputs", help="the three measured leads, e.g. I,II,V2")
    p.add_argument("--arch", choices=["ensemble", "conv", "temporal", "linear"])
    p.add_argument("--model", help="model id")
    add_patient_args(p)
    p.add_argument("--all-models", action="store_true", help="every installed model, one summary line each")
    p.add_argument("--subjects", default=None,
                   help="LUDB folders only: 'test' (default when no paths), 'all', or ids like 3,10,11")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-measurements", action="store_true", help="skip the clinical measurements (faster)")
    add_batch_args(p)
    p.set_defaults(func=run)


def _files(paths: list[str], subjects: str | None) -> tuple[list[Path], tuple[str, ...]]:
    """Records to evaluate (each WFDB record once) and the notes on what was skipped."""
    if not paths:
        d = default_data_dir()
        if not d.is_dir():
            raise InputError("no files given and LUDB is not at ../shared/data/ludb/data beside the checkout: "
                             "download LUDB v1.0.1 from https://physionet.org/content/ludb/1.0.1/ and put its data/ "
                             "folder there, or set ECGRECON_DATA to the folder holding ludb/", d)
        paths = [str(d)]
        subjects = subjects or "test"
    found = discover(paths)
    out = list(found.records)
    if subjects and subjects != "all":
        keep = set(load_split()["test"]) if subjects == "test" else {int(s) for s in subjects.split(",")}
        out = [f for f in out if f.stem.isdigit() and int(f.stem) in keep]
    if not out:
        raise InputError("no recordings found", ", ".join(paths))
    return out, found.notes


def _stats(vals: list[float]) -> dict:
    v = np.asarray([x for x in vals if np.isfinite(x)], float)
    if not v.size:
        return {"median": None, "q1": None, "q3": None, "n": 0}
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return {"median": float(med), "q1": float(q1), "q3": float(q3), "n": int(v.size)}


@dataclass(frozen=True)
class EvalJob:
    """One record to evaluate; plain and immutable so it can travel to a Dask worker."""

    path: str
    model_id: str
    patient: str | None = None
    force_patient: bool = False
    measure: bool = True
    model_path: str = ""  # ECGRECON_MODEL_PATH the worker should see (extra model folders)


def evaluate_record(job: EvalJob, zoo=None) -> dict:
    """Per-record result (plain dict): per-lead role/R/RMSE/trust and the measurement differences."""
    from ..batch import worker_zoo

    zoo = zoo or worker_zoo(job.model_path)
    try:
        rec = read_recording(job.path)
        if job.patient:
            plan = pipeline.plan(rec, patient=job.patient, force_patient=job.force_patient, zoo=zoo)
        else:
            plan = pipeline.plan(rec, model_id=job.model_id, zoo=zoo)
        res = pipeline.run(plan)
    except EcgReconError as e:
        return {"record": job.path, "skipped": str(e)}
    if res.metrics is None:
        return {"record": job.path, "skipped": f"{job.path}: no ground truth (needs the 12 standard leads)"}
    leads = []
    for m in res.metrics.leads:
        t = (res.trust or {}).get(m.lead)
        # rounded far below any reported digit: numpy's sums can differ in the last bit between processes
        # (array alignment), and the summary must be the same for any number of workers
        leads.append({"lead": m.lead, "role": m.role, "r": _fixed(m.r, 9), "rmse_uv": _fixed(m.rmse_uv, 6),
                      "expected_r": None if t is None else _fixed(t.expected_r, 9),
                      "low_confidence": None if t is None else t.low_confidence})
    out = {"record": job.path, "database": database_guess(job.path), "model": res.model.id, "leads": leads,
           "measurements": None, "measurement_differences": None}
    if job.measure:
        block = measure_pair(res.result, res.truth)
        out["measurements"] = {"reconstruction": block["reconstruction"], "truth": block["truth"]}
        if block["difference"] is not None:
            out["measurement_differences"] = flat_differences(block["difference"])
    return out


def _fixed(x: float, digits: int) -> float:
    return x if x != x else round(float(x), digits)  # NaN (a flat lead) stays NaN


def aggregate(card, results: list[dict]) -> dict:
    """The summary of per-record results (in record order; independent of how they were computed)."""
    ok = [r for r in results if "leads" in r]
    skipped = [r.get("skipped") or r.get("error") for r in results if "leads" not in r]
    if not ok:
        raise InputError("no record could be evaluated: " + "; ".join(str(s) for s in skipped[:3]))
    per_record = {r["record"]: {d["lead"]: d for d in r["leads"]} for r in ok}
    leads = {}
    for n in STANDARD_12:
        rows = [v[n] for v in per_record.values()]
        leads[n] = {"role": rows[0]["role"], "r": _stats([d["r"] for d in rows]),
                    "rmse_uv": _stats([d["rmse_uv"] for d in rows])}
    groups = {}
    for g in GROUPS:
        pairs = [v[n] for v in per_record.values() for n in STANDARD_12 if v[n]["role"] == g]
        groups[g] = {"r": _stats([d["r"] for d in pairs]), "rmse_uv": _stats([d["rmse_uv"] for d in pairs])}
    allp = [v[n] for v in per_record.values() for n in STANDARD_12]
    groups["all_12"] = {"r": _stats([d["r"] for d in allp]), "rmse_uv": _stats([d["rmse_uv"] for d in allp])}
    trust_pairs = [(d["expected_r"], d["r"], d["low_confidence"]) for v in per_record.values() for d in v.values()
                   if d["expected_r"] is not None and d["role"] == "reconstructed"]
    agree = [r["measurement_differences"] for r in ok if r.get("measurement_differences")]
    return {"model": card.id, "model_version": card.version, "n_records": len(per_record),
            "skipped": skipped, "summary": groups, "leads": leads, "trust": _trust_ranking(trust_pairs),
            "measurement_agreement": summarise_agreement(agree, {n: v["role"] for n, v in leads.items()})
            if agree else None,
            "measurement_note": "Bland-Altman of reconstruction - truth per measurement over the records "
                                "(ms, deg, uV): bias, SD, 95 % limits of agreement",
            "note": "pooled over (record, lead) pairs; metrics after the model's preprocessing on both sides"}


def evaluate_files(card, zoo, files: list[Path], *, force_patient: bool = False, measure: bool = True) -> dict:
    """Evaluate ``card`` on ``files`` in this process (training scripts, reports)."""
    patient = str(card.card_path.parent) if card.architecture == "personal" else None
    jobs = [EvalJob(str(f), card.id, patient, force_patient, measure) for f in files]
    return aggregate(card, [evaluate_record(j, zoo) for j in jobs])


def _trust_ranking(pairs: list[tuple[float, float, bool]]) -> dict | None:
    """How well expected_r ranked and flagged the reconstructed leads on these records."""
    if len(pairs) < 3:
        return None
    import numpy as np

    from ..trust import score_flags

    e, r, low = (np.array(v) for v in zip(*pairs, strict=True))
    ok = np.isfinite(r)
    return score_flags(e[ok], r[ok], low[ok])


AGREEMENT_ROWS = (("global.heart_rate_bpm", "heart rate", "bpm"), ("global.pr_ms", "PR", "ms"),
                  ("global.qrs_ms", "QRS", "ms"), ("global.qt_ms", "QT", "ms"),
                  ("global.qtc_bazett_ms", "QTc Bazett", "ms"), ("global.p_axis_deg", "P axis", "deg"),
                  ("global.qrs_axis_deg", "QRS axis", "deg"), ("global.t_axis_deg", "T axis", "deg"),
                  ("reconstructed.st_j_uv", "ST at J, reconstructed leads", "uV"),
                  ("reconstructed.st_j60_uv", "ST at J+60, reconstructed leads", "uV"),
                  ("reconstructed.r_uv", "R amplitude, reconstructed leads", "uV"),
                  ("reconstructed.s_uv", "S depth, reconstructed leads", "uV"),
                  ("voltages.sokolow_lyon_uv", "Sokolow-Lyon", "uV"), ("voltages.cornell_uv", "Cornell", "uV"))


def print_agreement(a: dict | None) -> None:
    if not a:
        return
    print("  measurements, reconstruction - truth (Bland-Altman: bias [95 % limits of agreement], n):")
    for key, label, unit in AGREEMENT_ROWS:
        b = a.get(key)
        if not b or b["loa_low"] is None:
            continue
        print(f"    {label:<34} {b['bias']:+7.1f} [{b['loa_low']:+.1f}, {b['loa_high']:+.1f}] {unit}, n {b['n']}")


def _fmt(s: dict, digits: int = 3) -> str:
    if s["median"] is None:
        return "-"
    return f"{s['median']:.{digits}f} [{s['q1']:.{digits}f}-{s['q3']:.{digits}f}]"


def run(args: argparse.Namespace) -> int:
    zoo = load_zoo()
    files, notes = _files(args.paths, args.subjects)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if args.resume and not args.table:
        raise InputError("--resume needs --table (its .parts folder holds the finished records)")
    if args.all_models:
        from ..comparison import derivable

        first = read_recording(files[0])  # body-surface-map models only where the files are maps
        cards = [c for c in zoo.cards if derivable(first, c.input_leads)]
    elif args.patient:
        from ..calibration import load_pack

        cards = [load_pack(args.patient, zoo)]
    else:
        cards = [pipeline.choose_model(zoo, pipeline.parse_inputs(args.inputs, zoo=zoo), args.arch, args.model,
                                       STANDARD_12) if (args.inputs or args.model) else None]
        if cards[0] is None:
            raise InputError("give --inputs (and optionally --arch) or --model, or --all-models")
    store = PartStore(args.table) if args.table else None
    per_card = []
    for c in cards:
        patient = str(c.card_path.parent) if c.architecture == "personal" else None
        jobs = [EvalJob(str(f), c.id, patient, args.force_patient, not args.no_measurements, model_path())
                for f in files]
        per_card.append(run_with_store(evaluate_record, jobs, workers=workers_of(args), scheduler=args.scheduler,
                                       label=f"evaluate {c.id}", store=store, resume=args.resume))
    results = [aggregate(c, rs) for c, rs in zip(cards, per_card, strict=True)]
    if args.table:
        write_table([row for rs in per_card for r in rs for row in evaluation_rows(r)], args.table)
        print(f"wrote {args.table}", file=sys.stderr)
    if args.json:
        print(json.dumps(results[0] if len(results) == 1 else results, indent=2))
        return 0
    if args.all_models:
        print(f"{len(files)} records; pooled medians [IQR]")
        print(f"{'model':<22} {'recon R':<22} {'recon RMSE uV':<22} {'all-12 R':<10}")
        for r in results:
            s = r["summary"]
            print(f"{r['model']:<22} {_fmt(s['reconstructed']['r']):<22} {_fmt(s['reconstructed']['rmse_uv'], 0):<22} "
                  f"{s['all_12']['r']['median']:.3f}")
        return 0
    r = results[0]
    s = r["summary"]
    print(f"model {r['model']} v{r['model_version']} on {r['n_records']} records ({r['note']})")
    for g in ("reconstructed", "derived", "measured", "all_12"):
        if s[g]["r"]["n"]:
            print(f"  {g:<14} median R {_fmt(s[g]['r'])}  RMSE {_fmt(s[g]['rmse_uv'], 0)} uV")
    print("  per lead (median [IQR]):")
    for n, d in r["leads"].items():
        print(f"    {n:<4} {d['role']:<14} R {_fmt(d['r'])}  RMSE {_fmt(d['rmse_uv'], 0)} uV")
    t = r.get("trust")
    if t:
        bad = t["share_below_0_8_among_unflagged"]
        print(f"  trust signal: Spearman(expected R, R) {t['spearman_expected_vs_true_r']:.2f} over {t['n_leads']} "
              f"leads; {t['share_flagged']:.0%} flagged low confidence; R < 0.8 among unflagged "
              + ("-" if bad is None else f"{bad:.0%}"))
    print_agreement(r.get("measurement_agreement"))
    for sk in r["skipped"]:
        print(f"  skipped: {sk}")
    return 0
