"""Per-lead trust signal: features, the fitted cards, and how a low-confidence lead looks everywhere."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from ecgrecon import trust
from ecgrecon.cli import main
from ecgrecon.evaluation import external_summary
from ecgrecon.inference import reconstruct
from ecgrecon.io import read_recording
from ecgrecon.modelcard import ModelZoo, load_card, load_zoo
from ecgrecon.paths import models_dir
from ecgrecon.training.configs import CONFIG_NAMES

SAMPLES = Path(__file__).resolve().parents[1] / "resources" / "samples"
DEFAULTS = [f"{c}.ensemble" for c in CONFIG_NAMES]


def _flagging_model(tmp_path: Path, flagged: str = "V1") -> ModelZoo:
    """I-II-V2.conv copied with a hand-made trust block: ``flagged`` at expected R 0.5, the rest 0.95."""
    src = models_dir()
    d = tmp_path / "m"
    d.mkdir()
    raw = json.loads((src / "I-II-V2.conv.json").read_text())
    shutil.copy(src / raw["onnx"]["file"], d / raw["onnx"]["file"])
    outs = raw["output_leads"]
    raw["id"] = "I-II-V2.flagtest"
    raw["trust"] = trust.TrustModel(
        tuple(outs), tuple(0.0 for _ in trust.FEATURES),
        {n: float(np.arctanh(0.5 if n == flagged else 0.95)) for n in outs},
        tuple(0.0 for _ in trust.FEATURES), tuple(1.0 for _ in trust.FEATURES), 0.8,
        tuple(tuple(0.0 for _ in range(3)) for _ in outs), tuple(0.0 for _ in outs), "test").to_dict()
    (d / "I-II-V2.flagtest.json").write_text(json.dumps(raw))
    return ModelZoo([load_card(d / "I-II-V2.flagtest.json")])


def test_features_shape_and_determinism():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5000))
    y = rng.normal(size=(5, 5000))
    lin = y + 0.1 * rng.normal(size=y.shape)
    f1 = trust.lead_features(x, y, lin, [y, lin])
    f2 = trust.lead_features(x, y, lin, [y, lin])
    assert f1.shape == (5, len(trust.FEATURES)) and np.array_equal(f1, f2)
    # the non-linear part is 0.1 of a unit-variance lead: log10(0.1) = -1
    assert f1[:, 1] == pytest.approx(-1.0, abs=0.05)
    # one network: no disagreement feature (log10 of EPS / amplitude, far below any real disagreement)
    assert (trust.lead_features(x, y, lin)[:, 2] < -3).all()


def test_trust_fit_recovers_a_monotone_relation():
    rng = np.random.default_rng(1)
    amp = rng.uniform(-2, 0, size=400)
    clean = np.tanh(1.0 + 0.8 * amp)
    r = np.tanh(1.0 + 0.8 * amp + 0.05 * rng.normal(size=400))
    feats = np.zeros((400, len(trust.FEATURES)))
    feats[:, 0] = amp
    coef, icpt, mu, sd = trust.fit(feats, ["V1"] * 400, r)
    tm = trust.TrustModel(("V1",), coef, icpt, mu, sd, 0.8, ((0.0, 0.0, 0.0),), (0.0,))
    pred = tm.expected_r(feats, ["V1"] * 400)
    assert trust.spearman(pred, r) > 0.95
    assert np.median(np.abs(pred - clean)) < 0.005  # the relation, not the noise
    again = trust.TrustModel.from_dict(json.loads(json.dumps(tm.to_dict())))
    assert np.array_equal(again.expected_r(feats, ["V1"] * 400), pred)


def test_choose_threshold_meets_the_unflagged_target():
    rng = np.random.default_rng(2)
    r = rng.uniform(0.72, 1.0, size=1000)  # 29 % below 0.8
    expected = r + 0.02 * rng.normal(size=1000)
    t = trust.choose_threshold(expected, r, max_flagged=0.35, target_bad_unflagged=0.06)
    s = trust.score(expected, r, t)
    assert s["share_below_0_8_among_unflagged"] <= 0.06 + 1e-9
    assert 0.25 < s["share_flagged"] <= 0.35 + 1e-3
    # when the target needs more flags than allowed, the cap wins: at most 35 % flagged
    r2 = rng.uniform(0.5, 1.0, size=1000)  # 40 % below 0.8
    t2 = trust.choose_threshold(r2 + 0.02 * rng.normal(size=1000), r2, max_flagged=0.35)
    assert t2 == pytest.approx(float(np.quantile(r2 + 0.0, 0.35)), abs=0.03)


def test_reconstruction_carries_expected_r_per_reconstructed_lead(tmp_path):
    zoo = _flagging_model(tmp_path)
    res = reconstruct(read_recording(SAMPLES / "ludb_3.hea"), "I-II-V2.flagtest", zoo=zoo)
    assert set(res.trust) == {"V1", "V3", "V4", "V5", "V6"}
    assert res.trust["V1"].expected_r == pytest.approx(0.5) and res.trust["V1"].low_confidence
    assert res.trust["V4"].expected_r == pytest.approx(0.95) and not res.trust["V4"].low_confidence
    assert res.low_confidence_leads() == ("V1",)


def test_sidecar_and_cli_report_trust(tmp_path, monkeypatch, capsys):
    zoo = _flagging_model(tmp_path)
    monkeypatch.setenv("ECGRECON_MODEL_PATH", str(zoo.get("I-II-V2.flagtest").card_path.parent))
    load_zoo(refresh=True)
    try:
        out = tmp_path / "r.hea"
        assert main(["reconstruct", str(SAMPLES / "ludb_3.hea"), "--model", "I-II-V2.flagtest", "-o", str(out)]) == 0
        text = capsys.readouterr().out
        assert "LOW CONFIDENCE (do not read clinically): V1" in text
        side = json.loads((tmp_path / "r.metrics.json").read_text())
        rows = {d["lead"]: d for d in side["leads"]}
        assert rows["V1"]["expected_r"] == pytest.approx(0.5) and rows["V1"]["low_confidence"] is True
        assert rows["V3"]["low_confidence"] is False
        assert "expected_r" not in rows["I"]  # measured leads carry no estimate
        assert side["trust"]["low_confidence_leads"] == ["V1"] and side["trust"]["threshold"] == 0.8
    finally:
        monkeypatch.delenv("ECGRECON_MODEL_PATH")
        load_zoo(refresh=True)


def _dash_ops(pdf: Path) -> list[bytes]:
    import pypdf

    data = pypdf.PdfReader(str(pdf)).pages[0].get_contents().get_data()
    # Qt writes "[62.36 31.18 ]0  d" for a dashed pen and "[]0  d" for a solid one
    return [m for m in re.findall(rb"\[([^\]]*)\]\s*[-\d.]+\s+d\b", data) if m.strip()]


def test_flagged_lead_is_drawn_dashed_and_named_in_the_pdf(tmp_path):
    pytest.importorskip("pypdf")
    from ecgrecon.printing.pdf import PrintOptions, write_pdf

    zoo = _flagging_model(tmp_path)
    rec = read_recording(SAMPLES / "ludb_3.hea")
    flagged = write_pdf(reconstruct(rec, "I-II-V2.flagtest", zoo=zoo), tmp_path / "f.pdf", PrintOptions())
    from dataclasses import replace

    # the same reconstruction without a trust estimate: nothing may be dashed
    plain = write_pdf(replace(reconstruct(rec, "I-II-V2.flagtest", zoo=zoo), trust=None), tmp_path / "p.pdf",
                      PrintOptions())
    import pypdf

    text = " ".join(pypdf.PdfReader(str(flagged)).pages[0].extract_text().split())
    assert "LOW CONFIDENCE · expected R 0.50" in text
    assert "expected R 0.95" in text
    assert len(_dash_ops(flagged)) >= 1  # the flagged trace's dashes
    assert _dash_ops(plain) == []  # nothing dashed when nothing is flagged


def test_flagged_lead_is_drawn_dashed_on_screen(qtbot, tmp_path):
    from ecgrecon.gui.mainwindow import MainWindow
    from ecgrecon.viewmodel import ViewerModel

    zoo = _flagging_model(tmp_path)
    model = ViewerModel(zoo=zoo)
    model.open(SAMPLES / "ludb_3.hea")
    model.choose(("I", "II", "V2"), "I-II-V2.flagtest")
    model.set_result(reconstruct(model.recording, "I-II-V2.flagtest", zoo=zoo))
    win = MainWindow(model)
    qtbot.addWidget(win)
    win.set_mode("overlay")
    win.refresh_all()
    view = win.panels[-1]
    styles = view.trace_styles()
    recon_layer = max(int(k.split("@")[1]) for k in styles)
    assert styles[f"V1@{recon_layer}"] == "dashed"
    assert styles[f"V3@{recon_layer}"] == "solid" and styles[f"I@{recon_layer}"] == "solid"
    labels = " ".join(view.label_texts())
    v1 = [t for t in view.label_texts() if t.startswith("V1 ")][0]
    assert v1.startswith("V1 (recon)  LOW CONFIDENCE\nexpected R 0.50") and "exp. R 0.95" in labels


# -- the bundled cards ----------------------------------------------------------------------------
def _bundled(mid: str):
    p = models_dir() / f"{mid}.json"
    if not p.exists():
        pytest.skip(f"{mid} not bundled")
    return load_card(p, verify=False)


@pytest.mark.parametrize("mid", DEFAULTS)
def test_default_models_have_trust_and_external_figures(mid):
    card = _bundled(mid)
    assert card.trust is not None, f"{mid} has no trust model"
    ext = card.external
    assert ext is not None and set(ext["per_database"]) >= {"LUDB", "CPSC", "PTB"}
    assert 0.0 < ext["pooled"]["median_r"] < 1.0 and ext["pooled"]["n_leads"] >= 300


@pytest.mark.parametrize("mid", DEFAULTS + [f"{c}.linear" for c in CONFIG_NAMES])
def test_external_figures_recompute_from_their_rows(mid):
    """metrics_external in the card equals what the evaluation code computes from the committed rows."""
    card = _bundled(mid)
    cfg, kind = mid.rsplit(".", 1)
    rows = json.loads((models_dir() / "external" / f"{cfg}.json").read_text())["rows"][kind]
    again = external_summary(rows, card.trust.threshold if card.trust else None)
    for db, blk in card.external["per_database"].items():
        assert again["per_database"][db]["median_r"] == pytest.approx(blk["median_r"], abs=2e-6), db
        assert again["per_database"][db]["median_rmse_uv"] == pytest.approx(blk["median_rmse_uv"], abs=1e-3), db
        assert again["per_database"][db]["share_r_below_0_8"] == pytest.approx(blk["share_r_below_0_8"]), db
    assert again["pooled"]["median_r"] == pytest.approx(card.external["pooled"]["median_r"], abs=2e-6)
    if card.trust:
        assert again["trust"]["spearman_expected_vs_true_r"] == pytest.approx(
            card.external["trust"]["spearman_expected_vs_true_r"], abs=1e-4)


@pytest.mark.needs_data
def test_ptb_external_rows_match_the_engine(shared_data):
    """PTB (never trained on) rows come from the bundled model through the app's engine: recompute two."""
    card = _bundled("I-II-V3.ensemble")
    rows = json.loads((models_dir() / "external" / "I-II-V3.json").read_text())["rows"]["ensemble"]
    for name in ("S0004", "S0007"):
        res = reconstruct(read_recording(shared_data / "cinc" / "records" / f"{name}.hea"), card)
        got = {m.lead: m.r for m in res.metrics.leads}
        for row in (r for r in rows if r["record"] == name):
            assert got[row["lead"]] == pytest.approx(row["r"], abs=2e-6), (name, row["lead"])
            assert res.trust[row["lead"]].expected_r == pytest.approx(row["expected_r"], abs=2e-6)
