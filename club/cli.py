"""Command-line tools: ``flask --app club users ...`` and ``flask --app club demo ...``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import click
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from club import accounts, membership, moderation, signals
from club.clock import utcnow
from club.extensions import db
from club.forms import (
    PASSWORD_MIN,
    FreezeForm,
    display_name_field,
    start_of_day,
)
from club.models import User
from club.passwords import check_password_strength


class SiteGroup(AppGroup):
    """A command group whose database failures end in one line, not a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (sa.exc.OperationalError, sa.exc.ProgrammingError) as error:
            raise click.ClickException(database_problem(error)) from None


def database_problem(error: sa.exc.DBAPIError) -> str:
    """Say in one line what is wrong with the database, and what to do about it."""
    text = str(error.orig or error).strip()
    if "no such table" in text or ("relation" in text and "does not exist" in text):
        return "The database has no tables yet: run `flask --app club db upgrade`."
    return f"Cannot use the database: {text.splitlines()[0] if text else type(error).__name__}"


users = SiteGroup("users", help="Create, freeze and unfreeze accounts.")
demo = SiteGroup("demo", help="Demo data for local development.")

DEMO_PASSWORD = "demo-password"  # noqa: S105 - documented local-only demo credential


def find_user_or_fail(email: str) -> User:
    user = accounts.find_by_email(email)
    if user is None:
        raise click.ClickException(f"No account has the email {email!r}.")
    return user


def free_handle(email: str) -> str:
    """Return an unused handle derived from the address's local part."""
    base = re.sub(r"[^a-z0-9_]", "_", email.split("@", 1)[0].lower())[:24].strip("_") or "member"
    base = base if len(base) >= 3 else f"{base}_member"
    handle, n = base, 1
    while accounts.find_by_handle(handle) is not None:
        n += 1
        handle = f"{base}{n}"
    return handle


class _DisplayNameForm(FlaskForm):
    display_name = display_name_field()


def form_problem(form_class: type[FlaskForm], **values: str) -> str | None:
    """Check ``values`` with the web form that takes them; the first problem, or None.

    The command line makes the same checks as the site, from the same rules.
    """
    form = form_class(formdata=MultiDict(values), meta={"csrf": False})
    if form.validate():
        return None
    return next(error for errors in form.errors.values() for error in errors)


def parse_until(value: str | None) -> datetime | None:
    """Parse ``--until`` as a date (frozen until midnight UTC) or an ISO date-time."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            "use YYYY-MM-DD or an ISO date-time", param_hint="--until"
        ) from None
    if len(value) == 10:
        return start_of_day(parsed.date())
    try:
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00 is past the last date there is
        raise click.BadParameter("that date is out of range", param_hint="--until") from None


def create_account(
    email: str, password: str, *, admin: bool = False, name: str | None = None
) -> User:
    """Add a confirmed account (operators vouch for the address); the caller commits."""
    handle = free_handle(email)
    user = User(
        email=accounts.normalise_email(email),
        handle=handle,
        display_name=name or handle.replace("_", " ").title(),
        email_confirmed_at=utcnow(),
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    if admin:
        membership.set_admin(user, True, by=None)
    return user


@users.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Give the account the admin role.")
@click.option("--name", help="Display name (default: from the email).")
@click.password_option(help="Password (prompted for when not given).")
def create_user(email: str, admin: bool, name: str | None, password: str) -> None:
    """Create a confirmed account."""
    # The checks sign-up makes: an operator's typo or "password123" is no better here.
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise click.BadParameter(f"not an email address ({error})", param_hint="EMAIL") from None
    if len(email) > 254:
        raise click.BadParameter("an email address has at most 254 characters", param_hint="EMAIL")
    if accounts.find_by_email(email) is not None:
        raise click.ClickException(f"An account with the email {email!r} already exists.")
    if len(password) < PASSWORD_MIN:
        raise click.BadParameter(f"use at least {PASSWORD_MIN} characters", param_hint="--password")
    weak = check_password_strength(password, email, email.split("@")[0])
    if weak:
        raise click.BadParameter(weak, param_hint="--password")
    problem = form_problem(_DisplayNameForm, display_name=name) if name is not None else None
    if problem:
        raise click.BadParameter(problem, param_hint="--name")
    user = create_account(email, password, admin=admin, name=name)
    db.session.commit()
    click.echo(f"Created {'admin ' if admin else ''}{user.email} (@{user.handle}).")


@users.command("admin")
@click.argument("email")
@click.option("--revoke", is_flag=True, help="Take the admin role away instead.")
def admin_role(email: str, revoke: bool) -> None:
    """Give an existing account the admin role (or take it away with --revoke)."""
    user = find_user_or_fail(email)
    if user.is_admin != revoke:
        state = "is not" if revoke else "is already"
        raise click.ClickException(f"{user.email} {state} an admin; nothing was changed.")
    if revoke and accounts.is_last_admin(user):
        raise click.ClickException(f"{user.email} is the only admin; make another one first.")
    if not revoke and membership.is_moderator_freeze_in_force(user, utcnow()):
        raise click.ClickException(f"{user.email} is frozen by a moderator; unfreeze it first.")
    membership.set_admin(user, not revoke, by=None)
    db.session.commit()
    click.echo(f"{user.email} is {'no longer' if revoke else 'now'} an admin.")


@users.command("freeze")
@click.argument("email")
@click.option("--reason", required=True, help="Why; the member sees this.")
@click.option("--until", "until", help="End date (YYYY-MM-DD, UTC); open-ended when omitted.")
def freeze_user(email: str, reason: str, until: str | None) -> None:
    """Freeze an account as a moderator."""
    problem = form_problem(FreezeForm, reason=reason)
    if problem:
        raise click.BadParameter(problem, param_hint="--reason")
    user = find_user_or_fail(email)
    try:
        membership.freeze(user, by=None, reason=reason, until=parse_until(until))
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    moderation.notify_frozen(user)
    address = user.email  # read before the commit releases the account
    db.session.commit()
    click.echo(f"Frozen {address}" + (f" until {until}." if until else "."))


@users.command("unfreeze")
@click.argument("email")
def unfreeze_user(email: str) -> None:
    """Lift a moderator's freeze."""
    user = find_user_or_fail(email)
    try:
        moderation.lift_freeze(user, by=None, note="from the command line")
    except ValueError:
        reason = membership.standing(user).reason
        now = f"it is read-only: {reason}" if reason else "it can interact"
        raise click.ClickException(
            f"{email} is not frozen by a moderator ({now}); nothing was changed."
        ) from None
    moderation.notify_unfrozen(user)
    address = user.email  # read before the commit releases the account
    db.session.commit()
    click.echo(f"Unfrozen {address}; emailed them.")


# --- Demo data ------------------------------------------------------------------------


def ensure_demo_account(email: str, name: str, *, admin: bool = False) -> tuple[User, bool]:
    """Return the demo account with ``email``, creating it if needed."""
    user = accounts.find_by_email(email)
    if user is not None:
        return user, False
    return create_account(email, DEMO_PASSWORD, admin=admin, name=name), True


def seed_demo_accounts() -> dict[str, User]:
    """Create the three demo accounts once; later runs leave them as they are."""
    admin, _ = ensure_demo_account("admin@example.com", "Demo Admin", admin=True)
    member, new_member = ensure_demo_account("member@example.com", "Demo Member")
    if new_member:
        membership.apply_subscription(
            member,
            subscription_id="sub_demo_member",
            status="active",
            period_end=utcnow() + timedelta(days=30),
        )
    frozen, new_frozen = ensure_demo_account("frozen@example.com", "Demo Frozen")
    if new_frozen:
        long_ago = utcnow() - timedelta(days=40)
        membership.apply_subscription(
            frozen,
            subscription_id="sub_demo_frozen",
            status="past_due",
            period_end=long_ago + timedelta(days=30),
            observed_at=long_ago,
            payment_error="Your card was declined.",
        )
    return {"admin": admin, "member": member, "frozen": frozen}


@demo.command("seed")
def seed() -> None:
    """Add demo accounts (and other packages' demo content); safe to run twice."""
    if current_app.config["PRODUCTION"]:
        raise click.ClickException("Refusing to add demo data when CLUB_ENV=production.")
    accounts_by_role = seed_demo_accounts()
    signals.announce_demo_seeding(accounts_by_role)
    db.session.commit()
    click.echo("Demo accounts (password for all: demo-password):")
    click.echo("  admin@example.com   admin")
    click.echo("  member@example.com  paying member with the verified badge")
    click.echo("  frozen@example.com  frozen: payment failed")
    click.secho(
        "These accounts are for local use only. Never run `demo seed` on a public site.",
        fg="yellow",
    )


def init_app(app: Flask) -> None:
    """Register club's command groups."""
    app.cli.add_command(users)
    app.cli.add_command(demo)
