"""Results derived from the store (topic tables), kept with their provenance."""

from __future__ import annotations

import json

from pipeline.core.records import DerivedResult
from pipeline.store.backend import Backend
from pipeline.store.database import utc_now


class DerivedQueries:
    """Derived results of a store (see :class:`.protocols.Derived`)."""

    def __init__(self, database: Backend) -> None:
        """Query and write through ``database``."""
        self.database = database
        self.db = database.db

    def save_derived(self, result: DerivedResult) -> None:
        """Replace the result called ``result.name`` and its tables, all or none."""
        with self.database.transaction() as db:
            db.execute("DELETE FROM derived_results WHERE name = ?", (result.name,))
            db.execute(
                "INSERT INTO derived_results (name, run_id, codebook_version, inputs_as_of, "
                "parameters, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    result.name,
                    result.run_id,
                    result.codebook_version,
                    result.inputs_as_of,
                    json.dumps(result.parameters, sort_keys=True),
                    result.created_at or utc_now(),
                ),
            )
            db.executemany(
                "INSERT INTO derived_tables (name, table_name, content) VALUES (?, ?, ?)",
                [(result.name, table, content) for table, content in sorted(result.tables.items())],
            )

    def derived(self, name: str) -> DerivedResult | None:
        """The latest result called ``name`` with its tables, or None."""
        row = self.db.execute(
            "SELECT run_id, codebook_version, inputs_as_of, parameters, created_at "
            "FROM derived_results WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            return None
        tables = {
            str(table): bytes(content)
            for table, content in self.db.execute(
                "SELECT table_name, content FROM derived_tables WHERE name = ? ORDER BY table_name",
                (name,),
            )
        }
        return DerivedResult(
            name, row[0], row[1], row[2], json.loads(row[3]), tables, created_at=row[4]
        )
