"""The viewer and hostile files (issue 16): a file that crashes its parser (a real scipy.io.loadmat segfault)
costs a child process, not the window; the window keeps painting while a file is read, and a read can be
cancelled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, QTimer  # noqa: E402

from ecgrecon.modelcard import load_zoo  # noqa: E402
from ecgrecon.viewmodel import ViewerModel  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "resources" / "samples" / "ludb_3.hea"
SEGV_MAT = REPO / "tests" / "data" / "loadmat_segv.mat"


@pytest.fixture()
def win(qtbot, tmp_path, monkeypatch):
    from ecgrecon.gui.mainwindow import MainWindow

    monkeypatch.setenv("ECGRECON_CACHE", str(tmp_path / "cache"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))
    settings = QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat)
    w = MainWindow(ViewerModel(zoo=load_zoo()), settings=settings, auto_reconstruct=False)
    w.errors = []
    w.show_error = w.errors.append  # capture dialogs instead of blocking
    w.show_info = lambda msg: None
    qtbot.addWidget(w)
    w.show()
    return w


def _slow_csv(path: Path, rows: int = 300_000) -> Path:
    x = np.random.default_rng(0).normal(size=(rows, 3))
    np.savetxt(path, np.column_stack([np.arange(rows) / 500.0, x]), delimiter=",", header="time,I,II,V2",
               comments="", fmt="%.6f")
    return path


def test_a_file_that_segfaults_its_parser_leaves_the_window_usable(win):
    assert win.open_path(SAMPLE)
    before = win.model.recording
    title = win.windowTitle()
    assert not win.open_path(SEGV_MAT)  # scipy.io.loadmat dies with SIGSEGV on it, in a child
    assert len(win.errors) == 1 and "crashed (SIGSEGV)" in win.errors[0] and SEGV_MAT.name in win.errors[0]
    assert "\n" not in win.errors[0]
    assert win.model.recording is before and win.windowTitle() == title  # nothing changed
    win.repaint()
    assert win.isVisible()
    assert win.open_path(REPO / "resources" / "samples" / "ludb_3_3lead.hea")  # and it still opens files
    assert win.model.recording.leads == ("I", "II", "V2")


def test_samples_opened_by_the_viewer_are_memory_mapped(win):
    assert win.open_path(SAMPLE)
    assert isinstance(win.model.recording.signals.base, np.memmap)


def test_the_window_keeps_painting_while_a_file_is_read(win, tmp_path):
    slow = _slow_csv(tmp_path / "slow.csv")
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    try:
        assert win.open_path(slow), win.errors
    finally:
        timer.stop()
    took = win.reader.seconds
    assert took > 0.3 and len(ticks) >= 3, (took, len(ticks))  # events were processed during the read
    assert win.model.recording.n_samples == 300_000


def test_a_read_can_be_cancelled(win, tmp_path):
    slow = _slow_csv(tmp_path / "slow.csv", rows=600_000)
    assert win.open_path(SAMPLE)
    before = win.model.recording
    QTimer.singleShot(300, lambda: win.reader.last_runner.cancel())
    assert not win.open_path(slow)
    assert win.model.recording is before and not win.errors
