"""Agreement between a reconstruction and the truth, per lead and per record."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .recording import Recording, Role


def pearson_r(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 2:
        return float("nan")
    a, b = a[ok] - a[ok].mean(), b[ok] - b[ok].mean()
    den = np.sqrt(np.dot(a, a) * np.dot(b, b))
    return float(np.dot(a, b) / den) if den > 0 else float("nan")


def rmse_uv(a: np.ndarray, b: np.ndarray) -> float:
    """Root-mean-square difference in microvolts; inputs are in mV."""
    d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    d = d[np.isfinite(d)]
    return float(np.sqrt(np.mean(d * d)) * 1000.0) if d.size else float("nan")


@dataclass(frozen=True)
class LeadMetric:
    lead: str
    role: str  # measured | derived | reconstructed
    r: float
    rmse_uv: float


@dataclass(frozen=True)
class RecordMetrics:
    leads: tuple[LeadMetric, ...]

    def by_role(self, role: Role) -> list[LeadMetric]:
        return [m for m in self.leads if m.role == role.value]

    def median_r(self, role: Role | None = None) -> float:
        ms = self.leads if role is None else self.by_role(role)
        vals = [m.r for m in ms if np.isfinite(m.r)]
        return float(np.median(vals)) if vals else float("nan")

    def median_rmse(self, role: Role | None = None) -> float:
        ms = self.leads if role is None else self.by_role(role)
        vals = [m.rmse_uv for m in ms if np.isfinite(m.rmse_uv)]
        return float(np.median(vals)) if vals else float("nan")

    def summary(self) -> dict:
        """Reconstructed-only figures first: the 12-lead median hides the error."""
        out = {}
        for key, role in (("reconstructed", Role.RECONSTRUCTED), ("derived", Role.DERIVED),
                          ("measured", Role.MEASURED), ("all_12", None)):
            out[key] = {"n_leads": len(self.leads if role is None else self.by_role(role)),
                        "median_r": self.median_r(role), "median_rmse_uv": self.median_rmse(role)}
        return out

    def to_dict(self) -> dict:
        return {"summary": self.summary(), "leads": [asdict(m) for m in self.leads]}


def compare(result: Recording, truth: Recording, skip_s: float = 0.0) -> RecordMetrics:
    """Per-lead R and RMSE for every lead of ``result`` that ``truth`` also has.

    Both must share a sampling rate; the shorter length is used. ``skip_s``
    drops the first and last seconds (filter edges) when asked.
    """
    if abs(result.fs - truth.fs) > 1e-6:
        raise ValueError(f"sampling rates differ: {result.fs} vs {truth.fs}")
    n = min(result.n_samples, truth.n_samples)
    k = int(round(skip_s * result.fs))
    sl = slice(k, n - k if k else n)
    out = []
    for name, role in zip(result.leads, result.roles, strict=True):
        if name not in truth.leads:
            continue
        a, b = result.lead(name)[sl], truth.lead(name)[sl]
        out.append(LeadMetric(name, role.value, pearson_r(a, b), rmse_uv(a, b)))
    return RecordMetrics(tuple(out))


LOW_R = 0.8  # R below this: a lead not to be read clinically (the share of such leads is a headline figure)


class MetricsPerBlock:
    """R and RMSE per lead and block (a minute) of a streamed reconstruction, summarised at the end.

    Why per block: a day's conditioned signals never exist in memory at once, and one R over 24 h would not
    say how often a lead was poor. Each block is conditioned (``condition``: the model's filters, on
    reconstruction and truth alike) and its first and last ``edge_s`` are left out (filter edges).
    """

    def __init__(self, leads: tuple[str, ...], roles: tuple[Role, ...], fs: float, condition, edge_s: float = 1.0):
        self.leads, self.roles = tuple(leads), tuple(roles)
        self.condition, self.edge = condition, int(round(edge_s * fs))
        self.r: list[list[float]] = [[] for _ in self.leads]
        self.rmse: list[list[float]] = [[] for _ in self.leads]

    def add(self, result: np.ndarray, truth: np.ndarray) -> None:
        """One block: ``result`` and ``truth`` are len(leads) x n, the same samples."""
        if result.shape[1] <= 2 * self.edge + 1:
            return  # a last sliver shorter than the filter edges says nothing
        a = self.condition(result)[:, self.edge: result.shape[1] - self.edge]
        b = self.condition(truth)[:, self.edge: result.shape[1] - self.edge]
        for i in range(len(self.leads)):
            self.r[i].append(pearson_r(a[i], b[i]))
            self.rmse[i].append(rmse_uv(a[i], b[i]))

    @property
    def n_blocks(self) -> int:
        return len(self.r[0]) if self.r else 0

    def metrics(self) -> RecordMetrics | None:
        """Per lead, the median over blocks (None when no block was long enough)."""
        if not self.n_blocks:
            return None

        def med(v: list[float]) -> float:
            f = [x for x in v if np.isfinite(x)]
            return float(np.median(f)) if f else float("nan")

        return RecordMetrics(tuple(LeadMetric(n, role.value, med(r), med(e)) for n, role, r, e
                                   in zip(self.leads, self.roles, self.r, self.rmse, strict=True)))

    def share_low(self) -> dict[str, float]:
        """Per lead, the share of blocks with R below :data:`LOW_R`."""
        return {n: float(np.mean([x < LOW_R for x in r if np.isfinite(x)])) if r else float("nan")
                for n, r in zip(self.leads, self.r, strict=True)}
