"""Find the files of a drop and read its sidecar ``metadata.csv``."""

from __future__ import annotations

import csv
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import Problem
from pipeline.ingest.options import FORMATS
from pipeline.models import SOURCE_TYPES, MetaValue

SIDECAR_NAME = "metadata.csv"
SIDECAR_FIELDS = ("source_type", "date", "title", "issuer", "language")
_IGNORED = re.compile(r"^(?:\..*|~\$.*|thumbs\.db|desktop\.ini)$", re.I)
_ISO_DATE = re.compile(r"^(?:19|20)\d\d(?:-[01]\d(?:-[0-3]\d)?)?$")


@dataclass(frozen=True)
class DropFile:
    """A candidate input file."""

    path: Path
    name: str
    size: int
    mtime_ns: int


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
            elif path.name.lower() == SIDECAR_NAME:
                rows, problems = read_sidecar(path)
                found.sidecar_rows.extend(rows)
                found.problems.extend(problems)
            elif path.suffix.lower() in FORMATS:
                found.files.append(DropFile(path, path.name, checked.st_size, checked.st_mtime_ns))
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


def _regular_file(path: Path, root: Path, follow_links: bool) -> os.stat_result | Problem:
    """Stat ``path`` without opening it; return why it is skipped if it is not to be read."""
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
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
    return info


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
    """List the files under ``folder``; report linked folders that are not followed."""
    paths: list[Path] = []
    visited: set[str] = set()
    for here, dirs, files in os.walk(folder, followlinks=follow_links):
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


def read_sidecar(path: Path) -> tuple[list[SidecarRow], list[Problem]]:
    """Read and check a whole sidecar; report every bad row with its line and column."""
    problems: list[Problem] = []
    rows: list[SidecarRow] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
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
