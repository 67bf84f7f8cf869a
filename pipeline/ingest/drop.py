"""Find the files of a drop and read its sidecar ``metadata.csv``."""

from __future__ import annotations

import csv
import os
import re
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


def scan(drops: list[Path]) -> Drop:
    """List the ingestible files under each drop (a folder or a single file), sorted."""
    found = Drop([], [], [])
    for drop in drops:
        paths = [drop] if drop.is_file() else _walk(drop)
        for path in paths:
            if path.name.lower() == SIDECAR_NAME:
                rows, problems = read_sidecar(path)
                found.sidecar_rows.extend(rows)
                found.problems.extend(problems)
            elif path.suffix.lower() in FORMATS:
                stat = path.stat()
                found.files.append(DropFile(path, path.name, stat.st_size, stat.st_mtime_ns))
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


def _walk(folder: Path) -> list[Path]:
    paths: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        paths.extend(Path(root) / f for f in sorted(files) if not _IGNORED.match(f))
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
