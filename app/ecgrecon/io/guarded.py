"""Run one native parser call in a forked child: a segfault or a hang in it becomes one InputError.

``scipy.io.loadmat`` segfaults on some damaged uncompressed ``.mat`` files (one flipped bit is enough); in
the command line's process that would end the program with "Segmentation fault" and no line naming the
file. The call runs in ``os.fork()``'s child under ``RLIMIT_AS``; its result comes back pickled through a
pipe (the child is our own code; isolation here guards against crashes and hangs, not against an attacker
who already controls a process of this user). A fork costs a few milliseconds; where there is no fork
(Windows) the call runs in-process.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import InputError

GiB = 1 << 30


def call_guarded(fn: Callable[[], Any], path: str | Path, *, what: str, timeout_s: float | None = None,
                 memory_bytes: int | None = None) -> Any:
    """``fn()`` in a forked child; its return value, or its exception re-raised here (an exception that does
    not pickle becomes RuntimeError with its text). A crash or a timeout raises InputError naming ``path``."""
    if not hasattr(os, "fork"):  # pragma: no cover - Windows
        return fn()
    try:
        size = Path(path).stat().st_size
    except OSError:
        size = 0
    timeout_s = 30.0 + size / 10e6 if timeout_s is None else timeout_s
    memory_bytes = 2 * GiB + 8 * size if memory_bytes is None else memory_bytes
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into the caller's code
        code = 0
        try:
            os.close(r)
            _quiet_crash()
            limit_child(memory_bytes)
            try:
                out = ("ok", fn())
            except MemoryError:
                out = ("memory", None)
            except BaseException as e:  # noqa: BLE001 - handed to the parent, which decides
                out = ("raise", e)
            try:
                data = pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as e:  # noqa: BLE001 - an exception object that does not pickle
                data = pickle.dumps(("raise", RuntimeError(f"{type(out[1]).__name__}: {e}")))
            view = memoryview(data)
            while view:
                view = view[os.write(w, view):]
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    try:
        data = _read_all(r, pid, timeout_s, path, what)
    finally:
        os.close(r)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) and not data:
        name = signal.Signals(os.WTERMSIG(status)).name
        raise InputError(f"cannot read: {what} crashed ({name}); the file is damaged or not what its name says",
                         path)
    if not data:
        raise InputError(f"cannot read: {what} ended without a result", path)
    kind, value = pickle.loads(data)
    if kind == "ok":
        return value
    if kind == "memory":
        raise InputError(f"not enough memory to read this file ({what} asked for more than "
                         f"{memory_bytes / GiB:.1f} GiB)", path)
    raise value


def _read_all(fd: int, pid: int, timeout_s: float, path, what: str) -> bytes:
    chunks = []
    deadline = time.monotonic() + timeout_s
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise InputError(f"cannot read: {what} gave no result within {timeout_s:.0f} s", path)
        ready, _, _ = select.select([fd], [], [], min(left, 0.5))
        if ready:
            b = os.read(fd, 1 << 20)
            if not b:
                return b"".join(chunks)
            chunks.append(b)


def _quiet_crash() -> None:
    """A crash here is expected and reported as one line by the parent: no faulthandler dump on stderr."""
    import faulthandler

    faulthandler.disable()


def limit_child(memory_bytes: int, *, lock: bool = False) -> None:
    """In a child about to parse: no core file, and at most ``memory_bytes`` of address space beyond what it
    maps already (libraries, imports). ``lock`` also lowers the hard limit, so a grandchild cannot raise it."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        base = _vm_size()
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        want = base + memory_bytes if base else memory_bytes + 2 * GiB
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        resource.setrlimit(resource.RLIMIT_AS, (want, want if lock else hard))
    except (ImportError, OSError, ValueError):  # pragma: no cover - no such limits here: still a child
        pass


def _vm_size() -> int:
    """The address space this process maps now (0 where /proc is not there)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
