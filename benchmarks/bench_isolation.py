"""Cost of reading in a child process (ecgrecon.io.isolated) against reading in-process, on a 10 s file.

    python benchmarks/bench_isolation.py [--repeat 20] [--file resources/samples/ludb_3.hea] [--hours 24]

Prints milliseconds: in-process median, isolated median (forkserver warm), the first isolated read (the
forkserver starts and imports the readers), and the parent's resident memory growth when a long recording
(--hours of 12 leads at 250 Hz, written once to a temporary folder; 0 skips it) is opened isolated, whose
samples are memory-mapped rather than copied.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "app"))

from ecgrecon.io import read_recording  # noqa: E402
from ecgrecon.io.isolated import read_isolated, warm_up  # noqa: E402


def _ms(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _long(hours: float, folder: Path) -> Path:
    """A 12-lead 250 Hz WFDB record of ``hours``, written in blocks (the writer never holds it all)."""
    import numpy as np

    from ecgrecon.io.wfdb_io import WfdbStreamWriter
    from ecgrecon.leads import STANDARD_12

    rec = read_recording(REPO / "resources" / "samples" / "ludb_3.hea").select(list(STANDARD_12))
    block = rec.signals[:, ::2]  # 10 s at 250 Hz
    w = WfdbStreamWriter(folder / "long.hea", STANDARD_12, 250.0)
    for _ in range(int(hours * 360)):
        w.write(np.asarray(block))
    w.close()
    return folder / "long.hea"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--file", default=str(REPO / "resources" / "samples" / "ludb_3.hea"))
    ap.add_argument("--hours", type=float, default=0.0)
    a = ap.parse_args()
    t = time.perf_counter()
    warm_up()
    first = read_isolated(a.file)
    cold = (time.perf_counter() - t) * 1000
    read_recording(a.file)  # the in-process readers' imports, once
    inproc = _ms(lambda: read_recording(a.file), a.repeat)
    iso = _ms(lambda: read_isolated(a.file), a.repeat)
    m_in, m_iso = statistics.median(inproc), statistics.median(iso)
    print(f"file: {a.file} ({first.n_samples} samples x {len(first.leads)} leads, {first.duration:g} s)")
    print(f"in-process read:        median {m_in:7.1f} ms  (n={a.repeat})")
    print(f"isolated read (warm):   median {m_iso:7.1f} ms  (n={a.repeat})  cost {m_iso - m_in:+.1f} ms")
    print(f"first isolated read:    {cold:7.1f} ms  (forkserver start + reader imports, once per process)")
    if a.hours > 0:
        with tempfile.TemporaryDirectory() as d:
            long = _long(a.hours, Path(d))
            size = sum(f.stat().st_size for f in Path(d).iterdir()) / 1e6
            before = _rss_mb()
            t = time.perf_counter()
            rec = read_isolated(long)
            took = time.perf_counter() - t
            after = _rss_mb()
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            mb = rec.signals.nbytes / 1e6
            print(f"{a.hours:g} h 12-lead at 250 Hz ({size:.0f} MB on disk, {mb:.0f} MB float32): "
                  f"isolated read {took:.1f} s, parent RSS {before:.0f} -> {after:.0f} MB (peak {peak:.0f} MB); "
                  f"samples memory-mapped: {rec.signals.base is not None}")
            del rec
    return 0


if __name__ == "__main__":
    sys.exit(main())
