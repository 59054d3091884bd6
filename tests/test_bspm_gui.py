"""Torso map and configuration comparison dialog (offscreen Qt)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from ecgrecon.cli import main  # noqa: E402
from ecgrecon.io import read_recording  # noqa: E402
from ecgrecon.leads import STANDARD_12  # noqa: E402
from test_bspm import BSPM_DIR  # noqa: E402


@pytest.fixture(scope="module")
def bmap():
    return read_recording(BSPM_DIR / "ludb_3_bspm.hea")


def test_torso_map_click_chooses_configuration(qtbot, bmap):
    from ecgrecon.gui.torsomap import TorsoMapWidget

    w = TorsoMapWidget("bspm35")
    qtbot.addWidget(w)
    w.resize(900, 500)
    w.show()
    qtbot.waitExposed(w)
    got = []
    w.configurationChosen.connect(lambda name, ins: got.append((name, ins)))
    # a real mouse click on electrode E (used by EASI and STRAP)
    import pyqtgraph as pg
    from PySide6.QtCore import Qt

    view_pt = w.plot.mapFromScene(w.vb.mapViewToScene(pg.Point(*w.position("S"))))

    qtbot.mouseClick(w.plot.viewport(), Qt.MouseButton.LeftButton, pos=view_pt)
    qtbot.waitUntil(lambda: bool(got), timeout=3000)
    assert got[-1] == ("EASI", ("E-S", "A-S", "A-I"))  # S is used only by EASI
    assert w.current == "EASI" and len(w.input_items) == 6  # three arrows (line + head)
    # clicking A cycles between the configurations that use it
    assert w.configurations_using("A") == ["EASI", "STRAP"]
    assert w.click_electrode("A") == "STRAP"
    assert got[-1] == ("STRAP", ("A-I", "E-SP", "A-SP"))
    assert w.click_electrode("A") == "EASI"
    assert w.click_electrode("BSU") is None  # no configuration uses it
    # isopotential map at a cursor time: the interpolation passes through the electrode values
    w.set_recording(bmap)
    k = int(np.argmax(np.abs(bmap.lead("V2"))))
    w.set_time(k / bmap.fs)
    el = bmap.electrodes
    u, v = w.position("V2")
    iu = int(np.argmin(np.abs(w._grid_u - u)))
    iv = int(np.argmin(np.abs(w._grid_v - v)))
    assert w.grid_values[iu, iv] == pytest.approx(el.potentials[el.names.index("V2"), k], abs=0.05)
    # standard leads draw on their electrodes too
    w.set_inputs(("I", "II", "V2"))
    assert len(w.input_items) == 5  # two arrows + one ring


def test_compare_dialog_matches_cli_json(qtbot, test_zoo, tmp_path, capsys):
    from ecgrecon.gui.compareview import CompareDialog

    f = BSPM_DIR / "s0010_re_bspm.hea"
    rec = read_recording(f)
    dlg = CompareDialog(rec, zoo=test_zoo)
    qtbot.addWidget(dlg)
    assert dlg.config_list.count() == 2
    job = dlg.run()
    with qtbot.waitSignal(job.done, timeout=60000):
        pass
    qtbot.waitUntil(lambda: dlg.table.rowCount() == 2, timeout=5000)
    shown = dlg.table_values()
    assert main(["compare", str(f), "--json"]) == 0
    cli = {c["configuration"]: c for c in json.loads(capsys.readouterr().out)["configurations"]}
    assert set(shown) == set(cli)
    for name, row in shown.items():
        assert row["median"] == pytest.approx(cli[name]["reconstructed_median_r"], abs=1e-9)
        for n in STANDARD_12:
            assert row[n] == pytest.approx(cli[name]["leads"][n]["r"], abs=1e-9)
    # overlay: truth + one curve per configuration
    dlg.lead_combo.setCurrentText("V4")
    assert len(dlg.plot.getPlotItem().listDataItems()) == 3
    csv_path = dlg.export_csv(tmp_path / "cmp.csv")
    lines = csv_path.read_text().splitlines()
    assert len(lines) == 3 and lines[0].startswith("configuration,model,inputs")
    png = dlg.export_png(tmp_path / "cmp.png")
    from PySide6.QtGui import QImage

    img = QImage(str(png))
    assert not img.isNull() and img.width() > 300 and img.height() > 200
    colours = {img.pixel(x, y) for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}
    assert len(colours) > 5  # a plot with traces, not a flat canvas


def test_compare_colours_separate_0_75_from_0_95():
    from ecgrecon.gui.compareview import r_colour

    lo, hi = r_colour(0.757), r_colour(0.95)
    # a red-ish cell at 0.757 and a green-ish one at 0.95 (the old white-to-green ramp made both green)
    assert lo.red() > lo.green() and hi.green() > hi.red()
    dist = sum((a - b) ** 2 for a, b in zip(lo.getRgb()[:3], hi.getRgb()[:3], strict=True)) ** 0.5
    assert dist > 80
    assert r_colour(float("nan")).name() == "#dddddd"
