"""Qt-free state of the viewer: what is open, what is chosen, what to draw.

The Qt widgets in :mod:`ecgrecon.gui` only read this state and map
millivolts to millimetres (through :mod:`ecgrecon.papergrid`) and
millimetres to pixels. Everything a test may want to check without a
display (captions, banner, table rows, the filtered page) is computed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .conditioning import FilterSpec, apply_filters
from .errors import ModelError
from .events import Event
from .inference import FILTER_MARGIN_S, Reconstruction, ReconstructionRequest
from .io import read_recording
from .leads import STANDARD_12
from .metrics import LeadMetric
from .modelcard import ARCH_LABEL, ModelCard, ModelZoo
from .papergrid import GAINS_MM_MV, LAYOUTS, ORDERS, SPEEDS_MM_S, PageGeometry, PaperSpec, build_page
from .recording import Recording, Role
from .style import ROLE_HEX, TRUTH_UNDER_HEX

MODES = ("side", "overlay")
MODE_LABEL = {"side": "side by side", "overlay": "overlay"}
PREFERRED_INPUTS = ("I", "II", "V2")
# None: the zoo default (ensemble where shipped), the same model the CLI and models/REPORT.md call default
PREFERRED_ARCH: str | None = None

# Role colours (hex, so the printer or any front end can share them) and the word shown with the lead name.
ROLE_COLOUR = dict(ROLE_HEX)  # one palette for screen and print (ecgrecon.style)
ROLE_TAG = {Role.MEASURED: "measured", Role.DERIVED: "derived", Role.RECONSTRUCTED: "reconstructed",
            Role.UNKNOWN: "recorded"}
ROLE_SHORT = {**ROLE_TAG, Role.RECONSTRUCTED: "recon"}  # on the paper, where space is short
TRUTH_COLOUR = "#000000"  # recorded leads in the side-by-side truth panel
TRUTH_UNDER_COLOUR = TRUTH_UNDER_HEX  # recorded leads under the reconstruction in overlay mode

NO_TRUTH_TEXT = "no ground truth"


def fmt_r(r: float | None) -> str:
    return "–" if r is None or not np.isfinite(r) else f"{r:.3f}"


def fmt_uv(v: float | None) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{v:.0f}"


@dataclass(frozen=True)
class Layer:
    """One recording drawn in a panel. ``style`` is "roles" (colour by role), "truth" or "under"."""

    recording: Recording
    style: str


@dataclass(frozen=True)
class Panel:
    title: str
    layers: tuple[Layer, ...]
    captions: bool = True  # show R/RMSE in lead captions


@dataclass(frozen=True)
class PageData:
    """Filtered samples of one recording for the visible page (plus nothing else)."""

    t0_s: float  # time of the first sample
    fs: float
    signals: dict[str, np.ndarray]

    def lead(self, name: str) -> np.ndarray:
        return self.signals[name]


@dataclass
class ViewerModel:
    """All viewer state. No Qt here: the widgets observe it and call its methods."""

    zoo: ModelZoo | None = None
    recording: Recording | None = None
    path: str | None = None
    inputs: tuple[str, ...] | None = None
    model_id: str | None = None
    layout: str = "3x4"
    order: str = "standard"
    speed_mm_s: float = 25.0
    gain_mm_mv: float = 10.0
    filters: FilterSpec = field(default_factory=FilterSpec)
    page_start_s: float = 0.0
    # overlay first: side by side at true size puts the reconstruction off screen on a 1400 px window
    mode: str = "overlay"
    rhythm_lead: str = "II"
    recon: Reconstruction | None = None
    threads: int = 1
    quality: tuple[str, ...] = ()  # reader warnings and signal-quality findings for the open recording
    _page_cache: dict = field(default_factory=dict, repr=False)
    # what changed: "recording", "models", "result", "view" (paper, layout, mode, filters), "page"
    changed: Event = field(default_factory=Event, repr=False, compare=False)

    # -- files -------------------------------------------------------------
    def open(self, path: str | Path) -> Recording:
        """Read a file (raises InputError with a one-line reason) and choose defaults for it."""
        rec = read_recording(path)
        self.set_recording(rec, str(path))
        return rec

    def set_recording(self, rec: Recording, path: str | None = None) -> None:
        if rec.electrodes is not None:  # a BSPM: offer every model input the electrodes can give
            from .bspm import with_all_inputs

            rec = with_all_inputs(rec, self.zoo)
        self.recording = rec
        self.path = path
        self.recon = None
        self.page_start_s = 0.0
        self._page_cache.clear()
        self.quality = quality_notes(rec)
        self.inputs, self.model_id = self.default_choice()
        self.changed.emit("recording")

    # -- models ------------------------------------------------------------
    def input_choices(self) -> list[tuple[str, ...]]:
        """Input configurations with at least one model that the recording can feed."""
        if self.zoo is None or self.recording is None:
            return []
        have = set(self.recording.leads)
        return [c for c in self.zoo.configurations() if set(c) <= have]

    def model_choices(self, inputs: tuple[str, ...] | None = None) -> list[ModelCard]:
        inputs = inputs if inputs is not None else self.inputs
        if self.zoo is None or not inputs:
            return []
        return self.zoo.for_inputs(inputs)

    def default_choice(self) -> tuple[tuple[str, ...] | None, str | None]:
        """{I, II, V2} when possible, else the first fit; the configuration's default model."""
        choices = self.input_choices()
        if not choices:
            return None, None
        pick = next((c for c in choices if set(c) == set(PREFERRED_INPUTS)), choices[0])
        cands = self.model_choices(pick)
        conv = [c for c in cands if c.architecture == PREFERRED_ARCH]
        card = conv[0] if conv else self.zoo.default_for(pick)
        return pick, card.id

    def choose(self, inputs: tuple[str, ...], model_id: str | None = None) -> None:
        """Set inputs (and a model for them: the given one or the default)."""
        inputs = tuple(inputs)
        cands = self.model_choices(inputs)
        if not cands:
            raise ModelError(f"no model takes inputs {','.join(inputs)}")
        if model_id is None:
            conv = [c for c in cands if c.architecture == PREFERRED_ARCH]
            model_id = (conv[0] if conv else self.zoo.default_for(inputs)).id
        elif model_id not in {c.id for c in cands}:
            raise ModelError(f"model {model_id} does not take inputs {','.join(inputs)}")
        self.inputs, self.model_id = inputs, model_id
        self.changed.emit("models")

    # -- patient calibration ---------------------------------------------------
    def calibrate(self, pack_dir: str | Path, patient_id: str | None = None) -> ModelCard:
        """Fit a patient pack from the open 12-lead recording for the chosen inputs; the pack joins the zoo."""
        from .calibration import calibrate

        if self.recording is None or self.zoo is None or not self.inputs:
            raise ModelError("open the patient's 12-lead recording and choose the three inputs first")
        base = self.zoo.get(self.model_id) if self.model_id else self.zoo.default_for(self.inputs)
        if base.architecture == "personal":
            base = self.zoo.default_for(self.inputs)
        card = calibrate(self.recording, base, self.zoo, Path(pack_dir), patient_id=patient_id)
        self._add_card(card)
        return card

    def use_pack(self, pack_dir: str | Path, *, force_patient: bool = False) -> str | None:
        """Load a patient pack for the open recording (refused with the reason when it does not fit) and choose it.

        Returns a note when the recording's patient cannot be checked."""
        from .calibration import check_pack_fits, load_pack

        if self.recording is None or self.zoo is None:
            raise ModelError("open the patient's recording first")
        card = load_pack(pack_dir, self.zoo)
        note = check_pack_fits(self.recording, card, force_patient=force_patient)
        self._add_card(card)
        self.inputs, self.model_id = card.input_leads, card.id
        return note

    def _add_card(self, card: ModelCard) -> None:
        cards = [c for c in self.zoo.cards if c.id != card.id] + [card]
        self.zoo = ModelZoo(cards, list(self.zoo.problems))
        self.changed.emit("models")

    def request(self) -> ReconstructionRequest:
        if self.recording is None:
            raise ModelError("open a recording first")
        if not self.model_id:
            have = ", ".join(self.recording.leads)
            cfgs = "; ".join(",".join(c) for c in self.zoo.configurations()) if self.zoo else ""
            raise ModelError(f"no installed model takes three of this recording's leads ({have}); "
                             f"models take: {cfgs or 'none installed'}")
        return ReconstructionRequest(self.recording, self.model_id, self.inputs, threads=self.threads)

    def set_result(self, recon: Reconstruction) -> None:
        self.recon = recon
        self._page_cache.clear()
        self.changed.emit("result")

    # -- what is shown ------------------------------------------------------
    @property
    def paper(self) -> PaperSpec:
        return PaperSpec(self.speed_mm_s, self.gain_mm_mv)

    @property
    def truth(self) -> Recording | None:
        if self.recon is not None:
            return self.recon.truth
        return self.recording

    def panels(self) -> tuple[Panel, ...]:
        rec = self.recording
        if rec is None:
            return ()
        if self.recon is None:
            return (Panel(f"Recorded: {', '.join(rec.leads)} (not reconstructed yet)", (Layer(rec, "truth"),), False),)
        res, truth = self.recon.result, self.recon.truth
        if truth is None:
            return (Panel(f"Reconstruction — {NO_TRUTH_TEXT} (file has only {', '.join(rec.leads)})",
                          (Layer(res, "roles"),)),)
        if self.mode == "overlay":
            return (Panel("Reconstruction (colour) over recorded 12-lead (grey)",
                          (Layer(truth, "under"), Layer(res, "roles"))),)
        return (Panel("Recorded 12-lead (ground truth)", (Layer(truth, "truth"),), False),
                Panel("Reconstruction", (Layer(res, "roles"),)))

    def geometry(self, width_mm: float = 280.0, height_mm: float = 160.0) -> PageGeometry:
        return build_page(self.layout, order=self.order, spec=self.paper, width_mm=width_mm, height_mm=height_mm,
                          page_start_s=self.page_start_s, rhythm_lead=self.rhythm_lead)

    @property
    def duration_s(self) -> float:
        return self.recording.duration if self.recording is not None else 0.0

    def page_seconds(self, width_mm: float = 280.0) -> float:
        return build_page(self.layout, spec=self.paper, width_mm=width_mm).page_seconds

    def max_page_start(self, width_mm: float = 280.0) -> float:
        return max(0.0, self.duration_s - self.page_seconds(width_mm))

    def set_page_start(self, t: float, width_mm: float = 280.0) -> float:
        new = float(min(max(0.0, t), self.max_page_start(width_mm)))
        if new != self.page_start_s:
            self.page_start_s = new
            self.changed.emit("page")
        return self.page_start_s

    def step_page(self, n: int, width_mm: float = 280.0) -> float:
        return self.set_page_start(self.page_start_s + n * self.page_seconds(width_mm), width_mm)

    def cycle_speed(self, step: int = 1) -> float:
        self.set_speed(_cycle(SPEEDS_MM_S, self.speed_mm_s, step))
        return self.speed_mm_s

    def cycle_gain(self, step: int = 1) -> float:
        self.set_gain(_cycle(GAINS_MM_MV, self.gain_mm_mv, step))
        return self.gain_mm_mv

    # validated setters: each announces "view" so every observer redraws from the same state
    def _set_number(self, attr: str, v: float, lo: float, hi: float, label: str) -> None:
        v = float(v)
        if not lo <= v <= hi:
            raise ValueError(f"{label} {v:g} is outside {lo:g}-{hi:g}")
        setattr(self, attr, v)
        self.changed.emit("view")

    def set_speed(self, v: float) -> None:
        self._set_number("speed_mm_s", v, 1.0, 200.0, "paper speed (mm/s)")

    def set_gain(self, v: float) -> None:
        self._set_number("gain_mm_mv", v, 0.5, 100.0, "gain (mm/mV)")

    def _choose(self, attr: str, value: str, allowed: tuple[str, ...], label: str) -> None:
        if value not in allowed:
            raise ValueError(f"{label} must be one of {allowed}")
        setattr(self, attr, value)
        self.changed.emit("view")

    def set_rhythm_lead(self, lead: str) -> None:
        self._choose("rhythm_lead", lead, STANDARD_12, "rhythm lead")

    def set_layout(self, layout: str) -> None:
        self._choose("layout", layout, LAYOUTS, "layout")

    def set_order(self, order: str) -> None:
        self._choose("order", order, ORDERS, "order")

    def set_mode(self, mode: str) -> None:
        self._choose("mode", mode, MODES, "mode")

    def set_filters(self, spec: FilterSpec) -> None:
        self.filters = spec
        self._page_cache.clear()
        self.changed.emit("view")

    # -- samples for the visible page ---------------------------------------
    def page_data(self, rec: Recording, t0: float, t1: float) -> PageData:
        """Samples of ``rec`` between t0 and t1, filtered with a margin so edges settle.

        Truth and reconstruction go through the same call, so they are filtered alike.
        """
        key = (id(rec), round(t0, 6), round(t1, 6), self.filters)
        hit = self._page_cache.get(key)
        if hit is not None and hit[0] is rec:
            return hit[1]
        fs = rec.fs
        a = max(0, int(np.floor(t0 * fs)))
        b = min(rec.n_samples, int(np.ceil(t1 * fs)) + 1)
        if self.filters.is_identity():
            block = rec.signals[:, a:b]
            lo = 0
        else:
            m = int(FILTER_MARGIN_S * fs)
            fa, fb = max(0, a - m), min(rec.n_samples, b + m)
            block = apply_filters(rec.signals[:, fa:fb], fs, self.filters)
            lo = a - fa
            block = block[:, lo: lo + (b - a)]
        data = PageData(a / fs, fs, {n: block[i] for i, n in enumerate(rec.leads)})
        if len(self._page_cache) > 8:
            self._page_cache.clear()
        self._page_cache[key] = (rec, data)
        return data

    # -- words --------------------------------------------------------------
    def metric(self, lead: str) -> LeadMetric | None:
        if self.recon is None or self.recon.metrics is None:
            return None
        name = lead.lstrip("-")
        return next((m for m in self.recon.metrics.leads if m.lead == name), None)

    def caption(self, lead: str, role: Role, with_metrics: bool = True, one_line: bool = False) -> str:
        """Lead label: "V1 (recon)" and the trust estimate, then R and RMSE (or "no ground truth").

        A low-confidence lead says so in capitals on the first line; its expected R moves to the second so a
        narrow 3x4 box is not overrun."""
        text = f"{lead} ({ROLE_SHORT[role]})"
        sep = "  " if one_line else "\n"
        lt = self.lead_trust(lead.lstrip("-")) if role == Role.RECONSTRUCTED else None
        second = []
        if lt is not None:
            if lt.low_confidence:
                text += "  LOW CONFIDENCE"
                second.append(f"expected R {lt.expected_r:.2f}")
            else:
                text += f"  exp. R {lt.expected_r:.2f}"
        if with_metrics and self.recon is not None:
            if self.recon.truth is None:
                if role == Role.RECONSTRUCTED:
                    second.append(NO_TRUTH_TEXT)
            else:
                m = self.metric(lead)
                if m is not None:
                    second.append(f"R {fmt_r(m.r)} · {fmt_uv(m.rmse_uv)} µV")
        return text + (sep + " · ".join(second) if second else "")

    def lead_trust(self, lead: str):
        """The trust estimate (inference.LeadTrust) of a reconstructed lead, or None."""
        if self.recon is None or not self.recon.trust:
            return None
        return self.recon.trust.get(lead)

    def is_low_confidence(self, lead: str) -> bool:
        lt = self.lead_trust(lead)
        return bool(lt is not None and lt.low_confidence)

    def banner(self) -> str:
        if self.recording is None:
            return "No recording open — File > Open or drop a file here"
        if self.recon is None:
            src = Path(self.path).name if self.path else (self.recording.meta.record_id or "recording")
            rec = self.recording
            if Role.RECONSTRUCTED in rec.roles:  # a reconstruction saved earlier: never let it pass as recorded
                p = rec.meta.reconstruction
                measured = [n for n, r in zip(rec.leads, rec.roles, strict=True) if r == Role.MEASURED]
                model = ("model not recorded in the file" if p is None else
                         f"model {p.model_id} v{p.model_version}"
                         + (f" ({ARCH_LABEL.get(p.architecture, p.architecture)})" if p.architecture else "")
                         + (f" — {p.patient_calibration}" if p.patient_calibration else ""))
                return (f"RECONSTRUCTED ECG (read from {src}) — measured: {', '.join(measured) or 'none marked'} — "
                        f"{model}")
            return f"RECORDED ECG (not reconstructed) — {src} — leads: {', '.join(rec.leads)}"
        from .inference import calibration_words

        c = self.recon.model
        calib = calibration_words(c)
        return (f"RECONSTRUCTED ECG — measured: {', '.join(c.input_leads)} — model {c.id} v{c.version} "
                f"({ARCH_LABEL.get(c.architecture, c.architecture)})" + (f" — {calib}" if calib else ""))

    def summary_text(self) -> str:
        """Reconstructed-only median R first: the 12-lead median hides the error."""
        if self.recon is None:
            return ""
        if self.recon.metrics is None and self.recon.notes and "themselves reconstructed" in self.recon.notes[0]:
            return (f"No ground truth: {self.recon.notes[0].split(': ', 1)[1]}, so the accuracy of this "
                    "reconstruction cannot be measured here.")
        if self.recon.metrics is None:
            return (f"No ground truth: the file has only {', '.join(self.recording.leads)}, so the accuracy of the "
                    "reconstructed leads (R, RMSE) cannot be measured here.")
        s = self.recon.metrics.summary()
        rc = s["reconstructed"]
        return (f"Reconstructed leads only (n={rc['n_leads']}): median R {fmt_r(rc['median_r'])}, "
                f"median RMSE {fmt_uv(rc['median_rmse_uv'])} µV   (all 12 leads, incl. measured: median R "
                f"{fmt_r(s['all_12']['median_r'])})")

    def table_rows(self) -> list[tuple[str, str, float | None, float | None]]:
        """(lead, role, R, RMSE µV) for each of the 12 leads; R/RMSE None without truth."""
        if self.recon is None:
            return []
        res = self.recon.result
        rows = []
        for lead in STANDARD_12:
            m = self.metric(lead)
            rows.append((lead, res.role(lead).value, m.r if m else None, m.rmse_uv if m else None))
        return rows

    def status_text(self) -> str:
        return f"{self.paper.describe()} · {self.layout} {self.order} · {MODE_LABEL[self.mode]} · " \
               f"filters: {self.filters.describe()}"


def quality_notes(rec: Recording) -> tuple[str, ...]:
    """What the reader fixed or noticed, then signal-quality findings (NaN, flat, saturated, Einthoven)."""
    from .quality import check_quality

    try:
        found = [q.message for q in check_quality(rec)]
    except Exception as e:  # a quality check must never stop a file from opening
        found = [f"quality check failed: {type(e).__name__}"]
    return tuple(rec.meta.warnings) + tuple(found)


def _cycle(values: tuple[float, ...], cur: float, step: int) -> float:
    try:
        i = values.index(cur)
    except ValueError:
        i = 1
    return values[(i + step) % len(values)]
