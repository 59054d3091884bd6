"""Each reader on real files: values in mV, names canonical, units converted."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import wfdb

from ecgrecon.errors import InputError
from ecgrecon.io import read_recording, write_recording
from ecgrecon.leads import STANDARD_12, einthoven_residual
from ecgrecon.recording import Recording


def _raw(path_no_ext) -> np.ndarray:
    """Raw integer samples, channels x samples."""
    return wfdb.rdrecord(str(path_no_ext), physical=False).d_signal.T.astype(np.float64)


# -- WFDB --------------------------------------------------------------------------

def test_wfdb_ludb_sample_gain_fix(samples):
    rec = read_recording(samples / "ludb_3.hea")
    assert rec.leads == STANDARD_12
    assert rec.fs == 500.0
    assert rec.n_samples == 5000
    assert rec.duration == pytest.approx(10.0)
    assert rec.signals.dtype == np.float32
    # the faulty per-lead header gains are replaced by 1000 units/mV
    assert len(rec.meta.warnings) == 1
    assert "LUDB" in rec.meta.warnings[0] and "Einthoven" in rec.meta.warnings[0]
    raw = _raw(samples / "ludb_3")
    np.testing.assert_allclose(rec.signals, raw / 1000.0, atol=1e-6)
    assert einthoven_residual(rec.lead("I"), rec.lead("II"), rec.lead("III")) < 1e-6
    # Goldberger too
    np.testing.assert_allclose(rec.lead("aVR"), -(rec.lead("I") + rec.lead("II")) / 2, atol=0.0011)
    ptp_ii = float(np.ptp(rec.lead("II")))
    assert ptp_ii == pytest.approx(np.ptp(raw[1]) / 1000.0, abs=1e-6)
    assert 0.5 < ptp_ii < 5.0
    assert abs(ptp_ii - 1.0) > 0.05  # not normalised to 1 mV p-p like the header gains would make it
    assert rec.meta.patient == {"age": "53", "sex": "male"}  # "M" in the header, one spelling everywhere


def test_wfdb_ludb_trusting_header_gains_breaks_einthoven(samples):
    rec = read_recording(samples / "ludb_3.hea", trust_header_gains=True)
    assert rec.meta.warnings == ()
    assert float(np.ptp(rec.lead("II"))) == pytest.approx(1.0, abs=2e-3)  # header gains normalise
    assert einthoven_residual(rec.lead("I"), rec.lead("II"), rec.lead("III")) > 0.05


def test_wfdb_three_lead_sample(samples):
    rec = read_recording(samples / "ludb_3_3lead.hea")
    assert rec.leads == ("I", "II", "V2")
    assert [r.value for r in rec.roles] == ["measured"] * 3
    assert rec.meta.warnings == ()
    full = read_recording(samples / "ludb_3.hea")
    np.testing.assert_allclose(rec.signals, full.select(["I", "II", "V2"]).signals, atol=1e-6)


def test_wfdb_ptb_frank_leads(samples):
    rec = read_recording(samples / "s0010_re.hea")
    assert rec.leads == STANDARD_12 + ("X", "Y", "Z")
    assert rec.fs == 1000.0
    assert rec.n_samples == 38400
    assert rec.duration == pytest.approx(38.4)
    assert rec.meta.warnings == ()
    raw = _raw(samples / "s0010_re")
    assert raw.shape == (15, 38400)
    np.testing.assert_allclose(rec.signals, raw / 2000.0, atol=1e-6)
    assert rec.meta.patient == {"age": "81", "sex": "female"}


def test_read_dat_and_bare_name_mean_the_header(samples):
    a = read_recording(samples / "ludb_3_3lead.dat")
    b = read_recording(samples / "ludb_3_3lead")
    c = read_recording(samples / "ludb_3_3lead.hea")
    np.testing.assert_array_equal(a.signals, c.signals)
    np.testing.assert_array_equal(b.signals, c.signals)


# -- PhysioNet Challenge: .hea + .mat ---------------------------------------------

_NAMES12 = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]


def _challenge_values(n_leads=12, n=5000, seed=0):
    rng = np.random.default_rng(seed)
    return np.round(rng.normal(0, 400, (n_leads, n))).astype(np.int16)


def test_challenge_mat_v4_written_by_scipy(tmp_path):
    """Challenge 2020/2021 layout: MATLAB v4 'val' (leads x samples int16), header '16+24'."""
    val = _challenge_values()
    val[3, 10] = 1234
    scipy.io.savemat(tmp_path / "A0001.mat", {"val": val}, format="4")
    lines = ["A0001 12 500 5000 05-May-2020 14:50:55"]
    for k, n in enumerate(_NAMES12):
        lines.append(f"A0001.mat 16+24 1000/mV 16 0 {val[k, 0]} 0 0 {n}")
    lines += ["#Age: 74", "#Sex: Male", "#Dx: 59118001"]
    (tmp_path / "A0001.hea").write_text("\n".join(lines) + "\n")
    for target in ("A0001.hea", "A0001.mat"):
        rec = read_recording(tmp_path / target)
        assert rec.leads == STANDARD_12
        assert rec.fs == 500.0 and rec.n_samples == 5000
        np.testing.assert_allclose(rec.signals, val / 1000.0, atol=1e-6)
        assert rec.lead("aVR")[10] == pytest.approx(1.234, abs=1e-6)
        assert rec.meta.patient == {"age": "74", "sex": "male"}


def test_challenge_mat_written_by_wfdb(tmp_path, monkeypatch):
    """wfdb's own wfdb_to_mat (writes 'name'm.mat/.hea in the working folder, gain 500/mV)."""
    import wfdb.io.convert

    monkeypatch.chdir(tmp_path)
    val = _challenge_values(3, 2000, seed=1)
    wfdb.wrsamp("B", fs=250, units=["mV"] * 3, sig_name=["i", "ii", "v1"], d_signal=val.T.astype(np.int64),
                fmt=["16"] * 3, adc_gain=[500.0] * 3, baseline=[0] * 3)
    wfdb.io.convert.wfdb_to_mat("B")
    assert (tmp_path / "Bm.mat").exists()
    rec = read_recording(tmp_path / "Bm.mat")
    assert rec.leads == ("I", "II", "V1")
    assert rec.fs == 250.0
    np.testing.assert_allclose(rec.signals, val / 500.0, atol=1e-6)


def test_mat_without_header_is_refused(tmp_path):
    scipy.io.savemat(tmp_path / "lonely.mat", {"val": _challenge_values(2, 10)}, format="4")
    with pytest.raises(InputError, match=r"lonely\.mat: .*WFDB header \(\.hea\)"):
        read_recording(tmp_path / "lonely.mat")


# -- EDF ------------------------------------------------------------------------

def test_edf_written_by_us_reads_back(samples, tmp_path):
    rec = read_recording(samples / "ludb_3.hea")
    out = write_recording(rec, tmp_path / "ludb3.edf")
    back = read_recording(out)
    assert back.leads == rec.leads
    assert back.fs == 500.0 and back.n_samples == 5000
    assert back.meta.units_found == ("mV",) * 12
    tol = float(np.max(np.ptp(rec.signals, axis=1))) / 65535 + 1e-6
    assert float(np.max(np.abs(back.signals - rec.signals))) <= tol


def test_edf_from_edfio_with_ecg_labels_in_microvolts(tmp_path):
    import edfio

    rng = np.random.default_rng(3)
    x_uv = rng.normal(0, 500, (3, 2500)).clip(-2900, 2900)
    labels = ["ECG I", "ECG V1", "ECG AVR"]
    sigs = [edfio.EdfSignal(x_uv[k], sampling_frequency=250, label=lab, physical_dimension="uV",
                            physical_range=(-3000, 3000)) for k, lab in enumerate(labels)]
    edfio.Edf(sigs, data_record_duration=1).write(tmp_path / "dev.edf")
    rec = read_recording(tmp_path / "dev.edf")
    assert rec.leads == ("I", "V1", "aVR")
    assert rec.fs == 250.0 and rec.n_samples == 2500
    assert rec.meta.units_found == ("uV", "uV", "uV")
    # uV -> mV; EDF quantisation is range/65535 = 6000 uV / 65535 ~ 0.092 uV
    assert float(np.max(np.abs(rec.signals - x_uv / 1000.0))) <= 6.0 / 65535 + 1e-6
    assert float(np.max(np.abs(rec.signals))) < 3.0  # mV, not uV


def test_edf_drops_channel_at_other_rate_with_warning(tmp_path):
    import edfio

    ecg = edfio.EdfSignal(np.zeros(500) + 0.5, sampling_frequency=500, label="II", physical_dimension="mV",
                          physical_range=(-5, 5))
    resp = edfio.EdfSignal(np.zeros(25), sampling_frequency=25, label="Resp", physical_dimension="mV",
                           physical_range=(-5, 5))
    edfio.Edf([ecg, resp], data_record_duration=1).write(tmp_path / "mix.edf")
    rec = read_recording(tmp_path / "mix.edf")
    assert rec.leads == ("II",)
    assert rec.fs == 500.0
    assert any("Resp" in w for w in rec.meta.warnings)


# -- CSV ------------------------------------------------------------------------

def test_csv_sample(samples):
    rec = read_recording(samples / "ludb_3_3lead.csv")
    assert rec.leads == ("I", "II", "V2")
    assert rec.fs == 500.0 and rec.n_samples == 5000
    wf = read_recording(samples / "ludb_3_3lead.hea")
    np.testing.assert_allclose(rec.signals, wf.signals, atol=1e-6)


def test_csv_time_column_seconds(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("time,I,II\n0,0.1,0.2\n0.004,0.3,0.4\n0.008,0.5,0.6\n")
    rec = read_recording(p)
    assert rec.fs == 250.0
    assert rec.leads == ("I", "II")
    np.testing.assert_allclose(rec.signals, [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]], atol=1e-7)


@pytest.mark.parametrize("tcol", ["time_ms", "ms", "time (ms)", "t [ms]"])
def test_csv_time_column_milliseconds(tmp_path, tcol):
    p = tmp_path / "ms.csv"
    p.write_text(f"{tcol},V1\n0,1\n2,2\n4,3\n6,4\n")
    rec = read_recording(p)
    assert rec.fs == 500.0
    assert rec.leads == ("V1",)
    np.testing.assert_allclose(rec.lead("V1"), [1, 2, 3, 4])


def test_csv_without_time_needs_fs(tmp_path):
    p = tmp_path / "nt.csv"
    p.write_text("I,II\n1,2\n3,4\n")
    with pytest.raises(InputError, match=r"nt\.csv: .*--fs"):
        read_recording(p)
    rec = read_recording(p, fs=360)
    assert rec.fs == 360.0 and rec.n_samples == 2


def test_csv_fs_disagreeing_with_time_column(tmp_path):
    p = tmp_path / "dis.csv"
    p.write_text("time_s,I\n0,1\n0.002,2\n0.004,3\n")
    assert read_recording(p, fs=500).fs == 500.0
    with pytest.raises(InputError, match="disagrees"):
        read_recording(p, fs=250)


def test_csv_unit_suffixes(tmp_path):
    p = tmp_path / "u.csv"
    p.write_text("II (uV),V1 [mV],V2(V),aVF\n1000,1,0.001,2\n-500,2,0.002,3\n")
    rec = read_recording(p, fs=500)
    assert rec.leads == ("II", "V1", "V2", "aVF")
    assert rec.meta.units_found == ("uV", "mV", "V", "mV")
    np.testing.assert_allclose(rec.signals, [[1.0, -0.5], [1.0, 2.0], [1.0, 2.0], [2.0, 3.0]], atol=1e-6)


def test_csv_units_option_for_bare_columns(tmp_path):
    p = tmp_path / "b.csv"
    p.write_text("I,II (mV)\n250,1\n")
    rec = read_recording(p, fs=500, units="uV")
    np.testing.assert_allclose(rec.signals[:, 0], [0.25, 1.0], atol=1e-7)


def test_csv_semicolon_delimiter(tmp_path):
    p = tmp_path / "semi.csv"
    p.write_text("I;II;III\n1;2;1\n2;3;1\n4;5;1\n")
    rec = read_recording(p, fs=100)
    assert rec.leads == ("I", "II", "III")
    np.testing.assert_allclose(rec.lead("II"), [2, 3, 5])


# -- NPZ ------------------------------------------------------------------------

def test_npz_roundtrip_and_transposed(tmp_path):
    x = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
    np.savez(tmp_path / "a.npz", signals=x, fs=np.float64(250), leads=np.array(["i", "avl", "c3"]))
    rec = read_recording(tmp_path / "a.npz")
    assert rec.leads == ("I", "aVL", "V3") and rec.fs == 250.0
    np.testing.assert_allclose(rec.signals, x)
    np.savez(tmp_path / "t.npz", signals=x.T, fs=np.float64(250), leads=np.array(["I", "II", "V1"]),
             units=np.array("uV"))
    rec = read_recording(tmp_path / "t.npz")
    np.testing.assert_allclose(rec.signals, x / 1000.0, rtol=1e-6)


def test_npz_object_array_is_refused_not_unpickled(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (marker.write_text, ("unpickled",))

    sig = np.empty((1, 2), dtype=object)
    sig[0, 0], sig[0, 1] = Evil(), 1.0
    np.savez(tmp_path / "evil.npz", signals=sig, fs=np.float64(500), leads=np.array(["I"]))
    with pytest.raises(InputError, match=r"evil\.npz"):
        read_recording(tmp_path / "evil.npz")
    assert not marker.exists()


def test_npz_object_leads_refused(tmp_path):
    np.savez(tmp_path / "ol.npz", signals=np.zeros((1, 4)), fs=np.float64(500),
             leads=np.array(["I"], dtype=object))
    with pytest.raises(InputError, match=r"ol\.npz"):
        read_recording(tmp_path / "ol.npz")


def test_npz_missing_parts(tmp_path):
    np.savez(tmp_path / "nofs.npz", signals=np.zeros((1, 4)), leads=np.array(["I"]))
    with pytest.raises(InputError, match="'fs'"):
        read_recording(tmp_path / "nofs.npz")
    np.savez(tmp_path / "noleads.npz", signals=np.zeros((1, 4)), fs=np.float64(500))
    with pytest.raises(InputError, match="'leads'"):
        read_recording(tmp_path / "noleads.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(InputError, match=r"junk\.npz: not a readable \.npz"):
        read_recording(tmp_path / "junk.npz")


def test_unsupported_extension(tmp_path):
    p = tmp_path / "x.xyz"
    p.write_text("<ecg/>")
    with pytest.raises(InputError, match=r"x\.xyz: unsupported file type '\.xyz'"):
        read_recording(p)


def test_recording_rejects_inconsistent_shapes():
    with pytest.raises(ValueError):
        Recording(np.zeros((2, 5)), 500, ("I",))
    with pytest.raises(ValueError):
        Recording(np.zeros((2, 5)), 500, ("I", "I"))
    with pytest.raises(ValueError):
        Recording(np.zeros((1, 5)), 0, ("I",))


def test_edf_polysomnography_keeps_voltages_only(tmp_path):
    """SpO2 (%) at the ECG's rate must not make the whole file unreadable."""
    import edfio

    ecg = np.sin(np.arange(1000) / 10.0)
    sigs = [edfio.EdfSignal(ecg * 800, sampling_frequency=100, label="ECG II", physical_dimension="uV",
                            physical_range=(-1000, 1000)),
            edfio.EdfSignal(np.full(1000, 97.0), sampling_frequency=100, label="SpO2", physical_dimension="%",
                            physical_range=(0, 100)),
            edfio.EdfSignal(ecg * 30, sampling_frequency=100, label="C3-A2", physical_dimension="uV",
                            physical_range=(-50, 50))]
    edfio.Edf(sigs, data_record_duration=1).write(tmp_path / "psg.edf")
    rec = read_recording(tmp_path / "psg.edf")
    assert rec.leads == ("II", "C3-A2")  # unknown voltage channels are kept under their own name
    np.testing.assert_allclose(rec.lead("II"), ecg * 0.8, atol=2000 / 65535 / 1000 + 1e-6)
    assert rec.meta.warnings == ("dropped channel 'SpO2': unit '%' is not a voltage",)
    only = [edfio.EdfSignal(np.full(100, 97.0), sampling_frequency=1, label="SpO2", physical_dimension="%",
                            physical_range=(0, 100))]
    edfio.Edf(only, data_record_duration=1).write(tmp_path / "spo2.edf")
    with pytest.raises(InputError, match=r"spo2\.edf: EDF file holds no voltage signals \(units '%'\)"):
        read_recording(tmp_path / "spo2.edf")


def test_edf_plus_d_warns(samples, tmp_path):
    rec = read_recording(samples / "ludb_3_3lead.hea").crop(0, 2.002)  # padded: written as EDF+C
    p = write_recording(rec, tmp_path / "d.edf")
    raw = bytearray(p.read_bytes())
    assert raw[192:197] == b"EDF+C"
    assert read_recording(p).meta.warnings == ()
    raw[192:197] = b"EDF+D"
    p.write_bytes(bytes(raw))
    back = read_recording(p)
    assert back.n_samples == rec.n_samples
    assert len(back.meta.warnings) == 1 and back.meta.warnings[0].startswith("EDF+D file (discontinuous)")


def test_csv_decimal_comma_with_semicolons(tmp_path):
    p = tmp_path / "eu.csv"
    p.write_text("time (ms);I;II\n0;0,1;-0,2\n2;0,15;0,25\n4;0,3;0,4\n")
    rec = read_recording(p)
    assert rec.fs == 500.0 and rec.leads == ("I", "II")
    np.testing.assert_allclose(rec.signals, [[0.1, 0.15, 0.3], [-0.2, 0.25, 0.4]], atol=1e-7)


def test_csv_windows_encodings(tmp_path):
    text = "time_s\tII (\u00b5V)\tV1\n0\t1000\t0,5\n0,004\t-250\t1\n"
    for enc in ("cp1252", "utf-16"):
        p = tmp_path / f"{enc}.csv"
        p.write_bytes(text.encode(enc))
        rec = read_recording(p)
        assert rec.leads == ("II", "V1") and rec.fs == 250.0, enc
        assert rec.meta.units_found == ("\u00b5V", "mV"), enc
        np.testing.assert_allclose(rec.signals, [[1.0, -0.25], [0.5, 1.0]], atol=1e-7)
    p = tmp_path / "binary.csv"
    p.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError, match=r"binary\.csv: CSV is neither UTF-8 nor Windows-1252 text"):
        read_recording(p, fs=500)


def test_wfdb_microvolt_units_and_baseline(tmp_path):
    d = np.array([[100, 2000], [-300, 2500], [0, 1500]], dtype=np.int64)  # samples x channels
    wfdb.wrsamp("uv", fs=250, units=["uV", "mV"], sig_name=["V1", "II"], d_signal=d, fmt=["16", "16"],
                adc_gain=[2.0, 1000.0], baseline=[0, 2000], write_dir=str(tmp_path))
    rec = read_recording(tmp_path / "uv.hea")
    assert rec.meta.units_found == ("uV", "mV")
    # V1: d / 2 adu per uV -> uV -> mV; II: (d - 2000) / 1000
    np.testing.assert_allclose(rec.lead("V1"), [0.05, -0.15, 0.0], atol=1e-7)
    np.testing.assert_allclose(rec.lead("II"), [0.0, 0.5, -0.5], atol=1e-7)
    assert rec.meta.warnings == ()


@pytest.mark.parametrize("head, first", [("", 0), ("sample", 1), ("Index", 0), ("Unnamed: 0", 0)])
def test_csv_sample_index_column_is_not_a_lead(tmp_path, head, first):
    """pandas' DataFrame.to_csv writes an unnamed index column first."""
    p = tmp_path / "pd.csv"
    p.write_text(f"{head},I,II\n" + "".join(f"{first + k},{k / 10},{-k / 10}\n" for k in range(5)))
    rec = read_recording(p, fs=500)
    assert rec.leads == ("I", "II")
    np.testing.assert_allclose(rec.lead("I"), [0, 0.1, 0.2, 0.3, 0.4], atol=1e-7)


def test_csv_column_named_sample_with_data_is_kept(tmp_path):
    p = tmp_path / "keep.csv"
    p.write_text("sample,I\n0.5,1\n-0.2,2\n")
    assert read_recording(p, fs=500).leads == ("sample", "I")


def test_edf_channel_numbers_are_not_limb_leads(tmp_path):
    import edfio

    sigs = [edfio.EdfSignal(np.zeros(100), sampling_frequency=100, label=lab, physical_dimension="mV",
                            physical_range=(-5, 5)) for lab in ("ECG 1", "ECG2", "ECG V2")]
    edfio.Edf(sigs, data_record_duration=1).write(tmp_path / "holter.edf")
    assert read_recording(tmp_path / "holter.edf").leads == ("ECG 1", "ECG2", "V2")
