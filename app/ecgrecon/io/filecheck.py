"""Checks made on a path before any parser sees it: regular file, name length, inside the recording's folder.

A FIFO or a device handed to a parser blocks it forever (or reads without end); a symlink or a name inside a
recording may point anywhere on the disk; a 300-character name raises ENAMETOOLONG deep in a library. Each of
these becomes one line naming the file here, before wfdb, edfio, numpy or scipy open it.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ..errors import InputError

NAME_MAX = 255  # bytes per path component on Linux, macOS and Windows file systems

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def check_name(path: Path, report: str | Path | None = None) -> None:
    """Refuse a path whose components are longer than the file system allows, before the OS says ENAMETOOLONG."""
    for part in Path(path).parts:
        n = len(os.fsencode(part))
        if n > NAME_MAX:
            short = part[:40] + "..."
            raise InputError(f"file name {short!r} is {n} bytes long; the limit is {NAME_MAX}",
                             report if report is not None else path)


# a temporary beside an output is named ".ecgrecon~<pid>~<random>~<name>.ecgrecon.json" at worst (tempfiles)
TEMP_ROOM = 48


def check_output_name(path: Path) -> None:
    """An output name leaves room for the temporary it is written through and for its sidecar."""
    check_name(Path(path).parent)
    n = len(os.fsencode(Path(path).name))
    if n > NAME_MAX - TEMP_ROOM:
        raise InputError(f"output file name is {n} bytes long; the limit for an output is {NAME_MAX - TEMP_ROOM}",
                         path)


def check_regular(path: str | Path, what: str = "file", report: str | Path | None = None) -> os.stat_result:
    """``path`` exists, is a regular file (symlinks followed) and is not empty; else one line.

    ``report`` is the file named in the message (the header when ``path`` is a signal file it names)."""
    p = Path(path)
    where = report if report is not None else p
    check_name(p, where)
    prefix = "" if report is None else f"{what} {p.name} "
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise InputError(f"{prefix}not found" if prefix else "file not found", where) from None
    except OSError as e:
        if e.errno == errno.ENAMETOOLONG:
            raise InputError(f"{prefix}name is too long for the file system", where) from None
        if e.errno == errno.ELOOP:
            raise InputError(f"{prefix}is a symlink loop", where) from None
        raise InputError(f"{prefix}cannot be opened ({e.strerror})", where) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{prefix}is a folder, not a file", where)
    for test, kind in _KINDS:
        if test(st.st_mode):
            raise InputError(f"{prefix}is {kind}, not a regular file", where)
    if st.st_size == 0:
        raise InputError(f"{prefix}is empty" if prefix else "file is empty", where)
    return st


def inside(folder: Path, target: Path) -> bool:
    """True when ``target`` (symlinks resolved) lies in ``folder`` (symlinks resolved) or below it."""
    try:
        t = Path(target).resolve()
        f = Path(folder).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return False
    return t == f or f in t.parents


def referenced_file(recording: Path, name: str, what: str) -> Path:
    """A file named inside ``recording`` (a signal file, a layout): relative to the recording's folder and,
    after symlinks, inside it. An absolute name or one with ``..`` that leaves the folder is refused: a
    recording must not make the program read an arbitrary file of the user's (``/etc/passwd``)."""
    folder = Path(recording).parent
    check_name(Path(name), recording)
    target = folder / name
    if not inside(folder, target):
        raise InputError(f"{what} {name!r} lies outside the recording's folder; refusing to read it", recording)
    return target
