"""Generate resources/layouts/bspm35.json (run once; the JSON is the resource the app reads).

    .venv/bin/python scripts/make_bspm35_layout.py

Positions are given on an unrolled torso: ``u`` is the arc length (cm) around
the chest from the anterior midline, positive towards the patient's LEFT
(posterior midline at +-half the circumference), ``v`` the height (cm) above
the 4th intercostal space at the sternum. The 3-D position (x to the patient's
left, y anterior, z superior, cm) follows from an idealised adult torso: an
elliptic cylinder with semi-axes 16 cm (lateral) and 11 cm (antero-posterior),
about 86 cm round. Every position is therefore an approximation of a typical
adult, placed by the anatomical landmark named beside it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "app"))

from ecgrecon.bspm import TorsoModel  # noqa: E402

T = TorsoModel(half_width_cm=16.0, half_depth_cm=11.0, heart_cm=(3.0, 5.0, -2.0))
Q = T.perimeter / 4  # left mid-axillary line
H = T.perimeter / 2  # posterior midline (spine)

AHA = "AHA/ACCF/HRS 2007 recommendations (Kligfield et al., Circulation 115:1306) for V1-V6 landmarks"
ML = "Mason and Likar 1966 torso placement of the limb electrodes (Am Heart J 71:196)"
DOWER = "Dower et al. 1988, EASI lead system (J Electrocardiol 21 Suppl:S182)"
EXT = "right-sided and posterior extension leads (V3R-V5R, V7-V9) as placed for 15/18-lead ECGs"
OWN = "ecgrecon choice for wearable/map coverage (typical chest-patch, belt and shirt sites)"

# name, u, v, flags, landmark, source
E = [
    ("RA", -10.0, 14.0, {"standard", "limb"}, "right infraclavicular fossa (Mason-Likar)", ML),
    ("LA", 10.0, 14.0, {"standard", "limb"}, "left infraclavicular fossa (Mason-Likar)", ML),
    ("LL", 13.0, -22.0, {"standard", "limb"}, "left anterior axillary line, between costal margin and iliac crest", ML),
    ("RL", -13.0, -22.0, {"standard", "limb"}, "right anterior axillary line, between costal margin and iliac crest "
     "(ground/driven-right-leg; in no lead)", ML),
    ("V1", -3.0, 0.0, {"standard", "precordial"}, "4th intercostal space, right sternal border", AHA),
    ("V2", 3.0, 0.0, {"standard", "precordial", "wearable"}, "4th intercostal space, left sternal border", AHA),
    ("V3", 6.5, -1.5, {"standard", "precordial"}, "midway between V2 and V4", AHA),
    ("V4", 10.0, -3.0, {"standard", "precordial", "wearable"}, "5th intercostal space, left midclavicular line", AHA),
    ("V5", 15.0, -3.0, {"standard", "precordial"}, "left anterior axillary line, level of V4", AHA),
    ("V6", Q, -3.0, {"standard", "precordial"}, "left mid-axillary line, level of V4", AHA),
    ("E", 0.0, -5.0, {"easi", "wearable"}, "lower sternum, level of the 5th intercostal space", DOWER),
    ("A", Q, -5.0, {"easi", "wearable"}, "left mid-axillary line, level of E", DOWER),
    ("S", 0.0, 10.0, {"easi"}, "upper sternum (manubrium)", DOWER),
    ("I", -Q, -5.0, {"easi", "wearable"}, "right mid-axillary line, level of E", DOWER),
    ("V3R", -6.5, -1.5, {"right"}, "mirror of V3 on the right chest", EXT),
    ("V4R", -10.0, -3.0, {"right"}, "5th intercostal space, right midclavicular line", EXT),
    ("V5R", -15.0, -3.0, {"right"}, "right anterior axillary line, level of V4R", EXT),
    ("V7", Q + 6.0, -3.0, {"posterior"}, "left posterior axillary line, level of V6", EXT),
    ("V8", H - 9.0, -3.0, {"posterior"}, "left mid-scapular line, level of V6", EXT),
    ("V9", H - 3.0, -3.0, {"posterior"}, "left paraspinal border, level of V6", EXT),
    ("L2", 3.0, 5.5, {"wearable"}, "2nd intercostal space, left sternal border (upper end of a chest patch)", OWN),
    ("R2", -3.0, 5.5, set(), "2nd intercostal space, right sternal border", OWN),
    ("L2M", 10.0, 5.5, {"wearable"}, "2nd intercostal space, left midclavicular line (chest patch corner)", OWN),
    ("R2M", -10.0, 5.5, set(), "2nd intercostal space, right midclavicular line", OWN),
    ("LAX", 15.0, 5.5, set(), "left anterior axillary line, level of the 2nd intercostal space", OWN),
    ("RAX", -15.0, 5.5, set(), "right anterior axillary line, level of the 2nd intercostal space", OWN),
    ("LLO", 10.0, -10.0, set(), "left costal margin, midclavicular line", OWN),
    ("RLO", -10.0, -10.0, set(), "right costal margin, midclavicular line", OWN),
    ("SP", H, -5.0, {"wearable", "posterior"}, "spine, level of E (back electrode of a chest belt)", OWN),
    ("BLU", H - 9.0, 8.0, {"posterior"}, "left scapula, upper", OWN),
    ("BRU", -(H - 9.0), 8.0, {"posterior"}, "right scapula, upper", OWN),
    ("BLL", H - 9.0, -14.0, {"posterior"}, "left lower back, scapular line", OWN),
    ("BRL", -(H - 9.0), -14.0, {"posterior"}, "right lower back, scapular line", OWN),
    ("BSU", H, 10.0, {"posterior"}, "spine, upper thoracic", OWN),
    ("V9R", -(H - 3.0), -3.0, {"posterior", "right"}, "right paraspinal border, level of V6", EXT),
]

CONFIGS = {
    "EASI": {"inputs": ["E-S", "A-S", "A-I"],
             "description": "Dower's EASI system: three bipolar leads from four torso electrodes (Dower 1988)."},
    "PATCH": {"inputs": ["L2M-L2", "V2-L2", "V4-L2"],
              "description": "a ~10 cm chest patch over the left precordium: four electrodes, three bipolar leads "
                             "against the upper-left parasternal electrode L2."},
    "STRAP": {"inputs": ["A-I", "E-SP", "A-SP"],
              "description": "a chest belt at the level of the xiphoid (E): right/left mid-axillary, sternal and "
                             "spinal electrodes, all at one height (no vertical electrode spacing)."},
    "SHIRT": {"inputs": ["LA-RA", "LL-RA", "V2-RA"],
              "description": "a smart shirt with electrodes at the Mason-Likar limb sites plus V2, all against RA "
                             "(no Wilson terminal needed); linearly equivalent to I, II, V2, so I, II, III, aVR, aVL, "
                             "aVF and V2 are exact up to filtering: compare its V1, V3-V6 with I-II-V2."},
}


def main() -> None:
    els = []
    for name, u, v, flags, landmark, source in E:
        xyz = T.xyz(u, v)
        els.append({
            "name": name, "u": round(float(u), 2), "v": round(float(v), 2),
            "xyz": [round(float(c), 2) for c in xyz],
            "surface": "anterior" if abs(u) <= Q + 1e-6 else "posterior",
            "standard": "standard" in flags, "easi": "easi" in flags, "wearable": "wearable" in flags,
            "groups": sorted(flags), "landmark": landmark, "source": source, "approximate": True,
        })
    assert len(els) == 35 and len({e["name"] for e in els}) == 35
    layout = {
        "schema": 1,
        "name": "bspm35",
        "title": "35-electrode body surface map (ecgrecon reference layout)",
        "description": (
            "35 torso electrodes: the ten of the standard 12-lead ECG (limb electrodes at their Mason-Likar torso "
            "sites), Dower's EASI points, right-sided and posterior extension leads, and sites a chest patch, belt "
            "or shirt would use. Potentials are unipolar, referenced to the Wilson central terminal "
            "WCT = (RA + LA + LL) / 3."),
        "coordinates": {
            "u": "cm of arc around the chest from the anterior midline, positive to the patient's left; "
                 "the posterior midline (spine) is at +-half the circumference",
            "v": "cm above the 4th intercostal space at the sternum (negative = below)",
            "xyz": "cm on an idealised torso: x to the patient's left, y anterior, z superior; origin on the "
                   "torso axis at the level of the 4th intercostal space",
        },
        "torso": {"model": "elliptic cylinder", "half_width_cm": T.a, "half_depth_cm": T.b,
                  "perimeter_cm": round(T.perimeter, 2), "heart_centre_cm": list(T.heart)},
        "accuracy": ("All positions are approximations for a typical adult on an idealised torso; landmarks follow "
                     "the cited conventions, distances (e.g. 2.5-3 cm per intercostal space, midclavicular line "
                     "10 cm from the midline) are typical values, not measurements."),
        "sources": sorted({e[5] for e in E}),
        "reference": "WCT",
        "electrodes": els,
        "configurations": CONFIGS,
    }
    out = REPO / "resources" / "layouts" / "bspm35.json"
    out.write_text(json.dumps(layout, indent=1) + "\n")
    print(f"wrote {out}: {len(els)} electrodes, perimeter {T.perimeter:.1f} cm")


if __name__ == "__main__":
    _ = np
    main()
