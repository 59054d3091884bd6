"""`ecgrecon info`, `--version`, `convert` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import ecgrecon
from ecgrecon.cli import main
from ecgrecon.io import read_recording
from ecgrecon.leads import STANDARD_12


def run_json(capsys, *args):
    rc = main(["info", "--json", *map(str, args)])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert err == ""
    return json.loads(out)


@pytest.mark.parametrize("name, leads, fs, n, einthoven, warn", [
    ("ludb_3.hea", list(STANDARD_12), 500.0, 5000, 0.0, True),
    ("ludb_3_3lead.hea", ["I", "II", "V2"], 500.0, 5000, None, False),
    ("ludb_3_3lead.csv", ["I", "II", "V2"], 500.0, 5000, None, False),
    ("s0010_re.hea", list(STANDARD_12) + ["X", "Y", "Z"], 1000.0, 38400, 1.0, False),
])
def test_info_json_on_samples(samples, capsys, name, leads, fs, n, einthoven, warn):
    d = run_json(capsys, samples / name)
    assert d["file"] == str(samples / name)
    assert d["leads"] == leads
    assert d["n_leads"] == len(leads)
    assert d["fs_hz"] == fs
    assert d["n_samples"] == n
    assert d["duration_s"] == pytest.approx(n / fs, abs=1e-9)
    assert d["units"] == "mV"
    assert d["einthoven_max_uv"] == (None if einthoven is None else pytest.approx(einthoven, abs=0.01))
    assert bool(d["reader_warnings"]) is warn
    assert d["quality"] == []


def test_info_json_patient_and_roles(samples, capsys):
    d = run_json(capsys, samples / "s0010_re.hea")
    assert d["patient"] == {"age": "81", "sex": "female"}
    d = run_json(capsys, samples / "ludb_3_3lead.hea")
    assert d["roles"] == ["measured"] * 3
    assert d["record_id"] == "ludb_3_3lead"


def test_info_several_files_gives_list(samples, capsys):
    ds = run_json(capsys, samples / "ludb_3.hea", samples / "s0010_re.hea")
    assert [d["n_leads"] for d in ds] == [12, 15]


def test_info_text(samples, capsys):
    assert main(["info", str(samples / "ludb_3.hea")]) == 0
    out = capsys.readouterr().out
    assert "  leads      12: I II III aVR aVL aVF V1 V2 V3 V4 V5 V6\n" in out
    assert "  rate       500 Hz\n" in out
    assert "  duration   10.000 s (5000 samples)\n" in out
    assert "  Einthoven  max |III - (II - I)| = 0.0 uV\n" in out
    assert "  warning    header gains scale every lead to 1 mV peak-to-peak" in out


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"ecgrecon {ecgrecon.__version__}"
    assert ecgrecon.__version__.count(".") == 2


def test_no_command_shows_help(capsys):
    assert main([]) == 2
    assert "usage: ecgrecon" in capsys.readouterr().out


def test_unknown_option_one_line(capsys):
    with pytest.raises(SystemExit) as e:
        main(["info", "--bogus", "x.hea"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unrecognized arguments: --bogus" in err


@pytest.mark.parametrize("ext", [".csv", ".edf", ".npz", ".hea"])
def test_convert_happy_path(samples, tmp_path, capsys, ext):
    out = tmp_path / f"conv{ext}"
    assert main(["convert", str(samples / "ludb_3.hea"), str(out)]) == 0
    msg = capsys.readouterr().out
    assert msg == f"wrote {out} (12 leads, 500 Hz, 10.00 s)\n"
    src = read_recording(samples / "ludb_3.hea")
    back = read_recording(out)
    assert back.leads == src.leads and back.fs == 500.0 and back.n_samples == 5000
    assert float(np.max(np.abs(back.signals - src.signals))) <= 0.001
    # second time without --force is refused, with --force it works
    assert main(["convert", str(samples / "ludb_3.hea"), str(out)]) == 2
    assert "output exists; pass --force" in capsys.readouterr().err
    assert main(["convert", str(samples / "ludb_3.hea"), str(out), "--force"]) == 0


def test_convert_csv_with_fs_and_units(tmp_path, capsys):
    src = tmp_path / "raw.csv"
    src.write_text("I,II\n100,200\n300,400\n500,600\n")
    out = tmp_path / "raw.hea"
    assert main(["convert", str(src), str(out), "--fs", "250", "--units", "uV"]) == 0
    rec = read_recording(out)
    assert rec.fs == 250.0
    np.testing.assert_allclose(rec.signals, [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]], atol=1e-6)


def test_info_piped_into_head_no_traceback(samples):
    """`ecgrecon info --json many files | head -1` must not print a BrokenPipeError traceback."""
    files = [str(samples / "ludb_3.hea")] * 100  # ~130 KB of JSON, more than a pipe buffer
    p = subprocess.Popen([sys.executable, "-m", "ecgrecon", "info", "--json", *files],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.read(10)
    p.stdout.close()
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert p.returncode in (0, 141)


# -- full data set -------------------------------------------------------------------

def _records(shared_data):
    hs = sorted(shared_data.rglob("*.hea"))
    assert len(hs) >= 200
    return hs


@pytest.mark.needs_data
def test_info_on_every_shared_record(shared_data, capsys):
    import wfdb

    hs = _records(shared_data)
    infos = run_json(capsys, *hs)
    assert len(infos) == len(hs)
    for h, d in zip(hs, infos, strict=True):
        hdr = wfdb.rdheader(str(h.with_suffix("")))
        assert d["n_leads"] == hdr.n_sig, h
        assert d["fs_hz"] == hdr.fs, h
        assert d["n_samples"] == hdr.sig_len, h
        assert d["duration_s"] == pytest.approx(hdr.sig_len / hdr.fs), h
        if "ludb" in h.parts:
            assert d["leads"] == list(STANDARD_12), h
            assert (d["fs_hz"], d["n_samples"], d["duration_s"]) == (500.0, 5000, 10.0), h
        if "ptb-sample" in h.parts:
            assert d["leads"] == list(STANDARD_12) + ["X", "Y", "Z"], h
            assert (d["fs_hz"], d["n_samples"], d["duration_s"]) == (1000.0, 38400, 38.4), h
    assert any("ptb-sample" in h.parts for h in hs)
