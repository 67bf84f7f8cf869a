"""The corpus store's facade, and :func:`connect`, which opens a store on SQLite or PostgreSQL.

:class:`Store` is a facade over parts, one per role of :mod:`pipeline.store.protocols`, each
holding the one shared backend (:class:`~pipeline.store.database.Database` for a SQLite file,
:class:`~pipeline.store.postgres.PgDatabase` for a PostgreSQL server): ``store.runs``,
``store.documents``, ``store.problems``, ``store.coding``, ``store.review``, ``store.settings``.
It also keeps the flat names every caller uses (``store.add_decisions(...)``): each is the part's
own method, bound through :class:`_Part`, so it has the part's signature and docstring for mypy,
``inspect`` and ``help`` alike, and a change to a part cannot drift from the facade. Why both:
the parts keep each module small and free of the others (no mixins, no import cycle), and the
flat names spare 300 call sites a rewrite and keep stage code unaware of how a store is cut up.
(The module keeps its name, ``sqlite``, from when SQLite was the only backend.)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from pipeline.core.records import DocumentRow, ProblemRow, RunRecord, RunRow
from pipeline.errors import StoreError, damaged_store, is_damaged
from pipeline.store import protocols
from pipeline.store.accounts import AccountQueries
from pipeline.store.backend import Backend
from pipeline.store.coding import CodingQueries
from pipeline.store.database import Database, utc_now
from pipeline.store.derived import DerivedQueries
from pipeline.store.documents import DocumentQueries
from pipeline.store.postgres import redact
from pipeline.store.problems import ProblemQueries
from pipeline.store.review import ReviewQueries
from pipeline.store.runs import RunQueries, new_run_id
from pipeline.store.settings import SettingsQueries

__all__ = [
    "DocumentRow",
    "ProblemRow",
    "RunRecord",
    "RunRow",
    "Store",
    "connect",
    "new_run_id",
    "utc_now",
]

P = ParamSpec("P")
R = TypeVar("R")


def connect(url: str | os.PathLike[str], *, read_only: bool | None = None) -> Store:
    """Open (creating and migrating if needed) the store at ``url``.

    Args:
        url: ``sqlite:///absolute/path.sqlite``, ``sqlite:relative.sqlite``, a plain path, or
            ``postgresql://USER@HOST:PORT/DATABASE`` (a password is best kept in PGPASSWORD or
            ``~/.pgpass``, which the driver reads).
        read_only: ``True`` opens the store for reading only (no migration, no journal files
            written, no write allowed); ``False`` insists on writing; ``None`` (the default)
            opens it for reading only when the store or its folder cannot be written (a
            read-only disk, permissions), so that commands that only read work there and a
            command that writes gets a :class:`StoreError` at its first write.

    Raises:
        StoreError: for an unsupported scheme, a store written by a newer dshift, a store that
            cannot be read, or one that must be written (created, migrated, ``read_only=False``)
            but cannot be.
    """
    text = os.fspath(url)
    if text.startswith(("postgresql://", "postgres://")):
        from pipeline.store.postgres import PgDatabase

        return Store(PgDatabase(text, read_only=read_only))
    if "://" in text and not text.startswith("sqlite://"):
        scheme = text.split("://", 1)[0]
        raise StoreError(
            f"unsupported store URL scheme '{scheme}' in {redact(text)}",
            "use a SQLite path such as corpus/corpus.sqlite, or a PostgreSQL URL such as "
            "postgresql://USER@HOST:5432/DATABASE",
        )
    path = Path(text.removeprefix("sqlite:///").removeprefix("sqlite:"))
    if text.startswith("sqlite:///"):
        path = Path("/" + text.removeprefix("sqlite:///"))
    return Store(Database(path, read_only=read_only))


class _Part(Generic[P, R]):
    """A flat name of the facade for a part's method: ``Store.x = _Part("p", PQueries.x)``
    makes ``store.x`` the bound method ``store.p.x`` (same signature, same docstring)."""

    def __init__(self, part: str, method: Callable[Concatenate[Any, P], R]) -> None:
        """Delegate to method ``method`` of the part held in attribute ``part``."""
        self.part, self.method = part, method
        self.__doc__ = method.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        """Refuse a flat name that is not the name of the method it reaches."""
        if name != self.method.__name__:  # a typo would hand callers another method
            raise TypeError(f"{owner.__name__}.{name} delegates to {self.method.__name__}")

    @overload
    def __get__(self, store: None, owner: type) -> Callable[Concatenate[Any, P], R]: ...
    @overload
    def __get__(self, store: Store, owner: type) -> Callable[P, R]: ...
    def __get__(self, store: Store | None, owner: type) -> Callable[..., R]:
        """Return the part's method bound to ``store``'s part (on the class: the function)."""
        if store is None:
            return self.method
        bound: Callable[P, R] = getattr(getattr(store, self.part), self.method.__name__)
        return bound


class Store:
    """A corpus store, on a SQLite file or a PostgreSQL server. Create with :func:`connect`.

    Satisfies :class:`pipeline.store.protocols.Store`; see that for what each method promises.

    Attributes:
        database: the backend: the shared connection, transactions and migrations
            (:class:`.database.Database` for SQLite, :class:`.postgres.PgDatabase`).
        runs, documents, problems, coding, review, settings, derived_results, accounts: the
            parts, by role.
    """

    def __init__(self, database: Backend) -> None:
        """Put the parts on ``database`` (opened and migrated)."""
        self.database = database
        self.runs = RunQueries(self.database)
        self.documents = DocumentQueries(self.database)
        self.problems = ProblemQueries(self.database)
        self.coding = CodingQueries(self.database)
        self.review = ReviewQueries(self.database)
        self.settings = SettingsQueries(self.database)
        self.derived_results = DerivedQueries(self.database)
        self.accounts = AccountQueries(self.database)

    @property
    def path(self) -> Path:
        """The SQLite file (a PostgreSQL store has none: see :attr:`where`)."""
        if not isinstance(self.database, Database):
            raise AttributeError(f"the store {self.where} is on a server, not in a file")
        return self.database.path

    @property
    def where(self) -> str:
        """Where the store is, for messages: its file, or its URL without the password."""
        return self.database.where

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.database.dialect

    @property
    def read_only(self) -> bool:
        """True if the store was opened for reading only (every write raises StoreError)."""
        return self.database.read_only

    @property
    def db(self) -> Any:
        """The connection (``?`` placeholders on either backend), for maintenance and tests;
        stage code calls the methods."""
        return self.database.db

    @property
    def schema_version(self) -> int:
        """The number of migrations applied to this store."""
        return self.database.schema_version

    def transaction(self) -> AbstractContextManager[Any]:
        """Run a block as one all-or-nothing write transaction, yielding the connection."""
        return self.database.transaction()

    def workspace_lock(self, command: str) -> AbstractContextManager[None]:
        """Hold a PostgreSQL store's workspace lock while ``command`` runs (LockedError, naming
        the holder, if another process on any machine has it). A SQLite store's lock is the
        workspace's lock file (:meth:`pipeline.workspace.Workspace.lock`)."""
        lock = getattr(self.database, "workspace_lock", None)
        if lock is None:
            raise TypeError("a SQLite store is locked through its workspace's lock file")
        held: AbstractContextManager[None] = lock(command)
        return held

    def close(self) -> None:
        """Close the connection; committed work is already on disk."""
        self.database.close()

    def __enter__(self) -> Store:
        """Return the store, closed at the end of the ``with`` block."""
        return self

    def __exit__(self, kind: object, exc: BaseException | None, trace: object) -> None:
        """Close the store; a damaged file met by a query in the block is named as such
        (:class:`StoreError`, exit status 4) rather than left as a raw SQLite error."""
        self.close()
        if exc is not None and is_damaged(exc):
            raise damaged_store(self.where, exc) from exc

    # -- runs and the file cache (protocols.RunLog) -------------------------------------------
    start_run = _Part("runs", RunQueries.start_run)
    recorded_run = _Part("runs", RunQueries.recorded_run)
    finish_run = _Part("runs", RunQueries.finish_run)
    mark_interrupted_runs = _Part("runs", RunQueries.mark_interrupted_runs)
    recent_runs = _Part("runs", RunQueries.recent_runs)
    cached_sha256 = _Part("runs", RunQueries.cached_sha256)
    remember_files = _Part("runs", RunQueries.remember_files)

    # -- documents (protocols.Documents) ------------------------------------------------------
    add_document = _Part("documents", DocumentQueries.add_document)
    add_sighting = _Part("documents", DocumentQueries.add_sighting)
    document = _Part("documents", DocumentQueries.document)
    find_documents = _Part("documents", DocumentQueries.find_documents)
    current_document_named = _Part("documents", DocumentQueries.current_document_named)
    current_documents = _Part("documents", DocumentQueries.current_documents)
    document_ids_by_sha256 = _Part("documents", DocumentQueries.document_ids_by_sha256)
    sighted_paths = _Part("documents", DocumentQueries.sighted_paths)
    document_text = _Part("documents", DocumentQueries.document_text)
    pages = _Part("documents", DocumentQueries.pages)
    file_names = _Part("documents", DocumentQueries.file_names)
    corpus_documents = _Part("documents", DocumentQueries.corpus_documents)
    add_metadata = _Part("documents", DocumentQueries.add_metadata)
    metadata = _Part("documents", DocumentQueries.metadata)
    set_resolved = _Part("documents", DocumentQueries.set_resolved)
    coverage = _Part("documents", DocumentQueries.coverage)

    # -- problems (protocols.Problems) --------------------------------------------------------
    add_problem = _Part("problems", ProblemQueries.add_problem)
    resolve_problems = _Part("problems", ProblemQueries.resolve_problems)
    resolve_problems_under = _Part("problems", ProblemQueries.resolve_problems_under)
    resolve_problems_of_dated = _Part("problems", ProblemQueries.resolve_problems_of_dated)
    dismiss_problems = _Part("problems", ProblemQueries.dismiss_problems)
    copy_open_errors = _Part("problems", ProblemQueries.copy_open_errors)
    link_problems_to_documents = _Part("problems", ProblemQueries.link_problems_to_documents)
    has_open_error = _Part("problems", ProblemQueries.has_open_error)
    open_problems = _Part("problems", ProblemQueries.open_problems)
    undated_documents_never_flagged = _Part(
        "problems", ProblemQueries.undated_documents_never_flagged
    )

    # -- coding, frames and exports (protocols.Coding) ----------------------------------------
    record_codebook = _Part("coding", CodingQueries.record_codebook)
    codebook_content = _Part("coding", CodingQueries.codebook_content)
    documents_to_code = _Part("coding", CodingQueries.documents_to_code)
    save_coding = _Part("coding", CodingQueries.save_coding)
    save_codings = _Part("coding", CodingQueries.save_codings)
    coded_by_another_model = _Part("coding", CodingQueries.coded_by_another_model)
    segment = _Part("coding", CodingQueries.segment)
    document_segments = _Part("coding", CodingQueries.document_segments)
    tags_of_segment = _Part("coding", CodingQueries.tags_of_segment)
    tagged_segments = _Part("coding", CodingQueries.tagged_segments)
    coded_versions = _Part("coding", CodingQueries.coded_versions)
    coding_counts = _Part("coding", CodingQueries.coding_counts)
    segment_texts = _Part("coding", CodingQueries.segment_texts)
    segment_rows = _Part("coding", CodingQueries.segment_rows)
    machine_tags = _Part("coding", CodingQueries.machine_tags)
    frame_segments = _Part("coding", CodingQueries.frame_segments)
    frame_tags = _Part("coding", CodingQueries.frame_tags)
    frame_partners = _Part("coding", CodingQueries.frame_partners)
    inputs_as_of = _Part("coding", CodingQueries.inputs_as_of)
    coded_segment_rows = _Part("coding", CodingQueries.coded_segment_rows)
    segment_export_rows = _Part("coding", CodingQueries.segment_export_rows)
    segment_text_map = _Part("coding", CodingQueries.segment_text_map)
    corpus_segments = _Part("coding", CodingQueries.corpus_segments)

    # -- review (protocols.Review) ------------------------------------------------------------
    add_decisions = _Part("review", ReviewQueries.add_decisions)
    add_web_decisions = _Part("review", ReviewQueries.add_web_decisions)
    decisions = _Part("review", ReviewQueries.decisions)
    decisions_of_coder = _Part("review", ReviewQueries.decisions_of_coder)
    review_file = _Part("review", ReviewQueries.review_file)
    record_review_export = _Part("review", ReviewQueries.record_review_export)
    review_export = _Part("review", ReviewQueries.review_export)

    # -- workspace settings (protocols.Settings) ----------------------------------------------
    workspace_id = _Part("settings", SettingsQueries.workspace_id)
    active_coder = _Part("settings", SettingsQueries.active_coder)
    set_active_coder = _Part("settings", SettingsQueries.set_active_coder)
    sheet_key = _Part("settings", SettingsQueries.sheet_key)

    # -- coder accounts for the review page (protocols.Accounts) -----------------------------
    add_coder_account = _Part("accounts", AccountQueries.add_coder_account)
    replace_coder_token = _Part("accounts", AccountQueries.replace_coder_token)
    coder_account = _Part("accounts", AccountQueries.coder_account)
    coder_by_token = _Part("accounts", AccountQueries.coder_by_token)
    coder_accounts = _Part("accounts", AccountQueries.coder_accounts)

    # -- derived results (protocols.Derived) --------------------------------------------------
    save_derived = _Part("derived_results", DerivedQueries.save_derived)
    derived = _Part("derived_results", DerivedQueries.derived)


def _meets_the_contract(
    store: Store,
) -> tuple[
    protocols.Store,
    protocols.RunLog,
    protocols.Documents,
    protocols.Problems,
    protocols.Coding,
    protocols.Review,
    protocols.Settings,
    protocols.Derived,
    protocols.Accounts,
]:
    """Never called: mypy checks here that the SQLite store and each of its parts satisfy
    their protocols (a PostgreSQL backend gets the same function)."""
    return (
        store,
        store.runs,
        store.documents,
        store.problems,
        store.coding,
        store.review,
        store.settings,
        store.derived_results,
        store.accounts,
    )
