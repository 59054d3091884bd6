"""Parsing in a child process (ecgrecon.io.isolated) and in a forked call (ecgrecon.io.guarded): the same
Recording as in-process, and one InputError for a crash, a hang, too much memory; no files left behind."""

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, SAMPLES
from ecgrecon.batch import run_records
from ecgrecon.errors import Cancelled, InputError
from ecgrecon.io import isolated, read_recording
from ecgrecon.io.guarded import call_guarded

SEGV_MAT = REPO / "tests" / "data" / "loadmat_segv.mat"  # one flipped bit in an uncompressed potvals .mat


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("ECGRECON_CACHE", str(d))
    return d / "ecgrecon" / "isolated"


@pytest.mark.parametrize("name", ["ludb_3.hea", "bspm/ludb_3_bspm.hea", "bspm/ludb_3_bspm_potvals.mat"])
def test_isolated_read_equals_in_process_and_is_mapped(cache, name):
    here = read_recording(SAMPLES / name)
    there = isolated.read_isolated(SAMPLES / name)
    assert there.leads == here.leads and there.roles == here.roles and there.fs == here.fs
    assert there.meta == here.meta
    np.testing.assert_array_equal(there.signals, here.signals)
    assert isinstance(there.signals.base, np.memmap) or isinstance(there.signals, np.memmap)
    if here.electrodes is not None:
        np.testing.assert_array_equal(there.electrodes.potentials, here.electrodes.potentials)
        assert there.electrodes.names == here.electrodes.names
    there.signals[0, 0] = 1.0  # copy-on-write: filters may work in place
    assert not list(cache.iterdir())  # the .npy files were unlinked once mapped


def test_the_segfaulting_mat_really_segfaults_scipy():
    """The sample is a real crasher: scipy.io.loadmat dies with SIGSEGV on it (in a forked child here)."""
    pid = os.fork()
    if pid == 0:
        try:
            import faulthandler

            faulthandler.disable()  # pytest's handler would print the expected crash
            from scipy.io import loadmat

            loadmat(str(SEGV_MAT))
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSEGV


def test_segfault_in_scipy_is_one_line_in_process_and_isolated(cache):
    for read in (read_recording, isolated.read_isolated):
        with pytest.raises(InputError) as e:
            read(SEGV_MAT)
        assert e.value.path == str(SEGV_MAT) and "crashed (SIGSEGV)" in e.value.problem


def test_child_killed_by_a_signal_is_one_line(cache, tmp_path):
    """A child that dies mid-read (here: SIGSEGV sent to it while it reads a 2-hour file) is reported, not
    waited on."""
    big = tmp_path / "long.npz"
    np.savez_compressed(big, signals=np.random.default_rng(0).normal(size=(12, 250 * 3600 * 2)).astype(np.float32),
                        fs=250.0, leads=np.array([f"L{i}" for i in range(12)]))
    isolated.warm_up()
    before = {p.pid for p in _children()}
    out: dict = {}

    def run() -> None:
        try:
            isolated.read_isolated(big)
        except InputError as e:
            out["err"] = e

    t = threading.Thread(target=run)
    t.start()
    deadline = time.monotonic() + 30
    kid = None
    while kid is None and time.monotonic() < deadline:
        new = [p for p in _children() if p.pid not in before]  # the forkserver was started before
        kid = new[0] if new else None
        time.sleep(0.02)
    assert kid is not None, "no reader child appeared"
    time.sleep(0.2)
    os.kill(kid.pid, signal.SIGSEGV)
    t.join(60)
    assert "crashed (SIGSEGV)" in out["err"].problem and out["err"].path == str(big)
    assert not list(cache.iterdir())


def _children():
    import psutil

    return psutil.Process().children(recursive=True)


def test_timeout_and_memory_limit_and_cancel(cache, tmp_path):
    slow = tmp_path / "slow.csv"  # text parsing of 300,000 rows takes seconds
    rows = np.random.default_rng(0).normal(size=(300_000, 3))
    np.savetxt(slow, np.column_stack([np.arange(len(rows)) / 500.0, rows]), delimiter=",", header="time,I,II,V2",
               comments="")
    isolated.warm_up()
    with pytest.raises(InputError, match="no result within"):
        isolated.read_isolated(slow, timeout_s=0.3)
    with pytest.raises(InputError, match="not enough memory"):
        isolated.read_isolated(SAMPLES / "s0010_re.hea", memory_bytes=1 << 20)
    with pytest.raises(Cancelled):
        isolated.read_isolated(slow, cancel=lambda: True)
    assert not list(cache.iterdir())


def test_guarded_call_returns_raises_and_survives_a_crash(tmp_path):
    assert call_guarded(lambda: {"a": np.arange(3)}, tmp_path, what="x")["a"].tolist() == [0, 1, 2]
    with pytest.raises(KeyError):
        call_guarded(lambda: {}["missing"], tmp_path, what="x")
    with pytest.raises(InputError, match="crashed \\(SIGABRT\\)"):
        call_guarded(os.abort, tmp_path, what="x")
    with pytest.raises(InputError, match="no result within"):
        call_guarded(lambda: time.sleep(30), tmp_path, what="x", timeout_s=0.5)


def test_batch_reads_each_record_in_a_child(tmp_path, cache):
    """In a batch, read_recording goes through the child (samples mapped) and a crasher is one error item."""
    def job(path: str) -> dict:
        try:
            rec = read_recording(path)
        except InputError as e:
            return {"error": str(e)}
        return {"mapped": isinstance(rec.signals.base, np.memmap), "isolate": os.environ.get("ECGRECON_ISOLATE")}

    items = {it.job: it.result for it in run_records(job, [str(SAMPLES / "ludb_3.hea"), str(SEGV_MAT)], workers=1)}
    assert items[str(SAMPLES / "ludb_3.hea")] == {"mapped": True, "isolate": "1"}
    assert "crashed (SIGSEGV)" in items[str(SEGV_MAT)]["error"]
    assert os.environ.get("ECGRECON_ISOLATE") is None  # restored after the run
    assert isinstance(read_recording(SAMPLES / "ludb_3.hea").signals.base, np.memmap) is False


def test_stale_isolation_folders_are_swept(cache):
    isolated.read_isolated(SAMPLES / "ludb_3.hea")  # makes the cache folder
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = cache / f".ecgrecon~{dead.pid}~zzzz"
    stale.mkdir()
    (stale / "signals.npy").write_bytes(b"x" * 1000)
    from ecgrecon.io import tempfiles

    tempfiles._swept.discard(str(Path(cache).resolve()))
    isolated.read_isolated(SAMPLES / "ludb_3.hea")
    assert not stale.exists()


def test_isolation_inherited_by_the_forkserver_does_not_chain(tmp_path):
    """ECGRECON_ISOLATE=1 in the environment the forkserver starts with (a batch run's workers) must not make
    its preload read in yet another forkserver: once seen as an endless chain of processes."""
    import subprocess
    import sys

    code = ("import psutil, time\n"
            "from ecgrecon.io import read_recording\n"
            f"rec = read_recording({str(SAMPLES / 'ludb_3.hea')!r})\n"
            "time.sleep(1.0)\n"
            "kids = psutil.Process().children(recursive=True)\n"
            "print(len(kids), isinstance(rec.signals.base, __import__('numpy').memmap))\n")
    env = {**os.environ, "ECGRECON_ISOLATE": "1", "ECGRECON_CACHE": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    n, mapped = out.stdout.split()
    assert mapped == "True" and int(n) <= 3, out  # the forkserver, the resource tracker; no chain


def _external_job(path: str) -> dict:
    import multiprocessing as mp

    try:
        rec = read_recording(path)
    except InputError as e:
        return {"error": str(e), "daemon": mp.current_process().daemon}
    return {"mapped": isinstance(rec.signals.base, np.memmap), "daemon": mp.current_process().daemon}


@pytest.mark.parametrize("daemon", [False, True])
def test_workers_of_an_external_scheduler_isolate_when_they_may_have_children(tmp_path, daemon):
    """A cluster this program did not start, reached by address: on non-daemonic workers each read goes through
    the child (samples mapped, the scipy crasher one error item, the worker alive); daemonic workers may not
    have children and read in-process, as documented."""
    distributed = pytest.importorskip("distributed")
    import dask

    with dask.config.set({"distributed.worker.daemon": daemon}):
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                           dashboard_address=None, scheduler_port=0)
    with cluster:
        jobs = [str(SAMPLES / "ludb_3.hea")] + ([] if daemon else [str(SEGV_MAT)])
        items = {it.job: it.result for it in run_records(_external_job, jobs, scheduler=cluster.scheduler_address)}
        assert items[str(SAMPLES / "ludb_3.hea")] == {"mapped": not daemon, "daemon": daemon}
        if not daemon:
            assert "crashed (SIGSEGV)" in items[str(SEGV_MAT)]["error"]
    assert os.environ.get("ECGRECON_ISOLATE") is None
