"""Per-subject evaluation of bundled models on held-out records (torch-free: numpy + onnxruntime).

Every number goes through the app's own engine (:func:`ecgrecon.inference.reconstruct`):
the card's preprocessing on the inputs, windowed ONNX inference, exact limb leads,
then :func:`ecgrecon.metrics.compare` after the same 0.5 Hz baseline removal on
reconstruction and truth alike.

Aggregates are *pooled medians*: the median over every (subject, lead) pair of
the leads in question (e.g. all reconstructed leads of all 40 test subjects).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .leads import STANDARD_12
from .metrics import LOW_R
from .modelcard import ModelCard, ModelZoo, load_card
from .recording import Role

SPLIT_FILE = Path(__file__).resolve().parent / "training" / "ludb_split.json"


def default_data_dir() -> Path:
    """LUDB's data folder beside the checkout (../shared/data/ludb/data), or $ECGRECON_DATA/ludb/data."""
    import os

    env = os.environ.get("ECGRECON_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"
    return base / "ludb" / "data"


def load_split(path: str | Path | None = None) -> dict:
    return json.loads(Path(path or SPLIT_FILE).read_text())


def zoo_from_dir(models_dir: str | Path, verify: bool = True) -> ModelZoo:
    """A zoo made only of the cards in one folder (e.g. freshly trained models)."""
    cards = []
    for cp in sorted(Path(models_dir).glob("*.json")):
        try:
            raw = json.loads(cp.read_text())
        except ValueError:
            continue
        if isinstance(raw, dict) and "architecture" in raw:
            cards.append(load_card(cp, verify=verify))
    return ModelZoo(cards)


def evaluate_subject(card: ModelCard, zoo: ModelZoo, path: str | Path) -> dict:
    """{lead: {"r", "rmse_uv", "role"}} for one record, through the app's engine."""
    from .inference import reconstruct
    from .io import read_recording

    rec = read_recording(path)
    res = reconstruct(rec, card, zoo=zoo)
    if res.metrics is None:
        raise ValueError(f"{path}: record lacks the 12 standard leads, cannot score")
    return {m.lead: {"r": m.r, "rmse_uv": m.rmse_uv, "role": m.role} for m in res.metrics.leads}


def evaluate_model(card: ModelCard, zoo: ModelZoo, subjects: list[int], data_dir: str | Path | None = None) -> dict:
    """Per-subject metrics of one model: {subject_id: {lead: {...}}}."""
    d = Path(data_dir or default_data_dir())
    return {int(s): evaluate_subject(card, zoo, d / f"{s}.hea") for s in subjects}


def _pooled(per_subject: dict, leads, key: str) -> float:
    vals = [per_subject[s][n][key] for s in per_subject for n in leads if n in per_subject[s]]
    vals = [v for v in vals if np.isfinite(v)]
    return float(np.median(vals)) if vals else float("nan")


def summarise(per_subject: dict, card: ModelCard | None = None) -> dict:
    """The card's ``metrics_test`` block from per-subject results."""
    any_s = next(iter(per_subject.values()))
    recon = [n for n in STANDARD_12 if any_s[n]["role"] == Role.RECONSTRUCTED.value]
    per_lead = {}
    for n in STANDARD_12:
        per_lead[n] = {"role": any_s[n]["role"], "median_r": _pooled(per_subject, [n], "r"),
                       "median_rmse_uv": _pooled(per_subject, [n], "rmse_uv")}
    return {
        "n_subjects": len(per_subject),
        "aggregation": "pooled median over (subject, lead) pairs; metrics after 0.5 Hz baseline removal on "
                       "reconstruction and truth alike; computed with ecgrecon.inference (onnxruntime)",
        "per_lead": per_lead,
        "reconstructed_leads": recon,
        "reconstructed_median_r": _pooled(per_subject, recon, "r"),
        "reconstructed_median_rmse_uv": _pooled(per_subject, recon, "rmse_uv"),
        "all12_median_r": _pooled(per_subject, STANDARD_12, "r"),
        "all12_median_rmse_uv": _pooled(per_subject, STANDARD_12, "rmse_uv"),
        # with 7 of 12 leads exact (I-II-Vk), the pooled 12-lead median is 1.0; the mean shows more
        "all12_mean_r": _pooled_mean(per_subject, STANDARD_12, "r"),
        "per_lead_median_then_mean_r": float(np.mean([per_lead[n]["median_r"] for n in STANDARD_12])),
    }


def _pooled_mean(per_subject: dict, leads, key: str) -> float:
    vals = [per_subject[s][n][key] for s in per_subject for n in leads if n in per_subject[s]]
    vals = [v for v in vals if np.isfinite(v)]
    return float(np.mean(vals)) if vals else float("nan")


def subset(per_subject: dict, subjects) -> dict:
    keep = {int(s) for s in subjects}
    return {s: v for s, v in per_subject.items() if int(s) in keep}


def score_cards(models_dir: str | Path, model_ids, evaluate, extra: dict | None = None) -> dict:
    """Score each card in a folder with ``evaluate(card, zoo) -> per-subject results`` and store the summary as
    its ``metrics_test`` (plus ``extra``); returns {id: metrics}."""
    zoo = zoo_from_dir(models_dir)
    out = {}
    for mid in model_ids:
        card = zoo.get(mid)
        m = summarise(evaluate(card, zoo), card)
        m.update(extra or {})
        store_test_metrics(card, m)
        out[mid] = m
    return out


def store_test_metrics(card: ModelCard, metrics: dict) -> None:
    """Write ``metrics`` into the card's ``metrics_test`` (the card JSON beside the model)."""
    raw = json.loads(card.card_path.read_text())
    raw["metrics_test"] = metrics
    card.card_path.write_text(json.dumps(raw, indent=1) + "\n")


def external_summary(rows: list[dict], threshold: float | None = None) -> dict:
    """A card's ``metrics_external`` from per-record rows on databases the model was not trained on.

    Each row: record, database, lead, r, rmse_uv and (optionally) expected_r, for the reconstructed leads
    only. Per held-out database and pooled: median R and RMSE, and the share of leads with R < 0.8; with
    expected_r and a threshold, how well the trust signal ranked and flagged the leads.
    """
    from . import trust

    def block(rs: list[dict]) -> dict:
        r = np.array([x["r"] for x in rs], float)
        e = np.array([x["rmse_uv"] for x in rs], float)
        ok = np.isfinite(r)
        return {"n_records": len({x["record"] for x in rs}), "n_leads": int(ok.sum()),
                "median_r": float(np.median(r[ok])), "median_rmse_uv": float(np.median(e[np.isfinite(e)])),
                "share_r_below_0_8": float(np.mean(r[ok] < LOW_R))}

    dbs = sorted({x["database"] for x in rows})
    out = {
        "what": "reconstructed leads only, on databases the model had not been trained on: each database's test "
                "portion scored by the fold model that held it out (CPSC-Extra, Georgia and PTB-XL were held out "
                "together); PTB, never trained on, by the bundled model; pooled median over (record, lead); "
                "0.5 Hz baseline removal on both sides",
        "per_database": {db: block([x for x in rows if x["database"] == db]) for db in dbs},
        "pooled": block(rows),
    }
    have = [x for x in rows if x.get("expected_r") is not None and np.isfinite(x["r"])]
    if threshold is not None and have:
        out["trust"] = trust.score(np.array([x["expected_r"] for x in have]), np.array([x["r"] for x in have]),
                                   threshold)
    return out
