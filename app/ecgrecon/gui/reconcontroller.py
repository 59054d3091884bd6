"""Start, cancel and collect reconstructions; owns the status bar's progress bar and Cancel button.

One reconstruction is current at a time. Starting another (or opening a file)
drops the running one: it is cancelled and kept alive until its thread ends,
and its late result is ignored, so a slow model never overwrites a newer choice.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QProgressBar, QPushButton

from ..errors import EcgReconError
from ..viewmodel import ViewerModel
from .worker import Runner, reconstruction_runner

PROGRESS_FORMAT = "reconstructing %p%"


class Host(Protocol):
    """What the controller needs from the window (looked up at call time: tests replace show_error)."""

    model: ViewerModel

    def message(self, text: str, ms: int = 0) -> None: ...

    def show_error(self, message: str) -> None: ...


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

    def start(self, start: bool = True) -> Runner | None:
        """Run the chosen model in a worker thread; ``start=False`` lets a caller connect first."""
        m = self.host.model
        try:
            req = m.request()
        except EcgReconError as e:
            self.host.show_error(str(e))
            return None
        self.drop()
        w = reconstruction_runner(req, self, zoo=m.zoo)
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
        self._idle()

    def shutdown(self, ms: int = 10000) -> None:
        """Cancel every thread still running and wait for it (the window is closing)."""
        for w in [self.worker, *self._old]:
            if w is not None and w.is_running():
                w.cancel()
                w.wait(ms)

    # -- the current worker's reports -------------------------------------------------------------------
    def _current(self) -> bool:
        return self.sender() is self.worker and self.worker is not None

    def _on_progress(self, f: float) -> None:
        if self._current():
            self.progress.setValue(int(f * 1000))

    def _on_finished(self, recon) -> None:
        m = self.host.model
        if not self._current() or m.recording is None or recon.result.n_samples != m.recording.n_samples:
            return
        m.set_result(recon)  # "result" -> the window redraws
        self.host.message("Reconstruction done", 5000)

    def _on_failed(self, msg: str) -> None:
        if self._current():
            self.host.message("Reconstruction failed", 10000)
            self.host.show_error(msg)

    def _on_cancelled(self) -> None:
        if self._current():
            self.host.message("Reconstruction cancelled", 10000)

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
