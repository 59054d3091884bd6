"""Viewer timings (printed, never asserted).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_viewer.py [--hours 24] [--frames 200]

1. Opening a 10 s record (resources/samples/ludb_3.hea) to the first painted
   frame of the paper, then to the painted reconstruction.
2. Frames per second while scrolling a 24-hour three-lead reconstruction.
   Running a model over 24 h here would take long and measure the engine,
   not the viewer, so the 24-h 12-lead result is SYNTHESISED: each lead of
   LUDB record 3 tiled to 24 h at 500 Hz, with the roles a reconstruction
   from I, II, V2 would give. The model's own speed is measured on 10 min
   and extrapolated, and reported separately.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg

REPO = Path(__file__).resolve().parents[1]
INPUTS = ("I", "II", "V2")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--run-model", action="store_true",
                    help="reconstruct the synthetic 24 h through the model instead of synthesising the result "
                         "(needs ~5 GB of memory)")
    a = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from ecgrecon.leads import STANDARD_12
    from ecgrecon.modelcard import load_zoo

    zoo = load_zoo()
    note = ""
    # a real model: I,II,V2 conv if installed, else any conv model on standard leads, else a dev model
    real = [c for c in zoo.cards if c.architecture == "conv" and set(c.input_leads) <= set(STANDARD_12)]
    real.sort(key=lambda c: set(c.input_leads) != set(INPUTS))
    if real:
        cards = [real[0]]
    else:
        sys.path.insert(0, str(REPO / "scripts"))
        import make_dev_model

        d = Path(tempfile.mkdtemp(prefix="ecgrecon-devmodel-"))
        make_dev_model.build(d, REPO / "resources/samples/ludb_3.hea", list(INPUTS))
        os.environ["ECGRECON_MODEL_PATH"] = str(d)
        zoo = load_zoo(refresh=True)
        note = " (development linear model: no bundled conv model installed)"
        cards = zoo.for_inputs(INPUTS)
    card = cards[0]
    inputs = card.input_leads

    from PySide6.QtCore import QEvent, QObject, QSettings
    from PySide6.QtWidgets import QApplication

    from ecgrecon.conditioning import FilterSpec
    from ecgrecon.gui.mainwindow import MainWindow
    from ecgrecon.inference import Reconstruction, reconstruct
    from ecgrecon.io import read_recording
    from ecgrecon.recording import Meta, Recording, Role
    from ecgrecon.viewmodel import ViewerModel

    app = QApplication.instance() or QApplication(["bench"])
    tmp = Path(tempfile.mkdtemp(prefix="ecgrecon-bench-"))

    class PaintClock(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.t: float | None = None

        def eventFilter(self, obj, ev) -> bool:  # noqa: N802
            if ev.type() == QEvent.Type.Paint and self.t is None and isinstance(obj.parent(), pg.PlotWidget) \
                    and obj.parent().objectName() != "overview":
                self.t = time.perf_counter()
            return False

    def new_window(auto: bool) -> MainWindow:
        s = QSettings(str(tmp / f"s{time.perf_counter_ns()}.ini"), QSettings.Format.IniFormat)
        w = MainWindow(ViewerModel(zoo=zoo), settings=s, auto_reconstruct=auto)
        w.show_error = lambda m: print("error:", m)
        w.resize(1400, 900)
        w.show()
        app.processEvents()
        return w

    print(f"viewer benchmark — Qt platform {app.platformName()}, model {card.id}{note}")

    # 1. open a 10 s record -> first painted frame -------------------------------------
    win = new_window(auto=True)
    clock = PaintClock()
    app.installEventFilter(clock)  # first paint of any paper panel's viewport
    app.processEvents()
    clock.t = None
    t0 = time.perf_counter()
    win.open_path(REPO / "resources/samples/ludb_3.hea")
    w = win.worker
    while clock.t is None and time.perf_counter() - t0 < 30:
        app.processEvents()
    t_first = clock.t - t0
    while w is not None and (w.outcome is None or w.is_running()):
        app.processEvents()
        w.wait(1)
    app.processEvents()
    clock.t = None
    win.panels[-1].plot.viewport().update()
    while clock.t is None and time.perf_counter() - t0 < 30:
        app.processEvents()
    t_recon = clock.t - t0
    app.removeEventFilter(clock)
    print(f"open 10 s record -> first painted frame (recorded leads): {t_first * 1000:7.1f} ms")
    print(f"open 10 s record -> reconstruction painted (worker + table):  {t_recon * 1000:7.1f} ms")
    win.close()

    # 2. scrolling a 24-hour reconstruction --------------------------------------------
    src = read_recording(REPO / "resources/samples/ludb_3.hea")
    fs = src.fs
    n = int(a.hours * 3600 * fs)
    reps = int(np.ceil(n / src.n_samples))
    t0 = time.perf_counter()
    sig = np.empty((12, n), np.float32)
    for i, lead in enumerate(STANDARD_12):
        sig[i] = np.tile(src.lead(lead), reps)[:n]
    roles = []
    for lead in STANDARD_12:
        roles.append(Role.MEASURED if lead in inputs else
                     Role.DERIVED if lead in card.derived_leads() else Role.RECONSTRUCTED)
    result = Recording(sig, fs, STANDARD_12, tuple(roles), meta=Meta(record_id=f"synthetic {a.hours:g} h"))
    three = Recording(sig[[STANDARD_12.index(x) for x in inputs]], fs, inputs, (Role.MEASURED,) * 3,
                      meta=Meta(record_id=f"synthetic {a.hours:g} h"))
    recon = Reconstruction(result, card, inputs, None, None, FilterSpec())
    if a.run_model:
        t0 = time.perf_counter()
        del result, recon
        recon = reconstruct(Recording(three.signals, fs, inputs), card)
        del sig
        print(f"reconstructed {a.hours:g} h through {card.id} in {time.perf_counter() - t0:.1f} s")
    else:
        print(f"synthesised {a.hours:g} h x 12 leads at {fs:g} Hz ({sig.nbytes / 2**30:.2f} GiB) "
              f"in {time.perf_counter() - t0:.1f} s — NOT run through the model (--run-model does)")

    ten_min = Recording(three.signals[:, : int(600 * fs)], fs, inputs)
    t0 = time.perf_counter()
    reconstruct(ten_min, card)
    per_h = (time.perf_counter() - t0) * 6
    print(f"model {card.id}: {per_h:.1f} s per hour of recording (10 min measured) -> "
          f"~{per_h * a.hours / 60:.1f} min for {a.hours:g} h on this machine")

    win = new_window(auto=False)
    t0 = time.perf_counter()
    win.set_recording(three, "synthetic")
    win.model.set_result(recon)
    win.refresh_all()
    app.processEvents()
    print(f"show {a.hours:g} h result (overview decimation + first page): {(time.perf_counter() - t0) * 1000:.0f} ms")

    def scroll(step_ticks: int, label: str) -> None:
        sb = win.scrollbar
        v = sb.value()
        app.processEvents()
        t0 = time.perf_counter()
        for _ in range(a.frames):
            v = (v + step_ticks) % max(1, sb.maximum())
            sb.setValue(v)
            for p in win.panels:
                if p.isVisible():
                    p.plot.viewport().repaint()  # paint now, synchronously: one frame
        dt = time.perf_counter() - t0
        print(f"{label:<52s} {a.frames / dt:6.1f} frames/s ({dt / a.frames * 1000:5.1f} ms/frame)")

    scroll(10, "scroll 1 s per frame, 3x4, no filters:")
    scroll(100, "page (10 s) per frame, 3x4, no filters:")
    win.set_layout("12x1")
    scroll(10, "scroll 1 s per frame, 12x1, no filters:")
    win.set_layout("3x4")
    win.set_filters(FilterSpec(baseline_hz=0.5, notch_hz=50.0, lowpass_hz=40.0))
    scroll(10, "scroll 1 s per frame, 3x4, baseline+notch+low-pass:")
    win.set_filters(FilterSpec())
    win.model.set_result(recon)
    jumps = np.random.default_rng(0).integers(0, win.scrollbar.maximum(), a.frames // 4)
    t0 = time.perf_counter()
    for v in jumps:
        win.scrollbar.setValue(int(v))
        win.panels[0].plot.viewport().repaint()
    dt = time.perf_counter() - t0
    label = f"random jumps over the {a.hours:g} h, 3x4:"
    print(f"{label:<52s} {len(jumps) / dt:6.1f} frames/s")
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
