"""The corpus store on a PostgreSQL server: connection, transactions, migrations, the lock.

:class:`PgDatabase` is the PostgreSQL twin of :class:`.database.Database`: the query parts run
the same SQL through it (``?`` placeholders become psycopg's ``%s``; rows read by position or by
name, as :class:`sqlite3.Row` reads). Why a second dialect of the parts' SQL rather than
SQLAlchemy Core: the parts already keep to the SQL both databases share (``ON CONFLICT``,
``RETURNING``, standard joins), the few differences fit in :mod:`.backend` and
:mod:`.pg_schema`, and the embedded SQLite store, the default, keeps its one fast path with no
layer between the parts and the driver.

The guarantees are SQLite's own, kept on a server several processes and machines share:

* **One writer at a time.** Each write transaction first takes a transaction-level advisory
  lock (:data:`WRITE_LOCK`), as SQLite's ``BEGIN IMMEDIATE`` takes the file's write lock. Reads
  never wait. So a check-then-insert inside one transaction (a review file imported once) holds
  against writers elsewhere, and nothing is lost or counted twice.
* **All or nothing.** A failed write is rolled back; a lost connection keeps nothing of an
  uncommitted transaction.
* **Append-only decisions and fixed texts**, enforced by triggers in the database.
* **The workspace lock** is a session advisory lock (:meth:`PgDatabase.workspace_lock`) keyed
  by the store's workspace id, so batch commands on several machines never overlap on one
  store; it goes with the holder's connection, even if the process is killed.
"""

from __future__ import annotations

import os
import re
import socket
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from functools import cache, lru_cache
from typing import Any, ClassVar, NoReturn
from urllib.parse import urlsplit, urlunsplit

from pipeline import __version__
from pipeline.errors import LockedError, StoreError
from pipeline.store.backend import POSTGRESQL
from pipeline.store.migrations import MIGRATIONS
from pipeline.store.pg_schema import LEDGER_SQL, REFUSE, postgres_sql

# Keys of the advisory locks (any fixed 64-bit numbers; these spell "dshift" and a role).
WRITE_LOCK = 0x647368696674_01
MIGRATE_LOCK = 0x647368696674_02
WORKSPACE_LOCK_CLASS = 0x64736866  # with the workspace id's hash, for the two-key form


def redact(url: str) -> str:
    """``url`` without its password, for messages and run records."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise StoreError(
            "the store is on PostgreSQL, and the PostgreSQL driver (psycopg) is not installed",
            "pip install 'discourse-shift[postgres]' (or pip install 'psycopg[binary]')",
        ) from None
    return psycopg


class _Row(tuple[Any, ...]):
    """A row read by position or by column name (``row[0]``, ``row["id"]``, ``dict(row)``)."""

    __slots__ = ()
    _index: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


@cache
def _row_class(names: tuple[str, ...]) -> type[_Row]:
    return type("Row", (_Row,), {"__slots__": (), "_index": {n: i for i, n in enumerate(names)}})


def _named_rows(cursor: Any) -> Any:
    """psycopg row factory: rows as :class:`_Row` of the statement's columns."""
    names = tuple(d.name for d in cursor.description) if cursor.description else ()
    return _row_class(names)


def _plain_rows(cursor: Any) -> Any:
    return tuple


@lru_cache(maxsize=4096)  # the parts' statements, a few shapes each
def _translate(sql: str) -> str:
    """The parts' SQL in psycopg's placeholder style (``?`` -> ``%s``, a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


# From this many rows an INSERT goes by COPY (below it, the temporary table costs more).
COPY_ROWS = 200
_INSERT_ROWS = re.compile(
    r"INSERT INTO (\w+) \(([^)]*)\)\s+VALUES \((?:\?, )*\?\)(.*)", re.S | re.IGNORECASE
)


@lru_cache(maxsize=256)
def _rows_insert(sql: str) -> tuple[str, tuple[str, ...], str] | None:
    """An ``INSERT INTO table (columns) VALUES (?, ...) [ON CONFLICT ...]`` as its table,
    columns and tail, or None for any other statement."""
    found = _INSERT_ROWS.fullmatch(sql.strip())
    if found is None or "RETURNING" in found[3].upper():
        return None
    columns = tuple(c.strip() for c in found[2].split(","))
    return found[1], columns, (" " + found[3].strip()) if found[3].strip() else ""


def _values(params: Sequence[Any]) -> tuple[Any, ...]:
    """Parameters as PostgreSQL takes them: a Python bool into an integer column is 0 or 1."""
    return tuple(int(p) if isinstance(p, bool) else p for p in params)


class PgCursor:
    """A psycopg cursor that takes the parts' SQL; ``row_factory = None`` gives plain tuples."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    @property
    def row_factory(self) -> Any:
        return self._cursor.row_factory

    @row_factory.setter
    def row_factory(self, factory: Any) -> None:
        self._cursor.row_factory = _plain_rows if factory is None else factory

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> PgCursor:
        self._cursor.execute(_translate(sql), _values(parameters))
        return self

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> PgCursor:
        """Run ``sql`` for each row. Many rows for an ``INSERT INTO t (columns) VALUES (?, ...)``
        go by ``COPY`` into a temporary table, then one ``INSERT ... SELECT`` with the
        statement's own ``ON CONFLICT`` (the coding stage's writes ran at a seventh of SQLite's
        speed one statement per row; COPY is several times faster)."""
        rows = [_values(p) for p in parameters]
        if not rows:
            return self
        from psycopg.pq import TransactionStatus

        idle = self._cursor.connection.info.transaction_status == TransactionStatus.IDLE
        split = _rows_insert(sql) if len(rows) >= COPY_ROWS and not idle else None
        if split is None:  # (outside a transaction the staged rows would go at each commit)
            self._cursor.executemany(_translate(sql), rows)
            return self
        table, columns, tail = split
        stage = f"dshift_stage_{table}_{zlib.crc32(','.join(columns).encode()):08x}"
        names = ", ".join(columns)
        cursor = self._cursor
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
            f"SELECT {names} FROM {table} WITH NO DATA"
        )
        with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        # In the order given (ids, e.g. of decisions, follow it): a new heap's physical order.
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} ORDER BY ctid{tail}"
        )
        cursor.execute(f"TRUNCATE {stage}")
        return self

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)

    @property
    def description(self) -> Any:
        """The columns (``column[0]`` is the name, as DB-API says)."""
        return self._cursor.description

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cursor.fetchall())

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)


class PgConnection:
    """The connection the query parts use: ``execute`` and ``executemany`` with ``?``."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def cursor(self) -> PgCursor:
        return PgCursor(self.connection.cursor(row_factory=_named_rows))

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> PgCursor:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> PgCursor:
        return self.cursor().executemany(sql, parameters)

    def script(self, sql: str) -> None:
        """Run several statements with no parameters (a migration step)."""
        self.connection.execute(sql)

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return bool(self.connection.info.transaction_status != TransactionStatus.IDLE)

    def close(self) -> None:
        self.connection.close()


def connect_server(url: str, application: str = "dshift") -> Any:
    """A psycopg connection (autocommit: transactions are explicit) or a StoreError that says
    why the server cannot be reached and what to check."""
    psycopg = _psycopg()
    try:
        return psycopg.connect(
            url, autocommit=True, connect_timeout=10, application_name=application[:63]
        )
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(
            f"cannot connect to the corpus store {redact(url)}: {reason}",
            "check that the PostgreSQL server is running and reachable, that the URL's user, "
            "database and port are right (postgresql://USER@HOST:PORT/DATABASE), and that the "
            "password is in PGPASSWORD or ~/.pgpass rather than in a file others read",
        ) from None


class PgDatabase:
    """A connection to a store on a PostgreSQL server, opened and migrated.

    Attributes:
        url: the store's URL (with its password, if it has one: never printed; see ``where``).
        read_only: True if opened for reading only: every write raises StoreError.
        db: the connection the query parts use.
    """

    dialect = POSTGRESQL

    def __init__(self, url: str, *, read_only: bool | None = None) -> None:
        self.url = url
        self.read_only = bool(read_only)
        self._psycopg = _psycopg()
        self.db = PgConnection(connect_server(url))
        try:
            if self.read_only:
                self.db.script("SET default_transaction_read_only = on")
            migrate(self.db, self.where, writable=not self.read_only)
        except BaseException:
            self.db.close()
            raise

    @property
    def where(self) -> str:
        """The store's URL without its password."""
        return redact(self.url)

    @property
    def schema_version(self) -> int:
        return len(recorded_migrations(self.db) or [])

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        """One all-or-nothing write transaction, after any other writer's (see the module)."""
        if self.read_only:
            raise StoreError(
                f"the corpus store {self.where} was opened for reading only, and this command "
                "needs to change it",
                "run the command without asking for a read-only store",
            )
        errors = self._psycopg.Error
        if self.db.in_transaction:  # interrupted between BEGIN and the rollback below
            with suppress(errors):
                self.db.connection.execute("ROLLBACK")
        try:
            self.db.connection.execute("BEGIN")
            self.db.connection.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        except errors as exc:
            self._rollback()
            self._raise_write_failure(exc)
        try:
            yield self.db
            self.db.connection.execute("COMMIT")
        except errors as exc:
            self._rollback()
            self._raise_write_failure(exc)
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        if not self.db.connection.closed and self.db.in_transaction:
            with suppress(self._psycopg.Error):
                self.db.connection.execute("ROLLBACK")

    def _raise_write_failure(self, exc: BaseException) -> NoReturn:
        failure = write_failure(self.where, exc)
        if failure is None:
            raise exc
        raise failure from exc

    @contextmanager
    def workspace_lock(self, command: str) -> Iterator[None]:
        """Hold the store's workspace lock (a session advisory lock on its own connection)
        while a batch command runs; LockedError names the holder if another has it."""
        key = _workspace_key(self.db)
        holder = f"{command} on {socket.gethostname()} (pid {os.getpid()})"
        connection = connect_server(self.url, application=f"dshift lock: {holder}")
        try:
            [(taken,)] = connection.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (WORKSPACE_LOCK_CLASS, key)
            ).fetchall()
            if not taken:
                rows = connection.execute(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                    "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.classid = %s "
                    "AND l.objid = %s AND l.granted",
                    (WORKSPACE_LOCK_CLASS & 0xFFFFFFFF, key & 0xFFFFFFFF),
                ).fetchall()
                name = rows[0][0].removeprefix("dshift lock: ") if rows else "another dshift"
                raise LockedError(
                    f"the corpus store {self.where} is busy: {name}",
                    "wait for that run to finish and try again (the lock goes with its "
                    "connection, even if the process is killed)",
                )
            yield
        finally:
            connection.close()  # releases the lock


def _workspace_key(db: PgConnection) -> int:
    """A 32-bit number from the store's workspace id (the advisory lock's second key)."""
    row = db.execute("SELECT value FROM workspace_info WHERE key = 'workspace_id'").fetchone()
    value = str(row[0]) if row else "dshift"
    return int.from_bytes(value.encode()[:8].ljust(8, b"0"), "big") & 0x7FFFFFFF


def write_failure(where: str, exc: BaseException) -> StoreError | None:
    """The StoreError a user can act on for a failed write on PostgreSQL, or None (a bug)."""
    code = getattr(getattr(exc, "diag", None), "sqlstate", None) or ""
    kept = "nothing of this write was kept; run the same command again: it resumes"
    if code == "53100":
        return StoreError(
            f"the disk of the corpus store {where} is full ({kept})",
            "free space on the database server's disk, then run the command again",
        )
    if code in ("25006", "42501"):
        why = (
            "the server is read-only (a standby?)" if code == "25006" else "this role may not write"
        )
        return StoreError(
            f"the corpus store {where} refuses writes: {why}",
            "connect to the primary server, or ask its administrator to grant this role "
            "INSERT, UPDATE and DELETE on the store's tables; commands that only read work",
        )
    if code.startswith("08") or type(exc).__name__ in ("OperationalError", "InterfaceError"):
        return StoreError(
            f"lost the connection to the corpus store {where} during a write ({kept})",
            "check that the PostgreSQL server is running and reachable",
        )
    return None


def recorded_migrations(db: PgConnection) -> list[str] | None:
    """The migrations the store's ledger names, in the order applied; None if it has none."""
    found = db.execute("SELECT to_regclass('schema_migrations')").fetchone()
    if found is None or found[0] is None:
        return None
    return [r[0] for r in db.execute("SELECT name FROM schema_migrations ORDER BY rowid")]


def migrate(db: PgConnection, where: str, *, writable: bool) -> None:
    """Apply the migrations the store lacks, each with its record in one transaction, under
    a lock so that two processes opening a new store at once do not both migrate it."""
    known = [m.__name__ for m in MIGRATIONS]
    recorded = recorded_migrations(db) or []
    unknown = [name for name in recorded if name not in known]
    if unknown:
        raise StoreError(
            f"{where} has migrations {', '.join(unknown)}, newer than this dshift "
            f"({__version__}) knows ({len(MIGRATIONS)} migrations, up to {known[-1]})",
            "upgrade dshift (pip install -U discourse-shift) before using this store",
        )
    if recorded == known[: len(recorded)] and len(recorded) == len(known):
        return
    if not writable:
        raise StoreError(
            f"the corpus store {where} has {len(recorded)} of this dshift's {len(known)} "
            "migrations and was opened for reading only, so it cannot be upgraded",
            "run any dshift command once without asking for a read-only store (it upgrades it)",
        )
    connection = db.connection
    for migration in MIGRATIONS:
        try:
            connection.execute("BEGIN")
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
            connection.execute(LEDGER_SQL)
            done = [r[0] for r in connection.execute("SELECT name FROM schema_migrations")]
            if migration.__name__ not in done:
                if migration is MIGRATIONS[0]:
                    connection.execute(REFUSE)
                connection.execute(postgres_sql(migration()))
                stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
                connection.execute(
                    "INSERT INTO schema_migrations (name, applied_at, pipeline_version) "
                    "VALUES (%s, %s, %s)",
                    (migration.__name__, stamp, __version__),
                )
            connection.execute("COMMIT")
        except Exception as exc:
            with suppress(Exception):
                connection.execute("ROLLBACK")
            raise write_failure(where, exc) or StoreError(
                f"migrating {where} ({migration.__name__}) failed: {exc}",
                "report this with the message; nothing of the step was kept",
            ) from exc
