"""The SQLite connection every query part shares: opening, one writer, all-or-nothing writes.

A :class:`Database` opens the store file (for writing in WAL mode, or for reading only when it
cannot be written), brings its schema up to date (:mod:`pipeline.store.migrations`), and runs
each write as one transaction, turning disk and access failures into a
:class:`~pipeline.errors.StoreError` a user can act on. It knows no table but the migrations'.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path
from typing import NoReturn

from pipeline.errors import StoreError
from pipeline.store.access import (
    can_read,
    can_write,
    open_read_only,
    read_only_error,
    unreadable_error,
    write_failure,
)
from pipeline.store.backend import SQLITE
from pipeline.store.migrations import migrate, schema_version


def utc_now() -> str:
    """Return the current UTC time as an ISO 8601 string with seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Database:
    """A connection to one SQLite store file, opened and migrated (a :class:`.backend.Backend`).

    Attributes:
        path: the SQLite file.
        read_only: True if the store was opened for reading only (asked for, or the store
            cannot be written here, or its disk is too full to open it for writing): every
            write raises :class:`StoreError`, saying why, before touching the file.
        db: the connection (rows are :class:`sqlite3.Row`); queries read through it and write
            only inside :meth:`transaction`.
    """

    dialect = SQLITE

    def __init__(self, path: Path, *, read_only: bool | None = None) -> None:
        """Open the store file ``path``; see :func:`pipeline.store.connect` for ``read_only``."""
        self.path = path
        try:
            exists = path.exists()
        except OSError as exc:  # a folder on the way that this user may not enter
            raise StoreError(
                f"cannot reach the corpus store {path}: {exc.strerror}",
                f"ask the owner of {path.parent} for access (e.g. chmod a+rx {path.parent}); "
                "reading the store needs it, writing needs write access too",
            ) from exc
        if exists and not can_read(path):
            raise unreadable_error(path)
        writable = can_write(path)
        automatic = read_only is None
        if read_only is None:
            read_only = exists and not writable
        if not read_only and not writable:
            raise StoreError(
                f"the corpus store {path} cannot be "
                + ("written" if exists else "created")
                + f": it or its folder {path.parent} is read-only here",
                read_only_error(path).hint,
            )
        self.read_only = read_only
        self._refusal: StoreError | None = None  # why writes are refused, if not read_only_error
        if read_only:
            self.db = open_read_only(path)
        else:
            try:
                self.db = self._open_for_writing()
            except StoreError as failure:
                if not (automatic and exists):
                    raise
                try:  # a full disk: what is stored can still be read
                    self.db = open_read_only(path)
                except StoreError:
                    raise failure from None
                self.read_only, self._refusal = True, failure
        self.db.row_factory = sqlite3.Row
        try:
            self.db.execute("PRAGMA foreign_keys = ON")
            migrate(self.db, path, writable=not self.read_only, refusal=self._refusal)
        except BaseException as exc:
            self.db.close()
            refused = write_failure(path, exc) if isinstance(exc, sqlite3.Error) else None
            if refused is not None:  # a damaged file, a disk that filled while opening it
                raise refused from exc
            raise

    def _open_for_writing(self) -> sqlite3.Connection:
        """Connect to the store file (creating it and its folder) in WAL mode."""
        path = self.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the folder of the corpus store {path.parent}: {exc.strerror}",
                "check the workspace path and that you may write there",
            ) from exc
        db: sqlite3.Connection | None = None
        try:
            db = sqlite3.connect(path, isolation_level=None, timeout=30)
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            if db is not None:
                db.close()
            raise (
                write_failure(path, exc)
                or StoreError(
                    f"cannot open the corpus store {path}: {exc}",
                    "check that it is the corpus.sqlite dshift made and that its folder is "
                    "writable; restore it from a backup if it is damaged",
                )
            ) from exc
        return db

    @property
    def where(self) -> str:
        """The store file, for messages."""
        return str(self.path)

    def close(self) -> None:
        """Close the connection; committed work is already on disk."""
        self.db.close()

    @property
    def schema_version(self) -> int:
        """The number of migrations applied to this store."""
        return schema_version(self.db)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block as one all-or-nothing write transaction (not re-entrant).

        If the block raises, nothing it wrote is kept. A failure of the disk or of access
        (disk full, read-only, disk error) is raised as :class:`StoreError` that says how to go
        on; other exceptions are raised unchanged.

        Raises:
            StoreError: if the store is read-only or the write could not be completed.
        """
        if self.read_only:
            raise self._refusal or read_only_error(self.path)
        # A transaction left open here was interrupted (Ctrl-C or SIGTERM) between its BEGIN
        # and the block that undoes it on failure: nothing of it may be kept.
        self._rollback()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._raise_write_failure(exc)
        try:
            yield self.db
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            self._raise_write_failure(exc)
        except BaseException:
            self._rollback()
            raise

    def _raise_write_failure(self, exc: sqlite3.Error) -> NoReturn:
        """Raise ``exc`` as the :class:`StoreError` a user can act on, or as it is."""
        failure = write_failure(self.path, exc)
        if failure is None:
            raise exc
        raise failure from exc

    def _rollback(self) -> None:
        """Undo the open transaction, if SQLite has not already undone it (as after a full
        disk). A rollback that fails leaves nothing behind either: SQLite ignores an
        uncommitted tail of the journal when it next opens the store."""
        if self.db.in_transaction:
            with suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")
