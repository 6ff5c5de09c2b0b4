"""`flask users ...` and `flask demo seed` (#2 points 8 and 11)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from club import accounts, membership, signals
from club.extensions import db
from club.membership import Reason
from club.models import AuditEntry, User
from tests.club.conftest import messages_to
from tests.conftest import table_fingerprint
from tests.worker.conftest import free_port


def users_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


# --- users ------------------------------------------------------------------------------


def test_it_creates_an_admin_with_a_given_password(runner):
    result = runner.invoke(
        args=["users", "create", "Boss@Example.com", "--admin", "--password", "long enough pw"]
    )
    assert result.exit_code == 0, result.output
    user = accounts.find_by_email("boss@example.com")
    assert user.email == "boss@example.com" and user.is_admin and user.is_email_confirmed
    assert user.check_password("long enough pw")
    assert membership.can_administer(user)


def test_it_prompts_for_the_password_when_none_is_given(runner):
    result = runner.invoke(
        args=["users", "create", "member@example.com"], input="long enough pw\nlong enough pw\n"
    )
    assert result.exit_code == 0, result.output
    user = accounts.find_by_email("member@example.com")
    assert not user.is_admin and user.check_password("long enough pw")


def test_it_refuses_a_duplicate_email(runner, alice):
    result = runner.invoke(
        args=["users", "create", "ALICE@example.com", "--password", "long enough pw"]
    )
    assert result.exit_code != 0 and "already exists" in result.output
    assert users_count() == 1


def test_it_refuses_a_short_password(runner):
    result = runner.invoke(args=["users", "create", "x@example.com", "--password", "short"])
    assert result.exit_code != 0 and "at least 10" in result.output
    assert users_count() == 0


@pytest.mark.parametrize("email", ["x@", "@x", "a b@ex ample.com", "no-at-sign"])
def test_it_refuses_an_address_no_mail_can_reach(runner, email):
    result = runner.invoke(args=["users", "create", email, "--password", "long enough pw"])
    assert result.exit_code == 2 and "not an email address" in result.output
    assert users_count() == 0


def test_it_refuses_a_password_sign_up_would_refuse(runner):
    result = runner.invoke(args=["users", "create", "a3@example.com", "--password", "password123"])
    assert result.exit_code == 2 and "one of the first ones attackers try" in result.output
    assert users_count() == 0


def test_it_picks_a_free_handle(runner, alice):
    runner.invoke(args=["users", "create", "alice@other.example", "--password", "long enough pw"])
    assert accounts.find_by_email("alice@other.example").handle == "alice2"


def test_it_freezes_an_account_until_a_date(runner, alice):
    until = (datetime.now(UTC) + timedelta(days=10)).date()
    result = runner.invoke(
        args=[
            "users",
            "freeze",
            "alice@example.com",
            "--reason",
            "Spam",
            "--until",
            until.isoformat(),
        ]
    )
    assert result.exit_code == 0, result.output
    db.session.refresh(alice)
    assert membership.standing(alice).reason is Reason.FROZEN_BY_MODERATOR
    assert alice.frozen_until == datetime(until.year, until.month, until.day, tzinfo=UTC)
    entry = db.session.scalar(sa.select(AuditEntry))
    assert (entry.action, entry.actor_id) == ("user.freeze", None)


def test_it_emails_the_frozen_account_from_the_command_line_too(runner, alice, outbox):
    runner.invoke(args=["users", "freeze", "alice@example.com", "--reason", "Spam links"])
    (message,) = messages_to(outbox, "alice@example.com")
    assert "Spam links" in message


def test_it_freezes_an_account_indefinitely(runner, alice):
    runner.invoke(args=["users", "freeze", "alice@example.com", "--reason", "Spam"])
    db.session.refresh(alice)
    assert alice.frozen_at is not None and alice.frozen_until is None


def test_it_refuses_a_freeze_without_reason_or_with_a_bad_date(runner, alice):
    assert runner.invoke(args=["users", "freeze", "alice@example.com"]).exit_code != 0
    result = runner.invoke(
        args=["users", "freeze", "alice@example.com", "--reason", "Spam", "--until", "soon"]
    )
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output
    past = runner.invoke(
        args=["users", "freeze", "alice@example.com", "--reason", "Spam", "--until", "2001-01-01"]
    )
    assert past.exit_code != 0 and "future" in past.output
    db.session.refresh(alice)
    assert alice.frozen_at is None


def test_it_answers_an_overlong_reason_or_an_out_of_range_date_in_one_line(runner, alice):
    long_reason = runner.invoke(
        args=["users", "freeze", "alice@example.com", "--reason", "r" * 600]
    )
    out_of_range = runner.invoke(
        args=["users", "freeze", "alice@example.com", "--reason", "Spam",
              "--until", "9999-12-31T23:00-05:00"]
    )  # fmt: skip

    assert long_reason.exit_code == 2 and "Keep the reason under 500" in long_reason.output
    assert out_of_range.exit_code == 2 and "out of range" in out_of_range.output
    db.session.refresh(alice)
    assert alice.frozen_at is None


def test_it_creates_no_account_with_a_display_name_the_profile_form_refuses(runner):
    result = runner.invoke(
        args=["users", "create", "long@example.com", "--name", "N" * 80,
              "--password", "purple monkey dishwasher 9"]
    )  # fmt: skip
    assert result.exit_code == 2 and "Use 1 to 60 characters." in result.output
    assert accounts.find_by_email("long@example.com") is None


def test_it_unfreezes_an_account(runner, frank):
    result = runner.invoke(args=["users", "unfreeze", "FRANK@example.com"])
    assert result.exit_code == 0, result.output
    db.session.refresh(frank)
    assert membership.standing(frank).can_interact


def test_it_emails_the_account_it_unfreezes_from_the_command_line(runner, frank, outbox):
    runner.invoke(args=["users", "unfreeze", frank.email])
    (message,) = messages_to(outbox, frank.email)
    assert "Subject: Your account is no longer frozen" in message


def test_it_refuses_to_unfreeze_an_account_no_moderator_froze(runner, bob):
    before = table_fingerprint()
    result = runner.invoke(args=["users", "unfreeze", bob.email])
    assert result.exit_code == 1
    assert "is not frozen by a moderator (it is read-only: payment failed)" in result.output
    assert table_fingerprint() == before


def test_it_makes_an_existing_account_an_admin_and_back(runner, alice, carol):
    made = runner.invoke(args=["users", "admin", "ALICE@example.com"])
    assert made.exit_code == 0 and "alice@example.com is now an admin." in made.output
    db.session.refresh(alice)
    assert alice.is_admin
    again = runner.invoke(args=["users", "admin", "alice@example.com"])
    assert again.exit_code == 1 and "is already an admin; nothing was changed" in again.output
    revoked = runner.invoke(args=["users", "admin", "alice@example.com", "--revoke"])
    assert revoked.exit_code == 0 and "no longer an admin" in revoked.output
    db.session.refresh(alice)
    assert not alice.is_admin
    actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["user.admin_grant", "user.admin_revoke"]


def test_it_keeps_the_last_admin(runner, carol):
    before = table_fingerprint()
    result = runner.invoke(args=["users", "admin", carol.email, "--revoke"])
    assert result.exit_code == 1 and "is the only admin; make another one first" in result.output
    assert table_fingerprint() == before


def test_it_names_an_unknown_account(runner):
    result = runner.invoke(args=["users", "unfreeze", "ghost@example.com"])
    assert result.exit_code != 0 and "No account has the email 'ghost@example.com'" in result.output


# --- demo seed --------------------------------------------------------------------------


def demo_accounts() -> dict[str, User]:
    return {
        role: accounts.find_by_email(f"{role}@example.com")
        for role in ("admin", "member", "frozen")
    }


def test_it_seeds_the_three_demo_accounts(runner):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    found = demo_accounts()
    assert all(u.check_password("demo-password") for u in found.values())
    assert membership.can_administer(found["admin"])
    member = membership.standing(found["member"])
    assert member.can_interact and member.badge
    assert membership.standing(found["frozen"]).reason is Reason.PAYMENT_FAILED


def test_it_prints_the_demo_accounts_with_a_warning(runner):
    output = runner.invoke(args=["demo", "seed"]).output
    for email in ("admin@example.com", "member@example.com", "frozen@example.com", "demo-password"):
        assert email in output
    assert "local use only" in output


def test_it_is_safe_to_seed_twice(runner):
    runner.invoke(args=["demo", "seed"])
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0, second.output
    assert users_count() == 3


def test_it_refuses_to_seed_in_production(app, runner):
    app.config["PRODUCTION"] = True
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code != 0 and "production" in result.output
    assert users_count() == 0


def test_it_lets_other_packages_add_demo_content(app, runner):
    received = []

    def add_content(sender, accounts, **kwargs):
        received.append(sorted(accounts))
        accounts["member"].bio = "Seeded by another package."

    signals.demo_seeding.connect(add_content, app)
    try:
        runner.invoke(args=["demo", "seed"])
    finally:
        signals.demo_seeding.disconnect(add_content, app)
    assert received == [["admin", "frozen", "member"]]
    db.session.expire_all()
    assert demo_accounts()["member"].bio == "Seeded by another package."


# --- the database missing or unreachable --------------------------------------------------


def runner_on(app_config: dict, database_url: str):
    from club import create_app

    site = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": database_url})
    return site, site.test_cli_runner()


@pytest.mark.parametrize(
    "command",
    [["feeds", "list"], ["users", "create", "a@example.com", "--password", "long enough pw"],
     ["demo", "seed"], ["users", "unfreeze", "a@example.com"]],
)  # fmt: skip
def test_it_says_to_migrate_a_database_without_tables(app_config, tmp_path, command):
    site, runner = runner_on(app_config, f"sqlite:///{tmp_path}/empty.sqlite3")
    result = runner.invoke(args=command)
    assert result.exit_code == 1, result.output
    assert "The database has no tables yet: run `flask --app club db upgrade`." in result.output
    assert "Traceback" not in result.output
    with site.app_context():
        db.engine.dispose()


def test_it_says_in_one_line_that_the_database_cannot_be_reached(app_config):
    url = f"postgresql+psycopg://club@127.0.0.1:{free_port()}/club"
    _, runner = runner_on(app_config, url)
    result = runner.invoke(args=["feeds", "list"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: Cannot use the database: connection")
    assert len(result.output.strip().splitlines()) == 1
