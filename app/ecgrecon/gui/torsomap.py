"""Unrolled torso map: electrodes, the chosen input leads, and an isopotential colour map.

``TorsoMapWidget`` shows a layout's electrodes at their (u, v) map positions
(anterior chest in the middle, the back split at the left and right edges),
draws the current configuration's inputs (a ring for an electrode against WCT,
an arrow from the negative to the positive electrode for a bipolar lead), and
colours the torso by the potentials of a body surface map at a cursor time.

Clicking an electrode chooses a configuration that uses it (clicking again
cycles through them); ``configurationChosen(name, inputs)`` is emitted.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..bspm import Layout, load_layout, split_term
from ..leads import STANDARD_12
from ..recording import Recording

INPUT_COLOUR = "#1f5fbf"
ELECTRODE_COLOUR = "#333333"
V_RANGE = (-26.0, 18.0)

# which electrodes a standard lead rests on (for drawing standard configurations)
_STANDARD_ELECTRODES = {"I": ("LA", "RA"), "II": ("LL", "RA"), "III": ("LL", "LA"), "aVR": ("RA", None),
                        "aVL": ("LA", None), "aVF": ("LL", None)}


def electrodes_of(lead: str) -> tuple[str | None, str | None]:
    """(positive, negative) electrode of a lead; negative None means WCT."""
    if lead in _STANDARD_ELECTRODES:
        return _STANDARD_ELECTRODES[lead]
    if lead in STANDARD_12:  # V1..V6
        return lead, None
    pair = split_term(lead)
    if pair is None:
        return lead, None
    return pair[0], None if pair[1] == "WCT" else pair[1]


class TorsoMapWidget(QWidget):
    configurationChosen = Signal(str, object)  # name, tuple of input leads

    def __init__(self, layout: Layout | str | None = None, parent: QWidget | None = None, *,
                 grid_step_cm: float = 0.5) -> None:
        super().__init__(parent)
        self.layout_ = load_layout(layout)
        self.configurations: dict[str, tuple[str, ...]] = dict(self.layout_.configurations)
        self.current: str | None = None
        self.inputs: tuple[str, ...] = ()
        self.recording: Recording | None = None
        self.time_s = 0.0
        self.plot = pg.PlotWidget()
        pi = self.plot.getPlotItem()
        pi.hideButtons()
        pi.setMenuEnabled(False)
        pi.setLabel("bottom", "around the chest from the sternum (cm, + = patient's left)")
        pi.setLabel("left", "height (cm)")
        self.vb = pi.getViewBox()
        self.vb.setAspectLocked(True)
        self.vb.setMouseEnabled(False, False)
        self.caption = QLabel()
        self.caption.setWordWrap(True)  # long status lines wrap instead of being cut at the dock's edge
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)
        lay.addWidget(self.caption)
        self._uv = self.layout_.uv()
        self._half = self.layout_.torso.perimeter / 2
        self._build_grid(grid_step_cm)
        self.image = pg.ImageItem()
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        cm = pg.colormap.get("CET-D1")  # diverging blue-white-red
        self._lut = cm.getLookupTable(nPts=256)
        self.image.setLookupTable(self._lut)
        self._draw_landmarks()
        self.input_items: list = []
        self.scatter = pg.ScatterPlotItem(x=self._uv[:, 0], y=self._uv[:, 1], size=9,
                                          brush=pg.mkBrush(ELECTRODE_COLOUR), pen=pg.mkPen("w"),
                                          data=list(self.layout_.names), hoverable=True)
        self.scatter.setZValue(5)
        self.scatter.sigClicked.connect(self._clicked)
        self.plot.addItem(self.scatter)
        font = QFont()
        font.setPointSize(7)
        self.labels = {}
        for s in self.layout_.sites:
            t = pg.TextItem(s.name, color="#222", anchor=(0.5, 1.3))
            t.setFont(font)
            t.setPos(s.u, s.v)
            t.setZValue(6)
            self.plot.addItem(t)
            self.labels[s.name] = t
        # room for the outermost electrode names (BSU, SP sit on the edges)
        self.vb.setRange(xRange=(-self._half - 4.0, self._half + 4.0), yRange=V_RANGE, padding=0.02)
        lay.addStretch(1)
        self._update_caption()

    def resizeEvent(self, ev) -> None:  # noqa: N802
        # the aspect is locked (centimetres are centimetres), so give the plot the height its width needs
        # instead of letting the view box stretch the y axis far beyond the data
        super().resizeEvent(ev)
        w = max(200, self.plot.width())
        span_u = 2 * self._half + 8.0
        span_v = (V_RANGE[1] - V_RANGE[0]) * 1.04
        self.plot.setFixedHeight(int(w * span_v / span_u) + 70)  # + axes and their labels

    # -- geometry ------------------------------------------------------------------------------------
    def _build_grid(self, step: float) -> None:
        from scipy.interpolate import RBFInterpolator

        us = np.arange(-self._half, self._half + 1e-9, step)
        vs = np.arange(V_RANGE[0], V_RANGE[1] + 1e-9, step)
        self._grid_u, self._grid_v = us, vs
        gu, gv = np.meshgrid(us, vs, indexing="ij")
        pts = np.column_stack([gu.ravel(), gv.ravel()])
        # thin-plate interpolation is linear in the values: precompute grid = W @ potentials
        rbf = RBFInterpolator(self._uv, np.eye(len(self._uv)), kernel="thin_plate_spline", degree=1)
        self._w = rbf(pts).astype(np.float32)  # (n_grid, n_electrodes)
        self._grid_shape = gu.shape

    def _draw_landmarks(self) -> None:
        q = self._half / 2
        pen = QPen(QColor("#999"))
        pen.setStyle(pg.QtCore.Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        for x, text in ((-q, "right mid-axillary"), (q, "left mid-axillary"), (0.0, "sternum")):
            line = pg.InfiniteLine(pos=x, angle=90, pen=pen)
            line.setZValue(-5)
            self.plot.addItem(line)
            t = pg.TextItem(text, color="#777", anchor=(0.5, 0))
            t.setPos(x, V_RANGE[1])
            self.plot.addItem(t)
        for x, text in ((-self._half * 0.8, "back (right)"), (self._half * 0.8, "back (left)"), (0.0, "front")):
            t = pg.TextItem(text, color="#555", anchor=(0.5, 1))
            t.setPos(x, V_RANGE[0] + 1)
            self.plot.addItem(t)

    def position(self, name: str) -> tuple[float, float]:
        s = self.layout_.site(name)
        return s.u, s.v

    # -- configurations --------------------------------------------------------------------------------
    def set_configurations(self, configs: dict[str, tuple[str, ...]]) -> None:
        """Configurations the user may choose (e.g. those with an installed model)."""
        self.configurations = {k: tuple(v) for k, v in configs.items()}

    def configurations_using(self, electrode: str) -> list[str]:
        out = []
        for name, ins in self.configurations.items():
            if any(electrode in electrodes_of(lead) for lead in ins):
                out.append(name)
        return out

    def click_electrode(self, electrode: str) -> str | None:
        """Choose a configuration that uses ``electrode``; cycles on repeated clicks."""
        cands = self.configurations_using(electrode)
        if not cands:
            self.caption.setText(f"no configuration uses electrode {electrode}")
            return None
        nxt = cands[(cands.index(self.current) + 1) % len(cands)] if self.current in cands else cands[0]
        self.choose(nxt)
        return nxt

    def choose(self, name: str) -> None:
        self.set_inputs(self.configurations[name], name)
        self.configurationChosen.emit(name, self.inputs)

    def _clicked(self, _item, points, *args) -> None:
        if len(points):
            self.click_electrode(str(points[0].data()))

    def set_inputs(self, inputs, name: str | None = None) -> None:
        """Draw these input leads (no signal emitted)."""
        for it in self.input_items:
            self.plot.removeItem(it)
        self.input_items = []
        self.inputs = tuple(inputs)
        self.current = name
        names = set(self.layout_.names)
        for lead in self.inputs:
            pos, neg = electrodes_of(lead)
            if pos not in names:
                continue
            pu, pv = self.position(pos)
            if neg is None or neg not in names:
                ring = pg.ScatterPlotItem(x=[pu], y=[pv], size=20, brush=None,
                                          pen=pg.mkPen(INPUT_COLOUR, width=3))
                ring.setZValue(7)
                self.plot.addItem(ring)
                self.input_items.append(ring)
                continue
            nu, nv = self.position(neg)
            line = pg.PlotDataItem([nu, pu], [nv, pv], pen=pg.mkPen(INPUT_COLOUR, width=3))
            line.setZValue(7)
            ang = float(np.degrees(np.arctan2(pv - nv, pu - nu)))
            head = pg.ArrowItem(pos=(pu, pv), angle=180 - ang, headLen=14, brush=INPUT_COLOUR, pen=None)
            head.setZValue(8)
            for it in (line, head):
                self.plot.addItem(it)
                self.input_items.append(it)
        self._update_caption()

    # -- potentials ------------------------------------------------------------------------------------
    def set_recording(self, rec: Recording | None) -> None:
        self.recording = rec if rec is not None and rec.electrodes is not None else None
        self.set_time(self.time_s)

    def set_time(self, t_s: float) -> None:
        """Isopotential map at ``t_s`` seconds (electrodes missing from the map count as 0 mV)."""
        self.time_s = float(t_s)
        rec = self.recording
        if rec is None:
            self.image.clear()
            self._update_caption()
            return
        el = rec.electrodes
        k = int(np.clip(round(self.time_s * rec.fs), 0, rec.n_samples - 1))
        vals = np.zeros(len(self.layout_.names), np.float32)
        for i, n in enumerate(self.layout_.names):
            if n in el.names:
                vals[i] = el.potentials[el.names.index(n), k]
        grid = (self._w @ vals).reshape(self._grid_shape)
        lim = float(max(np.max(np.abs(vals)), 0.05))
        self.image.setImage(grid, levels=(-lim, lim), autoLevels=False)
        step_u = self._grid_u[1] - self._grid_u[0]
        step_v = self._grid_v[1] - self._grid_v[0]
        self.image.setRect(pg.QtCore.QRectF(self._grid_u[0] - step_u / 2, self._grid_v[0] - step_v / 2,
                                            step_u * len(self._grid_u), step_v * len(self._grid_v)))
        self.levels = (-lim, lim)
        self.grid_values = grid
        self._update_caption()

    def _update_caption(self) -> None:
        parts = [f"layout {self.layout_.name}"]
        if self.current or self.inputs:
            parts.append(f"inputs {self.current + ': ' if self.current else ''}{', '.join(self.inputs)}")
        if self.recording is not None:
            lim = getattr(self, "levels", (0, 0))[1]
            parts.append(f"potentials at {self.time_s:.3f} s (colour ±{lim:.2f} mV, red positive)")
        parts.append("click an electrode to choose a configuration")
        self.caption.setText(" · ".join(parts))
