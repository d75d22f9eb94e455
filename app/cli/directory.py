"""`referral-exchange directory`: fill the directory from other directories (Open Referral UK), and
load the postcode centroids a proximity search measures from."""

from pathlib import Path
from typing import Annotated

import typer

from app.cli.running import CLI_ACTOR, in_transaction, run_async
from app.config import get_settings
from app.errors import AppError
from app.openreferral.feed import FeedError
from app.openreferral.sources import import_source
from app.services import places

directory_cli = typer.Typer(
    help="The directory: import other directories' Open Referral UK feeds, load postcode centroids.",
    no_args_is_help=True,
)


@directory_cli.command("import")
def import_directory(
    source: Annotated[str, typer.Argument(help="A feed's base URL (…/openreferral/v3) or a JSON file.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would change; keep nothing.")] = False,
    mapping: Annotated[
        Path | None,
        typer.Option(help="Which taxonomy terms mean which purpose (default: the mapping shipped)."),
    ] = None,
) -> None:
    """Add and update agencies and services from an Open Referral UK feed or file, by their ids.

    New services are listed but take no referrals until an admin turns them on. A feed that is
    malformed, incomplete, too large or unreachable changes nothing.
    """
    work = import_source(get_settings(), source, CLI_ACTOR, dry_run=dry_run, mapping_file=mapping)
    try:
        report = run_async(work)
    except FeedError as exc:
        typer.echo(f"error: {exc}; nothing was imported", err=True)
        raise typer.Exit(1) from None
    except AppError as exc:
        typer.echo(f"error: {exc.detail}; nothing was imported", err=True)
        raise typer.Exit(1) from None
    for line in report.lines():
        typer.echo(line)
    if dry_run:
        typer.echo("dry run: nothing was kept")


@directory_cli.command("load-postcodes")
def load_postcodes(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV of postcode,latitude,longitude, or with columns named so (ONS: pcds, lat, long).",
            exists=True,
            dir_okay=False,
        ),
    ],
) -> None:
    """Add or replace the postcode centroids that proximity searches measure from."""
    report = places.CentroidFile()
    with file.open(encoding="utf-8-sig", newline="") as lines:
        rows = places.read_centroids(lines, report)
        in_transaction(lambda session: places.load_centroids(session, CLI_ACTOR, rows, report))
    skipped = f"; skipped {report.skipped} lines (first: {report.first_skipped})" if report.skipped else ""
    typer.echo(f"loaded {report.loaded} postcode centroids{skipped}")
