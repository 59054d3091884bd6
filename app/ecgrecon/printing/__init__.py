"""Printouts: standard 12-lead ECG pages as vector PDF (see :mod:`ecgrecon.printing.pdf`)."""

from .pdf import PrintJob, PrintOptions, ensure_qt_app, page_frame, render_page, write_pdf

__all__ = ["PrintJob", "PrintOptions", "ensure_qt_app", "page_frame", "render_page", "write_pdf"]
