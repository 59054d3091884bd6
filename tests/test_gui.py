"""The viewer, offscreen (conftest sets QT_QPA_PLATFORM=offscreen before Qt loads).

Uses a real I,II,V2 model from models/ when one exists (conv preferred);
otherwise a development model fitted on one record is built in a temp folder.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, Qt  # noqa: E402

from ecgrecon.conditioning import FilterSpec  # noqa: E402
from ecgrecon.io import read_recording  # noqa: E402
from ecgrecon.leads import STANDARD_12  # noqa: E402
from ecgrecon.modelcard import ARCH_LABEL, ModelZoo, load_zoo  # noqa: E402
from ecgrecon.recording import Meta, Recording, Role  # noqa: E402
from ecgrecon.viewmodel import NO_TRUTH_TEXT, ViewerModel  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
INPUTS = ("I", "II", "V2")


@pytest.fixture(scope="session")
def dev_model_dir(tmp_path_factory) -> Path:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import make_dev_model
    finally:
        sys.path.pop(0)
    d = tmp_path_factory.mktemp("devmodels")
    make_dev_model.build(d, REPO / "resources/samples/ludb_3.hea", list(INPUTS))
    make_dev_model.build(d, REPO / "resources/samples/ludb_3.hea", ["II", "V1", "V5"])
    return d


@pytest.fixture()
def zoo(monkeypatch, dev_model_dir) -> ModelZoo:
    z = load_zoo()
    if not z.for_inputs(INPUTS):
        monkeypatch.setenv("ECGRECON_MODEL_PATH", str(dev_model_dir))
        z = load_zoo(refresh=True)
    yield z
    monkeypatch.undo()
    load_zoo(refresh=True)


@pytest.fixture()
def model_id(zoo) -> str:
    cands = zoo.for_inputs(INPUTS)
    conv = [c for c in cands if c.architecture == "conv"]
    return (conv[0] if conv else cands[0]).id


@pytest.fixture()
def settings(tmp_path) -> QSettings:
    # never touch the user's settings: an explicit file, and the default location moved too
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))
    return QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat)


@pytest.fixture()
def win(qtbot, zoo, settings):
    from ecgrecon.gui.mainwindow import MainWindow

    w = MainWindow(ViewerModel(zoo=zoo), settings=settings, auto_reconstruct=False)
    w.errors = []
    w.show_error = w.errors.append  # capture dialogs instead of blocking
    w.show_info = lambda msg: None
    w._exec_dialog = lambda dlg: 0
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    yield w
    w.close()


def run(qtbot, win, timeout=60000):
    worker = win.start_reconstruction(start=False)
    assert worker is not None, win.errors
    with qtbot.waitSignal(worker.finished, timeout=timeout):
        worker.start()
    qtbot.waitUntil(lambda: not worker.is_running(), timeout=5000)
    return worker


def long_three_lead(hours: float = 2.0, fs: float = 500.0) -> Recording:
    n = int(hours * 3600 * fs)
    t = np.arange(n, dtype=np.float32) / np.float32(fs)
    beat = np.sin(2 * np.pi * 1.2 * t) ** 31  # narrow spikes at 72/min
    sig = np.stack([0.6 * beat, 1.0 * beat + 0.05 * np.sin(2 * np.pi * 0.2 * t), -0.8 * beat]).astype(np.float32)
    return Recording(sig, fs, INPUTS, meta=Meta(record_id="synthetic-long"))


# ----------------------------------------------------------------------------------------------


def cli_metrics(src: Path, model_id: str, tmp_path: Path):
    """{lead: (role, R, RMSE µV)}, summary and model id from `ecgrecon reconstruct`'s sidecar JSON."""
    from ecgrecon import cli

    out = tmp_path / "cli_out.hea"
    rc = cli.main(["reconstruct", str(src), "--inputs", ",".join(INPUTS), "--model", model_id, "-o", str(out)])
    assert rc == 0
    side = json.loads((tmp_path / "cli_out.metrics.json").read_text())
    return {d["lead"]: (d["role"], d["r"], d["rmse_uv"]) for d in side["leads"]}, side["summary"], side["model"]


def test_reconstruction_table_matches_cli(qtbot, win, samples, model_id, tmp_path):
    assert win.open_path(samples / "ludb_3.hea"), win.errors
    win.choose(INPUTS, model_id)
    assert win.model.inputs == INPUTS and win.model.model_id == model_id, win.errors
    assert win.inputs_combo.currentData() == INPUTS
    assert win.model_combo.currentData() == model_id
    progress = []
    worker = win.start_reconstruction(start=False)
    worker.progress.connect(progress.append)
    with qtbot.waitSignal(worker.finished, timeout=60000):
        worker.start()
    assert progress and progress[-1] == pytest.approx(1.0)
    assert win.errors == []

    # expected numbers: the CLI on the same input, read back from its metrics sidecar
    exp, summary, card_id = cli_metrics(samples / "ludb_3.hea", model_id, tmp_path)
    assert card_id == model_id
    got = win.table_values()
    assert len(got) == 12 and set(exp) <= set(got)
    for lead, (role, r, rmse) in exp.items():
        g_role, g_r, g_rmse = got[lead]
        assert g_role == role
        assert g_r == pytest.approx(r, abs=1e-9)
        assert g_rmse == pytest.approx(rmse, abs=1e-6)
    # the table's text shows the same numbers
    texts = {win.table.item(i, 0).text(): win.table.item(i, 2).text() for i in range(12)}
    assert texts["V1"] == f"{exp['V1'][1]:.3f}"
    # reconstructed-only median first, banner names inputs and model
    summ = win.summary.text()
    assert summ.index("Reconstructed leads only") < summ.index("all 12")
    assert f"median R {summary['reconstructed']['median_r']:.3f}" in summ
    card = win.model.zoo.get(model_id)
    assert win.banner.text() == (f"RECONSTRUCTED ECG — measured: I, II, V2 — model {card.id} v{card.version} "
                                 f"({ARCH_LABEL[card.architecture]})")
    # the first view is the overlay (the reconstruction on screen at any width)
    assert win.model.mode == "overlay" and sum(p.isVisible() for p in win.panels) == 1
    # side by side: a truth panel and a reconstruction panel; roles in words on the paper
    win.set_mode("side")
    assert sum(p.isVisible() for p in win.panels) == 2
    recon_labels = win.panels[1].label_texts()
    assert any(t.startswith("V1 (recon)") and "R " in t for t in recon_labels)
    assert any(t.startswith("I (measured)") for t in recon_labels)
    assert any(t.startswith("III (derived)") for t in recon_labels)
    assert all("(recorded)" in t for t in win.panels[0].label_texts())
    # overlay: one panel, the truth drawn beneath in grey
    win.set_mode("overlay")
    assert sum(p.isVisible() for p in win.panels) == 1


def test_cancel_keeps_window_usable(qtbot, win, samples, model_id):
    win.set_recording(long_three_lead(2.0), "synthetic 2 h")
    assert win.model.model_id is not None
    assert win.overview.isVisibleTo(win) and win.scrollbar.isVisibleTo(win)
    worker = win.start_reconstruction(start=False)
    # cancel as soon as the first chunk reports (direct: set in the worker thread, no race with the GUI)
    worker.progress.connect(worker.cancel, Qt.ConnectionType.DirectConnection)
    seen = []
    worker.progress.connect(seen.append)
    with qtbot.waitSignal(worker.cancelled, timeout=60000):
        worker.start()
    qtbot.waitUntil(lambda: not worker.is_running(), timeout=10000)
    assert worker.outcome == "cancelled"
    qtbot.waitUntil(lambda: not win.progress.isVisible(), timeout=5000)
    assert not win.cancel_button.isVisible()
    assert win.model.recon is None and win.errors == []
    assert "cancelled" in win.msg_label.text().lower()
    # still usable: page through, then open and reconstruct a real file
    win.step_page(3)
    assert win.model.page_start_s == pytest.approx(30.0)
    assert win.open_path(samples / "ludb_3.hea")
    win.choose(INPUTS, model_id)
    run(qtbot, win)
    assert win.model.recon is not None


def test_cancel_button(qtbot, win, model_id):
    win.set_recording(long_three_lead(1.0), "synthetic 1 h")
    worker = win.start_reconstruction(start=False)
    with qtbot.waitSignals([worker.done], timeout=60000):
        worker.start()
        assert win.cancel_button.isEnabled()
        win.cancel_button.click()  # before the first of 60 chunks ends: the worker checks between chunks
    assert worker.outcome == "cancelled"
    assert win.model.recon is None and win.errors == []


def test_bad_file_shows_error_and_window_survives(qtbot, win, samples, tmp_path):
    junk = tmp_path / "junk.hea"
    junk.write_bytes(b"\x00\xffnot a header\n" * 10)
    assert not win.open_path(junk)
    assert len(win.errors) == 1
    msg = win.errors[0]
    assert "junk.hea" in msg and "\n" not in msg
    assert not win.open_path(tmp_path / "thing.xyz")
    assert "unsupported file type" in win.errors[1]
    assert win.model.recording is None
    assert win.open_path(samples / "ludb_3.hea")
    assert win.model.recording is not None and len(win.errors) == 2


def test_worker_error_becomes_dialog(qtbot, win, samples, model_id):
    rec = read_recording(samples / "ludb_3.hea")
    sig = rec.signals.copy()
    sig[rec.index("V2"), 100:200] = np.nan  # the model cannot bridge gaps: InputError in the worker
    from dataclasses import replace

    win.set_recording(replace(rec, signals=sig), "gappy")
    win.choose(INPUTS, model_id)
    worker = win.start_reconstruction(start=False)
    with qtbot.waitSignal(worker.failed, timeout=60000) as blocker:
        worker.start()
    qtbot.waitUntil(lambda: win.errors != [], timeout=5000)
    assert "missing samples" in blocker.args[0]
    assert win.errors == [blocker.args[0]]
    assert win.model.recon is None
    qtbot.waitUntil(lambda: not win.progress.isVisible(), timeout=5000)
    win.set_layout("6x2")  # still responsive


def test_three_lead_file_says_no_ground_truth(qtbot, win, samples, model_id):
    assert win.open_path(samples / "ludb_3_3lead.hea")
    assert set(win.model.recording.leads) == set(INPUTS)
    assert win.model.model_id is not None  # a default was chosen automatically
    win.choose(INPUTS, model_id)
    run(qtbot, win)
    recon = win.model.recon
    assert recon.truth is None and recon.metrics is None
    assert "No ground truth" in win.summary.text()
    vals = win.table_values()
    assert all(r is None for _role, r, _u in vals.values())
    recon_rows = [i for i in range(12) if win.table.item(i, 1).text() == "reconstructed"]
    assert recon_rows and all(win.table.item(i, 2).text() == NO_TRUTH_TEXT for i in recon_rows)
    assert sum(p.isVisible() for p in win.panels) == 1
    labels = win.panels[0].label_texts()
    assert any(t.startswith("V1 (recon)") and NO_TRUTH_TEXT in t for t in labels)
    # no measured R anywhere (the trust signal's "exp. R" is an estimate, and says so)
    assert not any(re.search(r"(?<!exp\. )(?<!expected )R [01]\.", t) for t in labels)


def test_default_choice_prefers_i_ii_v2(win, samples):
    assert win.open_path(samples / "ludb_3.hea")
    assert set(win.model.inputs) == set(INPUTS)
    # the same default as the CLI and models/REPORT.md (the ensemble where one is shipped)
    assert win.model.model_id == win.model.zoo.default_for(INPUTS).id
    assert win.model.model_id == "I-II-V2.ensemble"


def test_settings_persist(qtbot, zoo, settings, win):
    from ecgrecon.gui.mainwindow import MainWindow

    win.set_layout("12x1")
    win.set_speed(50.0)
    win.set_gain(5.0)
    win.set_order("cabrera")
    win.set_filters(FilterSpec(baseline_hz=0.5, notch_hz=60.0, lowpass_hz=40.0))
    win.set_calibration(1.25)
    settings.sync()
    w2 = MainWindow(ViewerModel(zoo=zoo), settings=settings, auto_reconstruct=False)
    qtbot.addWidget(w2)
    m = w2.model
    assert (m.layout, m.speed_mm_s, m.gain_mm_mv, m.order) == ("12x1", 50.0, 5.0, "cabrera")
    assert m.filters == FilterSpec(0.5, 60.0, 40.0)
    assert w2.calibration == pytest.approx(1.25)
    assert w2.f_notch60.isChecked() and not w2.f_notch50.isChecked()
    assert w2.actions["layout_12x1"].isChecked()
    w2.close()


def test_true_size_and_calibration(win, samples):
    win.open_path(samples / "ludb_3.hea")
    scr = win.screen()
    ppm = scr.physicalDotsPerInchX() / 25.4
    assert win.px_per_mm() == pytest.approx(ppm)
    geom = win.geometry_mm()
    plot = win.panels[0].plot
    assert plot.width() == round(geom.width_mm * ppm)
    assert plot.height() == round(geom.height_mm * ppm)
    from ecgrecon.gui.dialogs import new_calibration

    f = new_calibration(1.0, 45.0)  # the 50 mm bar measured 45 mm: draw larger
    win.set_calibration(f)
    assert win.px_per_mm() == pytest.approx(ppm * 50 / 45)
    assert plot.width() == round(geom.width_mm * ppm * 50 / 45)
    assert "calibration ×1.111" in win.status_label.text()


def test_shortcuts_defined_once(win):
    from PySide6.QtGui import QKeySequence

    from ecgrecon.gui.shortcuts import SHORTCUTS, help_html, help_rows

    keys = [k for ks, _t, _h in SHORTCUTS.values() for k in ks]
    assert len(keys) == len(set(keys)), "a key is bound twice"
    assert len(help_rows()) == len(SHORTCUTS)
    html = help_html()
    for name, (ks, _text, tip) in SHORTCUTS.items():
        assert [s.toString() for s in win.actions[name].shortcuts()] == [QKeySequence(k).toString() for k in ks]
        assert tip in html
    win.actions["layout_6x2"].trigger()
    assert win.model.layout == "6x2"
    win.actions["speed_next"].trigger()
    assert win.model.speed_mm_s == 50.0
    win.actions["gain_prev"].trigger()
    assert win.model.gain_mm_mv == 5.0


def test_paging_reuses_items_and_filters_named(qtbot, win, model_id):
    win.set_recording(long_three_lead(0.05), "synthetic 3 min")  # 180 s
    panel = win.panels[0]
    items = dict(panel._traces)
    win.actions["page_next"].trigger()
    assert win.model.page_start_s == pytest.approx(10.0)
    assert win.scrollbar.value() == 100
    assert panel._traces == items  # same PlotDataItems, new data
    xs, _ys = next(iter(items.values())).getData()
    assert len(xs) <= 2 * int(panel.plot.width()) + 2  # min/max per pixel at most
    win.actions["page_last"].trigger()
    assert win.model.page_start_s == pytest.approx(170.0)
    win.scrollbar.setValue(500)
    assert win.model.page_start_s == pytest.approx(50.0)
    spec = FilterSpec(baseline_hz=0.5, notch_hz=50.0, lowpass_hz=40.0)
    win.set_filters(spec)
    assert spec.describe() in win.status_label.text()
    assert win.f_baseline.isChecked() and win.f_notch50.isChecked() and win.f_lowpass.isChecked()


def test_grab_png(qtbot, win, samples, model_id, tmp_path):
    win.open_path(samples / "ludb_3.hea")
    win.choose(INPUTS, model_id)
    run(qtbot, win)
    out = tmp_path / "viewer.png"
    assert win.grab().save(str(out))
    from test_firstview import _blue_pixels

    assert _blue_pixels(out) > 2000  # the reconstructed traces are in the picture, not just a blank window


@pytest.mark.skipif(importlib.util.find_spec("ecgrecon.printing.pdf") is None, reason="printer not built")
def test_export_pdf_and_preview(qtbot, win, samples, model_id, tmp_path):
    win.open_path(samples / "ludb_3.hea")
    win.choose(INPUTS, model_id)
    run(qtbot, win)
    out = win.write_pdf(str(tmp_path / "out.pdf"))
    assert out is not None and out.exists() and out.read_bytes()[:4] == b"%PDF", win.errors
    img = win.pdf_preview_image(win.model.recon, win.print_options(), 600)
    assert not img.isNull() and img.width() == 600


def test_no_display_exits_2(monkeypatch, capsys):
    from ecgrecon.gui import app

    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(app.sys, "platform", "linux")
    assert app.main([]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no display" in err[0]


def test_drop_and_recent_files(qtbot, win, samples, settings):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(samples / "ludb_3_3lead.hea"))])
    ev = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    win.dropEvent(ev)
    assert win.model.recording is not None and len(win.model.recording.leads) == 3
    assert win.open_path(samples / "ludb_3.hea")
    recent = [a.toolTip() for a in win.recent_menu.actions()]
    assert recent[:2] == [str((samples / "ludb_3.hea").resolve()), str((samples / "ludb_3_3lead.hea").resolve())]
    win.recent_menu.actions()[1].trigger()
    assert len(win.model.recording.leads) == 3
    assert settings.value("last_dir") == str(samples.resolve())
    gone = samples.parent / "no_such_file.hea"
    win._add_recent(str(gone))
    win.recent_menu.actions()[0].trigger()
    assert win.errors and "no_such_file" in win.errors[-1]
    assert str(gone) not in [a.toolTip() for a in win.recent_menu.actions()]


def test_rhythm_lead_and_cabrera(qtbot, win, samples):
    win.open_path(samples / "ludb_3.hea")
    win.set_rhythm_lead("V5")
    win.set_order("cabrera")
    labels = win.panels[0].label_texts()
    assert any(t.startswith("V5") and "rhythm" in t for t in labels)
    assert any(t.startswith("-aVR") for t in labels)
    assert win.settings.value("rhythm_lead") == "V5"


def test_screenshot_entry_point(qtbot, zoo, tmp_path, samples):
    from ecgrecon.gui import app

    out = tmp_path / "shot.png"
    rc = app.main([str(samples / "ludb_3.hea"), "--screenshot", str(out), "--layout", "6x2", "--mode", "overlay",
                   "--size", "900x700", "--fit"])
    assert rc == 0
    from PySide6.QtGui import QImage

    img = QImage(str(out))
    assert (img.width(), img.height()) == (900, 700)
    from test_firstview import _blue_pixels

    assert _blue_pixels(out) > 500  # reconstructed traces drawn (6x2 overlay, fitted to 900 px)


def test_viewmodel_is_qt_free():
    import subprocess

    code = "import sys, ecgrecon.viewmodel; print(any(m.startswith(('PySide6', 'pyqtgraph')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_keys_reach_the_actions(qtbot, win, samples):
    win.open_path(samples / "ludb_3.hea")
    win.activateWindow()
    win.setFocus()
    qtbot.waitUntil(lambda: win.isActiveWindow(), timeout=3000)
    qtbot.keyClick(win, Qt.Key.Key_3)
    assert win.model.layout == "12x1"
    qtbot.keyClick(win, Qt.Key.Key_S)
    assert win.model.speed_mm_s == 50.0
    qtbot.keyClick(win, Qt.Key.Key_G, Qt.KeyboardModifier.ShiftModifier)
    assert win.model.gain_mm_mv == 5.0
    qtbot.keyClick(win, Qt.Key.Key_Right)
    m = win.model  # 50 mm/s: 5.3 s pages; the last page ends at the recording's end
    assert m.page_start_s == pytest.approx(min(m.page_seconds(), m.duration_s - m.page_seconds()))
    assert m.page_start_s > 4.0


def test_calibration_dialog_factor(qtbot, win):
    from ecgrecon.gui.dialogs import CalibrationDialog, _Bar

    dlg = CalibrationDialog(win.px_per_mm_true(), 1.0, win)
    qtbot.addWidget(dlg)
    bar = dlg.findChild(_Bar)
    assert bar is not None and bar.width() == int(50 * win.px_per_mm_true()) + 20
    dlg.measured.setValue(55.0)  # drawn too long: shrink
    assert dlg.new_factor() == pytest.approx(50 / 55)
    dlg._reset()
    assert dlg.new_factor() == 1.0


def test_overview_region_moves_page(qtbot, win):
    win.set_recording(long_three_lead(0.05), "synthetic 3 min")
    win.overview.region.setRegion((60.0, 70.0))
    assert win.model.page_start_s == pytest.approx(60.0)
    assert win.scrollbar.value() == 600


def test_quality_notes_shown(qtbot, win, samples):
    from dataclasses import replace

    rec = read_recording(samples / "ludb_3.hea")
    sig = rec.signals.copy()
    sig[rec.index("V4")] = 0.0  # a flat lead: the quality check names it
    win.set_recording(replace(rec, signals=sig), "flat V4")
    assert win.quality_label.isVisibleTo(win)
    assert "V4" in win.quality_label.text()
    win.open_path(samples / "ludb_3.hea")
    assert not win.quality_label.isVisibleTo(win) or "V4" not in win.quality_label.text()


def test_window_responsive_while_reconstructing(qtbot, win):
    import time

    from PySide6.QtCore import QTimer

    win.set_recording(long_three_lead(2.0), "synthetic 2 h")
    ticks = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    worker = win.start_reconstruction(start=False)
    timer.start()
    t0 = time.perf_counter()
    worker.start()
    # run for up to 1.5 s (or to the end), then cancel
    qtbot.waitUntil(lambda: worker.outcome is not None or time.perf_counter() - t0 > 1.5, timeout=30000)
    win.cancel_reconstruction()
    qtbot.waitUntil(lambda: not worker.is_running(), timeout=60000)
    elapsed = time.perf_counter() - t0
    timer.stop()
    ticks = [t for t in ticks if t >= t0]
    assert len(ticks) >= min(5, int(elapsed / 0.02) // 3), (len(ticks), elapsed)
    gaps = np.diff([t0, *ticks])
    assert gaps.max() < 1.0, f"GUI thread blocked for {gaps.max():.2f} s"


def test_role_colours_on_paper(qtbot, win, samples, model_id):
    from ecgrecon.viewmodel import ROLE_COLOUR

    win.open_path(samples / "ludb_3.hea")
    win.choose(INPUTS, model_id)
    run(qtbot, win)
    win.set_mode("side")
    panel = win.panels[1]
    geom = win.geometry_mm()
    from ecgrecon.style import LOW_CONFIDENCE_HEX

    for i, box in enumerate(geom.boxes):
        lab = panel._labels[i]
        role = win.model.recon.result.role(box.lead)
        low = role == Role.RECONSTRUCTED and win.model.is_low_confidence(box.lead)
        assert lab.textItem.defaultTextColor().name() == (LOW_CONFIDENCE_HEX if low else ROLE_COLOUR[role])
        pen = panel._traces[(0, i)].opts["pen"]
        assert pen.color().name() == ROLE_COLOUR[role]


def test_inputs_and_model_choices_follow_the_file(qtbot, settings, dev_model_dir, samples):
    from ecgrecon.gui.mainwindow import MainWindow

    zoo = ModelZoo.discover([dev_model_dir])  # two configurations at least, whatever models/ holds
    w = MainWindow(ViewerModel(zoo=zoo), settings=settings, auto_reconstruct=False)
    qtbot.addWidget(w)
    w.show_error = lambda m: pytest.fail(m)
    w.open_path(samples / "ludb_3.hea")
    cfgs = [tuple(w.inputs_combo.itemData(i)) for i in range(w.inputs_combo.count())]
    assert INPUTS in cfgs and ("II", "V1", "V5") in cfgs
    assert tuple(w.inputs_combo.currentData()) == INPUTS  # the default
    w.choose(("II", "V1", "V5"))
    assert tuple(w.inputs_combo.currentData()) == ("II", "V1", "V5")
    assert [w.model_combo.itemData(i) for i in range(w.model_combo.count())] == \
        [c.id for c in zoo.for_inputs(("II", "V1", "V5"))]
    w.open_path(samples / "ludb_3_3lead.hea")  # I, II, V2 only: II,V1,V5 models no longer offered
    cfgs = [tuple(w.inputs_combo.itemData(i)) for i in range(w.inputs_combo.count())]
    assert cfgs == [INPUTS]
    w.close()


def test_hover_reading_inverts_the_paper_mapping(win, samples):
    win.open_path(samples / "ludb_3.hea")
    geom = win.geometry_mm()
    box = geom.box("V1")
    x, y = box.to_mm(box.t0_s + 0.5, 0.25, geom.spec)
    assert win.panels[0].reading_at(float(x), float(y)) == "V1  t 5.500 s  +0.25 mV"
    assert win.panels[0].reading_at(-5.0, 1.0) == ""


def test_user_model_folder_setting(win, settings, tmp_path, samples, build_dev_model):
    """Settings > Add model folder: models there appear in the model list and persist."""
    folder = tmp_path / "my_models"
    build_dev_model(folder, samples / "ludb_3.hea", ["I", "II", "V2"], model_id="I-II-V2.mylinear")
    win.set_model_dirs([str(folder)])
    assert "I-II-V2.mylinear" in {c.id for c in win.model.zoo.cards}
    assert settings.value("models/extra_dirs") in ([str(folder)], str(folder))
    assert win.open_path(samples / "ludb_3.hea")
    win.choose(("I", "II", "V2"), "I-II-V2.mylinear")
    assert win.model.model_id == "I-II-V2.mylinear"
    # a window built later with the same settings finds the folder again
    from ecgrecon.gui.mainwindow import MainWindow

    w2 = MainWindow(ViewerModel(zoo=win.model.zoo), settings=settings, auto_reconstruct=False)
    assert "I-II-V2.mylinear" in {c.id for c in w2.model.zoo.cards}
    w2.close()
    win.set_model_dirs([])
    assert "I-II-V2.mylinear" not in {c.id for c in win.model.zoo.cards}


def test_bspm_sample_shows_torso_map_and_easi_reconstruction(win, qtbot, samples):
    """Opening a synthetic BSPM: torso map docked, EASI chosen on the map, 12-lead truth with per-lead R."""
    assert win.open_path(samples / "bspm" / "ludb_3_bspm.hea")
    assert not win.torso_panel.isHidden()  # shown for a map, under the lead table
    assert win.torso.recording is not None
    rec = win.model.recording
    assert rec.electrodes is not None and {"E-S", "A-S", "A-I"} <= set(rec.leads)
    easi = [c for c in win.model.zoo.cards if c.configuration == "EASI"]
    assert easi, "EASI models are bundled"
    win._torso_chosen("EASI", easi[0].input_leads)
    assert set(win.model.inputs) == {"E-S", "A-S", "A-I"}
    w = win.start_reconstruction(start=False)
    with qtbot.waitSignal(w.finished, timeout=60000):
        w.start()
    vals = win.table_values()
    assert set(STANDARD_12) <= set(vals)
    assert all(vals[n][0] == "reconstructed" for n in STANDARD_12)
    # the table shows exactly what the engine computes for this map and model
    from ecgrecon.bspm import with_leads
    from ecgrecon.inference import reconstruct

    ref = reconstruct(with_leads(rec, easi[0].input_leads), win.model.model_id, zoo=win.model.zoo)
    for m in ref.metrics.leads:
        assert vals[m.lead][1] == pytest.approx(m.r, abs=1e-9), m.lead
    # hovering the paper moves the isopotential map through the beat
    win.torso.set_time(0.4)
    assert win.torso.time_s == pytest.approx(0.4)


def test_torso_map_sits_under_the_lead_table_and_leaves_the_paper_its_width(win, qtbot, samples):
    """The map shares the side column with the lead table (a column of its own left the paper 2-3 of its four
    columns in a 1400 px window); the menu action hides it and gives the width back."""
    from ecgrecon.gui.mainwindow import TORSO_COLUMN_PX

    qtbot.waitExposed(win)
    assert win.open_path(samples / "bspm" / "ludb_3_bspm.hea")
    qtbot.wait(50)
    assert win.torso_panel.parent() is win.side and not win.torso_panel.isHidden()
    assert win.torso_action.isChecked()
    paper_w, side_w = win.split.sizes()
    assert side_w == pytest.approx(TORSO_COLUMN_PX, abs=20)
    assert paper_w >= 1400 - TORSO_COLUMN_PX - 60
    # the map sits under all 13 table rows, not over them
    assert win.torso_panel.geometry().top() >= win.side_tabs.geometry().bottom()
    assert win.table.viewport().height() >= 13 * win.table.verticalHeader().defaultSectionSize()
    win.torso_action.setChecked(False)
    qtbot.wait(50)
    assert win.torso_panel.isHidden()
    assert win.split.sizes()[1] < TORSO_COLUMN_PX - 40
    # a plain 12-lead file has no map
    win.torso_action.setChecked(True)
    assert win.open_path(samples / "ludb_3.hea")
    assert win.torso_panel.isHidden() and not win.torso_action.isChecked()
    assert not win.torso_action.isEnabled()


def test_compare_dialog_opens_from_menu(win, samples):
    assert win.open_path(samples / "ludb_3.hea")
    win.open_compare()
    dlg = win.compare_dialog
    assert dlg.config_list.count() >= 8  # every standard-lead configuration fits a 12-lead file
    dlg.close()


def test_measurements_tab_and_header_match_the_core(qtbot, win, samples, model_id, tmp_path):
    """The measurements tab shows the core's figures for the page, reconstruction beside the recorded ECG,
    with the differences; the header line marks what depends on reconstructed leads."""
    from ecgrecon.measurements import measure

    assert win.open_path(samples / "ludb_3.hea")
    plain = measure(read_recording(samples / "ludb_3.hea"))
    assert f"HR {plain.values['heart_rate_bpm']:.0f} bpm" in win.measure_label.text()
    assert "*" not in win.measure_label.text()  # nothing reconstructed yet
    win.choose(INPUTS, model_id)
    run(qtbot, win)
    rec, truth = win.model.recon.result, win.model.recon.truth
    m, t = measure(rec), measure(truth)
    rows = {r[0]: r[1:] for r in win.measure_panel.rows()}
    assert rows["QRS"][0] == f"{m.values['qrs_ms']:.0f} ms*"  # uses reconstructed precordial leads
    assert rows["QRS"][1] == f"{t.values['qrs_ms']:.0f} ms"
    assert rows["QRS"][2] == f"{m.values['qrs_ms'] - t.values['qrs_ms']:+.0f} ms"
    assert rows["QRS axis"][0] == f"{m.values['qrs_axis_deg']:.0f} deg"  # limb leads only: no star
    assert rows["ST at J V1"][0].endswith("uV*") and not rows["ST at J I"][0].endswith("*")
    head = win.measure_label.text()
    assert "* uses reconstructed leads" in head and "recorded ECG: PR" in head
    # the shortcut switches the side panel to the measurements
    win.side_tabs.setCurrentIndex(0)
    win.actions["measure_panel"].trigger()
    assert win.side_tabs.currentWidget() is win.measure_panel
    win.measure_panel.grab().save(str(tmp_path / "measure_tab.png"))


def test_calipers_measure_time_and_amplitude_on_the_paper(qtbot, win, samples):
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    win.open_path(samples / "ludb_3.hea")
    panel = win.panels[0]
    geom = win.geometry_mm()
    box = geom.box("II")
    x0, y0 = box.x_mm + 10.0, box.baseline_mm
    # 20 mm at 25 mm/s = 800 ms (75 bpm); 10 mm up at 10 mm/mV = +1 mV
    r = panel.set_caliper(x0, y0, x0 + 20.0, y0 - 10.0)
    assert r["lead"] == "II" and r["dt_ms"] == pytest.approx(800.0) and r["bpm"] == pytest.approx(75.0)
    assert r["dv_mv"] == pytest.approx(1.0) and r["text"] == "800 ms (75 bpm), +1.00 mV"
    # a drag that runs past the box is held inside it (time only runs along one lead)
    r = panel.set_caliper(x0, y0, box.x_mm + box.width_mm + 50.0, y0)
    assert r["dt_ms"] == pytest.approx((box.width_mm - 10.0) / 25.0 * 1000.0)
    win.clear_calipers()
    assert panel.caliper_reading() is None
    # a real left-button drag on the widget draws them
    vb = panel.vb

    def to_widget(xm, ym):
        sp = vb.mapViewToScene(QPointF(xm, ym))
        return panel.plot.mapFromScene(sp)

    a, b = to_widget(x0, y0), to_widget(x0 + 25.0, y0)
    vp = panel.plot.viewport()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for k in range(1, 11):
        p = a + (b - a) * (k / 10)
        ev = QMouseEvent(QEvent.Type.MouseMove, QPointF(p), QPointF(vp.mapToGlobal(p)), Qt.MouseButton.NoButton,
                         Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(vp, ev)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)
    got = panel.caliper_reading()
    assert got is not None and got["dt_ms"] == pytest.approx(1000.0, abs=25.0)
    win.actions["calipers_clear"].trigger()
    assert panel.caliper_reading() is None
