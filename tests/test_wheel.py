"""The wheel carries the models and the samples, and ecgrecon.paths finds them in the installed package.

Builds the wheel from this checkout with the venv's hatchling (no network, a couple of seconds).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MIN_ONNX = 24  # the bundled zoo: 8 configurations x conv/linear/temporal


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if importlib.util.find_spec("hatchling") is None:
        pytest.skip("hatchling (the build backend) is not installed in this environment")
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                        "-w", str(out), str(REPO)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    wheels = list(out.glob("ecgrecon-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_wheel_contains_models_and_samples(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    onnx = [n for n in names if n.startswith("ecgrecon/_bundled/models/") and n.count("/") == 3
            and n.endswith(".onnx")]
    assert len(onnx) >= MIN_ONNX, onnx
    for o in onnx:  # every network comes with its model card
        assert o[:-len(".onnx")] + ".json" in names
    samples = "ecgrecon/_bundled/resources/samples/"
    for f in ("ludb_3.hea", "ludb_3.dat", "ATTRIBUTION.md", "index.json"):
        assert samples + f in names
    index = json.loads(zipfile.ZipFile(wheel).read(samples + "index.json"))
    for e in index["samples"]:
        assert samples + e["file"] in names, e["file"]
    assert "ecgrecon/_bundled/resources/icons/ecgrecon.png" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_installed_wheel_resolves_bundled_dirs(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import json, ecgrecon, ecgrecon.paths as p; print(json.dumps({'pkg': ecgrecon.__file__, "
            "'models': str(p.models_dir()), 'samples': str(p.samples_dir())}))")
    env = {k: v for k, v in os.environ.items() if k not in ("ECGRECON_MODEL_PATH",)}
    env["PYTHONPATH"] = str(site)  # first on sys.path: wins over the editable install of the checkout
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    bundled = site / "ecgrecon" / "_bundled"
    assert Path(got["pkg"]).resolve().is_relative_to(site.resolve())
    assert Path(got["models"]).resolve() == (bundled / "models").resolve()
    assert Path(got["samples"]).resolve() == (bundled / "resources" / "samples").resolve()
    assert len(list((bundled / "models").glob("*.onnx"))) >= MIN_ONNX
