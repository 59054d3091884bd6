"""Long recordings: one block path for every length (issue 12).

A 20-minute three-lead file (LUDB record 3, I, II and V3 tiled with a little noise) stands in for a day;
the 24-hour figures are in benchmarks/bench_long.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from ecgrecon import pipeline
from ecgrecon.cli import main
from ecgrecon.errors import Cancelled, InputError
from ecgrecon.inference import reconstruct, reconstruct_blocks
from ecgrecon.io import read_recording
from ecgrecon.io.wfdb_blocks import WfdbBlocks, open_recording, open_wfdb_blocks
from ecgrecon.io.wfdb_io import WfdbStreamWriter
from ecgrecon.leads import STANDARD_12
from ecgrecon.modelcard import load_zoo

SAMPLES = Path(__file__).parents[1] / "resources" / "samples"
LEADS = ("I", "II", "V3")
MINUTES = 20


@pytest.fixture(scope="module")
def zoo():
    return load_zoo()


@pytest.fixture(scope="module")
def long_file(tmp_path_factory) -> Path:
    """20 minutes at 500 Hz, format 16, written block by block."""
    src = read_recording(SAMPLES / "ludb_3.hea").select(list(LEADS))
    path = tmp_path_factory.mktemp("long") / "day.hea"
    rng = np.random.default_rng(1)
    w = WfdbStreamWriter(path, LEADS, src.fs, ["synthetic: LUDB record 3 tiled"])
    for _ in range(MINUTES * 6):
        w.write(src.signals + rng.normal(0, 0.01, src.signals.shape).astype(np.float32))
    w.close()
    return path


@pytest.fixture(scope="module")
def conv(zoo):
    return zoo.default_for(LEADS, "conv")


@pytest.fixture(scope="module")
def whole(long_file, conv, zoo):
    """The in-memory reconstruction of the whole 20 minutes (read whole, collected in memory)."""
    return reconstruct(read_recording(long_file), conv, zoo=zoo, threads=2)


def test_block_reader_equals_the_whole_read(long_file):
    blocks = open_wfdb_blocks(long_file)
    assert isinstance(blocks, WfdbBlocks) and blocks.n_samples == MINUTES * 60 * 500
    rec = read_recording(long_file)
    assert blocks.leads == rec.leads and blocks.roles == rec.roles and blocks.fs == rec.fs
    np.testing.assert_array_equal(blocks.block(LEADS, 123_456, 234_567), rec.signals[:, 123_456:234_567])
    # LUDB's header gains (each lead scaled to exactly 1 mV peak to peak) are caught in blocks too
    ludb = open_wfdb_blocks(SAMPLES / "ludb_3.hea")
    whole = read_recording(SAMPLES / "ludb_3.hea")
    assert ludb.meta.warnings == whole.meta.warnings and "LUDB" in ludb.meta.warnings[0]
    np.testing.assert_array_equal(ludb.block(whole.leads, 0, whole.n_samples), whole.signals)


def test_streamed_output_equals_in_memory_output_sample_for_sample(long_file, conv, zoo, whole, tmp_path):
    lazy = open_recording(long_file)
    assert isinstance(lazy, WfdbBlocks)  # the file is read in blocks, never whole
    plan = pipeline.plan(lazy, model_id=conv.id, zoo=zoo, threads=2)
    res = pipeline.run(plan, pipeline.WfdbStreamSink(tmp_path / "s.hea"))
    assert res.n_samples == whole.result.n_samples
    # the in-memory path writes the same file: the samples are identical, byte for byte
    from ecgrecon.io import write_recording

    write_recording(whole.result, tmp_path / "m.hea")
    assert (tmp_path / "s.dat").read_bytes() == (tmp_path / "m.dat").read_bytes()
    # and before quantisation, block by block, in float32
    for blk in reconstruct_blocks(lazy, conv, zoo=zoo, threads=2, start=0, stop=3 * 30000):
        np.testing.assert_array_equal(blk.signals, whole.result.signals[:, blk.start: blk.stop])
    back = read_recording(tmp_path / "s.hea")
    assert back.leads == STANDARD_12 and back.meta.reconstruction.model_id == conv.id
    # per-minute trust summarised per reconstructed lead
    assert set(res.trust) == {"V1", "V2", "V4", "V5", "V6"}
    assert all(t["n_blocks"] == MINUTES and 0.3 < t["median_expected_r"] < 1 for t in res.trust.values())


def test_a_span_equals_the_same_samples_of_the_whole_reconstruction(long_file, conv, zoo, whole, tmp_path):
    a, b = 300 * 500 + 7, 360 * 500  # a start off every chunk and network grid
    part = reconstruct(open_recording(long_file), conv, zoo=zoo, start=a, stop=b)
    assert part.result.n_samples == b - a
    assert np.max(np.abs(part.result.signals - whole.result.signals[:, a:b])) < 1e-5
    out = tmp_path / "span.hea"
    assert main(["reconstruct", str(long_file), "--model", conv.id, "--start", str(a / 500), "--duration",
                 str((b - a) / 500), "-o", str(out)]) == 0
    back = read_recording(out)
    assert back.n_samples == b - a
    assert np.max(np.abs(back.signals - whole.result.signals[:, a:b])) <= 0.0005 + 1e-6  # 1 uV steps
    side = json.loads(out.with_name("span.metrics.json").read_text())
    assert side["span_s"] == pytest.approx({"start": a / 500, "duration": (b - a) / 500})
    assert any(c.startswith("reconstructed span: 300.014 s") for c in back.meta.comments)


def test_print_reconstructs_only_its_page(long_file, monkeypatch, tmp_path):
    seen = []
    real = pipeline.reconstruct

    def spy(rec, card, **kw):
        seen.append((kw["start"], kw["stop"]))
        return real(rec, card, **kw)

    monkeypatch.setattr(pipeline, "reconstruct", spy)
    assert main(["print", str(long_file), "--start", "600", "-o", str(tmp_path / "p.pdf")]) == 0
    (a, b), = seen
    assert a == 595 * 500 and (b - a) / 500 <= 25  # the page, the measurement strip and the filter margins
    import pypdf

    text = " ".join(pypdf.PdfReader(tmp_path / "p.pdf").pages[0].extract_text().split())
    assert "1200.0 s recorded · this page 600.0–610.0 s" in text


def test_cancel_leaves_no_partial_output(long_file, conv, zoo, tmp_path):
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 4

    plan = pipeline.plan(open_recording(long_file), model_id=conv.id, zoo=zoo, threads=2)
    with pytest.raises(Cancelled):
        pipeline.run(plan, pipeline.WfdbStreamSink(tmp_path / "c.hea"), cancel=cancel)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_missing_samples_mid_file_stop_the_run_and_leave_nothing(long_file, conv, zoo, tmp_path):
    bad = tmp_path / "gap.hea"
    bad.write_text(long_file.read_text().replace("day", "gap"))
    raw = np.fromfile(long_file.with_suffix(".dat"), "<i2").reshape(-1, 3)
    raw[400_000:400_010, 1] = -32768  # format 16's "no sample" at 800 s in lead II
    raw.tofile(tmp_path / "gap.dat")
    out = tmp_path / "out" / "o.hea"
    out.parent.mkdir()
    plan = pipeline.plan(open_recording(bad), model_id=conv.id, zoo=zoo)
    with pytest.raises(InputError, match=r"II has missing samples \(first at 800.00 s\)"):
        pipeline.run(plan, pipeline.WfdbStreamSink(out))
    assert list(out.parent.iterdir()) == []


def test_the_length_switch_runs_one_network_and_every_output_says_so(long_file, zoo, monkeypatch, tmp_path):
    monkeypatch.setattr(pipeline, "SINGLE_NETWORK_S", 600.0)
    monkeypatch.setattr(pipeline, "STREAM_S", 600.0)
    out = tmp_path / "o.hea"
    assert main(["reconstruct", str(long_file), "-o", str(out)]) == 0
    side = json.loads(out.with_name("o.metrics.json").read_text())
    assert side["model"] == "I-II-V3.conv" and "I-II-V3.ensemble" in side["model_note"]
    back = read_recording(out)
    assert back.meta.reconstruction.model_id == "I-II-V3.conv"
    assert any(c.startswith("model choice: 0.3 h to reconstruct: model I-II-V3.conv alone") for c in
               back.meta.comments)
    # and on paper: the printout of the saved output names the model that ran and why
    import pypdf

    assert main(["print", str(out), "--measured", "-o", str(tmp_path / "o.pdf")]) == 0
    text = " ".join(pypdf.PdfReader(tmp_path / "o.pdf").pages[0].extract_text().split())
    assert "I-II-V3.conv" in text and "model I-II-V3.conv alone, the convolutional member of I-II-V3.ensemble" in text
    # a span shorter than the switch keeps the ensemble; a named architecture is never switched
    assert pipeline.plan(open_recording(long_file), zoo=zoo, duration_s=60).model.id == "I-II-V3.ensemble"
    assert pipeline.plan(open_recording(long_file), zoo=zoo, arch="temporal").model.id == "I-II-V3.temporal"


def test_the_app_runs_the_lifted_graph_and_it_agrees_with_the_file(zoo):
    import onnxruntime as ort

    from ecgrecon.onnxgraph import session_bytes

    for mid in ("I-II-V3.conv", "I-II-V3.temporal"):
        card = zoo.get(mid)
        lifted = session_bytes(card.onnx_file)
        assert lifted != card.onnx_file.read_bytes()
        x = np.random.default_rng(2).normal(0, 0.4, (1, 3, 4096)).astype(np.float32)
        a = ort.InferenceSession(str(card.onnx_file)).run(None, {card.input_name: x})[0]
        b = ort.InferenceSession(lifted).run(None, {card.input_name: x})[0]
        assert a.shape == b.shape and np.max(np.abs(a - b)) < 1e-5


def test_the_lifted_graph_is_kept_on_disk_checked_and_reused_without_importing_onnx(zoo, tmp_path):
    """The second process finds the lifted graph in the cache (no onnx import, ~1.3 s); a damaged entry is
    dropped and lifted anew; ``off`` keeps nothing."""
    import subprocess

    card = zoo.get("I-II-V3.conv")
    code = ("import sys; from ecgrecon.onnxgraph import session_bytes; b = session_bytes(sys.argv[1]); "
            "import hashlib; print(hashlib.sha256(b).hexdigest(), 'onnx' in sys.modules)")
    env = {**os.environ, "ECGRECON_GRAPH_CACHE": str(tmp_path / "g")}

    def child() -> tuple[str, str]:
        out = subprocess.run([sys.executable, "-c", code, str(card.onnx_file)], env=env, capture_output=True,
                             text=True, check=True).stdout.split()
        return out[0], out[1]

    first, imported = child()
    assert imported == "True"  # nothing cached yet: lifted with the onnx package
    (entry,) = (tmp_path / "g").glob("*.onnx")
    assert first != hashlib.sha256(card.onnx_file.read_bytes()).hexdigest()  # the lifted graph, not the file
    assert entry.name.endswith(first[:32] + ".onnx")
    again, imported = child()
    assert (again, imported) == (first, "False")  # from the cache, onnx never imported
    entry.write_bytes(entry.read_bytes()[:-10] + b"0123456789")  # damaged in place
    healed, imported = child()
    assert (healed, imported) == (first, "True")
    assert [p.name for p in (tmp_path / "g").glob("*.onnx")] == [entry.name]
    assert entry.read_bytes() != b"" and hashlib.sha256(entry.read_bytes()).hexdigest() == first
    # an intact entry (its name matches its bytes) holding another network: the probe refuses it
    other = zoo.get("I-II-V3.temporal").onnx_file.read_bytes()
    entry.unlink()
    key = entry.name[: -len("-" + first[:32] + ".onnx")]
    (tmp_path / "g" / f"{key}-{hashlib.sha256(other).hexdigest()[:32]}.onnx").write_bytes(other)
    checked, imported = child()
    assert (checked, imported) == (first, "True")
    assert [p.name for p in (tmp_path / "g").glob("*.onnx")] == [entry.name]  # the impostor is gone
    env["ECGRECON_GRAPH_CACHE"] = "off"
    off, imported = child()
    assert (off, imported) == (first, "True")
    assert not Path("off").exists()


# -- the viewer: a long recording through the cache ------------------------------------------------------------
@pytest.fixture()
def viewer(qtbot, zoo, tmp_path, monkeypatch):
    pytest.importorskip("pytestqt")
    from PySide6.QtCore import QSettings

    from ecgrecon import longview
    from ecgrecon.gui import reconcontroller
    from ecgrecon.gui.mainwindow import MainWindow
    from ecgrecon.viewmodel import ViewerModel

    cache = tmp_path / "cache"
    monkeypatch.setattr(reconcontroller, "cache_dir", lambda: str(cache))
    monkeypatch.setattr(longview, "CACHE_ABOVE_S", 300.0)  # the 20-minute file takes the long path
    monkeypatch.setattr(pipeline, "SINGLE_NETWORK_S", 300.0)
    # a cache folder left by a viewer that died: removed when the next one starts
    stale = cache / "ecgrecon-recon-999999999-dead"
    stale.mkdir(parents=True)
    (stale / "owner.json").write_text('{"pid": 999999999}')
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))
    w = MainWindow(ViewerModel(zoo=zoo), settings=QSettings(str(tmp_path / "v.ini"), QSettings.Format.IniFormat),
                   auto_reconstruct=False)
    w.errors = []
    w.show_error = w.errors.append
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    assert not stale.exists()
    yield w, cache
    w.close()


def test_viewer_reconstructs_a_long_recording_into_a_cache_it_removes(qtbot, viewer, long_file, whole):
    import time

    from PySide6.QtCore import QTimer

    from ecgrecon.longview import LongReconstruction

    win, cache = viewer
    assert win.open_path(long_file)
    worker = win.start_reconstruction(start=False)
    seen: list = []
    worker.progress.connect(seen.append)
    # the event loop's latency while hours of data are reconstructed: a 20 ms timer's late ticks
    late: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        late.append(now - last[0] - 0.02)
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(20)
    with qtbot.waitSignal(worker.finished, timeout=300000):
        worker.start()
    timer.stop()
    long = next(v for v in seen if isinstance(v, LongReconstruction))
    assert long.folder.parent == cache and long.folder.exists()
    recon = win.model.recon
    assert recon.model.id == "I-II-V3.conv" and "I-II-V3.ensemble" in recon.length_note
    assert "model I-II-V3.conv" in win.header.banner.text() and recon.length_note in win.header.banner.text()
    # the cache holds the same samples as the in-memory reconstruction, read only where a view reads
    sig = recon.result.signals
    assert sig.shape == whole.result.signals.shape and not np.isnan(sig[:, -1000:]).any()
    np.testing.assert_array_equal(sig[:, 500_000:530_000], whole.result.signals[:, 500_000:530_000])
    # the heart-rate trend: LUDB record 3 beats at 66-67 per minute
    assert win.nav.heart_rate.isVisibleTo(win)
    t, bpm = win.nav.heart_rate.curve.getData()
    assert len(t) == MINUTES and 60 < np.nanmedian(bpm) < 72
    assert win.overview.getPlotItem().getAxis("bottom").tickStrings([3725.0], 1.0, 1.0) == ["1:02:05"]
    print(f"event loop while reconstructing: {len(late)} ticks in {sum(late) + 0.02 * len(late):.1f} s, late by "
          f"median {np.median(late) * 1000:.0f} ms, p95 {np.quantile(late, 0.95) * 1000:.0f} ms, "
          f"max {max(late) * 1000:.0f} ms; stalls over 100 ms: {[round(x, 2) for x in late if x > 0.1]}")
    assert np.median(late) < 0.1  # responsive: the timer keeps its pace (the machine is shared: loose bound)
    win.close()
    assert not long.folder.exists() and list(cache.iterdir()) == []


def test_viewer_cancel_leaves_no_cache(qtbot, viewer, long_file):
    from PySide6.QtCore import Qt

    win, cache = viewer
    assert win.open_path(long_file)
    worker = win.start_reconstruction(start=False)
    fractions: list = []
    worker.progress.connect(lambda v: fractions.append(v) or (isinstance(v, float) and worker.cancel()),
                            Qt.ConnectionType.DirectConnection)
    with qtbot.waitSignal(worker.done, timeout=300000):
        worker.start()
    assert worker.outcome == "cancelled" and any(isinstance(v, float) for v in fractions)
    qtbot.waitUntil(lambda: win.model.recon is None, timeout=5000)
    assert list(cache.iterdir()) == [] and win.errors == []


def _twelve_lead_file(tmp_path: Path) -> Path:
    """12 minutes of LUDB record 3's own twelve leads (the strip tiled)."""
    src = read_recording(SAMPLES / "ludb_3.hea")
    path = tmp_path / "twelve.hea"
    w = WfdbStreamWriter(path, src.leads, src.fs)
    for _ in range(6 * 12):
        w.write(src.signals)
    w.close()
    return path


def test_a_twelve_lead_recording_under_an_hour_is_still_compared_with_its_own_leads(tmp_path, conv):
    """Over ten minutes outputs are streamed, except when the file has its own twelve leads: the sidecar's
    metrics need both in memory (up to pipeline.TRUTH_IN_MEMORY_S)."""
    path = _twelve_lead_file(tmp_path)
    out = tmp_path / "o.hea"
    assert main(["reconstruct", str(path), "--model", conv.id, "--inputs", "I,II,V3", "-o", str(out)]) == 0
    side = json.loads(out.with_name("o.metrics.json").read_text())
    assert side["ground_truth"] is True and side["summary"]["reconstructed"]["median_r"] > 0.9


def test_a_streamed_twelve_lead_recording_is_scored_per_minute_like_the_in_memory_one(tmp_path, conv,
                                                                                       monkeypatch):
    """Above pipeline.TRUTH_IN_MEMORY_S a twelve-lead file streams; its sidecar then holds each lead's
    median over minutes of R and RMSE, which for a tiled strip agree with the whole-record figures."""
    path = _twelve_lead_file(tmp_path)
    args = ["reconstruct", str(path), "--model", conv.id, "--inputs", "I,II,V3", "-o"]
    assert main([*args, str(tmp_path / "mem.hea")]) == 0
    monkeypatch.setattr(pipeline, "TRUTH_IN_MEMORY_S", 300.0)
    assert main([*args, str(tmp_path / "str.hea")]) == 0
    mem = json.loads((tmp_path / "mem.metrics.json").read_text())
    st = json.loads((tmp_path / "str.metrics.json").read_text())
    assert st["trust"]["per_block"] is True and mem["trust"].get("per_block") is not True  # really streamed
    assert st["ground_truth"] is True and "median over 12 minutes" in st["metrics_note"]
    by_mem = {x["lead"]: x for x in mem["leads"]}
    made = [x for x in st["leads"] if x["role"] == "reconstructed"]
    assert [x["lead"] for x in made] == ["V1", "V2", "V4", "V5", "V6"]
    for x in made:
        assert abs(x["r"] - by_mem[x["lead"]]["r"]) < 0.01, x["lead"]
        assert abs(x["rmse_uv"] - by_mem[x["lead"]]["rmse_uv"]) < 0.15 * by_mem[x["lead"]]["rmse_uv"] + 2
        assert x["share_of_minutes_r_below_0_8"] in (0.0, 1.0)  # every minute is the same strip
    measured = {x["lead"]: x for x in st["leads"]}["V3"]
    assert measured["r"] > 0.999
    assert st["summary"]["reconstructed"]["n_leads"] == 5 and st["summary"]["derived"]["n_leads"] == 4


def test_the_cli_tunes_glibc_malloc_to_keep_block_buffers(monkeypatch, capsys):
    """The CLI sets glibc's mmap/trim thresholds once (ecgrecon.memtune): without them every block's numpy
    temporaries were page-faulted in anew (10 s ensemble 16 ms against 13.5 ms)."""
    import platform

    from ecgrecon import memtune

    calls = []
    monkeypatch.setattr(memtune, "_done", None)
    monkeypatch.setattr(memtune, "_apply", lambda: calls.append(1) or True)
    assert main(["models"]) == 0
    assert "I-II-V3.ensemble" in capsys.readouterr().out
    assert calls == [1]
    assert memtune.tune_malloc() is True and calls == [1]  # once per process
    monkeypatch.undo()
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert memtune._apply() is True
