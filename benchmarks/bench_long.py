"""Long recordings end to end, against bare onnxruntime measured in the same run (printed, never asserted).

    python benchmarks/bench_long.py [--hours 24] [--threads 2] [--skip-bare] [--skip-10s] [--skip-1h]

1. A 24-hour three-lead (I, II, V3) 500 Hz WFDB record is synthesised once into /tmp (LUDB record 3
   tiled, with a little white noise so no two beats are identical).
2. Bare onnxruntime: each network the default choice runs for that length, alone, over the same
   samples in the same chunks (core + overlap on both sides) with the same threads, input already in
   memory; only ``InferenceSession.run`` is timed. Two figures: the shipped ONNX file as is, and the
   graph exactly as the app runs it (:func:`ecgrecon.onnxgraph.session_bytes`).
3. ``ecgrecon reconstruct`` on the file (a child process), default choices: wall time, peak resident
   memory (``ru_maxrss`` of the child), real-time factor, ratio to bare onnxruntime.
4. The same for one hour (must not need more memory than 24 h), the CPU of each stage of that hour (one
   worker, scaled to a day) and a 10 s strip in-process (app against bare onnxruntime on the same 5000
   samples, one thread).
5. The viewer (offscreen, a child process): open the file, reconstruct it into the cache, peak memory,
   the event loop's latency meanwhile, and frames per second scrolling the cached result.

Machines here are shared: figures in one printout are comparable, absolute times are not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WORK = Path(os.environ.get("ECGRECON_BENCH_DIR", "/tmp/ecgrecon-bench"))
LEADS = ("I", "II", "V3")


def make_holter(hours: float) -> Path:
    """The synthetic recording (written block by block, reused when it exists)."""
    from ecgrecon.io import read_recording
    from ecgrecon.io.wfdb_io import WfdbStreamWriter

    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"holter_{hours:g}h.hea"
    if path.exists() and path.with_suffix(".dat").exists():
        return path
    src = read_recording(ROOT / "resources/samples/ludb_3.hea").select(list(LEADS))
    n = int(round(hours * 3600 * src.fs))
    rng = np.random.default_rng(0)
    w = WfdbStreamWriter(path, LEADS, src.fs, [f"synthetic {hours:g} h: LUDB record 3 (I, II, V3) tiled, "
                                             "white noise 10 uV"])
    done = 0
    per = 360 * src.n_samples  # one hour at a time
    tile = np.tile(src.signals, (1, 360))
    while done < n:
        k = min(per, n - done)
        w.write(tile[:, :k] + rng.normal(0, 0.01, (3, k)).astype(np.float32))
        done += k
    w.close()
    return path


def _load_inputs(path: Path) -> np.ndarray:
    from ecgrecon.io.wfdb_blocks import open_wfdb_blocks

    src = open_wfdb_blocks(path)
    return src.block(LEADS, 0, src.n_samples)


def bare_ort(x: np.ndarray, model_ids: list[str], threads: int, scheme: str) -> float:
    """Wall seconds for every network over ``x`` in the app's chunks, input already in memory, nothing else.

    ``scheme``: "file" the shipped ONNX file, one session with ``threads`` intra-op threads; "lifted" the graph
    as the app runs it (ecgrecon.onnxgraph), same threads; "parallel" the lifted graph, ``threads`` chunks at
    a time on one-thread sessions (how the app runs long recordings).
    """
    import onnxruntime as ort

    from ecgrecon.modelcard import load_zoo
    from ecgrecon.onnxgraph import session_bytes

    zoo = load_zoo()
    total = 0.0
    for mid in model_ids:
        card = zoo.get(mid)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1 if scheme == "parallel" else threads
        opts.inter_op_num_threads = 1
        model = str(card.onnx_file) if scheme == "file" else session_bytes(card.onnx_file)
        sess = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
        total += _run_chunks(sess, card, x, threads if scheme == "parallel" else 1)
    return total


def _run_chunks(sess, card, x: np.ndarray, parallel: int) -> float:
    """Seconds to run ``sess`` over ``x`` in the app's chunks, ``parallel`` chunks at a time."""
    from concurrent.futures import ThreadPoolExecutor

    from ecgrecon.inference import CHUNK_S

    mult = card.length_multiple
    ov = int(np.ceil(card.overlap_samples / mult) * mult)
    core = int(CHUNK_S * card.fs) // mult * mult
    n = x.shape[1]

    def run(s: int) -> None:
        a, b = max(0, s - ov), min(n, s + core + ov)
        blk = x[None, :, a:b]
        pad = (-blk.shape[2]) % mult
        blk = np.pad(blk, ((0, 0), (0, 0), (0, pad))) if pad else np.ascontiguousarray(blk)
        sess.run([card.output_name], {card.input_name: blk})

    t0 = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(run, range(0, n, core)))
    return time.perf_counter() - t0


def cli_run(path: Path, threads: int, extra: list[str] = ()) -> dict:
    """``ecgrecon reconstruct`` in a child; wall time and the child's peak memory."""
    out = WORK / f"out_{path.stem}.hea"
    code = ("import resource, subprocess, sys, time, json; t = time.perf_counter(); "
            "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); w = time.perf_counter() - t; "
            "print(json.dumps({'rc': p.returncode, 'wall': w, 'err': p.stderr[-2000:], 'out': p.stdout[-2000:], "
            "'peak_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))")
    cmd = [sys.executable, "-c", code, sys.executable, "-m", "ecgrecon", "reconstruct", str(path), "-o", str(out),
           "--force", "--threads", str(threads), *extra]
    res = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    res["output_gb"] = out.with_suffix(".dat").stat().st_size / 1e9 if out.with_suffix(".dat").exists() else 0.0
    side = out.with_name(out.stem + ".metrics.json")
    res["model"] = json.loads(side.read_text()).get("model") if side.exists() else None
    for f in (out, out.with_suffix(".dat"), side):
        f.unlink(missing_ok=True)
    return res


def long_figures(hours: float, threads: int, skip_bare: bool) -> None:
    from ecgrecon.modelcard import load_zoo
    from ecgrecon.pipeline import model_for_length

    t = time.perf_counter()
    path = make_holter(hours)
    print(f"input: {path} ({hours:g} h, 3 leads {','.join(LEADS)}, 500 Hz; ready in {time.perf_counter() - t:.1f} s)")
    zoo = load_zoo()
    default = zoo.default_for(LEADS)
    card = model_for_length(zoo, default, hours * 3600)
    nets = [c.id for c in zoo.members(card)]
    x = None if skip_bare else _load_inputs(path)
    what = {"parallel": f"graph as the app runs it, {threads} chunks at a time (the app's scheme)",
            "file": f"shipped ONNX file, {threads} intra-op threads",
            "lifted": f"graph as the app runs it, {threads} intra-op threads"}
    bare: dict[str, tuple[float, float]] = {}
    if x is not None:  # the app's scheme just before the CLI run, the others after: load drifts on shared machines
        bare["parallel"] = (bare_ort(x, nets, threads, "parallel"), os.getloadavg()[0])
    res = cli_run(path, threads)
    load = os.getloadavg()[0]
    if res["rc"]:
        print(f"CLI failed: {res['err']}")
        return
    rtf = hours * 3600 / res["wall"]
    print(f"CLI reconstruct {hours:g} h, default choices ({res['model']}), {threads} threads: "
          f"{res['wall']:.1f} s wall, real-time factor {rtf:,.0f}, peak memory {res['peak_mb']:.0f} MB, "
          f"output {res['output_gb']:.2f} GB (load average {load:.1f})")
    if x is None:
        return
    for scheme in ("file", "lifted"):
        bare[scheme] = (bare_ort(x, nets, threads, scheme), os.getloadavg()[0])
    for scheme, words in what.items():
        secs, load = bare[scheme]
        print(f"bare onnxruntime, {'+'.join(nets)}, {words}: {secs:.1f} s -> CLI / bare = "
              f"{res['wall'] / secs:.2f} (load average {load:.1f})")
    del x


def stage_cpu() -> None:
    """Where the CPU of a streamed reconstruction goes, stage by stage: the 1 h file on one worker (so no two stages
    overlap), each stage timed with its thread's CPU clock, scaled to a day. The network's share is what bare
    onnxruntime would also spend; the rest is the app's own work around it."""
    import collections

    from ecgrecon import inference as inf
    from ecgrecon.io import wfdb_blocks
    from ecgrecon.modelcard import load_zoo
    from ecgrecon.pipeline import model_for_length

    cpu: dict[str, float] = collections.defaultdict(float)
    stages = {"network": (inf, "_run_members"), "filters": (inf, "apply_filters"), "trust": (inf, "block_trust"),
              "lead assembly": (inf, "lead_signals"), "reading": (inf, "_model_rate_inputs"),
              "writing": (wfdb_blocks.BlockWriter, "write")}
    saved = {name: getattr(owner, attr) for name, (owner, attr) in stages.items()}

    def timed(name, fn):
        def run(*args, **kw):
            t = time.thread_time()
            try:
                return fn(*args, **kw)
            finally:
                cpu[name] += time.thread_time() - t
        return run

    path = make_holter(1.0)
    zoo = load_zoo()
    card = model_for_length(zoo, zoo.default_for(LEADS), 3600.0)
    rec = wfdb_blocks.open_recording(path)
    writer = wfdb_blocks.BlockWriter(WORK / "stages_out.hea", tuple(inf.STANDARD_12), rec.fs, [])
    try:
        for name, (owner, attr) in stages.items():
            setattr(owner, attr, timed(name, saved[name]))
        t0 = time.thread_time()
        for blk in inf.reconstruct_blocks(rec, card, zoo=zoo, threads=1, with_trust=True):
            writer.write(blk.signals)
        total = time.thread_time() - t0
    finally:
        writer.abort()  # the written day is not wanted: only its CPU
        for name, (owner, attr) in stages.items():
            setattr(owner, attr, saved[name])
    day = 24.0
    rest = total - sum(cpu.values())
    parts = ", ".join(f"{k} {v * day:.1f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]))
    print(f"CPU by stage ({card.id}, 1 h on one worker, scaled to 24 h): total {total * day:.1f} CPU-s = {parts}, "
          f"other {rest * day:.1f}; around the network {(total - cpu['network']) / total:.0%}")


def one_hour_memory(threads: int) -> None:
    res = cli_run(make_holter(1.0), threads)
    print(f"CLI reconstruct 1 h, default choices ({res['model']}): {res['wall']:.1f} s wall, "
          f"peak memory {res['peak_mb']:.0f} MB" + (f" FAILED {res['err']}" if res["rc"] else ""))


def ten_seconds(runs: int = 30) -> None:
    """The app's 10 s reconstruction (a three-lead strip, no truth to compare) against bare onnxruntime."""
    from ecgrecon.io import read_recording
    from ecgrecon.modelcard import load_zoo

    zoo = load_zoo()
    rec = read_recording(ROOT / "resources/samples/ludb_3.hea").select(list(LEADS))
    for card in (zoo.default_for(LEADS), zoo.default_for(LEADS, "conv")):
        a, b = _ten_seconds_one(zoo, card, rec, runs)
        print(f"10 s, 1 thread, {card.id:<20} app {a * 1000:6.1f} ms, bare onnxruntime {b * 1000:6.1f} ms "
              f"(same graph, same 5000 samples): ratio {a / b:.2f}  (median of {runs}, interleaved)")


def _ten_seconds_one(zoo, card, rec, runs: int) -> tuple[float, float]:
    import onnxruntime as ort

    from ecgrecon.inference import reconstruct
    from ecgrecon.onnxgraph import session_bytes

    sessions = []
    for c in zoo.members(card):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        sessions.append((c, ort.InferenceSession(session_bytes(c.onnx_file), opts,
                                                 providers=["CPUExecutionProvider"])))
    mult = card.length_multiple
    x = np.pad(rec.signals[None, :, :], ((0, 0), (0, 0), (0, (-rec.n_samples) % mult)))
    ta, tb = [], []
    for k in range(runs + 1):  # interleaved, so load on the machine hits both alike; the first is a warm-up
        t = time.perf_counter()
        reconstruct(rec, card, zoo=zoo, threads=1)
        t1 = time.perf_counter()
        for c, sess in sessions:
            sess.run([c.output_name], {c.input_name: x})
        t2 = time.perf_counter()
        if k:
            ta.append(t1 - t)
            tb.append(t2 - t1)
    return float(np.median(ta)), float(np.median(tb))


def viewer_figures(hours: float, frames: int = 150) -> None:
    """The viewer opening the long file and reconstructing it, in a child process (its own peak memory)."""
    path = make_holter(hours)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    p = subprocess.run([sys.executable, __file__, "--viewer-child", str(path), "--frames", str(frames)],
                       capture_output=True, text=True, env=env)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("viewer")]
    print("\n".join(lines) if lines else f"viewer run failed: {p.stderr[-1500:]}")


def viewer_child(path: Path, frames: int) -> int:
    """Runs in the child: open, reconstruct (into the cache), event-loop latency meanwhile, scroll frames/s."""
    import resource
    import tempfile

    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from ecgrecon.gui.mainwindow import MainWindow
    from ecgrecon.viewmodel import ViewerModel

    app = QApplication.instance() or QApplication(["bench"])
    tmp = Path(tempfile.mkdtemp(prefix="ecgrecon-bench-viewer-"))
    from ecgrecon.modelcard import load_zoo

    win = MainWindow(ViewerModel(zoo=load_zoo()), settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat),
                     auto_reconstruct=False)
    win.show_error = lambda m: print("viewer error:", m)
    win.resize(1400, 900)
    win.show()
    app.processEvents()
    t0 = time.perf_counter()
    if not win.open_path(path):
        return 2
    t_open = time.perf_counter() - t0
    late: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        late.append(now - last[0] - 0.02)
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(20)
    w = win.start_reconstruction()
    first = None
    while w is not None and (w.outcome is None or w.is_running()):
        app.processEvents()
        if first is None and win.model.recon is not None:
            first = time.perf_counter() - t0
        w.wait(5)
    timer.stop()
    app.processEvents()
    total = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model = win.model.recon.model.id if win.model.recon is not None else "none"
    print(f"viewer {path.name}: open {t_open:.1f} s, first page of the reconstruction shown at "
          f"{first if first is not None else float('nan'):.1f} s, done at {total:.1f} s ({model}, {w.outcome}); "
          f"peak memory {peak:.0f} MB, resident now {_rss_mb():.0f} MB")
    lat = np.array(late) * 1000
    print(f"viewer event loop while reconstructing: 20 ms timer late by median {np.median(lat):.0f} ms, "
          f"p95 {np.quantile(lat, 0.95):.0f} ms, max {lat.max():.0f} ms ({lat.size} ticks)")
    sb = win.scrollbar
    for label, step in (("1 s", 10), ("a page (10 s)", 100), ("random jumps", None)):
        rng = np.random.default_rng(0)
        t1 = time.perf_counter()
        v = sb.value()
        for _ in range(frames):
            v = int(rng.integers(0, sb.maximum())) if step is None else (v + step) % max(1, sb.maximum())
            sb.setValue(v)
            for pnl in win.panels:
                if pnl.isVisible():
                    pnl.plot.viewport().repaint()  # paint now: one frame
        dt = time.perf_counter() - t1
        print(f"viewer scroll {label} per frame over the cached {path.stem}: {frames / dt:.1f} frames/s "
              f"(resident now {_rss_mb():.0f} MB)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"viewer peak memory after scrolling: {peak:.0f} MB")
    win.close()
    return 0


def _rss_mb() -> float:
    """Resident memory now (Linux), MB."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-bare", action="store_true")
    ap.add_argument("--skip-10s", action="store_true")
    ap.add_argument("--skip-1h", action="store_true")
    ap.add_argument("--skip-viewer", action="store_true")
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--viewer-child", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    from ecgrecon.memtune import tune_malloc

    tune_malloc()  # this process runs the app in-process (10 s, viewer child) as the CLI and viewer run it
    if a.viewer_child:
        return viewer_child(Path(a.viewer_child), a.frames)
    print(f"bench_long: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    if not a.skip_10s:
        ten_seconds()
    long_figures(a.hours, a.threads, a.skip_bare)
    if not a.skip_1h:
        one_hour_memory(a.threads)
        stage_cpu()
    if not a.skip_viewer:
        viewer_figures(a.hours, a.frames)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
