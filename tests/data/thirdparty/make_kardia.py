"""Make ``kardia_from_atc_sample.json``: a real KardiaMobile recording as an AliveCor Kardia API recording object.

No redistributable Kardia JSON export was found. What exists under a free license is a KardiaMobile ATC file:
``alivecor_sample_one.atc``, the first test file of node-alivecor-ecg (Jakub Skopal, MIT; the base64 string
``sampleOne`` in src/lib/parser.spec.ts). AliveCor's own converter, atc2json (github.com/alivecor/atc2json,
commit 88bf1853f50173d7ca2839d31282b62dc685c340, Go), turns it into the ``data.raw`` block of their API
(frequency, amplitudeResolution in nV, mainsFrequency, samples.leadI in ADC counts); this script only wraps
that block, unchanged, in the recording envelope the Kardia API documents (id, recordedAt, duration,
deviceInfo, data.raw), taking id, date and hardware from the ATC info block. Nothing here passes through
ecgrecon or ecgdatakit.

    # in a checkout of alivecor/atc2json, with a go.mod saying "module github.com/alivecor/atc2json":
    go build -o atc2json .
    ./atc2json < tests/data/thirdparty/alivecor_sample_one.atc > /tmp/raw.json
    python tests/data/thirdparty/make_kardia.py /tmp/raw.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _text(byte_list: list[int]) -> str:
    return bytes(byte_list).split(b"\0")[0].decode("ascii")


def main(raw_json: str) -> None:
    raw = json.loads(Path(raw_json).read_text())
    info = raw.pop("Info")
    recorded = _text(info["DateRecorded"])  # e.g. 2023-02-16T14:48:49+0100
    if len(recorded) > 5 and recorded[-5] in "+-" and ":" not in recorded[-5:]:
        recorded = recorded[:-2] + ":" + recorded[-2:]  # ISO 8601 offset as the API writes it
    hardware = _text(info["RecorderHardware"]).split()  # e.g. "triangle hwX08 fw1.3.4"
    n = len(raw["samples"]["leadI"])
    doc = {
        "id": _text(info["RecordingUUID"]),
        "patientID": "",
        "recordedAt": recorded,
        "duration": round(1000 * n / raw["frequency"]),
        "deviceInfo": {
            "hardwareType": hardware[0],
            "hardwareRevision": hardware[1].removeprefix("hw") if len(hardware) > 1 else "",
            "firmwareRevision": hardware[2].removeprefix("fw") if len(hardware) > 2 else "",
        },
        "data": {"raw": raw},
    }
    out = HERE / "kardia_from_atc_sample.json"
    out.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(out, n, "samples at", raw["frequency"], "Hz")


if __name__ == "__main__":
    main(sys.argv[1])
