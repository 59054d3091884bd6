"""Patient calibration: fit a patient's own model from one 12-lead ECG of theirs.

The patient model is a regularised linear map (closed form, numpy) from
the three inputs at a few time lags plus the universal model's output to the
leads the universal model estimates:

    y(t) = sum_l W_l x(t + l) + V u(t) + b

where x are the preprocessed inputs and u the universal (base) model's output.
Lags let it absorb small timing and morphology differences of this patient's
lead vectors; the base output carries what the universal model knows (the
ridge pulls the map towards using it). It is exported as one ONNX Conv node over
the 3 + K channels [x; u], so the app runs it with onnxruntime like any model and
its card carries a SHA-256 like the bundled ones.

Why not fine-tune the network: no torch in the app, and the closed form takes
milliseconds and cannot overfit 5 s the way gradient steps on 200k weights can.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__
from .conditioning import apply_filters, resample
from .errors import InputError, ModelError
from .leads import STANDARD_12
from .metrics import pearson_r, rmse_uv
from .modelcard import ModelCard, ModelZoo, load_card
from .onnxmeta import bind_leads
from .recording import Recording

LAGS_MS = (-40.0, -20.0, -10.0, -4.0, 0.0, 4.0, 10.0, 20.0, 40.0)
RIDGE = 0.05  # relative to the mean diagonal of the normal equations
MIN_SECONDS = 5.0  # half a standard 10 s ECG
HELD_OUT_SHARE = 0.3  # last 30 % of the calibration file scores the fit
MIN_HELD_OUT_R = 0.8  # below this on the held-out part the file cannot calibrate (noise, moving electrodes)
LOW_CONFIDENCE_R = 0.8  # a calibrated lead whose held-out R is below this is flagged low confidence
PACK_CARD = "patient_model.json"
PACK_ONNX = "patient_model.onnx"


@dataclass(frozen=True)
class PatientInfo:
    patient_id: str
    source_record: str
    date: str
    base_model: str

    def words(self) -> str:
        """The label every view puts beside the model name."""
        return f"patient-calibrated from {self.source_record}, {self.date}"


def patient_info(card: ModelCard) -> PatientInfo | None:
    p = card.raw.get("personal")
    if card.architecture != "personal" or not p:
        return None
    return PatientInfo(str(p["patient_id"]), str(p["source_record"]), str(p["date"]), str(p["base_model"]))


def recording_patient_id(rec: Recording) -> str | None:
    for k in ("id", "patient_id", "patient id", "patient"):
        v = rec.meta.patient.get(k)
        if v and str(v).strip():
            return str(v).strip()
    return None


def _lags(fs: float) -> list[int]:
    return sorted({int(round(ms * fs / 1000.0)) for ms in LAGS_MS})


def _design(x: np.ndarray, u: np.ndarray, lags: list[int]) -> np.ndarray:
    """(n, 3*len(lags) + K + 1) rows: lagged inputs (edge-padded), base output, bias."""
    n = x.shape[1]
    pad = max(abs(v) for v in lags)
    xp = np.pad(x, ((0, 0), (pad, pad)))  # zeros, exactly what the ONNX Conv's padding does
    cols = [xp[:, pad + lag: pad + lag + n] for lag in lags]
    return np.vstack([*cols, u, np.ones((1, n))]).T


def _ridge(D: np.ndarray, Y: np.ndarray) -> np.ndarray:
    G = D.T @ D
    lam = RIDGE * float(np.mean(np.diag(G)))
    reg = np.eye(G.shape[0]) * lam
    reg[-1, -1] = 0.0  # the bias is not shrunk
    return np.linalg.solve(G + reg, D.T @ Y)  # (F, K)


def _base_output(rec: Recording, base: ModelCard, zoo: ModelZoo) -> tuple[np.ndarray, np.ndarray]:
    """(preprocessed inputs 3 x n, base model output K x n) at the base model's rate, from the same block path
    every reconstruction takes (so the patient map is fitted on exactly what it will be applied to)."""
    from .inference import reconstruct_blocks

    blocks = list(reconstruct_blocks(rec, base, zoo=zoo, chunk_seconds=60.0))
    x_pre = np.concatenate([b.x_pre for b in blocks], axis=1)
    y = np.concatenate([b.net for b in blocks], axis=1)
    return np.asarray(x_pre, np.float64), np.asarray(y, np.float64)


def _targets(rec: Recording, base: ModelCard) -> np.ndarray:
    from .inference import preprocessing_spec

    spec = preprocessing_spec(base)
    t = resample(np.stack([rec.lead(n) for n in base.output_leads]).astype(np.float32), rec.fs, base.fs)
    return np.asarray(t if spec.is_identity() else apply_filters(t, base.fs, spec), np.float64)


def check_calibration_file(rec: Recording, base: ModelCard) -> None:
    """Refuse, with the reason, a file that cannot calibrate: missing leads, too short, flat/clipped/gappy leads."""
    from .quality import check_quality

    need = list(dict.fromkeys([*base.input_leads, *base.output_leads]))
    missing = [n for n in need if n not in rec.leads]
    if missing:
        raise InputError(f"calibration needs the patient's 12-lead ECG: lead {', '.join(missing)} missing "
                         f"(the file has {', '.join(rec.leads)})", rec.meta.source or None)
    if rec.duration < MIN_SECONDS:
        raise InputError(f"calibration needs at least {MIN_SECONDS:g} s (half a standard 10 s ECG) to fit and to "
                         f"check the fit on a held-out part; this file has {rec.duration:.1f} s",
                         rec.meta.source or None)
    def clipped_share(lead: str) -> float:
        x = rec.lead(lead)
        x = x[np.isfinite(x)]
        return float(max(np.mean(x == x.max()), np.mean(x == x.min()))) if x.size else 0.0

    # a few per cent of samples at one extreme is quantisation on a flat trough, not an amplifier rail
    bad = [q for q in check_quality(rec.select(need)) if q.kind in ("nan", "flat")
           or (q.kind == "saturated" and clipped_share(q.lead) > 0.05)]
    if bad:
        raise InputError(f"cannot calibrate on this file: {bad[0].message}", rec.meta.source or None)


def fit(rec: Recording, base: ModelCard, zoo: ModelZoo) -> dict:
    """Fit on the first 70 %, score on the last 30 % (held out); then refit on all of it for export."""
    check_calibration_file(rec, base)
    x, u = _base_output(rec, base, zoo)
    t = _targets(rec, base)
    n = min(x.shape[1], u.shape[1], t.shape[1])
    x, u, t = x[:, :n], u[:, :n], t[:, :n]
    lags = _lags(base.fs)
    D = _design(x, u, lags)
    cut = int(n * (1 - HELD_OUT_SHARE))
    W_part = _ridge(D[:cut], t[:, :cut].T)
    pred = (D[cut:] @ W_part).T
    held = {}
    for k, lead in enumerate(base.output_leads):
        if lead in base.input_leads:
            continue
        held[lead] = {"r": pearson_r(pred[k], t[k, cut:]), "rmse_uv": rmse_uv(pred[k], t[k, cut:]),
                      "base_r": pearson_r(u[k, cut:], t[k, cut:]), "base_rmse_uv": rmse_uv(u[k, cut:], t[k, cut:])}
    noise = float(np.std(t[:, cut:] - pred) / (np.std(t[:, cut:]) + 1e-9))
    if not np.isfinite(noise):
        raise InputError("the calibration fit failed (non-finite values); check the file", rec.meta.source or None)
    held_r = float(np.median([h["r"] for h in held.values()])) if held else 1.0
    if held_r < MIN_HELD_OUT_R:  # what was fitted does not hold a second later: noise or moving electrodes
        raise InputError(f"the fit does not hold on the held-out last {HELD_OUT_SHARE:.0%} of the file (median R "
                         f"{held_r:.2f} < {MIN_HELD_OUT_R}): the recording is too noisy, or the electrodes moved "
                         "during it; record a cleaner 12-lead", rec.meta.source or None)
    W = _ridge(D, t.T)
    return {"weights": W, "lags": lags, "held_out": held, "held_out_seconds": (n - cut) / base.fs,
            "fit_seconds": cut / base.fs, "n": n}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "patient"


def export_onnx(path: Path, W: np.ndarray, lags: list[int], n_in: int, n_out: int) -> None:
    """One Conv node over [x; u]: weight (K, 3 + K, 2P + 1) with taps at the lags, u at the centre tap."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    P = max(abs(v) for v in lags)
    w = np.zeros((n_out, n_in + n_out, 2 * P + 1), np.float32)
    for i, lag in enumerate(lags):
        w[:, :n_in, P + lag] = W[i * n_in:(i + 1) * n_in].T
    base0 = len(lags) * n_in
    w[:, n_in:, P] = W[base0: base0 + n_out].T
    bias = W[-1].astype(np.float32)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[P, P], kernel_shape=[2 * P + 1])
    graph = helper.make_graph(
        [node], "patient_model",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n_in + n_out, "T"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n_out, "T"])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(bias, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], producer_name="ecgrecon")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())


def calibrate(rec: Recording, base: ModelCard, zoo: ModelZoo, pack_dir: Path, *, patient_id: str | None = None,
              force: bool = False) -> ModelCard:
    """Fit, export and card a patient model into ``pack_dir`` (nothing is written elsewhere)."""
    import hashlib
    import os
    import shutil
    import tempfile

    if base.architecture == "personal":
        raise InputError("the base model must be a universal model, not a patient pack")
    pack_dir = Path(pack_dir)
    if pack_dir.exists() and any(pack_dir.iterdir()) and not force:
        raise InputError("pack folder exists and is not empty; pass --force to replace it", pack_dir)
    res = fit(rec, base, zoo)
    pid = patient_id or recording_patient_id(rec) or rec.meta.record_id or Path(rec.meta.source).stem
    src = rec.meta.record_id or Path(rec.meta.source).name
    today = _dt.date.today().isoformat()
    P = max(abs(v) for v in res["lags"])
    mult = base.length_multiple
    card = {
        "schema": 1, "id": f"personal.{_slug(pid)}.{base.configuration}", "version": "1.0.0",
        "configuration": base.configuration, "architecture": "personal",
        "architecture_detail": (f"patient model: ridge map of the inputs at lags {res['lags']} samples plus the "
                                f"output of {base.id}, one ONNX Conv over 3 + {len(base.output_leads)} channels"),
        "n_parameters": int(res["weights"].size),
        "input_leads": list(base.input_leads), "output_leads": list(base.output_leads), "fs": base.fs,
        "receptive_field_samples": base.receptive_field_samples + 2 * P, "window_samples": base.window_samples,
        "overlap_samples": int(np.ceil((base.overlap_samples + P) / mult) * mult), "length_multiple": mult,
        "preprocessing": dict(base.preprocessing), "input_normalisation": "inputs in mV, no scaling",
        "onnx": {"file": PACK_ONNX, "sha256": "", "input_name": "x", "output_name": "y", "opset": 18},
        "members": [],
        "personal": {"patient_id": pid, "source_record": src, "source_file": str(rec.meta.source), "date": today,
                     "base_model": base.id, "base_model_version": base.version,
                     "base_model_sha256": (zoo.members(base)[0].onnx_sha256 or ""),
                     "lags_samples": res["lags"], "ridge_relative": RIDGE,
                     "fit_seconds": round(res["fit_seconds"], 2), "held_out_seconds": round(res["held_out_seconds"], 2),
                     "held_out": res["held_out"],
                     "held_out_note": (f"fitted on the first {1 - HELD_OUT_SHARE:.0%} of the calibration file, "
                                       f"scored on the last {HELD_OUT_SHARE:.0%}; the exported model is then refitted "
                                       "on the whole file")},
        "training": {"data": f"one 12-lead ECG of the patient ({src})", "command": "ecgrecon calibrate",
                     "software": f"ecgrecon {__version__}", "epochs_or_steps": "closed form"},
        "metrics_test": None,
        "license": "the patient's own data: keep the pack with their record",
        "created": today,
    }
    pack_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".calib-", dir=pack_dir.parent))
    try:
        onnx_path = tmp / PACK_ONNX
        export_onnx(onnx_path, res["weights"], res["lags"], len(base.input_leads), len(base.output_leads))
        bind_leads(onnx_path, card["input_leads"], card["output_leads"])
        card["onnx"]["sha256"] = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
        (tmp / PACK_CARD).write_text(json.dumps(card, indent=1) + "\n")
        load_card(tmp / PACK_CARD)  # the same validation any model gets
        if pack_dir.exists():
            shutil.rmtree(pack_dir)
        os.replace(tmp, pack_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return load_card(pack_dir / PACK_CARD)


def load_pack(pack_dir: str | Path, zoo: ModelZoo) -> ModelCard:
    """A patient pack's card, validated, with its base model present in ``zoo``."""
    p = Path(pack_dir)
    cp = p / PACK_CARD if p.is_dir() else p
    if not cp.exists():
        raise InputError(f"not a patient pack (no {PACK_CARD}); make one with `ecgrecon calibrate`", p)
    card = load_card(cp)
    info = patient_info(card)
    if info is None:
        raise ModelError(f"{cp}: not a patient-calibrated model card")
    base = zoo.get(info.base_model)
    want = card.raw["personal"].get("base_model_sha256")
    have = zoo.members(base)[0].onnx_sha256
    if want and have and want != have:
        raise ModelError(f"patient pack {card.id} was fitted on a different {base.id} (file changed since); "
                         "calibrate again")
    return card


def check_pack_fits(rec: Recording, card: ModelCard, *, force_patient: bool = False) -> str | None:
    """Refuse a recording the pack does not fit; returns a note when the patient cannot be checked."""
    info = patient_info(card)
    assert info is not None
    missing = [n for n in card.input_leads if n not in rec.leads]
    if missing:
        raise InputError(f"patient pack {card.id} takes {', '.join(card.input_leads)}; the recording lacks "
                         f"{', '.join(missing)}", rec.meta.source or None)
    if rec.fs < 100:
        raise InputError(f"recording is sampled at {rec.fs:g} Hz; the pack's model works at {card.fs:g} Hz and "
                         "needs at least 100 Hz", rec.meta.source or None)
    pid = recording_patient_id(rec)
    if pid is not None and pid != info.patient_id:
        if not force_patient:
            raise InputError(f"the recording is of patient {pid!r}, the pack was calibrated on {info.patient_id!r}; "
                             "use that patient's pack, or --force-patient if you are sure", rec.meta.source or None)
        return f"patient id {pid!r} differs from the pack's {info.patient_id!r} (overridden with --force-patient)"
    if pid is None:
        return (f"the recording names no patient id: make sure it is {info.patient_id}'s "
                f"(pack {info.words()})")
    return None


def run_patient_model(card: ModelCard, x_pre: np.ndarray, u: np.ndarray, threads: int = 1) -> np.ndarray:
    """The pack's ONNX Conv over [x; u] at the model rate, in blocks (bounded memory; exact with the lag pad)."""
    from .inference import _Sessions

    sess = _Sessions.get(card, threads)
    P = max(abs(v) for v in card.raw["personal"]["lags_samples"])
    n = x_pre.shape[1]
    z = np.vstack([x_pre, u]).astype(np.float32)
    out = np.empty((u.shape[0], n), np.float32)
    block = 600_000
    for s in range(0, n, block):
        e = min(n, s + block)
        a, b = max(0, s - P), min(n, e + P)
        y = sess.run([card.output_name], {card.input_name: z[None, :, a:b]})[0][0]
        out[:, s:e] = y[:, s - a: e - a]
    return out


def recording_for_calibration(rec: Recording) -> Recording:
    """The 12 standard leads of a recording (the calibration file)."""
    have = [n for n in STANDARD_12 if n in rec.leads]
    return rec.select(have)
