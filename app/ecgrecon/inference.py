"""Reconstruction engine: three measured leads -> 12-lead ECG with onnxruntime.

Data flow: Recording (mV, any fs) -> the model's three input leads, resampled
to the model's rate -> card preprocessing (baseline removal) -> ONNX network
in chunks (bounded memory, progress, cancel) -> network leads + exact limb
leads -> resampled back -> 12-lead Recording whose every lead carries its role.

Chunks overlap by more than the network's receptive field and start on
multiples of its downsampling factor, so chunked output equals whole-signal
output (no seams). Filtering uses a longer margin than the filter's settling.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from . import __version__
from .conditioning import FilterSpec, apply_filters, resample
from .errors import Cancelled, InputError, ModelError
from .leads import STANDARD_12, complete_limb_leads, exact_combinations, exact_consequences
from .metrics import RecordMetrics, compare
from .modelcard import ModelCard, ModelZoo, load_zoo
from .recording import Provenance, Recording, Role

STREAM_LIMIT_H = 2.9  # pipeline.STREAM_BYTES for 12 float32 leads at 500 Hz
FILTER_MARGIN_S = 10.0  # 0.5 Hz Butterworth transients decay below 1e-9 within this

ProgressFn = Callable[[float], None]


@dataclass(frozen=True)
class ReconstructionRequest:
    """Everything a worker needs; immutable so it can cross threads safely."""

    recording: Recording
    model_id: str
    inputs: tuple[str, ...] | None = None  # default: the model's inputs
    threads: int = 1
    chunk_seconds: float = 60.0


@dataclass(frozen=True)
class LeadTrust:
    """How far to trust one reconstructed lead, estimated without its truth (see ecgrecon.trust)."""

    expected_r: float
    low_confidence: bool
    basis: str = ""  # for leads computed from a reconstructed lead: the lead whose estimate they inherit

    def words(self) -> str:
        return (f"LOW CONFIDENCE (expected R {self.expected_r:.2f})" if self.low_confidence
                else f"expected R {self.expected_r:.2f}")


@dataclass(frozen=True)
class Reconstruction:
    result: Recording  # 12 standard leads at the recording's rate, roles set
    model: ModelCard
    inputs: tuple[str, ...]
    truth: Recording | None  # the recording's own 12 leads, when it has them
    metrics: RecordMetrics | None  # after the model's preprocessing on both sides
    preprocessing: FilterSpec
    notes: tuple[str, ...] = field(default_factory=tuple)
    trust: dict[str, LeadTrust] | None = None  # per reconstructed lead; None when the card has no trust model

    @property
    def roles(self) -> dict[str, Role]:
        return dict(zip(self.result.leads, self.result.roles, strict=True))

    def low_confidence_leads(self) -> tuple[str, ...]:
        return tuple(n for n, t in (self.trust or {}).items() if t.low_confidence)


def preprocessing_spec(card: ModelCard) -> FilterSpec:
    p = card.preprocessing or {}
    return FilterSpec(baseline_hz=p.get("baseline_hz"), notch_hz=p.get("notch_hz"), lowpass_hz=p.get("lowpass_hz"))


class _Sessions:
    """onnxruntime sessions, cached per (model file, threads)."""

    _lock = threading.Lock()
    _cache: dict[tuple[str, int], object] = {}

    @classmethod
    def get(cls, card: ModelCard, threads: int):
        import onnxruntime as ort

        key = (str(card.onnx_file), int(threads))
        with cls._lock:
            sess = cls._cache.get(key)
            if sess is None:
                opts = ort.SessionOptions()
                opts.intra_op_num_threads = max(1, int(threads))
                opts.inter_op_num_threads = 1
                opts.log_severity_level = 3
                try:
                    sess = ort.InferenceSession(str(card.onnx_file), opts, providers=["CPUExecutionProvider"])
                except Exception as e:
                    raise ModelError(f"model {card.id}: cannot load ({' '.join(str(e).split())[:120]})") from None
                cls._cache[key] = sess
            return sess


def _check_inputs(rec: Recording, inputs: tuple[str, ...], card: ModelCard) -> None:
    missing = [n for n in inputs if n not in rec.leads]
    if missing:
        raise InputError(f"recording has no lead {', '.join(missing)} (has {', '.join(rec.leads)}); "
                         f"model {card.id} needs {', '.join(card.input_leads)}", rec.meta.source or None)
    if set(inputs) != set(card.input_leads):
        raise InputError(f"model {card.id} takes {','.join(card.input_leads)}, not {','.join(inputs)}")
    for n in inputs:
        x = rec.lead(n)
        bad = ~np.isfinite(x)
        if bad.any():
            t = int(np.argmax(bad)) / rec.fs
            raise InputError(f"input lead {n} has {int(bad.sum())} missing samples (first at {t:.2f} s); "
                             "the model cannot bridge gaps — crop or repair the recording", rec.meta.source or None)
    if rec.n_samples / rec.fs < 1.0:
        raise InputError(f"recording is {rec.duration:.2f} s long; at least 1 s is needed", rec.meta.source or None)


def _run_members(cards: list[ModelCard], x: np.ndarray, threads: int) -> np.ndarray:
    """Each member network on one aligned block (3 x T), T a multiple of length_multiple: (M, K, T)."""
    outs = []
    for c in cards:
        sess = _Sessions.get(c, threads)
        outs.append(sess.run([c.output_name], {c.input_name: x[None].astype(np.float32)})[0][0])
    return np.stack(outs)


def iter_chunks(x: np.ndarray | list[np.ndarray], card: ModelCard, members: list[ModelCard], spec: FilterSpec, *,
                threads: int = 1, chunk_samples: int = 30000, cancel: Callable[[], bool] | None = None,
                progress: ProgressFn | None = None,
                on_members: Callable[[int, np.ndarray], None] | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (start, network output K x n) for consecutive blocks of ``x`` (3 x N at the model rate).

    ``on_members(start, M x K x n)`` receives the members' own outputs (the trust signal's disagreement).

    ``x`` may be a list of three 1-D rows (views into a Recording) so that a
    24-hour input is never copied whole.
    """
    rows = list(x)
    n = rows[0].shape[0]
    mult = max(c.length_multiple for c in members)
    ov = max(c.overlap_samples for c in members)
    ov = int(np.ceil(ov / mult) * mult)
    fmargin = int(np.ceil(FILTER_MARGIN_S * card.fs / mult) * mult) if not spec.is_identity() else 0
    margin = max(ov, fmargin)
    core = max(mult, int(chunk_samples // mult * mult))
    start = 0
    while start < n:
        if cancel is not None and cancel():
            raise Cancelled("reconstruction cancelled")
        stop = min(n, start + core)
        a = max(0, start - margin)  # start and margin are multiples of mult -> aligned
        b = min(n, stop + margin)
        block = np.stack([np.asarray(r[a:b], np.float32) for r in rows])
        if not spec.is_identity():
            block = apply_filters(block, card.fs, spec)
        # the network sees only +-ov around the core (its receptive field), not the filter margin
        na = max(a, start - ov)
        nb = min(b, stop + ov)
        net_in = block[:, na - a: nb - a]
        pad = (-net_in.shape[1]) % mult
        if pad:
            net_in = np.pad(net_in, ((0, 0), (0, pad)))  # zero-pad the recording's end only
        ys = _run_members(members, net_in, threads)[:, :, start - na: stop - na]
        if on_members is not None:
            on_members(start, ys)
        yield start, ys.mean(axis=0) if len(ys) > 1 else ys[0]
        start = stop
        if progress is not None:
            progress(min(1.0, stop / n))


def reconstruct(rec: Recording, model: ModelCard | str, inputs: tuple[str, ...] | list[str] | None = None, *,
                zoo: ModelZoo | None = None, threads: int = 1, chunk_seconds: float = 60.0,
                progress: ProgressFn | None = None, cancel: Callable[[], bool] | None = None) -> Reconstruction:
    """Rebuild the 12 standard leads of ``rec`` from the model's three inputs."""
    zoo = zoo or load_zoo()
    card = zoo.get(model) if isinstance(model, str) else model
    members = network_members(card, zoo)
    inputs = tuple(inputs) if inputs else card.input_leads
    _check_inputs(rec, inputs, card)
    spec = preprocessing_spec(card)
    x = np.stack([rec.lead(n) for n in card.input_leads]).astype(np.float32)
    x_model = resample(x, rec.fs, card.fs)
    n_model = x_model.shape[1]
    k = len(members[0].output_leads)
    y = np.empty((k, n_model), dtype=np.float32)
    each = np.empty((len(members), k, n_model), dtype=np.float32) if len(members) > 1 and card.trust else None

    def keep(s: int, ys: np.ndarray) -> None:
        if each is not None:
            each[:, :, s: s + ys.shape[2]] = ys

    chunk = int(round(chunk_seconds * card.fs))
    for s, block in iter_chunks(x_model, card, members, spec, threads=threads, chunk_samples=chunk,
                                cancel=cancel, progress=progress, on_members=keep):
        y[:, s: s + block.shape[1]] = block
    personal = card.architecture == "personal"
    x_pre = None
    if personal or card.trust is not None:  # the preprocessed inputs, once, for the patient map and the trust
        x_pre = np.asarray(x_model, np.float64) if spec.is_identity() else apply_filters(x_model, card.fs, spec)
    if personal:  # the patient's map over [inputs; universal output]
        from .calibration import run_patient_model

        assert x_pre is not None
        y = run_patient_model(card, x_pre, y, threads)
    trust = lead_trust(card, members[0].output_leads, x_pre, y, each) if x_pre is not None else None
    net = resample(y, card.fs, rec.fs)[:, : rec.n_samples] if abs(card.fs - rec.fs) > 1e-9 else y
    if net.shape[1] < rec.n_samples:  # polyphase rounding: pad the last sample
        net = np.pad(net, ((0, 0), (0, rec.n_samples - net.shape[1])), mode="edge")
    result = assemble_12(rec, card, members[0].output_leads, net)
    truth = None
    metrics = None
    notes: tuple[str, ...] = ()
    if all(n in rec.leads for n in STANDARD_12):
        made = [n for n in STANDARD_12 if rec.role(n) == Role.RECONSTRUCTED]
        if made:  # a saved reconstruction: its estimated leads are no ground truth for another estimate
            notes = (f"no ground truth: {', '.join(made)} in this file are themselves reconstructed",)
        else:
            truth = rec.select(list(STANDARD_12))
            metrics = compare(_condition(result, spec), _condition(truth, spec))
            notes = (f"metrics computed after {spec.describe()} on reconstruction and truth alike",)
    return Reconstruction(result, card, inputs, truth, metrics, spec, notes, trust)


def lead_trust(card: ModelCard, out_leads: tuple[str, ...], x_pre: np.ndarray, y: np.ndarray,
               each: np.ndarray | None) -> dict[str, LeadTrust] | None:
    """expected_r / low_confidence per reconstructed lead (model-rate, preprocessed inputs ``x_pre``).

    A patient pack's estimate is the R measured on the held-out part of the patient's own ECG; a universal
    model's comes from its card's trust model."""
    exact = set(exact_consequences(card.input_leads))
    if card.architecture == "personal":
        from .calibration import LOW_CONFIDENCE_R

        held = card.raw["personal"]["held_out"]
        out = {n: LeadTrust(float(h["r"]), bool(h["r"] < LOW_CONFIDENCE_R)) for n, h in held.items()}
    else:
        tm = card.trust
        if tm is None:
            return None
        from . import trust as _trust

        feats = _trust.lead_features(x_pre, y, tm.linear(x_pre), None if each is None else list(each))
        exp = tm.expected_r(feats, out_leads)
        out = {n: LeadTrust(float(e), bool(e < tm.threshold)) for n, e in zip(out_leads, exp, strict=True)}
    out = {n: t for n, t in out.items() if n not in card.input_leads and n not in exact}
    if "I" in out:  # III, aVR, aVL, aVF computed from a reconstructed I inherit its estimate
        for n in ("III", "aVR", "aVL", "aVF"):
            if n not in card.input_leads and n not in exact:
                out[n] = LeadTrust(out["I"].expected_r, out["I"].low_confidence, basis="I")
    return out


def _condition(rec: Recording, spec: FilterSpec) -> Recording:
    return rec if spec.is_identity() else replace(rec, signals=apply_filters(rec.signals, rec.fs, spec))


def lead_signals(card: ModelCard, inputs: dict[str, np.ndarray], out_leads: tuple[str, ...], net: np.ndarray
                 ) -> tuple[dict[str, np.ndarray], dict[str, Role]]:
    """The one role assembly: measured inputs as they are; every lead that follows exactly from them
    (limb leads from two limb leads, V2 from V2-RA with I and II, ...) computed from them and *derived*;
    the rest from the network, *reconstructed* (also limb leads computed from a reconstructed lead)."""
    sig: dict[str, np.ndarray] = {}
    roles: dict[str, Role] = {}
    for n in card.input_leads:
        sig[n] = inputs[n]
        roles[n] = Role.MEASURED
    for n, coef in exact_combinations(card.input_leads).items():
        sig[n] = np.sum([float(c) * np.asarray(inputs[m], np.float64)
                         for c, m in zip(coef, card.input_leads, strict=True) if c], axis=0)
        roles[n] = Role.DERIVED
    for n, row in zip(out_leads, net, strict=True):
        if n in sig:
            continue
        sig[n] = row
        roles[n] = Role.RECONSTRUCTED
    full = complete_limb_leads(sig)
    for n in STANDARD_12:
        if n not in full:
            raise ModelError(f"model {card.id} does not provide lead {n}")
        roles.setdefault(n, Role.RECONSTRUCTED)
    return full, roles


def card_provenance(card: ModelCard, source: str = "") -> Provenance:
    """What every output of ``card`` says about how it was made."""
    return Provenance(model_id=card.id, model_version=card.version, architecture=card.architecture,
                      measured_leads=tuple(card.input_leads), preprocessing=preprocessing_spec(card).describe(),
                      patient_calibration=calibration_words(card), software=f"ecgrecon {__version__}",
                      source=source)


def assemble_12(rec: Recording, card: ModelCard, out_leads: tuple[str, ...], net: np.ndarray) -> Recording:
    """The 12-lead result Recording: signals and roles from :func:`lead_signals`, provenance in the metadata."""
    full, roles = lead_signals(card, {n: rec.lead(n) for n in card.input_leads}, out_leads, net)
    signals = np.stack([np.asarray(full[n], np.float32) for n in STANDARD_12])
    meta = replace(rec.meta, reconstruction=card_provenance(card, rec.meta.source),
                   comments=rec.meta.comments + (model_sentence(card),))
    return Recording(signals, rec.fs, STANDARD_12, tuple(roles[n] for n in STANDARD_12), meta=meta)


def network_members(card: ModelCard, zoo: ModelZoo) -> list[ModelCard]:
    """The networks to run: an ensemble's members, a patient pack's universal base, or the model itself."""
    if card.architecture == "personal":
        from .calibration import patient_info

        info = patient_info(card)
        assert info is not None
        return zoo.members(zoo.get(info.base_model))
    return zoo.members(card)


def calibration_words(card: ModelCard) -> str:
    """"patient-calibrated from <record>, <date>" for a patient pack, else ""."""
    if card.architecture != "personal":
        return ""
    from .calibration import patient_info

    info = patient_info(card)
    return info.words() if info else ""


def model_sentence(card: ModelCard) -> str:
    """The one line every output file carries about who computed the reconstructed leads."""
    calib = calibration_words(card)
    return (f"RECONSTRUCTED ECG: leads other than {', '.join(card.input_leads)} computed by model {card.id} "
            f"v{card.version}" + (f" ({calib})" if calib else ""))


def reconstruct_stream(rec: Recording, model: ModelCard | str, *, zoo: ModelZoo | None = None, threads: int = 1,
                       chunk_seconds: float = 60.0, progress: ProgressFn | None = None,
                       cancel: Callable[[], bool] | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (start sample, 12 x n block at the recording's rate) in time order.

    For recordings too long to hold twelve leads in memory (a 24-hour Holter):
    only the three inputs and one chunk of output exist at a time. Blocks have
    the leads in STANDARD_12 order and the roles of :func:`assemble_12`.
    """
    zoo = zoo or load_zoo()
    card = zoo.get(model) if isinstance(model, str) else model
    if card.architecture == "personal":
        raise InputError(f"patient packs are not streamed yet: recordings up to {STREAM_LIMIT_H:g} h at 500 Hz "
                         "work; crop longer ones (reconstruct --start/--duration, or convert a part)")
    members = zoo.members(card)
    _check_inputs(rec, card.input_leads, card)
    spec = preprocessing_spec(card)
    same_rate = abs(card.fs - rec.fs) < 1e-9
    rows = [rec.lead(n) for n in card.input_leads]  # views, no copy
    x_model = rows if same_rate else list(resample(np.stack(rows), rec.fs, card.fs))
    chunk = int(round(chunk_seconds * card.fs))
    out_leads = members[0].output_leads
    pending: list[tuple[int, np.ndarray]] = []  # model-rate blocks awaiting resampling margins
    emitted = 0
    ratio = rec.fs / card.fs
    for s, block in iter_chunks(x_model, card, members, spec, threads=threads, chunk_samples=chunk,
                                cancel=cancel, progress=progress):
        if same_rate:
            yield s, _assemble_block(rec, card, out_leads, block, s)
            continue
        # resample back with one second of context on each side, then cut exactly
        pending.append((s, block))
        pend_start = pending[0][0]
        joined = np.concatenate([b for _, b in pending], axis=1)
        end_model = pend_start + joined.shape[1]
        last = end_model >= x_model[0].shape[0]
        ctx = int(card.fs)
        if not last and joined.shape[1] < 3 * ctx:
            continue
        y = resample(joined, card.fs, rec.fs)
        y_start = int(round(pend_start * ratio))
        stop = rec.n_samples if last else int(round((end_model - ctx) * ratio))
        a, b = emitted - y_start, min(stop - y_start, y.shape[1])
        part = y[:, a:b]
        if last and emitted + part.shape[1] < rec.n_samples:
            part = np.pad(part, ((0, 0), (0, rec.n_samples - emitted - part.shape[1])), mode="edge")
        yield emitted, _assemble_block(rec, card, out_leads, part, emitted)
        emitted += part.shape[1]
        # keep the context tail (2 s) for the next resampling window
        keep_from = max(0, joined.shape[1] - 2 * ctx)
        pending = [(pend_start + keep_from, joined[:, keep_from:])]


def _assemble_block(rec: Recording, card: ModelCard, out_leads: tuple[str, ...], net: np.ndarray,
                    start: int) -> np.ndarray:
    n = net.shape[1]
    full, _ = lead_signals(card, {name: rec.lead(name)[start:start + n] for name in card.input_leads}, out_leads,
                           net)
    return np.stack([np.asarray(full[name], np.float32) for name in STANDARD_12])


def stream_roles(card: ModelCard) -> tuple[Role, ...]:
    exact = set(exact_consequences(card.input_leads))
    return tuple(Role.MEASURED if n in card.input_leads else Role.DERIVED if n in exact else Role.RECONSTRUCTED
                 for n in STANDARD_12)
