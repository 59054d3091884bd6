"""A long reconstruction kept on disk and served a page at a time: the viewer's windowed data source (no Qt).

A day of twelve float32 leads at 500 Hz is 2 GB: too much to hold, little to keep in a cache file. The
blocks of :func:`ecgrecon.inference.reconstruct_blocks` are written into one file per reconstruction
(leads x samples, float32, NaN where nothing is computed yet) in a folder of the user's cache; the
result is a Recording whose signals are that file memory-mapped read-only, so every view (pages,
overview, printout of a page) reads only the samples it draws. :meth:`LongReconstruction.ready` says
whether a time span is done, so a page shows as soon as its block is. The heart rate of each block
(R peaks of the rhythm lead, ecgrecon.measurements) is computed in the same pass, for a trend over the day.

The folder is removed on :meth:`~LongReconstruction.close`, on cancel and on failure; folders left by a
process that died are removed by :func:`remove_stale` (the viewer calls it when it starts).
"""

from __future__ import annotations

import json
import mmap
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .inference import (
    CHUNK_S,
    Block,
    LeadTrust,
    ProgressFn,
    Reconstruction,
    preprocessing_spec,
    reconstruct_blocks,
    stream_roles,
    summarise_trust,
)
from .leads import STANDARD_12
from .recording import Recording

CACHE_ABOVE_S = 3600.0  # the viewer reconstructs longer recordings into a cache file; shorter ones in memory
PREFIX = "ecgrecon-recon-"
OWNER = "owner.json"
_NAN_FILL = 4_000_000  # float32 values written at a time while the file is filled with NaN (16 MB)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def remove_stale(cache_dir: str | Path) -> list[Path]:
    """Remove reconstruction folders whose process is gone (a crash or a kill left them); returns them."""
    gone = []
    d = Path(cache_dir)
    if not d.is_dir():
        return gone
    for f in d.glob(f"{PREFIX}*"):
        try:
            pid = int(json.loads((f / OWNER).read_text())["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            pid = -1  # unreadable: the process died while creating it
        if pid != os.getpid() and (pid < 0 or not _alive(pid)):
            shutil.rmtree(f, ignore_errors=True)
            gone.append(f)
    return gone


class LongReconstruction:
    """One reconstruction into a cache file (see the module's docstring). Create, :meth:`run` (on a worker
    thread), read :meth:`reconstruction`, :meth:`ready`, :meth:`heart_rate` from any thread, then
    :meth:`close`."""

    def __init__(self, plan, cache_dir: str | Path, *, rhythm_lead: str = "II") -> None:
        self.plan = plan
        rec = plan.recording
        self.fs = rec.fs
        self.start, self.stop = plan.span
        self.n = self.stop - self.start
        self.step = int(round(CHUNK_S * self.fs))
        self.n_blocks = -(-self.n // self.step)
        self.done = np.zeros(self.n_blocks, bool)
        self.rhythm = rhythm_lead if rhythm_lead in STANDARD_12 else "II"
        self._beats: list[np.ndarray] = []  # R-peak times (s, from the span's start), one array per block
        self._trust: list[dict[str, LeadTrust]] = []
        self._lock = threading.Lock()
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        self.folder = Path(cache_dir) / f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:10]}"
        self.folder.mkdir()
        (self.folder / OWNER).write_text(json.dumps({"pid": os.getpid(), "created": time.time(),
                                                     "source": rec.meta.source, "model": plan.model.id}))
        self.path = self.folder / "signals.f32"
        with self.path.open("wb") as f:
            f.truncate(12 * self.n * 4)  # full size now (sparse), so the view below exists from the start
        # one read-only view for the whole life of this object: every Reconstruction handed out reads through
        # it, and it stays valid when the folder is removed (on cancel, while a report is still on its way)
        self._view = np.memmap(self.path, dtype=np.float32, mode="r", shape=(12, self.n))
        self.closed = False

    # -- filling (worker thread) ----------------------------------------------------------------------
    def run(self, progress: ProgressFn | None = None, cancel: Callable[[], bool] | None = None,
            on_block: Callable[[Block], None] | None = None) -> Reconstruction:
        """Fill the cache; on cancel or failure the folder is removed and the exception goes on."""
        try:
            # import the R-peak detector's stack (neurokit2, pandas: a second or more) before the first page can
            # be shown: the window measures that page with the same modules, and would wait on the import lock
            import neurokit2  # noqa: F401

            self._fill_nan()
            fd = os.open(self.path, os.O_WRONLY)
            try:
                for blk in reconstruct_blocks(self.plan.recording, self.plan.model, zoo=self.plan.zoo,
                                              threads=self.plan.threads, start=self.start, stop=self.stop,
                                              progress=progress, cancel=cancel, with_trust=True):
                    self._write(fd, blk)
                    if on_block is not None:
                        on_block(blk)
            finally:
                os.close(fd)
        except BaseException:
            self.close()
            raise
        return self.reconstruction()

    def _fill_nan(self) -> None:
        """Not-yet-computed samples read as NaN (drawn as nothing), never as a flat line."""
        nan = np.full(_NAN_FILL, np.nan, np.float32).tobytes()
        left = 12 * self.n * 4
        with self.path.open("r+b") as f:
            while left > 0:
                k = min(left, len(nan))
                f.write(nan[:k])
                left -= k

    def _write(self, fd: int, blk: Block) -> None:
        a = blk.start - self.start
        for i, row in enumerate(blk.signals):  # leads x samples: one contiguous run per lead
            os.pwrite(fd, np.ascontiguousarray(row, np.float32).tobytes(), (i * self.n + a) * 4)
        beats = _beat_times(blk.signals[STANDARD_12.index(self.rhythm)], self.fs) + a / self.fs
        with self._lock:
            self._beats.append(beats)
            if blk.trust:
                self._trust.append(blk.trust)
            self.done[a // self.step] = True

    # -- reading (any thread) ---------------------------------------------------------------------------
    def signals(self) -> np.ndarray:
        """Leads x samples, memory-mapped read-only: only what is read comes into memory."""
        return self._view

    def trim(self) -> None:
        """Let go of the cache pages views have read (they stay in the file and the page cache, and come back
        when read again): scrolling through a day would otherwise keep every page read resident."""
        mm = getattr(self._view, "_mmap", None)
        if mm is not None and hasattr(mmap, "MADV_DONTNEED"):
            try:
                mm.madvise(mmap.MADV_DONTNEED)
            except (OSError, ValueError):  # a closed mapping or a platform without it: nothing to give back
                pass

    def fraction_done(self) -> float:
        return float(self.done.mean()) if self.n_blocks else 1.0

    def ready(self, t0: float, t1: float) -> bool:
        """Whether seconds t0..t1 (from the span's start) are computed."""
        a = max(0, int(t0 * self.fs) // self.step)
        b = min(self.n_blocks, int(np.ceil(t1 * self.fs / self.step)))
        return bool(self.done[a:max(a + 1, b)].all())

    def heart_rate(self) -> tuple[np.ndarray, np.ndarray]:
        """(times s, beats per minute) from consecutive R peaks of the blocks done so far, in time order."""
        with self._lock:
            beats = np.sort(np.concatenate(self._beats)) if self._beats else np.zeros(0)
        if beats.size < 2:
            return np.zeros(0), np.zeros(0)
        rr = np.diff(beats)
        ok = (rr > 0.2) & (rr < 3.0)  # 20-300 bpm; gaps at block borders or missed beats are left out
        return beats[1:][ok], 60.0 / rr[ok]

    def trust(self) -> dict[str, LeadTrust] | None:
        """Per reconstructed lead: the median of the blocks' expected R (ecgrecon.inference.summarise_trust)."""
        with self._lock:
            blocks = list(self._trust)
        return summarise_trust(blocks)

    def reconstruction(self) -> Reconstruction:
        """The result so far as a Reconstruction whose signals are the cache file (NaN where not done)."""
        plan, card = self.plan, self.plan.model
        rec = plan.recording
        from dataclasses import replace

        from .inference import card_provenance, model_sentence

        meta = replace(rec.meta, reconstruction=card_provenance(card, rec.meta.source),
                       comments=rec.meta.comments + (model_sentence(card),)
                       + ((f"model choice: {plan.length_note}",) if plan.length_note else ()))
        result = Recording(self.signals(), self.fs, STANDARD_12, stream_roles(card), meta=meta)
        notes = ("long recording: reconstructed into a cache file; no metrics against the recording's own leads; "
                 "expected R is the median over its minutes",)
        return Reconstruction(result, card, card.input_leads, None, None, preprocessing_spec(card), notes,
                              self.trust(), plan.length_note)

    def close(self) -> None:
        """Remove the cache folder (a mapped file stays readable until its last view is dropped)."""
        self.closed = True
        shutil.rmtree(self.folder, ignore_errors=True)


def _beat_times(lead: np.ndarray, fs: float) -> np.ndarray:
    """R-peak times (s) of one block's rhythm lead; none when the block has no usable signal."""
    from .measurements import r_peaks

    if not np.isfinite(lead).all() or float(np.ptp(lead)) < 0.05:
        return np.zeros(0)
    try:
        return r_peaks(np.asarray(lead, np.float64), fs) / fs
    except Exception:  # noqa: BLE001 - neurokit2 fails on some flat or noisy stretches: no beats there
        return np.zeros(0)
