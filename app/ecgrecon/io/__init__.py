"""Reading and writing recordings. Format is chosen by file extension.

Every reader returns a :class:`~ecgrecon.recording.Recording` in millivolts;
every failure the user can cause raises :class:`~ecgrecon.errors.InputError`
with a one-line reason naming the file.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import EcgReconError, InputError
from ..recording import Recording
from .clinical_io import SUFFIXES as CLINICAL_SUFFIXES
from .clinical_io import looks_clinical, read_clinical
from .common import MAX_BYTES, check_readable
from .csv_io import read_csv, write_csv
from .edf_io import read_edf, write_edf
from .filecheck import check_name, check_output_name
from .npz_io import read_npz, write_npz
from .wfdb_io import check_record_name, read_wfdb, write_wfdb

READ_FORMATS = {".hea": "WFDB", ".dat": "WFDB", ".mat": "WFDB / MATLAB", ".edf": "EDF/EDF+", ".csv": "CSV",
                ".npz": "NumPy", **CLINICAL_SUFFIXES}
WRITE_FORMATS = {".hea": "WFDB", ".csv": "CSV", ".edf": "EDF", ".npz": "NumPy", ".dcm": "DICOM waveform ECG",
                 ".xml": "HL7 aECG"}

__all__ = ["read_recording", "write_recording", "READ_FORMATS", "WRITE_FORMATS", "MAX_BYTES"]


def read_recording(path: str | Path, *, fs: float | None = None, units: str | None = None,
                   trust_header_gains: bool = False, layout=None) -> Recording:
    """Read any supported file (see :func:`_read`); whatever a third-party parser raises becomes one
    InputError naming the file, and a recording whose values overflowed to infinity is refused."""
    import warnings

    import numpy as np

    from . import isolated

    if isolated.wanted():  # a batch run or a front end asked for each file to be parsed in a child process
        return isolated.read_isolated(path, fs=fs, units=units, trust_header_gains=trust_header_gains, layout=layout)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # numpy/scipy warnings would reach stderr: the outcome is checked
            rec = _read(path, fs=fs, units=units, trust_header_gains=trust_header_gains, layout=layout)
    except EcgReconError:
        raise
    except MemoryError:
        raise InputError("not enough memory to read this file", path) from None
    except Exception as e:  # noqa: BLE001 - a parser failing on a hostile file is a bad input, not a crash
        parser = _failing_package(e)
        msg = " ".join(str(e).split())[:120] or type(e).__name__
        raise InputError(f"cannot read: {parser} failed ({type(e).__name__}: {msg})", path) from None
    if np.isinf(rec.signals).any():
        raise InputError("values overflow (infinite after conversion to mV): check the gains and units", path)
    if rec.electrodes is not None and np.isinf(rec.electrodes.potentials).any():
        raise InputError("electrode values overflow (infinite after conversion to mV)", path)
    if any(not n.strip() for n in rec.leads):
        raise InputError("a channel has an empty label", path)
    return rec


def _failing_package(e: BaseException) -> str:
    """The library whose code raised ``e`` (the innermost frame of the traceback outside the standard
    library's plumbing): "ecgdatakit", "edfio", "wfdb" rather than "builtins" for a LookupError."""
    name = ""
    tb = e.__traceback__
    while tb is not None:
        mod = str(tb.tb_frame.f_globals.get("__name__", "")).split(".")[0]
        if mod and mod not in ("ecgrecon", "builtins", "codecs", "encodings", "importlib", "abc", "functools"):
            name = mod  # keep going: the innermost library frame wins
        tb = tb.tb_next
    return name or type(e).__module__.split(".")[0] or "reader"


def _read(path: str | Path, *, fs: float | None = None, units: str | None = None,
          trust_header_gains: bool = False, layout=None) -> Recording:
    """Read any supported file. ``fs``/``units`` are needed only for CSV without them.

    Body surface maps (see :mod:`ecgrecon.io.bspm_io`): a ``.mat`` with ``potvals``, or WFDB/CSV whose
    channels are electrodes of ``layout`` (a name or file; detected when every channel is an electrode of
    a known layout) give a Recording of the 12 derived leads with ``electrodes`` filled.
    """
    p = Path(path)
    check_name(p)  # a 300-character name: one line here, not ENAMETOOLONG from the first exists() below
    ext = p.suffix.lower()
    if ext == "" and p.with_suffix(".hea").exists():
        p, ext = p.with_suffix(".hea"), ".hea"
    if ext in CLINICAL_SUFFIXES or (ext not in READ_FORMATS and p.is_file() and looks_clinical(p)):
        return read_clinical(p)  # by extension or, for other names, by content
    if ext not in READ_FORMATS:
        raise InputError(
            f"unsupported file type {ext or '(none)'!r}; expected one of {', '.join(READ_FORMATS)}", path)
    if ext == ".dat":
        if p.exists() and not p.with_suffix(".hea").exists():
            raise InputError(f"WFDB samples need their header; {p.with_suffix('.hea').name} is missing", path)
        p, ext = p.with_suffix(".hea"), ".hea"
    if ext == ".mat" and p.with_suffix(".hea").exists():
        p, ext = p.with_suffix(".hea"), ".hea"  # PhysioNet Challenge: .hea + .mat
    if ext == ".mat":
        from .mat_io import read_mat

        return read_mat(p, fs=fs, units=units, layout=layout)
    check_readable(p)
    if ext in (".hea", ".csv"):
        from .bspm_io import maybe_bspm

        rec = read_wfdb(p, trust_header_gains=trust_header_gains) if ext == ".hea" else read_csv(p, fs=fs, units=units)
        return maybe_bspm(rec, layout, p)
    if ext == ".edf":
        return read_edf(p)
    return read_npz(p)


def write_recording(rec: Recording, path: str | Path, *, overwrite: bool = True,
                    protect: tuple[str | Path, ...] = ()) -> Path:
    """Write ``rec`` atomically; refuse to write over any path in ``protect``."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in WRITE_FORMATS:
        raise InputError(f"cannot write {ext or '(no extension)'!r}; use one of {', '.join(WRITE_FORMATS)}", path)
    check_output_name(p)
    targets = [p] if ext != ".hea" else [p, p.with_suffix(".dat")]
    if ext == ".csv":
        from .csv_io import sidecar_of

        targets.append(sidecar_of(p))  # roles and provenance beside the CSV
    guarded = {_real(q) for q in protect}
    for src in list(protect):
        sp = Path(src)
        if sp.suffix.lower() in (".hea", ".dat", ".mat", ""):  # "rec" means rec.hea, as read_recording takes it
            guarded |= {_real(sp.with_suffix(".hea")), _real(sp.with_suffix(".dat")), _real(sp.with_suffix(".mat"))}
            guarded |= {_real(f) for f in _wfdb_signal_files(sp.with_suffix(".hea"))}
    for t in targets:
        if _real(t) in guarded:
            raise InputError("refusing to write over the input file; choose another output name", t)
        if not overwrite and t.exists():
            raise InputError("output exists; pass --force to replace it", t)
    if not p.parent.exists():
        raise InputError("output folder does not exist", p.parent)
    if ext == ".hea":
        check_record_name(p)
    try:
        _write(rec, p, ext)
    except OSError as e:  # no permission, disk full, a read-only file system: one line, not a traceback
        raise InputError(f"cannot write ({e.strerror or type(e).__name__})", p) from None
    return p


def _write(rec: Recording, p: Path, ext: str) -> None:
    if ext == ".hea":
        write_wfdb(rec, p)
    elif ext == ".csv":
        write_csv(rec, p)
    elif ext == ".edf":
        write_edf(rec, p)
    elif ext == ".dcm":
        from .dicom_io import write_dicom

        write_dicom(rec, p)
    elif ext == ".xml":
        from .aecg_io import write_aecg

        write_aecg(rec, p)
    else:
        write_npz(rec, p)


def _wfdb_signal_files(hea: Path) -> list[Path]:
    """Signal files a WFDB header names (they need not share its name: s0010_re.xyz, data.dat)."""
    try:
        if not hea.is_file() or hea.stat().st_size > 1_000_000:
            return []
        lines = [ln for ln in hea.read_text(errors="replace").splitlines() if ln.strip() and not ln.startswith("#")]
        n = int(lines[0].split()[1])
        return [hea.parent / ln.split()[0] for ln in lines[1:1 + n]]
    except (OSError, IndexError, ValueError):
        return []


def _real(p: str | Path) -> str:
    return str(Path(p).resolve())
