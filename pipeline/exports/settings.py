"""What an export is asked for: light to import, so that clients build it cheaply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.errors import DshiftError
from pipeline.indices.settings import IndexSettings
from pipeline.registry import ALWAYS_EXPORTED, exporters


@dataclass(frozen=True)
class ExportSettings:
    """What to export: the index parameters, the formats (CSV and Parquet always), and whether
    to add the corpus tables (every document's text, every segment's offsets and codes)."""

    index: IndexSettings
    formats: tuple[str, ...] = ALWAYS_EXPORTED
    arguments: dict[str, Any] | None = None
    corpus: bool = False

    def __post_init__(self) -> None:
        unknown = sorted(set(self.formats) - set(exporters.names()))
        if unknown:
            raise DshiftError(
                f"unknown export format(s): {', '.join(unknown)}",
                f"choose among {', '.join(exporters.names())}",
                code="usage",
            )

    def chosen(self) -> list[str]:
        """The formats to write, in a stable order, CSV and Parquet included."""
        return sorted({*ALWAYS_EXPORTED, *self.formats})
