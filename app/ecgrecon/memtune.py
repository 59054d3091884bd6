"""glibc's allocator told to keep the engine's working memory between blocks (Linux only; elsewhere a no-op).

Why: every block the engine computes allocates and frees numpy temporaries of 0.1-5 MB. glibc serves
those with mmap and, once freed, hands them back to the kernel (its dynamic mmap and trim thresholds start at
128 kB), so the next block page-faults the same memory in again. Measured on a 10 s ensemble reconstruction
(benchmarks/bench_long.py, one thread): 16 ms against 13.5 ms with the thresholds below, bare onnxruntime
10.5 ms. The CLI and the viewer call :func:`tune_malloc` once at start; a library user's process is left alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1  # glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # blocks below this come from the heap and are reused
TRIM_THRESHOLD = 64 * 1024 * 1024  # free memory at the heap's top kept up to this (peak memory grows by at most it)
_done: bool | None = None


def tune_malloc() -> bool:
    """Set the thresholds once per process; True when glibc took them."""
    global _done
    if _done is None:
        _done = _apply()
    return _done


def _apply() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):  # no C library by that name, or one without mallopt
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
