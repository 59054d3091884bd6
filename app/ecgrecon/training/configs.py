"""Lead configurations: which three leads go in, which leads the network must supply.

Torch-free so the evaluation/report code can use it too.
"""

from __future__ import annotations

from ..leads import PRECORDIAL

CONFIG_NAMES = ("I-II-V1", "I-II-V2", "I-II-V3", "I-II-V4", "I-II-V5", "I-II-V6", "II-V1-V5", "II-V2-V6")
ARCHS = ("conv", "temporal", "linear")


def input_leads(config: str) -> tuple[str, ...]:
    if config not in CONFIG_NAMES:
        raise KeyError(f"unknown configuration {config!r}; known: {', '.join(CONFIG_NAMES)}")
    return tuple(config.split("-"))


def output_leads(config: str) -> tuple[str, ...]:
    """Leads the model predicts: missing precordials, plus I when I is not an input.

    III/aVR/aVL/aVF are never predicted: the app derives them exactly from I and II.
    """
    ins = input_leads(config)
    out = [] if "I" in ins else ["I"]
    out += [v for v in PRECORDIAL if v not in ins]
    return tuple(out)
