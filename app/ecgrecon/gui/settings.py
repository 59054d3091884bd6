"""The viewer's persistent settings: one typed wrapper over QSettings.

Every key the viewer stores is read and written here, so a key's name, type and
valid values live in one place (QSettings returns strings from INI files, and a
one-element list comes back as a plain string).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from ..conditioning import FilterSpec
from ..leads import STANDARD_12
from ..papergrid import GAINS_MM_MV, LAYOUTS, SPEEDS_MM_S
from ..viewmodel import ViewerModel

MAX_RECENT = 8
MAX_PACKS = 10
CALIBRATION_RANGE = (0.3, 3.0)


def default_settings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "ecgrecon", "viewer")


class SettingsStore:
    """Typed get/set, the paper view, recent files, model folders and patient packs."""

    def __init__(self, qsettings: QSettings) -> None:
        self.qsettings = qsettings

    # -- typed access -----------------------------------------------------------------------------------
    def get_str(self, key: str, default: str = "") -> str:
        v = self.qsettings.value(key, default)
        return default if v is None else str(v)

    def get_float(self, key: str, default: float) -> float:
        try:
            return float(self.qsettings.value(key, default, type=float))
        except (TypeError, ValueError):  # a hand-edited INI file
            return default

    def get_int(self, key: str, default: int) -> int:
        try:
            return int(self.qsettings.value(key, default, type=int))
        except (TypeError, ValueError):
            return default

    def get_bool(self, key: str, default: bool = False) -> bool:
        return bool(self.qsettings.value(key, default, type=bool))

    def get_list(self, key: str) -> list[str]:
        v = self.qsettings.value(key, [])
        return [str(x) for x in (v if isinstance(v, list) else [v]) if x]

    def set(self, key: str, value: object) -> None:
        self.qsettings.setValue(key, value)

    # -- window -----------------------------------------------------------------------------------------
    @property
    def calibration(self) -> float:
        """Screen calibration factor (true size = physical DPI x this), clamped to a sane range."""
        lo, hi = CALIBRATION_RANGE
        return float(min(hi, max(lo, self.get_float("calibration", 1.0) or 1.0)))

    @calibration.setter
    def calibration(self, factor: float) -> None:
        self.set("calibration", float(factor))

    @property
    def side_tab(self) -> int:
        return 1 if self.get_int("view/side_tab", 0) == 1 else 0

    @side_tab.setter
    def side_tab(self, index: int) -> None:
        self.set("view/side_tab", int(index))

    def geometry(self) -> QByteArray | None:
        v = self.qsettings.value("window/geometry")
        return v if isinstance(v, QByteArray) else None

    def set_geometry(self, geo: QByteArray) -> None:
        self.set("window/geometry", geo)

    @property
    def last_dir(self) -> str:
        return self.get_str("last_dir", str(Path.home()))

    @last_dir.setter
    def last_dir(self, folder: str) -> None:
        self.set("last_dir", folder)

    # -- the paper view ---------------------------------------------------------------------------------
    def load_view(self, m: ViewerModel) -> None:
        """Apply the saved layout, order, mode, speed, gain, rhythm lead and filters (invalid values ignored)."""
        if (lay := self.get_str("layout", m.layout)) in LAYOUTS:
            m.layout = lay
        if (order := self.get_str("order", m.order)) in ("standard", "cabrera"):
            m.order = order
        if (mode := self.get_str("mode", m.mode)) in ("side", "overlay"):
            m.mode = mode
        sp = self.get_float("speed", m.speed_mm_s)
        m.speed_mm_s = sp if sp in SPEEDS_MM_S else 25.0
        g = self.get_float("gain", m.gain_mm_mv)
        m.gain_mm_mv = g if g in GAINS_MM_MV else 10.0
        if (lead := self.get_str("rhythm_lead", m.rhythm_lead)) in STANDARD_12:
            m.rhythm_lead = lead
        notch = self.get_float("filters/notch", 0.0)
        m.filters = FilterSpec(baseline_hz=0.5 if self.get_bool("filters/baseline") else None,
                               notch_hz=notch if notch in (50.0, 60.0) else None,
                               lowpass_hz=40.0 if self.get_bool("filters/lowpass") else None)

    def save_view(self, m: ViewerModel) -> None:
        for key, value in (("layout", m.layout), ("order", m.order), ("mode", m.mode), ("speed", m.speed_mm_s),
                           ("gain", m.gain_mm_mv), ("rhythm_lead", m.rhythm_lead),
                           ("filters/baseline", bool(m.filters.baseline_hz)),
                           ("filters/notch", float(m.filters.notch_hz or 0.0)),
                           ("filters/lowpass", bool(m.filters.lowpass_hz))):
            self.set(key, value)

    # -- recent files -----------------------------------------------------------------------------------
    def recent(self) -> list[str]:
        return self.get_list("recent")

    def add_recent(self, path: str) -> None:
        self.set("recent", [path, *[p for p in self.recent() if p != path]][:MAX_RECENT])

    def forget_recent(self, path: str) -> None:
        self.set("recent", [p for p in self.recent() if p != path])

    # -- model folders and patient packs ----------------------------------------------------------------
    def model_dirs(self) -> list[str]:
        return self.get_list("models/extra_dirs")

    def set_model_dirs(self, dirs: list[str]) -> None:
        self.set("models/extra_dirs", list(dirs))

    def patient_packs(self) -> list[str]:
        return self.get_list("models/patient_packs")

    def remember_pack(self, path: str) -> None:
        self.set("models/patient_packs", [path, *[p for p in self.patient_packs() if p != path]][:MAX_PACKS])

    def forget_packs(self) -> None:
        self.set("models/patient_packs", [])
