"""The paper: one or two PaperPanels in a scroll area, at true size or scaled to fit the window.

True size is the screen's physical DPI times the user's calibration factor.
Two panels sit side by side, or one above the other when that shows them
larger (fitted) or when only that fits at true size.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QBoxLayout, QScrollArea, QWidget

from ..papergrid import PageGeometry
from ..viewmodel import ViewerModel
from .ecgview import PaperPanel

PAGE_WIDTH_MM = 280.0
PAGE_HEIGHT_MM = {"3x4": 160.0, "6x2": 180.0, "12x1": 240.0}
PANEL_MARGIN_PX = 4
PANEL_GAP_PX = 12
FALLBACK_DPI = 96.0


def page_geometry(model: ViewerModel) -> PageGeometry:
    """The page's boxes in mm for the model's layout (the same page the printer draws)."""
    return model.geometry(PAGE_WIDTH_MM, PAGE_HEIGHT_MM[model.layout])


class PaperSheet(QScrollArea):
    hovered = Signal(str)  # grid reading under the mouse
    hovered_time = Signal(float)  # recording time under the mouse
    caliper_changed = Signal(str)  # caliper reading, "" when removed
    resized = Signal()  # the viewport changed size (coalesced): the page should be redrawn

    def __init__(self, calibration: float = 1.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.calibration = calibration
        self.fit_to_window = False
        self.setWidgetResizable(False)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.sheet = QWidget()
        self.sheet_layout = QBoxLayout(QBoxLayout.Direction.LeftToRight, self.sheet)
        self.sheet_layout.setContentsMargins(*(PANEL_MARGIN_PX,) * 4)
        self.sheet_layout.setSpacing(PANEL_GAP_PX)
        self.panels: list[PaperPanel] = []
        self.setWidget(self.sheet)
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.timeout.connect(self.resized.emit)
        self.viewport().installEventFilter(self)  # refit when the splitter or window changes it

    # -- scale ------------------------------------------------------------------------------------------
    def px_per_mm_true(self) -> float:
        """Pixels per mm at true size: the screen's physical DPI times the user's calibration."""
        scr = self.screen() or QApplication.primaryScreen()
        dpi = scr.physicalDotsPerInchX() if scr is not None else FALLBACK_DPI
        if not dpi or dpi != dpi or dpi < 20:
            dpi = FALLBACK_DPI
        return dpi / 25.4 * self.calibration

    def px_per_mm(self, model: ViewerModel) -> float:
        """The scale the paper is drawn at: true size, or (fitted) the largest that fits, never larger."""
        true = self.px_per_mm_true()
        if not self.fit_to_window:
            return true
        return max(1.0, min(true, self._fit_scale(model)[0]))

    def _fit_scale(self, model: ViewerModel) -> tuple[float, bool]:
        """Largest px/mm at which all panels fit the viewport, and whether they stack vertically for it."""
        n = max(1, len(model.panels()))
        vw = self.viewport().width() - 2 * PANEL_MARGIN_PX - 6
        vh = self.viewport().height() - 2 * PANEL_MARGIN_PX - 2
        w_mm, h_mm = PAGE_WIDTH_MM, PAGE_HEIGHT_MM[model.layout]
        title = self.panels[0].title.sizeHint().height() + 2 if self.panels else 22
        side = min((vw - PANEL_GAP_PX * (n - 1)) / (n * w_mm), (vh - title) / h_mm)
        stack = min(vw / w_mm, (vh - n * title - PANEL_GAP_PX * (n - 1)) / (n * h_mm))
        return (stack, True) if n > 1 and stack > side * 1.05 else (side, False)

    def _arrange(self, model: ViewerModel) -> None:
        """Two panels side by side, or one above the other when that shows them larger."""
        pol = Qt.ScrollBarPolicy.ScrollBarAlwaysOff if self.fit_to_window else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        if self.horizontalScrollBarPolicy() != pol:  # fitted: the viewport must not depend on scrollbars
            self.setHorizontalScrollBarPolicy(pol)
            self.setVerticalScrollBarPolicy(pol)
        if self.fit_to_window:
            vertical = self._fit_scale(model)[1]
        else:
            n = max(1, len(model.panels()))
            ppm = self.px_per_mm(model)
            fits_side = n * PAGE_WIDTH_MM * ppm + PANEL_GAP_PX <= self.viewport().width()
            fits_stack = n * PAGE_HEIGHT_MM[model.layout] * ppm + 60 <= self.viewport().height()
            vertical = n > 1 and not fits_side and fits_stack
        d = QBoxLayout.Direction.TopToBottom if vertical else QBoxLayout.Direction.LeftToRight
        if self.sheet_layout.direction() != d:
            self.sheet_layout.setDirection(d)

    # -- drawing ----------------------------------------------------------------------------------------
    def render(self, model: ViewerModel) -> PageGeometry | None:
        """Draw the model's page on as many panels as it has; returns the page drawn (None: nothing open)."""
        specs = model.panels()
        while len(self.panels) < len(specs):
            p = PaperPanel()
            p.hovered.connect(self.hovered.emit)
            p.caliper_changed.connect(self.caliper_changed.emit)
            p.hovered_time.connect(self.hovered_time.emit)
            self.sheet_layout.addWidget(p, 0, Qt.AlignmentFlag.AlignTop)
            self.panels.append(p)
        self._arrange(model)
        geom = None
        if specs:
            geom = page_geometry(model)
            ppm = self.px_per_mm(model)
            for p, spec in zip(self.panels, specs, strict=False):
                p.render(model, spec, geom, ppm)
                p.show()
        for p in self.panels[len(specs):]:
            p.hide()
        for p in self.panels:
            p.layout().invalidate()
            p.layout().activate()
        self.sheet_layout.invalidate()
        self.sheet_layout.activate()
        self.sheet.resize(self.sheet.sizeHint())
        return geom

    def clear_calipers(self) -> None:
        for p in self.panels:
            p.clear_caliper()

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802
        if ev.type() == QEvent.Type.Resize and obj is self.viewport() and self.panels:
            self._resize_timer.start(0 if self.fit_to_window else 30)  # coalesce a drag-resize into one redraw
        return super().eventFilter(obj, ev)  # QScrollArea filters its widget's resizes to size the scrollbars
