"""The stored tables of the last ``dshift topics`` run. Light: reading them needs no gensim."""

from __future__ import annotations

import io

import pandas as pd

from pipeline.core.records import DerivedResult
from pipeline.store import Store

TOPICS = "topics"
"""The name topic tables are stored under (:meth:`pipeline.store.protocols.Derived.derived`)."""


def topic_tables(store: Store) -> tuple[dict[str, pd.DataFrame], DerivedResult | None]:
    """The tables of the last ``dshift topics`` run, read from the store, with their record
    (empty and None when topics were never fitted)."""
    found = store.derived(TOPICS)
    if found is None:
        return {}, None
    tables = {name: pd.read_parquet(io.BytesIO(content)) for name, content in found.tables.items()}
    return tables, found
