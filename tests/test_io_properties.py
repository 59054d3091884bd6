"""Property tests: random recordings survive write -> read in every writable format."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from ecgrecon.io import read_recording, write_recording
from ecgrecon.leads import canonical_lead
from ecgrecon.recording import Recording

NAMES = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6", "X", "Y", "Z",
         "Foo", "EMG", "pleth", "V7", "CM5"]
RATES = [100.0, 250.0, 257.5, 500.0, 1000.0]


@st.composite
def recordings(draw, max_samples=600):
    n_leads = draw(st.integers(1, 15))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=n_leads, max_size=n_leads, unique=True))
    fs = draw(st.sampled_from(RATES))
    n = draw(st.integers(2, max_samples))
    seed = draw(st.integers(0, 2**32 - 1))
    amp = draw(st.sampled_from([0.001, 0.5, 5.0, 20.0]))
    rng = np.random.default_rng(seed)
    x = np.clip(rng.normal(0, amp / 2, (n_leads, n)), -20, 20).astype(np.float32)
    return Recording(x, fs, tuple(names))


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _check_common(rec: Recording, back: Recording) -> None:
    assert back.leads == tuple(canonical_lead(n) for n in rec.leads) == rec.leads
    assert back.fs == pytest.approx(rec.fs, rel=1e-9)
    assert back.n_samples == rec.n_samples


@SETTINGS
@given(rec=recordings())
@example(rec=Recording(np.array([[0.1, -0.2]], np.float32), 257.5, ("II",)))
def test_csv_roundtrip(tmp_path, rec):
    back = read_recording(write_recording(rec, tmp_path / "r.csv"))
    _check_common(rec, back)
    assert float(np.max(np.abs(back.signals - rec.signals))) <= 1e-6 + 1e-6 * 20


@SETTINGS
@given(rec=recordings())
def test_npz_roundtrip_exact(tmp_path, rec):
    back = read_recording(write_recording(rec, tmp_path / "r.npz"))
    _check_common(rec, back)
    np.testing.assert_array_equal(back.signals, rec.signals)


@SETTINGS
@given(rec=recordings())
def test_wfdb_roundtrip(tmp_path, rec):
    back = read_recording(write_recording(rec, tmp_path / "r.hea"))
    _check_common(rec, back)
    peak = float(np.max(np.abs(rec.signals)))
    # 1 uV steps while the range fits int16 at 1000/mV; coarser gain above 32 mV
    tol = 0.0005 + 1e-6 if peak < 32.0 else 0.5 / (32000.0 / peak) * 1.001 + 1e-6
    assert float(np.max(np.abs(back.signals - rec.signals))) <= tol


@SETTINGS
@given(rec=recordings())
def test_edf_roundtrip(tmp_path, rec):
    back = read_recording(write_recording(rec, tmp_path / "r.edf"))
    _check_common(rec, back)
    rng = np.ptp(rec.signals, axis=1, keepdims=True).astype(np.float64)
    rng = np.where(rng < 1e-3, 2.0 + rng, rng)  # flat leads get a +-1 mV range
    err = np.abs(back.signals.astype(np.float64) - rec.signals)
    assert np.all(err <= rng / 65535 + 1e-6 + 1e-6 * np.abs(rec.signals))


@SETTINGS
@given(n=st.integers(2, 4000), fs=st.sampled_from(RATES))
@example(n=5, fs=257.5)  # 0.0194174757... s: no exact 8-character record duration
@example(n=3601, fs=360.0)  # MIT-BIH rate
def test_edf_roundtrip_any_length(tmp_path, n, fs):
    """EDF header fields are 8 characters: odd durations must still give every sample back."""
    x = np.sin(np.arange(n) / 7.0)[None, :].astype(np.float32)
    rec = Recording(x, fs, ("II",))
    back = read_recording(write_recording(rec, tmp_path / "len.edf"))
    assert back.n_samples == n
    assert back.fs == pytest.approx(fs, rel=1e-9)
    assert float(np.max(np.abs(back.signals - x))) <= 2.0 / 65535 + 1e-6


@SETTINGS
@given(rec=recordings(max_samples=50), fmt=st.sampled_from([".csv", ".hea", ".npz", ".edf"]))
def test_nan_kept_or_flagged(tmp_path, rec, fmt):
    """A missing sample must never come back as a plausible number in the lossless formats."""
    assume(rec.n_samples > 3)
    x = rec.signals.copy()
    x[0, 1] = np.nan
    rec = Recording(x, rec.fs, rec.leads)
    back = read_recording(write_recording(rec, tmp_path / f"nan{fmt}"))
    if fmt == ".edf":
        assert np.isfinite(back.signals[0, 1])  # EDF has no NaN; written as 0 and documented lossy
    else:
        assert np.isnan(back.signals[0, 1])
    ok = np.isfinite(x)
    ok[0, 1] = False
    assert np.all(np.isfinite(back.signals[ok]))
