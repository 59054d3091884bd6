"""Validate ``ecgrecon.measurements`` against LUDB's cardiologists and heart rate against wfdb's XQRS.

    python -m ecgrecon.training.measure_eval            # -> models/measurement_eval.json (+ table printed)

LUDB: every lead of every record carries P, QRS and T onsets/offsets. The reference fiducial of a beat is
the median over the 12 leads of the per-lead marks (primary) or the earliest onset / latest offset (the CSE
definition of a global measurement; reported too); per record we take the median over its annotated beats,
relative to our R peaks. Delineation constants were tuned on the LUDB development subjects only, against the
median reference; the test subjects are reported separately. Heart rate: the multi-database records
(../shared/data/cinc) against wfdb's XQRS detector on the same lead.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..discovery import database_guess
from ..io import read_recording
from ..measurements import measure
from .data import REPO

LUDB = REPO.parent / "shared" / "data" / "ludb" / "data"
CINC = REPO.parent / "shared" / "data" / "cinc"
LEAD_EXT = ("i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6")
# IEC 60601-2-25 interval tolerances as published summaries quote them (mean difference, ms)
REFERENCES = {
    "median": "median over the 12 leads of the cardiologists' per-lead onsets/offsets (primary: robust to one "
              "lead's outlying mark)",
    "global": "earliest onset / latest offset over the 12 leads (CSE definition; one lead's late T-end mark "
              "decides it)"}
TOLERANCE_MS = {"pr_ms": 10.0, "qrs_ms": 10.0, "qt_ms": 25.0}


def ludb_waves(record: int) -> dict[str, list[tuple[int, int, int]]]:
    """LUDB annotations -> {"p"|"N"|"t": [(onset, peak, offset) per lead and wave]}."""
    import wfdb

    out: dict[str, list[tuple[int, int, int]]] = {"p": [], "N": [], "t": []}
    for ext in LEAD_EXT:
        a = wfdb.rdann(str(LUDB / str(record)), ext)
        sym, smp = list(a.symbol), list(a.sample)
        for i, s in enumerate(sym):
            if s in out and 0 < i < len(sym) - 1 and sym[i - 1] == "(" and sym[i + 1] == ")":
                out[s].append((int(smp[i - 1]), int(smp[i]), int(smp[i + 1])))
    return out


def reference(waves: dict, r_peaks: np.ndarray, fs: float, how: str = "median") -> dict[str, float | None]:
    """Per beat (our R peaks), the global reference fiducials relative to R (ms); median over beats."""
    rel: dict[str, list[float]] = {k: [] for k in ("p_on", "p_off", "qrs_on", "qrs_off", "t_off")}
    for r in r_peaks:
        q = [w for w in waves["N"] if w[0] - 20 <= r <= w[2] + 20]
        if not q:
            continue
        lo, hi = (min, max) if how == "global" else (_median, _median)
        on, off = lo(w[0] for w in q), hi(w[2] for w in q)
        rel["qrs_on"].append((on - r) * 1000 / fs)
        rel["qrs_off"].append((off - r) * 1000 / fs)
        p = [w for w in waves["p"] if on - 0.4 * fs <= w[2] <= on + 10]
        if p:
            rel["p_on"].append((lo(w[0] for w in p) - r) * 1000 / fs)
            rel["p_off"].append((hi(w[2] for w in p) - r) * 1000 / fs)
        t = [w for w in waves["t"] if off <= w[0] <= off + 0.45 * fs]
        if t:
            rel["t_off"].append((hi(w[2] for w in t) - r) * 1000 / fs)
    return {k: (float(np.median(v)) if v else None) for k, v in rel.items()}


def _median(values) -> float:
    return float(np.median(list(values)))


def ludb_rows(records, how: str = "median") -> list[dict]:
    rows = []
    for n in records:
        rec = read_recording(LUDB / f"{n}.hea")
        m = measure(rec)
        if m.fiducials is None:
            rows.append({"record": n, "measured": False, "reason": next(iter(m.reasons.values()), "")})
            continue
        ref = reference(ludb_waves(n), np.array(m.beat_samples), rec.fs, how)  # relative to the same R peaks
        ours = m.fiducials.__dict__
        row = {"record": n, "measured": True, "ours": ours, "ref": ref,
               "p_reported": m.values["pr_ms"] is not None, "p_annotated": ref["p_on"] is not None,
               "reason_p": m.reasons.get("global.pr_ms")}
        for key, (a, b) in {"pr_ms": ("p_on", "qrs_on"), "qrs_ms": ("qrs_on", "qrs_off"),
                            "qt_ms": ("qrs_on", "t_off"), "p_ms": ("p_on", "p_off")}.items():
            if None not in (ours[a], ours[b], ref[a], ref[b]):
                row[key] = (ours[b] - ours[a]) - (ref[b] - ref[a])
        for k in ours:
            if ours[k] is not None and ref[k] is not None:
                row[f"{k}_err"] = ours[k] - ref[k]
        rows.append(row)
    return rows


def summarise(rows: list[dict]) -> dict:
    out = {"records": len(rows), "measured": sum(r["measured"] for r in rows)}
    for k in ("pr_ms", "qrs_ms", "qt_ms", "p_ms", "p_on_err", "p_off_err", "qrs_on_err", "qrs_off_err", "t_off_err"):
        v = np.array([r[k] for r in rows if k in r], dtype=float)
        out[k] = {"n": int(v.size), "mean": round(float(v.mean()), 1) if v.size else None,
                  "sd": round(float(v.std(ddof=1)), 1) if v.size > 1 else None,
                  "median_abs": round(float(np.median(np.abs(v))), 1) if v.size else None}
    ann = [r for r in rows if r["measured"] and r["p_annotated"]]
    noann = [r for r in rows if r["measured"] and not r["p_annotated"]]
    out["p_wave"] = {"annotated_and_reported": sum(r["p_reported"] for r in ann), "annotated": len(ann),
                     "not_annotated_and_reported": sum(r["p_reported"] for r in noann), "not_annotated": len(noann)}
    return out


def heart_rate_rows() -> list[dict]:
    import wfdb.processing as wp

    rows = []
    for hea in sorted(CINC.rglob("*.hea")):
        try:
            rec = read_recording(hea)
        except Exception as e:  # noqa: BLE001 - a record we cannot read is listed, not fatal
            rows.append({"record": hea.stem, "error": str(e)})
            continue
        m = measure(rec)
        hr_x, used = None, None
        for lead in ("II", "V5", "I", "V2"):  # XQRS finds nothing on some leads: the next one, said in the row
            if not rec.has(lead):
                continue
            xq = wp.XQRS(sig=rec.lead(lead).astype(float), fs=rec.fs)
            xq.detect(verbose=False)
            pk = np.asarray(xq.qrs_inds)
            if pk.size > 2:
                hr_x, used = 60.0 / float(np.median(np.diff(pk))) * rec.fs, lead
                break
        rows.append({"record": hea.stem, "database": database_guess(hea), "ours": m.values["heart_rate_bpm"],
                     "xqrs": None if hr_x is None else round(hr_x, 1), "xqrs_lead": used})
    return rows


AGREEMENT_KEYS = ("global.heart_rate_bpm", "global.pr_ms", "global.qrs_ms", "global.qt_ms", "global.qtc_bazett_ms",
                  "global.qrs_axis_deg", "global.t_axis_deg", "reconstructed.st_j_uv", "reconstructed.st_j60_uv",
                  "reconstructed.r_uv", "voltages.sokolow_lyon_uv")


def agreement_by_configuration(models_dir: Path | None = None) -> dict:
    """Bland-Altman of reconstruction - truth per measurement, default model of every 12-lead configuration,
    over the test portions of the six databases (subjects no model was trained on)."""
    from ..commands.evaluate import evaluate_files
    from ..evaluation import zoo_from_dir
    from ..modelcard import load_zoo
    from .databases import load_db_split, record_path

    zoo = zoo_from_dir(models_dir) if models_dir else load_zoo()
    split = load_db_split()["databases"]
    files = [record_path(r) for db in split.values() for r in db["test"]]
    out = {}
    for cfg in sorted({c.configuration for c in zoo.cards if c.architecture == "ensemble"}):
        card = next(c for c in zoo.cards if c.configuration == cfg and c.architecture == "ensemble")
        res = evaluate_files(card, zoo, files)
        out[cfg] = {"model": card.id, "n_records": res["n_records"],
                    "agreement": {k: res["measurement_agreement"].get(k) for k in AGREEMENT_KEYS}}
        print(cfg, {k: (v or {}).get("bias") for k, v in out[cfg]["agreement"].items()}, flush=True)
    return {"note": "default (ensemble) model of each configuration on the test portions of LUDB, CPSC, "
                    "CPSC-Extra, Georgia, PTB-XL and PTB: subjects no model was trained on (PTB: a database none "
                    "was trained on); reconstruction - truth, Bland-Altman bias and 95 % limits of agreement",
            "configurations": out}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ecgrecon.training.measure_eval")
    ap.add_argument("--out", type=Path, default=REPO / "models" / "measurement_eval.json")
    ap.add_argument("--skip-hr", action="store_true")
    ap.add_argument("--agreement", action="store_true", help="only the per-configuration reconstruction agreement "
                    "(-> models/measurement_agreement.json)")
    a = ap.parse_args(argv)
    if a.agreement:
        res = agreement_by_configuration()
        (REPO / "models" / "measurement_agreement.json").write_text(json.dumps(res, indent=1) + "\n")
        return 0
    from .databases import load_db_split

    split = load_db_split()["databases"]["LUDB"]
    test = sorted(int(s.split("/")[-1]) for s in split["test"])
    dev = sorted(int(s.split("/")[-1]) for s in split["dev"])
    res: dict = {"note": __doc__.split("\n\n")[1].replace("\n", " "), "tolerance_ms": TOLERANCE_MS}
    for name, recs in (("ludb_dev", dev), ("ludb_test", test)):
        for how in REFERENCES:
            rows = ludb_rows(recs, how)
            res[f"{name}_{how}"] = {"reference": REFERENCES[how], "summary": summarise(rows), "rows": rows}
            print(name, how, json.dumps(res[f"{name}_{how}"]["summary"]), flush=True)
    if not a.skip_hr:
        hr = heart_rate_rows()
        ok = [r for r in hr if r.get("ours") is not None and r.get("xqrs") is not None]
        d = np.array([r["ours"] - r["xqrs"] for r in ok])
        res["heart_rate"] = {"rows": hr, "n": len(ok), "mean_diff_bpm": round(float(d.mean()), 2),
                             "sd_bpm": round(float(d.std(ddof=1)), 2),
                             "within_5_bpm": round(float(np.mean(np.abs(d) <= 5)), 3)}
        print("heart rate vs XQRS", {k: v for k, v in res["heart_rate"].items() if k != "rows"})
    a.out.write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
