"""The corpus store: the one place that knows the schema and writes SQL.

Stage code talks to a :class:`Store` through methods named after what they mean
(``add_document``, ``open_problems``); it never sees a cursor. The store is addressed by a URL so
that a server database can be added later without touching stage code: ``sqlite:///path`` (or a
plain path) today.

A store that cannot be written where it is (a read-only disk, no write permission, a disk too
full to open it for writing) is opened for reading only: commands that read work, and the first
write raises :class:`~pipeline.errors.StoreError` saying why and how to fix it. So does a write
that fails half-way (a full disk): it is rolled back, and running the command again resumes.
"""

from pipeline.store.sqlite import DocumentRow, ProblemRow, RunRow, Store, connect

__all__ = ["DocumentRow", "ProblemRow", "RunRow", "Store", "connect"]
