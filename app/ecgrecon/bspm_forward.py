"""Forward model: a real 12-lead ECG -> a synthetic body surface potential map (BSPM).

Used to make BSPM training data and samples from 12-lead databases (LUDB, PTB);
it is a documented approximation, not a torso simulation.

1. **Heart dipole.** The vectorcardiogram d(t) = (X, Y, Z) (Frank axes: X to
   the left, Y to the feet, Z to the back) comes from the inverse Dower
   transform: d = pinv(D) @ [V1..V6, I, II], D being the forward Dower matrix
   (Dower 1980; Edenbrandt and Pahlm 1988; values in ../shared/data/README.md).
2. **Lead vectors.** Each electrode e gets a lead vector c_e with potential
   c_e . d(t) against WCT. For the nine lead electrodes (RA, LA, LL, V1-V6)
   c_e follows from the Dower rows (V_k: row V_k; RA = -(I + II)/3,
   LA = (2I - II)/3, LL = (2II - I)/3). For the others: a dipole in an
   infinite homogeneous medium at the layout's heart centre gives a physical
   lead field g_e ~ (r_e - h)/|r_e - h|^3 (WCT-referenced); a 3x3 matrix A is
   fitted by least squares so that A g_e matches the nine Dower-derived vectors,
   and the fit's misfit at the nine is carried to other electrodes by
   inverse-distance weighting. So c_e = A g_e + IDW(misfit): exact at the nine.
3. **Non-dipolar residual.** r_k(t) = measured_k(t) - c_k . d(t) at the nine
   lead electrodes; an electrode e gets sum_k w_ek r_k(t) with inverse-square
   distance weights over its 3 nearest lead electrodes, damped by
   exp(-d_nearest / 5 cm).

Each step is linear and instantaneous, so the whole model is one matrix M
(n_electrodes x 8) applied to [V1..V6, I, II]: the nine lead electrodes
reproduce the source leads exactly (to float rounding) and WCT is exactly zero.
Limitation: every synthetic electrode is a fixed combination of the 8
independent leads; a real map carries local information this model cannot
invent. Results on synthetic maps measure how well a configuration captures
the 12-lead information, not real-world BSPM performance.

Validation: the inverse-Dower VCG of PTB s0010_re against its measured Frank
leads (:func:`frank_validation`, reported in docs/bspm.md and tested).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .bspm import LEAD_ELECTRODES, Layout, load_layout, recording_from_electrodes, standard12
from .errors import InputError
from .recording import Meta, Recording

MODEL_VERSION = "1"
MODEL_NAME = f"ecgrecon.bspm_forward v{MODEL_VERSION} (inverse Dower dipole + fitted lead vectors + IDW residual)"

DOWER_LEADS = ("V1", "V2", "V3", "V4", "V5", "V6", "I", "II")
#: forward Dower matrix: Frank X, Y, Z -> lead (mV per mV)
DOWER = np.array([
    [-0.515, 0.157, -0.917],
    [0.044, 0.164, -1.387],
    [0.882, 0.098, -1.277],
    [1.213, 0.127, -0.601],
    [1.125, 0.127, -0.086],
    [0.831, 0.076, 0.230],
    [0.632, -0.235, 0.059],
    [0.235, 1.066, -0.132],
])

RESIDUAL_DECAY_CM = 5.0
N_NEIGHBOURS = 3


def inverse_dower() -> np.ndarray:
    """3 x 8 inverse Dower matrix (pseudo-inverse of :data:`DOWER`), input order :data:`DOWER_LEADS`."""
    return np.linalg.pinv(DOWER)


def _l8(rec: Recording) -> np.ndarray:
    missing = [n for n in DOWER_LEADS if n not in rec.leads]
    if missing:
        raise InputError(f"forward model needs leads {', '.join(DOWER_LEADS)}; missing {', '.join(missing)}",
                         rec.meta.source or None)
    return np.stack([rec.lead(n).astype(np.float64) for n in DOWER_LEADS])


def vcg(rec: Recording) -> np.ndarray:
    """Inverse-Dower vectorcardiogram (3 x n, mV, Frank X, Y, Z)."""
    return inverse_dower() @ _l8(rec)


# the nine lead electrodes as combinations of the 8 independent leads [V1..V6, I, II]
def _electrode_map() -> np.ndarray:
    S = np.zeros((9, 8))
    for k in range(6):
        S[k + 3, k] = 1.0  # V1..V6 against WCT
    i, ii = 6, 7
    S[0, i], S[0, ii] = -1 / 3, -1 / 3  # RA
    S[1, i], S[1, ii] = 2 / 3, -1 / 3  # LA
    S[2, i], S[2, ii] = -1 / 3, 2 / 3  # LL
    return S  # rows in LEAD_ELECTRODES order


def _idw(dist: np.ndarray, k: int, power: float = 2.0) -> np.ndarray:
    """Row-normalised inverse-distance weights over the k nearest columns (exact where dist == 0)."""
    w = np.zeros_like(dist)
    for r in range(dist.shape[0]):
        idx = np.argsort(dist[r])[:k]
        d = dist[r, idx]
        if d[0] < 1e-9:
            w[r, idx[0]] = 1.0
            continue
        ww = 1.0 / d ** power
        w[r, idx] = ww / ww.sum()
    return w


@dataclass(frozen=True)
class ForwardModel:
    layout: Layout
    matrix: np.ndarray  # n_electrodes x 8, applied to [V1..V6, I, II]
    lead_vectors: np.ndarray  # n_electrodes x 3 (Frank axes)
    fit_r2: float  # how much of the nine Dower lead vectors the physical lead field explains

    @property
    def names(self) -> tuple[str, ...]:
        return self.layout.names

    def potentials(self, l8: np.ndarray) -> np.ndarray:
        """WCT-referenced electrode potentials (n_electrodes x n, mV) from [V1..V6, I, II]."""
        return self.matrix @ np.asarray(l8, np.float64)


def build_forward(layout: Layout | str | None = None) -> ForwardModel:
    lay = load_layout(layout)
    if not lay.has_standard():
        raise InputError(f"layout {lay.name} lacks the lead electrodes {', '.join(LEAD_ELECTRODES)}")
    names = lay.names
    pos = lay.xyz()
    std_idx = [names.index(n) for n in LEAD_ELECTRODES]
    h = np.asarray(lay.torso.heart)
    rel = pos - h
    # body (x left, y anterior, z superior) -> Frank (X left, Y feet, Z back)
    rel_f = np.stack([rel[:, 0], -rel[:, 2], -rel[:, 1]], axis=1)
    g = rel_f / np.linalg.norm(rel, axis=1)[:, None] ** 3
    g = g - g[[names.index(n) for n in ("RA", "LA", "LL")]].mean(axis=0)  # against WCT
    S = _electrode_map()
    P = inverse_dower()
    c_std = S @ DOWER  # 9 x 3: lead vectors of the nine lead electrodes
    At, *_ = np.linalg.lstsq(g[std_idx], c_std, rcond=None)  # g @ At ~ c
    fit = g @ At
    mis = c_std - fit[std_idx]
    r2 = 1.0 - float(np.sum(mis ** 2) / np.sum((c_std - c_std.mean(0)) ** 2))
    dist = np.linalg.norm(pos[:, None, :] - pos[None, std_idx, :], axis=2)  # n x 9
    w = _idw(dist, N_NEIGHBOURS)
    C = fit + w @ mis
    damp = np.exp(-dist.min(axis=1) / RESIDUAL_DECAY_CM)
    W = w * damp[:, None]
    W[std_idx] = np.eye(9)  # exact at the lead electrodes
    C[std_idx] = c_std
    # phi = C d + W (S l8 - C_std d), d = P l8
    M = C @ P + W @ (S - c_std @ P)
    M[std_idx] = S
    return ForwardModel(lay, M, C, r2)


def synthesize(rec: Recording, layout: Layout | str | None = None, *, model: ForwardModel | None = None,
               record_label: str | None = None) -> Recording:
    """A synthetic BSPM Recording (electrodes + derived 12 leads) from a real 12-lead Recording."""
    fm = model or build_forward(layout)
    pot = fm.potentials(_l8(rec))
    label = record_label or rec.meta.record_id or rec.meta.source or "unknown record"
    prov = {
        "synthetic": f"SYNTHETIC body surface map computed from real 12-lead record {label} by {MODEL_NAME}",
        "source_record": str(label),
        "forward_model": MODEL_NAME,
        "layout": fm.layout.name,
    }
    meta = Meta(record_id=f"{rec.meta.record_id or 'record'}_bspm", source="", patient=dict(rec.meta.patient),
                comments=(prov["synthetic"],), provenance=prov)
    out = recording_from_electrodes(pot, fm.names, rec.fs, reference="WCT", layout=fm.layout, meta=meta)
    return out


def standard_from_model(bspm: Recording) -> np.ndarray:
    el = bspm.electrodes
    if el is None:
        raise ValueError("recording has no electrodes")
    return standard12(el.names, el.potentials)


def frank_validation(rec: Recording, baseline_hz: float = 0.5) -> dict[str, float]:
    """Pearson R of the inverse-Dower VCG vs measured Frank X, Y, Z (after baseline removal on both)."""
    from .conditioning import remove_baseline
    from .metrics import pearson_r

    if not rec.has("X", "Y", "Z"):
        raise InputError("record has no Frank leads X, Y, Z", rec.meta.source or None)
    est = remove_baseline(vcg(rec), rec.fs, baseline_hz)
    meas = remove_baseline(np.stack([rec.lead(n).astype(np.float64) for n in ("X", "Y", "Z")]), rec.fs, baseline_hz)
    return {ax: pearson_r(est[i], meas[i]) for i, ax in enumerate(("X", "Y", "Z"))}


def describe(model: ForwardModel | None = None) -> dict:
    fm = model or build_forward()
    return {"model": MODEL_NAME, "layout": fm.layout.name, "lead_vector_fit_r2": fm.fit_r2,
            "residual_decay_cm": RESIDUAL_DECAY_CM, "neighbours": N_NEIGHBOURS}


__all__ = ["DOWER", "DOWER_LEADS", "ForwardModel", "build_forward", "synthesize", "vcg", "frank_validation",
           "inverse_dower", "describe", "replace"]
