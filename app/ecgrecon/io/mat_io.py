"""MATLAB .mat files without a WFDB header: body surface maps with a ``potvals`` matrix.

The reader lives in :mod:`ecgrecon.io.bspm_io` (map3d/EDGAR convention,
electrodes x samples, plus an electrode layout).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..recording import Recording


def read_mat(path: Path, *, fs: float | None = None, units: str | None = None, layout=None) -> Recording:
    from .bspm_io import read_mat as _read
    from .common import MAX_BYTES, check_readable

    check_readable(path)  # a regular file: scipy would block on a FIFO
    if path.stat().st_size > MAX_BYTES:
        raise InputError(f"file is {path.stat().st_size / 1e9:.1f} GB, over the {MAX_BYTES / 1e9:.1f} GB limit", path)

    return _read(path, fs=fs, units=units, layout=layout)
