"""What importing a REFI-QDA project did, or would do: decisions, what was not placed, and why."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from pipeline.store.review import NewDecision

MAX_EXAMPLES = 10
"""How many odd selections a summary lists by name."""


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
