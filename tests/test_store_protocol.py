"""The store meets its contract on either backend: every protocol method, same parameters.

mypy checks the same statically (``pipeline.store.sqlite._meets_the_contract``); this test
checks what a type checker cannot see: that the flat names reach the right part at run time.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from pipeline.store import protocols
from pipeline.store.runs import RunQueries
from pipeline.store.sqlite import Store, _Part, connect

PARTS = {
    protocols.RunLog: "runs",
    protocols.Documents: "documents",
    protocols.Problems: "problems",
    protocols.Coding: "coding",
    protocols.Review: "review",
    protocols.Settings: "settings",
    protocols.Derived: "derived_results",
    protocols.Accounts: "accounts",
}
# What the facade offers beyond the contract: where it is, its connection, its parts.
BEYOND = {"path", "where", "dialect", "db", "database", "workspace_lock", *PARTS.values()}


def _members(protocol: type) -> dict[str, Any]:
    """The methods and properties a protocol declares itself (not inherited)."""
    return {
        name: value
        for name, value in vars(protocol).items()
        if (inspect.isfunction(value) or isinstance(value, property))
        and (not name.startswith("_") or name in ("__enter__", "__exit__"))
    }


def _parameters(function: Any) -> list[tuple[str, Any, Any, Any]]:
    signature = inspect.signature(function)
    return [
        (p.name, p.kind, p.default, p.annotation)
        for p in signature.parameters.values()
        if p.name != "self"
    ]


@pytest.fixture
def store(store_url: str) -> Any:
    with connect(store_url) as opened:
        yield opened


@pytest.mark.parametrize("protocol", [*PARTS, protocols.Store], ids=lambda p: p.__name__)
def test_every_protocol_method_exists_on_the_store_with_the_same_parameters(
    store: Store, protocol: type
) -> None:
    members = _members(protocol)
    assert members, protocol
    for name, declared in members.items():
        offered = getattr(store, name)
        if isinstance(declared, property):
            assert isinstance(inspect.getattr_static(store, name), property), name
            continue
        assert callable(offered), name
        assert _parameters(offered) == _parameters(declared), f"{protocol.__name__}.{name}"


@pytest.mark.parametrize("protocol", list(PARTS), ids=lambda p: p.__name__)
def test_each_flat_name_is_the_method_of_its_part(store: Store, protocol: type) -> None:
    part = getattr(store, PARTS[protocol])
    for name in _members(protocol):
        assert getattr(store, name) == getattr(part, name), name
        assert getattr(Store, name).__doc__, f"{name} has no docstring"
        assert _members(protocol)[name].__doc__, f"protocol {name} has no docstring"


def test_the_store_offers_nothing_outside_the_contract_but_its_parts() -> None:
    contract = {name for protocol in [*PARTS, protocols.Store] for name in _members(protocol)}
    public = {name for name in vars(Store) if not name.startswith("_")}
    assert public - contract == BEYOND - {"database", *PARTS.values()}
    assert contract - public - {"__enter__", "__exit__"} == set()


def test_a_flat_name_for_another_method_is_refused() -> None:
    with pytest.raises((TypeError, RuntimeError), match="finish_run"):  # 3.11 wraps it

        class Wrong:
            finish_run = _Part("runs", RunQueries.start_run)

        assert Wrong


def test_the_flat_names_read_and_write_through_one_connection(store: Store) -> None:
    run = store.start_run("test", {"n": 1})
    assert store.runs.recent_runs()[0].id == run == store.recent_runs()[0].id
    store.set_active_coder("ml.v1")
    assert store.settings.active_coder() == "ml.v1"
    assert store.documents.database is store.review.database is store.database
