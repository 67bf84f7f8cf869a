"""Generate the CLI reference in README.md from ``--help``.

Run ``python -m pipeline.cli.reference README.md`` after changing a command; a test fails while the
README and the help text disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline.cli import cli

START = "<!-- cli-reference:start -->"
END = "<!-- cli-reference:end -->"


def _commands(group: click.Group, prefix: list[str]) -> list[tuple[list[str], click.Command]]:
    found: list[tuple[list[str], click.Command]] = [(prefix, group)]
    for name in sorted(group.commands):
        command = group.commands[name]
        if isinstance(command, click.Group):
            found += _commands(command, [*prefix, name])
        else:
            found.append(([*prefix, name], command))
    return found


def help_text(path: list[str], command: click.Command) -> str:
    """Return the --help output of one command, as the terminal shows it at 100 columns."""
    settings = {**cli.context_settings, "terminal_width": 100, "max_content_width": 100}
    ctx = click.Context(cli, info_name="dshift", **settings)
    here: click.Command = cli
    for name in path:  # each level's context holds its own command, as the terminal's does
        assert isinstance(here, click.Group)
        here = here.commands[name]
        ctx = click.Context(here, info_name=name, parent=ctx, **settings)
    assert here is command
    return command.get_help(ctx)


def cli_reference() -> str:
    """Return the Markdown CLI reference: one section per command."""
    parts = []
    for path, command in _commands(cli, []):
        title = " ".join(["dshift", *path])
        parts.append(f"### `{title}`\n\n```\n{help_text(path, command)}\n```\n")
    return "\n".join(parts)


def update_readme(readme: Path) -> bool:
    """Rewrite the reference between the markers; return True if the file changed."""
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{cli_reference()}{END}{tail}"
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    changed = update_readme(Path(sys.argv[1] if len(sys.argv) > 1 else "README.md"))
    print("README.md updated" if changed else "README.md already up to date")
