"""The current state of coders' decisions, computed from the append-only events (pure).

A coder's current decision on a segment is their latest event, where an ``undo`` takes back the
one before it. A segment's final codes are the adjudicator's current decision if there is one,
else the majority of the coders' current decisions (the latest settles a tie); segments nobody
decided keep the machine's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.codebook.model import Codebook
from pipeline.store.review import DecisionRow


def current(events: Iterable[DecisionRow]) -> dict[tuple[str, str], DecisionRow]:
    """Map (segment id, coder) to that coder's current decision, replaying undos."""
    stacks: dict[tuple[str, str], list[DecisionRow]] = defaultdict(list)
    for event in sorted(events, key=lambda e: e.id):
        stack = stacks[(event.segment_id, event.coder)]
        if event.action == "undo":
            if stack:
                stack.pop()
        else:
            stack.append(event)
    return {key: stack[-1] for key, stack in stacks.items() if stack}


def with_ancestors(codes: Iterable[str], codebook: Codebook) -> set[str]:
    """Add every code's parents, so that 'hedging.china' also counts as 'hedging'."""
    out: set[str] = set()
    for code_id in codes:
        code = codebook.codes.get(code_id)
        while code is not None:
            out.add(code.id)
            code = codebook.codes.get(code.parent) if code.parent else None
    return out


@dataclass(frozen=True)
class FinalDecision:
    """What humans settled for one segment, and who settled it.

    Attributes:
        codes: the final codes, parents included.
        decided_by: ``adjudicator`` when an adjudicator's decision stands, else ``coders``.
        coders: every coder whose current decision on the segment counts, sorted.
        action: the action of the deciding event (the adjudicator's, or the latest coder's).
    """

    codes: frozenset[str]
    decided_by: str
    coders: tuple[str, ...]
    action: str


def final_decisions(events: Iterable[DecisionRow], codebook: Codebook) -> dict[str, FinalDecision]:
    """Final decision of every segment a human decided.

    An adjudicator's current decision wins. Otherwise each code the majority of the coders who
    decided the segment gave it is final; on a tie, the most recent decision settles it.
    """
    by_segment: dict[str, list[DecisionRow]] = defaultdict(list)
    for (segment_id, _), decision in current(events).items():
        by_segment[segment_id].append(decision)
    out: dict[str, FinalDecision] = {}
    for segment_id, decisions in by_segment.items():
        coders = tuple(sorted(d.coder for d in decisions))
        judges = [d for d in decisions if d.role == "adjudicator"]
        if judges:
            judge = max(judges, key=_rank)
            codes = with_ancestors(judge.codes, codebook)
            out[segment_id] = FinalDecision(frozenset(codes), "adjudicator", coders, judge.action)
            continue
        votes = [with_ancestors(d.codes, codebook) for d in decisions]
        newest = max(decisions, key=_rank)
        latest = with_ancestors(newest.codes, codebook)
        final = set()
        for code in set().union(*votes):
            count = sum(code in v for v in votes)
            if 2 * count > len(votes) or (2 * count == len(votes) and code in latest):
                final.add(code)
        out[segment_id] = FinalDecision(frozenset(final), "coders", coders, newest.action)
    return out


def final_codes(events: Iterable[DecisionRow], codebook: Codebook) -> dict[str, set[str]]:
    """Final codes of every segment a human decided (see :func:`final_decisions`)."""
    return {s: set(f.codes) for s, f in final_decisions(events, codebook).items()}


def _rank(decision: DecisionRow) -> tuple[int, int]:
    return (1 if decision.role == "adjudicator" else 0, decision.id)
