"""Train, export and card the bundled models.

    python -m ecgrecon.training.zoo --all                      # every configuration, every architecture
    python -m ecgrecon.training.zoo --config I-II-V2 --arch conv
    python -m ecgrecon.training.zoo --smoke --out /tmp/zoo      # CI: a few steps on 2 sample records

Final models are fitted on the development portions of five databases (LUDB, CPSC 2018,
CPSC-Extra, G12EC Georgia, PTB-XL; app/ecgrecon/training/db_split.json) with the recipe and
number of steps chosen by leave-one-database-out validation (see models/TRAINING_NOTES.md).
External figures and the trust model come from ``lodo external`` + ``trustfit`` afterwards.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from .. import leads as _leads
from .configs import ARCHS, CONFIG_NAMES, input_leads, output_leads
from .data import REPO, lead_index, load_split, preprocess
from .databases import FOLD_DATABASES, final_training, load_all, load_db_split
from .export import OPSET, export_onnx, sha256, verify_onnx
from .fit import DEFAULT_RECIPE, linear_model, train_net
from .models import n_parameters, receptive_field

VERSION = "2.0.0"  # 2.0.0: six databases, LODO-chosen recipe, trust model (2026-12)
SEED = 0
WINDOW = 4096
# Chosen by leave-one-database-out validation on I-II-V3 (runs/lodo, summarised in models/TRAINING_NOTES.md):
# the hospital augmentations (per-lead gain, electrode mixing, mains hum, EMG, other band limits, amplitude
# +-0.7 log) and 2000 steps (the LODO curves still rose slowly at 2000; more did not fit the CPU budget).
from .lodo import RECIPES  # noqa: E402

RECIPE = dict(DEFAULT_RECIPE, **RECIPES["hospital"])
STEPS = {"conv": 2000, "temporal": 2000}
# budget override (TRAINING_NOTES: six configurations were trained with 1000 steps in the 2026-12 round);
# the steps actually used are in every card's training.epochs_or_steps
if os.environ.get("ECGRECON_TRAIN_STEPS"):
    STEPS = {k: int(os.environ["ECGRECON_TRAIN_STEPS"]) for k in STEPS}
# Per-configuration departures from RECIPE/STEPS. The shape-term recipe was chosen on LODO curves of I-II-V3
# over the development portions of the held-out databases (test portions untouched; TRAINING_NOTES.md, "shape
# term"): a 0.2 correlation term in the loss was ahead at every evaluated step, the temporal member peaking at
# 1000 steps. It was then applied, unchanged and kept whatever the outcome, to the two configurations that
# missed the gain-over-linear target (I-II-V2, II-V2-V6); the others keep the recipe they were trained with.
SHAPE_TERM = {"recipe": "hospital_corr20", "steps": {"conv": 2000, "temporal": 1000}}
CONFIG_RECIPES: dict[str, dict] = {"I-II-V3": SHAPE_TERM, "I-II-V2": SHAPE_TERM, "II-V2-V6": SHAPE_TERM}


def recipe_for(config: str) -> dict:
    """The training recipe of ``config``'s networks (RECIPE unless CONFIG_RECIPES names another)."""
    name = CONFIG_RECIPES.get(config, {}).get("recipe")
    return dict(DEFAULT_RECIPE, **RECIPES[name]) if name else dict(RECIPE)


def steps_for(config: str) -> dict[str, int]:
    """Training steps per architecture for ``config``; ECGRECON_TRAIN_STEPS overrides every one."""
    if os.environ.get("ECGRECON_TRAIN_STEPS"):
        return dict(STEPS)
    return dict(STEPS, **CONFIG_RECIPES.get(config, {}).get("steps", {}))


MODEL_KW: dict[str, dict] = {"conv": {}, "temporal": {}}
# (arch, seed) members of <cfg>.ensemble; seed 0 is <cfg>.<arch>, seed s > 0 is <cfg>.<arch>.s<s>
# Two members since the six-database retraining: second seeds gained <= 0.001 R in CV (TRAINING_NOTES.md)
ENSEMBLE_MEMBERS = (("conv", 0), ("temporal", 0))


def model_id(config: str, arch: str, seed: int = SEED) -> str:
    return f"{config}.{arch}" if seed == SEED else f"{config}.{arch}.s{seed}"
LICENSE = "MIT (model weights); trained on LUDB (ODC-By) and PhysioNet/CinC Challenge 2020/2021 data (CC BY 4.0)"
DATA_DESC = ("development portions of LUDB v1.0.1, CPSC 2018, CPSC 2018 Extra, G12EC Georgia and PTB-XL "
             "(app/ecgrecon/training/db_split.json), 500 Hz")


def _augmentation_text(rc: dict) -> str:
    parts = [f"random {rc['crop']}-sample crops (batch {rc['batch']})"]
    if rc.get("amp"):
        parts.append(f"common amplitude gain exp(U(-{rc['amp']},{rc['amp']})) on inputs and targets")
    if rc.get("noise"):
        parts.append(f"white noise up to {rc['noise']} mV std on inputs")
    h = rc.get("hospital") or {}
    if h:
        parts.append("hospital differences on the inputs: " + ", ".join(
            f"{k} {v}" for k, v in h.items() if v) + " (ecgrecon.training.data.hospital_augment)")
    if not rc.get("amp") and not rc.get("noise"):
        parts.append("no amplitude/noise augmentation")
    return "; ".join(parts)


def _overlap(rf: int, mult: int) -> int:
    half = -(-rf // 2)
    return int(-(-half // mult) * mult) if mult > 1 else int(half if rf > 1 else 0)


def _card(model_id: str, config: str, arch: str, model, onnx_path: Path | None, training: dict,
          members: list[str] | None = None, rf: int = 1, mult: int = 1, detail: str = "") -> dict:
    ins, outs = input_leads(config), output_leads(config)
    card = {
        "schema": 1, "id": model_id, "version": VERSION, "configuration": config, "architecture": arch,
        "architecture_detail": detail, "n_parameters": n_parameters(model) if model is not None else None,
        "input_leads": list(ins), "output_leads": list(outs), "fs": 500,
        "receptive_field_samples": int(rf), "window_samples": WINDOW, "overlap_samples": _overlap(rf, mult),
        "length_multiple": int(mult),
        "preprocessing": {"baseline_hz": 0.5, "notch_hz": None, "lowpass_hz": None},
        "input_normalisation": "inputs in mV, no scaling",
        "onnx": None if onnx_path is None else {"file": onnx_path.name, "sha256": sha256(onnx_path), "input_name": "x",
                                                 "output_name": "y", "opset": OPSET},
        "members": members or [],
        "training": training,
        "metrics_test": None,
        "license": LICENSE,
        "created": _dt.date.today().isoformat(),
    }
    return card


def _write_card(card: dict, out_dir: Path) -> Path:
    p = out_dir / f"{card['id']}.json"
    p.write_text(json.dumps(card, indent=1) + "\n")
    return p


def build_one(config: str, arch: str, train_records: list[np.ndarray], out_dir: Path, *, steps: int | None = None,
              seed: int = SEED, recipe: dict | None = None, training_extra: dict | None = None,
              model_kw: dict | None = None):
    """Train (or fit) one model, export it to ``out_dir``, write its card (without test metrics).

    Returns (torch model, onnx path, card path)."""
    torch.set_num_threads(1)
    ii, oi = lead_index(input_leads(config)), lead_index(output_leads(config))
    rc = dict(recipe_for(config), **(recipe or {}))
    mid = model_id(config, arch, seed)
    t_wall = time.time()
    if arch == "linear":
        model, cpu = linear_model(train_records, ii, oi)
        n_steps = 0
        mult, rf = 1, 1
        detail = (f"universal least-squares linear map y = A x + b ({len(oi)}x3 + {len(oi)} coefficients), "
                  "a 1x1 convolution")
        aug = "none (closed-form least squares over every sample of every training record)"
    else:
        n_steps = int(steps if steps is not None else steps_for(config)[arch])
        kw = dict(MODEL_KW.get(arch, {}), **(model_kw or {}))
        model, _, cpu = train_net(arch, train_records, ii, oi, steps=n_steps, seed=seed, recipe=rc, model_kw=kw)
        mult = model.length_multiple
        rf = receptive_field(model, len(ii))
        detail = f"{model.describe()}; {n_parameters(model) / 1000:.0f}k parameters"
        aug = _augmentation_text(rc)
    onnx_path = out_dir / f"{mid}.onnx"
    t_exp = time.process_time()
    export_onnx(model, len(ii), onnx_path, max(mult, 1))
    err = verify_onnx(model, onnx_path, len(ii), lengths=tuple(L for L in (512, 1024, 4992)))
    exp_cpu = time.process_time() - t_exp
    training = {
        "data": DATA_DESC, "split_file": "app/ecgrecon/training/db_split.json",
        "seed": seed, "epochs_or_steps": n_steps if arch != "linear" else "closed form",
        "optimizer": None if arch == "linear" else
        f"AdamW lr {rc['lr']}, weight decay {rc['weight_decay']}, EMA {rc['ema']} of weights (exported), "
        + (f"MSE + {rc['corr']:g} x mean(1 - Pearson R) per crop and lead (fit.crop_correlation_loss)"
           if rc.get("corr") else "MSE loss"),
        "augmentation": aug, "cpu_seconds": round(cpu, 1), "export_cpu_seconds": round(exp_cpu, 1),
        "wall_seconds": round(time.time() - t_wall, 1), "onnx_max_abs_diff_vs_torch": err,
        "command": f"python -m ecgrecon.training.zoo --config {config} --arch {arch}"
                   + (f" --seed {seed}" if seed != SEED else ""),
        **(training_extra or {}),
    }
    from ..onnxmeta import bind_leads

    bind_leads(onnx_path, input_leads(config), output_leads(config))  # before the hash goes into the card
    card = _card(mid, config, arch, model, onnx_path, training, rf=rf, mult=max(mult, 1), detail=detail)
    return model, onnx_path, _write_card(card, out_dir)


def ensemble_card(config: str, out_dir: Path, members_spec=ENSEMBLE_MEMBERS) -> Path:
    members = [json.loads((out_dir / f"{model_id(config, a, s)}.json").read_text()) for a, s in members_spec]
    rf = max(m["receptive_field_samples"] for m in members)
    mult = max(m["length_multiple"] for m in members)
    training = {k: v for k, v in members[0]["training"].items() if k in ("data", "split_file", "train_records",
                                                                         "validation", "test_subjects", "seed")}
    training.update({
        "epochs_or_steps": {m["id"]: m["training"]["epochs_or_steps"] for m in members},
        "seed": sorted({m["training"]["seed"] for m in members}),
        "augmentation": "see members", "cpu_seconds": round(sum(m["training"]["cpu_seconds"] for m in members), 1),
        "command": f"python -m ecgrecon.training.zoo --config {config} --arch ensemble",
    })
    card = _card(f"{config}.ensemble", config, "ensemble", None, None, training, members=[m["id"] for m in members],
                 rf=rf, mult=mult,
                 detail="average of the outputs of " + " and ".join(m["id"] for m in members))
    card["n_parameters"] = sum(m["n_parameters"] for m in members)
    card["overlap_samples"] = max(_overlap(rf, mult), *(m["overlap_samples"] for m in members))
    return _write_card(card, out_dir)


def add_test_metrics(out_dir: Path, model_ids: list[str], test_subjects: list[int], data_dir=None) -> dict:
    """Score models on the test subjects through the app's engine and store metrics_test in their cards."""
    from ..evaluation import evaluate_model, score_cards

    return score_cards(out_dir, model_ids, lambda card, zoo: evaluate_model(card, zoo, test_subjects, data_dir))


def build_config(config: str, archs, out_dir: Path, data: dict, split: dict, *, seeds=(SEED,),
                 log=print) -> dict:
    names = final_training(split)
    recs = [data[r] for r in names]
    extra = {"train_records": {db: len(split["databases"][db]["dev"]) for db in FOLD_DATABASES},
             "validation": "leave-one-database-out over the development portions (recipe and steps chosen on "
                           "I-II-V3, see models/TRAINING_NOTES.md); final fit on all development portions; "
                           "test portions and PTB never trained or tuned on",
             "test_subjects": sorted(load_split()["test"])}
    built = []
    for arch in archs:
        if arch == "ensemble":
            continue
        for seed in (seeds if arch != "linear" else (SEED,)):
            _, p, _ = build_one(config, arch, recs, out_dir, seed=seed, training_extra=extra)
            mid = model_id(config, arch, seed)
            c = json.loads((out_dir / f"{mid}.json").read_text())
            log(f"{c['id']}: {c['n_parameters']} params, rf {c['receptive_field_samples']}, "
                f"{c['training']['cpu_seconds']} cpu-s, {p.stat().st_size / 1e6:.2f} MB")
            built.append(mid)
    ludb_test = sorted(load_split()["test"])
    metrics = add_test_metrics(out_dir, built, ludb_test) if built else {}
    if "ensemble" in archs and all((out_dir / f"{model_id(config, a, s)}.json").exists()
                                   for a, s in ENSEMBLE_MEMBERS):
        ep = ensemble_card(config, out_dir)
        metrics.update(add_test_metrics(out_dir, [f"{config}.ensemble"], ludb_test))
        log(f"  {ep.name}: ensemble card written")
    for mid, m in metrics.items():
        log(f"  {mid}: LUDB test reconstructed median R {m['reconstructed_median_r']:.4f}, "
            f"RMSE {m['reconstructed_median_rmse_uv']:.1f} uV; all-12 R {m['all12_median_r']:.4f}")
    return metrics


# -- smoke mode (CI) ---------------------------------------------------------
def smoke_records() -> list[np.ndarray]:
    """Two 12-lead records without ../shared: the bundled LUDB sample and a time-reversed, rescaled copy."""
    from ..io import read_recording
    from ..paths import samples_dir

    rec = read_recording(samples_dir() / "ludb_3.hea")
    sig = np.stack([rec.lead(n) for n in _leads.STANDARD_12])
    a = preprocess(sig, rec.fs)
    b = preprocess(sig[:, ::-1].copy() * 0.8, rec.fs)
    return [a, b]


def smoke(out_dir: Path, config: str = "I-II-V2", archs=("linear", "conv", "temporal"), steps: int = 3) -> dict:
    """Train a few steps on 2 records, export, verify, write cards; returns {id: (torch model, onnx, card)}."""
    recs = smoke_records()
    out_dir.mkdir(parents=True, exist_ok=True)
    res = {}
    for arch in archs:
        kw = {"ch": (8, 8, 8, 8, 8)} if arch == "conv" else {"c_front": 8, "c": 8} if arch == "temporal" else None
        m, p, c = build_one(config, arch, recs, out_dir, steps=steps, recipe={"batch": 2, "crop": 512},
                            training_extra={"train_subjects": ["smoke"], "test_subjects": []}, model_kw=kw)
        res[f"{config}.{arch}"] = (m, p, c)
    if "conv" in archs and "temporal" in archs:
        res[f"{config}.ensemble"] = (None, None, ensemble_card(config, out_dir, (("conv", 0), ("temporal", 0))))
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ecgrecon.training.zoo", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--all", action="store_true", help="every configuration and architecture")
    ap.add_argument("--config", action="append", choices=CONFIG_NAMES)
    ap.add_argument("--arch", action="append", choices=(*ARCHS, "ensemble"))
    ap.add_argument("--out", type=Path, default=REPO / "models")
    ap.add_argument("--seed", type=int, action="append", help="seed(s) of the networks (default 0; --all: 0 and 1, "
                    "the ensemble members)")
    ap.add_argument("--smoke", action="store_true", help="CI: a few steps on 2 sample records into --out or a temp dir")
    ap.add_argument("--refresh-metrics", action="store_true",
                    help="recompute metrics_test of every card in --out (no training)")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    if a.refresh_metrics:
        ids = sorted(p.stem for p in a.out.glob("*.json") if "architecture" in json.loads(p.read_text()))
        for mid, m in add_test_metrics(a.out, ids, sorted(load_split()["test"])).items():
            print(f"{mid}: R {m['reconstructed_median_r']:.4f} RMSE {m['reconstructed_median_rmse_uv']:.1f}")
        return 0
    if a.smoke:
        out = a.out if "--out" in (argv or sys.argv) else Path(tempfile.mkdtemp(prefix="ecgrecon-smoke-"))
        for mid, (_, p, c) in smoke(out).items():
            print(f"{mid}: {p} {c}")
        return 0
    configs = list(CONFIG_NAMES) if a.all or not a.config else a.config
    archs = (*ARCHS, "ensemble") if a.all or not a.arch else tuple(a.arch)
    split = load_db_split()
    data = load_all()
    a.out.mkdir(parents=True, exist_ok=True)
    print(f"training {', '.join(configs)} x {', '.join(archs)} -> {a.out}  ({shlex.join(sys.argv)})", flush=True)
    for cfg in configs:
        seeds = tuple(a.seed) if a.seed else (tuple(sorted({s for _, s in ENSEMBLE_MEMBERS})) if a.all else (SEED,))
        build_config(cfg, archs, a.out, data, split, seeds=seeds, log=lambda s: print(s, flush=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
