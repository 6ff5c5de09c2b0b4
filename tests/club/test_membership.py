"""The membership policy, rule by rule (issue #2, point 5; DESIGN.md's standing table)."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_login import AnonymousUserMixin

from club import membership
from club.extensions import db
from club.membership import FROZEN_MESSAGE, FROZEN_TITLE, Grant, Reason, standing
from club.models import AuditEntry, User

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def account(**fields) -> User:
    """An unsaved account: confirmed, not admin, never subscribed unless told otherwise."""
    fields.setdefault("email_confirmed_at", NOW - timedelta(days=30))
    fields.setdefault("is_admin", False)
    fields.setdefault("complimentary", False)
    fields.setdefault("subscription_cancel_at_period_end", False)
    return User(id=1, email="m@example.com", handle="m", display_name="M", **fields)


def paying(status: str = "active", **fields) -> User:
    fields.setdefault("subscription_period_end", NOW + timedelta(days=20))
    fields.setdefault("subscription_updated_at", NOW - timedelta(days=10))
    return account(subscription_status=status, **fields)


def frozen_by_moderator(user: User, until: datetime | None = None) -> User:
    user.frozen_at = NOW - timedelta(days=1)
    user.frozen_reason = "Spam in comments"
    user.frozen_until = until
    return user


# --- Visitors ---------------------------------------------------------------------------


@pytest.mark.parametrize("visitor", [None, AnonymousUserMixin()])
def test_it_lets_visitors_read_but_not_interact(app, visitor):
    st = standing(visitor, NOW)
    assert (st.can_interact, st.badge, st.reason, st.frozen) == (
        False,
        False,
        Reason.NOT_SIGNED_IN,
        False,
    )
    assert st.title is None and st.message is None


# --- Confirmation and subscription ------------------------------------------------------


def test_it_keeps_an_unconfirmed_account_read_only_even_if_it_pays(app):
    st = standing(paying(email_confirmed_at=None), NOW)
    assert (st.can_interact, st.badge, st.reason) == (False, False, Reason.EMAIL_NOT_CONFIRMED)


def test_it_keeps_a_never_subscribed_account_read_only(app):
    st = standing(account(), NOW)
    assert (st.can_interact, st.badge, st.reason) == (False, False, Reason.NOT_SUBSCRIBED)


def test_it_keeps_a_member_read_only_while_the_first_payment_is_pending(app):
    st = standing(paying("incomplete"), NOW)
    assert (st.can_interact, st.badge, st.reason) == (False, False, Reason.FIRST_PAYMENT_PENDING)


@pytest.mark.parametrize("status", ["active", "trialing"])
def test_it_lets_a_paying_member_interact_with_the_badge(app, status):
    st = standing(paying(status), NOW)
    assert (st.can_interact, st.badge, st.grant, st.reason) == (
        True,
        True,
        Grant.SUBSCRIPTION,
        None,
    )
    assert not st.frozen and st.title is None


def test_it_keeps_a_cancelled_membership_until_its_period_ends(app):
    user = paying(subscription_cancel_at_period_end=True, subscription_period_end=NOW + SECOND)
    st = standing(user, NOW)
    assert (st.can_interact, st.badge, st.access_ends_at) == (True, True, NOW + SECOND)


def test_it_ends_a_cancelled_membership_at_the_end_of_its_period(app):
    user = paying(subscription_cancel_at_period_end=True, subscription_period_end=NOW)
    st = standing(user, NOW)
    assert (st.can_interact, st.badge, st.reason) == (False, False, Reason.SUBSCRIPTION_ENDED)


def test_it_ignores_the_period_end_of_a_subscription_that_renews(app):
    user = paying(subscription_period_end=NOW - timedelta(days=2))
    assert standing(user, NOW).can_interact


# --- Grace period -----------------------------------------------------------------------


def past_due(since: datetime) -> User:
    return paying("past_due", past_due_since=since)


def test_it_keeps_a_past_due_member_inside_the_grace_period(app):
    since = NOW - timedelta(days=3) + SECOND
    st = standing(past_due(since), NOW)
    assert (st.can_interact, st.badge, st.in_grace) == (True, True, True)
    assert st.grace_ends_at == since + timedelta(days=3)


def test_it_freezes_a_past_due_member_when_the_grace_period_ends(app):
    st = standing(past_due(NOW - timedelta(days=3)), NOW)
    assert (st.can_interact, st.badge, st.reason) == (False, False, Reason.PAYMENT_FAILED)
    assert st.grace_ends_at is None


def test_it_reads_the_grace_period_from_configuration(app):
    app.config["BILLING_GRACE_DAYS"] = 0
    st = standing(past_due(NOW - SECOND), NOW)
    assert st.reason is Reason.PAYMENT_FAILED


def test_it_falls_back_to_the_last_update_when_the_past_due_start_is_missing(app):
    user = paying("past_due", past_due_since=None, subscription_updated_at=NOW - timedelta(days=1))
    assert standing(user, NOW).grace_ends_at == NOW + timedelta(days=2)


def test_it_fails_closed_when_a_past_due_account_has_no_start_at_all(app):
    user = paying("past_due", past_due_since=None, subscription_updated_at=None)
    assert standing(user, NOW).reason is Reason.PAYMENT_FAILED


@pytest.mark.parametrize("status", ["unpaid", "incomplete_expired", "paused"])
def test_it_freezes_an_account_whose_payment_failed(app, status):
    st = standing(paying(status), NOW)
    assert (st.can_interact, st.badge, st.reason) == (False, False, Reason.PAYMENT_FAILED)


@pytest.mark.parametrize(
    ("status", "advice"),
    [
        ("incomplete_expired", "never started. Subscribe again in settings."),
        ("unpaid", "Update your payment method under Manage subscription in settings."),
    ],
)
def test_it_tells_a_failed_payment_what_it_can_do(app, status, advice):
    action = standing(paying(status), NOW).action
    assert action.endswith(advice)
    # A first payment that failed left no card on a running subscription to update.
    assert ("payment method" in action) is (status != "incomplete_expired")


def test_it_freezes_a_canceled_subscription(app):
    assert standing(paying("canceled"), NOW).reason is Reason.SUBSCRIPTION_ENDED


def test_it_fails_closed_on_a_status_it_does_not_know(app, caplog):
    with caplog.at_level(logging.WARNING, logger="club.membership"):
        st = standing(paying("some_future_status"), NOW)
    assert (st.can_interact, st.reason) == (False, Reason.PAYMENT_FAILED)
    assert "unknown subscription status" in caplog.text


# --- Moderator freeze -------------------------------------------------------------------


def test_it_freezes_a_paying_member_a_moderator_froze(app):
    st = standing(frozen_by_moderator(paying()), NOW)
    assert (st.can_interact, st.badge, st.reason) == (False, False, Reason.FROZEN_BY_MODERATOR)
    assert st.moderator_reason == "Spam in comments"
    assert st.frozen_since == NOW - timedelta(days=1)
    assert "Spam in comments" in st.action


@pytest.mark.parametrize(
    ("reason", "said"),
    [("Spam in comments", "Spam in comments. You"), ("Selling cures.", "Selling cures. You"),
     ("Why would you?", "Why would you? You")],
)  # fmt: skip
def test_it_tells_a_frozen_member_why_in_one_sentence_each(app, reason, said):
    user = frozen_by_moderator(paying(), until=datetime(2026, 12, 10, tzinfo=UTC))
    user.frozen_reason = reason
    action = standing(user, NOW).action.replace(ISOLATE, "").replace(END_ISOLATE, "")
    assert f"froze your account until 10 December 2026, 00:00 UTC: {said} can appeal" in action


ISOLATE, END_ISOLATE = "\u2068", "\u2069"


@pytest.mark.parametrize(
    "saved",
    ["\u202eStop posting links", "Stop posting\u2069\u202e links", "Stop posting links\u2066"],
)
def test_a_reason_saved_with_direction_controls_cannot_turn_the_sites_own_words(app, saved):
    """Saved before they were refused: they are left out, and the reason is isolated."""
    user = frozen_by_moderator(paying())
    user.frozen_reason = saved
    action = standing(user, NOW).action
    assert f": {ISOLATE}Stop posting links.{END_ISOLATE} You can appeal in settings." in action


def test_it_freezes_a_complimentary_member_a_moderator_froze(app):
    st = standing(frozen_by_moderator(account(complimentary=True)), NOW)
    assert st.reason is Reason.FROZEN_BY_MODERATOR


def test_it_keeps_a_dated_freeze_until_its_end(app):
    user = frozen_by_moderator(paying(), until=NOW + SECOND)
    st = standing(user, NOW)
    assert (st.reason, st.frozen_until) == (Reason.FROZEN_BY_MODERATOR, NOW + SECOND)
    assert "until 10 March 2026" in st.action


def test_it_says_an_undated_freeze_has_no_end_date(app):
    # Without it, "A moderator froze your account" leaves the member guessing for how long.
    st = standing(frozen_by_moderator(paying()), NOW)
    assert st.action.startswith("A moderator froze your account with no end date: ")


def test_it_ignores_a_freeze_whose_end_date_has_passed(app):
    user = frozen_by_moderator(paying(), until=NOW)
    st = standing(user, NOW)
    assert (st.can_interact, st.badge) == (True, True)


def test_it_falls_back_to_billing_when_a_freeze_ends(app):
    user = frozen_by_moderator(paying("canceled"), until=NOW - SECOND)
    assert standing(user, NOW).reason is Reason.SUBSCRIPTION_ENDED


# --- Grants -----------------------------------------------------------------------------


def test_it_lets_a_complimentary_member_interact_with_the_badge(app):
    st = standing(account(complimentary=True), NOW)
    assert (st.can_interact, st.badge, st.grant) == (True, True, Grant.COMPLIMENTARY)


def test_it_lets_a_complimentary_member_interact_before_confirming(app):
    assert standing(account(complimentary=True, email_confirmed_at=None), NOW).can_interact


def test_it_lets_an_admin_interact_without_paying_and_without_the_badge(app):
    st = standing(account(is_admin=True), NOW)
    assert (st.can_interact, st.badge, st.grant) == (True, False, Grant.ADMIN)


def test_it_gives_a_paying_admin_the_badge(app):
    assert standing(paying(is_admin=True), NOW).badge


def test_it_gives_a_complimentary_admin_the_badge(app):
    st = standing(account(is_admin=True, complimentary=True), NOW)
    assert (st.badge, st.grant) == (True, Grant.COMPLIMENTARY)


# --- The value and its words ------------------------------------------------------------


def test_it_returns_an_immutable_standing(app):
    st = standing(account(), NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        st.can_interact = True  # type: ignore[misc]


@pytest.mark.parametrize(
    "user",
    [
        paying("past_due", past_due_since=NOW - timedelta(days=10)),
        paying("canceled"),
        frozen_by_moderator(paying()),
    ],
    ids=["payment failed", "subscription ended", "moderator"],
)
def test_it_titles_a_frozen_account_account_frozen(app, user):
    st = standing(user, NOW)
    assert (st.frozen, st.title, st.message) == (True, FROZEN_TITLE, FROZEN_MESSAGE)
    assert FROZEN_MESSAGE == (
        "Your account is frozen. You can still view content but cannot interact with it. "
        "Please go to your settings to update your account status."
    )


def test_it_tells_an_unconfirmed_account_it_is_frozen_and_to_confirm(app):
    st = standing(account(email_confirmed_at=None), NOW)
    assert (st.title, st.message) == (FROZEN_TITLE, FROZEN_MESSAGE)
    assert "confirm your email" in st.action.lower()


def test_it_tells_a_never_subscribed_account_it_is_frozen_and_to_subscribe(app):
    st = standing(account(), NOW)
    assert (st.title, st.message) == (FROZEN_TITLE, FROZEN_MESSAGE)
    assert "subscribe" in st.action.lower()


# --- Other questions --------------------------------------------------------------------


def test_it_lets_only_admins_administer(app):
    assert membership.can_administer(account(is_admin=True))
    assert not membership.can_administer(paying())
    assert not membership.can_administer(AnonymousUserMixin())


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        (paying(), True),
        (paying("canceled"), True),
        (account(email_confirmed_at=None), True),
        (frozen_by_moderator(paying()), False),
        (frozen_by_moderator(paying(), until=NOW), True),
        (AnonymousUserMixin(), False),
    ],
    ids=["paying", "billing frozen", "unconfirmed", "moderator frozen", "freeze over", "visitor"],
)
def test_it_closes_profile_editing_only_under_a_moderator_freeze(app, user, allowed):
    assert membership.can_edit_profile(user, now=NOW) is allowed


@pytest.mark.parametrize(
    ("user", "allowed"),
    [
        (paying(), True),
        (paying("canceled"), True),
        (account(email_confirmed_at=None), True),
        (frozen_by_moderator(paying()), True),
        (account(is_admin=True), True),
        (AnonymousUserMixin(), False),
    ],
    ids=["paying", "billing frozen", "unconfirmed", "moderator frozen", "admin", "visitor"],
)
def test_it_lets_every_leaving_account_take_its_comments_along(app, user, allowed):
    # Unlike profile editing, a moderator's freeze does not close this: leaving is not
    # taking part, and a comment waiting for a moderator stays whatever the answer.
    assert membership.can_delete_own_comments_when_leaving(user) is allowed


# --- Writers ----------------------------------------------------------------------------


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def test_it_records_a_freeze_with_its_reason_and_end(app, alice, carol):
    until = datetime.now(UTC) + timedelta(days=7)
    membership.freeze(alice, by=carol, reason="  Harassment  ", until=until)
    db.session.commit()
    assert (alice.frozen_reason, alice.frozen_until, alice.frozen_by_id) == (
        "Harassment",
        until,
        carol.id,
    )
    entry = db.session.scalar(sa.select(AuditEntry))
    assert (entry.action, entry.actor_id, entry.target_id) == (
        "user.freeze",
        carol.id,
        str(alice.id),
    )
    assert "Harassment" in entry.detail


@pytest.mark.parametrize(
    ("reason", "until", "message"),
    [
        ("   ", None, "needs a reason"),
        ("Spam", datetime(2000, 1, 1, tzinfo=UTC), "in the future"),
    ],
)
def test_it_refuses_a_freeze_without_reason_or_with_a_past_end(
    app, alice, carol, reason, until, message
):
    with pytest.raises(ValueError, match=message):
        membership.freeze(alice, by=carol, reason=reason, until=until)
    assert alice.frozen_at is None and audit_actions() == []


def test_it_refuses_to_freeze_an_admin(app, carol):
    with pytest.raises(ValueError, match="admin"):
        membership.freeze(carol, by=None, reason="Nope")


def test_it_records_an_unfreeze(app, frank, carol):
    membership.unfreeze(frank, by=carol)
    db.session.commit()
    assert frank.frozen_at is None and frank.frozen_reason is None
    assert audit_actions()[-1] == "user.unfreeze"
    assert standing(frank).can_interact


def test_it_records_complimentary_and_admin_changes(app, erin, carol):
    membership.set_complimentary(erin, True, by=carol)
    membership.set_complimentary(erin, False, by=carol)
    membership.set_admin(erin, True, by=carol)
    assert audit_actions() == ["user.comp_grant", "user.comp_revoke", "user.admin_grant"]


def apply(user: User, status: str, observed_at: datetime, **kw):
    return membership.apply_subscription(
        user,
        subscription_id=kw.pop("subscription_id", "sub_1"),
        status=status,
        period_end=observed_at + timedelta(days=30),
        observed_at=observed_at,
        **kw,
    )


def test_it_starts_the_grace_period_when_a_payment_first_fails(app, erin):
    first = datetime.now(UTC) - timedelta(hours=5)
    apply(erin, "active", first - timedelta(days=1))
    apply(erin, "past_due", first)
    apply(erin, "past_due", first + timedelta(hours=1))
    assert erin.past_due_since == first


def test_it_clears_the_payment_problem_when_a_payment_succeeds(app, erin):
    t = datetime.now(UTC) - timedelta(hours=2)
    apply(erin, "past_due", t, payment_error="Card declined")
    assert erin.last_payment_error == "Card declined"
    apply(erin, "active", t + timedelta(hours=1))
    assert (erin.past_due_since, erin.last_payment_error) == (None, None)


def test_it_ignores_an_older_observation_than_the_one_stored(app, erin):
    t = datetime.now(UTC) - timedelta(hours=2)
    apply(erin, "active", t)
    change = apply(erin, "canceled", t - timedelta(minutes=1))
    assert not change.applied and erin.subscription_status == "active"


def test_it_never_lets_an_old_subscription_end_a_newer_live_one(app, erin):
    t = datetime.now(UTC) - timedelta(hours=2)
    apply(erin, "active", t, subscription_id="sub_new")
    change = apply(erin, "canceled", t + timedelta(minutes=1), subscription_id="sub_old")
    assert not change.applied and erin.subscription_status == "active"


def test_it_reports_the_end_of_a_subscription_whose_paid_period_was_over(app, erin):
    # Cancelled at the period's end: read-only from that moment, "deleted" comes after.
    t = datetime.now(UTC) - timedelta(days=31)
    membership.apply_subscription(
        erin, subscription_id="sub_1", status="active", period_end=t + timedelta(days=30),
        cancel_at_period_end=True, observed_at=t,
    )  # fmt: skip
    assert not membership.standing(erin).can_interact
    ending = apply(erin, "canceled", datetime.now(UTC) - timedelta(minutes=1))
    assert ending.ended
    assert not apply(erin, "canceled", datetime.now(UTC)).ended  # said once


def test_it_reports_when_a_change_starts_or_ends_interaction(app, erin):
    t = datetime.now(UTC) - timedelta(hours=2)
    assert apply(erin, "active", t).started
    assert apply(erin, "canceled", t + timedelta(minutes=1)).ended


def test_a_return_is_known_by_an_earlier_payment_not_by_the_status_before(app, erin):
    t = datetime.now(UTC) - timedelta(hours=2)
    first = apply(erin, "incomplete", t)
    assert not apply(erin, "active", t + timedelta(minutes=1)).rejoined  # new: never paid
    assert first.paid_before is False
    apply(erin, "canceled", t + timedelta(minutes=2))
    apply(erin, "incomplete", t + timedelta(minutes=3), subscription_id="sub_2")
    back = apply(erin, "active", t + timedelta(minutes=4), subscription_id="sub_2")
    assert back.started and back.rejoined
