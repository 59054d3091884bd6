"""The lead table beside the paper: lead, role, R and RMSE, coloured by role, sortable by the numbers."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from ..recording import Role
from ..viewmodel import NO_TRUTH_TEXT, ROLE_COLOUR, ViewerModel, fmt_r, fmt_uv

COLUMNS = ["Lead", "Role", "R", "RMSE µV"]
MIN_WIDTH_PX = 290


class _NumItem(QTableWidgetItem):
    """Table cell that shows formatted text and sorts by the number (NaN/None last)."""

    def __init__(self, text: str, key: float | None) -> None:
        super().__init__(text)
        self.key = key
        self.setData(Qt.ItemDataRole.UserRole, key)
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        a = self.key if self.key is not None and self.key == self.key else float("inf")
        b = getattr(other, "key", None)
        b = b if b is not None and b == b else float("inf")
        return a < b


class LeadTable(QTableWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.setSortingEnabled(True)  # standard lead order until the user clicks a header
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setMinimumWidth(MIN_WIDTH_PX)
        # compact rows: all 13 rows and the torso map fit the side column of a 900 px window
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)

    def fill(self, model: ViewerModel) -> None:
        """One row per lead of the model's result (or recording); R and RMSE need the recorded 12 leads."""
        rows = model.table_rows()
        notes = model.recon.notes if model.recon is not None else ()
        self.setToolTip("\n".join(notes) or "R and RMSE need the recording's own 12 leads")
        self.setSortingEnabled(False)
        self.setRowCount(len(rows))
        no_truth = model.recon is not None and model.recon.truth is None
        for i, (lead, role, r, rmse) in enumerate(rows):
            colour = QColor(ROLE_COLOUR[Role(role)])
            items = [QTableWidgetItem(lead), QTableWidgetItem(role),
                     _NumItem(NO_TRUTH_TEXT if no_truth and role == "reconstructed" else fmt_r(r), r),
                     _NumItem(fmt_uv(rmse), rmse)]
            for c, it in enumerate(items):
                it.setForeground(colour)
                self.setItem(i, c, it)
        self.setSortingEnabled(True)
        self.resizeColumnsToContents()
        need = sum(self.columnWidth(c) for c in range(len(COLUMNS))) + 2 * self.frameWidth() + 24
        self.setMinimumWidth(max(MIN_WIDTH_PX, need))

    def values(self) -> dict[str, tuple[str, float | None, float | None]]:
        """{lead: (role, R, RMSE µV)} as the table holds them (full precision)."""
        out = {}
        for i in range(self.rowCount()):
            r, u = self.item(i, 2), self.item(i, 3)
            out[self.item(i, 0).text()] = (self.item(i, 1).text(), getattr(r, "key", None),
                                           getattr(u, "key", None))
        return out
