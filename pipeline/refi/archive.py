"""Reading the entries of a REFI-QDA project archive (.qdpx), bounded and without extracting.

The archive's paths are only looked up, never extracted, and no entry is read beyond a byte
limit; a project wrapped in one top-level folder (a folder zipped again) is found too.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib

from pipeline.refi.parse import REEXPORT
from pipeline.refi.write import PROJECT_ENTRY, RefiError

MAX_ENTRY_BYTES = 256 * 1024 * 1024
"""The largest zip entry (project.qde or one text) we read: 256 MiB."""


def open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise RefiError(
            f"the project is not a zip archive ({exc})",
            "give the .qdpx file as the program exported it (a .qde alone lacks the texts)",
        ) from None


def project_prefix(archive: zipfile.ZipFile) -> str:
    """Return the folder project.qde is in: '' at the root, or one top-level folder."""
    names = [n for n in archive.namelist() if not n.startswith("__MACOSX/")]
    if PROJECT_ENTRY in names:
        return ""
    found = [n for n in names if n.lower() == PROJECT_ENTRY]
    if not found:
        found = [n for n in names if re.fullmatch(r"[^/]+/project\.qde", n, re.IGNORECASE)]
    if len(found) == 1:
        return found[0][: -len(PROJECT_ENTRY)]
    listed = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "") or "nothing"
    if not found:
        raise RefiError(
            f"the archive has no {PROJECT_ENTRY} (it holds: {listed})",
            f"give a REFI-QDA project (.qdpx); {REEXPORT}",
        )
    raise RefiError(
        f"the archive has {len(found)} files named {PROJECT_ENTRY}: {', '.join(found)}",
        "give one project per .qdpx",
    )


def read_entry(archive: zipfile.ZipFile, name: str, max_bytes: int) -> bytes:
    try:
        info = archive.getinfo(name)
        if info.file_size > max_bytes:
            raise RefiError(
                f"{name} is {info.file_size} bytes, more than the limit of {max_bytes}",
                "raise max_bytes only if you trust the file",
            )
        with archive.open(info) as handle:
            data = handle.read(max_bytes + 1)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, zlib.error) as exc:
        raise RefiError(
            f"cannot read {name} from the archive ({exc})", f"the .qdpx is damaged; {REEXPORT}"
        ) from None
    if len(data) > max_bytes:
        raise RefiError(
            f"{name} unpacks to more than {max_bytes} bytes", "raise max_bytes only if you trust it"
        )
    return data
