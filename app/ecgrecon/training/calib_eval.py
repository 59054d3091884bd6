"""Honest evaluation of patient calibration (numpy + onnxruntime, no torch).

    python -m ecgrecon.training.calib_eval [--inputs I,II,V3] [--out runs/calib_eval.json]

1. Within record: every test-portion record of the five trainable databases and all of PTB (records the
   universal model was not trained on), first 10 s: calibrate on 0-5 s, score 5-10 s, against the
   universal default model on the same 5-10 s.
2. Across sessions of one patient: PTB S0001-S0003 are one patient (patient001); calibrate on one session's
   first 10 s, score the other sessions' first 10 s.
3. Electrode re-placement: the chest input electrode moved 1, 2, 3 cm on the 35-electrode map of the
   forward model (ecgrecon.bspm_forward; a synthetic map from the real record) between the calibration
   session and the scored one; the other electrodes stay where they were.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..calibration import calibrate
from ..errors import InputError
from ..inference import reconstruct
from ..io import read_recording
from ..leads import STANDARD_12
from ..metrics import pearson_r, rmse_uv
from ..modelcard import load_zoo
from ..recording import Recording
from .data import REPO
from .databases import DATABASES, database_of, load_db_split, record_path

SAME_PATIENT = ("S0001", "S0002", "S0003")


def _scores(res, truth: Recording, leads) -> list[tuple[str, float, float]]:
    from ..conditioning import apply_filters

    spec = res.preprocessing
    a = apply_filters(res.result.select(list(leads)).signals, truth.fs, spec)
    b = apply_filters(truth.select(list(leads)).signals, truth.fs, spec)
    n = min(a.shape[1], b.shape[1])
    return [(lead, pearson_r(a[k, :n], b[k, :n]), rmse_uv(a[k, :n], b[k, :n])) for k, lead in enumerate(leads)]


def _summary(rows: list[dict], key: str) -> dict:
    r = np.array([x[f"{key}_r"] for x in rows])
    e = np.array([x[f"{key}_rmse_uv"] for x in rows])
    return {"n_leads": len(rows), "n_records": len({x["record"] for x in rows}), "median_r": float(np.median(r)),
            "median_rmse_uv": float(np.median(e)), "share_r_below_0_8": float(np.mean(r < 0.8))}


def within_record(inputs, tmp: Path, log=print) -> dict:
    zoo = load_zoo()
    base = zoo.default_for(inputs)
    split = load_db_split()
    rows = []
    refused: list[str] = []
    for db in DATABASES:
        for name in split["databases"][db]["test"]:
            rec = read_recording(record_path(name)).select(list(STANDARD_12))
            if rec.duration < 10.0:
                continue
            fit_part, score_part = rec.crop(0, 5.0), rec.crop(5.0, 10.0)
            try:
                pack = calibrate(fit_part, base, zoo, tmp / name.replace("/", "_"), patient_id=name, force=True)
            except InputError as e:  # refused (flat/clipped/gappy lead): counted, not scored
                refused.append(f"{name}: {e}")
                continue
            cal = reconstruct(score_part, pack, zoo=zoo)
            uni = reconstruct(score_part, base, zoo=zoo)
            leads = [n for n in base.output_leads if n not in inputs]
            for (lead, r, e), (_, ur, ue) in zip(_scores(cal, score_part, leads), _scores(uni, score_part, leads),
                                                 strict=True):
                rows.append({"record": name, "database": database_of(name), "lead": lead, "calibrated_r": r,
                             "calibrated_rmse_uv": e, "universal_r": ur, "universal_rmse_uv": ue})
        log(f"within-record: {db} done ({len(rows)} leads so far)")
    per_db = {db: {k: _summary([x for x in rows if x["database"] == db], k) for k in ("calibrated", "universal")}
              for db in DATABASES if any(x["database"] == db for x in rows)}
    return {"base_model": base.id, "per_database": per_db, "refused": refused,
            "pooled": {k: _summary(rows, k) for k in ("calibrated", "universal")}, "rows": rows}


def cross_session(inputs, tmp: Path) -> dict:
    zoo = load_zoo()
    base = zoo.default_for(inputs)
    leads = [n for n in base.output_leads if n not in inputs]
    recs = {n: read_recording(record_path(n)).select(list(STANDARD_12)).crop(0, 10.0) for n in SAME_PATIENT}
    rows = []
    for src in SAME_PATIENT:
        pack = calibrate(recs[src], base, zoo, tmp / f"x_{src}", patient_id="PTB patient001", force=True)
        for dst in SAME_PATIENT:
            if dst == src:
                continue
            cal = reconstruct(recs[dst], pack, zoo=zoo)
            uni = reconstruct(recs[dst], base, zoo=zoo)
            for (lead, r, e), (_, ur, ue) in zip(_scores(cal, recs[dst], leads), _scores(uni, recs[dst], leads),
                                                 strict=True):
                rows.append({"record": f"{src}->{dst}", "lead": lead, "calibrated_r": r, "calibrated_rmse_uv": e,
                             "universal_r": ur, "universal_rmse_uv": ue})
    return {"patient": "PTB patient001 (S0001-S0003)", "pairs": len(SAME_PATIENT) * (len(SAME_PATIENT) - 1),
            **{k: _summary(rows, k) for k in ("calibrated", "universal")}}


def displaced_lead(rec: Recording, electrode: str, shift_cm: float, direction=(1.0, 0.0, 0.0)) -> np.ndarray:
    """The WCT potential of ``electrode`` moved ``shift_cm`` along ``direction`` (x = to the patient's left),
    from the forward model's lead field at the new position (a synthetic map of the real record)."""
    from ..bspm import ElectrodeSite, load_layout
    from ..bspm_forward import _l8, build_forward

    lay = load_layout(None)
    s = lay.site(electrode)
    d = np.asarray(direction, float) / np.linalg.norm(direction)
    moved = ElectrodeSite(f"{electrode}_moved", s.u + shift_cm * d[0], s.v, tuple(np.asarray(s.xyz) + shift_cm * d))
    lay2 = replace(lay, sites=(*lay.sites, moved))
    fm = build_forward(lay2)
    return fm.matrix[-1] @ _l8(rec)


def replacement(inputs, tmp: Path, shifts=(1.0, 2.0, 3.0)) -> dict:
    """Calibrate on 0-5 s with the chest electrode in place, score 5-10 s with it moved."""
    zoo = load_zoo()
    base = zoo.default_for(inputs)
    chest = [n for n in inputs if n.startswith("V")][0]
    leads = [n for n in base.output_leads if n not in inputs]
    split = load_db_split()
    names = [n for db in DATABASES for n in split["databases"][db]["test"]][::3]  # every third: cost
    out = {}
    for shift in (0.0, *shifts):
        rows = []
        for name in names:
            rec = read_recording(record_path(name)).select(list(STANDARD_12))
            if rec.duration < 10.0:
                continue
            fit_part, score_part = rec.crop(0, 5.0), rec.crop(5.0, 10.0)
            try:
                pack = calibrate(fit_part, base, zoo, tmp / f"m_{name.replace('/', '_')}", patient_id=name,
                                 force=True)
            except InputError:
                continue
            sig = score_part.signals.copy()
            if shift:
                sig[score_part.index(chest)] = displaced_lead(score_part, chest, shift).astype(np.float32)
            moved = replace(score_part, signals=sig)
            cal = reconstruct(moved, pack, zoo=zoo)
            uni = reconstruct(moved, base, zoo=zoo)
            for (lead, r, e), (_, ur, ue) in zip(_scores(cal, score_part, leads), _scores(uni, score_part, leads),
                                                 strict=True):
                rows.append({"record": name, "lead": lead, "calibrated_r": r, "calibrated_rmse_uv": e,
                             "universal_r": ur, "universal_rmse_uv": ue})
        out[f"{shift:g} cm"] = {k: _summary(rows, k) for k in ("calibrated", "universal")}
    return {"electrode": chest, "direction": "towards the patient's left (x)", "records": len(names), **out}


def main(argv=None) -> None:
    import tempfile

    ap = argparse.ArgumentParser(prog="python -m ecgrecon.training.calib_eval")
    ap.add_argument("--inputs", default="I,II,V3")
    ap.add_argument("--out", type=Path, default=REPO / "models" / "calibration_eval.json")
    a = ap.parse_args(argv)
    inputs = tuple(a.inputs.split(","))
    with tempfile.TemporaryDirectory(prefix="ecgrecon-calib-") as d:
        tmp = Path(d)
        res = {"inputs": list(inputs), "within_record": within_record(inputs, tmp),
               "cross_session": cross_session(inputs, tmp), "replacement": replacement(inputs, tmp)}
    rows = res["within_record"].pop("rows")
    a.out.write_text(json.dumps(res, indent=1) + "\n")
    p = res["within_record"]["pooled"]
    print(f"within record: calibrated median R {p['calibrated']['median_r']:.3f} RMSE "
          f"{p['calibrated']['median_rmse_uv']:.0f} uV; universal {p['universal']['median_r']:.3f} / "
          f"{p['universal']['median_rmse_uv']:.0f} ({len(rows)} leads)")
    c = res["cross_session"]
    print(f"cross session: calibrated {c['calibrated']['median_r']:.3f} / {c['calibrated']['median_rmse_uv']:.0f}; "
          f"universal {c['universal']['median_r']:.3f} / {c['universal']['median_rmse_uv']:.0f}")
    for k, v in res["replacement"].items():
        if k.endswith("cm"):
            print(f"re-placement {k}: calibrated {v['calibrated']['median_r']:.3f} / "
                  f"{v['calibrated']['median_rmse_uv']:.0f}; universal {v['universal']['median_r']:.3f}")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
