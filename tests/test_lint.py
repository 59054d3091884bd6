"""The code stays ruff clean (the design card asks for it)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff not installed (it is in the test extra)")
    p = subprocess.run([ruff, "check", "app", "tests", "scripts", "benchmarks"], cwd=ROOT, capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stdout[-3000:]


def test_app_never_imports_torch_or_qt_in_core():
    """torch is for training only; the core (I/O, leads, inference, metrics, geometry) imports no Qt."""
    code = ("import sys, ecgrecon.cli, ecgrecon.inference, ecgrecon.io, ecgrecon.papergrid, ecgrecon.metrics, "
            "ecgrecon.viewmodel, ecgrecon.bspm; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6', 'pyqtgraph')]; "
            "print(','.join(bad)); sys.exit(1 if bad else 0)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, f"core imported: {p.stdout.strip()} {p.stderr[-500:]}"
