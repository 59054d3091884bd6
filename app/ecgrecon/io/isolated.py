"""Parse an untrusted file in a child process, with a time limit and a memory limit. Qt-free.

A hostile file can hang a parser (wfdb's regexes, a FIFO) or crash it natively (one flipped bit in an
uncompressed .mat segfaults ``scipy.io.loadmat``); in the viewer's process either would freeze or kill the
window, in a batch run it would stop every other record. Here the reader runs in a child forked from a
forkserver that has the readers imported already (a fresh child costs milliseconds, not an interpreter
start), under ``RLIMIT_AS``; a hang, a crash or an allocation past the limit becomes one
:class:`~ecgrecon.errors.InputError` naming the file.

The samples do not cross the process boundary through pickle (a 24-hour 12-lead file is a gigabyte): the
child writes them as float32 ``.npy`` into a private folder under the user's cache, the parent maps that
file (``np.load(mmap_mode=...)``) and unlinks it at once, so the pages stay on disk until used and nothing
is left behind; only the metadata (rate, names, roles, Meta) is pickled.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import Cancelled, EcgReconError, InputError
from ..recording import Electrodes, Meta, Recording, Role
from .tempfiles import temp_dir

# Modules the forkserver imports once so that each child starts with them loaded (the readers import their
# parsers lazily; a missing optional one is skipped by multiprocessing).
_PRELOAD = ["ecgrecon.io", "ecgrecon.io.isolated", "ecgrecon.io.wfdb_io", "ecgrecon.io.bspm_io", "wfdb",
            "scipy.io", "edfio", "ecgrecon.bspm", "ecgrecon.io._prewarm"]
GiB = 1 << 30


@dataclass(frozen=True)
class Limits:
    """Seconds and bytes the child may use (``None``: derived from the file's size, see :func:`limits_for`)."""

    timeout_s: float
    memory_bytes: int


def limits_for(path: str | Path) -> Limits:
    """A 10 s file gets 30 s and 2 GiB beyond the child's start; big files get time and memory in proportion
    (a compressed or text file expands: 8 bytes of budget per byte of file)."""
    try:
        size = sum(f.stat().st_size for f in _record_files(Path(path)))
    except OSError:
        size = 0
    return Limits(timeout_s=30.0 + size / 10e6, memory_bytes=2 * GiB + 8 * size)


def _record_files(p: Path) -> list[Path]:
    # the header and the samples beside it: the size that matters for a WFDB record is the .dat's
    out = [p] if p.is_file() else []
    if p.suffix.lower() in (".hea", ""):
        for ext in (".dat", ".mat"):
            q = p.with_suffix(ext)
            if q.is_file():
                out.append(q)
    return out


def cache_dir() -> Path:
    """Where children put the samples (a disk folder, not /tmp, which may be RAM)."""
    base = os.environ.get("ECGRECON_CACHE") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    d = Path(base) / "ecgrecon" / "isolated"
    try:
        d.mkdir(parents=True, exist_ok=True)
        return d
    except OSError:
        import tempfile

        return Path(tempfile.gettempdir())


def _context():
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def warm_up() -> None:
    """Start the forkserver now (about a second: it imports the readers) so the first open is quick."""
    from multiprocessing import forkserver

    _context()
    forkserver.ensure_running()


ENV = "ECGRECON_ISOLATE"  # "1": read_recording parses in a child (inherited by Dask workers started meanwhile)


def available() -> bool:
    """A daemonic process (a Dask worker of an external cluster) may not have children: read in-process."""
    return not multiprocessing.current_process().daemon


_held = 0  # tasks running in this process that asked for isolation (see :func:`isolated_task`)
_held_lock = threading.Lock()


def wanted() -> bool:
    """Whether :func:`ecgrecon.io.read_recording` should go through :func:`read_isolated` here."""
    return (os.environ.get(ENV) == "1" or _held > 0) and available()


@contextmanager
def isolated_task() -> Iterator[None]:
    """Isolation for one task on a worker this program did not start (an external Dask cluster): counted, not
    an environment toggle, so tasks running side by side on the worker's threads cannot switch it off for
    each other."""
    global _held
    with _held_lock:
        _held += 1
    try:
        yield
    finally:
        with _held_lock:
            _held -= 1


@contextmanager
def isolation(on: bool = True) -> Iterator[None]:
    """Within this block (and in worker processes started in it) read_recording parses in a child process."""
    old = os.environ.get(ENV)
    os.environ[ENV] = "1" if on else "0"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = old


def read_isolated(path: str | Path, *, fs: float | None = None, units: str | None = None, layout=None,
                  trust_header_gains: bool = False, timeout_s: float | None = None, memory_bytes: int | None = None,
                  cancel: Callable[[], bool] | None = None, progress: Callable[[float], None] | None = None,
                  ) -> Recording:
    """:func:`ecgrecon.io.read_recording` in a child process; the same Recording (samples memory-mapped) or one
    InputError. ``cancel()`` is polled (then :class:`Cancelled`); ``progress(seconds)`` is called while waiting."""
    lim = limits_for(path)
    timeout_s = lim.timeout_s if timeout_s is None else timeout_s
    memory_bytes = lim.memory_bytes if memory_bytes is None else memory_bytes
    out = temp_dir(cache_dir())
    try:
        ctx = _context()
        recv, send = ctx.Pipe(duplex=False)
        kw = dict(fs=fs, units=units, layout=layout, trust_header_gains=trust_header_gains)
        proc = ctx.Process(target=_child, args=(str(path), kw, str(out), send, int(memory_bytes)), daemon=True)
        proc.start()
        send.close()  # the child holds the only writer: EOF on recv means it died
        try:
            msg = _wait(proc, recv, path, timeout_s, cancel, progress)
        finally:
            recv.close()
            if proc.is_alive():
                proc.kill()
            proc.join(5)
        if msg[0] == "error":
            raise InputError(msg[2], msg[1])
        return _rebuild(msg[1], out)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _wait(proc, recv, path, timeout_s: float, cancel, progress) -> tuple:
    t0 = time.monotonic()
    while True:
        if cancel is not None and cancel():  # before looking for a result: the user's word goes first
            proc.kill()
            raise Cancelled()
        try:
            if recv.poll(0.05):
                return recv.recv()
        except (EOFError, OSError):
            pass  # the child died without a word: see below
        if not proc.is_alive():
            try:  # it may have sent its answer just before exiting
                if recv.poll(0):
                    return recv.recv()
            except (EOFError, OSError):
                pass
            proc.join(1)
            raise InputError(_death(proc.exitcode), path)
        elapsed = time.monotonic() - t0
        if elapsed > timeout_s:
            proc.kill()
            raise InputError(f"cannot read: the parser gave no result within {timeout_s:.0f} s (it hangs on this "
                             "file, or the file is too large for this machine)", path)
        if progress is not None:
            progress(elapsed)


def _death(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code == signal.SIGKILL:
            return "cannot read: the reader was killed (SIGKILL; out of memory?)"
        return f"cannot read: the parser crashed ({name}); the file is damaged or not what its name says"
    return f"cannot read: the reader process ended without a result (exit code {code})"


# -- the child ---------------------------------------------------------------------------------------------
def _child(path: str, kw: dict, out: str, conn, memory_bytes: int) -> None:
    import faulthandler

    from .guarded import limit_child

    os.environ[ENV] = "0"  # this child parses the file itself
    faulthandler.disable()  # a crash is reported by the parent as one line, not dumped on stderr
    limit_child(memory_bytes)  # the budget beyond what the child maps at start (the forkserver's imports)
    try:
        from . import read_recording

        rec = read_recording(path, **kw)
        conn.send(("ok", _save(rec, Path(out))))
    except EcgReconError as e:
        conn.send(("error", getattr(e, "path", None) or path, getattr(e, "problem", None) or str(e)))
    except MemoryError:
        conn.send(("error", path, "not enough memory to read this file"))
    except BaseException as e:  # noqa: BLE001 - e.g. no space left for the samples: one line, not a traceback
        msg = " ".join(str(e).split())[:120] or type(e).__name__
        conn.send(("error", path, f"cannot read: {type(e).__name__}: {msg}"))
    finally:
        conn.close()
        sys.stdout.flush()
        os._exit(0)  # no atexit handlers inherited from the forkserver's parent


def _save(rec: Recording, out: Path) -> dict:
    np.save(out / "signals.npy", np.ascontiguousarray(rec.signals, dtype=np.float32))
    el = rec.electrodes
    if el is not None:
        np.save(out / "electrodes.npy", np.ascontiguousarray(el.potentials, dtype=np.float32))
    return {"fs": rec.fs, "leads": rec.leads, "roles": tuple(r.value for r in rec.roles), "meta": rec.meta,
            "electrodes": None if el is None else {"names": el.names, "reference": el.reference,
                                                    "layout": el.layout}}


def _map(f: Path) -> np.ndarray:
    # copy-on-write: pages come from the file until someone writes to them (a filter applied in place
    # must not fail on a read-only array); the file is unlinked at once, the mapping keeps it alive
    a = np.load(f, mmap_mode="c")
    f.unlink()
    return a


def _rebuild(d: dict, out: Path) -> Recording:
    el = None
    if d["electrodes"] is not None:
        e = d["electrodes"]
        el = Electrodes(_map(out / "electrodes.npy"), tuple(e["names"]), e["reference"], e["layout"])
    meta: Meta = d["meta"]
    return Recording(_map(out / "signals.npy"), d["fs"], tuple(d["leads"]), tuple(Role(r) for r in d["roles"]),
                     meta=meta, electrodes=el)
