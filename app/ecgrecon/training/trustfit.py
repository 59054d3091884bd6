"""Fit the per-lead trust signal and write the external figures into the bundled cards.

    python -m ecgrecon.training.trustfit --config I-II-V3 [--models models]

Reads runs/lodo/external/<config>.json (``lodo external``: fold models scored on the
database each fold held out) and, for every model of the configuration:

- fits the trust model (ecgrecon.trust) on the held-out *development* portions only;
- chooses its low-confidence threshold on leave-one-database-out predictions over those rows;
- scores it on the held-out *test* portions (never used for anything else) and on PTB, which no
  model was trained on, through the app's engine with the bundled model;
- writes ``trust`` and ``metrics_external`` into the card, and the per-record figures behind
  metrics_external into models/external/<config>.json so tests can recompute them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from .. import trust
from ..evaluation import external_summary
from .configs import input_leads, output_leads
from .data import REPO, lead_index
from .databases import FOLD_DATABASES, final_training, load_all, load_db_split, record_path
from .fit import fit_linear

KINDS = {"conv": "conv", "temporal": "temporal", "linear": "linear", "ensemble": "ensemble"}


def _fit_rows(rows: list[dict]) -> tuple:
    F = np.array([r["features"] for r in rows])
    return trust.fit(F, [r["lead"] for r in rows], np.array([r["r"] for r in rows]))


def _predict(model: tuple, rows: list[dict]) -> np.ndarray:
    coef, icpt, mu, sd = model
    tm = trust.TrustModel(tuple(icpt), coef, icpt, mu, sd, 0.0, ((0.0,),), (0.0,))
    return tm.expected_r(np.array([r["features"] for r in rows]), [r["lead"] for r in rows])


def fit_kind(rows: list[dict]) -> dict:
    """Trust model for one model kind: fit on dev rows, threshold from nested LODO, scores on test rows."""
    dev = [r for r in rows if r["portion"] == "dev"]
    test = [r for r in rows if r["portion"] == "test"]
    nested = np.empty(len(dev))
    for db in FOLD_DATABASES:
        idx = [i for i, r in enumerate(dev) if r["database"] == db]
        rest = [r for r in dev if r["database"] != db]
        if idx:
            nested[idx] = _predict(_fit_rows(rest), [dev[i] for i in idx])
    r_dev = np.array([r["r"] for r in dev])
    thr = trust.choose_threshold(nested, r_dev)
    model = _fit_rows(dev)
    exp_test = _predict(model, test)
    return {"model": model, "threshold": thr, "dev_lodo": trust.score(nested, r_dev, thr),
            "test_expected": exp_test}


def external_rows(card, zoo, records: list[str]) -> list[dict]:
    """Rows for records scored through the app's engine with the bundled model (PTB: no model saw it)."""
    from ..inference import reconstruct
    from ..io import read_recording
    from .databases import database_of

    out = []
    for name in records:
        res = reconstruct(read_recording(record_path(name)), card, zoo=zoo)
        for m in res.metrics.leads:
            if m.role != "reconstructed" or m.lead not in card.output_leads:
                continue
            t = res.trust[m.lead] if res.trust else None
            out.append({"record": name, "database": database_of(name), "portion": "test", "fold": "none",
                        "lead": m.lead, "r": m.r, "rmse_uv": m.rmse_uv,
                        "expected_r": None if t is None else t.expected_r})
    return out


def run(config: str, models_dir: Path, external_dir: Path | None = None) -> dict:
    from ..evaluation import zoo_from_dir

    ext = json.loads(((external_dir or REPO / "runs" / "lodo" / "external") / f"{config}.json").read_text())
    split = load_db_split()
    data = load_all()
    ins, outs = input_leads(config), output_leads(config)
    A, b = fit_linear([data[r] for r in final_training(split)], lead_index(ins), lead_index(outs))
    per_record: dict[str, list] = {}
    report = {}
    for kind in KINDS:
        mid = f"{config}.{kind}"
        cp = models_dir / f"{mid}.json"
        if not cp.exists():
            continue
        rows = [r for r in ext["rows"] if r["model"] == kind]
        fk = fit_kind(rows)
        coef, icpt, mu, sd = fk["model"]
        test = [r for r in rows if r["portion"] == "test"]
        raw = json.loads(cp.read_text())
        raw["trust"] = trust.TrustModel(tuple(outs), coef, icpt, mu, sd, fk["threshold"],
                                        tuple(tuple(float(v) for v in row) for row in A),
                                        tuple(float(v) for v in b),
                                        fitted_on="held-out development portions of LUDB, CPSC, CPSC-Extra, "
                                                  "Georgia, PTB-XL (leave-one-database-out fold models); "
                                                  "threshold chosen on nested leave-one-database-out "
                                                  "predictions").to_dict()
        cp.write_text(json.dumps(raw, indent=1) + "\n")
        zoo = zoo_from_dir(models_dir)
        card = zoo.get(mid)
        ptb = external_rows(card, zoo, split["databases"]["PTB"]["test"])
        fold_rows = [{k: r[k] for k in ("record", "database", "portion", "fold", "lead", "r", "rmse_uv")}
                     | {"expected_r": float(e)} for r, e in zip(test, fk["test_expected"], strict=True)]
        all_rows = fold_rows + ptb
        summary = external_summary(all_rows, fk["threshold"])
        summary["amplitude_ratio"] = _amp_ratios(test)
        summary["trust_dev_lodo"] = fk["dev_lodo"]
        raw = json.loads(cp.read_text())
        raw["metrics_external"] = summary
        raw["trust"]["scores"] = {"held_out_test": summary["trust"], "dev_lodo": fk["dev_lodo"]}
        cp.write_text(json.dumps(raw, indent=1) + "\n")
        per_record[kind] = [{k: (round(v, 6) if isinstance(v, float) else v) for k, v in r.items()}
                            for r in all_rows]
        report[mid] = summary
        p, t = summary["pooled"], summary["trust"]
        print(f"{mid}: external median R {p['median_r']:.4f} RMSE {p['median_rmse_uv']:.1f} uV, "
              f"R<0.8 {p['share_r_below_0_8']:.1%}; trust Spearman {t['spearman_expected_vs_true_r']:.2f}"
              f" flagged {t['share_flagged']:.1%} bad-unflagged {t['share_below_0_8_among_unflagged']:.1%}",
              flush=True)
    ed = models_dir / "external"
    ed.mkdir(exist_ok=True)
    (ed / f"{config}.json").write_text(json.dumps({"config": config, "note": (
        "per record and reconstructed lead, on databases the model had not been trained on: the test portions "
        "of LUDB, CPSC, CPSC-Extra, Georgia and PTB-XL scored by the fold model that held that database out (the "
        "three small ones were held out together), and PTB (never trained on) scored by the bundled model; "
        "metrics_external in each card is computed from these rows by ecgrecon.evaluation.external_summary"),
        "rows": per_record}, indent=0) + "\n")
    return report


def _amp_ratios(rows: list[dict]) -> dict:
    """Median reconstructed/true standard deviation per database (does the model shrink or inflate?)."""
    out = {}
    for db in sorted({r["database"] for r in rows}):
        out[db] = float(np.median([r["amp_ratio"] for r in rows if r["database"] == db]))
    return out


def main(argv=None) -> None:
    from .configs import CONFIG_NAMES

    ap = argparse.ArgumentParser(prog="python -m ecgrecon.training.trustfit")
    ap.add_argument("--config", action="append", choices=CONFIG_NAMES)
    ap.add_argument("--models", type=Path, default=REPO / "models")
    ap.add_argument("--external", type=Path, default=None, help="folder of lodo external results "
                    "(default runs/lodo/external)")
    a = ap.parse_args(argv)
    for cfg in a.config or CONFIG_NAMES:
        run(cfg, a.models, a.external)


if __name__ == "__main__":
    main()
