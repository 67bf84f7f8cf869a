"""Safe defaults for the review page: who may bind where, sessions, CSRF tokens, headers.

Datasette's rule: the page binds 127.0.0.1 unless told otherwise, and a page reachable from
other machines needs accounts (``dshift coder add``). Every page carries a strict
Content-Security-Policy (scripts and styles only from the page's own ``/static``, no inline
code), and every POST a CSRF token tied to the session.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from typing import Any

from pipeline.errors import DshiftError

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address to bind) is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_binding(host: str, has_accounts: bool) -> None:
    """Refuse to serve beyond this machine without coder accounts."""
    if not is_loopback(host) and not has_accounts:
        raise DshiftError(
            f"the review page would be reachable from other machines at {host}, and this "
            "workspace has no coder accounts, so anyone there could write decisions",
            "make an account per coder first (dshift coder add NAME; add --adjudicator for "
            "the person who settles disagreements), or serve on 127.0.0.1",
            code="usage",
        )


def new_csrf() -> str:
    """A fresh CSRF token for a session."""
    return secrets.token_urlsafe(24)


def csrf_ok(session: dict[str, Any], sent: object) -> bool:
    """Whether a form's CSRF token matches its session's (compared in constant time)."""
    expected = session.get("csrf")
    return (
        isinstance(expected, str)
        and isinstance(sent, str)
        and bool(sent)
        and hmac.compare_digest(expected.encode(), sent.encode())
    )
