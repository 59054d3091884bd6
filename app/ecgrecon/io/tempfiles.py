"""Temporary files of the writers, named so that a later run can tell its own leftovers from a user's files.

Every writer writes to a hidden temporary beside its target and renames it into place; a process killed
mid-write (SIGKILL, power loss) leaves that temporary behind, and a 24-hour CSV leaves 200 MB. Temporaries
are named ``.ecgrecon~<pid>~<random>~<target name>``; the first write into a folder by a later process
removes those whose process is gone (or whose pid now belongs to a process started after the file was last
written). Names of earlier versions (``.ecgrecon-XXXXXXXX/``, ``.<name>.XXXXXXXX<ext>``,
``.<stem>.<digits>.dat.tmp``) carry no pid; they are removed when last written before this process started.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

TAG = ".ecgrecon~"
_NEW = re.compile(r"^\.ecgrecon~(\d+)~")
_LEGACY = (
    re.compile(r"^\.ecgrecon-[A-Za-z0-9_]{8}$"),  # write_wfdb's folder
    re.compile(r"^\.(?P<name>.+?(?P<ext>\.[^.]+))\.[a-z0-9_]{8}(?P=ext)$"),  # atomic_path: .k.csv.abcd1234.csv
    re.compile(r"^\..+\.\d+\.(dat|hea)\.tmp$"),  # the streamed WFDB writer
)
_STARTED = time.time()
_swept: set[str] = set()


def prefix() -> str:
    return f"{TAG}{os.getpid()}~"


def temp_file(target: Path) -> Path:
    """An empty temporary file beside ``target``, ending in the target's name (writers pick formats by it)."""
    target = Path(target)
    sweep(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=prefix(), suffix=f"~{target.name}", dir=target.parent)
    os.close(fd)
    return Path(tmp)


def temp_dir(folder: Path) -> Path:
    sweep(folder)
    return Path(tempfile.mkdtemp(prefix=prefix(), dir=folder))


def temp_path(target: Path, suffix: str) -> Path:
    """A temporary name (not created) beside ``target``: for writers that open the file themselves."""
    target = Path(target)
    sweep(target.parent)
    return target.with_name(f"{prefix()}{os.urandom(4).hex()}~{target.name}{suffix}")


def sweep(folder: Path, *, force: bool = False) -> list[Path]:
    """Remove stale temporaries in ``folder`` (once per folder per process unless ``force``); return them."""
    try:
        key = str(Path(folder).resolve())
    except OSError:
        return []
    if key in _swept and not force:
        return []
    _swept.add(key)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(key))
    except OSError:
        return removed
    for e in entries:
        if not e.name.startswith(".") or not _stale(e):
            continue
        try:
            if e.is_dir(follow_symlinks=False):
                shutil.rmtree(e.path)
            else:
                os.unlink(e.path)
            removed.append(Path(e.path))
        except OSError:
            pass  # another process's cleanup got there first, or no permission: leave it
    return removed


def _stale(e: os.DirEntry) -> bool:
    try:
        mtime = e.stat(follow_symlinks=False).st_mtime
    except OSError:
        return False
    m = _NEW.match(e.name)
    if m:
        pid = int(m.group(1))
        if pid == os.getpid():
            return False
        return not _alive(pid) or _started_after(pid, mtime)
    if any(rx.match(e.name) for rx in _LEGACY):
        return mtime < _STARTED - 60  # no pid to ask: only what was written well before we started
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: assume it still writes
    return True


def _started_after(pid: int, mtime: float) -> bool:
    """True when process ``pid`` started after the file was last written: the pid was reused."""
    try:
        import psutil

        return psutil.Process(pid).create_time() > mtime + 1
    except Exception:  # noqa: BLE001 - no psutil or the process just went: cannot tell, keep the file
        return False
