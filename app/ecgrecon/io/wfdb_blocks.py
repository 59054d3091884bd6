"""A WFDB record read in blocks: the integer samples stay on disk, a block becomes float32 mV when asked.

Why: a 24-hour recording read whole costs its samples three times over (wfdb's integers, then the
float conversion); the engine only ever needs a minute at a time. Single-file records in a plain
integer format (16, 61, 80, 32) are mapped with ``numpy.memmap``, one window per block, so resident
memory stays at one block however long the file is. Other records (several signal files, packed
formats such as 212, skew) are read whole by :func:`ecgrecon.io.wfdb_io.read_wfdb` instead
(:func:`open_wfdb_blocks` returns None for them).

The object quacks like a :class:`~ecgrecon.recording.Recording` for everything but ``signals``:
lead names, roles, rate, length and metadata are the ones ``read_wfdb`` gives.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..leads import einthoven_residual
from ..recording import Meta, Recording, Role
from . import provenance
from .common import canonical_names, check_fs, unit_factor
from .wfdb_io import WfdbStreamWriter, _check_dat_length, _invalid_values, _parse_header, _patient, check_signal_files

# WFDB format -> (numpy dtype of one stored sample, offset added to get the signed value)
_DTYPES = {"16": ("<i2", 0), "61": (">i2", 0), "32": ("<i4", 0), "80": ("u1", -128)}
SCAN_FRAMES = 2_000_000  # frames per pass when a check must see the whole file


class WfdbBlocks:
    """One WFDB record, samples on disk (see the module's docstring)."""

    electrodes = None  # a body surface map is read whole (its leads are derived from all electrodes)

    def __init__(self, path: Path, hdr, *, trust_header_gains: bool = False) -> None:
        self.path = path
        self.fs = check_fs(hdr.fs, path)
        self.n_samples = int(hdr.sig_len)
        self._n_sig = int(hdr.n_sig)
        self._dat = path.parent / hdr.file_name[0]
        dt, self._shift = _DTYPES[str(hdr.fmt[0])]
        self._dtype = np.dtype(dt)
        self._offset = int((hdr.byte_offset or [0])[0] or 0)
        self.leads = canonical_names(list(hdr.sig_name), path)
        self._invalid = _invalid_values([str(f) for f in hdr.fmt])
        gains = np.array([g if g else 200.0 for g in hdr.adc_gain], np.float64)  # WFDB default gain 200
        base = np.array(hdr.baseline, np.float64)
        units = [u or "mV" for u in hdr.units]
        factor = np.array([unit_factor(u, path, nm) for u, nm in zip(units, self.leads, strict=True)])
        warnings: list[str] = []
        if not trust_header_gains and self._ludb_gain_trap(gains):
            warnings.append("header gains scale every lead to 1 mV peak-to-peak and break Einthoven's law "
                            "(LUDB v1.0.1 header fault); used raw samples at 1000 units/mV instead")
            gains, base, factor = np.full_like(gains, 1000.0), np.zeros_like(base), np.ones_like(factor)
        self._scale = factor / gains  # mV per unit
        self._base = base
        comments = list(hdr.comments or [])
        roles, prov = provenance.from_lines(comments, self.leads)
        self.roles: tuple[Role, ...] = tuple(roles) if roles else (Role.UNKNOWN,) * len(self.leads)
        start = datetime.combine(hdr.base_date, hdr.base_time or datetime.min.time()) if hdr.base_date else None
        self.meta = Meta(record_id=str(hdr.record_name), source=str(path), start_time=start,
                         patient=_patient(comments), units_found=tuple(units),
                         comments=tuple(c.strip() for c in comments if c.strip()), warnings=tuple(warnings),
                         reconstruction=prov)

    # -- the Recording-like part --------------------------------------------------------------
    @property
    def duration(self) -> float:
        return self.n_samples / self.fs

    def index(self, name: str) -> int:
        try:
            return self.leads.index(name)
        except ValueError:
            raise KeyError(f"lead {name!r} not in recording (has {', '.join(self.leads)})") from None

    def has(self, *names: str) -> bool:
        return all(n in self.leads for n in names)

    def role(self, name: str) -> Role:
        return self.roles[self.index(name)]

    def lead(self, name: str) -> np.ndarray:
        """One whole lead in mV (for short files and tests; the engine reads blocks)."""
        return self.block((name,), 0, self.n_samples)[0]

    # -- blocks ---------------------------------------------------------------------------------
    def _frames(self, a: int, b: int) -> np.ndarray:
        """Raw integer frames a..b (b - a x n_sig), mapped only for as long as the caller holds them."""
        if b <= a:
            return np.empty((0, self._n_sig), self._dtype)
        return np.memmap(self._dat, dtype=self._dtype, mode="r", shape=(b - a, self._n_sig),
                         offset=self._offset + a * self._n_sig * self._dtype.itemsize)

    def block(self, names: tuple[str, ...] | list[str], a: int, b: int) -> np.ndarray:
        """Leads ``names``, samples a..b (clipped to the record), float32 mV; invalid samples are NaN."""
        a, b = max(0, int(a)), min(self.n_samples, int(b))
        raw = self._frames(a, b)
        out = np.empty((len(names), max(0, b - a)), np.float32)
        for k, name in enumerate(names):
            j = self.index(name)
            col = raw[:, j]
            # float64 then float32, as read_wfdb converts: a block equals the same samples read whole
            out[k] = (col.astype(np.float64) + (self._shift - self._base[j])) * self._scale[j]
            inv = self._invalid[j]
            if inv is not None:
                out[k][col == inv - self._shift] = np.nan
        del raw
        return out

    def _ludb_gain_trap(self, gains: np.ndarray) -> bool:
        """read_wfdb's LUDB check, over the whole file in passes (never the whole file in memory)."""
        names = self.leads
        if len(set(np.round(gains, 6))) < 2 or not all(x in names for x in ("I", "II", "III")):
            return False
        lo = np.full(self._n_sig, np.inf)
        hi = np.full(self._n_sig, -np.inf)
        raw_res = phys_res = 0.0
        ix = [names.index(x) for x in ("I", "II", "III")]
        for a in range(0, self.n_samples, SCAN_FRAMES):
            d = np.asarray(self._frames(a, min(self.n_samples, a + SCAN_FRAMES)), np.float64) + self._shift
            lo, hi = np.minimum(lo, d.min(axis=0)), np.maximum(hi, d.max(axis=0))
            i, ii, iii = (d[:, j] for j in ix)
            raw_res = max(raw_res, einthoven_residual(i, ii, iii))
            phys_res = max(phys_res, einthoven_residual(i / gains[ix[0]], ii / gains[ix[1]], iii / gains[ix[2]]))
        if self.n_samples > 1 and np.all(np.abs((hi - lo) / gains - 1.0) < 1e-3):
            return True
        return raw_res <= 2 and phys_res > 0.02


def open_wfdb_blocks(path: str | Path, *, trust_header_gains: bool = False) -> WfdbBlocks | None:
    """The record at ``path`` (.hea) read in blocks, or None when its layout needs a whole read."""
    path = Path(path)
    hdr = _parse_header(path)
    if not hdr.sig_name or not hdr.sig_len or hdr.sig_len <= 0:
        raise InputError("header gives zero samples", path)
    fmts = {str(f) for f in hdr.fmt or []}
    files = set(hdr.file_name or [])
    if len(files) != 1 or len(fmts) != 1 or next(iter(fmts)) not in _DTYPES:
        return None
    if any(hdr.skew or []) or len(set(hdr.byte_offset or [0])) > 1 or next(iter(files)).lower().endswith(".mat"):
        return None
    check_signal_files(hdr, path)  # inside the folder, a regular file: as the whole-file reader checks
    _check_dat_length(hdr, path)
    return WfdbBlocks(path, hdr, trust_header_gains=trust_header_gains)


def open_recording(path: str | Path, *, fs: float | None = None, layout=None) -> Any:
    """What the engine reads a file through: a WFDB record in blocks when it can be (a long recording never
    sits in memory whole), else the whole :class:`~ecgrecon.recording.Recording` from
    :func:`ecgrecon.io.read_recording` (other formats, packed WFDB formats, body surface maps)."""
    from . import read_recording

    p = Path(path)
    if p.suffix.lower() in (".dat", "") and p.with_suffix(".hea").exists():
        p = p.with_suffix(".hea")
    if p.suffix.lower() == ".hea" and layout is None and p.is_file():
        blocks = open_wfdb_blocks(p)
        if blocks is not None and not _is_bspm(blocks):
            if any(not n.strip() for n in blocks.leads):
                raise InputError("a channel has an empty label", p)
            return blocks
    return read_recording(path, fs=fs, layout=layout)


def _is_bspm(blocks: WfdbBlocks) -> bool:
    """Channels that are the electrodes of a body surface map (read whole: leads are derived from all of them)."""
    from .. import bspm

    return any(c.lower().startswith("bspm-layout") for c in blocks.meta.comments) \
        or bspm.detect_layout(blocks.leads) is not None


class BlockWriter(WfdbStreamWriter):
    """:class:`~ecgrecon.io.wfdb_io.WfdbStreamWriter` with the conversion to integers done in place in one
    float64 buffer: a day is 1,440 blocks of a minute, and the plain conversion cost a fifth of the network's
    time. Same integers as ``write_wfdb`` (half to even), so streamed and in-memory outputs are identical."""

    def write(self, block: np.ndarray) -> None:
        d = np.multiply(block, self.GAIN, dtype=np.float64)  # exact: a float32 times 1000 fits a float64
        np.rint(d, out=d)
        if d.size and -32767.0 <= d.min() and d.max() <= 32767.0:  # the usual block: finite, in range (NaN fails)
            frames = np.empty((d.shape[1], d.shape[0]), "<i2")
            frames[...] = d.T
            self._fh.write(frames)  # the array's own buffer: no bytes copy
            self.n += block.shape[1]
            return
        bad = ~np.isfinite(d)
        self.clipped += int(np.count_nonzero(d > 32767) + np.count_nonzero(d < -32767)) - int(np.isinf(d).sum())
        np.clip(d, -32768, 32767, out=d)
        d[bad] = -32768  # WFDB's "no sample", as for NaN and infinite values in the plain writer
        frames = np.empty((d.shape[1], d.shape[0]), "<i2")
        frames[...] = d.T
        self._fh.write(frames)  # the array's own buffer: no bytes copy
        self.n += block.shape[1]


def write_wfdb_blocks(rec: Recording, path: Path, block: int = 30_000) -> bool:
    """Write ``rec`` as ``write_wfdb`` would (same samples, roles and provenance lines), a block at a time, so
    an hour of twelve leads costs no more memory than its own samples (wfdb's writer holds four float64 and
    int64 copies). Returns False, writing nothing, when the range needs a gain below 1000/mV: then
    ``write_wfdb`` picks the gain."""
    from dataclasses import replace

    from .wfdb_io import _wfdb_names

    peak = 0.0
    for a in range(0, rec.n_samples, block):
        part = np.abs(rec.signals[:, a:a + block])
        part = part[np.isfinite(part)]
        peak = max(peak, float(part.max()) if part.size else 0.0)
    if peak >= 32.0:
        return False
    names = _wfdb_names(rec.leads)
    comments = [c for c in rec.meta.comments if not c.lstrip().startswith("ecgrecon-")]
    comments += [f"ecgrecon-{k}: {v}" for k, v in rec.meta.provenance.items()]
    comments += provenance.to_lines(replace(rec, leads=tuple(names)))
    w = BlockWriter(path, tuple(names), rec.fs, comments)
    try:
        for a in range(0, rec.n_samples, block):
            w.write(rec.signals[:, a:a + block])
    except BaseException:
        w.abort()
        raise
    w.close()
    return True
