"""DICOM waveform ECG out (pydicom): 12-Lead ECG Waveform Storage, or General ECG Waveform Storage when the
recording does not fit the 12-lead IOD (other leads, over 16 s, outside 200-1000 Hz).

Roles and provenance go where a PACS viewer shows them and where ecgrecon reads them back:
- each channel's label says its role ("V1 RECONSTR"), and a waveform annotation per derived or reconstructed
  lead says it in words ("V1: reconstructed by model I-II-V3.ensemble v2.0.0 from measured I, II, V3");
- Series Description and Derivation Description name the model, the measured leads and the preprocessing;
  Waveform Originality is DERIVED when any lead is not measured;
- a private block (creator "ECGRECON 1", element (0099,1001)) holds the exact roles and provenance as JSON.
Reading DICOM goes through ecgdatakit (:mod:`ecgrecon.io.clinical_io`), with this block applied on top.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..leads import STANDARD_12
from ..recording import Recording, Role
from . import provenance
from .common import atomic_write

TWELVE_LEAD_SOP = "1.2.840.10008.5.1.4.1.1.9.1.1"
GENERAL_ECG_SOP = "1.2.840.10008.5.1.4.1.1.9.1.2"
PRIVATE_GROUP, PRIVATE_CREATOR = 0x0099, "ECGRECON 1"
# DICOM PS3.16 CID 3001 (ECG leads), SCPECG coding scheme
LEAD_CODES = {"I": "5.6.3-9-1", "II": "5.6.3-9-2", "V1": "5.6.3-9-3", "V2": "5.6.3-9-4", "V3": "5.6.3-9-5",
              "V4": "5.6.3-9-6", "V5": "5.6.3-9-7", "V6": "5.6.3-9-8", "III": "5.6.3-9-61", "aVR": "5.6.3-9-62",
              "aVL": "5.6.3-9-63", "aVF": "5.6.3-9-64"}
ROLE_TAG = {Role.MEASURED: "MEASURED", Role.DERIVED: "DERIVED", Role.RECONSTRUCTED: "RECONSTR", Role.UNKNOWN: ""}


def _code(value: str, scheme: str, meaning: str):
    from pydicom.dataset import Dataset

    c = Dataset()
    c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning = value, scheme, meaning
    return c


def _dicom_dt(t: datetime | None) -> tuple[str, str]:
    t = t or datetime.now()
    return t.strftime("%Y%m%d"), t.strftime("%H%M%S")


def write_dicom(rec: Recording, path: Path) -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    if not 1 <= len(rec.leads) <= 13 or rec.n_samples < 1:
        raise InputError("DICOM ECG output needs 1 to 13 leads", path)
    twelve = (set(rec.leads) <= set(STANDARD_12) and rec.duration <= 16.0 and 200 <= rec.fs <= 1000)
    sop = TWELVE_LEAD_SOP if twelve else GENERAL_ECG_SOP
    sig = np.nan_to_num(rec.signals.astype(np.float64))
    peak = float(np.max(np.abs(sig))) if sig.size else 0.0
    res_uv = 1.0 if peak < 32.0 else float(f"{peak * 1000.0 / 32000.0:.4g}")  # uV per count; int16 range
    counts = np.clip(np.round(sig * 1000.0 / res_uv), -32768, 32767).astype("<i2")

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = sop, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "ECG"
    p = rec.meta.patient
    ds.PatientName = p.get("name", "")
    ds.PatientID = p.get("id", p.get("patient_id", rec.meta.record_id))[:64]
    sex = str(p.get("sex", "")).upper()[:1]
    ds.PatientSex = sex if sex in ("M", "F", "O") else ""
    if str(p.get("age", "")).isdigit():
        ds.PatientAge = f"{int(p['age']):03d}Y"
    ds.StudyDate, ds.StudyTime = _dicom_dt(rec.meta.start_time)
    ds.ContentDate, ds.ContentTime = _dicom_dt(None)
    ds.AcquisitionDateTime = "".join(_dicom_dt(rec.meta.start_time))
    ds.Manufacturer = "ecgrecon"
    from .. import __version__

    ds.SoftwareVersions = __version__
    ds.AccessionNumber, ds.ReferringPhysicianName, ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "", "", "", 1, 1
    prov = rec.meta.reconstruction
    not_measured = any(r in (Role.DERIVED, Role.RECONSTRUCTED) for r in rec.roles)
    if prov is not None:
        words = (f"RECONSTRUCTED ECG: measured {', '.join(prov.measured_leads)}; other leads computed by model "
                 f"{prov.model_id} v{prov.model_version}"
                 + (f", {prov.patient_calibration}" if prov.patient_calibration else ""))
        ds.SeriesDescription = words[:64]
        ds.DerivationDescription = (words + f"; preprocessing: {prov.preprocessing}; {prov.software}")[:1024]
    else:
        ds.SeriesDescription = f"ECG {rec.meta.record_id}"[:64]

    mg = Dataset()
    mg.MultiplexGroupTimeOffset = 0.0
    mg.WaveformOriginality = "DERIVED" if not_measured or prov is not None else "ORIGINAL"
    mg.NumberOfWaveformChannels = len(rec.leads)
    mg.NumberOfWaveformSamples = rec.n_samples
    mg.SamplingFrequency = rec.fs
    mg.MultiplexGroupLabel = "RECON 12-LEAD" if prov is not None else "ECG"  # SH: 16 characters at most
    chans = []
    for name, role in zip(rec.leads, rec.roles, strict=True):
        ch = Dataset()
        code = LEAD_CODES.get(name)
        ch.ChannelSourceSequence = [_code(code, "SCPECG", f"Lead {name}") if code
                                    else _code(name[:16], "99ECGRECON", name)]
        ch.ChannelLabel = (f"{name} {ROLE_TAG[role]}".strip())[:16]
        ch.ChannelSensitivity = res_uv
        ch.ChannelSensitivityUnitsSequence = [_code("uV", "UCUM", "microvolt")]
        ch.ChannelSensitivityCorrectionFactor = 1
        ch.ChannelBaseline = 0
        ch.ChannelTimeSkew = 0
        ch.WaveformBitsStored = 16
        chans.append(ch)
    mg.ChannelDefinitionSequence = chans
    mg.WaveformBitsAllocated = 16
    mg.WaveformSampleInterpretation = "SS"
    mg.WaveformData = counts.T.tobytes()  # samples x channels, interleaved
    ds.WaveformSequence = [mg]
    notes = []
    for k, (name, role) in enumerate(zip(rec.leads, rec.roles, strict=True)):
        if role in (Role.DERIVED, Role.RECONSTRUCTED):
            a = Dataset()
            a.UnformattedTextValue = provenance.role_sentence(name, role, prov)[:1024]
            a.ReferencedWaveformChannels = [1, k + 1]
            notes.append(a)
    if notes:
        ds.WaveformAnnotationSequence = notes
    block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
    block.add_new(0x01, "LT", json.dumps(provenance.to_json(rec)))

    def _w(tmp: Path) -> None:
        ds.save_as(str(tmp), enforce_file_format=True)

    atomic_write(path, _w)


def ecgrecon_block(path: Path) -> dict | None:
    """The private roles/provenance JSON of a DICOM file ecgrecon wrote (None for others)."""
    import pydicom

    try:
        ds = pydicom.dcmread(str(path), stop_before_pixels=False, specific_tags=None)
        block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR)
        return json.loads(block[0x01].value)
    except Exception:  # noqa: BLE001 - no block, or not ours: the file's own labels stand
        return None
