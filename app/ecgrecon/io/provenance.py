"""Roles and reconstruction provenance in and out of every file format: one encoder and one decoder.

Text formats (WFDB header comments, EDF+ annotations) carry ``ecgrecon-...`` lines; structured ones
(NPZ, the CSV sidecar, DICOM's private block, aECG annotations) carry :func:`to_json`'s dict.
"""

from __future__ import annotations

import re

from ..recording import Provenance, Recording, Role

# line keys: "model" was written before the typed object existed; keep reading and writing it
_LINE_KEY = {"model_id": "model"}
_FIELD_OF = {v: k for k, v in _LINE_KEY.items()}
_ROLE_RE = re.compile(r"\s*ecgrecon-role (.+?): (\w+)\s*$")
_PROV_RE = re.compile(r"\s*ecgrecon-(\w+): (.*?)\s*$")


def to_lines(rec: Recording) -> list[str]:
    """``ecgrecon-<field>: value`` for the provenance, ``ecgrecon-role <lead>: <role>`` per lead."""
    out = []
    p = rec.meta.reconstruction
    if p is not None:
        for k, v in p.to_dict().items():
            if v:
                out.append(f"ecgrecon-{_LINE_KEY.get(k, k)}: {','.join(v) if isinstance(v, list) else v}")
    if any(r != Role.UNKNOWN for r in rec.roles):
        out += [f"ecgrecon-role {n}: {r.value}" for n, r in zip(rec.leads, rec.roles, strict=True)]
    return out


def from_lines(lines, leads: tuple[str, ...]) -> tuple[tuple[Role, ...] | None, Provenance | None]:
    """Roles (None when the lines name none) and provenance (None when there is none)."""
    roles: dict[str, Role] = {}
    fields: dict[str, str] = {}
    for line in lines:
        m = _ROLE_RE.match(line)
        if m:
            try:
                roles[m.group(1)] = Role(m.group(2))
            except ValueError:
                pass
            continue
        m = _PROV_RE.match(line)
        if m:
            key = _FIELD_OF.get(m.group(1), m.group(1))
            if key in Provenance.FIELDS:
                fields[key] = m.group(2)
    got = tuple(roles.get(n, Role.UNKNOWN) for n in leads) if roles else None
    return got, Provenance.from_dict(fields)


def role_sentence(lead: str, role: Role, prov: Provenance | None) -> str:
    """What a clinical viewer shows for a derived or reconstructed lead (DICOM and aECG annotations)."""
    if role == Role.RECONSTRUCTED:
        how = (f"reconstructed by model {prov.model_id} v{prov.model_version} from measured "
               f"{', '.join(prov.measured_leads)}" if prov is not None else "reconstructed by a model")
    else:
        how = "derived exactly from measured leads (Einthoven/Goldberger)"
    return f"{lead}: {how}"


def to_json(rec: Recording) -> dict:
    p = rec.meta.reconstruction
    return {"roles": {n: r.value for n, r in zip(rec.leads, rec.roles, strict=True)},
            "reconstruction": None if p is None else p.to_dict()}


def from_json(d: dict, leads: tuple[str, ...]) -> tuple[tuple[Role, ...] | None, Provenance | None]:
    if not isinstance(d, dict):
        return None, None
    roles = None
    r = d.get("roles")
    if isinstance(r, dict) and r:
        try:
            roles = tuple(Role(str(r.get(n, "unknown"))) for n in leads)
        except ValueError:
            roles = None
    prov = Provenance.from_dict(d.get("reconstruction") or {})
    return roles, prov


def apply(rec: Recording, roles: tuple[Role, ...] | None, prov: Provenance | None) -> Recording:
    from dataclasses import replace

    if roles is not None and len(roles) == len(rec.leads):
        rec = replace(rec, roles=roles)
    if prov is not None:
        rec = replace(rec, meta=replace(rec.meta, reconstruction=prov))
    return rec
