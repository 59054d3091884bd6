"""The desktop bundle (PyInstaller one-folder): build it, unpack its archive elsewhere, run it without Python.

Slow (a few minutes): `make test-slow`. ECGRECON_BUNDLE_REUSE=1 tests the bundle already in dist/
instead of building it again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
DIST = REPO / "dist"
MIN_MODELS = 24
NOT_BUNDLED = ("torch", "onnxscript", "tkinter", "matplotlib")  # plus the `onnx` package (onnxruntime is fine)


def _du(path: Path) -> str:
    return subprocess.run(["du", "-sh", str(path)], capture_output=True, text=True, check=True).stdout.split()[0]


@pytest.fixture(scope="module")
def archive() -> Path:
    if sys.platform != "linux":
        pytest.skip("the bundle build script is for Linux")
    if not os.environ.get("ECGRECON_BUNDLE_REUSE"):
        env = dict(os.environ, PY=sys.executable)
        r = subprocess.run(["bash", str(REPO / "packaging" / "build_bundle.sh")], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=1800)
        assert r.returncode == 0, f"build failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    found = sorted(DIST.glob("ecgrecon-*-linux-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    assert found, "no archive in dist/"
    return found[-1]


@pytest.fixture(scope="module")
def bundle(archive, tmp_path_factory) -> Path:
    """The archive unpacked away from the repository: nothing may come from the source tree."""
    dest = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(archive) as tf:
        tf.extractall(dest, filter="tar")
    return dest / "ecgrecon"


@pytest.fixture()
def clean_env(tmp_path) -> dict[str, str]:
    """No venv, no PYTHONPATH, no display; a fresh HOME so no user settings or model folders leak in."""
    return {"HOME": str(tmp_path / "home"), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
            "TMPDIR": str(tmp_path)}


def test_bundle_size_and_contents(archive, bundle, capsys):
    with capsys.disabled():
        print(f"\nbundle: {DIST / 'ecgrecon'} {_du(DIST / 'ecgrecon')}; archive: {archive.name} {_du(archive)}")
    for exe in ("ecgrecon-viewer", "ecgrecon"):
        assert os.access(bundle / exe, os.X_OK)
    for f in ("org.ecgrecon.Viewer.desktop", "org.ecgrecon.Viewer.metainfo.xml", "org.ecgrecon.mime.xml"):
        assert (bundle / f).is_file()
    names = [p.relative_to(bundle).as_posix() for p in bundle.rglob("*")]
    for bad in NOT_BUNDLED:
        hits = [n for n in names if bad in n.lower()]
        assert not hits, f"{bad} must not be in the bundle: {hits[:5]}"
    assert not [n for n in names if re.search(r"(^|/)onnx(/|$)", n)], "the onnx package must not be bundled"
    plugins = {p.name for p in bundle.rglob("platforms/*.so")}
    assert {"libqoffscreen.so", "libqxcb.so"} <= plugins
    assert any(bundle.rglob("imageformats/*.so"))
    assert not [p for p in bundle.rglob("libpython*.so*") if "venv" in str(p)]


def test_models_found_through_the_frozen_path(bundle, clean_env):
    r = subprocess.run([str(bundle / "ecgrecon"), "models", "--json"], env=clean_env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    models = json.loads(r.stdout)["models"]
    assert len(models) >= MIN_MODELS, [m["id"] for m in models]
    for m in models:
        assert Path(m["card"]).resolve().is_relative_to(bundle.resolve()), m["card"]
    r = subprocess.run([str(bundle / "ecgrecon"), "models"], env=clean_env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0 and f"{len(models)} models" in r.stdout


def test_viewer_opens_a_file_and_renders(bundle, clean_env, tmp_path):
    out = tmp_path / "out.png"
    env = dict(clean_env, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([str(bundle / "ecgrecon-viewer"), str(REPO / "resources/samples/ludb_3.hea"),
                        "--screenshot", str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert out.is_file() and out.stat().st_size > 10_000

    from PySide6.QtGui import QImage

    img = QImage(str(out)).convertToFormat(QImage.Format.Format_RGB32)
    assert img.width() == 1400 and img.height() == 900
    bgra = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    a = bgra[:, :img.width(), [2, 1, 0]]  # RGB32 is B, G, R, A in memory
    colours = np.unique(a.reshape(-1, 3), axis=0)
    assert len(colours) > 200, f"only {len(colours)} colours: blank or unstyled"
    dark = (a.max(axis=2) < 80)  # traces and text are black on pink paper
    assert dark.mean() > 0.01, "no traces"
    paper = a[200:750, 20:1000]  # the ground-truth panel: traces cross many columns
    assert (paper.max(axis=2) < 80).any(axis=0).mean() > 0.5
    pink = (paper[..., 0] > 200) & (paper[..., 1] < 230) & (paper[..., 1] > 120)
    assert pink.mean() > 0.05, "no ECG paper grid"


def test_viewer_without_display_says_so(bundle, clean_env):
    r = subprocess.run([str(bundle / "ecgrecon-viewer")], env=clean_env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0], r.stderr


def test_qt_platform_plugins_resolve_here(bundle):
    """The libraries the bundle leaves to the system (README, "Desktop bundle") are all present on this host."""
    internal = bundle / "_internal"
    env = dict(os.environ, LD_LIBRARY_PATH=f"{internal}:{internal / 'PySide6/Qt/lib'}")
    for plugin in ("libqxcb.so", "libqoffscreen.so"):  # Wayland sessions also need libwayland-*
        so = next(internal.rglob(f"platforms/{plugin}"))
        r = subprocess.run(["ldd", str(so)], env=env, capture_output=True, text=True)
        missing = [ln.split()[0] for ln in r.stdout.splitlines() if "not found" in ln]
        assert not missing, f"{plugin} needs system libraries missing here: {missing} (see README, Desktop bundle)"


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb not installed (apt-get install xvfb)")
def test_viewer_on_a_real_x_server(bundle, clean_env, tmp_path):
    """The xcb platform plugin loads against the system's X libraries."""
    display = f":{90 + os.getpid() % 9}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        out = tmp_path / "x11.png"
        env = dict(clean_env, DISPLAY=display, QT_QPA_PLATFORM="xcb")
        for _ in range(50):  # wait for the server socket
            if Path(f"/tmp/.X11-unix/X{display[1:]}").exists():
                break
            subprocess.run(["sleep", "0.1"])
        r = subprocess.run([str(bundle / "ecgrecon-viewer"), str(REPO / "resources/samples/ludb_3_3lead.hea"),
                            "--screenshot", str(out)], env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-3000:]
        assert out.stat().st_size > 10_000
    finally:
        xvfb.terminate()
        xvfb.wait(10)


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_desktop_file_validates(bundle):
    r = subprocess.run(["desktop-file-validate", str(bundle / "org.ecgrecon.Viewer.desktop")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "error" not in r.stdout.lower(), r.stdout


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstream not installed")
def test_metainfo_validates(bundle):
    r = subprocess.run(["appstreamcli", "validate", "--no-net", str(bundle / "org.ecgrecon.Viewer.metainfo.xml")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
