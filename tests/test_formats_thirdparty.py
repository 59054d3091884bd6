"""Every clinical reader on files the project did not write (issue 13). Sources and licenses:
tests/data/thirdparty/ATTRIBUTION.md.

Each file is read through ``ecgrecon info --json`` (a subprocess, as a user would) and checked against what the
file itself documents (leads, rate, length, patient, acquisition time, device); where the format is simple
enough, the samples are also decoded here with the standard library and compared with what ecgrecon gives.
"""

import base64
import json
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from ecgrecon import cli
from ecgrecon.errors import InputError
from ecgrecon.io import read_recording

DATA = Path(__file__).parent / "data" / "thirdparty"
STD12 = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
ELI250_ORDER = ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6", "III", "aVR", "aVL", "aVF"]

# file -> what the file documents
EXPECTED = {
    "hl7_aecg_example.xml": dict(  # the HL7 aECG example (Mortara ELI250), as shipped by C# ECG Toolkit
        leads=ELI250_ORDER, fs=500, n=5000, start="2002-11-22T09:10:00",
        patient={"id": "SBJ-123", "sex": "M", "age": "46"},  # the file's own "Reported Age" (LOINC 21612-7)
        device="Mortara Instrument, Inc. ELI250", ii=(-0.6675, 0.335)),
    "ecgtoolkit_example.scp": dict(  # SCP-ECG written by C# ECG Toolkit from that example
        leads=ELI250_ORDER, fs=500, n=5000, start="2002-11-22T09:10:00",
        patient={"id": "SBJ-123", "sex": "M", "age": "49"}, device="ELI250", ii=(-0.6675, 0.335)),
    "muse_guangxi_sinus_rhythm.xml": dict(  # GE MUSE 9 export, teaching example (MAC P cart)
        leads=["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"], fs=500, n=5000, start="2024-01-01T10:35:17",
        patient={"id": "00000000", "sex": "M", "age": "11"}, device="MAC P", ii=(-0.3172, 1.51768)),
    "sierra_1-03_129DYPRG.xml": dict(  # Philips SierraECG 1.03, HeartStart MRx, XLI-compressed
        leads=STD12, fs=500, n=5000, start="2011-12-01T07:27:34",
        patient={"id": "1112010721168bdc", "sex": "M", "age": "50"}, device="HeartstartMRx", ii=(-0.465, 0.625)),
    "sierra_1-04_deid_3.xml": dict(  # PhilipsECG 1.04 from a Cardiac Science device, de-identified (no date)
        leads=STD12, fs=500, n=5000, start=None, patient={"id": "XXXX", "sex": "U"},
        device="Cardiac Science", ii=(-0.3, 0.48)),
    "ishne_from_hl7_example.ecg": dict(  # ISHNE written by ishneholterlib from the aECG example's digits
        leads=ELI250_ORDER, fs=500, n=5000, start="2002-11-22T09:10:00",
        patient={"id": "SBJ-123", "sex": "M"}, device=None, ii=(-0.6675, 0.335)),
    "kardia_from_atc_sample.json": dict(  # a KardiaMobile recording (ATC) through AliveCor's atc2json
        leads=["I"], fs=300, n=9000, start="2023-02-16T14:48:49+01:00", patient={},
        device="AliveCor triangle 1.3.4", ii=None),
}


@cache
def _info(name: str) -> dict:
    r = subprocess.run([sys.executable, "-m", "ecgrecon.cli", "info", str(DATA / name), "--json"],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@cache
def _rec(name: str):
    return read_recording(DATA / name)


def test_every_clinical_reader_has_a_third_party_file():
    import ecgrecon.io.clinical_io as clinical

    suffixes = {Path(name).suffix for name in EXPECTED}
    names = {clinical.SUFFIXES[s] for s in suffixes}
    assert {".xml", ".scp", ".ecg", ".json"} <= suffixes  # aECG, MUSE, Sierra; SCP; ISHNE; Kardia
    assert "MFER" not in names  # no redistributable MFER file exists, nor an independent writer (ATTRIBUTION.md)
    for name in EXPECTED:
        assert (DATA / name).stat().st_size < 1_000_000
        assert name in (DATA / "ATTRIBUTION.md").read_text()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_info_reads_what_the_file_documents(name):
    exp, d = EXPECTED[name], _info(name)
    assert d["leads"] == exp["leads"] and d["n_leads"] == len(exp["leads"])
    assert d["fs_hz"] == exp["fs"] and d["n_samples"] == exp["n"]
    assert d["duration_s"] == pytest.approx(exp["n"] / exp["fs"])
    assert d["units"] == "mV" and set(d["roles"]) == {"unknown"} and d["reconstruction"] is None
    assert d["start_time"] == exp["start"]
    assert d["patient"] == exp["patient"]
    assert d["quality"] == []  # no flat, clipped or Einthoven-breaking lead in these real recordings
    if d["einthoven_max_uv"] is not None:
        assert d["einthoven_max_uv"] <= 10.0
    rec = _rec(name)
    if exp["device"]:
        assert any(c.startswith("device: ") and exp["device"] in c for c in rec.meta.comments), rec.meta.comments
    # plausible millivolts: lead II (lead I for the single-lead Kardia) has the extremes the file's counts give
    lead = rec.signals[rec.leads.index("II" if "II" in rec.leads else "I")]
    if exp["ii"]:
        assert (float(lead.min()), float(lead.max())) == pytest.approx(exp["ii"], abs=1e-4)
    assert 0.3 < float(np.ptp(lead)) < 5.0
    assert float(np.abs(rec.signals).max()) < 5.0  # mV, not uV or counts


def _aecg_rhythm(path: Path) -> dict[str, np.ndarray]:
    """The first sequenceSet of an aECG, decoded here: digits x scale (uV) + origin -> mV."""
    ns = {"h": "urn:hl7-org:v3"}
    seqset = ET.parse(path).getroot().find(".//h:series/h:component/h:sequenceSet", ns)
    out = {}
    for seq in seqset.findall("h:component/h:sequence", ns):
        code, value = seq.find("h:code", ns).get("code"), seq.find("h:value", ns)
        if code.startswith("MDC_ECG_LEAD_"):
            scale = float(value.find("h:scale", ns).get("value"))
            origin = float(value.find("h:origin", ns).get("value"))
            out[code[len("MDC_ECG_LEAD_"):]] = (np.array(value.find("h:digits", ns).text.split(), float) * scale
                                                + origin) / 1000.0
    return out


def test_aecg_samples_are_the_digits_times_the_scale():
    ref = _aecg_rhythm(DATA / "hl7_aecg_example.xml")
    rec = _rec("hl7_aecg_example.xml")
    assert [k.upper() for k in ref] == [n.upper() for n in rec.leads]
    assert np.allclose(rec.signals, np.array(list(ref.values())), atol=1e-6)


def test_scp_and_ishne_from_the_same_ecg_give_the_same_samples():
    """ECG Toolkit's SCP-ECG and ishneholterlib's ISHNE both carry the aECG example's ECG, losslessly."""
    a = _rec("hl7_aecg_example.xml")
    for name in ("ecgtoolkit_example.scp", "ishne_from_hl7_example.ecg"):
        r = _rec(name)
        assert r.leads == a.leads
        assert np.abs(r.signals - a.signals).max() <= 1e-6, name


def test_ishne_header_and_samples_as_written():
    raw = (DATA / "ishne_from_hl7_example.ecg").read_bytes()
    assert raw[:8] == b"ISHNE1.0"
    n, _, ecg_offset = struct.unpack_from("<iii", raw, 14)
    nleads, = struct.unpack_from("<h", raw, 156)
    res_nv = struct.unpack_from("<12h", raw, 206)
    fs, = struct.unpack_from("<h", raw, 272)
    assert (n, nleads, fs) == (5000, 12, 500) and set(res_nv) == {2500}
    counts = np.frombuffer(raw, "<i2", offset=ecg_offset).reshape(n, nleads).T
    assert np.allclose(_rec("ishne_from_hl7_example.ecg").signals, counts * 2500e-6, atol=1e-6)


def test_muse_samples_are_the_base64_counts_times_the_stated_resolution():
    root = ET.parse(DATA / "muse_guangxi_sinus_rhythm.xml").getroot()
    rhythm = [w for w in root.iter("Waveform") if w.findtext("WaveformType") == "Rhythm"]
    assert len(rhythm) == 1
    rec = _rec("muse_guangxi_sinus_rhythm.xml")
    leads = rhythm[0].findall("LeadData")
    assert [ld.findtext("LeadID") for ld in leads] == list(rec.leads)
    for ld, row in zip(leads, rec.signals, strict=True):
        counts = np.frombuffer(base64.b64decode(ld.findtext("WaveFormData")), "<i2")
        uv_per_count = float(ld.findtext("LeadAmplitudeUnitsPerBit"))
        assert ld.findtext("LeadAmplitudeUnits") == "MICROVOLTS" and len(counts) == 5000
        assert np.allclose(row, counts * uv_per_count / 1000.0, atol=1e-5)


def _atc_blocks(raw: bytes) -> dict[str, bytes]:
    """AliveCor ATC: 'ALIVE\\0\\0\\0', version, then blocks (4-byte id, length, payload, 4-byte checksum)."""
    assert raw[:8] == b"ALIVE\0\0\0"
    blocks, pos = {}, 12
    while pos < len(raw):
        bid, length = raw[pos:pos + 4].decode("ascii"), struct.unpack_from("<I", raw, pos + 4)[0]
        blocks[bid] = raw[pos + 8:pos + 8 + length]
        pos += 8 + length + 4
    return blocks


def test_kardia_samples_are_the_kardiamobile_counts():
    """The JSON's lead I is the ATC recording's 'ecg ' block, at the 500 nV the 'fmt ' block states."""
    blocks = _atc_blocks((DATA / "alivecor_sample_one.atc").read_bytes())
    _, fs, res_nv = struct.unpack_from("<BHH", blocks["fmt "])
    counts = np.frombuffer(blocks["ecg "], "<i2").astype(float)
    assert (fs, res_nv, len(counts)) == (300, 500, 9000)
    assert b"2023-02-16T14:48:49+0100" in blocks["info"]
    rec = _rec("kardia_from_atc_sample.json")
    assert np.allclose(rec.signals[0], counts * res_nv * 1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["sierra_1-03_129DYPRG.xml", "sierra_1-04_deid_3.xml"])
def test_sierra_leads_obey_einthoven_and_lose_the_calibration_second(name):
    text = (DATA / name).read_text(encoding="utf-8", errors="replace")
    assert re.search(r'durationperchannel="11000"', text)  # the file stores 11 s per channel
    rec = _rec(name)
    assert rec.n_samples == 5000  # 10 s of ECG
    assert any("calibration pulse" in w for w in rec.meta.warnings)
    s = dict(zip(rec.leads, rec.signals, strict=True))
    # XLI stores III, aVR, aVL, aVF as residuals of I and II: a wrong decode breaks these at once
    assert np.abs(s["III"] - (s["II"] - s["I"])).max() <= 0.0101
    assert np.abs(s["aVR"] + s["aVL"] + s["aVF"]).max() <= 0.0151
    same = np.ptp(rec.signals, axis=0) < 1e-9  # no stretch where every lead sits on one value (the pulse)
    assert not np.any(same & (np.abs(rec.signals[0]) > 0.5))


def test_sierra_xli_decoding_keeps_16_bits():
    """ecgdatakit 2.0.3 overflows int32 on deid_3.xml; the 16-bit decoder installed by the reader reads it,
    and gives exactly the library's samples on a file where nothing wraps."""
    from ecgdatakit.parsing.codecs import lzw, xli

    read_recording(DATA / "sierra_1-03_129DYPRG.xml")  # installs the decoder
    assert getattr(xli.xli_decode_deltas, "_ecgrecon", False)
    ours, library = xli.xli_decode_deltas, xli.xli_decode_deltas.original

    def chunks(name):
        text = (DATA / name).read_text(encoding="utf-8")
        m = re.search(r"<parsedwaveforms[^>]*>([^<]+)</parsedwaveforms>", text)
        data, pos, out = base64.b64decode("".join(m.group(1).split())), 0, []
        while pos < len(data):
            size, start = struct.unpack_from("<i", data, pos)[0], struct.unpack_from("<h", data, pos + 6)[0]
            out.append((lzw.LzwDecoder(data[pos + 8:pos + 8 + size], bits=10).read_all(), start))
            pos += 8 + size
        return out

    for buf, start in chunks("sierra_1-03_129DYPRG.xml"):
        assert np.array_equal(ours(buf, start), library(buf, start))
    wrapped = chunks("sierra_1-04_deid_3.xml")
    with pytest.raises(OverflowError):
        for buf, start in wrapped:
            library(buf, start)
    for buf, start in wrapped:
        x = ours(buf, start)
        assert x.min() >= -32768 and x.max() <= 32767


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_found_by_content_without_the_extension(name, tmp_path):
    p = tmp_path / "export"
    p.write_bytes((DATA / name).read_bytes())
    r = read_recording(p)
    assert r.leads == _rec(name).leads and r.n_samples == _rec(name).n_samples


@pytest.mark.parametrize("name", ["sierra_1-03_129DYPRG.xml", "sierra_1-04_deid_3.xml", "ecgtoolkit_example.scp",
                                  "kardia_from_atc_sample.json"])
def test_a_damaged_real_file_is_one_line_and_exit_2(name, tmp_path, capsys):
    raw = bytearray((DATA / name).read_bytes())
    bad = tmp_path / name
    if name.endswith(".xml"):  # damage the compressed waveform, keep the XML well formed
        text = raw.decode("utf-8")
        m = re.search(r"(<parsedwaveforms[^>]*>)([^<]+)", text)
        body = m.group(2)
        bad.write_text(text[:m.start(2)] + "AAAA" * (len(body) // 8) + text[m.end(2):], encoding="utf-8")
    else:
        bad.write_bytes(bytes(raw[: len(raw) // 3]))  # cut short
    with pytest.raises(InputError) as e:
        read_recording(bad)
    assert "\n" not in str(e.value) and str(bad) in str(e.value)
    assert cli.main(["info", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("ecgrecon: error:")


@pytest.mark.parametrize("keep_frames", [1000, 1644.5])  # whole frames; a frame cut in the middle
def test_a_truncated_holter_reads_what_is_there_and_says_so(keep_frames, tmp_path, capsys):
    """A Holter cut short still holds usable ECG: it is read, and info says the file may be truncated."""
    cut = tmp_path / "cut.ecg"
    cut.write_bytes((DATA / "ishne_from_hl7_example.ecg").read_bytes()[: 522 + int(keep_frames * 24)])
    assert cli.main(["info", "--json", str(cut)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["n_samples"] == int(keep_frames) and d["n_leads"] == 12
    assert any("truncated" in w for w in d["reader_warnings"])
