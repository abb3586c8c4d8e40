"""Command line: ``flask --app webapp db|users|demo|import|export ...``; each command is one transaction."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from models import Role
from webapp.database import get_db
from webapp.services import members_csv
from webapp.services.errors import InvalidInput, ServiceError

db_cli = AppGroup("db", help="Database schema and reference data.")
users_cli = AppGroup("users", help="Accounts.")
demo_cli = AppGroup("demo", help="The demo programme.")
retention_cli = AppGroup("retention", help="Deleting what is kept no longer than needed (PDP-4).")
privacy_cli = AppGroup("privacy", help="Personal-data breaches: who was affected, how to reach them (PDP-5).")


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema and load the reference data."""
    from flask import current_app

    from models.migrate import upgrade
    from webapp.services.reference_data import sync_reference_data

    url = current_app.config["DATABASE_URL"]
    upgrade(url)
    db = get_db()
    changed = sync_reference_data(db)
    db.commit()
    click.echo(f"database is up to date ({changed} reference rows written)")


@users_cli.command("create")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--password", help="leave out to generate a one-time password that must be changed at first login"
)
def users_create(role: str, email: str, name: str, password: str | None) -> None:
    """Create an account (the only way to make staff and admin accounts besides an admin)."""
    from webapp.services.accounts import create_user, generate_password

    one_time = password is None
    password = password or generate_password()
    db = get_db()
    try:
        user = create_user(
            db, email=email, name=name, password=password, role=Role(role), must_change_password=one_time
        )
    except ServiceError as exc:
        db.rollback()
        _fail(exc.message)
    db.commit()
    click.echo(f"created {user.role.value} {user.email} (id {user.id})")
    if one_time:
        click.echo(f"one-time password (must be changed at first login): {password}")


@demo_cli.command("load")
@click.option("--entrepreneurs", default=2000, show_default=True, type=click.IntRange(1, 500_000))
@click.option("--mentors", default=150, show_default=True, type=click.IntRange(1, 50_000))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--if-empty", is_flag=True, help="do nothing (and succeed) when the database already has members"
)
def demo_load(entrepreneurs: int, mentors: int, seed: int, if_empty: bool) -> None:
    """Load a realistic demo programme into an empty database and print the demo logins."""
    from flask import current_app

    from webapp.services.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, database_is_empty, load_demo

    if current_app.config["ENV_NAME"] == "production":
        _fail("the demo programme is never loaded into a production database")
    db = get_db()
    if not database_is_empty(db):
        if if_empty:
            click.echo("demo: the database already holds a programme; nothing loaded")
            _print_logins([(r.value, e, DEMO_PASSWORD) for r, e, _n in DEMO_ACCOUNTS])
            return
        _fail("the database already holds members; the demo loads only into an empty one")
    summary = load_demo(db, entrepreneurs=entrepreneurs, mentors=mentors, seed=seed)
    db.commit()
    click.echo(
        f"demo loaded: {summary.entrepreneurs} entrepreneurs, {summary.mentors} mentors, {summary.rooms} rooms, "
        f"{summary.requests} earlier requests, {summary.active_matches} active mentorships"
    )
    _print_logins(summary.logins)


def _print_logins(logins) -> None:
    click.echo("demo logins (role, e-mail, password):")
    for role, email, password in logins:
        click.echo(f"  {role:<13} {email:<32} {password}")


@retention_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="count what would go, delete nothing")
def retention_purge(dry_run: bool) -> None:
    """Delete ended logins and old notifications, clear old login throttles, anonymise unused accounts."""
    from flask import current_app

    from webapp.auth import session_policy
    from webapp.services.retention import RetentionPolicy, purge_expired

    try:
        policy = RetentionPolicy.from_config(current_app.config)
    except ValueError as exc:
        _fail(str(exc), 2)
    db = get_db()
    try:
        result = purge_expired(db, policy, session_policy())
    except BaseException:
        db.rollback()
        raise
    if dry_run:
        db.rollback()
    else:
        db.commit()
    prefix = "dry run (nothing deleted): " if dry_run else ""
    click.echo(
        f"{prefix}{result.user_sessions} ended login sessions older than {policy.sessions.days} days, "
        f"{result.notifications} notifications older than {policy.notifications.days} days, "
        f"{result.login_throttles} login throttles cleared, "
        + (
            f"{result.inactive_accounts} accounts unused for {policy.inactive_accounts.days} days anonymised"
            if policy.inactive_accounts
            else "inactive accounts kept (INACTIVE_ACCOUNT_RETENTION_DAYS=0)"
        )
    )


class JakartaTime(click.ParamType):
    """An ISO 8601 date or time; without an offset it is read as Jakarta time (WIB)."""

    name = "time"

    def convert(self, value, param, ctx):
        import datetime as dt
        from zoneinfo import ZoneInfo

        if isinstance(value, dt.datetime):
            return value
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            self.fail(
                f"{value!r} is not an ISO 8601 time such as 2026-12-01T08:00 or 2026-12-01T01:00Z", param, ctx
            )
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo("Asia/Jakarta"))
        return moment.astimezone(dt.UTC)


@privacy_cli.command("affected")
@click.option(
    "--since", type=JakartaTime(), required=True, help="start of the window (WIB unless an offset is given)"
)
@click.option("--until", type=JakartaTime(), required=True, help="end of the window, included")
@click.option(
    "--endpoint", help="only reads through this endpoint, e.g. staff_api.entrepreneurs or staff.export"
)
@click.option(
    "--signed-in", is_flag=True, help="also everyone whose login or API token was used in the window"
)
@click.option("--contacts", is_flag=True, help="print the notification contacts as CSV instead of the list")
def privacy_affected(since, until, endpoint: str | None, signed_in: bool, contacts: bool) -> None:
    """List the people whose records were read in a window (from the access audit), or their contacts."""
    from webapp.services import access_log

    if until < since:
        _fail("--until is before --since", 2)
    db = get_db()
    people = access_log.affected_people(db, since, until, endpoint=endpoint, signed_in=signed_in)
    db.rollback()
    if contacts:
        click.echo(access_log.contacts_csv(people), nl=False)
        return
    where = f" through {endpoint}" if endpoint else ""
    click.echo(f"{len(people)} people read{where} between {since.isoformat()} and {until.isoformat()} (UTC)")
    for p in people:
        contact = p.email or "no e-mail on file"
        click.echo(
            f"  {p.key:<18} {contact:<40} {p.language:<3} {p.reads:>4} read(s)  {', '.join(sorted(p.endpoints))}"
        )
    unreachable = sum(not p.reachable for p in people)
    if unreachable:
        click.echo(f"{unreachable} of them have no account e-mail (imported profiles or deleted accounts)")


@click.command("import")
@with_appcontext
@click.argument("kind", type=click.Choice(members_csv.KINDS))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_command(kind: str, file: Path) -> None:
    """Import entrepreneurs, mentors or rooms from a CSV file: all rows or none."""
    try:
        text = file.read_bytes().decode("utf-8")
    except OSError as exc:
        _fail(f"{file.name}: cannot be read: {exc.strerror}", 2)
    except UnicodeDecodeError:
        _fail(f"{file.name}: is not UTF-8 text", 2)
    db = get_db()
    try:
        counts = members_csv.import_csv(db, kind, text, file.name)
    except InvalidInput as exc:
        db.rollback()
        for error in exc.errors or [exc.message]:
            click.echo(f"error: {error}", err=True)
        click.echo(f"nothing imported: {len(exc.errors) or 1} problem(s) in {file.name}", err=True)
        sys.exit(2)
    db.commit()
    click.echo(
        f"imported {kind} from {file.name}: {counts['new']} new, {counts['updated']} updated, {counts['unchanged']} unchanged"
    )


@click.command("export")
@with_appcontext
@click.argument("kind", type=click.Choice(members_csv.KINDS))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def export_command(kind: str, file: Path) -> None:
    """Export entrepreneurs, mentors or rooms to a CSV file in the import format."""
    from matching.csvio import write_csv_atomic
    from webapp.services import access_log

    db = get_db()
    columns, rows = members_csv.export_rows(db, kind)
    rows = list(rows)
    write_csv_atomic(file, columns, rows)
    ids = access_log.all_ids(db, kind)
    people = (
        {"entrepreneurs": ids} if kind == "entrepreneurs" else {"mentors": ids} if kind == "mentors" else {}
    )
    access_log.record_read(db, actor_id=None, endpoint=access_log.CLI_EXPORT_ENDPOINT, **people)
    db.commit()
    click.echo(f"exported {len(rows)} {kind} to {file}")


def register(app: Flask) -> None:
    """Attach the command groups to the app."""
    app.cli.add_command(db_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(privacy_cli)
    app.cli.add_command(import_command)
    app.cli.add_command(export_command)
    from webapp.model_admin import model_cli

    app.cli.add_command(model_cli)
    from webapp.notify import notifications_cli

    app.cli.add_command(notifications_cli)
    from webapp.scheduler import scheduler_cli, sessions_cli

    app.cli.add_command(scheduler_cli)
    app.cli.add_command(sessions_cli)
