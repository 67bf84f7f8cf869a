"""What the store's query parts need of a database, whichever backend holds it.

The parts write their SQL once, in the subset SQLite and PostgreSQL share, with ``?``
placeholders, and read rows by position or by column name. A backend (:class:`.database.Database`
for SQLite, :class:`.postgres.PgDatabase` for PostgreSQL) gives them a :class:`Connection` that
takes that SQL, and a :meth:`Backend.transaction` that makes a write all or nothing. The few
things the two dialects say differently are functions here, chosen by :attr:`Backend.dialect`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


class Connection(Protocol):
    """A connection that runs the parts' SQL (``?`` placeholders)."""

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Any: ...
    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Any: ...
    def cursor(self) -> Any: ...
    @property
    def in_transaction(self) -> bool: ...


class Backend(Protocol):
    """One open store database: its connection, its transactions, where it is."""

    @property
    def dialect(self) -> str: ...
    @property
    def read_only(self) -> bool: ...
    @property
    def db(self) -> Any: ...
    @property
    def where(self) -> str: ...
    @property
    def schema_version(self) -> int: ...
    def transaction(self) -> AbstractContextManager[Any]: ...
    def close(self) -> None: ...


def json_text(dialect: str, column: str, *keys: str) -> str:
    """SQL for the text at ``keys`` inside the JSON object in ``column`` (NULL if absent)."""
    if dialect == POSTGRESQL:
        return f"({column}::jsonb #>> '{{{','.join(keys)}}}')"
    return f"json_extract({column}, '$.{'.'.join(keys)}')"
