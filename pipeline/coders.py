"""The machine coders by name, and which one a workspace reads.

A machine coder tags segments under a codebook version; its tags are stored with its name, so
several coders' tags live side by side. The *active* coder is a workspace setting
(``dshift coder use NAME``): every stage downstream of coding — review sheets, REFI-QDA
exports, indices, exports and their manifest, training, browsing — reads the active coder's
tags. Names are versioned: a change in behaviour gets a new name.
"""

from __future__ import annotations

import difflib

from pipeline.errors import DshiftError

DEFAULT_CODER = "rules.v1"
MACHINE_CODERS = {
    "rules.v1": "the codebook's patterns",
    "ml.v1": "the model from 'dshift train'",
    "ensemble.v1": "rule tags plus the model's confident ones",
}


def check_coder(name: str) -> str:
    """Return ``name`` if it is a machine coder, else raise a DshiftError naming the choices."""
    if name in MACHINE_CODERS:
        return name
    close = difflib.get_close_matches(name, list(MACHINE_CODERS), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise DshiftError(
        f"unknown machine coder '{name}'",
        f"{hint}choose one of {', '.join(MACHINE_CODERS)}",
        code="usage",
    )
