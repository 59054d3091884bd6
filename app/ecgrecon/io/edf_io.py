"""EDF and EDF+ through edfio (maintained, pure Python)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..recording import Meta, Recording
from .common import atomic_write, canonical_names, check_fs, check_size, unit_factor


def read_edf(path: Path) -> Recording:
    import edfio

    try:
        edf = edfio.read_edf(path, lazy_load_data=True)
    except Exception as e:
        raise InputError(f"not a readable EDF file ({' '.join(str(e).split())[:160]})", path) from None
    sigs = [s for s in edf.signals if s.sampling_frequency > 0]
    if not sigs:
        raise InputError("EDF file holds no signals", path)
    # Keep the channels at the most common rate (ECG leads share one); others are named.
    rate, _ = Counter(s.sampling_frequency for s in sigs).most_common(1)[0]
    keep = [s for s in sigs if s.sampling_frequency == rate]
    dropped = [s.label for s in sigs if s.sampling_frequency != rate]
    fs = check_fs(rate, path)
    n = min(len(s.data) for s in keep) if keep else 0
    check_size(len(keep), n, path)
    rows, units, labels = [], [], []
    for s in keep:
        lab = s.label.strip()
        if lab.upper().startswith("ECG "):
            lab = lab[4:]
        u = s.physical_dimension.strip() or "mV"
        rows.append(np.asarray(s.data[:n], dtype=np.float64) * unit_factor(u, path, lab))
        units.append(u)
        labels.append(lab)
    warnings = tuple(f"dropped channel {d!r}: sampling rate differs from {rate:g} Hz" for d in dropped)
    start = None
    try:
        start = datetime.combine(edf.startdate, edf.starttime)
    except Exception:
        start = None
    patient: dict[str, str] = {}
    try:
        p = edf.patient
        if p.sex and p.sex != "X":
            patient["sex"] = p.sex
        if p.name and p.name != "X":
            patient["name"] = p.name.replace("_", " ")
    except Exception:
        pass
    meta = Meta(record_id=path.stem, source=str(path), start_time=start, patient=patient,
                units_found=tuple(units), warnings=warnings)
    return Recording(np.asarray(rows, dtype=np.float32), fs, canonical_names(labels, path), meta=meta)


def write_edf(rec: Recording, path: Path) -> None:
    import edfio

    signals = []
    for name, x in zip(rec.leads, rec.signals, strict=True):
        x = np.nan_to_num(x.astype(np.float64))
        lo, hi = float(np.min(x)), float(np.max(x))
        if hi - lo < 1e-3:
            lo, hi = lo - 1.0, hi + 1.0
        signals.append(edfio.EdfSignal(x, sampling_frequency=rec.fs, label=name, physical_dimension="mV",
                                       physical_range=(lo, hi)))
    # EDF needs whole data records: pad to a multiple of 1 s is avoided by one record of the full length
    edf = edfio.Edf(signals, data_record_duration=rec.duration)
    atomic_write(path, lambda tmp: edf.write(tmp))
