"""Whether the store file can be written, and what a failed open or write means for a user.

A store on a read-only disk, or in a folder the user may not write, is opened for reading only;
a write that fails (disk full, read-only, disk error) becomes a :class:`StoreError` that says
what happened to the store and how to go on, instead of a raw ``sqlite3`` exception.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from pipeline.errors import StoreError, damaged_store, is_damaged

# Below this much free space a disk error while writing is taken for a full disk: SQLite reports
# a -shm file it cannot grow as an I/O error, not as SQLITE_FULL.
NEARLY_FULL_BYTES = 1024 * 1024

READ_COMMANDS = "status, problems, doc show, show, kwic, index, explain, agreement"


def _access(path: Path, mode: int) -> bool:
    if os.access in os.supports_effective_ids:
        return os.access(path, mode, effective_ids=True)
    return os.access(path, mode)


def can_write(path: Path) -> bool:
    """Return whether this process may change the store file ``path`` (or create it).

    SQLite in WAL mode writes ``-wal`` and ``-shm`` files beside the store, so its folder must
    be writable too. A read-only mount counts as not writable, even for root.
    """
    if path.exists():
        return _access(path, os.W_OK) and _access(path.parent, os.W_OK | os.X_OK)
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return _access(folder, os.W_OK | os.X_OK)


def can_read(path: Path) -> bool:
    """Return whether this process may read the store file ``path``."""
    return _access(path, os.R_OK)


def free_space(path: Path) -> int | None:
    """Return the free bytes of the disk holding ``path``, or None if unknown."""
    folder = path if path.is_dir() else path.parent
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def megabytes(n: int | None) -> str:
    """Return ``n`` bytes as '1.5 MB' (or 'unknown')."""
    return "unknown" if n is None else f"{n / 1024 / 1024:.1f} MB"


def read_only_error(path: Path) -> StoreError:
    """The error for a write attempted on a store opened for reading only."""
    return StoreError(
        f"the corpus store {path} is read-only (it or its folder {path.parent} cannot be "
        "written here), and this command needs to change it",
        f"make the workspace writable (e.g. chmod -R u+w {path.parent.parent}, or mount it "
        "read-write), or copy the whole workspace to a folder you can write and run the "
        f"command there; commands that only read ({READ_COMMANDS}) work as it is",
    )


def unreadable_error(path: Path) -> StoreError:
    """The error for a store file this user may not read."""
    return StoreError(
        f"cannot read the corpus store {path}: permission denied",
        f"ask its owner for read access (e.g. chmod a+r {path}); do not replace the file, "
        "it holds the coders' decisions",
    )


def disk_full_error(path: Path, detail: object) -> StoreError:
    """The error for a write to ``path`` that failed because its disk is full."""
    return StoreError(
        f"the disk holding the corpus store {path} is full ({detail}); what was being written "
        "was undone, the store is as it was before that step",
        f"free space on that disk ({megabytes(free_space(path))} free now), then run the same "
        "command again: it resumes where it stopped",
    )


def write_failure(path: Path, exc: sqlite3.Error) -> StoreError | None:
    """Translate a SQLite error raised while writing ``path`` into a :class:`StoreError`.

    A damaged store file (SQLITE_CORRUPT, SQLITE_NOTADB) is named as such. Returns None for
    errors that are not about the file, the disk or access (constraint violations, bugs):
    those are not the user's to fix and are raised as they are.
    """
    if is_damaged(exc):
        return damaged_store(str(path), exc)
    name = getattr(exc, "sqlite_errorname", "") or ""
    free = free_space(path)
    if name.startswith("SQLITE_FULL") or (
        name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN"))
        and free is not None
        and free < NEARLY_FULL_BYTES
    ):
        return disk_full_error(path, exc)
    if name.startswith("SQLITE_READONLY"):
        return read_only_error(path)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StoreError(
            f"the corpus store {path} stayed locked by another program for 30 s ({exc})",
            "wait for the other program (a sqlite3 shell, a backup tool) to finish, "
            "then run the same command again",
        )
    if name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN")):
        return StoreError(
            f"cannot write the corpus store {path}: {exc} ({name})",
            "check that its disk is mounted, writable and not full, and that you may write "
            f"{path.parent}; then run the same command again: it resumes where it stopped",
        )
    return None


def open_read_only(path: Path) -> sqlite3.Connection:
    """Open the store file ``path`` for reading only, writing nothing beside it if it can.

    SQLite needs a ``-shm`` file to read a WAL store. When none exists and none can be made
    (a read-only folder), the store is opened as immutable, which is safe because its journal
    (``-wal``) is empty: every committed change is in the file itself. A non-empty journal that
    cannot be read is refused rather than ignored, since ignoring it would hide committed work.

    Raises:
        StoreError: if the store is missing, not readable, or has a journal that cannot be read.
    """
    if not path.is_file():
        raise StoreError(
            f"there is no corpus store at {path}",
            "check the workspace path; a store is created by the first command that writes "
            "(dshift init, dshift ingest) in a folder you can write",
        )
    if not can_read(path):
        raise unreadable_error(path)
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        return _probe(sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30))
    except sqlite3.Error as exc:
        if is_damaged(exc):
            raise damaged_store(str(path), exc) from exc
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise StoreError(
            f"the corpus store {path} has changes in its journal {wal} that cannot be read "
            "while its folder is read-only",
            "run any dshift command once where the folder can be written (it folds the journal "
            "into the store), or copy the corpus/ folder with its -wal and -shm files to a "
            "folder you can write",
        )
    try:
        return _probe(sqlite3.connect(uri + "&immutable=1", uri=True, isolation_level=None))
    except sqlite3.Error as exc:
        if is_damaged(exc):
            raise damaged_store(str(path), exc) from exc
        raise StoreError(
            f"cannot read the corpus store {path}: {exc}",
            "check that it is the corpus.sqlite dshift made; restore it from a backup if it is "
            "damaged",
        ) from exc


def _probe(db: sqlite3.Connection) -> sqlite3.Connection:
    """Return ``db`` once a read succeeded (SQLite opens files lazily); close it if not."""
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        db.close()
        raise
    return db
