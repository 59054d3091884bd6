"""The card's lead names written into the ONNX file itself, so a card edited to swap or reverse its leads no
longer matches its model (the file's SHA-256 in the card then covers the leads too)."""

from __future__ import annotations

from pathlib import Path

KEYS = ("ecgrecon.input_leads", "ecgrecon.output_leads")


def bind_leads(path: str | Path, input_leads, output_leads) -> None:
    """Write the lead names into the ONNX file's metadata (in place; before its hash goes into the card)."""
    import onnx

    m = onnx.load(str(path))
    keep = [p for p in m.metadata_props if p.key not in KEYS]
    del m.metadata_props[:]
    m.metadata_props.extend(keep)
    for key, leads in zip(KEYS, (input_leads, output_leads), strict=True):
        entry = m.metadata_props.add()
        entry.key, entry.value = key, ",".join(leads)
    onnx.save(m, str(path))


def bound_leads(session) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(inputs, outputs) an onnxruntime session's file was bound to, or None for an unbound file."""
    meta = session.get_modelmeta().custom_metadata_map
    if not all(k in meta for k in KEYS):
        return None
    return tuple(meta[KEYS[0]].split(",")), tuple(meta[KEYS[1]].split(","))
