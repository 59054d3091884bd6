"""Start, cancel and collect reconstructions; owns the status bar's progress bar and Cancel button.

One reconstruction is current at a time. Starting another (or opening a file)
drops the running one: it is cancelled and kept alive until its thread ends,
and its late result is ignored, so a slow model never overwrites a newer choice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, QStandardPaths
from PySide6.QtWidgets import QProgressBar, QPushButton

from ..errors import EcgReconError
from ..longview import LongReconstruction, remove_stale
from ..viewmodel import ViewerModel
from .worker import Runner, reconstruction_runner

PROGRESS_FORMAT = "reconstructing %p%"


class Host(Protocol):
    """What the controller needs from the window (looked up at call time: tests replace show_error)."""

    model: ViewerModel

    def message(self, text: str, ms: int = 0) -> None: ...

    def show_error(self, message: str) -> None: ...

    def long_progress(self, long: LongReconstruction) -> None: ...


def cache_dir() -> str:
    """Where long reconstructions are cached: the platform's cache folder for this application."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
    return str(Path(base or ".") / "reconstructions")


def progress_bar() -> QProgressBar:
    """A status-bar progress bar wide enough for its whole text at 100 % (a fixed 220 px clipped it)."""
    bar = QProgressBar()
    bar.setRange(0, 1000)
    bar.setFormat(PROGRESS_FORMAT)
    bar.setTextVisible(True)
    text = PROGRESS_FORMAT.replace("%p", "100")
    # text, the chunk's end and the style's frame on both sides
    bar.setMinimumWidth(bar.fontMetrics().horizontalAdvance(text) + 48)
    return bar


class ReconstructionController(QObject):
    def __init__(self, host: Host, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.worker: Runner | None = None
        self._old: list[Runner] = []
        self.progress = progress_bar()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress.hide()
        self.cancel_button.hide()
        self.cancel_action = None  # the menu's Cancel action, enabled while one runs (set by the window)
        self.long: LongReconstruction | None = None  # the current long reconstruction's cache (removed on drop)
        self._long_shown = False
        remove_stale(cache_dir())  # caches of viewers that crashed or were killed

    def start(self, start: bool = True) -> Runner | None:
        """Run the chosen model in a worker thread; ``start=False`` lets a caller connect first."""
        m = self.host.model
        try:
            req = m.request()
        except EcgReconError as e:
            self.host.show_error(str(e))
            return None
        self.drop()
        w = reconstruction_runner(req, self, zoo=m.zoo, cache_dir=cache_dir())
        w.progress.connect(self._on_progress)
        w.finished.connect(self._on_finished)
        w.failed.connect(self._on_failed)
        w.cancelled.connect(self._on_cancelled)
        w.done.connect(self._on_done)
        self.worker = w
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)
        self._set_cancel_enabled(True)
        self.host.message(f"Reconstructing with {req.model_id}…")
        if start:
            w.start()
        return w

    def cancel(self) -> None:
        if self.worker is not None and self.worker.is_running():
            self.worker.cancel()
            self.cancel_button.setEnabled(False)
            self.host.message("Cancelling…")

    def drop(self) -> None:
        """Forget a running worker (its late result is ignored); keep it alive until its thread ends."""
        w = self.worker
        if w is not None and w.is_running():
            w.cancel()
            self._old.append(w)
            w.done.connect(lambda w=w: self._old.remove(w) if w in self._old else None)
        self.worker = None
        self._close_long()
        self._idle()

    def _close_long(self) -> None:
        if self.long is not None:
            self.long.close()  # the cache folder goes; a view still mapping it reads on until it is replaced
            self.long = None

    def shutdown(self, ms: int = 10000) -> None:
        """Cancel every thread still running and wait for it (the window is closing); remove the cache."""
        for w in [self.worker, *self._old]:
            if w is not None and w.is_running():
                w.cancel()
                w.wait(ms)
        self._close_long()

    # -- the current worker's reports -------------------------------------------------------------------
    def _current(self) -> bool:
        return self.sender() is self.worker and self.worker is not None

    def _on_progress(self, f) -> None:
        if not self._current():
            return
        if isinstance(f, LongReconstruction):  # a long recording: its cache, filled block by block
            self.long, self._long_shown = f, False
            self.host.message(f"Reconstructing {f.n / f.fs / 3600:.1f} h with {f.plan.model.id} into a cache file; "
                              "pages show as their blocks are done…")
            return
        self.progress.setValue(int(f * 1000))
        if self.long is not None:
            self._long_block_done()

    def _long_block_done(self) -> None:
        """Show the partial result once the page in view is done; then let the window update the trend."""
        long, m = self.long, self.host.model
        assert long is not None
        if long.closed:  # cancelled or failed meanwhile: its report is late, its cache gone
            return
        if not self._long_shown and m.recording is not None:
            t0 = m.page_start_s
            if long.ready(t0, t0 + 10.0):
                self._long_shown = True
                m.set_result(long.reconstruction())
        self.host.long_progress(long)

    def _on_finished(self, recon) -> None:
        m = self.host.model
        if not self._current() or m.recording is None or recon.result.n_samples != m.recording.n_samples:
            return
        m.set_result(recon)  # "result" -> the window redraws
        if self.long is not None:
            self.host.long_progress(self.long)
        self.host.message("Reconstruction done", 5000)

    def _on_failed(self, msg: str) -> None:
        if self._current():
            self._drop_partial()
            self.host.message("Reconstruction failed", 10000)
            self.host.show_error(msg)

    def _on_cancelled(self) -> None:
        if self._current():
            self.host.message("Reconstruction cancelled", 10000)
            self._drop_partial()

    def _drop_partial(self) -> None:
        """A cancelled or failed long reconstruction: its cache is gone (LongReconstruction.run removed it);
        a partial result on screen goes with it."""
        if self.long is not None:
            if self._long_shown:
                self.host.model.set_result(None)
            self.long = None

    def _on_done(self) -> None:
        if self._current():
            self._idle()

    def _idle(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self._set_cancel_enabled(False)

    def _set_cancel_enabled(self, on: bool) -> None:
        if self.cancel_action is not None:
            self.cancel_action.setEnabled(on)
