"""ONNX export (input ``x`` [batch, n_in, T], output ``y`` [batch, K, T], T dynamic) and verification."""

from __future__ import annotations

import hashlib
import io
import warnings
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import torch

OPSET = 18


class _Wrapped(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m(x)


def export_onnx(model: torch.nn.Module, n_in: int, path: str | Path, length_multiple: int = 16) -> Path:
    path = Path(path)
    model = model.eval()
    T = 64 * max(length_multiple, 16)
    x = torch.randn(2, n_in, T)
    buf = io.StringIO()
    with warnings.catch_warnings(), redirect_stdout(buf):
        warnings.simplefilter("ignore")
        try:
            batch = torch.export.Dim("batch", min=1, max=1024)
            t = torch.export.Dim("t", min=1, max=1 << 20)
            tl = length_multiple * t if length_multiple > 1 else t
            prog = torch.onnx.export(_Wrapped(model), (x,), dynamo=True, input_names=["x"], output_names=["y"],
                                     dynamic_shapes={"x": {0: batch, 2: tl}}, opset_version=OPSET,
                                     optimize=True, verbose=False)
            prog.save(str(path))
        except Exception:  # fall back to the TorchScript exporter
            torch.onnx.export(_Wrapped(model), (x,), str(path), dynamo=False, input_names=["x"],
                              output_names=["y"], dynamic_axes={"x": {0: "batch", 2: "T"}, "y": {0: "batch", 2: "T"}},
                              opset_version=OPSET)
    _inline_external_data(path)
    return path


def strip_metadata(m) -> None:
    """Drop exporter debug metadata (Python stack traces with local paths) so files are byte-reproducible."""
    def _strip(graph):
        for node in graph.node:
            del node.metadata_props[:]
            node.doc_string = ""
            for attr in node.attribute:
                if attr.g is not None and attr.g.node:
                    _strip(attr.g)
        del graph.metadata_props[:]
        for v in list(graph.input) + list(graph.output) + list(graph.value_info):
            del v.metadata_props[:]
        for t in graph.initializer:
            del t.metadata_props[:]

    _strip(m.graph)
    del m.metadata_props[:]
    m.doc_string = ""


def _inline_external_data(path: Path) -> None:
    """Make the .onnx self-contained (the dynamo exporter may write weights to a side file), without
    debug metadata."""
    import onnx

    side = Path(str(path) + ".data")
    m = onnx.load(str(path), load_external_data=True)
    strip_metadata(m)
    onnx.save_model(m, str(path), save_as_external_data=False)
    if side.exists():
        side.unlink()


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_onnx(model: torch.nn.Module, path: str | Path, n_in: int, lengths=(512, 1024, 4992), tol: float = 1e-4,
                seed: int = 0) -> float:
    """Max |onnxruntime - torch| over a few lengths and batch sizes; raises if above ``tol``."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ins, outs = sess.get_inputs(), sess.get_outputs()
    assert ins[0].name == "x" and outs[0].name == "y", (ins[0].name, outs[0].name)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for b, T in zip((1, 3, 1), lengths, strict=False):
        x = (rng.standard_normal((b, n_in, T)) * 0.5).astype(np.float32)
        with torch.no_grad():
            ref = model.eval()(torch.from_numpy(x)).numpy()
        got = sess.run(["y"], {"x": x})[0]
        if got.shape != ref.shape:
            raise AssertionError(f"ONNX output shape {got.shape} != torch {ref.shape}")
        worst = max(worst, float(np.max(np.abs(got - ref))))
    if worst > tol:
        raise AssertionError(f"onnxruntime differs from torch by {worst:.2e} (> {tol:g})")
    return worst
