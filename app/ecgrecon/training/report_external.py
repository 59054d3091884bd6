"""REPORT.md's headline section: figures on databases the models were not trained on, as tables and pictures.

Everything here is read from the cards' ``metrics_external`` (which
tests recompute from models/external/<config>.json); the two pictures are
written beside REPORT.md by the report command.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..modelcard import ModelZoo

DATABASE_ORDER = ("LUDB", "CPSC", "CPSC-Extra", "Georgia", "PTB-XL", "PTB")
TARGET_GAIN_R = 0.02
TARGET_GAIN_RMSE = 0.12
TARGET_BEST_R = 0.955
TARGET_BEST_LOW = 0.15
TRUST_SPEARMAN = 0.5
TRUST_FLAGGED = 0.35
TRUST_BAD_UNFLAGGED = 0.08
HEATMAP = "report_external_heatmap.png"
AMPLITUDE = "report_external_amplitude.png"


def _f(x, nd=3) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.{nd}f}"


def section(zoo: ModelZoo, out_dir: Path) -> list[str]:
    configs: dict[str, list] = {}
    for c in zoo.cards:
        configs.setdefault(c.configuration, []).append(c)
    defaults = {cfg: zoo.default_for(cs[0].input_leads) for cfg, cs in configs.items()}
    have = {cfg: d for cfg, d in defaults.items() if d.external}
    L = ["## Databases the models were not trained on (leave one database out) — the headline figures\n"]
    if not have:
        L.append("No card carries `metrics_external` yet (run `python -m ecgrecon.training.lodo external` and "
                 "`python -m ecgrecon.training.trustfit`).\n")
        return L
    L.append("Each database's fixed test portion (never trained or tuned on) is scored by a fold model trained on "
             "the development portions of the other trainable databases (folds: LUDB held out; CPSC held out; "
             "CPSC-Extra, Georgia and PTB-XL held out together); PTB (one patient group, 1000 Hz) "
             "is never trained on and is scored by the bundled model. Reconstructed leads only; pooled median over "
             "(record, lead). Split: `app/ecgrecon/training/db_split.json`.\n")
    # targets
    rows, ok_all = [], True
    for cfg, d in have.items():
        lin = zoo.get(f"{cfg}.linear").external if f"{cfg}.linear" in {c.id for c in zoo.cards} else None
        p = d.external["pooled"]
        lp = lin["pooled"] if lin else None
        gain_r = p["median_r"] - lp["median_r"] if lp else float("nan")
        gain_e = 1 - p["median_rmse_uv"] / lp["median_rmse_uv"] if lp else float("nan")
        ok = gain_r >= TARGET_GAIN_R and gain_e >= TARGET_GAIN_RMSE
        ok_all &= ok
        t = d.external.get("trust") or {}
        rows.append(f"| {cfg} | {d.id} | {_f(p['median_r'])} | {_f(lp['median_r']) if lp else '—'} | "
                    f"{gain_r:+.3f} | {p['median_rmse_uv']:.0f} | {lp['median_rmse_uv']:.0f} | {gain_e:+.0%} | "
                    f"{p['share_r_below_0_8']:.0%} | {'yes' if ok else '**no**'} | "
                    f"{_f(t.get('spearman_expected_vs_true_r'), 2)} | {_pct(t.get('share_flagged'))} | "
                    f"{_pct(t.get('share_below_0_8_among_unflagged'))} |")
    best = max(have, key=lambda c: have[c].external["pooled"]["median_r"])
    bp = have[best].external["pooled"]
    L.append("### Targets\n")
    L.append(f"- Default model beats its linear baseline by >= {TARGET_GAIN_R} median R and >= "
             f"{TARGET_GAIN_RMSE:.0%} median RMSE in every configuration: **{'met' if ok_all else 'not met'}** "
             f"({sum(r.split('|')[10].strip() == 'yes' for r in rows)} of {len(rows)}).")
    best_ok = bp["median_r"] >= TARGET_BEST_R and bp["share_r_below_0_8"] <= TARGET_BEST_LOW
    L.append(f"- Best configuration median R >= {TARGET_BEST_R} with at most {TARGET_BEST_LOW:.0%} of leads below "
             f"R 0.8: **{'met' if best_ok else 'not met'}**"
             f" — {best}: median R {bp['median_r']:.3f}, {bp['share_r_below_0_8']:.1%} below 0.8.")
    trusts = [d.external.get("trust") or {} for d in have.values()]
    sp = [t["spearman_expected_vs_true_r"] for t in trusts if t]
    fl = [t["share_flagged"] for t in trusts if t]
    bu = [t["share_below_0_8_among_unflagged"] for t in trusts
          if t and t["share_below_0_8_among_unflagged"] is not None]
    if sp:
        ok_t = min(sp) >= TRUST_SPEARMAN and max(fl) <= TRUST_FLAGGED and max(bu) <= TRUST_BAD_UNFLAGGED
        L.append(f"- Trust signal (default models, held-out test portions): Spearman >= {TRUST_SPEARMAN}, at most "
                 f"{TRUST_FLAGGED:.0%} flagged, at most {TRUST_BAD_UNFLAGGED:.0%} of unflagged leads below R 0.8: "
                 f"**{'met' if ok_t else 'not met'}** — Spearman {min(sp):.2f} to {max(sp):.2f}, flagged "
                 f"{min(fl):.0%} to {max(fl):.0%}, R < 0.8 among unflagged {min(bu):.1%} to {max(bu):.1%}.")
    L.append("")
    L.append("| configuration | default model | median R | linear R | gain | RMSE µV | linear RMSE µV | RMSE gain | "
             "leads R < 0.8 | meets gain target | trust Spearman | flagged | R < 0.8 among unflagged |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    L += rows
    L.append("")
    # configurations x databases
    dbs = [db for db in DATABASE_ORDER if any(db in d.external["per_database"] for d in have.values())]
    L.append("### Configurations x databases (median R, default model / linear baseline; RMSE µV below)\n")
    L.append("| configuration | " + " | ".join(dbs) + " | pooled |")
    L.append("|---|" + "---|" * (len(dbs) + 1))
    grid = np.full((len(have), len(dbs)), np.nan)
    for i, (cfg, d) in enumerate(have.items()):
        lin = zoo.get(f"{cfg}.linear").external
        cells = []
        for j, db in enumerate(dbs):
            a = d.external["per_database"].get(db)
            b = (lin or {}).get("per_database", {}).get(db) if lin else None
            if a:
                grid[i, j] = a["median_r"]
            cells.append(f"{_f(a['median_r'])} / {_f(b['median_r']) if b else '—'}<br>{a['median_rmse_uv']:.0f} / "
                         f"{b['median_rmse_uv']:.0f}" if a and b else _f(a["median_r"]) if a else "—")
        p, lp = d.external["pooled"], (lin or {}).get("pooled")
        cells.append(f"{_f(p['median_r'])} / {_f(lp['median_r']) if lp else '—'}")
        L.append(f"| {cfg} | " + " | ".join(cells) + " |")
    L.append("")
    n_rec = {db: max(d.external["per_database"].get(db, {}).get("n_records", 0) for d in have.values()) for db in dbs}
    L.append("Records per database (test portion): " + ", ".join(f"{db} {n}" for db, n in n_rec.items())
             + ". Small portions (Georgia, PTB-XL) give wide uncertainty.\n")
    _heatmap(grid, list(have), dbs, out_dir / HEATMAP)
    amp = {cfg: d.external.get("amplitude_ratio") or {} for cfg, d in have.items()}
    _amplitude(amp, dbs, out_dir / AMPLITUDE)
    L.append(f"![configurations x databases]({HEATMAP})\n")
    L.append("Reconstructed / recorded standard deviation per database (1 = right amplitude; below 1 the model "
             "shrinks the leads, above 1 it inflates them):\n")
    L.append(f"![amplitude ratio]({AMPLITUDE})\n")
    return L


def _pct(x) -> str:
    return "—" if x is None else f"{x:.0%}"


def _heatmap(grid: np.ndarray, rows: list[str], cols: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.3 * len(cols) + 2.5, 0.45 * len(rows) + 1.5), dpi=110)
    # 0.75..1.0 on a perceptually ordered map, so 0.75 and 0.95 look clearly different
    im = ax.imshow(grid, cmap="viridis", vmin=0.75, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(cols)), cols)
    ax.set_yticks(range(len(rows)), rows)
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            if np.isfinite(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.3f}", ha="center", va="center",
                        color="white" if grid[i, j] < 0.9 else "black", fontsize=8)
    fig.colorbar(im, ax=ax, label="median R, reconstructed leads")
    ax.set_title("Default model, databases not trained on")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _amplitude(amp: dict[str, dict], dbs: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=110)
    cfgs = list(amp)
    w = 0.8 / max(1, len(cfgs))
    for k, cfg in enumerate(cfgs):
        vals = [amp[cfg].get(db, np.nan) for db in dbs]
        ax.bar(np.arange(len(dbs)) + k * w - 0.4 + w / 2, vals, w, label=cfg)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks(range(len(dbs)), dbs)
    ax.set_ylabel("reconstructed / recorded SD")
    ax.legend(fontsize=6, ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def calibration_table(ev: dict) -> list[str]:
    """Markdown tables of ecgrecon.training.calib_eval's results (REPORT.md and docs/calibration.md)."""
    L = []
    w = ev["within_record"]
    L.append(f"Within record ({w['base_model']} as the base; every test-portion record of 10 s or more, and all of "
             "PTB: calibrated on 0-5 s, scored on 5-10 s against the universal model on the same 5 s):\n")
    L.append("| database | records | calibrated R | calibrated RMSE µV | universal R | universal RMSE µV |")
    L.append("|---|---|---|---|---|---|")
    for db, v in {**w["per_database"], "pooled": w["pooled"]}.items():
        c, u = v["calibrated"], v["universal"]
        L.append(f"| {db} | {c['n_records']} | {c['median_r']:.3f} | {c['median_rmse_uv']:.0f} | {u['median_r']:.3f} | "
                 f"{u['median_rmse_uv']:.0f} |")
    if w.get("refused"):
        L.append(f"\n{len(w['refused'])} record(s) refused by the calibration checks (not scored): "
                 + "; ".join(w["refused"][:5]))
    c = ev["cross_session"]
    L.append(f"\nAcross sessions of one patient ({c['patient']}; {c['pairs']} ordered pairs: calibrated on one "
             "session's first 10 s, scored on another's first 10 s): calibrated median R "
             f"{c['calibrated']['median_r']:.3f} / RMSE {c['calibrated']['median_rmse_uv']:.0f} µV, universal "
             f"{c['universal']['median_r']:.3f} / {c['universal']['median_rmse_uv']:.0f} µV.\n")
    r = ev["replacement"]
    L.append(f"Electrode re-placement ({r['electrode']} moved {r['direction']} between the calibration and the scored "
             f"part, on the forward model's 35-electrode torso; {r['records']} records, synthetic lead fields):\n")
    L.append("| shift | calibrated R | calibrated RMSE µV | universal R | universal RMSE µV |")
    L.append("|---|---|---|---|---|")
    for k, v in r.items():
        if k.endswith("cm"):
            c2, u2 = v["calibrated"], v["universal"]
            L.append(f"| {k} | {c2['median_r']:.3f} | {c2['median_rmse_uv']:.0f} | {u2['median_r']:.3f} | "
                     f"{u2['median_rmse_uv']:.0f} |")
    L.append("\nA calibration is only valid while the electrodes sit where they sat for the calibration ECG.\n")
    return L
