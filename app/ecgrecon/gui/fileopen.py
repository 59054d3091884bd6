"""Reading a file for the viewer: in a child process (ecgrecon.io.isolated), off the GUI thread, with progress.

A hostile or broken file may hang its parser or crash it natively (scipy.io.loadmat segfaults on some
damaged .mat files); read in the window's process either would freeze or kill the window. The read runs in
a child process with a time and memory limit, waited on by a worker thread (:class:`~.worker.Runner`);
meanwhile a local event loop keeps the window painting and a progress dialog (shown after half a second)
offers Cancel. :meth:`FileReader.read` still returns the Recording or raises, so callers keep a plain
synchronous call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, Qt
from PySide6.QtWidgets import QProgressDialog, QWidget

from ..errors import Cancelled, EcgReconError
from ..io import isolated
from ..recording import Recording
from .worker import Runner


def _read_job(path: str, progress: Callable[[Any], None], cancel: Callable[[], bool]) -> Recording:
    last = [0.0]

    def tick(elapsed: float) -> None:  # a few updates a second, not one per poll
        if elapsed - last[0] >= 0.25:
            last[0] = elapsed
            progress(elapsed)

    return isolated.read_isolated(path, cancel=cancel, progress=tick)


class FileReader(QObject):
    """Reads files for one window; one read at a time (a second request while one runs is refused)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._window = parent
        self.busy = False
        self.last_runner: Runner | None = None
        # start the forkserver (it imports the readers, about a second) while the user looks at the window
        threading.Thread(target=_warm, daemon=True, name="ecgrecon-reader-warmup").start()

    def read(self, path: str | Path) -> Recording:
        """The file's Recording; raises EcgReconError (one line) or :class:`Cancelled`."""
        if self.busy:
            raise EcgReconError("another file is still being opened")
        self.busy = True
        try:
            return self._read(str(path))
        finally:
            self.busy = False

    def _read(self, path: str) -> Recording:
        name = Path(path).name
        runner = Runner(path, _read_job, self, what="reading the file")
        self.last_runner = runner
        box: dict[str, Any] = {}
        loop = QEventLoop()
        runner.finished.connect(lambda rec: box.__setitem__("rec", rec))
        runner.failed.connect(lambda msg: box.__setitem__("error", msg))
        runner.cancelled.connect(lambda: box.__setitem__("cancelled", True))
        runner.done.connect(loop.quit)
        dlg = QProgressDialog(f"Reading {name}…", "Cancel", 0, 0, self._window)
        dlg.setWindowTitle("ecgrecon")
        dlg.setWindowModality(Qt.WindowModality.WindowModal)  # no second open, no edits while reading
        dlg.setMinimumDuration(500)  # a 10 s file opens without a flash of a dialog
        dlg.setAutoReset(False)
        dlg.canceled.connect(runner.cancel)
        t0 = time.monotonic()
        runner.progress.connect(lambda s: dlg.setLabelText(f"Reading {name}… {s:.0f} s"))
        runner.start()
        loop.exec()  # the window keeps painting and the dialog takes Cancel; the read runs in the child
        runner.wait()
        dlg.reset()
        dlg.close()
        dlg.deleteLater()
        self.seconds = time.monotonic() - t0
        if "cancelled" in box:
            raise Cancelled()
        if "error" in box:
            raise EcgReconError(box["error"])
        return box["rec"]


def _warm() -> None:
    try:
        isolated.warm_up()
    except Exception:  # noqa: BLE001 - the first read starts it then, a second later
        pass
