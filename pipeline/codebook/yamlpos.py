"""Load YAML keeping the line of every value, so that errors can point at it.

A codebook is edited by hand and may come from anyone, so the YAML is read defensively: the event
stream is scanned first, before any Python object is built, and refused when it holds anchors or
aliases (``&name`` / ``*name``: a few hundred bytes of them expand to billions of values, and an
alias can contain itself), nests deeper than :data:`MAX_DEPTH` or holds more than :data:`MAX_NODES`
values (two megabytes of ``[1,1,1,…]`` would otherwise cost seconds and hundreds of megabytes
to build before the codebook's own limits could refuse them). Keys must be plain texts; a key
given twice in one mapping is a problem, not a silent overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

Path_ = tuple[str | int, ...]

# libyaml when PyYAML was built with it (about 15 times faster); the same events and nodes.
_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_DEPTH = 32  # a codebook nests about 8 levels deep; this also keeps the composer's recursion low
MAX_NODES = 200_000  # values, lists and mappings; the default codebook holds about 1,900


class YamlSyntaxError(Exception):
    """The file is not valid YAML; ``line`` is 1-based."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class YamlProblem:
    """Something in valid YAML that a codebook refuses; ``line`` is 1-based."""

    line: int
    where: Path_ | None  # None: the file as a whole (anchors, aliases, nesting)
    message: str


class YamlRefused(Exception):
    """The YAML is valid but uses features a codebook refuses; ``problems`` lists each one."""

    def __init__(self, problems: list[YamlProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def load_with_lines(text: str) -> tuple[Any, dict[Path_, int]]:
    """Parse YAML text; return the data and a map from each value's path to its 1-based line.

    Raises:
        YamlSyntaxError: the text is not YAML.
        YamlRefused: anchors, aliases, deep nesting, keys that are not plain texts, repeated keys
            or unknown tags.
    """
    try:
        _scan_events(text)
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlSyntaxError(str(exc.problem or exc), (mark.line + 1) if mark else 0) from None
    except yaml.YAMLError as exc:  # e.g. a control character the reader refuses
        raise YamlSyntaxError(" ".join(str(exc).split()), 0) from None
    lines: dict[Path_, int] = {}
    if node is None:
        return None, lines
    problems: list[YamlProblem] = []
    data = _build(node, (), lines, problems)
    if problems:
        raise YamlRefused(problems)
    return data, lines


def _scan_events(text: str) -> None:
    """Refuse anchors, aliases, deep nesting and too many values from the event stream.

    Nothing is built, and the scan stops at the value that passes :data:`MAX_NODES`.
    """
    first: dict[str, tuple[int, str]] = {}  # 'anchor' / 'alias' -> (line, name) of the first one
    counts = {"anchor": 0, "alias": 0}
    depth = 0
    nodes = 0
    for event in yaml.parse(text, Loader=_LOADER):
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.NodeEvent):
            nodes += 1
            if nodes > MAX_NODES:
                raise YamlRefused(
                    [
                        YamlProblem(
                            line,
                            None,
                            f"the codebook holds more than {MAX_NODES:,} values, lists and "
                            "mappings (the limit is passed on this line); a codebook needs far "
                            "fewer (the default one holds about 2,000): check that this is the "
                            "codebook meant, and remove what does not belong in it",
                        )
                    ]
                )
        if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
            kind = "alias" if isinstance(event, yaml.AliasEvent) else "anchor"
            counts[kind] += 1
            first.setdefault(kind, (line, str(event.anchor)))
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlRefused(
                    [
                        YamlProblem(
                            line,
                            None,
                            f"lists and mappings are nested more than {MAX_DEPTH} levels deep; "
                            "a codebook needs far fewer: remove the extra brackets or indentation",
                        )
                    ]
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    problems = []
    for kind, sign in (("anchor", "&"), ("alias", "*")):
        if kind in first:
            line, name = first[kind]
            more = counts[kind] - 1
            problems.append(
                YamlProblem(
                    line,
                    None,
                    f"YAML {kind} '{sign}{name}' refused"
                    + (f" (and {more} more after it)" if more else "")
                    + ": a codebook may not use anchors and aliases (&name, *name, <<: *name), "
                    "which can expand without bound or contain themselves; write the values "
                    "out in full",
                )
            )
    if problems:
        raise YamlRefused(problems)


def _build(
    node: yaml.Node, path: Path_, lines: dict[Path_, int], problems: list[YamlProblem]
) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                kind = "list" if isinstance(key_node, yaml.SequenceNode) else "mapping"
                problems.append(
                    YamlProblem(
                        line,
                        path,
                        f"a key must be a plain word such as 'label', not a {kind} "
                        "(a '?' or brackets before ':' make one)",
                    )
                )
                continue
            key = key_node.value  # keys are plain scalars in a codebook
            if key in out:
                problems.append(
                    YamlProblem(
                        line,
                        (*path, key),
                        f"key '{key}' appears twice in the same mapping (first on line "
                        f"{lines[(*path, key)]}): YAML would keep only the last; remove or "
                        "merge one",
                    )
                )
                continue
            out[key] = _build(value_node, (*path, key), lines, problems)
            lines[(*path, key)] = line
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(child, (*path, i), lines, problems) for i, child in enumerate(node.value)]
    try:
        return _scalar(node)
    except (yaml.YAMLError, ValueError, OverflowError) as exc:  # unknown tag, 5000-digit number
        reason = getattr(exc, "problem", None) or exc
        problems.append(
            YamlProblem(
                lines[path],
                path,
                f"this value cannot be read ({' '.join(str(reason).split())}); remove the "
                "'!tag' before it or put the value in quotes",
            )
        )
        return None


def _scalar(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()
