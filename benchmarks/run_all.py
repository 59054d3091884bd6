"""Run every benchmark script; each prints its own figures (nothing is asserted).

    python benchmarks/run_all.py [--quick]   # --quick: 1-hour instead of 24-hour long-recording runs
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    quick = "--quick" in sys.argv
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    runs = [
        ["bench_engine.py", *(["--hours", "1"] if quick else [])],
        ["bench_long.py", *(["--hours", "2", "--skip-bare"] if quick else [])],
        ["bench_print.py"],
        ["bench_viewer.py"],
        ["bench_calibration.py"],
        ["bench_batch.py"],
    ]
    failed = 0
    for args in runs:
        print(f"== {args[0]}", flush=True)
        failed += subprocess.run([sys.executable, str(HERE / args[0]), *args[1:]], env=env).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
