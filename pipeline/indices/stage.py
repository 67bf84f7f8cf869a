"""The index stage: read the final codes of every segment and compute the index tables.

Tables depend only on the store's contents and the parameters, so the same inputs give the same
numbers. The export stage (:mod:`pipeline.exports.stage`) writes them with provenance; the
report (:mod:`pipeline.indices.views`) draws them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pipeline.codebook.model import Codebook
from pipeline.codebook.versions import read_decisions
from pipeline.core import DEFAULT_SEGMENTER
from pipeline.core.codes import machine_codes
from pipeline.core.decisions import FinalDecision, final_decisions
from pipeline.errors import DshiftError
from pipeline.indices.frame import PARTNER_PREFIX, assemble_frame
from pipeline.indices.settings import IndexSettings
from pipeline.indices.tables import TOP_CODES, document_code_matrix, segments_table, wide_table
from pipeline.registry import DEFAULT_CODER
from pipeline.stage import Context
from pipeline.store import Store


@dataclass
class IndexTables:
    """Everything computed from one store and codebook."""

    frame: pd.DataFrame
    tidy: pd.DataFrame
    wide: pd.DataFrame
    composites: pd.DataFrame
    shifts: pd.DataFrame
    change_points: pd.DataFrame
    coverage: pd.DataFrame
    segments: pd.DataFrame
    matrix: pd.DataFrame
    codes: list[str]
    partners: list[str]
    baseline_documents: int
    notes: list[str] = field(default_factory=list)
    reliability: dict[str, Any] = field(default_factory=dict)
    coder: str = DEFAULT_CODER
    """The machine coder whose tags the tables read (the workspace's active coder)."""

    def export_tables(self) -> dict[str, pd.DataFrame]:
        return {
            "indices_tidy": self.tidy,
            "indices_wide": self.wide,
            "composites": self.composites,
            "segments": self.segments,
            "doc_code_matrix": self.matrix,
            "coverage": self.coverage,
            "shifts": self.shifts,
        }


def load_frame(
    store: Store, codebook: Codebook, decided: Mapping[str, FinalDecision] | None = None
) -> pd.DataFrame:
    """Read the segment frame of the workspace under the current codebook version.

    ``decided`` are the final decisions of human-decided segments (read from the store when not
    given).

    Raises:
        DshiftError: when nothing is coded under this codebook version yet.
    """
    coder = store.active_coder()
    if codebook.version not in store.coded_versions(coder):
        raise DshiftError(
            f"nothing is coded by {coder} (the active coder) under the current codebook "
            f"({codebook.version})",
            f"run 'dshift code --coder {coder}' (or 'dshift run DROP' to ingest and code), "
            "or choose another coder with 'dshift coder use NAME'",
            code="not-ready",
        )
    if decided is None:
        decided = HumanDecisions.read(store, codebook).finals
    return assemble_frame(
        store.frame_segments(DEFAULT_SEGMENTER),
        store.frame_tags(coder, codebook.version),
        store.frame_partners(codebook.version),
        list(codebook.codes),
        list(codebook.partners),
        decided={s: set(f.codes) for s, f in decided.items()},
    )


@dataclass(frozen=True)
class HumanDecisions:
    """Coders' final decisions with the machine codes they are settled against (read once)."""

    finals: dict[str, FinalDecision]
    machine: dict[str, set[str]]

    @classmethod
    def read(cls, store: Store, codebook: Codebook) -> HumanDecisions:
        """Read the decisions; the machine's current codes are read only if there are any."""
        events = read_decisions(store, codebook)
        if not events:
            return cls({}, {})
        tags = store.machine_tags(store.active_coder(), codebook.version)
        machine = machine_codes(tags)
        return cls(final_decisions(events, codebook, machine=machine), machine)

    def codes(self) -> dict[str, set[str]]:
        """Final codes of every human-decided segment."""
        return {s: set(f.codes) for s, f in self.finals.items()}


def _partners_of(
    frame: pd.DataFrame, partners: list[str], segment_ids: Mapping[str, object]
) -> dict[str, list[str]]:
    """The partners each of the given segments speaks about, read off the segment frame."""
    if not segment_ids or frame.empty:
        return {}
    rows = frame[frame["segment_id"].isin(list(segment_ids))]
    flags = rows[[f"{PARTNER_PREFIX}{p}" for p in partners]].to_numpy(dtype=bool)
    return {
        segment_id: [p for p, on in zip(partners, row) if on]
        for segment_id, row in zip(rows["segment_id"], flags)
    }


def compute_tables(
    store: Store, codebook: Codebook, settings: IndexSettings, with_change_points: bool = True
) -> IndexTables:
    """Compute every index table (reads the store, writes nothing).

    Change points (ruptures; about a second to import) are for the report and ``dshift index``;
    exports leave them out.
    """
    from pipeline.indices.composite import baseline_documents, composite_indices
    from pipeline.indices.compute import compute_indices, coverage
    from pipeline.indices.shifts import change_points_table, flag_shifts

    coder = store.active_coder()
    human = HumanDecisions.read(store, codebook)
    decided = human.finals
    frame = load_frame(store, codebook, decided)
    codes = list(codebook.codes)
    partners = list(codebook.partners)
    tidy = compute_indices(
        frame,
        codes,
        partners,
        period=settings.period,
        n_boot=settings.n_boot,
        seed=settings.seed,
        min_docs=settings.min_docs,
        confidence=settings.confidence,
    )
    composites = composite_indices(
        frame,
        period=settings.period,
        baseline=settings.baseline,
        n_boot=settings.n_boot,
        seed=settings.seed,
        min_docs=settings.min_docs,
        confidence=settings.confidence,
    )
    overall = tidy[(tidy["breakdown"] == "overall") & tidy["code"].isin(TOP_CODES)]
    shifts = pd.concat(
        [flag_shifts(overall), flag_shifts(composites, "value", ("index",))], ignore_index=True
    )
    change_points = pd.DataFrame(columns=["series", "period"])
    if with_change_points:
        change_points = pd.concat(
            [change_points_table(overall), change_points_table(composites, "value", ("index",))],
            ignore_index=True,
        )
    documents = pd.DataFrame(
        [
            {
                "document_id": d.id,
                "sha256": d.sha256,
                "name": d.name,
                "title": d.title or "",
                "source_type": d.source_type,
                "date": d.date or "",
                "year": d.year,
            }
            for d in store.current_documents()
        ]
    )
    if not documents.empty:
        documents["year"] = documents["year"].astype("Int64")
    tables = IndexTables(
        frame=frame,
        tidy=tidy,
        wide=wide_table(tidy, composites),
        composites=composites,
        shifts=shifts,
        change_points=change_points,
        coverage=coverage(frame, settings.period),
        segments=segments_table(
            store.coded_segment_rows(coder, codebook.version),
            codebook,
            decided,
            store.segment_export_rows(decided),
            _partners_of(frame, partners, decided),
        ),
        matrix=document_code_matrix(frame, codes, documents),
        codes=codes,
        partners=partners,
        baseline_documents=baseline_documents(frame, settings.baseline),
        coder=coder,
    )
    tables.reliability = reliability(human, codebook, settings)
    add_corrected_shares(store, codebook, settings, tables, human)
    gated = set(tables.reliability.get("below_gate", []))
    tables.tidy["reliability_flag"] = tables.tidy["code"].isin(gated)
    if gated:
        tables.notes.append(gate_note(gated, list(codebook.codes), tables.reliability))
    if tables.baseline_documents == 0:
        tables.notes.append(
            f"no dated documents in the baseline {settings.baseline[0]}-{settings.baseline[1]}: "
            "shifts against it are empty (choose another with --baseline)"
        )
    return tables


def gate_note(gated: set[str], codes: list[str], reliability: dict[str, Any]) -> str:
    """Say, track by track, how many codes are below the reliability gate, and where to look.

    A list of every code reads as noise after each command; a count per track says what to
    worry about, and ``dshift agreement`` gives each code's alpha.
    """
    tracks: dict[str, list[str]] = {}
    for code in codes:
        tracks.setdefault(code.split(".")[0], []).append(code)
    parts = []
    for track, members in tracks.items():
        below = [code for code in members if code in gated]
        if below:
            own = " (the track itself too)" if track in gated else ""
            parts.append(f"{track} {len(below)} of {len(members)} codes{own}")
    threshold = reliability.get("threshold")
    bound = f" (alpha below {threshold:g})" if isinstance(threshold, (int, float)) else ""
    return (
        f"machine coding is below the reliability gate{bound} for {len(gated)} code(s): "
        + "; ".join(parts)
        + ". Their rows carry reliability_flag; 'dshift agreement' lists each code's alpha, "
        "and reviewing more of their segments ('dshift review export') raises the evidence"
    )


def reliability(
    human: HumanDecisions, codebook: Codebook, settings: IndexSettings
) -> dict[str, Any]:
    """Machine-human agreement per code on reviewed segments, and the codes below the gate.

    A code is measured only on the segments where humans judged it.
    """
    from pipeline.core.agreement import gate, machine_against_human

    if not human.finals:
        return {
            "reviewed_segments": 0,
            "below_gate": [],
            "threshold": settings.gate,
            "min_units": settings.gate_min_units,
        }
    reference = human.codes()
    machine = human.machine
    judged = {s: f.judged for s, f in human.finals.items()}
    table = machine_against_human(reference, machine, list(codebook.codes), n_boot=0, judged=judged)
    return {
        "reviewed_segments": len(reference),
        "threshold": settings.gate,
        "min_units": settings.gate_min_units,
        "alpha": {
            r.code: (None if pd.isna(r.alpha) else round(float(r.alpha), 4))
            for r in table.itertuples()
        },
        "below_gate": gate(table, threshold=settings.gate, min_units=settings.gate_min_units),
    }


def add_corrected_shares(
    store: Store,
    codebook: Codebook,
    settings: IndexSettings,
    tables: IndexTables,
    human: HumanDecisions,
) -> None:
    """Beside each overall share of a top code, the share corrected for the machine's errors.

    Adjusted classify-and-count (see ``pipeline.learning.prevalence``): the machine's error
    rates come from the segments coders reviewed; ``correction_differs`` flags periods whose raw
    share lies outside the corrected interval. Left empty until coders have reviewed segments.
    """
    import numpy as np

    from pipeline.indices.compute import period_of
    from pipeline.learning.prevalence import corrected_share

    tidy = tables.tidy
    for column in ("corrected_share", "corrected_low", "corrected_high"):
        tidy[column] = np.nan
    tidy["correction_differs"] = False
    reviewed = human.codes()
    if len(reviewed) < settings.gate_min_units:
        return
    machine = assemble_frame(
        store.frame_segments(DEFAULT_SEGMENTER),
        store.frame_tags(store.active_coder(), codebook.version),
        [],
        list(codebook.codes),
        [],
    )
    labels = period_of(machine, settings.period)
    for code in TOP_CODES:
        column = f"code__{code}"
        # Error rates only from segments where humans judged this code (a per-code decision
        # elsewhere says nothing about it).
        judged = [s for s, f in human.finals.items() if code in f.judged]
        in_review = machine["segment_id"].isin(judged)
        if int(in_review.sum()) < settings.gate_min_units:
            continue
        gold = np.array([code in reviewed[s] for s in machine.loc[in_review, "segment_id"]])
        by_machine = machine.loc[in_review, column].to_numpy(bool)
        for period, part in machine.groupby(labels, sort=True):
            per_doc = part.groupby("document_id")[column].agg(["sum", "count"])
            value, low, high = corrected_share(
                per_doc["sum"].to_numpy(float),
                per_doc["count"].to_numpy(float),
                gold,
                by_machine,
                n_boot=min(settings.n_boot, 500),
                seed=settings.seed,
                key=f"{period}|{code}",
            )
            rows = (
                (tidy["period"] == period)
                & (tidy["code"] == code)
                & (tidy["breakdown"] == "overall")
            )
            tidy.loc[rows, ["corrected_share", "corrected_low", "corrected_high"]] = [
                value,
                low,
                high,
            ]
            raw = tidy.loc[rows, "share"]
            tidy.loc[rows, "correction_differs"] = bool(
                not np.isnan(low) and ((raw < low) | (raw > high)).any()
            )


def run(ctx: Context, settings: IndexSettings) -> IndexTables:
    """The index stage: every table, from the store of ``ctx`` under its codebook."""
    return compute_tables(ctx.store, ctx.codebook, settings)
