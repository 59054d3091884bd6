"""Write a small least-squares linear model (ONNX + card) fitted on one record.

For development and engine tests only (not a bundled model): the fit uses a
single recording, so its numbers mean nothing clinically.

    python scripts/make_dev_model.py OUT_DIR [--record resources/samples/ludb_3.hea] [--inputs I,II,V2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np


def build(out_dir: Path, record: Path, inputs: list[str], model_id: str | None = None) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from ecgrecon.conditioning import remove_baseline
    from ecgrecon.io import read_recording
    from ecgrecon.leads import PRECORDIAL, exact_consequences

    rec = read_recording(record)
    outputs = [n for n in ("I",) + PRECORDIAL if n not in inputs and n not in exact_consequences(inputs)]
    if "I" in outputs and "II" not in inputs:
        raise SystemExit("dev model needs II among the inputs")
    x = remove_baseline(np.stack([rec.lead(n) for n in inputs]), rec.fs, 0.5)
    y = remove_baseline(np.stack([rec.lead(n) for n in outputs]), rec.fs, 0.5)
    xa = np.vstack([x, np.ones(x.shape[1])])
    coef, *_ = np.linalg.lstsq(xa.T, y.T, rcond=None)
    w = coef[:3].T.reshape(len(outputs), 3, 1).astype(np.float32)
    b = coef[3].astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "W", "B"], ["y"], kernel_shape=[1])], "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, "time"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", len(outputs), "time"])],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    cfg = "-".join(inputs)
    mid = model_id or f"{cfg}.devlinear"
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"{mid}.onnx"
    onnx.save(m, onnx_path)
    card = {
        "schema": 1, "id": mid, "version": "0.0.1-dev", "configuration": cfg, "architecture": "linear",
        "architecture_detail": "per-sample least squares on ONE record (development only)",
        "n_parameters": int(w.size + b.size), "input_leads": inputs, "output_leads": outputs, "fs": rec.fs,
        "receptive_field_samples": 1, "window_samples": 4096, "overlap_samples": 16, "length_multiple": 1,
        "preprocessing": {"baseline_hz": 0.5, "notch_hz": None, "lowpass_hz": None},
        "input_normalisation": "inputs in mV, no scaling",
        "onnx": {"file": onnx_path.name, "sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
                 "input_name": "x", "output_name": "y", "opset": 17},
        "members": [], "training": {"data": str(record), "command": "python scripts/make_dev_model.py"},
        "license": "MIT", "created": "dev",
    }
    card_path = out_dir / f"{mid}.json"
    card_path.write_text(json.dumps(card, indent=1))
    return card_path


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--record", type=Path, default=Path(__file__).parents[1] / "resources/samples/ludb_3.hea")
    ap.add_argument("--inputs", default="I,II,V2")
    a = ap.parse_args()
    print(build(a.out_dir, a.record, a.inputs.split(",")))
