"""First run: the welcome panel offers the bundled samples; Help > About names version, models and licenses."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, Qt  # noqa: E402

from ecgrecon import __version__  # noqa: E402
from ecgrecon.modelcard import load_zoo  # noqa: E402
from ecgrecon.viewmodel import ViewerModel  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def zoo(monkeypatch, tmp_path_factory):
    z = load_zoo()
    if not len(z):  # models/ still empty: a development model fitted on one record
        sys.path.insert(0, str(REPO / "scripts"))
        try:
            import make_dev_model
        finally:
            sys.path.pop(0)
        d = tmp_path_factory.mktemp("devmodels")
        make_dev_model.build(d, REPO / "resources/samples/ludb_3.hea", ["I", "II", "V2"])
        monkeypatch.setenv("ECGRECON_MODEL_PATH", str(d))
        z = load_zoo(refresh=True)
    yield z
    monkeypatch.undo()
    load_zoo(refresh=True)


@pytest.fixture()
def win(qtbot, zoo, tmp_path):
    from ecgrecon.gui.mainwindow import MainWindow

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))
    settings = QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat)
    w = MainWindow(ViewerModel(zoo=zoo), settings=settings, auto_reconstruct=False)
    w.errors = []
    w.show_error = w.errors.append
    w.dialogs = []
    w._exec_dialog = lambda dlg: w.dialogs.append(dlg) or 0
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    yield w
    w.close()


def test_sample_index_lists_every_bundled_sample(samples):
    from ecgrecon.gui.welcome import sample_entries

    entries = sample_entries(samples)
    names = [e.path.relative_to(samples).as_posix() for e in entries]
    expected = sorted(p.relative_to(samples).as_posix()
                      for p in [*samples.glob("*.hea"), *samples.glob("bspm/*.hea")])
    assert sorted(names) == expected
    assert len(names) == len(set(names))
    assert "ludb_3.hea" in names and any(n.startswith("bspm/") for n in names)
    for e in entries:
        assert e.title and e.description and "\n" not in e.description


def test_welcome_offers_samples_and_click_opens_one(qtbot, win, samples):
    assert win.model.recording is None
    assert win.welcome.isVisible() and not win.split.isVisible()
    lst = win.welcome.list
    paths = [Path(lst.item(i).data(Qt.ItemDataRole.UserRole)).resolve() for i in range(lst.count())]
    assert (samples / "ludb_3.hea").resolve() in paths
    assert (samples / "bspm" / "ludb_3_bspm.hea").resolve() in paths
    row = paths.index((samples / "ludb_3.hea").resolve())
    item = lst.item(row)
    lst.scrollToItem(item)
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=lst.visualItemRect(item).center())
    qtbot.waitUntil(lambda: win.model.recording is not None, timeout=10000)
    assert not win.errors
    assert "ludb_3.hea" in win.windowTitle()
    assert not win.welcome.isVisible() and win.split.isVisible()
    assert win.model.recording.leads[:3] == ("I", "II", "III")


def test_every_sample_opens(win, samples):
    from ecgrecon.gui.welcome import sample_entries

    for e in sample_entries(samples):
        assert win.open_path(e.path), (e.path, win.errors)
    assert not win.errors


def test_file_menu_offers_samples(win):
    menus = {a.text(): a.menu() for a in win.menuBar().actions()}
    file_menu = menus["&File"]
    sub = next(a.menu() for a in file_menu.actions() if a.menu() is not None and "sample" in a.text().lower())
    assert len(sub.actions()) >= 4


def test_about_names_version_models_licenses(win, zoo):
    help_menu = {a.text(): a.menu() for a in win.menuBar().actions()}["&Help"]
    texts = [a.text() for a in help_menu.actions()]
    assert any("About" in t for t in texts)
    assert win.actions["help"] in help_menu.actions()  # the keyboard shortcut list
    win.about_action.trigger()
    assert win.dialogs, "About did not open"
    text = win.dialogs[-1].text.toPlainText()
    assert __version__ in text
    card = zoo.cards[0]
    assert card.id in text and card.version in text
    for needle in ("ODC-By", "MIT", "LUDB", "PTB", "not a certified medical device"):
        assert needle in text
