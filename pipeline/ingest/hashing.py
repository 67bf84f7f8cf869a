"""Before reading: refuse empty and oversized files, and hash the rest to know them by their bytes.

A document's identity is the sha256 of its bytes; hashes are cached in the store by path, size
and modification time, and a file is hashed through the checks of
:func:`pipeline.ingest.drop.open_scanned`, so a file swapped since the scan is never hashed in
its place.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.errors import Problem
from pipeline.ingest.drop import DropFile, FileChanged, open_scanned
from pipeline.ingest.summary import IngestSummary, report
from pipeline.store import Store


def sha256_of(item: DropFile) -> str:
    """Hash the file the scan saw under ``item.path`` (see :func:`open_scanned` for the checks).

    Raises:
        FileChanged: the name now leads to another file, or the file was modified.
        OSError: the file cannot be opened or read.
    """
    digest = hashlib.sha256()
    handle, _ = open_scanned(item)
    with handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def refuse_by_size(
    store: Store, summary: IngestSummary, files: list[DropFile], limit: int
) -> list[DropFile]:
    """Report empty files and files over the size limit before hashing them.

    Every empty file is reported under its own path: as bytes they are all the same file.
    """
    for item in files:
        if item.size == 0:
            report(store, summary, Problem("empty-file", str(item.path)))
        elif item.size > limit:
            detail = f"{item.size / 2**20:.0f} MB > {limit / 2**20:.0f} MB"
            report(store, summary, Problem("too-large", str(item.path), detail=detail))
    return [item for item in files if 0 < item.size <= limit]


def hash_files(store: Store, summary: IngestSummary, files: list[DropFile]) -> dict[Path, str]:
    """Hash each file (or take its hash from the cache); report those that cannot be read.

    A file that vanished, is unreadable or was replaced since the scan is reported and left
    out of the result; the others go on.
    """
    hashes: dict[Path, str] = {}
    fresh: list[tuple[str, int, int, str]] = []
    for item in files:
        sha = store.cached_sha256(str(item.path), item.size, item.mtime_ns)
        if sha is None:
            try:
                sha = sha256_of(item)
            except FileChanged as exc:
                report(store, summary, exc.problem)
                continue
            except OSError as exc:
                detail = exc.strerror or str(exc)
                report(store, summary, Problem("unreadable", str(item.path), detail=detail))
                continue
            fresh.append((str(item.path), item.size, item.mtime_ns, sha))
        hashes[item.path] = sha
    if fresh:
        store.remember_files(fresh)
    return hashes
