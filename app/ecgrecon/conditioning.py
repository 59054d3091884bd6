"""Signal conditioning: baseline removal, mains notch, low-pass, resampling.

Every step is zero-phase (forward-backward) so waves are not shifted, and is
described by a frozen spec whose ``describe()`` text goes on printouts as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np
from scipy import signal as sps


@dataclass(frozen=True)
class FilterSpec:
    baseline_hz: float | None = None  # high-pass cut-off for baseline wander, e.g. 0.5
    notch_hz: float | None = None  # 50 or 60
    lowpass_hz: float | None = None  # e.g. 40 or 150

    def is_identity(self) -> bool:
        return self.baseline_hz is None and self.notch_hz is None and self.lowpass_hz is None

    def describe(self) -> str:
        parts = []
        if self.baseline_hz:
            parts.append(f"baseline {self.baseline_hz:g} Hz high-pass (Butterworth 2, zero-phase)")
        if self.notch_hz:
            parts.append(f"notch {self.notch_hz:g} Hz (Q 30, zero-phase)")
        if self.lowpass_hz:
            parts.append(f"low-pass {self.lowpass_hz:g} Hz (Butterworth 4, zero-phase)")
        return "; ".join(parts) if parts else "no filters"


def _filtfilt_sos(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    """scipy's ``sosfiltfilt`` (odd extension, steady-state initial conditions, forward then backward) with
    the initial conditions computed once per filter: on a 10 s strip they cost as much as the filtering."""
    from scipy.signal._arraytools import odd_ext

    sos = np.asarray(sos, np.float64)
    n = x.shape[-1]
    pad = max(min(3 * (2 * len(sos) + 1) * 10, n - 1), 0)  # long enough pad to settle, short signals still work
    if n < 4:
        return x.copy()
    zi = _sos_zi(sos.tobytes(), sos.shape).reshape((sos.shape[0],) + (1,) * (x.ndim - 1) + (2,))
    ext = odd_ext(x, pad, axis=-1) if pad else np.asarray(x, np.float64)
    y, _ = sps.sosfilt(sos, ext, axis=-1, zi=zi * ext[None, ..., :1])
    y, _ = sps.sosfilt(sos, y[..., ::-1], axis=-1, zi=zi * y[None, ..., -1:])
    y = y[..., ::-1]
    return y[..., pad: y.shape[-1] - pad] if pad else y


@lru_cache(maxsize=64)
def _sos_zi(key: bytes, shape: tuple[int, ...]) -> np.ndarray:
    return sps.sosfilt_zi(np.frombuffer(key).reshape(shape))


@lru_cache(maxsize=64)
def _butter(order: int, cutoff: float, btype: str, fs: float) -> np.ndarray:
    """Filter design, once per (order, cut-off, type, rate): designing costs about a millisecond a call.
    (Not flagged read-only: scipy's sosfilt wants a writable buffer; nothing here writes to it.)"""
    sos = sps.butter(order, cutoff, btype=btype, fs=fs, output="sos")
    return sos


def remove_baseline(x: np.ndarray, fs: float, cutoff: float = 0.5) -> np.ndarray:
    return _filtfilt_sos(_butter(2, float(cutoff), "highpass", float(fs)), x)


def notch(x: np.ndarray, fs: float, freq: float = 50.0, q: float = 30.0) -> np.ndarray:
    if freq >= fs / 2:
        return x.copy()
    b, a = sps.iirnotch(freq, q, fs=fs)
    return _filtfilt_sos(sps.tf2sos(b, a), x)


def lowpass(x: np.ndarray, fs: float, cutoff: float = 40.0) -> np.ndarray:
    if cutoff >= fs / 2:
        return x.copy()
    return _filtfilt_sos(_butter(4, float(cutoff), "lowpass", float(fs)), x)


def apply_filters(x: np.ndarray, fs: float, spec: FilterSpec) -> np.ndarray:
    """Apply ``spec`` along the last axis; NaNs are kept where they were."""
    if spec.is_identity():
        return np.asarray(x)
    x = np.asarray(x, dtype=np.float64)
    bad = ~np.isfinite(x)
    gaps = bool(bad.any())  # rare; two passes over every block saved when there are none
    y = np.where(bad, 0.0, x) if gaps else x
    if spec.baseline_hz:
        y = remove_baseline(y, fs, spec.baseline_hz)
    if spec.notch_hz:
        y = notch(y, fs, spec.notch_hz)
    if spec.lowpass_hz:
        y = lowpass(y, fs, spec.lowpass_hz)
    if gaps:
        y[bad] = np.nan
    return y.astype(np.float32)


def resample(x: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    """Polyphase resampling along the last axis (anti-aliased, no phase shift)."""
    if abs(fs_in - fs_out) < 1e-9:
        return np.asarray(x)
    frac = Fraction(fs_out / fs_in).limit_denominator(1000)
    y = sps.resample_poly(np.asarray(x, dtype=np.float64), frac.numerator, frac.denominator, axis=-1)
    return y.astype(np.float32)


def resample_recording(rec, fs_out: float):
    """Recording resampled to ``fs_out``; metadata and roles kept."""
    from dataclasses import replace

    if abs(rec.fs - fs_out) < 1e-9:
        return rec
    return replace(rec, signals=resample(rec.signals, rec.fs, fs_out), fs=float(fs_out), electrodes=None)


def filter_recording(rec, spec: FilterSpec):
    from dataclasses import replace

    if spec.is_identity():
        return rec
    return replace(rec, signals=apply_filters(rec.signals, rec.fs, spec))
