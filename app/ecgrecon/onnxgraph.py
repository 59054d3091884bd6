"""The ONNX graph as onnxruntime runs it fastest: 1-D convolutions lifted to 2-D (height 1).

Why: onnxruntime's CPU provider has blocked-layout (NCHWc) convolution kernels for 2-D convolutions only;
1-D ones go through im2col + GEMM. The same weights as a height-1 2-D graph run about 25 % faster on
one thread (measured in benchmarks/bench_long.py) and give the same numbers to float rounding. The
shipped file is not changed (its hash is in the card); the lifted graph lives in memory, and is used only
when every node is one this module knows how to lift and a probe run agrees with the file (else the
file is run as it is).

Lifting needs the ``onnx`` package, whose import alone takes about 1.3 s, and a probe run; both happen once
per network and machine: the outcome is kept in the user's cache folder (``<cache>/graphs``), named by the
SHA-256 of the shipped file, this module's LIFT_VERSION and the onnxruntime version, and carrying the SHA-256
of its own bytes in its name, which is checked on every read (a damaged or altered entry is lifted anew), and
a cached graph is used only after the probe run agrees with the shipped file again (about 15 ms).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from .paths import default_cache_dir

# ops whose meaning does not depend on the tensor's rank (no axis, no broadcasting against initializers)
_RANK_FREE = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Identity", "Clip", "Elu", "Gelu", "Erf", "Sqrt", "Abs"}
_LIFTED = {"Conv", "ConvTranspose", "AveragePool", "MaxPool"}
PROBE_TOL = 1e-4  # mV; the lifted graph differs from the file by float rounding only (~1e-7)
LIFT_VERSION = 1  # bump when _lift changes what it writes: older cache entries are then ignored
_AS_IS = b""  # cache entry content meaning "run the file as it is" (cannot lift, or the probe disagreed)


def session_bytes(onnx_file: str | Path) -> bytes:
    """The bytes to give ``onnxruntime.InferenceSession``: the lifted graph when it is safe, else the file."""
    return _session_bytes(str(onnx_file), Path(onnx_file).stat().st_mtime_ns)


def cache_dir() -> Path:
    """Where lifted graphs and model verification records are kept (``ECGRECON_GRAPH_CACHE`` overrides;
    ``off`` keeps nothing on disk)."""
    env = os.environ.get("ECGRECON_GRAPH_CACHE")
    if env:
        return Path(env)
    return default_cache_dir() / "graphs"


@lru_cache(maxsize=32)
def _session_bytes(path: str, _mtime: int) -> bytes:
    raw = Path(path).read_bytes()
    key = _cache_key(raw)
    found = _read_cached(key)
    if found is not None:
        entry, cached = found
        if cached == _AS_IS:
            return raw
        if _agrees(raw, cached):  # the probe again (~15 ms): the file's numbers, every run
            return cached
        _drop(entry)
    try:
        lifted = _lift(raw)
        out = lifted if _agrees(raw, lifted) else _AS_IS
    except _CannotLift:
        out = _AS_IS
    _write_cached(key, out)
    return out or raw


def _cache_key(raw: bytes) -> str:
    import onnxruntime as ort

    return f"{hashlib.sha256(raw).hexdigest()[:32]}-v{LIFT_VERSION}-ort{ort.__version__}"


def _read_cached(key: str) -> tuple[Path, bytes] | None:
    """The cached entry for ``key`` and its bytes (b"" = run as is), or None when none checks out."""
    try:
        d = cache_dir()
        if str(d) == "off":
            return None
        entries = sorted(d.glob(f"{key}-*.onnx"))
    except (OSError, RuntimeError):  # RuntimeError: no home folder to put a cache in
        return None
    for f in entries:
        try:
            data = f.read_bytes()
        except OSError:
            continue
        if f.name == f"{key}-{hashlib.sha256(data).hexdigest()[:32]}.onnx":
            return f, data
        _drop(f)  # damaged or altered: lift anew
    return None


def _drop(entry: Path) -> None:
    try:
        entry.unlink()
    except OSError:
        pass


def _write_cached(key: str, data: bytes) -> None:
    """Keep the outcome, atomically; a cache folder that cannot be written only costs the next run the lift."""
    try:
        d = cache_dir()
        if str(d) == "off":
            return
        d.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".onnx")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, d / f"{key}-{hashlib.sha256(data).hexdigest()[:32]}.onnx")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, RuntimeError):
        pass


class _CannotLift(Exception):
    pass


def _set_ints(node, name: str, fn) -> None:
    for at in node.attribute:
        if at.name == name:
            vals = fn(list(at.ints))
            del at.ints[:]
            at.ints.extend(vals)


def _lift(raw: bytes) -> bytes:
    import onnx
    from onnx import helper, numpy_helper

    m = onnx.load_from_string(raw)
    g = m.graph
    if len(g.input) != 1 or len(g.output) != 1:
        raise _CannotLift
    dims = g.input[0].type.tensor_type.shape.dim
    if len(dims) != 3:
        raise _CannotLift
    inits = {i.name: i for i in g.initializer}
    lifted_inits: set[str] = set()
    for n in g.node:
        if n.op_type in _LIFTED:
            w_name = n.input[1] if n.op_type in ("Conv", "ConvTranspose") else None
            if w_name is not None:
                if w_name not in inits or len(inits[w_name].dims) != 3 or w_name in lifted_inits:
                    raise _CannotLift
                w = numpy_helper.to_array(inits[w_name])
                inits[w_name].CopyFrom(numpy_helper.from_array(w[:, :, None, :], w_name))
                lifted_inits.add(w_name)
            if any(a.name == "auto_pad" and a.s not in (b"", b"NOTSET") for a in n.attribute):
                raise _CannotLift
            for key in ("strides", "dilations", "kernel_shape"):
                _set_ints(n, key, lambda v: [1, *v])
            _set_ints(n, "output_padding", lambda v: [0, *v])
            _set_ints(n, "pads", lambda v: [0, v[0], 0, v[1]])
        elif n.op_type == "Resize":
            if len(n.input) < 3 or n.input[2] not in inits or (len(n.input) > 3 and n.input[3]):
                raise _CannotLift
            if n.input[2] not in lifted_inits:
                s = numpy_helper.to_array(inits[n.input[2]])
                if s.shape != (3,):
                    raise _CannotLift
                inits[n.input[2]].CopyFrom(numpy_helper.from_array(
                    np.array([s[0], s[1], 1.0, s[2]], s.dtype), n.input[2]))
                lifted_inits.add(n.input[2])
        elif n.op_type == "Concat":
            axis = next((a.i for a in n.attribute if a.name == "axis"), None)
            if axis not in (1, -2):
                raise _CannotLift
            _set_axis(n, 1)
        elif n.op_type in ("Add", "Sub", "Mul"):
            if any(i in inits and int(np.prod(inits[i].dims)) != 1 for i in n.input):
                raise _CannotLift  # a per-channel initializer would broadcast differently in 4-D
        elif n.op_type not in _RANK_FREE:
            raise _CannotLift
    x, y = g.input[0].name, g.output[0].name
    for n in g.node:
        n.input[:] = [f"{x}__4d" if v == x else v for v in n.input]
        n.output[:] = [f"{y}__4d" if v == y else v for v in n.output]
    g.initializer.append(numpy_helper.from_array(np.array([2], np.int64), "__height_axis"))
    g.node.insert(0, helper.make_node("Unsqueeze", [x, "__height_axis"], [f"{x}__4d"]))
    g.node.append(helper.make_node("Squeeze", [f"{y}__4d", "__height_axis"], [y]))
    del g.value_info[:]
    return m.SerializeToString()


def _set_axis(node, axis: int) -> None:
    for at in node.attribute:
        if at.name == "axis":
            at.i = axis


def _agrees(raw: bytes, lifted: bytes) -> bool:
    """Both graphs on the same random input (a length every model accepts) give the same output."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        a = ort.InferenceSession(raw, opts, providers=["CPUExecutionProvider"])
        b = ort.InferenceSession(lifted, opts, providers=["CPUExecutionProvider"])
        inp = a.get_inputs()[0]
        channels = inp.shape[1] if isinstance(inp.shape[1], int) else 3
        x = np.random.default_rng(0).normal(0, 0.5, (1, channels, 2048)).astype(np.float32)
        ya = a.run(None, {inp.name: x})[0]
        yb = b.run(None, {b.get_inputs()[0].name: x})[0]
    except Exception:  # noqa: BLE001 - any failure of the lifted graph: run the file as it is
        return False
    return ya.shape == yb.shape and bool(np.max(np.abs(ya - yb)) < PROBE_TOL)
