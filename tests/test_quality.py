"""Quality checks that `ecgrecon info` and the viewer show."""

from __future__ import annotations

import numpy as np
import pytest

from ecgrecon.quality import check_quality, einthoven_report
from ecgrecon.recording import Recording

T = np.arange(5000) / 500.0
ECG = np.sin(2 * np.pi * 1.2 * T) ** 15  # spiky, 1 mV peaks, 12 beats


def msgs(rec):
    return [(q.lead, q.kind, q.message) for q in check_quality(rec)]


def test_clean_signal_has_no_issues(samples):
    from ecgrecon.io import read_recording

    assert msgs(Recording(np.vstack([ECG, 2 * ECG, ECG]), 500, ("I", "II", "III"))) == []
    assert check_quality(read_recording(samples / "s0010_re.hea")) == []


def test_clipped_and_flat():
    x = np.clip(ECG * 2, -5, 1.5)
    got = msgs(Recording(np.vstack([x, -x, np.zeros(5000)]), 500, ("V1", "V2", "V3")))
    assert got == [("V1", "saturated", "V1: clipped at 1.500 mV in 6.2% of samples"),
                   ("V2", "saturated", "V2: clipped at -1.500 mV in 6.2% of samples"),
                   ("V3", "flat", "V3: flat line (0.0 uV peak-to-peak)")]


def test_nan_reported_with_first_time():
    x = ECG.copy()
    x[1000:1010] = np.nan
    assert msgs(Recording(x[None], 500, ("II",))) == [("II", "nan", "II: 10 missing (NaN) samples, first at 2.00 s")]


def test_einthoven_violation_reported():
    i, ii = ECG, 0.5 * ECG
    iii = (ii - i) + 0.1 * ECG  # up to 100 uV off
    got = msgs(Recording(np.vstack([i, ii, iii]), 500, ("I", "II", "III")))
    assert [g[1] for g in got] == ["einthoven"]
    assert got[0][2].startswith("III differs from II - I by up to 100 uV")
    assert einthoven_report(Recording(np.vstack([i, ii, iii]), 500, ("I", "II", "III"))) == pytest.approx(100, abs=0.5)


def test_einthoven_report_needs_the_three_leads():
    assert einthoven_report(Recording(np.vstack([ECG, ECG]), 500, ("I", "II"))) is None
    # lead I entirely missing: nothing was checked, so no "0.0 uV" claim
    gone = Recording(np.vstack([np.full(5000, np.nan), ECG, ECG]), 500, ("I", "II", "III"))
    assert einthoven_report(gone) is None
    ok = Recording(np.vstack([ECG, 2 * ECG, ECG]), 500, ("I", "II", "III"))
    assert einthoven_report(ok) == pytest.approx(0.0, abs=1e-3)
