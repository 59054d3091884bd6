"""EDF and EDF+ through edfio (maintained, pure Python)."""

from __future__ import annotations

import unicodedata
import warnings
from collections import Counter
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..recording import Meta, Recording
from . import provenance
from .common import UNIT_TO_MV, atomic_write, canonical_names, check_fs, check_size, unit_factor


def read_edf(path: Path) -> Recording:
    import edfio

    try:
        with warnings.catch_warnings(record=True) as caught:  # e.g. truncated file: say so in Meta, not on stderr
            warnings.simplefilter("always")
            edf = edfio.read_edf(path, lazy_load_data=True)
    except MemoryError:
        raise  # read_recording says "not enough memory"
    except Exception as e:
        why = "".join(c if c.isprintable() else "?" for c in " ".join(str(e).split()))[:160]
        raise InputError(f"not a readable EDF file ({why})", path) from None
    sigs = [s for s in edf.signals if s.sampling_frequency > 0]
    if not sigs:
        raise InputError("EDF file holds no signals", path)
    # Polysomnography files mix ECG with SpO2 (%), position, temperature...: keep the voltages.
    volts = [s for s in sigs if (s.physical_dimension.strip() or "mV").lower() in UNIT_TO_MV]
    if not volts:
        found = sorted({s.physical_dimension.strip() for s in sigs})
        raise InputError(f"EDF file holds no voltage signals (units {', '.join(map(repr, found))}); "
                         "expected uV, mV or V", path)
    not_volts = [f"dropped channel {s.label.strip()!r}: unit {s.physical_dimension.strip()!r} is not a voltage"
                 for s in sigs if all(s is not v for v in volts)]
    sigs = volts
    # Keep the channels at the most common rate (ECG leads share one); others are named.
    rate, _ = Counter(s.sampling_frequency for s in sigs).most_common(1)[0]
    keep = [s for s in sigs if s.sampling_frequency == rate]
    dropped = [s.label for s in sigs if s.sampling_frequency != rate]
    fs = check_fs(rate, path)
    try:  # from the header: touching .data would read the whole file before the size check
        n = min(edf.num_data_records * s.samples_per_data_record for s in keep)
    except Exception:
        n = min(len(s.data) for s in keep)
    check_size(len(keep), n, path)
    n = min(n, _stored_length(edf, n, fs))
    rows, units, labels = [], [], []
    for s in keep:
        lab = s.label.strip()
        if lab.upper().startswith("ECG ") and not lab[4:].strip().isdigit():
            lab = lab[4:]  # "ECG V1" -> "V1", but "ECG 1" is channel 1, not lead I
        u = s.physical_dimension.strip() or "mV"
        rows.append(np.asarray(s.data[:n], dtype=np.float64) * unit_factor(u, path, lab))
        units.append(u)
        labels.append(lab)
    warns = tuple(not_volts) + tuple(f"dropped channel {d!r}: sampling rate differs from {rate:g} Hz"
                                        for d in dropped)
    warns += tuple(" ".join(str(w.message).split()) for w in caught)
    if edf.reserved.strip().upper().startswith("EDF+D"):
        warns += ("EDF+D file (discontinuous): its data records were joined end to end, so times after "
                     "the first gap are early",)
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
                units_found=tuple(units), warnings=warns)
    names = canonical_names(labels, path)
    rec = Recording(np.asarray(rows, dtype=np.float32), fs, names, meta=meta)
    try:
        texts = [a.text for a in edf.annotations if a.text.startswith("ecgrecon-")]
    except Exception:  # noqa: BLE001 - annotations are optional; a damaged list is ignored, not fatal
        texts = []
    # EDF labels were shortened to 16 characters; the role lines use the labels as written
    roles, prov = provenance.from_lines(texts, tuple(labels))
    return provenance.apply(rec, roles, prov)


def _stored_length(edf, n: int, fs: float) -> int:
    """True length written by :func:`write_edf` when it had to pad the last data record. The tag is honoured
    only where the writer would have written it: a length whose duration is not exact, padded to whole
    records of the writer's record duration, giving exactly the ``n`` samples stored. Any other tag (a
    damaged or hostile file: "7" or "0" on a 5000-sample file) is ignored."""
    try:
        for a in edf.annotations:
            parts = a.text.split()
            if len(parts) == 2 and parts[0] == _LENGTH_TAG and parts[1].isdigit():
                m = int(parts[1])
                if not 0 < m < n or _exact_duration(m, fs) is not None:
                    return n
                spr = int(round(fs * _record_duration(fs, Path("."))))
                return m if m + (-m % spr) == n else n
    except Exception:  # noqa: BLE001 - no usable tag: the samples as stored
        pass
    return n


def write_edf(rec: Recording, path: Path) -> None:
    import edfio

    # EDF needs whole data records whose duration fits an 8-character field. One record of
    # the full length when that duration is exact; otherwise whole records of a short exact
    # duration, the last one padded with the last sample, and the true length in an EDF+
    # annotation that :func:`read_edf` honours.
    n = rec.n_samples
    dur = _exact_duration(n, rec.fs)
    pad, annotations = 0, []
    if dur is None:
        dur = _record_duration(rec.fs, path)
        pad = -n % int(round(rec.fs * dur))
        if pad:
            annotations.append(edfio.EdfAnnotation(0.0, None, f"{_LENGTH_TAG} {n}"))
    # roles and provenance as EDF+ annotations at 0 s, keyed by the labels as written
    labelled = replace(rec, leads=tuple(_edf_labels(rec.leads)))
    annotations += [edfio.EdfAnnotation(0.0, None, line) for line in provenance.to_lines(labelled)]
    signals = []
    for name, x in zip(_edf_labels(rec.leads), rec.signals, strict=True):
        x = np.nan_to_num(x.astype(np.float64))
        if pad:
            x = np.concatenate([x, np.full(pad, x[-1])])
        lo, hi = float(np.min(x)), float(np.max(x))
        if hi - lo < 1e-3:
            lo, hi = lo - 1.0, hi + 1.0
        signals.append(edfio.EdfSignal(x, sampling_frequency=rec.fs, label=name, physical_dimension="mV",
                                       physical_range=(lo, hi)))
    edf = edfio.Edf(signals, data_record_duration=dur, annotations=annotations or None)
    atomic_write(path, lambda tmp: edf.write(tmp))


_LENGTH_TAG = "ecgrecon-n-samples"


def _edf_labels(leads: tuple[str, ...]) -> list[str]:
    """EDF labels are at most 16 printable ASCII characters: transliterate, shorten, keep unique."""
    out: list[str] = []
    for k, name in enumerate(leads):
        lab = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
        lab = "".join(c if c.isprintable() else "_" for c in lab).strip()[:16] or f"ch{k + 1}"
        if lab in out:
            tag = f"#{k}"
            lab = lab[: 16 - len(tag)] + tag
        out.append(lab)
    return out


def _fits(x: float) -> bool:
    s = str(int(x)) if float(x).is_integer() else str(x)
    return len(s) <= 8 and float(s) == x


def _exact_duration(n: int, fs: float) -> float | None:
    d = n / fs
    return d if _fits(d) and d * fs == n else None


def _record_duration(fs: float, path: Path) -> float:
    for d in (1.0, 2.0, 4.0, 5.0, 10.0, 20.0, 40.0, 50.0, 100.0, 0.5, 0.2, 0.1):
        spr = fs * d
        if abs(spr - round(spr)) < 1e-9 and 0 < round(spr) < 10**8:
            return d
    raise InputError(f"EDF cannot store a sampling rate of {fs:g} Hz (no whole number of samples per record)",
                     path)
