"""WFDB records (.hea + .dat, or .hea + .mat as in the PhysioNet Challenges)."""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..leads import einthoven_residual
from ..recording import Meta, Recording
from . import provenance
from .common import canonical_names, check_fs, check_size, unit_factor
from .filecheck import check_regular, referenced_file
from .tempfiles import temp_dir, temp_path

_BYTES_PER_SAMPLE = {"8": 1, "16": 2, "24": 3, "32": 4, "61": 2, "80": 1, "160": 2, "212": 1.5,
                     "310": 4 / 3, "311": 4 / 3}


# wfdb's header regexes backtrack quadratically on long lines (100,000 characters take minutes): lines are
# measured before wfdb sees them. WFDB's own tools limit a line to 255 characters; comments may hold more.
MAX_HEADER_BYTES = 1_000_000
MAX_LINE = 1024
MAX_COMMENT = 8192
MAX_SIGNALS = 4096


def _check_header_text(path: Path) -> str:
    """The header's text, refused before parsing when it is not a regular file, too big, not ASCII where WFDB
    needs it, or has a line long enough to stall wfdb's regular expressions."""
    st = check_regular(path)
    if st.st_size > MAX_HEADER_BYTES:
        raise InputError(f"header is {st.st_size} bytes; a WFDB header is a short text file (limit "
                         f"{MAX_HEADER_BYTES} bytes)", path)
    try:
        text = path.read_text(errors="strict")
    except UnicodeDecodeError:
        raise InputError("header is not text (garbage or binary file)", path) from None
    for k, line in enumerate(text.splitlines(), start=1):
        comment = line.lstrip().startswith("#")
        limit = MAX_COMMENT if comment else MAX_LINE
        if len(line) > limit:
            raise InputError(f"header line {k} is {len(line)} characters long (limit {limit}); not a WFDB header",
                             path)
        if not comment and not line.isascii():
            # wfdb decodes headers as ASCII and drops other characters: "ЭКГ_üx.dat" would become "_x.dat"
            raise InputError(f"header line {k} holds non-ASCII characters; WFDB record and file names are ASCII",
                             path)
    return text


def _parse_header(path: Path):
    import wfdb

    text = _check_header_text(path)
    first = next((ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")), "")
    parts = first.split()
    if len(parts) < 2 or not re.fullmatch(r"[\w\-.]+(/\d+)?", parts[0]) or not parts[1].isdigit():
        raise InputError("not a WFDB header (first line must be 'name n_signals [fs [n_samples]]')", path)
    if int(parts[1]) == 0:
        raise InputError("header names zero signals", path)
    if int(parts[1]) > MAX_SIGNALS:
        raise InputError(f"header names {int(parts[1])} signals (limit {MAX_SIGNALS})", path)
    if "/" in parts[0]:
        raise InputError("multi-segment WFDB records are not supported; merge the segments into one record first",
                         path)
    if len(parts) > 2:
        # wfdb silently falls back to 250 Hz on a rate it cannot parse ("-500", "abc")
        fs_txt = parts[2].split("/")[0]
        try:
            fs_val = float(fs_txt)
        except ValueError:
            raise InputError(f"sampling rate {fs_txt!r} in the header is not a number", path) from None
        check_fs(fs_val, path)
    try:
        hdr = wfdb.rdheader(str(path.with_suffix("")))
    except MemoryError:
        raise
    except Exception as e:  # wfdb raises many kinds on malformed headers
        raise InputError(f"malformed WFDB header ({_short(e)})", path) from None
    n_lines = len(hdr.sig_name or [])
    if n_lines != hdr.n_sig:
        raise InputError(f"header names {hdr.n_sig} signals but describes {n_lines}", path)
    from wfdb.io._signal import DAT_FMTS

    bad = sorted({str(f) for f in hdr.fmt or [] if str(f) not in DAT_FMTS})
    if bad:
        raise InputError(f"unsupported WFDB sample format {', '.join(bad)}", path)
    _check_fields(hdr, path)
    return hdr


def _check_fields(hdr, path: Path) -> None:
    """Field ranges wfdb takes on trust: a skew of 99,999,999 made it allocate 2.2 GB for a 30 KB record, a
    gain of 1e-36 overflows float32, 10^8 samples per frame multiply the allocation."""
    n = int(hdr.sig_len or 0)
    names = list(hdr.sig_name or [])
    for k in range(int(hdr.n_sig or 0)):
        lead = names[k] if k < len(names) else f"#{k + 1}"
        g = (hdr.adc_gain or [0] * (k + 1))[k]
        if g is not None and (not np.isfinite(g) or (g != 0 and not 1e-9 <= abs(g) <= 1e12)):
            raise InputError(f"gain {g:g} of signal {lead} is not a usable ADC gain (0 means the default 200; "
                             "else 1e-9 to 1e12 units per physical unit)", path)
        b = (hdr.baseline or [0] * (k + 1))[k]
        if b is not None and not np.isfinite(b):
            raise InputError(f"baseline of signal {lead} is not a number", path)
        skew = (hdr.skew or [0] * (k + 1))[k] or 0
        if skew < 0 or skew > n:
            raise InputError(f"skew {skew} of signal {lead} exceeds the record's {n} samples", path)
        spf = (hdr.samps_per_frame or [1] * (k + 1))[k] or 1
        if not 1 <= spf <= 1000:
            raise InputError(f"{spf} samples per frame for signal {lead} (limit 1000)", path)
    if n > 0:
        check_size(sum(int(s or 1) for s in (hdr.samps_per_frame or [1] * int(hdr.n_sig))), n, path)


def _short(e: Exception) -> str:
    msg = " ".join(str(e).split()) or type(e).__name__
    return msg[:160]


def _patient(comments: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in comments:
        m = re.match(r"\s*<?\s*(age|sex|gender)\s*>?\s*:\s*(.+?)\s*$", c, re.I)
        if m:
            key = "sex" if m.group(1).lower() in ("sex", "gender") else "age"
            val = m.group(2)
            if key == "sex":  # "M", "Male", "male" -> "male": one spelling on every screen and printout
                val = {"m": "male", "f": "female"}.get(val.strip().lower()[:1], val) if val.strip() else val
            out.setdefault(key, val)
    return out


def read_wfdb(path: Path, *, trust_header_gains: bool = False) -> Recording:
    import wfdb

    hdr = _parse_header(path)
    if not hdr.sig_name or hdr.n_sig == 0:
        raise InputError("header names zero signals", path)
    fs = check_fs(hdr.fs, path)
    n = hdr.sig_len
    if n is None or n <= 0:
        raise InputError("header gives zero samples", path)
    check_size(hdr.n_sig, n, path)
    check_signal_files(hdr, path)
    _check_dat_length(hdr, path)
    try:
        # smallest integer type that holds the format: a 24-hour Holter stays ~260 MB as int16
        res = 16 if all(str(f) in ("8", "16", "80", "212", "310", "311") for f in hdr.fmt) else 64
        rec = wfdb.rdrecord(str(path.with_suffix("")), physical=False, return_res=res)
    except MemoryError:
        raise  # read_recording says "not enough memory", not "cannot read samples"
    except Exception as e:
        raise InputError(f"cannot read samples ({_short(e)})", path) from None
    d = rec.d_signal  # samples x channels, integers
    if d.shape[0] < n:
        raise InputError(f"signal file is truncated: {d.shape[0]} of {n} samples", path)
    names = canonical_names(list(rec.sig_name), path)
    invalid = _invalid_values(rec.fmt)
    gains = np.array([g if g else 200.0 for g in rec.adc_gain], dtype=np.float64)  # WFDB default gain 200
    base = np.array(rec.baseline, dtype=np.float64)
    units = [u or "mV" for u in rec.units]
    factor = np.array([unit_factor(u, path, nm) for u, nm in zip(units, names, strict=True)])
    warnings: list[str] = []
    if not trust_header_gains and _ludb_gain_trap(d, gains, names):
        # LUDB v1.0.1: each header gain scales its lead to exactly 1 mV p-p, which
        # breaks Einthoven's law; the raw samples are in 1 uV units (see data README).
        warnings.append("header gains scale every lead to 1 mV peak-to-peak and break Einthoven's law "
                        "(LUDB v1.0.1 header fault); used raw samples at 1000 units/mV instead")
        gains = np.full_like(gains, 1000.0)
        base = np.zeros_like(base)
        factor = np.ones_like(factor)
    # digital -> mV, one channel at a time in float32 (bounded memory)
    sig = np.empty((d.shape[1], d.shape[0]), dtype=np.float32)
    for j in range(d.shape[1]):
        col = d[:, j]
        sig[j] = (col.astype(np.float64) - base[j]) * (factor[j] / gains[j])
        if invalid[j] is not None:
            sig[j][col == invalid[j]] = np.nan
        if np.isinf(sig[j]).any():  # finite in float64, past float32's range after the gain
            raise InputError(f"lead {names[j]} overflows after conversion to mV (gain {gains[j]:g}); check the "
                             "header's gains and units", path)
    del d, rec
    comments = list(hdr.comments or [])
    roles, prov = provenance.from_lines(comments, names)
    start = None
    if hdr.base_date is not None:
        start = datetime.combine(hdr.base_date, hdr.base_time or datetime.min.time())
    meta = Meta(
        record_id=str(hdr.record_name),
        source=str(path),
        start_time=start,
        patient=_patient(comments),
        units_found=tuple(units),
        comments=tuple(c.strip() for c in comments if c.strip()),
        warnings=tuple(warnings),
        reconstruction=prov,
    )
    return Recording(sig, fs, names, roles=roles or (), meta=meta)


def check_signal_files(hdr, path: Path) -> None:
    """Each signal file the header names: in the header's folder (symlinks resolved) and a regular file (a
    FIFO would block wfdb forever, a symlink could read /etc/passwd as samples)."""
    for fname in sorted(set(hdr.file_name or [])):
        f = referenced_file(path, fname, "signal file")
        if not f.exists() and not f.is_symlink():
            raise InputError(f"signal file {fname} named by the header is missing", path)
        check_regular(f, "signal file", report=path)


def _invalid_values(fmts: list[str]) -> list[int | None]:
    table = {"16": -32768, "61": -32768, "80": -128, "8": None, "212": -2048, "24": -(2**23), "32": -(2**31)}
    return [table.get(str(f)) for f in fmts]


def _check_dat_length(hdr, path: Path) -> None:
    """Say "truncated" before wfdb fails with an opaque message."""
    by_file: dict[str, float] = {}
    spfs = hdr.samps_per_frame or [1] * len(hdr.file_name)
    # Challenge .mat files hold format-16 samples after a 24-byte MATLAB header that the byte offset ("16+24")
    # skips, so the same count holds; without the offset the header only makes the file longer
    for fname, fmt, spf in zip(hdr.file_name, hdr.fmt, spfs, strict=False):
        bps = _BYTES_PER_SAMPLE.get(str(fmt))
        if bps is None:
            return
        by_file[fname] = by_file.get(fname, 0) + bps * (spf or 1)
    offsets = {f: (o or 0) for f, o in zip(hdr.file_name, hdr.byte_offset or [0] * len(hdr.file_name), strict=False)}
    for fname, per_frame in by_file.items():
        size = (path.parent / fname).stat().st_size - offsets.get(fname, 0)
        need = int(np.floor(per_frame * hdr.sig_len))
        if size < need:
            have = int(size / per_frame)
            raise InputError(f"signal file {fname} is truncated: holds {have} of {hdr.sig_len} samples", path)


def _ludb_gain_trap(d: np.ndarray, gains: np.ndarray, names: tuple[str, ...]) -> bool:
    if len(set(np.round(gains, 6))) < 2 or not all(x in names for x in ("I", "II", "III")):
        return False
    ptp = d.max(axis=0).astype(np.float64) - d.min(axis=0).astype(np.float64)  # no int16 overflow
    if d.shape[0] > 1 and np.all(np.abs(ptp / gains - 1.0) < 1e-3):
        return True  # every lead exactly 1 mV p-p: gains were fitted to the data, not the amplifier
    i, ii, iii = (d[:, names.index(x)].astype(np.float64) for x in ("I", "II", "III"))
    raw_ok = einthoven_residual(i, ii, iii) <= 2  # integer units, allow rounding
    gi, gii, giii = (gains[names.index(x)] for x in ("I", "II", "III"))
    phys_bad = einthoven_residual(i / gi, ii / gii, iii / giii) > 0.02  # mV
    return raw_ok and phys_bad


def _wfdb_names(leads: tuple[str, ...]) -> list[str]:
    """WFDB headers are ASCII and a tab ends the name: transliterate ("Ableitung \u00fc" -> "Ableitung u")."""
    out: list[str] = []
    for k, name in enumerate(leads):
        nm = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
        nm = " ".join("".join(c if c.isprintable() else " " for c in nm).split()) or f"ch{k + 1}"
        if nm in out:
            nm = f"{nm}#{k}"
        out.append(nm)
    return out


def check_record_name(path: Path) -> None:
    """ASCII only: wfdb reads headers as ASCII and drops other letters, so a record written as "ЭКГ_üx" could
    not be read back; refused before anything is written."""
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", Path(path).stem):
        raise InputError("a WFDB record name may hold only ASCII letters, digits, '_' and '-' (no dots, spaces or "
                         "accented letters); CSV, EDF and .npz names may hold any", path)


def write_wfdb(rec: Recording, path: Path) -> None:
    """Write format-16 WFDB at a gain that keeps 1 uV resolution when the range allows."""
    import wfdb

    name = path.stem
    sig = rec.signals.astype(np.float64)
    finite = np.abs(sig[np.isfinite(sig)])
    peak = float(finite.max()) if finite.size else 0.0
    # 1000/mV (1 uV steps) when int16 holds the range; else the largest gain that does, which
    # may be below 1 for absurd ranges (a gain floored at 1 clipped everything past 32.7 V)
    gain = 1000.0 if peak < 32.0 else float(f"{32000.0 / peak:.6g}")
    d = np.round(rec.signals.astype(np.float64) * gain)
    d[~np.isfinite(d)] = -32768
    d = np.clip(d, -32768, 32767).astype(np.int16)
    names = _wfdb_names(rec.leads)
    # this recording's own roles and provenance replace any an input carried
    comments = [c for c in rec.meta.comments if not c.lstrip().startswith("ecgrecon-")]
    for k, v in rec.meta.provenance.items():
        comments.append(f"ecgrecon-{k}: {v}")
    comments += provenance.to_lines(replace(rec, leads=tuple(names)))
    tmpdir = temp_dir(path.parent)  # named so that the next run removes it if this one is killed
    try:
        wfdb.wrsamp(
            name, fs=rec.fs, units=["mV"] * len(rec.leads), sig_name=names,
            d_signal=d.T.astype(np.int64),
            fmt=["16"] * len(rec.leads), adc_gain=[gain] * len(rec.leads), baseline=[0] * len(rec.leads),
            comments=[c.replace("\n", " ") for c in comments], write_dir=str(tmpdir),
        )
        # .dat first, header last: a reader never sees a header without its samples
        shutil.move(str(tmpdir / f"{name}.dat"), str(path.with_suffix(".dat")))
        shutil.move(str(tmpdir / f"{name}.hea"), str(path.with_suffix(".hea")))
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


class WfdbStreamWriter:
    """Write a format-16 WFDB record block by block (bounded memory), atomically.

    Samples go to a temporary .dat beside the target; the header is written
    last, then both are renamed into place. Gain is fixed at 1000 units/mV
    (1 uV resolution, +-32.7 mV range; values beyond are clipped and counted).
    """

    GAIN = 1000.0

    def __init__(self, path: Path, leads: tuple[str, ...], fs: float, comments: list[str] | tuple[str, ...] = ()):
        self.path = Path(path)
        check_record_name(self.path)
        self.leads = tuple(leads)
        self.fs = float(fs)
        self.comments = [c.replace("\n", " ") for c in comments]
        self.n = 0
        self.clipped = 0
        self._tmp = temp_path(self.path, ".dat.tmp")  # removed by the next run if this one is killed
        self._fh = self._tmp.open("wb")

    def write(self, block: np.ndarray) -> None:
        """``block``: leads x samples in mV."""
        d = np.round(np.asarray(block, np.float64) * self.GAIN)
        bad = ~np.isfinite(d)
        over = (np.abs(d) > 32767) & ~bad
        self.clipped += int(over.sum())
        d = np.clip(np.where(bad, -32768, d), -32768, 32767)
        d[bad] = -32768
        self._fh.write(d.T.astype("<i2").tobytes())
        self.n += block.shape[1]

    def close(self) -> None:
        self._fh.close()
        name = self.path.stem
        lines = [f"{name} {len(self.leads)} {self.fs:g} {self.n}"]
        for lead in self.leads:
            lines.append(f"{name}.dat 16 {self.GAIN:g}/mV 16 0 0 0 0 {lead}")
        if self.clipped:
            self.comments.append(f"ecgrecon: {self.clipped} samples clipped at +-32.767 mV")
        lines += [f"# {c}" for c in self.comments]
        hea_tmp = temp_path(self.path, ".hea.tmp")
        hea_tmp.write_text("\n".join(lines) + "\n")
        os.replace(self._tmp, self.path.with_suffix(".dat"))
        os.replace(hea_tmp, self.path.with_suffix(".hea"))

    def abort(self) -> None:
        self._fh.close()
        self._tmp.unlink(missing_ok=True)
