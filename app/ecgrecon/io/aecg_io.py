"""HL7 aECG (Annotated ECG, the FDA's XML) out. Read back through ecgdatakit (:mod:`ecgrecon.io.clinical_io`).

One rhythm series: a TIME_ABSOLUTE sequence (head + increment) and one SLIST_PQ sequence per lead (MDC lead
codes, integer digits with origin and scale in uV). Roles and provenance ride in the series' annotation set:
one annotation per derived or reconstructed lead, its text in words and its region naming the lead, and one
annotation (code ECGRECON_PROVENANCE) holding the exact roles and provenance as JSON.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from ..errors import InputError
from ..recording import Recording, Role
from . import provenance
from .common import atomic_write

NS = "urn:hl7-org:v3"
MDC = "2.16.840.1.113883.6.24"
ACT = "2.16.840.1.113883.5.4"
MDC_LEAD = {"I": "MDC_ECG_LEAD_I", "II": "MDC_ECG_LEAD_II", "III": "MDC_ECG_LEAD_III", "aVR": "MDC_ECG_LEAD_AVR",
            "aVL": "MDC_ECG_LEAD_AVL", "aVF": "MDC_ECG_LEAD_AVF", "V1": "MDC_ECG_LEAD_V1", "V2": "MDC_ECG_LEAD_V2",
            "V3": "MDC_ECG_LEAD_V3", "V4": "MDC_ECG_LEAD_V4", "V5": "MDC_ECG_LEAD_V5", "V6": "MDC_ECG_LEAD_V6"}
PROVENANCE_CODE = "ECGRECON_PROVENANCE"


def _ts(t: datetime) -> str:
    return t.strftime("%Y%m%d%H%M%S.") + f"{t.microsecond // 1000:03d}"


def write_aecg(rec: Recording, path: Path) -> None:
    unknown = [n for n in rec.leads if n not in MDC_LEAD]
    if unknown:
        raise InputError(f"HL7 aECG output takes the 12 standard leads; {', '.join(unknown)} has no MDC code", path)
    t0 = rec.meta.start_time or datetime(2000, 1, 1)
    t1 = datetime.fromtimestamp(t0.timestamp() + rec.duration)
    sig = np.nan_to_num(rec.signals.astype(np.float64))
    digits = np.round(sig * 1000.0).astype(np.int64)  # 1 uV per digit
    prov = rec.meta.reconstruction
    title = (f"RECONSTRUCTED ECG: measured {', '.join(prov.measured_leads)}; other leads computed by model "
             f"{prov.model_id} v{prov.model_version}" if prov is not None else f"ECG {rec.meta.record_id}")
    from .. import __version__

    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<AnnotatedECG xmlns="{NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           'classCode="OBS" moodCode="EVN">',
           f'  <id root="{uuid.uuid4()}"/>',
           '  <code code="93000" codeSystem="2.16.840.1.113883.6.12" codeSystemName="CPT-4"/>',
           f"  <text>{escape(title)}</text>",
           f'  <effectiveTime><low value="{_ts(t0)}"/><high value="{_ts(t1)}"/></effectiveTime>',
           "  <componentOf><timepointEvent><componentOf><subjectAssignment><subject><trialSubject>",
           f'    <id extension={quoteattr(str(rec.meta.patient.get("id", rec.meta.record_id)))}/>',
           "  </trialSubject></subject></subjectAssignment></componentOf></timepointEvent></componentOf>",
           "  <component><series>",
           f'    <id root="{uuid.uuid4()}"/>',
           f'    <code code="RHYTHM" codeSystem="{ACT}" codeSystemName="ActCode"/>',
           f'    <effectiveTime><low value="{_ts(t0)}"/><high value="{_ts(t1)}"/></effectiveTime>',
           "    <author><seriesAuthor><manufacturedSeriesDevice>"
           f"<manufacturerModelName>ecgrecon</manufacturerModelName><softwareName>ecgrecon {__version__}"
           "</softwareName></manufacturedSeriesDevice></seriesAuthor></author>",
           "    <component><sequenceSet>",
           f'      <component><sequence><code code="TIME_ABSOLUTE" codeSystem="{ACT}" codeSystemName="ActCode"/>'
           f'<value xsi:type="GLIST_TS"><head value="{_ts(t0)}" unit="s"/>'
           f'<increment value="{1.0 / rec.fs:.9g}" unit="s"/></value></sequence></component>']
    for n, row in zip(rec.leads, digits, strict=True):
        out.append(f'      <component><sequence><code code="{MDC_LEAD[n]}" codeSystem="{MDC}" '
                   'codeSystemName="MDC"/><value xsi:type="SLIST_PQ"><origin value="0" unit="uV"/>'
                   f'<scale value="1" unit="uV"/><digits>{" ".join(map(str, row.tolist()))}</digits>'
                   "</value></sequence></component>")
    out.append("    </sequenceSet></component>")
    notes = []
    for n, role in zip(rec.leads, rec.roles, strict=True):
        if role in (Role.DERIVED, Role.RECONSTRUCTED):
            words = escape(provenance.role_sentence(n, role, prov))
            notes.append(f'        <component><annotation><code code="ECGRECON_LEAD_ROLE" codeSystemName="ecgrecon"/>'
                         f'<value xsi:type="ST">{words}</value><support><supportingROI>'
                         f'<code code="ROIFULL" codeSystem="{ACT}"/><component><boundary>'
                         f'<code code="{MDC_LEAD[n]}" codeSystem="{MDC}"/></boundary></component>'
                         "</supportingROI></support></annotation></component>")
    notes.append(f'        <component><annotation><code code="{PROVENANCE_CODE}" codeSystemName="ecgrecon"/>'
                 f'<value xsi:type="ST">{escape(json.dumps(provenance.to_json(rec)))}</value></annotation>'
                 "</component>")
    out += ["    <subjectOf><annotationSet>", *notes, "    </annotationSet></subjectOf>",
            "  </series></component>", "</AnnotatedECG>", ""]
    text = "\n".join(out)

    def _w(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    atomic_write(path, _w)


def ecgrecon_block(path: Path) -> dict | None:
    """The roles/provenance JSON an ecgrecon aECG carries (None for others)."""
    from defusedxml.ElementTree import parse  # never expand entities of an untrusted file

    try:
        root = parse(str(path)).getroot()
    except Exception:  # noqa: BLE001 - not our file, or not XML: the file's own labels stand
        return None
    for ann in root.iter(f"{{{NS}}}annotation"):
        code = ann.find(f"{{{NS}}}code")
        if code is not None and code.get("code") == PROVENANCE_CODE:
            val = ann.find(f"{{{NS}}}value")
            try:
                return json.loads(val.text or "") if val is not None else None
            except ValueError:
                return None
    return None
