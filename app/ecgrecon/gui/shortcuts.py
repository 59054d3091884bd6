"""Every keyboard shortcut of the viewer, defined once.

The same dict registers the QActions (``make_actions``) and fills the help
dialog (``help_rows``), so the help can never disagree with the keys.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction, QKeySequence

# name: (keys, menu text, help text)
SHORTCUTS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "open": (("Ctrl+O",), "&Open…", "Open a recording (WFDB, EDF, CSV, NPZ, MAT)"),
    "export_pdf": (("Ctrl+P",), "Export &PDF…", "Export the current view to a PDF printout"),
    "quit": (("Ctrl+Q",), "&Quit", "Quit the viewer"),
    "reconstruct": (("F5",), "&Reconstruct", "Run the chosen model on the recording"),
    "cancel": (("Escape",), "&Cancel", "Cancel a running reconstruction"),
    "layout_3x4": (("1",), "Layout 3×4 + rhythm", "Layout 3×4 with a 10 s rhythm strip"),
    "layout_6x2": (("2",), "Layout 6×2", "Layout 6×2"),
    "layout_12x1": (("3",), "Layout 12×1", "Layout 12×1"),
    "order_toggle": (("C",), "&Cabrera order", "Switch between standard and Cabrera lead order"),
    "mode_toggle": (("O",), "&Overlay truth", "Switch between side by side and overlay"),
    "fit_toggle": (("F",), "&Fit page to window", "Scale the paper to the window (not true size while on)"),
    "speed_next": (("S",), "Faster paper speed", "Paper speed: next of 12.5 / 25 / 50 mm/s"),
    "speed_prev": (("Shift+S",), "Slower paper speed", "Paper speed: previous of 12.5 / 25 / 50 mm/s"),
    "gain_next": (("G",), "Higher gain", "Gain: next of 5 / 10 / 20 mm/mV"),
    "gain_prev": (("Shift+G",), "Lower gain", "Gain: previous of 5 / 10 / 20 mm/mV"),
    "page_next": (("Right", "PgDown"), "&Next page", "Next 10 s page"),
    "page_prev": (("Left", "PgUp"), "&Previous page", "Previous 10 s page"),
    "page_first": (("Home",), "First page", "First page"),
    "page_last": (("End",), "Last page", "Last page"),
    "measure_panel": (("M",), "&Measurements / leads tab", "Switch the side panel between the leads (R, RMSE) and the "
                      "measurements of the page (HR, intervals, axes, ST, voltages)"),
    "calipers_clear": (("K",), "Clear &calipers", "Remove the calipers (drag on the paper with the left button "
                       "to measure time and amplitude)"),
    "settings": (("Ctrl+,",), "&Settings…", "Screen calibration and other settings"),
    "help": (("F1",), "&Keyboard shortcuts", "This list"),
}


def make_actions(parent, handlers: dict[str, Callable[[], None]]) -> dict[str, QAction]:
    """One QAction per entry, with its keys and handler; added to ``parent`` so keys work without menus."""
    actions = {}
    for name, (keys, text, tip) in SHORTCUTS.items():
        act = QAction(text, parent)
        act.setShortcuts([QKeySequence(k) for k in keys])
        act.setStatusTip(tip)
        act.setToolTip(f"{tip} ({', '.join(keys)})")
        if name in handlers:
            act.triggered.connect(lambda _checked=False, f=handlers[name]: f())
        parent.addAction(act)
        actions[name] = act
    return actions


def help_rows() -> list[tuple[str, str]]:
    """(keys as shown to the user, what they do)."""
    return [(" / ".join(QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText) for k in keys), tip)
            for keys, _text, tip in SHORTCUTS.values()]


def help_html() -> str:
    rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;&nbsp;{t}</td></tr>" for k, t in help_rows())
    return f"<h3>Keyboard shortcuts</h3><table>{rows}</table>"
