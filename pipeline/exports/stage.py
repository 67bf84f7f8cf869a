"""The export stage: the index tables, the coded segments and the document matrix, written
with a manifest that traces every number to its run, coder, codebook and pipeline version.

The same store and parameters give the same bytes: the manifest's ``inputs_as_of`` (when the
inputs last changed), not the clock, stamps the files.
"""

from __future__ import annotations

import hashlib
import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import __version__
from pipeline.codebook.model import Codebook
from pipeline.core import DEFAULT_SEGMENTER
from pipeline.core.records import DerivedResult
from pipeline.exports.settings import ExportSettings
from pipeline.indices.stage import IndexSettings, IndexTables, compute_tables
from pipeline.learning.topic_tables import topic_tables
from pipeline.stage import Context
from pipeline.store import Store
from pipeline.store.sqlite import utc_now


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    run_id: str
    folder: Path
    tables: IndexTables

    def counts(self) -> dict[str, Any]:
        """Rows written per kind."""
        return {"index_rows": len(self.tables.tidy), "segment_rows": len(self.tables.segments)}


def manifest(
    store: Store,
    codebook: Codebook,
    settings: IndexSettings,
    run_id: str,
    tables: IndexTables,
    formats: list[str],
) -> dict[str, Any]:
    """Provenance of an export: run, versions, parameters, every document and its metadata.

    The codebook's hash is that of the text recorded under its version when the tags were
    made (so it cannot disagree with ``codebook_version``, as a re-read of an edited file
    could); ``None`` if that text was never recorded.
    """
    content = store.codebook_content(codebook.version)
    documents = [
        {
            "id": d.id,
            "sha256": d.sha256,
            "name": d.name,
            "source_type": d.source_type,
            "date": d.date,
            "year": d.year,
            "title": d.title,
            "provenance": d.provenance,
            "superseded": False,
        }
        for d in store.current_documents()
    ]
    return {
        "run_id": run_id,
        "created": utc_now(),
        "inputs_as_of": store.inputs_as_of(),
        "pipeline_version": __version__,
        "codebook_version": codebook.version,
        "codebook_name": codebook.name,
        "codebook_file": str(codebook.path) if codebook.path else None,
        "codebook_sha256": hashlib.sha256(content.encode("utf-8")).hexdigest()
        if content is not None
        else None,
        "coder": tables.coder,
        "segmenter": DEFAULT_SEGMENTER,
        "parameters": {**asdict(settings), "formats": formats},
        "counts": {
            "documents": len(documents),
            "segments": len(tables.frame),
            "dated_documents": int(
                tables.frame.loc[tables.frame["year"].notna(), "document_id"].nunique()
            ),
            "coded_segments": int(tables.segments["segment_id"].nunique())
            if not tables.segments.empty
            else 0,
        },
        "segments_by_decision": {
            "machine": int((tables.frame["decided_by"] == "machine").sum()),
            "human": int((tables.frame["decided_by"] == "human").sum()),
        },
        "notes": tables.notes,
        "reliability": tables.reliability,
        "environment": {"python": platform.python_version(), "pandas": pd.__version__},
        "documents": documents,
    }


def run(ctx: Context, settings: ExportSettings, tables: IndexTables | None = None) -> ExportSummary:
    """The export stage: compute the tables and write them with a manifest into
    ``outputs/exports/<run-id>/`` (a recorded run; all files or none).

    ``tables`` computed under ``settings.index`` in the same command (``run_all`` shares them
    with the report) are written as they are instead of being computed again.
    """
    from pipeline.exports.corpus import corpus_tables
    from pipeline.exports.writers import write_tables
    from pipeline.indices.composite import FORMULAS
    from pipeline.indices.dictionary import data_dictionary, value_sets
    from pipeline.indices.periods import with_time_columns

    store, codebook = ctx.store, ctx.codebook
    formats = settings.chosen()
    arguments = settings.arguments or {
        "formats": formats,
        "settings": str(settings.index),
        "corpus": settings.corpus,
    }
    with store.recorded_run("export", arguments) as recorded:
        recorded.counts = {"formats": ",".join(formats)}
        if tables is None:
            tables = compute_tables(store, codebook, settings.index, with_change_points=False)
        folder = ctx.outputs / "exports" / recorded.id
        exported = tables.export_tables()
        topics, found = topic_tables(store)
        exported.update(topics)
        exported = {name: with_time_columns(table) for name, table in exported.items()}
        if settings.corpus:
            exported.update(
                corpus_tables(
                    store.corpus_documents(),
                    store.corpus_segments(DEFAULT_SEGMENTER),
                    tables.frame,
                    codebook,
                )
            )
        derived, note = topics_provenance(store, codebook, found)
        if note:
            tables.notes.append(note)
        written = manifest(store, codebook, settings.index, recorded.id, tables, formats)
        written["parameters"]["corpus"] = settings.corpus
        if settings.corpus:
            written["counts"]["corpus_segments"] = len(exported["corpus_segments"])
        written["derived"] = {"topics": derived} if derived else {}
        categories = value_sets(exported, list(codebook.codes))
        write_tables(
            folder,
            exported,
            formats=formats,
            manifest=written,
            dictionary=data_dictionary(exported, FORMULAS, categories),
            categories=categories,
        )
    return ExportSummary(recorded.id, folder, tables)


def topics_provenance(
    store: Store, codebook: Codebook, found: DerivedResult | None
) -> tuple[dict[str, Any] | None, str | None]:
    """Where the topic tables come from, and a note when they no longer describe the store
    (the corpus, its coding or decisions, or the codebook changed since they were fitted)."""
    if found is None:
        return None, None
    current = found.inputs_as_of == store.inputs_as_of() and (
        found.codebook_version == codebook.version
    )
    record = {
        "run_id": found.run_id,
        "codebook_version": found.codebook_version,
        "inputs_as_of": found.inputs_as_of,
        "parameters": found.parameters,
        "current": current,
    }
    note = None
    if not current:
        note = (
            f"the topic tables are from run {found.run_id}, made before the corpus, its coding "
            "or the codebook last changed: run 'dshift topics' again to bring them up to date"
        )
    return record, note
