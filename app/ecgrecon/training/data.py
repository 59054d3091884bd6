"""LUDB loading for training: baseline-removed 12-lead arrays, subject split, random crops."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..conditioning import remove_baseline
from ..io import read_recording
from ..leads import STANDARD_12

HERE = Path(__file__).resolve().parent
SPLIT_FILE = HERE / "ludb_split.json"
REPO = HERE.parent.parent.parent
BASELINE_HZ = 0.5
FS = 500


def data_root() -> Path:
    env = os.environ.get("ECGRECON_DATA")
    if env:
        return Path(env)
    return REPO.parent / "shared" / "data"


def ludb_dir() -> Path:
    return data_root() / "ludb" / "data"


def load_split() -> dict:
    return json.loads(SPLIT_FILE.read_text())


def train_subjects(split: dict | None = None) -> list[int]:
    split = split or load_split()
    return sorted(s for fold in split["cv_folds"] for s in fold)


def preprocess(signals: np.ndarray, fs: float = FS) -> np.ndarray:
    """The card's preprocessing (0.5 Hz zero-phase baseline removal), float32."""
    return remove_baseline(np.asarray(signals, np.float64), fs, BASELINE_HZ).astype(np.float32)


def load_record(path: str | Path) -> np.ndarray:
    """(12, n) float32 mV in STANDARD_12 order, baseline removed."""
    rec = read_recording(path)
    if abs(rec.fs - FS) > 1e-6:
        raise ValueError(f"{path}: expected {FS} Hz, got {rec.fs}")
    sig = np.stack([rec.lead(n) for n in STANDARD_12])
    return preprocess(sig, rec.fs)


def cache_path() -> Path:
    return REPO / "runs" / "ludb_bl05.npz"


def load_ludb(subjects: list[int] | None = None) -> dict[int, np.ndarray]:
    """All (or some) LUDB subjects, baseline-removed; cached in runs/ (git-ignored)."""
    cp = cache_path()
    if cp.exists():
        z = np.load(cp)
        data = {int(k): z[k] for k in z.files}
    else:
        data = {}
        for n in range(1, 201):
            data[n] = load_record(ludb_dir() / f"{n}.hea")
        cp.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cp, **{str(k): v for k, v in data.items()})
    if subjects is None:
        return data
    return {s: data[s] for s in subjects}


def lead_index(names) -> list[int]:
    return [STANDARD_12.index(n) for n in names]


def hospital_augment(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, rc: dict,
                     fs: float = FS) -> tuple[np.ndarray, np.ndarray]:
    """Imitate what differs between hospitals on one crop (inputs x, targets y; both leads x samples).

    Keys of ``rc`` (0 disables each):
    ``lead_gain``: log-normal gain error per input lead (calibration, skin contact);
    ``mix``: electrode displacement as a small random linear mixing of the input leads, x + mix * M x;
    ``hum``: mains interference at 50 or 60 Hz, amplitude up to ``hum`` mV per input lead;
    ``emg``: high-passed (> ~25 Hz) muscle noise, std up to ``emg`` mV on the inputs;
    ``band``: probability of an other analogue band limit (low-pass 40-150 Hz, or 250 Hz acquisition =
    125 Hz) applied to inputs and targets alike, since both come from the same machine.
    Baseline wander is not imitated: the engine removes it (0.5 Hz high-pass) before the network.
    """
    n_in, L = x.shape
    if rc.get("band") and rng.random() < rc["band"]:
        cut = float(rng.choice([40.0, 100.0, 125.0, 150.0]))
        from ..conditioning import lowpass  # its filter design is cached: called per crop

        both = lowpass(np.vstack([x, y]).astype(np.float64), fs, cut).astype(np.float32)
        x, y = both[:n_in], both[n_in:]
    if rc.get("mix"):
        M = np.eye(n_in) + rng.normal(0, rc["mix"], size=(n_in, n_in))
        x = (M @ x).astype(np.float32)
    if rc.get("lead_gain"):
        x = x * np.exp(rng.normal(0, rc["lead_gain"], size=(n_in, 1))).astype(np.float32)
    t = np.arange(L) / fs
    if rc.get("hum") and rng.random() < 0.5:
        f = 50.0 if rng.random() < 0.5 else 60.0
        amp = rng.uniform(0, rc["hum"], size=(n_in, 1))
        x = x + (amp * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi, size=(n_in, 1)))).astype(np.float32)
    if rc.get("emg") and rng.random() < 0.5:
        w = rng.normal(0, 1, size=(n_in, L))
        # white minus its 9-sample moving average (centred, zero-padded): energy above ~25 Hz
        c = np.cumsum(np.pad(w, ((0, 0), (5, 4))), axis=1)
        smooth = (c[:, 9:] - c[:, :-9]) / 9.0
        x = x + (rng.uniform(0, rc["emg"]) * (w - smooth)).astype(np.float32)
    return x, y


class CropSampler:
    """Random fixed-length crops of whole records (inputs, targets), with optional augmentation.

    Augmentation (all linear, so the lead relations stay physiological):
    ``amp``: one random gain per crop applied to inputs and targets (log-uniform +-amp);
    ``noise``: white Gaussian noise (mV, std drawn up to ``noise``) added to the inputs only;
    ``hospital``: the keys of :func:`hospital_augment`.
    """

    def __init__(self, records: list[np.ndarray], in_idx, out_idx, crop: int, rng: np.random.Generator,
                 amp: float = 0.0, noise: float = 0.0, hospital: dict | None = None) -> None:
        self.x = [r[in_idx] for r in records]
        self.y = [r[out_idx] for r in records]
        self.crop = crop
        self.rng = rng
        self.amp = amp
        self.noise = noise
        self.hospital = {k: v for k, v in (hospital or {}).items() if v}

    def batch(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        rng = self.rng
        xs, ys = [], []
        for _ in range(n):
            i = int(rng.integers(len(self.x)))
            L = self.x[i].shape[1]
            a = int(rng.integers(0, L - self.crop + 1))
            x = self.x[i][:, a:a + self.crop]
            y = self.y[i][:, a:a + self.crop]
            if self.amp > 0:
                g = float(np.exp(rng.uniform(-self.amp, self.amp)))
                x, y = x * g, y * g
            if self.hospital:
                x, y = hospital_augment(x, y, rng, self.hospital)
            if self.noise > 0:
                x = x + rng.normal(0, rng.uniform(0, self.noise), size=x.shape).astype(np.float32)
            xs.append(x)
            ys.append(y)
        return np.stack(xs).astype(np.float32), np.stack(ys).astype(np.float32)
