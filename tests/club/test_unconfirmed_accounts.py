"""Accounts whose address is never confirmed are deleted, freeing their handles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from club import accounts, membership
from club.clock import utcnow
from club.extensions import db
from club.models import AuditEntry, User
from tests.club.conftest import messages_to
from tests.conftest import PASSWORD, login, make_user
from worker import jobs


def signed_up(days_ago: float, **kwargs) -> User:
    """An account created ``days_ago`` days ago, unconfirmed unless told otherwise."""
    kwargs.setdefault("confirmed", False)
    user = make_user(**kwargs)
    user.created_at = utcnow() - timedelta(days=days_ago)
    db.session.commit()
    return user


def handles() -> set[str]:
    return set(db.session.scalars(sa.select(User.handle)))


def test_it_deletes_an_account_left_unconfirmed_for_14_days(app):
    signed_up(15, handle="squatter")
    signed_up(13, handle="still_waiting")
    signed_up(40, handle="confirmed_long_ago", confirmed=True)

    pruned = jobs.prune()

    assert pruned["unconfirmed_accounts"] == 1
    assert handles() == {"still_waiting", "confirmed_long_ago"}
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.delete"))
    assert entry.detail == "its email address was not confirmed within 14 days"


def test_it_keeps_unconfirmed_accounts_an_operator_or_stripe_knows(app):
    signed_up(30, handle="an_admin", admin=True)
    signed_up(30, handle="on_the_house", complimentary=True)
    customer = signed_up(30, handle="has_a_customer")
    customer.stripe_customer_id = "cus_kept"
    db.session.commit()

    jobs.prune()

    assert handles() == {"an_admin", "on_the_house", "has_a_customer"}


def test_the_freed_handle_can_be_signed_up_for_again(client):
    signed_up(15, handle="grace", email="someone@example.com")
    jobs.prune()

    response = client.submit(
        "/signup",
        {
            "email": "grace@example.com",
            "display_name": "Grace Hopper",
            "handle": "grace",
            "password": PASSWORD,
        },
    )

    assert response.status_code == 303
    assert db.session.scalar(sa.select(User.email).where(User.handle == "grace")) == (
        "grace@example.com"
    )


def test_a_moderator_freeze_outlives_the_deleted_unconfirmed_account(client, app):
    admin = make_user(admin=True)
    spammer = signed_up(15, handle="spammer", email="spam@example.com")
    membership.freeze(spammer, by=admin, reason="spam in the bio")
    db.session.commit()
    jobs.prune()

    client.submit(
        "/signup",
        {
            "email": "spam@example.com",
            "display_name": "Spam Again",
            "handle": "spammer2",
            "password": PASSWORD,
        },
    )

    again = db.session.scalar(sa.select(User).where(User.handle == "spammer2"))
    assert again.frozen_reason == "spam in the bio"


def test_the_settings_page_and_the_mail_say_when_an_unconfirmed_account_goes(client, outbox):
    user = signed_up(2, handle="newbie", email="newbie@example.com")
    login(client, user)
    removal = (user.created_at + timedelta(days=14)).strftime("%d %B %Y")

    page = client.get("/settings").get_data(as_text=True)
    client.submit("/settings/confirmation")

    assert f"not confirmed by <strong>{removal}</strong> is deleted" in page
    (mail,) = messages_to(outbox, "newbie@example.com")
    assert f"not confirmed by the end of {removal} (UTC) is deleted" in mail


def test_the_purge_keeps_an_account_until_the_day_its_mail_names_is_over(app, outbox):
    user = signed_up(0, handle="newbie", email="newbie@example.com")
    user.created_at = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    db.session.commit()
    accounts.send_confirmation(user)
    (mail,) = messages_to(outbox, "newbie@example.com")
    assert "not confirmed by the end of 15 January 2026 (UTC) is deleted" in mail

    accounts.purge_unconfirmed(now=datetime(2026, 1, 15, 23, 59, tzinfo=UTC))
    assert accounts.find_by_handle("newbie") is not None  # the whole named day is theirs
    accounts.purge_unconfirmed(now=datetime(2026, 1, 16, 0, 7, tzinfo=UTC))
    assert accounts.find_by_handle("newbie") is None


def test_the_purge_spares_an_account_confirmed_while_it_runs(app, monkeypatch):
    signed_up(20, handle="first_squatter")
    confirms_now = signed_up(20, handle="confirms_now").id
    original = accounts.delete_account

    def delete_account(user, **kwargs):
        if user.handle == "first_squatter":
            # The member opens the confirmation link in another request meanwhile.
            with db.engine.begin() as other:
                other.execute(
                    sa.update(User)
                    .where(User.id == confirms_now)
                    .values(email_confirmed_at=utcnow())
                )
        return original(user, **kwargs)

    monkeypatch.setattr(accounts, "delete_account", delete_account)
    assert accounts.purge_unconfirmed() == 1
    db.session.commit()

    assert handles() == {"confirms_now"}
