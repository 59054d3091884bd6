"""First run: with no recording open, the window offers the bundled sample recordings."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from ..paths import resources_dir, samples_dir


@dataclass(frozen=True)
class Sample:
    path: Path
    title: str
    description: str


def sample_entries(folder: Path | None = None) -> list[Sample]:
    """The samples listed in ``index.json`` that exist, then any other ``*.hea`` (top level and ``bspm/``)."""
    folder = Path(folder) if folder is not None else samples_dir()
    out: list[Sample] = []
    try:
        index = json.loads((folder / "index.json").read_text(encoding="utf-8")).get("samples", [])
    except (OSError, ValueError, AttributeError):
        index = []
    for e in index:
        p = folder / str(e.get("file", ""))
        if p.is_file():
            out.append(Sample(p, str(e.get("title") or p.stem), str(e.get("description", ""))))
    known = {s.path.resolve() for s in out}
    for p in sorted(folder.glob("*.hea")) + sorted(folder.glob("bspm/*.hea")):
        if p.resolve() not in known:
            out.append(Sample(p, p.stem, "sample recording (see ATTRIBUTION.md)"))
    return out


class WelcomePanel(QWidget):
    """Shown in place of the empty paper: the samples (one click opens one) and an Open button."""

    chosen = Signal(str)
    open_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(40, 24, 40, 24)
        head = QHBoxLayout()
        icon = QLabel()
        pix = QPixmap(str(resources_dir() / "icons" / "ecgrecon.png"))
        if not pix.isNull():
            icon.setPixmap(pix.scaled(64, 64, Qt.AspectRatioMode.KeepAspectRatio,
                                      Qt.TransformationMode.SmoothTransformation))
        head.addWidget(icon)
        title = QLabel("<h2>Welcome to the ecgrecon viewer</h2>"
                       "Open a recording (Ctrl+O), drop a file on the window, or try one of the bundled samples. "
                       "Press F1 for the keyboard shortcuts.")
        title.setWordWrap(True)
        head.addWidget(title, 1)
        lay.addLayout(head)
        lay.addWidget(QLabel("<b>Sample recordings</b> — click one to open it:"))
        self.list = QListWidget()
        self.list.setObjectName("samples")
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.samples = sample_entries()
        for s in self.samples:
            item = QListWidgetItem(f"{s.title}\n    {s.description}")
            item.setData(Qt.ItemDataRole.UserRole, str(s.path))
            item.setToolTip(str(s.path))
            self.list.addItem(item)
        self.list.itemClicked.connect(self._item)
        self.list.itemActivated.connect(self._item)  # Enter on the keyboard
        lay.addWidget(self.list, 1)
        row = QHBoxLayout()
        self.open_button = QPushButton("Open a recording…")
        self.open_button.clicked.connect(self.open_requested)
        row.addWidget(self.open_button)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addWidget(QLabel("<small>Samples: LUDB and PTB (PhysioNet, ODC-By); the body surface maps are "
                             "synthetic. A research and review tool, not a certified medical device.</small>"))

    _last: tuple[str, float] = ("", 0.0)

    def _item(self, item: QListWidgetItem) -> None:
        path = str(item.data(Qt.ItemDataRole.UserRole))
        now = time.monotonic()
        if self._last[0] == path and now - self._last[1] < 1.0:  # a click that also activates: open once
            return
        self._last = (path, now)
        self.chosen.emit(path)
