"""Signal quality checks that users see (``ecgrecon info``, viewer status bar)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .leads import einthoven_residual
from .recording import Recording


@dataclass(frozen=True)
class QualityIssue:
    lead: str  # "" when it concerns the record
    kind: str  # nan | flat | saturated | einthoven
    message: str


def check_quality(rec: Recording) -> list[QualityIssue]:
    out: list[QualityIssue] = []
    for name, x in zip(rec.leads, rec.signals, strict=True):
        nan = int(np.count_nonzero(~np.isfinite(x)))
        if nan:
            first = int(np.argmax(~np.isfinite(x))) / rec.fs
            out.append(QualityIssue(name, "nan", f"{name}: {nan} missing (NaN) samples, first at {first:.2f} s"))
        good = x[np.isfinite(x)]
        if good.size == 0:
            continue
        if float(np.ptp(good)) < 0.01:  # < 10 uV p-p: no cardiac signal
            out.append(QualityIssue(name, "flat", f"{name}: flat line ({np.ptp(good) * 1000:.1f} uV peak-to-peak)"))
            continue
        hi, lo = float(good.max()), float(good.min())
        frac = max(np.mean(good == hi), np.mean(good == lo))
        if frac > 0.01 and good.size > 100:
            level = hi if np.mean(good == hi) >= np.mean(good == lo) else lo
            out.append(QualityIssue(name, "saturated",
                                    f"{name}: clipped at {level:.3f} mV in {frac * 100:.1f}% of samples"))
    if rec.has("I", "II", "III"):
        r = einthoven_residual(rec.lead("I"), rec.lead("II"), rec.lead("III"))
        if r > 0.02:
            out.append(QualityIssue("III", "einthoven",
                                    f"III differs from II - I by up to {r * 1000:.0f} uV (Einthoven's law); "
                                    "check lead placement or header gains"))
    return out


def einthoven_report(rec: Recording) -> float | None:
    """Max |III - (II - I)| in uV, or None when the three leads are not all there."""
    if not rec.has("I", "II", "III"):
        return None
    i, ii, iii = rec.lead("I"), rec.lead("II"), rec.lead("III")
    if not np.any(np.isfinite(i) & np.isfinite(ii) & np.isfinite(iii)):
        return None  # no instant with all three: nothing was checked, so claim nothing
    return einthoven_residual(i, ii, iii) * 1000.0
