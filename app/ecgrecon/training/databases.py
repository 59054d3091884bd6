"""Six 12-lead databases for training and leave-one-database-out validation.

LUDB (../shared/data/ludb) and five PhysioNet/CinC Challenge databases
(../shared/data/cinc: CPSC 2018, CPSC-Extra, G12EC Georgia, PTB-XL, PTB).
Every record is read with the app's reader (LUDB raw samples / 1000 mV),
resampled to 500 Hz when needed (PTB is 1000 Hz) and baseline-removed exactly
as the engine does. The split (``db_split.json``, committed) fixes per database
a development portion (training and every tuning decision) and a test portion
that nothing is tuned or trained on. PTB is one patient group (its README), so
it cannot be split by subject: all of it is test data, a database no model has
ever seen (and the only one recorded at 1000 Hz).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..conditioning import resample
from ..io import read_recording
from ..leads import STANDARD_12
from .data import FS, REPO, data_root, load_split, preprocess

HERE = Path(__file__).resolve().parent
DB_SPLIT_FILE = HERE / "db_split.json"
DATABASES = ("LUDB", "CPSC", "CPSC-Extra", "Georgia", "PTB-XL", "PTB")
# databases that are trained on (PTB is test-only, never trained on)
FOLD_DATABASES = ("LUDB", "CPSC", "CPSC-Extra", "Georgia", "PTB-XL")
# what each fold holds out: the three small databases (22, 10 and 9 development records) together, so a fold
# is trained on neither of them; stricter than one at a time, and 3 folds instead of 5 fit the 2-core budget
FOLD_GROUPS = (("LUDB",), ("CPSC",), ("CPSC-Extra", "Georgia", "PTB-XL"))
TEST_SHARE = 0.25


def database_of(record: str) -> str:
    """Database of a record name: LUDB subjects are 'ludb/N', cinc records keep their Challenge names."""
    if record.startswith("ludb/"):
        return "LUDB"
    head = record[0]
    return {"A": "CPSC", "Q": "CPSC-Extra", "E": "Georgia", "H": "PTB-XL", "S": "PTB"}[head]


def record_path(record: str) -> Path:
    if record.startswith("ludb/"):
        return data_root() / "ludb" / "data" / f"{record.split('/')[1]}.hea"
    return data_root() / "cinc" / "records" / f"{record}.hea"


def all_records() -> list[str]:
    names = [f"ludb/{n}" for n in range(1, 201)]
    cinc = data_root() / "cinc" / "records"
    names += sorted(p.stem for p in cinc.glob("*.hea"))
    return names


def make_split(seed: int = 2026) -> dict:
    """Development/test portions per database (LUDB keeps its existing 40 test subjects)."""
    recs = all_records()
    ludb = load_split()
    out: dict = {"seed": seed, "test_share": TEST_SHARE, "databases": {}}
    rng = np.random.default_rng(seed)
    for db in DATABASES:
        names = [r for r in recs if database_of(r) == db]
        if db == "LUDB":
            test = sorted(f"ludb/{s}" for s in ludb["test"])
        elif db == "PTB":
            test = sorted(names)  # one patient group: cannot be split by subject
        else:
            k = max(3, int(round(TEST_SHARE * len(names))))
            test = sorted(rng.choice(sorted(names), size=k, replace=False).tolist())
        dev = sorted(set(names) - set(test), key=names.index)
        out["databases"][db] = {"dev": dev, "test": test}
    return out


def load_db_split() -> dict:
    return json.loads(DB_SPLIT_FILE.read_text())


def load_signal(record: str) -> np.ndarray:
    """(12, n) float32 mV at 500 Hz, STANDARD_12 order, 0.5 Hz baseline removed."""
    rec = read_recording(record_path(record))
    sig = np.stack([rec.lead(n) for n in STANDARD_12]).astype(np.float64)
    if abs(rec.fs - FS) > 1e-6:
        sig = resample(sig, rec.fs, FS)
    return preprocess(sig, FS)


def cache_path() -> Path:
    return REPO / "runs" / "six_db_bl05.npz"


def load_all() -> dict[str, np.ndarray]:
    """Every record of the six databases, preprocessed; cached in runs/ (git-ignored)."""
    cp = cache_path()
    if cp.exists():
        z = np.load(cp)
        return {k.replace("__", "/"): z[k] for k in z.files}
    data = {r: load_signal(r) for r in all_records()}
    cp.parent.mkdir(parents=True, exist_ok=True)
    tmp = cp.with_suffix(".tmp.npz")
    np.savez(tmp, **{k.replace("/", "__"): v for k, v in data.items()})
    tmp.replace(cp)
    return data


def portion(split: dict, dbs, which: str) -> list[str]:
    return [r for db in dbs for r in split["databases"][db][which]]


def folds(split: dict, groups=FOLD_GROUPS) -> list[tuple[str, list[str], list[str], list[str]]]:
    """(held-out name, training records, held-out dev records, held-out test records) per fold.

    Each fold trains on the development portions of every trainable database outside its group."""
    out = []
    for group in groups:
        train = portion(split, [d for d in FOLD_DATABASES if d not in group], "dev")
        out.append(("+".join(group), train, portion(split, group, "dev"), portion(split, group, "test")))
    return out


def final_training(split: dict) -> list[str]:
    """What the bundled models are fitted on: the development portions of the five trainable databases."""
    return portion(split, FOLD_DATABASES, "dev")


if __name__ == "__main__":  # python -m ecgrecon.training.databases: (re)write the committed split
    s = make_split()
    DB_SPLIT_FILE.write_text(json.dumps(s, indent=1) + "\n")
    for db, v in s["databases"].items():
        print(f"{db}: {len(v['dev'])} dev, {len(v['test'])} test")
