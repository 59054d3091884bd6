"""Run several lead configurations on one recording and compare them lead by lead (no Qt).

Used by ``ecgrecon compare`` and the viewer's comparison dialog, so both show
the same numbers. A configuration is run when the recording has its three
input leads or can derive them from its electrodes (a body surface map).
Scores come from :func:`ecgrecon.inference.reconstruct` (the card's
preprocessing on reconstruction and truth alike).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .errors import Cancelled, EcgReconError, InputError
from .leads import STANDARD_12
from .modelcard import ModelCard, ModelZoo, load_zoo
from .recording import Recording


@dataclass(frozen=True)
class ConfigResult:
    configuration: str
    model: str
    inputs: tuple[str, ...]
    r: dict[str, float]  # lead -> Pearson R
    rmse_uv: dict[str, float]
    roles: dict[str, str]
    reconstructed_median_r: float
    reconstructed_median_rmse_uv: float
    signals: np.ndarray | None = field(default=None, repr=False, compare=False)  # 12 x n reconstruction
    expected_r: dict[str, float] = field(default_factory=dict)  # trust signal per reconstructed lead
    low_confidence: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        leads = {}
        for n in STANDARD_12:
            if n not in self.r:
                continue
            leads[n] = {"r": self.r[n], "rmse_uv": self.rmse_uv[n], "role": self.roles[n]}
            if n in self.expected_r:
                leads[n].update(expected_r=self.expected_r[n], low_confidence=n in self.low_confidence)
        return {"configuration": self.configuration, "model": self.model, "inputs": list(self.inputs),
                "reconstructed_median_r": self.reconstructed_median_r,
                "reconstructed_median_rmse_uv": self.reconstructed_median_rmse_uv, "leads": leads}


def derivable(rec: Recording, inputs) -> bool:
    from .bspm import can_derive

    return all(n in rec.leads or (rec.electrodes is not None and can_derive(rec.electrodes, n)) for n in inputs)


def _pick(zoo: ModelZoo, inputs: tuple[str, ...], arch: str | None) -> ModelCard | None:
    """The pipeline's model-choice rule, or None where no model fits."""
    from .errors import ModelError
    from .pipeline import choose_model

    try:
        return choose_model(zoo, inputs, arch, None, inputs)
    except ModelError:
        return None


def resolve_configs(rec: Recording, zoo: ModelZoo, configs: list[str] | None = None, arch: str | None = None,
                    layout=None) -> list[ModelCard]:
    """Model cards to run: the named configurations (name like "EASI" / "I-II-V2", or inputs "E-S,A-S,A-I"),
    else one model per configuration the recording supports."""
    from .bspm import parse_input_spec

    if not configs:
        out, seen = [], set()
        for c in zoo.cards:
            if c.input_leads in seen or not derivable(rec, c.input_leads):
                continue
            card = _pick(zoo, c.input_leads, arch)
            if card is not None:
                seen.add(c.input_leads)
                out.append(card)
        if not out:
            raise InputError("no installed model's inputs can be taken from this recording", rec.meta.source or None)
        return out
    out = []
    for name in configs:
        by_name = [c for c in zoo.cards if c.configuration.lower() == name.strip().lower()]
        if by_name:
            inputs = by_name[0].input_leads
        elif "," in name:
            inputs = parse_input_spec(name, layout)
        else:
            have = ", ".join(sorted({c.configuration for c in zoo.cards})) or "none installed"
            raise InputError(f"no configuration {name!r} (installed: {have})")
        card = _pick(zoo, tuple(inputs), arch)
        if card is None:
            raise InputError(f"no {arch + ' ' if arch else ''}model takes inputs {','.join(inputs)}")
        if not derivable(rec, card.input_leads):
            raise InputError(f"configuration {card.configuration} needs leads {','.join(card.input_leads)}, which "
                             "this recording lacks", rec.meta.source or None)
        out.append(card)
    return out


@dataclass(frozen=True)
class ConfigJob:
    """One configuration to run on the recording: a job for :func:`ecgrecon.batch.run_records`."""

    card: ModelCard
    recording: Recording = field(repr=False, compare=False)
    zoo: ModelZoo = field(repr=False, compare=False)
    keep_signals: bool = False
    force_patient: bool = False

    @property
    def path(self) -> str:  # how the batch runner names a job that failed
        return self.card.id


def run_config(job: ConfigJob, cancel: Callable[[], bool] | None = None) -> dict:
    """``{"result": ConfigResult}``, or ``{"error": message, "exception": the EcgReconError}``."""
    from . import pipeline
    from .recording import Role

    rec, card = job.recording, job.card
    try:
        if card.architecture == "personal":  # a patient pack: checked against the recording like anywhere
            plan = pipeline.plan(rec, patient=card.card_path.parent, force_patient=job.force_patient, zoo=job.zoo)
        else:
            plan = pipeline.plan(rec, inputs=card.input_leads, model_id=card.id, zoo=job.zoo)
        res = pipeline.run(plan, cancel=cancel)
    except Cancelled:
        raise
    except EcgReconError as e:  # kept whole, so the caller raises the same error (and exit code) it would alone
        return {"error": str(e), "exception": e}
    assert res.metrics is not None
    ms = {m.lead: m for m in res.metrics.leads}
    return {"result": ConfigResult(
        configuration=card.configuration, model=card.id, inputs=card.input_leads,
        r={n: ms[n].r for n in ms}, rmse_uv={n: ms[n].rmse_uv for n in ms}, roles={n: ms[n].role for n in ms},
        reconstructed_median_r=res.metrics.median_r(Role.RECONSTRUCTED),
        reconstructed_median_rmse_uv=res.metrics.median_rmse(Role.RECONSTRUCTED),
        signals=res.result.signals if job.keep_signals else None,
        expected_r={n: t.expected_r for n, t in (res.trust or {}).items()},
        low_confidence=res.low_confidence_leads())}


def run_configs(rec: Recording, cards: list[ModelCard], zoo: ModelZoo | None = None, *, keep_signals: bool = False,
                progress: Callable[[int, int, str], None] | None = None,
                cancel: Callable[[], bool] | None = None, force_patient: bool = False) -> list[ConfigResult]:
    """Reconstruct with each card; R/RMSE per lead against the recording's own 12 leads.

    The configurations run one after another through the project's batch runner (in this process: they share
    the recording), so ``ecgrecon compare`` and the viewer's comparison view run the same code.
    ``progress(done, total, id of the one starting)``; the last call has an empty id."""
    from .batch import run_records

    zoo = zoo or load_zoo()
    if not all(n in rec.leads for n in STANDARD_12):
        raise InputError("comparison needs the 12 standard leads (or a body surface map) as truth",
                         rec.meta.source or None)
    jobs = [ConfigJob(card, rec, zoo, keep_signals, force_patient) for card in cards]
    out = []
    if progress:
        progress(0, len(jobs), jobs[0].card.id if jobs else "")
    for item in run_records(lambda job: run_config(job, cancel), jobs, workers=1, cancel=cancel):
        res = item.result
        if "exception" in res:
            raise res["exception"]
        if "error" in res:  # an unexpected failure, already one line with the configuration's id
            raise RuntimeError(res["error"])
        out.append(res["result"])
        if progress:
            nxt = item.index + 1
            progress(nxt, len(jobs), jobs[nxt].card.id if nxt < len(jobs) else "")
    return out


def compare_configurations(rec: Recording, configs: list[str] | None = None, *, arch: str | None = None,
                           zoo: ModelZoo | None = None, layout=None, keep_signals: bool = False) -> list[ConfigResult]:
    zoo = zoo or load_zoo()
    return run_configs(rec, resolve_configs(rec, zoo, configs, arch, layout), zoo, keep_signals=keep_signals)
