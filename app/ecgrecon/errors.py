"""Errors the user sees as one line (CLI exit code 2, GUI dialog)."""

from __future__ import annotations

from pathlib import Path


class EcgReconError(Exception):
    """Base class: any error whose message is fit to show a user as is."""


class InputError(EcgReconError):
    """A file or argument the user gave cannot be used.

    The message always names the file (when there is one) and the problem,
    on one line.
    """

    def __init__(self, problem: str, path: str | Path | None = None) -> None:
        problem = " ".join(str(problem).split())  # force one line
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class ModelError(EcgReconError):
    """A model file or card is missing, corrupt or inconsistent."""


class Cancelled(EcgReconError):
    """A long-running job was cancelled by the user."""
