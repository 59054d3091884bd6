"""The reconstruction pipeline every front end uses: plan, then run into a sink.

    plan(recording, inputs=..., arch=..., model_id=..., patient=...) -> Plan (immutable)
    run(plan, sink, progress, cancel)                                -> what the sink returns

One model-choice rule (:func:`choose_model`), one input parser (:func:`parse_inputs`),
one overwrite guard (:func:`guard_output`); body surface maps get their bipolar
inputs derived here, so `reconstruct`, `print`, `evaluate`, `compare` and the viewer
agree. Qt-free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from .errors import InputError
from .inference import (
    LeadTrust,
    ProgressFn,
    Reconstruction,
    preprocessing_spec,
    read_block,
    reconstruct,
    reconstruct_blocks,
)
from .metrics import MetricsPerBlock, RecordMetrics
from .modelcard import ModelCard, ModelZoo, load_zoo
from .recording import Recording, Role

# From this length on, the default model is one network, not the ensemble (README "Long recordings"): the
# ensemble's second network doubles the time for a pooled external median R gain of 0.001-0.02, and a day must
# take seconds. From (not above) one hour, so that an hour's recording runs exactly as a day's does.
SINGLE_NETWORK_S = 3600.0
# Longer than this, a WFDB output is written block by block as it is computed (memory: a few chunks, whatever
# the length); shorter ones are collected in memory for the full sidecar (metrics against the file's own
# leads, measurements). Ten minutes of twelve leads are 14 MB.
STREAM_S = 600.0
# A recording with its own twelve leads is compared with them as a whole (metrics and measurements in the
# sidecar), which needs both in memory: up to this long it is collected in memory whatever the output; longer,
# it is streamed and scored per minute (MetricsPerBlock).
TRUTH_IN_MEMORY_S = 3600.0
# Formats other than WFDB are written from memory: 12 float32 leads of this many hours at 500 Hz is 0.5 GB.
MEMORY_LIMIT_S = 2.9 * 3600


@dataclass(frozen=True)
class Plan:
    """What will run: the recording (inputs derived when it is a body surface map), the model, the zoo, and
    the span to reconstruct (samples ``start``..``stop`` of the recording)."""

    recording: Recording  # or a record read in blocks (ecgrecon.io.wfdb_blocks): same attributes, no signals
    model: ModelCard
    zoo: ModelZoo = field(repr=False)
    notes: tuple[str, ...] = ()
    threads: int = 1
    start: int = 0
    stop: int | None = None
    length_note: str = ""  # set when the length switch chose the model: said on screen, in files and on paper

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.model.input_leads

    @property
    def span(self) -> tuple[int, int]:
        n = self.recording.n_samples
        return self.start, n if self.stop is None else min(self.stop, n)

    @property
    def duration(self) -> float:
        """Seconds to reconstruct."""
        a, b = self.span
        return (b - a) / self.recording.fs

    @property
    def streamed(self) -> bool:
        """Long enough that a WFDB output is written block by block (:data:`STREAM_S`; a recording with its own
        twelve leads only above :data:`TRUTH_IN_MEMORY_S`, so that it is compared with them)."""
        from .leads import STANDARD_12

        own = all(n in self.recording.leads for n in STANDARD_12)
        return self.duration > (max(STREAM_S, TRUTH_IN_MEMORY_S) if own else STREAM_S)


def model_for_length(zoo: ModelZoo, card: ModelCard, seconds: float) -> ModelCard:
    """The length switch: from :data:`SINGLE_NETWORK_S` on, an ensemble default runs as its convolutional
    member alone."""
    if card.architecture != "ensemble" or seconds < SINGLE_NETWORK_S:
        return card
    members = zoo.members(card)
    conv = [m for m in members if m.architecture == "conv"]
    return (conv or members)[0]


def length_note(card: ModelCard, ensemble: ModelCard, seconds: float) -> str:
    """The sentence every output of a switched model carries."""
    return (f"{seconds / 3600:.1f} h to reconstruct: model {card.id} alone, the convolutional member of "
            f"{ensemble.id} (one network from {SINGLE_NETWORK_S / 3600:g} h on, for speed)")


def span_samples(rec, start_s: float = 0.0, duration_s: float | None = None) -> tuple[int, int]:
    """``--start``/``--duration`` in seconds -> samples a..b of ``rec``; a span outside the recording is refused."""
    n, fs = rec.n_samples, rec.fs
    if not start_s >= 0 or (duration_s is not None and not duration_s > 0):
        raise InputError("--start must be >= 0 s and --duration > 0 s", rec.meta.source or None)
    a = int(round(start_s * fs))
    if a >= n:
        raise InputError(f"--start {start_s:g} s is past the recording's end ({n / fs:.1f} s)",
                         rec.meta.source or None)
    b = n if duration_s is None else min(n, a + max(1, int(round(duration_s * fs))))
    return a, b


def parse_inputs(text: str | None, layout=None, zoo: ModelZoo | None = None) -> tuple[str, ...] | None:
    """``i,ii,v2`` -> (I, II, V2); ``E-S`` is electrode E minus S; a configuration name (I-II-V2, EASI)
    stands for its inputs."""
    if not text:
        return None
    from .bspm import parse_input_spec

    if "," not in text:  # a configuration name of an installed model
        for c in (zoo or load_zoo()).cards:
            if c.configuration.lower() == text.strip().lower():
                return c.input_leads
    return parse_input_spec(text, layout)


def choose_model(zoo: ModelZoo, inputs: tuple[str, ...] | None, arch: str | None, model_id: str | None,
                 leads) -> ModelCard:
    """The model-choice rule: an explicit id; else the default (or ``arch``) model for the inputs; without
    inputs, the one input set the recording's leads fit."""
    if model_id:
        return zoo.get(model_id)
    if inputs is None:
        fits = [c for c in zoo.compatible(leads) if c.architecture != "personal"]
        if not fits:
            raise InputError(f"no model fits this recording's leads ({', '.join(leads)}); give --inputs")
        if len({c.input_leads for c in fits}) > 1:
            opts = "; ".join(sorted({",".join(c.input_leads) for c in fits}))
            raise InputError(f"several input sets fit ({opts}); choose one with --inputs")
        inputs = fits[0].input_leads
    return zoo.default_for(inputs, arch)


def plan(recording: Recording, *, inputs: tuple[str, ...] | None = None, arch: str | None = None,
         model_id: str | None = None, patient: str | Path | None = None, force_patient: bool = False,
         zoo: ModelZoo | None = None, threads: int = 1, start_s: float = 0.0,
         duration_s: float | None = None) -> Plan:
    """Choose the model and prepare the recording for it (immutable result). ``start_s``/``duration_s``: the
    span to reconstruct; its length decides the length switch (:func:`model_for_length`) when the model
    was not chosen by name (``model_id``, ``arch`` or ``patient``)."""
    zoo = zoo or load_zoo()
    rec = recording
    notes: list[str] = []
    if rec.electrodes is not None:  # body surface map: derive the requested leads from the electrodes
        from .bspm import with_leads

        if inputs is None and not model_id and not patient:
            from .comparison import derivable

            names = sorted({c.configuration for c in zoo.cards if derivable(rec, c.input_leads)})
            raise InputError("a body surface map: choose the three inputs with --inputs, e.g. E-S,A-S,A-I, or a "
                             f"configuration ({', '.join(names) or 'none installed'})", rec.meta.source or None)
        rec = with_leads(rec, inputs or ())
    if patient:
        from .calibration import check_pack_fits, load_pack

        card = load_pack(patient, zoo)
        note = check_pack_fits(rec, card, force_patient=force_patient)
        if note:
            notes.append(note)
        if card.id not in {c.id for c in zoo.cards}:
            zoo = ModelZoo([*zoo.cards, card], list(zoo.problems))
    else:
        card = choose_model(zoo, inputs, arch, model_id, rec.leads)
    a, b = span_samples(rec, start_s, duration_s)
    note = ""
    if not (model_id or arch or patient):
        long_card = model_for_length(zoo, card, (b - a) / rec.fs)
        if long_card is not card:
            note = length_note(long_card, card, (b - a) / rec.fs)
            notes.append(note)
            card = long_card
    if rec.electrodes is not None:
        from .bspm import with_leads

        rec = with_leads(rec, card.input_leads)
    made = [n for n in card.input_leads if n in rec.leads and rec.role(n) == Role.RECONSTRUCTED]
    if made:  # it would come out labelled "measured"
        measured = [n for n, r in zip(rec.leads, rec.roles, strict=True) if r == Role.MEASURED]
        what = "is a reconstruction" if len(made) == 1 else "are reconstructions"
        raise InputError(f"{', '.join(made)} in this file {what}, not measured; use measured leads as inputs "
                         f"({', '.join(measured) or 'none marked'})", rec.meta.source or None)
    return Plan(rec, card, zoo, tuple(notes), threads, a, b, note)


def guard_output(out: str | Path, inputs: list[str | Path] | tuple[str | Path, ...], force: bool,
                 companions: tuple[str, ...] = (), extra: tuple[str | Path, ...] = ()) -> None:
    """The one overwrite guard: never write over an input, its signal files (also those its header names under
    another name) or its sidecar; an existing output only with ``force``. ``companions`` are suffixes written
    beside ``out`` (".dat" for WFDB); ``extra`` other files written with it (the metrics sidecar)."""
    from .io import _wfdb_signal_files

    out = Path(out)
    targets = [out, *(out.with_suffix(s) for s in companions), *map(Path, extra)]
    protected = set()
    for p in inputs:
        p = Path(p)
        protected |= {p.resolve(), p.with_suffix(".dat").resolve(), p.with_suffix(".mat").resolve()}
        protected |= {f.resolve() for f in _wfdb_signal_files(p.with_suffix(".hea"))}
        protected.add(p.with_name(p.stem + ".metrics.json").resolve())
    for t in targets:
        if t.resolve() in protected:
            raise InputError("refusing to write over the input file; choose another output name", t)
        if t.exists() and not force:
            raise InputError("output exists; pass --force to replace it", t)


class Sink(Protocol):
    def consume(self, plan: Plan, progress: ProgressFn | None, cancel: Callable[[], bool] | None): ...


class MemorySink:
    """The plan's span as one 12-lead :class:`Reconstruction` in memory (the blocks collected)."""

    def consume(self, plan: Plan, progress=None, cancel=None) -> Reconstruction:
        if plan.duration > MEMORY_LIMIT_S:
            raise InputError(f"{plan.duration / 3600:.1f} h is too long to reconstruct in memory: write it to a "
                             "WFDB file (.hea, streamed) or give --start/--duration",
                             plan.recording.meta.source or None)
        a, b = plan.span
        res = reconstruct(plan.recording, plan.model, zoo=plan.zoo, threads=plan.threads, progress=progress,
                          cancel=cancel, start=a, stop=b)
        extra = plan_comments(plan)
        if not extra:
            return res
        meta = replace(res.result.meta, comments=res.result.meta.comments + extra)
        return replace(res, result=replace(res.result, meta=meta), length_note=plan.length_note)


class PdfSink:
    """A printout of the reconstruction (``opts``: ecgrecon.printing.pdf.PrintOptions). Only the plan's span is
    reconstructed (the print command asks for the page plus nothing more)."""

    def __init__(self, out: str | Path, opts, overwrite: bool = False) -> None:
        self.out, self.opts, self.overwrite = Path(out), opts, overwrite

    def consume(self, plan: Plan, progress=None, cancel=None):
        from .printing.pdf import PrintJob, write_pdf

        recon = MemorySink().consume(plan, progress, cancel)
        job = PrintJob(recon, self.opts, offset_s=plan.span[0] / plan.recording.fs,
                       recorded_s=plan.recording.duration)
        write_pdf(job, self.out, overwrite=self.overwrite)
        return job


@dataclass(frozen=True)
class StreamResult:
    """What a streamed output holds besides its samples."""

    roles: dict[str, Role]
    trust: dict[str, dict] | None  # per reconstructed lead: the distribution of its per-minute expected R
    n_samples: int
    metrics: RecordMetrics | None = None  # against the file's own twelve leads: medians of per-minute figures
    share_low_r: dict[str, float] | None = None  # per lead, the share of minutes with R below 0.8
    metrics_note: str = ""


class TrustPerBlock:
    """The trust of a long output: one expected R per lead and block (a minute), summarised at the end.

    Why per block: the card's trust model was fitted on 10 s strips, and over a day the signal's quality
    changes; one figure over 24 h would say neither where nor how often a lead is not to be read."""

    def __init__(self, card: ModelCard) -> None:
        self.card = card
        self.values: dict[str, list[float]] = {}
        self.low: dict[str, list[bool]] = {}

    def add(self, trust: dict[str, LeadTrust] | None) -> None:
        for n, t in (trust or {}).items():
            self.values.setdefault(n, []).append(t.expected_r)
            self.low.setdefault(n, []).append(t.low_confidence)

    def summary(self) -> dict[str, dict] | None:
        if not self.values:
            return None
        import numpy as np

        out = {}
        for n, v in self.values.items():
            a = np.asarray(v)
            out[n] = {"median_expected_r": float(np.median(a)), "p10_expected_r": float(np.quantile(a, 0.1)),
                      "share_of_blocks_low_confidence": float(np.mean(self.low[n])),
                      "low_confidence": bool(np.median(a) < (self.card.trust.threshold if self.card.trust else 0)),
                      "n_blocks": int(a.size)}
        return out


def stream_comments(plan: Plan) -> list[str]:
    """The header lines of a streamed output: the same lines an in-memory WFDB output carries, plus the span
    and the length switch when they apply."""
    import numpy as np

    from .inference import card_provenance, model_sentence, stream_roles
    from .io.provenance import to_lines
    from .leads import STANDARD_12
    from .recording import Meta

    rec, card = plan.recording, plan.model
    stand_in = Recording(np.zeros((12, 1), np.float32), rec.fs, STANDARD_12, stream_roles(card),
                         meta=Meta(reconstruction=card_provenance(card, rec.meta.source)))
    return [model_sentence(card), *to_lines(stand_in), *plan_comments(plan)]


def plan_comments(plan: Plan) -> tuple[str, ...]:
    """What an output says about its span (when it is not the whole input) and about the length switch."""
    rec = plan.recording
    a, b = plan.span
    out = []
    if (a, b) != (0, rec.n_samples):
        out.append(f"reconstructed span: {a / rec.fs:g} s to {b / rec.fs:g} s of {rec.meta.source or 'the input'}")
    if plan.length_note:
        out.append(f"model choice: {plan.length_note}")
    return tuple(out)


class WfdbStreamSink:
    """A 12-lead WFDB file written block by block as the blocks are computed (any length in bounded memory,
    atomically: a failure or a cancel leaves no output). Returns a :class:`StreamResult`."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)

    def consume(self, plan: Plan, progress=None, cancel=None) -> StreamResult:
        from .inference import stream_roles
        from .io.wfdb_blocks import BlockWriter
        from .leads import STANDARD_12

        card = plan.model
        if self.out.suffix.lower() != ".hea":
            raise InputError(f"recording is {plan.duration / 3600:.1f} h long; write it as WFDB (.hea), "
                             "which is streamed to disk", self.out)
        rec = plan.recording
        writer = BlockWriter(self.out, STANDARD_12, rec.fs, stream_comments(plan))
        trust = TrustPerBlock(card)
        scores = truth_scores(plan)
        a, b = plan.span
        try:
            for blk in reconstruct_blocks(rec, card, zoo=plan.zoo, threads=plan.threads, start=a,
                                          stop=b, progress=progress, cancel=cancel, with_trust=True):
                writer.write(blk.signals)
                trust.add(blk.trust)
                if scores is not None:
                    scores.add(blk.signals, read_block(rec, STANDARD_12, blk.start, blk.stop))
        except BaseException:
            writer.abort()  # no half-written output left behind
            raise
        writer.close()
        roles = dict(zip(STANDARD_12, stream_roles(card), strict=True))
        if scores is None:
            return StreamResult(roles, trust.summary(), writer.n)
        spec = preprocessing_spec(card)
        return StreamResult(roles, trust.summary(), writer.n, scores.metrics(), scores.share_low(),
                            f"per minute after {spec.describe()} on reconstruction and truth alike (the first "
                            f"and last second of each minute left out), median over {scores.n_blocks} minutes")


def truth_scores(plan: Plan) -> MetricsPerBlock | None:
    """A per-minute scorer against the recording's own twelve leads, when it has them as measured (a saved
    reconstruction's estimated leads are no ground truth)."""
    from .conditioning import apply_filters
    from .inference import stream_roles
    from .leads import STANDARD_12

    rec = plan.recording
    if not all(n in rec.leads for n in STANDARD_12) or any(rec.role(n) == Role.RECONSTRUCTED for n in STANDARD_12):
        return None
    spec = preprocessing_spec(plan.model)
    return MetricsPerBlock(STANDARD_12, stream_roles(plan.model), rec.fs,
                           lambda x: apply_filters(x, rec.fs, spec))


def run(plan: Plan, sink: Sink | None = None, progress: ProgressFn | None = None,
        cancel: Callable[[], bool] | None = None):
    """Run a plan into a sink (default: in memory)."""
    return (sink or MemorySink()).consume(plan, progress, cancel)
