"""The menus, the toolbar and their check marks.

Keyboard actions come from the one shortcut dict (:mod:`.shortcuts`, which
also renders the help); this module places them in menus, adds the entries
that have no key, and keeps check marks and combos in step with the model.
Handlers are the window's own methods, looked up when the entry is used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QComboBox, QLabel, QMainWindow, QMenu, QToolBar

from ..conditioning import FilterSpec
from ..leads import STANDARD_12
from ..papergrid import GAINS_MM_MV, LAYOUTS, SPEEDS_MM_S
from ..viewmodel import ViewerModel
from .shortcuts import make_actions
from .welcome import sample_entries


def shortcut_handlers(win: Any) -> dict[str, Callable[[], None]]:
    """What each entry of the shortcut dict does, in terms of the window's methods."""
    def m() -> ViewerModel:  # read when the key is pressed
        return win.model

    return {
        "open": win.open_dialog, "export_pdf": win.export_pdf, "quit": win.close,
        "reconstruct": win.start_reconstruction, "cancel": win.cancel_reconstruction,
        "layout_3x4": lambda: win.set_layout("3x4"), "layout_6x2": lambda: win.set_layout("6x2"),
        "layout_12x1": lambda: win.set_layout("12x1"),
        "order_toggle": lambda: win.set_order("standard" if m().order == "cabrera" else "cabrera"),
        "mode_toggle": lambda: win.set_mode("side" if m().mode == "overlay" else "overlay"),
        "fit_toggle": lambda: win.set_fit(not win.fit_to_window),
        "speed_next": lambda: win.set_speed(m().cycle_speed(1)),
        "speed_prev": lambda: win.set_speed(m().cycle_speed(-1)),
        "gain_next": lambda: win.set_gain(m().cycle_gain(1)),
        "gain_prev": lambda: win.set_gain(m().cycle_gain(-1)),
        "page_next": lambda: win.step_page(1), "page_prev": lambda: win.step_page(-1),
        "page_first": lambda: win.goto(0.0), "page_last": lambda: win.goto(1e12),
        "settings": win.open_settings, "help": win.show_help,
        "measure_panel": win.toggle_side_tab,
        "calipers_clear": win.clear_calipers,
    }


def _value_menu(owner: QMainWindow, menu: QMenu, values: Iterable[float], unit: str,
                setter: Callable[[float], None], steps: list[QAction]) -> dict[float, QAction]:
    """Exclusive checkable entries (e.g. 12.5/25/50 mm/s), then the next/previous shortcuts."""
    group = QActionGroup(owner)
    actions: dict[float, QAction] = {}
    for v in values:
        act = QAction(f"{v:g} {unit}", owner, checkable=True)
        act.triggered.connect(lambda _c=False, v=v: setter(v))
        group.addAction(act)
        menu.addAction(act)
        actions[v] = act
    menu.addSeparator()
    menu.addActions(steps)
    return actions


def input_label(m: ViewerModel, inputs: tuple[str, ...]) -> str:
    """How the toolbar names an input configuration: its name (as the cards, the comparison and the CLI
    call it) and its leads, e.g. "EASI (E-S, A-S, A-I)"."""
    leads = ", ".join(inputs)
    names = [c.configuration for c in (m.zoo.cards if m.zoo is not None else []) if c.input_leads == inputs]
    return f"{names[0]} ({leads})" if names else leads


def _refill(combo: QComboBox, items: list[tuple[str, Any]], current: int) -> None:
    """Replace a combo's entries (text, data) without announcing it as the user's choice."""
    combo.blockSignals(True)
    combo.clear()
    for text, data in items:
        combo.addItem(text, data)
    if items:
        combo.setCurrentIndex(current)
    combo.blockSignals(False)


class Menus:
    """Builds the menu bar and the toolbar of ``win``; holds the entries that change with the model."""

    def __init__(self, win: Any) -> None:
        self.win = win
        self.actions = a = make_actions(win, shortcut_handlers(win))
        for name in ("order_toggle", "mode_toggle", "fit_toggle"):
            a[name].setCheckable(True)
        a["cancel"].setEnabled(False)
        mb = win.menuBar()
        self._file_menu(mb.addMenu("&File"))
        m_view = mb.addMenu("&View")
        self._view_menu(m_view)
        self._filter_menu(mb.addMenu("F&ilters"))
        self._reconstruction_menu(mb.addMenu("&Reconstruction"))
        m_view.addAction(a["measure_panel"])
        m_view.addAction(a["calipers_clear"])
        self.torso_action = m_view.addAction("&Torso map (BSPM)")
        self.torso_action.setCheckable(True)
        self._settings_menu(mb.addMenu("&Settings"))
        m_help = mb.addMenu("&Help")
        m_help.addAction(a["help"])
        self.about_action = m_help.addAction("&About ecgrecon…")
        self.about_action.triggered.connect(lambda: win.show_about())
        self._toolbar()

    # -- building ---------------------------------------------------------------------------------------
    def _file_menu(self, m: QMenu) -> None:
        a, win = self.actions, self.win
        m.addAction(a["open"])
        self.recent_menu = m.addMenu("Open &recent")
        samples = m.addMenu("Open &sample")
        for smp in sample_entries():
            act = samples.addAction(smp.title)
            act.setStatusTip(smp.description)
            act.triggered.connect(lambda _c=False, p=smp.path: win.open_path(p))
        samples.setEnabled(bool(samples.actions()))
        m.addAction(a["export_pdf"])
        m.addSeparator()
        m.addAction(a["quit"])

    def _view_menu(self, m: QMenu) -> None:
        a, win = self.actions, self.win
        self.layout_group = QActionGroup(win)
        for lay in LAYOUTS:
            act = a[f"layout_{lay}"]
            act.setCheckable(True)
            self.layout_group.addAction(act)
            m.addAction(act)
        m.addSeparator()
        self.speed_actions = _value_menu(win, m.addMenu("Paper &speed"), SPEEDS_MM_S, "mm/s",
                                         lambda v: win.set_speed(v), [a["speed_next"], a["speed_prev"]])
        self.gain_actions = _value_menu(win, m.addMenu("&Gain"), GAINS_MM_MV, "mm/mV",
                                        lambda v: win.set_gain(v), [a["gain_next"], a["gain_prev"]])
        m.addSeparator()
        m.addActions([a["order_toggle"], a["mode_toggle"], a["fit_toggle"]])
        m_rhythm = m.addMenu("&Rhythm strip lead (3×4)")
        self.rhythm_group = QActionGroup(win)
        self.rhythm_actions: dict[str, QAction] = {}
        for lead in STANDARD_12:
            act = QAction(lead, win, checkable=True)
            act.triggered.connect(lambda _c=False, lead=lead: win.set_rhythm_lead(lead))
            self.rhythm_group.addAction(act)
            m_rhythm.addAction(act)
            self.rhythm_actions[lead] = act
        m.addSeparator()
        m.addActions([a["page_prev"], a["page_next"], a["page_first"], a["page_last"]])

    def _filter_menu(self, m: QMenu) -> None:
        win = self.win
        self.f_baseline = QAction("Baseline wander (0.5 Hz high-pass)", win, checkable=True)
        self.f_notch50 = QAction("Mains notch 50 Hz", win, checkable=True)
        self.f_notch60 = QAction("Mains notch 60 Hz", win, checkable=True)
        self.f_lowpass = QAction("Low-pass 40 Hz", win, checkable=True)
        filters = (self.f_baseline, self.f_notch50, self.f_notch60, self.f_lowpass)
        m.addActions(list(filters))
        # one mains frequency at a time
        self.f_notch50.toggled.connect(lambda on: on and self.f_notch60.setChecked(False))
        self.f_notch60.toggled.connect(lambda on: on and self.f_notch50.setChecked(False))
        for act in filters:
            act.toggled.connect(lambda _on: win.set_filters(self.filter_spec()))

    def _reconstruction_menu(self, m: QMenu) -> None:
        a, win = self.actions, self.win
        m.addActions([a["reconstruct"], a["cancel"]])
        m.addSeparator()
        self.compare_action = m.addAction("&Compare configurations…", lambda: win.open_compare())
        m.addSeparator()
        self.calibrate_action = m.addAction("Ca&librate from this 12-lead…", lambda: win.calibrate_dialog())
        self.use_pack_action = m.addAction("Use &patient calibration…", lambda: win.use_pack_dialog())
        self.packs_menu = m.addMenu("Recent patient &packs")
        self.packs_menu.aboutToShow.connect(lambda: win._rebuild_packs())

    def _settings_menu(self, m: QMenu) -> None:
        a, win = self.actions, self.win
        m.addAction(a["settings"])
        m.addAction("Add &model folder…", lambda: win.add_model_dir_dialog())
        m.addAction("&Forget added model folders", lambda: win.set_model_dirs([]))
        m.addSeparator()
        m.addMenu(self.packs_menu)  # the patient packs used on this computer, also under Reconstruction
        m.addAction("Forget patient &packs", lambda: win.store.forget_packs())

    def _toolbar(self) -> None:
        a, win = self.actions, self.win
        tb = QToolBar("Reconstruction")
        tb.setObjectName("reconToolbar")
        win.addToolBar(tb)
        tb.addWidget(QLabel(" Measured leads: "))
        self.inputs_combo = QComboBox()
        self.inputs_combo.setMinimumContentsLength(10)
        # "SHIRT (LA-RA, LL-RA, V2-RA)" in full: the combo grows with its longest entry
        self.inputs_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.inputs_combo.activated.connect(lambda i: win._inputs_chosen(i))
        tb.addWidget(self.inputs_combo)
        tb.addWidget(QLabel("  Model: "))
        self.model_combo = QComboBox()
        self.model_combo.setMinimumContentsLength(30)
        self.model_combo.activated.connect(lambda i: win._model_chosen(i))
        tb.addWidget(self.model_combo)
        tb.addSeparator()
        tb.addAction(a["reconstruct"])
        tb.addSeparator()
        tb.addWidget(QLabel(" Layout: "))
        self.layout_combo = QComboBox()
        self.layout_combo.addItems(LAYOUTS)
        self.layout_combo.activated.connect(lambda i: win.set_layout(LAYOUTS[i]))
        tb.addWidget(self.layout_combo)
        tb.addAction(a["mode_toggle"])

    # -- following the model ----------------------------------------------------------------------------
    def filter_spec(self) -> FilterSpec:
        return FilterSpec(
            baseline_hz=0.5 if self.f_baseline.isChecked() else None,
            notch_hz=50.0 if self.f_notch50.isChecked() else (60.0 if self.f_notch60.isChecked() else None),
            lowpass_hz=40.0 if self.f_lowpass.isChecked() else None)

    def sync(self, m: ViewerModel, fit_to_window: bool) -> None:
        """Check marks, the layout combo and the filter entries as the model has them (no signals echoed)."""
        a = self.actions
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
        a["fit_toggle"].setChecked(fit_to_window)
        f = m.filters
        for act, on in ((self.f_baseline, bool(f.baseline_hz)), (self.f_notch50, f.notch_hz == 50.0),
                        (self.f_notch60, f.notch_hz == 60.0), (self.f_lowpass, bool(f.lowpass_hz))):
            act.blockSignals(True)
            act.setChecked(on)
            act.blockSignals(False)

    def fill_inputs(self, m: ViewerModel) -> None:
        """The input configurations this recording supports, the current one selected."""
        choices = m.input_choices()
        # findData cannot compare Python tuples: look for it ourselves
        _refill(self.inputs_combo, [(input_label(m, cfg), cfg) for cfg in choices],
                choices.index(m.inputs) if m.inputs in choices else 0)

    def fill_models(self, m: ViewerModel) -> None:
        """The models for the chosen inputs, the current one selected; Reconstruct only with a model."""
        ids = [card.id for card in m.model_choices()]
        _refill(self.model_combo, [(card.label, card.id) for card in m.model_choices()],
                ids.index(m.model_id) if m.model_id in ids else 0)
        self.actions["reconstruct"].setEnabled(bool(m.model_id))

    def fill_recent(self, paths: list[str], open_fn: Callable[[str], None]) -> None:
        self.recent_menu.clear()
        for p in paths:
            act = self.recent_menu.addAction(Path(p).name)
            act.setToolTip(p)
            act.triggered.connect(lambda _c=False, p=p: open_fn(p))
        self.recent_menu.setEnabled(bool(paths))

    def fill_packs(self, paths: list[str], use_fn: Callable[[str], object]) -> None:
        self.packs_menu.clear()
        for p in paths:
            self.packs_menu.addAction(p, lambda p=p: use_fn(p))
        if not paths:
            self.packs_menu.addAction("(none yet)").setEnabled(False)
