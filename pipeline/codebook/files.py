"""A codebook file as commands use it: validated, with the exact text its version hashes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.codebook.load import parse_codebook, read_codebook_text
from pipeline.codebook.model import Codebook
from pipeline.codebook.report import format_tree


@dataclass(frozen=True)
class LoadedCodebook:
    """A validated codebook with the exact text it was parsed from (recorded with its tags)."""

    codebook: Codebook
    text: str
    path: Path


def read_codebook(path: Path) -> LoadedCodebook:
    """Read the codebook file at ``path`` once, validate it, and keep the text it was parsed
    from (so the version and the recorded text cannot disagree).

    Raises:
        CodebookError: with every problem, its line and a fix.
        DshiftError: when the file cannot be read.
    """
    text = read_codebook_text(path)
    return LoadedCodebook(parse_codebook(text, str(path), path), text, path)


def codebook_tree(path: Path) -> str:
    """The code tree of the codebook at ``path``, with definitions, rules and pattern counts."""

    return format_tree(read_codebook(path).codebook)
