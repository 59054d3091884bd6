"""Make ``ishne_from_hl7_example.ecg``: the HL7 aECG example's 12 rhythm leads written as an ISHNE Holter file
by ishneholterlib (Alex Page, MIT; an independent ISHNE writer, not ecgrecon's).

No redistributable ISHNE recording small enough to ship was found, so this file stands in for one: its
bytes come from a third-party writer, its samples from a real ECG the project did not record. The aECG is
read here with the standard library only (digits x scale), so neither ecgrecon nor ecgdatakit touches it.

    pip install --target /tmp/ish ishneholterlib==2020.5.29 crccheck
    PYTHONPATH=/tmp/ish python tests/data/thirdparty/make_ishne.py

The ISHNE file's creation date is the day it was written; everything else is fixed.
"""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
NS = {"h": "urn:hl7-org:v3"}
ISHNE_CODES = {"I": 5, "II": 6, "III": 7, "AVR": 8, "AVL": 9, "AVF": 10,
               "V1": 11, "V2": 12, "V3": 13, "V4": 14, "V5": 15, "V6": 16}


def rhythm_leads(path: Path) -> tuple[list[str], list[np.ndarray], float, float]:
    """The first sequenceSet (the rhythm series) of an aECG: lead codes, integer digits, scale (uV), fs."""
    root = ET.parse(path).getroot()
    seqset = root.find(".//h:series/h:component/h:sequenceSet", NS)
    names, digits, scales, fs = [], [], [], None
    for seq in seqset.findall("h:component/h:sequence", NS):
        code = seq.find("h:code", NS).get("code")
        value = seq.find("h:value", NS)
        if code == "TIME_ABSOLUTE":
            fs = 1.0 / float(value.find("h:increment", NS).get("value"))
            continue
        assert value.find("h:origin", NS).get("value") == "0"
        assert value.find("h:scale", NS).get("unit") == "uV"
        names.append(code.removeprefix("MDC_ECG_LEAD_"))
        scales.append(float(value.find("h:scale", NS).get("value")))
        digits.append(np.array(value.find("h:digits", NS).text.split(), dtype=np.int16))
    assert len(set(scales)) == 1 and fs
    return names, digits, scales[0], fs


def main() -> None:
    from ishneholterlib import Holter, Lead

    names, digits, scale_uv, fs = rhythm_leads(HERE / "hl7_aecg_example.xml")
    h = Holter.__new__(Holter)  # the library loads only from disk; fill the header fields it writes
    h.filename = str(HERE / "ishne_from_hl7_example.ecg")
    h.is_annfile, h.beat_anns = False, []
    h.file_version, h.first_name, h.last_name, h.id = 1, "", "", "SBJ-123"
    h.sex, h.race = 1, 0  # male, as in the aECG
    h.birth_date = None
    h.record_date = datetime.date(2002, 11, 22)
    h.start_time = datetime.time(9, 10, 0)
    h.pm, h.recorder_type, h.sr = -1, b"digital", int(round(fs))
    h.proprietary = "HL7 aECG example (Mortara ELI250) via ishneholterlib"
    h.copyright, h.reserved, h.var_block = "", "", None
    h.lead = []
    for name, d in zip(names, digits, strict=True):
        lead = Lead(ISHNE_CODES[name], 1, int(round(scale_uv * 1000)))  # quality 1 = good; resolution in nV
        lead.data = d
        h.lead.append(lead)
    h.write_file(overwrite=True, convert_data=False)  # the int16 digits as they are
    print(h.filename, len(names), "leads", len(digits[0]), "samples at", fs, "Hz")


if __name__ == "__main__":
    main()
