"""Seconds per printout (reconstruction excluded): ``python benchmarks/bench_print.py [-n 10]``.

Uses a bundled I,II,V2 model when models/ has one, else builds a development
model in a temporary folder. Prints timings; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "resources" / "samples" / "ludb_3.hea"


def _model_id() -> str:
    from ecgrecon.modelcard import load_zoo

    cands = load_zoo().for_inputs(("I", "II", "V2"))
    if not cands:
        sys.path.insert(0, str(REPO / "scripts"))
        from make_dev_model import build

        d = Path(tempfile.mkdtemp(prefix="ecgrecon-bench-"))
        build(d, SAMPLE, ["I", "II", "V2"])
        os.environ["ECGRECON_MODEL_PATH"] = str(d)
        cands = load_zoo(refresh=True).for_inputs(("I", "II", "V2"))
    conv = [c for c in cands if c.architecture == "conv"]
    return (conv or cands)[0].id


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=10, help="printouts per case (default 10)")
    a = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ecgrecon.inference import reconstruct
    from ecgrecon.io import read_recording
    from ecgrecon.printing.pdf import PrintOptions, ensure_qt_app, write_pdf

    ensure_qt_app()
    rec = read_recording(SAMPLE)
    mid = _model_id()
    t = time.perf_counter()
    recon = reconstruct(rec, mid)
    print(f"model {mid}; reconstruction {time.perf_counter() - t:.3f} s (not counted below)")
    cases = {
        "3x4, 1 page": PrintOptions(),
        "3x4 + truth page": PrintOptions(truth_page="separate"),
        "12x1 letter": PrintOptions(layout="12x1", paper="letter"),
        "measured 12-lead (no model)": None,
    }
    with tempfile.TemporaryDirectory() as d:
        for name, opts in cases.items():
            src = rec if opts is None else recon
            times = []
            for i in range(a.n):
                t = time.perf_counter()
                out = write_pdf(src, Path(d) / f"b{i}.pdf", opts or PrintOptions(), overwrite=True)
                times.append(time.perf_counter() - t)
            size = out.stat().st_size / 1024
            print(f"{name:<30} median {sorted(times)[len(times) // 2]:.3f} s/printout  "
                  f"(min {min(times):.3f}, {size:.0f} KiB)")


if __name__ == "__main__":
    main()
