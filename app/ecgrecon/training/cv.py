"""Cross-validation experiments (5 folds by subject over the 160 non-test subjects).

python -m ecgrecon.training.cv --config I-II-V2 --arch conv --steps 2000 --tag base [--amp 0.3 --noise 0.02]
Writes runs/cv/<config>.<arch>.<tag>.json with per-fold eval curves (every 100 steps).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from .configs import input_leads, output_leads
from .data import REPO, lead_index, load_ludb, load_split
from .fit import DEFAULT_RECIPE, evaluate, linear_model, train_net


def _fold_data(split: dict, data: dict, folds=None):
    """(fold, training records, validation records) for each cross-validation fold (by subject)."""
    for f, val in enumerate(split["cv_folds"]):
        if folds is not None and f not in folds:
            continue
        tr = [data[s] for g, fold in enumerate(split["cv_folds"]) if g != f for s in fold]
        yield f, tr, [data[s] for s in val]


def run_cv(config: str, arch: str, steps: int, recipe: dict, seed: int = 0, folds=None, eval_every: int = 100,
           model_kw: dict | None = None) -> dict:
    split = load_split()
    data = load_ludb()
    ii, oi = lead_index(input_leads(config)), lead_index(output_leads(config))
    out = {"config": config, "arch": arch, "recipe": dict(DEFAULT_RECIPE, **recipe), "seed": seed, "folds": [],
           "model_kw": model_kw or {}}
    for f, tr, va in _fold_data(split, data, folds):
        lin, _ = linear_model(tr, ii, oi)
        lin_m = evaluate(lin, va, ii, oi)
        t = time.time()
        if arch == "linear":
            out["folds"].append({"fold": f, "linear": lin_m})
            continue
        _, curve, cpu = train_net(arch, tr, ii, oi, steps=steps, seed=seed, recipe=recipe, eval_records=va,
                                  eval_every=eval_every, model_kw=model_kw)
        out["folds"].append({"fold": f, "linear": lin_m, "curve": curve, "cpu_s": cpu, "wall_s": time.time() - t})
        print(f"{config} {arch} fold {f}: linear R {lin_m['median_r']:.4f}  best "
              f"{max(c['median_r'] for c in curve):.4f}  last {curve[-1]['median_r']:.4f}  {cpu:.0f} cpu-s",
              flush=True)
    return out


def run_cv_ensemble(config: str, recipe: dict, steps: dict, seeds=(0,), folds=None) -> dict:
    """Per fold: train conv and temporal (each seed) at the chosen steps; score each and their average."""
    import itertools

    split = load_split()
    data = load_ludb()
    ii, oi = lead_index(input_leads(config)), lead_index(output_leads(config))
    out = {"config": config, "kind": "ensemble", "recipe": dict(DEFAULT_RECIPE, **recipe), "steps": steps,
           "seeds": list(seeds), "folds": []}
    for f, tr, va in _fold_data(split, data, folds):
        lin, _ = linear_model(tr, ii, oi)
        models = {}
        for arch, seed in itertools.product(steps, seeds):
            models[f"{arch}.s{seed}"], _, _ = train_net(arch, tr, ii, oi, steps=steps[arch], seed=seed, recipe=recipe)

        class _Avg(torch.nn.Module):
            def __init__(self, ms):
                super().__init__()
                self.ms = torch.nn.ModuleList(ms)

            def forward(self, x):
                return sum(m(x) for m in self.ms) / len(self.ms)

        scores = {"linear": evaluate(lin, va, ii, oi)}
        for k, m in models.items():
            scores[k] = evaluate(m, va, ii, oi)
        for arch in steps:
            scores[f"{arch}.all_seeds"] = evaluate(_Avg([models[f"{arch}.s{s}"] for s in seeds]), va, ii, oi)
        scores["ensemble"] = evaluate(_Avg(list(models.values())), va, ii, oi)
        out["folds"].append({"fold": f, "scores": scores})
        print(f"fold {f}: " + "  ".join(f"{k} {v['median_r']:.4f}/{v['median_rmse_uv']:.1f}"
                                       for k, v in scores.items()), flush=True)
    keys = out["folds"][0]["scores"].keys()
    out["mean"] = {k: {m: float(np.mean([f["scores"][k][m] for f in out["folds"]]))
                       for m in ("median_r", "median_rmse_uv")} for k in keys}
    print("MEAN " + "  ".join(f"{k} {v['median_r']:.4f}/{v['median_rmse_uv']:.1f}" for k, v in out["mean"].items()),
          flush=True)
    return out


def summarise(res: dict) -> dict:
    """Mean over folds of the curve; best step by mean median R."""
    folds = [f for f in res["folds"] if "curve" in f]
    steps = [c["step"] for c in folds[0]["curve"]]
    r = np.array([[c["median_r"] for c in f["curve"]] for f in folds]).mean(0)
    e = np.array([[c["median_rmse_uv"] for c in f["curve"]] for f in folds]).mean(0)
    lr = float(np.mean([f["linear"]["median_r"] for f in folds]))
    le = float(np.mean([f["linear"]["median_rmse_uv"] for f in folds]))
    k = int(np.argmax(r))
    return {"steps": steps, "mean_r": r.tolist(), "mean_rmse": e.tolist(), "best_step": steps[k],
            "best_r": float(r[k]), "best_rmse": float(e[k]), "linear_r": lr, "linear_rmse": le}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="I-II-V2")
    ap.add_argument("--arch", default="conv")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--tag", default="base")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--folds", default=None, help="comma list, default all 5")
    ap.add_argument("--threads", type=int, default=1)
    for k, v in DEFAULT_RECIPE.items():
        ap.add_argument("--" + k.replace("_", "-"), type=type(v), default=None)
    ap.add_argument("--table", action="store_true", help="print the table of all CV runs and exit")
    ap.add_argument("--model-kw", default="{}", help="JSON of model constructor overrides")
    a = ap.parse_args(argv)
    if a.table:
        print(table())
        return
    torch.set_num_threads(a.threads)
    recipe = {k: getattr(a, k) for k in DEFAULT_RECIPE if getattr(a, k) is not None}
    folds = [int(x) for x in a.folds.split(",")] if a.folds else None
    if a.arch == "ensemble":
        from .zoo import STEPS

        res = run_cv_ensemble(a.config, recipe, dict(STEPS), seeds=tuple(range(a.seed + 1)), folds=folds)
        p = REPO / "runs" / "cv" / f"{a.config}.ensemble.{a.tag}.json"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(res, indent=1))
        return
    res = run_cv(a.config, a.arch, a.steps, recipe, a.seed, folds, model_kw=json.loads(a.model_kw))
    if a.arch != "linear":
        res["summary"] = summarise(res)
        s = res["summary"]
        print(f"SUMMARY {a.config} {a.arch} {a.tag}: best step {s['best_step']} mean R {s['best_r']:.4f} "
              f"RMSE {s['best_rmse']:.1f} (linear {s['linear_r']:.4f} / {s['linear_rmse']:.1f})", flush=True)
    p = REPO / "runs" / "cv" / f"{a.config}.{a.arch}.{a.tag}.json"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(res, indent=1))



def table(cv_dir=None) -> str:
    """Markdown table of every CV run in runs/cv (mean over folds at the best step)."""
    from pathlib import Path

    rows = ["| run | recipe | best step | CV median R | CV median RMSE µV | linear R | linear RMSE µV | "
            "R at last step |", "|---|---|---|---|---|---|---|---|"]
    for p in sorted(Path(cv_dir or REPO / "runs" / "cv").glob("*.json")):
        res = json.loads(p.read_text())
        if "summary" not in res:
            continue
        s = res["summary"]
        diff = {k: v for k, v in res["recipe"].items() if DEFAULT_RECIPE.get(k) != v}
        if res.get("model_kw"):
            diff["model"] = res["model_kw"]
        rows.append(f"| {p.stem} | {diff or 'default'} | {s['best_step']} | {s['best_r']:.4f} | {s['best_rmse']:.1f} | "
                    f"{s['linear_r']:.4f} | {s['linear_rmse']:.1f} | {s['mean_r'][-1]:.4f} (step {s['steps'][-1]}) |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
