"""Per-record results as one table (``--table out.csv`` or ``.parquet``): a row per record and lead, for pandas.

Columns: record, database, model, lead, role, r, rmse_uv, expected_r, low_confidence; the lead's measurements
on the reconstruction (st_j_uv, st_j60_uv, r_uv, s_uv) and their differences from the truth (d_*); the
record's global measurements (heart_rate_bpm, pr_ms, qrs_ms, qt_ms, qtc_bazett_ms, ..., repeated on each of
its rows) and their differences (d_*).
"""

from __future__ import annotations

from pathlib import Path

from .errors import InputError
from .io.common import atomic_write
from .measurements import GLOBAL_KEYS, LEAD_KEYS


def evaluation_rows(result: dict) -> list[dict]:
    """Rows of one per-record evaluation result (``commands.evaluate.evaluate_record``)."""
    if "leads" not in result:
        return []
    meas = (result.get("measurements") or {}).get("reconstruction") or {}
    diffs = result.get("measurement_differences") or {}
    glob = {k: (meas.get("global") or {}).get(k) for k in GLOBAL_KEYS}
    glob |= {f"d_{k}": diffs.get(f"global.{k}") for k in GLOBAL_KEYS}
    rows = []
    for d in result["leads"]:
        n = d["lead"]
        lm = (meas.get("leads") or {}).get(n) or {}
        row = {"record": result["record"], "database": result.get("database"), "model": result.get("model"),
               "lead": n, "role": d["role"], "r": d["r"], "rmse_uv": d["rmse_uv"], "expected_r": d["expected_r"],
               "low_confidence": d["low_confidence"]}
        row |= {k: lm.get(k) for k in LEAD_KEYS}
        row |= {f"d_{k}": diffs.get(f"leads.{n}.{k}") for k in LEAD_KEYS}
        rows.append(row | glob)
    return rows


def measurement_rows(result: dict) -> list[dict]:
    """Rows of one ``ecgrecon measure`` result (a record's to_json plus "file")."""
    if "global" not in result:
        return []
    glob = {k: result["global"].get(k) for k in GLOBAL_KEYS}
    return [{"record": result["file"], "database": result.get("database"), "lead": n,
             "role": result.get("roles", {}).get(n)} | {k: v.get(k) for k in LEAD_KEYS} | glob
            for n, v in result["leads"].items()]


def write_table(rows: list[dict], path: str | Path) -> Path:
    """CSV or Parquet by the suffix; written atomically."""
    import pandas as pd

    p = Path(path)
    ext = p.suffix.lower()
    if ext not in (".csv", ".parquet"):
        raise InputError("--table must end in .csv or .parquet", p)
    df = pd.DataFrame(rows)
    if ext == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise InputError("writing .parquet needs pyarrow (pip install pyarrow); or use .csv", p) from None
        atomic_write(p, lambda tmp: df.to_parquet(tmp, index=False))
    else:
        atomic_write(p, lambda tmp: df.to_csv(tmp, index=False))
    return p
