"""Lead names and lead algebra (Einthoven, Goldberger)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ecgrecon.leads import (
    LIMB,
    STANDARD_12,
    canonical_lead,
    complete_limb_leads,
    einthoven_residual,
    exact_consequences,
    i_ii_from_pair,
    limb_from_i_ii,
)


@pytest.mark.parametrize("raw, canon", [
    ("i", "I"), ("I", "I"), ("DI", "I"), ("D1", "I"), ("lead I", "I"), ("Lead_II", "II"), ("ii", "II"),
    ("DII", "II"), ("MLII", "II"), ("III", "III"), ("d3", "III"), ("lead III", "III"),
    ("aVR", "aVR"), ("AVR", "aVR"), ("avr", "aVR"), ("aVL", "aVL"), ("AVL", "aVL"), ("avf", "aVF"),
    ("V1", "V1"), ("v1", "V1"), ("C1", "V1"), ("c6", "V6"), ("ECG V6", "V6"), ("EKG:aVF", "aVF"),
    ("  II ", "II"), ("lead 1", "I"), ("Lead_2", "II"), ("ML2", "II"), ("DIII", "III"),
    ("vx", "X"), ("vy", "Y"), ("vz", "Z"), ("X", "X"), ("-aVR", "-aVR"),
])
def test_canonical_names(raw, canon):
    assert canonical_lead(raw) == canon


@pytest.mark.parametrize("raw", ["Foo", "V7", "CM5", "Pleth sensor", "EMG", "I1", "II-", "V", "",
                                 # channel numbers, not leads I, II, III
                                 "ECG1", "ECG 2", "EKG3", "ecg_1", "1", "2", "3"])
def test_unknown_names_kept(raw):
    assert canonical_lead(raw) == raw


def test_canonical_is_idempotent():
    for n in STANDARD_12 + ("X", "Y", "Z", "-aVR"):
        assert canonical_lead(n) == n
        assert canonical_lead(canonical_lead(n.lower())) == n


finite = st.floats(-20, 20, allow_nan=False, allow_infinity=False, width=64)


def pair(n=64):
    return st.integers(1, n).flatmap(lambda k: st.tuples(arrays(np.float64, k, elements=finite),
                                                          arrays(np.float64, k, elements=finite)))


@settings(max_examples=60, deadline=None)
@given(pair())
def test_limb_identities(ab):
    i, ii = ab
    d = limb_from_i_ii(i, ii)
    np.testing.assert_array_equal(d["I"], i)
    np.testing.assert_array_equal(d["II"], ii)
    np.testing.assert_allclose(d["III"], ii - i, atol=1e-12)
    np.testing.assert_allclose(d["aVR"], -(i + ii) / 2, atol=1e-12)
    np.testing.assert_allclose(d["aVL"], i - ii / 2, atol=1e-12)
    np.testing.assert_allclose(d["aVF"], ii - i / 2, atol=1e-12)
    np.testing.assert_allclose(d["aVR"] + d["aVL"] + d["aVF"], 0, atol=1e-11)
    assert einthoven_residual(d["I"], d["II"], d["III"]) <= 1e-12


def test_limb_identities_by_hand():
    d = limb_from_i_ii(np.array([1.0]), np.array([3.0]))
    # III = 3-1 = 2; aVR = -(1+3)/2 = -2; aVL = 1-1.5 = -0.5; aVF = 3-0.5 = 2.5
    assert [float(d[n][0]) for n in LIMB] == [1.0, 3.0, 2.0, -2.0, -0.5, 2.5]


@settings(max_examples=40, deadline=None)
@given(pair(), st.sampled_from(list(itertools.combinations(LIMB, 2))))
def test_recover_i_ii_from_any_pair(ab, names):
    i, ii = ab
    full = limb_from_i_ii(i, ii)
    a, b = names
    ri, rii = i_ii_from_pair(a, full[a], b, full[b])
    np.testing.assert_allclose(ri, i, atol=1e-9)
    np.testing.assert_allclose(rii, ii, atol=1e-9)
    done = complete_limb_leads({a: full[a], b: full[b], "V1": i})
    assert set(done) == set(LIMB) | {"V1"}
    for n in LIMB:
        np.testing.assert_allclose(done[n], full[n], atol=1e-9)
    np.testing.assert_array_equal(done["V1"], i)


def test_same_lead_twice_is_not_a_pair():
    with pytest.raises(ValueError, match="not independent"):
        i_ii_from_pair("II", np.zeros(3), "II", np.zeros(3))


def test_complete_limb_leads_needs_two():
    x = {"II": np.ones(3), "V1": np.zeros(3)}
    assert set(complete_limb_leads(x)) == {"II", "V1"}


def test_exact_consequences():
    assert exact_consequences(["I", "II", "V2"]) == ("III", "aVR", "aVL", "aVF")
    assert exact_consequences(("II", "V1", "V5")) == ()
    assert exact_consequences(["aVF", "III", "V4"]) == ("I", "II", "aVR", "aVL")
    assert exact_consequences(["V1", "V2", "V3"]) == ()
    assert exact_consequences(["I", "II", "III"]) == ("aVR", "aVL", "aVF")
    assert exact_consequences(list(LIMB)) == ()


def test_einthoven_residual_values():
    i = np.array([0.1, 0.2, np.nan])
    ii = np.array([0.5, 0.4, 1.0])
    iii = np.array([0.4, 0.3, 0.0])
    # residuals: 0.4-(0.5-0.1)=0, 0.3-(0.4-0.2)=0.1, NaN ignored
    assert einthoven_residual(i, ii, iii) == pytest.approx(0.1)
    assert einthoven_residual(np.full(3, np.nan), ii, iii) == 0.0


def test_einthoven_on_samples(samples):
    from ecgrecon.io import read_recording

    ludb = read_recording(samples / "ludb_3.hea")
    assert einthoven_residual(ludb.lead("I"), ludb.lead("II"), ludb.lead("III")) < 1e-6
    ptb = read_recording(samples / "s0010_re.hea")
    # PTB stores every lead rounded to 0.5 uV: residual at most 1 uV
    assert einthoven_residual(ptb.lead("I"), ptb.lead("II"), ptb.lead("III")) <= 0.0011


# -- full data set -----------------------------------------------------------------------

def _ludb_headers(shared_data):
    hs = sorted((shared_data / "ludb" / "data").glob("*.hea"), key=lambda p: int(p.stem))
    assert len(hs) == 200
    return hs


@pytest.mark.needs_data
def test_einthoven_all_ludb(shared_data):
    from ecgrecon.io import read_recording

    worst = 0.0
    for h in _ludb_headers(shared_data):
        rec = read_recording(h)
        assert rec.leads == STANDARD_12 and rec.fs == 500.0 and rec.n_samples == 5000, h
        worst = max(worst, einthoven_residual(rec.lead("I"), rec.lead("II"), rec.lead("III")))
        aug = rec.lead("aVR") + rec.lead("aVL") + rec.lead("aVF")
        assert float(np.max(np.abs(aug))) <= 0.0021, h  # Goldberger, 1 uV rounding per lead
    # 0 on the raw integers; float32 mV leaves < 0.001 uV of rounding
    assert worst < 1e-6


@pytest.mark.needs_data
def test_info_notices_ludb_gain_fault_everywhere(shared_data, capsys):
    from ecgrecon.cli import main

    hs = _ludb_headers(shared_data)
    assert main(["info", "--json", *map(str, hs)]) == 0
    infos = json.loads(capsys.readouterr().out)
    assert len(infos) == 200
    for d in infos:
        assert len(d["reader_warnings"]) == 1 and "LUDB" in d["reader_warnings"][0], d["file"]
        assert d["einthoven_max_uv"] == 0.0, d["file"]
        assert not any("Einthoven" in q or "missing" in q or "flat" in q for q in d["quality"]), d["file"]


def test_bipolar_inputs_give_their_exact_consequences():
    """SHIRT (LA-RA, LL-RA, V2-RA): the six limb leads and V2 follow exactly; V1, V3..V6 do not."""
    import numpy as np

    from ecgrecon.leads import exact_combinations

    c = exact_combinations(("LA-RA", "LL-RA", "V2-RA"))
    assert set(c) == {"I", "II", "III", "aVR", "aVL", "aVF", "V2"}
    assert np.allclose(c["V2"], [-1 / 3, -1 / 3, 1.0])  # V2 = (V2-RA) - (I + II)/3
    assert np.allclose(c["aVR"], [-0.5, -0.5, 0.0])
    assert exact_combinations(("E-S", "A-S", "A-I")) == {}  # EASI electrodes are not standard ones
    assert set(exact_combinations(("II", "V1", "V5"))) == set()
    assert set(exact_combinations(("I", "II", "V2"))) == {"III", "aVR", "aVL", "aVF"}


def test_shirt_reconstruction_labels_exact_leads_derived():
    from pathlib import Path

    from ecgrecon.bspm import with_leads
    from ecgrecon.inference import reconstruct
    from ecgrecon.io import read_recording
    from ecgrecon.modelcard import load_zoo
    from ecgrecon.recording import Role

    zoo = load_zoo()
    card = zoo.get("SHIRT.conv")
    rec = read_recording(Path(__file__).resolve().parents[1] / "resources/samples/bspm/s0010_re_bspm.hea")
    res = reconstruct(with_leads(rec, card.input_leads), card, zoo=zoo)
    roles = res.roles
    assert [n for n, r in roles.items() if r == Role.DERIVED] == ["I", "II", "III", "aVR", "aVL", "aVF", "V2"]
    assert [n for n, r in roles.items() if r == Role.RECONSTRUCTED] == ["V1", "V3", "V4", "V5", "V6"]
    ms = {m.lead: m for m in res.metrics.leads}
    assert ms["V2"].r > 0.999999 and ms["I"].rmse_uv < 1.0  # exact, not the network's estimate
    assert res.metrics.median_r(Role.RECONSTRUCTED) < 0.99  # the honest figure, no longer 1.000
