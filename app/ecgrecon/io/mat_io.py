"""MATLAB .mat files without a WFDB header (BSPM ``potvals``; see the BSPM issue)."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..recording import Recording


def read_mat(path: Path) -> Recording:
    if not path.exists():
        raise InputError("file not found", path)
    raise InputError("a .mat file needs its WFDB header (.hea) beside it", path)
