"""The coding stage: segment every stored document and tag its segments.

Documents already coded under the current codebook version are skipped; a new codebook version
codes them again from the stored canonical text (no re-extraction) and keeps the old tags.
Documents are coded in batches (a learned coder scores a batch at once) and written a batch per
transaction: a document's segments and tags are all stored or none are, and a run that is
killed leaves whole documents only, the rest to the next run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from pipeline.codebook.model import Codebook
from pipeline.coding.heap import freeze_now, long_lived
from pipeline.coding.nlp import make_nlp, segmenter_name
from pipeline.coding.rules import About, ParsedDocument, RuleCoder, SegmentCoding
from pipeline.coding.segment import parse_paragraphs, segment_id
from pipeline.coding.tasks import CoderSpec, CodingTask, TaskDocument
from pipeline.core.records import CodingToSave, DocumentToCode
from pipeline.errors import DshiftError
from pipeline.executor import Executor
from pipeline.store import Store
from pipeline.store.coding import SegmentToSave, TagToSave

UNITS = ("sentence", "paragraph")
ToCodeT = TypeVar("ToCodeT")


@dataclass
class CodeSummary:
    """What a coding run did."""

    run_id: str | None
    codebook_version: str
    segmenter: str
    documents: int = 0
    segments: int = 0
    words: int = 0
    tags: int = 0
    seconds: float = 0.0
    per_code: dict[str, int] = field(default_factory=dict)  # segments per code (leaf and top)
    compared_with: str | None = None  # dry run: the stored version compared against
    notes: list[str] = field(default_factory=list)  # what the user should know (the coder's)
    gains: dict[str, int] = field(default_factory=dict)
    losses: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "segments": self.segments,
            "words": self.words,
            "tags": self.tags,
            "seconds": round(self.seconds, 2),
            "codebook_version": self.codebook_version,
        }


@dataclass(frozen=True)
class CodedDocument:
    """Segments and tags of one document, ready to store."""

    segments: list[SegmentToSave]
    tags: list[TagToSave]
    words: int


def segmenter_for(unit: str, model: str | None) -> str:
    base = segmenter_name(model)
    return base if unit == "sentence" else base.replace("sentences", "paragraphs", 1)


class ToCode(NamedTuple):
    """One canonical text to code: its text, its SHA-256 and what else is known of it."""

    text: str
    sha256: str
    about: About = About()


# Documents coded together (a learned coder scores a batch at once): up to this much text.
BATCH_CHARACTERS = 600_000
BATCH_DOCUMENTS = 256
# A task sent to a worker: smaller, so that the workers share the work evenly.
TASK_CHARACTERS = 100_000
# Codings written in one transaction (each document still all or nothing; a crash loses at
# most this much coding work, which a re-run does again).
SAVE_DOCUMENTS = 256
SAVE_SEGMENTS = 40_000


def code_document(
    coder: RuleCoder,
    text: str,
    sha256: str,
    segmenter: str,
    unit: str = "sentence",
    about: About | None = None,
) -> CodedDocument:
    """Segment and code one canonical text (pure: no store); ``about``: the document's source
    type and title, for a coder that reads them."""
    return code_documents(coder, [ToCode(text, sha256, about or About())], segmenter, unit)[0]


def code_documents(
    coder: RuleCoder, documents: Sequence[ToCode], segmenter: str, unit: str = "sentence"
) -> list[CodedDocument]:
    """Segment and code several canonical texts at once (pure: no store), each on its own."""
    parsed = [
        ParsedDocument(
            [(part.start, doc) for part, doc in parse_paragraphs(coder.nlp, d.text)],
            d.about,
            d.text,
        )
        for d in documents
    ]
    return [
        _to_save(coder.codebook, per_part, d.sha256, segmenter, unit)
        for d, per_part in zip(documents, coder.code_documents(parsed))
    ]


def batches(
    documents: Iterable[ToCodeT],
    size: Callable[[ToCodeT], int],
    characters: int = BATCH_CHARACTERS,
) -> Iterator[list[ToCodeT]]:
    """``documents`` in batches of up to :data:`BATCH_DOCUMENTS` documents and ``characters``
    of text (``size``), a longer document alone."""
    batch: list[ToCodeT] = []
    total = 0
    for document in documents:
        if batch and (total + size(document) > characters or len(batch) == BATCH_DOCUMENTS):
            yield batch
            batch, total = [], 0
        batch.append(document)
        total += size(document)
    if batch:
        yield batch


def _to_save(
    codebook: Codebook,
    per_part: list[list[SegmentCoding]],
    sha256: str,
    segmenter: str,
    unit: str,
) -> CodedDocument:
    segments: list[SegmentToSave] = []
    tags: list[TagToSave] = []
    words = 0
    for codings in per_part:
        if unit == "paragraph":
            codings = [_merge(codings)] if codings else []
        for coding in codings:
            sid = segment_id(sha256, segmenter, coding.start, coding.end)
            segments.append(
                SegmentToSave(
                    sid, len(segments), coding.start, coding.end, coding.n_words, coding.partners
                )
            )
            words += coding.n_words
            for code, evidence in coding.evidence.items():
                tags.append(
                    TagToSave(
                        sid,
                        code,
                        codebook.top_level(code),
                        coding.confidence[code],
                        coding.partners,
                        # Its fields in order (code, pattern, start, end, text): read only.
                        [vars(e) for e in evidence],
                    )
                )
    return CodedDocument(segments, tags, words)


_built: dict[tuple[str, str, str, str | None], Any] = {}  # per worker process


def code_task(task: CodingTask) -> list[CodedDocument]:
    """Code a task's documents in a worker, building its coder on the worker's first task."""
    spec = task.spec
    key = (spec.name, spec.codebook.version, str(spec.models), spec.spacy_model)
    coder = _built.get(key)
    if coder is None:
        _built.clear()  # one coder per worker: a new codebook version replaces the old
        coder = _built[key] = spec.build()
        freeze_now()  # the coder lives as long as the worker: keep collections off it
    documents = [ToCode(d.text, d.sha256, About(d.source_type, d.title)) for d in task.documents]
    return code_documents(coder, documents, task.segmenter, task.unit)


def _merge(codings: list[SegmentCoding]) -> SegmentCoding:
    merged = SegmentCoding(codings[0].start, codings[-1].end, sum(c.n_words for c in codings))
    merged.partners = sorted({p for c in codings for p in c.partners})
    for coding in codings:
        for code, evidence in coding.evidence.items():
            merged.evidence.setdefault(code, []).extend(evidence)
            merged.confidence[code] = max(merged.confidence.get(code, 0.0), coding.confidence[code])
    return merged


def code_corpus(
    store: Store,
    codebook: Codebook,
    codebook_text: str,
    *,
    unit: str = "sentence",
    model: str | None = None,
    dry_run: bool = False,
    arguments: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    coder: RuleCoder | None = None,
    executor: Executor | None = None,
    spec: CoderSpec | None = None,
) -> CodeSummary:
    """Code every current document not yet coded under this codebook version.

    ``coder`` defaults to the rule coder; a learned coder (``ml.v1``, ``ensemble.v1``) stores
    its tags under its own name. With an ``executor`` and the ``spec`` of the same coder,
    documents are coded by the executor's workers (each builds the coder once) and saved here
    as they come back; the stored result is the same.

    With ``dry_run`` nothing is written: every current document is coded in memory and the
    result compared, code by code, with the latest version stored.
    """
    started = time.perf_counter()
    segmenter = segmenter_for(unit, model)
    coder = coder or RuleCoder(codebook, make_nlp(model))
    if dry_run:
        summary = CodeSummary(None, codebook.version, segmenter, notes=list(coder.notes))
        _dry_run(store, coder, segmenter, unit, summary, progress, on_total)
        summary.seconds = time.perf_counter() - started
        return summary
    made_by = coder.provenance()
    recorded = {**(arguments or {"unit": unit, "model": model}), "coder": made_by}
    with store.recorded_run("code", recorded) as run:
        summary = CodeSummary(run.id, codebook.version, segmenter, notes=list(coder.notes))
        try:
            store.record_codebook(
                codebook.version, codebook.name, str(codebook.path or ""), codebook_text, run.id
            )
            todo = store.documents_to_code(segmenter, coder.name, codebook.version)
            # A model retrained for this codebook (dshift train) codes again what an earlier
            # model of the same coder coded; the earlier tags are replaced, decisions untouched.
            model_sha256 = made_by.get("model_sha256")
            stale = (
                store.coded_by_another_model(segmenter, coder.name, codebook.version, model_sha256)
                if model_sha256
                else []
            )
            recoded = {d.document_id for d in stale}
            todo = sorted([*todo, *stale], key=lambda d: d.document_id)
            if stale:
                summary.notes.append(
                    f"{len(stale)} document(s) coded again: {coder.name}'s model was retrained "
                    "since they were coded (their earlier tags are replaced)"
                )
            if on_total:
                on_total(len(todo))
            pending: list[tuple[CodingToSave, CodedDocument]] = []
            pending_segments = 0

            def save() -> None:  # documents coded so far, in one transaction
                nonlocal pending_segments
                store.save_codings([saving for saving, _ in pending])
                for _, coded in pending:
                    _count(summary, coded)
                if progress:
                    progress(len(pending))
                pending.clear()
                pending_segments = 0

            # The coder, codebook and store live through the loop: collections skip them.
            with long_lived():
                for doc_id, coded in _coded(store, coder, todo, segmenter, unit, executor, spec):
                    saving = CodingToSave(
                        doc_id,
                        segmenter,
                        coder.name,
                        codebook.version,
                        run.id,
                        coded.segments,
                        coded.tags,
                        replace=doc_id in recoded,
                    )
                    pending.append((saving, coded))
                    pending_segments += len(coded.segments)
                    if len(pending) == SAVE_DOCUMENTS or pending_segments > SAVE_SEGMENTS:
                        save()
            if pending:
                save()
        finally:
            summary.seconds = time.perf_counter() - started
            run.counts = summary.counts()
    return summary


def _coded(
    store: Store,
    coder: RuleCoder,
    todo: list[DocumentToCode],
    segmenter: str,
    unit: str,
    executor: Executor | None,
    spec: CoderSpec | None,
) -> Iterator[tuple[int, CodedDocument]]:
    """(document id, its coding) for each document to code, in this process or the executor's
    workers (in the order they finish)."""
    if executor is None or spec is None:
        loaded = (
            (
                d.document_id,
                ToCode(store.document_text(d.document_id), d.sha256, _about(store, d.document_id)),
            )
            for d in todo
        )
        for batch in batches(loaded, lambda pair: len(pair[1].text)):
            coded = code_documents(coder, [c for _, c in batch], segmenter, unit)
            yield from zip((document_id for document_id, _ in batch), coded)
        return
    loaded_documents = (
        TaskDocument(
            d.document_id,
            d.sha256,
            store.document_text(d.document_id),
            *_about(store, d.document_id),
        )
        for d in todo
    )
    tasks = (
        CodingTask(spec, tuple(batch), segmenter, unit)
        for batch in batches(loaded_documents, lambda d: len(d.text), characters=TASK_CHARACTERS)
    )
    for task, outcome in executor.map_unordered(code_task, tasks):
        if outcome.failure is not None:
            if isinstance(outcome.failure.error, DshiftError):
                raise outcome.failure.error
            ids = ", ".join(f"#{d.document_id}" for d in task.documents)
            raise DshiftError(
                f"coding documents {ids} failed in a worker: {outcome.failure.detail}",
                "run 'dshift code' again without --jobs to code in one process; if it fails "
                "there too, report it with the documents",
                code="failed",
            )
        assert outcome.value is not None
        yield from zip((d.document_id for d in task.documents), outcome.value)


def _about(store: Store, document_id: int) -> About:
    row = store.document(document_id)
    return About(row.source_type or "", row.title or "") if row is not None else About()


def _count(summary: CodeSummary, coded: CodedDocument) -> None:
    summary.documents += 1
    summary.segments += len(coded.segments)
    summary.words += coded.words
    summary.tags += len(coded.tags)
    for code, segments in _codes_of(coded.tags).items():
        summary.per_code[code] = summary.per_code.get(code, 0) + len(segments)


def _codes_of(tags: Iterable[TagToSave]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for tag in tags:
        out.setdefault(tag.code, set()).add(tag.segment_id)
        out.setdefault(tag.top_code, set()).add(tag.segment_id)
    return out


def tagged_in_memory(
    store: Store,
    coder: RuleCoder,
    segmenter: str,
    unit: str,
    summary: CodeSummary | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, set[str]]:
    """Code every current document in memory; return the segment ids tagged with each code."""
    tagged: dict[str, set[str]] = {}
    loaded = (
        ToCode(store.document_text(d.id), d.sha256, About(d.source_type or "", d.title or ""))
        for d in store.current_documents()
    )
    for batch in batches(loaded, lambda document: len(document.text)):
        for coded in code_documents(coder, batch, segmenter, unit):
            if summary is not None:
                _count(summary, coded)
            for code, ids in _codes_of(coded.tags).items():
                tagged.setdefault(code, set()).update(ids)
            if progress:
                progress(1)
    return tagged


def compare(
    old: dict[str, set[str]], new: dict[str, set[str]]
) -> tuple[dict[str, int], dict[str, int]]:
    """Per code, how many segments gain and how many lose the tag going from old to new."""
    codes = sorted(set(old) | set(new))
    gains = {c: len(new.get(c, set()) - old.get(c, set())) for c in codes}
    losses = {c: len(old.get(c, set()) - new.get(c, set())) for c in codes}
    return gains, losses


def _dry_run(
    store: Store,
    coder: RuleCoder,
    segmenter: str,
    unit: str,
    summary: CodeSummary,
    progress: Callable[[int], None] | None,
    on_total: Callable[[int], None] | None,
) -> None:
    if on_total:
        on_total(len(store.current_documents()))
    new = tagged_in_memory(store, coder, segmenter, unit, summary, progress)
    earlier = [v for v in store.coded_versions(coder.name) if v != summary.codebook_version]
    if earlier:
        summary.compared_with = earlier[-1]
        summary.gains, summary.losses = compare(store.tagged_segments(coder.name, earlier[-1]), new)
