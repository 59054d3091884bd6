"""Colours shared by every front end (screen, PDF) so a role looks the same everywhere.

Blue for reconstructed leads reads well on pink ECG paper and survives a
colour printer; every lead also carries its role in words, so nothing depends
on colour alone (photocopies, colour-blind readers).
"""

from __future__ import annotations

from .recording import Role

ROLE_HEX = {
    Role.MEASURED: "#000000",
    Role.DERIVED: "#1d5e2a",  # dark green: exact from measured leads
    Role.RECONSTRUCTED: "#0046c8",  # blue: model estimate
    Role.UNKNOWN: "#000000",
}
TRUTH_UNDER_HEX = "#969696"  # recorded truth drawn beneath a reconstruction
# A reconstructed lead the trust signal says not to read clinically: dashed trace, hatched caption, words
LOW_CONFIDENCE_HEX = "#b3261e"
LOW_CONFIDENCE_HATCH_HEX = "#e8a09a"


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
