"""The fuzz harness (ecgrecon.fuzz): a bounded run over every reader in the suite (the long run is
``make fuzz``), and checks that the harness itself sees each failure class."""

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ecgrecon.io
import ecgrecon.paths
from ecgrecon.fuzz import FAILURES, summarize
from ecgrecon.fuzz.__main__ import run_all
from ecgrecon.fuzz.corpus import READERS, Case, mutate, seeds
from ecgrecon.fuzz.runner import case_rng, run_case
from ecgrecon.recording import Recording

N_PER_READER = 30  # 270 inputs; about 20 s on a loaded two-core machine


def test_bounded_fuzz_of_every_reader(tmp_path):
    t0 = time.monotonic()
    outs = run_all(list(READERS), N_PER_READER, tmp_path, seed=16, timeout_s=10.0)
    rows = {r["reader"]: r for r in summarize(outs)}
    bad = [(o.reader, o.index, o.kind, o.detail, o.ops) for o in outs if o.kind in FAILURES]
    assert not bad, bad
    assert set(rows) == set(READERS) and all(r["n"] == N_PER_READER for r in rows.values())
    # the mutations reach both outcomes: some inputs are still readable, some refused
    assert all(r["refused"] > 0 for r in rows.values()), rows
    assert sum(r["accepted"] for r in rows.values()) > 0
    print(f"bounded fuzz: {len(outs)} inputs in {time.monotonic() - t0:.0f} s")  # ~20 s on an idle 2-core machine


def test_mutations_are_reproducible_and_cover_the_classes(tmp_path):
    base = seeds(ecgrecon.paths.samples_dir(), tmp_path / "seeds")
    assert set(base) == set(READERS)
    ops = set()
    for reader in READERS:
        for i in range(60):
            ra, rb = case_rng(3, reader, i), case_rng(3, reader, i)
            a, b = mutate(ra.choice(base[reader]), ra), mutate(rb.choice(base[reader]), rb)
            assert a.files == b.files and a.ops == b.ops
            ops |= {op.split(":")[0] for op in a.ops}
    assert {"bitflip", "byteset", "truncate", "chunk", "field", "line", "npz", "mat", "name", "special"} <= ops


@pytest.mark.parametrize("behaviour,kind", [
    ("abort", "crash"), ("sleep", "hang"), ("allocate", "bigalloc"), ("inf", "invariant"), ("dup", "invariant"),
    ("raise", "uncaught"), ("unnamed", "bad_message"),
])
def test_the_harness_sees_each_failure_class(tmp_path, monkeypatch, behaviour, kind):
    """The child calls ecgrecon.io.read_recording; a reader that misbehaves in each way is classified so."""
    import os

    from ecgrecon.errors import InputError

    def bad_reader(path, **kw):
        if behaviour == "abort":
            os.abort()
        if behaviour == "sleep":
            time.sleep(60)
        if behaviour == "allocate":
            return np.ones((3 << 30) // 8)
        if behaviour == "inf":
            return Recording(np.full((1, 10), np.inf, np.float32), 500.0, ("I",))
        if behaviour == "dup":
            return Recording(np.zeros((1, 10), np.float32), 500.0, (" ",))
        if behaviour == "raise":
            raise ValueError("boom")
        raise InputError("no file named")

    monkeypatch.setattr(ecgrecon.io, "read_recording", bad_reader)
    case = Case("csv", {"x.csv": b"time,I\n0,1\n0.002,2\n"}, "x.csv")
    out = run_case(case, 0, tmp_path / "rec", timeout_s=2.0, rerun_s=0.0)
    assert out.kind == kind, out


@pytest.fixture(scope="module")
def seed_cases(tmp_path_factory):
    return seeds(ecgrecon.paths.samples_dir(), tmp_path_factory.mktemp("fuzzseeds"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reader=st.sampled_from(READERS), seed=st.integers(0, 2**32 - 1))
def test_property_any_mutation_is_read_or_refused_in_one_line(seed_cases, tmp_path, reader, seed):
    """Hypothesis draws the reader and the mutation seed (and shrinks a failure to the smallest seed)."""
    rng = case_rng(seed, reader, 0)
    case = mutate(rng.choice(seed_cases[reader]), rng)
    out = run_case(case, seed, tmp_path / f"h{seed}" / "rec", timeout_s=10.0, rerun_s=0.0)
    assert out.kind in ("accepted", "refused"), out
