"""Render viewer screenshots offscreen into docs/screenshots/*.png.

    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py [--out docs/screenshots] [--record FILE]

Uses the bundled models (I,II,V2 conv preferred); when none is installed it
builds a development model in a temp folder and says so on stdout. The
user's viewer settings are never read or written.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INPUTS = ("I", "II", "V2")

# name: (layout, mode, order, fit to window, window size, record[, inputs])
SHOTS = {
    "layout_3x4_side_by_side": ("3x4", "side", "standard", True, (1500, 860), "ludb_3.hea"),
    "layout_3x4_overlay": ("3x4", "overlay", "standard", False, (1480, 860), "ludb_3.hea"),
    "layout_6x2_overlay": ("6x2", "overlay", "standard", False, (1480, 980), "ludb_3.hea"),
    "layout_12x1_side_by_side": ("12x1", "side", "standard", True, (1500, 1000), "ludb_3.hea"),
    "cabrera_3x4_overlay": ("3x4", "overlay", "cabrera", False, (1480, 860), "ludb_3.hea"),
    "three_lead_no_truth": ("3x4", "side", "standard", False, (1480, 860), "ludb_3_3lead.hea"),
    # a body surface map: the torso map under the lead table, EASI leads chosen on it
    "bspm_easi": ("3x4", "overlay", "standard", False, (1480, 900), "bspm/ludb_3_bspm.hea", ("E-S", "A-S", "A-I")),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    ap.add_argument("--only", nargs="*", help="names from: " + ", ".join(SHOTS))
    a = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from ecgrecon.modelcard import load_zoo

    zoo = load_zoo()
    if not zoo.for_inputs(INPUTS):
        sys.path.insert(0, str(REPO / "scripts"))
        import make_dev_model

        d = Path(tempfile.mkdtemp(prefix="ecgrecon-devmodel-"))
        make_dev_model.build(d, REPO / "resources/samples/ludb_3.hea", list(INPUTS))
        os.environ["ECGRECON_MODEL_PATH"] = str(d)
        zoo = load_zoo(refresh=True)
        print("note: no bundled I,II,V2 model; screenshots use a development model fitted on one record")

    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    from ecgrecon.gui.mainwindow import MainWindow
    from ecgrecon.viewmodel import ViewerModel

    app = QApplication.instance() or QApplication(["screenshots"])
    a.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="ecgrecon-shots-"))
    for name, (layout, mode, order, fit, size, record, *rest) in SHOTS.items():
        inputs = tuple(rest[0]) if rest else INPUTS
        if a.only and name not in a.only:
            continue
        settings = QSettings(str(tmp / f"{name}.ini"), QSettings.Format.IniFormat)
        win = MainWindow(ViewerModel(zoo=zoo), settings=settings, auto_reconstruct=False)
        win.show_error = lambda msg: print(f"error: {msg}", file=sys.stderr)
        win.resize(*size)
        win.show()
        m = win.model
        m.set_layout(layout)
        m.set_mode(mode)
        m.set_order(order)
        win.set_fit(fit)
        if not win.open_path(REPO / "resources" / "samples" / record):
            return 2
        cards = zoo.for_inputs(inputs)
        conv = [c for c in cards if c.architecture == "conv"]
        win.choose(inputs, (conv or cards)[0].id)
        w = win.start_reconstruction()
        while w is not None and (w.outcome is None or w.is_running()):
            app.processEvents()
            w.wait(20)
        app.processEvents()
        win.refresh_all()
        for _ in range(5):  # let layout and refit timers settle
            app.processEvents()
        # palette PNG without dithering: the grid stays crisp and files stay small
        flags = Qt.ImageConversionFlag.ThresholdDither | Qt.ImageConversionFlag.AvoidDither
        img = win.grab().toImage().convertToFormat(QImage.Format.Format_Indexed8, flags)
        path = a.out / f"{name}.png"
        img.save(str(path), "PNG", 9)
        print(f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}  {path.stat().st_size // 1024} KB")
        win.close()
        win.deleteLater()
        app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
