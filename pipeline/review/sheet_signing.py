"""Signing a review sheet: the HMAC over its identity and rows that an import checks.

The key is kept in the store, never in the sheet; the signature is written on the hidden
``about`` sheet and recomputed from the store's record of the export when the sheet comes back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence

from pipeline.review.sheet_model import About, about_values


def sign(key: bytes, about: About, rows: Iterable[tuple[str, str, Sequence[str]]]) -> str:
    """HMAC-SHA256 over a sheet's identity and its rows (segment id, text hash, shown codes)."""
    payload = {
        **{k: v for k, v in about_values(about).items() if k != "signature"},
        "track_codes": {t.id: list(t.codes) for t in about.tracks},
        "rows": sorted([s, h, sorted(c)] for s, h, c in rows),
    }
    message = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()
