"""The one door to the pipeline: every client (the CLI, the web page, a batch runner) calls this.

A :class:`Project` is one workspace. Each method is one command: it takes the workspace lock
when it writes (once, for the whole command), opens the store, loads and validates the codebook
once, hands a :class:`~pipeline.stage.Context` to the stage and returns the stage's summary for
the client to show. Nothing here prints.

Example::

    from pipeline.api import Project

    project = Project.open("~/pakfp")
    project.ingest(["~/drops/2024-06"])
    project.code()
    folder = project.export(formats=("xlsx",)).folder
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core import GATE_ALPHA, GATE_MIN_UNITS
from pipeline.errors import DshiftError
from pipeline.executor import is_executor
from pipeline.exports.settings import ExportSettings
from pipeline.indices.settings import IndexSettings
from pipeline.ingest.options import IngestSettings, ReadOptions
from pipeline.models import SOURCE_TYPES
from pipeline.registry import DEFAULT_CODER, coders
from pipeline.review.settings import AgreementSettings, ImportSettings, SheetSettings
from pipeline.stage import Context, ProgressSink, Silent
from pipeline.workspace import ENV_VAR as WORKSPACE_ENV_VAR
from pipeline.workspace import STORE_ENV_VAR, Workspace, find_workspace, init_workspace

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.codebook.files import LoadedCodebook
    from pipeline.codebook.model import Codebook
    from pipeline.coding.impact import CodebookDiff
    from pipeline.coding.run import CodeSummary
    from pipeline.coding.tag import BadLine
    from pipeline.core.records import DocumentRow, ProblemRow
    from pipeline.exports.stage import ExportSummary
    from pipeline.indices.correlate import CAUTION as CORRELATION_CAUTION
    from pipeline.indices.stage import IndexTables
    from pipeline.indices.views import format_indices
    from pipeline.ingest.run import IngestSummary
    from pipeline.ingest.stage import IngestRequest
    from pipeline.learning.stage import TrainSettings, TrainSummary
    from pipeline.review.desk import Desk
    from pipeline.review.stage import AgreementReport
    from pipeline.status import format_summary as format_ingest_summary
    from pipeline.status import write_problems_csv
    from pipeline.store import Store
    from pipeline.store.copy import CopyReport

# Names whose modules pull in pandas, scikit-learn or spaCy: imported when first used, so that
# importing the API (and so starting ``dshift``) stays fast.
_LAZY = {
    "LoadedCodebook": ("pipeline.codebook.files", "LoadedCodebook"),
    "IngestSummary": ("pipeline.ingest.run", "IngestSummary"),
    "format_ingest_summary": ("pipeline.status", "format_summary"),
    "write_problems_csv": ("pipeline.status", "write_problems_csv"),
    "Codebook": ("pipeline.codebook.model", "Codebook"),
    "CodebookDiff": ("pipeline.coding.impact", "CodebookDiff"),
    "CodeSummary": ("pipeline.coding.run", "CodeSummary"),
    "BadLine": ("pipeline.coding.tag", "BadLine"),
    "ExportSummary": ("pipeline.exports.stage", "ExportSummary"),
    "CORRELATION_CAUTION": ("pipeline.indices.correlate", "CAUTION"),
    "IndexTables": ("pipeline.indices.stage", "IndexTables"),
    "format_indices": ("pipeline.indices.views", "format_indices"),
    "TrainSettings": ("pipeline.learning.stage", "TrainSettings"),
    "TrainSummary": ("pipeline.learning.stage", "TrainSummary"),
    "AgreementReport": ("pipeline.review.stage", "AgreementReport"),
    "CopyReport": ("pipeline.store.copy", "CopyReport"),
    "Desk": ("pipeline.review.desk", "Desk"),
}


def __getattr__(name: str) -> Any:
    """Import the heavy names of :data:`_LAZY` on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'pipeline.api' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


__all__ = [
    "CORRELATION_CAUTION",
    "GATE_ALPHA",
    "GATE_MIN_UNITS",
    "SOURCE_TYPES",
    "STORE_ENV_VAR",
    "WORKSPACE_ENV_VAR",
    "AgreementReport",
    "AgreementSettings",
    "BadLine",
    "CodeResult",
    "CodeSummary",
    "Codebook",
    "CodebookDiff",
    "CoderState",
    "CopyReport",
    "ExportSettings",
    "ExportSummary",
    "ImportSettings",
    "IndexSettings",
    "IndexTables",
    "IngestSettings",
    "IngestSummary",
    "LoadedCodebook",
    "Project",
    "ReadOptions",
    "RunAllSummary",
    "SheetSettings",
    "TrainSettings",
    "TrainSummary",
    "codebook_tree",
    "copy_store",
    "diff_codebooks",
    "format_indices",
    "format_ingest_summary",
    "is_executor",
    "load_codebook",
    "tag_lines",
    "write_problems_csv",
]

CODEBOOK_FILE = "codebook.yaml"


def load_codebook(path: Path) -> LoadedCodebook:
    """Read and validate the codebook file at ``path``, keeping its text (see
    :func:`pipeline.codebook.files.read_codebook`)."""
    from pipeline.codebook.files import read_codebook

    return read_codebook(path)


def copy_store(
    source: str, target: str, progress: Callable[[str, int], None] | None = None
) -> CopyReport:
    """Copy the store at ``source`` (a SQLite file or a PostgreSQL URL) into the new, empty
    store at ``target`` in one transaction, verified table by table (row counts and content
    checksums) before it is committed; see :mod:`pipeline.store.copy`."""
    from pipeline.store.copy import copy_store as copy

    return copy(source, target, progress)


def codebook_tree(path: Path) -> str:
    """The code tree of the codebook file at ``path``, with definitions and pattern counts."""
    from pipeline.codebook.report import format_tree

    return format_tree(load_codebook(path).codebook)


def diff_codebooks(old: Path, new: Path, project: Project | None = None) -> CodebookDiff:
    """Compare codebook files ``old`` and ``new``; with a ``project``, also code its documents
    with both (in memory, nothing written) and count segments gaining and losing each code."""
    from pipeline.coding.impact import diff_codebooks as compare

    before, after = load_codebook(old).codebook, load_codebook(new).codebook
    if project is None:
        return compare(before, after, None)
    with project._store() as store:
        return compare(before, after, store)


def tag_lines(
    lines: Iterable[str],
    codebook_path: Path,
    *,
    coder: str = DEFAULT_CODER,
    models: Path | None = None,
) -> Iterator[Any]:
    """Code JSON Lines with ``coder`` under the codebook at ``codebook_path`` (``dshift tag``):
    one JSON string per good line, a :class:`~pipeline.coding.tag.BadLine` per bad one.

    Raises:
        DshiftError: for a learned coder without the ``models`` folder of a workspace.
    """
    from pipeline.coding.tag import tag_lines as tag
    from pipeline.coding.tasks import CoderSpec

    name = coders.get(coder).name
    if models is None and name in ("ml.v1", "ensemble.v1"):
        raise DshiftError(
            f"{name} needs the model trained in a workspace",
            "run inside a workspace where 'dshift train' has run, or use the default coder",
            code="usage",
        )
    # Outside a workspace there is no models folder: learned.v1 uses the model it ships with.
    spec = CoderSpec(name, load_codebook(codebook_path).codebook, models)
    return tag(spec.build(), lines)


@dataclass(frozen=True)
class CoderState:
    """One machine coder as a workspace sees it."""

    name: str
    what: str
    active: bool
    documents_coded: int
    """Documents coded by it under the current codebook (0: not coded)."""


@dataclass(frozen=True)
class CodeResult:
    """What a coding run did, by which coder, under which codebook.

    Attributes:
        summary: the counts (and, for a dry run, the comparison with the last version).
        coder: the machine coder that coded.
        active: the workspace's active coder (what the later stages read).
        codebook: the codebook coded with.
    """

    summary: CodeSummary
    coder: str
    active: str
    codebook: Codebook


@dataclass(frozen=True)
class RunAllSummary:
    """What ``run_all`` did, stage by stage."""

    ingest: IngestSummary
    problems_csv: Path
    code: CodeResult
    export: ExportSummary
    report: Path


@dataclass
class Project:
    """The pipeline of one workspace.

    Attributes:
        workspace: its folders (``corpus/`` with the store, ``codebook/``, ``outputs/``).
        progress: where long stages report how far they are (silent by default).
    """

    workspace: Workspace
    progress: ProgressSink = field(default_factory=Silent)

    # -- opening ----------------------------------------------------------------------------

    @classmethod
    def open(cls, where: str | os.PathLike[str] | None = None, store: str | None = None) -> Project:
        """The workspace at ``where`` (else ``$DSHIFT_WORKSPACE``, else the current folder),
        with its store at ``store`` (a path or ``postgresql://`` URL; else ``$DSHIFT_STORE``,
        else the workspace's ``dshift.toml``, else ``corpus/corpus.sqlite``).

        Raises:
            WorkspaceError: when there is no workspace there, saying how to make one.
        """
        return cls(find_workspace(where, store))

    @classmethod
    def find(cls, where: str | os.PathLike[str] | None = None) -> Project | None:
        """Like :meth:`open`, but None when there is no workspace (for commands that can work
        without one, such as ``codebook check FILE``)."""
        try:
            return cls.open(where)
        except DshiftError:
            return None

    @classmethod
    def create(cls, directory: str | os.PathLike[str], store: str | None = None) -> Project:
        """Make a workspace in ``directory`` with the default codebook (an existing one is
        checked and completed, never overwritten); with ``store`` (a PostgreSQL URL), its
        store is there, named in the workspace's ``dshift.toml``."""
        return cls(init_workspace(directory, store))

    @property
    def store_where(self) -> str:
        """Where the corpus store is, for messages: its file, or its URL without a password."""
        if self.workspace.store_on_server:
            from pipeline.store.postgres import redact

            return redact(self.workspace.store)
        return self.workspace.store

    @property
    def root(self) -> Path:
        """The workspace folder."""
        return self.workspace.root

    @property
    def outputs(self) -> Path:
        """Regenerable results (safe to delete; never read back as an input)."""
        return self.workspace.outputs

    @property
    def models(self) -> Path:
        """Trained models: beside the store, as coding reads them."""
        return self.workspace.models

    @property
    def codebook_path(self) -> Path:
        """The workspace's codebook file."""
        return self.workspace.codebook / CODEBOOK_FILE

    def codebook(self) -> LoadedCodebook:
        """Load and validate the workspace's codebook."""
        return load_codebook(self.codebook_path)

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _store(self, command: str | None = None) -> Iterator[Store]:
        """The store; with ``command``, under the workspace's write lock for its whole use
        (a lock file beside a SQLite store; on PostgreSQL an advisory lock in the database,
        which every machine sharing the store sees)."""
        if command and self.workspace.store_on_server:
            with self.workspace.open_store() as store, store.workspace_lock(f"dshift {command}"):
                yield store
            return
        lock = self.workspace.lock(f"dshift {command} (pid {os.getpid()})") if command else None
        with lock or nullcontext(), self.workspace.open_store() as store:
            yield store

    @contextmanager
    def _stage(
        self, command: str | None = None, codebook: LoadedCodebook | None = None
    ) -> Iterator[Context]:
        """A stage context: the store (locked if ``command``) and the codebook, loaded once
        when a stage first needs it."""
        with self._store(command) as store:
            yield Context(
                store=store,
                book=codebook.codebook if codebook else lambda: self.codebook().codebook,
                outputs=self.outputs,
                models=self.models,
                progress=self.progress,
            )

    # -- ingest and code --------------------------------------------------------------------

    def ingest(
        self,
        drops: Sequence[str | os.PathLike[str]],
        settings: IngestSettings | None = None,
        *,
        arguments: dict[str, Any] | None = None,
        command: str = "ingest",
    ) -> tuple[IngestSummary, Path]:
        """Read the new and changed files of ``drops`` into the store.

        Returns:
            the run's summary, and the refreshed ``outputs/problems.csv``.

        Raises:
            DshiftError: when a drop does not exist (nothing is read then).
        """
        from pipeline.ingest.stage import IngestRequest

        request = IngestRequest(_existing_drops(drops), settings or IngestSettings(), arguments)
        with self._stage(command) as ctx:
            return self._ingest(ctx, request)

    def _ingest(self, ctx: Context, request: IngestRequest) -> tuple[IngestSummary, Path]:
        from pipeline.ingest.stage import run as ingest_stage
        from pipeline.status import export_problems

        summary = ingest_stage(ctx, request)
        return summary, export_problems(ctx.store, self.outputs / "problems.csv")

    def code(
        self,
        coder: str | None = None,
        *,
        unit: str = "sentence",
        spacy_model: str | None = None,
        dry_run: bool = False,
        codebook_path: Path | None = None,
        jobs: int | None = None,
        executor: str = "local",
    ) -> CodeResult:
        """Segment and tag every document not yet coded under the codebook's version.

        Args:
            coder: the machine coder (default: the workspace's active coder).
            dry_run: code in memory only and compare with the last version coded (no lock).
            jobs: worker processes to code in (default: this process only).
            executor: ``local``, or ``dask`` (a Dask cluster here, of ``jobs`` workers) or
                ``tcp://HOST:PORT`` (a running Dask scheduler) to code there.
        """
        from pipeline.executor import open_executor

        loaded = load_codebook(codebook_path) if codebook_path else self.codebook()
        with self._stage(None if dry_run else "code", loaded) as ctx:
            if (executor != "local" or (jobs and jobs > 1)) and not dry_run:
                # No per-document limits: coding reads stored text, and the codebook's regexes
                # have their own time budget.
                ctx.executor = open_executor(executor, jobs=jobs, timeout=None, max_memory_mb=None)
            try:
                return self._code(ctx, loaded, coder, unit, spacy_model, dry_run)
            finally:
                if ctx.executor is not None:
                    ctx.executor.close()

    def _code(
        self,
        ctx: Context,
        loaded: LoadedCodebook,
        coder: str | None,
        unit: str,
        spacy_model: str | None,
        dry_run: bool,
    ) -> CodeResult:
        from pipeline.coding.stage import CodeSettings
        from pipeline.coding.stage import run as code_stage

        active = ctx.store.active_coder()
        name = coders.get(coder).name if coder else active
        settings = CodeSettings(
            codebook_text=loaded.text,
            coder=name,
            unit=unit,
            spacy_model=spacy_model,
            dry_run=dry_run,
            arguments={
                "codebook": str(loaded.path),
                "unit": unit,
                "model": spacy_model,
                "dry_run": dry_run,
                "coder": name,
            },
        )
        return CodeResult(code_stage(ctx, settings), name, active, loaded.codebook)

    def run_all(
        self,
        drops: Sequence[str | os.PathLike[str]],
        settings: IngestSettings | None = None,
        *,
        arguments: dict[str, Any] | None = None,
        index: IndexSettings | None = None,
        coder: str | None = None,
    ) -> RunAllSummary:
        """Ingest ``drops``, code with ``coder`` (default: the active coder), export CSV and
        Parquet, write the report: under one lock, so no other command runs between them."""
        from pipeline.exports.stage import run as export_stage
        from pipeline.indices.stage import run as index_stage
        from pipeline.ingest.stage import IngestRequest
        from pipeline.report.stage import ReportSettings
        from pipeline.report.stage import run as report_stage

        request = IngestRequest(_existing_drops(drops), settings or IngestSettings(), arguments)
        index = index or IndexSettings()
        with self._stage("run") as ctx:
            if request.settings.executor != "local":  # one cluster reads and codes
                from pipeline.ingest.run import reading_executor

                ctx.executor = reading_executor(request.settings)
            try:
                ingested, problems_csv = self._ingest(ctx, request)
                loaded = self.codebook()  # after the ingest: a bad codebook does not stop reading
                ctx.book = loaded.codebook
                coded = self._code(ctx, loaded, coder, "sentence", None, False)
            finally:
                if ctx.executor is not None:
                    ctx.executor.close()
                    ctx.executor = None
            tables = index_stage(ctx, index)  # once, for the export and the report
            exported = export_stage(ctx, ExportSettings(index), tables)
            report = report_stage(ctx, ReportSettings(index), tables)
        return RunAllSummary(ingested, problems_csv, coded, exported, report)

    # -- codebook ---------------------------------------------------------------------------

    def diff_codebooks(self, old: Path, new: Path, *, impact: bool = True) -> CodebookDiff:
        """Compare codebook files ``old`` and ``new``; with ``impact``, code the workspace's
        documents with both (in memory) and count segments gaining and losing each code."""
        return diff_codebooks(old, new, self if impact else None)

    def propose_codebook(self, qdc: Path) -> list[str]:
        """Changes a REFI-QDA codebook (.qdc) proposes to ours (never applied)."""
        from pipeline.review.refi_io import propose_codebook

        return propose_codebook(self.codebook().codebook, qdc)

    # -- machine coders ---------------------------------------------------------------------

    def coders(self) -> list[CoderState]:
        """Every registered machine coder: which is active, what each has coded."""
        book = self.codebook().codebook
        with self._store() as store:
            active = store.active_coder()
            states = []
            for component in coders:
                done = book.version in store.coded_versions(component.name)
                count = store.coding_counts(component.name, book.version).documents if done else 0
                states.append(
                    CoderState(component.name, component.what, component.name == active, count)
                )
        return states

    def use_coder(self, name: str) -> CoderState:
        """Make ``name`` the active machine coder: indices, exports, review, REFI and
        browsing read its tags from then on (other coders' tags stay for comparison)."""
        component = coders.get(name)
        book = self.codebook().codebook
        with self._store("coder use") as store:
            store.set_active_coder(component.name)
            done = book.version in store.coded_versions(component.name)
            count = store.coding_counts(component.name, book.version).documents if done else 0
        return CoderState(component.name, component.what, True, count)

    # -- learning ---------------------------------------------------------------------------

    def train(self, *, coder: str = "learned.v1", weak: bool = False) -> TrainSummary:
        """Train ``learned.v1`` (the development set plus this workspace's decisions) or
        ``ml.v1`` (the decisions alone) for the workspace's codebook, cross-validated by
        document."""
        from pipeline.learning import stage as learning

        with self._stage("train") as ctx:
            return learning.run(ctx, learning.TrainSettings(weak=weak, coder=coder))

    def topics(self, ks: Sequence[int], *, seeded: bool = False, seed: int | None = None) -> str:
        """Fit LDA topic models for each k, keep the most coherent, write its tables."""
        from pipeline.core import DEFAULT_SEED
        from pipeline.learning.views import run_topics

        with self._stage("topics") as ctx:
            return run_topics(
                ctx.store,
                ctx.codebook,
                self.outputs / "topics",
                list(ks),
                seeded=seeded,
                seed=DEFAULT_SEED if seed is None else seed,
            )

    def expand(self, code: str, *, top: int = 20, seed: int | None = None) -> str:
        """Terms close to a code's patterns, with frequency, an example and new tags."""
        from pipeline.core import DEFAULT_SEED
        from pipeline.learning.views import run_expand

        with self._stage() as ctx:
            return run_expand(
                ctx.store, ctx.codebook, code, top=top, seed=DEFAULT_SEED if seed is None else seed
            )

    # -- browsing, status, documents --------------------------------------------------------

    def kwic(
        self,
        term: str,
        *,
        code: str | None = None,
        year: int | None = None,
        width: int = 50,
        limit: int = 100,
    ) -> list[str]:
        """``term`` in context across the coded corpus, one line per match."""
        from pipeline.coding.browse import kwic_lines

        with self._store() as store:
            return list(kwic_lines(store, term, code=code, year=year, width=width, limit=limit))

    def explain_segment(self, segment_id: str) -> str:
        """A segment in its paragraph, its tags, and why each fired."""
        from pipeline.coding.browse import explain_segment

        with self._store() as store:
            return explain_segment(store, segment_id)

    def status(self) -> str:
        """What the store holds: documents by year and type, undated ones, problems, runs."""
        from pipeline.status import format_status

        with self._store() as store:
            return format_status(store)

    def problems(self) -> list[ProblemRow]:
        """Open problems with file, place, reason and fix."""
        with self._store() as store:
            return store.open_problems()

    def dismiss_problems(self, ids: Sequence[int]) -> int:
        """Close problems the user has dealt with (a recorded run); returns how many closed."""
        with (
            self._store("problems --dismiss") as store,
            store.recorded_run("problems dismiss", {"ids": list(ids)}) as run,
        ):
            closed = store.dismiss_problems(ids, run.id)
            run.counts = {"dismissed": closed}
        return closed

    def describe_document(self, ref: str) -> str:
        """A document's metadata with where each value came from (``ref``: id, name, sha256)."""
        from pipeline.documents import find_document
        from pipeline.status import format_document

        with self._store() as store:
            return format_document(store, find_document(store, ref).id)

    def documents(
        self,
        *,
        year: int | None = None,
        source_type: str | None = None,
        undated: bool = False,
        with_problems: bool = False,
    ) -> list[Any]:
        """The current documents (:class:`~pipeline.documents.DocumentListing`), by id,
        filtered by year, source type, no date, or open problems."""
        from pipeline.documents import list_documents

        with self._store() as store:
            return list_documents(
                store,
                year=year,
                source_type=source_type,
                undated=undated,
                with_problems=with_problems,
            )

    def document_text(self, ref: str) -> str:
        """A document's canonical text."""
        from pipeline.documents import find_document

        with self._store() as store:
            return store.document_text(find_document(store, ref).id)

    def set_date(self, ref: str, date: str, note: str = "") -> DocumentRow:
        """Set a document's date by hand (kept, with the note, as the strongest source)."""
        from pipeline.documents import set_date

        with self._store("doc set-date") as store:
            return set_date(store, ref, date, note)

    # -- review -----------------------------------------------------------------------------

    def review_sheets(self, settings: SheetSettings) -> list[Path]:
        """Write review sheets (one per coder) into ``outputs/review/``."""
        from pipeline.review.stage import write_sheets

        with self._stage() as ctx:  # no workspace lock: see core.UNLOCKED_COMMANDS
            return write_sheets(ctx, settings)

    def adjudication_sheet(self, adjudicator: str) -> Path | None:
        """A sheet of the open disagreements for ``adjudicator``; None if there are none."""
        from pipeline.review.stage import write_adjudication

        with self._stage() as ctx:  # no workspace lock: see core.UNLOCKED_COMMANDS
            return write_adjudication(ctx, adjudicator)

    def import_decisions(self, settings: ImportSettings) -> Any:
        """Check a filled-in sheet or REFI-QDA project and record its decisions.

        Returns:
            an :class:`~pipeline.review.run.ImportResult` (sheets) or a
            :class:`~pipeline.review.refi_io.RefiImport` (``.qdpx``).
        """
        from pipeline.review.stage import import_decisions

        with self._stage() as ctx:  # no workspace lock: see core.UNLOCKED_COMMANDS
            return import_decisions(ctx, settings)

    def agreement(self, settings: AgreementSettings | None = None) -> AgreementReport:
        """Agreement between coders and between the active machine coder and the coders."""
        from pipeline.review.stage import agreement

        with self._stage() as ctx:
            return agreement(ctx, settings or AgreementSettings())

    # -- the review page and its accounts ------------------------------------------------------

    def add_coder_account(self, name: str, *, adjudicator: bool = False) -> tuple[Any, str]:
        """Make a review-page account; return it and its login token (shown once, stored only
        as a hash)."""
        from pipeline.review.accounts import add_account

        with self._store() as store:  # an account is not a batch: no workspace lock
            return add_account(store, name, "adjudicator" if adjudicator else "coder")

    def new_coder_token(self, name: str) -> tuple[Any, str]:
        """Give an account a new login token (the old one stops working at once)."""
        from pipeline.review.accounts import replace_token

        with self._store() as store:
            return replace_token(store, name)

    def coder_accounts(self) -> list[Any]:
        """Every review-page account (:class:`~pipeline.core.records.CoderAccount`), by name."""
        with self._store() as store:
            return store.coder_accounts()

    @contextmanager
    def review_desk(
        self, *, strategy: str = "stratified", seed: int | None = None, double: float = 0.0
    ) -> Iterator[Desk]:
        """An open :class:`~pipeline.review.desk.Desk` for the review page: coders' queues and
        decisions over the store, for as long as the block runs (no workspace lock: its writes
        are decisions, like sheet imports; see core.UNLOCKED_COMMANDS)."""
        from pipeline.core import DEFAULT_SEED
        from pipeline.review.desk import Desk

        book = self.codebook().codebook
        with self._store() as store:
            yield Desk(
                store,
                book,
                self.models,
                strategy=strategy,
                seed=DEFAULT_SEED if seed is None else seed,
                double=double,
            )

    # -- indices, exports, report -----------------------------------------------------------

    def index(self, settings: IndexSettings | None = None) -> IndexTables:
        """Every index table (reads only)."""
        from pipeline.indices.stage import run as index_stage

        with self._stage() as ctx:
            return index_stage(ctx, settings or IndexSettings())

    def export(
        self,
        settings: IndexSettings | None = None,
        *,
        formats: Sequence[str] = (),
        refi: bool = False,
        arguments: dict[str, Any] | None = None,
        corpus: bool = False,
    ) -> tuple[ExportSummary, list[Path]]:
        """Write the tables with a manifest into ``outputs/exports/<run-id>/``; with ``refi``
        also a REFI-QDA project and codebook there; with ``corpus`` also the corpus tables
        (every document's text, every segment's offsets and final codes).

        Returns:
            the export's summary and the REFI-QDA files written (empty without ``refi``).
        """
        from pipeline.exports.stage import run as export_stage

        index = settings or IndexSettings()
        export_settings = ExportSettings(index, tuple(formats), arguments, corpus=corpus)
        with self._stage("export") as ctx:
            summary = export_stage(ctx, export_settings)
            written: list[Path] = []
            if refi:
                from pipeline.review.refi_io import export_refi

                written = export_refi(ctx.store, ctx.codebook, summary.folder, self.root.name)
        return summary, written

    def explain(self, period: str, code: str, *, top: int = 10) -> str:
        """The segments behind a period's value of a code, and the words marking the period."""
        from pipeline.indices.views import format_explain

        with self._stage() as ctx:
            return format_explain(ctx.store, ctx.codebook, period, code, top)

    def report(self, settings: IndexSettings | None = None, covariates: Path | None = None) -> Path:
        """Write ``outputs/report/report.html`` (self-contained) and its figures."""
        from pipeline.report.stage import ReportSettings
        from pipeline.report.stage import run as report_stage

        with self._stage() as ctx:
            return report_stage(ctx, ReportSettings(settings or IndexSettings(), covariates))

    def correlate(
        self, covariates: Path, settings: IndexSettings | None = None
    ) -> tuple[pd.DataFrame, list[str]]:
        """Correlate the yearly indices with the numeric columns of a covariates CSV.

        Returns:
            the table, and notes on what of the file was left out (text columns, years whose
            figures are requests or estimates).
        """
        from pipeline.indices.views import correlations_for

        settings = settings or IndexSettings()
        if settings.period != "year":
            raise DshiftError("correlations are yearly", "leave out --period", code="usage")
        with self._stage() as ctx:
            return correlations_for(ctx.store, ctx.codebook, settings, covariates)


def _existing_drops(drops: Sequence[str | os.PathLike[str]]) -> tuple[Path, ...]:
    """The drops as paths, refusing any that does not exist (before anything is read)."""
    paths = [Path(d).expanduser() for d in drops]
    for path in paths:
        if not path.exists():
            raise DshiftError(
                f"drop {path} does not exist",
                "give a folder of PDFs (or single files) that exists",
                code="not-found",
            )
    return tuple(paths)
