"""The viewer's main window: thin glue between the ViewerModel, the worker and the paper panels."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QColor
from PySide6.QtWidgets import (
    QApplication,
    QBoxLayout,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QScrollBar,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ..conditioning import FilterSpec
from ..errors import EcgReconError
from ..io import READ_FORMATS
from ..leads import STANDARD_12
from ..modelcard import ModelZoo
from ..papergrid import GAINS_MM_MV, LAYOUTS, SPEEDS_MM_S
from ..recording import Role
from ..viewmodel import NO_TRUTH_TEXT, ROLE_COLOUR, ViewerModel, fmt_r, fmt_uv
from .compareview import CompareDialog
from .dialogs import AboutDialog, CalibrationDialog, HelpDialog
from .ecgview import Overview, PaperPanel
from .measurepanel import MeasurementPanel, header_text
from .shortcuts import make_actions
from .torsomap import TorsoMapWidget
from .welcome import WelcomePanel, sample_entries
from .worker import ReconstructionWorker

PAGE_WIDTH_MM = 280.0
PAGE_HEIGHT_MM = {"3x4": 160.0, "6x2": 180.0, "12x1": 240.0}
MAX_RECENT = 8
TICKS_PER_S = 10  # scrollbar resolution
PANEL_MARGIN_PX = 4
PANEL_GAP_PX = 12


def _warm_imports() -> None:
    """neurokit2 (the measurements' beat detector) takes about a second to import: do it off the GUI thread
    now, not when the first recording is measured."""
    import threading

    def load() -> None:
        try:
            import neurokit2  # noqa: F401
        except Exception:  # noqa: BLE001 - the measurement will report it when it runs
            pass

    threading.Thread(target=load, name="warm-imports", daemon=True).start()


def default_settings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "ecgrecon", "viewer")


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


class MainWindow(QMainWindow):
    def __init__(self, model: ViewerModel | None = None, *, settings: QSettings | None = None,
                 auto_reconstruct: bool = True) -> None:
        super().__init__()
        if model is None:
            from ..modelcard import load_zoo

            model = ViewerModel(zoo=load_zoo())
        self.model = model
        self.settings = settings if settings is not None else default_settings()
        self.auto_reconstruct = auto_reconstruct
        self.worker: ReconstructionWorker | None = None
        self._old_workers: list[ReconstructionWorker] = []
        self.calibration = float(self.settings.value("calibration", 1.0, type=float) or 1.0)
        if self.model_dirs():  # user model folders (a setting; ECGRECON_MODEL_PATH works too)
            self.model.zoo = ModelZoo.discover(self.model_dirs())
        self.fit_to_window = False
        self.setWindowTitle("ecgrecon viewer")
        self.setAcceptDrops(True)
        self._load_view_settings()
        _warm_imports()
        self._build_ui()
        self.side_tabs.setCurrentIndex(1 if self.settings.value("view/side_tab", 0, type=int) == 1 else 0)
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
        geo = self.settings.value("window/geometry")
        if geo is not None:
            self.restoreGeometry(geo)

    # ------------------------------------------------------------------ UI
    def _build_ui(self) -> None:
        handlers = {
            "open": self.open_dialog, "export_pdf": self.export_pdf, "quit": self.close,
            "reconstruct": self.start_reconstruction, "cancel": self.cancel_reconstruction,
            "layout_3x4": lambda: self.set_layout("3x4"), "layout_6x2": lambda: self.set_layout("6x2"),
            "layout_12x1": lambda: self.set_layout("12x1"),
            "order_toggle": lambda: self.set_order("standard" if self.model.order == "cabrera" else "cabrera"),
            "mode_toggle": lambda: self.set_mode("side" if self.model.mode == "overlay" else "overlay"),
            "fit_toggle": lambda: self.set_fit(not self.fit_to_window),
            "speed_next": lambda: self.set_speed(self.model.cycle_speed(1)),
            "speed_prev": lambda: self.set_speed(self.model.cycle_speed(-1)),
            "gain_next": lambda: self.set_gain(self.model.cycle_gain(1)),
            "gain_prev": lambda: self.set_gain(self.model.cycle_gain(-1)),
            "page_next": lambda: self.step_page(1), "page_prev": lambda: self.step_page(-1),
            "page_first": lambda: self.goto(0.0), "page_last": lambda: self.goto(1e12),
            "settings": self.open_settings, "help": self.show_help,
            "measure_panel": lambda: self.side_tabs.setCurrentIndex(
                0 if self.side_tabs.currentIndex() == 1 else 1),
            "calipers_clear": self.clear_calipers,
        }
        self.actions = make_actions(self, handlers)
        a = self.actions
        for name in ("order_toggle", "mode_toggle", "fit_toggle"):
            a[name].setCheckable(True)
        a["cancel"].setEnabled(False)

        mb = self.menuBar()
        m_file = mb.addMenu("&File")
        m_file.addAction(a["open"])
        self.recent_menu = m_file.addMenu("Open &recent")
        m_samples = m_file.addMenu("Open &sample")
        for smp in sample_entries():
            act = m_samples.addAction(smp.title)
            act.setStatusTip(smp.description)
            act.triggered.connect(lambda _c=False, p=smp.path: self.open_path(p))
        m_samples.setEnabled(bool(m_samples.actions()))
        m_file.addAction(a["export_pdf"])
        m_file.addSeparator()
        m_file.addAction(a["quit"])

        m_view = mb.addMenu("&View")
        self.layout_group = QActionGroup(self)
        for lay in LAYOUTS:
            act = a[f"layout_{lay}"]
            act.setCheckable(True)
            self.layout_group.addAction(act)
            m_view.addAction(act)
        m_view.addSeparator()
        self.speed_group, self.speed_actions = self._value_menu(
            m_view.addMenu("Paper &speed"), SPEEDS_MM_S, "mm/s", self.set_speed, [a["speed_next"], a["speed_prev"]])
        self.gain_group, self.gain_actions = self._value_menu(
            m_view.addMenu("&Gain"), GAINS_MM_MV, "mm/mV", self.set_gain, [a["gain_next"], a["gain_prev"]])
        m_view.addSeparator()
        m_view.addActions([a["order_toggle"], a["mode_toggle"], a["fit_toggle"]])
        m_rhythm = m_view.addMenu("&Rhythm strip lead (3×4)")
        self.rhythm_group = QActionGroup(self)
        self.rhythm_actions: dict[str, QAction] = {}
        for lead in STANDARD_12:
            act = QAction(lead, self, checkable=True)
            act.triggered.connect(lambda _c=False, lead=lead: self.set_rhythm_lead(lead))
            self.rhythm_group.addAction(act)
            m_rhythm.addAction(act)
            self.rhythm_actions[lead] = act
        m_view.addSeparator()
        m_view.addActions([a["page_prev"], a["page_next"], a["page_first"], a["page_last"]])

        m_filt = mb.addMenu("F&ilters")
        self.f_baseline = QAction("Baseline wander (0.5 Hz high-pass)", self, checkable=True)
        self.f_notch50 = QAction("Mains notch 50 Hz", self, checkable=True)
        self.f_notch60 = QAction("Mains notch 60 Hz", self, checkable=True)
        self.f_lowpass = QAction("Low-pass 40 Hz", self, checkable=True)
        for act in (self.f_baseline, self.f_notch50, self.f_notch60, self.f_lowpass):
            m_filt.addAction(act)
        self.f_notch50.toggled.connect(lambda on: on and self.f_notch60.setChecked(False))
        self.f_notch60.toggled.connect(lambda on: on and self.f_notch50.setChecked(False))
        for act in (self.f_baseline, self.f_notch50, self.f_notch60, self.f_lowpass):
            act.toggled.connect(lambda _on: self._filters_changed())

        m_rec = mb.addMenu("&Reconstruction")
        m_rec.addActions([a["reconstruct"], a["cancel"]])
        m_rec.addSeparator()
        self.compare_action = m_rec.addAction("&Compare configurations…", self.open_compare)
        m_rec.addSeparator()
        self.calibrate_action = m_rec.addAction("Ca&librate from this 12-lead…", self.calibrate_dialog)
        self.use_pack_action = m_rec.addAction("Use &patient calibration…", self.use_pack_dialog)
        self.packs_menu = m_rec.addMenu("Recent patient &packs")
        self.packs_menu.aboutToShow.connect(self._rebuild_packs)
        m_view.addAction(a["measure_panel"])
        m_view.addAction(a["calipers_clear"])
        self.torso_action = m_view.addAction("&Torso map (BSPM)")
        self.torso_action.setCheckable(True)
        m_set = mb.addMenu("&Settings")
        m_set.addAction(a["settings"])
        m_set.addAction("Add &model folder…", self.add_model_dir_dialog)
        m_set.addAction("&Forget added model folders", lambda: self.set_model_dirs([]))
        m_set.addSeparator()
        m_set.addMenu(self.packs_menu)  # the patient packs used on this computer, also under Reconstruction
        m_set.addAction("Forget patient &packs", lambda: self.settings.setValue("models/patient_packs", []))
        m_help = mb.addMenu("&Help")
        m_help.addAction(a["help"])
        self.about_action = m_help.addAction("&About ecgrecon…")
        self.about_action.triggered.connect(self.show_about)

        tb = QToolBar("Reconstruction")
        tb.setObjectName("reconToolbar")
        self.addToolBar(tb)
        tb.addWidget(QLabel(" Measured leads: "))
        self.inputs_combo = QComboBox()
        self.inputs_combo.setMinimumContentsLength(10)
        self.inputs_combo.activated.connect(self._inputs_chosen)
        tb.addWidget(self.inputs_combo)
        tb.addWidget(QLabel("  Model: "))
        self.model_combo = QComboBox()
        self.model_combo.setMinimumContentsLength(30)
        self.model_combo.activated.connect(self._model_chosen)
        tb.addWidget(self.model_combo)
        tb.addSeparator()
        tb.addAction(a["reconstruct"])
        tb.addSeparator()
        tb.addWidget(QLabel(" Layout: "))
        self.layout_combo = QComboBox()
        self.layout_combo.addItems(LAYOUTS)
        self.layout_combo.activated.connect(lambda i: self.set_layout(LAYOUTS[i]))
        tb.addWidget(self.layout_combo)
        tb.addAction(a["mode_toggle"])

        central = QWidget()
        v = QVBoxLayout(central)
        v.setContentsMargins(6, 4, 6, 4)
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setStyleSheet("QLabel#banner { background: #fff1cc; color: #000000; border: 2px solid #c87800;"
                                  " padding: 4px; font-weight: bold; font-size: 13pt; }")
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        v.addWidget(self.banner)
        self.summary = QLabel()
        self.summary.setObjectName("summary")
        self.summary.setStyleSheet("QLabel#summary { font-size: 12pt; padding: 2px; }")
        self.summary.setWordWrap(True)
        self.banner.setWordWrap(True)
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

        split = QSplitter(Qt.Orientation.Horizontal)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(False)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.sheet = QWidget()
        self.sheet_layout = QBoxLayout(QBoxLayout.Direction.LeftToRight, self.sheet)
        self.sheet_layout.setContentsMargins(*(PANEL_MARGIN_PX,) * 4)
        self.sheet_layout.setSpacing(PANEL_GAP_PX)
        self.panels: list[PaperPanel] = []
        self.scroll.setWidget(self.sheet)
        self.scroll.viewport().installEventFilter(self)  # refit when the splitter or window changes it
        split.addWidget(self.scroll)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Lead", "Role", "R", "RMSE µV"])
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)  # standard lead order until the user clicks a header
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumWidth(290)
        # the lead table and the measurements share the side of the paper, as tabs
        self.side_tabs = QTabWidget()
        self.side_tabs.setObjectName("sideTabs")
        self.side_tabs.addTab(self.table, "Leads")
        self.measure_panel = MeasurementPanel()
        self.side_tabs.addTab(self.measure_panel, "Measurements")
        split.addWidget(self.side_tabs)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 0)
        v.addWidget(split, 1)
        self.split = split
        self.welcome = WelcomePanel()  # in place of the empty paper until a recording is open
        self.welcome.chosen.connect(self.open_path)
        self.welcome.open_requested.connect(self.open_dialog)
        v.addWidget(self.welcome, 1)

        self.overview = Overview()
        self.overview.region.sigRegionChanged.connect(self._region_moved)
        v.addWidget(self.overview)
        self.scrollbar = QScrollBar(Qt.Orientation.Horizontal)
        self.scrollbar.valueChanged.connect(self._scrolled)
        v.addWidget(self.scrollbar)
        self.setCentralWidget(central)

        sb = self.statusBar()
        self.status_label = QLabel()
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # long text
        self.msg_label = QLabel()
        self.msg_label.setStyleSheet("QLabel { color: #8a1c00; font-weight: bold; }")
        self.hover_label = QLabel()
        self.hover_label.setMinimumWidth(210)
        sb.addPermanentWidget(self.status_label, 1)
        sb.addPermanentWidget(self.hover_label)
        sb.addPermanentWidget(self.msg_label)
        self._msg_timer = QTimer(self)
        self._msg_timer.setSingleShot(True)
        self._msg_timer.timeout.connect(self.msg_label.clear)
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.timeout.connect(self.refresh_page)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(220)
        self.progress.setFormat("reconstructing %p%")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_reconstruction)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.cancel_button)
        self.progress.hide()
        self.cancel_button.hide()
        self._rebuild_recent()
        # BSPM: electrodes on the unrolled torso; clicking picks a configuration (shown for maps only)
        self.torso = TorsoMapWidget()
        self.torso.setMaximumWidth(540)  # the paper stays the main thing
        self.torso_dock = QDockWidget("Torso map", self)
        self.torso_dock.setObjectName("torso_dock")
        self.torso_dock.setWidget(self.torso)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.torso_dock)
        self.torso_dock.hide()
        self.torso.configurationChosen.connect(self._torso_chosen)
        self.torso_action.toggled.connect(self.torso_dock.setVisible)
        self._measure_timer = QTimer(self)
        self._measure_timer.setSingleShot(True)  # measure once the user stops paging
        self._measure_timer.timeout.connect(self.update_measurements)
        self.torso_dock.visibilityChanged.connect(self.torso_action.setChecked)

    def _value_menu(self, menu, values, unit: str, setter, steps: list[QAction]):
        """Exclusive checkable entries (e.g. 12.5/25/50 mm/s), then the next/previous shortcuts."""
        group = QActionGroup(self)
        actions: dict[float, QAction] = {}
        for v in values:
            act = QAction(f"{v:g} {unit}", self, checkable=True)
            act.triggered.connect(lambda _c=False, v=v: setter(v))
            group.addAction(act)
            menu.addAction(act)
            actions[v] = act
        menu.addSeparator()
        menu.addActions(steps)
        return group, actions

    # ------------------------------------------------------------ settings
    def model_dirs(self) -> list[str]:
        v = self.settings.value("models/extra_dirs", [])
        return [str(x) for x in (v if isinstance(v, list) else [v]) if x]

    def set_model_dirs(self, dirs: list[str]) -> None:
        """Persist user model folders and rediscover models (bundled + env + these)."""
        self.settings.setValue("models/extra_dirs", list(dirs))
        self.model.zoo = ModelZoo.discover(dirs)
        self._fill_model_combos()
        n = len(self.model.zoo)
        probs = self.model.zoo.problems
        self.message(f"{n} models available" + (f"; {len(probs)} refused (see tooltip)" if probs else ""), 10000)
        self.msg_label.setToolTip("\n".join(probs))

    # ------------------------------------------------------ patient calibration
    def patient_packs(self) -> list[str]:
        v = self.settings.value("models/patient_packs", [])
        return [str(x) for x in (v if isinstance(v, list) else [v]) if x]

    def _remember_pack(self, path: str) -> None:
        packs = [path, *[p for p in self.patient_packs() if p != path]][:10]
        self.settings.setValue("models/patient_packs", packs)

    def _rebuild_packs(self) -> None:
        self.packs_menu.clear()
        for p in self.patient_packs():
            self.packs_menu.addAction(p, lambda p=p: self.use_pack(p))
        if not self.patient_packs():
            self.packs_menu.addAction("(none yet)").setEnabled(False)

    def calibrate_dialog(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "New (empty) folder for the patient pack")
        if d:
            self.calibrate_into(d)

    def _attempt(self, fn):
        """(True, fn()) or, after showing its one-line reason in a dialog, (False, None)."""
        try:
            return True, fn()
        except EcgReconError as e:
            self.show_error(str(e))
            return False, None

    def calibrate_into(self, folder: str) -> bool:
        """Fit a patient pack from the open 12-lead recording; show its held-out figures."""
        ok, card = self._attempt(lambda: self.model.calibrate(folder))
        if not ok:
            return False
        self._remember_pack(folder)
        p = card.raw["personal"]
        lines = [f"{lead}: R {h['r']:.3f} (universal {h['base_r']:.3f}), RMSE {h['rmse_uv']:.0f} µV"
                 for lead, h in p["held_out"].items()]
        self.message(f"Patient pack {card.id} written to {folder}", 10000)
        self.show_info(f"Patient pack written to {folder}\nPatient {p['patient_id']}, from {p['source_record']}, "
                       f"{p['date']}.\nScored on the last {p['held_out_seconds']:.1f} s (held out):\n"
                       + "\n".join(lines) + "\n\nValid only while the electrodes sit where they sat for this ECG.")
        return True

    def use_pack_dialog(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Patient pack folder (from Calibrate)")
        if d:
            self.use_pack(d)

    def use_pack(self, folder: str) -> bool:
        ok, note = self._attempt(lambda: self.model.use_pack(folder))
        if not ok:
            return False
        self._remember_pack(folder)
        self._fill_model_combos()
        if note:
            self.message(note, 15000)
        self.start_reconstruction()
        return True

    def add_model_dir_dialog(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Folder with ONNX models and their cards")
        if d:
            self.set_model_dirs([*self.model_dirs(), d])

    def _load_view_settings(self) -> None:
        s, m = self.settings, self.model
        lay = s.value("layout", m.layout)
        if lay in LAYOUTS:
            m.layout = lay
        if s.value("order", m.order) in ("standard", "cabrera"):
            m.order = s.value("order", m.order)
        if s.value("mode", m.mode) in ("side", "overlay"):
            m.mode = s.value("mode", m.mode)
        sp = float(s.value("speed", m.speed_mm_s, type=float))
        m.speed_mm_s = sp if sp in SPEEDS_MM_S else 25.0
        g = float(s.value("gain", m.gain_mm_mv, type=float))
        m.gain_mm_mv = g if g in GAINS_MM_MV else 10.0
        if s.value("rhythm_lead", m.rhythm_lead) in STANDARD_12:
            m.rhythm_lead = s.value("rhythm_lead", m.rhythm_lead)
        notch = float(s.value("filters/notch", 0.0, type=float))
        m.filters = FilterSpec(baseline_hz=0.5 if s.value("filters/baseline", False, type=bool) else None,
                               notch_hz=notch if notch in (50.0, 60.0) else None,
                               lowpass_hz=40.0 if s.value("filters/lowpass", False, type=bool) else None)

    def _save_view_settings(self) -> None:
        s, m = self.settings, self.model
        s.setValue("layout", m.layout)
        s.setValue("order", m.order)
        s.setValue("mode", m.mode)
        s.setValue("speed", m.speed_mm_s)
        s.setValue("gain", m.gain_mm_mv)
        s.setValue("rhythm_lead", m.rhythm_lead)
        s.setValue("filters/baseline", bool(m.filters.baseline_hz))
        s.setValue("filters/notch", float(m.filters.notch_hz or 0.0))
        s.setValue("filters/lowpass", bool(m.filters.lowpass_hz))
        s.setValue("calibration", self.calibration)
        s.setValue("view/side_tab", self.side_tabs.currentIndex())

    def _sync_actions(self) -> None:
        m, a = self.model, self.actions
        a[f"layout_{m.layout}"].setChecked(True)
        self.layout_combo.setCurrentText(m.layout)
        self.speed_actions[m.speed_mm_s].setChecked(True)
        self.gain_actions[m.gain_mm_mv].setChecked(True)
        self.rhythm_actions[m.rhythm_lead].setChecked(True)
        a["order_toggle"].setChecked(m.order == "cabrera")
        # "Overlay truth" means something only when the file has a truth to overlay
        has_truth = m.recording is not None and all(n in m.recording.leads for n in STANDARD_12)
        a["mode_toggle"].setEnabled(has_truth)
        a["mode_toggle"].setChecked(m.mode == "overlay" and has_truth)
        a["fit_toggle"].setChecked(self.fit_to_window)
        f = m.filters
        for act, on in ((self.f_baseline, bool(f.baseline_hz)), (self.f_notch50, f.notch_hz == 50.0),
                        (self.f_notch60, f.notch_hz == 60.0), (self.f_lowpass, bool(f.lowpass_hz))):
            act.blockSignals(True)
            act.setChecked(on)
            act.blockSignals(False)

    def message(self, text: str, ms: int = 0) -> None:
        """Transient status text (the permanent status line with the filters stays visible)."""
        self.msg_label.setText(text)
        if ms:
            self._msg_timer.start(ms)
        else:
            self._msg_timer.stop()

    # --------------------------------------------------------------- files
    def show_error(self, message: str) -> None:
        """Every error dialog goes through here (tests replace it)."""
        QMessageBox.warning(self, "ecgrecon", message)

    def show_info(self, message: str) -> None:
        QMessageBox.information(self, "ecgrecon", message)

    def open_dialog(self) -> None:
        start = str(self.settings.value("last_dir", str(Path.home())))
        pats = " ".join(f"*{e}" for e in READ_FORMATS)
        path, _ = QFileDialog.getOpenFileName(self, "Open recording", start, f"ECG recordings ({pats});;All files (*)")
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        """Open a file; a bad file gives a dialog with the reader's one-line reason and changes nothing."""
        path = str(path)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # reading hours of data takes a moment
        error = None
        try:
            self.model.open(path)
        except EcgReconError as e:
            error = str(e)
        except Exception as e:  # a reader bug must not kill the window
            error = f"{path}: cannot read ({type(e).__name__}: {' '.join(str(e).split())})"
        finally:
            QApplication.restoreOverrideCursor()
        if error is not None:
            self.show_error(error)
            return False
        self.settings.setValue("last_dir", str(Path(path).resolve().parent))
        self._add_recent(str(Path(path).resolve()))
        self._opened(Path(path).name)
        return True

    def set_recording(self, rec, name: str = "recording") -> None:
        """Show an in-memory Recording (tests, benchmarks, other front ends)."""
        self.model.set_recording(rec, None)
        self._opened(name)

    def _opened(self, name: str) -> None:
        self._drop_worker()
        rec = self.model.recording
        is_map = rec is not None and rec.electrodes is not None
        self.torso.set_configurations({c.configuration: c.input_leads for c in self.model.zoo.cards
                                       if rec is not None and set(c.input_leads) <= set(rec.leads)} if is_map else {})
        self.torso.set_recording(rec if is_map else None)
        if is_map:
            self.torso.set_inputs(self.model.inputs)
        self.torso_dock.setVisible(is_map)
        if is_map:  # keep the paper the main thing: the map takes about a third of the window
            self.resizeDocks([self.torso_dock], [max(360, self.width() // 3)], Qt.Orientation.Horizontal)
        self.setWindowTitle(f"ecgrecon viewer — {name}")
        self._fill_model_combos()
        self._sync_actions()
        self.refresh_all()
        if self.auto_reconstruct and self.model.model_id:
            self.start_reconstruction()
        elif not self.model.model_id:
            self.message("No installed model fits this recording's leads", 10000)

    def _torso_chosen(self, name: str, inputs) -> None:
        self.choose(tuple(inputs))
        if self.auto_reconstruct and self.model.model_id and set(self.model.inputs) == set(inputs):
            self.start_reconstruction()

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

    def _add_recent(self, path: str) -> None:
        rec = [p for p in self._recent() if p != path]
        rec.insert(0, path)
        self.settings.setValue("recent", rec[:MAX_RECENT])
        self._rebuild_recent()

    def _recent(self) -> list[str]:
        v = self.settings.value("recent", [])
        if isinstance(v, str):
            v = [v]
        return [str(p) for p in (v or [])]

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        items = self._recent()
        for p in items:
            act = self.recent_menu.addAction(Path(p).name)
            act.setToolTip(p)
            act.triggered.connect(lambda _c=False, p=p: self._open_recent(p))
        self.recent_menu.setEnabled(bool(items))

    def _open_recent(self, path: str) -> None:
        if not self.open_path(path) and not Path(path).exists():  # moved or deleted: forget it
            self.settings.setValue("recent", [p for p in self._recent() if p != path])
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
        self.inputs_combo.blockSignals(True)
        self.inputs_combo.clear()
        for cfg in self.model.input_choices():
            self.inputs_combo.addItem(", ".join(cfg), cfg)
        if self.model.inputs:  # findData cannot compare Python tuples: look for it ourselves
            idx = [tuple(self.inputs_combo.itemData(i)) for i in range(self.inputs_combo.count())]
            self.inputs_combo.setCurrentIndex(idx.index(self.model.inputs) if self.model.inputs in idx else 0)
        self.inputs_combo.blockSignals(False)
        self._fill_models()

    def _fill_models(self) -> None:
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for card in self.model.model_choices():
            self.model_combo.addItem(card.label, card.id)
        if self.model.model_id:
            self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(self.model.model_id)))
        self.model_combo.blockSignals(False)
        self.actions["reconstruct"].setEnabled(bool(self.model.model_id))

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

    # -------------------------------------------------------- reconstruction
    def start_reconstruction(self, start: bool = True) -> ReconstructionWorker | None:
        """Run the chosen model in a worker thread; ``start=False`` lets a caller connect first."""
        try:
            req = self.model.request()
        except EcgReconError as e:
            self.show_error(str(e))
            return None
        self._drop_worker()
        w = ReconstructionWorker(req, self, zoo=self.model.zoo)
        w.progress.connect(self._on_progress)
        w.finished.connect(self._on_finished)
        w.failed.connect(self._on_failed)
        w.cancelled.connect(self._on_cancelled)
        w.done.connect(self._on_done)
        self.worker = w
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)
        self.actions["cancel"].setEnabled(True)
        self.message(f"Reconstructing with {req.model_id}…")
        if start:
            w.start()
        return w

    def cancel_reconstruction(self) -> None:
        if self.worker is not None and self.worker.is_running():
            self.worker.cancel()
            self.cancel_button.setEnabled(False)
            self.message("Cancelling…")

    def _drop_worker(self) -> None:
        """Forget a running worker (its late result is ignored); keep it alive until its thread ends."""
        w = self.worker
        if w is not None and w.is_running():
            w.cancel()
            self._old_workers.append(w)
            w.done.connect(lambda w=w: self._old_workers.remove(w) if w in self._old_workers else None)
        self.worker = None
        self._idle()

    def _current(self) -> bool:
        return self.sender() is self.worker and self.worker is not None

    def _on_progress(self, f: float) -> None:
        if self._current():
            self.progress.setValue(int(f * 1000))

    def _on_finished(self, recon) -> None:
        if not self._current() or recon.result.n_samples != self.model.recording.n_samples:
            return
        self.model.set_result(recon)  # "result" -> redrawn
        self.message("Reconstruction done", 5000)

    def _on_failed(self, msg: str) -> None:
        if self._current():
            self.message("Reconstruction failed", 10000)
            self.show_error(msg)

    def _on_cancelled(self) -> None:
        if self._current():
            self.message("Reconstruction cancelled", 10000)

    def _on_done(self) -> None:
        if self._current():
            self._idle()

    def _idle(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.actions["cancel"].setEnabled(False)

    # -------------------------------------------------------------- view
    def _model_changed(self, what: str) -> None:
        """The one place the window reacts to model changes (ViewerModel.changed)."""
        if what == "view":
            self._view_changed()
        elif what == "page" and not self._quiet_page:
            self._sync_scrollbar()
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

    def set_fit(self, on: bool) -> None:
        self.fit_to_window = bool(on)
        self._view_changed()

    def _filters_changed(self) -> None:
        self.model.set_filters(FilterSpec(
            baseline_hz=0.5 if self.f_baseline.isChecked() else None,
            notch_hz=50.0 if self.f_notch50.isChecked() else (60.0 if self.f_notch60.isChecked() else None),
            lowpass_hz=40.0 if self.f_lowpass.isChecked() else None))

    def set_filters(self, spec: FilterSpec) -> None:
        self.model.set_filters(spec)

    def _view_changed(self) -> None:
        self._quiet_page = True  # the clamp below may move the page; refresh_all draws it anyway
        try:
            self.model.set_page_start(self.model.page_start_s, PAGE_WIDTH_MM)
        finally:
            self._quiet_page = False
        self._sync_actions()
        self._save_view_settings()
        self.refresh_all()

    def step_page(self, n: int) -> None:
        self.goto(self.model.page_start_s + n * self.model.page_seconds(PAGE_WIDTH_MM))

    def goto(self, t: float) -> None:
        self.model.set_page_start(t, PAGE_WIDTH_MM)  # "page" -> scrollbar and page redrawn

    def _scrolled(self, v: int) -> None:
        t = v / TICKS_PER_S
        if abs(t - self.model.page_start_s) >= 0.5 / TICKS_PER_S:
            self.model.set_page_start(t, PAGE_WIDTH_MM)

    def _region_moved(self) -> None:
        t0, _ = self.overview.region.getRegion()
        self.model.set_page_start(t0, PAGE_WIDTH_MM)

    def _sync_scrollbar(self) -> None:
        m = self.model
        self.scrollbar.blockSignals(True)
        self.scrollbar.setRange(0, int(round(m.max_page_start(PAGE_WIDTH_MM) * TICKS_PER_S)))
        self.scrollbar.setPageStep(int(round(m.page_seconds(PAGE_WIDTH_MM) * TICKS_PER_S)))
        self.scrollbar.setSingleStep(TICKS_PER_S)
        self.scrollbar.setValue(int(round(m.page_start_s * TICKS_PER_S)))
        self.scrollbar.blockSignals(False)

    def px_per_mm(self) -> float:
        """Pixels per mm at true size: the screen's physical DPI times the user's calibration."""
        scr = self.screen() or QApplication.primaryScreen()
        dpi = scr.physicalDotsPerInchX() if scr is not None else 96.0
        if not dpi or dpi != dpi or dpi < 20:
            dpi = 96.0
        true = dpi / 25.4 * self.calibration
        if not self.fit_to_window:
            return true
        return max(1.0, min(true, self._fit_scale()[0]))

    def _fit_scale(self) -> tuple[float, bool]:
        """Largest px/mm at which all panels fit the viewport, and whether they stack vertically for it."""
        n = max(1, len(self.model.panels()))
        vw = self.scroll.viewport().width() - 2 * PANEL_MARGIN_PX - 6
        vh = self.scroll.viewport().height() - 2 * PANEL_MARGIN_PX - 2
        w_mm, h_mm = PAGE_WIDTH_MM, PAGE_HEIGHT_MM[self.model.layout]
        title = self.panels[0].title.sizeHint().height() + 2 if self.panels else 22
        side = min((vw - PANEL_GAP_PX * (n - 1)) / (n * w_mm), (vh - title) / h_mm)
        stack = min(vw / w_mm, (vh - n * title - PANEL_GAP_PX * (n - 1)) / (n * h_mm))
        return (stack, True) if n > 1 and stack > side * 1.05 else (side, False)

    def _arrange(self) -> None:
        """Two panels side by side, or one above the other when that shows them larger."""
        pol = Qt.ScrollBarPolicy.ScrollBarAlwaysOff if self.fit_to_window else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        if self.scroll.horizontalScrollBarPolicy() != pol:  # fitted: the viewport must not depend on scrollbars
            self.scroll.setHorizontalScrollBarPolicy(pol)
            self.scroll.setVerticalScrollBarPolicy(pol)
        if self.fit_to_window:
            vertical = self._fit_scale()[1]
        else:
            n = max(1, len(self.model.panels()))
            ppm = self.px_per_mm()
            fits_side = n * PAGE_WIDTH_MM * ppm + PANEL_GAP_PX <= self.scroll.viewport().width()
            fits_stack = n * PAGE_HEIGHT_MM[self.model.layout] * ppm + 60 <= self.scroll.viewport().height()
            vertical = n > 1 and not fits_side and fits_stack
        d = QBoxLayout.Direction.TopToBottom if vertical else QBoxLayout.Direction.LeftToRight
        if self.sheet_layout.direction() != d:
            self.sheet_layout.setDirection(d)

    def geometry_mm(self):
        return self.model.geometry(PAGE_WIDTH_MM, PAGE_HEIGHT_MM[self.model.layout])

    def refresh_all(self) -> None:
        m = self.model
        self.banner.setText(m.banner())
        text = m.summary_text()
        if "   (all 12" in text:
            head, tail = text.split("   (all 12", 1)
            text = f"<b>{head}</b>&nbsp;&nbsp;&nbsp;<span style='color:#555'>(all 12{tail}</span>"
        self.summary.setText(text)
        q = m.quality
        if q:
            more = f" (+{len(q) - 3} more, see tooltip)" if len(q) > 3 else ""
            self.quality_label.setText("⚠ Recording: " + "; ".join(q[:3]) + more)
            self.quality_label.setToolTip("\n".join(q))
        self.quality_label.setVisible(bool(q) and m.recording is not None)
        notes = m.recon.notes if m.recon is not None else ()
        self.summary.setToolTip("\n".join(notes))
        self.table.setToolTip("\n".join(notes) or "R and RMSE need the recording's own 12 leads")
        self.summary.setVisible(bool(self.summary.text()))
        self._fill_table()
        rec = m.truth if m.truth is not None else (m.recon.result if m.recon else None)
        has = m.recording is not None
        self.welcome.setVisible(not has)
        self.split.setVisible(has)
        long_rec = has and m.duration_s > m.page_seconds(PAGE_WIDTH_MM) + 1e-6
        self.overview.setVisible(bool(long_rec))
        self.scrollbar.setVisible(bool(long_rec))
        if long_rec:
            src = m.recon.result if m.recon is not None else m.recording
            lead = m.rhythm_lead if m.rhythm_lead in src.leads else src.leads[0]
            self.overview.set_signal(src.lead(lead), src.fs, src, lead)
        del rec
        self._sync_scrollbar()
        self.refresh_page()
        self.update_measurements()  # new recording or result: now, not after the paging delay

    def refresh_page(self) -> None:
        m = self.model
        panels = m.panels()
        while len(self.panels) < len(panels):
            p = PaperPanel()
            p.hovered.connect(self.hover_label.setText)
            p.caliper_changed.connect(lambda text: self.message(text) if text else None)
            p.hovered_time.connect(self.torso.set_time)
            self.sheet_layout.addWidget(p, 0, Qt.AlignmentFlag.AlignTop)
            self.panels.append(p)
        self._arrange()
        if panels:
            geom = self.geometry_mm()
            ppm = self.px_per_mm()
            for p, spec in zip(self.panels, panels, strict=False):
                p.render(m, spec, geom, ppm)
                p.show()
            self.overview.set_page(geom.page_start_s, geom.page_start_s + geom.page_seconds)
        for p in self.panels[len(panels):]:
            p.hide()
        for p in self.panels:
            p.layout().invalidate()
            p.layout().activate()
        self.sheet_layout.invalidate()
        self.sheet_layout.activate()
        self.sheet.resize(self.sheet.sizeHint())
        self._update_status()
        self._measure_timer.start(150)  # paging: measure the new page once the user stops

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
        for p in self.panels:
            p.clear_caliper()

    def _update_status(self) -> None:
        m = self.model
        if m.recording is None:
            self.status_label.setText("Open a recording (Ctrl+O) or drop a file on the window")
            return
        geom = self.geometry_mm()
        size = ("true size" if not self.fit_to_window else
                f"NOT true size: scaled to fit ({self.px_per_mm() / (self.px_per_mm_true()):.0%})")
        text = (f"{geom.page_start_s:.1f}–{geom.page_start_s + geom.page_seconds:.1f} s of {m.duration_s:.1f} s · "
                f"{m.status_text()} · {size} (calibration ×{self.calibration:.3f})")
        self.status_label.setText(text)
        self.status_label.setToolTip(text)

    def px_per_mm_true(self) -> float:
        fit = self.fit_to_window
        self.fit_to_window = False
        try:
            return self.px_per_mm()
        finally:
            self.fit_to_window = fit

    def _fill_table(self) -> None:
        rows = self.model.table_rows()
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(rows))
        no_truth = self.model.recon is not None and self.model.recon.truth is None
        for i, (lead, role, r, rmse) in enumerate(rows):
            colour = QColor(ROLE_COLOUR[Role(role)])
            items = [QTableWidgetItem(lead), QTableWidgetItem(role),
                     _NumItem(NO_TRUTH_TEXT if no_truth and role == "reconstructed" else fmt_r(r), r),
                     _NumItem(fmt_uv(rmse), rmse)]
            for c, it in enumerate(items):
                it.setForeground(colour)
                self.table.setItem(i, c, it)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        need = sum(self.table.columnWidth(c) for c in range(4)) + 2 * self.table.frameWidth() + 24
        self.table.setMinimumWidth(max(290, need))

    def table_values(self) -> dict[str, tuple[str, float | None, float | None]]:
        """{lead: (role, R, RMSE µV)} as the table holds them (full precision)."""
        out = {}
        for i in range(self.table.rowCount()):
            r, u = self.table.item(i, 2), self.table.item(i, 3)
            out[self.table.item(i, 0).text()] = (self.table.item(i, 1).text(), getattr(r, "key", None),
                                                 getattr(u, "key", None))
        return out

    def showEvent(self, ev) -> None:  # noqa: N802
        super().showEvent(ev)
        wh = self.windowHandle()
        if wh is not None and not getattr(self, "_screen_hooked", False):
            wh.screenChanged.connect(lambda _s: self.refresh_page())  # another monitor, another DPI
            self._screen_hooked = True

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802
        if ev.type() == QEvent.Type.Resize and obj is self.scroll.viewport() and self.model.recording is not None:
            self._resize_timer.start(0 if self.fit_to_window else 30)  # coalesce a drag-resize into one redraw
        return False

    # ------------------------------------------------------------ dialogs
    def open_settings(self) -> None:
        dlg = CalibrationDialog(self.px_per_mm_true(), self.calibration, self)
        if dlg.exec():
            self.set_calibration(dlg.new_factor())

    def set_calibration(self, factor: float) -> None:
        self.calibration = float(min(3.0, max(0.3, factor)))
        self._save_view_settings()
        self.refresh_page()

    def show_help(self) -> None:
        HelpDialog(self).exec()

    def show_about(self) -> None:
        self.about_dialog = AboutDialog(self.model.zoo, self)
        self._exec_dialog(self.about_dialog)

    def export_pdf(self) -> None:
        if importlib.util.find_spec("ecgrecon.printing.pdf") is None:
            self.show_error("PDF export is not available in this build (the printer module is missing).")
            return
        if self.model.recording is None:
            self.show_error("open a recording first")
            return
        start = str(Path(self.settings.value("last_dir", str(Path.home()))) /
                    (Path(self.model.path or "ecg").stem + ".pdf"))
        path, _ = QFileDialog.getSaveFileName(self, "Export PDF", start, "PDF (*.pdf)")
        if path:
            self.write_pdf(path)

    def print_options(self):
        """The printer's options for what the screen shows now (same layout, scale, filters, page)."""
        from ..printing.pdf import PrintOptions

        m = self.model
        truth_page = "none"
        if m.recon is not None and m.recon.truth is not None:
            truth_page = "overlay" if m.mode == "overlay" else "separate"
        return PrintOptions(layout=m.layout, order=m.order, speed=m.speed_mm_s, gain=m.gain_mm_mv,
                            rhythm_lead=m.rhythm_lead, filters=m.filters, truth_page=truth_page,
                            page_start_s=m.page_start_s)

    def write_pdf(self, path: str, preview: bool = True) -> Path | None:
        """Write the PDF with the printer module; then show page 1 drawn by the same code (or say where it is)."""
        from ..printing import pdf

        m = self.model
        src = m.recon if m.recon is not None else m.recording
        try:
            opts = self.print_options()
            out = pdf.write_pdf(src, path, opts, overwrite=True)  # the save dialog already asked
        except EcgReconError as e:
            self.show_error(str(e))
            return None
        except Exception as e:
            self.show_error(f"PDF export failed: {type(e).__name__}: {' '.join(str(e).split())}")
            return None
        self.message(f"PDF written: {out}", 10000)
        if preview:
            self.show_pdf_preview(src, opts, Path(out))
        return Path(out)

    def pdf_preview_image(self, src, opts, width_px: int = 1100):
        """Page 1 of the printout as a QImage, drawn by the printer's own render_page."""
        from PySide6.QtCore import QRectF
        from PySide6.QtGui import QImage, QPainter

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

    def show_pdf_preview(self, src, opts, out: Path) -> None:
        from PySide6.QtGui import QPixmap
        from PySide6.QtWidgets import QDialog, QDialogButtonBox

        try:
            img = self.pdf_preview_image(src, opts)
        except Exception as e:  # the PDF is written; a preview failure is not an export failure
            self.show_info(f"PDF written:\n{out}\n(preview unavailable: {type(e).__name__})")
            return
        dlg = QDialog(self)
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
        self._exec_dialog(dlg)

    def _exec_dialog(self, dlg) -> int:
        """Modal dialogs other than errors go through here (tests replace it)."""
        return dlg.exec()

    def closeEvent(self, ev) -> None:  # noqa: N802
        self._save_view_settings()
        self.settings.setValue("window/geometry", self.saveGeometry())
        for w in [self.worker, *self._old_workers]:
            if w is not None and w.is_running():
                w.cancel()
                w.wait(10000)
        super().closeEvent(ev)
