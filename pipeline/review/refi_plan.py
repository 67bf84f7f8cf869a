"""Planning a REFI-QDA import: which decisions a returned project's codings mean (records nothing).

The file's sources, codes and users are matched to ours (:mod:`pipeline.refi.match`); each
coder's codings on a segment become that coder's decision on it (``codes`` = every code they left
there), judging the codes they touched (held in our export or hold now, with their parents), or
every code where they put the marker. A segment is a removal (a decision without codes) only when
its source was matched, the export held that coder's decision on it, and the file has no coding
of theirs there now.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from pipeline.codebook.model import Codebook
from pipeline.core import DEFAULT_SEGMENTER
from pipeline.core.decisions import with_ancestors
from pipeline.refi.match import (
    Document,
    SourceMatch,
    match_codes,
    match_sources,
    place,
    read_manifest,
)
from pipeline.refi.read import RefiProject
from pipeline.refi.write import NO_CODE
from pipeline.registry import coders as machine_coders
from pipeline.review.refi_export import exported_state
from pipeline.review.refi_result import RefiImport, Unplaced
from pipeline.store import Store
from pipeline.store.review import DecisionRow, NewDecision


def _documents(store: Store) -> list[Document]:
    segments: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for segment_id, doc_id, start, end, _ in store.segment_rows(DEFAULT_SEGMENTER):
        segments[doc_id].append((start, end, segment_id))
    return [
        Document(d.sha256, d.name, store.document_text(d.id), sorted(segments.get(d.id, [])))
        for d in store.current_documents()
    ]


_Key = tuple[str, str]  # (segment id, coder)


@dataclass
class _Coded:
    """Each coder's codings in the file, gathered per segment."""

    codes: dict[_Key, set[str]] = field(default_factory=dict)
    notes: dict[_Key, set[str]] = field(default_factory=lambda: defaultdict(set))
    incomplete: set[_Key] = field(default_factory=set)  # a code there is not ours
    marked: set[_Key] = field(default_factory=set)  # "(no code applies)" there
    placed_on: set[tuple[str, str]] = field(default_factory=set)  # (source, coder) placed
    unplaced_on: set[tuple[str, str]] = field(default_factory=set)  # ... and not placed
    coders: set[str] = field(default_factory=set)
    unplaced: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)


def plan_import(
    project: RefiProject,
    store: Store,
    codebook: Codebook,
    events: list[DecisionRow],
    origin: str,
    result: RefiImport,
) -> None:
    """Fill ``result`` with the decisions the file's codings mean and what could not be placed."""
    matched, unmatched = match_sources(project.sources.values(), _documents(store))
    for guid, source in sorted(project.sources.items(), key=lambda kv: kv[1].name):
        if guid in matched:
            result.sources.append(
                f"{source.name}: matched {matched[guid].document.name} by {matched[guid].by}"
            )
    coded = _gather(project, matched, unmatched, match_codes(project.codes, codebook), result)
    result.problems = [Unplaced(*key, n) for key, n in sorted(coded.unplaced.items())]
    result.unplaced = sum(coded.unplaced.values())
    baseline, removable = _baseline(project, matched, events, codebook, result)
    present = coded.coders | {name.strip() for name in project.users.values()}
    absent = sorted({coder for _, coder in removable} - present)
    if absent:
        result.not_removed.append(
            f"{', '.join(absent)}: in our export but not in the file at all (the program may "
            "have left them out); their decisions stay as they were"
        )
    source_of = {
        segment_id: guid
        for guid, match in matched.items()
        for _, _, segment_id in match.document.segments
    }
    for key in removable:
        if key in coded.codes or key in coded.incomplete or key[1] not in present:
            continue
        on = (source_of[key[0]], key[1])
        # A removal only where the coder's codings on that source came back and were all read:
        # a coder with none there may not have had the source open (or another coder's copy
        # came back), and an unplaced coding may be the very one that is missing here.
        if on in coded.placed_on and on not in coded.unplaced_on:
            coded.codes[key] = set()  # coded in our export, no coding now: a removal
        else:
            result.unverified[key[1]] = result.unverified.get(key[1], 0) + 1
    result.planned = _decide(coded, baseline, events, store, codebook, origin)
    result.users = sorted(coded.coders | {d.coder for d in result.planned})
    known = {coder for _, coder in baseline}
    result.new_coders = sorted(c for c in coded.coders if c not in known)


def _gather(
    project: RefiProject,
    matched: dict[str, SourceMatch],
    unmatched: dict[str, str],
    codes: dict[str, str | None],
    result: RefiImport,
) -> _Coded:
    """Place every human coding of the file on our segments; count what cannot be placed."""
    coded = _Coded()
    for span in project.codings:
        coder = span.user.strip()
        if coder in machine_coders:
            continue  # a machine's own codings: shown to the coders, not decisions
        source = project.sources[span.source_guid]
        code = project.codes[span.code_guid]
        if not coder:
            coded.unplaced[("the user has no name", source.name, code.name, "(no name)")] += 1
            continue
        if span.source_guid not in matched:
            coded.unplaced[(unmatched[span.source_guid], source.name, code.name, coder)] += 1
            continue
        where = f"{source.name} [{span.start}:{span.end}]"
        placement = place(span.start, span.end, matched[span.source_guid].document)
        if not placement.segments:
            coded.unplaced[(placement.odd, where, code.name, coder)] += 1
            coded.unplaced_on.add((span.source_guid, coder))
            continue
        coded.placed_on.add((span.source_guid, coder))
        if placement.odd:
            result.odd.append(f"{coder} on {where}: {placement.odd}")
        code_id = codes[span.code_guid]
        if code_id is None:
            reason = (
                "the code is not in the codebook (by GUID, id or name path); the segments it "
                "is on are left undecided for this coder"
            )
            coded.unplaced[(reason, source.name, code.name, coder)] += 1
        coded.coders.add(coder)
        for segment in placement.segments:
            key = (segment, coder)
            if code_id is None:
                coded.incomplete.add(key)
                continue
            held = coded.codes.setdefault(key, set())
            if code_id != NO_CODE:
                held.add(code_id)
            else:
                coded.marked.add(key)
            if span.note:
                coded.notes[key].add(span.note)
    return coded


def _decide(
    coded: _Coded,
    baseline: dict[_Key, tuple[frozenset[str], str]],
    events: list[DecisionRow],
    store: Store,
    codebook: Codebook,
    origin: str,
) -> list[NewDecision]:
    """Return a decision for each (segment, coder) whose codes changed since our export and
    differ from what is recorded; nothing where any of their codes there is not ours."""
    now = exported_state(events, codebook)
    tags = store.machine_tags(store.active_coder(), codebook.version)
    planned = []
    for key in sorted(coded.codes):
        if key in coded.incomplete:
            continue
        segment, coder = key
        codes = frozenset(coded.codes[key])
        note = "\n\n".join(sorted(coded.notes.get(key, set())))
        full = with_ancestors(codes, codebook)  # a subcode implies its parent
        before = baseline.get(key)
        if (
            before is not None
            and with_ancestors(before[0], codebook) == full
            and (before[1] == note or not note)
        ):
            continue  # unchanged in the program since our export
        latest = now.get(key)
        if (
            latest is not None
            and with_ancestors(latest[0], codebook) == full
            and (latest[1] == note or not note)
        ):
            continue  # already recorded
        machine = sorted({c for c, _, _ in tags.get(segment, [])})
        ordered = sorted(codes)
        action = "reject" if not ordered else ("accept" if ordered == machine else "relabel")
        # What the coder judged: every code with the marker, else the codes they touched
        # (held before, or hold now) with their parents; silence on other codes is no verdict.
        touched = set(codes) | (set(before[0]) if before is not None else set())
        scope = None if key in coded.marked else sorted(with_ancestors(touched, codebook))
        planned.append(
            NewDecision(
                segment_id=segment,
                coder=coder,
                role="coder",  # adjudication only through a signed sheet (role from the store)
                action=action,
                codes=ordered,
                machine_codes=machine,
                note=note,
                codebook_version=codebook.version,
                source=origin,
                scope=scope,
            )
        )
    return planned


def _baseline(
    project: RefiProject,
    matched: dict[str, SourceMatch],
    events: list[DecisionRow],
    codebook: Codebook,
    result: RefiImport,
) -> tuple[dict[_Key, tuple[frozenset[str], str]], set[_Key]]:
    """Return what our export held for each (segment, coder) of the matched sources, and which
    of those keys a missing coding may be read as a removal of."""
    baseline: dict[_Key, tuple[frozenset[str], str]] = {}
    removable: set[_Key] = set()
    unknown: list[str] = []
    for guid, match in matched.items():
        document = match.document
        segment_ids = {segment_id for _, _, segment_id in document.segments}
        manifest = read_manifest(project.sources[guid])
        if manifest is None or manifest.decisions_upto is None:
            unknown.append(project.sources[guid].name)
            for key, state in exported_state(events, codebook).items():
                if key[0] in segment_ids:
                    baseline[key] = state
            continue
        upto = manifest.decisions_upto
        held = exported_state([e for e in events if e.id <= upto], codebook)
        for key, state in held.items():
            if key[0] in segment_ids and key[1] in manifest.coders:
                baseline[key] = state
                removable.add(key)
    if unknown:
        result.not_removed.append(
            f"{len(unknown)} source(s) do not say whose codings our export held "
            f"({', '.join(sorted(unknown)[:5])}{', ...' if len(unknown) > 5 else ''}): "
            "missing codings there are not read as removals"
        )
    return baseline, removable
