"""Components by name: machine coders, segmenters, exporters and review strategies.

Each entry names a component, says in a few words what it is (shown in ``--help`` and by
``dshift coder show``), gives its default configuration and points at the factory that builds
it, as ``"module:attribute"``. Factories are imported only when a component is built, so that
the CLI can list choices without loading spaCy or scikit-learn, and so that this module imports
nothing of the pipeline (every layer may read it).

Adding a component is one entry here plus its factory in the room it belongs to (a coder in
``pipeline.coding`` or ``pipeline.learning``, an exporter in ``pipeline.exports``...). Names are
versioned: a change in behaviour gets a new name, so stored results keep meaning what they
meant.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pipeline.errors import DshiftError


@dataclass(frozen=True)
class Component:
    """One registered component.

    Attributes:
        name: what users type (``rules.v1``, ``stratified``).
        what: a few words on what it does.
        factory: ``"module:attribute"`` of the callable that builds or runs it.
        config: default keyword arguments given to the factory.
    """

    name: str
    what: str
    factory: str
    config: Mapping[str, Any] = field(default_factory=dict)

    def load(self) -> Any:
        """Import and return the factory."""
        module, _, attribute = self.factory.partition(":")
        return getattr(importlib.import_module(module), attribute)


class Table:
    """The components of one kind, in registration order."""

    def __init__(self, kind: str, *components: Component) -> None:
        self.kind = kind
        self._components = {c.name: c for c in components}

    def __iter__(self) -> Iterator[Component]:
        return iter(self._components.values())

    def __contains__(self, name: object) -> bool:
        return name in self._components

    def names(self) -> list[str]:
        """Every registered name, in registration order (for CLI choices)."""
        return list(self._components)

    def descriptions(self) -> Mapping[str, str]:
        """Name -> what it does."""
        return MappingProxyType({c.name: c.what for c in self})

    def get(self, name: str) -> Component:
        """The component called ``name``.

        Raises:
            DshiftError: for an unknown name, with the closest registered name.
        """
        found = self._components.get(name)
        if found is not None:
            return found
        close = difflib.get_close_matches(name, self.names(), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise DshiftError(
            f"unknown {self.kind} '{name}'",
            f"{hint}choose one of {', '.join(self.names())}",
            code="usage",
        )

    def register(self, component: Component) -> None:
        """Add a component (plugins, tests). A name already taken is refused."""
        if component.name in self._components:
            raise ValueError(f"{self.kind} '{component.name}' is already registered")
        self._components[component.name] = component


DEFAULT_CODER = "learned.v1"
"""The active coder of a workspace until ``dshift coder use NAME`` chooses another.

A machine coder tags segments under a codebook version and its tags are stored with its name,
so several coders' tags live side by side. The *active* coder is a workspace setting: every
stage after coding (review sheets, REFI-QDA exports, indices, exports and their manifest,
browsing) reads its tags.
"""

coders = Table(
    "machine coder",
    Component(
        "learned.v1",
        "a model per track over the sentence, its neighbours and the rules' verdicts",
        "pipeline.learning.factories:learned_coder",
    ),
    Component("rules.v1", "the codebook's patterns", "pipeline.coding.factories:rule_coder"),
    Component("ml.v1", "the model from 'dshift train'", "pipeline.learning.factories:model_coder"),
    Component(
        "ensemble.v1",
        "rule tags plus the model's confident ones",
        "pipeline.learning.factories:model_coder",
    ),
)

segmenters = Table(
    "segmentation unit",
    Component("sentence", "one segment per sentence", "pipeline.coding.run:segmenter_for"),
    Component("paragraph", "one segment per paragraph", "pipeline.coding.run:segmenter_for"),
)

exporters = Table(
    "export format",
    Component("csv", "CSV, UTF-8 (always written)", "pipeline.exports.writers:csv_bytes"),
    Component(
        "parquet", "Apache Parquet (always written)", "pipeline.exports.writers:parquet_bytes"
    ),
    Component(
        "xlsx", "one Excel workbook, a sheet per table", "pipeline.exports.writers:workbook_bytes"
    ),
    Component(
        "dta", "Stata 14+ files with variable labels", "pipeline.exports.writers:stata_bytes"
    ),
    Component("json", "JSON records", "pipeline.exports.writers:json_bytes"),
)

strategies = Table(
    "review strategy",
    Component(
        "random", "a simple random sample of coded segments", "pipeline.review.select:select"
    ),
    Component(
        "stratified",
        "balanced across tracks, years and source types",
        "pipeline.review.select:select",
    ),
    Component(
        "uncertain",
        "segments the trained model is least sure of",
        "pipeline.review.select:select",
    ),
    Component("all-coded", "every segment the machine coded", "pipeline.review.select:select"),
)

ALWAYS_EXPORTED = ("csv", "parquet")
"""Formats every export writes, asked for or not."""

TABLES = (coders, segmenters, exporters, strategies)
