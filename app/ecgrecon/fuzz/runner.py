"""Run mutated cases through ``ecgrecon.io.read_recording`` (as the CLI calls it), one forked child per case.

The child runs under ``RLIMIT_AS`` (its start + 2 GiB: an allocation beyond is a MemoryError, counted as a
big allocation) with stderr captured; the parent waits ``timeout_s`` (then kills it: a hang) and reads its
exit status (a signal: a native crash). Accepted recordings are checked against the Recording invariants.
"""

from __future__ import annotations

import json
import os
import random
import select
import shutil
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .corpus import Case, mutate

GiB = 1 << 30
KINDS = ("accepted", "refused", "uncaught", "hang", "crash", "bigalloc", "invariant", "bad_message")


@dataclass
class Outcome:
    reader: str
    index: int
    kind: str  # one of KINDS
    detail: str = ""
    ops: list[str] = field(default_factory=list)
    seconds: float = 0.0
    generic: bool = False  # refused by read_recording's catch-all ("<parser> failed"), not by a check
    stderr: str = ""  # what the reader printed to stderr (warnings leaking to the user)
    rerun_s: float | None = None  # a hang run again with a long limit: seconds it took, if it finished


def invariants(rec) -> list[str]:
    """What an accepted Recording must satisfy: finite or NaN-flagged samples, fs > 0, unique non-empty names."""
    bad = []
    sig = np.asarray(rec.signals)
    if sig.ndim != 2 or sig.shape[0] != len(rec.leads) or sig.shape[1] == 0:
        bad.append(f"signals shape {sig.shape} for {len(rec.leads)} leads")
    if sig.dtype != np.float32:
        bad.append(f"signals dtype {sig.dtype}")
    if sig.size and np.isinf(sig).any():
        bad.append("infinite samples")
    if not (np.isfinite(rec.fs) and rec.fs > 0):
        bad.append(f"fs {rec.fs}")
    if any(not str(n).strip() for n in rec.leads):
        bad.append("empty lead name")
    if len(set(rec.leads)) != len(rec.leads):
        bad.append("duplicate lead names")
    if len(rec.roles) != len(rec.leads):
        bad.append("roles do not match leads")
    el = rec.electrodes
    if el is not None:
        pot = np.asarray(el.potentials)
        if pot.size and np.isinf(pot).any():
            bad.append("infinite electrode potentials")
        if pot.ndim != 2 or pot.shape[0] != len(el.names) or pot.shape[1] != sig.shape[-1]:
            bad.append(f"electrode potentials shape {pot.shape}")
        if any(not str(n).strip() for n in el.names) or len(set(el.names)) != len(el.names):
            bad.append("empty or duplicate electrode names")
    return bad


def materialize(case: Case, folder: Path) -> Path:
    """Write the case's files into a fresh ``folder``; a name the file system refuses is left out."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, content in case.files.items():
        p = folder / name
        try:
            if isinstance(content, bytes):
                p.write_bytes(content)
            elif content[0] == "fifo":
                os.mkfifo(p)
            else:
                os.symlink(content[1], p)
        except OSError:
            pass  # ENAMETOOLONG: the reader meets a name it cannot open, as a user's shell would give it
    return folder / case.target


def run_case(case: Case, index: int, folder: Path, *, timeout_s: float = 5.0, memory_bytes: int = 2 * GiB,
             rerun_s: float = 60.0) -> Outcome:
    target = materialize(case, folder)
    out = _run_child(target, case, index, folder, timeout_s, memory_bytes)
    if out.kind == "hang" and rerun_s > timeout_s:
        # a loaded machine makes a slow read look like a hang: run it once more with a long limit and keep both
        again = _run_child(materialize(case, folder), case, index, folder, rerun_s, memory_bytes)
        out.rerun_s = again.seconds if again.kind != "hang" else None
    return out


def _run_child(target: Path, case: Case, index: int, folder: Path, timeout_s: float, memory_bytes: int) -> Outcome:
    errfile = folder.parent / f".stderr.{os.getpid()}.{index}"
    r, w = os.pipe()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            _child(target, w, errfile, memory_bytes)
        finally:
            os._exit(0)
    os.close(w)
    data, timed_out = _read(r, timeout_s)
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    secs = time.monotonic() - t0
    stderr = ""
    try:
        stderr = errfile.read_text(errors="replace")[:300]
        errfile.unlink()
    except OSError:
        pass
    base = Outcome(case.reader, index, "hang", ops=case.ops, seconds=secs, stderr=stderr)
    if timed_out:
        base.detail = f"no result within {timeout_s:g} s"
        return base
    if os.WIFSIGNALED(status):
        base.kind, base.detail = "crash", signal.Signals(os.WTERMSIG(status)).name
        return base
    try:
        res = json.loads(data)
    except ValueError:
        base.kind, base.detail = "crash", f"child exited {os.WEXITSTATUS(status)} without a result"
        return base
    base.kind, base.detail, base.generic = res["kind"], res.get("detail", ""), res.get("generic", False)
    return base


def _read(fd: int, timeout_s: float) -> tuple[bytes, bool]:
    chunks, deadline = [], time.monotonic() + timeout_s
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"".join(chunks), True
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            b = os.read(fd, 65536)
            if not b:
                return b"".join(chunks), False
            chunks.append(b)


def _child(target: Path, w: int, errfile: Path, memory_bytes: int) -> None:
    import faulthandler

    from ..errors import InputError
    from ..io import read_recording
    from ..io.guarded import limit_child

    faulthandler.disable()  # the parent counts the crash; a dump would only fill the captured stderr
    fd = os.open(errfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 2)
    limit_child(memory_bytes, lock=True)  # hard too: a grandchild cannot raise it
    # the warning filters stay Python's defaults, as in the CLI: what would reach a user's terminal is captured
    res: dict
    try:
        rec = read_recording(str(target))
        bad = invariants(rec)
        res = {"kind": "invariant", "detail": "; ".join(bad)} if bad else {"kind": "accepted"}
    except InputError as e:
        msg = str(e)
        if "not enough memory" in msg or "Unable to allocate" in msg or "MemoryError" in msg:
            res = {"kind": "bigalloc", "detail": msg[:300]}
        elif "\n" in msg or e.path is None:
            res = {"kind": "bad_message", "detail": msg[:300]}
        else:
            res = {"kind": "refused", "detail": e.problem[:300],
                   "generic": e.problem.startswith("cannot read: ") and " failed (" in e.problem}
    except MemoryError:
        res = {"kind": "bigalloc", "detail": "MemoryError"}
    except BaseException as e:  # noqa: BLE001 - what the fuzz is looking for
        res = {"kind": "uncaught", "detail": f"{type(e).__name__}: {' '.join(str(e).split())[:250]}"}
    try:
        sys_stderr_flush()
    finally:
        data = json.dumps(res).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(w, view):]


def sys_stderr_flush() -> None:
    import sys

    sys.stderr.flush()


def case_rng(seed: int, reader: str, index: int) -> random.Random:
    return random.Random(f"{seed}:{reader}:{index}")


def run_reader(reader: str, seeds: list[Case], indices: range, work: Path, *, seed: int = 0,
               timeout_s: float = 5.0, memory_bytes: int = 2 * GiB, rerun_s: float = 60.0,
               keep: Path | None = None, on_outcome=None) -> list[Outcome]:
    """Cases ``indices`` of ``reader`` (case i is the same for a given seed, however the run is split)."""
    folder = work / f"case-{reader}-{os.getpid()}" / "rec"
    folder.parent.mkdir(parents=True, exist_ok=True)
    # what a name leaving the folder ("../outside.dat", "../lay.json") would reach: present, so that only the
    # reader's own check stops it
    sig = next((v for s in seeds for k, v in s.files.items() if k.endswith(".dat") and isinstance(v, bytes)), b"")
    (folder.parent / "outside.dat").write_bytes(sig)
    lay = next((v for s in seeds for k, v in s.files.items() if k.endswith(".json") and isinstance(v, bytes)), b"{}")
    (folder.parent / "lay.json").write_bytes(lay)
    outs = []
    for i in indices:
        rng = case_rng(seed, reader, i)
        case = mutate(rng.choice(seeds), rng)
        o = run_case(case, i, folder, timeout_s=timeout_s, memory_bytes=memory_bytes, rerun_s=rerun_s)
        if keep is not None and o.kind not in ("accepted", "refused"):
            dest = materialize(case, keep / f"{reader}-{i}-{o.kind}" / "rec").parent  # FIFOs and links as made
            (dest.parent / "outcome.json").write_text(json.dumps(asdict(o), indent=1))
        outs.append(o)
        if on_outcome is not None:
            on_outcome(o)
    shutil.rmtree(folder.parent, ignore_errors=True)
    return outs
