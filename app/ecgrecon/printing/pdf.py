"""Standard 12-lead ECG printouts as vector PDF (QPdfWriter + QPainter).

Everything is placed with :mod:`ecgrecon.papergrid` in millimetres and drawn
as vector lines and paths (no raster images): the pink grid (1 mm minor,
5 mm major), a 1 mV x 200 ms calibration pulse per row, the traces, labels,
a header (record, patient, acquisition, rate, duration, measured leads,
model, per-lead agreement when ground truth exists), a reconstruction banner
and a footer (speed, gain, filters actually applied, software version, page).

Scale: the writer runs at 1200 dpi with zero margins, so one millimetre is
exactly 1200/25.4 device units and the PDF maps a device unit to 0.06 pt.
Qt writes the page box in whole points (A4 landscape 842 x 595 pt rather than
841.89 x 595.28 pt, 0.05 % off); the grid's scale does not depend on it.

The same :class:`PrintJob.render` draws a page onto any QPainter (the viewer's
preview onto a QImage uses it), so preview and printout agree.

Qt is imported lazily: importing this module (``ecgrecon --help``) stays cheap.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .. import __version__
from ..conditioning import FilterSpec, filter_recording
from ..errors import EcgReconError, InputError
from ..leads import LIMB, STANDARD_12, complete_limb_leads
from ..modelcard import ARCH_LABEL
from ..papergrid import (
    LAYOUTS,
    MAJOR_MM,
    MINOR_MM,
    ORDERS,
    LeadBox,
    PageGeometry,
    PaperSpec,
    build_page,
    cal_zone_mm,
    decimate_minmax,
    page_seconds_for,
)
from ..recording import Recording, Role
from ..style import LOW_CONFIDENCE_HATCH_HEX, LOW_CONFIDENCE_HEX, ROLE_HEX, TRUTH_UNDER_HEX, rgb

PAPERS_MM = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}  # portrait width, height
TRUTH_PAGES = ("none", "separate", "overlay")
RESOLUTION_DPI = 1200
MARGIN_MM = 7.0
FILTER_PAD_S = 5.0  # signal kept either side of the page window so filters settle

# Colours (r, g, b). Grid: classic ECG paper pink/red.
GRID_MINOR = (248, 200, 200)
GRID_MAJOR = (228, 112, 112)
INK = rgb(ROLE_HEX[Role.MEASURED])
RECON_INK = rgb(ROLE_HEX[Role.RECONSTRUCTED])  # same palette as the screen (ecgrecon.style)
DERIVED_INK = rgb(ROLE_HEX[Role.DERIVED])
TRUTH_UNDER = rgb(TRUTH_UNDER_HEX)
LOW_CONF_INK = rgb(LOW_CONFIDENCE_HEX)  # low-confidence leads: words, hatch and dashed trace
LOW_CONF_HATCH = rgb(LOW_CONFIDENCE_HATCH_HEX)  # overlay page: measured truth beneath the reconstruction
GREY = (90, 90, 90)
BANNER_FILL = (255, 241, 204)
BANNER_EDGE = (200, 120, 0)
TRUTH_FILL = (232, 232, 232)

def _ink(role: Role | None) -> tuple[int, int, int]:
    return {Role.RECONSTRUCTED: RECON_INK, Role.DERIVED: DERIVED_INK}.get(role, INK)


MINOR_W_MM = 0.07
MAJOR_W_MM = 0.18
TRACE_W_MM = 0.22


@dataclass(frozen=True)
class PrintOptions:
    layout: str = "3x4"  # "3x4" (+ rhythm strip) | "6x2" | "12x1"
    order: str = "standard"  # | "cabrera"
    paper: str = "a4"  # | "letter"
    landscape: bool = True
    speed: float = 25.0  # mm/s
    gain: float = 10.0  # mm/mV
    rhythm_lead: str = "II"
    filters: FilterSpec = field(default_factory=FilterSpec)  # applied to every printed trace
    truth_page: str = "none"  # | "separate" | "overlay" (only when the recording has its own 12 leads)
    page_start_s: float = 0.0

    def __post_init__(self) -> None:
        for name, val, allowed in (("layout", self.layout, LAYOUTS), ("order", self.order, ORDERS),
                                   ("paper", self.paper, tuple(PAPERS_MM)),
                                   ("truth page", self.truth_page, TRUTH_PAGES)):
            if val not in allowed:
                raise InputError(f"{name} must be one of {', '.join(allowed)}, not {val!r}")
        if not (np.isfinite(self.speed) and 5.0 <= self.speed <= 100.0):
            raise InputError(f"paper speed must be between 5 and 100 mm/s, not {self.speed:g}")
        if not (np.isfinite(self.gain) and 1.0 <= self.gain <= 100.0):
            raise InputError(f"gain must be between 1 and 100 mm/mV, not {self.gain:g}")
        if self.rhythm_lead.lstrip("-") not in STANDARD_12:
            raise InputError(f"rhythm lead must be one of the 12 standard leads, not {self.rhythm_lead!r}")
        if not (np.isfinite(self.page_start_s) and self.page_start_s >= 0):
            raise InputError(f"page start must be >= 0 s, not {self.page_start_s:g}")

    @property
    def spec(self) -> PaperSpec:
        return PaperSpec(float(self.speed), float(self.gain))

    def page_size_mm(self) -> tuple[float, float]:
        w, h = PAPERS_MM[self.paper]
        return (h, w) if self.landscape else (w, h)


# ---------------------------------------------------------------------------------------------
# Qt application


_APP = None


def ensure_qt_app():
    """The running QGuiApplication, or a new QApplication (offscreen on Linux/BSD unless QT_QPA_PLATFORM is set)."""
    global _APP
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance()
    if app is not None:
        if not isinstance(app, QGuiApplication):
            raise EcgReconError("printing needs a QGuiApplication, but a plain QCoreApplication is running")
        return app
    # Printing needs fonts, not a screen. On X11/Wayland systems a missing or stale DISPLAY would
    # abort the process, so use the offscreen platform unless the user chose one; Windows and
    # macOS native platforms work without a desktop session.
    if sys.platform not in ("win32", "darwin"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:  # a widgets application, so that a viewer (or pytest-qt) started later in the process can use it
        from PySide6.QtWidgets import QApplication as _App
    except ImportError:  # pragma: no cover - QtGui-only installs
        _App = QGuiApplication
    _APP = _App(["ecgrecon"])
    return _APP


# ---------------------------------------------------------------------------------------------
# What goes on the pages


def _floor5(x: float) -> float:
    return float(np.floor(x / MAJOR_MM + 1e-9) * MAJOR_MM)


def _ceil5(x: float) -> float:
    return float(np.ceil(x / MAJOR_MM - 1e-9) * MAJOR_MM)


@dataclass(frozen=True)
class PageFrame:
    """Where the parts of a page sit, in mm from the page's top-left corner."""

    width_mm: float
    height_mm: float
    banner_y: float
    banner_h: float
    header_y: float
    grid_x: float
    grid_y: float
    footer_y: float
    geometry: PageGeometry


def page_frame(opts: PrintOptions, banner: bool = True) -> PageFrame:
    pw, ph = opts.page_size_mm()
    spec = opts.spec
    banner_h = 10.0 if banner else 0.0
    banner_y = MARGIN_MM - 2.0
    header_y = banner_y + banner_h + (1.5 if banner else 0.0)
    header_h = 21.0  # four lines of provenance + the clinical measurement line
    footer_h = 9.0
    grid_y = header_y + header_h
    avail_w = _floor5(pw - 2 * MARGIN_MM)
    avail_h = ph - grid_y - footer_h - MARGIN_MM + 2.0
    secs = page_seconds_for(opts.layout, spec, avail_w)
    width = min(avail_w, _ceil5(cal_zone_mm(spec) + secs * spec.speed_mm_s))
    geo = build_page(opts.layout, order=opts.order, spec=spec, width_mm=width, height_mm=avail_h,
                     page_start_s=opts.page_start_s, rhythm_lead=opts.rhythm_lead, page_seconds=secs)
    return PageFrame(pw, ph, banner_y, banner_h, header_y, (pw - geo.width_mm) / 2, grid_y,
                     grid_y + geo.height_mm + 2.0, geo)


def _page_measurements(main: Recording, recon, start: float, secs: float):
    """Measurements of the printed strip (and of the recorded ECG's same strip when there is one)."""
    from ..measurements import measure

    def strip(r: Recording):
        return r.crop(start, start + max(secs, 10.0))

    m = measure(strip(main))
    truth = getattr(recon, "truth", None)
    return m, (measure(strip(truth)) if truth is not None else None)


def print_span(opts: PrintOptions) -> tuple[float, float]:
    """(start, seconds) of the recording a page needs: the page, the strip its measurements read (10 s at least)
    and the display filters' margin on both sides. Printing reconstructs only this."""
    secs = max(page_frame(opts).geometry.page_seconds, 10.0)
    a = max(0.0, opts.page_start_s - FILTER_PAD_S)
    return a, opts.page_start_s + secs + FILTER_PAD_S - a


def _window(rec: Recording, start: float, secs: float, spec: FilterSpec) -> tuple[Recording, float]:
    """The page's time window (with a filter margin), filtered; returns (recording, its start time)."""
    a = max(0.0, start - (0.0 if spec.is_identity() else FILTER_PAD_S))
    b = start + secs + (0.0 if spec.is_identity() else FILTER_PAD_S)
    w = rec.crop(a, b)
    a = round(a * rec.fs) / rec.fs
    return filter_recording(w, spec), a


def _complete(rec: Recording) -> Recording:
    """Limb leads missing from a plain recording, computed from two measured ones, marked derived."""
    if all(n in rec.leads for n in LIMB):
        return rec
    sig = {n: rec.lead(n) for n in rec.leads}
    full = complete_limb_leads(sig)
    extra = [n for n in LIMB if n in full and n not in sig]
    if not extra:
        return rec
    return Recording(np.vstack([rec.signals] + [np.asarray(full[n], np.float32)[None] for n in extra]), rec.fs,
                     rec.leads + tuple(extra), rec.roles + (Role.DERIVED,) * len(extra), meta=rec.meta)


@dataclass
class _Page:
    kind: str  # "recon" | "truth" | "overlay" | "plain"
    rec: Recording  # the traces (windowed + filtered)
    t_off: float  # recording time of rec's first sample
    under: Recording | None = None  # overlay: measured truth beneath
    under_t_off: float = 0.0


def _provenance(recon, rec: Recording) -> dict | None:
    """Measured leads and model text for the banner; None for a recording with nothing reconstructed."""
    if recon is not None:
        from ..inference import calibration_words

        c = recon.model
        calib = calibration_words(c)
        return {"measured": tuple(recon.inputs),
                "model": f"{c.id} v{c.version}, {ARCH_LABEL.get(c.architecture, c.architecture)}"
                         + (f", {calib}" if calib else "")
                         + (" (one network: the long-recording default)" if recon.length_note else ""),
                "note": recon.length_note}
    if Role.RECONSTRUCTED not in rec.roles:
        return None
    p = rec.meta.reconstruction  # a reconstruction written by ecgrecon and read back: its file carried this
    if p is None:
        model = "unknown (not recorded in the file)"
    else:
        model = p.model_id + (f" v{p.model_version}" if p.model_version else "")
        if p.architecture:
            model += f", {ARCH_LABEL.get(p.architecture, p.architecture)}"
        if p.patient_calibration:
            model += f", {p.patient_calibration}"
    measured = tuple(n for n, r in zip(rec.leads, rec.roles, strict=True) if r == Role.MEASURED)
    # a long reconstruction read back: its header says which model the length switch ran instead of the default
    note = next((c.split(":", 1)[1].strip() for c in rec.meta.comments if c.startswith("model choice:")), "")
    return {"measured": measured, "model": model, "note": note}


class PrintJob:
    """A printout ready to draw: pages planned, signals windowed and filtered once."""

    def __init__(self, src, opts: PrintOptions | None = None, *, offset_s: float = 0.0,
                 recorded_s: float | None = None) -> None:
        """``offset_s``: recording time of ``src``'s first sample when it is a span of a longer recording (the
        page times stay the recording's); ``recorded_s``: that recording's length."""
        from ..inference import Reconstruction

        self.opts = opts = opts or PrintOptions()
        if isinstance(src, Reconstruction):
            self.recon, main = src, src.result
        elif isinstance(src, Recording):
            self.recon, main = None, src
        else:
            raise TypeError(f"cannot print a {type(src).__name__}")
        self.main = main
        self.offset_s = offset_s
        self.recorded_s = main.duration + offset_s if recorded_s is None else recorded_s
        self.provenance = _provenance(self.recon, main)
        start = opts.page_start_s - offset_s  # in ``main``'s own time
        if not 0 <= start < main.duration:
            raise InputError(f"page start {opts.page_start_s:g} s is past the recording's end "
                             f"({self.recorded_s:.2f} s)", main.meta.source or None)
        self.frame = page_frame(opts, banner=self.provenance is not None)
        geo = self.frame.geometry
        secs = geo.page_seconds
        rec, off = _window(main if self.recon else _complete(main), start, secs, opts.filters)
        off += offset_s
        if self.recon is None:
            self.pages = [_Page("plain", rec, off)]
        else:
            self.pages = [_Page("recon", rec, off)]
            truth = self.recon.truth
            if truth is not None and opts.truth_page != "none":
                truth = truth.with_roles(Role.MEASURED)
                t, t_off = _window(truth, start, secs, opts.filters)
                t_off += offset_s
                if opts.truth_page == "separate":
                    self.pages.append(_Page("truth", t, t_off))
                else:
                    self.pages.append(_Page("overlay", rec, off, under=t, under_t_off=t_off))
        self.measurements, self.truth_measurements = _page_measurements(main, self.recon, start, secs)
        self.printed_at = datetime.now(UTC)

    @property
    def truth_skipped(self) -> bool:
        """A truth page was asked for but the recording has no 12 leads of its own."""
        return self.opts.truth_page != "none" and not any(p.kind in ("truth", "overlay") for p in self.pages)

    def __len__(self) -> int:
        return len(self.pages)

    # -- drawing -----------------------------------------------------------------------------
    def render(self, painter, target=None, page: int = 0, *, background: bool = False) -> None:
        """Draw page ``page`` (0-based) into ``target`` (QRectF in painter coordinates; default:
        the painter's whole device, as for a PDF page). The page keeps its aspect ratio."""
        from PySide6.QtCore import QRectF

        if not 0 <= page < len(self.pages):
            raise IndexError(f"page {page} of {len(self.pages)}")
        fr = self.frame
        if target is None:
            dev = painter.device()
            target = QRectF(0, 0, dev.width(), dev.height())
        k = min(target.width() / fr.width_mm, target.height() / fr.height_mm)
        d = _Draw(painter, target.x(), target.y(), k)
        painter.save()
        try:
            if background:
                d.rect(0, 0, fr.width_mm, fr.height_mm, fill=(255, 255, 255))
            self._draw_page(d, self.pages[page], page)
        finally:
            painter.restore()

    def _draw_page(self, d: _Draw, pg: _Page, index: int) -> None:
        fr, geo, spec = self.frame, self.frame.geometry, self.opts.spec
        gx, gy = fr.grid_x, fr.grid_y
        self._grid(d, gx, gy, geo)
        for cal in geo.pulses:
            xs, ys = cal.path_mm()
            d.polyline(gx + xs, gy + ys, INK, TRACE_W_MM)
        d.clip(gx, gy, geo.width_mm, geo.height_mm)
        metrics = {m.lead: m for m in self.recon.metrics.leads} if (self.recon and self.recon.metrics) else {}
        trust = (self.recon.trust or {}) if (self.recon and pg.kind != "truth") else {}
        for box in geo.boxes:
            name = box.lead
            base = name.lstrip("-")
            if box.col > 0 and not box.rhythm:  # lead-change marker
                d.line(gx + box.x_mm, gy + box.baseline_mm - 3, gx + box.x_mm, gy + box.baseline_mm + 3, INK,
                       TRACE_W_MM)
            if pg.under is not None:
                self._trace(d, gx, gy, box, pg.under, pg.under_t_off, name, TRUTH_UNDER, spec, TRACE_W_MM * 1.6)
            present = base in pg.rec.leads
            role = pg.rec.role(base) if present else None
            colour = _ink(role)
            lt = trust.get(base) if role == Role.RECONSTRUCTED else None
            low = lt is not None and lt.low_confidence
            if present:
                self._trace(d, gx, gy, box, pg.rec, pg.t_off, name, colour, spec,
                            TRACE_W_MM * (0.8 if pg.under is not None else 1.0), dashed=low)
            label = name if present else f"{name} (not recorded)"
            if role == Role.RECONSTRUCTED:
                label += " (reconstructed)"
            elif role == Role.DERIVED:
                label += " (derived)"
            elif role == Role.MEASURED and pg.kind != "truth" and self.provenance is not None:
                label += " (measured)"
            elif pg.kind == "truth":
                label += " (recorded)"
            if pg.kind == "overlay" and base in metrics and role != Role.MEASURED:
                label += f"  R {metrics[base].r:.2f}"
            if box.rhythm:
                label = f"{label}  rhythm"
            # no background box: a label must never hide the previous lead's waveform
            d.text(gx + box.x_mm + 1.0, gy + box.y_mm + 3.6, label, 2.9, colour=colour, bold=True)
            if lt is not None:  # the trust estimate in words; hatched and the trace dashed when low
                words = f"LOW CONFIDENCE · expected R {lt.expected_r:.2f}" if low else f"expected R {lt.expected_r:.2f}"
                if low:
                    d.rect(gx + box.x_mm + 0.6, gy + box.y_mm + 4.4, min(box.width_mm - 1.2, 1.45 * len(words)),
                           3.3, fill=LOW_CONF_HATCH, hatch=True)
                d.text(gx + box.x_mm + 1.0, gy + box.y_mm + 7.0, words, 2.4, colour=LOW_CONF_INK if low else colour,
                       bold=low, max_w=box.width_mm - 2.0)
        d.noclip()
        self._banner(d, pg)
        self._header(d, pg)
        self._footer(d, pg, index)

    def _grid(self, d: _Draw, gx: float, gy: float, geo: PageGeometry) -> None:
        for step, colour, width in ((MINOR_MM, GRID_MINOR, MINOR_W_MM), (MAJOR_MM, GRID_MAJOR, MAJOR_W_MM)):
            xs, ys = geo.grid_lines(step)
            segs = [(gx + x, gy, gx + x, gy + geo.height_mm) for x in xs]
            segs += [(gx, gy + y, gx + geo.width_mm, gy + y) for y in ys]
            d.segments(segs, colour, width)

    @staticmethod
    def _trace(d: _Draw, gx, gy, box: LeadBox, rec: Recording, t_off: float, name: str, colour, spec,
               width, dashed: bool = False) -> None:
        from ..papergrid import lead_signal

        fs = rec.fs
        i0 = max(0, int(np.ceil((box.t0_s - t_off) * fs - 1e-6)))
        i1 = min(rec.n_samples, int(np.ceil((box.t1_s - t_off) * fs - 1e-6)))
        if i1 - i0 < 2:
            return
        v = lead_signal(rec, name)[i0:i1].astype(np.float64)
        idx = np.arange(i0, i1, dtype=np.float64)
        n_bins = int(box.width_mm * 10)  # at most 20 points per mm: finer than any printer resolves
        if v.size > 2 * n_bins and np.isfinite(v).all():
            pos, v = decimate_minmax(v, n_bins)
            idx = i0 + pos
        xs, ys = box.to_mm(t_off + idx / fs, v, spec)
        d.polyline(gx + xs, gy + ys, colour, width, dashed=dashed)

    # -- text blocks -------------------------------------------------------------------------
    def _banner(self, d: _Draw, pg: _Page) -> None:
        fr, prov = self.frame, self.provenance
        if fr.banner_h <= 0 or prov is None:
            return
        x, y, w, h = MARGIN_MM, fr.banner_y, fr.width_mm - 2 * MARGIN_MM, fr.banner_h
        meas = ", ".join(prov["measured"]) or "none recorded"
        if pg.kind == "truth":
            d.rect(x, y, w, h, fill=TRUTH_FILL, edge=GREY)
            d.text(x + 2, y + 4.3, "RECORDED 12-LEAD ECG — the ground truth recorded in the input file", 3.4,
                   bold=True, max_w=w - 4)
            d.text(x + 2, y + 8.4, "Shown for comparison with the reconstruction on page 1 (same time window, "
                                   "same filters). All traces on this page are recorded.", 2.5, max_w=w - 4)
            return
        d.rect(x, y, w, h, fill=BANNER_FILL, edge=BANNER_EDGE, width=0.4)
        head = "RECONSTRUCTED ECG" if pg.kind != "overlay" else "RECONSTRUCTED ECG — OVERLAY ON RECORDED ECG"
        d.text(x + 2, y + 4.3, f"{head} — measured leads: {meas}; other leads computed by model {prov['model']}",
               3.4, bold=True, max_w=w - 4)
        derived = [n for n in pg.rec.leads if pg.rec.role(n) == Role.DERIVED]
        limb = [n for n in prov["measured"] if n in LIMB]
        line2 = "Blue traces labelled (reconstructed) are model estimates, not measurements."
        if derived:
            src = f"measured {', '.join(limb)}" if len(limb) >= 2 else "two measured limb leads"
            line2 += f" Leads labelled (derived) are exact from {src} (Einthoven/Goldberger)."
        if pg.kind == "plain":
            line2 += " Roles as recorded in the file."
        low = self.recon.low_confidence_leads() if self.recon is not None else ()
        if low:
            line2 += (f" Dashed leads marked LOW CONFIDENCE ({', '.join(low)}) should not be read clinically "
                      "(the model's trust signal).")
        if pg.kind == "overlay":
            line2 = ("Grey: recorded 12-lead (ground truth); blue: reconstruction drawn over it; "
                     "R per reconstructed lead is for the whole recording.")
        d.text(x + 2, y + 8.4, line2, 2.5, max_w=w - 4)

    def _header(self, d: _Draw, pg: _Page) -> None:
        fr, m, r = self.frame, self.main.meta, self.recon
        x, y = MARGIN_MM, fr.header_y + 3.2
        geo = fr.geometry
        avail = fr.width_mm - 2 * MARGIN_MM
        cw = float(np.clip((avail - 125.0) / 12, 6.5, 9.5))  # narrower columns on portrait pages
        table_w = 16.0 + 12 * cw if (r is not None and r.metrics is not None) else 0.0
        left_w = fr.width_mm - 2 * MARGIN_MM - table_w - (4.0 if table_w else 0.0)
        rid = m.record_id or (Path(m.source).stem if m.source else "unnamed recording")
        patient = " · ".join(f"{k.capitalize()} {v}" for k, v in m.patient.items() if str(v).strip())
        d.text(x, y, rid + (f"    {patient}" if patient else ""), 3.4, bold=True, max_w=left_w)
        when = m.start_time.strftime("%Y-%m-%d %H:%M:%S") if m.start_time else "not recorded in file"
        t0, t1 = geo.page_start_s, geo.page_start_s + geo.page_seconds
        d.text(x, y + 4.0, f"Acquired: {when} · {self.main.fs:g} Hz · {self.recorded_s:.1f} s recorded · "
                           f"this page {t0:.1f}–{min(t1, self.offset_s + self.main.duration):.1f} s", 2.6,
               max_w=left_w)
        prov = self.provenance
        if prov is not None:
            d.text(x, y + 8.0, f"Measured (input) leads: {', '.join(prov['measured']) or 'none recorded'} · "
                               f"Model {prov['model']}", 2.6, max_w=left_w)
        else:
            roles = sorted({ro.value for ro in pg.rec.roles})
            d.text(x, y + 8.0, f"Leads in file: {', '.join(self.main.leads)} · roles: {', '.join(roles)}", 2.6,
                   max_w=left_w)
        src = Path(m.source).name if m.source else "(in memory)"
        note = (prov or {}).get("note")
        d.text(x, y + 12.0, f"Source file: {src}" + (f" · {note}" if note else ""), 2.6, colour=GREY, max_w=left_w)
        if table_w:
            self._metrics_table(d, fr.width_mm - MARGIN_MM - table_w, fr.header_y + 0.5, table_w, cw)
        self._measurement_line(d, x, y + 16.4, fr.width_mm - 2 * MARGIN_MM)

    def _measurement_line(self, d: _Draw, x: float, y: float, w: float) -> None:
        """HR, PR, QRS, QT/QTc and axes as on a clinical printout; * marks figures that use reconstructed
        leads; the recorded ECG's figures beside them when there is one."""
        from ..measurements import headline

        m = self.measurements
        if m is None:
            return
        text = " · ".join(f"{k} {v}" for k, v in headline(m)) + "°"
        star = any(m.dependent_on_reconstructed().values()) and "*" in text
        d.text(x, y, text, 2.9, bold=True, colour=RECON_INK if star else INK, max_w=w * 0.59)
        tail = "  * uses reconstructed leads" if star else ""
        t = self.truth_measurements
        if t is not None:
            short = dict(headline(t, mark_reconstructed=False))
            tail += f"   recorded ECG: PR {short['PR']} · QRS {short['QRS']} · QT/QTcB {short['QT/QTcB']}"
        if m.fiducials is None:
            tail = "  " + next(iter(m.reasons.values()), "not measurable")
        d.text(x + w * 0.6, y, tail.strip(), 2.5, colour=GREY, max_w=w * 0.4)

    def _metrics_table(self, d: _Draw, x: float, y: float, w: float, cw: float) -> None:
        r = self.recon
        ms = {mm.lead: mm for mm in r.metrics.leads}
        d.text(x, y + 2.6, "vs recorded", 2.3, bold=True, colour=GREY)
        d.text(x, y + 6.2, "R", 2.5, bold=True)
        d.text(x, y + 9.8, "RMSE µV", 2.5, bold=True)
        for i, n in enumerate(STANDARD_12):
            cx = x + 16.0 + i * cw + cw / 2
            mm = ms.get(n)
            role = Role(mm.role) if mm else Role.UNKNOWN
            col = _ink(role)
            d.text(cx, y + 2.6, n, 2.4, bold=True, colour=col, align="center")
            rv = "–" if mm is None or not np.isfinite(mm.r) else f"{mm.r:.2f}"
            ev = "–" if mm is None or not np.isfinite(mm.rmse_uv) else f"{mm.rmse_uv:.0f}"
            d.text(cx, y + 6.2, rv, 2.4, colour=col, align="center")
            d.text(cx, y + 9.8, ev, 2.4, colour=col, align="center")
        s = r.metrics.summary()["reconstructed"]
        d.line(x, y + 3.6, x + w, y + 3.6, GREY, 0.1)
        # the key figure: as large as the table, in the reconstruction's colour
        d.text(x, y + 13.8, f"Reconstructed leads: median R {s['median_r']:.2f}, median RMSE "
                            f"{s['median_rmse_uv']:.0f} µV", 2.8, bold=True, colour=RECON_INK, max_w=w)
        d.text(x, y + 16.0, f"(whole recording, after {r.preprocessing.describe()})", 2.0, colour=GREY, max_w=w)

    def _footer(self, d: _Draw, pg: _Page, index: int) -> None:
        fr, o = self.frame, self.opts
        x, y, w = MARGIN_MM, fr.footer_y + 2.6, fr.width_mm - 2 * MARGIN_MM
        d.text(x, y, f"Speed {o.speed:g} mm/s · Gain {o.gain:g} mm/mV · Grid 1 mm / 5 mm · "
                     f"Calibration pulse 1 mV × 200 ms · Layout {o.layout} ({o.order})", 2.5, max_w=w - 40)
        d.text(x + w, y, f"Page {index + 1}/{len(self.pages)}", 2.5, bold=True, align="right")
        d.text(x, y + 3.7, f"Filters applied to the printed traces: {o.filters.describe()}", 2.3, colour=GREY,
               max_w=w - 62)
        if self.recon is not None and pg.kind != "truth":
            d.text(x, y + 7.2, "Model input preprocessing (shapes the reconstructed leads only): "
                               f"{self.recon.preprocessing.describe()}", 2.3, colour=GREY, max_w=w - 62)
        d.text(x + w, y + 3.8, f"ecgrecon {__version__} · printed {self.printed_at:%Y-%m-%d %H:%M} UTC", 2.3,
               colour=GREY, align="right")


class _Draw:
    """Millimetre drawing on a QPainter: x_dev = x0 + mm * k."""

    def __init__(self, painter, x0: float, y0: float, k: float) -> None:
        self.p, self.x0, self.y0, self.k = painter, float(x0), float(y0), float(k)

    def _pen(self, colour, width_mm: float):
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QColor, QPen

        pen = QPen(QColor(*colour))
        pen.setWidthF(max(width_mm * self.k, 1e-3))
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return pen

    def segments(self, segs, colour, width_mm: float) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QPainterPath

        path = QPainterPath()
        k, x0, y0 = self.k, self.x0, self.y0
        for a, b, c, e in segs:
            path.moveTo(x0 + a * k, y0 + b * k)
            path.lineTo(x0 + c * k, y0 + e * k)
        self.p.setPen(self._pen(colour, width_mm))
        self.p.setBrush(Qt.BrushStyle.NoBrush)
        self.p.drawPath(path)

    def line(self, x1, y1, x2, y2, colour, width_mm: float) -> None:
        self.segments([(x1, y1, x2, y2)], colour, width_mm)

    def polyline(self, xs, ys, colour, width_mm: float, *, dashed: bool = False) -> None:
        """A path through the points; NaN values lift the pen. ``dashed``: a low-confidence lead."""
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QPainterPath

        px = (self.x0 + np.asarray(xs, np.float64) * self.k).tolist()
        py = (self.y0 + np.asarray(ys, np.float64) * self.k).tolist()
        path = QPainterPath()
        down = False
        for a, b in zip(px, py, strict=True):
            if b != b:  # NaN: gap in the recording
                down = False
            elif down:
                path.lineTo(a, b)
            else:
                path.moveTo(a, b)
                down = True
        pen = self._pen(colour, width_mm)
        pen.setWidthF(max(pen.widthF(), 1.0))  # low-resolution previews: traces at least one pixel wide
        if dashed:
            pen.setDashPattern([6.0, 3.0])  # in pen widths: 2 mm dash, 1 mm gap at 0.33 mm
        self.p.setPen(pen)
        self.p.setBrush(Qt.BrushStyle.NoBrush)
        self.p.drawPath(path)

    def rect(self, x, y, w, h, *, fill=None, edge=None, width: float = 0.2, hatch: bool = False) -> None:
        from PySide6.QtCore import QRectF, Qt
        from PySide6.QtGui import QBrush, QColor

        self.p.setPen(self._pen(edge, width) if edge else Qt.PenStyle.NoPen)
        if hatch and fill:
            self.p.setBrush(QBrush(QColor(*fill), Qt.BrushStyle.BDiagPattern))
        else:
            self.p.setBrush(QBrush(QColor(*fill)) if fill else Qt.BrushStyle.NoBrush)
        self.p.drawRect(QRectF(self.x0 + x * self.k, self.y0 + y * self.k, w * self.k, h * self.k))

    def clip(self, x, y, w, h) -> None:
        from PySide6.QtCore import QRectF

        self.p.setClipRect(QRectF(self.x0 + x * self.k, self.y0 + y * self.k, w * self.k, h * self.k))

    def noclip(self) -> None:
        self.p.setClipping(False)

    def _font(self, size_mm: float, bold: bool):
        from PySide6.QtGui import QFont

        f = QFont("DejaVu Sans")
        f.setStyleHint(QFont.StyleHint.SansSerif)
        f.setPixelSize(max(1, int(round(size_mm * self.k))))
        f.setBold(bold)
        f.setFeature(QFont.Tag("liga"), 0)  # no "fi" ligatures: the PDF's text stays searchable
        return f

    def text(self, x, y, s: str, size_mm: float, *, colour=INK, bold: bool = False, align: str = "left",
             bg=None, max_w: float | None = None) -> None:
        """Text with its baseline at y; shrunk (never cut) to fit ``max_w`` mm."""
        from PySide6.QtCore import QPointF
        from PySide6.QtGui import QColor, QFontMetricsF

        font = self._font(size_mm, bold)
        fm = QFontMetricsF(font, self.p.device())
        w = fm.horizontalAdvance(s) / self.k
        if max_w is not None and w > max_w and w > 0:
            font = self._font(size_mm * max_w / w * 0.98, bold)
            fm = QFontMetricsF(font, self.p.device())
            w = fm.horizontalAdvance(s) / self.k
        if align == "right":
            x -= w
        elif align == "center":
            x -= w / 2
        if bg is not None:
            asc = fm.ascent() / self.k
            desc = fm.descent() / self.k
            self.rect(x - 0.5, y - asc - 0.2, w + 1.0, asc + desc + 0.4, fill=bg)
        self.p.setFont(font)
        self.p.setPen(QColor(*colour))
        self.p.drawText(QPointF(self.x0 + x * self.k, self.y0 + y * self.k), s)


# ---------------------------------------------------------------------------------------------
# Public entry points


def render_page(painter, target, src, opts: PrintOptions | None = None, page: int = 0, *,
                background: bool = True) -> PrintJob:
    """Draw page ``page`` of the printout of ``src`` into ``target`` (QRectF) on ``painter``.

    For the viewer's preview: ``img = QImage(w, h, ...); p = QPainter(img);
    render_page(p, QRectF(0, 0, w, h), recon, opts)``. Returns the job, whose
    ``render`` draws further pages without recomputing.
    """
    job = PrintJob(src, opts)
    job.render(painter, target, page, background=background)
    return job


def _protected(src) -> set[Path]:
    out: set[Path] = set()
    metas = [getattr(src, "result", src).meta]
    truth = getattr(src, "truth", None)
    if truth is not None:
        metas.append(truth.meta)
    for m in metas:
        if m.source:
            p = Path(m.source).resolve()
            out |= {p, p.with_suffix(".dat"), p.with_suffix(".hea")} if p.suffix.lower() in (".hea", ".dat") \
                else {p}
    return out


def write_pdf(recon, out: str | Path, opts: PrintOptions | None = None, *, overwrite: bool = False) -> Path:
    """Print ``recon`` (a Reconstruction, a Recording as measured, or a PrintJob) to the PDF ``out``.

    Written atomically (temporary file beside ``out``, then renamed); an existing ``out`` is replaced
    only with ``overwrite=True``, and never when it is the input file.
    """
    from ..io.common import atomic_path

    job = recon if isinstance(recon, PrintJob) else None
    src = job.recon or job.main if job else recon
    out = Path(out)
    if out.suffix.lower() != ".pdf":
        raise InputError("printout must be a .pdf file", out)
    if out.resolve() in _protected(src):
        raise InputError("refusing to write over the input file; choose another output name", out)
    if out.is_dir():
        raise InputError("is a folder; give a file name ending in .pdf", out)
    if out.exists() and not overwrite:
        raise InputError("output exists; pass --force to replace it", out)
    if not out.parent.is_dir():
        raise InputError("folder does not exist", out.parent)
    job = job or PrintJob(recon, opts)
    ensure_qt_app()
    with atomic_path(out, ".pdf") as tmp:
        _write(job, tmp)
    return out


def _write(job: PrintJob, path: Path) -> None:
    from PySide6.QtCore import QMarginsF, QRectF
    from PySide6.QtGui import QPageLayout, QPageSize, QPainter, QPdfWriter

    opts = job.opts
    w = QPdfWriter(str(path))
    w.setResolution(RESOLUTION_DPI)
    w.setCreator(f"ecgrecon {__version__}")
    m = job.main.meta
    w.setTitle(f"{'Reconstructed ' if job.recon else ''}12-lead ECG {m.record_id}".strip())
    size = QPageSize(QPageSize.PageSizeId.A4 if opts.paper == "a4" else QPageSize.PageSizeId.Letter)
    orient = QPageLayout.Orientation.Landscape if opts.landscape else QPageLayout.Orientation.Portrait
    if not w.setPageLayout(QPageLayout(size, orient, QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter)):
        raise EcgReconError("Qt refused the page layout")
    p = QPainter()
    if not p.begin(w):
        raise InputError("cannot write the PDF (Qt could not open it)", path)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        k = RESOLUTION_DPI / 25.4
        pw, ph = opts.page_size_mm()
        for i in range(len(job.pages)):
            if i:
                w.newPage()
            job.render(p, QRectF(0, 0, pw * k, ph * k), i)
    finally:
        p.end()


__all__ = ["PrintOptions", "PrintJob", "PageFrame", "page_frame", "write_pdf", "render_page", "ensure_qt_app",
           "PAPERS_MM", "TRUTH_PAGES", "RESOLUTION_DPI"]
