"""Hostile and broken inputs (issue 16): regression tests for each class found by the fuzz run that is fixed."""

import json
import shutil
import zipfile

import numpy as np
import pytest

from conftest import SAMPLES
from ecgrecon import cli, pipeline
from ecgrecon.errors import InputError
from ecgrecon.io import read_recording, write_recording


def _main(capsys, *args) -> tuple[int, str]:
    rc = cli.main(list(args))
    err = capsys.readouterr().err
    return rc, err


def test_streamed_output_never_replaces_the_signal_file_a_header_names(tmp_path, capsys, monkeypatch):
    """``long.hea`` keeps its samples in ``longsig.dat``; ``-o longsig.hea --force`` on the streaming path
    would have replaced them with the output."""
    rec = read_recording(SAMPLES / "ludb_3_3lead.hea")
    write_recording(rec, tmp_path / "longsig.hea")
    hea = (tmp_path / "longsig.hea").read_text().replace("longsig", "long", 1)  # record name only
    (tmp_path / "long.hea").write_text(hea)
    (tmp_path / "longsig.hea").unlink()
    before = (tmp_path / "longsig.dat").read_bytes()
    monkeypatch.setattr(pipeline, "STREAM_S", 1.0)  # take the streaming path with a 10 s file
    rc, err = _main(capsys, "reconstruct", str(tmp_path / "long.hea"), "-o", str(tmp_path / "longsig.hea"),
                    "--force")
    assert rc == 2 and "refusing to write over the input file" in err
    assert (tmp_path / "longsig.dat").read_bytes() == before
    # the in-memory path refuses the same
    monkeypatch.setattr(pipeline, "STREAM_S", 3600.0)
    rc, err = _main(capsys, "reconstruct", str(tmp_path / "long.hea"), "-o", str(tmp_path / "longsig.hea"),
                    "--force")
    assert rc == 2 and "refusing to write over the input file" in err


def test_metrics_sidecar_is_not_replaced_without_force(tmp_path, capsys):
    mine = tmp_path / "out.metrics.json"
    mine.write_text('{"my": "notes"}')
    rc, err = _main(capsys, "reconstruct", str(SAMPLES / "ludb_3.hea"), "--inputs", "I,II,V3",
                    "-o", str(tmp_path / "out.hea"))
    assert rc == 2 and "out.metrics.json" in err and "--force" in err
    assert json.loads(mine.read_text()) == {"my": "notes"} and not (tmp_path / "out.hea").exists()
    rc, _ = _main(capsys, "reconstruct", str(SAMPLES / "ludb_3.hea"), "--inputs", "I,II,V3",
                  "-o", str(tmp_path / "out.hea"), "--force")
    assert rc == 0 and json.loads(mine.read_text())["model"] == "I-II-V3.ensemble"


def test_an_input_sidecar_is_protected(tmp_path, capsys):
    """Reconstructing rec.hea into rec2.hea must not write over the input's own sidecar by name games."""
    shutil.copy(SAMPLES / "ludb_3.hea", tmp_path / "a.hea")
    shutil.copy(SAMPLES / "ludb_3.dat", tmp_path / "a.dat")
    (tmp_path / "a.hea").write_text((tmp_path / "a.hea").read_text().replace("ludb_3", "a"))
    with pytest.raises(InputError, match="input"):
        pipeline.guard_output(tmp_path / "a.metrics.json", [tmp_path / "a.hea"], force=True)


def test_implausible_sampling_rate_is_refused(tmp_path):
    np.savez(tmp_path / "slow.npz", signals=np.zeros((2, 100)), fs=0.0001, leads=np.array(["I", "II"]))
    with pytest.raises(InputError, match="implausible"):
        read_recording(tmp_path / "slow.npz")


def test_values_that_overflow_float32_are_refused(tmp_path, capsys):
    np.savez(tmp_path / "big.npz", signals=np.full((2, 1000), 1e39), fs=500.0, leads=np.array(["I", "II"]))
    rc, err = _main(capsys, "info", str(tmp_path / "big.npz"))
    assert rc == 2 and "overflow" in err and err.count("\n") == 1


@pytest.mark.parametrize("damage", ["deflate", "encrypted", "npy_header"])
def test_damaged_npz_is_one_line(tmp_path, capsys, damage):
    src = tmp_path / "ok.npz"
    np.savez_compressed(src, signals=np.random.default_rng(0).normal(size=(2, 2000)), fs=500.0,
                        leads=np.array(["I", "II"]))
    data = bytearray(src.read_bytes())
    if damage == "deflate":
        with zipfile.ZipFile(src) as z:
            info = z.getinfo("signals.npy")
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
        for k in range(start + 40, start + 60):
            data[k] ^= 0xFF
    elif damage == "encrypted":
        data[6] |= 0x01  # general purpose flag bit 0, "encrypted", on the first member: local header
        cd = data.find(b"PK\x01\x02")
        data[cd + 8] |= 0x01  # and central directory
    else:
        raw = tmp_path / "raw.npz"
        np.savez(raw, signals=np.zeros((2, 10)), fs=500.0, leads=np.array(["I", "II"]))
        data = bytearray(raw.read_bytes())
        i = data.find(b"{'descr'")
        data[i + 10:i + 60] = b"\x00" * 50  # the .npy header cut mid-dict
    bad = tmp_path / "bad.npz"
    bad.write_bytes(bytes(data))
    rc, err = _main(capsys, "info", str(bad))
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err and "bad.npz" in err


def test_empty_channel_label_is_refused(tmp_path):
    (tmp_path / "e.csv").write_text("time,I,\n" + "".join(f"{i / 500},{i % 7},{i % 5}\n" for i in range(1000)))
    with pytest.raises(InputError, match="empty label|empty|name"):
        read_recording(tmp_path / "e.csv")


# ---------------------------------------------------------------------------------------------- model cards
MODEL = "I-II-V3.linear"


@pytest.fixture()
def user_models(tmp_path, monkeypatch):
    """A user model folder holding a renamed copy of a bundled linear model, and a way to edit its card."""
    import ecgrecon.modelcard as mc

    d = tmp_path / "mymodels"
    d.mkdir()
    src = mc.models_dir() / f"{MODEL}.json"
    raw = json.loads(src.read_text())
    shutil.copy(mc.models_dir() / raw["onnx"]["file"], d / "mine.onnx")
    raw["id"], raw["onnx"]["file"] = "mine.linear", "mine.onnx"
    monkeypatch.setenv("ECGRECON_MODEL_PATH", str(d))

    def write(edit=None, name="mine.json", text=None):
        r = json.loads(json.dumps(raw))
        if edit:
            edit(r)
        (d / name).write_text(text if text is not None else json.dumps(r))
        return mc.ModelZoo.discover()

    yield write
    monkeypatch.undo()
    mc.load_zoo(refresh=True)


def _refused(zoo, what: str) -> str:
    hits = [p for p in zoo.problems if what in p]
    assert hits, zoo.problems
    return hits[0]


def test_intact_user_copy_loads(user_models):
    zoo = user_models()
    assert zoo.get("mine.linear").input_leads == ("I", "II", "V3")


def test_verification_record_skips_the_session_only_for_the_same_bytes_and_card(user_models, monkeypatch):
    """A model that passed the session checks is not opened again at the next start (0.2 s for the bundled
    zoo), but only while its file's hash, the card fields the checks read and onnxruntime are the same."""
    import ecgrecon.modelcard as mc

    assert "mine.linear" in {c.id for c in user_models().cards}  # checked in full, record written
    opened: list[str] = []
    real = mc._verify_session
    monkeypatch.setattr(mc, "_verify_session", lambda card, ort: (opened.append(card.id), real(card, ort)))
    assert "mine.linear" in {c.id for c in user_models().cards}
    assert "mine.linear" not in opened
    zoo = user_models(lambda r: r.__setitem__("output_leads", r["output_leads"][::-1]))  # same bytes, other card
    assert opened.count("mine.linear") == 1 and "mine.linear" not in {c.id for c in zoo.cards}
    assert "not the ones" in _refused(zoo, "mine")
    monkeypatch.setenv("ECGRECON_GRAPH_CACHE", "off")  # no records kept: every start opens every model
    assert "mine.linear" in {c.id for c in user_models().cards}
    assert opened.count("mine.linear") == 2


@pytest.mark.parametrize("edit,why", [
    (lambda r: r["onnx"].pop("sha256"), "sha256"),
    (lambda r: r["onnx"].__setitem__("sha256", ""), "sha256"),
    (lambda r: r["onnx"].__setitem__("file", "../evil/evil.onnx"), "own folder"),
    (lambda r: r["onnx"].__setitem__("file", "/etc/passwd"), "own folder"),
    (lambda r: r.__setitem__("output_leads", r["output_leads"][::-1]), "not the ones"),
    (lambda r: r.__setitem__("input_leads", ["II", "I", "V3"]), "not the ones"),
    (lambda r: r.__setitem__("window_samples", 0), "window_samples"),
    (lambda r: r.__setitem__("overlap_samples", -5), "overlap_samples"),
    (lambda r: r.__setitem__("fs", "abc"), "'fs'"),
    (lambda r: r.__setitem__("length_multiple", None), "length_multiple"),
    (lambda r: r.__setitem__("preprocessing", [1, 2]), "preprocessing"),
    (lambda r: r.__setitem__("output_leads", ["V1", "V1", "V2", "V4", "V5"]), "twice"),
])
def test_tampered_card_is_refused_with_its_reason(user_models, edit, why):
    zoo = user_models(edit)
    assert "mine.linear" not in {c.id for c in zoo.cards}
    assert "mine.json" in _refused(zoo, why) or "mine" in _refused(zoo, why)


def test_refusals_are_listed_by_models_command_without_traceback(user_models, capsys):
    user_models(lambda r: r.__setitem__("fs", "abc"))
    rc = cli.main(["models"])
    out = capsys.readouterr()
    assert rc == 0 and "refused:" in out.out and "'fs' must be a sampling rate" in out.out
    assert "Traceback" not in out.err


def test_truncated_card_is_listed_as_refused(user_models):
    zoo = user_models(text='{"schema": 1, "id": "mine.li')
    assert "unreadable model card" in _refused(zoo, "mine.json")


def test_wrong_output_width_is_refused(user_models, tmp_path):
    """The file of another configuration's model (other leads) behind this card, with a matching hash."""
    import hashlib

    import ecgrecon.modelcard as mc

    other = json.loads((mc.models_dir() / "II-V1-V5.linear.json").read_text())
    d = tmp_path / "mymodels"
    shutil.copy(mc.models_dir() / other["onnx"]["file"], d / "mine.onnx")
    sha = hashlib.sha256((d / "mine.onnx").read_bytes()).hexdigest()
    zoo = user_models(lambda r: r["onnx"].__setitem__("sha256", sha))
    assert "mine.linear" not in {c.id for c in zoo.cards}


def test_a_user_card_cannot_silently_shadow_a_bundled_id(user_models, monkeypatch):
    zoo = user_models(lambda r: r.__setitem__("id", MODEL))
    assert "already taken" in _refused(zoo, MODEL)
    assert zoo.get(MODEL).card_path.parent.name == "models"  # the bundled one
    monkeypatch.setenv("ECGRECON_MODEL_OVERRIDE", MODEL)
    zoo = user_models(lambda r: r.__setitem__("id", MODEL))
    assert zoo.get(MODEL).card_path.parent.name == "mymodels"
    assert "overrides" in _refused(zoo, MODEL)
