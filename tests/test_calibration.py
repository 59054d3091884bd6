"""Patient calibration: fitting a pack, refusing what does not fit, and labelling every output."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ecgrecon.calibration import PACK_CARD, PACK_ONNX, calibrate, check_pack_fits, load_pack
from ecgrecon.cli import main
from ecgrecon.errors import InputError, ModelError
from ecgrecon.inference import reconstruct
from ecgrecon.io import read_recording
from ecgrecon.modelcard import load_zoo

SAMPLES = Path(__file__).resolve().parents[1] / "resources" / "samples"
INPUTS = ("I", "II", "V3")


@pytest.fixture(scope="module")
def zoo():
    return load_zoo()


@pytest.fixture(scope="module")
def rec():
    return read_recording(SAMPLES / "ludb_3.hea")


@pytest.fixture(scope="module")
def pack(tmp_path_factory, rec, zoo):
    d = tmp_path_factory.mktemp("packs") / "p3"
    return calibrate(rec, zoo.default_for(INPUTS), zoo, d, patient_id="LUDB-3")


def test_pack_card_and_held_out_fit(pack, zoo):
    p = pack.raw["personal"]
    assert pack.architecture == "personal" and p["patient_id"] == "LUDB-3"
    assert p["base_model"] == zoo.default_for(INPUTS).id and p["source_record"]
    assert set(p["held_out"]) == {"V1", "V2", "V4", "V5", "V6"}
    # the patient model beats the universal one on the held-out 3 s of the same record, lead by lead
    for lead, h in p["held_out"].items():
        assert h["r"] > h["base_r"], lead
        assert h["rmse_uv"] < h["base_rmse_uv"], lead
    assert np.median([h["r"] for h in p["held_out"].values()]) > 0.98
    assert pack.onnx_sha256 == hashlib.sha256((pack.card_path.parent / PACK_ONNX).read_bytes()).hexdigest()


def test_fit_is_deterministic(tmp_path, rec, zoo, pack):
    again = calibrate(rec, zoo.default_for(INPUTS), zoo, tmp_path / "again", patient_id="LUDB-3")
    assert again.onnx_sha256 == pack.onnx_sha256
    assert again.raw["personal"]["held_out"] == pack.raw["personal"]["held_out"]


def test_calibrated_reconstruction_matches_the_fit(rec, zoo, pack):
    res = reconstruct(rec, pack, zoo=zoo)
    uni = reconstruct(rec, zoo.default_for(INPUTS), zoo=zoo)
    # refitted on the whole file: in-sample better than the universal model on every reconstructed lead
    for a, b in zip(res.metrics.leads, uni.metrics.leads, strict=True):
        if a.role == "reconstructed":
            assert a.r > b.r and a.rmse_uv < b.rmse_uv, a.lead
    assert res.result.meta.reconstruction.patient_calibration.startswith("patient-calibrated from ludb_3, ")


def test_tampered_pack_is_refused(tmp_path, pack, zoo):
    import shutil

    d = tmp_path / "t"
    shutil.copytree(pack.card_path.parent, d)
    data = bytearray((d / PACK_ONNX).read_bytes())
    data[-5] ^= 0x01
    (d / PACK_ONNX).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256"):
        load_pack(d, zoo)


def test_mismatched_patient_is_refused_unless_forced(pack, rec):
    other = replace(rec, meta=replace(rec.meta, patient={**rec.meta.patient, "id": "someone-else"}))
    with pytest.raises(InputError, match="patient 'someone-else'.*--force-patient"):
        check_pack_fits(other, pack)
    assert "overridden" in check_pack_fits(other, pack, force_patient=True)
    same = replace(rec, meta=replace(rec.meta, patient={**rec.meta.patient, "id": "LUDB-3"}))
    assert check_pack_fits(same, pack) is None
    assert "names no patient id" in check_pack_fits(rec, pack)


def test_pack_refuses_a_recording_without_its_inputs(pack, samples):
    with pytest.raises(InputError, match="lacks V3"):
        check_pack_fits(read_recording(samples / "ludb_3_3lead.hea"), pack)


@pytest.mark.parametrize("what,match", [
    ("short", r"at least 5 s .* this file has 4\.0 s"),
    ("noisy", r"does not hold on the held-out .* too noisy"),
    ("lead", r"lead V5 missing"),
    ("flat", r"V4: flat line"),
])
def test_bad_calibration_files_say_why(tmp_path, rec, zoo, what, match):
    if what == "short":
        bad = rec.crop(0, 4.0)
    elif what == "noisy":  # strong muscle-like noise on the precordial targets
        sig = rec.signals.copy()
        rng = np.random.default_rng(0)
        for n in ("V1", "V2", "V4", "V5", "V6"):
            sig[rec.index(n)] += rng.normal(0, 1.0, rec.n_samples).astype(np.float32)
        bad = replace(rec, signals=sig)
    elif what == "lead":
        bad = rec.select([n for n in rec.leads if n != "V5"])
    else:
        sig = rec.signals.copy()
        sig[rec.index("V4")] = 0.0
        bad = replace(rec, signals=sig)
    with pytest.raises(InputError, match=match):
        calibrate(bad, zoo.default_for(INPUTS), zoo, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_cli_calibrate_then_reconstruct_and_print_are_labelled(tmp_path, capsys):
    pypdf = pytest.importorskip("pypdf")
    before = set(p.name for p in tmp_path.iterdir())
    pack = tmp_path / "pack"
    assert main(["calibrate", str(SAMPLES / "ludb_3.hea"), "--inputs", "I,II,V3", "-o", str(pack)]) == 0
    assert set(p.name for p in tmp_path.iterdir()) - before == {"pack"}  # nothing written beside it
    assert sorted(p.name for p in pack.iterdir()) == sorted([PACK_CARD, PACK_ONNX])
    capsys.readouterr()
    out = tmp_path / "rec.hea"
    assert main(["reconstruct", str(SAMPLES / "ludb_3.hea"), "--patient", str(pack), "-o", str(out)]) == 0
    cap = capsys.readouterr()
    assert "patient-calibrated from ludb_3" in cap.out and "names no patient id" in cap.err
    header = out.read_text()
    assert "patient-calibrated from ludb_3" in header
    side = json.loads((tmp_path / "rec.metrics.json").read_text())
    assert side["patient_calibration"].startswith("patient-calibrated from ludb_3")
    assert side["patient_pack"]["base_model"] == "I-II-V3.ensemble"
    # read back: a printout of the written file still names the calibration
    pdf = tmp_path / "rec.pdf"
    assert main(["print", str(out), "--measured", "-o", str(pdf)]) == 0
    back = " ".join(pypdf.PdfReader(str(pdf)).pages[0].extract_text().split())
    assert "patient-calibrated from ludb_3" in back
    pdf2 = tmp_path / "direct.pdf"
    assert main(["print", str(SAMPLES / "ludb_3.hea"), "--patient", str(pack), "-o", str(pdf2)]) == 0
    text = " ".join(pypdf.PdfReader(str(pdf2)).pages[0].extract_text().split())
    assert "patient-calibrated from ludb_3" in text


def test_cli_calibrate_refusals_exit_2(tmp_path, capsys):
    assert main(["calibrate", str(SAMPLES / "ludb_3_3lead.hea"), "--inputs", "I,II,V2", "-o",
                 str(tmp_path / "p")]) == 2
    assert "calibration needs the patient's 12-lead ECG" in capsys.readouterr().err
    assert main(["calibrate", str(SAMPLES / "ludb_3.hea"), "-o", str(tmp_path / "p")]) == 2
    assert "--inputs" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_viewer_model_calibrates_and_uses_a_pack(tmp_path, zoo):
    from ecgrecon.viewmodel import ViewerModel

    m = ViewerModel(zoo=zoo)
    m.open(SAMPLES / "ludb_3.hea")
    m.choose(INPUTS)
    card = m.calibrate(tmp_path / "vp")
    assert card.id in {c.id for c in m.zoo.cards}
    m2 = ViewerModel(zoo=zoo)
    m2.open(SAMPLES / "ludb_3.hea")
    note = m2.use_pack(tmp_path / "vp")
    assert "names no patient id" in note and m2.model_id == card.id
    req = m2.request()
    m2.set_result(reconstruct(req.recording, req.model_id, zoo=m2.zoo))
    assert "patient-calibrated from ludb_3" in m2.banner()


def test_viewer_menus_calibrate_list_and_use_packs(qtbot, tmp_path, zoo):
    from PySide6.QtCore import QSettings

    from ecgrecon.gui.mainwindow import MainWindow
    from ecgrecon.viewmodel import ViewerModel

    settings = QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat)
    win = MainWindow(ViewerModel(zoo=zoo), settings=settings, auto_reconstruct=False)
    qtbot.addWidget(win)
    errors, infos = [], []
    win.show_error, win.show_info = errors.append, infos.append
    assert win.open_path(SAMPLES / "ludb_3.hea")
    win.choose(INPUTS)
    assert win.calibrate_into(str(tmp_path / "pack")), errors
    assert "Patient pack written" in infos[-1] and "electrodes sit where they sat" in infos[-1]
    win._rebuild_packs()
    assert [a.text() for a in win.packs_menu.actions()] == [str(tmp_path / "pack")]
    # a pack that does not fit the open recording is refused with its reason, in a dialog
    assert win.open_path(SAMPLES / "ludb_3_3lead.hea")
    assert not win.use_pack(str(tmp_path / "pack")) and "lacks V3" in errors[-1]
    assert win.open_path(SAMPLES / "ludb_3.hea")
    win.start_reconstruction = lambda start=True: None  # run it here, synchronously
    assert win.use_pack(str(tmp_path / "pack"))
    assert win.model.model_id.startswith("personal.")
    assert win.model_combo.currentData() == win.model.model_id
