"""Exporting a REFI-QDA project from the store: texts, codebook, machine and human codings.

Every current document goes out as a plain-text source named ``<file>.txt`` (so that no program
takes it for a PDF), with our document id in a variable and in its description. Each coder's
current decisions go out as their codes, or the marker code "(no code applies)" for a reject,
with the note as the selection's description; the description also says up to which decision the
export went and whose decisions on that document it holds (see :func:`exported_state`).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from pipeline.codebook.model import Codebook
from pipeline.codebook.versions import read_decisions
from pipeline.core import DEFAULT_SEGMENTER
from pipeline.core.decisions import judgements
from pipeline.refi.match import DOCUMENT_VARIABLE, Manifest, source_description
from pipeline.refi.write import (
    NO_CODE,
    RefiCoding,
    RefiSource,
    codebook_xml,
    project_qdpx,
    source_guid,
    text_source_name,
)
from pipeline.store import Store
from pipeline.store.review import DecisionRow
from pipeline.store.sqlite import utc_now


def export_refi(store: Store, codebook: Codebook, folder: Path, name: str) -> list[Path]:
    """Write ``project.qdpx`` (texts, codebook, variables, machine and human codings) and
    ``codebook.qdc`` into ``folder``."""
    documents = store.current_documents()
    events = read_decisions(store, codebook)
    upto = max((e.id for e in events), default=0)
    spans = {
        sid: (doc, start, end) for sid, doc, start, end, _ in store.segment_rows(DEFAULT_SEGMENTER)
    }
    by_id = {d.id: d for d in documents}
    codings: list[RefiCoding] = []
    machine = store.active_coder()
    for segment_id, found in store.machine_tags(machine, codebook.version).items():
        if segment_id in spans:
            doc, start, end = spans[segment_id]
            codings.extend(
                RefiCoding(machine, source_guid(by_id[doc].sha256), start, end, code)
                for code in sorted({c for c, _, _ in found})
            )
    users = {machine}
    coders_of: dict[int, set[str]] = defaultdict(set)
    for (segment_id, coder), (codes, note) in exported_state(events, codebook).items():
        if segment_id not in spans:
            continue
        doc, start, end = spans[segment_id]
        users.add(coder)
        coders_of[doc].add(coder)
        guid = source_guid(by_id[doc].sha256)
        codings.extend(
            RefiCoding(coder, guid, start, end, code, note) for code in sorted(codes) or [NO_CODE]
        )
    sources = []
    for d in documents:
        variables: dict[str, str | int | None] = {
            "year": d.year,
            "date": d.date,
            "source_type": d.source_type,
            "issuer": d.issuer,
            DOCUMENT_VARIABLE: d.sha256,
        }
        manifest = Manifest(d.sha256, upto, tuple(sorted(coders_of[d.id])))
        sources.append(
            RefiSource(
                source_guid(d.sha256),
                text_source_name(d.name),
                store.document_text(d.id),
                variables,
                source_description(manifest),
            )
        )
    folder.mkdir(parents=True, exist_ok=True)
    project = folder / "project.qdpx"
    project.write_bytes(
        project_qdpx(
            name=name,
            codebook=codebook,
            sources=sources,
            codings=codings,
            users=sorted(users),
            created=utc_now(),
        )
    )
    book = folder / "codebook.qdc"
    book.write_bytes(codebook_xml(codebook))
    return [project, book]


def exported_state(
    events: list[DecisionRow], codebook: Codebook
) -> dict[tuple[str, str], tuple[frozenset[str], str]]:
    """Return what an export writes for each (segment, coder): the codes they give and a note.

    Codes are settled code by code over the coder's decisions (a sheet about one track changes
    only that track), and written without the parents their subcodes imply. An empty set is
    written as the marker code, so only a coder who judged every code and gave none gets it; a
    coder who judged part of the tree and gave nothing there is not written (the file could not
    say what they judged). A decision whose codes are all outside the codebook is left out too.
    """
    out: dict[tuple[str, str], tuple[frozenset[str], str]] = {}
    everything = set(codebook.codes)
    for segment_id, by_coder in judgements(events, codebook).items():
        for coder, judgement in by_coder.items():
            if judgement.role != "coder":
                continue  # adjudications stay in dshift: a CAQDAS file cannot carry the role
            given = {c for c, yes in judgement.verdicts.items() if yes}
            implied = {codebook.codes[c].parent for c in given} - {None}
            codes = frozenset(given - implied)
            newest = judgement.newest
            if not codes:
                if newest is not None and newest.codes:
                    continue  # codes all outside this codebook: nothing could say them
                if not everything <= set(judgement.verdicts):
                    continue
            out[(segment_id, coder)] = (codes, newest.note.strip() if newest else "")
    return out
