"""Copy a whole store to another backend (SQLite to PostgreSQL, or back), and prove the copy.

:func:`copy_store` reads every table of the source and writes it into an empty destination in
one transaction, then compares the two table by table: the number of rows and a checksum of
their content. The checksum is the sum (modulo 2**256) of a SHA-256 per row over the row's
values in a canonical form, so it does not depend on the order either database returns rows
in; both sides are computed the same way, after the write and before the commit. If anything
differs, or anything fails, the transaction is rolled back and the destination stays empty.

Identities are kept: document, decision and file ids, the workspace id and the sheet key (so
review sheets signed before the move still import), and the order of runs and codings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pipeline.errors import StoreError
from pipeline.store.backend import POSTGRESQL
from pipeline.store.migrations import LEDGER
from pipeline.store.pg_schema import ORDERED_TABLES
from pipeline.store.sqlite import Store, connect

# Every table, parents before children; tables SQLite orders by rowid are read in that order.
TABLES = (
    "runs",
    "documents",
    "document_files",
    "pages",
    "metadata",
    "problems",
    "file_cache",
    "codebooks",
    "segments",
    "tags",
    "segment_partners",
    "coded",
    "workspace_info",
    "review_files",
    "decisions",
    "review_exports",
    "review_shown",
    "derived_results",
    "derived_tables",
    "coder_accounts",
)
_CHUNK = 2000


@dataclass
class TableCopy:
    """One table's rows and checksums on both sides."""

    table: str
    rows: int = 0
    copied: int = 0
    source_checksum: str = ""
    target_checksum: str = ""

    @property
    def verified(self) -> bool:
        return self.rows == self.copied and self.source_checksum == self.target_checksum


@dataclass
class CopyReport:
    """What :func:`copy_store` copied, table by table."""

    source: str
    target: str
    tables: list[TableCopy] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def copy_store(
    source: str, target: str, progress: Callable[[str, int], None] | None = None
) -> CopyReport:
    """Copy the store at ``source`` into the new, empty store at ``target`` and verify it.

    Raises:
        StoreError: if either store cannot be opened, the target already holds data, or the
            copy does not match the source (nothing is kept in the target then).
    """
    with connect(source) as src, connect(target) as dst:
        report = CopyReport(src.where, dst.where)
        _refuse_unknown_tables(src)
        held = {t: _count(dst, t) for t in TABLES if t != "workspace_info"}
        if any(held.values()):
            what = ", ".join(f"{n} {t}" for t, n in held.items() if n)
            raise StoreError(
                f"the target store {dst.where} is not empty ({what}): copying into it would mix "
                "two workspaces",
                "copy into a new, empty database (createdb NAME) or a new SQLite file",
            )
        columns = {table: _columns(src, table) for table in TABLES}
        with dst.transaction() as db:
            db.execute("DELETE FROM workspace_info")  # the target's own id gives way
            for table in TABLES:
                done = TableCopy(table)
                write = _writer(table, columns[table])
                for chunk in _rows(src, table, columns[table]):
                    db.executemany(write, chunk)
                    done.rows += len(chunk)
                    if progress:
                        progress(table, len(chunk))
                report.tables.append(done)
            _link_superseded(src, db)
            if dst.dialect == POSTGRESQL:
                _continue_identities(db, [t for t in TABLES if "id" in columns[t]])
            for done in report.tables:
                done.source_checksum, _ = _checksum(src, done.table, columns[done.table])
                done.target_checksum, done.copied = _checksum(
                    dst, done.table, columns[done.table], True
                )
            wrong = [t.table for t in report.tables if not t.verified]
            if wrong:
                raise StoreError(
                    f"the copy of {', '.join(wrong)} into {dst.where} does not match the source "
                    "(rows or content differ), so nothing was kept",
                    "report this with both stores' versions; the source is unchanged",
                )
    return report


def _refuse_unknown_tables(store: Store) -> None:
    """Refuse a store holding a table :data:`TABLES` does not name (a migration added it and
    this list was not told): copying would leave it behind without a word."""
    if store.dialect == POSTGRESQL:
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    unknown = sorted({r[0] for r in store.db.execute(sql)} - {*TABLES, LEDGER})
    if unknown:
        raise StoreError(
            f"the store {store.where} has tables this dshift cannot copy: {', '.join(unknown)}",
            "upgrade dshift (pip install -U discourse-shift), or report this if it is current",
        )


def _continue_identities(db: Any, tables: list[str]) -> None:
    """After ids were copied in as given, make each table's identity continue after them."""
    for table in tables:
        [(sequence,)] = db.execute("SELECT pg_get_serial_sequence(?, 'id')", (table,)).fetchall()
        if sequence is not None:
            db.execute(
                f"SELECT setval(?, COALESCE(max(id), 1), max(id) IS NOT NULL) FROM {table}",
                (sequence,),
            )


def _count(store: Store, table: str) -> int:
    return int(store.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _columns(store: Store, table: str) -> list[str]:
    """The table's columns in the source, but the rowid PostgreSQL keeps as a column."""
    cursor = store.db.execute(f"SELECT * FROM {table} LIMIT 0")
    return [c[0] for c in cursor.description if c[0] != "rowid"]


def _writer(table: str, columns: list[str]) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({names}) VALUES ({marks})"


def _select(table: str, columns: list[str]) -> str:
    names = ", ".join(
        "NULL" if (table == "documents" and c == "superseded_by") else f'"{c}"' for c in columns
    )
    order = (
        " ORDER BY rowid" if table in ORDERED_TABLES else " ORDER BY id" if "id" in columns else ""
    )
    return f"SELECT {names} FROM {table}{order}"


def _rows(store: Store, table: str, columns: list[str]) -> Iterator[list[tuple[Any, ...]]]:
    """The table's rows in chunks (``superseded_by`` left out: it points forward)."""
    with _cursor(store) as cursor:
        cursor.execute(_select(table, columns))
        while chunk := cursor.fetchmany(_CHUNK):
            yield [tuple(row) for row in chunk]


def _link_superseded(src: Store, db: Any) -> None:
    """Set each superseded document's link to its successor, once both are in."""
    pairs = src.db.execute(
        "SELECT superseded_by, id FROM documents WHERE superseded_by IS NOT NULL"
    ).fetchall()
    db.executemany("UPDATE documents SET superseded_by = ? WHERE id = ?", [tuple(p) for p in pairs])


@contextmanager
def _cursor(store: Store, in_transaction: bool = False) -> Iterator[Any]:
    """A cursor that streams rows: SQLite's own; on PostgreSQL a server-side cursor (a plain
    one would fetch the whole table into memory at once), in its own read transaction unless
    ``in_transaction`` (the copy's write transaction is open)."""
    if store.dialect != POSTGRESQL:
        cursor = store.db.cursor()
        cursor.row_factory = None
        yield cursor
        return
    connection = store.database.db.connection
    if in_transaction:
        with connection.cursor(name="dshift_copy") as cursor:
            yield cursor
        return
    with connection.transaction(), connection.cursor(name="dshift_copy") as cursor:
        yield cursor


def _checksum(
    store: Store, table: str, columns: list[str], in_transaction: bool = False
) -> tuple[str, int]:
    """The order-free checksum of a table's content (``columns``, by name) and its row count
    (``in_transaction``: read inside the store's open write transaction)."""
    names = sorted(columns)
    sql = f"SELECT {', '.join(f'{chr(34)}{c}{chr(34)}' for c in names)} FROM {table}"
    total, count = 0, 0
    with _cursor(store, in_transaction) as cursor:
        cursor.execute(sql)
        while chunk := cursor.fetchmany(_CHUNK):
            for row in chunk:
                digest = hashlib.sha256()
                for value in row:
                    digest.update(_canonical(value))
                total = (total + int.from_bytes(digest.digest(), "big")) % (1 << 256)
                count += 1
    return f"{total:064x}", count


def _canonical(value: Any) -> bytes:
    """A value as bytes that mean the same on both backends (type tag, then the value)."""
    if value is None:
        return b"N;"
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return b"i" + str(value).encode() + b";"
    if isinstance(value, float):
        return b"f" + repr(value).encode() + b";"
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return b"b" + str(len(data)).encode() + b":" + data
    text = str(value).encode("utf-8")
    return b"s" + str(len(text)).encode() + b":" + text
