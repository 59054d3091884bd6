"""Model cards and the model zoo: find, validate and choose bundled ONNX models.

A model is ``<id>.onnx`` with ``<id>.json`` beside it. The app refuses a model
whose card and file disagree (hash, tensor names, input shape, lead names).
No torch here: the app only needs onnxruntime.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .errors import ModelError
from .leads import STANDARD_12, exact_consequences
from .paths import models_dir, user_model_dirs

REQUIRED_KEYS = ("schema", "id", "version", "configuration", "architecture", "input_leads", "output_leads", "fs",
                 "receptive_field_samples", "window_samples", "overlap_samples", "length_multiple",
                 "preprocessing", "onnx", "training", "license")
ARCH_LABEL = {"conv": "convolutional", "temporal": "convolutional-temporal", "linear": "linear (least squares)",
              "ensemble": "ensemble", "personal": "patient-calibrated"}
ARCH_PREFERENCE = ("ensemble", "conv", "temporal", "linear", "personal")  # default choice order


@dataclass(frozen=True)
class ModelCard:
    id: str
    version: str
    configuration: str
    architecture: str
    input_leads: tuple[str, ...]
    output_leads: tuple[str, ...]
    fs: float
    receptive_field_samples: int
    window_samples: int
    overlap_samples: int
    length_multiple: int
    preprocessing: dict
    onnx_file: Path | None
    onnx_sha256: str | None
    input_name: str
    output_name: str
    members: tuple[str, ...]
    card_path: Path
    raw: dict = field(repr=False, compare=False)

    @property
    def label(self) -> str:
        return f"{self.id} v{self.version} ({ARCH_LABEL.get(self.architecture, self.architecture)})"

    @property
    def test_median_r(self) -> float | None:
        m = self.raw.get("metrics_test") or {}
        return m.get("reconstructed_median_r")

    @property
    def external(self) -> dict | None:
        """Figures on databases the model was not trained on (leave-one-database-out), when the card has them."""
        return self.raw.get("metrics_external")

    @property
    def external_median_r(self) -> float | None:
        m = self.external or {}
        return (m.get("pooled") or {}).get("median_r")

    @cached_property
    def trust(self):
        """The card's per-lead trust model (ecgrecon.trust.TrustModel), or None (parsed once per card)."""
        d = self.raw.get("trust")
        if not d:
            return None
        from .trust import TrustModel

        return TrustModel.from_dict(d)

    def reconstructed_leads(self) -> tuple[str, ...]:
        """Leads of the 12 that the model estimates (directly or through I/II)."""
        exact = set(exact_consequences(self.input_leads))
        return tuple(n for n in STANDARD_12 if n not in self.input_leads and n not in exact)

    def derived_leads(self) -> tuple[str, ...]:
        return tuple(exact_consequences(self.input_leads))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _schema(raw: dict, p: Path) -> None:
    """Types and ranges of every field the engine uses: a card is a file anyone can edit."""
    def bad(why: str) -> ModelError:
        return ModelError(f"{p}: {why}")

    for k in ("id", "version", "configuration"):
        if not isinstance(raw[k], str) or not raw[k].strip():
            raise bad(f"'{k}' must be a non-empty string")
    for k in ("input_leads", "output_leads"):
        v = raw[k]
        if not isinstance(v, list) or not v or not all(isinstance(x, str) and x.strip() for x in v):
            raise bad(f"'{k}' must be a list of lead names")
        if len(set(v)) != len(v):
            raise bad(f"'{k}' names a lead twice")
    if not set(raw["output_leads"]) <= set(STANDARD_12):
        raise bad(f"output leads must be standard leads, got {raw['output_leads']}")
    if set(raw["output_leads"]) & set(raw["input_leads"]):
        raise bad("a lead cannot be both an input and an output")
    num = (int, float)
    if isinstance(raw["fs"], bool) or not isinstance(raw["fs"], num) or not 1 <= raw["fs"] <= 100_000:
        raise bad(f"'fs' must be a sampling rate in Hz, got {raw['fs']!r}")
    for k, lo in (("receptive_field_samples", 0), ("window_samples", 1), ("overlap_samples", 0),
                  ("length_multiple", 1)):
        if isinstance(raw[k], bool) or not isinstance(raw[k], int) or raw[k] < lo:
            raise bad(f"'{k}' must be an integer >= {lo}, got {raw[k]!r}")
    if raw["window_samples"] < raw["length_multiple"] or 2 * raw["overlap_samples"] >= raw["window_samples"]:
        raise bad(f"window {raw['window_samples']} / overlap {raw['overlap_samples']} / length multiple "
                  f"{raw['length_multiple']} are inconsistent (overlap must be under half the window)")
    pre = raw["preprocessing"]
    if pre is not None and (not isinstance(pre, dict) or not all(
            v is None or (isinstance(v, num) and not isinstance(v, bool) and v > 0) for v in pre.values())):
        raise bad("'preprocessing' must map filter names to positive numbers or null")
    if raw["architecture"] == "ensemble":
        m = raw.get("members")
        if not isinstance(m, list) or not m or not all(isinstance(x, str) for x in m):
            raise bad("an ensemble needs 'members', a list of model ids")
        return
    onnx = raw["onnx"]
    if not isinstance(onnx, dict) or not isinstance(onnx.get("file"), str) or not onnx["file"].strip():
        raise bad("model card names no ONNX file")
    f = Path(onnx["file"])
    if f.is_absolute() or ".." in f.parts or len(f.parts) != 1:
        raise bad(f"ONNX file {onnx['file']!r} must be a file name in the card's own folder")
    sha = onnx.get("sha256")
    if not isinstance(sha, str) or len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha.lower()):
        raise bad("'onnx.sha256' (the ONNX file's SHA-256) is required")


def load_card(card_path: str | Path, *, verify: bool = True) -> ModelCard:
    """Read and validate one card (and its ONNX file when ``verify``)."""
    p = Path(card_path)
    try:
        raw = json.loads(p.read_text())
    except (OSError, ValueError) as e:
        raise ModelError(f"{p}: unreadable model card ({' '.join(str(e).split())[:100]})") from None
    if not isinstance(raw, dict):
        raise ModelError(f"{p}: a model card is a JSON object")
    missing = [k for k in REQUIRED_KEYS if k not in raw]
    if missing:
        raise ModelError(f"{p}: model card lacks {', '.join(missing)}")
    onnx = raw.get("onnx") or None
    arch = raw["architecture"]
    if arch not in ARCH_LABEL:
        raise ModelError(f"{p}: unknown architecture {arch!r}")
    _schema(raw, p)
    if len(raw["input_leads"]) != 3:
        raise ModelError(f"{p}: a model takes exactly three input leads, card names {raw['input_leads']}")
    onnx_file = None
    if arch != "ensemble":
        assert onnx is not None  # _schema checked it
        onnx_file = p.parent / onnx["file"]
    card = ModelCard(
        id=str(raw["id"]), version=str(raw["version"]), configuration=str(raw["configuration"]),
        architecture=arch, input_leads=tuple(raw["input_leads"]), output_leads=tuple(raw["output_leads"]),
        fs=float(raw["fs"]), receptive_field_samples=int(raw["receptive_field_samples"]),
        window_samples=int(raw["window_samples"]), overlap_samples=int(raw["overlap_samples"]),
        length_multiple=max(1, int(raw["length_multiple"])), preprocessing=dict(raw["preprocessing"] or {}),
        onnx_file=onnx_file, onnx_sha256=(onnx or {}).get("sha256"),
        input_name=(onnx or {}).get("input_name", "x"), output_name=(onnx or {}).get("output_name", "y"),
        members=tuple(raw.get("members") or ()), card_path=p, raw=raw,
    )
    _check_leads(card)
    if verify and onnx_file is not None:
        verify_onnx(card)
    return card


def _check_leads(card: ModelCard) -> None:
    need = set(card.reconstructed_leads())
    # limb leads other than I/II come from I and II (inputs or network outputs, e.g. a BSPM model that
    # outputs I and II from bipolar torso leads); the network must supply the rest
    have = set(card.input_leads) | set(card.output_leads)
    limb_from_i = {"III", "aVR", "aVL", "aVF"} if {"I", "II"} <= have else set()
    if card.architecture == "ensemble":
        return
    missing = need - set(card.output_leads) - limb_from_i
    if missing:
        raise ModelError(f"{card.card_path}: outputs {list(card.output_leads)} leave {sorted(missing)} unexplained")


def verify_onnx(card: ModelCard) -> None:
    """Refuse a model whose file disagrees with its card."""
    f = card.onnx_file
    assert f is not None
    if not f.exists():
        raise ModelError(f"model {card.id}: ONNX file {f.name} is missing")
    if not f.is_file():
        raise ModelError(f"model {card.id}: ONNX file {f.name} is not a regular file")
    if f.resolve().parent != card.card_path.resolve().parent:  # a symlink out of the folder
        raise ModelError(f"model {card.id}: ONNX file {f.name} lies outside the card's folder")
    if _sha256(f) != card.onnx_sha256:
        raise ModelError(f"model {card.id}: {f.name} does not match the SHA-256 in its card (file changed or corrupt)")
    import onnxruntime as ort

    record = _verified_record(card, ort.__version__)
    if record is not None and record.is_file():
        return  # these exact bytes passed the checks below with this card and this onnxruntime before
    _verify_session(card, ort)
    if record is not None:
        try:
            record.parent.mkdir(parents=True, exist_ok=True)
            record.touch()  # empty: the name is the record; a folder that cannot be written costs the next start
        except OSError:
            pass


VERIFY_VERSION = 1  # bump when _verify_session checks more: older records are then ignored


def _verified_record(card: ModelCard, ort_version: str) -> Path | None:
    """The file whose presence says the checks of :func:`_verify_session` passed for this card's file (its
    SHA-256, just checked), the card fields they read and this onnxruntime; kept beside the lifted graphs.

    Why: the checks open an onnxruntime session per model, 0.2 s for the 40 bundled ones at every start."""
    from .onnxgraph import cache_dir

    try:
        d = cache_dir()
    except RuntimeError:  # no home folder
        return None
    if str(d) == "off":
        return None
    fields = [card.onnx_sha256, card.architecture, list(card.input_leads), list(card.output_leads),
              card.input_name, card.output_name, card.length_multiple, card.window_samples, ort_version,
              VERIFY_VERSION]
    return d / "verified" / hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:40]


def _verify_session(card: ModelCard, ort) -> None:
    f = card.onnx_file
    assert f is not None
    so = ort.SessionOptions()
    so.log_severity_level = 3  # the checks below say what is wrong, in one line; no onnxruntime chatter
    try:
        sess = ort.InferenceSession(str(f), so, providers=["CPUExecutionProvider"])
    except Exception as e:
        raise ModelError(f"model {card.id}: onnxruntime cannot load {f.name} ({' '.join(str(e).split())[:120]})") \
            from None
    from .onnxmeta import bound_leads

    bound = bound_leads(sess)
    if bound is not None and bound != (card.input_leads, card.output_leads):
        raise ModelError(f"model {card.id}: the card's leads ({','.join(card.input_leads)} -> "
                         f"{','.join(card.output_leads)}) are not the ones {f.name} was made for "
                         f"({','.join(bound[0])} -> {','.join(bound[1])})")
    ins, outs = sess.get_inputs(), sess.get_outputs()
    if len(ins) != 1 or ins[0].name != card.input_name:
        raise ModelError(f"model {card.id}: input tensor is {[i.name for i in ins]}, card says {card.input_name!r}")
    if outs[0].name != card.output_name:
        raise ModelError(f"model {card.id}: output tensor is {outs[0].name!r}, card says {card.output_name!r}")
    shape = ins[0].shape
    # a patient model reads the inputs and its base model's output together
    n_in = len(card.input_leads) + (len(card.output_leads) if card.architecture == "personal" else 0)
    if len(shape) != 3 or (isinstance(shape[1], int) and shape[1] != n_in):
        raise ModelError(f"model {card.id}: input shape {shape} does not take {n_in} channels")
    oshape = outs[0].shape
    if len(oshape) == 3 and not isinstance(oshape[1], int):  # symbolic width: run it once to see
        import numpy as np

        x = np.zeros((1, n_in, max(card.length_multiple, min(card.window_samples, 1024))), np.float32)
        x = x[:, :, : x.shape[2] // card.length_multiple * card.length_multiple]
        try:
            oshape = list(sess.run(None, {card.input_name: x})[0].shape)
        except Exception as e:  # noqa: BLE001 - a model that cannot run is refused like one that cannot load
            raise ModelError(f"model {card.id}: {f.name} fails on a test input ({' '.join(str(e).split())[:100]})") \
                from None
    if len(oshape) != 3 or (isinstance(oshape[1], int) and oshape[1] != len(card.output_leads)):
        raise ModelError(f"model {card.id}: output shape {oshape} does not give {len(card.output_leads)} leads "
                         f"({', '.join(card.output_leads)})")


class ModelZoo:
    """All valid models found in the bundled folder and user folders."""

    def __init__(self, cards: list[ModelCard], problems: list[str] | None = None) -> None:
        self._cards = {c.id: c for c in cards}
        self.problems = problems or []  # cards refused, with reasons (shown by `ecgrecon models`)

    @classmethod
    def discover(cls, extra_dirs: list[Path] | tuple[Path, ...] = (), *, verify: bool = True) -> ModelZoo:
        # models/bspm: body-surface-map configurations (ecgrecon.training.bspm_zoo), kept apart from the
        # 12-lead zoo and its report
        bundled = [models_dir(), models_dir() / "bspm"]
        dirs = [*bundled, *user_model_dirs(), *map(Path, extra_dirs)]
        cards: list[ModelCard] = []
        problems: list[str] = []
        seen: dict[str, Path] = {}
        overrides = {x.strip() for x in os.environ.get("ECGRECON_MODEL_OVERRIDE", "").split(",") if x.strip()}
        for d in dirs:
            if not d.is_dir():
                continue
            for cp in sorted(d.glob("*.json")):
                try:
                    raw = json.loads(cp.read_text())
                except (OSError, ValueError) as e:
                    if cp.with_suffix(".onnx").exists():  # a card beside its model that does not parse
                        problems.append(f"{cp}: unreadable model card ({' '.join(str(e).split())[:80]})")
                    continue
                if not isinstance(raw, dict) or "architecture" not in raw:
                    continue  # not a card (e.g. a report's data file)
                try:
                    card = load_card(cp, verify=verify)
                except ModelError as e:
                    problems.append(str(e))
                    continue
                if card.id in seen:
                    first = seen[card.id]
                    if card.id not in overrides:
                        problems.append(f"{cp}: model id {card.id!r} is already taken by {first}; rename the id, or "
                                        f"set ECGRECON_MODEL_OVERRIDE={card.id} to use this one instead")
                        continue
                    problems.append(f"{cp}: overrides {card.id!r} from {first} (ECGRECON_MODEL_OVERRIDE)")
                    cards = [c for c in cards if c.id != card.id]
                seen[card.id] = cp
                cards.append(card)
        zoo = cls(cards, problems)
        for c in list(zoo._cards.values()):  # an ensemble needs all its members
            if c.architecture == "ensemble":
                gone = [m for m in c.members if m not in zoo._cards]
                if gone or not c.members:
                    zoo.problems.append(f"model {c.id}: ensemble members missing: {gone}")
                    del zoo._cards[c.id]
        return zoo

    @property
    def cards(self) -> list[ModelCard]:
        return sorted(self._cards.values(), key=lambda c: (c.configuration, ARCH_PREFERENCE.index(c.architecture)))

    def __len__(self) -> int:
        return len(self._cards)

    def get(self, model_id: str) -> ModelCard:
        try:
            return self._cards[model_id]
        except KeyError:
            raise ModelError(f"no model {model_id!r}; `ecgrecon models` lists them") from None

    def members(self, card: ModelCard) -> list[ModelCard]:
        return [self.get(m) for m in card.members] if card.architecture == "ensemble" else [card]

    def configurations(self) -> list[tuple[str, ...]]:
        seen: dict[tuple[str, ...], None] = {}
        for c in self.cards:
            seen.setdefault(c.input_leads, None)
        return list(seen)

    def compatible(self, leads: tuple[str, ...] | list[str]) -> list[ModelCard]:
        """Models whose three inputs the recording has."""
        have = set(leads)
        return [c for c in self.cards if set(c.input_leads) <= have]

    def for_inputs(self, inputs: tuple[str, ...] | list[str]) -> list[ModelCard]:
        return [c for c in self.cards if set(c.input_leads) == set(inputs)]

    def default_for(self, inputs: tuple[str, ...] | list[str], arch: str | None = None) -> ModelCard:
        cands = self.for_inputs(inputs)
        if not cands:
            cfgs = ", ".join(",".join(c) for c in self.configurations()) or "none installed"
            raise ModelError(f"no model takes inputs {','.join(inputs)}; available: {cfgs}")
        if arch:
            pick = [c for c in cands if c.architecture == arch]
            if not pick:
                have = ", ".join(sorted({c.architecture for c in cands}))
                raise ModelError(f"no {arch!r} model for inputs {','.join(inputs)} (have: {have})")
            return pick[0]
        return sorted(cands, key=lambda c: ARCH_PREFERENCE.index(c.architecture))[0]


_ZOO: ModelZoo | None = None


def load_zoo(refresh: bool = False) -> ModelZoo:
    """The process-wide zoo (discovery validates hashes once)."""
    global _ZOO
    if _ZOO is None or refresh:
        _ZOO = ModelZoo.discover()
    return _ZOO
