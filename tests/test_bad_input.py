"""Bad input: exit code 2, exactly one stderr line naming the file and the problem, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from ecgrecon.cli import main


def cli(capsys, *args):
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(capsys, path, problem_re, *extra):
    import re

    t0 = time.perf_counter()
    rc, out, err = cli(capsys, "info", path, *extra)
    assert time.perf_counter() - t0 < 5.0  # never reads a huge file to find out
    assert rc == 2, (out, err)
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith(f"ecgrecon: error: {path}: "), err
    assert re.search(problem_re, err), err
    return err


@pytest.fixture
def three_lead(samples, tmp_path):
    """A writable copy of ludb_3_3lead (.hea text, .dat bytes)."""
    hea = (samples / "ludb_3_3lead.hea").read_text()
    dat = (samples / "ludb_3_3lead.dat").read_bytes()

    def make(stem, header=None, data=dat, hea_edit=None):
        text = hea.replace("ludb_3_3lead", stem) if header is None else header
        if hea_edit:
            text = hea_edit(text)
        (tmp_path / f"{stem}.hea").write_text(text)
        if data is not None:
            (tmp_path / f"{stem}.dat").write_bytes(data)
        return tmp_path / f"{stem}.hea"

    return make


# -- files that are not there -------------------------------------------------------

@pytest.mark.parametrize("name", ["nothere.hea", "nothere.csv", "nothere.edf", "nothere.npz"])
def test_missing_file(capsys, tmp_path, name):
    assert_one_line_error(capsys, tmp_path / name, r": file not found$")


def test_missing_dat(capsys, three_lead):
    p = three_lead("nodat", data=None)
    assert_one_line_error(capsys, p, r"signal file nodat\.dat named by the header is missing")


def test_truncated_dat(capsys, three_lead):
    p = three_lead("trunc", data=b"\x01\x00" * 3 * 1000)  # 1000 of 5000 frames
    assert_one_line_error(capsys, p, r"signal file trunc\.dat is truncated: holds 1000 of 5000 samples")


def test_odd_byte_truncated_dat(capsys, three_lead):
    p = three_lead("odd", data=b"\x01" * (3 * 2 * 5000 - 1))
    assert_one_line_error(capsys, p, r"truncated: holds 4999 of 5000")


def test_empty_file(capsys, tmp_path):
    p = tmp_path / "empty.hea"
    p.write_text("")
    assert_one_line_error(capsys, p, r": file is empty$")


def test_folder(capsys, tmp_path):
    p = tmp_path / "folder.csv"
    p.mkdir()
    assert_one_line_error(capsys, p, r"is a folder")


# -- garbage headers ----------------------------------------------------------------

def test_garbage_header_binary(capsys, tmp_path):
    p = tmp_path / "garbage.hea"
    p.write_bytes(np.random.default_rng(7).integers(0, 256, 512, dtype=np.uint8).tobytes())
    assert_one_line_error(capsys, p, r"header is not text")


def test_garbage_header_text(capsys, tmp_path):
    p = tmp_path / "gtext.hea"
    rng = np.random.default_rng(8)
    p.write_bytes(bytes(rng.integers(33, 127, 400, dtype=np.uint8)))
    assert_one_line_error(capsys, p, r"not a WFDB header")


def test_header_zero_signals(capsys, tmp_path):
    p = tmp_path / "zero.hea"
    p.write_text("zero 0 500 5000\n")
    assert_one_line_error(capsys, p, r"header names zero signals$")


def test_header_count_mismatch(capsys, three_lead):
    p = three_lead("fewer", hea_edit=lambda t: t.replace("fewer 3 500", "fewer 4 500"))
    assert_one_line_error(capsys, p, r"header names 4 signals but describes 3$")


def test_header_unknown_format(capsys, three_lead):
    p = three_lead("fmt", hea_edit=lambda t: t.replace("fmt.dat 16 ", "fmt.dat 999 "))
    assert_one_line_error(capsys, p, r"unsupported WFDB sample format 999$")


def test_unknown_unit(capsys, three_lead):
    p = three_lead("furl", hea_edit=lambda t: t.replace("1000.0(0)/mV 16 0 45", "1000.0(0)/furlong 16 0 45"))
    assert_one_line_error(capsys, p, r"unknown unit 'furlong' for lead V2")


def test_unknown_channel_name_is_kept(capsys, three_lead):
    p = three_lead("odd_name", hea_edit=lambda t: t.replace(" 0 V2\n", " 0 Pleth sensor\n"))
    rc, out, err = cli(capsys, "info", "--json", p)
    assert rc == 0, err
    d = json.loads(out)
    assert d["leads"] == ["I", "II", "Pleth sensor"]
    rc, out, err = cli(capsys, "info", p)
    assert rc == 0 and "leads      3: I II Pleth sensor" in out


# -- zero length, zero rate ------------------------------------------------------------

def test_header_zero_samples(capsys, three_lead):
    p = three_lead("nolen", data=b"", hea_edit=lambda t: t.replace("nolen 3 500 5000", "nolen 3 500 0"))
    assert_one_line_error(capsys, p, r"zero samples")


@pytest.mark.parametrize("rate", ["0", "-500", "abc"])
def test_header_bad_rate(capsys, three_lead, rate):
    p = three_lead("rate", hea_edit=lambda t: t.replace("rate 3 500 5000", f"rate 3 {rate} 5000"))
    # wfdb itself reads "-500" and "abc" as the default 250 Hz: that must not pass silently
    assert_one_line_error(capsys, p, r"sampling rate")


def test_csv_header_only(capsys, tmp_path):
    p = tmp_path / "hdr.csv"
    p.write_text("time_s,I,II\n")
    assert_one_line_error(capsys, p, r"CSV has a header but no samples$")


@pytest.mark.parametrize("fs", ["0", "-250", "nan", "inf"])
def test_csv_bad_fs_option(capsys, tmp_path, fs):
    p = tmp_path / "nofs.csv"
    p.write_text("I,II\n1,2\n3,4\n")
    assert_one_line_error(capsys, p, r"sampling rate", "--fs", fs)


def test_csv_without_fs(capsys, tmp_path):
    p = tmp_path / "needfs.csv"
    p.write_text("I,II\n1,2\n3,4\n")
    assert_one_line_error(capsys, p, r"no time column; give the sampling rate \(--fs\)$")


# -- CSV content --------------------------------------------------------------------------

def test_csv_ragged(capsys, tmp_path):
    p = tmp_path / "ragged.csv"
    p.write_text("I,II,V1\n1,2,3\n4,5\n6,7,8\n")
    assert_one_line_error(capsys, p, r"ragged CSV: line 3 has 2 fields, header has 3$", "--fs", "500")


def test_csv_text_in_numbers(capsys, tmp_path):
    p = tmp_path / "text.csv"
    p.write_text("I,II\n1,2\n3,lead-off\n")
    assert_one_line_error(capsys, p, r"line 3: 'lead-off' is not a number$", "--fs", "500")


def test_csv_numeric_header(capsys, tmp_path):
    p = tmp_path / "nohead.csv"
    p.write_text("1,2\n3,4\n")
    assert_one_line_error(capsys, p, r"first row holds numbers", "--fs", "500")


def test_csv_nan_values_are_kept_and_reported(capsys, tmp_path):
    """Decision: NaN (and inf) cells are missing samples. The reader keeps them as NaN and
    ``info`` reports them as a quality warning (exit 0); an all-NaN lead is reported, not refused."""
    p = tmp_path / "gaps.csv"
    p.write_text("I,II,V1\n0.1,nan,NaN\n0.2,0.5,nan\n0.3,inf,NaN\n0.1,0.4,nan\n")
    from ecgrecon.io import read_recording

    rec = read_recording(p, fs=500)
    assert np.isnan(rec.lead("II")[[0, 2]]).all() and rec.lead("II")[1] == pytest.approx(0.5)
    assert np.isnan(rec.lead("V1")).all()
    rc, out, err = cli(capsys, "info", "--json", "--fs", "500", p)
    assert rc == 0 and err == ""
    q = json.loads(out)["quality"]
    assert "II: 2 missing (NaN) samples, first at 0.00 s" in q
    assert "V1: 4 missing (NaN) samples, first at 0.00 s" in q
    assert not any(m.startswith("I:") for m in q)


def test_all_nan_csv(capsys, tmp_path):
    p = tmp_path / "allnan.csv"
    p.write_text("I,II,III\nnan,nan,nan\nnan,nan,nan\nnan,nan,nan\n")
    rc, out, err = cli(capsys, "info", "--fs", "250", p)
    assert rc == 0 and err == ""
    assert "quality    I: 3 missing (NaN) samples" in out
    assert "quality    III: 3 missing (NaN) samples" in out
    assert "Einthoven" not in out  # nothing could be checked: no "0.0 uV" claim


# -- huge files: refused from their size, fast -------------------------------------------------

def test_2gb_csv_refused_by_size(capsys, tmp_path):
    p = tmp_path / "huge.csv"
    with open(p, "wb") as f:
        f.write(b"I,II\n1,2\n")
        f.truncate(2 * 1024**3)  # sparse: no disk used
    assert_one_line_error(capsys, p, r"CSV file is 2\.1 GB, over the 1 GB limit", "--fs", "500")


def test_huge_wfdb_refused_by_size(capsys, tmp_path):
    p = tmp_path / "holter.hea"
    n = 100_000_000
    lines = [f"holter 12 500 {n}"] + [f"holter.dat 16 1000 16 0 0 0 0 {ld}" for ld in
                                       ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")]
    p.write_text("\n".join(lines) + "\n")
    with open(tmp_path / "holter.dat", "wb") as f:
        f.truncate(12 * 2 * n)  # sparse
    assert_one_line_error(capsys, p, r"recording too large to load \(4\.8 GB as float32, limit 1\.5 GB\)")


# -- npz / edf garbage ---------------------------------------------------------------------

def test_npz_bad_fs_array(capsys, tmp_path):
    p = tmp_path / "fsarr.npz"
    np.savez(p, signals=np.zeros((1, 3)), fs=np.array([]), leads=np.array(["I"]))
    assert_one_line_error(capsys, p, r"'fs' must be one number")


def test_npz_complex_refused(capsys, tmp_path):
    p = tmp_path / "cplx.npz"
    np.savez(p, signals=np.zeros((1, 3), complex), fs=500.0, leads=np.array(["I"]))
    assert_one_line_error(capsys, p, r"must be a 2-D array of real numbers")


def test_npz_object_array_via_cli(capsys, tmp_path):
    p = tmp_path / "obj.npz"
    np.savez(p, signals=np.array([[1.0, None]], dtype=object), fs=500.0, leads=np.array(["I"]))
    assert_one_line_error(capsys, p, r"not a readable \.npz")


def test_garbage_edf(capsys, tmp_path):
    p = tmp_path / "garbage.edf"
    p.write_bytes(bytes(np.random.default_rng(3).integers(0, 256, 2000, dtype=np.uint8)))
    err = assert_one_line_error(capsys, p, r"not a readable EDF file")
    assert err.isprintable() or err[:-1].isprintable()


def test_unsupported_type(capsys, tmp_path):
    p = tmp_path / "scan.pdf"
    p.write_bytes(b"%PDF-1.4")
    assert_one_line_error(capsys, p, r"unsupported file type '\.pdf'")


def test_convert_bad_input_same_contract(capsys, tmp_path):
    p = tmp_path / "ragged.csv"
    p.write_text("I,II\n1\n")
    rc, out, err = cli(capsys, "convert", p, tmp_path / "out.hea", "--fs", "500")
    assert rc == 2 and err.count("\n") == 1 and str(p) in err and "ragged" in err
    assert not (tmp_path / "out.hea").exists() and not (tmp_path / "out.dat").exists()


# -- one real process: no traceback reaches the user ---------------------------------------

def test_subprocess_bad_file(tmp_path):
    p = tmp_path / "broken.hea"
    p.write_text("broken 2 500 1000\nbroken.dat 16 1000 16 0 0 0 0 I\nbroken.dat 16 1000 16 0 0 0 0 II\n")
    (tmp_path / "broken.dat").write_bytes(b"\0" * 100)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}  # what a user's shell has
    r = subprocess.run([sys.executable, "-m", "ecgrecon", "info", str(p)], capture_output=True, text=True,
                       timeout=60, env=env)
    assert r.returncode == 2
    assert r.stdout == ""
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip("\n").split("\n")
    assert lines == [f"ecgrecon: error: {p}: signal file broken.dat is truncated: holds 25 of 1000 samples"]


def test_multi_segment_record_refused_clearly(capsys, tmp_path):
    import wfdb

    for s in ("seg1", "seg2"):
        wfdb.wrsamp(s, fs=500, units=["mV"] * 2, sig_name=["I", "II"], d_signal=np.zeros((100, 2), np.int64),
                    fmt=["16"] * 2, adc_gain=[1000.0] * 2, baseline=[0] * 2, write_dir=str(tmp_path))
    p = tmp_path / "multi.hea"
    p.write_text("multi/2 2 500 200\nseg1 100\nseg2 100\n")
    assert_one_line_error(capsys, p, r"multi-segment WFDB records are not supported")


def test_huge_npz_refused_before_loading(capsys, tmp_path, monkeypatch):
    """An .npz whose 'signals' header claims 12 x 100,000,000 samples is refused from the header alone."""
    import io
    import zipfile

    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(head, {"descr": "<f4", "fortran_order": False, "shape": (12, 100_000_000)})
    p = tmp_path / "huge.npz"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("signals.npy", head.getvalue() + b"\0" * 64)
        for name, arr in (("fs", np.float64(500)), ("leads", np.array(["I"] * 12))):
            b = io.BytesIO()
            np.save(b, arr)
            zf.writestr(f"{name}.npy", b.getvalue())

    def no_load(*a, **k):
        raise AssertionError("array data was read")

    monkeypatch.setattr(np.lib.format, "read_array", no_load)
    assert_one_line_error(capsys, p, r"recording too large to load \(4\.8 GB as float32")


def test_npz_empty_units(capsys, tmp_path):
    p = tmp_path / "units.npz"
    np.savez(p, signals=np.zeros((1, 3)), fs=500.0, leads=np.array(["I"]), units=np.array([], dtype="<U2"))
    assert_one_line_error(capsys, p, r"'units' must be one unit")


def _edf(path, n_sig=3, seconds=10):
    import edfio

    sigs = [edfio.EdfSignal(np.zeros(500 * seconds), sampling_frequency=500, label=f"V{k + 1}",
                            physical_dimension="mV", physical_range=(-5, 5)) for k in range(n_sig)]
    edfio.Edf(sigs, data_record_duration=1).write(path)
    return path


def test_huge_edf_refused_from_header(capsys, tmp_path):
    p = _edf(tmp_path / "huge.edf", n_sig=12, seconds=1)
    raw = bytearray(p.read_bytes())
    raw[236:244] = b"300000  "  # number of data records: 300,000 s of 12 x 500 Hz
    p.write_bytes(bytes(raw))
    with open(p, "r+b") as f:
        f.truncate(256 * 13 + 300_000 * 12 * 500 * 2)  # sparse 3.6 GB
    assert_one_line_error(capsys, p, r"recording too large to load \(7\.2 GB as float32")


def test_truncated_edf_reported_not_on_stderr(capsys, tmp_path):
    p = _edf(tmp_path / "cut.edf")
    p.write_bytes(p.read_bytes()[:-7000])  # 3 of 10 one-second records lost (one partly)
    rc, out, err = cli(capsys, "info", "--json", p)
    assert rc == 0 and err == ""
    d = json.loads(out)
    assert d["n_samples"] == 3500
    assert any("truncated" in w for w in d["reader_warnings"])


def test_dat_without_header(capsys, tmp_path):
    p = tmp_path / "orphan.dat"
    p.write_bytes(b"\0" * 100)
    assert_one_line_error(capsys, p, r"WFDB samples need their header; orphan\.hea is missing$")


def test_csv_time_in_ms_without_saying_so(capsys, tmp_path):
    """A 'time' column counting milliseconds would make a 0.5 Hz recording: refuse and say why."""
    p = tmp_path / "ms.csv"
    p.write_text("time,I\n0,1\n2,2\n4,3\n")
    assert_one_line_error(capsys, p, r"time column 'time' gives 0\.5 Hz, too slow for an ECG; .*time_ms")
