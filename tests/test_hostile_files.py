"""Hostile files (issue 16): validated before a parser sees them, referenced files kept inside the recording's
folder, Unicode output names, and temporaries of a killed writer removed by the next run."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from scipy.io import loadmat, savemat

from conftest import REPO, SAMPLES
from ecgrecon import cli
from ecgrecon.errors import InputError
from ecgrecon.io import read_recording, tempfiles, write_recording


def _record(tmp_path: Path, name: str = "r") -> Path:
    """ludb_3 copied as ``name``.hea/.dat; returns the header."""
    hea = (SAMPLES / "ludb_3.hea").read_text().replace("ludb_3", name)
    (tmp_path / f"{name}.hea").write_text(hea)
    shutil.copy(SAMPLES / "ludb_3.dat", tmp_path / f"{name}.dat")
    return tmp_path / f"{name}.hea"


def _edit_signal_lines(hea: Path, fn) -> None:
    lines = hea.read_text().splitlines()
    n = int(lines[0].split()[1])
    lines[1:1 + n] = [fn(k, ln) for k, ln in enumerate(lines[1:1 + n])]
    hea.write_text("\n".join(lines) + "\n")


def _read_within(path, seconds: float = 10.0, **kw) -> InputError:
    """Read in a thread: a FIFO handed to a parser blocks forever, which must show as a failure here, not as a
    hung test run."""
    out: dict = {}

    def run() -> None:
        try:
            read_recording(path, **kw)
            out["ok"] = True
        except InputError as e:
            out["err"] = e
        except BaseException as e:  # noqa: BLE001 - reported below
            out["other"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"reading {path} blocked for {seconds} s"
    assert "err" in out, out
    return out["err"]


def _one_line(capsys, *args) -> tuple[int, str]:
    rc = cli.main([str(a) for a in args])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return rc, err


# -------------------------------------------------------------------------------------------- WFDB headers
def test_long_header_line_is_refused_before_wfdb_backtracks(tmp_path):
    hea = _record(tmp_path)
    lines = hea.read_text().splitlines()
    lines[1] = lines[1].replace(" 16 ", " 16 " + "1" * 100_000 + " ", 1)
    hea.write_text("\n".join(lines) + "\n")
    t0 = time.monotonic()
    e = _read_within(hea, 20)
    assert "characters long" in e.problem and time.monotonic() - t0 < 5  # wfdb alone took ~2 minutes


def test_skew_is_checked_before_wfdb_allocates(tmp_path):
    hea = _record(tmp_path)
    _edit_signal_lines(hea, lambda k, ln: ln.replace("r.dat 16", "r.dat 16:99999999", 1) if k == 0 else ln)
    with pytest.raises(InputError) as e:
        read_recording(hea)
    assert re.search("skew 99999999", e.value.problem), e.value.problem  # the problem, not the path


def test_samples_per_frame_are_bounded(tmp_path):
    hea = _record(tmp_path)
    _edit_signal_lines(hea, lambda k, ln: ln.replace("r.dat 16", "r.dat 16x99999999", 1) if k == 0 else ln)
    with pytest.raises(InputError) as e:
        read_recording(hea)
    assert re.search("samples per frame", e.value.problem), e.value.problem  # the problem, not the path


@pytest.mark.parametrize("gain", ["1e-36", "inf", "nan", "1e300"])
def test_unusable_gain_is_refused(tmp_path, gain):
    hea = _record(tmp_path)
    _edit_signal_lines(hea, lambda k, ln: " ".join([*ln.split()[:2], f"{gain}/mV", *ln.split()[3:]]) if k == 2
                       else ln)
    with pytest.raises(InputError) as e:
        read_recording(hea)
    # wfdb's regex does not take "inf"/"nan" as a number: it reads them as a unit, also refused
    assert "usable ADC gain" in e.value.problem or "unknown unit" in e.value.problem


def test_sample_count_beyond_the_file_is_refused(tmp_path):
    hea = _record(tmp_path)
    lines = hea.read_text().splitlines()
    lines[0] = "r 12 500 99000000"
    hea.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as e:
        read_recording(hea)
    assert re.search("too large|truncated", e.value.problem), e.value.problem  # the problem, not the path


# ---------------------------------------------------------------------------------------------- file types
@pytest.mark.parametrize("which", ["header", "signal"])
def test_fifo_is_refused_not_waited_on(tmp_path, which):
    hea = _record(tmp_path)
    victim = hea if which == "header" else tmp_path / "r.dat"
    if which == "header":
        text = hea.read_text()
        hea.unlink()
        os.mkfifo(hea)
    else:
        victim.unlink()
        os.mkfifo(victim)
        text = None
    e = _read_within(hea)
    assert "FIFO" in e.problem and e.path == str(hea)
    assert text is None or text  # the header text was real before it became a FIFO


def test_challenge_mat_signal_file_fifo_and_short_file(tmp_path):
    rec = read_recording(SAMPLES / "ludb_3.hea")
    d = np.round(rec.signals * 1000).astype(np.int16)
    savemat(tmp_path / "c.mat", {"val": d}, format="4")
    lines = [f"c 12 500 {rec.n_samples}"]
    lines += [f"c.mat 16+24 1000/mV 16 0 0 0 0 {n}" for n in rec.leads]
    (tmp_path / "c.hea").write_text("\n".join(lines) + "\n")
    ok = read_recording(tmp_path / "c.hea")
    assert ok.leads == rec.leads and np.allclose(ok.signals, d / 1000.0, atol=1e-6)
    data = (tmp_path / "c.mat").read_bytes()
    (tmp_path / "c.mat").write_bytes(data[: len(data) // 3])
    with pytest.raises(InputError) as e:
        read_recording(tmp_path / "c.hea")
    assert re.search("truncated", e.value.problem), e.value.problem  # the problem, not the path
    (tmp_path / "c.mat").unlink()
    os.mkfifo(tmp_path / "c.mat")
    assert "FIFO" in _read_within(tmp_path / "c.hea").problem


def test_device_as_signal_file_is_refused(tmp_path):
    hea = _record(tmp_path)
    (tmp_path / "r.dat").unlink()
    (tmp_path / "r.dat").symlink_to("/dev/zero")
    e = _read_within(hea)
    assert "outside the recording's folder" in e.problem


def test_symlinked_signal_file_pointing_outside_is_refused(tmp_path):
    hea = _record(tmp_path)
    (tmp_path / "r.dat").unlink()
    (tmp_path / "r.dat").symlink_to("/etc/passwd")
    with pytest.raises(InputError) as e:
        read_recording(hea)
    assert re.search("outside the recording's folder", e.value.problem), e.value.problem  # the problem, not the path
    # a symlink that stays inside the folder is fine
    (tmp_path / "r.dat").unlink()
    shutil.copy(SAMPLES / "ludb_3.dat", tmp_path / "real.dat")
    (tmp_path / "r.dat").symlink_to(tmp_path / "real.dat")
    assert read_recording(hea).n_samples == 5000


def test_signal_file_named_with_dotdot_is_refused(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    hea = _record(sub)
    shutil.copy(SAMPLES / "ludb_3.dat", tmp_path / "outside.dat")
    _edit_signal_lines(hea, lambda k, ln: ln.replace("r.dat", "../outside.dat", 1))
    e = _read_within(hea)
    assert "outside the recording's folder" in e.problem or "invalid syntax" in e.problem  # wfdb refuses '/' too


def test_304_character_names_are_one_line(tmp_path, capsys):
    hea = _record(tmp_path)
    long = "x" * 300 + ".dat"
    _edit_signal_lines(hea, lambda k, ln: ln.replace("r.dat", long, 1))
    e = _read_within(hea)
    assert e.path == str(hea) and "304 bytes long" in e.problem
    rc, err = _one_line(capsys, "info", tmp_path / ("y" * 300 + ".hea"))
    assert rc == 2 and err.count("\n") == 1 and "bytes long" in err


# ---------------------------------------------------------------------------- files named inside a recording
def _bspm_record(folder: Path, layout_line: str) -> Path:
    src = SAMPLES / "bspm"
    text = (src / "ludb_3_bspm.hea").read_text().replace("# bspm-layout: bspm35", f"# bspm-layout: {layout_line}")
    (folder / "ludb_3_bspm.hea").write_text(text)
    shutil.copy(src / "ludb_3_bspm.dat", folder / "ludb_3_bspm.dat")
    return folder / "ludb_3_bspm.hea"


def _layout_copy(path: Path) -> Path:
    raw = json.loads((REPO / "resources" / "layouts" / "bspm35.json").read_text())
    raw["name"] = "mylayout"
    path.write_text(json.dumps(raw))
    return path


def test_layout_named_in_a_header_resolves_in_its_folder(tmp_path, monkeypatch):
    rec_dir, cwd = tmp_path / "rec", tmp_path / "elsewhere"
    rec_dir.mkdir()
    cwd.mkdir()
    _layout_copy(rec_dir / "mylayout.json")
    hea = _bspm_record(rec_dir, "mylayout.json")
    monkeypatch.chdir(cwd)  # the working directory must not matter
    rec = read_recording(hea)
    assert rec.electrodes is not None and rec.electrodes.layout == "mylayout"


@pytest.mark.parametrize("where", ["absolute", "dotdot"])
def test_layout_named_in_a_header_outside_its_folder_is_refused(tmp_path, where):
    rec_dir = tmp_path / "rec"
    rec_dir.mkdir()
    evil = _layout_copy(tmp_path / "evil.json")
    hea = _bspm_record(rec_dir, str(evil) if where == "absolute" else "../evil.json")
    with pytest.raises(InputError) as e:
        read_recording(hea)
    assert re.search("outside the recording's folder", e.value.problem), e.value.problem  # the problem, not the path
    assert str(hea) in str(e.value)
    # the same file given by the user (command line) is taken
    assert read_recording(hea, layout=str(evil)).electrodes.layout == "mylayout"


def _mat_with(tmp_path: Path, **changes) -> Path:
    m = loadmat(SAMPLES / "bspm" / "ludb_3_bspm_potvals.mat")
    d = {k: v for k, v in m.items() if not k.startswith("__")}
    d.update(changes)
    p = tmp_path / "map.mat"
    savemat(p, d)
    return p


def test_mat_layout_variable_is_confined_to_its_folder(tmp_path):
    evil = _layout_copy(tmp_path / "evil.json")
    sub = tmp_path / "sub"
    sub.mkdir()
    p = _mat_with(sub, layout=str(evil))
    with pytest.raises(InputError) as e:
        read_recording(p)
    assert re.search("outside the recording's folder", e.value.problem), e.value.problem  # the problem, not the path
    _layout_copy(sub / "mine.json")
    assert read_recording(_mat_with(sub, layout="mine.json")).electrodes.layout == "mylayout"


def test_unknown_mat_layout_names_the_file(tmp_path):
    p = _mat_with(tmp_path, layout="no_such_layout")
    with pytest.raises(InputError) as e:
        read_recording(p)
    assert re.search("not installed", e.value.problem), e.value.problem  # the problem, not the path
    assert str(p) in str(e.value)


@pytest.mark.parametrize("fs", ["abc", np.zeros((0, 0))])
def test_mat_fs_of_the_wrong_type_is_one_line(tmp_path, fs):
    with pytest.raises(InputError) as e:
        read_recording(_mat_with(tmp_path, fs=fs))
    assert re.search("'fs' must be one number", e.value.problem), e.value.problem  # the problem, not the path


@pytest.mark.parametrize("electrodes,why", [
    ("text", "electrodes"),
    ([{"name": "RA", "u": 0.1, "v": 0.2, "xyz": ["a", "b", "c"]}], "malformed"),
    (None, "limit"),
])
def test_layout_json_of_wrong_shape_is_one_line(tmp_path, electrodes, why):
    raw = json.loads((REPO / "resources" / "layouts" / "bspm35.json").read_text())
    if electrodes is None:
        raw["electrodes"] = [{"name": f"E{i}", "u": 0.5, "v": 0.5} for i in range(20_000)]
    else:
        raw["electrodes"] = electrodes
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(raw))
    t0 = time.monotonic()
    with pytest.raises(InputError) as e:
        read_recording(SAMPLES / "bspm" / "ludb_3_bspm.hea", layout=str(bad))
    assert re.search(why, e.value.problem), e.value.problem  # the problem, not the path
    assert time.monotonic() - t0 < 10


# ------------------------------------------------------------------------------------------ Unicode names
def test_unicode_wfdb_output_name_is_refused_up_front(tmp_path, capsys):
    rec = read_recording(SAMPLES / "ludb_3_3lead.hea")
    with pytest.raises(InputError) as e:
        write_recording(rec, tmp_path / "ЭКГ_üx.hea")
    assert re.search("ASCII", e.value.problem), e.value.problem  # the problem, not the path
    assert not list(tmp_path.iterdir())  # nothing half-written
    rc, err = _one_line(capsys, "convert", SAMPLES / "ludb_3_3lead.hea", tmp_path / "ЭКГ_üx.hea")
    assert rc == 2 and err.count("\n") == 1
    # other formats take the name and read back
    for ext in (".csv", ".edf", ".npz"):
        out = write_recording(rec, tmp_path / f"ЭКГ_üx{ext}")
        assert read_recording(out).leads == rec.leads


def test_non_ascii_header_lines_are_refused(tmp_path):
    hea = _record(tmp_path)
    _edit_signal_lines(hea, lambda k, ln: ln.replace("r.dat", "rü.dat", 1))
    with pytest.raises(InputError) as e:
        read_recording(hea)
    assert re.search("non-ASCII", e.value.problem), e.value.problem  # the problem, not the path


# ------------------------------------------------------------------------------------------ temporaries
def test_stale_temporaries_are_removed_by_the_next_write(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer runs
    old = time.time() - 3600
    made = {
        f".ecgrecon~{dead.pid}~abcd~k.csv": "file",
        f".ecgrecon~{dead.pid}~efgh": "dir",
        ".k.csv.ab12cd34.csv": "file",  # names of earlier versions, written before this process started
        ".ecgrecon-ab12cd34": "dir",
        ".long.140213.dat.tmp": "file",
    }
    for name, kind in made.items():
        p = tmp_path / name
        p.mkdir() if kind == "dir" else p.write_bytes(b"x" * 100)
        os.utime(p, (old, old))
    live = tmp_path / f".ecgrecon~{os.getppid()}~live~x.csv"  # a running process's: kept
    live.write_text("x")
    fresh_legacy = tmp_path / ".k.csv.zz99yy88.csv"  # legacy name but written now: could be a running old version
    fresh_legacy.write_text("x")
    users = tmp_path / ".hidden_notes.txt"
    users.write_text("mine")
    tempfiles._swept.discard(str(tmp_path.resolve()))
    rec = read_recording(SAMPLES / "ludb_3_3lead.hea")
    write_recording(rec, tmp_path / "k.csv")
    left = {p.name for p in tmp_path.iterdir()}
    assert not (set(made) & left), left
    assert {live.name, fresh_legacy.name, users.name, "k.csv"} <= left


def test_temporaries_of_a_writer_killed_mid_write_are_cleaned_up(tmp_path):
    """SIGKILL while a long CSV is being written leaves its hidden temporary; the next write removes it."""
    code = ("import numpy as np; from ecgrecon.recording import Recording; from ecgrecon.io import write_recording;"
            "rec = Recording(np.zeros((12, 500 * 3600), np.float32), 500.0, "
            "('I','II','III','aVR','aVL','aVF','V1','V2','V3','V4','V5','V6'));"
            f"write_recording(rec, {str(tmp_path / 'k.csv')!r})")
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(p.name.startswith(".ecgrecon~") for p in tmp_path.iterdir()):
            time.sleep(0.05)
        time.sleep(0.3)
        assert child.poll() is None, "the writer finished before it could be killed"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    temps = [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert temps and not (tmp_path / "k.csv").exists()
    tempfiles._swept.discard(str(tmp_path.resolve()))
    write_recording(read_recording(SAMPLES / "ludb_3_3lead.hea"), tmp_path / "other.npz")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_block_reader_checks_signal_files_too(tmp_path, kind):
    """Long recordings are read in memory-mapped blocks (io.wfdb_blocks); the same checks apply there."""
    from ecgrecon.io.wfdb_blocks import open_recording

    hea = _record(tmp_path)
    (tmp_path / "r.dat").unlink()
    if kind == "symlink":
        (tmp_path / "r.dat").symlink_to("/etc/passwd")
    else:
        os.mkfifo(tmp_path / "r.dat")
    with pytest.raises(InputError) as e:
        open_recording(hea)
    assert ("outside the recording's folder" if kind == "symlink" else "FIFO") in e.value.problem


def test_long_output_names_and_unwritable_folders_are_one_line(tmp_path, capsys):
    src = SAMPLES / "ludb_3_3lead.hea"
    rc, err = _one_line(capsys, "convert", src, tmp_path / ("x" * 300 + ".csv"))
    assert rc == 2 and err.count("\n") == 1 and "304 bytes long" in err
    rc, err = _one_line(capsys, "convert", src, "/proc/out.csv")  # a file system that takes no new files
    assert rc == 2 and err.count("\n") == 1 and "cannot write" in err
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if not os.access(ro, os.W_OK):  # (root writes anywhere: then only the case above applies)
            rc, err = _one_line(capsys, "convert", src, ro / "out.csv")
            assert rc == 2 and err.count("\n") == 1 and "cannot write" in err
    finally:
        ro.chmod(0o700)


# ------------------------------------------------------------------------------------------------- EDF fields
_EDF_FIELDS = {"label": 16, "transducer": 80, "dimension": 8, "phys_min": 8, "phys_max": 8, "dig_min": 8,
               "dig_max": 8, "prefilter": 80, "samples": 8, "reserved": 32}


def _edf_with(tmp_path: Path, field: str, value: str, signal_index: int = 0) -> Path:
    """An EDF of the 3-lead sample with one header field of one signal replaced (fixed-width ASCII)."""
    rec = read_recording(SAMPLES / "ludb_3_3lead.hea")
    p = write_recording(rec, tmp_path / "e.edf")
    b = bytearray(p.read_bytes())
    ns = int(b[252:256].decode())
    off = 256
    for name, width in _EDF_FIELDS.items():
        if name == field:
            at = off + signal_index * width
            b[at:at + width] = value.ljust(width).encode()[:width]
            break
        off += width * ns
    p.write_bytes(bytes(b))
    return p


def test_edf_negative_samples_per_record_is_one_line(tmp_path, capsys):
    p = _edf_with(tmp_path, "samples", "-500")
    rc, err = _one_line(capsys, "info", p)
    assert rc == 2 and err.count("\n") == 1 and "e.edf" in err


def test_edf_huge_physical_range_is_refused_or_finite(tmp_path):
    p = _edf_with(tmp_path, "phys_max", "1e308")
    try:
        rec = read_recording(p)
    except InputError as e:
        assert e.path == str(p)
    else:
        assert not np.isinf(rec.signals).any()


def test_edf_empty_label_is_refused(tmp_path):
    with pytest.raises(InputError) as e:
        read_recording(_edf_with(tmp_path, "label", ""))
    assert "empty label" in e.value.problem


@pytest.mark.parametrize("tag", ["7", "0"])
def test_edf_length_annotation_cannot_truncate_a_recording(tmp_path, tag):
    """``ecgrecon-n-samples`` may only drop the padding the writer added; 7 or 0 would have cut 5000 samples."""
    import edfio

    rec = read_recording(SAMPLES / "ludb_3_3lead.hea")
    p = write_recording(rec, tmp_path / "e.edf")
    edf = edfio.read_edf(p)
    edf.add_annotations([edfio.EdfAnnotation(0.0, None, f"ecgrecon-n-samples {tag}")])
    edf.write(tmp_path / "t.edf")
    assert read_recording(tmp_path / "t.edf").n_samples == rec.n_samples


def test_csv_value_past_float32_is_an_overflow_not_a_missing_sample(tmp_path):
    rows = "".join(f"{i / 500},{i % 7},{1e39 if i == 10 else i % 5}\n" for i in range(1000))
    (tmp_path / "big.csv").write_text("time,I,II\n" + rows)
    with pytest.raises(InputError) as e:
        read_recording(tmp_path / "big.csv")
    assert "overflow" in e.value.problem
    (tmp_path / "inf.csv").write_text("time,I,II\n" + rows.replace("1e+39", "inf"))
    rec = read_recording(tmp_path / "inf.csv")  # "inf" written in a cell: a missing sample, flagged as NaN
    assert np.isnan(rec.signals[1, 10]) and np.isfinite(rec.signals[:, :10]).all()


def test_mat_element_claiming_more_bytes_than_the_file_is_refused_before_scipy(tmp_path):
    """A damaged tag (found by the fuzz run: 987 MB claimed in a 146 KB file) made loadmat ask for gigabytes."""
    import struct

    src = _mat_with(tmp_path)
    b = bytearray(src.read_bytes())
    b[132:136] = struct.pack("<I", 987_395_087)  # the first variable's byte count
    bad = tmp_path / "bad.mat"
    bad.write_bytes(bytes(b))
    with pytest.raises(InputError) as e:
        read_recording(bad)
    assert "claims 987395087 bytes" in e.value.problem
