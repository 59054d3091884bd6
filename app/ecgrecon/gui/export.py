"""Export the view to a PDF with the printer module, then preview page 1 drawn by the printer's own code.

The options come from what the screen shows (layout, order, speed, gain,
rhythm lead, filters, page), so the printout is the page on screen.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog, QLabel, QScrollArea, QVBoxLayout, QWidget

from ..errors import EcgReconError
from ..viewmodel import ViewerModel
from .settings import SettingsStore

PREVIEW_WIDTH_PX = 1100


class Host(Protocol):
    """What export needs from the window (looked up at call time: tests replace the dialogs)."""

    model: ViewerModel
    store: SettingsStore

    def message(self, text: str, ms: int = 0) -> None: ...

    def show_error(self, message: str) -> None: ...

    def show_info(self, message: str) -> None: ...

    def _exec_dialog(self, dlg: QDialog) -> int: ...


def print_options(m: ViewerModel):
    """The printer's options for what the screen shows now (same layout, scale, filters, page)."""
    from ..printing.pdf import PrintOptions

    truth_page = "none"
    if m.recon is not None and m.recon.truth is not None:
        truth_page = "overlay" if m.mode == "overlay" else "separate"
    return PrintOptions(layout=m.layout, order=m.order, speed=m.speed_mm_s, gain=m.gain_mm_mv,
                        rhythm_lead=m.rhythm_lead, filters=m.filters, truth_page=truth_page,
                        page_start_s=m.page_start_s)


def preview_image(src: Any, opts: Any, width_px: int = PREVIEW_WIDTH_PX) -> QImage:
    """Page 1 of the printout as a QImage, drawn by the printer's own render_page."""
    from ..printing.pdf import render_page

    pw, ph = opts.page_size_mm()
    h = int(round(width_px * ph / pw))
    img = QImage(width_px, h, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    p = QPainter(img)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        render_page(p, QRectF(0, 0, width_px, h), src, opts, 0, background=True)
    finally:
        p.end()
    return img


class PdfExport:
    def __init__(self, host: Host, parent: QWidget) -> None:
        self.host = host
        self.parent = parent

    def ask(self) -> None:
        """File > Export PDF: ask where, then write and preview."""
        h = self.host
        if importlib.util.find_spec("ecgrecon.printing.pdf") is None:
            h.show_error("PDF export is not available in this build (the printer module is missing).")
            return
        if h.model.recording is None:
            h.show_error("open a recording first")
            return
        start = str(Path(h.store.last_dir) / (Path(h.model.path or "ecg").stem + ".pdf"))
        path, _ = QFileDialog.getSaveFileName(self.parent, "Export PDF", start, "PDF (*.pdf)")
        if path:
            self.write(path)

    def write(self, path: str, preview: bool = True) -> Path | None:
        """Write the PDF; then show page 1 drawn by the same code (or say where it is)."""
        from ..printing import pdf

        h, m = self.host, self.host.model
        src = m.recon if m.recon is not None else m.recording
        try:
            opts = print_options(m)
            out = pdf.write_pdf(src, path, opts, overwrite=True)  # the save dialog already asked
        except EcgReconError as e:
            h.show_error(str(e))
            return None
        except Exception as e:
            h.show_error(f"PDF export failed: {type(e).__name__}: {' '.join(str(e).split())}")
            return None
        h.message(f"PDF written: {out}", 10000)
        if preview:
            self.show_preview(src, opts, Path(out))
        return Path(out)

    def show_preview(self, src: Any, opts: Any, out: Path) -> None:
        try:
            img = preview_image(src, opts)
        except Exception as e:  # the PDF is written; a preview failure is not an export failure
            self.host.show_info(f"PDF written:\n{out}\n(preview unavailable: {type(e).__name__})")
            return
        dlg = QDialog(self.parent)
        dlg.setWindowTitle(f"PDF written — {out.name}")
        lay = QVBoxLayout(dlg)
        lay.addWidget(QLabel(f"Written: {out}\nPage 1 as printed:"))
        pic = QLabel()
        pic.setPixmap(QPixmap.fromImage(img))
        sa = QScrollArea()
        sa.setWidget(pic)
        lay.addWidget(sa, 1)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        bb.accepted.connect(dlg.accept)
        lay.addWidget(bb)
        dlg.resize(1150, 860)
        self.host._exec_dialog(dlg)
