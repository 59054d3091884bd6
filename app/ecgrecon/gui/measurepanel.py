"""The measurements panel: clinical figures of the page on screen, reconstruction beside the recorded ECG.

The figures come from :func:`ecgrecon.measurements.measure` (Qt-free); this widget only lays them out.
Figures computed with a reconstructed lead are marked * and drawn in the reconstruction's colour.
"""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from ..measurements import (
    GLOBAL_KEYS,
    LABELS,
    LEAD_KEYS,
    UNITS,
    VOLTAGE_KEYS,
    Measurements,
    agreement,
    headline,
    measure,
)
from ..recording import Recording, Role
from ..viewmodel import ROLE_COLOUR

MIN_STRIP_S = 10.0  # the page may show less (12.5 mm/s shows more); a measurement wants about 10 s of beats


def _fmt(v: float | None, unit: str) -> str:
    return "–" if v is None else f"{v:.0f} {unit}"


def header_text(m: Measurements, truth: Measurements | None) -> str:
    """One rich-text line as on a cart printout: HR, PR, QRS, QT/QTc, P-R-T axes (* uses reconstructed leads)."""
    main = " · ".join(f"{k} {v}" for k, v in headline(m)) + "°"
    star = "*" in main
    html = f"<b style='color:{ROLE_COLOUR[Role.RECONSTRUCTED] if star else '#000000'}'>{main}</b>"
    if star:
        html += "&nbsp;&nbsp;<span style='color:#555'>* uses reconstructed leads</span>"
    if truth is not None:
        t = dict(headline(truth, mark_reconstructed=False))
        html += (f"&nbsp;&nbsp;&nbsp;<span style='color:#555'>recorded ECG: PR {t['PR']} · QRS {t['QRS']} · "
                 f"QT/QTcB {t['QT/QTcB']}</span>")
    if m.fiducials is None:
        html += f"&nbsp;&nbsp;<span style='color:#8a4b00'>{next(iter(m.reasons.values()), '')}</span>"
    return html


class MeasurementPanel(QWidget):
    """Measurement | this ECG | recorded | difference, for the strip on screen."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("measurements")
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Measurement", "This ECG", "Recorded", "Difference"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.caption)
        lay.addWidget(self.table, 1)
        self.result: Measurements | None = None
        self.truth: Measurements | None = None
        self._key = None

    def show_strip(self, main: Recording | None, truth: Recording | None, t0: float, t1: float) -> bool:
        """Measure ``main`` (and ``truth``) on [t0, max(t1, t0 + 10 s)]; False when nothing changed."""
        t1 = max(t1, t0 + MIN_STRIP_S)
        key = (id(main), id(truth), round(t0, 3), round(t1, 3))
        if key == self._key:
            return False
        self._key = key
        if main is None:
            self.result = self.truth = None
            self.caption.setText("Open a recording to measure it.")
            self.table.setRowCount(0)
            return True
        self.result = measure(main.crop(t0, t1))
        self.truth = measure(truth.crop(t0, t1)) if truth is not None else None
        self._fill(t0, min(t1, main.duration))
        return True

    def rows(self) -> list[tuple[str, str, str, str]]:
        """The table as text (for tests and copying)."""
        return [tuple(self.table.item(i, c).text() for c in range(4)) for i in range(self.table.rowCount())]

    def _fill(self, t0: float, t1: float) -> None:
        m, t = self.result, self.truth
        dep = m.dependent_on_reconstructed()
        diff = agreement(t, m) if t is not None else None
        self.caption.setText(f"Measured on {t0:.1f}–{t1:.1f} s · {m.beats_used} beats in the median beat"
                             + (" · * uses reconstructed leads" if any(dep.values()) else "")
                             + ("" if t is None else " · difference = this ECG − recorded"))
        rows: list[tuple[str, float | None, float | None, float | None, str, bool, str]] = []
        for k in GLOBAL_KEYS:
            rows.append((LABELS[k], m.values[k], t.values[k] if t else None,
                         diff["global"][k] if diff else None, UNITS[k], dep[f"global.{k}"],
                         m.reasons.get(f"global.{k}", "")))
        for k in VOLTAGE_KEYS:
            rows.append((LABELS[k], m.voltages[k], t.voltages[k] if t else None,
                         diff["voltages"][k] if diff else None, UNITS[k], dep[f"voltages.{k}"],
                         m.reasons.get(f"voltages.{k}", "")))
        for lk in LEAD_KEYS:
            for n, vals in m.leads.items():
                tv = t.leads.get(n, {}).get(lk) if t else None
                dv = diff["leads"].get(n, {}).get(lk) if diff else None
                rows.append((f"{LABELS[lk]} {n}", vals[lk], tv, dv, UNITS[lk], dep[f"leads.{n}"], ""))
        self.table.setRowCount(len(rows))
        recon_col = QColor(ROLE_COLOUR[Role.RECONSTRUCTED])
        for i, (label, v, tv, dv, unit, star, why) in enumerate(rows):
            cells = [label, _fmt(v, unit) + ("*" if star and v is not None else ""), _fmt(tv, unit),
                     "–" if dv is None else f"{dv:+.0f} {unit}"]
            for c, text in enumerate(cells):
                it = QTableWidgetItem(text)
                if star and c == 1:
                    it.setForeground(recon_col)
                if why and c == 1:
                    it.setToolTip(why)
                self.table.setItem(i, c, it)
        self.table.setColumnHidden(2, t is None)
        self.table.setColumnHidden(3, t is None)
