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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .errors import InputError
from .inference import ProgressFn, Reconstruction, reconstruct
from .modelcard import ModelCard, ModelZoo, load_zoo
from .recording import Recording

# Above this, twelve float32 leads are not held in memory: blocks stream to disk (about 2.9 h at 500 Hz).
STREAM_BYTES = 512_000_000


@dataclass(frozen=True)
class Plan:
    """What will run: the recording (inputs derived when it is a body surface map), the model, the zoo."""

    recording: Recording
    model: ModelCard
    zoo: ModelZoo = field(repr=False)
    notes: tuple[str, ...] = ()
    threads: int = 1

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.model.input_leads

    @property
    def streamed(self) -> bool:
        """Too long to hold 12 leads in memory: only a streaming sink can take it."""
        return 12 * self.recording.n_samples * 4 > STREAM_BYTES


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
         zoo: ModelZoo | None = None, threads: int = 1) -> Plan:
    """Choose the model and prepare the recording for it (immutable result)."""
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
    if rec.electrodes is not None:
        from .bspm import with_leads

        rec = with_leads(rec, card.input_leads)
    from .recording import Role

    made = [n for n in card.input_leads if n in rec.leads and rec.role(n) == Role.RECONSTRUCTED]
    if made:  # it would come out labelled "measured"
        measured = [n for n, r in zip(rec.leads, rec.roles, strict=True) if r == Role.MEASURED]
        what = "is a reconstruction" if len(made) == 1 else "are reconstructions"
        raise InputError(f"{', '.join(made)} in this file {what}, not measured; use measured leads as inputs "
                         f"({', '.join(measured) or 'none marked'})", rec.meta.source or None)
    return Plan(rec, card, zoo, tuple(notes), threads)


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
    """The whole 12-lead result in memory (a :class:`Reconstruction`)."""

    def consume(self, plan: Plan, progress=None, cancel=None) -> Reconstruction:
        if plan.streamed:
            raise InputError(f"recording is {plan.recording.duration / 3600:.1f} h long; too long to reconstruct in "
                             "memory: write it to a WFDB file (streamed)", plan.recording.meta.source or None)
        return reconstruct(plan.recording, plan.model, zoo=plan.zoo, threads=plan.threads, progress=progress,
                           cancel=cancel)


class PdfSink:
    """A printout of the reconstruction (``opts``: ecgrecon.printing.pdf.PrintOptions)."""

    def __init__(self, out: str | Path, opts, overwrite: bool = False) -> None:
        self.out, self.opts, self.overwrite = Path(out), opts, overwrite

    def consume(self, plan: Plan, progress=None, cancel=None):
        from .printing.pdf import PrintJob, write_pdf

        recon = MemorySink().consume(plan, progress, cancel)
        job = PrintJob(recon, self.opts)
        write_pdf(job, self.out, overwrite=self.overwrite)
        return job


class WfdbStreamSink:
    """A 12-lead WFDB file written block by block (any length in bounded memory); returns the roles."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)

    def consume(self, plan: Plan, progress=None, cancel=None):
        import numpy as np

        from .inference import card_provenance, model_sentence, reconstruct_stream, stream_roles
        from .io.wfdb_io import WfdbStreamWriter
        from .leads import STANDARD_12

        card = plan.model
        if self.out.suffix.lower() != ".hea":
            raise InputError(f"recording is {plan.recording.duration / 3600:.1f} h long; write it as WFDB (.hea), "
                             "which is streamed to disk", self.out)
        roles = stream_roles(card)
        from .io.provenance import to_lines
        from .recording import Meta, Recording

        # the same lines an in-memory WFDB output carries (a 1-sample stand-in holds the leads and roles)
        stand_in = Recording(np.zeros((12, 1), np.float32), plan.recording.fs, STANDARD_12, roles,
                             meta=Meta(reconstruction=card_provenance(card, plan.recording.meta.source)))
        comments = [model_sentence(card), *to_lines(stand_in)]
        writer = WfdbStreamWriter(self.out, STANDARD_12, plan.recording.fs, comments)
        try:
            for _, block in reconstruct_stream(plan.recording, card, zoo=plan.zoo, threads=plan.threads,
                                               progress=progress, cancel=cancel):
                writer.write(block)
        except BaseException:
            writer.abort()  # no half-written output left behind
            raise
        writer.close()
        return dict(zip(STANDARD_12, roles, strict=True))


def run(plan: Plan, sink: Sink | None = None, progress: ProgressFn | None = None,
        cancel: Callable[[], bool] | None = None):
    """Run a plan into a sink (default: in memory)."""
    return (sink or MemorySink()).consume(plan, progress, cancel)
