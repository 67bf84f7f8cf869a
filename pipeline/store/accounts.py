"""Coder accounts for the review page: who may log in, as which role.

Only a hash of each login token is kept; the token itself is shown once, when the account is
made (``dshift coder add``), and never stored.
"""

from __future__ import annotations

from pipeline.core.records import CoderAccount
from pipeline.errors import DshiftError
from pipeline.store.backend import Backend
from pipeline.store.database import utc_now

_COLUMNS = "name, role, created_at, disabled_at"


class AccountQueries:
    """The coder accounts of a store (see :class:`.protocols.Accounts`)."""

    def __init__(self, database: Backend) -> None:
        """Query and write through ``database``."""
        self.database = database
        self.db = database.db

    def add_coder_account(self, name: str, role: str, token_hash: str) -> CoderAccount:
        """Make the account ``name`` (a name already taken is refused; ``replace`` a token
        with :meth:`replace_coder_token`)."""
        with self.database.transaction() as db:
            taken = db.execute("SELECT 1 FROM coder_accounts WHERE name = ?", (name,)).fetchone()
            if taken is not None:
                raise DshiftError(
                    f"there is already a coder account called {name!r}",
                    f"give another name, or a new token with 'dshift coder token {name}'",
                    code="usage",
                )
            db.execute(
                "INSERT INTO coder_accounts (name, role, token_hash, created_at) "
                "VALUES (?, ?, ?, ?)",
                (name, role, token_hash, utc_now()),
            )
        account = self.coder_account(name)
        assert account is not None
        return account

    def replace_coder_token(self, name: str, token_hash: str) -> CoderAccount:
        """Give the account ``name`` a new token (the old one stops working at once)."""
        with self.database.transaction() as db:
            changed = db.execute(
                "UPDATE coder_accounts SET token_hash = ?, disabled_at = NULL WHERE name = ?",
                (token_hash, name),
            ).rowcount
        if not changed:
            raise DshiftError(
                f"there is no coder account called {name!r}",
                f"make it with 'dshift coder add {name}'",
                code="usage",
            )
        account = self.coder_account(name)
        assert account is not None
        return account

    def coder_account(self, name: str) -> CoderAccount | None:
        """The account called ``name``, or None."""
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM coder_accounts WHERE name = ?", (name,)
        ).fetchone()
        return CoderAccount(*row) if row else None

    def coder_by_token(self, token_hash: str) -> CoderAccount | None:
        """The enabled account whose token hashes to ``token_hash``, or None."""
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM coder_accounts WHERE token_hash = ? AND disabled_at IS NULL",
            (token_hash,),
        ).fetchone()
        return CoderAccount(*row) if row else None

    def coder_accounts(self) -> list[CoderAccount]:
        """Every account, by name."""
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM coder_accounts ORDER BY name")
        return [CoderAccount(*r) for r in rows]
