"""Imported by the isolation forkserver (:mod:`ecgrecon.io.isolated`): read the bundled samples once, so that
every lazy import of the readers (wfdb's signal code, scipy.io, edfio, the BSPM layout) happens here and
not again in each child forked for a file. A missing sample or parser only means a slower child."""

from __future__ import annotations


def _warm() -> None:
    import io
    import os
    import warnings

    import numpy as np

    from ..paths import samples_dir
    from . import read_recording
    from .isolated import ENV

    d = samples_dir()
    # this runs inside the forkserver: with isolation inherited on, read_recording would start another
    # forkserver whose preload runs this again, an endless chain of processes
    os.environ[ENV] = "0"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("ludb_3.hea", "ludb_3_3lead.csv", "bspm/ludb_3_bspm.hea", "bspm/ludb_3_bspm_potvals.mat"):
            try:
                read_recording(d / name)
            except Exception:  # noqa: BLE001 - warming only
                pass
        try:  # the .npy writer and the mapping the child and parent use
            np.save(io.BytesIO(), np.zeros((1, 1), np.float32))
        except Exception:  # noqa: BLE001
            pass


_warm()
