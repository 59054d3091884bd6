"""A dipole ECG with known P, QRS and T onsets/offsets, axes and ST offsets (measurement tests).

Every lead is a projection of one heart vector per wave, so the frontal axes are exact; waves have
compact support (set onsets/offsets), and the T wave falls linearly to its end, where the tangent
method's answer is the true end.
"""

import math

import numpy as np

from ecgrecon.leads import STANDARD_12
from ecgrecon.recording import Recording, Role

AUG = math.sqrt(3) / 2
LIMB = {"I": (0, 1), "II": (60, 1), "III": (120, 1), "aVR": (-150, AUG), "aVL": (-30, AUG), "aVF": (90, AUG)}
# Dower forward rows (X, Y, Z) for the precordial leads, from ../shared/data/README.md
DOWER = {"V1": (-0.515, 0.157, -0.917), "V2": (0.044, 0.164, -1.387), "V3": (0.882, 0.098, -1.277),
         "V4": (1.213, 0.127, -0.601), "V5": (1.125, 0.127, -0.086), "V6": (0.831, 0.076, 0.230)}


def lead_vector(name: str) -> np.ndarray:
    if name in LIMB:
        a, g = LIMB[name]
        return np.array([g * math.cos(math.radians(a)), g * math.sin(math.radians(a)), 0.0])
    return np.array(DOWER[name])


def vec(axis_deg: float, mag: float, z: float = 0.0) -> np.ndarray:
    return np.array([mag * math.cos(math.radians(axis_deg)), mag * math.sin(math.radians(axis_deg)), z])


def _bump(x: np.ndarray) -> np.ndarray:
    """Hann bump on [0, 1], zero outside."""
    return np.where((x >= 0) & (x <= 1), 0.5 * (1 - np.cos(2 * np.pi * np.clip(x, 0, 1))), 0.0)


def synth(*, fs=500, hr=60, pr=160, p_dur=100, qrs=96, qt=400, p_axis=50, qrs_axis=40, t_axis=30, st_uv=None,
          p_wave=True, seconds=10, noise_uv=0.0, seed=0, rr_jitter=0.0, af=False) -> Recording:
    """Intervals in ms from the QRS onset, axes in degrees, ST offsets in uV per lead name."""
    rr = 60.0 / hr
    t = np.arange(int(seconds * fs)) / fs
    sig = np.zeros((12, t.size))
    L = np.stack([lead_vector(n) for n in STANDARD_12])
    pv, qv, tv = vec(p_axis, 0.15, 0.02), vec(qrs_axis, 1.2, -0.4), vec(t_axis, 0.35, -0.1)
    st = np.array([(st_uv or {}).get(n, 0.0) / 1000 for n in STANDARD_12])
    jitter = 1 + rr_jitter * np.random.default_rng(seed).uniform(-1, 1, 200)
    onsets = 0.3 + np.cumsum(np.r_[0, rr * jitter])
    t_on, t_end = qrs + 80, qt
    t_pk = t_on + 0.65 * (t_end - t_on)
    for q0 in onsets[onsets < seconds]:
        u = (t - q0) * 1000  # ms from this beat's QRS onset
        if p_wave:
            up = (u + pr) / p_dur
            sig += np.outer(L @ pv, np.where((up >= 0) & (up <= 1), np.sin(np.pi * np.clip(up, 0, 1)), 0.0))
        uq = u / qrs  # Q small negative, R, S negative: zero at both ends
        sig += np.outer(L @ qv, -0.1 * _bump(uq / 0.25) + _bump((uq - 0.15) / 0.5) - 0.25 * _bump((uq - 0.55) / 0.45))
        rise = np.where((u >= t_on) & (u < t_pk), 0.5 * (1 - np.cos(np.pi * (u - t_on) / (t_pk - t_on))), 0.0)
        fall = np.where((u >= t_pk) & (u <= t_end), (t_end - u) / (t_end - t_pk), 0.0)
        sig += np.outer(L @ tv, rise + fall)
        # ST offset: reached smoothly across the QRS, held, back to 0 with the T wave's fall
        ramp = np.where((u >= 0) & (u < qrs), 0.5 * (1 - np.cos(np.pi * u / qrs)), 0.0)
        sig += np.outer(st, ramp + np.where((u >= qrs) & (u < t_pk), 1.0, 0.0) + fall)
    if af:  # fibrillatory waves instead of P waves
        rng = np.random.default_rng(seed + 1)
        f = sum(0.04 * np.sin(2 * np.pi * rng.uniform(4, 7) * t + rng.uniform(0, 6.3)) for _ in range(4))
        sig += np.outer(rng.uniform(0.3, 1.0, 12), f)
    if noise_uv:
        sig += np.random.default_rng(seed).normal(0, noise_uv / 1000, sig.shape)
    return Recording(sig.astype(np.float32), fs, STANDARD_12, (Role.MEASURED,) * 12)
