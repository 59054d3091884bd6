"""Reconstruction engine with the bundled ONNX models (no torch)."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from ecgrecon.cli import main
from ecgrecon.errors import Cancelled, InputError, ModelError
from ecgrecon.inference import reconstruct, reconstruct_stream
from ecgrecon.io import read_recording
from ecgrecon.leads import STANDARD_12
from ecgrecon.modelcard import ModelZoo, load_card, load_zoo
from ecgrecon.paths import models_dir
from ecgrecon.recording import Recording, Role

CONFIGS = ["I-II-V1", "I-II-V2", "I-II-V3", "I-II-V4", "I-II-V5", "I-II-V6", "II-V1-V5", "II-V2-V6"]


@pytest.fixture(scope="module")
def zoo() -> ModelZoo:
    return load_zoo(refresh=True)


@pytest.fixture(scope="module")
def ludb(samples) -> Recording:
    return read_recording(samples / "ludb_3.hea")


def test_zoo_has_three_models_per_configuration(zoo):
    assert not zoo.problems, zoo.problems
    for cfg in CONFIGS:
        archs = {c.architecture for c in zoo.cards if c.configuration == cfg}
        assert {"conv", "temporal", "linear"} <= archs, (cfg, archs)
    assert len([c for c in zoo.cards if c.architecture != "ensemble"]) >= 24


def test_bundle_size_limits():
    sizes = [p.stat().st_size for p in models_dir().rglob("*.onnx")]
    assert sizes and max(sizes) <= 2 * 1024 * 1024
    assert sum(p.stat().st_size for p in models_dir().rglob("*") if p.is_file()) <= 40 * 1024 * 1024


@pytest.mark.parametrize("arch", ["conv", "temporal", "linear"])
def test_roles_and_exact_leads(zoo, ludb, arch):
    res = reconstruct(ludb, zoo.default_for(("I", "II", "V2"), arch), zoo=zoo)
    out = res.result
    assert out.leads == STANDARD_12 and out.fs == ludb.fs and out.n_samples == ludb.n_samples
    roles = res.roles
    assert [n for n, r in roles.items() if r is Role.MEASURED] == ["I", "II", "V2"]
    assert {n for n, r in roles.items() if r is Role.DERIVED} == {"III", "aVR", "aVL", "aVF"}
    assert {n for n, r in roles.items() if r is Role.RECONSTRUCTED} == {"V1", "V3", "V4", "V5", "V6"}
    # measured leads are the input, bit for bit; derived leads follow Einthoven/Goldberger exactly
    for n in ("I", "II", "V2"):
        np.testing.assert_array_equal(out.lead(n), ludb.lead(n))
    i, ii = out.lead("I").astype(np.float64), out.lead("II").astype(np.float64)
    np.testing.assert_allclose(out.lead("III"), ii - i, atol=1e-6)
    np.testing.assert_allclose(out.lead("aVR"), -(i + ii) / 2, atol=1e-6)
    np.testing.assert_allclose(out.lead("aVL"), i - ii / 2, atol=1e-6)
    np.testing.assert_allclose(out.lead("aVF"), ii - i / 2, atol=1e-6)
    # against LUDB's own derived leads (integer rounding only)
    m = {x.lead: x for x in res.metrics.leads}
    assert all(m[n].r > 0.9999 and m[n].rmse_uv < 1.0 for n in ("III", "aVR", "aVL", "aVF"))
    assert res.model.id == out.meta.reconstruction.model_id


def test_single_limb_input_reconstructs_limb_leads(zoo, ludb):
    res = reconstruct(ludb, zoo.default_for(("II", "V1", "V5"), "conv"), zoo=zoo)
    roles = res.roles
    assert roles["I"] is Role.RECONSTRUCTED and roles["III"] is Role.RECONSTRUCTED
    out = res.result
    np.testing.assert_allclose(out.lead("III"), out.lead("II") - out.lead("I"), atol=1e-5)


@pytest.mark.parametrize("arch", ["conv", "temporal"])
def test_chunked_inference_has_no_seams(zoo, samples, arch):
    # 38.4 s at 1000 Hz: resampled to the model rate, run in 3 s chunks vs one whole block
    rec = read_recording(samples / "s0010_re.hea")
    card = zoo.default_for(("I", "II", "V2"), arch)
    whole = reconstruct(rec, card, zoo=zoo, chunk_seconds=1000).result.signals
    chunked = reconstruct(rec, card, zoo=zoo, chunk_seconds=3.0).result.signals
    assert np.max(np.abs(whole - chunked)) < 1e-4
    streamed = np.concatenate([b for _, b in reconstruct_stream(rec, card, zoo=zoo, chunk_seconds=3.0)], axis=1)
    assert streamed.shape == whole.shape
    assert np.max(np.abs(streamed - whole)) < 2e-3  # streamed resampling back uses 1 s context


def test_window_borders_are_seamless_at_model_rate(zoo, ludb):
    card = zoo.default_for(("I", "II", "V2"), "conv")
    a = reconstruct(ludb, card, zoo=zoo, chunk_seconds=100).result.signals
    for cs in (0.5, 1.024, 2.5):
        b = reconstruct(ludb, card, zoo=zoo, chunk_seconds=cs).result.signals
        assert np.max(np.abs(a - b)) < 1e-4, cs


def test_cancellation_stops_long_run(zoo):
    fs = 500.0
    n = int(2 * 3600 * fs)  # two hours
    t = np.arange(n) / fs
    sig = np.stack([np.sin(2 * np.pi * 1.2 * t), np.cos(2 * np.pi * 1.2 * t), np.sin(2 * np.pi * 2.4 * t)])
    rec = Recording(sig.astype(np.float32), fs, ("I", "II", "V2"))
    seen: list[float] = []
    flag = threading.Event()

    def progress(f: float) -> None:
        seen.append(f)
        if len(seen) == 2:
            flag.set()

    with pytest.raises(Cancelled):
        reconstruct(rec, zoo.default_for(("I", "II", "V2"), "conv"), zoo=zoo, progress=progress,
                    cancel=flag.is_set)
    assert len(seen) == 2 and seen[-1] < 0.05


def test_wrong_hash_is_refused(tmp_path, zoo):
    card = zoo.default_for(("I", "II", "V2"), "conv")
    shutil.copy(card.card_path, tmp_path / card.card_path.name)
    data = bytearray(card.onnx_file.read_bytes())
    data[-10] ^= 0xFF
    (tmp_path / card.onnx_file.name).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256"):
        load_card(tmp_path / card.card_path.name)


def test_wrong_shape_or_names_are_refused(tmp_path, zoo):
    card = zoo.default_for(("I", "II", "V2"), "conv")
    shutil.copy(card.onnx_file, tmp_path / card.onnx_file.name)
    raw = json.loads(card.card_path.read_text())
    raw["output_leads"] = raw["output_leads"] + ["III"]  # six leads named, the file gives five
    (tmp_path / "a.json").write_text(json.dumps(raw))
    with pytest.raises(ModelError, match="not the ones .* was made for"):  # the leads bound into the file
        load_card(tmp_path / "a.json")
    raw = json.loads(card.card_path.read_text())
    raw["onnx"]["input_name"] = "signals"
    (tmp_path / "b.json").write_text(json.dumps(raw))
    with pytest.raises(ModelError, match="input tensor"):
        load_card(tmp_path / "b.json")
    # a folder with a bad card: discovery refuses it, says why, and keeps the good ones
    zoo2 = ModelZoo.discover([tmp_path])
    assert any("was made for" in p for p in zoo2.problems)


def test_missing_input_lead_and_gaps_are_clear(zoo, ludb):
    with pytest.raises(InputError, match="no lead V1, V5"):
        reconstruct(ludb.select(["I", "II", "V2"]), zoo.default_for(("II", "V1", "V5")), zoo=zoo)
    sig = ludb.signals.copy()
    sig[ludb.index("V2"), 100:150] = np.nan
    bad = Recording(sig, ludb.fs, ludb.leads)
    with pytest.raises(InputError, match="V2 has 50 missing samples"):
        reconstruct(bad, zoo.default_for(("I", "II", "V2")), zoo=zoo)


def test_cli_reconstruct_writes_wfdb_and_sidecar(tmp_path, samples, capsys):
    out = tmp_path / "rec12.hea"
    assert main(["reconstruct", str(samples / "ludb_3.hea"), "--inputs", "I,II,V2", "--arch", "conv",
                 "-o", str(out)]) == 0
    back = read_recording(out)
    src = read_recording(samples / "ludb_3.hea")
    assert back.leads == STANDARD_12
    for n in ("I", "II", "V2"):
        assert np.max(np.abs(back.lead(n) - src.lead(n))) <= 0.0005  # 1 uV quantisation
    assert back.role("V1") is Role.RECONSTRUCTED and back.role("I") is Role.MEASURED
    side = json.loads((tmp_path / "rec12.metrics.json").read_text())
    assert side["model"].startswith("I-II-V2.conv") and side["ground_truth"] is True
    r = {m["lead"]: m["r"] for m in side["leads"]}
    assert set(r) == set(STANDARD_12) and r["I"] == pytest.approx(1.0)
    # same numbers as the engine computes in-process
    res = reconstruct(src, load_zoo().default_for(("I", "II", "V2"), "conv"))
    for m in res.metrics.leads:
        assert r[m.lead] == pytest.approx(m.r, abs=1e-9)
    assert side["summary"]["reconstructed"]["median_r"] == pytest.approx(res.metrics.median_r(Role.RECONSTRUCTED))
    # no overwrite without --force, and never the input
    assert main(["reconstruct", str(samples / "ludb_3.hea"), "--inputs", "I,II,V2", "-o", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["reconstruct", str(out), "--inputs", "I,II,V2", "-o", str(out), "--force"]) == 2


def test_cli_three_lead_file_has_no_truth(tmp_path, samples, capsys):
    out = tmp_path / "r.hea"
    assert main(["reconstruct", str(samples / "ludb_3_3lead.hea"), "-o", str(out), "--arch", "conv"]) == 0
    assert "no ground truth" in capsys.readouterr().out
    side = json.loads((tmp_path / "r.metrics.json").read_text())
    assert side["ground_truth"] is False and side["summary"] is None
    # every lead is listed with its role, none with an R (there is no truth to compare with)
    assert [d["lead"] for d in side["leads"]] == list(STANDARD_12)
    assert {d["lead"]: d["role"] for d in side["leads"]}["V1"] == "reconstructed"
    assert all("r" not in d for d in side["leads"])


def test_cli_models_lists_all(capsys):
    assert main(["models", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["models"]) >= 24 and data["refused"] == []


def test_streamed_cli_for_long_recordings(tmp_path, zoo, monkeypatch):
    import ecgrecon.pipeline as pl
    from ecgrecon.io.wfdb_io import WfdbStreamWriter

    monkeypatch.setattr(pl, "STREAM_S", 1.0)  # force the streaming path on a short file
    src = read_recording(Path(__file__).parents[1] / "resources/samples/ludb_3_3lead.hea")
    w = WfdbStreamWriter(tmp_path / "h.hea", src.leads, src.fs)
    for _ in range(3):
        w.write(src.signals)
    w.close()
    assert main(["reconstruct", str(tmp_path / "h.hea"), "--arch", "conv", "-o", str(tmp_path / "o.hea")]) == 0
    out = read_recording(tmp_path / "o.hea")
    inp = read_recording(tmp_path / "h.hea")
    assert out.n_samples == 15000 and out.leads == STANDARD_12
    np.testing.assert_allclose(out.lead("II"), inp.lead("II"), atol=6e-4)
    mem = reconstruct(inp, zoo.default_for(("I", "II", "V2"), "conv"), zoo=zoo).result
    assert np.max(np.abs(out.signals - mem.signals)) < 1e-3


def test_cli_evaluate_on_sample_matches_reconstruct(samples, capsys):
    assert main(["evaluate", str(samples / "ludb_3.hea"), "--inputs", "I,II,V2", "--arch", "conv", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n_records"] == 1 and data["model"] == "I-II-V2.conv"
    res = reconstruct(read_recording(samples / "ludb_3.hea"), load_zoo().get("I-II-V2.conv"))
    for m in res.metrics.leads:
        assert data["leads"][m.lead]["r"]["median"] == pytest.approx(m.r, abs=1e-9)  # per-record R kept to 9 decimals
    assert data["summary"]["reconstructed"]["r"]["n"] == 5


def test_cli_evaluate_reproduces_report_figures(shared_data, capsys):
    """`ecgrecon evaluate` on the test subjects gives the card's (and REPORT.md's) numbers."""
    card = json.loads((models_dir() / "I-II-V2.conv.json").read_text())
    assert main(["evaluate", str(shared_data / "ludb" / "data"), "--subjects", "test", "--model", "I-II-V2.conv",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n_records"] == 40
    got = data["summary"]["reconstructed"]
    assert got["r"]["median"] == pytest.approx(card["metrics_test"]["reconstructed_median_r"], abs=5e-4)
    assert got["rmse_uv"]["median"] == pytest.approx(card["metrics_test"]["reconstructed_median_rmse_uv"], abs=0.5)
    report = (models_dir() / "REPORT.md").read_text()
    assert f"| I-II-V2.conv | {card['n_parameters']} |" in report
    assert f"{got['r']['median']:.3f}" in report


def test_cli_model_dir_adds_user_models(tmp_path, samples, monkeypatch, capsys, build_dev_model):
    build_dev_model(tmp_path, samples / "ludb_3.hea", ["I", "II", "V2"], model_id="I-II-V2.user")
    monkeypatch.delenv("ECGRECON_MODEL_PATH", raising=False)
    try:
        assert main(["--model-dir", str(tmp_path), "models", "--json"]) == 0
        ids = {m["id"] for m in json.loads(capsys.readouterr().out)["models"]}
        assert "I-II-V2.user" in ids and "I-II-V2.conv" in ids
        out = tmp_path / "o.hea"
        assert main(["--model-dir", str(tmp_path), "reconstruct", str(samples / "ludb_3.hea"), "--model",
                     "I-II-V2.user", "-o", str(out)]) == 0
        back = read_recording(out)
        assert any(c.startswith("RECONSTRUCTED ECG") and "I-II-V2.user" in c for c in back.meta.comments)
    finally:
        monkeypatch.delenv("ECGRECON_MODEL_PATH", raising=False)
        load_zoo(refresh=True)
    assert main(["--model-dir", str(tmp_path / "nope"), "models"]) == 2
