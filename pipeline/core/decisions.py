"""The current state of coders' decisions, computed from the append-only events (pure).

A coder's current decision on a segment is their latest event, where an ``undo`` takes back the
one before it. Decisions are read per code: a decision speaks only for the codes it judged (its
``scope``; a decision without one judged every code), so a sheet about hedging says nothing
about alignment, and no "no" is ever inferred for a code the coder did not judge. For each
code, a coder's judgement is their latest current decision that judged it.

A segment's final code set: for each code, an adjudicator's judgement if there is one, else the
majority of the coders who judged it (the latest settles a tie); codes nobody judged keep the
machine's; segments nobody decided keep the machine's.

The events come from the caller (``store.decisions()`` passed through :func:`with_scopes`, as
``pipeline.codebook.versions.read_decisions`` does); nothing here reads the store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from pipeline.core.codes import CodeTree, with_ancestors

if TYPE_CHECKING:
    from pipeline.core.records import DecisionRow

__all__ = [
    "FinalDecision",
    "Judgement",
    "current",
    "final_codes",
    "final_decisions",
    "judge_key",
    "judgements",
    "scope_of",
    "settle",
    "with_ancestors",
    "with_scopes",
]


def _standing(
    events: Iterable[DecisionRow], *, by_role: bool = False
) -> dict[tuple[str, ...], list[DecisionRow]]:
    """(segment id, coder) -> the decisions that still stand, oldest first: each ``undo``
    takes back the one before it. With ``by_role``, keyed (segment id, coder, role): a person
    who codes a segment and adjudicates it too keeps the two apart."""
    stacks: dict[tuple[str, ...], list[DecisionRow]] = defaultdict(list)
    for event in sorted(events, key=lambda e: e.id):
        key = (
            (event.segment_id, event.coder, event.role)
            if by_role
            else (
                event.segment_id,
                event.coder,
            )
        )
        stack = stacks[key]
        if event.action == "undo":
            if stack:
                stack.pop()
        else:
            stack.append(event)
    return {key: stack for key, stack in stacks.items() if stack}


def current(events: Iterable[DecisionRow]) -> dict[tuple[str, str], DecisionRow]:
    """Map (segment id, coder) to that coder's current decision, replaying undos."""
    return {(key[0], key[1]): stack[-1] for key, stack in _standing(events).items()}


def with_scopes(
    events: Iterable[DecisionRow],
    codebook: CodeTree,
    codes_of: Callable[[str], frozenset[str] | None],
) -> list[DecisionRow]:
    """Give every decision that judged "every code" the codes it could have judged (pure).

    A decision without a scope (made before per-code review, or "no code applies") judged every
    code of the codebook it was made under, not of today's: a code added since was never
    judged. ``codes_of(version)`` gives a version's codes (None if that codebook is not known;
    then the decision judged what it gave and what it was shown, nothing more).
    """
    out = []
    for event in events:
        if event.scope is not None or event.codebook_version == codebook.version:
            out.append(event)
            continue
        then = codes_of(event.codebook_version)
        if then is None:
            then = frozenset(with_ancestors([*event.codes, *event.machine_codes], codebook))
        out.append(replace(event, scope=sorted(then & set(codebook.codes))))
    return out


def scope_of(decision: DecisionRow, codebook: CodeTree) -> set[str]:
    """The codes a decision judged: its scope, else every code of the codebook."""
    return set(codebook.codes) if decision.scope is None else set(decision.scope)


@dataclass
class Judgement:
    """One coder's current judgement of one segment, code by code.

    Attributes:
        coder: who judged.
        role: ``coder`` or ``adjudicator`` (of their newest decision on the segment).
        verdicts: code -> whether the coder gives it, for every code they judged (ancestors of a
            code they give count as given).
        event_of: code -> id of the decision event that settles the code for this coder.
        newest: the coder's newest current decision on the segment.
    """

    coder: str
    role: str
    verdicts: dict[str, bool] = field(default_factory=dict)
    event_of: dict[str, int] = field(default_factory=dict)
    newest: DecisionRow | None = None

    @property
    def codes(self) -> set[str]:
        """The codes this coder gives the segment."""
        return {c for c, given in self.verdicts.items() if given}


def judgements(
    events: Iterable[DecisionRow], codebook: CodeTree
) -> dict[str, dict[str, Judgement]]:
    """segment id -> judge -> their current judgement, code by code.

    A judge is a coder by name; the same person's adjudications are a judge of their own,
    ``NAME (adjudicator)`` (see :func:`judge_key`), so their verdicts as a coder stay a coder's
    and their adjudication stays final whatever they code later.
    """
    out: dict[str, dict[str, Judgement]] = defaultdict(dict)
    for (segment_id, coder, role), stack in _standing(events, by_role=True).items():
        judgement = Judgement(coder, role, newest=stack[-1])
        for event in stack:
            given = with_ancestors(event.codes, codebook)
            for code in scope_of(event, codebook) | given:
                judgement.verdicts[code] = code in given
                judgement.event_of[code] = event.id
        out[segment_id][judge_key(coder, role)] = judgement
    return dict(out)


def judge_key(coder: str, role: str) -> str:
    """The key of a judgement in :func:`judgements`: the coder's name, or ``NAME
    (adjudicator)`` for their adjudications."""
    return coder if role == "coder" else f"{coder} ({role})"


@dataclass(frozen=True)
class FinalDecision:
    """What humans settled for one segment, and who settled it.

    Attributes:
        codes: the final codes, parents included.
        decided_by: ``adjudicator`` when an adjudicator's decision stands, else ``coders``.
        coders: every coder whose current decision on the segment counts, sorted.
        action: the action of the deciding event (the adjudicator's, or the latest coder's).
        judged: the codes humans judged; the others in ``codes`` are the machine's.
    """

    codes: frozenset[str]
    decided_by: str
    coders: tuple[str, ...]
    action: str
    judged: frozenset[str] = frozenset()


def settle(views: Iterable[Judgement]) -> dict[str, bool]:
    """Per code judged by anyone: the adjudicators' latest verdict, else the coders' majority
    (on a tie, the verdict of the most recent judging decision)."""
    views = list(views)
    out: dict[str, bool] = {}
    for code in sorted({c for v in views for c in v.verdicts}):
        judging = [v for v in views if code in v.verdicts]
        judges = [v for v in judging if v.role == "adjudicator"]
        if judges:
            out[code] = max(judges, key=lambda v: v.event_of[code]).verdicts[code]
            continue
        yes = sum(v.verdicts[code] for v in judging)
        if 2 * yes != len(judging):
            out[code] = 2 * yes > len(judging)
        else:
            out[code] = max(judging, key=lambda v: v.event_of[code]).verdicts[code]
    return out


def final_decisions(
    events: Iterable[DecisionRow],
    codebook: CodeTree,
    *,
    machine: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, FinalDecision]:
    """Final decision of every segment a human decided.

    Code by code (see :func:`settle`): an adjudicator's judgement wins, else the majority of
    the coders who judged the code. A code no human judged keeps the machine's verdict: from
    ``machine`` (segment id -> the machine's current codes) when given, else from the machine
    codes the newest decision was shown.
    """
    out: dict[str, FinalDecision] = {}
    for segment_id, by_coder in judgements(events, codebook).items():
        views = list(by_coder.values())
        verdicts = settle(views)
        judges = [v for v in views if v.role == "adjudicator"]
        deciding = max(
            judges or views, key=lambda v: v.newest.id if v.newest is not None else 0
        ).newest
        assert deciding is not None
        given = {c for c, yes in verdicts.items() if yes}
        source = machine.get(segment_id, ()) if machine is not None else deciding.machine_codes
        unjudged = {c for c in with_ancestors(source, codebook) if c not in verdicts}
        out[segment_id] = FinalDecision(
            frozenset(with_ancestors(given, codebook) | unjudged),
            "adjudicator" if judges else "coders",
            tuple(sorted({v.coder for v in views})),
            deciding.action,
            frozenset(verdicts),
        )
    return out


def final_codes(
    events: Iterable[DecisionRow],
    codebook: CodeTree,
    *,
    machine: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, set[str]]:
    """Final codes of every segment a human decided (see :func:`final_decisions`)."""
    return {s: set(f.codes) for s, f in final_decisions(events, codebook, machine=machine).items()}
