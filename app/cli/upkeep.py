"""`referral-exchange retention` and `secrets`: removing personal data on time, re-encrypting secrets."""

import json
from typing import Annotated

import typer

from app.cli.running import CLI_ACTOR, in_transaction, run_async
from app.config import get_settings
from app.services import retention, webhooks
from app.services.notifications import accounts as account_notices

retention_cli = typer.Typer(help="Remove personal data once it is no longer needed.", no_args_is_help=True)
secrets_cli = typer.Typer(help="Secrets kept encrypted at rest (SECRETS_KEY).", no_args_is_help=True)


@retention_cli.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count who is due; change nothing.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=5000, help="Subjects per transaction.")] = 500,
) -> None:
    """Anonymise people whose referrals have all been closed longer than RETENTION_DAYS."""
    from app import worker as background

    settings = get_settings()
    if dry_run:
        closed_before = retention.cutoff(settings.retention_days)
        due = in_transaction(lambda session: retention.count_eligible(session, closed_before))
        typer.echo(json.dumps({"dry_run": True, "eligible": due, "closed_before": closed_before.isoformat()}))
        return
    result = run_async(background.retention_pass(settings, batch_size=batch_size))
    typer.echo(
        json.dumps(
            {
                "dry_run": False,
                "anonymised": result.anonymised,
                "idempotency_keys_purged": result.idempotency_keys_purged,
                "closed_before": result.closed_before.isoformat(),
            }
        )
    )


@secrets_cli.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt every stored secret under the first key in SECRETS_KEY; then older keys can go."""
    count = in_transaction(lambda session: webhooks.rotate_secrets(session, CLI_ACTOR))
    # New accounts' set-password links waiting to be emailed: a few at most, gone once sent.
    count += in_transaction(account_notices.reseal_links)
    typer.echo(json.dumps({"re_encrypted": count}))
