"""Body surface potential maps (BSPM): electrode layouts and lead derivation. No Qt here.

A BSPM is a set of unipolar electrode potentials (mV) on the torso. ecgrecon
keeps them in :class:`~ecgrecon.recording.Electrodes`, always referenced to the
Wilson central terminal WCT = (RA + LA + LL) / 3, and derives from them:

* the standard 12 leads (I = LA - RA, II = LL - RA, III = LL - LA,
  aVR = RA - (LA + LL) / 2, ..., Vk = Vk - WCT). A BSPM Recording's 12 leads
  carry ``Role.DERIVED``: they are exact consequences of the measured
  electrode potentials and serve as the ground truth a reconstruction is
  scored against;
* any three-lead input: a standard lead ("II", "V2"), an electrode against
  WCT ("V3R", or explicitly "V3R-WCT"), or a bipolar pair "E-S" (electrode E
  minus electrode S).

Input syntax (``--inputs``): three comma-separated terms, e.g. ``E-S,A-S,A-I``,
or a configuration name from the layout (``EASI``). Unipolar names are read as
standard leads first: electrode "I" (EASI) against WCT is written ``I-WCT``.

Layouts are JSON files (``resources/layouts/bspm35.json`` documents the
format); users add their own in folders listed in ``ECGRECON_LAYOUT_PATH``
(os.pathsep-separated).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import InputError
from .leads import STANDARD_12, canonical_lead
from .paths import resources_dir
from .recording import Electrodes, Meta, Recording, Role

LIMB_ELECTRODES = ("RA", "LA", "LL")
PRECORDIAL_ELECTRODES = ("V1", "V2", "V3", "V4", "V5", "V6")
#: the nine electrodes the 12 standard leads need (RL is ground only)
LEAD_ELECTRODES = LIMB_ELECTRODES + PRECORDIAL_ELECTRODES
DEFAULT_LAYOUT = "bspm35"


# -- torso geometry ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TorsoModel:
    """Idealised torso: an elliptic cylinder. ``xyz(u, v)`` maps the unrolled map to 3-D (cm).

    x to the patient's left, y anterior, z superior; u is the arc length from the
    anterior midline (positive to the left), v the height.
    """

    half_width_cm: float = 16.0
    half_depth_cm: float = 11.0
    heart_cm: tuple[float, float, float] = (3.0, 5.0, -2.0)

    @property
    def a(self) -> float:
        return self.half_width_cm

    @property
    def b(self) -> float:
        return self.half_depth_cm

    @property
    def heart(self) -> tuple[float, float, float]:
        return tuple(float(c) for c in self.heart_cm)  # type: ignore[return-value]

    def _arc(self) -> tuple[np.ndarray, np.ndarray]:
        th = np.linspace(0.0, np.pi, 20001)  # anterior midline (0) -> posterior midline (pi), left side
        dx = self.a * np.cos(th)
        dy = -self.b * np.sin(th)
        speed = np.hypot(dx, dy)
        s = np.concatenate([[0.0], np.cumsum((speed[1:] + speed[:-1]) / 2 * np.diff(th))])
        return th, s

    @property
    def perimeter(self) -> float:
        return float(2 * self._arc()[1][-1])

    def xyz(self, u: float, v: float) -> np.ndarray:
        th, s = self._arc()
        half = s[-1]
        uu = ((float(u) + half) % (2 * half)) - half  # wrap into [-half, half)
        t = float(np.interp(abs(uu), s, th))
        x = np.sign(uu) * self.a * np.sin(t) if uu else 0.0
        return np.array([x, self.b * np.cos(t), float(v)])


# -- layouts -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ElectrodeSite:
    name: str
    u: float  # cm, unrolled torso map
    v: float
    xyz: tuple[float, float, float]
    surface: str = "anterior"
    standard: bool = False
    easi: bool = False
    wearable: bool = False
    groups: tuple[str, ...] = ()
    landmark: str = ""
    source: str = ""
    approximate: bool = True


@dataclass(frozen=True)
class Layout:
    name: str
    title: str
    sites: tuple[ElectrodeSite, ...]
    torso: TorsoModel
    configurations: dict[str, tuple[str, ...]] = field(default_factory=dict)
    config_descriptions: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.sites)

    def site(self, name: str) -> ElectrodeSite:
        for s in self.sites:
            if s.name == name:
                return s
        raise KeyError(f"layout {self.name} has no electrode {name!r}")

    def match(self, name: str) -> str | None:
        """The layout's spelling of an electrode name (case-insensitive), or None."""
        low = str(name).strip().lower()
        for s in self.sites:
            if s.name.lower() == low:
                return s.name
        return None

    def uv(self) -> np.ndarray:
        return np.array([[s.u, s.v] for s in self.sites], dtype=np.float64)

    def xyz(self) -> np.ndarray:
        return np.array([s.xyz for s in self.sites], dtype=np.float64)

    def has_standard(self) -> bool:
        return all(n in self.names for n in LEAD_ELECTRODES)


def layout_dirs() -> list[Path]:
    env = os.environ.get("ECGRECON_LAYOUT_PATH", "")
    user = [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
    return [resources_dir() / "layouts", *user]


def available_layouts() -> dict[str, Path]:
    """Layout name -> file; a user folder's layout replaces a bundled one of the same name."""
    out: dict[str, Path] = {}
    for d in layout_dirs():
        if d.is_dir():
            for p in sorted(d.glob("*.json")):
                out[p.stem] = p
    return out


def load_layout(name_or_path: str | Path | Layout | None = None) -> Layout:
    """A layout by name (bundled or in ECGRECON_LAYOUT_PATH) or by file path."""
    if isinstance(name_or_path, Layout):
        return name_or_path
    key = str(name_or_path or DEFAULT_LAYOUT)
    p = Path(key)
    if not (p.suffix.lower() == ".json" and p.exists()):
        found = available_layouts().get(key)
        if found is None:
            have = ", ".join(sorted(available_layouts())) or "none"
            raise InputError(f"no electrode layout {key!r} (available: {have}; add folders with ECGRECON_LAYOUT_PATH)")
        p = found
    return _load_layout_file(str(p.resolve()), p.stat().st_mtime)


MAX_ELECTRODES = 1024  # body surface systems have up to a few hundred; 20,000 took minutes to place


@lru_cache(maxsize=16)
def _load_layout_file(path: str, _mtime: float) -> Layout:
    p = Path(path)
    if p.stat().st_size > 10_000_000:
        raise InputError("electrode layout file is over 10 MB", p)
    try:
        raw = json.loads(p.read_text())
    except (OSError, ValueError) as e:
        raise InputError(f"unreadable electrode layout ({' '.join(str(e).split())[:120]})", p) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("electrodes"), list) or not raw["electrodes"]:
        raise InputError("electrode layout needs an 'electrodes' list", p)
    if len(raw["electrodes"]) > MAX_ELECTRODES:
        raise InputError(f"electrode layout lists {len(raw['electrodes'])} electrodes (limit {MAX_ELECTRODES})", p)
    try:
        return _layout_from_json(raw, p)
    except (TypeError, ValueError, KeyError, AttributeError) as e:  # a field of the wrong type or shape
        raise InputError(f"electrode layout has a malformed field ({type(e).__name__}: "
                         f"{' '.join(str(e).split())[:100]})", p) from None


def _layout_from_json(raw: dict, p: Path) -> Layout:
    t = raw.get("torso") or {}
    torso = TorsoModel(float(t.get("half_width_cm", 16.0)), float(t.get("half_depth_cm", 11.0)),
                       tuple(float(c) for c in t.get("heart_centre_cm", (3.0, 5.0, -2.0))))
    sites = []
    for i, e in enumerate(raw["electrodes"]):
        try:
            name, u, v = str(e["name"]), float(e["u"]), float(e["v"])
        except (KeyError, TypeError, ValueError):
            raise InputError(f"electrode #{i + 1} needs name, u and v", p) from None
        if "-" in name or "," in name or not name.strip() or name.upper() == "WCT":
            raise InputError(f"electrode name {name!r} is not allowed (no '-', ',' or 'WCT')", p)
        xyz = tuple(float(c) for c in e["xyz"]) if e.get("xyz") else tuple(torso.xyz(u, v))
        groups = tuple(e.get("groups") or ())
        sites.append(ElectrodeSite(
            name=name, u=u, v=v, xyz=xyz, surface=str(e.get("surface", "anterior")),
            standard=bool(e.get("standard", name in LEAD_ELECTRODES or name == "RL")),
            easi=bool(e.get("easi", False)), wearable=bool(e.get("wearable", False)), groups=groups,
            landmark=str(e.get("landmark", "")), source=str(e.get("source", "")),
            approximate=bool(e.get("approximate", True))))
    names = [s.name for s in sites]
    if len(set(n.lower() for n in names)) != len(names):
        raise InputError("electrode layout repeats an electrode name", p)
    cfgs, descs = {}, {}
    for k, c in (raw.get("configurations") or {}).items():
        cfgs[str(k)] = tuple(str(x) for x in c["inputs"])
        descs[str(k)] = str(c.get("description", ""))
    return Layout(name=str(raw.get("name") or p.stem), title=str(raw.get("title", "")), sites=tuple(sites),
                  torso=torso, configurations=cfgs, config_descriptions=descs, path=p, raw=raw)


# -- lead derivation -----------------------------------------------------------------------------------
def _pot(names: tuple[str, ...] | list[str], potentials: np.ndarray, name: str) -> np.ndarray:
    try:
        return np.asarray(potentials[list(names).index(name)], np.float64)
    except ValueError:
        raise InputError(f"no electrode {name!r} in this map (has {', '.join(names)})") from None


def wct(names, potentials: np.ndarray) -> np.ndarray:
    """Wilson central terminal (RA + LA + LL) / 3 of electrode potentials on any common reference."""
    return sum(_pot(names, potentials, n) for n in LIMB_ELECTRODES) / 3.0


def to_wct(names, potentials: np.ndarray) -> np.ndarray:
    """Re-reference potentials (common reference of any kind) to WCT; float64."""
    pot = np.asarray(potentials, np.float64)
    return pot - wct(names, pot)[None, :]


def standard12(names, potentials: np.ndarray) -> np.ndarray:
    """The 12 standard leads (STANDARD_12 order, float64 mV) from electrode potentials."""
    g = {n: _pot(names, potentials, n) for n in LEAD_ELECTRODES}
    ra, la, ll = g["RA"], g["LA"], g["LL"]
    w = (ra + la + ll) / 3.0
    rows = [la - ra, ll - ra, ll - la, ra - (la + ll) / 2, la - (ra + ll) / 2, ll - (ra + la) / 2]
    rows += [g[v] - w for v in PRECORDIAL_ELECTRODES]
    return np.stack(rows)


def split_term(term: str) -> tuple[str, str] | None:
    """``"E-S"`` -> ("E", "S"); unipolar names (also "-aVR") -> None."""
    t = term.strip()
    k = t.find("-", 1)
    if k <= 0:
        return None
    return t[:k].strip(), t[k + 1:].strip()


def parse_input_spec(text: str | None, layout: Layout | str | None = None, *,
                     n: int | None = 3) -> tuple[str, ...] | None:
    """``"E-S,A-S,A-I"`` (or a configuration name like ``"EASI"``) -> canonical lead names.

    Standard leads are canonicalised ("ii" -> "II"); electrode names take the
    layout's spelling when a layout is given. ``n``: required count (None: any).
    """
    if not text or not str(text).strip():
        return None
    lay = load_layout(layout) if layout is not None else None
    t = str(text).strip()
    if "," not in t:
        cfg = _config_by_name(t, lay)
        if cfg is not None:
            return cfg
    out = []
    for raw in t.split(","):
        if not raw.strip():
            continue
        pair = split_term(raw)
        if pair is None:
            c = canonical_lead(raw)
            if c not in STANDARD_12 and c not in ("X", "Y", "Z", "-aVR") and lay is not None:
                c = lay.match(c) or c
            out.append(c)
            continue
        a, b = pair
        if not a or not b:
            raise InputError(f"bipolar input {raw.strip()!r} needs two electrode names, like E-S")
        if lay is not None:
            ma = lay.match(a)
            mb = "WCT" if b.upper() == "WCT" else lay.match(b)
            if ma is None or mb is None:
                bad = a if ma is None else b
                raise InputError(f"input {raw.strip()!r}: layout {lay.name} has no electrode {bad!r}")
            a, b = ma, mb
        elif b.upper() == "WCT":
            b = "WCT"
        if a == b:
            raise InputError(f"bipolar input {raw.strip()!r} subtracts an electrode from itself")
        out.append(f"{a}-{b}")
    leads = tuple(out)
    if n is not None and (len(leads) != n or len(set(leads)) != n):
        raise InputError(f"--inputs needs {n} different leads, got {text!r}")
    return leads


def _config_by_name(name: str, lay: Layout | None) -> tuple[str, ...] | None:
    layouts = [lay] if lay is not None else []
    if lay is None:
        try:
            layouts = [load_layout(DEFAULT_LAYOUT)]
        except InputError:
            layouts = []
    for L in layouts:
        for k, v in L.configurations.items():
            if k.lower() == name.lower():
                return v
    return None


def derive_lead(el: Electrodes, name: str) -> np.ndarray:
    """One lead from WCT-referenced (or any common-reference) electrode potentials, float64 mV."""
    names = el.names
    pot = el.potentials
    if name in STANDARD_12:
        return standard12(names, pot)[STANDARD_12.index(name)]
    if name == "-aVR":
        return -standard12(names, pot)[STANDARD_12.index("aVR")]
    pair = split_term(name)
    if pair is not None:
        a, b = pair
        ref = wct(names, pot) if b == "WCT" else _pot(names, pot, b)
        return _pot(names, pot, a) - ref
    return _pot(names, pot, name) - wct(names, pot)


def can_derive(el: Electrodes, name: str) -> bool:
    try:
        if name in STANDARD_12 or name == "-aVR":
            return all(n in el.names for n in LEAD_ELECTRODES)
        pair = split_term(name)
        need = [name] if pair is None else [x for x in pair if x != "WCT"]
        if pair is None or pair[1] == "WCT":
            need += list(LIMB_ELECTRODES)
        return all(n in el.names for n in need)
    except Exception:
        return False


def with_leads(rec: Recording, names: tuple[str, ...] | list[str]) -> Recording:
    """``rec`` plus the named leads derived from its electrodes (role DERIVED); present leads are kept."""
    missing = [n for n in names if n not in rec.leads]
    if not missing:
        return rec
    if rec.electrodes is None:
        raise InputError(f"recording has no lead {', '.join(missing)} and no electrode potentials to derive "
                         f"it from (has {', '.join(rec.leads)})", rec.meta.source or None)
    rows = []
    for n in missing:
        if not can_derive(rec.electrodes, n):
            raise InputError(f"cannot derive lead {n} from this map's electrodes "
                             f"({', '.join(rec.electrodes.names)})", rec.meta.source or None)
        rows.append(derive_lead(rec.electrodes, n).astype(np.float32))
    sig = np.concatenate([rec.signals, np.stack(rows)])
    return replace(rec, signals=sig, leads=rec.leads + tuple(missing),
                   roles=rec.roles + (Role.DERIVED,) * len(missing))


def recording_from_electrodes(potentials: np.ndarray, names, fs: float, *, reference: str = "unknown",
                              layout: Layout | str | None = None, meta: Meta | None = None,
                              source: str | Path | None = None) -> Recording:
    """A BSPM Recording: the standard 12 leads (role DERIVED, the ground truth) + WCT-referenced electrodes.

    ``potentials`` (n_electrodes x n_samples, mV) may use any common reference
    (``reference`` says which; it is recorded): they are re-referenced to WCT.
    """
    names = tuple(str(n) for n in names)
    lay = load_layout(layout) if layout is not None else None
    if lay is not None:
        fixed = []
        for n in names:
            m = lay.match(n)
            if m is None:
                raise InputError(f"channel {n!r} is not an electrode of layout {lay.name}", source)
            fixed.append(m)
        names = tuple(fixed)
    if len(set(names)) != len(names):
        raise InputError("electrode names repeat", source)
    lacking = [n for n in LEAD_ELECTRODES if n not in names]
    if lacking:
        raise InputError(f"body surface map lacks electrode(s) {', '.join(lacking)}: the 12 standard leads and "
                         "the Wilson central terminal need RA, LA, LL and V1-V6", source)
    pot = np.asarray(potentials, np.float64)
    if pot.ndim != 2 or pot.shape[0] != len(names):
        raise InputError(f"potentials are {pot.shape}, expected {len(names)} electrodes x samples", source)
    ref_pot = to_wct(names, pot)
    leads = standard12(names, ref_pot)
    meta = meta or Meta(source=str(source or ""))
    ref = str(reference or "unknown")
    note = ("electrode potentials re-referenced to WCT = (RA+LA+LL)/3 (file reference: "
            f"{ref}); the 12 leads are derived from the electrodes (role 'derived')")
    meta = replace(meta, provenance={**meta.provenance, "bspm_reference_in_file": ref,
                                     "bspm_layout": lay.name if lay else "", "bspm_note": note})
    el = Electrodes(ref_pot.astype(np.float32), names, reference="WCT", layout=lay.name if lay else None)
    return Recording(leads.astype(np.float32), fs, STANDARD_12, (Role.DERIVED,) * 12, meta=meta, electrodes=el)


def detect_layout(channel_names) -> Layout | None:
    """The layout whose electrodes include every channel name and the nine lead electrodes, if any."""
    chans = [str(c) for c in channel_names]
    if len(chans) < len(LEAD_ELECTRODES):
        return None
    best = None
    for name in available_layouts():
        try:
            lay = load_layout(name)
        except InputError:
            continue
        matched = [lay.match(c) for c in chans]
        if any(m is None for m in matched) or not all(n in matched for n in LEAD_ELECTRODES):
            continue
        if best is None or len(lay.names) < len(best.names):
            best = lay
    return best


def configurations(layout: Layout | str | None = None) -> dict[str, tuple[str, ...]]:
    return dict(load_layout(layout).configurations)


def config_name(inputs: tuple[str, ...] | list[str]) -> str:
    """Configuration label for a card: the layout's name for it (e.g. "EASI") or the inputs joined by '_'."""
    for k, v in configurations().items():
        if tuple(v) == tuple(inputs):
            return k
    return "_".join(inputs)


def with_all_inputs(rec: Recording, zoo=None) -> Recording:
    """A map plus every installed model's input leads it can derive (so a viewer can offer them); else ``rec``."""
    if rec.electrodes is None:
        return rec
    if zoo is None:
        from .modelcard import load_zoo

        zoo = load_zoo()
    want: list[str] = []
    for inputs in zoo.configurations():
        if all(n in rec.leads or can_derive(rec.electrodes, n) for n in inputs):
            want += [n for n in inputs if n not in rec.leads and n not in want]
    return with_leads(rec, want)
