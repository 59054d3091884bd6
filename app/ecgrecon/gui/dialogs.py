"""Small dialogs: screen calibration, the keyboard help and About."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from .shortcuts import help_html

BAR_MM = 50.0


class _Bar(QWidget):
    """A bar that should be 50 mm long at the current scale."""

    def __init__(self, px_per_mm: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.px_per_mm = px_per_mm
        self.setFixedSize(self.sizeHint())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(int(BAR_MM * self.px_per_mm) + 20, 36)

    def paintEvent(self, _ev) -> None:  # noqa: N802
        p = QPainter(self)
        p.setPen(QPen(QColor("black"), 1))
        x0, x1 = 10, 10 + int(round(BAR_MM * self.px_per_mm))
        p.fillRect(x0, 12, x1 - x0, 10, QColor("black"))
        for mm in range(0, int(BAR_MM) + 1, 10):
            x = x0 + int(round(mm * self.px_per_mm))
            p.drawLine(x, 4, x, 30)
        p.end()


class CalibrationDialog(QDialog):
    """Measure the 50 mm bar with a ruler; the new factor makes the next bar exactly 50 mm."""

    def __init__(self, px_per_mm: float, factor: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings — screen calibration")
        self.old_factor = factor
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("ECG paper is drawn at true size: 1 mm squares, 25 mm/s, 10 mm/mV.\n"
                             "Measure the black bar below with a ruler and type what you measured."))
        lay.addWidget(_Bar(px_per_mm), alignment=Qt.AlignmentFlag.AlignHCenter)
        form = QFormLayout()
        self.measured = QDoubleSpinBox()
        self.measured.setRange(10.0, 200.0)
        self.measured.setDecimals(1)
        self.measured.setSuffix(" mm")
        self.measured.setValue(BAR_MM)
        form.addRow("The bar measures:", self.measured)
        lay.addLayout(form)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                              | QDialogButtonBox.StandardButton.Reset)
        bb.accepted.connect(self.accept)
        bb.rejected.connect(self.reject)
        bb.button(QDialogButtonBox.StandardButton.Reset).setText("Forget calibration")
        bb.button(QDialogButtonBox.StandardButton.Reset).clicked.connect(self._reset)
        lay.addWidget(bb)
        self._reset_requested = False

    def _reset(self) -> None:
        self._reset_requested = True
        self.accept()

    def new_factor(self) -> float:
        if self._reset_requested:
            return 1.0
        return new_calibration(self.old_factor, self.measured.value())


def new_calibration(old_factor: float, measured_mm: float) -> float:
    """The bar was drawn 50 mm long with ``old_factor`` and measured ``measured_mm``."""
    if measured_mm <= 0:
        return old_factor
    return old_factor * BAR_MM / measured_mm


class HelpDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        lay = QVBoxLayout(self)
        self.text = QTextBrowser()
        self.text.setHtml(help_html())
        lay.addWidget(self.text)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)
        self.resize(480, 560)


LICENSES = (
    ("ecgrecon code", "MIT"),
    ("Model weights", "MIT; trained on LUDB v1.0.1 (ODC-By)"),
    ("LUDB (samples, training data)", "Open Data Commons Attribution License v1.0 (ODC-By)"),
    ("PTB Diagnostic ECG Database (sample)", "ODC-By (PhysioNet)"),
)
NOT_A_DEVICE = "This is not a certified medical device: a research and review tool, not for diagnosis."


def about_html(zoo) -> str:
    """Version, the installed models with their versions, licenses and the medical-device disclaimer."""
    cards = list(zoo.cards) if zoo is not None else []
    models = "".join(f"<tr><td>{c.id}</td><td>&nbsp;&nbsp;v{c.version}</td></tr>" for c in cards)
    models = f"<table>{models}</table>" if models else "<p><i>no models installed</i></p>"
    lic = "".join(f"<li><b>{what}</b>: {lic}</li>" for what, lic in LICENSES)
    return (f"<h2>ecgrecon {__version__}</h2>"
            "<p>Rebuild the standard 12-lead ECG from three leads, and show it honestly.</p>"
            f"<p style='color:#8a1c00'><b>{NOT_A_DEVICE}</b></p>"
            f"<h3>Licenses</h3><ul>{lic}</ul>"
            "<p>Sample sources and citations: resources/samples/ATTRIBUTION.md.</p>"
            f"<h3>Installed models ({len(cards)})</h3>{models}")


class AboutDialog(QDialog):
    def __init__(self, zoo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About ecgrecon")
        lay = QVBoxLayout(self)
        self.text = QTextBrowser()
        self.text.setHtml(about_html(zoo))
        lay.addWidget(self.text)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)
        self.resize(560, 620)
