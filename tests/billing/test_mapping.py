"""The mapping from Stripe's subscription object to standing, for every Stripe status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from billing import mapping, notices
from club import membership
from club.clock import utcnow
from club.extensions import db
from tests.conftest import make_user

Reason = membership.Reason


def subscription(status: str, *, days_left: int = 20, **extra) -> dict:
    end = int((utcnow() + timedelta(days=days_left)).timestamp())
    return {
        "id": "sub_map_1",
        "object": "subscription",
        "status": status,
        "current_period_end": end,
        "cancel_at_period_end": False,
        **extra,
    }


def applied(status: str, now=None, **extra) -> membership.Standing:
    user = make_user()
    mapping.apply_stripe_subscription(user, subscription(status, **extra), observed_at=utcnow())
    db.session.commit()
    return membership.standing(user, now)


@pytest.mark.parametrize(
    ("status", "can_interact", "badge", "reason"),
    [
        ("active", True, True, None),
        ("trialing", True, True, None),
        ("past_due", True, True, None),  # inside the grace period
        ("unpaid", False, False, Reason.PAYMENT_FAILED),
        ("incomplete_expired", False, False, Reason.PAYMENT_FAILED),
        ("paused", False, False, Reason.PAYMENT_FAILED),
        ("canceled", False, False, Reason.SUBSCRIPTION_ENDED),
        ("incomplete", False, False, Reason.FIRST_PAYMENT_PENDING),
        ("some_status_stripe_adds_later", False, False, Reason.PAYMENT_FAILED),
    ],
)
def test_it_maps_every_stripe_status(app, status, can_interact, badge, reason):
    st = applied(status)

    assert (st.can_interact, st.badge, st.reason) == (can_interact, badge, reason)


def test_it_warns_a_past_due_member_then_freezes_after_the_grace_period(app):
    st = applied("past_due")
    assert st.in_grace and st.grace_ends_at > utcnow()

    later = applied("past_due", now=st.grace_ends_at + timedelta(seconds=1))

    assert later.frozen and later.reason is Reason.PAYMENT_FAILED


def test_it_keeps_a_cancelled_subscription_until_its_period_ends(app):
    st = applied("active", cancel_at_period_end=True)
    assert st.can_interact and st.access_ends_at is not None

    after = applied(
        "active", now=st.access_ends_at + timedelta(seconds=1), cancel_at_period_end=True
    )

    assert after.frozen and after.reason is Reason.SUBSCRIPTION_ENDED


def test_it_reads_the_period_end_from_the_subscription_2017_shape():
    assert mapping.period_end({"current_period_end": 1_800_000_000}) == datetime.fromtimestamp(
        1_800_000_000, UTC
    )


def test_it_reads_the_period_end_from_the_items_current_shape():
    sub = {
        "items": {
            "data": [{"current_period_end": 1_800_000_000}, {"current_period_end": 1_800_000_500}]
        }
    }

    assert mapping.period_end(sub) == datetime.fromtimestamp(1_800_000_500, UTC)


def test_it_treats_cancel_at_as_the_end_of_access():
    sub = {
        "current_period_end": 1_800_000_000,
        "cancel_at": 1_799_000_000,
        "cancel_at_period_end": False,
    }

    assert mapping.access_end(sub) == (datetime.fromtimestamp(1_799_000_000, UTC), True)


def test_it_keeps_access_until_a_cancellation_date_past_the_period(app):
    # "Cancel on a date" three periods away: Stripe renews until then.
    period_ends = utcnow() + timedelta(days=20)
    cancel_at = int((utcnow() + timedelta(days=80)).timestamp())
    after_this_period = applied("active", now=period_ends + timedelta(days=1), cancel_at=cancel_at)
    assert after_this_period.can_interact
    assert after_this_period.access_ends_at == datetime.fromtimestamp(cancel_at, UTC)
    after_the_date = datetime.fromtimestamp(cancel_at, UTC) + timedelta(seconds=1)
    assert not applied("active", now=after_the_date, cancel_at=cancel_at).can_interact


def test_it_ignores_a_reading_older_than_the_one_it_holds(app):
    user = make_user()
    now = utcnow()
    mapping.apply_stripe_subscription(user, subscription("canceled"), observed_at=now)

    change = mapping.apply_stripe_subscription(
        user, subscription("active"), observed_at=now - timedelta(seconds=5)
    )

    assert not change.applied and user.subscription_status == "canceled"


def test_it_restores_access_at_once_when_a_frozen_member_pays(app):
    user = make_user()
    mapping.apply_stripe_subscription(user, subscription("unpaid"), observed_at=utcnow())
    assert membership.standing(user).frozen

    change = mapping.apply_stripe_subscription(user, subscription("active"), observed_at=utcnow())

    assert change.started and membership.standing(user).badge


def test_it_says_goodbye_when_a_period_end_cancellation_takes_effect(app):
    user = make_user()
    ended_at = utcnow() - timedelta(minutes=5)
    paid_until = int(ended_at.timestamp())
    cancelled = subscription("active", cancel_at_period_end=True, current_period_end=paid_until)
    mapping.apply_stripe_subscription(user, cancelled, observed_at=ended_at - timedelta(days=3))
    assert not membership.standing(user).can_interact  # the paid period is over

    deleted = {**cancelled, "status": "canceled"}
    change = mapping.apply_stripe_subscription(user, deleted, observed_at=utcnow())

    assert [mail.subject for mail in notices.for_change(user, change)] == [
        "Your membership has ended"
    ]
