"""Does pre-training on synthetic ECGs (PyPI ``deepfake-ecg``) help? 5-fold CV by subject, same recipe.

python -m ecgrecon.training.pretrain_cv --generate 5000           # synthetic ECGs -> runs/deepfake/
python -m ecgrecon.training.pretrain_cv --config I-II-V2 --arch conv [--folds 0,1,2] [--variants ft,ft_lr3e-4]
python -m ecgrecon.training.pretrain_cv --table                    # markdown of runs/deepfake/cv.*.json

Synthetic data: the package's Pulse2Pulse generator (trained on real 10 s 500 Hz ECGs, 8 independent leads
I, II, V1-V6 in µV). We call it exactly as ``deepfakeecg.generate`` does (uniform(-1, 1) noise of shape
(8, 5000), output x 6000 truncated to integer µV) but batched and in memory instead of one text file per ECG;
then /1000 -> mV and the card's 0.5 Hz baseline removal (``data.preprocess``).

Per fold (same seed, same crops, same augmentation as the zoo's recipe):
  base  = ``fit.train_net`` from scratch on the fold's training subjects (zoo step count);
  ft*   = the network pre-trained on the synthetic ECGs (once, never sees LUDB), then fine-tuned on the fold's
          training subjects with the same step count (variants: lr, re-setting the linear path to the fold's
          least squares). Also scored: the pre-trained network alone (zero-shot).
Every model is scored on the fold's validation subjects (pooled median R / RMSE, ``fit.evaluate``) and on the PTB
record resources/samples/s0010_re (another hospital; 1000 -> 500 Hz via ``conditioning.resample``).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import time

import numpy as np
import torch

from ..conditioning import resample
from ..io import read_recording
from ..leads import STANDARD_12
from ..paths import samples_dir
from .configs import input_leads, output_leads
from .data import REPO, lead_index, load_ludb, load_split, preprocess
from .fit import evaluate, fit_linear, optimise, seed_all, train_net
from .models import build
from .zoo import RECIPE, STEPS

SYN_LEADS = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")  # deepfake-ecg channel order
OUT_DIR = REPO / "runs" / "deepfake"
VARIANTS = {  # name -> fine-tune options
    "ft": {"lr": 1e-3, "reset_linear": False},
    "ft_lr3e-4": {"lr": 3e-4, "reset_linear": False},
    "ft_lr1e-4": {"lr": 1e-4, "reset_linear": False},
    "ft_relin": {"lr": 1e-3, "reset_linear": True},
}


def syn_path(n: int):
    return OUT_DIR / f"deepfake_{n}.npy"


def generate(n: int, seed: int = 0, batch: int = 25) -> dict:
    """n synthetic ECGs -> (n, 8, 5000) float32 mV, baseline removed, cached in runs/deepfake/."""
    import deepfakeecg
    from deepfakeecg import Generator

    root = os.path.dirname(deepfakeecg.__file__)
    ck = torch.load(os.path.join(root, "checkpoints", "g_stat.pt"), map_location="cpu", weights_only=False)
    g = Generator()
    g.load_state_dict(ck["stat_dict"])
    g.eval()
    torch.manual_seed(seed)
    out = np.empty((n, len(SYN_LEADS), 5000), np.float32)
    t_wall, t_cpu = time.time(), time.process_time()
    with torch.no_grad():
        for a in range(0, n, batch):
            b = min(n, a + batch)
            uv = (g(torch.empty(b - a, 8, 5000).uniform_(-1, 1)) * 6000).int()  # what generate() writes, in µV
            out[a:b] = uv.numpy().astype(np.float32) / 1000.0
    gen_wall, gen_cpu = time.time() - t_wall, time.process_time() - t_cpu
    t_cpu = time.process_time()
    for i in range(n):
        out[i] = preprocess(out[i])
    filt_cpu = time.process_time() - t_cpu
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    np.save(syn_path(n), out)
    info = {"n": n, "seed": seed, "gen_wall_s_per_ecg": gen_wall / n, "gen_cpu_s_per_ecg": gen_cpu / n,
            "baseline_cpu_s_per_ecg": filt_cpu / n, "threads": torch.get_num_threads(),
            "amp_p99_mV": float(np.percentile(np.abs(out), 99))}
    (OUT_DIR / f"deepfake_{n}.json").write_text(json.dumps(info, indent=1))
    return info


def load_synthetic(n: int) -> list[np.ndarray]:
    return list(np.load(syn_path(n), mmap_mode="r"))


def load_ptb() -> np.ndarray:
    """PTB s0010_re, 12 leads (STANDARD_12 order), resampled to 500 Hz, baseline removed."""
    rec = read_recording(samples_dir() / "s0010_re.hea")
    sig = np.stack([rec.lead(n) for n in STANDARD_12])
    return preprocess(resample(sig, rec.fs, 500.0), 500.0)


def finetune(model: torch.nn.Module, records, in_idx, out_idx, *, steps: int, seed: int, recipe: dict,
             eval_records=None, eval_every: int = 100, reset_linear: bool = False):
    """``fit.train_net``'s loop (same seeding, sampler, optimiser, EMA) started from ``model``'s weights."""
    rc = dict(recipe)
    seed_all(seed)
    t_cpu = time.process_time()
    model = copy.deepcopy(model).train()
    for p in model.parameters():
        p.requires_grad_(True)
    if reset_linear:
        model.linear.set_ls(*fit_linear(records, in_idx, out_idx))
    ema, curve = optimise(model, records, in_idx, out_idx, steps=steps, seed=seed, recipe=rc,
                          eval_records=eval_records, eval_every=eval_every)
    return ema, curve, time.process_time() - t_cpu


def pretrain(config: str, arch: str, n_syn: int, steps: int, seed: int = 0, n_ls: int = 500):
    """Pre-train on the synthetic ECGs only (linear path = least squares on ``n_ls`` of them)."""
    syn = load_synthetic(n_syn)
    si = [SYN_LEADS.index(n) for n in input_leads(config)]
    so = [SYN_LEADS.index(n) for n in output_leads(config)]
    seed_all(seed)
    t = time.process_time()
    A, b = fit_linear([np.asarray(r) for r in syn[:n_ls]], si, so)
    model = build(arch, len(si), len(so))
    model.linear.set_ls(A, b)
    ls_cpu = time.process_time() - t
    ema, _, cpu = finetune(model, [np.asarray(r) for r in syn], si, so, steps=steps, seed=seed, recipe=RECIPE)
    return ema, cpu + ls_cpu


def _ptb_scores(model, ptb, ii, oi) -> dict:
    return evaluate(model, [ptb], ii, oi)


def run(config: str, arch: str, n_syn: int, pre_steps: int, variants, folds=None, seed: int = 0,
        steps: int | None = None, tag: str = "") -> dict:
    split = load_split()
    data = load_ludb()
    ptb = load_ptb()
    ii, oi = lead_index(input_leads(config)), lead_index(output_leads(config))
    steps = steps or STEPS[arch]
    pre, pre_cpu = pretrain(config, arch, n_syn, pre_steps, seed)
    print(f"{config} {arch}: pre-trained {pre_steps} steps on {n_syn} synthetic ECGs, {pre_cpu:.0f} cpu-s",
          flush=True)
    out = {"config": config, "arch": arch, "steps": steps, "recipe": RECIPE, "seed": seed, "n_syn": n_syn,
           "pre_steps": pre_steps, "pre_cpu_s": pre_cpu, "variants": {v: VARIANTS[v] for v in variants},
           "ptb": {"pre": _ptb_scores(pre, ptb, ii, oi)}, "folds": []}
    for f, val in enumerate(split["cv_folds"]):
        if folds is not None and f not in folds:
            continue
        tr = [data[s] for g, fold in enumerate(split["cv_folds"]) if g != f for s in fold]
        va = [data[s] for s in val]
        res = {"fold": f, "val": {"pre": evaluate(pre, va, ii, oi)}, "ptb": {}, "curve": {}, "cpu_s": {}}
        m, curve, cpu = train_net(arch, tr, ii, oi, steps=steps, seed=seed, recipe=RECIPE, eval_records=va)
        res["val"]["base"], res["ptb"]["base"] = curve[-1], _ptb_scores(m, ptb, ii, oi)
        res["curve"]["base"], res["cpu_s"]["base"] = curve, cpu
        for v in variants:
            o = VARIANTS[v]
            m, curve, cpu = finetune(pre, tr, ii, oi, steps=steps, seed=seed, recipe=dict(RECIPE, lr=o["lr"]),
                                     eval_records=va, reset_linear=o["reset_linear"])
            res["val"][v], res["ptb"][v] = curve[-1], _ptb_scores(m, ptb, ii, oi)
            res["curve"][v], res["cpu_s"][v] = curve, cpu
        out["folds"].append(res)
        ptb_r = {k: res["ptb"].get(k, out["ptb"]["pre"])["median_r"] for k in res["val"]}
        print(f"{config} {arch} fold {f}: " + "  ".join(
            f"{k} {s['median_r']:.4f}/{s['median_rmse_uv']:.1f} (PTB {ptb_r[k]:.3f})"
            for k, s in res["val"].items()), flush=True)
        p = OUT_DIR / f"cv.{config}.{arch}{tag}.json"
        p.write_text(json.dumps(out, indent=1))
    return out


def table(paths=None) -> str:
    paths = paths or sorted(OUT_DIR.glob("cv.*.json"))
    L = []
    for p in paths:
        res = json.loads(p.read_text())
        folds = res["folds"]
        keys = list(folds[0]["val"])
        L += ["", f"**{res['config']} {res['arch']}** ({len(folds)} folds; {res['steps']} steps; pre-training "
              f"{res['pre_steps']} steps on {res['n_syn']} synthetic ECGs, {res['pre_cpu_s']:.0f} CPU s)", "",
              "| model | " + " | ".join(f"fold {f['fold']}" for f in folds) + " | mean R / RMSE µV | "
              "mean Δ vs base R (sd) / µV | folds better | peak of mean curve R @ step | "
              "PTB R / RMSE µV (mean over folds) |",
              "|---|" + "---|" * len(folds) + "---|---|---|---|---|"]
        base_r = np.array([f["val"]["base"]["median_r"] for f in folds])
        base_e = np.array([f["val"]["base"]["median_rmse_uv"] for f in folds])
        for k in keys:
            r = np.array([f["val"][k]["median_r"] for f in folds])
            e = np.array([f["val"][k]["median_rmse_uv"] for f in folds])
            if k == "pre":
                ptb = res["ptb"]["pre"]
                pr, pe = ptb["median_r"], ptb["median_rmse_uv"]
            else:
                pr = np.mean([f["ptb"][k]["median_r"] for f in folds])
                pe = np.mean([f["ptb"][k]["median_rmse_uv"] for f in folds])
            name = {"pre": "pre-trained only (zero-shot)", "base": "baseline (from scratch)"}.get(k, k)
            d = "" if k == "base" else (f"{np.mean(r - base_r):+.4f} ({np.std(r - base_r, ddof=1):.4f}) / "
                                        f"{np.mean(e - base_e):+.1f}")
            if k == "pre":
                peak = ""
            else:
                mc = np.array([[c["median_r"] for c in f["curve"][k]] for f in folds]).mean(0)
                j = int(np.argmax(mc))
                peak = f"{mc[j]:.4f} @ {folds[0]['curve'][k][j]['step']}"
            nb = "" if k == "base" else f"{int(np.sum(r > base_r))}/{len(folds)}"
            L.append(f"| {name} | " + " | ".join(f"{a:.4f} / {b:.1f}" for a, b in zip(r, e, strict=True))
                     + f" | {r.mean():.4f} / {e.mean():.1f} | {d} | {nb} | {peak} | {pr:.3f} / {pe:.0f} |")
    return "\n".join(L)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--generate", type=int, default=0, help="generate N synthetic ECGs and exit")
    ap.add_argument("--config", default="I-II-V2")
    ap.add_argument("--arch", default="conv")
    ap.add_argument("--n-syn", type=int, default=5000)
    ap.add_argument("--pre-steps", type=int, default=1500)
    ap.add_argument("--variants", default="ft,ft_lr3e-4,ft_relin")
    ap.add_argument("--folds", default=None, help="comma list, default all 5")
    ap.add_argument("--steps", type=int, default=None, help="override the zoo step count (smoke tests)")
    ap.add_argument("--tag", default="")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--table", action="store_true")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    if a.table:
        print(table())
        return
    if a.generate:
        print(json.dumps(generate(a.generate), indent=1))
        return
    folds = [int(x) for x in a.folds.split(",")] if a.folds else None
    run(a.config, a.arch, a.n_syn, a.pre_steps, [v for v in a.variants.split(",") if v], folds,
        steps=a.steps, tag=a.tag)


if __name__ == "__main__":
    main()
