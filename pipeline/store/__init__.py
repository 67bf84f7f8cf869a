"""The corpus store: the one place that knows the schema and writes SQL.

Stage code talks to a :class:`Store` through methods named after what they mean
(``add_document``, ``open_problems``); it never sees a cursor. What each method returns and
promises is written once, in :mod:`pipeline.store.protocols`; the rows are the frozen
dataclasses of :mod:`pipeline.core.records`. The store is addressed by a URL so that a server
database can be added without touching stage code: ``sqlite:///path`` (or a plain path) today.

A store that cannot be written where it is (a read-only disk, no write permission, a disk too
full to open it for writing) is opened for reading only: commands that read work, and the first
write raises :class:`~pipeline.errors.StoreError` saying why and how to fix it. So does a write
that fails half-way (a full disk): it is rolled back, and running the command again resumes.

The SQLite store is cut by role: :mod:`.database` (connection, transactions, refusing writes
when read-only), :mod:`.migrations` (the schema, applied and recorded by name), and one query
part per protocol: :mod:`.runs`, :mod:`.documents`, :mod:`.problems`, :mod:`.coding`,
:mod:`.review`, :mod:`.settings`. :mod:`.sqlite` puts them behind the one :class:`Store` facade.

How to add a store backend (PostgreSQL, say): write a package ``pipeline/store/<backend>/``
with a class per protocol of :mod:`pipeline.store.protocols` (``RunLog``, ``Documents``,
``Problems``, ``Coding``, ``Review``, ``Settings``), each holding one shared connection object
like :class:`~pipeline.store.database.Database`, returning the records of
:mod:`pipeline.core.records` and keeping the guarantees the protocols state (one transaction per
write, append-only decisions, StoreError for failures a user can fix). Give it a facade like
:class:`pipeline.store.sqlite.Store`, add a ``_meets_the_contract`` function so mypy checks it
against ``protocols.Store``, let :func:`connect` choose it by the URL's scheme, give it the same
migrations by name, and run ``tests/test_store_protocol.py`` and the store tests against it.
"""

from pipeline.core.records import DocumentRow, ProblemRow, RunRow
from pipeline.store.sqlite import Store, connect

__all__ = ["DocumentRow", "ProblemRow", "RunRow", "Store", "connect"]
