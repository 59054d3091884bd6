"""``ecgrecon compare`` and the viewer's comparison run the configurations through the batch runner (Qt-free)."""

from __future__ import annotations

import pytest

from ecgrecon import batch, pipeline
from ecgrecon.cli import main
from ecgrecon.comparison import resolve_configs, run_configs
from ecgrecon.errors import Cancelled, EcgReconError
from ecgrecon.io import read_recording
from test_bspm import BSPM_DIR

MAP = BSPM_DIR / "s0010_re_bspm.hea"


@pytest.fixture()
def spy(monkeypatch):
    """Records each run_records call, (job ids, workers, scheduler), and in ``spy.ran`` each job it ran."""
    calls = SpyCalls()
    real = batch.run_records

    def wrapped(fn, jobs, **kw):
        calls.append(([j.path for j in jobs], kw.get("workers"), kw.get("scheduler")))

        def counted(job):
            calls.ran.append(job.path)
            return fn(job)

        yield from real(counted, jobs, **kw)

    monkeypatch.setattr(batch, "run_records", wrapped)
    return calls


class SpyCalls(list):
    def __init__(self) -> None:
        super().__init__()
        self.ran: list[str] = []


def test_cli_compare_runs_one_batch_job_per_configuration(test_zoo, spy, capsys):
    assert main(["compare", str(MAP), "--json"]) == 0
    assert capsys.readouterr().out.count('"configuration"') == 2
    assert spy == [(["test-EASI.linear", "test-PATCH.linear"], 1, None)]


def test_progress_names_the_configuration_starting(test_zoo, spy):
    rec = read_recording(MAP)
    cards = resolve_configs(rec, test_zoo)
    seen = []
    res = run_configs(rec, cards, test_zoo, progress=lambda i, n, mid: seen.append((i, n, mid)))
    assert [r.model for r in res] == [c.id for c in cards] == ["test-EASI.linear", "test-PATCH.linear"]
    assert seen == [(0, 2, "test-EASI.linear"), (1, 2, "test-PATCH.linear"), (2, 2, "")]
    assert all(r.signals is None for r in res)  # kept only when asked (the viewer's overlay asks)


def test_a_failing_configuration_raises_what_the_pipeline_raises(test_zoo, spy, samples):
    rec = read_recording(samples / "ludb_3.hea")  # 12 leads, no electrodes: EASI's inputs cannot be derived
    easi = test_zoo.get("test-EASI.linear")
    with pytest.raises(EcgReconError) as direct:
        pipeline.run(pipeline.plan(rec, inputs=easi.input_leads, model_id=easi.id, zoo=test_zoo))
    with pytest.raises(EcgReconError) as via_runner:
        run_configs(rec, [easi], test_zoo)
    assert type(via_runner.value) is type(direct.value) and str(via_runner.value) == str(direct.value)


def test_cancel_stops_before_the_next_configuration(test_zoo, spy):
    rec = read_recording(MAP)
    cards = resolve_configs(rec, test_zoo)
    stop, seen = [], []

    def progress(i: int, n: int, mid: str) -> None:
        seen.append(mid)
        if i == 1:  # the user presses Cancel while the first configuration's result comes in
            stop.append(True)

    with pytest.raises(Cancelled):
        run_configs(rec, cards, test_zoo, progress=progress, cancel=lambda: bool(stop))
    assert seen == ["test-EASI.linear", "test-PATCH.linear"]
    assert spy.ran == ["test-EASI.linear"]  # the batch runner refused the second
