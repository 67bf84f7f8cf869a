"""The corpus store: the one place that knows the schema and writes SQL.

Stage code talks to a :class:`Store` through methods named after what they mean
(``add_document``, ``open_problems``); it never sees a cursor. What each method returns and
promises is written once, in :mod:`pipeline.store.protocols`; the rows are the frozen
dataclasses of :mod:`pipeline.core.records`. The store is addressed by a URL:
``sqlite:///path`` (or a plain path), or ``postgresql://USER@HOST:PORT/DATABASE``.

A store that cannot be written where it is (a read-only disk, no write permission, a disk too
full to open it for writing) is opened for reading only: commands that read work, and the first
write raises :class:`~pipeline.errors.StoreError` saying why and how to fix it. So does a write
that fails half-way (a full disk): it is rolled back, and running the command again resumes.

The store is cut by role: a backend holds the connection and the transactions (SQLite:
:mod:`.database`; PostgreSQL: :mod:`.postgres`), :mod:`.migrations` the schema (applied and
recorded by name on both; :mod:`.pg_schema` says each step in PostgreSQL's dialect), and one query
part per protocol: :mod:`.runs`, :mod:`.documents`, :mod:`.problems`, :mod:`.coding`,
:mod:`.review`, :mod:`.settings`, :mod:`.derived`, written once for both backends in the SQL they
share (:mod:`.backend` says what they need of a backend and holds the few dialect differences).
:mod:`.sqlite` puts the parts behind the one :class:`Store` facade and :func:`connect` chooses
the backend by the URL (``postgresql://`` or a path); :mod:`.copy` moves a store between them.
"""

from pipeline.core.records import DocumentRow, ProblemRow, RunRow
from pipeline.store.sqlite import Store, connect

__all__ = ["DocumentRow", "ProblemRow", "RunRow", "Store", "connect"]
