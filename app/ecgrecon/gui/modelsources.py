"""Where models come from besides the bundled ones: the user's model folders and patient packs.

A patient pack is fitted from the open 12-lead recording (Calibrate) and
then used for later recordings of the same patient; the folders used are
remembered so the Recent patient packs menu can offer them again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from PySide6.QtWidgets import QFileDialog, QLabel, QWidget

from ..errors import EcgReconError
from ..modelcard import ModelZoo
from ..viewmodel import ViewerModel
from .settings import SettingsStore

T = TypeVar("T")


class Host(Protocol):
    """What this needs from the window (looked up at call time: tests replace the dialogs)."""

    model: ViewerModel
    store: SettingsStore
    msg_label: QLabel

    def message(self, text: str, ms: int = 0) -> None: ...

    def show_error(self, message: str) -> None: ...

    def show_info(self, message: str) -> None: ...

    def start_reconstruction(self, start: bool = True) -> Any: ...


class ModelSources:
    def __init__(self, host: Host, parent: QWidget, on_models_changed: Callable[[], None]) -> None:
        self.host = host
        self.parent = parent
        self.on_models_changed = on_models_changed  # refill the input and model combos

    def _attempt(self, fn: Callable[[], T]) -> tuple[bool, T | None]:
        """(True, fn()) or, after showing its one-line reason in a dialog, (False, None)."""
        try:
            return True, fn()
        except EcgReconError as e:
            self.host.show_error(str(e))
            return False, None

    def _ask_folder(self, title: str, then: Callable[[str], object]) -> None:
        if folder := QFileDialog.getExistingDirectory(self.parent, title):
            then(folder)

    # -- model folders ----------------------------------------------------------------------------------
    def set_model_dirs(self, dirs: list[str]) -> None:
        """Persist user model folders and rediscover models (bundled + env + these)."""
        h = self.host
        h.store.set_model_dirs(dirs)
        h.model.zoo = ModelZoo.discover(dirs)
        self.on_models_changed()
        probs = h.model.zoo.problems
        h.message(f"{len(h.model.zoo)} models available" + (f"; {len(probs)} refused (see tooltip)" if probs else ""),
                  10000)
        h.msg_label.setToolTip("\n".join(probs))

    def add_model_dir_dialog(self) -> None:
        self._ask_folder("Folder with ONNX models and their cards",
                         lambda d: self.set_model_dirs([*self.host.store.model_dirs(), d]))

    # -- patient packs ----------------------------------------------------------------------------------
    def _pack_step(self, folder: str, fn: Callable[[], T]) -> tuple[bool, T | None]:
        """Run a pack step; a pack that worked is remembered for the Recent patient packs menu."""
        ok, value = self._attempt(fn)
        if ok:
            self.host.store.remember_pack(folder)
        return ok, value

    def calibrate_dialog(self) -> None:
        self._ask_folder("New (empty) folder for the patient pack", self.calibrate_into)

    def calibrate_into(self, folder: str) -> bool:
        """Fit a patient pack from the open 12-lead recording; show its held-out figures."""
        h = self.host
        ok, card = self._pack_step(folder, lambda: h.model.calibrate(folder))
        if not ok or card is None:
            return False
        p = card.raw["personal"]
        lines = [f"{lead}: R {ho['r']:.3f} (universal {ho['base_r']:.3f}), RMSE {ho['rmse_uv']:.0f} µV"
                 for lead, ho in p["held_out"].items()]
        h.message(f"Patient pack {card.id} written to {folder}", 10000)
        h.show_info(f"Patient pack written to {folder}\nPatient {p['patient_id']}, from {p['source_record']}, "
                    f"{p['date']}.\nScored on the last {p['held_out_seconds']:.1f} s (held out):\n"
                    + "\n".join(lines) + "\n\nValid only while the electrodes sit where they sat for this ECG.")
        return True

    def use_pack_dialog(self) -> None:
        self._ask_folder("Patient pack folder (from Calibrate)", self.use_pack)

    def use_pack(self, folder: str) -> bool:
        """Add the pack's model, choose it and reconstruct with it."""
        h = self.host
        ok, note = self._pack_step(folder, lambda: h.model.use_pack(folder))
        if not ok:
            return False
        self.on_models_changed()
        if note:
            h.message(note, 15000)
        h.start_reconstruction()
        return True
