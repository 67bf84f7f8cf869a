"""REFI-QDA exchange with the store: projects out, coders' codings back in as decisions."""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.codebook.model import Codebook
from pipeline.coding.nlp import DEFAULT_SEGMENTER
from pipeline.coding.rules import CODER
from pipeline.errors import DshiftError
from pipeline.refi.read import read_codebook, read_project
from pipeline.refi.write import RefiCoding, RefiSource, codebook_xml, project_qdpx, source_guid
from pipeline.review.decisions import current
from pipeline.store import Store
from pipeline.store.review import NewDecision
from pipeline.store.sqlite import utc_now


def export_refi(store: Store, codebook: Codebook, folder: Path, name: str) -> list[Path]:
    """Write ``project.qdpx`` (texts, codebook, variables, machine and human codings) and
    ``codebook.qdc`` into ``folder``."""
    documents = store.current_documents()
    sources = []
    for d in documents:
        variables: dict[str, str | int | None] = {
            "year": d.year,
            "date": d.date,
            "source_type": d.source_type,
            "issuer": d.issuer,
        }
        sources.append(
            RefiSource(source_guid(d.sha256), d.name, store.document_text(d.id), variables)
        )
    by_id = {d.id: d for d in documents}
    spans = {
        sid: (by_id[doc].sha256, start, end)
        for sid, doc, start, end, _ in store.segment_rows(DEFAULT_SEGMENTER)
    }
    codings: list[RefiCoding] = []
    for segment_id, found in store.machine_tags(CODER, codebook.version).items():
        if segment_id in spans:
            sha, start, end = spans[segment_id]
            codings.extend(
                RefiCoding(CODER, source_guid(sha), start, end, code)
                for code in sorted({c for c, _, _ in found})
            )
    users = {CODER}
    for (segment_id, coder), decision in current(store.decisions()).items():
        if segment_id in spans:
            users.add(coder)
            sha, start, end = spans[segment_id]
            codings.extend(
                RefiCoding(coder, source_guid(sha), start, end, code)
                for code in decision.codes
                if code in codebook.codes
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


@dataclass
class RefiImport:
    """What importing a project did."""

    decisions: int = 0
    users: list[str] = field(default_factory=list)
    already_imported: str | None = None
    unplaced: int = 0  # codings that fall on no segment


def import_refi(store: Store, codebook: Codebook, path: Path) -> RefiImport:
    """Turn each named coder's codings in a returned project into decisions.

    For every coder (any user but the machine), each segment their codings touch gets a
    decision: the codes they put on it (relabel), or accept when those equal the machine's.
    A segment they had coded before and now left without codes gets a reject.
    """
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    result = RefiImport()
    earlier = store.review_file(sha)
    if earlier is not None:
        result.already_imported = f"{earlier[0]} (imported {earlier[2]})"
        return result
    project = read_project(data, code_ids=list(codebook.codes))
    documents = {source_guid(d.sha256): d for d in store.current_documents()}
    segments: dict[int, list[tuple[int, int, str]]] = {}
    for segment_id, doc_id, start, end, _ in store.segment_rows(DEFAULT_SEGMENTER):
        segments.setdefault(doc_id, []).append((start, end, segment_id))
    tags = store.machine_tags(CODER, codebook.version)
    before = current(store.decisions())
    given: dict[tuple[str, str], set[str]] = {}
    for span in project.codings:
        user = project.users.get(span.user, span.user)
        code = project.codes.get(span.code_guid)
        document = documents.get(span.source_guid)
        if user == CODER or code is None or code.code_id is None or document is None:
            continue
        segment = _segment_at(segments.get(document.id, []), span.start, span.end)
        if segment is None:
            result.unplaced += 1
            continue
        given.setdefault((segment, user), set()).add(code.code_id)
    for (segment, coder), decision in before.items():
        if (
            decision.role == "coder"
            and coder in project.users.values()
            and decision.codes
            and (segment, coder) not in given
        ):
            given[(segment, coder)] = set()
    decisions = []
    for (segment, coder), codes in sorted(given.items()):
        machine = sorted({c for c, _, _ in tags.get(segment, [])})
        old = before.get((segment, coder))
        if old is not None and sorted(old.codes) == sorted(codes):
            continue  # nothing changed for this coder on this segment
        action = (
            "accept" if sorted(codes) == machine and codes else ("relabel" if codes else "reject")
        )
        decisions.append(
            NewDecision(
                segment,
                coder,
                "coder",
                action,
                sorted(codes),
                machine,
                "",
                codebook.version,
                f"{path.name} (REFI-QDA)",
            )
        )
    result.users = sorted({c for _, c in given})
    if not decisions:
        return result
    with store.recorded_run("review import", {"file": str(path), "kind": "refi"}) as run:
        result.decisions = store.add_decisions(
            decisions,
            sha256=sha,
            path=str(path),
            kind="refi",
            coder=",".join(result.users),
            run_id=run.id,
        )
        run.counts = {"decisions": result.decisions}
    return result


def _segment_at(spans: list[tuple[int, int, str]], start: int, end: int) -> str | None:
    """The segment holding most of [start, end)."""
    if not spans:
        return None
    index = max(bisect_right([s for s, _, _ in spans], start) - 1, 0)
    best, overlap = None, 0
    for seg_start, seg_end, segment_id in spans[index:]:
        if seg_start >= end:
            break
        shared = min(end, seg_end) - max(start, seg_start)
        if shared > overlap:
            best, overlap = segment_id, shared
    return best


def propose_codebook(codebook: Codebook, path: Path) -> list[str]:
    """Compare a .qdc codebook with ours; return proposed changes (never applied)."""
    try:
        codes = read_codebook(path.read_bytes(), code_ids=list(codebook.codes))
    except OSError as exc:
        raise DshiftError(f"cannot read {path}: {exc}", "check the path") from None
    by_guid = {c.guid: c for c in codes}
    proposals = []
    for code in codes:
        parent = by_guid.get(code.parent_guid) if code.parent_guid else None
        parent_id = parent.code_id if parent else None
        if code.code_id is None:
            where = f" under {parent_id or (parent.name if parent else 'the top level')}"
            proposals.append(f"+ new code '{code.name}'{where}")
        elif code.name != codebook.codes[code.code_id].label:
            proposals.append(
                f"~ {code.code_id}: label '{codebook.codes[code.code_id].label}' -> '{code.name}'"
            )
    returned = {c.code_id for c in codes if c.code_id}
    proposals.extend(
        f"- code {cid} is not in the file" for cid in codebook.codes if cid not in returned
    )
    return proposals
