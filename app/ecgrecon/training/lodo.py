"""Leave-one-database-out (LODO) validation: the model-selection criterion and the external figures.

    python -m ecgrecon.training.lodo curve --config I-II-V3 --arch temporal --recipe hospital --steps 2000
        per fold (train on the development portions of four databases, score on the fifth's development
        portion) an evaluation curve -> runs/lodo/curve.<config>.<arch>.<recipe>.json
    python -m ecgrecon.training.lodo external --config I-II-V3
        per fold, the bundled recipe (zoo.recipe_for, zoo.steps_for): conv, temporal, linear and their ensemble,
        scored per record and lead on the held-out database (development and test portions), with the
        trust features -> runs/lodo/external/<config>.json (used by ecgrecon.training.trustfit)

The test portions are only scored, never used to choose anything.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from .. import trust
from ..metrics import pearson_r, rmse_uv
from .configs import input_leads, output_leads
from .data import REPO, lead_index
from .databases import database_of, folds, load_all, load_db_split
from .fit import DEFAULT_RECIPE, linear_model, predict, train_net

RECIPES = {
    # the LUDB-era recipe (amplitude +-0.3 log, input noise 0.02 mV)
    "base": {"amp": 0.3, "noise": 0.02},
    # + what differs between hospitals (see data.hospital_augment) and a wider amplitude range
    "hospital": {"amp": 0.7, "noise": 0.02,
                 "hospital": {"lead_gain": 0.05, "mix": 0.05, "hum": 0.05, "emg": 0.03, "band": 0.3}},
}
# + a shape term in the loss (fit.crop_correlation_loss), two weights
RECIPES["hospital_corr05"] = dict(RECIPES["hospital"], corr=0.05)
RECIPES["hospital_corr20"] = dict(RECIPES["hospital"], corr=0.2)


def lead_scores(pred: np.ndarray, truth: np.ndarray) -> list[tuple[float, float]]:
    n = min(pred.shape[1], truth.shape[1])
    return [(pearson_r(p[:n], t[:n]), rmse_uv(p[:n], t[:n])) for p, t in zip(pred, truth, strict=True)]


def pooled(records: list[np.ndarray], model, ii, oi) -> dict:
    rs, es = [], []
    for r in records:
        p = predict(model, r[ii])
        for rv, ev in lead_scores(p, r[oi]):
            rs.append(rv)
            es.append(ev)
    rs = np.array(rs)
    return {"median_r": float(np.nanmedian(rs)), "median_rmse_uv": float(np.nanmedian(es)),
            "share_r_below_0_8": float(np.mean(rs < 0.8))}


def run_curve(config: str, arch: str, recipe: str, steps: int, eval_every: int = 250,
              model_kw: dict | None = None) -> dict:
    split = load_db_split()
    data = load_all()
    ii, oi = lead_index(input_leads(config)), lead_index(output_leads(config))
    rc = dict(DEFAULT_RECIPE, **RECIPES[recipe])
    out = {"config": config, "arch": arch, "recipe": recipe, "recipe_detail": rc, "model_kw": model_kw or {},
           "folds": []}
    for held, train, dev, _test in folds(split):
        tr = [data[r] for r in train]
        va = [data[r] for r in dev]
        lin, _ = linear_model(tr, ii, oi)
        lin_m = pooled(va, lin, ii, oi)
        t = time.time()
        _, curve, cpu = train_net(arch, tr, ii, oi, steps=steps, seed=0, recipe=rc, eval_every=eval_every,
                                  model_kw=model_kw, evaluator=lambda m, va=va: pooled(va, m, ii, oi))
        out["folds"].append({"held_out": held, "n_train": len(tr), "n_eval": len(va), "linear": lin_m,
                             "curve": curve, "cpu_s": cpu, "wall_s": time.time() - t})
        best = max(curve, key=lambda c: c["median_r"])
        print(f"{config} {arch} {recipe} held-out {held}: linear {lin_m['median_r']:.4f}/{lin_m['median_rmse_uv']:.0f}"
              f"  best {best['median_r']:.4f}/{best['median_rmse_uv']:.0f} at {best['step']}"
              f"  last {curve[-1]['median_r']:.4f}", flush=True)
    out["summary"] = summarise(out)
    return out


def summarise(res: dict) -> dict:
    fs = res["folds"]
    steps = [c["step"] for c in fs[0]["curve"]]
    r = np.array([[c["median_r"] for c in f["curve"]] for f in fs]).mean(0)
    e = np.array([[c["median_rmse_uv"] for c in f["curve"]] for f in fs]).mean(0)
    lo = np.array([[c["share_r_below_0_8"] for c in f["curve"]] for f in fs]).mean(0)
    k = int(np.argmax(r))
    return {"steps": steps, "mean_r": r.tolist(), "mean_rmse": e.tolist(), "mean_share_below_0_8": lo.tolist(),
            "best_step": steps[k], "best_r": float(r[k]), "best_rmse": float(e[k]),
            "linear_r": float(np.mean([f["linear"]["median_r"] for f in fs])),
            "linear_rmse": float(np.mean([f["linear"]["median_rmse_uv"] for f in fs]))}


def run_external(config: str, recipe: dict, steps: dict, archs=("conv", "temporal")) -> dict:
    """Per fold: the bundled recipe, scored on every record of the held-out database, with trust features."""
    split = load_db_split()
    data = load_all()
    ins, outs = input_leads(config), output_leads(config)
    ii, oi = lead_index(ins), lead_index(outs)
    rows = []
    for held, train, dev, test in folds(split):
        t0 = time.time()
        tr = [data[r] for r in train]
        lin, _ = linear_model(tr, ii, oi)
        A = lin.proj.weight.detach().numpy()[:, :, 0].astype(np.float64)
        b = lin.proj.bias.detach().numpy().astype(np.float64)
        nets = {a: train_net(a, tr, ii, oi, steps=steps[a], seed=0, recipe=recipe)[0] for a in archs}
        for portion, names in (("dev", dev), ("test", test)):
            for name in names:
                rec = data[name]
                x = rec[ii]
                preds = {a: predict(m, x) for a, m in nets.items()}
                n = min(p.shape[1] for p in preds.values())
                preds = {a: p[:, :n] for a, p in preds.items()}
                lin_out = (A @ x[:, :n] + b[:, None]).astype(np.float32)
                preds["ensemble"] = np.mean([preds[a] for a in archs], axis=0)
                preds["linear"] = lin_out
                truth = rec[oi][:, :n]
                for kind, p in preds.items():
                    members = [preds[a] for a in archs] if kind == "ensemble" else None
                    feats = trust.lead_features(x[:, :n], p, lin_out, members)
                    for k, (rv, ev) in enumerate(lead_scores(p, truth)):
                        rows.append({"record": name, "database": database_of(name), "portion": portion,
                                     "fold": held, "model": kind, "lead": outs[k], "r": rv, "rmse_uv": ev,
                                     "amp_ratio": float(np.std(p[k]) / (np.std(truth[k]) + 1e-9)),
                                     "features": [round(float(v), 5) for v in feats[k]]})
        print(f"{config} fold {held}: {time.time() - t0:.0f} s", flush=True)
    return {"config": config, "recipe": recipe, "steps": steps, "archs": list(archs), "rows": rows}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m ecgrecon.training.lodo")
    ap.add_argument("mode", choices=("curve", "external"))
    ap.add_argument("--config", default="I-II-V3")
    ap.add_argument("--arch", default="temporal")
    ap.add_argument("--recipe", default="hospital", choices=sorted(RECIPES))
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--ch", help="conv only: channels per U-Net level, e.g. 8,16,24,32,48 (default: the bundled "
                    "16,24,32,48,64); the result file is tagged with them")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    out_dir = REPO / "runs" / "lodo"
    if a.mode == "curve":
        kw = {"ch": tuple(int(c) for c in a.ch.split(","))} if a.ch else None
        res = run_curve(a.config, a.arch, a.recipe, a.steps, a.eval_every, model_kw=kw)
        tag = f".ch{a.ch.replace(',', '-')}" if a.ch else ""
        p = out_dir / f"curve.{a.config}.{a.arch}{tag}.{a.recipe}.json"
        s = res["summary"]
        print(f"SUMMARY {a.config} {a.arch} {a.recipe}: best step {s['best_step']} mean R {s['best_r']:.4f} "
              f"RMSE {s['best_rmse']:.1f} (linear {s['linear_r']:.4f} / {s['linear_rmse']:.1f})", flush=True)
    else:
        from .zoo import recipe_for, steps_for

        res = run_external(a.config, recipe_for(a.config), steps_for(a.config))
        p = out_dir / "external" / f"{a.config}.json"
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(res))
    tmp.replace(p)


if __name__ == "__main__":
    main()
