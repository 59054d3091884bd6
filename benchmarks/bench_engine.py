"""Engine benchmarks (printed figures, no assertions; machines here are shared and noisy).

1. One 10 s, 500 Hz reconstruction on one onnxruntime thread, per model architecture.
2. A 24-hour three-lead 500 Hz recording through `ecgrecon reconstruct` end to end
   (read, reconstruct, stream a 12-lead WFDB to disk): wall time, peak memory. bench_long.py
   compares the same against bare onnxruntime and measures the viewer.

    python benchmarks/bench_engine.py [--hours 24] [--model I-II-V2.conv] [--skip-long]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def bench_10s(model_ids: list[str]) -> None:
    from ecgrecon.inference import reconstruct
    from ecgrecon.io import read_recording
    from ecgrecon.modelcard import load_zoo

    zoo = load_zoo()
    rec = read_recording(ROOT / "resources/samples/ludb_3.hea")
    for mid in model_ids:
        card = zoo.get(mid)
        reconstruct(rec, card, zoo=zoo, threads=1)  # warm-up: session creation
        times = []
        for _ in range(20):
            t = time.perf_counter()
            reconstruct(rec, card, zoo=zoo, threads=1)
            times.append(time.perf_counter() - t)
        print(f"10 s reconstruction, 1 thread, {mid:<22} median {np.median(times) * 1000:6.1f} ms  "
              f"(min {min(times) * 1000:.1f} ms, 20 runs)")


def make_holter(path: Path, hours: float) -> Path:
    """Tile the three-lead sample into a long format-16 WFDB record (written in blocks)."""
    from ecgrecon.io import read_recording
    from ecgrecon.io.wfdb_io import WfdbStreamWriter

    rec = read_recording(ROOT / "resources/samples/ludb_3_3lead.hea")
    reps = int(np.ceil(hours * 3600 / rec.duration))
    w = WfdbStreamWriter(path, rec.leads, rec.fs, ["synthetic Holter: LUDB record 3 (I, II, V2) tiled"])
    for _ in range(reps):
        w.write(rec.signals)
    w.close()
    return path


def bench_long(hours: float, model: str | None, threads: int) -> None:
    """``model`` None: the default choices (from one hour on, one network: README "Long recordings")."""
    with tempfile.TemporaryDirectory() as td:
        src = make_holter(Path(td) / "holter.hea", hours)
        out = Path(td) / "holter_12.hea"
        cmd = [sys.executable, "-m", "ecgrecon", "reconstruct", str(src), *(["--model", model] if model else []),
               "-o", str(out), "--threads", str(threads)]
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kB -> MB on Linux
        if p.returncode:
            print(p.stderr)
            return
        size_gb = out.with_suffix(".dat").stat().st_size / 1e9
        import json

        ran = json.loads(out.with_name("holter_12.metrics.json").read_text())["model"]
        print(f"{hours:g} h three-lead 500 Hz -> 12-lead WFDB with {ran}, {threads} thread(s): "
              f"{wall:.1f} s wall, peak memory {peak:.0f} MB, output {size_gb:.2f} GB")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--model", default=None, help="model for the long run (default: the default choices)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-long", action="store_true")
    a = ap.parse_args()
    from ecgrecon.memtune import tune_malloc
    from ecgrecon.modelcard import load_zoo

    tune_malloc()  # the 10 s runs are in this process: tuned as the CLI and viewer tune theirs

    zoo = load_zoo()
    ids = [c.id for c in zoo.for_inputs(("I", "II", "V2")) if c.architecture != "ensemble"] or [c.id for c in zoo.cards]
    ens = [c.id for c in zoo.for_inputs(("I", "II", "V2")) if c.architecture == "ensemble"]
    bench_10s(ids + ens)
    if not a.skip_long:
        bench_long(a.hours, a.model, a.threads)
