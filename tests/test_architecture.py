"""The layer contract (import-linter, configured in pyproject.toml) and mypy on the core modules."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    exe = Path(sys.executable).parent / name
    if exe.exists():
        return str(exe)
    found = shutil.which(name)
    if not found:
        pytest.skip(f"{name} not installed (pip install -e '.[test]')")
    return found


def test_import_contracts_hold():
    r = subprocess.run([_tool("lint-imports"), "--no-cache"], cwd=REPO, capture_output=True, text=True,
                       env={"PYTHONPATH": str(REPO / "app"), "PATH": str(Path(sys.executable).parent)})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "2 kept, 0 broken" in r.stdout


def test_core_is_mypy_clean():
    r = subprocess.run([_tool("mypy"), "--no-incremental"], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-4000:]
    assert "Success: no issues found in 16 source files" in r.stdout
