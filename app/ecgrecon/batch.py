"""Run one function per record, in this process or on Dask, with progress; results stream back as they finish.

    for item in run_records(fn, jobs, workers=4):        # a local cluster of 4 processes
    for item in run_records(fn, jobs, scheduler="tcp://host:8786"):   # an existing dask.distributed cluster

``fn`` takes one immutable job and returns a plain (picklable) dict; it must catch the project's input errors
itself and return them as ``{"error": ...}`` so one bad record never stops the rest. An unexpected exception
in a worker becomes an error item too. Aggregates are computed by the caller from the per-record dicts,
sorted by the job order, so the figures do not depend on the number of workers. Qt-free.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import Cancelled, InputError


@dataclass(frozen=True)
class Item:
    index: int  # position in the job list
    job: Any
    result: dict  # the function's dict, or {"error": "..."}


class Progress:
    """Records done / total, rate and time left: a bar on a terminal (rich), plain lines every few seconds
    otherwise (logs, CI)."""

    def __init__(self, total: int, label: str, *, stream=None, every_s: float = 5.0, enabled: bool = True) -> None:
        self.total, self.label, self.every_s = total, label, every_s
        self.stream = stream or sys.stderr
        self.done = self.failed = 0
        self.t0 = self._last = time.monotonic()
        self.enabled = enabled and total > 1
        self._bar = None
        if self.enabled and getattr(self.stream, "isatty", lambda: False)():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeRemainingColumn,
            )
            from rich.progress import (
                Progress as RichProgress,
            )

            self._bar = RichProgress(TextColumn(f"{label}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
                                     console=Console(file=self.stream), transient=True)
            self._task = self._bar.add_task(label, total=total, rate="")
            self._bar.start()

    def rate(self) -> float:
        return self.done / max(1e-9, time.monotonic() - self.t0)

    def line(self) -> str:
        r = self.rate()
        left = (self.total - self.done) / r if r > 0 else float("nan")
        return (f"{self.label}: {self.done}/{self.total} records, {r:.1f} records/s"
                + (f", {left:.0f} s left" if left == left else "") + (f", {self.failed} failed" if self.failed else ""))

    def step(self, failed: bool = False) -> None:
        self.done += 1
        self.failed += bool(failed)
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(self._task, advance=1, rate=f"{self.rate():.1f}/s")
            return
        now = time.monotonic()
        if now - self._last >= self.every_s or self.done == self.total:
            self._last = now
            print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _safe(fn: Callable[[Any], dict], job: Any) -> dict:
    try:
        return fn(job)
    except Cancelled:
        raise
    except Exception as e:  # noqa: BLE001 - a record that fails is reported, the rest go on
        return {"error": f"{getattr(job, 'path', job)}: failed ({type(e).__name__}: {e})"}


def _safe_isolated(fn: Callable[[Any], dict], job: Any) -> dict:
    """:func:`_safe` with this task's reads in a child process, on whatever worker runs it (an external
    scheduler's workers did not inherit the setting); a daemonic worker, which may not have children, reads
    in-process (io.isolated.available)."""
    from .io.isolated import isolated_task

    with isolated_task():
        return _safe(fn, job)


def run_records(fn: Callable[[Any], dict], jobs: Sequence[Any], *, workers: int | None = None,
                scheduler: str | None = None, progress: Progress | None = None,
                cancel: Callable[[], bool] | None = None) -> Iterator[Item]:
    """Yield an :class:`Item` per job as it finishes. In-process when ``workers`` is 1 and no scheduler is
    given (or there is one job); otherwise on Dask.

    Records are untrusted files: while this runs, ``read_recording`` parses each in a child process with a
    time and memory limit (:mod:`ecgrecon.io.isolated`; the local cluster's workers inherit the setting), so
    a file that hangs or crashes its parser is one error item and the run goes on. Each task asks for it again
    on the worker that runs it, so workers of an external scheduler isolate too when they may have children
    (started non-daemonic: ``DASK_DISTRIBUTED__WORKER__DAEMON=False dask worker ...``); daemonic ones read
    in their own process (a crash then takes the worker down, and Dask's error is the record's error item)."""
    from .io.isolated import isolation

    n = len(jobs)
    with isolation():
        if not scheduler and (workers == 1 or n <= 1):
            for i, job in enumerate(jobs):
                if cancel and cancel():
                    raise Cancelled()
                res = _safe(fn, job)
                if progress:
                    progress.step("error" in res)
                yield Item(i, job, res)
            return
        yield from _run_dask(fn, jobs, workers or default_workers(), scheduler, progress, cancel)


def _run_dask(fn, jobs, workers: int, scheduler: str | None, progress: Progress | None, cancel) -> Iterator[Item]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as e:  # pragma: no cover - a dependency
        raise InputError("dask.distributed is not installed: pip install 'dask[distributed]'") from e
    cluster = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout="10s")
            except OSError as e:
                raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({e})") from None
        else:
            import dask

            # one record at a time per worker process: memory stays one record's worth each; not daemonic, so
            # that a worker may start the child process a record is parsed in
            with dask.config.set({"distributed.worker.daemon": False}):
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
        with client:
            futures = client.map(_safe_isolated, [fn] * len(jobs), jobs, pure=False)
            index = {f.key: i for i, f in enumerate(futures)}
            for fut in as_completed(futures):
                if cancel and cancel():
                    for f in futures:
                        f.cancel()
                    raise Cancelled()
                i = index[fut.key]
                try:
                    res = fut.result()
                except Exception as e:  # noqa: BLE001 - a worker died (memory, crash): report the record
                    res = {"error": f"{getattr(jobs[i], 'path', jobs[i])}: worker failed ({type(e).__name__}: {e})"}
                if progress:
                    progress.step("error" in res)
                yield Item(i, jobs[i], res)
    finally:
        if cluster is not None:
            cluster.close()


def worker_zoo(model_path: str = ""):
    """The installed models as this process sees them; ``model_path`` (ECGRECON_MODEL_PATH of the submitting
    process) is applied first, so a worker finds the same extra model folders."""
    from .modelcard import load_zoo

    if model_path and os.environ.get("ECGRECON_MODEL_PATH", "") != model_path:
        os.environ["ECGRECON_MODEL_PATH"] = model_path
        return load_zoo(refresh=True)
    return load_zoo()


class PartStore:
    """Per-record results as JSON files beside a results table (``TABLE.parts/``): written as each record
    finishes, read back by ``--resume`` so a rerun skips what is done. Errors are not kept (a rerun retries)."""

    def __init__(self, table: str | os.PathLike) -> None:
        from pathlib import Path

        t = Path(table)
        self.folder = t.with_name(t.name + ".parts")

    def _path(self, job):
        import dataclasses
        import hashlib
        import json

        key = json.dumps(dataclasses.asdict(job), sort_keys=True)
        return self.folder / (hashlib.sha1(key.encode()).hexdigest()[:20] + ".json")

    def get(self, job) -> dict | None:
        import json

        p = self._path(job)
        try:
            d = json.loads(p.read_text())
        except (OSError, ValueError):
            return None
        return d if isinstance(d, dict) and "error" not in d else None

    def put(self, job, result: dict) -> None:
        import json

        from .io.common import atomic_write

        if "error" in result:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(result, allow_nan=True)

        def write(tmp) -> None:
            tmp.write_text(text)

        atomic_write(self._path(job), write)


def run_with_store(fn, jobs: Sequence[Any], *, workers: int | None, scheduler: str | None, label: str,
                   store: PartStore | None = None, resume: bool = False, on_result=None) -> list[dict]:
    """Results of ``fn`` over ``jobs`` in job order: done ones from ``store`` when resuming, the rest run
    (and stored as they finish). ``on_result(index, job, result)`` is called as each finishes."""
    results: list[dict | None] = [None] * len(jobs)
    todo = []
    for i, job in enumerate(jobs):
        got = store.get(job) if (store is not None and resume) else None
        if got is not None:
            results[i] = got
        else:
            todo.append(i)
    if resume and len(todo) < len(jobs):
        print(f"{label}: resuming, {len(jobs) - len(todo)} of {len(jobs)} records already done", file=sys.stderr)
    prog = Progress(len(todo), label)
    try:
        for item in run_records(fn, [jobs[i] for i in todo], workers=workers, scheduler=scheduler, progress=prog):
            i = todo[item.index]
            results[i] = item.result
            if store is not None:
                store.put(jobs[i], item.result)
            if on_result:
                on_result(i, jobs[i], item.result)
    finally:
        prog.close()
    return [r if r is not None else {"error": "not run"} for r in results]
