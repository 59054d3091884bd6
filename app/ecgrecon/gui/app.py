"""Entry point ``ecgrecon-viewer [FILE] [--screenshot OUT.png --layout 3x4 ...]``."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from .. import __version__
from ..papergrid import GAINS_MM_MV, LAYOUTS, SPEEDS_MM_S


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ecgrecon-viewer", description="Show a 12-lead ECG rebuilt from three leads.")
    p.add_argument("file", nargs="?", help="recording to open (WFDB .hea, EDF, CSV, NPZ, MAT)")
    p.add_argument("--version", action="version", version=f"ecgrecon {__version__}")
    p.add_argument("--inputs", help="measured leads, e.g. I,II,V2 (default: I,II,V2 when a model takes them)")
    p.add_argument("--model", help="model id (default: the configuration's default model, the ensemble where "
                   "shipped; `ecgrecon models` marks it)")
    p.add_argument("--layout", choices=LAYOUTS)
    p.add_argument("--order", choices=("standard", "cabrera"))
    p.add_argument("--mode", choices=("side", "overlay"), help="truth and reconstruction side by side or overlaid")
    p.add_argument("--speed", type=float, choices=SPEEDS_MM_S, help="mm/s")
    p.add_argument("--gain", type=float, choices=GAINS_MM_MV, help="mm/mV")
    p.add_argument("--page-start", type=float, default=0.0, help="seconds")
    p.add_argument("--fit", action="store_true", help="scale the paper to the window (not true size)")
    p.add_argument("--size", default="1400x900", help="window size WxH for --screenshot")
    p.add_argument("--screenshot", metavar="OUT.png", help="render offscreen-capable screenshot and exit")
    return p


def has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: list[str] | None = None) -> int:
    from ..memtune import tune_malloc

    tune_malloc()  # keep block-sized buffers between blocks (see ecgrecon.memtune)
    args = build_parser().parse_args(argv)
    if args.screenshot:
        # the offscreen platform warns "This plugin does not support propagateSizeHints()" on every window
        os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
    if not has_display():
        if args.screenshot:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
        else:
            print("ecgrecon-viewer: error: no display available (DISPLAY and WAYLAND_DISPLAY are unset); "
                  "use --screenshot OUT.png, or the `ecgrecon` command line", file=sys.stderr)
            return 2

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ecgrecon-viewer")
    app.setOrganizationName("ecgrecon")

    from ..modelcard import load_zoo
    from ..viewmodel import ViewerModel
    from .mainwindow import MainWindow, default_settings

    if args.screenshot:  # never read or change the user's settings for a scripted screenshot
        tmp = tempfile.mkdtemp(prefix="ecgrecon-viewer-")
        import atexit

        from PySide6.QtCore import qInstallMessageHandler

        def _quiet(mode, ctx, msg, _prev=[None]):  # noqa: B006  (offscreen-plugin chatter, not an error)
            if "propagateSizeHints" not in msg:
                sys.stderr.write(msg + "\n")

        qInstallMessageHandler(_quiet)
        settings = QSettings(str(Path(tmp) / "viewer.ini"), QSettings.Format.IniFormat)

        _TEMP.append((settings, tmp))
        if len(_TEMP) == 1:
            atexit.register(cleanup_temp)
    else:
        settings = default_settings()
    # onnxruntime threads: half the cores (at most 4) keep the window responsive while it works
    threads = max(1, min(4, (os.cpu_count() or 2) // 2))
    win = MainWindow(ViewerModel(zoo=load_zoo(), threads=threads), settings=settings,
                     auto_reconstruct=not args.screenshot)
    m = win.model
    if args.layout:
        m.set_layout(args.layout)
    if args.order:
        m.set_order(args.order)
    if args.mode:
        m.set_mode(args.mode)
    if args.speed:
        m.speed_mm_s = args.speed
    if args.gain:
        m.gain_mm_mv = args.gain
    win.set_fit(args.fit)  # also puts the check marks in step with the options above
    if args.screenshot:
        w, h = (int(v) for v in args.size.lower().split("x"))
        win.resize(w, h)
    win.show()
    if args.file:
        if not win.open_path(args.file):
            if args.screenshot:
                return 2
        elif args.inputs or args.model:
            inputs = tuple(args.inputs.split(",")) if args.inputs else m.inputs
            win.choose(inputs, args.model)
            if not args.screenshot:
                win.start_reconstruction()
    if args.screenshot:
        return _screenshot(app, win, args)
    if args.page_start:
        win.goto(args.page_start)
    return app.exec()


_TEMP: list = []  # (QSettings, folder) of scripted screenshots


def cleanup_temp() -> None:
    """Remove the screenshots' throwaway settings folders (at exit; sync first, or QSettings' destructor
    writes the folder back afterwards)."""
    import shutil

    while _TEMP:
        settings, tmp = _TEMP.pop()
        settings.sync()
        shutil.rmtree(tmp, True)


def _screenshot(app, win, args) -> int:
    m = win.model
    if m.recording is not None and m.model_id:
        w = win.start_reconstruction()
        if w is not None:
            while w.outcome is None or w.is_running():
                app.processEvents()
                w.wait(50)
            app.processEvents()
            if w.outcome != "finished":
                print(f"ecgrecon-viewer: reconstruction {w.outcome}", file=sys.stderr)
                return 2
    win.goto(args.page_start)
    win.refresh_all()
    app.processEvents()
    out = Path(args.screenshot)
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = win.grab().save(str(out))
    win.close()
    if not ok:
        print(f"ecgrecon-viewer: error: cannot write {out}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
