"""Clinical formats in and out; roles and provenance survive every format (issue 13)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SAMPLES
from ecgrecon import cli, pipeline
from ecgrecon.errors import InputError
from ecgrecon.io import read_recording, write_recording
from ecgrecon.recording import Role

pydicom = pytest.importorskip("pydicom")
WAVEFORM_ECG = Path(pydicom.data.get_testdata_file("waveform_ecg.dcm"))


def _info(path) -> dict:
    r = subprocess.run([sys.executable, "-m", "ecgrecon.cli", "info", str(path), "--json"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_info_reads_pydicoms_12_lead_ecg():
    """A DICOM file the project did not write: pydicom's own test ECG (Mortara ELI 250)."""
    d = _info(WAVEFORM_ECG)
    assert d["n_leads"] == 12 and d["fs_hz"] == 1000 and d["duration_s"] == pytest.approx(10.0)
    assert d["leads"] == ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    assert d["start_time"] == "2013-01-25T10:59:19" and d["patient"]["sex"] == "F"
    # the same samples pydicom gives, converted to mV once
    ds = pydicom.dcmread(WAVEFORM_ECG)
    raw = ds.waveform_array(0)  # physical units as the file says (uV)
    rec = read_recording(WAVEFORM_ECG)
    assert np.allclose(rec.signals[:, :2000], raw[:2000].T / 1000.0, atol=1e-6)


def test_dicom_found_by_content_without_its_extension(tmp_path):
    p = tmp_path / "ecg_export"
    p.write_bytes(WAVEFORM_ECG.read_bytes())
    assert read_recording(p).n_samples == 10000


@pytest.fixture(scope="module")
def reconstruction(tmp_path_factory):
    d = tmp_path_factory.mktemp("recon")
    out = d / "rec.hea"
    assert cli.main(["reconstruct", str(SAMPLES / "ludb_3.hea"), "--inputs", "I,II,V3", "-o", str(out)]) == 0
    return out


def test_convert_to_dicom_is_read_by_pydicom_with_the_same_samples(reconstruction, tmp_path):
    src = read_recording(reconstruction)
    out = tmp_path / "y.dcm"
    assert cli.main(["convert", str(reconstruction), str(out)]) == 0
    ds = pydicom.dcmread(out)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.9.1.1"  # 12-Lead ECG Waveform Storage
    arr = ds.waveform_array(0)
    assert arr.shape == (5000, 12)
    assert np.abs(arr.T / 1000.0 - src.signals).max() <= 0.001  # within 1 uV
    labels = [c.ChannelLabel for c in ds.WaveformSequence[0].ChannelDefinitionSequence]
    assert labels[6] == "V1 RECONSTR" and labels[0] == "I MEASURED" and labels[2] == "III DERIVED"
    assert ds.WaveformSequence[0].WaveformOriginality == "DERIVED"
    notes = [a.UnformattedTextValue for a in ds.WaveformAnnotationSequence]
    assert any(n.startswith("V1: reconstructed by model I-II-V3.ensemble") for n in notes)
    assert "RECONSTRUCTED ECG" in ds.SeriesDescription and "I-II-V3.ensemble" in ds.DerivationDescription


def test_convert_to_aecg_passes_an_xpath_check_with_the_same_samples(reconstruction, tmp_path):
    from xml.etree import ElementTree as ET

    src = read_recording(reconstruction)
    out = tmp_path / "y.xml"
    assert cli.main(["convert", str(reconstruction), str(out)]) == 0
    ns = {"h": "urn:hl7-org:v3", "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
    root = ET.parse(out).getroot()
    assert root.tag == "{urn:hl7-org:v3}AnnotatedECG"
    seqs = root.findall("./h:component/h:series/h:component/h:sequenceSet/h:component/h:sequence", ns)
    codes = [s.find("h:code", ns).get("code") for s in seqs]
    assert codes[0] == "TIME_ABSOLUTE" and codes[1:] == [f"MDC_ECG_LEAD_{n.upper()}" for n in src.leads]
    inc = float(seqs[0].find("h:value/h:increment", ns).get("value"))
    assert inc == pytest.approx(1 / 500)
    for k, s in enumerate(seqs[1:]):
        v = s.find("h:value", ns)
        assert v.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "SLIST_PQ"
        scale = float(v.find("h:scale", ns).get("value"))
        x = np.array(v.find("h:digits", ns).text.split(), float) * scale / 1000.0
        assert np.abs(x - src.signals[k]).max() <= 0.001
    texts = [a.text for a in root.iter("{urn:hl7-org:v3}value") if a.text and a.text.startswith("V1:")]
    assert texts and "reconstructed by model I-II-V3.ensemble" in texts[0]


@pytest.mark.parametrize("ext", [".hea", ".csv", ".edf", ".npz", ".dcm", ".xml"])
def test_roles_and_model_survive_every_writer(reconstruction, tmp_path, ext):
    src = read_recording(reconstruction)
    out = tmp_path / f"r{ext}"
    write_recording(src, out)
    d = _info(out)
    assert d["roles"] == [r.value for r in src.roles]
    assert d["reconstruction"]["model_id"] == "I-II-V3.ensemble"
    assert d["reconstruction"]["measured_leads"] == ["I", "II", "V3"]
    back = read_recording(out)
    assert np.abs(back.signals - src.signals).max() <= 0.001  # 1 uV
    assert back.role("V1") == Role.RECONSTRUCTED and back.role("aVF") == Role.DERIVED


def test_streamed_wfdb_keeps_roles_and_model(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "STREAM_S", 1.0)
    out = tmp_path / "s.hea"
    assert cli.main(["reconstruct", str(SAMPLES / "ludb_3_3lead.hea"), "-o", str(out)]) == 0
    d = _info(out)
    assert d["reconstruction"]["model_id"].startswith("I-II-V2.")
    assert d["roles"][6] == "reconstructed" and d["roles"][0] == "measured"
    # and its printout names the model, not "unknown"
    from ecgrecon.printing.pdf import PrintJob

    job = PrintJob(read_recording(out))
    assert "unknown" not in job.provenance["model"] and "I-II-V2" in job.provenance["model"]


def test_csv_without_its_sidecar_keeps_roles_from_the_column_names(reconstruction, tmp_path):
    src = read_recording(reconstruction)
    out = tmp_path / "r.csv"
    write_recording(src, out)
    assert out.read_text().splitlines()[0].startswith("time_s,I measured (mV),II measured (mV),III derived (mV)")
    (tmp_path / "r.csv.ecgrecon.json").unlink()
    back = read_recording(out)
    assert back.roles == src.roles and back.meta.reconstruction is None


def test_viewer_opens_dicom_and_aecg(reconstruction, tmp_path, qtbot):
    from PySide6.QtCore import QSettings

    from ecgrecon.gui.mainwindow import MainWindow
    from ecgrecon.viewmodel import ViewerModel

    src = read_recording(reconstruction)
    for ext in (".dcm", ".xml"):
        write_recording(src, tmp_path / f"v{ext}")
    w = MainWindow(ViewerModel(), settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
                   auto_reconstruct=False)
    w.errors = []
    w.show_error = w.errors.append
    qtbot.addWidget(w)
    for ext in (".dcm", ".xml"):
        assert w.open_path(tmp_path / f"v{ext}"), w.errors
        assert "RECONSTRUCTED" in w.banner.text() and "I-II-V3.ensemble" in w.banner.text()
    assert w.open_path(WAVEFORM_ECG) and w.model.recording.fs == 1000


def test_clinical_readers_refuse_garbage_in_one_line(tmp_path, capsys):
    for name, data in (("x.dcm", b"\0" * 128 + b"DICM" + b"\x02\x00" * 50), ("x.xml", b"<?xml version='1.0'?><a/>"),
                       ("x.scp", b"\x12" * 300), ("x.ecg", b"ISHNE1.0" + b"\0" * 100)):
        p = tmp_path / name
        p.write_bytes(data)
        rc = cli.main(["info", str(p)])
        err = capsys.readouterr().err
        assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, (name, err)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=0, max_size=3000), ext=st.sampled_from([".dcm", ".xml", ".scp", ".ecg", ".mwf"]),
       flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), max_size=8),
       base=st.sampled_from(["random", "dicom", "aecg"]))
def test_fuzz_new_readers_raise_only_input_errors(tmp_path_factory, data, ext, flips, base):
    """Random bytes and mutated real files: a Recording or an InputError, never anything else."""
    d = tmp_path_factory.mktemp("fz")
    if base == "dicom":
        raw = bytearray(WAVEFORM_ECG.read_bytes()[:20000])
        ext = ".dcm"
    elif base == "aecg":
        src = read_recording(SAMPLES / "ludb_3.hea").crop(0, 1)
        write_recording(src, d / "a.xml")
        raw = bytearray((d / "a.xml").read_bytes())
        ext = ".xml"
    else:
        raw = bytearray(data)
    for pos, x in flips:
        if raw:
            raw[pos % len(raw)] ^= x
    p = d / f"f{ext}"
    p.write_bytes(bytes(raw))
    try:
        rec = read_recording(p)
    except InputError:
        return
    assert rec.fs > 0 and len(set(rec.leads)) == len(rec.leads) and all(n.strip() for n in rec.leads)
    assert not np.isinf(rec.signals).any()


def test_a_saved_reconstruction_is_never_taken_as_ground_truth(reconstruction, tmp_path, capsys):
    """Reconstructing a file whose precordial leads are themselves reconstructions must not report R
    against them."""
    out = tmp_path / "again.hea"
    # its reconstructed V2 cannot be an input: the output would call it measured
    assert cli.main(["reconstruct", str(reconstruction), "--inputs", "I,II,V2", "-o", str(out)]) == 2
    assert "V2 in this file is a reconstruction, not measured; use measured leads as inputs (I, II, V3)" \
        in capsys.readouterr().err
    assert cli.main(["reconstruct", str(reconstruction), "--inputs", "I,II,V3", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    side = json.loads((tmp_path / "again.metrics.json").read_text())
    assert side["ground_truth"] is False and "themselves reconstructed" in side["metrics_note"]
    assert side["measurements"]["truth"] is None
    assert "median R" not in text
