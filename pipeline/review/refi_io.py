"""REFI-QDA exchange with the store: projects out, coders' codings back in as decisions.

Out: every current document as a plain-text source named ``<file>.txt`` (so that no program takes
it for a PDF), with our document id in a variable and in its description, the machine's codings,
and each coder's current decisions: their codes, or the marker code "(no code applies)" for a
reject, with the note as the selection's description. The description also says up to which
decision the export went and whose decisions on that document it holds.

Back (:func:`import_refi`): the file's sources, codes and users are matched to ours
(:mod:`pipeline.refi.match`), each coder's codings on a segment become that coder's decision on
it (``codes`` = every code they left there), judging the codes they touched — held in our
export or hold now, with their parents — or every code where they put the marker. A segment is
a removal (a decision without codes) only when its source was matched, the export held that
coder's decision on it, and the file has no coding of theirs there now. What cannot be placed
is reported and nothing is recorded unless ``skip_unplaced``; ``dry_run`` records nothing.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.codebook.model import Codebook
from pipeline.coders import MACHINE_CODERS
from pipeline.coding.nlp import DEFAULT_SEGMENTER
from pipeline.errors import DshiftError
from pipeline.refi.match import (
    DOCUMENT_VARIABLE,
    Document,
    Manifest,
    SourceMatch,
    match_codes,
    match_sources,
    place,
    read_manifest,
    source_description,
)
from pipeline.refi.read import RefiProject, read_codebook, read_project
from pipeline.refi.write import (
    NO_CODE,
    RefiCoding,
    RefiError,
    RefiSource,
    codebook_xml,
    project_qdpx,
    source_guid,
    text_source_name,
)
from pipeline.review.decisions import judgements, read_decisions, with_ancestors
from pipeline.store import Store
from pipeline.store.review import DecisionRow, NewDecision
from pipeline.store.sqlite import utc_now

MAX_EXAMPLES = 10
"""How many odd selections a summary lists by name."""


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


@dataclass(frozen=True)
class Unplaced:
    """Codings of the file that could not be placed, grouped by why, where and whose."""

    reason: str
    source: str
    code: str
    coder: str
    count: int

    def format(self) -> str:
        return (
            f"{self.count} coding(s) by {self.coder} of '{self.code}' on {self.source}: "
            f"{self.reason}"
        )


@dataclass
class RefiImport:
    """What importing a project did, or would do (``dry_run``).

    Attributes:
        decisions: how many decisions were recorded (0 on a dry run or when refused).
        users: the coders with decisions in the file.
        already_imported: where and when this very file was imported before, if it was.
        unplaced: how many codings could not be placed (see ``problems``).
        planned: the decisions that are (or would be) recorded.
        problems: what could not be placed, grouped.
        odd: selections placed, but not on segment bounds (first few, and how many).
        sources: how each source of the file was matched, or why not.
        not_removed: coders whose missing codings were not read as removals, and why.
        unverified: per coder, segments whose missing codings were not read as removals
            because the coder's codings on that source did not all come back readable.
        applied: whether ``planned`` was recorded.
    """

    decisions: int = 0
    users: list[str] = field(default_factory=list)
    already_imported: str | None = None
    unplaced: int = 0
    planned: list[NewDecision] = field(default_factory=list)
    problems: list[Unplaced] = field(default_factory=list)
    odd: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    not_removed: list[str] = field(default_factory=list)
    new_coders: list[str] = field(default_factory=list)
    unverified: dict[str, int] = field(default_factory=dict)
    applied: bool = False

    def summary(self) -> list[str]:
        """Return printable lines: per coder what is recorded, then what was not placed."""
        if self.already_imported:
            return [f"already imported from {self.already_imported}: nothing changed"]
        lines = [*self.sources]
        by_coder: dict[str, Counter[str]] = defaultdict(Counter)
        for d in self.planned:
            by_coder[d.coder][d.action] += 1
        verb = "records" if self.applied else "would record"
        for coder in sorted(set(self.users) | set(by_coder)):
            counts = by_coder.get(coder, Counter())
            detail = ", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
            new = " (new to the file)" if coder in self.new_coders else ""
            lines.append(
                f"{coder}{new}: {verb} {sum(counts.values())} decision(s)"
                + (f" ({detail})" if detail else "")
            )
        lines += [f"not read as removals: {why}" for why in self.not_removed]
        lines += [
            f"not read as removals: {n} segment(s) of {coder}'s on sources where no coding of "
            f"{coder}'s came back, or one could not be placed; their decisions stay as they were"
            for coder, n in sorted(self.unverified.items())
        ]
        if self.odd:
            lines.append(f"{len(self.odd)} selection(s) placed although not on segment bounds:")
            lines += [f"  {odd}" for odd in self.odd[:MAX_EXAMPLES]]
            if len(self.odd) > MAX_EXAMPLES:
                lines.append(f"  ... and {len(self.odd) - MAX_EXAMPLES} more")
        if self.problems:
            lines.append(f"{self.unplaced} coding(s) could not be placed:")
            lines += [f"  {p.format()}" for p in self.problems]
        return lines


def import_refi(
    store: Store,
    codebook: Codebook,
    path: Path,
    *,
    dry_run: bool = False,
    skip_unplaced: bool = False,
) -> RefiImport:
    """Turn each coder's codings in a project that came back into decisions.

    Args:
        store: The workspace's store.
        codebook: The workspace's codebook.
        path: The .qdpx file.
        dry_run: Work out and return the decisions without recording anything.
        skip_unplaced: Record the decisions even if some codings could not be placed (they
            are reported and left out); without it, any unplaced coding refuses the import.

    Returns:
        What was (or would be) recorded; :meth:`RefiImport.summary` prints it.

    Raises:
        RefiError: the file is not a readable, safe project, or (unless ``skip_unplaced`` or
            ``dry_run``) some of its codings could not be placed; the message lists them.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DshiftError(f"cannot read {path}: {exc}", "check the path") from None
    sha = hashlib.sha256(data).hexdigest()
    result = RefiImport()
    earlier = store.review_file(sha)
    if earlier is not None:
        result.already_imported = f"{earlier.path} (imported {earlier.imported_at})"
        return result
    project = read_project(data, code_ids=list(codebook.codes))
    events = read_decisions(store, codebook)
    _plan(project, store, codebook, events, f"{path.name} (REFI-QDA)", result)
    if result.problems and not skip_unplaced and not dry_run:
        raise RefiError(
            f"{path}: nothing was recorded: {result.unplaced} coding(s) could not be placed:\n"
            + "\n".join(f"  {p.format()}" for p in result.problems),
            "import the missing documents or codes and export the project again, or give "
            "--skip-unplaced to record the rest (see it first with --dry-run)",
        )
    if dry_run or not result.planned:
        return result
    with store.recorded_run(
        "review import", {"file": str(path), "kind": "refi", "skip_unplaced": skip_unplaced}
    ) as run:
        result.decisions = store.add_decisions(
            result.planned,
            sha256=sha,
            path=str(path),
            kind="refi",
            coder=",".join(result.users),
            run_id=run.id,
        )
        run.counts = {"decisions": result.decisions, "unplaced": result.unplaced}
    result.applied = True
    return result


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


def _plan(
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
        if coder in MACHINE_CODERS:
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


def propose_codebook(codebook: Codebook, path: Path) -> list[str]:
    """Compare a .qdc codebook with ours; return proposed changes (never applied).

    Codes are recognised as in a project (:func:`pipeline.refi.match.match_codes`): by GUID,
    id, name path or, in a flat list such as Taguette's, by name.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DshiftError(f"cannot read {path}: {exc}", "check the path") from None
    codes = read_codebook(data, code_ids=list(codebook.codes))
    ids = match_codes({c.guid: c for c in codes}, codebook)
    by_guid = {c.guid: c for c in codes}
    proposals = []
    for code in codes:
        code_id = ids[code.guid]
        if code_id == NO_CODE:
            continue
        if code_id is None:
            parent = by_guid.get(code.parent_guid) if code.parent_guid else None
            under = ids.get(parent.guid) if parent else _dotted_parent(code.name, codebook)
            place = under or (parent.name if parent else "the top level")
            proposals.append(f"+ new code '{code.name}' under {place}")
        elif code.name not in (codebook.codes[code_id].label, code_id):
            proposals.append(
                f"~ {code_id}: label '{codebook.codes[code_id].label}' -> '{code.name}'"
            )
    returned = {code_id for code_id in ids.values() if code_id}
    proposals.extend(
        f"- code {cid} is not in the file" for cid in codebook.codes if cid not in returned
    )
    return proposals


def _dotted_parent(name: str, codebook: Codebook) -> str | None:
    """Return the code id a dotted name such as ``hedging.turkey`` sits under, if it is ours."""
    head, dot, _ = name.strip().rpartition(".")
    return head if dot and head in codebook.codes else None
