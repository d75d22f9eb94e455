"""The `referral-exchange` command line: the top-level commands here, each group's in a module of its own."""

import asyncio
import json
import logging
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from alembic import command
from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy.ext.asyncio import AsyncSession

from app.cli import audit_log, directory, upkeep
from app.cli.running import CLI_ACTOR, in_transaction, run_apart
from app.cli.running import alembic_config as alembic_config
from app.config import Settings, get_settings, settings_problems
from app.db import dispose_engine
from app.models.audit import ActorKind
from app.models.identity import AGENCY_ROLES, Role, Scope, UserCreate
from app.security import Principal, new_client_id, new_client_secret
from app.services import clients, identity, seed, users

# A traceback's local variables could hold a secret setting: never shown.
cli = typer.Typer(
    help="Referral exchange: serve, migrate and administer.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
cli.add_typer(audit_log.audit_cli, name="audit")
cli.add_typer(upkeep.retention_cli, name="retention")
cli.add_typer(upkeep.secrets_cli, name="secrets")
cli.add_typer(directory.directory_cli, name="directory")


@cli.callback()
def _settings_first() -> None:
    # Every command reads the settings; read here first, invalid ones stop it with a list of
    # what is wrong rather than a traceback, and never with a value (it may be a secret).
    try:
        get_settings()
    except (ValidationError, SettingsError) as exc:
        typer.echo("error: the settings are not valid:", err=True)
        for problem in settings_problems(exc):
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(2) from None


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the HTTP API with uvicorn."""
    import uvicorn

    _refuse_unusable_rate_limit_store(get_settings())
    _refuse_what_cannot_fit(get_settings(), serving=workers)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        **proxy_options(get_settings()),
    )


def _refuse_unusable_rate_limit_store(settings: Settings) -> None:
    # Asked before serving so that the message is a line of its own, not a start-up traceback.
    from app.ratelimit import counts_in_redis, unusable_storage

    problem = run_apart(unusable_storage(settings)) if counts_in_redis(settings) else None
    if problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2)


def _refuse_what_cannot_fit(settings: Settings, *, serving: int = 0) -> None:
    # The deployment's declared shape against what PostgreSQL allows; `serving` is how many API
    # processes this command starts, which API_PROCESSES must count.
    from app import connection_budget

    if serving > settings.api_processes and not settings.is_sqlite:
        typer.echo(
            f"error: serve --workers {serving} starts more API processes than API_PROCESSES "
            f"({settings.api_processes}) counts; set API_PROCESSES to every API process of the deployment",
            err=True,
        )
        raise typer.Exit(2)
    problem = run_apart(connection_budget.check(settings)) if connection_budget.applies(settings) else None
    if problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2)


def proxy_options(settings: Settings) -> dict[str, Any]:
    """Believe X-Forwarded-For only from the proxies FORWARDED_ALLOW_IPS names (none by default):
    uvicorn's default believes any local address, which could choose the address rate limits count."""
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
    result = in_transaction(seed.seed_demo)
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

    in_transaction(work)
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
    created = in_transaction(lambda session: users.create(session, get_settings(), cli_admin, body))
    typer.echo(
        f"created {role.value} {created.username}; set-password link (valid until "
        f"{created.set_password_expires_at.isoformat()}, single use):"
    )
    typer.echo(created.set_password_link)


@cli.command("disable-user")
def disable_user(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Deactivate a staff account; its tokens and web sessions stop at once."""
    in_transaction(lambda session: users.disable_by_username(session, CLI_ACTOR, username))
    typer.echo(f"disabled {username}")


@cli.command("disable-client")
def disable_client(client_id: Annotated[str, typer.Argument(help="The client's id.")]) -> None:
    """Deactivate an API client; its tokens stop at once."""
    in_transaction(lambda session: clients.disable(session, CLI_ACTOR, client_id))
    typer.echo(f"disabled {client_id}")


@cli.command("rotate-client-secret")
def rotate_client_secret(client_id: Annotated[str, typer.Argument(help="The client's id.")]) -> None:
    """Give an API client a new secret (printed once); tokens issued before stop at once."""
    secret = new_client_secret()
    in_transaction(lambda session: clients.rotate_secret(session, CLI_ACTOR, client_id, secret))
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

    in_transaction(work)
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
    _refuse_what_cannot_fit(get_settings())

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


@cli.command("export-openapi")
def export_openapi(
    output: Annotated[Path, typer.Option(help="Where to write the document.")] = Path("openapi/openapi.json"),
) -> None:
    """Write the OpenAPI document the application serves."""
    from app.main import create_app

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(create_app().openapi(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    typer.echo(f"wrote {output}")


def main() -> None:
    """Console-script entry point."""
    cli()


if __name__ == "__main__":
    main()
