"""Least-squares linear fit and the network training loop (CPU, seeded)."""

from __future__ import annotations

import copy
import random
import time

import numpy as np
import torch

from ..metrics import pearson_r, rmse_uv
from .data import CropSampler
from .models import LinearMap, build

DEFAULT_RECIPE = {
    "crop": 1024,  # samples (2.05 s)
    "batch": 16,
    "lr": 1e-3,
    "weight_decay": 0.0,
    "ema": 0.995,
    "amp": 0.0,  # log-gain range of amplitude augmentation
    "noise": 0.0,  # mV std of input noise augmentation
    "dropout": 0.0,
    "hospital": None,  # dict of hospital_augment keys (lead_gain, mix, hum, emg, band), or None
    "corr": 0.0,  # weight of a shape term, mean (1 - Pearson R) per crop and lead, added to the MSE
}


def crop_correlation_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over crops and leads of 1 - Pearson R along time: amplitude-free, so low-voltage leads and the
    shape of QRS/ST/T weigh as much as the tall leads do under MSE (R is what the models are chosen by)."""
    p = pred - pred.mean(dim=-1, keepdim=True)
    t = target - target.mean(dim=-1, keepdim=True)
    r = (p * t).sum(-1) / torch.sqrt((p * p).sum(-1) * (t * t).sum(-1) + 1e-6)
    return torch.mean(1.0 - r)


def seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def fit_linear(records: list[np.ndarray], in_idx, out_idx) -> tuple[np.ndarray, np.ndarray]:
    """Universal least squares y = A x + b over all samples of all training records."""
    X = np.concatenate([r[in_idx] for r in records], axis=1).astype(np.float64)
    Y = np.concatenate([r[out_idx] for r in records], axis=1).astype(np.float64)
    Xa = np.vstack([X, np.ones((1, X.shape[1]))])
    sol, *_ = np.linalg.lstsq(Xa.T, Y.T, rcond=None)  # (n_in+1, n_out)
    A = sol[:-1].T
    b = sol[-1]
    return A.astype(np.float32), b.astype(np.float32)


def predict(model: torch.nn.Module, x: np.ndarray, multiple: int = 16) -> np.ndarray:
    """Whole-record prediction; x (n_in, n) -> (n_out, n') with n' = n cropped to ``multiple``."""
    n = (x.shape[-1] // multiple) * multiple
    with torch.no_grad():
        return model(torch.as_tensor(x[None, :, :n], dtype=torch.float32))[0].numpy()


def evaluate(model, records: list[np.ndarray], in_idx, out_idx, multiple: int = 16) -> dict:
    """Pooled medians (over record x output lead) of R and RMSE (uV)."""
    rs, es = [], []
    for r in records:
        p = predict(model, r[in_idx], multiple)
        t = r[out_idx][:, : p.shape[1]]
        for k in range(p.shape[0]):
            rs.append(pearson_r(p[k], t[k]))
            es.append(rmse_uv(p[k], t[k]))
    return {"median_r": float(np.nanmedian(rs)), "median_rmse_uv": float(np.nanmedian(es)),
            "mean_r": float(np.nanmean(rs))}


def train_net(arch: str, train_records: list[np.ndarray], in_idx, out_idx, *, steps: int, seed: int = 0,
              recipe: dict | None = None, eval_records: list[np.ndarray] | None = None, eval_every: int = 100,
              model_kw: dict | None = None, log=None, evaluator=None) -> tuple[torch.nn.Module, list[dict], float]:
    """Train one network; returns (EMA model in eval mode, eval curve, CPU seconds)."""
    rc = dict(DEFAULT_RECIPE, **(recipe or {}))
    seed_all(seed)
    t_cpu = time.process_time()
    A, b = fit_linear(train_records, in_idx, out_idx)
    kw = dict(model_kw or {})
    if rc["dropout"]:
        kw["dropout"] = rc["dropout"]
    model = build(arch, len(in_idx), len(out_idx), **kw)
    model.linear.set_ls(A, b)
    ema, curve = optimise(model, train_records, in_idx, out_idx, steps=steps, seed=seed, recipe=rc,
                          eval_records=eval_records, eval_every=eval_every, log=log,
                          evaluator=evaluator)
    return ema, curve, time.process_time() - t_cpu


def linear_model(train_records, in_idx, out_idx) -> tuple[LinearMap, float]:
    t = time.process_time()
    A, b = fit_linear(train_records, in_idx, out_idx)
    m = LinearMap(len(in_idx), len(out_idx))
    m.set_ls(A, b)
    return m.eval(), time.process_time() - t


def optimise(model: torch.nn.Module, records: list[np.ndarray], in_idx, out_idx, *, steps: int, seed: int,
             recipe: dict, eval_records: list[np.ndarray] | None = None, eval_every: int = 100,
             log=None, evaluator=None) -> tuple[torch.nn.Module, list[dict]]:
    """The training loop (AdamW, random crops, EMA of the weights) from ``model``'s current weights.

    Returns the EMA model (eval mode) and the evaluation curve. Shared by training from scratch
    and by fine-tuning after pre-training, so both use exactly the same recipe. ``evaluator(ema) -> dict``
    replaces the default scoring on ``eval_records`` (e.g. leave-one-database-out scoring).
    """
    score = evaluator or (lambda m: evaluate(m, eval_records, in_idx, out_idx))
    scoring = evaluator is not None or eval_records is not None
    rc = recipe
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=rc["lr"], weight_decay=rc["weight_decay"])
    sampler = CropSampler(records, in_idx, out_idx, rc["crop"], np.random.default_rng(seed),
                          amp=rc["amp"], noise=rc["noise"], hospital=rc.get("hospital"))
    curve = []
    if scoring:
        curve.append({"step": 0, **score(ema)})
    model.train()
    for step in range(1, steps + 1):
        xb, yb = sampler.batch(rc["batch"])
        pred, target = model(torch.from_numpy(xb)), torch.from_numpy(yb)
        loss = torch.mean((pred - target) ** 2)
        if rc.get("corr"):
            loss = loss + rc["corr"] * crop_correlation_loss(pred, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            d = rc["ema"]
            for pe, pm in zip(ema.parameters(), model.parameters(), strict=True):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
        if scoring and step % eval_every == 0:
            curve.append({"step": step, "loss": float(loss), **score(ema)})
            if log:
                log(curve[-1])
    return ema.eval(), curve
