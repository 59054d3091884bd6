"""NumPy .npz: arrays ``signals`` (leads x samples), ``fs``, ``leads``, optional ``units``."""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..recording import Meta, Recording, Role
from . import provenance
from .common import atomic_write, canonical_names, check_fs, check_size, unit_factor


def read_npz(path: Path) -> Recording:
    try:
        with np.load(path, allow_pickle=False) as z:  # never unpickle user files
            keys = set(z.files)
            key = "signals" if "signals" in keys else "data" if "data" in keys else None
            if key is None:
                raise InputError(f"npz needs an array 'signals' (leads x samples); found {sorted(keys)}", path)
            shape = _peek_shape(z, key)
            if shape is not None and len(shape) == 2:
                check_size(1, int(np.prod(shape, dtype=np.int64)), path)  # before loading it
            sig = np.asarray(z[key])
            if "fs" not in keys:
                raise InputError("npz needs a scalar 'fs' (sampling rate)", path)
            fs_arr = np.asarray(z["fs"]).reshape(-1)
            if fs_arr.size != 1:
                raise InputError(f"npz 'fs' must be one number, got {fs_arr.size} values", path)
            fs = check_fs(fs_arr[0], path)
            leads = [str(x) for x in np.asarray(z["leads"]).reshape(-1)] if "leads" in keys else None
            u = np.asarray(z["units"]).reshape(-1) if "units" in keys else np.array(["mV"])
            if u.size != 1:
                raise InputError(f"npz 'units' must be one unit for all leads, got {u.size} values", path)
            units = str(u[0])
            extra = str(np.asarray(z["ecgrecon"]).reshape(-1)[0]) if "ecgrecon" in keys else ""
            file_roles = [str(x) for x in np.asarray(z["roles"]).reshape(-1)] if "roles" in keys else []
    except InputError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise InputError(f"not a readable .npz ({' '.join(str(e).split())[:160]})", path) from None
    except RuntimeError as e:  # zipfile: a member flagged encrypted
        raise InputError(f"not a readable .npz ({' '.join(str(e).split())[:160]})", path) from None
    if sig.ndim != 2 or not (np.issubdtype(sig.dtype, np.integer) or np.issubdtype(sig.dtype, np.floating)):
        raise InputError(f"'{key}' must be a 2-D array of real numbers, got {sig.dtype} of shape {sig.shape}", path)
    if leads is None:
        raise InputError("npz needs an array 'leads' naming the rows", path)
    if len(leads) != sig.shape[0]:
        if len(leads) == sig.shape[1]:
            sig = sig.T  # samples x leads, as many tools save it
        else:
            raise InputError(f"{len(leads)} lead names for an array of shape {sig.shape}", path)
    check_size(sig.shape[0], sig.shape[1], path)
    sig = sig.astype(np.float64) * unit_factor(units, path)
    sig[~np.isfinite(sig)] = np.nan  # +-inf is a missing sample, like NaN
    meta = Meta(record_id=path.stem, source=str(path), units_found=(units,) * len(leads))
    names = canonical_names(leads, path)
    rec = Recording(sig.astype(np.float32), fs, names, meta=meta)
    roles, prov = None, None
    if extra:
        try:
            roles, prov = provenance.from_json(json.loads(extra), names)
        except ValueError:
            pass
    if roles is None and len(file_roles) == len(names) and all(r in Role._value2member_map_ for r in file_roles):
        roles = tuple(Role(r) for r in file_roles)
    return provenance.apply(rec, roles, prov)


def _peek_shape(z, key: str) -> tuple[int, ...] | None:
    """Shape of an array in the archive, read from its header without loading the data."""
    try:
        with z.zip.open(f"{key}.npy") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, _ = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, _, _ = np.lib.format.read_array_header_2_0(fh)
            else:
                return None
            return tuple(int(n) for n in shape)
    except Exception:
        return None  # let the normal load report what is wrong


def write_npz(rec: Recording, path: Path) -> None:
    def _w(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            np.savez_compressed(fh, signals=rec.signals, fs=np.float64(rec.fs), leads=np.array(rec.leads),
                                units=np.array("mV"), roles=np.array([r.value for r in rec.roles]),
                                ecgrecon=np.array(json.dumps(provenance.to_json(rec))))

    atomic_write(path, _w)
