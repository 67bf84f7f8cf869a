"""The review page's work: each coder's queue, a segment as the page shows it, and the decisions
made there.

A :class:`Desk` serves one store for the life of a ``dshift serve``. It orders every segment
once by a review strategy (the same :func:`~pipeline.review.select.select` sheets use) and
hands each coder the next one that is theirs to code: not decided by them already, not being
coded by another coder right now (a segment shown to one coder is *claimed* for
:data:`CLAIM_SECONDS`), and not decided by another coder, unless it falls in the share that
every coder codes (``double``: blind double coding, for agreement). Decisions by other routes
(a sheet imported meanwhile) are seen, because the store is asked about each candidate before it
is offered.

Writes are append-only decision events with the source ``web``, through the same store calls
as sheet import; an undo is a new ``undo`` event. Nothing here knows about HTTP.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.codebook.model import Codebook
from pipeline.codebook.versions import read_decisions
from pipeline.core import DEFAULT_SEED
from pipeline.core.agreement import disagreements
from pipeline.core.decisions import current, judgements, with_ancestors
from pipeline.core.records import CoderAccount, DecisionRow, NewDecision
from pipeline.errors import DshiftError
from pipeline.review.accounts import check_name, log_in
from pipeline.review.desk_views import (
    DocumentView,
    TrackHelp,
    codes_of,
    document_view,
    machine_tags,
    tracks,
)
from pipeline.review.select import STRATEGIES, select
from pipeline.review.settings import AgreementSettings
from pipeline.review.sheet_rows import candidates
from pipeline.review.stage import AgreementReport, agreement
from pipeline.stage import Context
from pipeline.store import Store

CLAIM_SECONDS = 15 * 60  # a segment shown to a coder is kept from the others this long
NOTE_LIMIT = 2000  # characters of a note
SOURCE = "web"


@dataclass(frozen=True)
class Span:
    """Where in a segment's text the machine found evidence for a code."""

    start: int  # offsets into the segment's text
    end: int
    code: str
    pattern: str


@dataclass(frozen=True)
class Item:
    """One segment as the page shows it to one coder."""

    segment_id: str
    document_id: int
    title: str
    date: str
    source_type: str
    before: str  # the sentence before it in its document ('' at the start)
    text: str
    after: str
    machine_codes: tuple[str, ...]  # empty when the coder codes blind
    spans: tuple[Span, ...]  # likewise
    mine: tuple[str, ...] | None  # the coder's standing codes on it; None: not decided yet
    note: str = ""


@dataclass(frozen=True)
class Progress:
    """How far a coder is: segments they decided, and segments still in their queue."""

    done: int
    left: int


@dataclass(frozen=True)
class Disagreement:
    """A segment coders disagree on: each coder's codes, side by side with the machine's."""

    segment_id: str
    coders: tuple[tuple[str, tuple[str, ...]], ...]
    machine_codes: tuple[str, ...]


@dataclass
class _Queue:
    order: list[str]  # every segment, in the strategy's order
    position: dict[str, int]
    standing: dict[str, dict[str, DecisionRow]] = field(default_factory=dict)  # coder -> seg
    decided_by: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


class Desk:
    """Coders' queues and decisions over one open store (one thread at a time: the web app
    calls it from a single worker)."""

    def __init__(
        self,
        store: Store,
        codebook: Codebook,
        models: Path | None = None,
        *,
        strategy: str = "stratified",
        seed: int = DEFAULT_SEED,
        double: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if strategy not in STRATEGIES:
            raise DshiftError(
                f"unknown review strategy {strategy!r}",
                f"choose one of {', '.join(STRATEGIES)}",
                code="usage",
            )
        if not 0.0 <= double <= 1.0:
            raise DshiftError(
                f"the share of segments every coder codes must be between 0 and 1, not {double}",
                "give --double 0.1 for a tenth of the segments, 0 for none",
                code="usage",
            )
        self.store, self.codebook, self.models = store, codebook, models
        self.strategy, self.seed, self.double, self.clock = strategy, seed, double, clock
        self.coder_name = store.active_coder()
        self._queue: _Queue | None = None
        self._claims: dict[str, tuple[str, float]] = {}
        self._shared: dict[str, bool] = {}  # segment -> in the double-coded share

    # -- the queue ---------------------------------------------------------------------------

    def _load(self) -> _Queue:
        if self._queue is None:
            pool = candidates(self.store, self.codebook, self.models)
            order = select(pool, strategy=self.strategy, size=len(pool), seed=self.seed)
            queue = _Queue(order, {s: i for i, s in enumerate(order)})
            for (segment_id, coder), event in current(self.store.decisions()).items():
                queue.standing.setdefault(coder, {})[segment_id] = event
                queue.decided_by[segment_id].add(coder)
            self._queue = queue
        return self._queue

    def _refresh(self, segment_id: str) -> None:
        """Read the segment's decisions from the store again (another route may have written)."""
        queue = self._load()
        events = self.store.decisions([segment_id])
        queue.decided_by[segment_id] = set()
        for coder in list(queue.standing):
            queue.standing[coder].pop(segment_id, None)
        for (segment, coder), event in current(events).items():
            queue.standing.setdefault(coder, {})[segment] = event
            queue.decided_by[segment].add(coder)

    def in_double_share(self, segment_id: str) -> bool:
        """Whether every coder codes this segment (a seeded share of ``double``)."""
        if self.double <= 0:
            return False
        shared = self._shared.get(segment_id)
        if shared is None:
            digest = hashlib.sha256(f"{self.seed}:{segment_id}".encode()).digest()
            shared = self._shared[segment_id] = (
                int.from_bytes(digest[:8], "big") / 2**64 < self.double
            )
        return shared

    def _open_to(self, coder: str, segment_id: str, now: float) -> bool:
        queue = self._load()
        if segment_id in queue.standing.get(coder, {}):
            return False
        claim = self._claims.get(segment_id)
        if claim is not None and claim[0] != coder and now - claim[1] < CLAIM_SECONDS:
            return self.in_double_share(segment_id)
        others = queue.decided_by.get(segment_id, set()) - {coder}
        return not others or self.in_double_share(segment_id)

    def next_segment(self, coder: str) -> str | None:
        """The next segment for ``coder`` (claimed for them), or None when their queue is empty.

        A segment they were shown and have not decided comes back first, so that a reload
        does not skip it.
        """
        queue = self._load()
        now = self.clock()
        held = [s for s, (c, _) in self._claims.items() if c == coder]
        for segment_id in sorted(held, key=lambda s: queue.position.get(s, 0)):
            self._refresh(segment_id)
            if segment_id not in queue.standing.get(coder, {}):
                self._claims[segment_id] = (coder, now)
                return segment_id
            del self._claims[segment_id]
        for segment_id in queue.order:
            if not self._open_to(coder, segment_id, now):
                continue
            self._refresh(segment_id)  # a sheet imported meanwhile, another server
            if self._open_to(coder, segment_id, now):
                self._claims[segment_id] = (coder, now)
                return segment_id
        return None

    def check_queue(self, coder: str, segment_id: str) -> None:
        """Refuse a segment that is not in ``coder``'s queue: shown to them (claimed), decided
        by them before, or open to them now. A coder codes only their own queue."""
        queue = self._load()
        claim = self._claims.get(segment_id)
        if claim is not None and claim[0] == coder:
            return
        self._refresh(segment_id)
        if segment_id in queue.standing.get(coder, {}):
            return
        if segment_id in queue.position and self._open_to(coder, segment_id, self.clock()):
            return
        raise DshiftError(
            f"segment {segment_id} is not in your queue (another coder has it, or it is not "
            "a segment of this workspace)",
            "go back to your queue: the next segment is yours",
            code="usage",
        )

    def progress(self, coder: str) -> Progress:
        """Segments ``coder`` decided, and how many their queue still holds.

        Counted from the few segments that are closed to them (decided, or held by another
        coder), never by walking the whole queue.
        """
        queue = self._load()
        now = self.clock()
        mine = set(queue.standing.get(coder, {}))
        others = {s for s, coders in queue.decided_by.items() if coders - {coder}}
        others |= {
            s
            for s, (holder, since) in self._claims.items()
            if holder != coder and now - since < CLAIM_SECONDS
        }
        closed = mine | {s for s in others if s in queue.position and not self.in_double_share(s)}
        return Progress(len(mine), len(queue.order) - len(closed & queue.position.keys()))

    # -- what the page shows -----------------------------------------------------------------

    def item(self, segment_id: str, coder: str, *, blind: bool) -> Item:
        """The segment as ``coder`` sees it (machine codes and spans left out when ``blind``)."""
        segment = self.store.segment(segment_id)
        if segment is None:
            raise DshiftError(
                f"there is no segment {segment_id!r} in this workspace",
                "go back to the queue; the segment may belong to another workspace",
                code="usage",
            )
        document = self.store.document(segment.document_id)
        assert document is not None
        text = self.store.document_text(segment.document_id)
        siblings = self.store.document_segments(segment.document_id, segment.segmenter)
        at = next(i for i, s in enumerate(siblings) if s.id == segment_id)
        before = siblings[at - 1] if at > 0 else None
        after = siblings[at + 1] if at + 1 < len(siblings) else None
        codes: tuple[str, ...] = ()
        spans: list[Span] = []
        if not blind:
            tags = machine_tags(self.store, segment_id, self.coder_name, self.codebook.version)
            codes = tuple(codes_of(tags))
            for tag in tags:
                for found in tag.evidence:
                    start, end = int(found["start"]), int(found["end"])
                    if segment.start <= start < end <= segment.end:
                        spans.append(
                            Span(
                                start - segment.start,
                                end - segment.start,
                                str(found.get("code", tag.code)),
                                str(found.get("pattern", "")),
                            )
                        )
        mine = self._load().standing.get(coder, {}).get(segment_id)
        return Item(
            segment_id,
            document.id,
            document.title or document.name,
            document.date or "",
            document.source_type,
            text[before.start : before.end].strip() if before else "",
            text[segment.start : segment.end],
            text[after.start : after.end].strip() if after else "",
            codes,
            tuple(sorted(spans, key=lambda s: (s.start, -s.end))),
            tuple(sorted(mine.codes)) if mine else None,
            mine.note if mine else "",
        )

    # -- decisions ---------------------------------------------------------------------------

    def decide(
        self,
        coder: str,
        segment_id: str,
        codes: list[str],
        *,
        role: str = "coder",
        note: str = "",
        blind: bool,
    ) -> int:
        """Record ``coder``'s codes for a segment (an empty list: no code applies); return the
        decision's id. The action says how it relates to what the machine said: ``accept``
        when the coder saw the machine's codes and kept them, ``reject`` for no code, else
        ``relabel``."""
        unknown = sorted(set(codes) - set(self.codebook.codes))
        if unknown:
            raise DshiftError(
                f"{', '.join(unknown)}: not a code of the codebook ({self.codebook.version})",
                "reload the page: the codebook may have changed since it was shown",
                code="usage",
            )
        if len(note) > NOTE_LIMIT:
            raise DshiftError(
                f"the note has {len(note)} characters; at most {NOTE_LIMIT} are kept",
                "shorten the note",
                code="usage",
            )
        if role == "coder":
            self.check_queue(coder, segment_id)
        elif self.store.segment(segment_id) is None:
            raise DshiftError(
                f"there is no segment {segment_id!r}", "reload the page", code="usage"
            )
        machine = self._machine_codes(segment_id)
        given = sorted(with_ancestors(codes, self.codebook))  # a subcode gives its track
        action = "reject" if not given else "relabel"
        if given and not blind and set(given) == set(machine):
            action = "accept"
        decision = NewDecision(
            segment_id,
            coder,
            role,
            action,
            given,
            machine,
            note.strip(),
            self.codebook.version,
            SOURCE,
        )
        (decision_id,) = self.store.add_web_decisions([decision])
        self._claims.pop(segment_id, None)
        self._refresh(segment_id)
        return decision_id

    def undo(self, coder: str, *, role: str = "coder") -> str | None:
        """Take back ``coder``'s latest standing decision made here or anywhere (a new
        ``undo`` event); return its segment (back at the head of their queue), or None."""
        standing = current(e for e in self.store.decisions_of_coder(coder) if e.role == role)
        if not standing:
            return None
        latest = max(standing.values(), key=lambda e: e.id)
        self.store.add_web_decisions(
            [
                NewDecision(
                    latest.segment_id,
                    coder,
                    role,
                    "undo",
                    [],
                    latest.machine_codes,
                    "",
                    self.codebook.version,
                    SOURCE,
                )
            ]
        )
        self._refresh(latest.segment_id)
        self._claims[latest.segment_id] = (coder, self.clock())
        return latest.segment_id

    # -- adjudication ------------------------------------------------------------------------

    def disagreements(self) -> list[Disagreement]:
        """Every segment coders still disagree on, with each coder's codes and the machine's."""
        events = read_decisions(self.store, self.codebook)
        views = judgements(events, self.codebook)
        out = []
        for segment_id in disagreements(events, self.codebook):
            by = views.get(segment_id, {})
            coded = tuple(
                (v.coder, tuple(sorted(v.codes)))
                for _, v in sorted(by.items())
                if v.role == "coder"
            )
            out.append(Disagreement(segment_id, coded, tuple(self._machine_codes(segment_id))))
        return out

    def settle(self, adjudicator: str, segment_id: str, codes: list[str], reason: str) -> int:
        """Record an adjudicator's final codes for a segment, with the reason (required)."""
        if not reason.strip():
            raise DshiftError(
                "an adjudication needs a reason",
                "say in a few words why these codes (it is kept with the decision)",
                code="usage",
            )
        return self.decide(
            adjudicator, segment_id, codes, role="adjudicator", note=reason, blind=False
        )

    def _machine_codes(self, segment_id: str) -> list[str]:
        return codes_of(
            machine_tags(self.store, segment_id, self.coder_name, self.codebook.version)
        )

    # -- the other pages ---------------------------------------------------------------------

    def tracks(self) -> list[TrackHelp]:
        """The codebook's tracks with their keys, subcodes, definitions and examples."""
        return tracks(self.codebook)

    def document(self, doc_id: int, coder: str, *, blind: bool) -> DocumentView:
        """A document cut into its segments (machine codes left out when ``blind``)."""
        return document_view(self.store, self.codebook, self.coder_name, doc_id, coder, blind=blind)

    def agreement(self, settings: AgreementSettings | None = None) -> AgreementReport:
        """The agreement report, as ``dshift agreement`` gives it."""
        context = Context(
            store=self.store, book=self.codebook, outputs=Path("."), models=self.models or Path(".")
        )
        return agreement(context, settings or AgreementSettings(n_boot=200))

    # -- accounts ----------------------------------------------------------------------------

    def has_accounts(self) -> bool:
        """Whether anyone has an account (then everyone logs in with their token)."""
        return bool(self.store.coder_accounts())

    def log_in(self, token: str) -> CoderAccount | None:
        """The account a token belongs to, or None."""
        return log_in(self.store, token)

    def local_name(self, name: str) -> str:
        """A name typed on a page served without accounts, checked (a DshiftError if not a
        name a coder can have)."""
        return check_name(name)

    def account(self, name: str) -> CoderAccount | None:
        """The account called ``name``, or None."""
        return self.store.coder_account(name)
