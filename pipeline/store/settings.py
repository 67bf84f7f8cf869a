"""Workspace settings kept in the store: its id, the active machine coder, the sheet key."""

from __future__ import annotations

import secrets

from pipeline.registry import DEFAULT_CODER
from pipeline.store.backend import Backend


class SettingsQueries:
    """The settings of a store (see :class:`.protocols.Settings`)."""

    def __init__(self, database: Backend) -> None:
        """Query and write through ``database``."""
        self.database = database
        self.db = database.db  # the shared connection, read through; written in transactions

    def workspace_id(self) -> str:
        """Return the random id this workspace's store was given when it was made."""
        row = self.db.execute("SELECT value FROM workspace_info WHERE key = 'workspace_id'")
        return str(row.fetchone()[0])

    def active_coder(self) -> str:
        """The machine coder whose tags the workspace reads downstream of coding (set with
        :meth:`set_active_coder`; ``rules.v1`` until then)."""
        row = self.db.execute(
            "SELECT value FROM workspace_info WHERE key = 'active_coder'"
        ).fetchone()
        return str(row[0]) if row else DEFAULT_CODER

    def set_active_coder(self, name: str) -> None:
        """Make ``name`` the machine coder every downstream stage reads."""
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO workspace_info (key, value) VALUES ('active_coder', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (name,),
            )

    def sheet_key(self) -> bytes:
        """This workspace's key for signing review sheets, made once and kept in the store."""
        with self.database.transaction() as db:
            row = db.execute("SELECT value FROM workspace_info WHERE key = 'sheet_key'").fetchone()
            if row is None:
                value = secrets.token_hex(32)
                db.execute(
                    "INSERT INTO workspace_info (key, value) VALUES ('sheet_key', ?)", (value,)
                )
            else:
                value = row[0]
        return bytes.fromhex(value)
