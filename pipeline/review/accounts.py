"""Coder accounts for the review page: a one-time token per person, kept only as a hash.

Tokens are 32 random bytes (``secrets``), so a plain SHA-256 of one cannot be guessed back: a
slow password hash buys nothing against a secret that was never chosen by a person, and a fast
one keeps each login cheap.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from pipeline.core.records import CoderAccount
from pipeline.errors import DshiftError
from pipeline.store import Store

ROLES = ("coder", "adjudicator")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._'-]{0,63}$")


def token_hash(token: str) -> str:
    """The hash kept in the store for a login token."""
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh login token (shown once; only its hash is stored)."""
    return secrets.token_urlsafe(32)


def check_name(name: str) -> str:
    """A coder's name as stored, or a DshiftError saying what a name may hold."""
    name = name.strip()
    if not _NAME.match(name):
        raise DshiftError(
            f"{name!r} cannot be a coder's name",
            "use 1-64 letters, digits, spaces, dots, hyphens or apostrophes, starting with a "
            "letter or digit (e.g. 'Ayesha K.')",
            code="usage",
        )
    return name


def add_account(store: Store, name: str, role: str) -> tuple[CoderAccount, str]:
    """Make an account; return it and its token (to show once)."""
    if role not in ROLES:
        raise DshiftError(f"unknown role {role!r}", f"choose {' or '.join(ROLES)}", code="usage")
    token = new_token()
    return store.add_coder_account(check_name(name), role, token_hash(token)), token


def replace_token(store: Store, name: str) -> tuple[CoderAccount, str]:
    """Give an account a new token (the old one stops working); return it and the token."""
    token = new_token()
    return store.replace_coder_token(check_name(name), token_hash(token)), token


def log_in(store: Store, token: str) -> CoderAccount | None:
    """The account a token belongs to, or None (a wrong, replaced or empty token)."""
    if not token.strip():
        return None
    return store.coder_by_token(token_hash(token))
