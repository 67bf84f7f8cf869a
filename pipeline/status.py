"""Plain-text views of the store for people: run summaries, status, document details."""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from contextlib import suppress
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from pipeline.errors import Problem
from pipeline.ingest.run import IngestSummary
from pipeline.models import SOURCE_TYPES
from pipeline.registry import coders as machine_coders
from pipeline.store import ProblemRow, RunRow, Store
from pipeline.workspace import file_error

PROBLEM_COLUMNS = (
    "id",
    "severity",
    "code",
    "path",
    "place",
    "reason",
    "hint",
    "run_id",
    "created_at",
    "document_id",
    "sha256",
)


def format_summary(
    summary: IngestSummary, problems_csv: Path | None = None, max_problems: int = 12
) -> str:
    """Return the one-screen summary of an ingest run."""
    rate = summary.pages / summary.seconds if summary.seconds else 0.0
    lines = [
        f"run {summary.run_id}: {summary.files} file(s) in {summary.seconds:.1f} s",
        f"  new {summary.new}   changed {summary.changed}   duplicate {summary.duplicate}   "
        f"unchanged {summary.unchanged}   problems {len(summary.errors)} error(s), "
        f"{len(summary.problems) - len(summary.errors)} warning(s)",
        f"  pages read {summary.pages} ({rate:.0f} pages/s)"
        + (
            f"   metadata updated for {summary.metadata_updates} document(s) from sidecars"
            if summary.metadata_updates
            else ""
        ),
    ]
    if summary.skipped_known_problems:
        lines.append(
            f"  skipped {summary.skipped_known_problems} file(s) that failed before "
            "(use --retry-problems to try them again)"
        )
    if summary.changed_names:
        lines.append("  new versions of: " + ", ".join(summary.changed_names[:8]))
    if summary.duplicate_of:
        shown = ", ".join(f"{name} = {of}" for name, of in summary.duplicate_of[:8])
        more = f" and {len(summary.duplicate_of) - 8} more" if len(summary.duplicate_of) > 8 else ""
        lines.append(f"  duplicates (the same bytes as a stored document): {shown}{more}")
    errors = summary.errors
    if errors:
        lines.append("errors (these files were not ingested):")
        for problem in errors[:max_problems]:
            place = f" ({problem.place})" if problem.place else ""
            lines.append(f"  {Path(problem.path).name}{place}: {problem.reason}")
            lines.append(f"      fix: {problem.hint}")
        if len(errors) > max_problems:
            lines.append(f"  ... and {len(errors) - max_problems} more")
    warnings: dict[str, list[Problem]] = {}
    for problem in summary.problems:
        if problem.severity == "warning":
            warnings.setdefault(problem.code, []).append(problem)
    if warnings:
        lines.append("warnings (ingested, but check):")
        for _code, group in warnings.items():
            names = ", ".join(Path(p.path).name for p in group[:4])
            more = f" and {len(group) - 4} more" if len(group) > 4 else ""
            lines.append(
                f"  {len(group)} × {group[0].kind.summary.format_map(_Blank())}: {names}{more}"
            )
    if problems_csv is not None:
        lines.append(f"all open problems: {problems_csv}")
    return "\n".join(lines)


def write_problems_csv(handle: TextIO, rows: list[ProblemRow]) -> None:
    """Write problems as CSV (header and one row each) to an open text file."""
    writer = csv.writer(handle)
    writer.writerow(PROBLEM_COLUMNS)
    for p in rows:
        writer.writerow(
            [
                p.id,
                p.severity,
                p.code,
                p.path,
                p.place,
                p.reason,
                p.hint,
                p.run_id,
                p.created_at,
                p.document_id or "",
                p.sha256 or "",
            ]
        )


def export_problems(store: Store, path: Path) -> Path:
    """Write every open problem to a CSV file (replaced atomically) and return its path.

    The old file stays as it was if the new one cannot be written in full.

    Raises:
        WorkspaceError: if the file cannot be written (permissions, a full disk).
    """
    rows = store.open_problems()
    tmp = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            write_problems_csv(handle, rows)
        tmp.replace(path)
    except OSError as exc:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        error = file_error(exc, path, "write the list of open problems")
        error.hint += "; what was read is stored: 'dshift problems' lists the problems"
        raise error from exc
    return path


def format_status(store: Store, runs: int = 5) -> str:
    """Return what the store holds: coverage by year and source type, undated documents,
    open problems and the last runs."""
    coverage = store.coverage()
    documents = store.current_documents()
    lines = [
        f"corpus store: {store.where}"
        + (" (read-only here: commands that change it will refuse)" if store.read_only else ""),
        f"documents: {len(documents)} current ({sum(d.n_pages for d in documents)} pages)",
    ]
    if coverage:
        table: dict[int | None, dict[str, int]] = defaultdict(dict)
        for c in coverage:
            table[c.year][c.source_type] = c.documents
        header = "  year   " + "".join(f"{t:>8}" for t in SOURCE_TYPES) + "   total"
        lines += ["documents by year and source type:", header]
        for year in sorted(table, key=lambda y: (y is None, y or 0)):
            row = table[year]
            label = str(year) if year is not None else "undated"
            lines.append(
                f"  {label:7}"
                + "".join(f"{row.get(t, 0) or '.':>8}" for t in SOURCE_TYPES)
                + f"{sum(row.values()):>8}"
            )
    undated = [d for d in documents if d.year is None]
    if undated:
        lines.append(
            f"undated documents ({len(undated)}; left out of yearly figures until dated "
            "with 'dshift doc set-date'):"
        )
        lines += [f"  #{d.id} {d.name}  {d.title or ''}"[:100] for d in undated[:10]]
    active = store.active_coder()
    lines.append(
        f"active coder: {active} (indices, exports, review and REFI read its tags; "
        "change with 'dshift coder use NAME')"
    )
    for coder in machine_coders.names():
        versions = store.coded_versions(coder)
        if versions:
            coded = store.coding_counts(coder, versions[-1])
            n_docs, n_segments, n_tags = coded.documents, coded.segments, coded.tags
            lines.append(
                f"coded by {coder} under {versions[-1]}: {n_docs} document(s), "
                f"{n_segments} segment(s), {n_tags} tag(s)"
                + (f" ({len(versions) - 1} older version(s) kept)" if len(versions) > 1 else "")
            )
    decisions = store.decisions()
    if decisions:
        coders = sorted({d.coder for d in decisions})
        lines.append(
            f"coders' decisions: {len(decisions)} by {', '.join(coders)} on "
            f"{len({d.segment_id for d in decisions})} segment(s)"
        )
    problems = store.open_problems()
    errors = sum(1 for p in problems if p.severity == "error")
    lines.append(
        f"open problems: {errors} error(s), {len(problems) - errors} warning(s)"
        + (" — list them with 'dshift problems'" if problems else "")
    )
    recent = store.recent_runs(runs)
    if recent:
        lines.append("last runs:")
        for run in recent:
            counts = run.counts
            brief = ", ".join(
                f"{k} {counts[k]}"
                for k in ("new", "changed", "duplicate", "errors", "documents", "tags", "formats")
                if counts.get(k)
            )
            lines.append(f"  {run.id}  {run.command:7} {run_status(run):24} {brief}")
    return "\n".join(lines)


KILLED_HINT = "running (or killed; the next run marks it)"

# A process that started this long after a run was recorded cannot be the one that ran it
# (it is a later process given the same pid); the margin absorbs clock adjustments.
_START_MARGIN_SECONDS = 5.0


def run_status(run: RunRow) -> str:
    """The status of ``run`` to show: a run recorded as 'running' whose process is not alive
    on this machine is shown as possibly killed (the next run under the workspace lock marks
    it interrupted; status itself writes nothing)."""
    if run.status != "running" or run.pid is None:
        return run.status
    try:
        when = datetime.fromisoformat(run.started_at)
        started: float | None = (
            when if when.tzinfo else when.replace(tzinfo=timezone.utc)
        ).timestamp()
    except ValueError:
        started = None
    return run.status if process_alive(run.pid, started) else KILLED_HINT


def process_alive(pid: int, started_before: float | None = None) -> bool:
    """Return whether process ``pid`` exists on this machine and, if its start time can be
    read (Linux /proc) and ``started_before`` (a Unix time) is given, started no later than
    that (else the pid was reused by a later process)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    except OSError:
        return True  # cannot tell: say nothing of a kill
    if started_before is None:
        return True
    began = _process_start(pid)
    return began is None or began <= started_before + _START_MARGIN_SECONDS


def _process_start(pid: int) -> float | None:
    """Return the Unix time process ``pid`` started, from /proc, or None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text(encoding="ascii").splitlines()
            if line.startswith("btime ")
        )
        ticks = float(stat.rsplit(")", 1)[1].split()[19])  # field 22: starttime
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def format_document(store: Store, doc_id: int) -> str:
    """Return a document's metadata with the provenance of every value, and its pages."""
    document = store.document(doc_id)
    if document is None:
        return f"no document #{doc_id}"
    lines = [
        f"document #{document.id}  sha256 {document.sha256}",
        f"  files: {', '.join(store.file_names(doc_id))}",
        f"  kind {document.kind}, {document.n_pages} page(s), {document.n_chars} characters, "
        f"read by {document.extractor}",
    ]
    if document.supersedes:
        lines.append(f"  new version of #{document.supersedes}")
    if document.superseded_by:
        lines.append(f"  superseded by #{document.superseded_by} (left out of figures)")
    for field in ("source_type", "issuer", "date", "title", "language"):
        value = getattr(document, field)
        lines.append(
            f"  {field:12} {value if value is not None else '—'}"
            f"   [{document.provenance.get(field, 'none')}]"
        )
    lines.append("  all candidate values (field, value, source, evidence, recorded):")
    for record in store.metadata(doc_id):
        value, recorded = record.value, record.recorded_at
        lines.append(
            f"    {value.field:12} {value.value[:50]:50} {value.source:9} "
            f"{value.detail[:60]} {recorded}"
        )
    return "\n".join(lines)


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "…"
