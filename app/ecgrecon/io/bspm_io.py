"""Body surface potential maps in files: WFDB/CSV with electrode-named channels, MATLAB ``potvals``.

A channel set is read as a BSPM when a layout is given (``layout=``) or when
every channel name is an electrode of a known layout and RA, LA, LL, V1-V6 are
among them. The file's reference is read from a header comment
``bspm-reference: <ref>`` (WFDB) or a ``reference`` variable (.mat); whatever
it is, potentials are re-referenced to WCT = (RA + LA + LL) / 3 (exact for any
common reference). The Recording's leads are the 12 standard leads derived
from the electrodes (role ``derived``: they are the ground truth), and
``Recording.electrodes`` holds the WCT-referenced potentials.

MATLAB (map3d/EDGAR convention): ``potvals`` is electrodes x samples; names
from a ``names``/``leadnames``/``electrodes`` cell array, else the layout's
order (rows must then match the layout's electrode count); sampling rate from
``fs``/``samplefrequency``/``samplingfrequency`` or the ``fs=`` option
(required otherwise); units from ``units`` or the ``units=`` option, else mV.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..recording import Meta, Recording
from .common import check_fs, check_size, unit_factor

FS_KEYS = ("fs", "samplefrequency", "samplingfrequency", "sample_frequency", "sampling_rate")
NAME_KEYS = ("names", "leadnames", "electrodes", "electrode_names", "channels")


def _comment_value(comments, key: str) -> str | None:
    for c in comments:
        m = re.match(rf"\s*{re.escape(key)}\s*:\s*(.+?)\s*$", c, re.I)
        if m:
            return m.group(1)
    return None


def layout_named_in(recording: Path, value: str):
    """The electrode layout a recording names (``# bspm-layout:`` in a header, ``layout`` in a .mat): a known
    layout name, or a ``.json`` file relative to the recording's folder and inside it. Unlike a layout the
    user passes on the command line, a name inside a file never reaches the rest of the disk. ``None`` for a
    name that is not installed (the caller decides: detect from the channel names, or refuse)."""
    from .. import bspm
    from .filecheck import check_regular, referenced_file

    value = str(value).strip()
    if value in bspm.available_layouts():
        return bspm.load_layout(value)
    if value.lower().endswith(".json") or "/" in value or "\\" in value:
        f = referenced_file(recording, value, "electrode layout")
        check_regular(f, "electrode layout", report=recording)
        try:
            return bspm.load_layout(f.resolve())
        except InputError as e:
            raise InputError(f"electrode layout {value!r} named in the file: {e.problem}", recording) from None
    return None


def _unknown_layout(recording: Path, value: str) -> InputError:
    from .. import bspm

    have = ", ".join(sorted(bspm.available_layouts())) or "none"
    return InputError(f"the file names electrode layout {value!r}, which is not installed (available: {have}; "
                      "pass one with --bspm-layout)", recording)


def maybe_bspm(rec: Recording, layout=None, path: str | Path | None = None) -> Recording:
    """``rec`` as a BSPM Recording when its channels are electrodes of a layout; else unchanged."""
    from .. import bspm

    if rec.electrodes is not None:
        return rec
    named = _comment_value(rec.meta.comments, "bspm-layout")
    if layout is not None:  # given by the user: any name or path
        lay = bspm.load_layout(layout)
    elif named and path is not None:  # a name this installation lacks: the channel names may still tell
        lay = layout_named_in(Path(path), named) or bspm.detect_layout(rec.leads)
    else:
        lay = bspm.detect_layout(rec.leads)
    if lay is None:
        return rec
    ref = _comment_value(rec.meta.comments, "bspm-reference") or "unknown"
    out = bspm.recording_from_electrodes(rec.signals, rec.leads, rec.fs, reference=ref, layout=lay,
                                         meta=rec.meta, source=path or rec.meta.source)
    return out


def _scalar(x):
    a = np.asarray(x)
    if a.dtype.kind in "US":
        return str(a.ravel()[0]) if a.size else ""
    if a.dtype == object and a.size:
        return _scalar(a.ravel()[0])
    return a.ravel()[0] if a.size else None


def _check_mat_elements(path: Path) -> None:
    """Walk a MATLAB v5 file's top-level elements (8-byte tag: type, byte count) before scipy reads them: a
    damaged tag claiming 987 MB in a 146 KB file made loadmat ask for gigabytes. v4 and v7.3 (HDF5) files
    have no such tags and are left to the reader."""
    import struct

    with path.open("rb") as fh:
        head = fh.read(128)
        size = path.stat().st_size
        if len(head) < 128 or head[126:128] not in (b"IM", b"MI") or head[124:126] not in (b"\x00\x01", b"\x01\x00"):
            return
        endian = "<" if head[126:128] == b"IM" else ">"
        pos = 128
        while pos + 8 <= size:
            fh.seek(pos)
            mdtype, nbytes = struct.unpack(endian + "II", fh.read(8))
            if mdtype not in (14, 15):  # miMATRIX, miCOMPRESSED: nothing else stands at the top level
                raise InputError(f"damaged MATLAB file: element at byte {pos} has type {mdtype}, not a variable",
                                 path)
            if nbytes > size - pos - 8:
                raise InputError(f"damaged MATLAB file: a variable at byte {pos} claims {nbytes} bytes, the file "
                                 f"has {size - pos - 8} left", path)
            pos += 8 + nbytes + (-nbytes % 8 if mdtype == 14 else 0)


def _number(x, name: str, path: Path) -> float:
    """One real number from a MATLAB variable (text, an empty matrix or a struct are refused by name)."""
    a = np.asarray(x)
    if a.size != 1 or a.dtype.kind not in "fiu":
        raise InputError(f"'{name}' must be one number, got {a.dtype} of shape {a.shape}", path)
    return float(a.ravel()[0])


def _strings(x) -> list[str]:
    a = np.asarray(x, dtype=object).ravel()
    out = []
    for v in a:
        v = np.asarray(v)
        out.append(str(v.ravel()[0]) if v.size else "")
    if len(out) == 1 and np.asarray(x).dtype.kind == "U" and np.asarray(x).ndim == 2:
        out = [str(s).strip() for s in np.asarray(x).tolist()]
    return [s.strip() for s in out]


def read_mat(path: Path, *, fs: float | None = None, units: str | None = None, layout=None) -> Recording:
    from scipy.io import loadmat

    from .. import bspm
    from .guarded import call_guarded

    _check_mat_elements(path)
    try:
        # in a forked child: a damaged uncompressed .mat can segfault scipy (issue 16)
        m = call_guarded(lambda: loadmat(str(path), squeeze_me=False, chars_as_strings=True), path,
                         what="scipy.io.loadmat")
    except (InputError, MemoryError):
        raise
    except NotImplementedError:
        raise InputError("MATLAB v7.3 (HDF5) .mat files are not supported; save with -v7", path) from None
    except Exception as e:
        raise InputError(f"not a readable MATLAB file ({' '.join(str(e).split())[:120]})", path) from None
    keys = {k.lower(): k for k in m if not k.startswith("__")}
    if "potvals" not in keys:
        raise InputError("a .mat file needs a 'potvals' matrix (electrodes x samples) or its WFDB header (.hea) "
                         "beside it", path)
    pot = np.asarray(m[keys["potvals"]])
    if pot.ndim != 2 or pot.dtype.kind not in "fiu" or min(pot.shape) == 0:
        raise InputError(f"'potvals' must be a numeric electrodes x samples matrix, got {pot.shape} {pot.dtype}",
                         path)
    fs_file = next((_number(m[keys[k]], k, path) for k in FS_KEYS if k in keys), None)
    if fs_file is not None and fs is not None and abs(fs_file - fs) > 1e-6 * fs_file:
        raise InputError(f"--fs {fs:g} disagrees with the file's sampling rate {fs_file:g} Hz", path)
    rate = fs_file if fs_file is not None else fs
    if rate is None:
        raise InputError("the .mat file gives no sampling rate ('fs' or 'samplefrequency'); pass --fs", path)
    rate = check_fs(rate, path)
    lay_name = str(_scalar(m[keys["layout"]]) or "").strip() if "layout" in keys else ""
    if layout is not None:  # given by the user: any name or path
        lay = bspm.load_layout(layout)
    elif lay_name:
        lay = layout_named_in(path, lay_name)
        if lay is None:
            raise _unknown_layout(path, lay_name)
    else:
        lay = bspm.load_layout(bspm.DEFAULT_LAYOUT)
    names = next((_strings(m[keys[k]]) for k in NAME_KEYS if k in keys), None)
    if names is None:
        names = list(lay.names)
        if pot.shape[0] != len(names):
            if pot.shape[1] == len(names):
                raise InputError(f"'potvals' is {pot.shape}: samples x electrodes? map3d stores electrodes x "
                                 "samples; transpose it", path)
            raise InputError(f"'potvals' has {pot.shape[0]} rows but layout {lay.name} has {len(names)} electrodes "
                             "and the file names none ('names')", path)
    if pot.shape[0] != len(names):
        raise InputError(f"'potvals' has {pot.shape[0]} rows but the file names {len(names)} electrodes", path)
    check_size(pot.shape[0], pot.shape[1], path)
    u = units or (str(_scalar(m[keys["units"]])) if "units" in keys else None) or "mV"
    pot = pot.astype(np.float64) * unit_factor(u, path)
    ref = str(_scalar(m[keys["reference"]])) if "reference" in keys else "unknown"
    comments = tuple(_strings(m[keys["comments"]])) if "comments" in keys else ()
    meta = Meta(record_id=path.stem, source=str(path), units_found=(u,) * len(names), comments=comments)
    rec = bspm.recording_from_electrodes(pot, names, rate, reference=ref, layout=lay, meta=meta, source=path)
    return rec


# -- writers (used for the bundled samples; any BSPM Recording) -----------------------------------------
def _electrode_comments(rec: Recording) -> list[str]:
    el = rec.electrodes
    assert el is not None
    out = list(rec.meta.comments)
    out.append(f"bspm-layout: {el.layout or ''}")
    out.append(f"bspm-reference: {el.reference}")
    for k, v in rec.meta.provenance.items():
        if not k.startswith("bspm_"):
            out.append(f"ecgrecon-{k}: {v}")
    return [c.replace("\n", " ") for c in out]


def write_bspm_wfdb(rec: Recording, path: str | Path) -> Path:
    """Electrode potentials as WFDB format 16 at 1000 units/mV (1 uV), channels named by electrode."""
    from .wfdb_io import write_wfdb

    el = rec.electrodes
    if el is None:
        raise InputError("recording has no electrode potentials to write", path)
    p = Path(path).with_suffix(".hea")
    tmp = Recording(el.potentials, rec.fs, el.names, meta=replace(rec.meta, comments=tuple(_electrode_comments(rec)),
                                                                   provenance={}))
    _write_wfdb_no_roles(tmp, p, write_wfdb)
    return p


def _write_wfdb_no_roles(rec: Recording, p: Path, write_wfdb) -> None:
    # write_wfdb adds one "ecgrecon-role" comment per channel; electrode channels have no lead role
    write_wfdb(rec, p)
    text = p.read_text().splitlines()
    p.write_text("\n".join(ln for ln in text if not ln.startswith("# ecgrecon-role ")) + "\n")


def write_bspm_mat(rec: Recording, path: str | Path, *, potvals: np.ndarray | None = None) -> Path:
    """``potvals`` (electrodes x samples, mV, float32) with names, fs, units, reference, layout and comments."""
    from scipy.io import savemat

    el = rec.electrodes
    if el is None:
        raise InputError("recording has no electrode potentials to write", path)
    p = Path(path)
    pv = el.potentials if potvals is None else potvals
    savemat(str(p), {
        "potvals": np.asarray(pv, np.float32), "fs": float(rec.fs), "units": "mV",
        "names": np.array(list(el.names), dtype=object), "reference": el.reference,
        "layout": el.layout or "", "comments": np.array(_electrode_comments(rec), dtype=object),
    }, do_compression=True)
    return p
