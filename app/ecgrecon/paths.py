"""Where bundled models and resources live: source tree, installed wheel, or frozen bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _candidates(name: str) -> list[Path]:
    out = []
    if getattr(sys, "frozen", False):  # PyInstaller one-folder bundle
        base = Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))
        out += [base / name, base / "ecgrecon" / "_bundled" / name]
    out.append(_PKG / "_bundled" / name)  # installed wheel (force-include)
    out.append(_PKG.parent.parent / name)  # source checkout / editable install: app/ecgrecon -> repo
    return out


def bundled_dir(name: str) -> Path:
    for c in _candidates(name):
        if c.is_dir():
            return c
    return _candidates(name)[-1]


def models_dir() -> Path:
    return bundled_dir("models")


def resources_dir() -> Path:
    return bundled_dir("resources")


def samples_dir() -> Path:
    return resources_dir() / "samples"


def user_model_dirs() -> list[Path]:
    """Extra model folders from ECGRECON_MODEL_PATH (os.pathsep-separated)."""
    env = os.environ.get("ECGRECON_MODEL_PATH", "")
    return [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]


def default_cache_dir() -> Path:
    """The user's cache folder for ecgrecon (XDG); the viewer passes Qt's CacheLocation instead."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ecgrecon"
