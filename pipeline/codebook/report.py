"""Readable views of codebooks: the tree, and what changed between two versions."""

from __future__ import annotations

import textwrap

from pipeline.codebook.model import Code, Codebook, Pattern


def format_tree(codebook: Codebook, width: int = 100) -> str:
    """Return the code tree with definitions, rules and pattern counts."""
    lines = [
        f"{codebook.name}  (version {codebook.version}; {len(codebook.codes)} codes, "
        f"{len(codebook.patterns())} patterns, {len(codebook.partners)} partners)"
    ]

    def visit(code: Code, depth: int) -> None:
        pad = "  " * depth
        counts = f"{len(code.patterns)} pattern(s)"
        if code.exclusions:
            counts += f", {len(code.exclusions)} exclusion(s)"
        lines.append(f"{pad}{code.id} — {code.label}  [{counts}]")
        wrap = textwrap.TextWrapper(
            width=width, initial_indent=pad + "    ", subsequent_indent=pad + "    "
        )
        lines.extend(wrap.wrap(code.definition))
        for label, items in (("include", code.include), ("exclude", code.exclude)):
            for item in items:
                lines.extend(wrap.wrap(f"{label}: {item}"))
        for child in codebook.children(code.id):
            visit(child, depth + 1)

    for top in codebook.children(None):
        visit(top, 0)
    if codebook.partners:
        lines.append("partners:")
        for partner in codebook.partners.values():
            aliases = ", ".join(partner.aliases[:8])
            more = f" (+{len(partner.aliases) - 8})" if len(partner.aliases) > 8 else ""
            lines.append(f"  {partner.id}: {aliases}{more}")
    return "\n".join(lines)


def describe_pattern(pattern: Pattern) -> str:
    """Say in one line what a pattern looks for."""
    if pattern.kind == "lemmas":
        more = f" | … ({len(pattern.lemmas) - 8} more)" if len(pattern.lemmas) > 8 else ""
        return "lemmas " + " | ".join(pattern.lemmas[:8]) + more
    if pattern.kind == "tokens":
        return f"tokens {list(pattern.tokens)}"
    assert pattern.a is not None and pattern.b is not None
    side = lambda t: " | ".join([*t.lemmas, *(f"@{p}" for p in t.partners)])  # noqa: E731
    return f"near ({side(pattern.a)}) within {pattern.window} of ({side(pattern.b)})"


def diff(old: Codebook, new: Codebook) -> list[str]:
    """Describe what changed from ``old`` to ``new``: codes, definitions, patterns, partners."""
    out: list[str] = []
    for cid in sorted(set(old.codes) | set(new.codes)):
        before, after = old.codes.get(cid), new.codes.get(cid)
        if before is None:
            out.append(f"+ code {cid}: {after.label if after else ''}")
            continue
        if after is None:
            out.append(f"- code {cid}: {before.label}")
            continue
        for field in ("label", "parent", "definition", "include", "exclude"):
            if getattr(before, field) != getattr(after, field):
                out.append(f"~ code {cid}: {field} changed")
        old_patterns = {p.id: p for p in (*before.patterns, *before.exclusions)}
        new_patterns = {p.id: p for p in (*after.patterns, *after.exclusions)}
        for pid in sorted(set(old_patterns) | set(new_patterns)):
            a, b = old_patterns.get(pid), new_patterns.get(pid)
            if a is None and b is not None:
                out.append(f"+ pattern {pid} ({cid}): {describe_pattern(b)}")
            elif b is None and a is not None:
                out.append(f"- pattern {pid} ({cid}): {describe_pattern(a)}")
            elif a != b and b is not None:
                out.append(f"~ pattern {pid} ({cid}): now {describe_pattern(b)}")
    for pid in sorted(set(old.partners) | set(new.partners)):
        was, now = old.partners.get(pid), new.partners.get(pid)
        if was is None:
            out.append(f"+ partner {pid}")
        elif now is None:
            out.append(f"- partner {pid}")
        elif set(was.aliases) != set(now.aliases):
            added = sorted(set(now.aliases) - set(was.aliases))
            removed = sorted(set(was.aliases) - set(now.aliases))
            out.append(f"~ partner {pid}: aliases +{added} -{removed}")
    if old.negation != new.negation:
        out.append("~ negation cues or scope changed")
    return out
