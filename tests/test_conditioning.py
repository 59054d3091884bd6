"""Baseline removal, notch, low-pass, resampling: amplitudes, zero phase, lengths."""

from __future__ import annotations

import numpy as np
import pytest

from ecgrecon.conditioning import (
    FilterSpec,
    apply_filters,
    filter_recording,
    lowpass,
    notch,
    remove_baseline,
    resample,
    resample_recording,
)
from ecgrecon.recording import Recording, Role

FS = 500.0
T = np.arange(int(20 * FS)) / FS  # 20 s
MID = slice(int(5 * FS), int(15 * FS))  # away from the edges


def amp(x: np.ndarray, f: float, fs: float = FS) -> float:
    """Amplitude of the f Hz component (least squares on sin and cos)."""
    t = np.arange(x.size) / fs
    m = np.column_stack([np.sin(2 * np.pi * f * t), np.cos(2 * np.pi * f * t), np.ones_like(t)])
    c, *_ = np.linalg.lstsq(m, x, rcond=None)
    return float(np.hypot(c[0], c[1]))


def test_baseline_removes_wander_keeps_ecg_band():
    x = 1.0 * np.sin(2 * np.pi * 0.2 * T) + 0.5 * np.sin(2 * np.pi * 10 * T)
    y = remove_baseline(x, FS, 0.5)
    assert y.shape == x.shape
    assert amp(y[MID], 10) == pytest.approx(0.5, rel=0.02)
    # 2nd-order Butterworth at 0.5 Hz, run twice: |H(0.2)|^2 = 0.4^4 / (1 + 0.4^4) = 0.025
    assert amp(y[MID], 0.2) < 0.05
    assert amp(y[MID], 0.2) == pytest.approx(0.025, abs=0.01)


def test_baseline_removes_offset():
    y = remove_baseline(np.full(5000, 3.0) + 0.1 * np.sin(2 * np.pi * 5 * T[:5000]), FS)
    assert abs(float(np.mean(y[1000:4000]))) < 0.01


def _pulse_train():
    x = np.zeros_like(T)
    for k in range(1, 20):
        c = int(k * FS)
        x[c - 10:c + 11] += np.hanning(21)  # QRS-like 40 ms bumps
    return x


@pytest.mark.parametrize("fn", [lambda x: remove_baseline(x, FS, 0.5), lambda x: lowpass(x, FS, 40.0),
                                lambda x: notch(x, FS, 50.0),
                                lambda x: apply_filters(x, FS, FilterSpec(0.5, 50.0, 40.0))])
def test_zero_phase(fn):
    x = _pulse_train()
    y = np.asarray(fn(x), np.float64)
    lags = np.arange(-20, 21)
    xc = [np.dot(x[MID], np.roll(y, -k)[MID]) for k in lags]
    assert lags[int(np.argmax(xc))] == 0
    # peaks stay where they were
    assert int(np.argmax(y[int(9.5 * FS):int(10.5 * FS)])) + int(9.5 * FS) == int(10 * FS)


@pytest.mark.parametrize("mains", [50.0, 60.0])
def test_notch_kills_mains(mains):
    x = np.sin(2 * np.pi * mains * T) + 0.5 * np.sin(2 * np.pi * 10 * T)
    y = notch(x, FS, mains)
    att_db = 20 * np.log10(amp(y[MID], mains) / 1.0)
    assert att_db < -30
    assert amp(y[MID], 10) == pytest.approx(0.5, rel=0.01)


def test_notch_above_nyquist_is_identity():
    x = np.sin(2 * np.pi * 10 * T[:200])
    np.testing.assert_array_equal(notch(x, 100.0, 60.0), x)


def test_lowpass():
    x = np.sin(2 * np.pi * 5 * T) + np.sin(2 * np.pi * 100 * T)
    y = lowpass(x, FS, 40.0)
    assert amp(y[MID], 5) == pytest.approx(1.0, rel=0.01)
    # 4th-order Butterworth run twice: (40/100)^8 = 6.6e-4
    assert amp(y[MID], 100) < 2e-3
    np.testing.assert_array_equal(lowpass(x, 60.0, 40.0), x)  # cut-off above Nyquist: nothing to do


def test_apply_filters_keeps_nan_and_shape():
    x = np.vstack([np.sin(2 * np.pi * 5 * T), np.sin(2 * np.pi * 7 * T)]).astype(np.float32)
    x[1, 100:110] = np.nan
    y = apply_filters(x, FS, FilterSpec(baseline_hz=0.5, notch_hz=50.0))
    assert y.shape == x.shape and y.dtype == np.float32
    assert np.isnan(y[1, 100:110]).all()
    assert np.isfinite(y[0]).all() and np.isfinite(y[1, 110:]).all()
    assert apply_filters(x, FS, FilterSpec()) is x


def test_short_signals_do_not_crash():
    for n in (1, 2, 3, 4, 5, 30):
        x = np.linspace(0, 1, n)
        assert remove_baseline(x, FS).shape == (n,)
        assert lowpass(x, FS).shape == (n,)
        assert notch(x, FS).shape == (n,)


def test_resample_roundtrip_bandlimited():
    x = (np.sin(2 * np.pi * 3 * T) + 0.3 * np.sin(2 * np.pi * 17 * T + 1) + 0.2 * np.sin(2 * np.pi * 40 * T))
    down = resample(x, 500, 250)
    assert down.shape == (x.size // 2,)
    up = resample(down, 250, 500)
    assert up.shape == x.shape
    assert float(np.max(np.abs(up[MID] - x[MID]))) < 0.01
    # the 250 Hz version is the same signal sampled at 250 Hz
    assert float(np.max(np.abs(down[1250:3750] - x[::2][1250:3750]))) < 0.01


def test_resample_lengths():
    x = np.zeros((15, 38400), np.float32)
    assert resample(x, 1000, 500).shape == (15, 19200)
    assert resample(np.zeros(5000), 500, 257.5).shape == (2575,)
    assert resample(np.zeros(3600), 360, 500).shape == (5000,)
    same = np.arange(5.0)
    assert resample(same, 500, 500) is not None and np.array_equal(resample(same, 500, 500), same)


def test_resample_and_filter_recording(samples):
    from ecgrecon.io import read_recording

    rec = read_recording(samples / "s0010_re.hea").with_roles(Role.MEASURED)
    r2 = resample_recording(rec, 500)
    assert r2.fs == 500.0 and r2.n_samples == 19200 and r2.leads == rec.leads
    assert r2.roles == rec.roles and r2.meta == rec.meta
    assert resample_recording(rec, 1000.0) is rec
    f = filter_recording(rec, FilterSpec(baseline_hz=0.5))
    assert f.signals.shape == rec.signals.shape and f.fs == rec.fs
    assert abs(float(np.median(f.lead("II")))) < 0.05
    assert filter_recording(rec, FilterSpec()) is rec
    assert isinstance(f, Recording)


def test_describe():
    assert FilterSpec().describe() == "no filters"
    assert FilterSpec().is_identity() and not FilterSpec(notch_hz=50).is_identity()
    assert FilterSpec(0.5, 50, 40).describe() == (
        "baseline 0.5 Hz high-pass (Butterworth 2, zero-phase); notch 50 Hz (Q 30, zero-phase); "
        "low-pass 40 Hz (Butterworth 4, zero-phase)")
    assert FilterSpec(notch_hz=60.0).describe() == "notch 60 Hz (Q 30, zero-phase)"
    assert FilterSpec(lowpass_hz=150).describe() == "low-pass 150 Hz (Butterworth 4, zero-phase)"
