"""Compare lead configurations on one recording: R heatmap, medians, overlay of one lead, export.

``CompareDialog(rec)`` runs the chosen configurations on the viewer's worker
runner (:mod:`.worker`) with :func:`ecgrecon.comparison.run_configs`, which
runs them through the batch runner exactly as ``ecgrecon compare`` does (the
same numbers as ``--json``). It then shows a configurations x leads table
coloured by R (inputs marked m, exact leads d), the reconstructed-only median
per configuration, and one chosen lead of every configuration over the
recorded lead, with the legend beside the plot. Export: CSV (numbers) and PNG
(the dialog's table and plot).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..comparison import ConfigResult, resolve_configs, run_configs
from ..leads import STANDARD_12
from ..modelcard import ModelCard, ModelZoo, load_zoo
from ..recording import Recording
from .worker import Runner

COLUMNS = list(STANDARD_12) + ["recon. median R"]
MAX_VISIBLE_ROWS = 12  # configurations shown without scrolling the table
OVERLAY_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]


# Light stops of a perceptually ordered scale (red -> orange -> yellow -> light green -> green) over R 0.75..1:
# 0.75 and 0.95 must look different at a glance (a white-to-green ramp made both green); light enough for black text
_R_STOPS = ((0.75, (239, 138, 122)), (0.85, (248, 190, 120)), (0.92, (250, 232, 140)), (0.96, (200, 232, 160)),
            (1.0, (140, 210, 140)))


def _list_width(lst: QListWidget) -> int:
    """Width at which every entry of a list shows in full, with room for a vertical scrollbar."""
    return (lst.sizeHintForColumn(0) + 2 * lst.frameWidth() + lst.style().pixelMetric(
        QStyle.PixelMetric.PM_ScrollBarExtent) + 8)


def _line_icon(colour: str, width: float) -> QIcon:
    """A short line in a trace's colour and width, the legend's key."""
    pm = QPixmap(28, 12)
    pm.fill(QColor(0, 0, 0, 0))
    p = QPainter(pm)
    p.setPen(QPen(QColor(colour), width))
    p.drawLine(2, 6, 26, 6)
    p.end()
    return QIcon(pm)


def r_colour(r: float) -> QColor:
    """Cell colour for a Pearson R: red below 0.75, through orange and yellow, to green at 1."""
    if r is None or not math.isfinite(r):
        return QColor("#dddddd")
    x = float(np.clip(r, _R_STOPS[0][0], 1.0))
    for (r0, c0), (r1, c1) in zip(_R_STOPS, _R_STOPS[1:], strict=False):
        if x <= r1:
            f = (x - r0) / (r1 - r0)
            return QColor(*(int(round(a + (b - a) * f)) for a, b in zip(c0, c1, strict=True)))
    return QColor(*_R_STOPS[-1][1])


@dataclass(frozen=True)
class CompareRequest:
    """What one comparison run needs; immutable, so the worker thread shares nothing mutable with the dialog."""

    recording: Recording
    cards: tuple[ModelCard, ...]
    zoo: ModelZoo


def run_comparison(req: CompareRequest, progress: Callable[[Any], None],
                   cancel: Callable[[], bool]) -> list[ConfigResult]:
    """The worker's job: the same configurations run as ``ecgrecon compare``; progress as (done, total, id)."""
    return run_configs(req.recording, list(req.cards), req.zoo, keep_signals=True,
                       progress=lambda i, n, mid: progress((i, n, mid)), cancel=cancel)


class CompareDialog(QDialog):
    def __init__(self, rec: Recording, zoo: ModelZoo | None = None, configs: list[str] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare lead configurations")
        self.rec = rec
        self.zoo = zoo or load_zoo()
        self.results: list[ConfigResult] = []
        self.job: Runner | None = None
        self.cards = resolve_configs(rec, self.zoo, configs)
        # -- choices
        self.config_list = QListWidget()
        for c in self.cards:
            it = QListWidgetItem(f"{c.configuration}  ({', '.join(c.input_leads)}; {c.id})")
            it.setData(Qt.ItemDataRole.UserRole, c.id)
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            it.setCheckState(Qt.CheckState.Checked)
            self.config_list.addItem(it)
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.status = QLabel("choose configurations and press Run")
        # -- results
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.lead_combo = QComboBox()
        self.lead_combo.addItems(list(STANDARD_12))
        self.lead_combo.setCurrentText("V2")
        self.lead_combo.currentTextChanged.connect(self._draw_overlay)
        self.plot = pg.PlotWidget(background="w")
        for ax in ("left", "bottom"):
            self.plot.getPlotItem().getAxis(ax).setPen("k")
            self.plot.getPlotItem().getAxis(ax).setTextPen("k")
        # the legend is a list beside the plot, never over it: any corner of the plot covers some beat's trace
        self.legend = QListWidget()
        self.legend.setObjectName("legend")
        self.legend.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.legend.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.legend.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.plot.setLabel("bottom", "time (s)")
        self.plot.setLabel("left", "mV")
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.clicked.connect(lambda: self._ask_export("csv"))
        self.png_button = QPushButton("Export PNG…")
        self.png_button.clicked.connect(lambda: self._ask_export("png"))
        for b in (self.csv_button, self.png_button):
            b.setEnabled(False)
        # -- layout
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addWidget(QLabel("Configurations"))
        lv.addWidget(self.config_list)
        row = QHBoxLayout()
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        lv.addLayout(row)
        lv.addWidget(self.progress)
        lv.addWidget(self.status)
        self.results_widget = QWidget()
        rv = QVBoxLayout(self.results_widget)
        rv.addWidget(QLabel("Pearson R per lead (m = measured input, d = exact from inputs)"))
        rv.addWidget(self.table, 2)
        orow = QHBoxLayout()
        orow.addWidget(QLabel("Overlay lead"))
        orow.addWidget(self.lead_combo)
        orow.addStretch(1)
        orow.addWidget(self.csv_button)
        orow.addWidget(self.png_button)
        rv.addLayout(orow)
        prow = QHBoxLayout()
        prow.addWidget(self.plot, 1)
        prow.addWidget(self.legend)
        rv.addLayout(prow, 3)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.results_widget)
        split.setStretchFactor(1, 3)
        split.setCollapsible(0, False)
        QVBoxLayout(self).addWidget(split)
        # every configuration's name, inputs and model in full (the list must not need a horizontal scrollbar)
        self.config_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.config_list.setMinimumWidth(_list_width(self.config_list))
        self.resize(1280, 760)

    # -- running -----------------------------------------------------------------------------------------
    def selected_cards(self):
        ids = [self.config_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.config_list.count())
               if self.config_list.item(i).checkState() == Qt.CheckState.Checked]
        return [self.zoo.get(i) for i in ids]

    def run(self, start: bool = True) -> Runner | None:
        """Run the checked configurations in a worker thread; ``start=False`` lets a caller connect first."""
        cards = self.selected_cards()
        if not cards:
            self.status.setText("no configuration chosen")
            return None
        self.job = Runner(CompareRequest(self.rec, tuple(cards), self.zoo), run_comparison, self, what="comparison")
        self.job.progress.connect(self._on_progress)
        self.job.finished.connect(self.set_results)
        self.job.failed.connect(lambda m: self.status.setText(m))
        self.job.cancelled.connect(lambda: self.status.setText("cancelled"))
        self.job.done.connect(self._on_done)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, len(cards))
        if start:
            self.job.start()
        return self.job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _on_progress(self, report: tuple[int, int, str]) -> None:
        i, n, mid = report
        self.progress.setValue(i)
        self.status.setText(f"running {mid} ({i + 1}/{n})" if mid else "done")

    def _on_done(self) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def closeEvent(self, ev) -> None:  # noqa: N802
        if self.job is not None:
            self.job.cancel()
            self.job.wait(30000)
        super().closeEvent(ev)

    # -- results -----------------------------------------------------------------------------------------
    def set_results(self, results: list[ConfigResult]) -> None:
        self.results = list(results)
        self.table.setRowCount(len(self.results))
        self.table.setVerticalHeaderLabels([r.configuration for r in self.results])
        for i, r in enumerate(self.results):
            for j, n in enumerate(STANDARD_12):
                v = r.r.get(n, float("nan"))
                tag = {"measured": " m", "derived": " d"}.get(r.roles.get(n, ""), "")
                it = QTableWidgetItem(f"{v:.3f}{tag}")
                it.setData(Qt.ItemDataRole.UserRole, v)
                it.setBackground(QBrush(r_colour(v)))
                e = r.rmse_uv.get(n, float("nan"))
                trust = ""
                if n in r.expected_r:
                    low = n in r.low_confidence
                    trust = f"; expected R {r.expected_r[n]:.2f}" + (" — LOW CONFIDENCE" if low else "")
                    if low:  # the same warning as the paper views: a mark in the cell, not only the tooltip
                        it.setText(f"{v:.3f} !")
                        f = it.font()
                        f.setItalic(True)
                        it.setFont(f)
                it.setToolTip(f"{r.model}: {n} R {v:.4f}, RMSE {e:.1f} uV ({r.roles.get(n)}){trust}")
                self.table.setItem(i, j, it)
            m = r.reconstructed_median_r
            it = QTableWidgetItem(f"{m:.3f}")
            it.setData(Qt.ItemDataRole.UserRole, m)
            it.setBackground(QBrush(r_colour(m)))
            f = it.font()
            f.setBold(True)
            it.setFont(f)
            self.table.setItem(i, len(STANDARD_12), it)
        self.table.resizeColumnsToContents()
        self._fit_table_rows()
        for b in (self.csv_button, self.png_button):
            b.setEnabled(bool(self.results))
        self.status.setText(f"{len(self.results)} configuration(s) compared")
        self._draw_overlay(self.lead_combo.currentText())

    def _fit_table_rows(self) -> None:
        """Tall enough for every row up to MAX_VISIBLE_ROWS (eight configurations showed seven and a half)."""
        n = min(self.table.rowCount(), MAX_VISIBLE_ROWS)
        rows = sum(self.table.rowHeight(i) for i in range(n))
        bar = self.table.horizontalScrollBar().sizeHint().height()  # room for it, should the columns not fit
        self.table.setMinimumHeight(self.table.horizontalHeader().height() + rows + 2 * self.table.frameWidth() + bar)

    def table_values(self) -> dict[str, dict[str, float]]:
        """{configuration: {lead or 'median': R}} as shown in the table."""
        out = {}
        for i in range(self.table.rowCount()):
            name = self.table.verticalHeaderItem(i).text()
            row = {}
            for j, col in enumerate(COLUMNS):
                row["median" if j == len(STANDARD_12) else col] = float(self.table.item(i, j).data(
                    Qt.ItemDataRole.UserRole))
            out[name] = row
        return out

    def _draw_overlay(self, lead: str) -> None:
        self.plot.clear()
        self.legend.clear()
        self.plot.setTitle(None)
        if not self.results or lead not in self.rec.leads:
            return
        t = self.rec.time
        # truth and reconstructions conditioned like the scores (the models' preprocessing)
        from ..conditioning import apply_filters
        from ..inference import preprocessing_spec

        spec = preprocessing_spec(self.zoo.get(self.results[0].model))
        if not spec.is_identity():  # once, above the plot: in each legend entry it made the legend wide
            self.plot.setTitle(f"filtered as scored: {spec.describe()}", color="k", size="9pt")
        truth = self.rec.lead(lead)[None].astype(np.float64)
        truth = truth[0] if spec.is_identity() else apply_filters(truth, self.rec.fs, spec)[0]
        self._trace(t, truth, "k", 2.5, f"{lead} recorded")
        k = STANDARD_12.index(lead)
        for i, r in enumerate(self.results):
            if r.signals is None:
                continue
            y = r.signals[k][None].astype(np.float64)
            y = y[0] if spec.is_identity() else apply_filters(y, self.rec.fs, spec)[0]
            self._trace(t[: y.shape[0]], y, OVERLAY_COLOURS[i % len(OVERLAY_COLOURS)], 1.0,
                        f"{r.configuration} (R {r.r.get(lead, float('nan')):.3f})")
        self.legend.setFixedWidth(_list_width(self.legend))
        self.plot.setXRange(0, min(3.0, self.rec.duration), padding=0.01)  # a few beats; pan/zoom for more

    def _trace(self, t: np.ndarray, y: np.ndarray, colour: str, width: float, name: str) -> None:
        self.plot.plot(t, y, pen=pg.mkPen(colour, width=width), name=name)
        it = QListWidgetItem(_line_icon(colour, width), name)
        it.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.legend.addItem(it)

    def legend_entries(self) -> list[str]:
        return [self.legend.item(i).text() for i in range(self.legend.count())]

    # -- export ------------------------------------------------------------------------------------------
    def export_csv(self, path: str | Path) -> Path:
        p = Path(path)
        with p.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["configuration", "model", "inputs", *[f"R {n}" for n in STANDARD_12],
                        *[f"RMSE_uV {n}" for n in STANDARD_12], "reconstructed_median_r",
                        "reconstructed_median_rmse_uv"])
            for r in self.results:
                w.writerow([r.configuration, r.model, " ".join(r.inputs),
                            *[f"{r.r.get(n, float('nan')):.6f}" for n in STANDARD_12],
                            *[f"{r.rmse_uv.get(n, float('nan')):.3f}" for n in STANDARD_12],
                            f"{r.reconstructed_median_r:.6f}", f"{r.reconstructed_median_rmse_uv:.3f}"])
        return p

    def export_png(self, path: str | Path) -> Path:
        p = Path(path)
        if not self.results_widget.grab().save(str(p), "PNG"):
            raise OSError(f"could not write {p}")
        return p

    def _ask_export(self, kind: str) -> None:
        flt = "CSV (*.csv)" if kind == "csv" else "PNG image (*.png)"
        path, _ = QFileDialog.getSaveFileName(self, f"Export {kind.upper()}", f"comparison.{kind}", flt)
        if not path:
            return
        try:
            (self.export_csv if kind == "csv" else self.export_png)(path)
            self.status.setText(f"wrote {path}")
        except OSError as e:
            self.status.setText(f"cannot write {path}: {e}")
