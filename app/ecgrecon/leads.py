"""Lead names and lead algebra (Einthoven and Goldberger).

All functions take and return millivolts; the identities are linear so units
only need to agree.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

LIMB = ("I", "II", "III", "aVR", "aVL", "aVF")
PRECORDIAL = ("V1", "V2", "V3", "V4", "V5", "V6")
STANDARD_12 = LIMB + PRECORDIAL
CABRERA_12 = ("aVL", "I", "-aVR", "II", "aVF", "III") + PRECORDIAL
FRANK = ("X", "Y", "Z")

_ROMAN = {"1": "I", "2": "II", "3": "III", "i": "I", "ii": "II", "iii": "III"}


def canonical_lead(name: str) -> str:
    """Map the spellings real files use to canonical names; unknown names are kept.

    >>> [canonical_lead(n) for n in ["i", "DII", "lead III", "MLII", "AVR", "c1", "v6"]]
    ['I', 'II', 'III', 'II', 'aVR', 'V1', 'V6']
    """
    raw = str(name).strip()
    s = re.sub(r"^(lead|ecg|ekg)[\s_\-.:]*", "", raw.lower())
    s = s.replace(" ", "").replace("_", "").replace(".", "")
    # Holter "modified limb" leads (MLII) and European D-notation (DI, DII, D1). A bare number is
    # a channel number ("ECG1", "ECG 2" on Holters and EDF files, "1" in CSV), not lead I or II,
    # unless it says "lead 1".
    m = (re.fullmatch(r"(?:ml|d)?(i{1,3})", s) or re.fullmatch(r"(?:ml|d)([123])", s)
         or (re.match(r"lead", raw.lower()) and re.fullmatch(r"([123])", s)))
    if m:
        return _ROMAN[m.group(1)]
    if s == "-avr":
        return "-aVR"
    m = re.fullmatch(r"a?v([rlf])", s)
    if m:
        return {"r": "aVR", "l": "aVL", "f": "aVF"}[m.group(1)]
    m = re.fullmatch(r"(?:v|c|mv)([1-6])", s)
    if m:
        return f"V{m.group(1)}"
    m = re.fullmatch(r"v?([xyz])", s)
    if m:
        return m.group(1).upper()
    return raw


def limb_from_i_ii(lead_i: np.ndarray, lead_ii: np.ndarray) -> dict[str, np.ndarray]:
    """All six limb leads from I and II (exact)."""
    i = np.asarray(lead_i)
    ii = np.asarray(lead_ii)
    return {
        "I": i,
        "II": ii,
        "III": ii - i,
        "aVR": -(i + ii) / 2,
        "aVL": i - ii / 2,
        "aVF": ii - i / 2,
    }


# Each limb lead as a combination (a, b) of I and II: lead = a*I + b*II.
_LIMB_COEF = {
    "I": (1.0, 0.0),
    "II": (0.0, 1.0),
    "III": (-1.0, 1.0),
    "aVR": (-0.5, -0.5),
    "aVL": (1.0, -0.5),
    "aVF": (-0.5, 1.0),
}


def i_ii_from_pair(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Recover I and II from any two independent limb leads (exact)."""
    m = np.array([_LIMB_COEF[name_a], _LIMB_COEF[name_b]])
    det = np.linalg.det(m)
    if abs(det) < 1e-9:
        raise ValueError(f"limb leads {name_a} and {name_b} are not independent")
    inv = np.linalg.inv(m)
    lead_i = inv[0, 0] * np.asarray(a) + inv[0, 1] * np.asarray(b)
    lead_ii = inv[1, 0] * np.asarray(a) + inv[1, 1] * np.asarray(b)
    return lead_i, lead_ii


# Electrode space for exact lead algebra: the nine standard electrodes; a lead is a vector over them.
_ELECTRODES = ("RA", "LA", "LL", "V1", "V2", "V3", "V4", "V5", "V6")


def _electrode_vector(name: str) -> np.ndarray | None:
    """A lead as a combination of electrode potentials: standard leads, or a bipolar pair 'A-B' of
    standard electrodes (RA, LA, LL, V1..V6; e.g. LA-RA is I). None for anything else."""
    e = {n: i for i, n in enumerate(_ELECTRODES)}
    v = np.zeros(len(_ELECTRODES))
    wct = np.zeros(len(_ELECTRODES))
    wct[:3] = 1 / 3
    ra, la, ll = (np.eye(len(_ELECTRODES))[e[n]] for n in ("RA", "LA", "LL"))
    std = {"I": la - ra, "II": ll - ra, "III": ll - la, "aVR": ra - (la + ll) / 2, "aVL": la - (ra + ll) / 2,
           "aVF": ll - (ra + la) / 2}
    if name in std:
        return std[name]
    if name in PRECORDIAL:
        v[e[name]] = 1.0
        return v - wct
    if "-" in name[1:]:
        a, b = name.split("-", 1)
        if a in e and b in e:
            v[e[a]] += 1.0
            v[e[b]] -= 1.0
            return v
    return None


def exact_combinations(inputs: list[str] | tuple[str, ...]) -> dict[str, np.ndarray]:
    """See :func:`_exact_combinations` (cached per input set: every reconstruction asks)."""
    return dict(_exact_combinations(tuple(inputs)))


@lru_cache(maxsize=256)
def _exact_combinations(inputs: tuple[str, ...]) -> tuple[tuple[str, np.ndarray], ...]:
    """Standard leads (not among the inputs) that follow exactly from the inputs, each as coefficients
    over the inputs: lead = sum_k c_k input_k.

    Inputs may be standard leads or bipolar pairs of standard electrodes, so LA-RA, LL-RA, V2-RA give
    I, II, III, aVR, aVL, aVF and V2 (= V2-RA - (I + II)/3) exactly. Precordial leads never follow from
    limb leads alone.
    """
    vecs = [_electrode_vector(n) for n in inputs]
    known = [(k, v) for k, v in enumerate(vecs) if v is not None]
    if not known:
        return ()
    B = np.stack([v for _, v in known], axis=1)  # electrodes x known inputs
    out = {}
    for lead in STANDARD_12:
        if lead in inputs:
            continue
        t = _electrode_vector(lead)
        assert t is not None  # every standard lead has an electrode vector
        c, *_ = np.linalg.lstsq(B, t, rcond=None)
        if np.max(np.abs(B @ c - t)) < 1e-9:
            full = np.zeros(len(inputs))
            for (k, _), ck in zip(known, c, strict=True):
                full[k] = 0.0 if abs(ck) < 1e-12 else ck
            full.setflags(write=False)
            out[lead] = full
    return tuple(out.items())


def exact_consequences(inputs: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Standard leads (not inputs) that follow exactly from the given inputs (see :func:`exact_combinations`)."""
    return tuple(exact_combinations(inputs))


def einthoven_residual(lead_i: np.ndarray, lead_ii: np.ndarray, lead_iii: np.ndarray) -> float:
    """Max |III - (II - I)| in the input's units."""
    r = np.asarray(lead_iii, float) - (np.asarray(lead_ii, float) - np.asarray(lead_i, float))
    r = r[np.isfinite(r)]
    return float(np.max(np.abs(r))) if r.size else 0.0


def complete_limb_leads(signals: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Fill in missing limb leads from any two independent ones present."""
    present = [n for n in LIMB if n in signals]
    if len(present) == len(LIMB):
        return dict(signals)  # nothing to fill (every block of a reconstruction from I and II)
    for x in range(len(present)):
        for y in range(x + 1, len(present)):
            a, b = present[x], present[y]
            m = np.array([_LIMB_COEF[a], _LIMB_COEF[b]])
            if abs(np.linalg.det(m)) > 1e-9:
                i, ii = i_ii_from_pair(a, signals[a], b, signals[b])
                full = limb_from_i_ii(i, ii)
                out = dict(signals)
                for n in LIMB:
                    out.setdefault(n, full[n])
                return out
    return dict(signals)
