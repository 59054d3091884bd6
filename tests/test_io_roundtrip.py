"""Format conversions keep the samples; writing never touches the input and is atomic."""

from __future__ import annotations

import os

import numpy as np
import pytest

from ecgrecon.errors import InputError
from ecgrecon.io import csv_io, npz_io, read_recording, write_recording

SAMPLES = ["ludb_3.hea", "s0010_re.hea"]
UV = 0.001  # mV


def _max_err(a, b) -> float:
    return float(np.max(np.abs(a.signals.astype(np.float64) - b.signals.astype(np.float64))))


@pytest.mark.parametrize("name", SAMPLES)
def test_wfdb_csv_wfdb(samples, tmp_path, name):
    rec = read_recording(samples / name)
    via_csv = read_recording(write_recording(rec, tmp_path / "a.csv"))
    assert via_csv.leads == rec.leads and via_csv.fs == rec.fs and via_csv.n_samples == rec.n_samples
    assert _max_err(via_csv, rec) <= UV
    back = read_recording(write_recording(via_csv, tmp_path / "b.hea"))
    assert back.leads == rec.leads and back.fs == rec.fs and back.n_samples == rec.n_samples
    assert _max_err(back, rec) <= UV


@pytest.mark.parametrize("name", SAMPLES)
def test_wfdb_wfdb(samples, tmp_path, name):
    rec = read_recording(samples / name)
    back = read_recording(write_recording(rec, tmp_path / "w.hea"))
    assert back.leads == rec.leads and back.fs == rec.fs and back.n_samples == rec.n_samples
    assert _max_err(back, rec) <= UV
    assert back.meta.warnings == ()  # written at one gain: the LUDB trap must not fire again
    assert back.meta.patient == rec.meta.patient


@pytest.mark.parametrize("name", SAMPLES)
def test_wfdb_edf(samples, tmp_path, name):
    rec = read_recording(samples / name)
    back = read_recording(write_recording(rec, tmp_path / "e.edf"))
    assert back.leads == rec.leads and back.fs == rec.fs and back.n_samples == rec.n_samples
    assert _max_err(back, rec) <= UV


@pytest.mark.parametrize("name", SAMPLES)
def test_wfdb_npz_exact(samples, tmp_path, name):
    rec = read_recording(samples / name)
    back = read_recording(write_recording(rec, tmp_path / "n.npz"))
    np.testing.assert_array_equal(back.signals, rec.signals)
    assert back.fs == rec.fs


def test_roles_survive_wfdb(samples, tmp_path):
    rec = read_recording(samples / "ludb_3_3lead.hea")
    back = read_recording(write_recording(rec, tmp_path / "r.hea"))
    assert [r.value for r in back.roles] == ["measured"] * 3


# -- never touch the input --------------------------------------------------------

def _copy_sample(samples, tmp_path, stem="ludb_3_3lead"):
    for ext in (".hea", ".dat"):
        (tmp_path / f"{stem}{ext}").write_bytes((samples / f"{stem}{ext}").read_bytes())
    return tmp_path / f"{stem}.hea"


@pytest.mark.parametrize("out_ext", [".hea", ".dat"])
def test_refuses_to_write_over_input(samples, tmp_path, out_ext):
    src = _copy_sample(samples, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    rec = read_recording(src)
    target = src.with_suffix(".hea") if out_ext == ".hea" else src
    with pytest.raises(InputError, match="refusing to write over the input"):
        write_recording(rec, target, protect=(src,))
    # writing header X.hea would replace X.dat, the input's samples; protecting the .dat protects both
    with pytest.raises(InputError, match="refusing to write over the input"):
        write_recording(rec, src.with_suffix(".hea"), protect=(src.with_suffix(out_ext),))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_refuses_input_via_other_spelling(samples, tmp_path, monkeypatch):
    src = _copy_sample(samples, tmp_path)
    monkeypatch.chdir(tmp_path)
    rec = read_recording(src)
    with pytest.raises(InputError, match="refusing"):
        write_recording(rec, "./sub/../ludb_3_3lead.hea", protect=(str(src),))


def test_convert_cli_refuses_same_file(samples, tmp_path, capsys):
    from ecgrecon.cli import main

    src = _copy_sample(samples, tmp_path)
    before = src.with_suffix(".dat").read_bytes()
    assert main(["convert", str(src), str(src.with_suffix(".hea")), "--force"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refusing to write over the input" in err
    assert src.with_suffix(".dat").read_bytes() == before


def test_overwrite_false_refuses_existing(samples, tmp_path):
    rec = read_recording(samples / "ludb_3_3lead.hea")
    for ext in (".csv", ".edf", ".npz", ".hea"):
        out = tmp_path / f"o{ext}"
        write_recording(rec, out)
        old = out.read_bytes()
        with pytest.raises(InputError, match=r"output exists; pass --force"):
            write_recording(rec.crop(0, 1), out, overwrite=False)
        assert out.read_bytes() == old
        write_recording(rec.crop(0, 1), out, overwrite=True)
        assert out.read_bytes() != old
    # a WFDB header whose .dat alone exists is refused too: it would replace those samples
    (tmp_path / "only.dat").write_bytes(b"\0\0")
    with pytest.raises(InputError, match=r"only\.dat: output exists"):
        write_recording(rec, tmp_path / "only.hea", overwrite=False)
    assert (tmp_path / "only.dat").read_bytes() == b"\0\0"


def test_missing_output_folder(samples, tmp_path):
    rec = read_recording(samples / "ludb_3_3lead.hea")
    with pytest.raises(InputError, match="output folder does not exist"):
        write_recording(rec, tmp_path / "nope" / "x.csv")


def test_unwritable_extension(samples, tmp_path):
    rec = read_recording(samples / "ludb_3_3lead.hea")
    with pytest.raises(InputError, match=r"cannot write '\.txt'"):
        write_recording(rec, tmp_path / "x.txt")


# -- atomic writes -----------------------------------------------------------------

class Boom(RuntimeError):
    pass


@pytest.mark.parametrize("ext", [".csv", ".npz", ".edf"])
def test_write_is_atomic(samples, tmp_path, monkeypatch, ext):
    rec = read_recording(samples / "ludb_3_3lead.hea")
    out = tmp_path / f"t{ext}"
    write_recording(rec, out)
    old = out.read_bytes()

    if ext == ".csv":
        real = np.savetxt

        def half(fh, data, **kw):  # write part of the rows, then fail
            real(fh, data[: len(data) // 2], **kw)
            raise Boom("disk full")

        monkeypatch.setattr(csv_io.np, "savetxt", half)
    elif ext == ".npz":
        def half(fh, **kw):
            fh.write(b"PK\x03\x04 partial")
            raise Boom("disk full")

        monkeypatch.setattr(npz_io.np, "savez_compressed", half)
    else:
        import edfio

        def half(self, target, *a, **k):
            with open(target, "wb") as fh:
                fh.write(b"0       partial")
            raise Boom("disk full")

        monkeypatch.setattr(edfio.Edf, "write", half)

    with pytest.raises(Boom):
        write_recording(rec.crop(0, 2), out)
    assert out.read_bytes() == old
    side = [out.name + ".ecgrecon.json"] if ext == ".csv" else []  # the CSV's roles sidecar (complete, atomic)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, *side])


def test_wfdb_write_is_atomic(samples, tmp_path, monkeypatch):
    import wfdb

    rec = read_recording(samples / "ludb_3_3lead.hea")
    out = tmp_path / "t.hea"
    write_recording(rec, out)
    old = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(old) == {"t.hea", "t.dat"}
    real = wfdb.wrsamp

    def half(name, *a, write_dir, **k):
        real(name, *a, write_dir=write_dir, **k)
        with open(os.path.join(write_dir, f"{name}.dat"), "r+b") as fh:
            fh.truncate(10)
        raise Boom("disk full")

    monkeypatch.setattr(wfdb, "wrsamp", half)
    with pytest.raises(Boom):
        write_recording(rec.crop(0, 2), out)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == old


# -- lead names the formats cannot hold as they are -----------------------------------------

def _named(*names):
    from ecgrecon.recording import Recording

    x = np.vstack([np.linspace(-1, 1, 50) * (k + 1) for k in range(len(names))])
    return Recording(x, 500.0, names)


def test_csv_lead_name_with_comma(tmp_path):
    rec = _named("Foo, bar", "II", 'say "hi"')
    back = read_recording(write_recording(rec, tmp_path / "c.csv"))
    assert back.leads == rec.leads
    assert _max_err(back, rec) <= 1e-6


def test_edf_long_and_non_ascii_names(tmp_path):
    rec = _named("A very long channel label here", "A very long channel label too", "Ableitung \u00fc", "II")
    back = read_recording(write_recording(rec, tmp_path / "l.edf"))
    assert back.leads == ("A very long chan", "A very long ch#1", "Ableitung u", "II")
    assert _max_err(back, rec) <= 4.0 / 65535 * 2


@pytest.mark.parametrize("stem", ["my rec", "rec.v2"])
def test_wfdb_bad_record_name_refused(tmp_path, stem):
    rec = _named("I", "II")
    with pytest.raises(InputError, match="WFDB record name may hold only"):
        write_recording(rec, tmp_path / f"{stem}.hea")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("values, tol", [
    ([50.0, -40.0, 0.001], 0.5 / 640),  # past 32 mV: gain 640/mV
    ([1e6, 0.0, -3e5], 0.5 / 0.032),  # absurd range (uV written as mV): gain below 1, nothing clipped
    ([33.3, -1.0, 0.2], 0.5 / 960.961),
])
def test_wfdb_wide_range_not_clipped(tmp_path, values, tol):
    from ecgrecon.recording import Recording

    rec = Recording(np.array([values], np.float32), 500.0, ("II",))
    back = read_recording(write_recording(rec, tmp_path / "wide.hea"))
    np.testing.assert_allclose(back.signals, rec.signals, atol=tol * 1.0001, rtol=1e-6)


def test_wfdb_inf_becomes_missing_not_zero_gain(tmp_path):
    from ecgrecon.recording import Recording

    rec = Recording(np.array([[np.inf, 0.5, -np.inf, -0.25]], np.float32), 500.0, ("II",))
    back = read_recording(write_recording(rec, tmp_path / "inf.hea"))
    assert np.isnan(back.signals[0, [0, 2]]).all()
    np.testing.assert_allclose(back.signals[0, [1, 3]], [0.5, -0.25], atol=1e-6)


def test_convert_bare_record_name_protects_its_files(samples, tmp_path, capsys):
    """`ecgrecon convert rec rec.hea`: the input given without extension is still the input."""
    from ecgrecon.cli import main

    src = _copy_sample(samples, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert main(["convert", str(src.with_suffix("")), str(src), "--force"]) == 2
    assert "refusing to write over the input" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_protects_signal_file_with_another_name(samples, tmp_path):
    """PTB keeps the Frank leads in s0010_re.xyz; a header may name any signal file."""
    for ext in (".hea", ".dat", ".xyz"):
        (tmp_path / f"s0010_re{ext}").write_bytes((samples / f"s0010_re{ext}").read_bytes())
    hea = (samples / "ludb_3_3lead.hea").read_text().replace("ludb_3_3lead.dat", "samples.dat")
    (tmp_path / "rec.hea").write_text(hea.replace("ludb_3_3lead", "rec"))
    (tmp_path / "samples.dat").write_bytes((samples / "ludb_3_3lead.dat").read_bytes())
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    rec = read_recording(tmp_path / "rec.hea")
    with pytest.raises(InputError, match=r"samples\.dat: refusing to write over the input"):
        write_recording(rec, tmp_path / "samples.hea", protect=(tmp_path / "rec.hea",))
    ptb = read_recording(tmp_path / "s0010_re.hea")
    with pytest.raises(InputError, match="refusing"):
        write_recording(ptb, tmp_path / "s0010_re.hea", protect=(tmp_path / "s0010_re.hea",))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_wfdb_non_ascii_and_tab_names(tmp_path):
    from ecgrecon.recording import Role

    rec = _named("Ableitung \u00fc", "Ableitung \u00e4", "II\tbis", "V1")
    rec = rec.with_roles({"Ableitung \u00fc": Role.MEASURED, "II\tbis": Role.RECONSTRUCTED})
    back = read_recording(write_recording(rec, tmp_path / "names.hea"))
    assert back.leads == ("Ableitung u", "Ableitung a", "II bis", "V1")
    assert [r.value for r in back.roles] == ["measured", "unknown", "reconstructed", "unknown"]
    assert _max_err(back, rec) <= 0.0005
