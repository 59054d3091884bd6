"""Shared fixtures. Qt must run headless: set the platform before anything imports Qt."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# lifted ONNX graphs (ecgrecon.onnxgraph) go to a folder of this run, not the user's cache
if "ECGRECON_GRAPH_CACHE" not in os.environ:
    import tempfile

    os.environ["ECGRECON_GRAPH_CACHE"] = tempfile.mkdtemp(prefix="ecgrecon-test-graphs-")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "resources" / "samples"
SHARED_DATA = REPO.parent / "shared" / "data"
SHARED_SKIP = "../shared/data not present: full data set tests need it"


@pytest.fixture(scope="session")
def samples() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "ludb").is_dir():
        pytest.skip(SHARED_SKIP)
    return SHARED_DATA


@pytest.fixture(scope="session")
def build_dev_model():
    """``scripts/make_dev_model.build``: a small least-squares ONNX model + card, for model-folder tests."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_dev_model", REPO / "scripts" / "make_dev_model.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.build


@pytest.fixture()
def test_zoo(tmp_path, monkeypatch):
    """Only small linear BSPM models (EASI, PATCH) in a temporary models folder (test_bspm*.py)."""
    import ecgrecon.modelcard as mc
    from test_bspm import make_linear_models

    d = tmp_path / "models"
    d.mkdir()
    make_linear_models(d, {"EASI": ("E-S", "A-S", "A-I"), "PATCH": ("L2M-L2", "V2-L2", "V4-L2")})
    monkeypatch.setattr(mc, "models_dir", lambda: d)
    monkeypatch.delenv("ECGRECON_MODEL_PATH", raising=False)
    monkeypatch.setattr(mc, "_ZOO", None)
    yield mc.load_zoo(refresh=True)
    mc._ZOO = None
