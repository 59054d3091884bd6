"""Run a reconstruction off the GUI thread.

The worker takes an immutable :class:`~ecgrecon.inference.ReconstructionRequest`
and reports back on the main thread through queued signals:
``progress(float)`` (0..1), then exactly one of ``finished(Reconstruction)``,
``failed(str)`` (a one-line message fit for a dialog) or ``cancelled()``;
``done()`` follows in every case.
"""

from __future__ import annotations

import traceback

from PySide6.QtCore import QObject, QThread, Signal

from .. import pipeline
from ..errors import Cancelled, EcgReconError
from ..inference import ReconstructionRequest
from ..modelcard import load_zoo


class _Runner(QThread):
    def __init__(self, worker: ReconstructionWorker) -> None:
        super().__init__()
        self._worker = worker

    def run(self) -> None:  # worker thread: touch no widget here, only emit
        self._worker._run()


class ReconstructionWorker(QObject):
    """Lives in the GUI thread; its signals are emitted from a QThread and so arrive queued."""

    progress = Signal(float)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()

    def __init__(self, request: ReconstructionRequest, parent: QObject | None = None, *, zoo=None) -> None:
        super().__init__(parent)
        self.request = request
        self.zoo = zoo  # the zoo the model id refers to (default: the process-wide one)
        self._cancel = False
        self._thread = _Runner(self)
        self.outcome: str | None = None  # "finished" | "failed" | "cancelled" once known

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self._cancel = True  # read by the worker thread between chunks

    @property
    def cancel_requested(self) -> bool:
        return self._cancel

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def wait(self, ms: int = 30000) -> bool:
        return self._thread.wait(ms)

    def _run(self) -> None:
        req = self.request
        try:
            # the same pipeline as the command line: one model rule, one role assembly
            plan = pipeline.plan(req.recording, inputs=req.inputs, model_id=req.model_id, zoo=self.zoo or load_zoo(),
                                 threads=req.threads)
            result = pipeline.run(plan, progress=self.progress.emit, cancel=lambda: self._cancel)
        except Cancelled:
            self.outcome = "cancelled"
            self.cancelled.emit()
        except EcgReconError as e:
            self.outcome = "failed"
            self.failed.emit(str(e))
        except MemoryError:
            self.outcome = "failed"
            self.failed.emit("out of memory; crop the recording")
        except Exception as e:  # a bug: still a dialog, never a dead window
            traceback.print_exc()
            self.outcome = "failed"
            self.failed.emit(f"internal error during reconstruction: {type(e).__name__}: {' '.join(str(e).split())}")
        else:
            self.outcome = "finished"
            self.finished.emit(result)
        self.done.emit()
