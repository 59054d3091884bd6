"""REPORT.md sections for the clinical measurements: validation against LUDB's cardiologists and XQRS, and the
agreement of measurements on reconstruction and truth per configuration (from models/measurement_*.json)."""

from __future__ import annotations

LABEL = {"pr_ms": "PR", "qrs_ms": "QRS", "qt_ms": "QT", "p_ms": "P duration", "p_on_err": "P onset",
         "p_off_err": "P offset", "qrs_on_err": "QRS onset", "qrs_off_err": "QRS offset", "t_off_err": "T end"}
AGREE_LABEL = {"global.heart_rate_bpm": "HR bpm", "global.pr_ms": "PR ms", "global.qrs_ms": "QRS ms",
               "global.qt_ms": "QT ms", "global.qtc_bazett_ms": "QTcB ms", "global.qrs_axis_deg": "QRS axis deg",
               "global.t_axis_deg": "T axis deg", "reconstructed.st_j_uv": "ST J µV*",
               "reconstructed.st_j60_uv": "ST J+60 µV*", "reconstructed.r_uv": "R µV*",
               "voltages.sokolow_lyon_uv": "Sokolow-Lyon µV"}


def _ms(d: dict | None) -> str:
    if not d or d.get("mean") is None:
        return "–"
    return f"{d['mean']:+.1f} ± {d['sd']:.1f}"


def validation_table(ev: dict) -> list[str]:
    """Our global fiducials/intervals minus the cardiologists', mean ± SD over records (ms)."""
    tol = ev["tolerance_ms"]
    L = ["Our global measurement minus LUDB's cardiologists (mean ± SD over records, ms). Reference: the median "
         "over the 12 leads of their per-lead marks (primary; the delineation constants were tuned on the "
         "development subjects against it) or the earliest onset / latest offset (the CSE definition; one lead's "
         "outlying T-end mark decides it). Tolerances: mean differences that published summaries of "
         "IEC 60601-2-25 quote.\n",
         "| | " + " | ".join(LABEL.values()) + " |", "|---|" + "---|" * len(LABEL)]
    for name in ("ludb_test_median", "ludb_dev_median", "ludb_test_global", "ludb_dev_global"):
        if name not in ev:
            continue
        s = ev[name]["summary"]
        part, ref = name.split("_")[1], name.split("_")[2]
        L.append(f"| {part} ({s['measured']}/{s['records']} measured), {ref} reference | "
                 + " | ".join(_ms(s.get(k)) for k in LABEL) + " |")
    L.append("| tolerance (mean) | " + " | ".join(f"±{tol[k]:.0f}" if k in tol else "" for k in LABEL) + " |\n")
    s = ev.get("ludb_test_median", {}).get("summary")
    if s:
        ok = [k for k in tol if s[k]["mean"] is not None and abs(s[k]["mean"]) <= tol[k]]
        miss = [f"{LABEL[k]} {s[k]['mean']:+.1f} ms (tolerance ±{tol[k]:.0f})" for k in tol if k not in ok]
        pw = s["p_wave"]
        L.append(f"On the test subjects the mean differences are within tolerance for {', '.join(LABEL[k] for k in ok)}"
                 + (f"; missed: {'; '.join(miss)}" if miss else "") + ". The spread (SD) is wider than the mean: "
                 "single records with wide QRS, low T waves or noise. P waves: reported on "
                 f"{pw['annotated_and_reported']} of {pw['annotated']} records where the cardiologists marked them, "
                 f"and on {pw['not_annotated_and_reported']} of {pw['not_annotated']} where they did not.\n")
    g = ev.get("ludb_test_global", {}).get("summary")
    if g:
        miss = [f"{LABEL[k]} {g[k]['mean']:+.1f} ms" for k in tol
                if g[k]["mean"] is not None and abs(g[k]["mean"]) > tol[k]]
        L.append("Against the earliest-onset / latest-offset reference the tolerances are "
                 + (f"missed: {', '.join(miss)} (our global QRS and QT are shorter than the span from the earliest to "
                    "the latest mark over 12 independently annotated leads)" if miss else "met") + ".\n")
    hr = ev.get("heart_rate")
    if hr:
        L.append(f"Heart rate against wfdb's XQRS detector on {hr['n']} multi-database records "
                 f"(../shared/data/cinc): mean difference {hr['mean_diff_bpm']:+.2f} bpm, SD {hr['sd_bpm']:.2f}, "
                 f"{hr['within_5_bpm']:.0%} within 5 bpm.\n")
    return L


def agreement_table(ag: dict) -> list[str]:
    """Bias [95 % limits of agreement] of reconstruction - truth per configuration."""
    keys = list(AGREE_LABEL)
    L = [f"{ag['note']}. * pooled over the configuration's reconstructed leads. Differences near zero with wide "
         "limits mean the reconstruction is right on average and wrong on single records: read the limits.\n",
         "| configuration (records) | " + " | ".join(AGREE_LABEL[k] for k in keys) + " |",
         "|---|" + "---|" * len(keys)]
    for cfg, d in ag["configurations"].items():
        cells = []
        for k in keys:
            b = d["agreement"].get(k)
            cells.append("–" if not b or b.get("loa_low") is None else
                         f"{b['bias']:+.0f} [{b['loa_low']:+.0f}, {b['loa_high']:+.0f}]")
        L.append(f"| {cfg} ({d['n_records']}) | " + " | ".join(cells) + " |")
    L.append("")
    return L
