"""Seed records for each reader, built from resources/samples, and the mutations applied to them.

A *case* is a small folder of files (a record and what it names) plus the path the CLI would be given.
Mutations are byte-level (bit flips, interesting bytes, truncation, chunk duplication or removal),
text-field level for text formats (numbers replaced by 0, -1, 1e-36, 1e308, NaN, inf, huge counts; long
lines), structure-aware for containers (.npz arrays and .mat variables rewritten with NaN/Inf/huge values,
wrong types and shapes), and file-system level (odd names, a FIFO, a symlink leaving the folder).
"""

from __future__ import annotations

import io
import json
import random
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

READERS = ("wfdb", "challenge", "edf", "csv", "npz", "bspm_mat", "bspm_wfdb", "dicom", "aecg")


@dataclass
class Case:
    """Files by name (bytes; a special marker for a FIFO or a symlink) and the one to read."""

    reader: str
    files: dict[str, bytes | tuple[str, str]]
    target: str
    ops: list[str] = field(default_factory=list)

    def copy(self) -> Case:
        return Case(self.reader, dict(self.files), self.target, list(self.ops))


FIFO = ("fifo", "")


def symlink(to: str) -> tuple[str, str]:
    return ("symlink", to)


# -- seeds -------------------------------------------------------------------------------------------------
def seeds(samples: Path, work: Path) -> dict[str, list[Case]]:
    """One or two intact cases per reader (4 s of LUDB record 3 and its body surface map)."""
    from ..io import read_recording, write_recording
    from ..io.bspm_io import write_bspm_mat, write_bspm_wfdb

    work.mkdir(parents=True, exist_ok=True)
    rec = read_recording(samples / "ludb_3.hea").crop(0, 4.0)
    out: dict[str, list[Case]] = {}

    def files(*names: str, folder: Path = work) -> dict[str, bytes | tuple[str, str]]:
        return {n: (folder / n).read_bytes() for n in names}

    write_recording(rec, work / "r.hea")
    out["wfdb"] = [Case("wfdb", files("r.hea", "r.dat"), "r.hea")]
    out["challenge"] = [_challenge(rec)]
    write_recording(rec, work / "r.edf")
    out["edf"] = [Case("edf", files("r.edf"), "r.edf")]
    three = rec.select(["I", "II", "V2"])
    write_recording(three, work / "r.csv")
    out["csv"] = [Case("csv", files("r.csv"), "r.csv")]
    write_recording(rec, work / "r.npz")  # compressed
    raw = io.BytesIO()
    np.savez(raw, signals=rec.signals, fs=np.float64(rec.fs), leads=np.array(rec.leads), units=np.array("mV"))
    out["npz"] = [Case("npz", files("r.npz"), "r.npz"), Case("npz", {"r.npz": raw.getvalue()}, "r.npz")]
    bspm = read_recording(samples / "bspm" / "ludb_3_bspm.hea").crop(0, 2.0)
    write_bspm_mat(bspm, work / "m.mat")
    compressed = (work / "m.mat").read_bytes()
    from scipy.io import loadmat, savemat

    m = {k: v for k, v in loadmat(work / "m.mat").items() if not k.startswith("__")}
    plain = io.BytesIO()
    savemat(plain, m, do_compression=False)  # the form whose damage segfaulted scipy
    out["bspm_mat"] = [Case("bspm_mat", {"m.mat": compressed}, "m.mat"),
                       Case("bspm_mat", {"m.mat": plain.getvalue()}, "m.mat")]
    write_bspm_wfdb(bspm, work / "b.hea")
    layout = (samples.parent / "layouts" / "bspm35.json").read_bytes()
    b = files("b.hea", "b.dat")
    with_file = dict(b)
    with_file["b.hea"] = re.sub(rb"# bspm-layout: \S+", b"# bspm-layout: lay.json", b["b.hea"])
    with_file["lay.json"] = layout
    out["bspm_wfdb"] = [Case("bspm_wfdb", b, "b.hea"), Case("bspm_wfdb", with_file, "b.hea")]
    write_recording(rec, work / "r.dcm")
    out["dicom"] = [Case("dicom", files("r.dcm"), "r.dcm")]
    write_recording(rec, work / "r.xml")
    out["aecg"] = [Case("aecg", files("r.xml"), "r.xml")]
    return out


def _challenge(rec) -> Case:
    from scipy.io import savemat

    d = np.round(np.nan_to_num(rec.signals) * 1000).astype(np.int16)
    buf = io.BytesIO()
    savemat(buf, {"val": d}, format="4")
    lines = [f"c {len(rec.leads)} {rec.fs:g} {rec.n_samples}"]
    lines += [f"c.mat 16+24 1000/mV 16 0 0 0 0 {n}" for n in rec.leads]
    return Case("challenge", {"c.hea": ("\n".join(lines) + "\n").encode(), "c.mat": buf.getvalue()}, "c.hea")


# -- mutations ---------------------------------------------------------------------------------------------
INTERESTING = ["0", "-1", "1", "1e-36", "1e-300", "1e308", "1e39", "-1e39", "nan", "NaN", "inf", "-inf", "99999999",
               "2147483648", "9223372036854775808", "0.0001", "-500", "", "abc", "1/0", "+", "1e", "0x10"]
BYTES = [0x00, 0xFF, 0x7F, 0x80, 0x20, 0x0A, 0x2C, 0x3B, 0x30, 0x39]
TEXT_EXT = (".hea", ".csv", ".xml", ".json")


def mutate(case: Case, rng: random.Random) -> Case:
    """A copy of ``case`` with one to three mutations (names recorded in ``ops``)."""
    c = case.copy()
    want = rng.choice((1, 1, 1, 2, 3))
    for _ in range(50):  # operators that do not fit this reader skip; draw until enough applied
        if len(c.ops) >= want:
            break
        op = rng.choices(_OPS, weights=[w for _, w in _OPS_W])[0]
        try:
            op(c, rng)
        except Exception:  # noqa: BLE001 - _Skip, or an operator meeting data it cannot work on: draw another
            continue
    return c


class _Skip(Exception):
    pass


def _pick(c: Case, rng: random.Random, *, text: bool | None = None) -> str:
    names = [n for n, v in c.files.items() if isinstance(v, bytes)
             and (text is None or n.lower().endswith(TEXT_EXT) == text)]
    if not names:
        raise _Skip
    # the file given on the command line most often, the others (signal files, layouts) too
    return c.target if c.target in names and rng.random() < 0.6 else rng.choice(names)


def _bytes(c: Case, name: str) -> bytearray:
    v = c.files[name]
    assert isinstance(v, bytes)
    return bytearray(v)


def op_bitflip(c: Case, rng: random.Random) -> None:
    n = _pick(c, rng)
    b = _bytes(c, n)
    if not b:
        raise _Skip
    for _ in range(rng.choice((1, 1, 2, 4, 8))):
        b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    c.files[n] = bytes(b)
    c.ops.append(f"bitflip:{n}")


def op_byteset(c: Case, rng: random.Random) -> None:
    n = _pick(c, rng)
    b = _bytes(c, n)
    if not b:
        raise _Skip
    for _ in range(rng.choice((1, 2, 4))):
        b[rng.randrange(len(b))] = rng.choice(BYTES)
    c.files[n] = bytes(b)
    c.ops.append(f"byteset:{n}")


def op_truncate(c: Case, rng: random.Random) -> None:
    n = _pick(c, rng)
    b = c.files[n]
    assert isinstance(b, bytes)
    cut = rng.choice((0, 1, rng.randrange(max(1, len(b))), len(b) - 1, len(b) // 2))
    c.files[n] = b[:max(0, cut)]
    c.ops.append(f"truncate:{n}@{cut}")


def op_chunk(c: Case, rng: random.Random) -> None:
    n = _pick(c, rng)
    b = c.files[n]
    assert isinstance(b, bytes)
    if len(b) < 4:
        raise _Skip
    i = rng.randrange(len(b))
    j = min(len(b), i + rng.choice((1, 8, 64, 512, 4096)))
    c.files[n] = b[:i] + b[i:j] * rng.choice((0, 2, 16)) + b[j:]
    c.ops.append(f"chunk:{n}")


_NUM = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def op_field(c: Case, rng: random.Random) -> None:
    """A number in a text file (header field, CSV cell, XML attribute) replaced by an interesting value."""
    n = _pick(c, rng, text=True)
    b = c.files[n]
    assert isinstance(b, bytes)
    nums = list(_NUM.finditer(b[:200_000]))
    if not nums:
        raise _Skip
    # headers' first lines hold the fields that matter most: favour the start of the file
    m = nums[min(len(nums) - 1, int(rng.expovariate(1 / 20)))] if rng.random() < 0.7 else rng.choice(nums)
    val = rng.choice(INTERESTING).encode()
    c.files[n] = b[:m.start()] + val + b[m.end():]
    c.ops.append(f"field:{n}:{m.group().decode()}->{val.decode()}")


def op_line(c: Case, rng: random.Random) -> None:
    """A text file with a line made long, duplicated, removed, or emptied of its separators."""
    n = _pick(c, rng, text=True)
    b = c.files[n]
    assert isinstance(b, bytes)
    lines = b.split(b"\n")
    k = min(len(lines) - 1, int(rng.expovariate(1 / 5)))
    kind = rng.choice(("long", "dup", "drop", "spaces", "comment"))
    if kind == "long":
        lines[k] = lines[k] + rng.choice((b"1", b" ", b"x", b"\t", b"#")) * rng.choice((300, 5000, 100_000))
    elif kind == "dup":
        lines.insert(k, lines[k])
    elif kind == "drop":
        del lines[k]
    elif kind == "spaces":
        lines[k] = b" ".join(lines[k].split())
    else:
        lines.insert(k, b"# " + rng.choice((b"bspm-layout: /etc/passwd.json", b"bspm-layout: ../x.json",
                                            b"ecgrecon-role I: reconstructed", b"age: " + b" " * 20000 + b"x")))
    c.files[n] = b"\n".join(lines)
    c.ops.append(f"line:{kind}:{n}:{k}")


def op_npz(c: Case, rng: random.Random) -> None:
    """Structure-aware .npz damage: arrays rewritten with bad values, types or shapes."""
    n = next((k for k in c.files if k.endswith(".npz") and isinstance(c.files[k], bytes)), None)
    if n is None:
        raise _Skip
    try:
        with np.load(io.BytesIO(c.files[n]), allow_pickle=False) as z:  # type: ignore[arg-type]
            arrays = {k: z[k] for k in z.files}
    except Exception:  # noqa: BLE001 - already damaged by an earlier mutation
        raise _Skip from None
    sig = np.asarray(arrays.get("signals", np.zeros((2, 10))), np.float64).copy()
    choice = rng.randrange(9)
    if choice == 0 and sig.size:
        idx = rng.randrange(sig.size)
        sig.flat[idx] = rng.choice((np.nan, np.inf, -np.inf, 1e39, 1e308, -1e308))
        arrays["signals"] = sig
    elif choice == 1:
        arrays["fs"] = np.asarray(rng.choice((0.0, -500.0, np.nan, np.inf, 1e-4, 1e12, "abc")))
    elif choice == 2:
        leads = [str(x) for x in arrays.get("leads", [])]
        if leads:
            leads[rng.randrange(len(leads))] = rng.choice(("", " ", leads[0], "x" * 10000, "\n"))
        arrays["leads"] = np.array(leads)
    elif choice == 3:
        arrays["signals"] = rng.choice((sig.ravel(), sig[None], sig.astype(np.complex64), np.array("text"),
                                        np.zeros((0, 0)), sig[:, :0]))
    elif choice == 4:
        arrays["units"] = np.array(rng.choice(("kV", "", "uV", "V", "mV" * 1000)))
    elif choice == 5:
        arrays["signals"] = sig * rng.choice((1e30, 1e300, -1e300, 0.0))
    elif choice == 6:
        arrays.pop(rng.choice(list(arrays)))
    elif choice == 7:
        arrays["ecgrecon"] = np.array(rng.choice(('{"roles": 5}', "{", '{"provenance": {"model_id": 1}}')))
    else:
        arrays["leads"] = np.arange(len(arrays.get("leads", [])))
    buf = io.BytesIO()
    (np.savez_compressed if rng.random() < 0.5 else np.savez)(buf, **arrays)
    c.files[n] = buf.getvalue()
    c.ops.append(f"npz:{choice}")


def op_mat(c: Case, rng: random.Random) -> None:
    """Structure-aware .mat damage: variables with NaN/Inf/huge values, text where numbers go, paths."""
    n = next((k for k in c.files if k.endswith(".mat") and isinstance(c.files[k], bytes)), None)
    if n is None or c.reader == "challenge":
        raise _Skip
    from scipy.io import loadmat, savemat

    from ..io.guarded import call_guarded

    data = c.files[n]
    try:  # in a forked child: an earlier bit flip can make loadmat segfault, which must not end the fuzz run
        loaded = call_guarded(lambda: loadmat(io.BytesIO(data)), n, what="loadmat", timeout_s=10.0)  # type: ignore
        m = {k: v for k, v in loaded.items() if not k.startswith("__")}
    except Exception:  # noqa: BLE001 - already damaged
        raise _Skip from None
    pot = np.asarray(m.get("potvals", np.zeros((35, 10))), np.float64).copy()
    choice = rng.randrange(8)
    if choice == 0 and pot.size:
        pot.flat[rng.randrange(pot.size)] = rng.choice((np.nan, np.inf, 1e39, -1e308))
        m["potvals"] = pot
    elif choice == 1:
        m["fs"] = rng.choice(("abc", np.zeros((0, 0)), -1.0, 0.0, 1e-4, np.nan, np.array([500.0, 250.0])))
    elif choice == 2:
        m["layout"] = rng.choice(("/etc/passwd", "../lay.json", "no_such", "x" * 300, "lay.json", ""))
    elif choice == 3:
        m["units"] = rng.choice(("kV", "", 5.0, "uV"))
    elif choice == 4:
        m["potvals"] = rng.choice((pot.T, pot[:, :0], pot.ravel(), "text", pot.astype(np.complex128)))
    elif choice == 5:
        names = list(np.asarray(m.get("names", np.array([], dtype=object))).ravel())
        if names:
            names[rng.randrange(len(names))] = rng.choice(("", names[0], "RA-LA"))
        m["names"] = np.array(names[: rng.choice((len(names), 3))], dtype=object)
    elif choice == 6:
        m["potvals"] = pot * rng.choice((1e30, 1e300))
    else:
        m.pop(rng.choice(list(m)))
    buf = io.BytesIO()
    savemat(buf, m, do_compression=rng.random() < 0.5)
    out = bytearray(buf.getvalue())
    out[:116] = b"MATLAB 5.0 MAT-file, ecgrecon fuzz".ljust(116)  # no "Created on" clock: case i is case i
    c.files[n] = bytes(out)
    c.ops.append(f"mat:{choice}")


def op_name(c: Case, rng: random.Random) -> None:
    """Odd names: the file given renamed (304 characters, Unicode, spaces, no extension), or a signal file
    named in a header renamed to a long or outside name."""
    kind = rng.choice(("long", "unicode", "space", "hea_long", "hea_outside"))
    if kind.startswith("hea"):
        hea = next((k for k in c.files if k.endswith(".hea")), None)
        sig = next((k for k in c.files if k.endswith((".dat", ".mat")) and k != c.target), None)
        if hea is None or sig is None or not isinstance(c.files[hea], bytes):
            raise _Skip
        new = "y" * 300 + ".dat" if kind == "hea_long" else "../outside.dat"
        c.files[hea] = c.files[hea].replace(sig.encode(), new.encode())  # type: ignore[union-attr]
        c.ops.append(f"name:{kind}")
        return
    stem, _, ext = c.target.rpartition(".")
    new_stem = {"long": "x" * 300, "unicode": "ЭКГ_üx", "space": "a b"}[kind]
    if c.target.endswith(".hea"):  # a WFDB record: header and samples keep one stem
        for k in list(c.files):
            if k.startswith(stem + "."):
                c.files[k.replace(stem, new_stem, 1)] = c.files.pop(k)
    else:
        c.files[f"{new_stem}.{ext}"] = c.files.pop(c.target)
    c.target = f"{new_stem}.{ext}"
    c.ops.append(f"name:{kind}")


def op_special(c: Case, rng: random.Random) -> None:
    """A FIFO or a symlink leaving the folder in place of the file given or of a file it names."""
    names = [k for k in c.files if isinstance(c.files[k], bytes)]
    if not names:
        raise _Skip
    n = c.target if rng.random() < 0.4 else rng.choice(names)
    kind = rng.choice(("fifo", "passwd", "zero"))
    c.files[n] = FIFO if kind == "fifo" else symlink("/etc/passwd" if kind == "passwd" else "/dev/zero")
    c.ops.append(f"special:{kind}:{n}")


def op_zip(c: Case, rng: random.Random) -> None:
    """Zip container damage for .npz: a member flagged encrypted, a bad CRC, a member header cut."""
    n = next((k for k in c.files if k.endswith(".npz") and isinstance(c.files[k], bytes)), None)
    if n is None:
        raise _Skip
    b = _bytes(c, n)
    kind = rng.randrange(3)
    if kind == 0:
        b[6] |= 1
        cd = b.find(b"PK\x01\x02")
        if cd >= 0:
            b[cd + 8] |= 1
    elif kind == 1:
        b[14:18] = bytes(4)
    else:
        try:
            with zipfile.ZipFile(io.BytesIO(bytes(b))) as z:
                info = rng.choice(z.infolist())
            i = info.header_offset + 30 + len(info.filename)
            b[i:i + 20] = bytes(20)
        except Exception:  # noqa: BLE001
            raise _Skip from None
    c.files[n] = bytes(b)
    c.ops.append(f"zip:{kind}")


def op_json_layout(c: Case, rng: random.Random) -> None:
    """A layout file named by the recording with wrong types, or 20,000 electrodes."""
    if "lay.json" not in c.files or not isinstance(c.files["lay.json"], bytes):
        raise _Skip
    try:
        raw = json.loads(c.files["lay.json"])
    except ValueError:
        raise _Skip from None
    kind = rng.randrange(4)
    if kind == 0:
        raw["electrodes"] = [{"name": f"E{i}", "u": 0.5, "v": 0.5} for i in range(20_000)]
    elif kind == 1:
        raw["torso"] = [1, 2]
    elif kind == 2 and raw.get("electrodes"):
        raw["electrodes"][0]["xyz"] = ["a", None, {}]
    else:
        raw["configurations"] = {"x": 5}
    c.files["lay.json"] = json.dumps(raw).encode()
    c.ops.append(f"layout:{kind}")


_OPS_W = [(op_bitflip, 20), (op_byteset, 8), (op_truncate, 8), (op_chunk, 6), (op_field, 16), (op_line, 8),
          (op_npz, 10), (op_mat, 10), (op_name, 2), (op_special, 2), (op_zip, 3), (op_json_layout, 3)]
_OPS = [op for op, _ in _OPS_W]
