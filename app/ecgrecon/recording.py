"""The Recording: signals in millivolts with lead names, roles and metadata.

Everything downstream (lead algebra, inference, metrics, views, printouts)
takes and returns Recordings; nothing here knows about Qt or files.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

import numpy as np


class Role(StrEnum):
    """Where a lead's samples came from. Shown to clinicians on every view."""

    MEASURED = "measured"
    DERIVED = "derived"  # exact consequence of measured leads (Einthoven/Goldberger)
    RECONSTRUCTED = "reconstructed"  # estimated by a model
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Electrodes:
    """Electrode-level data: unipolar potentials (mV) against ``reference``.

    BSPM files carry this; standard ECG files usually do not.
    """

    potentials: np.ndarray  # (n_electrodes, n_samples) float32 mV
    names: tuple[str, ...]
    reference: str = "unknown"  # e.g. "WCT" (Wilson central terminal)
    layout: str | None = None  # name of an electrode layout in resources/

    def __post_init__(self) -> None:
        pot = np.asarray(self.potentials, dtype=np.float32)
        if pot.ndim != 2 or pot.shape[0] != len(self.names):
            raise ValueError("potentials must be (n_electrodes, n_samples) matching names")
        object.__setattr__(self, "potentials", pot)


@dataclass(frozen=True)
class Provenance:
    """How a reconstructed recording was made; travels with it through every file format
    (:mod:`ecgrecon.io.provenance` encodes and decodes it per format)."""

    model_id: str
    model_version: str = ""
    architecture: str = ""
    measured_leads: tuple[str, ...] = ()
    preprocessing: str = ""
    patient_calibration: str = ""
    software: str = ""
    source: str = ""

    FIELDS = ("model_id", "model_version", "architecture", "measured_leads", "preprocessing",
              "patient_calibration", "software", "source")

    def to_dict(self) -> dict[str, str | list[str]]:
        return {k: (list(v) if isinstance(v := getattr(self, k), tuple) else v) for k in self.FIELDS}

    @classmethod
    def from_dict(cls, d: dict) -> Provenance | None:
        if not isinstance(d, dict) or not str(d.get("model_id", "")).strip():
            return None
        ml = d.get("measured_leads") or ()
        if isinstance(ml, str):
            ml = [x for x in ml.split(",") if x]
        return cls(**{k: str(d.get(k) or "") for k in cls.FIELDS if k != "measured_leads"},
                   measured_leads=tuple(str(x) for x in ml))


@dataclass(frozen=True)
class Meta:
    record_id: str = ""
    source: str = ""  # file the recording was read from
    start_time: datetime | None = None
    patient: dict[str, str] = field(default_factory=dict)  # age, sex, ... when present
    units_found: tuple[str, ...] = ()  # units as written in the file, per lead
    comments: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # what the reader noticed and fixed or could not
    provenance: dict[str, str] = field(default_factory=dict)  # notes: synthetic data, BSPM reference...
    reconstruction: Provenance | None = None  # set on a reconstructed recording: model, inputs, preprocessing


@dataclass(frozen=True)
class Recording:
    """Signals (leads x samples, float32 mV), sampling rate and lead names."""

    signals: np.ndarray
    fs: float
    leads: tuple[str, ...]
    roles: tuple[Role, ...] = ()
    meta: Meta = field(default_factory=Meta)
    electrodes: Electrodes | None = None

    def __post_init__(self) -> None:
        sig = np.asarray(self.signals, dtype=np.float32)
        if sig.ndim == 1:
            sig = sig[None, :]
        if sig.ndim != 2:
            raise ValueError("signals must be 2-D (leads x samples)")
        leads = tuple(str(n) for n in self.leads)
        if sig.shape[0] != len(leads):
            raise ValueError(f"{sig.shape[0]} signal rows but {len(leads)} lead names")
        if len(set(leads)) != len(leads):
            raise ValueError(f"duplicate lead names: {leads}")
        if not (np.isfinite(self.fs) and self.fs > 0):
            raise ValueError(f"sampling rate must be positive, got {self.fs}")
        roles = tuple(Role(r) for r in self.roles) or (Role.UNKNOWN,) * len(leads)
        if len(roles) != len(leads):
            raise ValueError("one role per lead")
        object.__setattr__(self, "signals", sig)
        object.__setattr__(self, "leads", leads)
        object.__setattr__(self, "roles", roles)
        object.__setattr__(self, "fs", float(self.fs))

    # -- shape -------------------------------------------------------------
    @property
    def n_samples(self) -> int:
        return int(self.signals.shape[1])

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.n_samples / self.fs

    @property
    def time(self) -> np.ndarray:
        return np.arange(self.n_samples) / self.fs

    # -- access ------------------------------------------------------------
    def has(self, *names: str) -> bool:
        return all(n in self.leads for n in names)

    def index(self, name: str) -> int:
        try:
            return self.leads.index(name)
        except ValueError:
            raise KeyError(f"lead {name!r} not in recording (has {', '.join(self.leads)})") from None

    def lead(self, name: str) -> np.ndarray:
        return self.signals[self.index(name)]

    def role(self, name: str) -> Role:
        return self.roles[self.index(name)]

    def select(self, names: list[str] | tuple[str, ...]) -> Recording:
        idx = [self.index(n) for n in names]
        return replace(
            self,
            signals=self.signals[idx],
            leads=tuple(names),
            roles=tuple(self.roles[i] for i in idx),
        )

    def with_roles(self, roles: dict[str, Role] | Role) -> Recording:
        if isinstance(roles, Role):
            new = (roles,) * len(self.leads)
        else:
            new = tuple(roles.get(n, r) for n, r in zip(self.leads, self.roles, strict=True))
        return replace(self, roles=new)

    def crop(self, start_s: float = 0.0, stop_s: float | None = None) -> Recording:
        a = max(0, int(round(start_s * self.fs)))
        b = self.n_samples if stop_s is None else min(self.n_samples, int(round(stop_s * self.fs)))
        el = self.electrodes
        if el is not None:
            el = replace(el, potentials=el.potentials[:, a:b])
        return replace(self, signals=self.signals[:, a:b], electrodes=el)
