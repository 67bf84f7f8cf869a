"""Find the files of a drop and read its sidecar ``metadata.csv``."""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pipeline.errors import Problem
from pipeline.ingest.options import FORMATS
from pipeline.models import SOURCE_TYPES, MetaValue

SIDECAR_NAME = "metadata.csv"
SIDECAR_FIELDS = ("source_type", "date", "title", "issuer", "language")
_IGNORED = re.compile(r"^(?:\..*|~\$.*|thumbs\.db|desktop\.ini)$", re.I)
_ISO_DATE = re.compile(r"^(?:19|20)\d\d(?:-[01]\d(?:-[0-3]\d)?)?$")


@dataclass(frozen=True)
class DropFile:
    """A candidate input file, as the scan saw it.

    Attributes:
        path: where it was listed.
        name: its file name.
        size: its size in bytes at the scan.
        mtime_ns: its modification time at the scan.
        device: with ``inode``, which file the name led to at the scan.
        inode: see ``device``.
        follow: open it through a symbolic link (a link the scan accepted, or --follow-links).
    """

    path: Path
    name: str
    size: int
    mtime_ns: int
    device: int
    inode: int
    follow: bool = False


class FileChanged(Exception):
    """The name no longer leads to the file the scan saw: removed, replaced, now a link or FIFO."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.reason)
        self.problem = problem


_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def open_scanned(item: DropFile) -> tuple[BinaryIO, os.stat_result]:
    """Open the file the scan saw under ``item.path``, never another one put there since.

    The open does not follow a symbolic link (unless the scan accepted one there) and does not
    block (a FIFO swapped in is refused, not waited on); the open file must be the regular file
    of the scan (same device and inode), of the same size and modification time.

    Returns:
        The open file (binary, buffered) and its status.

    Raises:
        FileChanged: the file is gone, the name leads to something else, or it was modified.
        OSError: the file cannot be opened (permission denied, an I/O error).
    """
    try:
        fd = os.open(item.path, _OPEN_FLAGS | (0 if item.follow else _NO_FOLLOW))
    except FileNotFoundError as exc:
        raise FileChanged(_changed(item, "it was removed or renamed")) from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP and not item.follow:
            raise FileChanged(_changed(item, "it is now a symbolic link")) from exc
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileChanged(_changed(item, f"it is now {_file_type(info.st_mode)}"))
        if (info.st_dev, info.st_ino) != (item.device, item.inode):
            raise FileChanged(_changed(item, "another file was put in its place"))
        if (info.st_size, info.st_mtime_ns) != (item.size, item.mtime_ns):
            raise FileChanged(_changed(item, "it was modified (is it still being written?)"))
        return os.fdopen(fd, "rb"), info
    except BaseException:
        os.close(fd)
        raise


def _changed(item: DropFile, detail: str) -> Problem:
    return Problem("file-changed", str(item.path), detail=detail)


@dataclass(frozen=True)
class SidecarRow:
    """Metadata a sidecar gives for one file name."""

    sidecar: Path
    line: int
    file: str
    values: list[MetaValue]


@dataclass
class Drop:
    """What scanning the drops found."""

    files: list[DropFile]
    sidecar_rows: list[SidecarRow]
    problems: list[Problem]


def scan(drops: list[Path], *, follow_links: bool = False) -> Drop:
    """List the ingestible files under each drop (a folder or a single file), sorted.

    Only regular files are listed: a FIFO, socket or device is reported and never opened (opening
    a FIFO blocks). A symbolic link is followed only if it points inside its drop, or with
    ``follow_links``; the others are reported and skipped.
    """
    found = Drop([], [], [])
    for drop in drops:
        root = Path(os.path.realpath(drop))
        paths = _walk(drop, root, follow_links, found.problems) if drop.is_dir() else [drop]
        for path in paths:
            checked = _regular_file(path, root, follow_links)
            if isinstance(checked, Problem):
                found.problems.append(checked)
                continue
            info, linked = checked
            item = DropFile(
                path,
                path.name,
                info.st_size,
                info.st_mtime_ns,
                info.st_dev,
                info.st_ino,
                follow=linked or follow_links,
            )
            if path.name.lower() == SIDECAR_NAME:
                rows, problems = read_sidecar(item)
                found.sidecar_rows.extend(rows)
                found.problems.extend(problems)
            elif path.suffix.lower() in FORMATS:
                found.files.append(item)
            else:
                supported = ", ".join(sorted(FORMATS))
                found.problems.append(
                    Problem(
                        "unsupported-format",
                        str(path),
                        detail=f"'{path.suffix or path.name}'",
                        params={"supported": supported},
                    )
                )
    return found


def _inside(target: Path, root: Path) -> bool:
    return target == root or root in target.parents


def _regular_file(
    path: Path, root: Path, follow_links: bool
) -> tuple[os.stat_result, bool] | Problem:
    """Stat ``path`` without opening it; return why it is skipped if it is not to be read.

    Returns:
        The file's status and whether ``path`` is a symbolic link (to be followed), or the
        problem that skips it.
    """
    try:
        info = path.lstat()
        linked = stat.S_ISLNK(info.st_mode)
        if linked:
            target = Path(os.path.realpath(path))
            if not target.exists():
                return Problem("broken-link", str(path), detail=f"it points to {target}")
            if not follow_links and not _inside(target, root):
                return Problem("link-outside", str(path), detail=f"it points to {target}")
            info = path.stat()
    except OSError as exc:
        return Problem("unreadable", str(path), detail=exc.strerror or str(exc))
    if not stat.S_ISREG(info.st_mode):
        return Problem("not-a-file", str(path), detail=f"it is {_file_type(info.st_mode)}")
    return info, linked


def _file_type(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def _walk(folder: Path, root: Path, follow_links: bool, problems: list[Problem]) -> list[Path]:
    """List the files under ``folder``; report linked folders not followed, folders not listed."""
    paths: list[Path] = []
    visited: set[str] = set()

    def unlisted(exc: OSError) -> None:
        where = str(exc.filename or folder)
        detail = exc.strerror or str(exc)
        problems.append(Problem("unreadable-folder", where, detail=detail))

    for here, dirs, files in os.walk(folder, onerror=unlisted, followlinks=follow_links):
        real = os.path.realpath(here)
        if real in visited:  # a link loop, or a second way into a folder already read
            dirs[:] = []
            continue
        visited.add(real)
        kept = []
        for name in sorted(d for d in dirs if not d.startswith(".")):
            path = Path(here) / name
            if path.is_symlink() and not follow_links:
                target = Path(os.path.realpath(path))
                if not _inside(target, root):  # a link inside the drop: its folder is read anyway
                    problems.append(
                        Problem("link-outside", str(path), detail=f"a folder link to {target}")
                    )
                continue
            kept.append(name)
        dirs[:] = kept
        paths.extend(Path(here) / f for f in sorted(files) if not _IGNORED.match(f))
    return paths


def read_sidecar(item: DropFile) -> tuple[list[SidecarRow], list[Problem]]:
    """Read and check a whole sidecar; report every bad row with its line and column."""
    path = item.path
    problems: list[Problem] = []
    rows: list[SidecarRow] = []
    try:
        raw, _ = open_scanned(item)
        with io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip().lower() for c in reader.fieldnames or []]
            if "file" not in columns:
                problems.append(
                    Problem(
                        "sidecar",
                        str(path),
                        place="line 1",
                        detail=f"no 'file' column (columns: {', '.join(columns)})",
                    )
                )
                return rows, problems
            for record in reader:
                line = reader.line_num
                entry = {(k or "").strip().lower(): (v or "").strip() for k, v in record.items()}
                row, row_problems = _sidecar_row(path, line, entry)
                problems.extend(row_problems)
                if row is not None:
                    rows.append(row)
    except FileChanged as exc:
        problems.append(exc.problem)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problems.append(Problem("sidecar", str(path), detail=f"cannot read it: {exc}"))
    return rows, problems


def _sidecar_row(
    path: Path, line: int, entry: dict[str, str]
) -> tuple[SidecarRow | None, list[Problem]]:
    problems = []
    name = entry.get("file", "")
    if not name:
        return None, [
            Problem(
                "sidecar",
                str(path),
                place=f"line {line}, column file",
                detail="the file name is empty",
            )
        ]
    values = []
    detail = f"{path.name} line {line}"
    for field in SIDECAR_FIELDS:
        value = entry.get(field, "")
        if not value:
            continue
        if field == "source_type" and value.lower() not in SOURCE_TYPES:
            problems.append(
                Problem(
                    "sidecar",
                    str(path),
                    place=f"line {line}, column source_type",
                    detail=f"'{value}' is not one of {', '.join(SOURCE_TYPES)}",
                )
            )
            continue
        if field == "date" and not _ISO_DATE.match(value):
            problems.append(
                Problem(
                    "sidecar",
                    str(path),
                    place=f"line {line}, column date",
                    detail=f"'{value}' is not a date as YYYY-MM-DD (or YYYY-MM, YYYY)",
                )
            )
            continue
        values.append(
            MetaValue(field, value.lower() if field == "source_type" else value, "sidecar", detail)
        )
    return SidecarRow(path, line, name, values), problems
