"""Files the product writes for a person: spreadsheet-safe cells and output files that are never a trap.

Formula neutralisation (OWASP "CSV injection"): a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is run as a formula by Excel, LibreOffice and Google Sheets. Such a cell gets a single quote in
front; every other cell, and the rest of that cell, is kept exactly. Every CSV or spreadsheet export goes through
:func:`safe_cell` / :func:`csv_writer` / :func:`csv_dict_writer`.

Output files (``--out``, ``--report``, ``-o``): :func:`output_file` writes to a new temporary file beside the
target (``O_CREAT | O_EXCL | O_NOFOLLOW``, mode 0600), then publishes it in one step:

- without ``force`` by a hard link, which fails if anything (a file, a directory, a symbolic link, even a dangling
  one) already has the name — an existing file is refused in one line (:class:`OutputExists`);
- with ``force`` by ``rename``, which replaces the name itself: a symbolic link is replaced, never followed.

Nothing half-written is ever visible under the target name: an error inside the ``with`` block removes the
temporary file.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Literal, overload

from mamori.kernel.errors import Conflict, ValidationFailed

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PRIVATE_MODE = 0o600


def safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula; anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in row]


class _SafeWriter:
    """``csv.writer`` whose every cell is neutralised."""

    def __init__(self, fh: IO[str], **kwargs: Any) -> None:
        self._w = csv.writer(fh, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._w.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter(csv.DictWriter):  # type: ignore[type-arg]
    """``csv.DictWriter`` whose every cell (header included) is neutralised."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({k: safe_cell(v) for k, v in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for row in rowdicts:
            self.writerow(row)


def csv_writer(fh: IO[str], **kwargs: Any) -> _SafeWriter:
    return _SafeWriter(fh, **kwargs)


def csv_dict_writer(fh: IO[str], fieldnames: Sequence[str], **kwargs: Any) -> SafeDictWriter:
    return SafeDictWriter(fh, fieldnames=fieldnames, **kwargs)


# -- output files ------------------------------------------------------------------------------------------------


class OutputExists(Conflict):
    code = "file_exists"

    def __init__(self) -> None:
        super().__init__(
            "出力先のファイルが既に存在します（上書きするには --force）。",
            "The output file already exists (use --force to replace it).",
        )


class OutputUnwritable(ValidationFailed):
    code = "output_unwritable"


def _unwritable(exc: OSError) -> OutputUnwritable:
    if isinstance(exc, IsADirectoryError) or exc.errno == errno.EISDIR:
        return OutputUnwritable("出力先はフォルダです。", "The output path is a directory.")
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        return OutputUnwritable("出力先のフォルダがありません。", "The output folder does not exist.")
    if isinstance(exc, PermissionError):
        return OutputUnwritable(
            "出力先に書き込む権限がありません。", "No permission to write the output file."
        )
    return OutputUnwritable(
        "出力先に書き込めません。", f"The output file cannot be written ({exc.strerror})."
    )


def check_output(path: Path, *, force: bool = False) -> None:
    """Refuse early (before any work) a target that exists without ``force``, or that is a directory."""
    if os.path.lexists(path):
        if not force:
            raise OutputExists()
        if path.is_dir() and not path.is_symlink():
            raise _unwritable(IsADirectoryError(errno.EISDIR, "is a directory"))


def _publish(tmp: Path, path: Path, force: bool) -> None:
    if force:
        os.replace(tmp, path)  # replaces the name; a symbolic link there is replaced, not followed
        return
    try:
        os.link(tmp, path, follow_symlinks=False)  # EEXIST for anything under the name, links included
    except FileExistsError:
        raise OutputExists() from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        # a file system without hard links: a new exclusive file, then a copy of the bytes
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, PRIVATE_MODE)
        with os.fdopen(fd, "wb") as dst, open(tmp, "rb") as src:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
    os.unlink(tmp)


@overload
def output_file(
    path: Path, *, force: bool = ..., binary: Literal[False] = ..., newline: str | None = ..., mode: int = ...
) -> contextlib.AbstractContextManager[IO[str]]: ...
@overload
def output_file(
    path: Path, *, force: bool = ..., binary: Literal[True], newline: str | None = ..., mode: int = ...
) -> contextlib.AbstractContextManager[IO[bytes]]: ...
def output_file(
    path: Path,
    *,
    force: bool = False,
    binary: bool = False,
    newline: str | None = None,
    mode: int = PRIVATE_MODE,
) -> contextlib.AbstractContextManager[IO[Any]]:
    """A file to write ``path`` through; published on a clean exit of the ``with`` block, discarded otherwise."""
    return _output_file(Path(path), force=force, binary=binary, newline=newline, mode=mode)


@contextlib.contextmanager
def _output_file(
    path: Path, *, force: bool, binary: bool, newline: str | None, mode: int
) -> Iterator[IO[Any]]:
    check_output(path, force=force)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.partial")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    except OSError as exc:
        raise _unwritable(exc) from None
    try:
        if binary:
            fh: IO[Any] = os.fdopen(fd, "wb")
        else:
            fh = os.fdopen(fd, "w", encoding="utf-8", newline=newline)
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        try:
            _publish(tmp, path, force)
        except OutputExists:
            raise
        except OSError as exc:
            raise _unwritable(exc) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_output(path: Path, data: str | bytes, *, force: bool = False, mode: int = PRIVATE_MODE) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` by :func:`output_file`'s rules."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with output_file(path, force=force, binary=True, mode=mode) as fh:
        fh.write(raw)
