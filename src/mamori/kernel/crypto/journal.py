"""The key-destruction journal: one JSON line per crypto-shredded subject, ids and times only.

``Keystore.destroy_data_keys`` appends to it (and fsyncs) *before* deleting the keys, so a destruction that
happened is never missing from it. It lives with the keystore in the store's key directory, outside
``MAMORI_HOME`` and outside every data backup; ``mamori restore`` re-applies every destruction it records to an
old data backup (and to an old keystore backup), so a backup never brings an erased person back
(SECURITY.md §1 "the trap to avoid", docs/backup.md).

A line torn by a crash in the middle of an append is skipped by :func:`read_journal`: its keys were not yet
deleted (the journal is written first), so the interrupted erasure is simply run again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

try:  # POSIX: serialise appends from several processes
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Destruction:
    subject_id: str
    destroyed_at: str  # ISO 8601, as written


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def append_destructions(path: Path, subject_ids: Iterable[str], at: datetime) -> int:
    """Append one line per id, fsync, and return how many lines were written (file mode 0600)."""
    stamp = at.isoformat()
    data = "".join(
        json.dumps({"subject_id": s, "destroyed_at": stamp}, separators=(",", ":")) + "\n"
        for s in subject_ids
    ).encode("utf-8")
    if not data:
        return 0
    created = not path.exists()
    if created:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)  # also releases the lock
    if created:
        _fsync_dir(path.parent)
    return data.count(b"\n")


def read_journal(path: Path) -> list[Destruction]:
    """Every well-formed line, in order (a missing file is an empty journal; a torn line is skipped)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    out: list[Destruction] = []
    for line in raw.splitlines():
        try:
            doc = json.loads(line)
            subject_id, destroyed_at = doc["subject_id"], doc["destroyed_at"]
        except (ValueError, KeyError, TypeError):
            continue
        if isinstance(subject_id, str) and subject_id and isinstance(destroyed_at, str):
            out.append(Destruction(subject_id, destroyed_at))
    return out


def journal_length(path: Path) -> int:
    """The number of well-formed lines (what a backup manifest records)."""
    return len(read_journal(path))
