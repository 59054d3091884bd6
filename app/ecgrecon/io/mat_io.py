"""MATLAB .mat files without a WFDB header: body surface maps with a ``potvals`` matrix.

The reader lives in :mod:`ecgrecon.io.bspm_io` (map3d/EDGAR convention,
electrodes x samples, plus an electrode layout).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..recording import Recording


def read_mat(path: Path, *, fs: float | None = None, units: str | None = None, layout=None) -> Recording:
    if not path.exists():
        raise InputError("file not found", path)
    if path.stat().st_size == 0:
        raise InputError("file is empty", path)
    from .bspm_io import read_mat as _read

    return _read(path, fs=fs, units=units, layout=layout)
