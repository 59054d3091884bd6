"""A minimal Qt-free observer: models announce changes, views subscribe (napari's evented model, in small).

    changed = Event()
    changed.connect(callback)      # callback(what: str)
    changed.emit("view")
"""

from __future__ import annotations

from collections.abc import Callable


class Event:
    """Synchronous callbacks, called in connection order; a callback may disconnect itself."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[str], None]] = []

    def connect(self, fn: Callable[[str], None]) -> Callable[[str], None]:
        if fn not in self._callbacks:
            self._callbacks.append(fn)
        return fn

    def disconnect(self, fn: Callable[[str], None]) -> None:
        if fn in self._callbacks:
            self._callbacks.remove(fn)

    def emit(self, what: str) -> None:
        for fn in list(self._callbacks):
            fn(what)
