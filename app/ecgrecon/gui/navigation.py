"""Paging through a recording longer than one page: the overview strip, the scrollbar, goto and step.

Both widgets only ask the model to move (``set_page_start``); the model
announces "page" and the window redraws, which calls :meth:`sync` back here.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QScrollBar

from ..viewmodel import ViewerModel
from .ecgview import Overview
from .papersheet import PAGE_WIDTH_MM

TICKS_PER_S = 10  # scrollbar resolution


class PageNavigator(QObject):
    def __init__(self, model: ViewerModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.overview = Overview()
        self.overview.region.sigRegionChanged.connect(self._region_moved)
        self.scrollbar = QScrollBar(Qt.Orientation.Horizontal)
        self.scrollbar.valueChanged.connect(self._scrolled)

    def step(self, n: int) -> None:
        """``n`` pages on (negative: back)."""
        self.goto(self.model.page_start_s + n * self.model.page_seconds(PAGE_WIDTH_MM))

    def goto(self, t: float) -> None:
        self.model.set_page_start(t, PAGE_WIDTH_MM)  # clamped; "page" -> redrawn

    def clamp(self) -> None:
        """Keep the page inside the recording after the paper speed or layout changed its length."""
        self.model.set_page_start(self.model.page_start_s, PAGE_WIDTH_MM)

    def show_recording(self) -> None:
        """Show the strip and scrollbar only when the recording is longer than a page; draw the strip."""
        m = self.model
        long_rec = m.recording is not None and m.duration_s > m.page_seconds(PAGE_WIDTH_MM) + 1e-6
        self.overview.setVisible(long_rec)
        self.scrollbar.setVisible(long_rec)
        if long_rec:
            src = m.recon.result if m.recon is not None else m.recording
            assert src is not None
            lead = m.rhythm_lead if m.rhythm_lead in src.leads else src.leads[0]
            self.overview.set_signal(src.lead(lead), src.fs, src, lead)
        self.sync()

    def sync(self) -> None:
        """Scrollbar range, page step and position from the model (without echoing back)."""
        m = self.model
        self.scrollbar.blockSignals(True)
        self.scrollbar.setRange(0, int(round(m.max_page_start(PAGE_WIDTH_MM) * TICKS_PER_S)))
        self.scrollbar.setPageStep(int(round(m.page_seconds(PAGE_WIDTH_MM) * TICKS_PER_S)))
        self.scrollbar.setSingleStep(TICKS_PER_S)
        self.scrollbar.setValue(int(round(m.page_start_s * TICKS_PER_S)))
        self.scrollbar.blockSignals(False)

    def show_page(self, t0: float, t1: float) -> None:
        self.overview.set_page(t0, t1)

    def _scrolled(self, v: int) -> None:
        t = v / TICKS_PER_S
        if abs(t - self.model.page_start_s) >= 0.5 / TICKS_PER_S:
            self.model.set_page_start(t, PAGE_WIDTH_MM)

    def _region_moved(self) -> None:
        t0, _ = self.overview.region.getRegion()
        self.model.set_page_start(t0, PAGE_WIDTH_MM)
