"""The viewer's main window: the composition of its parts, and the one place it follows the model.

Parts, each in its own module:

- :class:`~.settings.SettingsStore`: every persistent setting (view, recent files, model folders, packs)
- :class:`~.menus.Menus`: menus, toolbar and check marks (keys from the one dict in :mod:`.shortcuts`)
- :class:`~.header.RecordingHeader`: banner, summary, quality and measurement lines above the paper
- :class:`~.papersheet.PaperSheet`: the paper panels, true size or fitted
- :class:`~.navigation.PageNavigator`: overview strip, scrollbar, goto and step
- :class:`~.resultstable.LeadTable`: the lead table (role, R, RMSE)
- :class:`~.reconcontroller.ReconstructionController`: reconstructions on the generic worker runner
- :class:`~.modelsources.ModelSources`: model folders and patient packs
- :class:`~.export.PdfExport`: PDF export and its preview

The window reads files (:meth:`open_path`) and takes in-memory recordings
(:meth:`set_recording`); both end in :meth:`_opened`. Everything else reacts to
``ViewerModel.changed`` in :meth:`_model_changed`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..conditioning import FilterSpec
from ..errors import Cancelled, EcgReconError
from ..io import READ_FORMATS
from ..modelcard import ModelZoo
from ..papergrid import PageGeometry
from ..viewmodel import ViewerModel
from .compareview import CompareDialog
from .dialogs import AboutDialog, CalibrationDialog, HelpDialog
from .export import PdfExport, preview_image
from .export import print_options as _print_options
from .fileopen import FileReader
from .header import RecordingHeader
from .measurepanel import MeasurementPanel, header_text
from .menus import Menus
from .modelsources import ModelSources
from .navigation import PageNavigator
from .papersheet import PaperSheet, page_geometry
from .reconcontroller import ReconstructionController
from .resultstable import LeadTable
from .settings import CALIBRATION_RANGE, SettingsStore, default_settings
from .torsomap import TorsoMapWidget
from .welcome import WelcomePanel
from .worker import Runner

__all__ = ["MainWindow", "default_settings"]

MEASURE_DELAY_MS = 150  # measure a page once the user stops paging
TORSO_COLUMN_PX = 430  # narrowest side column in which the torso map's electrode labels stay apart


def _warm_imports() -> None:
    """neurokit2 (the measurements' beat detector) takes about a second to import: do it off the GUI thread
    now, not when the first recording is measured."""

    def load() -> None:
        try:
            import neurokit2  # noqa: F401
        except Exception:  # noqa: BLE001 - the measurement will report it when it runs
            pass

    threading.Thread(target=load, name="warm-imports", daemon=True).start()


class MainWindow(QMainWindow):
    def __init__(self, model: ViewerModel | None = None, *, settings: QSettings | None = None,
                 auto_reconstruct: bool = True) -> None:
        super().__init__()
        if model is None:
            from ..modelcard import load_zoo

            model = ViewerModel(zoo=load_zoo())
        self.model = model
        self.settings = settings if settings is not None else default_settings()
        self.store = SettingsStore(self.settings)
        self.auto_reconstruct = auto_reconstruct
        if self.store.model_dirs():  # user model folders (a setting; ECGRECON_MODEL_PATH works too)
            self.model.zoo = ModelZoo.discover(self.store.model_dirs())
        self.setWindowTitle("ecgrecon viewer")
        self.setAcceptDrops(True)
        self.store.load_view(self.model)
        _warm_imports()
        self.reconstructor = ReconstructionController(self, self)
        self.reader = FileReader(self)  # files are parsed in a child process, off this thread
        self.sources = ModelSources(self, self, self._fill_model_combos)
        self.pdf = PdfExport(self, self)
        self._build_ui()
        self.side_tabs.setCurrentIndex(self.store.side_tab)
        self._sync_actions()
        self.refresh_all()
        # from here on the window follows the model: setters announce, this redraws (no refresh by hand)
        self._quiet_page = False
        self.model.changed.connect(self._model_changed)
        self.resize(1400, 900)
        probs = list(getattr(self.model.zoo, "problems", []) or [])
        if probs:  # a model whose card and file disagree is refused: say so, do not hide it
            self.message(f"{len(probs)} model(s) refused — `ecgrecon models` lists why", 30000)
            self.msg_label.setToolTip("\n".join(probs))
        geo = self.store.geometry()
        if geo is not None:
            self.restoreGeometry(geo)

    # ------------------------------------------------------------------ UI
    def _build_ui(self) -> None:
        self.menus = mn = Menus(self)
        # the parts tests and scripts reach by name
        self.actions = mn.actions
        self.inputs_combo, self.model_combo, self.layout_combo = mn.inputs_combo, mn.model_combo, mn.layout_combo
        self.recent_menu, self.packs_menu = mn.recent_menu, mn.packs_menu
        self.f_baseline, self.f_notch50, self.f_notch60, self.f_lowpass = (mn.f_baseline, mn.f_notch50,
                                                                          mn.f_notch60, mn.f_lowpass)
        self.about_action, self.torso_action = mn.about_action, mn.torso_action
        self.reconstructor.cancel_action = self.actions["cancel"]

        central = QWidget()
        v = QVBoxLayout(central)
        v.setContentsMargins(6, 4, 6, 4)
        self.header = RecordingHeader()
        self.banner, self.summary = self.header.banner, self.header.summary
        self.quality_label, self.measure_label = self.header.quality_label, self.header.measure_label
        v.addWidget(self.header)

        self.paper = PaperSheet(self.store.calibration)
        self.panels = self.paper.panels  # the same list: grows as the paper adds panels
        self.table = LeadTable()
        # the lead table and the measurements share the side of the paper, as tabs
        self.side_tabs = QTabWidget()
        self.side_tabs.setObjectName("sideTabs")
        self.side_tabs.addTab(self.table, "Leads")
        self.measure_panel = MeasurementPanel()
        self.side_tabs.addTab(self.measure_panel, "Measurements")
        # the side column: the tabs, and for body surface maps the torso map under them (a column of its own
        # would leave the paper too narrow for its four columns at true size)
        self.side = QWidget()
        self.side.setObjectName("sideColumn")
        side_layout = QVBoxLayout(self.side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.side_tabs, 1)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.paper)
        self.split.addWidget(self.side)
        self.split.setStretchFactor(0, 1)
        self.split.setStretchFactor(1, 0)
        v.addWidget(self.split, 1)
        self.welcome = WelcomePanel()  # in place of the empty paper until a recording is open
        self.welcome.chosen.connect(self.open_path)
        self.welcome.open_requested.connect(self.open_dialog)
        v.addWidget(self.welcome, 1)
        self.nav = PageNavigator(self.model, self)
        self.overview, self.scrollbar = self.nav.overview, self.nav.scrollbar
        v.addWidget(self.overview)
        v.addWidget(self.nav.heart_rate)
        v.addWidget(self.scrollbar)
        self.setCentralWidget(central)

        sb = self.statusBar()
        self.status_label = QLabel()
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # long text
        self.msg_label = QLabel()
        self.msg_label.setStyleSheet("QLabel { color: #8a1c00; font-weight: bold; }")
        self.hover_label = QLabel()
        self.hover_label.setMinimumWidth(210)
        self.progress, self.cancel_button = self.reconstructor.progress, self.reconstructor.cancel_button
        for w, stretch in ((self.status_label, 1), (self.hover_label, 0), (self.msg_label, 0), (self.progress, 0),
                           (self.cancel_button, 0)):
            sb.addPermanentWidget(w, stretch)
        self._msg_timer = QTimer(self)
        self._msg_timer.setSingleShot(True)
        self._msg_timer.timeout.connect(self.msg_label.clear)
        self._measure_timer = QTimer(self)
        self._measure_timer.setSingleShot(True)  # measure once the user stops paging
        self._measure_timer.timeout.connect(self.update_measurements)
        self.paper.hovered.connect(self.hover_label.setText)
        self.paper.caliper_changed.connect(lambda text: self.message(text) if text else None)
        self.paper.resized.connect(self.refresh_page)
        self._rebuild_recent()

        # BSPM: electrodes on the unrolled torso; clicking picks a configuration (shown for maps only)
        self.torso = TorsoMapWidget()
        self.torso_panel = QGroupBox("Torso map")
        self.torso_panel.setObjectName("torsoPanel")
        QVBoxLayout(self.torso_panel).addWidget(self.torso)
        self.torso_panel.layout().setContentsMargins(2, 2, 2, 2)
        self.side.layout().addWidget(self.torso_panel, 0)  # the map's own height; the table takes the rest
        self.torso_panel.hide()
        self.torso.configurationChosen.connect(self._torso_chosen)
        self.torso_action.toggled.connect(self._show_torso)
        self.torso_action.setEnabled(False)  # until a body surface map is open
        self.paper.hovered_time.connect(self.torso.set_time)

    def _show_torso(self, on: bool) -> None:
        """Show or hide the torso map under the lead table; the side column widens just enough for a legible map."""
        if on != self.torso_panel.isHidden() and on == self.torso_action.isChecked():
            return
        self.torso_panel.setVisible(on)
        with QSignalBlocker(self.torso_action):
            self.torso_action.setChecked(on)
        total = sum(self.split.sizes()) or self.width()
        side = max(self.table.minimumWidth(), TORSO_COLUMN_PX if on else 0)
        self.split.setSizes([max(0, total - side), side])

    def _sync_actions(self) -> None:
        self.menus.sync(self.model, self.fit_to_window)

    def toggle_side_tab(self) -> None:
        self.side_tabs.setCurrentIndex(0 if self.side_tabs.currentIndex() == 1 else 1)

    def message(self, text: str, ms: int = 0) -> None:
        """Transient status text (the permanent status line with the filters stays visible)."""
        self.msg_label.setText(text)
        if ms:
            self._msg_timer.start(ms)
        else:
            self._msg_timer.stop()

    def show_error(self, message: str) -> None:
        """Every error dialog goes through here (tests replace it)."""
        QMessageBox.warning(self, "ecgrecon", message)

    def show_info(self, message: str) -> None:
        QMessageBox.information(self, "ecgrecon", message)

    def _exec_dialog(self, dlg: QDialog) -> int:
        """Modal dialogs other than errors go through here (tests replace it)."""
        return dlg.exec()

    # ------------------------------------------------------------ settings
    @property
    def calibration(self) -> float:
        return self.paper.calibration

    def set_calibration(self, factor: float) -> None:
        lo, hi = CALIBRATION_RANGE
        self.paper.calibration = float(min(hi, max(lo, factor)))
        self._save_view_settings()
        self.refresh_page()

    def _save_view_settings(self) -> None:
        self.store.save_view(self.model)
        self.store.calibration = self.calibration
        self.store.side_tab = self.side_tabs.currentIndex()

    def model_dirs(self) -> list[str]:
        return self.store.model_dirs()

    def set_model_dirs(self, dirs: list[str]) -> None:
        self.sources.set_model_dirs(dirs)

    def add_model_dir_dialog(self) -> None:
        self.sources.add_model_dir_dialog()

    def patient_packs(self) -> list[str]:
        return self.store.patient_packs()

    def _rebuild_packs(self) -> None:
        self.menus.fill_packs(self.store.patient_packs(), self.use_pack)

    def calibrate_dialog(self) -> None:
        self.sources.calibrate_dialog()

    def calibrate_into(self, folder: str) -> bool:
        return self.sources.calibrate_into(folder)

    def use_pack_dialog(self) -> None:
        self.sources.use_pack_dialog()

    def use_pack(self, folder: str) -> bool:
        return self.sources.use_pack(folder)

    # --------------------------------------------------------------- files
    def open_dialog(self) -> None:
        pats = " ".join(f"*{e}" for e in READ_FORMATS)
        path, _ = QFileDialog.getOpenFileName(self, "Open recording", self.store.last_dir,
                                              f"ECG recordings ({pats});;All files (*)")
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        """Open a file; a bad file gives a dialog with the reader's one-line reason and changes nothing.
        (The seam for reading files: everything after the read is :meth:`_opened`.)"""
        path = str(path)
        error = None
        try:
            # in a child process with time and memory limits (a parser that hangs or segfaults costs that
            # child, not this window); the window keeps painting and offers Cancel meanwhile
            rec = self.reader.read(path)
            self.model.set_recording(rec, path)
        except Cancelled:
            self.message("Opening cancelled; nothing changed", 5000)
            return False
        except EcgReconError as e:
            error = str(e)
        except Exception as e:  # a reader bug must not kill the window
            error = f"{path}: cannot read ({type(e).__name__}: {' '.join(str(e).split())})"
        if error is not None:
            self.show_error(error)
            return False
        self.store.last_dir = str(Path(path).resolve().parent)
        self._add_recent(str(Path(path).resolve()))
        self._opened(Path(path).name)
        return True

    def set_recording(self, rec, name: str = "recording") -> None:
        """Show an in-memory Recording (tests, benchmarks, other front ends)."""
        self.model.set_recording(rec, None)
        self._opened(name)

    def _opened(self, name: str) -> None:
        self.reconstructor.drop()
        rec = self.model.recording
        is_map = rec is not None and rec.electrodes is not None
        self.torso.set_configurations({c.configuration: c.input_leads for c in self.model.zoo.cards
                                       if rec is not None and set(c.input_leads) <= set(rec.leads)} if is_map else {})
        self.torso.set_recording(rec if is_map else None)
        if is_map:
            self.torso.set_inputs(self.model.inputs)
        self.torso_action.setEnabled(is_map)  # nothing to show for a file without a body surface map
        self._show_torso(is_map)
        self.setWindowTitle(f"ecgrecon viewer — {name}")
        self._fill_model_combos()
        self._sync_actions()
        self.refresh_all()
        if self.auto_reconstruct and self.model.model_id:
            self.start_reconstruction()
        elif not self.model.model_id:
            self.message("No installed model fits this recording's leads", 10000)

    def _add_recent(self, path: str) -> None:
        self.store.add_recent(path)
        self._rebuild_recent()

    def _rebuild_recent(self) -> None:
        self.menus.fill_recent(self.store.recent(), self._open_recent)

    def _open_recent(self, path: str) -> None:
        if not self.open_path(path) and not Path(path).exists():  # moved or deleted: forget it
            self.store.forget_recent(path)
            self._rebuild_recent()

    def dragEnterEvent(self, ev) -> None:  # noqa: N802
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev) -> None:  # noqa: N802
        urls = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if urls:
            ev.acceptProposedAction()
            self.open_path(urls[0])

    # ------------------------------------------------------ model choice
    def _fill_model_combos(self) -> None:
        self.menus.fill_inputs(self.model)
        self.menus.fill_models(self.model)

    def choose(self, inputs: tuple[str, ...] | list[str], model_id: str | None = None) -> None:
        """Pick the measured inputs and the model (the rest of a 12-lead file becomes ground truth)."""
        try:
            self.model.choose(tuple(inputs), model_id)
        except EcgReconError as e:
            self.show_error(str(e))
            return
        self._fill_model_combos()
        if self.model.recording is not None and self.model.recording.electrodes is not None:
            self.torso.set_inputs(self.model.inputs)

    def _inputs_chosen(self, i: int) -> None:
        self.choose(self.inputs_combo.itemData(i))
        if self.auto_reconstruct:
            self.start_reconstruction()

    def _model_chosen(self, i: int) -> None:
        self.choose(self.model.inputs, self.model_combo.itemData(i))
        if self.auto_reconstruct:
            self.start_reconstruction()

    def _torso_chosen(self, name: str, inputs) -> None:
        self.choose(tuple(inputs))
        if self.auto_reconstruct and self.model.model_id and set(self.model.inputs) == set(inputs):
            self.start_reconstruction()

    # -------------------------------------------------------- reconstruction
    @property
    def worker(self) -> Runner | None:
        return self.reconstructor.worker

    def start_reconstruction(self, start: bool = True) -> Runner | None:
        """Run the chosen model in a worker thread; ``start=False`` lets a caller connect first."""
        return self.reconstructor.start(start)

    def long_progress(self, long) -> None:
        """A block of a long reconstruction is done (ReconstructionController): the heart-rate trend grows."""
        self.nav.show_heart_rate(long)

    def cancel_reconstruction(self) -> None:
        self.reconstructor.cancel()

    def open_compare(self) -> None:
        """Run several configurations on this recording and compare R per lead (worker thread)."""
        if self.model.recording is None:
            self.show_error("open a recording first")
            return
        try:
            dlg = CompareDialog(self.model.recording, zoo=self.model.zoo, parent=self)
        except EcgReconError as e:
            self.show_error(str(e))
            return
        self.compare_dialog = dlg
        dlg.show()

    # -------------------------------------------------------------- view
    def _model_changed(self, what: str) -> None:
        """The one place the window reacts to model changes (ViewerModel.changed)."""
        if what == "view":
            self._view_changed()
        elif what == "page" and not self._quiet_page:
            self.nav.sync()
            self.refresh_page()
        elif what == "result":
            self.refresh_all()

    def set_layout(self, layout: str) -> None:
        self.model.set_layout(layout)

    def set_order(self, order: str) -> None:
        self.model.set_order(order)

    def set_mode(self, mode: str) -> None:
        self.model.set_mode(mode)

    def set_rhythm_lead(self, lead: str) -> None:
        self.model.set_rhythm_lead(lead)

    def set_speed(self, v: float) -> None:
        self.model.set_speed(v)

    def set_gain(self, v: float) -> None:
        self.model.set_gain(v)

    def set_filters(self, spec: FilterSpec) -> None:
        self.model.set_filters(spec)

    @property
    def fit_to_window(self) -> bool:
        return self.paper.fit_to_window

    def set_fit(self, on: bool) -> None:
        self.paper.fit_to_window = bool(on)
        self._view_changed()

    def _view_changed(self) -> None:
        self._quiet_page = True  # the clamp below may move the page; refresh_all draws it anyway
        try:
            self.nav.clamp()
        finally:
            self._quiet_page = False
        self._sync_actions()
        self._save_view_settings()
        self.refresh_all()

    def step_page(self, n: int) -> None:
        self.nav.step(n)

    def goto(self, t: float) -> None:
        self.nav.goto(t)

    def px_per_mm(self) -> float:
        return self.paper.px_per_mm(self.model)

    def px_per_mm_true(self) -> float:
        return self.paper.px_per_mm_true()

    def geometry_mm(self) -> PageGeometry:
        return page_geometry(self.model)

    def refresh_all(self) -> None:
        """Everything that depends on the recording or the result: header, table, paging, page."""
        m = self.model
        self.header.show_model(m)
        self.table.fill(m)
        has = m.recording is not None
        self.welcome.setVisible(not has)
        self.split.setVisible(has)
        self.nav.show_recording()
        self.refresh_page()
        self.update_measurements()  # new recording or result: now, not after the paging delay

    def refresh_page(self) -> None:
        geom = self.paper.render(self.model)
        if geom is not None:
            self.nav.show_page(geom.page_start_s, geom.page_start_s + geom.page_seconds)
        self._update_status()
        self._measure_timer.start(MEASURE_DELAY_MS)

    def update_measurements(self) -> None:
        """Measure the page on screen (the reconstruction, and the recorded 12 leads beside it)."""
        m = self.model
        main = m.recon.result if m.recon is not None else m.recording
        truth = m.recon.truth if m.recon is not None else None
        if main is None:
            self.measure_label.clear()
            self.measure_panel.show_strip(None, None, 0.0, 0.0)
            return
        geom = self.geometry_mm()
        t0 = geom.page_start_s
        if self.measure_panel.show_strip(main, truth, t0, t0 + geom.page_seconds):
            self.measure_label.setText(header_text(self.measure_panel.result, self.measure_panel.truth))

    def clear_calipers(self) -> None:
        self.paper.clear_calipers()

    def _update_status(self) -> None:
        m = self.model
        if m.recording is None:
            self.status_label.setText("Open a recording (Ctrl+O) or drop a file on the window")
            return
        geom = self.geometry_mm()
        size = ("true size" if not self.fit_to_window else
                f"NOT true size: scaled to fit ({self.px_per_mm() / self.px_per_mm_true():.0%})")
        text = (f"{geom.page_start_s:.1f}–{geom.page_start_s + geom.page_seconds:.1f} s of {m.duration_s:.1f} s · "
                f"{m.status_text()} · {size} (calibration ×{self.calibration:.3f})")
        self.status_label.setText(text)
        self.status_label.setToolTip(text)

    def table_values(self) -> dict[str, tuple[str, float | None, float | None]]:
        """{lead: (role, R, RMSE µV)} as the table holds them (full precision)."""
        return self.table.values()

    def showEvent(self, ev) -> None:  # noqa: N802
        super().showEvent(ev)
        wh = self.windowHandle()
        if wh is not None and not getattr(self, "_screen_hooked", False):
            wh.screenChanged.connect(lambda _s: self.refresh_page())  # another monitor, another DPI
            self._screen_hooked = True

    # ------------------------------------------------------------ dialogs
    def open_settings(self) -> None:
        dlg = CalibrationDialog(self.px_per_mm_true(), self.calibration, self)
        if dlg.exec():
            self.set_calibration(dlg.new_factor())

    def show_help(self) -> None:
        HelpDialog(self).exec()

    def show_about(self) -> None:
        self.about_dialog = AboutDialog(self.model.zoo, self)
        self._exec_dialog(self.about_dialog)

    # ------------------------------------------------------------- export
    def export_pdf(self) -> None:
        self.pdf.ask()

    def print_options(self):
        """The printer's options for what the screen shows now (same layout, scale, filters, page)."""
        return _print_options(self.model)

    def write_pdf(self, path: str, preview: bool = True) -> Path | None:
        return self.pdf.write(path, preview)

    def pdf_preview_image(self, src: Any, opts: Any, width_px: int = 1100):
        return preview_image(src, opts, width_px)

    def closeEvent(self, ev) -> None:  # noqa: N802
        self._save_view_settings()
        self.store.set_geometry(self.saveGeometry())
        self.reconstructor.shutdown()
        super().closeEvent(ev)
