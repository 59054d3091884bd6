"""The lines above the paper: what is shown (banner), how good it is (summary), recording problems, and
the page's measurements as a cart prints them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..viewmodel import ViewerModel

MAX_QUALITY_NOTES = 3  # on the line; all of them in the tooltip


class RecordingHeader(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setStyleSheet("QLabel#banner { background: #fff1cc; color: #000000; border: 2px solid #c87800;"
                                  " padding: 4px; font-weight: bold; font-size: 13pt; }")
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setWordWrap(True)
        v.addWidget(self.banner)
        self.summary = QLabel()
        self.summary.setObjectName("summary")
        self.summary.setStyleSheet("QLabel#summary { font-size: 12pt; padding: 2px; }")
        self.summary.setWordWrap(True)
        v.addWidget(self.summary)
        self.quality_label = QLabel()
        self.quality_label.setObjectName("quality")
        self.quality_label.setStyleSheet("QLabel#quality { color: #8a4b00; }")
        self.quality_label.setWordWrap(True)
        v.addWidget(self.quality_label)
        self.measure_label = QLabel()  # HR, PR, QRS, QT/QTc, axes of the page, as on a cart printout
        self.measure_label.setObjectName("measureLine")
        self.measure_label.setStyleSheet("QLabel#measureLine { font-size: 12pt; padding: 1px; }")
        self.measure_label.setTextFormat(Qt.TextFormat.RichText)
        self.measure_label.setWordWrap(True)  # a long line must not set the window's minimum width
        v.addWidget(self.measure_label)

    def show_model(self, m: ViewerModel) -> None:
        note = m.recon.length_note if m.recon is not None else ""
        # the length switch ran another model than the one chosen in the toolbar: say so where the model is named
        self.banner.setText(m.banner() + (f"\nLong recording: {note}" if note else ""))
        text = m.summary_text()
        if "   (all 12" in text:  # the reconstructed-only figure first and bold; all 12 leads after, in grey
            head, tail = text.split("   (all 12", 1)
            text = f"<b>{head}</b>&nbsp;&nbsp;&nbsp;<span style='color:#555'>(all 12{tail}</span>"
        self.summary.setText(text)
        q = m.quality
        if q:
            more = f" (+{len(q) - MAX_QUALITY_NOTES} more, see tooltip)" if len(q) > MAX_QUALITY_NOTES else ""
            self.quality_label.setText("⚠ Recording: " + "; ".join(q[:MAX_QUALITY_NOTES]) + more)
            self.quality_label.setToolTip("\n".join(q))
        self.quality_label.setVisible(bool(q) and m.recording is not None)
        notes = m.recon.notes if m.recon is not None else ()
        self.summary.setToolTip("\n".join(notes))
        self.summary.setVisible(bool(self.summary.text()))
