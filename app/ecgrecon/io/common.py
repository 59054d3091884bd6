"""Helpers shared by the readers and writers: units, size limits, atomic writes."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..leads import canonical_lead

# Refuse files whose signals would not fit comfortably in memory as float32;
# a 24-hour 12-lead 500 Hz recording is about 2 GB, which is past this limit.
MAX_BYTES = 1_500_000_000

# Unit -> factor to millivolts. Conversion to mV happens here and only here.
UNIT_TO_MV = {
    "nv": 1e-6, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "microvolt": 1e-3, "microvolts": 1e-3,
    "mv": 1.0, "millivolt": 1.0, "millivolts": 1.0, "v": 1e3, "volt": 1e3, "volts": 1e3,
}


def unit_factor(unit: str | None, path: str | Path, lead: str = "") -> float:
    """Factor that turns values in ``unit`` into mV. Empty unit means mV (WFDB default)."""
    u = (unit or "mV").strip().lower()
    if u in UNIT_TO_MV:
        return UNIT_TO_MV[u]
    where = f" for lead {lead}" if lead else ""
    raise InputError(f"unknown unit {unit!r}{where}; expected uV, mV or V", path)


def canonical_names(names: list[str], path: str | Path) -> tuple[str, ...]:
    out = [canonical_lead(n) for n in names]
    seen: dict[str, int] = {}
    for i, n in enumerate(out):
        if n in seen:
            # keep both, and say so: two channels called "II" (e.g. MLII and II)
            out[i] = f"{n}#{i}"
        seen[n] = i
    if not out:
        raise InputError("file names zero signals", path)
    return tuple(out)


def check_readable(path: Path) -> None:
    """A regular, non-empty file with a name the file system takes (a FIFO would block the parser forever)."""
    from .filecheck import check_regular

    check_regular(path)


def check_size(n_leads: int, n_samples: int, path: str | Path) -> None:
    if n_samples <= 0:
        raise InputError("signals have zero length", path)
    need = 4 * n_leads * n_samples
    if need > MAX_BYTES:
        raise InputError(
            f"recording too large to load ({need / 1e9:.1f} GB as float32, limit {MAX_BYTES / 1e9:.1f} GB); "
            "split or crop it first", path)


MIN_FS = 1.0  # below one sample a second there is no ECG to read (a gain or header fault)


def check_fs(fs: float | None, path: str | Path) -> float:
    try:
        f = float(fs)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"sampling rate {fs!r} is not a number", path) from None
    if not np.isfinite(f) or f <= 0:
        raise InputError(f"sampling rate must be positive, got {fs}", path)
    if f > 100_000 or f < MIN_FS:
        raise InputError(f"sampling rate {f:g} Hz is implausible for an ECG (expected {MIN_FS:g}-100000 Hz)", path)
    return f


@contextmanager
def atomic_path(target: Path, suffix: str = ""):
    """Yield a temporary path beside ``target``; rename it over ``target`` on success."""
    from .tempfiles import temp_file

    target = Path(target)
    # named so that a later run removes it if this process is killed before the rename (tempfiles.sweep)
    tmp = temp_file(target.with_name(target.name + (suffix if suffix and not target.name.endswith(suffix) else "")))
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(target: Path, writer: Callable[[Path], None]) -> None:
    with atomic_path(target) as tmp:
        writer(tmp)
