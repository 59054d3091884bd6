"""Run a plain function off the GUI thread: the viewer's one worker runner.

``Runner(request, fn)`` calls ``fn(request, progress, cancel)`` on a QThread,
where ``request`` is immutable (the thread must not share mutable state with
the window), ``progress(value)`` reports any picklable value and ``cancel()``
says whether the user asked to stop (the function checks it between chunks and
raises :class:`~ecgrecon.errors.Cancelled`). The runner reports back on the main
thread through queued signals: ``progress(object)``, then exactly one of
``finished(result)``, ``failed(str)`` (a one-line message fit for a dialog) or
``cancelled()``; ``done()`` follows in every case.

The reconstruction and the comparison view both run through it.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from .. import pipeline
from ..errors import Cancelled, EcgReconError
from ..inference import ReconstructionRequest
from ..modelcard import ModelZoo, load_zoo

# fn(request, progress, cancel) -> result
Job = Callable[[Any, Callable[[Any], None], Callable[[], bool]], Any]


class _Thread(QThread):
    def __init__(self, runner: Runner) -> None:
        super().__init__()
        self._runner = runner

    def run(self) -> None:  # worker thread: touch no widget here, only emit
        self._runner._run()


class Runner(QObject):
    """Lives in the GUI thread; its signals are emitted from a QThread and so arrive queued."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()

    def __init__(self, request: Any, fn: Job, parent: QObject | None = None, *, what: str = "task") -> None:
        super().__init__(parent)
        self.request = request
        self.fn = fn
        self.what = what  # named in the message of an unexpected error
        self._cancel = False
        self._thread = _Thread(self)
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
        try:
            result = self.fn(self.request, self.progress.emit, lambda: self._cancel)
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
            self.failed.emit(f"internal error during {self.what}: {type(e).__name__}: {' '.join(str(e).split())}")
        else:
            self.outcome = "finished"
            self.finished.emit(result)
        self.done.emit()


def reconstruction_runner(request: ReconstructionRequest, parent: QObject | None = None, *,
                          zoo: ModelZoo | None = None, cache_dir: str | None = None) -> Runner:
    """A runner for one reconstruction through the same pipeline as the command line (one model rule, one
    role assembly, the same length switch when the model is the configuration's default); ``zoo`` is the zoo
    the model id refers to (default: the process-wide one).

    A recording longer than :data:`ecgrecon.longview.CACHE_ABOVE_S` is reconstructed into a cache file in
    ``cache_dir`` (:class:`ecgrecon.longview.LongReconstruction`); the runner's first progress report is that
    object, so the window can show pages as their blocks are done; the rest are fractions."""

    def job(req: ReconstructionRequest, progress: Callable[[Any], None], cancel: Callable[[], bool]):
        z = zoo or load_zoo()
        default = req.model_id == z.default_for(z.get(req.model_id).input_leads).id
        plan = pipeline.plan(req.recording, inputs=req.inputs, model_id=None if default else req.model_id, zoo=z,
                             threads=req.threads)
        from ..longview import CACHE_ABOVE_S, LongReconstruction
        from ..paths import default_cache_dir

        if plan.duration <= CACHE_ABOVE_S:
            return pipeline.run(plan, progress=progress, cancel=cancel)
        import os
        from dataclasses import replace

        # hours of data: every core (onnxruntime releases the GIL; the window's thread still gets its turn)
        plan = replace(plan, threads=max(req.threads, os.cpu_count() or 1))
        long = LongReconstruction(plan, cache_dir or default_cache_dir())
        progress(long)
        return long.run(progress=progress, cancel=cancel)

    return Runner(request, job, parent, what="reconstruction")
