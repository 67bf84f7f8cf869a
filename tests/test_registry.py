"""Components by name: every factory loads, and every list of choices comes from the registry."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from pipeline import registry
from pipeline.cli import cli
from pipeline.errors import DshiftError
from pipeline.registry import DEFAULT_CODER, Component, Table


@pytest.mark.parametrize(
    "component",
    [c for table in registry.TABLES for c in table],
    ids=lambda c: c.name,
)
def test_every_factory_loads(component: Component) -> None:
    assert callable(component.load())


def _choices(path: list[str], option: str) -> list[str]:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    for param in command.params:
        if param.name == option:
            assert isinstance(param.type, click.Choice)
            return list(param.type.choices)
    raise AssertionError(option)


def test_the_cli_offers_what_is_registered() -> None:
    assert _choices(["code"], "coder_name") == registry.coders.names()
    assert _choices(["run"], "coder_name") == registry.coders.names()
    assert _choices(["tag"], "coder_name") == registry.coders.names()
    assert _choices(["export"], "formats") == registry.exporters.names()
    assert _choices(["review", "export"], "strategy") == registry.strategies.names()
    assert _choices(["review", "assign"], "strategy") == registry.strategies.names()


def test_the_stages_know_what_is_registered() -> None:
    from pipeline.exports.render import FORMATS
    from pipeline.review.select import STRATEGIES

    assert list(FORMATS) == registry.exporters.names()
    assert list(STRATEGIES) == registry.strategies.names()


def test_an_unknown_name_is_refused_with_the_closest() -> None:
    with pytest.raises(DshiftError, match=r"unknown machine coder 'ensemble\.v2'") as caught:
        registry.coders.get("ensemble.v2")
    assert "did you mean 'ensemble.v1'?" in caught.value.hint
    assert caught.value.code == "usage"


def test_a_name_is_registered_once() -> None:
    table = Table("thing", Component("a", "the first", "pipeline.registry:Table"))
    table.register(Component("b", "the second", "pipeline.registry:Table"))
    assert table.names() == ["a", "b"]
    with pytest.raises(ValueError, match="already registered"):
        table.register(Component("a", "again", "pipeline.registry:Table"))


def test_tag_names_its_coder_and_a_learned_one_needs_a_workspace(tmp_path: Path) -> None:
    from click.testing import CliRunner

    line = '{"id": 1, "text": "Troops cleared the border area of militants."}\n'
    runner = CliRunner()
    book = str(Path(__file__).resolve().parents[1] / "codebook" / "codebook.yaml")
    default = runner.invoke(cli, ["tag", "--codebook", book], input=line)
    named = runner.invoke(cli, ["tag", "--codebook", book, "--coder", DEFAULT_CODER], input=line)
    rules = runner.invoke(cli, ["tag", "--codebook", book, "--coder", "rules.v1"], input=line)
    assert default.exit_code == named.exit_code == rules.exit_code == 0
    assert default.output == named.output != rules.output
    by_default, by_rules = json.loads(default.output), json.loads(rules.output)
    assert set(by_default) == set(by_rules) == {"id", "codes", "subcodes", "partners", "evidence"}
    assert by_default["codes"] == by_rules["codes"] == ["securitization"]
    assert any(e["pattern"].startswith("learned.v1:") for e in by_default["evidence"])
    assert all(not e["pattern"].startswith("learned") for e in by_rules["evidence"])
    learned = runner.invoke(
        cli,
        ["--workspace", str(tmp_path), "tag", "--codebook", book, "--coder", "ml.v1"],
        input=line,
    )
    assert learned.exit_code == 1
    assert "ml.v1 needs the model trained in a workspace" in learned.output
