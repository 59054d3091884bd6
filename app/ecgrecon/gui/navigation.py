"""Paging through a recording longer than one page: the overview strip, the scrollbar, goto and step.

Both widgets only ask the model to move (``set_page_start``); the model
announces "page" and the window redraws, which calls :meth:`sync` back here.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QScrollBar

from ..recording import Role
from ..viewmodel import ViewerModel
from .ecgview import ClockAxis, Overview
from .papersheet import PAGE_WIDTH_MM

TICKS_PER_S = 10  # scrollbar resolution
TREND_EVERY_S = 2.0  # redraw the heart-rate trend at most this often while a long reconstruction runs
TRIM_EVERY_PAGES = 10  # pages drawn from a long reconstruction's cache between letting its pages go
TREND_BIN_S = 60.0  # one point per minute: a day is 1,440 points, and a beat-to-beat trace would be a smear


class HeartRateStrip(pg.PlotWidget):
    """Heart rate over the whole recording (median per minute, from the reconstruction's R peaks), with the
    current page marked; a click goes there. For finding the events of a day."""

    def __init__(self, navigator: PageNavigator) -> None:
        super().__init__(axisItems={"bottom": ClockAxis("bottom")})
        self.setObjectName("heart-rate")
        self.setFixedHeight(80)
        self.navigator = navigator
        pi = self.getPlotItem()
        pi.setMenuEnabled(False)
        pi.hideButtons()
        pi.setLabel("left", "bpm")
        pi.getAxis("bottom").setStyle(showValues=False)  # the overview above carries the clock
        self.vb = pi.getViewBox()
        self.vb.setMouseEnabled(False, False)
        self.curve = pg.PlotDataItem(pen=pg.mkPen("#b0302a", width=1.2), connect="finite")
        self.addItem(self.curve)
        self.page = pg.InfiniteLine(angle=90, pen=pg.mkPen("#d2400a", width=1))
        self.addItem(self.page)
        self.scene().sigMouseClicked.connect(self._clicked)

    def set_trend(self, t: np.ndarray, bpm: np.ndarray, duration: float) -> None:
        if t.size:
            bins = np.floor(t / TREND_BIN_S).astype(int)
            n = int(np.ceil(duration / TREND_BIN_S))
            med = np.full(n, np.nan)
            order = np.argsort(bins, kind="stable")
            edges = np.searchsorted(bins[order], np.arange(n + 1))
            for k in np.nonzero(np.diff(edges))[0]:
                med[k] = np.median(bpm[order][edges[k]:edges[k + 1]])
            self.curve.setData((np.arange(n) + 0.5) * TREND_BIN_S, med)
            lo, hi = (np.nanmin(med), np.nanmax(med)) if np.isfinite(med).any() else (60.0, 100.0)
        else:
            self.curve.setData([], [])
            lo, hi = 60.0, 100.0
        # at least 50-110 bpm in view: a steady rate is a flat line, not noise blown up to the strip's height
        self.vb.setRange(xRange=(0, duration), yRange=(min(50.0, lo - 5), max(110.0, hi + 5)), padding=0.0)

    def _clicked(self, ev) -> None:
        t = self.vb.mapSceneToView(ev.scenePos()).x()
        self.navigator.goto(t - 0.5 * self.navigator.model.page_seconds(PAGE_WIDTH_MM))


class PageNavigator(QObject):
    def __init__(self, model: ViewerModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.overview = Overview()
        self.overview.region.sigRegionChanged.connect(self._region_moved)
        self.scrollbar = QScrollBar(Qt.Orientation.Horizontal)
        self.scrollbar.valueChanged.connect(self._scrolled)
        self.heart_rate = HeartRateStrip(self)
        self.heart_rate.setVisible(False)
        self._trend_at = 0.0
        self.long = None  # the long reconstruction on screen (ecgrecon.longview), if any
        self._pages_shown = 0

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
        if m.recon is None:
            self.heart_rate.setVisible(False)
            self.long = None
        if long_rec:
            src = m.recon.result if m.recon is not None else m.recording
            assert src is not None
            lead = m.rhythm_lead if m.rhythm_lead in src.leads else src.leads[0]
            if src is not m.recording and m.recording is not None and lead in m.recording.leads \
                    and src.role(lead) == Role.MEASURED:
                # a measured lead is the recording's own samples: the strip drawn from the recording stays valid
                # for every result (a day's lead is not read back from the cache and decimated again)
                src = m.recording
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
        self.heart_rate.page.setValue(0.5 * (t0 + t1))
        self._pages_shown += 1
        if self.long is not None and self._pages_shown % TRIM_EVERY_PAGES == 0:
            self.long.trim()  # pages read from the cache file need not stay resident

    def show_heart_rate(self, long, force: bool = False) -> None:
        """The trend of a long reconstruction (ecgrecon.longview), as far as it is done."""
        now = time.monotonic()
        if not force and now - self._trend_at < TREND_EVERY_S and long.fraction_done() < 1.0:
            return
        self._trend_at = now
        self.long = long
        t, bpm = long.heart_rate()
        self.heart_rate.set_trend(t, bpm, long.n / long.fs)
        self.heart_rate.setVisible(True)

    def _scrolled(self, v: int) -> None:
        t = v / TICKS_PER_S
        if abs(t - self.model.page_start_s) >= 0.5 / TICKS_PER_S:
            self.model.set_page_start(t, PAGE_WIDTH_MM)

    def _region_moved(self) -> None:
        t0, _ = self.overview.region.getRegion()
        self.model.set_page_start(t0, PAGE_WIDTH_MM)
