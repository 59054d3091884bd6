"""The viewer's parts on their own: settings store, generic worker runner, toolbar and status bar, and the
comparison view (runner + batch runner, legend beside the plot, names in full). Offscreen Qt."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QRect, QSettings  # noqa: E402

from ecgrecon.conditioning import FilterSpec  # noqa: E402
from ecgrecon.errors import Cancelled, InputError  # noqa: E402
from ecgrecon.io import read_recording  # noqa: E402
from ecgrecon.viewmodel import ViewerModel  # noqa: E402
from test_bspm import BSPM_DIR  # noqa: E402


@pytest.fixture()
def qsettings(tmp_path) -> QSettings:
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))
    return QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat)


# -- settings store -----------------------------------------------------------------------------------------
def test_settings_store_view_round_trip_and_invalid_values(qsettings):
    from ecgrecon.gui.settings import SettingsStore

    store = SettingsStore(qsettings)
    m = ViewerModel()
    m.layout, m.order, m.mode, m.speed_mm_s, m.gain_mm_mv, m.rhythm_lead = "6x2", "cabrera", "side", 50.0, 20.0, "V5"
    m.filters = FilterSpec(baseline_hz=0.5, notch_hz=50.0, lowpass_hz=None)
    store.save_view(m)
    got = ViewerModel()
    store.load_view(got)
    assert (got.layout, got.order, got.mode, got.speed_mm_s, got.gain_mm_mv, got.rhythm_lead) == (
        "6x2", "cabrera", "side", 50.0, 20.0, "V5")
    assert got.filters == FilterSpec(0.5, 50.0, None)
    # a hand-edited file: unknown values fall back (speed/gain to the standard 25 mm/s, 10 mm/mV)
    for key, bad in (("layout", "9x9"), ("order", "alphabetical"), ("speed", 33.0), ("gain", "loud"),
                     ("rhythm_lead", "V9"), ("filters/notch", 55.0)):
        qsettings.setValue(key, bad)
    fresh = ViewerModel()
    store.load_view(fresh)
    assert (fresh.layout, fresh.order, fresh.speed_mm_s, fresh.gain_mm_mv, fresh.rhythm_lead) == (
        ViewerModel().layout, ViewerModel().order, 25.0, 10.0, ViewerModel().rhythm_lead)
    assert fresh.filters.notch_hz is None and fresh.filters.baseline_hz == 0.5


def test_settings_store_lists_and_calibration(qsettings):
    from ecgrecon.gui.settings import MAX_PACKS, MAX_RECENT, SettingsStore

    store = SettingsStore(qsettings)
    for i in range(MAX_RECENT + 3):
        store.add_recent(f"/r/{i}.hea")
    store.add_recent("/r/4.hea")  # opened again: first, not twice
    assert store.recent()[:3] == ["/r/4.hea", "/r/10.hea", "/r/9.hea"]
    assert len(store.recent()) == MAX_RECENT and store.recent().count("/r/4.hea") == 1
    store.forget_recent("/r/10.hea")
    assert "/r/10.hea" not in store.recent()
    qsettings.setValue("models/extra_dirs", "/only/one")  # INI files give one entry back as a plain string
    assert store.model_dirs() == ["/only/one"]
    for i in range(MAX_PACKS + 2):
        store.remember_pack(f"/p/{i}")
    assert store.patient_packs()[0] == f"/p/{MAX_PACKS + 1}" and len(store.patient_packs()) == MAX_PACKS
    store.forget_packs()
    assert store.patient_packs() == []
    store.calibration = 7.0
    assert store.calibration == 3.0  # clamped to what the calibration dialog allows
    store.calibration = 1.111
    assert store.calibration == pytest.approx(1.111)


# -- the generic runner -------------------------------------------------------------------------------------
def _run(qtbot, runner, signal):
    with qtbot.waitSignal(signal, timeout=10000) as blocker:
        runner.start()
    qtbot.waitUntil(lambda: not runner.is_running(), timeout=5000)
    return blocker.args


def test_runner_reports_progress_then_result(qtbot):
    from ecgrecon.gui.worker import Runner

    def job(req, progress, cancel):
        for i in range(3):
            progress((i, 3))
        return sum(req)

    r = Runner((1, 2, 3), job)
    seen, done = [], []
    r.progress.connect(seen.append)
    r.done.connect(lambda: done.append(r.outcome))
    assert _run(qtbot, r, r.done) == []
    assert seen == [(0, 3), (1, 3), (2, 3)]
    assert done == ["finished"]


@pytest.mark.parametrize(("exc", "message", "outcome"), [
    (InputError("bad.hea: 3 leads missing"), "bad.hea: 3 leads missing", "failed"),
    (ValueError("boom\n  here"), "internal error during comparison: ValueError: boom here", "failed"),
    (Cancelled(), None, "cancelled"),
])
def test_runner_turns_every_ending_into_one_signal(qtbot, exc, message, outcome):
    from ecgrecon.gui.worker import Runner

    def job(req, progress, cancel):
        raise exc

    r = Runner(None, job, what="comparison")
    got = {"failed": [], "cancelled": [], "finished": []}
    r.failed.connect(got["failed"].append)
    r.cancelled.connect(lambda: got["cancelled"].append(True))
    r.finished.connect(got["finished"].append)
    _run(qtbot, r, r.done)
    assert r.outcome == outcome
    assert got["failed"] == ([message] if message else [])
    assert got["cancelled"] == ([True] if outcome == "cancelled" else []) and got["finished"] == []


def test_runner_cancel_is_seen_by_the_job(qtbot):
    from ecgrecon.gui.worker import Runner

    def job(req, progress, cancel):
        for _ in range(2000):
            if cancel():
                raise Cancelled()
            progress(None)
        return "ran to the end"

    r = Runner(None, job)
    r.progress.connect(r.cancel)  # the first report asks to stop (queued: the job sees it a few steps later)
    _run(qtbot, r, r.done)
    assert r.outcome == "cancelled" and r.cancel_requested


# -- main window: toolbar and status bar --------------------------------------------------------------------
@pytest.fixture()
def bspm_win(qtbot, test_zoo, qsettings):
    from ecgrecon.gui.mainwindow import MainWindow

    w = MainWindow(ViewerModel(zoo=test_zoo), settings=qsettings, auto_reconstruct=False)
    w.errors = []
    w.show_error = w.errors.append
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    yield w
    w.close()


def test_inputs_combo_names_each_configuration(qtbot, bspm_win):
    win = bspm_win
    assert win.open_path(BSPM_DIR / "ludb_3_bspm.hea"), win.errors
    texts = [win.inputs_combo.itemText(i) for i in range(win.inputs_combo.count())]
    assert "EASI (E-S, A-S, A-I)" in texts and "PATCH (L2M-L2, V2-L2, V4-L2)" in texts
    # the combo is wide enough for its longest entry (no "PATCH (L2M-L2, V2-…")
    need = max(win.inputs_combo.fontMetrics().horizontalAdvance(t) for t in texts)
    qtbot.waitUntil(lambda: win.inputs_combo.width() >= need, timeout=3000)  # once the toolbar has laid out


def test_status_bar_progress_text_is_not_clipped(qtbot, bspm_win):
    from ecgrecon.gui.reconcontroller import PROGRESS_FORMAT

    win = bspm_win
    win.resize(700, 600)  # a small window: the long status line must not squeeze the progress bar
    win.progress.setValue(1000)
    win.progress.show()
    win.cancel_button.show()
    win.message("Reconstructing with test-EASI.linear…")
    qtbot.waitUntil(lambda: win.progress.isVisible(), timeout=3000)
    text = win.progress.text()
    assert text == PROGRESS_FORMAT.replace("%p", "100")
    assert win.progress.width() >= win.progress.fontMetrics().horizontalAdvance(text) + 20


# -- the comparison view ------------------------------------------------------------------------------------
def _rect_in(widget, ancestor) -> QRect:
    return QRect(widget.mapTo(ancestor, widget.rect().topLeft()), widget.size())


def test_compare_view_runs_on_the_runner_and_the_batch_runner(qtbot, test_zoo, monkeypatch):
    import ecgrecon.batch as batch
    from ecgrecon.gui.compareview import CompareDialog
    from ecgrecon.gui.worker import Runner

    calls = []
    real = batch.run_records

    def spy(fn, jobs, **kw):
        calls.append(([j.card.id for j in jobs], kw.get("workers"), kw.get("scheduler")))
        yield from real(fn, jobs, **kw)

    monkeypatch.setattr(batch, "run_records", spy)
    rec = read_recording(BSPM_DIR / "s0010_re_bspm.hea")
    dlg = CompareDialog(rec, zoo=test_zoo)
    qtbot.addWidget(dlg)
    dlg.resize(1280, 760)
    dlg.show()
    reports = []
    job = dlg.run(start=False)
    assert isinstance(job, Runner)
    job.progress.connect(reports.append)
    with qtbot.waitSignal(job.done, timeout=60000):
        job.start()
    ids = [c.id for c in dlg.cards]
    assert calls == [(ids, 1, None)]  # in this process, one job per configuration, in the list's order
    assert reports == [(0, 2, ids[0]), (1, 2, ids[1]), (2, 2, "")]
    assert job.outcome == "finished" and dlg.status.text() == "2 configuration(s) compared"

    # legend: a list beside the plot with the full names, never over the traces
    dlg.lead_combo.setCurrentText("V4")
    qtbot.wait(50)
    names = [f"{r.configuration} (R {r.r['V4']:.3f})" for r in dlg.results]
    assert dlg.legend_entries() == ["V4 recorded", *names]
    assert dlg.plot.getPlotItem().legend is None
    assert not _rect_in(dlg.legend, dlg).intersects(_rect_in(dlg.plot, dlg))
    fm = dlg.legend.fontMetrics()
    assert dlg.legend.viewport().width() >= max(fm.horizontalAdvance(t) for t in dlg.legend_entries()) + 28
    # every configuration's name in full in the list, every row of the table without scrolling
    lst = dlg.config_list
    assert all(lst.visualItemRect(lst.item(i)).right() <= lst.viewport().width() for i in range(lst.count()))
    assert lst.sizeHintForColumn(0) <= lst.viewport().width()
    last = dlg.table.rowCount() - 1
    assert dlg.table.rowViewportPosition(last) + dlg.table.rowHeight(last) <= dlg.table.viewport().height()


def test_compare_view_cancel_says_cancelled(qtbot, test_zoo):
    from ecgrecon.gui.compareview import CompareDialog

    dlg = CompareDialog(read_recording(BSPM_DIR / "s0010_re_bspm.hea"), zoo=test_zoo)
    qtbot.addWidget(dlg)
    job = dlg.run(start=False)
    job.cancel()  # before the first configuration: the batch runner stops before running it
    with qtbot.waitSignal(job.done, timeout=60000):
        job.start()
    assert job.outcome == "cancelled" and dlg.status.text() == "cancelled" and dlg.results == []
    assert dlg.run_button.isEnabled() and not dlg.cancel_button.isEnabled()
