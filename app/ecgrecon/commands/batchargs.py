"""The options every many-record command shares: --workers, --scheduler, --resume, --table."""

from __future__ import annotations

import os


def add_batch_args(p, *, table: bool = True) -> None:
    g = p.add_argument_group("many records (Dask)")
    g.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes of a local Dask cluster (default: this machine's cores; 1 runs in this "
                        "process)")
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="submit to an existing dask.distributed scheduler, e.g. tcp://10.0.0.5:8786, instead")
    g.add_argument("--resume", action="store_true",
                   help="skip records whose results (outputs, or --table parts) exist and are complete")
    if table:
        g.add_argument("--table", metavar="OUT.csv|OUT.parquet",
                       help="per-record results as a table (a row per record and lead); its .parts/ folder keeps "
                            "each record's result for --resume")


def workers_of(args) -> int | None:
    w = getattr(args, "workers", None)
    if w is not None and w < 1:
        from ..errors import InputError

        raise InputError("--workers must be at least 1")
    return w


def model_path() -> str:
    """What the workers must see as ECGRECON_MODEL_PATH (set from --model-dir by the CLI)."""
    return os.environ.get("ECGRECON_MODEL_PATH", "")
