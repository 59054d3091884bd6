"""Training side: a tiny run exports ONNX that matches torch, and writes a valid card.

Runs without ../shared (uses resources/samples/ludb_3.hea plus a synthetic second record).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch not installed (install the [train] extra to test training)")
pytest.importorskip("onnxscript", reason="onnxscript not installed (needed by the torch ONNX exporter)")
ort = pytest.importorskip("onnxruntime")

REQUIRED = ("schema", "id", "version", "configuration", "architecture", "architecture_detail", "n_parameters",
            "input_leads", "output_leads", "fs", "receptive_field_samples", "window_samples", "overlap_samples",
            "length_multiple", "preprocessing", "input_normalisation", "onnx", "members", "training",
            "metrics_test", "license", "created")


@pytest.fixture(scope="module")
def smoke_dir(tmp_path_factory):
    from ecgrecon.training.zoo import smoke

    out = tmp_path_factory.mktemp("zoo")
    torch.set_num_threads(1)
    return out, smoke(out, steps=2)


def test_cards_have_required_keys_and_hash(smoke_dir):
    out, res = smoke_dir
    assert set(res) == {"I-II-V2.linear", "I-II-V2.conv", "I-II-V2.temporal", "I-II-V2.ensemble"}
    for mid, (_, onnx_path, card_path) in res.items():
        card = json.loads(card_path.read_text())
        assert [k for k in REQUIRED if k not in card] == []
        rf, mult = card["receptive_field_samples"], card["length_multiple"]
        assert card["overlap_samples"] >= rf // 2 and card["overlap_samples"] % mult == 0
        if card["architecture"] == "ensemble":
            assert card["onnx"] is None and card["members"] == ["I-II-V2.conv", "I-II-V2.temporal"]
            continue
        assert card["id"] == mid and card_path.name == f"{mid}.json"
        assert card["input_leads"] == ["I", "II", "V2"]
        assert card["output_leads"] == ["V1", "V3", "V4", "V5", "V6"]
        assert card["preprocessing"] == {"baseline_hz": 0.5, "notch_hz": None, "lowpass_hz": None}
        assert card["onnx"]["file"] == onnx_path.name
        assert card["onnx"]["sha256"] == hashlib.sha256(onnx_path.read_bytes()).hexdigest()
        assert card["onnx"]["input_name"] == "x" and card["onnx"]["output_name"] == "y"
        assert card["onnx"]["opset"] >= 17
        assert onnx_path.stat().st_size <= 2_000_000


def test_app_accepts_cards(smoke_dir):
    from ecgrecon.evaluation import zoo_from_dir

    out, _ = smoke_dir
    zoo = zoo_from_dir(out)  # the app's own validation (hash, tensor names, shapes, leads)
    assert {c.id for c in zoo.cards} == {"I-II-V2.linear", "I-II-V2.conv", "I-II-V2.temporal", "I-II-V2.ensemble"}
    assert zoo.default_for(("I", "II", "V2")).id == "I-II-V2.ensemble"


def test_bundled_cards_follow_the_contract():
    from ecgrecon.paths import models_dir

    cards = [json.loads(p.read_text()) for p in models_dir().glob("*.json")]
    cards = [c for c in cards if isinstance(c, dict) and "architecture" in c]
    if not cards:
        pytest.skip("no bundled models")
    for c in cards:
        assert [k for k in REQUIRED if k not in c] == [], c["id"]
        assert c["overlap_samples"] >= c["receptive_field_samples"] // 2, c["id"]
        assert c["overlap_samples"] % c["length_multiple"] == 0, c["id"]
        assert c["preprocessing"] == {"baseline_hz": 0.5, "notch_hz": None, "lowpass_hz": None}
        if c["architecture"] != "ensemble":
            f = models_dir() / c["onnx"]["file"]
            assert hashlib.sha256(f.read_bytes()).hexdigest() == c["onnx"]["sha256"], c["id"]
            assert f.stat().st_size <= 2_000_000


def test_bundled_networks_were_trained_with_the_recipe_the_zoo_declares():
    """The cards record what the code says each configuration is trained with (steps per member, the shape term
    in the loss where CONFIG_RECIPES names it), so the zoo command rebuilds what ships."""
    from ecgrecon.paths import models_dir
    from ecgrecon.training import zoo
    from ecgrecon.training.configs import CONFIG_NAMES

    assert set(zoo.CONFIG_RECIPES) <= set(CONFIG_NAMES)
    shaped = 0
    for cfg in CONFIG_NAMES:
        steps, rc = zoo.steps_for(cfg), zoo.recipe_for(cfg)
        for arch in ("conv", "temporal"):
            card = json.loads((models_dir() / f"{cfg}.{arch}.json").read_text())
            assert card["training"]["epochs_or_steps"] == steps[arch], card["id"]
            loss = card["training"]["optimizer"]
            assert ("crop_correlation_loss" in loss) == bool(rc.get("corr")), card["id"]
            shaped += "crop_correlation_loss" in loss
    assert shaped == 2 * len(zoo.CONFIG_RECIPES)


@pytest.mark.parametrize("arch", ["conv", "temporal", "linear"])
def test_onnx_matches_torch(smoke_dir, arch, tmp_path):
    from ecgrecon.training.export import export_onnx

    out, res = smoke_dir
    model, onnx_path, _ = res[f"I-II-V2.{arch}"]
    rng = np.random.default_rng(1)
    for T in (512, 1024, 2048):  # dynamic length
        x = (rng.standard_normal((2, 3, T)) * 0.5).astype(np.float32)
        with torch.no_grad():
            ref = model.eval()(torch.from_numpy(x)).numpy()
        got = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]).run(["y"], {"x": x})[0]
        assert got.shape == ref.shape == (2, 5, T)
        np.testing.assert_allclose(got, ref, atol=1e-4, rtol=0)
    # the zero-initialised non-linear branch barely moved in 2 steps: perturb it so the check covers it
    if arch != "linear":
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.05)
        p2 = export_onnx(model, 3, tmp_path / "perturbed.onnx", model.length_multiple)
        x = (rng.standard_normal((1, 3, 1024)) * 0.5).astype(np.float32)
        with torch.no_grad():
            ref = model(torch.from_numpy(x)).numpy()
        got = ort.InferenceSession(str(p2), providers=["CPUExecutionProvider"]).run(["y"], {"x": x})[0]
        assert np.abs(ref).max() > 1e-3
        np.testing.assert_allclose(got, ref, atol=1e-4, rtol=0)


def test_output_leads_per_configuration():
    from ecgrecon.training.configs import CONFIG_NAMES, output_leads

    assert output_leads("I-II-V2") == ("V1", "V3", "V4", "V5", "V6")
    assert output_leads("II-V1-V5") == ("I", "V2", "V3", "V4", "V6")
    assert output_leads("II-V2-V6") == ("I", "V1", "V3", "V4", "V5")
    assert len(CONFIG_NAMES) == 8


def test_the_shape_loss_is_one_minus_pearson_r_and_ignores_amplitude():
    """fit.crop_correlation_loss (the optional shape term, recipe key ``corr``): 0 for the same shape at any
    gain, 2 for the inverted one, the numpy Pearson R on random crops."""
    from ecgrecon.training.fit import crop_correlation_loss

    rng = np.random.default_rng(0)
    t = torch.from_numpy(rng.normal(size=(4, 8, 1024)).astype(np.float32))
    assert float(crop_correlation_loss(3.0 * t + 0.5, t)) == pytest.approx(0.0, abs=1e-5)
    assert float(crop_correlation_loss(-0.2 * t, t)) == pytest.approx(2.0, abs=1e-5)
    p = torch.from_numpy(rng.normal(size=(4, 8, 1024)).astype(np.float32)) + 0.5 * t
    want = np.mean([1 - np.corrcoef(p[i, k].numpy(), t[i, k].numpy())[0, 1] for i in range(4) for k in range(8)])
    assert float(crop_correlation_loss(p, t)) == pytest.approx(want, abs=1e-5)
