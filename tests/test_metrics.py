"""Pearson R and RMSE against hand-computed values; compare() per role."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ecgrecon.metrics import compare, pearson_r, rmse_uv
from ecgrecon.recording import Recording, Role

A = np.array([1.0, 2.0, 3.0, 4.0])
B = np.array([2.0, 4.0, 5.0, 8.0])


def test_pearson_by_hand():
    # mean a = 2.5, mean b = 4.75
    # da = [-1.5, -0.5, 0.5, 1.5], db = [-2.75, -0.75, 0.25, 3.25]
    # sum da*db = 4.125 + 0.375 + 0.125 + 4.875 = 9.5
    # sum da^2 = 5, sum db^2 = 7.5625 + 0.5625 + 0.0625 + 10.5625 = 18.75
    # R = 9.5 / sqrt(5 * 18.75) = 9.5 / sqrt(93.75) = 0.98115578...
    assert pearson_r(A, B) == pytest.approx(9.5 / math.sqrt(93.75), abs=1e-12)
    assert pearson_r(A, B) == pytest.approx(0.9811557, abs=1e-7)
    assert pearson_r(B, A) == pytest.approx(pearson_r(A, B), abs=1e-15)


def test_rmse_by_hand():
    # a - b = [-1, -2, -2, -4] mV; squares 1 + 4 + 4 + 16 = 25; mean 6.25; sqrt 2.5 mV = 2500 uV
    assert rmse_uv(A, B) == pytest.approx(2500.0, abs=1e-9)
    assert rmse_uv(A, A) == 0.0
    # a 10 uV offset everywhere is an RMSE of exactly 10 uV
    assert rmse_uv(A + 0.010, A) == pytest.approx(10.0, abs=1e-9)


@pytest.mark.parametrize("k, off", [(2.0, 0.0), (0.001, 5.0), (1e3, -7.0)])
def test_r_is_one_for_scaled_copies(k, off):
    x = np.sin(np.linspace(0, 20, 500))
    assert pearson_r(x, k * x + off) == pytest.approx(1.0, abs=1e-12)
    assert pearson_r(x, -k * x + off) == pytest.approx(-1.0, abs=1e-12)


def test_nan_handling():
    a = np.array([1.0, 2.0, np.nan, 3.0, 4.0, 100.0])
    b = np.array([2.0, 4.0, 7.0, 5.0, 8.0, np.inf])
    # non-finite pairs dropped: the hand-computed A, B values again
    assert pearson_r(a, b) == pytest.approx(0.9811557, abs=1e-7)
    assert rmse_uv(a, b) == pytest.approx(2500.0, abs=1e-9)
    assert math.isnan(pearson_r(np.full(4, np.nan), B))
    assert math.isnan(rmse_uv(np.full(4, np.nan), B))
    assert math.isnan(pearson_r(np.ones(4), B))  # constant: undefined, not 0 or 1


def _rec(signals, leads, roles, fs=500.0):
    return Recording(np.asarray(signals, np.float32), fs, leads, roles=roles)


def test_compare_separates_roles_and_reports_reconstructed_first():
    t = np.arange(1000) / 500.0
    base = np.sin(2 * np.pi * 1.3 * t)
    truth_leads = ("I", "II", "III", "V1", "V2")
    truth = _rec([base, 2 * base, base, base, base + 0.2 * np.cos(3 * t)], truth_leads, ())
    res = _rec(
        [truth.lead("I"), truth.lead("II"), truth.lead("II") - truth.lead("I"),
         truth.lead("V1") + 0.010,  # 10 uV off everywhere
         truth.lead("V2") * 0.5,  # right shape, half size
         base],  # not in truth: skipped
        truth_leads + ("V9",),
        (Role.MEASURED, Role.MEASURED, Role.DERIVED, Role.RECONSTRUCTED, Role.RECONSTRUCTED, Role.RECONSTRUCTED),
    )
    m = compare(res, truth)
    assert [x.lead for x in m.leads] == ["I", "II", "III", "V1", "V2"]
    assert [x.role for x in m.leads] == ["measured", "measured", "derived", "reconstructed", "reconstructed"]
    s = m.summary()
    assert list(s) == ["reconstructed", "derived", "measured", "all_12"]
    assert s["reconstructed"]["n_leads"] == 2
    assert s["derived"]["n_leads"] == 1
    assert s["measured"]["n_leads"] == 2
    assert s["all_12"]["n_leads"] == 5
    assert s["measured"]["median_r"] == pytest.approx(1.0, abs=1e-9)
    assert s["measured"]["median_rmse_uv"] == pytest.approx(0.0, abs=1e-3)
    v1 = next(x for x in m.leads if x.lead == "V1")
    assert v1.r == pytest.approx(1.0, abs=1e-6) and v1.rmse_uv == pytest.approx(10.0, abs=0.01)
    v2 = next(x for x in m.leads if x.lead == "V2")
    assert v2.r == pytest.approx(1.0, abs=1e-6)
    v2_rms = float(np.sqrt(np.mean((0.5 * truth.lead("V2").astype(np.float64)) ** 2))) * 1000
    assert v2.rmse_uv == pytest.approx(v2_rms, rel=1e-4)
    assert s["reconstructed"]["median_rmse_uv"] == pytest.approx((10.0 + v2_rms) / 2, rel=1e-4)
    d = m.to_dict()
    assert list(d) == ["summary", "leads"]
    assert d["leads"][0] == {"lead": "I", "role": "measured", "r": pytest.approx(1.0),
                             "rmse_uv": pytest.approx(0.0, abs=1e-3)}


def test_compare_skip_edges_and_lengths():
    x = np.zeros(1000)
    x[:50] = 5.0  # filter transient in the first 0.1 s
    truth = _rec([np.zeros(1200)], ("V1",), ())
    res = _rec([x], ("V1",), (Role.RECONSTRUCTED,))
    assert compare(res, truth).leads[0].rmse_uv > 1000
    assert compare(res, truth, skip_s=0.1).leads[0].rmse_uv == 0.0
    with pytest.raises(ValueError, match="sampling rates differ"):
        compare(res, _rec([np.zeros(10)], ("V1",), (), fs=250.0))


def test_empty_role_gives_nan_median():
    truth = _rec([np.arange(10.0)], ("V1",), ())
    m = compare(_rec([np.arange(10.0)], ("V1",), (Role.MEASURED,)), truth)
    assert math.isnan(m.summary()["reconstructed"]["median_r"])
    assert m.summary()["reconstructed"]["n_leads"] == 0
