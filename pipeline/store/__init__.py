"""The corpus store: the one place that knows the schema and writes SQL.

Stage code talks to a :class:`Store` through methods named after what they mean
(``add_document``, ``open_problems``); it never sees a cursor. The store is addressed by a URL so
that a server database can be added later without touching stage code: ``sqlite:///path`` (or a
plain path) today.
"""

from pipeline.store.sqlite import DocumentRow, ProblemRow, RunRow, Store, connect

__all__ = ["DocumentRow", "ProblemRow", "RunRow", "Store", "connect"]
