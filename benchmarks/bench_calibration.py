"""Patient calibration and the trust signal: what they cost (figures printed, nothing asserted).

    python benchmarks/bench_calibration.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from ecgrecon.calibration import calibrate
from ecgrecon.inference import reconstruct
from ecgrecon.io import read_recording
from ecgrecon.modelcard import load_zoo

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "samples" / "ludb_3.hea"


def best_of(fn, n: int = 5) -> float:
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def main() -> None:
    zoo = load_zoo()
    rec = read_recording(SAMPLE)
    base = zoo.default_for(("I", "II", "V3"))
    reconstruct(rec, base, zoo=zoo)  # load the sessions once
    with tempfile.TemporaryDirectory() as d:
        k = iter(range(100))
        t_cal = best_of(lambda: calibrate(rec, base, zoo, Path(d) / f"p{next(k)}"))
        pack = calibrate(rec, base, zoo, Path(d) / "pack")
        t_uni = best_of(lambda: reconstruct(rec, base, zoo=zoo))
        t_pack = best_of(lambda: reconstruct(rec, pack, zoo=zoo))
    print(f"calibrate, 10 s 12-lead at 500 Hz (fit, ONNX export, card, hash check): {t_cal * 1000:.0f} ms")
    print(f"reconstruct 10 s: universal {base.id} {t_uni * 1000:.1f} ms; patient-calibrated "
          f"{t_pack * 1000:.1f} ms (ratio {t_pack / t_uni:.2f})")
    for mid in (base.id, f"{base.configuration}.conv", f"{base.configuration}.linear"):
        card = zoo.get(mid)
        t = best_of(lambda card=card: reconstruct(rec, card, zoo=zoo), 10)
        print(f"reconstruct 10 s, one thread, {mid}: {t * 1000:.1f} ms (trust signal included: "
              f"{'yes' if card.trust else 'no'})")



if __name__ == "__main__":
    main()
