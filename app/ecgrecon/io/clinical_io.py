"""Clinical and wearable ECG files through ecgdatakit (Apache-2.0): DICOM waveform, HL7 aECG, SCP-ECG,
GE MUSE XML, Philips Sierra XML, Mortara XML, ISHNE Holter, AliveCor Kardia JSON and MFER, recognised by
content (ecgdatakit's detection looks at the bytes, not only the name).

ecgdatakit returns leads in physical units; they are converted to mV once here. Roles and provenance that
ecgrecon wrote (DICOM private block, aECG annotations) are applied on top; other files' leads are "unknown".
"""

from __future__ import annotations

import warnings
from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..recording import Meta, Recording
from . import provenance
from .common import MAX_BYTES, canonical_names, check_fs, check_readable, check_size, unit_factor

SUFFIXES = {".dcm": "DICOM waveform", ".dicom": "DICOM waveform", ".xml": "XML ECG (HL7 aECG, GE MUSE, Philips "
            "Sierra, Mortara)", ".scp": "SCP-ECG", ".ecg": "ISHNE Holter", ".json": "AliveCor Kardia",
            ".mwf": "MFER", ".mfer": "MFER", ".mfr": "MFER"}
_NO_MAGIC = ("SCP-ECG", "AliveCor Kardia JSON", "MFER")
_MAGIC = (b"DICM", b"ISHNE1.0", b"ANN  1.0", b"<?xml", b"<AnnotatedECG", b"<restingecgdata", b"<RestingECG")


def looks_clinical(path: Path) -> bool:
    """Content check for files whose name says nothing (no or another extension)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
    except OSError:
        return False
    if head[128:132] == b"DICM" or any(head.lstrip().startswith(m) for m in _MAGIC[1:]):
        return True
    # SCP-ECG (a CRC, then sections), Kardia JSON and MFER have no magic word: ask ecgdatakit's content check
    if not head:
        return False
    try:
        import ecgdatakit as ek

        fmt = ek.FileParser.detect_format(path)
    except Exception:  # noqa: BLE001 - a file it cannot even look at is simply not recognised
        return False
    return fmt is not None and fmt["name"] in _NO_MAGIC


def read_clinical(path: Path) -> Recording:
    import ecgdatakit as ek

    check_readable(path)
    if path.stat().st_size > MAX_BYTES:
        raise InputError(f"file is {path.stat().st_size / 1e9:.1f} GB, over the {MAX_BYTES / 1e9:.1f} GB limit", path)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")  # parser warnings become Meta.warnings below, not stderr noise
        fmt = ek.FileParser.detect_format(path)
        if fmt is None:
            raise InputError("not a recognised ECG file (DICOM, HL7 aECG, SCP-ECG, GE MUSE, Philips Sierra, "
                             "ISHNE, AliveCor Kardia, MFER)", path)
        if "Sierra" in fmt["name"]:
            _xli_wraps_at_16_bits()
        try:
            rec = fmt["parser_class"]().parse(path)
        except ek.ECGDataKitError as e:
            raise InputError(f"cannot read this {fmt['name']} file ({' '.join(str(e).split())[:120]})", path) \
                from None
    leads = [lead for lead in rec.leads if lead.samples is not None and len(lead.samples)]
    if not leads:
        raise InputError(f"{fmt['name']} file holds no waveform samples", path)
    rate, _ = Counter(float(lead.sampling_rate) for lead in leads).most_common(1)[0]
    keep = [lead for lead in leads if float(lead.sampling_rate) == rate]
    warns = [f"dropped lead {lead.label!r}: sampled at {lead.sampling_rate} Hz, not {rate:g} Hz"
             for lead in leads if float(lead.sampling_rate) != rate]
    for w in said:  # what the parser noticed (a truncated Holter, a bad checksum ...), one line each, once
        line = " ".join(str(w.message).split())[:200]
        if issubclass(w.category, UserWarning) and line and line not in warns:
            warns.append(line)
    declared, held = (getattr(rec, "raw_metadata", None) or {}).get("ecg_size"), len(leads[0].samples)
    if "ISHNE" in fmt["name"] and isinstance(declared, int) and held < declared != held * len(rec.leads):
        warns.append(f"the ISHNE header declares {declared} samples per lead, the file holds {held}: "
                     "it may be truncated")
    fs = check_fs(rate, path)
    n = min(len(lead.samples) for lead in keep)
    if any(len(lead.samples) != n for lead in keep):
        warns.append(f"leads of different lengths cut to the shortest ({n} samples)")
    check_size(len(keep), n, path)
    rows, units = [], []
    for lead in keep:
        x = lead
        if getattr(lead, "is_raw", False):
            x = lead.to_physical()
        u = (x.units or "mV").strip()
        rows.append(np.asarray(x.samples[:n], dtype=np.float64) * unit_factor(u, path, lead.label))
        units.append(u)
    names = canonical_names([str(lead.label).strip() for lead in keep], path)
    if "Sierra" in fmt["name"]:
        cut = _philips_calibration_tail(rows, fs)
        if cut:
            rows = [r[:-cut] for r in rows]
            warns.append(f"dropped the last {cut / fs:g} s: the 1 mV calibration pulse Philips appends, not ECG")
    meta = Meta(record_id=path.stem, source=str(path), start_time=_start(rec), patient=_patient(rec),
                units_found=tuple(units), comments=tuple(_device_lines(rec, fmt["name"])), warnings=tuple(warns))
    out = Recording(np.asarray(rows, dtype=np.float32), fs, names, meta=meta)
    block = _ecgrecon_block(path, fmt["name"])
    if block:
        roles, prov = provenance.from_json(block, names)
        out = provenance.apply(out, roles, prov)
    return out


def _xli_wraps_at_16_bits() -> None:
    """Philips Sierra XLI waveforms are 16-bit samples coded as second differences (bitspersample=16).
    ecgdatakit 2.0.3 undoes the differences in unbounded integers, so a file whose coding relies on 16-bit
    wrap-around (pysierraecg's test file deid_3.xml, a real Cardiac Science export) fails with an int32
    overflow. The decoders of the format's authors keep 16 bits (sierraecg stores each value in int16);
    this does the same. Where nothing wraps the result is identical, so it is installed once, for good."""
    from ecgdatakit.parsing.codecs import xli

    if getattr(xli, "xli_decode_deltas", None) is None or getattr(xli.xli_decode_deltas, "_ecgrecon", False):
        return

    def decode_deltas(buffer, first):
        codes = xli.xli_unpack(buffer).astype(np.int64)
        if len(codes) < 2:
            return xli_original(buffer, first)  # the library's own error for a short chunk
        out = codes.tolist()
        x, y, last = out[0], out[1], int(first)
        for i in range(2, len(out)):
            z = ((2 * y - x - last + 32768) & 0xFFFF) - 32768
            last = out[i] - 64
            out[i], x, y = z, y, z
        return np.asarray(out, dtype=np.int32)

    xli_original = xli.xli_decode_deltas
    decode_deltas.__dict__.update(_ecgrecon=True, original=xli_original)  # marked as ours; the library's kept
    xli.xli_decode_deltas = decode_deltas


def _philips_calibration_tail(rows: list[np.ndarray], fs: float) -> int:
    """Philips Sierra 12-lead exports hold 11 s per channel: 10 s of ECG, then a second that carries a
    1 mV calibration pulse, the same square wave in every lead (BRAVEHEART crops the same 500 samples).
    Returns how many samples to drop: one second when every lead shows that pulse in its last second."""
    n, tail = len(rows[0]), int(round(fs))
    if len(rows) < 2 or n < 3 * tail:
        return 0
    last = np.asarray([r[n - tail:] for r in rows])
    same = np.ptp(last, axis=0) < 1e-6  # every lead equal at this sample
    pulse = same & (np.abs(last[0]) >= 0.5) & (np.abs(last[0]) <= 2.0)
    run = best = 0
    for flag in pulse:
        run = run + 1 if flag else 0
        best = max(best, run)
    return tail if best >= 0.05 * fs else 0


def _ecgrecon_block(path: Path, fmt_name: str) -> dict | None:
    if "DICOM" in fmt_name:
        from .dicom_io import ecgrecon_block

        return ecgrecon_block(path)
    if "aECG" in fmt_name:
        from .aecg_io import ecgrecon_block as aecg_block

        return aecg_block(path)
    return None


def _start(rec) -> datetime | None:
    d = getattr(getattr(rec, "recording", None), "date", None)
    return d if isinstance(d, datetime) else None


def _patient(rec) -> dict[str, str]:
    p = getattr(rec, "patient", None)
    out: dict[str, str] = {}
    if p is None:
        return out
    for key, attr in (("id", "patient_id"), ("sex", "sex"), ("age", "age")):
        v = getattr(p, attr, None)
        if v not in (None, ""):
            out[key] = str(v)
    return out


def _device_lines(rec, fmt_name: str) -> list[str]:
    lines = [f"format: {fmt_name} (read by ecgdatakit)"]
    r = getattr(rec, "recording", None)
    dev = getattr(r, "device", None)
    if dev is not None:
        parts = [str(getattr(dev, k)) for k in ("manufacturer", "model", "software_version")
                 if getattr(dev, k, None)]
        if parts:
            lines.append("device: " + " ".join(parts))
    filt = getattr(getattr(getattr(r, "acquisition", None), "filters", None), "__dict__", None)
    said = [f"{k} {v}" for k, v in (filt or {}).items() if v is not None]
    if said:
        lines.append("filters in the device: " + ", ".join(said))
    return lines
