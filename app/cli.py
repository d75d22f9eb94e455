"""The `referral-exchange` command line."""

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncSession

from app import unit_of_work
from app.config import Settings, get_settings
from app.db import dispose_engine
from app.errors import AppError
from app.journal.notes import NoteError, new_signer
from app.models.audit import ActorKind, AuditActor
from app.models.identity import AGENCY_ROLES, Role, Scope, UserCreate
from app.security import Principal, new_client_id, new_client_secret
from app.services import audit, clients, identity, retention, seed, users, webhooks

cli = typer.Typer(help="Referral exchange: serve, migrate and administer.", no_args_is_help=True)
audit_cli = typer.Typer(help="Seal, verify and sign the audit log.", no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")
retention_cli = typer.Typer(help="Remove personal data once it is no longer needed.", no_args_is_help=True)
cli.add_typer(retention_cli, name="retention")
secrets_cli = typer.Typer(help="Secrets kept encrypted at rest (SECRETS_KEY).", no_args_is_help=True)
cli.add_typer(secrets_cli, name="secrets")
CLI_ACTOR = AuditActor(kind=ActorKind.SYSTEM, id="cli")
T = TypeVar("T")


def _migrations_dir() -> Path:
    for candidate in (Path(__file__).resolve().parent.parent / "migrations", Path.cwd() / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise typer.BadParameter("cannot find the migrations/ folder")


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic configuration that needs no alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(_migrations_dir()))
    config.set_main_option("sqlalchemy.url", database_url or get_settings().database_url)
    config.attributes["configure_logging"] = False
    return config


def _run_async(work: Awaitable[T]) -> T:
    """Run a coroutine to completion, then release the database connections."""

    async def run() -> T:
        try:
            return await work
        finally:
            await dispose_engine()

    return asyncio.run(run())


def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one unit of work, committed with its audit events, and clean up."""

    try:
        return _run_async(unit_of_work.committed(work))
    except AppError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the HTTP API with uvicorn."""
    import uvicorn

    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        **proxy_options(get_settings()),
    )


def proxy_options(settings: Settings) -> dict[str, Any]:
    """Believe X-Forwarded-For only from the proxies FORWARDED_ALLOW_IPS names (none by default).

    Uvicorn's own default believes it from any local address, so that anything running on the
    host could choose the client address the rate limits count by.
    """
    trusted = settings.forwarded_allow_ips.strip()
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or None}


@cli.command()
def migrate(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply database migrations (to the latest by default)."""
    command.upgrade(alembic_config(), revision)
    typer.echo(f"database migrated to {revision}")


@cli.command("seed-demo")
def seed_demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print the network as JSON.")] = False,
) -> None:
    """Create (or refresh) the demo network and print its logins."""
    if get_settings().environment == "production":
        typer.echo("error: the demo network has published passwords; refusing in production", err=True)
        raise typer.Exit(2)
    result = _in_transaction(seed.seed_demo)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    _print_logins(result)


def _print_logins(result: dict[str, Any]) -> None:
    names = {a["id"]: a["name"] for a in result["agencies"]}
    typer.echo("Demo staff logins (password grant):")
    for user in result["users"]:
        where = names.get(user["agency_id"], "platform")
        typer.echo(f"  {user['username']:<18} {user['password']:<28} {user['role']:<12} {where}")
    typer.echo("Demo API clients (client_credentials grant):")
    for client in result["clients"]:
        typer.echo(f"  {client['client_id']:<18} {client['client_secret']:<28} {names[client['agency_id']]}")


@cli.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(help="Login name.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    role: Annotated[
        Role, typer.Option(help="platform_admin or auditor (platform roles).")
    ] = Role.PLATFORM_ADMIN,
) -> None:
    """Create a platform admin (or auditor) account."""
    if role not in {Role.PLATFORM_ADMIN, Role.AUDITOR}:
        raise typer.BadParameter("create-admin makes platform accounts: platform_admin or auditor")

    async def work(session: AsyncSession) -> None:
        await identity.create_user(
            session, CLI_ACTOR, username=username, password=password, role=role, agency_id=None
        )

    _in_transaction(work)
    typer.echo(f"created {role.value} {username}")


@cli.command("create-user")
def create_user(
    agency_id: Annotated[uuid.UUID, typer.Option(help="The agency the person works for.")],
    username: Annotated[str, typer.Option(help="Login name.")],
    role: Annotated[Role, typer.Option(help="caseworker or agency_admin.")] = Role.CASEWORKER,
    email: Annotated[str | None, typer.Option(help="Where their notifications go.")] = None,
    display_name: Annotated[str, typer.Option(help="Their name as colleagues see it.")] = "",
) -> None:
    """Add a member of an agency's staff and print their single-use set-password link."""
    if role not in AGENCY_ROLES:
        raise typer.BadParameter("create-user makes agency staff: caseworker or agency_admin")
    body = UserCreate(
        username=username, role=role, agency_id=agency_id, email=email, display_name=display_name
    )
    cli_admin = Principal(ActorKind.SYSTEM, "cli", None, frozenset())
    created = _in_transaction(lambda session: users.create(session, get_settings(), cli_admin, body))
    typer.echo(
        f"created {role.value} {created.username}; set-password link (valid until "
        f"{created.set_password_expires_at.isoformat()}, single use):"
    )
    typer.echo(created.set_password_link)


@cli.command("disable-user")
def disable_user(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Deactivate a staff account; its tokens and web sessions stop at once."""
    _in_transaction(lambda session: users.disable_by_username(session, CLI_ACTOR, username))
    typer.echo(f"disabled {username}")


@cli.command("disable-client")
def disable_client(client_id: Annotated[str, typer.Argument(help="The client's id.")]) -> None:
    """Deactivate an API client; its tokens stop at once."""
    _in_transaction(lambda session: clients.disable(session, CLI_ACTOR, client_id))
    typer.echo(f"disabled {client_id}")


@cli.command("rotate-client-secret")
def rotate_client_secret(client_id: Annotated[str, typer.Argument(help="The client's id.")]) -> None:
    """Give an API client a new secret (printed once); tokens issued before stop at once."""
    secret = new_client_secret()
    _in_transaction(lambda session: clients.rotate_secret(session, CLI_ACTOR, client_id, secret))
    typer.echo(json.dumps({"client_id": client_id, "client_secret": secret}))


@cli.command("create-client")
def create_client(
    name: Annotated[str, typer.Option(help="What the partner system is.")],
    scopes: Annotated[list[Scope], typer.Option("--scope", help="A scope to grant; repeat for more.")],
    agency_id: Annotated[uuid.UUID | None, typer.Option(help="The agency the client acts for.")] = None,
) -> None:
    """Register an API client and print its id and secret (the secret is shown only once)."""
    client_id, secret = new_client_id(), new_client_secret()

    async def work(session: AsyncSession) -> None:
        await identity.create_client(
            session,
            CLI_ACTOR,
            client_id=client_id,
            secret=secret,
            name=name,
            agency_id=agency_id,
            scopes=scopes,
        )

    _in_transaction(work)
    typer.echo(json.dumps({"client_id": client_id, "client_secret": secret}))


@cli.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Send what is due now, then exit.")] = False,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Deliveries claimed per batch.")] = None,
    poll_interval: Annotated[
        float | None, typer.Option(min=0, help="Seconds between polls when idle.")
    ] = None,
) -> None:
    """Deliver webhooks and notifications (claim, send, retry), make the digests, announce follow-ups."""
    from app import worker as delivery_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    async def run() -> int:
        stop = asyncio.Event()
        delivery_worker.stop_on_signals(stop)
        try:
            return await delivery_worker.run(
                get_settings(), once=once, batch_size=batch_size, poll_interval=poll_interval, stop=stop
            )
        finally:
            await dispose_engine()

    attempts = asyncio.run(run())
    typer.echo(f"worker stopped after {attempts} delivery attempts")


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
        due = _in_transaction(lambda session: retention.count_eligible(session, closed_before))
        typer.echo(json.dumps({"dry_run": True, "eligible": due, "closed_before": closed_before.isoformat()}))
        return
    result = _run_async(background.retention_pass(settings, batch_size=batch_size))
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
    count = _in_transaction(lambda session: webhooks.rotate_secrets(session, CLI_ACTOR))
    typer.echo(json.dumps({"re_encrypted": count}))


@cli.command("export-openapi")
def export_openapi(
    output: Annotated[Path, typer.Option(help="Where to write the document.")] = Path("openapi/openapi.json"),
) -> None:
    """Write the OpenAPI document the application serves."""
    from app.main import create_app

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(create_app().openapi(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    typer.echo(f"wrote {output}")


@audit_cli.command("verify")
def audit_verify(
    checkpoint: Annotated[
        Path | None, typer.Option(help="A checkpoint kept earlier: prove the log still extends it.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Recompute the audit log against its checkpoints; exit 1, naming the first bad leaf, unless intact."""
    kept = checkpoint.read_text(encoding="utf-8") if checkpoint else None
    result = _in_transaction(lambda session: audit.verify_log(session, get_settings(), kept))
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
    batch = _run_async(background.seal_pending(settings, wait=True))
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


def main() -> None:
    """Console-script entry point."""
    cli()


if __name__ == "__main__":
    main()
