"""Per-lead trust signal: how far to trust a reconstructed lead, without its truth.

For each reconstructed lead the engine computes a few features of what it can
see (the preprocessed inputs, the network output, the members' outputs and a
universal linear map's output) and a model fitted on *held-out databases only*
turns them into ``expected_r``, the expected Pearson R against the recorded lead,
and ``low_confidence`` (expected_r below the card's threshold). The features and
their fit live here, in numpy, so training and the app compute them the same way.

Why these features: R is low where the true lead is small (little signal, so
noise and small shape errors dominate), where the network departs far from the
linear map (it is extrapolating), where members disagree, and where the inputs
are noisy or far from the training amplitudes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .metrics import LOW_R

FEATURES = ("log_amp", "log_nonlinear", "log_disagreement", "log_linear_ratio", "log_input_noise",
            "log_input_amp", "log_amp_vs_inputs", "input_corr_01", "input_corr_02", "input_corr_12",
            "log_input_slow", "log_one_minus_corr_linear")
EPS = 1e-4  # mV; keeps logs finite on flat leads
Z_CLIP = 0.995  # |R| clipped before atanh so perfect leads do not dominate the fit


def _std(a: np.ndarray) -> np.ndarray:
    # np.mean's own sums (add.reduce, then a division) without its Python wrapper: called 8 times a block
    n = a.shape[-1]
    d = a - np.add.reduce(a, axis=-1, keepdims=True) / n
    return np.sqrt(np.add.reduce(d * d, axis=-1) / n) + EPS


def _moving_average(x: np.ndarray, k: int) -> np.ndarray:
    """Centred k-sample moving average with zero padding (numpy's convolve 'same'), by cumulative sums."""
    left = k - (k - 1) // 2
    c = np.zeros((x.shape[0], x.shape[1] + k), x.dtype)  # np.pad's result, without its Python overhead
    c[:, left: left + x.shape[1]] = x
    np.cumsum(c, axis=1, out=c)
    return (c[:, k:] - c[:, :-k]) / k


def _hf_ratio(x: np.ndarray) -> float:
    """Share of the inputs' amplitude above ~25 Hz (at 500 Hz: x minus its 9-sample moving average)."""
    x = np.asarray(x, np.float64)
    hf = x - _moving_average(x, 9)
    return float(np.mean(_std(hf[:, 8:-8]) / _std(x)))


def _member_variance(members: list[np.ndarray]) -> np.ndarray:
    """``np.var(np.stack(members), axis=0)``, bit for bit (the same sums in the same order), without numpy's slow
    strided reduction over the member axis (0.9 of the 10 s trust features' 2.7 ms)."""
    k = members[0].dtype.type(len(members))
    s = members[0].copy()
    for a in members[1:]:
        s += a
    mu = s / k
    v = np.square(members[0] - mu)
    for a in members[1:]:
        v += np.square(a - mu)
    return v / k


def lead_features(x: np.ndarray, y: np.ndarray, linear: np.ndarray, members: list[np.ndarray] | None = None
                  ) -> np.ndarray:
    """(K, len(FEATURES)) features for the K reconstructed leads.

    ``x`` (3, n) preprocessed inputs at the model rate; ``y`` (K, n) the model output; ``linear`` (K, n)
    the universal linear map's output; ``members`` the ensemble members' outputs (None for one network).
    """
    n = min(x.shape[1], y.shape[1], linear.shape[1])
    x, y, linear = x[:, :n], y[:, :n], linear[:, :n]
    amp = _std(y)
    if members is not None and len(members) >= 2:
        dis = np.sqrt(np.mean(_member_variance([a[:, :n] for a in members]), axis=-1)) + EPS
    else:
        dis = np.full_like(amp, EPS)
    x_amp = float(np.mean(_std(x)))
    xc = np.nan_to_num(np.atleast_2d(np.corrcoef(np.asarray(x, np.float64)))) if x.shape[1] > 2 else np.eye(3)
    # slow content left after the baseline filter (wander remnants, movement): 0.5 s moving average
    slow = _moving_average(np.asarray(x, np.float64), 250)
    slow_ratio = float(np.mean(_std(slow[:, 250:-250] if x.shape[1] > 1000 else slow) / _std(x)))
    yc = y - y.mean(axis=1, keepdims=True)
    lc = linear - linear.mean(axis=1, keepdims=True)
    corr_lin = np.sum(yc * lc, axis=1) / (np.sqrt(np.sum(yc ** 2, axis=1) * np.sum(lc ** 2, axis=1)) + 1e-12)
    feats = np.stack([
        np.log10(amp),
        np.log10(_std(np.asarray(y, np.float64) - linear) / amp),  # cast first: a mixed-type subtract is slower
        np.log10(dis / amp),
        np.log10(_std(linear) / amp),
        np.full_like(amp, np.log10(_hf_ratio(x) + EPS)),
        np.full_like(amp, np.log10(x_amp)),
        np.log10(amp / x_amp),
        np.full_like(amp, xc[0, 1]), np.full_like(amp, xc[0, 2]), np.full_like(amp, xc[1, 2]),
        np.full_like(amp, np.log10(slow_ratio + EPS)),
        np.log10(np.clip(1.0 - corr_lin, 1e-4, 2.0)),
    ], axis=1)
    return feats


@dataclass(frozen=True)
class TrustModel:
    """Ridge regression of atanh(R) on the features plus one intercept per lead; stored in the model card."""

    leads: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: dict[str, float]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float  # expected_r below this: low confidence
    linear_a: tuple[tuple[float, ...], ...]  # (K, 3) universal least-squares map for the features
    linear_b: tuple[float, ...]
    fitted_on: str = ""
    scores: dict | None = None

    def expected_r(self, feats: np.ndarray, leads: tuple[str, ...] | list[str]) -> np.ndarray:
        z = ((feats - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.coef)
        z = z + np.array([self.intercept[n] for n in leads])
        return np.tanh(z)

    def linear(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.linear_a) @ np.asarray(x, np.float64) + np.asarray(self.linear_b)[:, None]

    def to_dict(self) -> dict:
        return {"features": list(FEATURES), "leads": list(self.leads), "coef": list(self.coef),
                "intercept": dict(self.intercept), "mean": list(self.mean), "scale": list(self.scale),
                "threshold": self.threshold, "linear_a": [list(r) for r in self.linear_a],
                "linear_b": list(self.linear_b), "fitted_on": self.fitted_on, "scores": self.scores or {}}

    @classmethod
    def from_dict(cls, d: dict) -> TrustModel:
        if list(d.get("features", [])) != list(FEATURES):
            raise ValueError(f"trust block has features {d.get('features')}, this version computes {FEATURES}")
        return cls(tuple(d["leads"]), tuple(float(c) for c in d["coef"]),
                   {k: float(v) for k, v in d["intercept"].items()}, tuple(d["mean"]), tuple(d["scale"]),
                   float(d["threshold"]), tuple(tuple(float(v) for v in r) for r in d["linear_a"]),
                   tuple(float(v) for v in d["linear_b"]), d.get("fitted_on", ""), d.get("scores"))


def fit(feats: np.ndarray, leads: list[str], r: np.ndarray, *, ridge: float = 1.0) -> tuple[tuple, dict, tuple, tuple]:
    """Closed-form ridge fit of atanh(R): returns (coef, intercept per lead, mean, scale)."""
    mu = feats.mean(0)
    sd = feats.std(0) + 1e-9
    Z = (feats - mu) / sd
    names = sorted(set(leads))
    onehot = np.array([[1.0 if n == m else 0.0 for m in names] for n in leads])
    A = np.hstack([Z, onehot])
    t = np.arctanh(np.clip(r, -Z_CLIP, Z_CLIP))
    reg = np.diag([ridge] * Z.shape[1] + [1e-6] * len(names))
    sol = np.linalg.solve(A.T @ A + reg, A.T @ t)
    coef = tuple(float(c) for c in sol[: Z.shape[1]])
    icpt = {n: float(sol[Z.shape[1] + i]) for i, n in enumerate(names)}
    return coef, icpt, tuple(float(v) for v in mu), tuple(float(v) for v in sd)


def choose_threshold(expected: np.ndarray, r: np.ndarray, *, max_flagged: float = 0.35,
                     target_bad_unflagged: float = 0.06) -> float:
    """Lowest expected-R threshold whose unflagged leads have at most ``target_bad_unflagged`` with R < 0.8.

    Capped so that at most ``max_flagged`` of the leads are flagged.
    """
    order = np.sort(np.unique(np.round(expected, 4)))
    cap = float(np.quantile(expected, max_flagged))
    for t in order:
        if t > cap:
            break
        keep = expected >= t
        if keep.sum() and np.mean(r[keep] < LOW_R) <= target_bad_unflagged:
            return float(t)
    return cap


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def score(expected: np.ndarray, r: np.ndarray, threshold: float) -> dict:
    """How well a trust signal ranks and flags leads (the issue's three figures)."""
    return score_flags(expected, r, expected < threshold)


def score_flags(expected: np.ndarray, r: np.ndarray, flagged: np.ndarray) -> dict:
    """:func:`score` for leads already flagged (``flagged`` true = low confidence)."""
    flagged = np.asarray(flagged, bool)
    unflagged = ~flagged
    return {"n_leads": int(len(r)), "spearman_expected_vs_true_r": spearman(expected, r),
            "share_flagged": float(np.mean(flagged)),
            "share_below_0_8_among_unflagged": float(np.mean(r[unflagged] < LOW_R)) if unflagged.any() else None,
            "share_below_0_8_among_flagged": float(np.mean(r[flagged] < LOW_R)) if flagged.any() else None,
            "share_below_0_8_all": float(np.mean(r < LOW_R))}
