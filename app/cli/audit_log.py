"""`referral-exchange audit`: seal, verify and sign the audit log."""

from pathlib import Path
from typing import Annotated

import typer

from app.cli.running import in_transaction, run_async
from app.config import get_settings
from app.journal.notes import NoteError, new_signer
from app.services import audit

audit_cli = typer.Typer(help="Seal, verify and sign the audit log.", no_args_is_help=True)


@audit_cli.command("verify")
def audit_verify(
    checkpoint: Annotated[
        Path | None, typer.Option(help="A checkpoint kept earlier: prove the log still extends it.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Recompute the audit log against its checkpoints; exit 1, naming the first bad leaf, unless intact."""
    kept = checkpoint.read_text(encoding="utf-8") if checkpoint else None
    result = in_transaction(lambda session: audit.verify_log(session, get_settings(), kept))
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    elif result.valid:
        typer.echo(f"audit log valid: {result.events_checked} leaves, tree size {result.tree_size}")
        typer.echo(f"root {result.root_hash}; {result.unsealed} events not yet sealed")
    else:
        where = f" at leaf {result.first_invalid_seq}" if result.first_invalid_seq is not None else ""
        typer.echo(f"audit log INVALID{where}: {result.problem} ({result.detail})")
        typer.echo(f"{result.events_checked} leaves checked of {result.tree_size}")
    if not result.valid:
        raise typer.Exit(1)


@audit_cli.command("seal")
def audit_seal() -> None:
    """Seal every committed audit event into the log now and sign a checkpoint."""
    from app import worker as background

    settings = get_settings()
    batch = run_async(background.seal_pending(settings, wait=True))
    size = batch.tree_size if batch else 0
    typer.echo(f"audit log sealed: tree size {size}")


@audit_cli.command("keygen")
def audit_keygen(
    name: Annotated[str | None, typer.Option(help="The key name (default: AUDIT_LOG_ORIGIN).")] = None,
) -> None:
    """Make an Ed25519 signing key: AUDIT_SIGNING_KEY on the first line, its verifier key on the second."""
    try:
        signer = new_signer(name or get_settings().audit_log_origin)
    except NoteError as exc:
        raise typer.BadParameter(str(exc)) from None
    typer.echo(signer.text())
    typer.echo(signer.verifier.text())
