"""Write the synthetic BSPM samples in resources/samples/bspm/ (WFDB and MATLAB ``potvals``).

    .venv/bin/python scripts/make_bspm_samples.py

Each sample is 10 s of a real 12-lead record pushed through the forward model
(:mod:`ecgrecon.bspm_forward`) onto the 35-electrode layout bspm35. Every file
says in its metadata that it is synthetic, from which record and by which model.
The .mat (named ``*_potvals.mat``: a .mat beside a same-named .hea is read
as WFDB) holds exactly the samples the WFDB file holds (1 uV resolution), so
both read to identical Recordings.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "app"))

from ecgrecon.bspm_forward import synthesize  # noqa: E402
from ecgrecon.io import read_recording  # noqa: E402
from ecgrecon.io.bspm_io import write_bspm_mat, write_bspm_wfdb  # noqa: E402
from ecgrecon.io.wfdb_io import read_wfdb  # noqa: E402

OUT = REPO / "resources" / "samples" / "bspm"
SHARED = REPO.parent / "shared" / "data"

SOURCES = [
    ("ludb_3_bspm", REPO / "resources" / "samples" / "ludb_3.hea", "LUDB v1.0.1 record 3 (resources/samples/ludb_3)"),
    ("ludb_24_bspm", SHARED / "ludb" / "data" / "24.hea", "LUDB v1.0.1 record 24"),
    ("s0010_re_bspm", REPO / "resources" / "samples" / "s0010_re.hea",
     "PTB Diagnostic ECG Database s0010_re (resources/samples/s0010_re), first 10 s"),
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, src, label in SOURCES:
        if not src.exists():
            print(f"skip {name}: {src} not found")
            continue
        rec = read_recording(src).crop(0, 10.0)
        b = synthesize(rec, "bspm35", record_label=label)
        b = replace(b, meta=replace(b.meta, record_id=name))
        hea = write_bspm_wfdb(b, OUT / f"{name}.hea")
        raw = read_wfdb(hea)  # channel values exactly as stored (1 uV steps), before re-referencing
        write_bspm_mat(b, OUT / f"{name}_potvals.mat", potvals=raw.signals)
        print(f"wrote {hea} and {name}_potvals.mat ({len(b.electrodes.names)} electrodes, {b.fs:g} Hz, "
              f"{b.duration:g} s)")


if __name__ == "__main__":
    main()
