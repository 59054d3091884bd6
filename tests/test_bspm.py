"""Body surface maps: layout, lead derivation, forward model, readers, compare CLI (issue 6).

Runs without ../shared: uses resources/samples and tiny linear ONNX models built here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from ecgrecon import bspm, bspm_forward
from ecgrecon.cli import main
from ecgrecon.errors import InputError
from ecgrecon.io import read_recording
from ecgrecon.leads import STANDARD_12
from ecgrecon.recording import Role

BSPM_DIR = Path(__file__).resolve().parents[1] / "resources" / "samples" / "bspm"
OUT8 = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")


# -- layout ------------------------------------------------------------------------------------------
def test_layout_loads_with_flags_and_configurations():
    lay = bspm.load_layout("bspm35")
    assert len(lay.names) == 35 and len(set(lay.names)) == 35
    std = {s.name for s in lay.sites if s.standard}
    assert std == {"RA", "LA", "LL", "RL", "V1", "V2", "V3", "V4", "V5", "V6"}
    assert {s.name for s in lay.sites if s.easi} == {"E", "A", "S", "I"}
    assert any(s.wearable for s in lay.sites)
    assert lay.configurations["EASI"] == ("E-S", "A-S", "A-I")
    assert all(s.source and s.landmark for s in lay.sites)
    # unrolled map and 3-D agree: anterior electrodes have y > 0
    for s in lay.sites:
        if abs(s.u) < lay.torso.perimeter / 4 - 0.5:
            assert s.xyz[1] > 0, s.name


def test_user_layout_folder(tmp_path, monkeypatch):
    raw = json.loads((Path(bspm.resources_dir()) / "layouts" / "bspm35.json").read_text())
    raw["name"] = "mine"
    raw["electrodes"] = [e for e in raw["electrodes"] if e["name"] in bspm.LEAD_ELECTRODES + ("E", "S")]
    (tmp_path / "mine.json").write_text(json.dumps(raw))
    monkeypatch.setenv("ECGRECON_LAYOUT_PATH", str(tmp_path))
    lay = bspm.load_layout("mine")
    assert len(lay.names) == 11
    with pytest.raises(InputError, match="no electrode layout 'nope'"):
        bspm.load_layout("nope")


# -- input syntax --------------------------------------------------------------------------------------
def test_bipolar_and_unipolar_parsing():
    assert bspm.parse_input_spec("E-S,A-S,A-I") == ("E-S", "A-S", "A-I")
    assert bspm.parse_input_spec("e-s, a-s ,a-i", "bspm35") == ("E-S", "A-S", "A-I")
    assert bspm.parse_input_spec("EASI") == ("E-S", "A-S", "A-I")
    assert bspm.parse_input_spec("i,ii,v2") == ("I", "II", "V2")
    assert bspm.parse_input_spec("I-WCT,v3r,-aVR", "bspm35") == ("I-WCT", "V3R", "-aVR")
    with pytest.raises(InputError, match="three|3 different"):
        bspm.parse_input_spec("E-S,A-S")
    with pytest.raises(InputError, match="no electrode 'Q'"):
        bspm.parse_input_spec("E-Q,A-S,A-I", "bspm35")
    with pytest.raises(InputError, match="itself"):
        bspm.parse_input_spec("E-E,A-S,A-I")


def test_reconstruct_cli_parser_accepts_bipolar():
    from ecgrecon.commands.reconstruct import parse_inputs

    assert parse_inputs("E-S,A-S,A-I") == ("E-S", "A-S", "A-I")
    assert parse_inputs("i,ii,v2") == ("I", "II", "V2")


# -- forward model -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ludb(samples):
    return read_recording(samples / "ludb_3.hea")


@pytest.fixture(scope="module")
def ptb(samples):
    return read_recording(samples / "s0010_re.hea")


def _einthoven_truth(rec) -> np.ndarray:
    """Source 12 leads with III/aVR/aVL/aVF from I and II (what electrodes can reproduce)."""
    from ecgrecon.leads import limb_from_i_ii

    limb = limb_from_i_ii(rec.lead("I").astype(np.float64), rec.lead("II").astype(np.float64))
    return np.stack([limb[n] if n in limb else rec.lead(n).astype(np.float64) for n in STANDARD_12])


@pytest.mark.parametrize("which", ["ludb", "ptb"])
def test_standard_leads_from_synthetic_electrodes_match_source(which, request):
    rec = request.getfixturevalue(which)
    b = bspm_forward.synthesize(rec)
    assert b.electrodes is not None and len(b.electrodes.names) == 35 and b.electrodes.reference == "WCT"
    assert b.roles == (Role.DERIVED,) * 12
    d = bspm.standard12(b.electrodes.names, b.electrodes.potentials)
    assert np.max(np.abs(d - _einthoven_truth(rec))) * 1000 < 1.0  # uV
    assert np.max(np.abs(b.signals - _einthoven_truth(rec))) * 1000 < 1.0
    # WCT is the reference: RA + LA + LL sums to zero
    assert np.max(np.abs(bspm.wct(b.electrodes.names, b.electrodes.potentials))) < 1e-5
    assert "SYNTHETIC" in b.meta.provenance["synthetic"]


def test_frank_validation_on_ptb(ptb):
    r = bspm_forward.frank_validation(ptb)
    # measured on s0010_re (38.4 s): X 0.956, Y 0.976, Z 0.365 (Z is the known weak axis of inverse Dower)
    assert r["X"] > 0.93 and r["Y"] > 0.95 and r["Z"] > 0.3, r


def test_forward_model_is_linear_and_exact_at_lead_electrodes():
    fm = bspm_forward.build_forward()
    assert fm.matrix.shape == (35, 8)
    assert 0.5 < fm.fit_r2 <= 1.0
    i = fm.names.index("V3")
    assert np.allclose(fm.matrix[i], np.eye(8)[2])


# -- readers -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["ludb_3_bspm", "ludb_24_bspm", "s0010_re_bspm"])
def test_mat_and_wfdb_samples_read_identically(name):
    a = read_recording(BSPM_DIR / f"{name}.hea")
    b = read_recording(BSPM_DIR / f"{name}_potvals.mat")
    assert a.electrodes is not None and b.electrodes is not None
    assert a.leads == b.leads == STANDARD_12 and a.fs == b.fs
    assert a.electrodes.names == b.electrodes.names
    assert np.array_equal(a.signals, b.signals)
    assert np.array_equal(a.electrodes.potentials, b.electrodes.potentials)
    assert any("SYNTHETIC" in c for c in a.meta.comments) and any("SYNTHETIC" in c for c in b.meta.comments)


def test_sample_reproduces_source_record(samples):
    src = read_recording(samples / "ludb_3.hea").crop(0, 10)
    b = read_recording(BSPM_DIR / "ludb_3_bspm.hea")
    assert np.max(np.abs(b.signals - _einthoven_truth(src))) * 1000 <= 0.51  # 1 uV file resolution


def test_mat_reader_options_and_errors(tmp_path):
    from scipy.io import savemat

    b = read_recording(BSPM_DIR / "ludb_3_bspm.hea")
    el = b.electrodes
    lay = bspm.load_layout("bspm35")
    order = [el.names.index(n) for n in lay.names]
    # map3d style: rows in layout order, no names, microvolts, rate given by option, common reference
    common = el.potentials[order].astype(np.float64) + 0.3  # any common reference
    savemat(tmp_path / "m.mat", {"potvals": common * 1000.0, "units": "uV"})
    with pytest.raises(InputError, match="sampling rate"):
        read_recording(tmp_path / "m.mat")
    r = read_recording(tmp_path / "m.mat", fs=500)
    assert r.electrodes.reference == "WCT"
    assert np.allclose(r.signals, b.signals, atol=1e-5)
    savemat(tmp_path / "t.mat", {"potvals": common.T, "samplefrequency": 500.0})
    with pytest.raises(InputError, match="transpose"):
        read_recording(tmp_path / "t.mat")
    savemat(tmp_path / "few.mat", {"potvals": common[:5], "fs": 500.0, "names": np.array(lay.names[:5], dtype=object)})
    with pytest.raises(InputError, match="lacks electrode"):
        read_recording(tmp_path / "few.mat")


def test_csv_with_electrode_columns_is_a_map(tmp_path):
    b = read_recording(BSPM_DIR / "ludb_3_bspm.hea").crop(0, 1)
    el = b.electrodes
    p = tmp_path / "map.csv"
    data = np.column_stack([np.arange(b.n_samples) / b.fs, el.potentials.T])
    np.savetxt(p, data, delimiter=",", header=",".join(["time_s", *el.names]), comments="", fmt="%.6f")
    r = read_recording(p)
    assert r.electrodes is not None and r.electrodes.layout == "bspm35"
    assert np.max(np.abs(r.signals - b.signals)) < 2e-6


def test_standard_12_lead_file_is_not_a_map(samples):
    assert read_recording(samples / "ludb_3.hea").electrodes is None


def test_with_leads_derives_bipolar_inputs():
    b = read_recording(BSPM_DIR / "ludb_3_bspm.hea")
    r = bspm.with_leads(b, ("E-S", "A-S", "A-I"))
    el = b.electrodes
    e, s = el.potentials[el.names.index("E")], el.potentials[el.names.index("S")]
    assert np.allclose(r.lead("E-S"), e - s)
    assert np.allclose(bspm.with_leads(b, ("V4R",)).lead("V4R"), el.potentials[el.names.index("V4R")], atol=1e-6)
    with pytest.raises(InputError, match="cannot derive"):
        bspm.with_leads(b, ("E-ZZ",))


# -- tiny linear models (no torch) ---------------------------------------------------------------------
def _linear_onnx(path: Path, A: np.ndarray, b: np.ndarray) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(A.astype(np.float32)[:, :, None], "W")
    bb = numpy_helper.from_array(b.astype(np.float32), "B")
    node = helper.make_node("Conv", ["x", "W", "B"], ["y"], kernel_shape=[1])
    g = helper.make_graph([node], "lin", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3, None])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, A.shape[0], None])], [w, bb])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 9
    onnx.save(m, str(path))


def make_linear_models(out: Path, configs: dict[str, tuple[str, ...]]) -> None:
    from ecgrecon.conditioning import remove_baseline

    train = [bspm.with_leads(read_recording(BSPM_DIR / f"{n}.hea"), sum(configs.values(), ()))
             for n in ("ludb_3_bspm", "ludb_24_bspm")]
    for cfg, ins in configs.items():
        X = np.concatenate([remove_baseline(np.stack([r.lead(n) for n in ins]).astype(np.float64), r.fs)
                            for r in train], axis=1)
        Y = np.concatenate([remove_baseline(np.stack([r.lead(n) for n in OUT8]).astype(np.float64), r.fs)
                            for r in train], axis=1)
        sol, *_ = np.linalg.lstsq(np.vstack([X, np.ones((1, X.shape[1]))]).T, Y.T, rcond=None)
        mid = f"test-{cfg}.linear"
        onnx_path = out / f"{mid}.onnx"
        _linear_onnx(onnx_path, sol[:-1].T, sol[-1])
        card = {"schema": 1, "id": mid, "version": "0", "configuration": cfg, "architecture": "linear",
                "input_leads": list(ins), "output_leads": list(OUT8), "fs": 500, "receptive_field_samples": 1,
                "window_samples": 4096, "overlap_samples": 0, "length_multiple": 1,
                "preprocessing": {"baseline_hz": 0.5, "notch_hz": None, "lowpass_hz": None},
                "onnx": {"file": onnx_path.name, "sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
                         "input_name": "x", "output_name": "y", "opset": 18},
                "training": {"data": "test"}, "license": "test"}
        (out / f"{mid}.json").write_text(json.dumps(card))


def test_mat_and_wfdb_give_identical_reconstruction(test_zoo):
    from ecgrecon.inference import reconstruct

    card = test_zoo.get("test-EASI.linear")
    a = bspm.with_leads(read_recording(BSPM_DIR / "ludb_3_bspm.hea"), card.input_leads)
    b = bspm.with_leads(read_recording(BSPM_DIR / "ludb_3_bspm_potvals.mat"), card.input_leads)
    ra, rb = reconstruct(a, card, zoo=test_zoo), reconstruct(b, card, zoo=test_zoo)
    assert np.array_equal(ra.result.signals, rb.result.signals)
    assert json.dumps(ra.metrics.to_dict()) == json.dumps(rb.metrics.to_dict())  # NaN-safe
    assert all(r == Role.RECONSTRUCTED for r in ra.result.roles)


def test_compare_cli_json_matches_library(test_zoo, capsys):
    from ecgrecon.comparison import compare_configurations

    f = BSPM_DIR / "s0010_re_bspm.hea"
    assert main(["compare", str(f), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    got = {c["configuration"]: c for c in out["configurations"]}
    assert set(got) == {"EASI", "PATCH"}
    lib = compare_configurations(read_recording(f), zoo=test_zoo)
    for c in lib:
        g = got[c.configuration]
        assert g["reconstructed_median_r"] == pytest.approx(c.reconstructed_median_r, abs=1e-12)
        for n in STANDARD_12:
            assert g["leads"][n]["r"] == pytest.approx(c.r[n], abs=1e-12)
        recon = [c.r[n] for n in STANDARD_12 if c.roles[n] == "reconstructed"]
        assert c.reconstructed_median_r == pytest.approx(float(np.median(recon)), abs=1e-12)
    assert main(["compare", str(f), "--configs", "E-S,A-S,A-I"]) == 0
    text = capsys.readouterr().out
    assert "EASI" in text and "PATCH" not in text


def test_reconstruct_cli_on_map_with_bipolar_inputs(test_zoo, tmp_path, capsys):
    out = tmp_path / "rec.hea"
    f = BSPM_DIR / "ludb_3_bspm_potvals.mat"
    assert main(["reconstruct", str(f), "--inputs", "E-S,A-S,A-I", "-o", str(out), "--json"]) == 0
    side = json.loads(capsys.readouterr().out)
    assert side["measured_leads"] == ["E-S", "A-S", "A-I"] and side["ground_truth"]
    assert main(["reconstruct", str(f), "--inputs", "patch", "-o", str(out), "--force", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["measured_leads"] == ["L2M-L2", "V2-L2", "V4-L2"]
    assert main(["reconstruct", str(f), "-o", str(out), "--force"]) == 2
    assert "choose the three inputs" in capsys.readouterr().err
    assert main(["info", str(BSPM_DIR / "ludb_3_bspm.hea"), "--bspm-layout", "bspm35", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["electrode_layout"] == "bspm35" and len(info["electrodes"]) == 35
    assert main(["compare", str(f), "--configs", "NOPE"]) == 2


def test_bspm_zoo_smoke_builds_loadable_models(tmp_path):
    """The BSPM training driver on 2 sample records: cards the app accepts, same keys as the 12-lead zoo's."""
    pytest.importorskip("torch")
    from ecgrecon.evaluation import zoo_from_dir
    from ecgrecon.inference import reconstruct
    from ecgrecon.training import bspm_zoo

    paths = bspm_zoo.smoke(tmp_path, archs=("linear", "conv"), steps=1)
    zoo = zoo_from_dir(tmp_path)
    card = zoo.get("EASI.conv")
    assert card.input_leads == ("E-S", "A-S", "A-I") and card.configuration == "EASI"
    raw = json.loads(paths[1].read_text())
    from ecgrecon.modelcard import REQUIRED_KEYS

    assert set(REQUIRED_KEYS) <= set(raw) and raw["training"]["forward_model"].startswith("ecgrecon.bspm_forward")
    b = bspm.with_leads(read_recording(BSPM_DIR / "ludb_3_bspm.hea"), card.input_leads)
    res = reconstruct(b, card, zoo=zoo)
    assert res.metrics is not None and all(r == Role.RECONSTRUCTED for r in res.result.roles)


def test_with_all_inputs_offers_map_configurations(test_zoo, samples):
    b = bspm.with_all_inputs(read_recording(BSPM_DIR / "ludb_3_bspm.hea"), test_zoo)
    assert {"E-S", "A-S", "A-I", "L2M-L2", "V2-L2", "V4-L2"} <= set(b.leads)
    assert b.leads[:12] == STANDARD_12
    plain = read_recording(samples / "ludb_3.hea")
    assert bspm.with_all_inputs(plain, test_zoo) is plain
