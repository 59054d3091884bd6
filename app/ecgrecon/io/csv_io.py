"""CSV: a header row of lead names, optionally a time column, then numbers."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..recording import Meta, Recording, Role
from . import provenance
from .common import atomic_write, canonical_names, check_fs, check_size, unit_factor

CSV_MAX_BYTES = 1_000_000_000  # text parsing needs ~10x the file in memory
_TIME_COLS = {"time": 1.0, "t": 1.0, "time_s": 1.0, "seconds": 1.0, "sec": 1.0, "s": 1.0,
              "time_ms": 1e-3, "ms": 1e-3, "t_ms": 1e-3}
_INDEX_COLS = {"", "index", "idx", "sample", "samples", "sample #", "sample#", "sample_index", "unnamed: 0", "n"}
_ROLE_TAG = re.compile(r"^(.*\S)\s+(measured|derived|reconstructed)$")
_UNIT_RE = re.compile(r"^(.*?)\s*[\[(]\s*([^\])]+?)\s*[\])]\s*$")


def read_csv(path: Path, *, fs: float | None = None, units: str | None = None) -> Recording:
    size = path.stat().st_size
    if size > CSV_MAX_BYTES:
        raise InputError(f"CSV file is {size / 1e9:.1f} GB, over the {CSV_MAX_BYTES / 1e9:.0f} GB limit; "
                         "convert it to WFDB or EDF first", path)
    with path.open("rb") as fh:
        bom = fh.read(2)
    first = "utf-16" if bom in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"  # Excel "Unicode text" is UTF-16
    try:
        header, values = _parse(path, first)
    except csv.Error as e:
        raise InputError(f"not a readable CSV ({' '.join(str(e).split())[:120]})", path) from None
    except UnicodeDecodeError:
        try:  # spreadsheet exports on Windows: "II (\xb5V)" in cp1252
            header, values = _parse(path, "cp1252")
        except csv.Error as e:
            raise InputError(f"not a readable CSV ({' '.join(str(e).split())[:120]})", path) from None
        except UnicodeDecodeError:
            raise InputError("CSV is neither UTF-8 nor Windows-1252 text", path) from None
    if not values:
        raise InputError("CSV has a header but no samples", path)
    data = np.asarray(values, dtype=np.float64)
    cols = list(header)
    tcol = next((i for i, h in enumerate(cols) if _split_unit(h)[0].lower() in _TIME_COLS), None)
    if tcol is not None:
        tname, tunit = _split_unit(cols[tcol])
        scale = _TIME_COLS[tname.lower()]
        if tunit and tunit.lower() in ("ms",):
            scale = 1e-3
        t = data[:, tcol] * scale
        dt = np.diff(t)
        if t.size < 2 or np.any(dt <= 0):
            raise InputError("time column must increase strictly", path)
        med = float(np.median(dt))
        if np.max(np.abs(dt - med)) > 0.01 * med + 1e-9:
            raise InputError("time column is not evenly spaced; resample the file first", path)
        # rate from the whole span, not one rounded step; snap to a rate with few decimals
        # when the time stamps' rounding explains the difference (257.5 Hz written as 0.003883 s)
        fs_t = (t.size - 1) / (t[-1] - t[0])
        nice = round(fs_t, 3)
        if abs(nice - fs_t) <= 1e-6 * fs_t + 1e-9 / (t[-1] - t[0]) * fs_t:
            fs_t = nice
        if fs_t < 20 and scale == 1.0:
            raise InputError(f"time column {cols[tcol]!r} gives {fs_t:g} Hz, too slow for an ECG; if it counts "
                             "milliseconds, name it time_ms or 'time (ms)'", path)
        if fs is not None and abs(fs - fs_t) > 0.01 * fs_t:
            raise InputError(f"--fs {fs:g} disagrees with the time column ({fs_t:g} Hz)", path)
        fs = fs_t
        data = np.delete(data, tcol, axis=1)
        del cols[tcol]
    # a sample-number column (pandas' unnamed index, "sample", "index") is not a lead
    for k in [k for k, c in enumerate(cols) if c.strip().lower() in _INDEX_COLS][:1]:
        col = data[:, k]
        if np.all(np.diff(col) == 1) and col[0] in (0, 1):
            data = np.delete(data, k, axis=1)
            del cols[k]
    if fs is None:
        raise InputError("CSV has no time column; give the sampling rate (--fs)", path)
    fs = check_fs(fs, path)
    if not cols:
        raise InputError("CSV has no signal columns", path)
    names, found_units = [], []
    factors = []
    col_roles: list[Role] = []
    for c in cols:
        nm, u = _split_unit(c)
        u = u or units or "mV"
        m = _ROLE_TAG.match(nm)  # "V1 reconstructed (mV)", as write_csv labels a column
        if m:
            nm = m.group(1)
        col_roles.append(Role(m.group(2)) if m else Role.UNKNOWN)
        names.append(nm)
        found_units.append(u)
        factors.append(unit_factor(u, path, nm))
    check_size(len(cols), data.shape[0], path)
    mv = data * np.asarray(factors)
    mv[~np.isfinite(mv)] = np.nan  # "inf" in a cell is a missing sample, like "NaN"
    # a value past float32's range (1e39 mV) becomes inf here, and read_recording refuses it as an overflow
    # rather than passing it off as a missing sample
    sig = mv.T.astype(np.float32)
    meta = Meta(record_id=path.stem, source=str(path), units_found=tuple(found_units))
    leads = canonical_names(names, path)
    rec = Recording(sig, fs, leads, meta=meta)
    roles = tuple(col_roles) if any(r != Role.UNKNOWN for r in col_roles) else None
    prov = None
    side = sidecar_of(path)
    if side.is_file() and side.stat().st_size < 1_000_000:
        try:
            s_roles, prov = provenance.from_json(json.loads(side.read_text()), leads)
            roles = roles or s_roles
        except (OSError, ValueError):
            pass
    return provenance.apply(rec, roles, prov)


def sidecar_of(path: Path) -> Path:
    """``rec.csv`` -> ``rec.csv.ecgrecon.json``: roles and provenance, which a CSV cell cannot hold."""
    return path.with_name(path.name + ".ecgrecon.json")


def _parse(path: Path, encoding: str) -> tuple[list[str], list[list[float]]]:
    with path.open(newline="", encoding=encoding) as fh:
        sample = fh.read(4096)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        # with ';' or tab between fields a comma can only be a decimal comma (0,25)
        decimal_comma = dialect.delimiter in (";", "\t")
        rows = csv.reader(fh, dialect)
        header = next(rows, None)
        if not header or not any(h.strip() for h in header):
            raise InputError("CSV has no header row of lead names", path)
        header = [h.strip() for h in header]
        if all(_is_number(h) for h in header):
            raise InputError("CSV first row holds numbers; it must name the leads (e.g. I,II,V1)", path)
        values = []
        for lineno, row in enumerate(rows, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise InputError(f"ragged CSV: line {lineno} has {len(row)} fields, header has {len(header)}", path)
            if decimal_comma:
                row = [c.replace(",", ".") for c in row]
            try:
                values.append([float(c) for c in row])
            except ValueError:
                bad = next(c for c in row if not _is_number(c))
                raise InputError(f"line {lineno}: {bad!r} is not a number", path) from None
    return header, values


def write_csv(rec: Recording, path: Path) -> None:
    """time_s (1 ns resolution) then one column per lead in mV (1 nV resolution); a known role goes into the
    column name ("V1 reconstructed (mV)"), roles and provenance into the ``.ecgrecon.json`` sidecar."""
    header = ["time_s"] + [f"{n} (mV)" if r == Role.UNKNOWN else f"{n} {r.value} (mV)"
                           for n, r in zip(rec.leads, rec.roles, strict=True)]
    if rec.meta.reconstruction is not None or any(r != Role.UNKNOWN for r in rec.roles):
        text = json.dumps(provenance.to_json(rec), indent=1)

        def _side(tmp: Path) -> None:
            tmp.write_text(text)

        atomic_write(sidecar_of(path), _side)
    data = np.column_stack([rec.time, rec.signals.T.astype(np.float64)])

    def _write(tmp: Path) -> None:
        with tmp.open("w", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerow(header)  # quotes names holding commas
            np.savetxt(fh, data, delimiter=",", fmt=["%.9f"] + ["%.6f"] * len(rec.leads))

    atomic_write(path, _write)


def _split_unit(col: str) -> tuple[str, str | None]:
    m = _UNIT_RE.match(col)
    return (m.group(1).strip(), m.group(2).strip()) if m else (col.strip(), None)


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False
