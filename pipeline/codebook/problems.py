"""What is wrong with a codebook: one problem with its line, and the error that lists them all."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from pipeline.codebook.yamlpos import Path_
from pipeline.errors import DshiftError


@dataclass(frozen=True)
class CodebookProblem:
    """One thing wrong in a codebook file."""

    line: int
    where: str
    message: str

    def format(self, file: str) -> str:
        """``file:line: where: message``; without the line for the file as a whole (line 0)."""
        at = f"{file}:{self.line}" if self.line else file
        return f"{at}: {self.where}: {self.message}"


class CodebookError(DshiftError):
    """The codebook is invalid; ``problems`` lists everything found."""

    code = "codebook"

    def __init__(self, file: str, problems: list[CodebookProblem]) -> None:
        listed = "\n".join("  " + p.format(file) for p in problems)
        super().__init__(
            f"{file} has {len(problems)} problem(s); nothing was coded:\n{listed}",
            f"correct the codebook and check it with 'dshift codebook check {file}'",
        )
        self.file = file
        self.problems = problems


def where_of(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def suggest(word: str, choices: set[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
