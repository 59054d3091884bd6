"""Reconstruction engine: three measured leads -> 12-lead ECG with onnxruntime.

Data flow: Recording (mV, any fs) -> the model's three input leads, resampled
to the model's rate -> card preprocessing (baseline removal) -> ONNX network
in chunks (bounded memory, progress, cancel) -> network leads + exact limb
leads -> resampled back -> 12-lead Recording whose every lead carries its role.

Chunks overlap by more than the network's receptive field and start on
multiples of its downsampling factor, so chunked output equals whole-signal
output (no seams). Filtering uses a longer margin than the filter's settling.

One block path for every length (:func:`reconstruct_blocks`): a recording, or
a span of it, is read a chunk at a time (a WFDB file straight from disk, see
ecgrecon.io.wfdb_blocks), reconstructed and handed on as 12-lead blocks.
:func:`reconstruct` collects the blocks into one Recording; a streaming sink
writes them as they come. Chunks run in parallel on ``threads`` worker
threads, one single-threaded onnxruntime session run per chunk (on long
recordings this scales better than onnxruntime's own threads over one chunk).
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, TypeVar

import numpy as np

from . import __version__
from .conditioning import FilterSpec, apply_filters, resample
from .errors import Cancelled, InputError, ModelError
from .leads import STANDARD_12, complete_limb_leads, exact_combinations, exact_consequences
from .metrics import RecordMetrics, compare
from .modelcard import ModelCard, ModelZoo, load_zoo
from .recording import Provenance, Recording, Role

FILTER_MARGIN_S = 10.0  # 0.5 Hz Butterworth transients decay below 1e-9 within this
CHUNK_S = 60.0  # seconds of output per chunk: 2 % overlap cost, a few MB per chunk, fast network runs
RESAMPLE_CONTEXT_S = 1.0  # polyphase filters reach ~10 input samples; a second of context is ample

ProgressFn = Callable[[float], None]


@dataclass(frozen=True)
class ReconstructionRequest:
    """Everything a worker needs; immutable so it can cross threads safely."""

    recording: Recording
    model_id: str
    inputs: tuple[str, ...] | None = None  # default: the model's inputs
    threads: int = 1
    chunk_seconds: float = CHUNK_S


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
    length_note: str = ""  # the length switch chose this model (pipeline.model_for_length): say so everywhere

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
                from .onnxgraph import session_bytes

                opts = ort.SessionOptions()
                opts.intra_op_num_threads = max(1, int(threads))
                opts.inter_op_num_threads = 1
                opts.log_severity_level = 3
                # idle pool threads spinning for work steal the core the other chunk's thread runs on
                opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
                if card.onnx_file is None:
                    raise ModelError(f"model {card.id} has no network file of its own")
                try:
                    sess = ort.InferenceSession(session_bytes(card.onnx_file), opts,
                                                providers=["CPUExecutionProvider"])
                except Exception as e:
                    raise ModelError(f"model {card.id}: cannot load ({' '.join(str(e).split())[:120]})") from None
                cls._cache[key] = sess
            return sess


def _check_inputs(rec: Any, inputs: tuple[str, ...], card: ModelCard) -> None:
    missing = [n for n in inputs if n not in rec.leads]
    if missing:
        raise InputError(f"recording has no lead {', '.join(missing)} (has {', '.join(rec.leads)}); "
                         f"model {card.id} needs {', '.join(card.input_leads)}", rec.meta.source or None)
    if set(inputs) != set(card.input_leads):
        raise InputError(f"model {card.id} takes {','.join(card.input_leads)}, not {','.join(inputs)}")
    for n in inputs if isinstance(rec, Recording) else ():  # a record on disk is checked block by block
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
        outs.append(sess.run([c.output_name], {c.input_name: np.ascontiguousarray(x[None], np.float32)})[0][0])
    return np.stack(outs)


@dataclass(frozen=True)
class Block:
    """One chunk of a reconstruction, in time order (see :func:`reconstruct_blocks`)."""

    start: int  # first sample, at the recording's rate, counted from the recording's start
    signals: np.ndarray  # 12 x n float32 mV, STANDARD_12 order, roles as :func:`stream_roles`
    model_start: int  # first sample of the model-rate arrays, counted from the recording's start
    x_pre: np.ndarray  # 3 x m preprocessed inputs at the model rate (float32)
    net: np.ndarray  # K x m network output at the model rate (ensemble mean; after a patient map)
    members: np.ndarray | None  # M x K x m each member's own output (ensembles only: the trust's disagreement)
    trust: dict[str, LeadTrust] | None = None  # with_trust: this block's own (see block_trust)

    @property
    def stop(self) -> int:
        return self.start + self.signals.shape[1]


def read_block(rec: Any, names: tuple[str, ...] | list[str], a: int, b: int) -> np.ndarray:
    """Leads ``names``, samples a..b, float32 mV, of a Recording or of anything with ``block()`` (a record
    read from disk in blocks, ecgrecon.io.wfdb_blocks)."""
    if hasattr(rec, "block"):
        return rec.block(tuple(names), a, b)
    return np.stack([rec.lead(n)[a:b] for n in names]).astype(np.float32, copy=False)


def _rate(fs_out: float, fs_in: float) -> Fraction:
    return Fraction(fs_out / fs_in).limit_denominator(1000)  # as conditioning.resample


class _Geometry:
    """Where each chunk reads, runs the network and cuts, at the model and the recording rate.

    A chunk is a span [u, v) of the recording. The network runs on a core [s, e) at the model rate that
    covers it, plus the receptive field (``ov``) on both sides; the filters see ``margin`` more. The core
    starts on a multiple of the network's downsampling factor (and of the back-resampling period), so a
    sample's output does not depend on where the chunk, or a requested span, begins.
    """

    def __init__(self, rec: Any, card: ModelCard, members: list[ModelCard], spec: FilterSpec) -> None:
        self.fs, self.fs_m = rec.fs, float(card.fs)
        self.n = rec.n_samples
        self.same = abs(self.fs - self.fs_m) < 1e-9
        self.mult = max(c.length_multiple for c in members)
        self.ov = math.ceil(max(c.overlap_samples for c in members) / self.mult) * self.mult
        fmargin = 0 if spec.is_identity() else math.ceil(FILTER_MARGIN_S * self.fs_m / self.mult) * self.mult
        self.margin = max(self.ov, fmargin)
        self.lags = max((abs(v) for v in card.raw["personal"]["lags_samples"]), default=0) \
            if card.architecture == "personal" else 0
        if self.same:
            self.n_m, self.align, self.ctx = self.n, self.mult, 0
        else:
            up = _rate(self.fs_m, self.fs)
            self.n_m = math.ceil(self.n * up.numerator / up.denominator)
            back = _rate(self.fs, self.fs_m)  # a model-rate segment starting on a multiple of q maps onto the grid
            self.align = self.mult * back.denominator // math.gcd(self.mult, back.denominator)
            self.ctx = int(round(RESAMPLE_CONTEXT_S * self.fs_m))

    def to_model(self, u: int) -> int:
        """The model-rate sample at or just after recording sample ``u`` (the end maps to the end)."""
        return u if self.same else (self.n_m if u >= self.n else math.ceil(u * self.fs_m / self.fs - 1e-9))

    def core(self, u: int, v: int) -> tuple[int, int, int, int]:
        """(mu, mv, s, e): the chunk's own model-rate part and the core the network computes."""
        mu, mv = self.to_model(u), self.to_model(v)
        ext = self.ctx + self.lags
        s = max(0, (mu - ext) // self.align * self.align)
        e = min(self.n_m, -(-(mv + ext) // self.mult) * self.mult)
        return mu, mv, s, e


def _model_rate_inputs(rec: Any, names: tuple[str, ...], g: _Geometry, a: int, b: int) -> np.ndarray:
    """Inputs at the model rate, model samples a..b, resampled from just the recording samples they need."""
    if g.same:
        return read_block(rec, names, a, b)
    up = _rate(g.fs_m, g.fs)
    p, q = up.numerator, up.denominator
    pad = int(round(RESAMPLE_CONTEXT_S * g.fs))
    i0 = max(0, (a * q // p - pad) // q * q)  # a multiple of q: the segment's output lands on the global grid
    i1 = min(g.n, -(-b * q // p) + pad)
    seg = resample(read_block(rec, names, i0, i1), g.fs, g.fs_m)
    j0 = i0 * p // q
    out = seg[:, a - j0: b - j0]
    if out.shape[1] < b - a:  # polyphase rounding at the record's end
        out = np.pad(out, ((0, 0), (0, b - a - out.shape[1])), mode="edge")
    return np.asarray(out, np.float32)


def _check_block(x: np.ndarray, names: tuple[str, ...], a: int, fs: float, source: str) -> None:
    bad = ~np.isfinite(x)
    if bad.any():
        k, j = np.argwhere(bad)[0]
        raise InputError(f"input lead {names[k]} has missing samples (first at {(a + j) / fs:.2f} s); the model "
                         "cannot bridge gaps — crop or repair the recording", source or None)


T = TypeVar("T")
R = TypeVar("R")


def _in_order(fn: Callable[[T], R], items: Iterable[T], workers: int,
              cancel: Callable[[], bool] | None) -> Iterator[R]:
    """``map(fn, items)`` on ``workers`` threads, results in order, at most ``workers + 1`` in flight (bounded
    memory); ``cancel`` is asked before each item starts."""
    def stop() -> None:
        if cancel is not None and cancel():
            raise Cancelled("reconstruction cancelled")

    if workers <= 1:
        for item in items:
            stop()
            yield fn(item)
        return
    pending: deque[Future] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ecgrecon-chunk") as pool:
        try:
            for item in items:
                stop()
                pending.append(pool.submit(fn, item))
                if len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                stop()
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()


def reconstruct_blocks(rec: Any, model: ModelCard | str, *, zoo: ModelZoo | None = None, threads: int = 1,
                       start: int = 0, stop: int | None = None, chunk_seconds: float = CHUNK_S,
                       progress: ProgressFn | None = None, cancel: Callable[[], bool] | None = None,
                       with_trust: bool = False) -> Iterator[Block]:
    """Yield the reconstruction of samples ``start``..``stop`` of ``rec`` as :class:`Block` s, in time order.

    ``rec`` is a Recording or a record read in blocks (ecgrecon.io.wfdb_blocks). Only the requested span
    plus the margin the network and the filters need is read and computed, so a span's blocks equal the
    same samples of the whole recording's reconstruction (to float rounding). Memory is a few chunks
    whatever the length. Missing input samples raise InputError when their chunk is reached.
    ``with_trust``: each block carries its own trust (:func:`block_trust`), computed on the worker thread.
    """
    zoo = zoo or load_zoo()
    card = zoo.get(model) if isinstance(model, str) else model
    members = network_members(card, zoo)
    stop = rec.n_samples if stop is None else min(int(stop), rec.n_samples)
    start = max(0, int(start))
    if stop <= start:
        raise InputError(f"empty span: samples {start} to {stop} of {rec.n_samples}", rec.meta.source or None)
    _check_inputs(rec, card.input_leads, card)
    spec = preprocessing_spec(card)
    g = _Geometry(rec, card, members, spec)
    names = tuple(card.input_leads)
    out_leads = members[0].output_leads
    keep_members = len(members) > 1 and card.trust is not None
    step = max(1, int(round(chunk_seconds * rec.fs)))
    if g.same:
        step = max(g.mult, step // g.mult * g.mult)  # chunk borders on the network's grid: no core wasted
    spans = [(u, min(stop, u + step)) for u in range(start, stop, step)]
    workers = max(1, min(int(threads), len(spans)))
    session_threads = 1 if workers > 1 else max(1, int(threads))
    source = rec.meta.source or ""
    lazy = hasattr(rec, "block")

    def one(span: tuple[int, int]) -> Block:
        u, v = span
        mu, mv, s, e = g.core(u, v)
        fa, fb = max(0, s - g.margin), min(g.n_m, e + g.margin)
        raw = _model_rate_inputs(rec, names, g, fa, fb)
        if lazy:
            _check_block(raw, names, fa, g.fs_m, source)
        filt = raw if spec.is_identity() else apply_filters(raw, g.fs_m, spec)
        na, nb = max(0, s - g.ov), min(g.n_m, e + g.ov)
        net_in = filt[:, na - fa: nb - fa]
        pad = (-net_in.shape[1]) % g.mult
        if pad:  # zero-pad the recording's end only
            padded = np.zeros((net_in.shape[0], net_in.shape[1] + pad), np.float32)
            padded[:, : net_in.shape[1]] = net_in
            net_in = padded
        ys = _run_members(members, net_in, session_threads)[:, :, s - na: e - na]
        y = ys.mean(axis=0) if len(ys) > 1 else ys[0]
        x_pre = filt[:, s - fa: e - fa]
        if card.architecture == "personal":  # the patient's map over [inputs; universal output]
            from .calibration import run_patient_model

            y = run_patient_model(card, x_pre, y, 1)
        if g.same:
            net_src = y[:, u - s: v - s]
        else:
            back = _rate(g.fs, g.fs_m)
            y_src = resample(y, g.fs_m, g.fs)
            i0 = s * back.numerator // back.denominator
            net_src = y_src[:, u - i0: v - i0]
            if net_src.shape[1] < v - u:
                net_src = np.pad(net_src, ((0, 0), (0, v - u - net_src.shape[1])), mode="edge")
        # the measured leads as read (at the recording's rate: the raw read when the rates agree)
        inputs = raw[:, u - fa: v - fa] if g.same else read_block(rec, names, u, v)
        full, _ = lead_signals(card, dict(zip(names, inputs, strict=True)), out_leads, net_src)
        signals = np.empty((12, v - u), np.float32)
        for k, n in enumerate(STANDARD_12):
            signals[k] = full[n]  # cast on assignment: no float32 copy of each lead first
        blk = Block(u, signals, mu, np.ascontiguousarray(x_pre[:, mu - s: mv - s]),
                    np.ascontiguousarray(y[:, mu - s: mv - s], dtype=np.float32),
                    np.ascontiguousarray(ys[:, :, mu - s: mv - s]) if keep_members else None)
        return replace(blk, trust=block_trust(card, blk)) if with_trust else blk

    for blk in _in_order(one, spans, workers, cancel):
        yield blk
        if progress is not None:
            progress(min(1.0, (blk.stop - start) / (stop - start)))


def reconstruct(rec: Any, model: ModelCard | str, inputs: tuple[str, ...] | list[str] | None = None, *,
                zoo: ModelZoo | None = None, threads: int = 1, chunk_seconds: float = CHUNK_S,
                progress: ProgressFn | None = None, cancel: Callable[[], bool] | None = None,
                start: int = 0, stop: int | None = None) -> Reconstruction:
    """Rebuild the 12 standard leads of ``rec`` (samples ``start``..``stop``) from the model's three inputs,
    in memory: the blocks of :func:`reconstruct_blocks` collected, then the trust (whole-span features)
    and, when the recording has its own 12 leads, the metrics against them."""
    zoo = zoo or load_zoo()
    card = zoo.get(model) if isinstance(model, str) else model
    inputs = tuple(inputs) if inputs else card.input_leads
    _check_inputs(rec, inputs, card)
    stop = rec.n_samples if stop is None else min(int(stop), rec.n_samples)
    start = max(0, int(start))
    members = network_members(card, zoo)
    out = np.empty((12, max(0, stop - start)), np.float32)
    whole = (stop - start) / rec.fs <= WHOLE_TRUST_S  # else per-block trust (bounded memory, as streamed)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    each: list[np.ndarray] = []
    per_block: list[dict[str, LeadTrust]] = []
    for blk in reconstruct_blocks(rec, card, zoo=zoo, threads=threads, start=start, stop=stop,
                                  chunk_seconds=chunk_seconds, progress=progress, cancel=cancel,
                                  with_trust=not whole):
        out[:, blk.start - start: blk.stop - start] = blk.signals
        if blk.trust:
            per_block.append(blk.trust)
        if card.trust is not None and whole:
            xs.append(blk.x_pre)
            ys.append(blk.net)
            if blk.members is not None:
                each.append(blk.members)
    trust = None
    if not whole:
        trust = summarise_trust(per_block)
    elif card.trust is not None or card.architecture == "personal":
        x_pre = np.concatenate(xs, axis=1).astype(np.float64) if xs else np.zeros((3, 0))
        y = np.concatenate(ys, axis=1) if ys else np.zeros((len(members[0].output_leads), 0), np.float32)
        trust = lead_trust(card, members[0].output_leads, x_pre, y,
                           np.concatenate(each, axis=2) if each else None)
    del xs, ys, each
    meta = replace(rec.meta, reconstruction=card_provenance(card, rec.meta.source),
                   comments=rec.meta.comments + (model_sentence(card),))
    result = Recording(out, rec.fs, STANDARD_12, stream_roles(card), meta=meta)
    truth = None
    metrics = None
    notes: tuple[str, ...] = ()
    if all(n in rec.leads for n in STANDARD_12):
        made = [n for n in STANDARD_12 if rec.role(n) == Role.RECONSTRUCTED]
        if made:  # a saved reconstruction: its estimated leads are no ground truth for another estimate
            notes = (f"no ground truth: {', '.join(made)} in this file are themselves reconstructed",)
        else:
            sel = rec.select(list(STANDARD_12)) if isinstance(rec, Recording) else None
            sig = read_block(rec, STANDARD_12, start, stop) if sel is None else sel.signals[:, start:stop]
            truth = Recording(sig, rec.fs, STANDARD_12, tuple(rec.role(n) for n in STANDARD_12), meta=rec.meta)
            metrics = compare(_condition(result, spec := preprocessing_spec(card)), _condition(truth, spec))
            notes = (f"metrics computed after {spec.describe()} on reconstruction and truth alike",)
    return Reconstruction(result, card, inputs, truth, metrics, preprocessing_spec(card), notes, trust)


TRUST_WINDOW_S = 10.0  # the trust model was fitted on 10 s records: a block's trust is that of its first 10 s
# Up to this long, trust features are those of the whole span (as the trust model was fitted: whole records
# of 10 s); longer spans get one figure per block, summarised (their features would need the whole span in
# float64: 0.4 GB an hour).
WHOLE_TRUST_S = 300.0


def summarise_trust(blocks: list[dict[str, LeadTrust]]) -> dict[str, LeadTrust] | None:
    """Per lead, the median of the blocks' expected R; low confidence when it is below the threshold, that is
    when most blocks are."""
    if not blocks:
        return None
    out = {}
    for n, first in blocks[0].items():
        vals = [b[n] for b in blocks if n in b]
        low = sum(t.low_confidence for t in vals) > len(vals) / 2
        out[n] = LeadTrust(float(np.median([t.expected_r for t in vals])), low, first.basis)
    return out


def block_trust(card: ModelCard, blk: Block) -> dict[str, LeadTrust] | None:
    """The trust of one block on its own, from its first :data:`TRUST_WINDOW_S` (long recordings: a figure per
    minute instead of one whole-record figure, which would need every sample's features at once)."""
    if card.trust is None and card.architecture != "personal":
        return None
    k = int(round(TRUST_WINDOW_S * card.fs))
    each = None if blk.members is None else blk.members[:, :, :k]
    return lead_trust(card, card.output_leads, np.asarray(blk.x_pre[:, :k], np.float64), blk.net[:, :k], each)


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
        terms = [float(c) * np.asarray(inputs[m], np.float64) for c, m in zip(coef, card.input_leads, strict=True)
                 if c]
        acc = terms[0]  # summed in order, in place: the same sums as np.sum over them, without stacking them
        for t in terms[1:]:
            acc += t
        sig[n] = acc
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


def reconstruct_stream(rec: Any, model: ModelCard | str, *, zoo: ModelZoo | None = None, threads: int = 1,
                       chunk_seconds: float = CHUNK_S, progress: ProgressFn | None = None,
                       cancel: Callable[[], bool] | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (start sample, 12 x n block at the recording's rate) in time order: :func:`reconstruct_blocks`
    without the model-rate parts."""
    for blk in reconstruct_blocks(rec, model, zoo=zoo, threads=threads, chunk_seconds=chunk_seconds,
                                  progress=progress, cancel=cancel):
        yield blk.start, blk.signals


def stream_roles(card: ModelCard) -> tuple[Role, ...]:
    exact = set(exact_consequences(card.input_leads))
    return tuple(Role.MEASURED if n in card.input_leads else Role.DERIVED if n in exact else Role.RECONSTRUCTED
                 for n in STANDARD_12)
