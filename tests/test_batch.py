"""Many records: discovery that counts each WFDB record once, the Dask runner, resume, tables, progress."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io as sio

from ecgrecon.discovery import database_guess, discover
from ecgrecon.io import read_recording

SAMPLES = Path(__file__).resolve().parents[1] / "resources" / "samples"


def challenge_folder(folder: Path, n: int = 3, stray: bool = True) -> Path:
    """PhysioNet Challenge-style records (``.hea`` + MATLAB v4 ``.mat``) made from the LUDB sample, plus a
    stray ``.dat`` no header names."""
    folder.mkdir(parents=True, exist_ok=True)
    rec = read_recording(SAMPLES / "ludb_3.hea")
    val = np.round(rec.signals * 1000).astype(np.int16)
    for k in range(n):
        name = f"A{k + 1:04d}"
        v = np.roll(val, 250 * k, axis=1)  # different records, same shape
        sio.savemat(folder / f"{name}.mat", {"val": v}, format="4")
        lines = [f"{name} 12 500 5000"] + [f"{name}.mat 16+24 1000/mV 16 0 {v[i, 0]} 0 0 {lead}"
                                           for i, lead in enumerate(rec.leads)]
        (folder / f"{name}.hea").write_text("\n".join(lines) + "\n")
    if stray:
        (folder / "orphan.dat").write_bytes(b"\0" * 100)
    return folder


def _cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "ecgrecon.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_discovery_counts_each_challenge_record_once(tmp_path):
    d = challenge_folder(tmp_path / "cinc")
    found = discover([d])
    assert [p.name for p in found.records] == ["A0001.hea", "A0002.hea", "A0003.hea"]
    assert len(found.notes) == 1 and "orphan.dat" in found.notes[0] and "without its header" in found.notes[0]
    # the signal files given directly still mean their records, once
    again = discover(sorted(d.glob("*.mat")) + sorted(d.glob("*.hea")))
    assert [p.name for p in again.records] == ["A0001.hea", "A0002.hea", "A0003.hea"]
    # a header naming a signal file of another name (PTB's s0010_re.xyz) claims it
    names = [p.name for p in discover([SAMPLES]).records]
    assert "s0010_re.hea" in names and not any(n.endswith((".xyz", ".dat")) for n in names)
    assert "s0010_re_bspm_potvals.mat" in names  # a body surface map .mat holds its own potentials: a record
    assert database_guess(d / "A0001.hea") == "CPSC" and database_guess("x/ludb/data/3.hea") == "ludb"


def test_evaluate_counts_challenge_records_once(tmp_path):
    d = challenge_folder(tmp_path / "cinc")
    r = _cli("evaluate", str(d), "--inputs", "I,II,V3", "--workers", "1", "--json", "--no-measurements")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["n_records"] == 3 and out["skipped"] == []
    assert "orphan.dat: signal file without its header, skipped" in r.stderr


def test_table_resume_and_failures(tmp_path):
    d = challenge_folder(tmp_path / "cinc", stray=False)
    (d / "A0009.hea").write_text("A0009 12 500 5000\nA0009.mat 16+24 1000/mV 16 0 0 0 0 I\n")  # broken
    table = tmp_path / "res.csv"
    r = _cli("evaluate", str(d), "--inputs", "I,II,V3", "--workers", "1", "--table", str(table), "--json")
    assert r.returncode == 0, r.stderr
    first = json.loads(r.stdout)
    assert first["n_records"] == 3 and len(first["skipped"]) == 1 and "A0009" in first["skipped"][0]
    import pandas as pd

    df = pd.read_csv(table)
    assert len(df) == 3 * 12 and set(df["record"].map(lambda s: Path(s).stem)) == {"A0001", "A0002", "A0003"}
    assert {"r", "rmse_uv", "expected_r", "role", "database", "qrs_ms", "d_qrs_ms", "st_j_uv"} <= set(df.columns)
    assert (df["database"] == "CPSC").all()
    v1 = df[(df["lead"] == "V1")]
    assert (v1["role"] == "reconstructed").all() and v1["expected_r"].notna().all()
    parts = sorted((tmp_path / "res.csv.parts").glob("*.json"))
    assert len(parts) == 4  # three results and the skipped record (its reason is a result too)
    # resume: nothing is recomputed, the figures are the same
    mtimes = [p.stat().st_mtime_ns for p in parts]
    r2 = _cli("evaluate", str(d), "--inputs", "I,II,V3", "--workers", "1", "--table", str(table), "--json",
              "--resume")
    assert r2.returncode == 0 and "4 of 4 records already done" in r2.stderr
    assert json.loads(r2.stdout) == first
    assert [p.stat().st_mtime_ns for p in parts] == mtimes


def test_dask_scheduler_with_two_workers_matches_one_worker(tmp_path):
    """A real dask.distributed scheduler and two worker processes on localhost, reached by address, give the
    summary that one in-process worker gives."""
    distributed = pytest.importorskip("distributed")
    d = challenge_folder(tmp_path / "cinc", n=4, stray=False)
    one = _cli("evaluate", str(d), "--inputs", "I,II,V3", "--workers", "1", "--json")
    assert one.returncode == 0, one.stderr
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  scheduler_port=0) as cluster:
        addr = cluster.scheduler_address
        assert addr.startswith("tcp://127.0.0.1:")
        two = _cli("evaluate", str(d), "--inputs", "I,II,V3", "--scheduler", addr, "--json")
        assert two.returncode == 0, two.stderr
        with distributed.Client(addr) as c:
            assert len(c.scheduler_info()["workers"]) == 2
    a, b = json.loads(one.stdout), json.loads(two.stdout)
    assert a["n_records"] == b["n_records"] == 4
    assert a == b


def test_local_cluster_workers_and_reconstruct_resume(tmp_path):
    d = challenge_folder(tmp_path / "cinc", n=3, stray=False)
    out = tmp_path / "out"
    out.mkdir()
    r = _cli("reconstruct", str(d), "--inputs", "I,II,V3", "-o", str(out), "--workers", "2")
    assert r.returncode == 0, r.stderr
    assert "3 of 3 recordings reconstructed" in r.stdout
    assert sorted(p.name for p in out.glob("*.hea")) == ["A0001.hea", "A0002.hea", "A0003.hea"]
    side = json.loads((out / "A0002.metrics.json").read_text())
    assert side["model"] == "I-II-V3.ensemble" and side["measurements"]["difference"] is not None
    (out / "A0003.metrics.json").unlink()  # as if the run had stopped before this record finished
    r = _cli("reconstruct", str(d), "--inputs", "I,II,V3", "-o", str(out), "--workers", "1", "--resume")
    assert r.returncode == 0, r.stderr
    assert "(2 already complete)" in r.stdout and (out / "A0003.metrics.json").exists()


def test_unreachable_scheduler_is_one_line(tmp_path):
    d = challenge_folder(tmp_path / "cinc", n=2, stray=False)
    r = _cli("evaluate", str(d), "--inputs", "I,II,V3", "--scheduler", "tcp://127.0.0.1:9", timeout=120)
    assert r.returncode == 2 and "cannot reach the Dask scheduler" in r.stderr and "Traceback" not in r.stderr


def test_progress_lines_when_not_a_terminal():
    import io

    from ecgrecon.batch import Progress, run_records

    buf = io.StringIO()
    prog = Progress(5, "measure", stream=buf, every_s=0.0)
    items = list(run_records(lambda j: {"x": j} if j != 3 else {"error": "bad"}, list(range(5)), workers=1,
                             progress=prog))
    assert [i.result.get("x") for i in items] == [0, 1, 2, None, 4]
    lines = buf.getvalue().splitlines()
    assert len(lines) == 5 and lines[-1].startswith("measure: 5/5 records,") and "1 failed" in lines[-1]
