"""Commands of the corpus: init, ingest, run, status, problems, doc."""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Any

import click

from pipeline import api
from pipeline.api import SOURCE_TYPES, IngestSettings, Project, ReadOptions
from pipeline.cli.app import cli, exit_with, friendly_errors, project_of
from pipeline.cli.coding import coder_option, executor_option


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.pass_context
@friendly_errors
def init(ctx: click.Context, directory: str) -> None:
    """Create a workspace in DIRECTORY, with the default codebook.

    With --store postgresql://..., the workspace's store is made on that PostgreSQL
    database and named in DIRECTORY/dshift.toml (the database must exist and be empty).

    \b
    Example:
        dshift init ~/pakfp
        dshift --store postgresql://coder@db.example.org/pakfp init ~/pakfp
    """
    store = ctx.find_root().obj.get("store")
    project = Project.create(directory, store)
    click.echo(f"workspace ready: {project.root}", err=True)
    click.echo(
        "  corpus/   trained models (and the store, when it is not on a server)\n"
        f"  store:    {project.store_where} (back it up: it holds coders' decisions)\n"
        "  codebook/ codebook.yaml\n  outputs/  regenerable results",
        err=True,
    )


def ingest_options(fn: Any) -> Any:
    options = [
        click.option(
            "--jobs",
            "-j",
            type=click.IntRange(min=1),
            default=None,
            help="Worker processes (default: all cores).",
        ),
        executor_option(
            "Where files are read (and, for 'run', coded), under the same per-file time and "
            "memory limits everywhere"
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=1),
            default=120.0,
            show_default=True,
            help="Seconds one file may take before it is given up.",
        ),
        click.option(
            "--max-pages",
            type=click.IntRange(min=1),
            default=2000,
            show_default=True,
            help="Refuse files with more pages than this.",
        ),
        click.option(
            "--max-megabytes",
            type=click.IntRange(min=1),
            default=200,
            show_default=True,
            help="Refuse files larger than this.",
        ),
        click.option(
            "--max-memory-mb",
            type=click.IntRange(min=64),
            default=2048,
            show_default=True,
            help="Memory limit of each worker process.",
        ),
        click.option(
            "--engine",
            type=click.Choice(["pdfium", "pdfplumber"]),
            default="pdfium",
            show_default=True,
            help="PDF engine for word positions.",
        ),
        click.option(
            "--retry-problems", is_flag=True, help="Read again files that failed in an earlier run."
        ),
        click.option(
            "--follow-links",
            is_flag=True,
            help="Follow symbolic links that point out of the drop (by default they are "
            "reported and skipped).",
        ),
        click.option(
            "--strict",
            is_flag=True,
            help="Exit with status 5 if any file of the drops has a problem.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _settings(options: dict[str, Any]) -> IngestSettings:
    return IngestSettings(
        jobs=options["jobs"],
        executor=options["executor"],
        timeout=options["timeout"],
        max_memory_mb=options["max_memory_mb"],
        retry_problems=options["retry_problems"],
        follow_links=options["follow_links"],
        read=ReadOptions(
            engine=options["engine"],
            max_pages=options["max_pages"],
            max_bytes=options["max_megabytes"] * 1024 * 1024,
        ),
    )


def _exit_if_strict(strict: bool, summary: Any) -> None:
    if strict and (summary.problems or summary.skipped_known_problems):
        exit_with("problems")


@cli.command()
@click.argument("drops", nargs=-1, required=True, type=click.Path())
@ingest_options
@click.pass_context
@friendly_errors
def ingest(ctx: click.Context, drops: tuple[str, ...], **options: Any) -> None:
    """Read new and changed files of one or more DROPS into the corpus store.

    A drop is a folder of PDF, DOCX, HTML and text files, optionally with a metadata.csv
    sidecar (file, source_type, date, title, issuer, language). Files already stored are
    skipped; bad files are reported, never fatal.

    \b
    Example:
        dshift ingest ~/drops/2024-06 --jobs 4
    """
    summary, problems_csv = project_of(ctx).ingest(
        drops, _settings(options), arguments={"drops": list(drops), **options}
    )
    click.echo(api.format_ingest_summary(summary, problems_csv), err=True)
    _exit_if_strict(options["strict"], summary)


@cli.command()
@click.argument("drops", nargs=-1, required=True, type=click.Path())
@ingest_options
@coder_option(default=None)
@click.pass_context
@friendly_errors
def run(ctx: click.Context, drops: tuple[str, ...], coder_name: str | None, **options: Any) -> None:
    """Run the whole pipeline over DROPS: ingest, code, index, export, report.

    \b
    Example:
        dshift run corpus/sample
    """
    from pipeline.cli.coding import print_coding
    from pipeline.cli.indices import print_export

    project = project_of(ctx)
    done = project.run_all(
        drops,
        _settings(options),
        arguments={"drops": list(drops), "coder": coder_name, **options},
        coder=coder_name,
    )
    click.echo(api.format_ingest_summary(done.ingest, done.problems_csv), err=True)
    print_coding(done.code, dry_run=False)
    print_export(done.export)
    click.echo(f"report: {done.report}", err=True)
    click.echo(
        f"outputs: {project.outputs}\n  exports: {done.export.folder}\n  report:  {done.report}\n"
        f"  store:   {project.store_where} (back it up)",
        err=True,
    )
    _exit_if_strict(options["strict"], done.ingest)


@cli.command()
@click.pass_context
@friendly_errors
def status(ctx: click.Context) -> None:
    """Show what the store holds: documents by year and type, undated ones, problems, runs.

    \b
    Example:
        dshift --workspace ~/pakfp status
    """
    click.echo(project_of(ctx).status())


@cli.command()
@click.option("--csv", "as_csv", is_flag=True, help="Write CSV to stdout instead of a listing.")
@click.option(
    "--dismiss",
    type=int,
    multiple=True,
    metavar="ID",
    help="Close a problem you have dealt with (repeat for several).",
)
@click.pass_context
@friendly_errors
def problems(ctx: click.Context, as_csv: bool, dismiss: tuple[int, ...]) -> None:
    """List open problems with the file, the place, the reason and the fix.

    Problems close by themselves when a later run fixes them (a readable version of the file, a
    date for an undated document); --dismiss closes the others.

    \b
    Example:
        dshift problems --csv > problems.csv
        dshift problems --dismiss 12 --dismiss 13
    """
    project = project_of(ctx)
    if dismiss:
        closed = project.dismiss_problems(dismiss)
        click.echo(f"dismissed {closed} of {len(dismiss)} problem(s)", err=True)
        return
    rows = project.problems()
    if as_csv:
        api.write_problems_csv(sys.stdout, rows)
        return
    if not rows:
        click.echo("no open problems")
    for p in rows:
        place = f" ({p.place})" if p.place else ""
        doc = f" [doc #{p.document_id}]" if p.document_id else ""
        click.echo(
            f"#{p.id} {p.severity:7} {p.code:15} {p.path}{place}{doc}\n"
            f"        {p.reason}\n        fix: {p.hint}"
        )


@cli.group()
def doc() -> None:
    """Look at one document or correct its metadata.

    \b
    Example:
        dshift doc show 12
    """


@doc.command("list")
@click.option("--year", type=int, default=None, help="Only documents of this year.")
@click.option(
    "--source-type",
    type=click.Choice(list(SOURCE_TYPES)),
    default=None,
    help="Only documents of this source type.",
)
@click.option("--undated", is_flag=True, help="Only documents without a date.")
@click.option(
    "--problems", "with_problems", is_flag=True, help="Only documents with open problems."
)
@click.option(
    "--format",
    "form",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="csv and json are for scripts: every field, one document per row or object.",
)
@click.pass_context
@friendly_errors
def doc_list(
    ctx: click.Context,
    year: int | None,
    source_type: str | None,
    undated: bool,
    with_problems: bool,
    form: str,
) -> None:
    """List the documents of the workspace (current versions), with filters.

    \b
    Example:
        dshift doc list --year 2015 --source-type ispr
        dshift doc list --undated --format csv > undated.csv
    """
    listed = project_of(ctx).documents(
        year=year, source_type=source_type, undated=undated, with_problems=with_problems
    )
    fields = [
        "id",
        "name",
        "title",
        "date",
        "year",
        "source_type",
        "pages",
        "characters",
        "problems",
    ]
    rows = [
        {f: (";".join(d.problems) if f == "problems" else getattr(d, f)) for f in fields}
        for d in listed
    ]
    if form == "json":
        click.echo(
            json.dumps(
                [{**r, "problems": list(d.problems)} for r, d in zip(rows, listed)],
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    if form == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        click.echo(out.getvalue(), nl=False)
        return
    if not listed:
        click.echo("no documents match", err=True)
        return
    for d in listed:
        title = d.title if len(d.title) <= 48 else d.title[:47] + "…"
        flags = f"  [{', '.join(d.problems)}]" if d.problems else ""
        click.echo(
            f"#{d.id:<5} {d.date or 'undated':10} {d.source_type:7} {d.name}  {title}{flags}"
        )
    click.echo(f"{len(listed)} document(s)", err=True)


@doc.command("show")
@click.argument("ref")
@click.pass_context
@friendly_errors
def doc_show(ctx: click.Context, ref: str) -> None:
    """Show a document's metadata, with where each value came from.

    REF is a document id, a file name, or a sha256 prefix.

    \b
    Example:
        dshift doc show pr_0457.pdf
    """
    click.echo(project_of(ctx).describe_document(ref))


@doc.command("text")
@click.argument("ref")
@click.pass_context
@friendly_errors
def doc_text(ctx: click.Context, ref: str) -> None:
    """Print a document's canonical text.

    \b
    Example:
        dshift doc text 12 | less
    """
    click.echo(project_of(ctx).document_text(ref))


@doc.command("set-date")
@click.argument("ref")
@click.argument("date")
@click.option("--note", default="", help="Why (kept with the value).")
@click.pass_context
@friendly_errors
def doc_set_date(ctx: click.Context, ref: str, date: str, note: str) -> None:
    """Set the DATE (YYYY-MM-DD, YYYY-MM or YYYY) of document REF by hand.

    \b
    Example:
        dshift doc set-date consular_circular.pdf 2012-03-01 --note "from the archive register"
    """
    document = project_of(ctx).set_date(ref, date, note)
    click.echo(
        f"#{document.id} {document.name}: date {document.date} (year {document.year})", err=True
    )
