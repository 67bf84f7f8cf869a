"""A codebook file as commands use it: validated, with the exact text its version hashes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.codebook.load import load_codebook, parse_codebook
from pipeline.codebook.model import Codebook
from pipeline.codebook.report import format_tree
from pipeline.errors import DshiftError


@dataclass(frozen=True)
class LoadedCodebook:
    """A validated codebook with the exact text it was parsed from (recorded with its tags)."""

    codebook: Codebook
    text: str
    path: Path


def read_codebook(path: Path) -> LoadedCodebook:
    """Read, validate and keep the text of the codebook file at ``path``.

    Raises:
        CodebookError: with every problem, its line and a fix.
        DshiftError: when the file cannot be read.
    """

    book = load_codebook(path)
    # The text as parsed is what the version hashes: read it back from what was validated.
    text = path.read_text(encoding="utf-8")

    if parse_codebook(text, str(path), path).version != book.version:
        raise DshiftError(
            f"the codebook {path} changed while it was being read",
            "run the command again once nothing is writing the file",
            code="codebook",
        )
    return LoadedCodebook(book, text, path)


def codebook_tree(path: Path) -> str:
    """The code tree of the codebook at ``path``, with definitions, rules and pattern counts."""

    return format_tree(read_codebook(path).codebook)
