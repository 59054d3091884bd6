"""The viewer's Qt-free state: page samples, filters, paging, words."""

from __future__ import annotations

import numpy as np
import pytest

from ecgrecon.conditioning import FilterSpec, apply_filters
from ecgrecon.io import read_recording
from ecgrecon.recording import Recording, Role
from ecgrecon.viewmodel import NO_TRUTH_TEXT, ViewerModel


def synthetic(seconds: float = 120.0, fs: float = 500.0) -> Recording:
    t = np.arange(int(seconds * fs)) / fs
    rng = np.random.default_rng(1)
    drift = 0.3 * np.sin(2 * np.pi * 0.15 * t)
    mains = 0.05 * np.sin(2 * np.pi * 50 * t)
    beat = np.sin(2 * np.pi * 1.1 * t) ** 41
    sig = np.stack([beat + drift + mains, 0.8 * beat - drift, -beat + mains + 0.01 * rng.standard_normal(t.size)])
    return Recording(sig.astype(np.float32), fs, ("I", "II", "V2"))


def test_page_filtering_matches_whole_signal_filtering():
    rec = synthetic()
    vm = ViewerModel()
    vm.set_recording(rec)
    spec = FilterSpec(baseline_hz=0.5, notch_hz=50.0, lowpass_hz=40.0)
    vm.set_filters(spec)
    whole = apply_filters(rec.signals, rec.fs, spec)
    page = vm.page_data(rec, 60.0, 70.0)
    a = int(60.0 * rec.fs)
    for i, lead in enumerate(rec.leads):
        got = page.lead(lead)
        np.testing.assert_allclose(got, whole[i, a: a + got.size], atol=2e-4)  # 10 s margin: edges settled
    assert page.t0_s == pytest.approx(60.0)


def test_no_filters_returns_the_samples():
    rec = synthetic(30)
    vm = ViewerModel()
    vm.set_recording(rec)
    page = vm.page_data(rec, 10.0, 20.0)
    np.testing.assert_array_equal(page.lead("I"), rec.lead("I")[5000:10001])


def test_paging_clamps_and_cycles():
    vm = ViewerModel()
    vm.set_recording(synthetic(35))
    assert vm.page_seconds() == pytest.approx(10.0)
    assert vm.step_page(1) == pytest.approx(10.0)
    assert vm.step_page(5) == pytest.approx(25.0)  # last page ends at the end
    assert vm.step_page(-9) == 0.0
    assert vm.cycle_speed() == 50.0 and vm.cycle_speed() == 12.5
    assert vm.cycle_gain(-1) == 5.0 and vm.cycle_gain(-1) == 20.0
    with pytest.raises(ValueError):
        vm.set_layout("4x3")


def test_words_without_a_reconstruction(samples):
    vm = ViewerModel()
    assert "No recording open" in vm.banner()
    rec = read_recording(samples / "ludb_3_3lead.hea")
    vm.set_recording(rec, str(samples / "ludb_3_3lead.hea"))
    assert vm.banner().startswith("RECORDED ECG (not reconstructed)")
    assert vm.table_rows() == [] and vm.summary_text() == ""
    (panel,) = vm.panels()
    assert panel.layers[0].style == "truth"
    assert vm.caption("V1", Role.RECONSTRUCTED) == "V1 (recon)"
    assert NO_TRUTH_TEXT == "no ground truth"
    assert "filters: no filters" in vm.status_text()


def test_viewmodel_announces_changes_and_validates():
    import pytest

    from ecgrecon.viewmodel import ViewerModel

    m = ViewerModel()
    seen: list[str] = []
    m.changed.connect(seen.append)
    m.set_layout("6x2")
    m.set_mode("side")
    m.set_speed(50)
    m.set_gain(20)
    m.set_rhythm_lead("V1")
    assert seen == ["view"] * 5
    assert (m.layout, m.mode, m.speed_mm_s, m.gain_mm_mv, m.rhythm_lead) == ("6x2", "side", 50.0, 20.0, "V1")
    for bad in (lambda: m.set_layout("5x5"), lambda: m.set_speed(0), lambda: m.set_gain(1e6),
                lambda: m.set_rhythm_lead("V7"), lambda: m.set_mode("stacked")):
        with pytest.raises(ValueError):
            bad()
    assert seen == ["view"] * 5  # refused values change nothing and announce nothing
    m.changed.disconnect(seen.append)
    m.set_layout("3x4")
    assert len(seen) == 5
