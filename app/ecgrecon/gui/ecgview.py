"""ECG paper panels drawn with pyqtgraph, in millimetres from :mod:`ecgrecon.papergrid`.

A panel's view coordinates are page millimetres (y down); the widget is sized
to ``width_mm * px_per_mm`` pixels so one millimetre on the grid is one
millimetre on a calibrated screen. Traces are min/max decimated to the
pixels of their box and the PlotDataItems are reused between pages.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsItem, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ..papergrid import MAJOR_MM, MINOR_MM, PageGeometry, decimate_minmax, lead_signal
from ..recording import Role
from ..style import LOW_CONFIDENCE_HEX
from ..viewmodel import ROLE_COLOUR, TRUTH_COLOUR, TRUTH_UNDER_COLOUR, Panel, ViewerModel

PAPER_BG = "#fffafa"
MINOR_COLOUR = "#f5cccc"
MINOR_FAINT = "#fae6e6"
MAJOR_COLOUR = "#e08c8c"

pg.setConfigOptions(antialias=True, background=PAPER_BG, foreground="k")


def _grid_xy(geom: PageGeometry, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Line segments (connect='pairs') for a grid every ``step`` mm."""
    xs, ys = geom.grid_lines(step)
    w, h = geom.width_mm, geom.height_mm
    vx = np.repeat(xs, 2)
    vy = np.tile([0.0, h], xs.size)
    hx = np.tile([0.0, w], ys.size)
    hy = np.repeat(ys, 2)
    return np.concatenate([vx, hx]), np.concatenate([vy, hy])


class _CaliperViewBox(pg.ViewBox):
    """Left-button drag draws calipers on the paper; right click removes them (the paper never pans)."""

    def __init__(self) -> None:
        super().__init__()
        self.on_drag = None
        self.on_clear = None

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802
        if ev.button() != Qt.MouseButton.LeftButton or self.on_drag is None:
            ev.ignore()
            return
        ev.accept()
        a, b = self.mapSceneToView(ev.buttonDownScenePos()), self.mapSceneToView(ev.scenePos())
        self.on_drag(a.x(), a.y(), b.x(), b.y())

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.RightButton and self.on_clear is not None:
            ev.accept()
            self.on_clear()
        else:
            ev.ignore()


class PaperPanel(QWidget):
    """Title line + one sheet of ECG paper showing the layers of a :class:`~ecgrecon.viewmodel.Panel`."""

    hovered = Signal(str)  # "V1  t 3.420 s  0.53 mV" under the mouse (grid reading), "" outside the boxes
    hovered_time = Signal(float)  # recording time under the mouse (s), for the torso map's isopotentials
    caliper_changed = Signal(str)  # "V2 calipers: 820 ms (73 bpm), +1.20 mV", "" when removed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.title.setObjectName("panelTitle")
        f = self.title.font()
        f.setBold(True)
        self.title.setFont(f)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widen the sheet
        self._vb = _CaliperViewBox()
        self.plot = pg.PlotWidget(viewBox=self._vb)
        self.plot.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        pi = self.plot.getPlotItem()
        for ax in ("left", "bottom", "top", "right"):
            pi.hideAxis(ax)
        pi.hideButtons()
        pi.setMenuEnabled(False)
        pi.layout.setContentsMargins(0, 0, 0, 0)
        self.vb = pi.getViewBox()
        self.vb.setMouseEnabled(False, False)
        self.vb.invertY(True)
        self.vb.setDefaultPadding(0.0)
        self.plot.setFrameShape(self.plot.Shape.NoFrame)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.title)
        lay.addWidget(self.plot)
        lay.addStretch(1)
        self._minor = pg.PlotDataItem(pen=pg.mkPen(MINOR_COLOUR, width=1), connect="pairs")
        self._major = pg.PlotDataItem(pen=pg.mkPen(MAJOR_COLOUR, width=1), connect="pairs")
        for it in (self._minor, self._major):
            it.setZValue(-10)
            it.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)  # paint the paper once, not per frame
            self.plot.addItem(it)
        self._grid_key = None
        self._pulses: list[pg.PlotDataItem] = []
        self._traces: dict[tuple[int, int], pg.PlotDataItem] = {}
        self._labels: list[pg.TextItem] = []
        self.px_per_mm = 3.78
        self.label_font = QFont()
        self.label_font.setPointSizeF(8.5)
        self._geom: PageGeometry | None = None
        self.plot.scene().sigMouseMoved.connect(self._mouse_moved)
        self._caliper = pg.PlotDataItem(pen=pg.mkPen("#1a1a1a", width=1.4), connect="pairs")
        self._caliper.setZValue(30)
        self._caliper_text = pg.TextItem(anchor=(0, 1), fill=pg.mkBrush(255, 255, 224, 230), color="#000000")
        self._caliper_text.setZValue(31)
        for it in (self._caliper, self._caliper_text):
            it.hide()
            self.plot.addItem(it)
        self._caliper_mm: tuple[float, float, float, float] | None = None
        self._vb.on_drag = self.set_caliper
        self._vb.on_clear = self.clear_caliper

    # -- pieces ---------------------------------------------------------------
    def _item(self, key: tuple[int, int]) -> pg.PlotDataItem:
        it = self._traces.get(key)
        if it is None:
            it = pg.PlotDataItem(connect="finite", skipFiniteCheck=False)
            it.setZValue(key[0])
            self.plot.addItem(it)
            self._traces[key] = it
        return it

    def _label(self, i: int) -> pg.TextItem:
        while len(self._labels) <= i:
            t = pg.TextItem(anchor=(0, 0), fill=pg.mkBrush(255, 250, 250, 170))  # legible over traces
            t.setFont(self.label_font)
            t.setZValue(20)
            self.plot.addItem(t)
            self._labels.append(t)
        return self._labels[i]

    def _pulse(self, i: int) -> pg.PlotDataItem:
        while len(self._pulses) <= i:
            p = pg.PlotDataItem(pen=pg.mkPen("k", width=1.3))
            p.setZValue(5)
            self.plot.addItem(p)
            self._pulses.append(p)
        return self._pulses[i]

    # -- drawing --------------------------------------------------------------
    def render(self, model: ViewerModel, panel: Panel, geom: PageGeometry, px_per_mm: float) -> None:
        self.title.setText(panel.title)
        self.px_per_mm = px_per_mm
        self._geom = geom
        w_px, h_px = int(round(geom.width_mm * px_per_mm)), int(round(geom.height_mm * px_per_mm))
        if self.plot.width() != w_px or self.plot.height() != h_px:
            self.plot.setFixedSize(w_px, h_px)
        self.vb.setRange(xRange=(0, geom.width_mm), yRange=(0, geom.height_mm), padding=0)
        gkey = (geom.width_mm, geom.height_mm, px_per_mm < 2.5)
        if gkey != self._grid_key:
            # below 2.5 px per mm the 1 mm lines merge into a pink wash: draw them fainter
            self._minor.setPen(pg.mkPen(MINOR_COLOUR if px_per_mm >= 2.5 else MINOR_FAINT, width=1))
            self._minor.setData(*_grid_xy(geom, MINOR_MM))
            self._major.setData(*_grid_xy(geom, MAJOR_MM))
            self._grid_key = gkey
        for i, pulse in enumerate(geom.pulses):
            self._pulse(i).setData(*pulse.path_mm())
            self._pulse(i).show()
        for p in self._pulses[len(geom.pulses):]:
            p.hide()
        used: set[tuple[int, int]] = set()
        t_end = geom.page_start_s + geom.page_seconds
        for li, layer in enumerate(panel.layers):
            rec = layer.recording
            data = model.page_data(rec, geom.page_start_s, t_end)
            for bi, box in enumerate(geom.boxes):
                name = box.lead.lstrip("-")
                if name not in rec.leads:
                    continue
                y = lead_signal(data.signals, box.lead)  # "-aVR" is aVR inverted (Cabrera)
                i0 = max(0, int(round((box.t0_s - data.t0_s) * data.fs)))
                i1 = min(y.size, int(round((box.t1_s - data.t0_s) * data.fs)) + 1)
                it = self._item((li, bi))
                used.add((li, bi))
                if i1 - i0 < 2:
                    it.setData([], [])
                    continue
                n_bins = max(16, int(box.width_mm * px_per_mm))
                pos, vals = decimate_minmax(y[i0:i1], n_bins)
                t = data.t0_s + (i0 + pos) / data.fs
                xs, ys = box.to_mm(t, vals, geom.spec)
                # min/max columns already draw every pixel: antialiasing them halves the frame rate for nothing
                it.setData(xs, ys, antialias=(i1 - i0) <= 2 * n_bins)
                low = layer.style not in ("truth", "under") and model.is_low_confidence(name) \
                    and rec.role(name) == Role.RECONSTRUCTED
                it.setPen(self._pen(layer.style, rec.role(name), dashed=low))
                it.show()
        for key, it in self._traces.items():
            if key not in used:
                it.hide()
        self._render_labels(model, panel, geom)

    def _pen(self, style: str, role: Role, dashed: bool = False) -> QPen:
        if style == "truth":
            return pg.mkPen(TRUTH_COLOUR, width=1.2)
        if style == "under":
            return pg.mkPen(TRUTH_UNDER_COLOUR, width=2.4)
        if dashed:  # low confidence: the same role colour, dashed, so it reads as "do not rely on this"
            return pg.mkPen(ROLE_COLOUR[role], width=1.2, style=Qt.PenStyle.DashLine)
        return pg.mkPen(ROLE_COLOUR[role], width=1.2)

    def trace_styles(self) -> dict[str, str]:
        """Pen style of each visible reconstruction trace by lead ("solid"/"dashed"), for tests."""
        out = {}
        for (li, bi), it in self._traces.items():
            if it.isVisible() and self._geom is not None and bi < len(self._geom.boxes):
                dashed = it.opts["pen"].style() == Qt.PenStyle.DashLine
                out[self._geom.boxes[bi].lead.lstrip("-") + f"@{li}"] = "dashed" if dashed else "solid"
        return out

    def _render_labels(self, model: ViewerModel, panel: Panel, geom: PageGeometry) -> None:
        top = panel.layers[-1]
        rec = top.recording
        for i, box in enumerate(geom.boxes):
            name = box.lead.lstrip("-")
            lab = self._label(i)
            if name not in rec.leads:
                text, colour = f"{box.lead} (not recorded)", "#777777"
            elif top.style == "truth":
                text, colour = f"{box.lead} (recorded)", TRUTH_COLOUR
            else:
                role = rec.role(name)
                wide = box.width_mm >= 100.0  # 6x2, 12x1, rhythm strip: room for one line
                text, colour = model.caption(box.lead, role, panel.captions, one_line=wide), ROLE_COLOUR[role]
                if role == Role.RECONSTRUCTED and model.is_low_confidence(name):
                    colour = LOW_CONFIDENCE_HEX
            if box.rhythm:
                text += "  — rhythm strip"
            lab.setText(text, color=QColor(colour))
            lab.setPos(box.x_mm + 0.8, box.y_mm + 0.5)
            lab.show()
        for lab in self._labels[len(geom.boxes):]:
            lab.hide()

    def point_at(self, x_mm: float, y_mm: float) -> tuple[str, float, float] | None:
        """(lead, time s, amplitude mV) at a point of the paper: the inverse of LeadBox.to_mm."""
        g = self._geom
        if g is None:
            return None
        for box in g.boxes:
            if box.x_mm <= x_mm <= box.x_mm + box.width_mm and box.y_mm <= y_mm <= box.y_mm + box.height_mm:
                t = box.t0_s + (x_mm - box.x_mm) / g.spec.speed_mm_s
                v = (box.baseline_mm - y_mm) / g.spec.gain_mm_mv
                return box.lead, t, v
        return None

    def reading_at(self, x_mm: float, y_mm: float) -> str:
        hit = self.point_at(x_mm, y_mm)
        return "" if hit is None else f"{hit[0]}  t {hit[1]:.3f} s  {hit[2]:+.2f} mV"

    def _mouse_moved(self, pos) -> None:
        p = self.vb.mapSceneToView(pos)
        hit = self.point_at(p.x(), p.y())
        self.hovered.emit("" if hit is None else f"{hit[0]}  t {hit[1]:.3f} s  {hit[2]:+.2f} mV")
        if hit is not None:
            self.hovered_time.emit(hit[1])

    # -- calipers ----------------------------------------------------------------
    def set_caliper(self, x0: float, y0: float, x1: float, y1: float) -> dict | None:
        """Calipers from (x0, y0) to (x1, y1) in paper mm, kept inside the lead box where the drag began;
        returns :meth:`caliper_reading`."""
        g = self._geom
        box = None if g is None else next((b for b in g.boxes if b.x_mm <= x0 <= b.x_mm + b.width_mm
                                           and b.y_mm <= y0 <= b.y_mm + b.height_mm), None)
        if box is None:
            return None
        x1 = min(max(x1, box.x_mm), box.x_mm + box.width_mm)  # time only runs along one box
        y1 = min(max(y1, box.y_mm), box.y_mm + box.height_mm)
        self._caliper_mm = (x0, y0, x1, y1)
        self._caliper_box = box
        top, bottom = box.y_mm, box.y_mm + box.height_mm
        xs = [x0, x0, x1, x1, min(x0, x1), max(x0, x1), min(x0, x1), max(x0, x1)]
        ys = [top, bottom, top, bottom, y0, y0, y1, y1]
        self._caliper.setData(xs, ys)
        r = self.caliper_reading()
        self._caliper_text.setText(r["text"])
        self._caliper_text.setPos(max(x0, x1) + 1.0, min(y0, y1))
        self._caliper.show()
        self._caliper_text.show()
        self.caliper_changed.emit(f"{r['lead']} calipers: {r['text']}")
        return r

    def caliper_reading(self) -> dict | None:
        """Time (ms, and the rate it corresponds to) and amplitude (mV) between the calipers."""
        if self._caliper_mm is None or self._geom is None:
            return None
        x0, y0, x1, y1 = self._caliper_mm
        spec = self._geom.spec
        dt_ms = abs(x1 - x0) / spec.speed_mm_s * 1000.0
        dv = (y0 - y1) / spec.gain_mm_mv  # paper y runs down
        bpm = 60000.0 / dt_ms if dt_ms > 0 else None
        text = f"{dt_ms:.0f} ms" + (f" ({bpm:.0f} bpm)" if bpm and dt_ms >= 200 else "") + f", {dv:+.2f} mV"
        return {"lead": self._caliper_box.lead, "dt_ms": dt_ms, "bpm": bpm, "dv_mv": dv, "text": text}

    def clear_caliper(self) -> None:
        if self._caliper_mm is not None:
            self._caliper_mm = None
            self._caliper.hide()
            self._caliper_text.hide()
            self.caliper_changed.emit("")

    def label_texts(self) -> list[str]:
        """Visible lead captions (for tests and accessibility)."""
        return [lab.textItem.toPlainText() for lab in self._labels if lab.isVisible()]


def clock(t: float) -> str:
    """Seconds as h:mm:ss (a day of recording is read by the clock, not in tens of thousands of seconds)."""
    t = int(round(max(0.0, t)))
    return f"{t // 3600}:{t // 60 % 60:02d}:{t % 60:02d}"


class ClockAxis(pg.AxisItem):
    """A time axis labelled h:mm:ss."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph's name)
        return [clock(v * scale) for v in values]


class Overview(pg.PlotWidget):
    """Whole-recording strip with the current page as a draggable region (the time navigator)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, axisItems={"bottom": ClockAxis("bottom")})
        self.setObjectName("overview")
        self.setFixedHeight(70)
        pi = self.getPlotItem()
        pi.hideAxis("left")
        pi.setMenuEnabled(False)
        pi.hideButtons()
        pi.getAxis("bottom").setLabel("time (h:mm:ss)")
        self.vb = pi.getViewBox()
        self.vb.setMouseEnabled(False, False)
        self.curve = pg.PlotDataItem(pen=pg.mkPen("#444444", width=1))
        self.addItem(self.curve)
        self.region = pg.LinearRegionItem(brush=pg.mkBrush(210, 64, 10, 50), movable=True)
        self.region.setZValue(10)
        for ln in self.region.lines:  # move the page as a whole, not resize it
            ln.setMovable(False)
        self.addItem(self.region)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def set_signal(self, y: np.ndarray, fs: float, owner: object = None, lead: str = "") -> None:
        """``owner``/``lead`` identify the signal: the same lead of the same recording is not decimated again."""
        if owner is not None and getattr(self, "_owner", None) is owner and self._lead == lead:
            return
        self._owner, self._lead = owner, lead
        pos, vals = decimate_minmax(np.nan_to_num(np.asarray(y, np.float32)), 1500)
        self.curve.setData(pos / fs, vals)
        dur = y.size / fs
        self.vb.setRange(xRange=(0, dur), padding=0.0)
        self.vb.enableAutoRange(axis="y")

    def set_page(self, t0: float, t1: float) -> None:
        self.region.blockSignals(True)
        self.region.setRegion((t0, t1))
        self.region.blockSignals(False)
