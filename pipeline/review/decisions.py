"""The current state of coders' decisions, computed from the append-only events (pure).

A coder's current decision on a segment is their latest event, where an ``undo`` takes back the
one before it. A segment's final codes are the adjudicator's current decision if there is one,
else the most recent current decision of any coder; segments nobody decided keep the machine's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

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


def final_codes(events: Iterable[DecisionRow], codebook: Codebook) -> dict[str, set[str]]:
    """Final codes of every segment a human decided (adjudicator first, else the latest)."""
    chosen: dict[str, DecisionRow] = {}
    for (segment_id, _), decision in current(events).items():
        best = chosen.get(segment_id)
        if best is None or _rank(decision) > _rank(best):
            chosen[segment_id] = decision
    return {s: with_ancestors(d.codes, codebook) for s, d in chosen.items()}


def _rank(decision: DecisionRow) -> tuple[int, int]:
    return (1 if decision.role == "adjudicator" else 0, decision.id)
