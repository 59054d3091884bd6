"""``ecgrecon evaluate``: metrics of a model over many records with ground truth.

Figures are pooled over (record, lead) pairs, after the model's preprocessing on
reconstruction and truth alike, exactly as ``models/REPORT.md`` computes them;
with no files given it evaluates the held-out LUDB test subjects, so
``ecgrecon evaluate --all-models`` reproduces the report's figures.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from .. import pipeline
from ..errors import EcgReconError, InputError
from ..evaluation import default_data_dir, load_split
from ..io import READ_FORMATS, read_recording
from ..leads import STANDARD_12
from ..measurements import flat_differences, measure_pair, summarise_agreement
from ..modelcard import load_zoo
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
    p.set_defaults(func=run)


def _files(paths: list[str], subjects: str | None) -> list[Path]:
    if not paths:
        d = default_data_dir()
        if not d.is_dir():
            raise InputError("no files given and LUDB is not at ../shared/data/ludb/data beside the checkout: "
                             "download LUDB v1.0.1 from https://physionet.org/content/ludb/1.0.1/ and put its data/ "
                             "folder there, or set ECGRECON_DATA to the folder holding ludb/", d)
        paths = [str(d)]
        subjects = subjects or "test"
    keep: set[int] | None = None
    if subjects and subjects != "all":
        keep = set(load_split()["test"]) if subjects == "test" else {int(s) for s in subjects.split(",")}
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted((f for f in p.iterdir() if f.suffix.lower() in READ_FORMATS and f.suffix.lower() != ".dat"),
                           key=lambda f: (len(f.stem), f.stem))
            if keep is not None:
                found = [f for f in found if f.stem.isdigit() and int(f.stem) in keep]
            out += found
        elif p.exists():
            out.append(p)
        else:
            raise InputError("file not found", p)
    if not out:
        raise InputError("no recordings found", ", ".join(paths))
    return out


def _stats(vals: list[float]) -> dict:
    v = np.asarray([x for x in vals if np.isfinite(x)], float)
    if not v.size:
        return {"median": None, "q1": None, "q3": None, "n": 0}
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return {"median": float(med), "q1": float(q1), "q3": float(q3), "n": int(v.size)}


def evaluate_files(card, zoo, files: list[Path], *, force_patient: bool = False, measure: bool = True) -> dict:
    per_record: dict[str, dict] = {}
    agree: list[dict[str, float]] = []
    skipped: list[str] = []
    trust_pairs: list[tuple[float, float, bool]] = []
    for f in files:
        try:
            rec = read_recording(f)
            if card.architecture == "personal":
                plan = pipeline.plan(rec, patient=card.card_path.parent, force_patient=force_patient, zoo=zoo)
            else:
                plan = pipeline.plan(rec, model_id=card.id, zoo=zoo)
            res = pipeline.run(plan)
        except EcgReconError as e:
            skipped.append(str(e))
            continue
        if res.metrics is None:
            skipped.append(f"{f}: no ground truth (needs the 12 standard leads)")
            continue
        per_record[str(f)] = {m.lead: (m.role, m.r, m.rmse_uv) for m in res.metrics.leads}
        if measure:
            block = measure_pair(res.result, res.truth)
            if block["difference"] is not None:
                agree.append(flat_differences(block["difference"]))
        for m in res.metrics.leads:
            t = (res.trust or {}).get(m.lead)
            if t is not None and m.role == "reconstructed":
                trust_pairs.append((t.expected_r, m.r, t.low_confidence))
    if not per_record:
        raise InputError("no record could be evaluated: " + "; ".join(skipped[:3]))
    leads = {}
    for n in STANDARD_12:
        rows = [v[n] for v in per_record.values()]
        leads[n] = {"role": rows[0][0], "r": _stats([r[1] for r in rows]), "rmse_uv": _stats([r[2] for r in rows])}
    groups = {}
    for g in GROUPS:
        pairs = [v[n] for v in per_record.values() for n in STANDARD_12 if v[n][0] == g]
        groups[g] = {"r": _stats([p[1] for p in pairs]), "rmse_uv": _stats([p[2] for p in pairs])}
    allp = [v[n] for v in per_record.values() for n in STANDARD_12]
    groups["all_12"] = {"r": _stats([p[1] for p in allp]), "rmse_uv": _stats([p[2] for p in allp])}
    return {"model": card.id, "model_version": card.version, "n_records": len(per_record),
            "skipped": skipped, "summary": groups, "leads": leads, "trust": _trust_ranking(trust_pairs),
            "measurement_agreement": summarise_agreement(agree, {n: v["role"] for n, v in leads.items()})
            if agree else None,
            "measurement_note": "Bland-Altman of reconstruction - truth per measurement over the records "
                                "(ms, deg, uV): bias, SD, 95 % limits of agreement",
            "note": "pooled over (record, lead) pairs; metrics after the model's preprocessing on both sides"}


def _trust_ranking(pairs: list[tuple[float, float, bool]]) -> dict | None:
    """How well expected_r ranked and flagged the reconstructed leads on these records."""
    if len(pairs) < 3:
        return None
    import numpy as np

    from ..trust import spearman

    e, r, low = (np.array(v) for v in zip(*pairs, strict=True))
    ok = np.isfinite(r)
    e, r, low = e[ok], r[ok], low[ok].astype(bool)
    return {"n_leads": int(len(r)), "spearman_expected_vs_true_r": spearman(e, r),
            "share_flagged": float(np.mean(low)),
            "share_below_0_8_among_unflagged": float(np.mean(r[~low] < 0.8)) if (~low).any() else None,
            "share_below_0_8_among_flagged": float(np.mean(r[low] < 0.8)) if low.any() else None}


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
    files = _files(args.paths, args.subjects)
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
    results = [evaluate_files(c, zoo, files, force_patient=args.force_patient) for c in cards]
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
