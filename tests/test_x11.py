"""The viewer in a real X11 window (Xvfb), not only offscreen: catches missing xcb libraries."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb not installed (scripts/system-deps.sh)")


@pytest.fixture()
def xdisplay():
    num = 90 + os.getpid() % 100
    proc = subprocess.Popen(["Xvfb", f":{num}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sock = Path(f"/tmp/.X11-unix/X{num}")
    for _ in range(100):
        if sock.exists():
            break
        time.sleep(0.05)
    yield f":{num}"
    proc.terminate()
    proc.wait(10)


def test_viewer_renders_in_real_x11_window(xdisplay, samples, tmp_path):
    from PySide6.QtGui import QImage

    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(DISPLAY=xdisplay, QT_QPA_PLATFORM="xcb", HOME=str(tmp_path))
    out = tmp_path / "x11.png"
    p = subprocess.run([sys.executable, "-m", "ecgrecon.gui.app", str(samples / "ludb_3.hea"), "--inputs", "I,II,V2",
                        "--screenshot", str(out), "--size", "1200x800"], env=env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    img = QImage(str(out))
    assert (img.width(), img.height()) == (1200, 800)
    ptr = img.convertToFormat(QImage.Format.Format_RGB32).constBits()
    arr = np.frombuffer(ptr, np.uint8).reshape(800, 1200, 4)
    colours = np.unique(arr[..., :3].reshape(-1, 3), axis=0)
    assert len(colours) > 200  # grid, traces in three role colours, text: not a blank window
