"""Clinical measurements: heart rate, intervals, axes, ST levels and voltages (Qt-free).

    measure(recording) -> Measurements      (one 12-lead or fewer-lead recording)
    agreement(truth, reconstruction) -> dict (differences, same keys)

Beats are found by neurokit2 (cleaning + R peaks, MIT). What a clinical measurement program
reports, and what IEC 60601-2-25 tests, are *global* intervals from the multi-lead median beat
(onsets at the earliest lead, offsets at the latest). neurokit2's delineators are single-lead and
beat-by-beat, and the multi-lead delineators we found (ecgpuwave, wavedet) are GPL, so the global
delineation of the median beats is ours:

- QRS onset/offset where the spatial velocity of the independent leads (I, II, V1-V6) rises above /
  falls below a fraction of its QRS peak;
- T end by the tangent method on the root-mean-square T wave of all leads;
- P onset/offset by a threshold on the RMS P wave; a P wave is reported only when the individual
  beats agree with it (atrial fibrillation, flutter and junctional rhythms give ``None`` with the reason).

Missing waves are ``None`` with a reason, never a guess. Units: ms, bpm, degrees, uV.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from .conditioning import _butter, _filtfilt_sos
from .leads import LIMB, STANDARD_12
from .recording import Recording, Role

GLOBAL_KEYS = ("heart_rate_bpm", "rr_ms", "p_ms", "pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms",
               "qtc_fridericia_ms", "p_axis_deg", "qrs_axis_deg", "t_axis_deg")
LEAD_KEYS = ("st_j_uv", "st_j60_uv", "r_uv", "s_uv")
VOLTAGE_KEYS = ("sokolow_lyon_uv", "cornell_uv")
UNITS = {"heart_rate_bpm": "bpm", "rr_ms": "ms", "p_ms": "ms", "pr_ms": "ms", "qrs_ms": "ms", "qt_ms": "ms",
         "qtc_bazett_ms": "ms", "qtc_fridericia_ms": "ms", "p_axis_deg": "deg", "qrs_axis_deg": "deg",
         "t_axis_deg": "deg", "st_j_uv": "uV", "st_j60_uv": "uV", "r_uv": "uV", "s_uv": "uV",
         "sokolow_lyon_uv": "uV", "cornell_uv": "uV"}
LABELS = {"heart_rate_bpm": "Heart rate", "rr_ms": "RR", "p_ms": "P duration", "pr_ms": "PR", "qrs_ms": "QRS",
          "qt_ms": "QT", "qtc_bazett_ms": "QTc (Bazett)", "qtc_fridericia_ms": "QTc (Fridericia)",
          "p_axis_deg": "P axis", "qrs_axis_deg": "QRS axis", "t_axis_deg": "T axis",
          "sokolow_lyon_uv": "Sokolow-Lyon", "cornell_uv": "Cornell", "st_j_uv": "ST at J", "st_j60_uv": "ST J+60",
          "r_uv": "R", "s_uv": "S depth"}
# The leads each global figure is computed from (for "depends on reconstructed leads")
INDEPENDENT = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")
VOLTAGE_LEADS = {"sokolow_lyon_uv": ("V1", "V5", "V6"), "cornell_uv": ("aVL", "V3")}
_AUG = math.sqrt(3) / 2  # an augmented limb lead sees the frontal vector at sqrt(3)/2 of a bipolar lead
LIMB_GEOMETRY = {"I": (0.0, 1.0), "II": (60.0, 1.0), "III": (120.0, 1.0), "aVR": (-150.0, _AUG),
                 "aVL": (-30.0, _AUG), "aVF": (90.0, _AUG)}

# Delineation constants (tuned on the LUDB development subjects only; docs/measurements.md)
QRS_LOWPASS_HZ = 100.0
AMP_LOWPASS_HZ = 150.0
QRS_SMOOTH_S = 0.004
QRS_FRACTION = 0.05  # QRS edges: spatial velocity at this fraction of its QRS peak
P_FRACTION = 0.10  # P edges: RMS P wave at this fraction of its peak above the PR level
P_MIN_UV = 15.0  # an RMS P wave smaller than this is not a P wave
P_MIN_CONSISTENCY = 0.5  # median correlation of the beats' P segments with the median P wave
MIN_BEATS = 3


@dataclass(frozen=True)
class Fiducials:
    """Global fiducial points of the median beat, ms relative to its R peak (None: not found)."""

    p_on: float | None
    p_off: float | None
    qrs_on: float | None
    qrs_off: float | None
    t_off: float | None


@dataclass(frozen=True)
class Measurements:
    values: dict[str, float | None]  # the GLOBAL_KEYS
    leads: dict[str, dict[str, float | None]]  # lead -> LEAD_KEYS
    voltages: dict[str, float | None]  # VOLTAGE_KEYS
    reasons: dict[str, str]  # "global.pr_ms" -> why it is None
    fiducials: Fiducials | None
    n_beats: int  # R peaks found
    beats_used: int  # regular beats in the median beat
    roles: dict[str, str] = field(default_factory=dict)  # lead -> role of the measured signal
    notes: tuple[str, ...] = ()
    median_beats: np.ndarray | None = field(default=None, repr=False, compare=False)  # leads x samples, mV
    median_fs: float = 0.0
    median_r_index: int = 0
    beat_samples: tuple[int, ...] = ()  # R peak sample of every beat in the median beat

    def dependent_on_reconstructed(self) -> dict[str, bool]:
        """Which figures use a reconstructed lead (``global.*``, ``leads.<n>.*``, ``voltages.*``)."""
        rec = {n for n, r in self.roles.items() if r == Role.RECONSTRUCTED.value}
        used = set(self.leads)
        out = {}
        limb = [n for n in LIMB if n in used]
        for k in GLOBAL_KEYS:
            # beats are timed on recorded leads when there are any (_detection_leads)
            src = ([] if k in ("heart_rate_bpm", "rr_ms") and len(rec) < len(used)
                   else limb if k.endswith("_axis_deg") else list(used))
            out[f"global.{k}"] = any(n in rec for n in src)
        for n in self.leads:
            out[f"leads.{n}"] = n in rec
        for k, vsrc in VOLTAGE_LEADS.items():
            out[f"voltages.{k}"] = any(n in rec for n in vsrc)
        return out

    def to_json(self) -> dict:
        return {"global": dict(self.values), "leads": {n: dict(v) for n, v in self.leads.items()},
                "voltages": dict(self.voltages), "reasons": dict(self.reasons),
                "fiducials_ms_from_r": None if self.fiducials is None else self.fiducials.__dict__.copy(),
                "beats": {"detected": self.n_beats, "in_median_beat": self.beats_used},
                "roles": dict(self.roles), "notes": list(self.notes),
                "depends_on_reconstructed": self.dependent_on_reconstructed(),
                "units": UNITS, "method": METHOD}


METHOD = ("R peaks: neurokit2 (ecg_clean + ecg_peaks); median beat of the regular beats; global delineation on "
          "the median beats (QRS by spatial velocity, T end by the tangent method on the RMS T wave, P by the RMS P "
          "wave with a beat-consistency check); ST at J and J+60 ms against the PR segment; axes from the net "
          "areas in the limb leads; ecgrecon.measurements")


def _null(reasons: dict, key: str, why: str) -> None:
    reasons.setdefault(key, why)


def _detection_leads(names: list[str], x: np.ndarray, roles: dict[str, str], k: int = 5) -> list[int]:
    """The ``k`` leads whose QRS stands out most from the rest of the signal, recorded leads first: beat
    timing should not depend on a model's output when a measured lead carries it."""
    pool = [i for i, n in enumerate(names) if roles.get(n) != Role.RECONSTRUCTED.value] or list(range(len(names)))
    scores = []
    for i in pool:
        d = np.abs(np.diff(x[i]))
        scores.append(float(np.percentile(d, 99.5) / (np.median(d) + 1e-6)))
    return [pool[j] for j in np.argsort(scores)[::-1][:k]]


def _vote_peaks(raw: np.ndarray, fs: float, leads: list[int]) -> tuple[int, np.ndarray]:
    """R peaks from each candidate lead; keep the lead whose beat count is the median (a lead that misses or
    doubles beats is outvoted)."""
    found = [(i, r_peaks(raw[i], fs)) for i in leads]
    counts = sorted(p.size for _, p in found)
    target = counts[len(counts) // 2]
    return next((i, p) for i, p in found if p.size == target)


def r_peaks(sig: np.ndarray, fs: float) -> np.ndarray:
    """R peak sample indices of one lead (neurokit2)."""
    import neurokit2 as nk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clean = nk.ecg_clean(sig, sampling_rate=int(round(fs)))
        _, info = nk.ecg_peaks(clean, sampling_rate=int(round(fs)), method="neurokit")
    pk = np.asarray(info["ECG_R_Peaks"], dtype=int)
    if pk.size == 0:
        return pk
    # neurokit's peaks sit on the cleaned lead's extremum; snap to the largest |deflection| within 40 ms
    w = max(1, int(0.04 * fs))
    out = []
    for p in pk:
        a, b = max(0, p - w), min(len(sig), p + w + 1)
        seg = clean[a:b]
        out.append(a + int(np.argmax(np.abs(seg - np.median(clean[max(0, p - 5 * w):p + 5 * w])))))
    return np.unique(np.asarray(out, dtype=int))


def _crossing_back(y: np.ndarray, start: int, stop: int, thr: float, hold: int) -> int | None:
    """Last index i in [stop, start] going backwards where y stays below thr for ``hold`` samples."""
    run = 0
    for i in range(start, stop - 1, -1):
        run = run + 1 if y[i] < thr else 0
        if run >= hold:
            return i + hold - 1
    return None


def _crossing_fwd(y: np.ndarray, start: int, stop: int, thr: float, hold: int) -> int | None:
    run = 0
    for i in range(start, min(stop, len(y))):
        run = run + 1 if y[i] < thr else 0
        if run >= hold:
            return i - hold + 1
    return None


def _frontal_axis(areas: dict[str, float]) -> float | None:
    """Least-squares frontal vector from the net areas of the limb leads present (degrees, -180..180]."""
    rows, vals = [], []
    for n, a in areas.items():
        ang, g = LIMB_GEOMETRY[n]
        rows.append([g * math.cos(math.radians(ang)), g * math.sin(math.radians(ang))])
        vals.append(a)
    if len(rows) < 2 or np.linalg.matrix_rank(np.array(rows)) < 2:
        return None
    v, *_ = np.linalg.lstsq(np.array(rows), np.array(vals), rcond=None)
    if math.hypot(*v) < 1e-9:
        return None
    deg = math.degrees(math.atan2(v[1], v[0]))
    return round(deg if deg > -180 else deg + 360, 1)


def _consistency(beats: np.ndarray, med: np.ndarray, a: int, b: int) -> float:
    """Median over leads of the median correlation between each beat's [a, b) segment and the median's."""
    per_lead = []
    for lead in range(med.shape[0]):
        m = med[lead, a:b] - med[lead, a:b].mean()
        if np.std(m) < 1e-9:
            continue
        cs = []
        for k in range(beats.shape[0]):
            s = beats[k, lead, a:b] - beats[k, lead, a:b].mean()
            den = np.linalg.norm(s) * np.linalg.norm(m)
            cs.append(float(s @ m / den) if den > 0 else 0.0)
        per_lead.append(np.median(cs))
    return float(np.median(per_lead)) if per_lead else 0.0


def measure(rec: Recording) -> Measurements:
    """Measure one recording (any subset of the 12 standard leads; others are ignored)."""
    names = [n for n in STANDARD_12 if n in rec.leads]
    roles = {n: rec.role(n).value for n in names}
    reasons: dict[str, str] = {}
    values: dict[str, float | None] = dict.fromkeys(GLOBAL_KEYS)
    leads: dict[str, dict[str, float | None]] = {n: dict.fromkeys(LEAD_KEYS) for n in names}
    volts: dict[str, float | None] = dict.fromkeys(VOLTAGE_KEYS)
    notes: list[str] = []

    def fail(why: str, n_beats: int = 0, used: int = 0) -> Measurements:
        for k in GLOBAL_KEYS:
            if values[k] is None:
                _null(reasons, f"global.{k}", why)
        for n in names:
            for k in LEAD_KEYS:
                _null(reasons, f"leads.{n}.{k}", why)
        for k in VOLTAGE_KEYS:
            _null(reasons, f"voltages.{k}", why)
        return Measurements(values, leads, volts, reasons, None, n_beats, used, roles, tuple(notes))

    fs = rec.fs
    if not names:
        return fail("no standard ECG lead in the recording")
    raw = np.stack([rec.lead(n) for n in names]).astype(np.float64)
    if not np.all(np.isfinite(raw)):
        raw = np.nan_to_num(raw)
        notes.append("non-finite samples were set to 0 before measuring")
    if rec.duration < 3.0 or fs < 100:
        return fail("recording too short (< 3 s) or sampled below 100 Hz to measure")
    # delineation path (0.5-40 Hz) and amplitude path (0.05-150 Hz, the diagnostic bandwidth: 0.05 Hz does not
    # bend the ST segment, 150 Hz keeps R/S peaks and does not smear the S wave past J)
    # QRS edges from a wider band (0.5-QRS_LOWPASS_HZ): a 40 Hz filter smears them by several ms
    hp = _filtfilt_sos(_butter(1, 0.05, "highpass", float(fs)), raw)
    xa = _filtfilt_sos(_butter(4, min(AMP_LOWPASS_HZ, 0.45 * fs), "lowpass", float(fs)), hp)
    xf = _filtfilt_sos(_butter(2, 0.5, "highpass", float(fs)),
                       _filtfilt_sos(_butter(4, min(40.0, 0.45 * fs), "lowpass", float(fs)), hp))
    xq = _filtfilt_sos(_butter(2, 0.5, "highpass", float(fs)),
                       _filtfilt_sos(_butter(4, min(QRS_LOWPASS_HZ, 0.45 * fs), "lowpass", float(fs)), hp))
    det, pk = _vote_peaks(raw, fs, _detection_leads(names, xf, roles))
    n_beats = int(pk.size)
    if n_beats < 2:
        return fail(f"fewer than two QRS complexes found in lead {names[det]}", n_beats)
    rr = np.diff(pk) / fs
    rr_med = float(np.median(rr))
    values["rr_ms"] = round(1000 * rr_med, 1)
    values["heart_rate_bpm"] = round(60.0 / rr_med, 1)
    irregular = float(np.std(rr) / np.mean(rr)) > 0.15
    if irregular:
        notes.append(f"irregular rhythm (RR coefficient of variation {np.std(rr) / np.mean(rr):.2f})")

    pre = int(min(0.45 * rr_med, 0.40) * fs)
    post = int(min(0.75 * rr_med, 0.70) * fs)
    regular = [i for i in range(1, n_beats) if 0.8 <= rr[i - 1] / rr_med <= 1.25]
    if not irregular and 0.8 <= rr[0] / rr_med <= 1.25:
        regular = [0, *regular]
    regular = [i for i in regular if pk[i] - pre >= 0 and pk[i] + post <= raw.shape[1]]
    if len(regular) < MIN_BEATS:
        return fail(f"only {len(regular)} regular beats with a full window (need {MIN_BEATS})", n_beats, len(regular))
    idx = np.array([pk[i] for i in regular])
    win = np.arange(-pre, post)
    beats_f = xf[:, idx[:, None] + win[None, :]].transpose(1, 0, 2)  # beats x leads x samples
    beats_a = xa[:, idx[:, None] + win[None, :]].transpose(1, 0, 2)
    med_f = np.median(beats_f, axis=0)
    med_q = np.median(xq[:, idx[:, None] + win[None, :]].transpose(1, 0, 2), axis=0)
    med_a = np.median(beats_a, axis=0)
    r0 = pre
    ms = 1000.0 / fs

    qrs_c = _consistency(beats_f, med_f, max(0, r0 - int(0.05 * fs)), r0 + int(0.05 * fs))
    if qrs_c < 0.6:
        notes.append(f"beats vary or are noisy (QRS agreement {qrs_c:.2f}); measurements are less reliable")

    # --- QRS from the spatial velocity of the independent leads --------------------------------------
    ind = [i for i, n in enumerate(names) if n in INDEPENDENT] or list(range(len(names)))
    vel = np.sqrt(np.sum(np.diff(med_q[ind], axis=1) ** 2, axis=0)) * fs  # mV/s
    box = max(1, int(QRS_SMOOTH_S * fs))
    vel = np.convolve(vel, np.ones(box) / box, mode="same")
    w = int(0.06 * fs)
    vpk = r0 - w + int(np.argmax(vel[r0 - w:r0 + w]))
    floor = float(np.percentile(vel, 10))
    thr = floor + QRS_FRACTION * (vel[vpk] - floor)
    hold = max(2, int(0.01 * fs))
    on = _crossing_back(vel, vpk, max(0, r0 - int(0.16 * fs)), thr, hold)
    off = _crossing_fwd(vel, vpk, r0 + int(0.20 * fs), thr, hold)
    if on is None or off is None:
        return fail("QRS onset/offset not found in the median beat", n_beats, len(regular))
    qrs_on, qrs_off = on, off + 1  # the offset is the first sample after the velocity fell (diff shift)

    # --- isoelectric level: the PR segment (set after P is found) -------------------------------------
    def iso_window(p_off: int | None) -> tuple[int, int]:
        b = qrs_on - max(1, int(0.004 * fs))
        a = b - int(0.02 * fs)
        if p_off is not None:
            a = max(a, p_off)
        return max(0, a), max(max(0, a) + 1, b)

    # --- P wave: RMS over leads before the QRS ------------------------------------------------------
    p_on = p_off = None
    pa, pb = max(0, qrs_on - int(0.32 * fs)), qrs_on - int(0.03 * fs)
    p_why = None
    if pb - pa < int(0.06 * fs):
        p_why = "no room for a P wave before the QRS (fast rate)"
    else:
        ia, ib = iso_window(None)
        base = med_f[:, ia:ib].mean(axis=1, keepdims=True)
        rms = np.sqrt(np.mean((med_f - base) ** 2, axis=0)) * 1000  # uV
        rms_p = np.convolve(rms, np.ones(max(1, int(0.01 * fs))) / max(1, int(0.01 * fs)), mode="same")
        ppk = pa + int(np.argmax(rms_p[pa:pb]))
        level = float(np.median(rms_p[ia:ib]))
        amp = float(rms_p[ppk] - level)
        half = int(0.06 * fs)
        cons = _consistency(beats_f, med_f, max(0, ppk - half), min(qrs_on, ppk + half))
        if amp < P_MIN_UV:
            p_why = f"no P wave before the QRS (RMS P {amp:.0f} uV)"
        elif cons < P_MIN_CONSISTENCY:
            p_why = f"no consistent P wave: the beats' atrial activity disagrees (agreement {cons:.2f})"
        else:
            # thresholds against the lowest RMS on each side: the TP and PR levels may differ (wander)
            lo_left = float(np.min(rms_p[max(0, ppk - int(0.14 * fs)):ppk + 1]))
            lo_right = float(np.min(rms_p[ppk:qrs_on]))
            p_on = _crossing_back(rms_p, ppk, max(0, ppk - int(0.14 * fs)),
                                  lo_left + P_FRACTION * (rms_p[ppk] - lo_left), hold)
            p_off = _crossing_fwd(rms_p, ppk, qrs_on, lo_right + P_FRACTION * (rms_p[ppk] - lo_right), hold)
            if p_on is None or p_off is None:
                p_why = "P wave onset/offset not found"
                p_on = p_off = None
    if p_why:
        if irregular:
            p_why += "; irregular rhythm (atrial fibrillation?)"
        for k in ("p_ms", "pr_ms", "p_axis_deg"):
            _null(reasons, f"global.{k}", p_why)

    ia, ib = iso_window(p_off)
    iso_a = med_a[:, ia:ib].mean(axis=1)
    iso_f = med_f[:, ia:ib].mean(axis=1)

    # --- T end: tangent on the RMS T wave -------------------------------------------------------------
    t_off = None
    rms_t = np.sqrt(np.mean((med_f - iso_f[:, None]) ** 2, axis=0)) * 1000
    rms_t = np.convolve(rms_t, np.ones(max(1, int(0.02 * fs))) / max(1, int(0.02 * fs)), mode="same")
    ta = qrs_off + int(0.06 * fs)
    tb = len(rms_t) - int(0.04 * fs)
    if tb - ta < int(0.08 * fs):
        _null(reasons, "global.qt_ms", "no room for a T wave in the beat window (fast rate)")
    else:
        tpk = ta + int(np.argmax(rms_t[ta:tb]))
        level = float(np.median(rms_t[ia:ib]))
        if rms_t[tpk] - level < 20.0:
            _null(reasons, "global.qt_ms", f"T wave too small to find its end ({rms_t[tpk] - level:.0f} uV)")
        else:
            d = np.gradient(rms_t)
            seg_end = min(tb + int(0.03 * fs), len(d))
            steep = tpk + int(np.argmin(d[tpk:seg_end]))
            lo = float(np.min(rms_t[tpk:seg_end]))  # the level the T wave returns to (TP, not PR: wander)
            if d[steep] < 0:
                t_off = int(round(steep + (lo - rms_t[steep]) / d[steep]))
            if t_off is None or t_off >= len(rms_t) or t_off <= tpk:
                _null(reasons, "global.qt_ms", "T wave end not found in the beat window")
                t_off = None

    # --- global intervals -------------------------------------------------------------------------------
    values["qrs_ms"] = round((qrs_off - qrs_on) * ms, 1)
    if p_on is not None and p_off is not None:
        values["p_ms"] = round((p_off - p_on) * ms, 1)
        values["pr_ms"] = round((qrs_on - p_on) * ms, 1)
    if t_off is not None:
        qt = (t_off - qrs_on) * ms
        values["qt_ms"] = round(qt, 1)
        values["qtc_bazett_ms"] = round(qt / math.sqrt(rr_med), 1)
        values["qtc_fridericia_ms"] = round(qt / rr_med ** (1 / 3), 1)
    else:
        for k in ("qtc_bazett_ms", "qtc_fridericia_ms"):
            _null(reasons, f"global.{k}", reasons.get("global.qt_ms", "QT not measured"))

    # --- axes from net areas in the limb leads --------------------------------------------------------
    limb = {n: i for i, n in enumerate(names) if n in LIMB_GEOMETRY}

    def axis(a: int, b: int) -> float | None:
        return _frontal_axis({n: float(np.sum(med_a[i, a:b] - iso_a[i])) for n, i in limb.items()})

    if len(limb) < 2:
        for k in ("p_axis_deg", "qrs_axis_deg", "t_axis_deg"):
            _null(reasons, f"global.{k}", "needs two limb leads")
    else:
        values["qrs_axis_deg"] = axis(qrs_on, qrs_off)
        if p_on is not None and p_off is not None:
            values["p_axis_deg"] = axis(p_on, p_off)
        if t_off is not None:
            values["t_axis_deg"] = axis(qrs_off, t_off)
        else:
            _null(reasons, "global.t_axis_deg", reasons.get("global.qt_ms", "T wave end not found"))

    # --- per lead: ST against the PR segment, R and S -----------------------------------------------
    j60 = qrs_off + int(round(0.06 * fs))
    for i, n in enumerate(names):
        b = med_a[i] - iso_a[i]
        lv = leads[n]
        lv["st_j_uv"] = round(1000 * float(b[qrs_off]), 1)
        if j60 < len(b):
            lv["st_j60_uv"] = round(1000 * float(b[j60]), 1)
        else:
            _null(reasons, f"leads.{n}.st_j60_uv", "J+60 ms lies beyond the beat window")
        q = b[qrs_on:qrs_off + 1]
        rpos = int(np.argmax(q))
        lv["r_uv"] = round(1000 * max(0.0, float(q[rpos])), 1)
        after = q[rpos:] if q[rpos] > 0 else q
        lv["s_uv"] = round(1000 * max(0.0, -float(after.min())), 1)

    def lead_val(n: str, k: str) -> float | None:
        return leads.get(n, {}).get(k)

    sv1, rv5, rv6 = lead_val("V1", "s_uv"), lead_val("V5", "r_uv"), lead_val("V6", "r_uv")
    if sv1 is not None and (rv5 is not None or rv6 is not None):
        volts["sokolow_lyon_uv"] = round(sv1 + max(v for v in (rv5, rv6) if v is not None), 1)
    else:
        _null(reasons, "voltages.sokolow_lyon_uv", "needs V1 and V5 or V6")
    ravl, sv3 = lead_val("aVL", "r_uv"), lead_val("V3", "s_uv")
    if ravl is not None and sv3 is not None:
        volts["cornell_uv"] = round(ravl + sv3, 1)
    else:
        _null(reasons, "voltages.cornell_uv", "needs aVL and V3")

    fid = Fiducials(*(None if v is None else round((v - r0) * ms, 1) for v in (p_on, p_off, qrs_on, qrs_off, t_off)))
    return Measurements(values, leads, volts, reasons, fid, n_beats, len(regular), roles, tuple(notes),
                        med_a.astype(np.float32), fs, r0, tuple(int(v) for v in idx))


def _diff(key: str, a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    d = b - a
    if key.endswith("_axis_deg"):  # axes wrap: -170 vs 170 is 20 degrees apart
        d = (d + 180.0) % 360.0 - 180.0
    return round(d, 1)


def agreement(truth: Measurements, recon: Measurements) -> dict:
    """Reconstruction minus truth, key by key (ms, degrees, uV); None where either side has none."""
    return {"global": {k: _diff(k, truth.values.get(k), recon.values.get(k)) for k in GLOBAL_KEYS},
            "leads": {n: {k: _diff(k, truth.leads[n].get(k), recon.leads[n].get(k)) for k in LEAD_KEYS}
                      for n in recon.leads if n in truth.leads},
            "voltages": {k: _diff(k, truth.voltages.get(k), recon.voltages.get(k)) for k in VOLTAGE_KEYS},
            "sign": "reconstruction minus truth"}


def flat_differences(agree: dict) -> dict[str, float]:
    """``global.qrs_ms`` / ``leads.V2.st_j_uv`` / ``voltages.cornell_uv`` -> difference (non-null only)."""
    out = {f"global.{k}": v for k, v in agree["global"].items() if v is not None}
    for n, d in agree["leads"].items():
        out |= {f"leads.{n}.{k}": v for k, v in d.items() if v is not None}
    out |= {f"voltages.{k}": v for k, v in agree["voltages"].items() if v is not None}
    return out


def bland_altman(diffs: list[float]) -> dict:
    """Bias and 95 % limits of agreement of a list of differences."""
    d = np.asarray([v for v in diffs if v is not None and np.isfinite(v)], dtype=float)
    if d.size < 2:
        return {"n": int(d.size), "bias": float(d.mean()) if d.size else None, "sd": None,
                "loa_low": None, "loa_high": None}
    m, s = float(d.mean()), float(d.std(ddof=1))
    return {"n": int(d.size), "bias": round(m, 2), "sd": round(s, 2), "loa_low": round(m - 1.96 * s, 2),
            "loa_high": round(m + 1.96 * s, 2)}


def headline(m: Measurements, mark_reconstructed: bool = True) -> list[tuple[str, str]]:
    """What a clinical printout's header shows: (label, text) pairs; ``*`` marks figures computed with
    reconstructed leads."""
    dep = m.dependent_on_reconstructed() if mark_reconstructed else {}

    def f(key: str, fmt: str = "{:.0f}") -> str:
        v = m.values.get(key)
        s = "-" if v is None else fmt.format(v)
        return s + ("*" if v is not None and dep.get(f"global.{key}") else "")

    return [("HR", f"{f('heart_rate_bpm')} bpm"), ("PR", f"{f('pr_ms')} ms"), ("QRS", f"{f('qrs_ms')} ms"),
            ("QT/QTcB", f"{f('qt_ms')}/{f('qtc_bazett_ms')} ms"),
            ("P-R-T axes", f"{f('p_axis_deg')} {f('qrs_axis_deg')} {f('t_axis_deg')}")]


# A 12-lead measurement is read on a short strip; longer recordings are measured on their first seconds
LONGEST_S = 60.0
STRIP_S = 10.0


def measurement_strip(rec: Recording, start: float | None = None,
                      duration: float | None = None) -> tuple[Recording, str | None]:
    """The part of ``rec`` to measure and a note when it is not the whole recording."""
    s = start or 0.0
    if duration is None and start is None and rec.duration <= LONGEST_S:
        return rec, None
    d = duration or STRIP_S
    return rec.crop(s, s + d), f"measured on {s:g}-{min(rec.duration, s + d):g} s of {rec.duration:.0f} s"


def measure_pair(result: Recording, truth: Recording | None) -> dict:
    """Sidecar block: measurements of a reconstruction, of its truth when there is one, and the differences."""
    part, note = measurement_strip(result)
    m_rec = measure(part)
    out: dict = {"reconstruction": m_rec.to_json(), "truth": None, "difference": None, "strip": note}
    if truth is not None:
        m_true = measure(measurement_strip(truth)[0])
        out["truth"] = m_true.to_json()
        out["difference"] = agreement(m_true, m_rec)
    return out


def summarise_agreement(diffs: list[dict[str, float]], roles: dict[str, str] | None = None) -> dict:
    """Bland-Altman per measurement over records (``diffs``: flat_differences of each record); per-lead
    measurements also pooled over the reconstructed leads (``roles``) as ``reconstructed.<key>``."""
    keys = sorted({k for d in diffs for k in d})
    out: dict[str, dict | None] = {k: bland_altman([d[k] for d in diffs if k in d]) for k in keys}
    if roles:
        for lk in LEAD_KEYS:
            pooled = [d[f"leads.{n}.{lk}"] for d in diffs for n, r in roles.items()
                      if r == Role.RECONSTRUCTED.value and f"leads.{n}.{lk}" in d]
            out[f"reconstructed.{lk}"] = _bland_altman_or_none(pooled)
    return out


def _bland_altman_or_none(v: list[float]) -> dict | None:
    return bland_altman(v) if v else None
