"""Printouts (issue 5): page size, grid scale, strip length, calibration, text, vector-only, CLI.

Geometry is checked on the PDF itself: the content stream's path operators
(m/l/re with the q/Q/cm transformation matrix) are read back in millimetres.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import re  # noqa: E402
from dataclasses import dataclass, replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("PySide6.QtGui")

from ecgrecon.cli import main  # noqa: E402
from ecgrecon.errors import InputError  # noqa: E402
from ecgrecon.io import read_recording  # noqa: E402
from ecgrecon.leads import STANDARD_12  # noqa: E402
from ecgrecon.printing import pdf as printing  # noqa: E402
from ecgrecon.printing.pdf import PrintOptions, write_pdf  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "resources" / "samples"
MM_PER_PT = 25.4 / 72.0


# ------------------------------------------------------------------------------------------------
# Model: a real one from models/ when present, else a development model built here


@pytest.fixture(scope="module")
def model_id(tmp_path_factory):
    from ecgrecon.modelcard import load_zoo

    mp = pytest.MonkeyPatch()
    zoo = load_zoo(refresh=True)
    cands = zoo.for_inputs(("I", "II", "V2"))
    if not cands:
        import importlib.util

        spec = importlib.util.spec_from_file_location(
            "make_dev_model", Path(__file__).resolve().parents[1] / "scripts" / "make_dev_model.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        d = tmp_path_factory.mktemp("models")
        mod.build(d, SAMPLES / "ludb_3.hea", ["I", "II", "V2"])
        mp.setenv("ECGRECON_MODEL_PATH", str(d))
        zoo = load_zoo(refresh=True)
        cands = zoo.for_inputs(("I", "II", "V2"))
    conv = [c for c in cands if c.architecture == "conv"]
    yield (conv or cands)[0].id
    mp.undo()
    load_zoo(refresh=True)


@pytest.fixture(scope="module")
def recon(model_id):
    from ecgrecon.inference import reconstruct

    return reconstruct(read_recording(SAMPLES / "ludb_3.hea"), model_id)


# ------------------------------------------------------------------------------------------------
# Reading the PDF back


@dataclass
class Stroke:
    colour: tuple[float, ...]
    subpaths: list[np.ndarray]  # each (n, 2) in mm, y up (PDF user space)


_TOKEN = re.compile(rb"<[0-9A-Fa-f]*>|/[^\s/\[\]<>()]+|\[|\]|[-+]?(?:\d+\.?\d*|\.\d+)|[A-Za-z'\"*]+")
_NUM = re.compile(rb"[-+]?(?:\d+\.?\d*|\.\d+)")


def strokes(page) -> list[Stroke]:
    """Stroked paths of a page with their colours, in mm (CTM applied)."""
    data = page.get_contents().get_data()
    ctm = np.eye(3)
    stack: list[tuple[np.ndarray, tuple]] = []
    colour: tuple = (0.0, 0.0, 0.0)
    ops: list[float] = []
    path: list[list[tuple[float, float]]] = []
    out: list[Stroke] = []
    in_text = False

    def pt(x: float, y: float) -> tuple[float, float]:
        v = np.array([x, y, 1.0]) @ ctm
        return v[0] * MM_PER_PT, v[1] * MM_PER_PT

    for tok in _TOKEN.findall(data):
        if _NUM.fullmatch(tok):
            ops.append(float(tok))
            continue
        if tok[:1] in (b"/", b"<", b"[", b"]"):
            continue
        op = tok.decode()
        if op == "BT":
            in_text = True
        elif op == "ET":
            in_text = False
        elif in_text:
            pass
        elif op == "q":
            stack.append((ctm.copy(), colour))
        elif op == "Q":
            ctm, colour = stack.pop()
        elif op == "cm":
            a, b, c, d, e, f = ops[-6:]
            ctm = np.array([[a, b, 0], [c, d, 0], [e, f, 1]]) @ ctm
        elif op in ("SCN", "SC", "RG"):
            colour = tuple(round(v, 3) for v in ops[-3:])
        elif op == "m":
            path.append([pt(*ops[-2:])])
        elif op == "l":
            path[-1].append(pt(*ops[-2:]))
        elif op == "re":
            x, y, w, h = ops[-4:]
            path.append([pt(x, y), pt(x + w, y), pt(x + w, y + h), pt(x, y + h), pt(x, y)])
        elif op in ("S", "s"):
            out.append(Stroke(colour, [np.array(p) for p in path]))
            path = []
        elif op in ("n", "f", "F", "f*", "B", "B*", "b", "b*"):
            path = []
        ops = []
    return out


def rgb(c: tuple[int, int, int]) -> tuple[float, ...]:
    return tuple(round(v / 255.0, 3) for v in c)


def of_colour(ss: list[Stroke], c) -> list[np.ndarray]:
    want = np.array(rgb(c))
    return [sp for s in ss if np.allclose(s.colour, want, atol=2e-3) for sp in s.subpaths]


def text(page) -> str:
    return " ".join(page.extract_text().split())


def read(path: Path):
    return pypdf.PdfReader(str(path))


@pytest.fixture(scope="module")
def sample_pdf(recon, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pdf") / "ludb_3.pdf"
    return write_pdf(recon, out, PrintOptions())


# ------------------------------------------------------------------------------------------------
# Page and grid geometry


def test_a4_landscape_page_size(sample_pdf):
    box = read(sample_pdf).pages[0].mediabox
    # Qt writes the page box in whole points: 842 x 595 for 841.89 x 595.28 (0.05 %)
    assert float(box.width) == pytest.approx(841.89, abs=0.5)
    assert float(box.height) == pytest.approx(595.28, abs=0.5)


def test_letter_landscape_page_size(recon, tmp_path):
    out = write_pdf(recon, tmp_path / "l.pdf", PrintOptions(paper="letter"))
    box = read(out).pages[0].mediabox
    assert float(box.width) == pytest.approx(792.0, abs=0.5)
    assert float(box.height) == pytest.approx(612.0, abs=0.5)


def test_portrait(recon, tmp_path):
    box = read(write_pdf(recon, tmp_path / "p.pdf", PrintOptions(landscape=False))).pages[0].mediabox
    assert float(box.width) < float(box.height)


@pytest.mark.parametrize("colour,step", [(printing.GRID_MINOR, 1.0), (printing.GRID_MAJOR, 5.0)])
def test_grid_spacing(sample_pdf, colour, step):
    lines = [sp for sp in of_colour(strokes(read(sample_pdf).pages[0]), colour) if len(sp) == 2]
    vert = sorted({round(sp[0, 0], 4) for sp in lines if abs(sp[0, 0] - sp[1, 0]) < 1e-6})
    horz = sorted({round(sp[0, 1], 4) for sp in lines if abs(sp[0, 1] - sp[1, 1]) < 1e-6})
    assert len(vert) > 40 and len(horz) > 20
    for pos in (vert, horz):
        gaps = np.diff(pos)
        assert np.all(np.abs(gaps - step) / step < 0.005), (gaps.min(), gaps.max())
    # the grid is a whole number of large squares; the 10 s strip fits in it
    assert (vert[-1] - vert[0]) % 5.0 == pytest.approx(0.0, abs=0.01)


def test_rhythm_strip_is_250_mm_at_25_mm_s(sample_pdf):
    ink = of_colour(strokes(read(sample_pdf).pages[0]), printing.INK)
    widths = [np.ptp(sp[:, 0]) for sp in ink if len(sp) > 100]
    assert max(widths) == pytest.approx(250.0, rel=0.005)


def test_strip_scales_with_speed(recon, tmp_path):
    out = write_pdf(recon, tmp_path / "s.pdf", PrintOptions(speed=12.5))
    ink = of_colour(strokes(read(out).pages[0]), printing.INK)
    assert max(np.ptp(sp[:, 0]) for sp in ink if len(sp) > 100) == pytest.approx(125.0, rel=0.005)


def _cal_pulses(page, speed: float) -> list[np.ndarray]:
    ink = of_colour(strokes(page), printing.INK)
    return [sp for sp in ink if len(sp) == 6 and np.ptp(sp[:, 0]) == pytest.approx(0.2 * speed + 2.0, abs=0.01)]


@pytest.mark.parametrize("gain", [10.0, 20.0])
def test_calibration_pulse_height(recon, tmp_path, gain):
    out = write_pdf(recon, tmp_path / f"g{gain:g}.pdf", PrintOptions(gain=gain))
    pulses = _cal_pulses(read(out).pages[0], 25.0)
    assert len(pulses) == 4  # one per row: three lead rows and the rhythm strip
    for p in pulses:
        assert np.ptp(p[:, 1]) == pytest.approx(gain, rel=0.005)  # 1 mV
        top = p[(p[:, 1] == p[:, 1].max())]
        assert np.ptp(top[:, 0]) == pytest.approx(5.0, rel=0.005)  # 200 ms at 25 mm/s


@pytest.mark.parametrize("layout,rows", [("6x2", 6), ("12x1", 12)])
def test_other_layouts(recon, tmp_path, layout, rows):
    out = write_pdf(recon, tmp_path / f"{layout}.pdf", PrintOptions(layout=layout, order="cabrera"))
    page = read(out).pages[0]
    assert len(_cal_pulses(page, 25.0)) == rows
    t = text(page)
    assert "-aVR" in t and "rhythm" not in t


# ------------------------------------------------------------------------------------------------
# What the page says


def test_text_labels_model_and_banner(sample_pdf, recon):
    t = text(read(sample_pdf).pages[0])
    for lead in STANDARD_12:
        assert re.search(rf"(^|\s){re.escape(lead)}(\s|$)", t), lead
    assert "RECONSTRUCTED ECG" in t and "measured leads: I, II, V2" in t
    assert recon.model.id in t and f"v{recon.model.version}" in t
    for lead in ("V1", "V3", "V4", "V5", "V6"):
        assert f"{lead} (reconstructed)" in t
    for lead in ("III", "aVR", "aVL", "aVF"):
        assert f"{lead} (derived)" in t
    assert "V2 (reconstructed)" not in t and "II (derived)" not in t.replace("III (derived)", "")
    assert "Source file: ludb_3.hea" in t  # no "fi" ligature: searchable text
    assert "ludb_3" in t and "Age 53" in t and "500 Hz" in t and "10.0 s" in t
    assert "25 mm/s" in t and "10 mm/mV" in t and "no filters" in t and "baseline 0.5 Hz" in t
    assert "ecgrecon 0.1.0" in t and "Page 1/1" in t
    assert "RMSE" in t and "median R" in t  # ground truth exists: per-lead agreement


def test_reconstructed_traces_are_blue(sample_pdf):
    ss = strokes(read(sample_pdf).pages[0])
    blue = [sp for sp in of_colour(ss, printing.RECON_INK) if len(sp) > 100]
    assert len(blue) == 5  # V1, V3, V4, V5, V6 (V2 is measured)


def test_grid_is_vector(sample_pdf):
    r = read(sample_pdf)
    for page in r.pages:
        xo = page["/Resources"].get("/XObject") or {}
        assert not any(xo[k].get_object().get("/Subtype") == "/Image" for k in xo)
    assert not re.search(rb"/Subtype\s*/Image\b", sample_pdf.read_bytes())  # no image anywhere in the file


def test_filters_in_footer(recon, tmp_path):
    from ecgrecon.conditioning import FilterSpec

    out = write_pdf(recon, tmp_path / "f.pdf", PrintOptions(filters=FilterSpec(0.5, 50.0, 40.0)))
    t = text(read(out).pages[0])
    assert "notch 50 Hz" in t and "low-pass 40 Hz" in t and "Model input preprocessing" in t


def test_truth_page_separate_and_overlay(recon, tmp_path):
    r = read(write_pdf(recon, tmp_path / "s.pdf", PrintOptions(truth_page="separate")))
    assert len(r.pages) == 2
    t2 = text(r.pages[1])
    assert "RECORDED 12-LEAD ECG" in t2 and "(reconstructed)" not in t2 and "Page 2/2" in t2
    assert not of_colour(strokes(r.pages[1]), printing.RECON_INK)
    r = read(write_pdf(recon, tmp_path / "o.pdf", PrintOptions(truth_page="overlay")))
    assert len(r.pages) == 2
    t2 = text(r.pages[1])
    assert "OVERLAY" in t2 and "V1 (reconstructed)" in t2
    ss = strokes(r.pages[1])
    assert len([sp for sp in of_colour(ss, printing.TRUTH_UNDER) if len(sp) > 100]) == 13
    assert len([sp for sp in of_colour(ss, printing.RECON_INK) if len(sp) > 100]) == 5


def test_plain_recording_has_roles_but_no_banner(tmp_path):
    from ecgrecon.recording import Role

    rec = read_recording(SAMPLES / "ludb_3_3lead.hea").with_roles(Role.MEASURED)
    out = write_pdf(rec, tmp_path / "m.pdf", PrintOptions())
    t = text(read(out).pages[0])
    assert "RECONSTRUCTED" not in t
    assert "III (derived)" in t and "V1 (not recorded)" in t and "V2 (" not in t


def test_reconstruction_read_back_from_file_keeps_banner(recon, tmp_path):
    from ecgrecon.io import write_recording

    f = write_recording(recon.result, tmp_path / "r.hea")
    t = text(read(write_pdf(read_recording(f), tmp_path / "r.pdf")).pages[0])
    assert "RECONSTRUCTED ECG" in t and recon.model.id in t and "V1 (reconstructed)" in t


def test_render_page_onto_image(recon):
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter

    printing.ensure_qt_app()
    img = QImage(1169, 827, QImage.Format.Format_RGB32)
    p = QPainter(img)
    job = printing.render_page(p, QRectF(0, 0, 1169, 827), recon, PrintOptions())
    p.end()
    assert len(job) == 1
    px = img.pixelColor(600, 450)
    assert (px.red(), px.green(), px.blue()) != (0, 0, 0)  # painted, with a white background


# ------------------------------------------------------------------------------------------------
# Writing safely


def test_refuses_to_overwrite_without_force(recon, tmp_path):
    out = tmp_path / "x.pdf"
    out.write_bytes(b"keep")
    with pytest.raises(InputError, match="exists"):
        write_pdf(recon, out)
    assert out.read_bytes() == b"keep"
    write_pdf(recon, out, overwrite=True)
    assert out.read_bytes().startswith(b"%PDF")


def test_atomic_write_leaves_nothing_on_failure(recon, tmp_path, monkeypatch):
    out = tmp_path / "x.pdf"
    out.write_bytes(b"old")

    def boom(job, path):
        Path(path).write_bytes(b"%PDF-partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(printing, "_write", boom)
    with pytest.raises(RuntimeError):
        write_pdf(recon, out, overwrite=True)
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.pdf"]


def test_never_writes_over_input(recon, tmp_path):
    rec = recon.result
    src = tmp_path / "in.pdf"
    src.write_bytes(b"input")
    rec = replace(rec, meta=replace(rec.meta, source=str(src)))
    with pytest.raises(InputError, match="input file"):
        write_pdf(rec, src, overwrite=True)
    assert src.read_bytes() == b"input"


def test_bad_options_are_input_errors():
    for kw in ({"layout": "4x3"}, {"paper": "a3"}, {"speed": 0}, {"gain": -1}, {"truth_page": "x"},
               {"rhythm_lead": "Z"}):
        with pytest.raises(InputError):
            PrintOptions(**kw)


def test_not_a_pdf_name(recon, tmp_path):
    with pytest.raises(InputError, match=".pdf"):
        write_pdf(recon, tmp_path / "x.png")


# ------------------------------------------------------------------------------------------------
# Command line


def test_cli_twelve_lead_sample(model_id, tmp_path, capsys):
    out = tmp_path / "p.pdf"
    assert main(["print", str(SAMPLES / "ludb_3.hea"), "--inputs", "I,II,V2", "-o", str(out),
                 "--truth-page", "separate"]) == 0
    r = read(out)
    assert len(r.pages) == 2
    assert "RECONSTRUCTED ECG" in text(r.pages[0]) and "RECORDED 12-LEAD ECG" in text(r.pages[1])
    assert "wrote" in capsys.readouterr().out
    # again without --force: one line, exit 2, file untouched
    before = out.read_bytes()
    assert main(["print", str(SAMPLES / "ludb_3.hea"), "--inputs", "I,II,V2", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "--force" in err and "\n" not in err
    assert out.read_bytes() == before
    assert main(["print", str(SAMPLES / "ludb_3.hea"), "--inputs", "I,II,V2", "-o", str(out), "--force",
                 "--layout", "6x2", "--paper", "letter", "--filters", "baseline,notch50,lowpass40"]) == 0
    page = read(out).pages[0]
    assert float(page.mediabox.width) == pytest.approx(792.0, abs=0.5)
    assert "low-pass 40 Hz" in text(page)


def test_cli_three_lead_sample(model_id, tmp_path):
    out = tmp_path / "three.pdf"
    assert main(["print", str(SAMPLES / "ludb_3_3lead.hea"), "--inputs", "I,II,V2", "-o", str(out)]) == 0
    r = read(out)
    assert len(r.pages) == 1
    t = text(r.pages[0])
    assert "RECONSTRUCTED ECG" in t and "RMSE" not in t  # no ground truth in a three-lead file


def test_cli_batch_outdir(model_id, tmp_path, capsys):
    outdir = tmp_path / "out"
    files = [str(SAMPLES / "ludb_3.hea"), str(SAMPLES / "ludb_3_3lead.hea")]
    assert main(["print", *files, "--inputs", "I,II,V2", "--outdir", str(outdir)]) == 0
    assert sorted(p.name for p in outdir.iterdir()) == ["ludb_3.pdf", "ludb_3_3lead.pdf"]
    assert capsys.readouterr().out.count("wrote") == 2
    assert main(["print", *files, "--inputs", "I,II,V2", "-o", str(tmp_path / "one.pdf")]) == 2
    assert "--outdir" in capsys.readouterr().err


def test_cli_measured(tmp_path):
    out = tmp_path / "m.pdf"
    assert main(["print", str(SAMPLES / "ludb_3.hea"), "--measured", "-o", str(out), "--order", "cabrera",
                 "--rhythm-lead", "v5"]) == 0
    t = text(read(out).pages[0])
    assert "RECONSTRUCTED" not in t and "(reconstructed)" not in t and "-aVR" in t and "V5 rhythm" in t


def test_cli_errors(tmp_path, capsys):
    hea = str(SAMPLES / "ludb_3.hea")
    assert main(["print", hea, "--measured", "-o", str(tmp_path / "x.hea")]) == 2
    assert main(["print", hea, "--measured", "--filters", "wobble", "-o", str(tmp_path / "x.pdf")]) == 2
    assert main(["print", hea, "--measured", "--speed", "0", "-o", str(tmp_path / "x.pdf")]) == 2
    assert main(["print", hea, "--measured", "--inputs", "I,II,V2", "-o", str(tmp_path / "x.pdf")]) == 2
    errs = capsys.readouterr().err.strip().splitlines()
    assert len(errs) == 4 and all(e.startswith("ecgrecon: error:") for e in errs)
    assert not any(tmp_path.iterdir())


def test_parse_filters():
    from ecgrecon.commands.print import parse_filters

    f = parse_filters("baseline,notch60,lowpass150")
    assert (f.baseline_hz, f.notch_hz, f.lowpass_hz) == (0.5, 60.0, 150.0)
    assert parse_filters("").is_identity() and parse_filters("none").is_identity()
    assert parse_filters("baseline0.67").baseline_hz == 0.67


def test_header_shows_acquisition_time_and_patient(recon, tmp_path):
    from datetime import datetime

    res = recon.result
    meta = replace(res.meta, start_time=datetime(2024, 5, 1, 8, 30, 5), patient={"age": "61", "sex": "F"})
    r2 = replace(recon, result=replace(res, meta=meta))
    t = text(read(write_pdf(r2, tmp_path / "h.pdf")).pages[0])
    assert "2024-05-01 08:30:05" in t and "Age 61" in t and "Sex F" in t


def test_gaps_short_recordings_and_page_start(tmp_path):
    from ecgrecon.recording import Role

    rec = read_recording(SAMPLES / "ludb_3.hea").with_roles(Role.MEASURED)
    sig = rec.signals.copy()
    sig[:, 1000:1200] = np.nan  # a gap: the pen lifts, nothing is drawn across it
    gappy = replace(rec, signals=sig)
    page = read(write_pdf(gappy, tmp_path / "gap.pdf")).pages[0]
    widths = sorted(np.ptp(sp[:, 0]) for sp in of_colour(strokes(page), printing.INK) if len(sp) > 100)
    assert widths[-1] == pytest.approx(3799 / 500 * 25, rel=0.005)  # rhythm strip after the gap (2.4-10 s)
    assert any(w == pytest.approx(999 / 500 * 25, rel=0.005) for w in widths)  # and before it (0-2 s)
    short = rec.crop(0, 3.0)
    assert write_pdf(short, tmp_path / "short.pdf").exists()
    t = text(read(write_pdf(rec, tmp_path / "late.pdf", PrintOptions(page_start_s=2.0))).pages[0])
    assert "this page 2.0–10.0 s" in t
    with pytest.raises(InputError, match="past the recording's end"):
        write_pdf(rec, tmp_path / "none.pdf", PrintOptions(page_start_s=12.0))


def test_header_has_clinical_measurements_marked_when_reconstructed(sample_pdf, recon):
    """HR, PR, QRS, QT/QTc and axes in the header, as on a cart printout; figures from reconstructed leads
    carry * with the words, and the recorded ECG's own figures stand beside them."""
    from ecgrecon.measurements import measure

    t = text(read(sample_pdf).pages[0])
    m = measure(recon.result)
    assert f"HR {m.values['heart_rate_bpm']:.0f} bpm" in t
    assert f"QRS {m.values['qrs_ms']:.0f}* ms" in t  # global QRS uses the reconstructed precordial leads
    assert f"P-R-T axes {m.values['p_axis_deg']:.0f} {m.values['qrs_axis_deg']:.0f} {m.values['t_axis_deg']:.0f}" in t
    assert "* uses reconstructed leads" in t
    tm = measure(recon.truth)
    assert f"recorded ECG: PR {tm.values['pr_ms']:.0f} ms" in t


def test_plain_recording_header_measurements_have_no_star(samples, tmp_path):
    from ecgrecon.io import read_recording

    out = write_pdf(read_recording(samples / "ludb_3.hea"), tmp_path / "plain.pdf", PrintOptions())
    t = text(read(out).pages[0])
    assert "HR 67 bpm" in t and "*" not in t.split("HR 67 bpm")[1][:80]
