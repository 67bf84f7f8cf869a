"""REFI-QDA exchange with the store: projects out, coders' codings back in as decisions.

Out: every current document as a plain-text source named ``<file>.txt`` (so that no program takes
it for a PDF), with our document id in a variable and in its description, the machine's codings,
and each coder's current decisions: their codes, or the marker code "(no code applies)" for a
reject, with the note as the selection's description. The description also says up to which
decision the export went and whose decisions on that document it holds.

Back (:func:`import_refi`): the file's sources, codes and users are matched to ours
(:mod:`pipeline.refi.match`), each coder's codings on a segment become that coder's decision on
it (``codes`` = every code they left there), judging the codes they touched — held in our
export or hold now, with their parents — or every code where they put the marker. A segment is
a removal (a decision without codes) only when its source was matched, the export held that
coder's decision on it, and the file has no coding of theirs there now. What cannot be placed
is reported and nothing is recorded unless ``skip_unplaced``; ``dry_run`` records nothing.

The work is done by :mod:`.refi_export` (projects out), :mod:`.refi_plan` (what a returned
project's codings mean), :mod:`.refi_import` (recording them), :mod:`.refi_result` (the report)
and :mod:`.refi_codebook` (proposed codebook changes). Import from here.
"""

from __future__ import annotations

from pipeline.review.refi_codebook import propose_codebook
from pipeline.review.refi_export import export_refi, exported_state
from pipeline.review.refi_import import import_refi
from pipeline.review.refi_result import MAX_EXAMPLES, RefiImport, Unplaced

__all__ = [
    "MAX_EXAMPLES",
    "RefiImport",
    "Unplaced",
    "export_refi",
    "exported_state",
    "import_refi",
    "propose_codebook",
]
