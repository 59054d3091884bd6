"""The first view a new user sees (default size 1400x900) shows the reconstruction, not only the truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SAMPLES = Path(__file__).resolve().parents[1] / "resources" / "samples"


def _blue_pixels(png: Path) -> int:
    from PySide6.QtGui import QImage

    img = QImage(str(png)).convertToFormat(QImage.Format.Format_RGB888)
    w, h = img.width(), img.height()
    arr = np.frombuffer(img.constBits(), np.uint8, count=img.bytesPerLine() * h).reshape(h, img.bytesPerLine())
    rgb = arr[:, : w * 3].reshape(h, w, 3).astype(int)
    # the reconstructed-lead colour (#0046c8), with antialiasing tolerance; only inside the paper panels
    near = (np.abs(rgb[..., 0] - 0x00) < 40) & (np.abs(rgb[..., 1] - 0x46) < 40) & (np.abs(rgb[..., 2] - 0xC8) < 40)
    return int(near[150:800, :1060].sum())


def test_default_first_view_shows_reconstructed_traces(tmp_path, monkeypatch):
    from ecgrecon.gui.app import main

    monkeypatch.delenv("QT_LOGGING_RULES", raising=False)
    out = tmp_path / "first.png"
    assert main([str(SAMPLES / "ludb_3.hea"), "--screenshot", str(out)]) == 0
    n = _blue_pixels(out)
    # five reconstructed precordial traces at true size: thousands of blue pixels (the truth-only view had ~0:
    # only its captions, no traces)
    assert n > 3000, n


def test_screenshot_leaves_no_temporary_folders(tmp_path, monkeypatch):
    import tempfile

    from ecgrecon.gui.app import main

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert main([str(SAMPLES / "ludb_3.hea"), "--screenshot", str(tmp_path / "s.png"), "--inputs", "I,II,V2"]) == 0
    from ecgrecon.gui import app

    app.cleanup_temp()  # what runs at exit (not atexit._run_exitfuncs: that would tear Qt down for later tests)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("ecgrecon-viewer-")] == []


@pytest.mark.parametrize("flag", ["--help"])
def test_viewer_help_names_the_real_default_model(capsys, flag):
    from ecgrecon.gui.app import build_parser

    text = build_parser().format_help()
    assert "ensemble" in " ".join(text.split()) and "conv model" not in text
