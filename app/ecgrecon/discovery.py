"""Which recordings a list of files and folders holds, each counted once.

A WFDB record is its header: the signal files the header names (``.dat``, PhysioNet Challenge ``.mat``,
``s0010_re.xyz``) belong to it and are never records of their own. A signal file no header names is skipped
with a note (a body surface map ``.mat``, which carries its own potentials, is a record). EDF, CSV and NPZ
files are records. Folders are searched recursively, in a stable order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

RECORD_SUFFIXES = (".hea", ".edf", ".csv", ".npz", ".mat", ".dat", ".dcm", ".dicom", ".xml", ".scp", ".ecg", ".mwf",
                   ".mfer", ".mfr")
_SKIP_DIRS = {".git", "__pycache__", ".ecgrecon-cache"}


@dataclass(frozen=True)
class Discovery:
    records: tuple[Path, ...]
    notes: tuple[str, ...]  # what was skipped and why


def header_signal_files(hea: Path) -> list[Path]:
    """The signal files a WFDB header names (resolved against the header's folder)."""
    from .io import _wfdb_signal_files

    return _wfdb_signal_files(hea)


def _is_bspm_mat(p: Path) -> bool:
    try:
        from scipy.io import whosmat

        return any(name == "potvals" for name, _shape, _cls in whosmat(str(p)))
    except Exception:  # noqa: BLE001 - not a readable MATLAB file: not a map
        return False


def _walk(folder: Path) -> list[Path]:
    out = []
    for p in sorted(folder.rglob("*")):
        if any(part in _SKIP_DIRS or part.startswith(".") for part in p.relative_to(folder).parts):
            continue  # hidden folders and our own temporaries
        if p.is_file() and p.suffix.lower() in RECORD_SUFFIXES and not p.name.endswith(".metrics.json"):
            out.append(p)
    return out


def discover(paths: list[str | Path]) -> Discovery:
    """Records among ``paths`` (files and folders), in the order given, folders sorted by name."""
    candidates: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            candidates += _walk(p)
        elif p.exists():
            candidates.append(p)
        elif p.with_suffix(".hea").exists():  # "rec" for rec.hea, as read_recording takes it
            candidates.append(p.with_suffix(".hea"))
        else:
            raise InputError("file not found", p)
    claimed: set[Path] = set()
    for p in candidates:
        if p.suffix.lower() == ".hea":
            claimed |= {s.resolve() for s in header_signal_files(p)}
    records: list[Path] = []
    notes: list[str] = []
    seen: set[Path] = set()
    for p in candidates:
        key = p.resolve()
        if key in seen:
            continue
        seen.add(key)
        ext = p.suffix.lower()
        if ext in (".dat", ".mat") and key in claimed:
            continue  # a signal file of a header already listed
        if ext in (".dat", ".mat") and p.with_suffix(".hea").exists():
            hea = p.with_suffix(".hea")
            if hea.resolve() not in seen:  # its header was not among the paths: the record is the header
                seen.add(hea.resolve())
                records.append(hea)
            continue
        if ext == ".dat" or (ext == ".mat" and not _is_bspm_mat(p)):
            notes.append(f"{p}: signal file without its header, skipped")
            continue
        records.append(p)
    return Discovery(tuple(records), tuple(notes))


# PhysioNet/CinC Challenge 2020/2021 record names say their source database
_CHALLENGE_PREFIX = (("HR", "PTB-XL"), ("A", "CPSC"), ("Q", "CPSC-Extra"), ("E", "Georgia"), ("S", "PTB"),
                     ("I", "INCART"), ("JS", "Chapman-Ningbo"))


def database_guess(path: str | Path) -> str:
    """The database a record comes from, for tables: Challenge name prefixes, else its folder's name."""
    p = Path(path)
    for prefix, name in sorted(_CHALLENGE_PREFIX, key=lambda t: -len(t[0])):
        rest = p.stem[len(prefix):]
        if p.stem.startswith(prefix) and rest.isdigit():
            return name
    folder = p.parent
    if folder.name in ("data", "records", "files") and folder.parent.name:
        folder = folder.parent
    return folder.name or "unknown"
