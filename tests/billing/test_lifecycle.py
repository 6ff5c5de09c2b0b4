"""The subscription lifecycle against localstripe, every state reached by its signed webhooks."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from billing import gateway
from billing.models import StripeEvent
from club import membership
from club.clock import utcnow
from club.extensions import db
from club.models import User
from tests.billing.conftest import stripe_settings, wait_for
from tests.conftest import make_user, read_outbox


@pytest.fixture
def app_config(app_config: dict, localstripe_url: str) -> dict:
    return {**app_config, **stripe_settings(localstripe_url)}


@pytest.fixture
def member(app, stripe_peer, live_server) -> User:
    """A confirmed account with a Stripe customer, webhooks flowing to the live app."""
    stripe_peer.send_webhooks_to(f"{live_server.url}/billing/webhook")
    user = make_user(handle="mia", display_name="Mia Member")
    customer = gateway.create_customer(
        user_id=user.id, email=user.email, name=user.display_name, idempotency_key="cus-mia"
    )
    membership.link_customer(user, customer["id"])
    db.session.commit()
    return user


def standing_of(user: User, now=None) -> membership.Standing:
    return membership.standing(db.session.get(User, user.id), now)


def subjects(outbox) -> list[str]:
    return [
        line
        for mail in read_outbox(outbox)
        for line in mail.splitlines()
        if line.startswith("Subject:")
    ]


def test_it_walks_a_member_through_paying_failing_ending_and_returning(member, stripe_peer, outbox):
    plan = stripe_peer.plan()
    customer = member.stripe_customer_id
    stripe_peer.use_card(customer, "pm_card_visa")

    first = stripe_peer.subscribe(customer, plan)
    wait_for(lambda: standing_of(member).can_interact, what="subscription.created")
    st = standing_of(member)
    assert st.badge and st.grant is membership.Grant.SUBSCRIPTION
    # created + invoice.payment_succeeded both arrive; one welcome.
    wait_for(lambda: len(subjects(outbox)) >= 1, what="welcome mail")

    stripe_peer.fail_next_invoice(customer, first["id"])
    # The subscription's status and the failed invoice's message arrive in separate
    # events, in either order: wait for both.
    wait_for(
        lambda: (
            db.session.get(User, member.id).subscription_status == "past_due"
            and db.session.get(User, member.id).last_payment_error
        ),
        what="invoice.payment_failed",
    )
    in_grace = standing_of(member)
    assert in_grace.can_interact and in_grace.in_grace
    after_grace = standing_of(member, in_grace.grace_ends_at + timedelta(seconds=1))
    assert after_grace.frozen and after_grace.reason is membership.Reason.PAYMENT_FAILED
    wait_for(
        lambda: "Subject: Your membership payment failed" in subjects(outbox),
        what="payment failed mail",
    )

    stripe_peer.delete(f"/v1/subscriptions/{first['id']}")
    wait_for(
        lambda: db.session.get(User, member.id).subscription_status == "canceled",
        what="customer.subscription.deleted",
    )
    ended = standing_of(member)
    assert ended.frozen and ended.reason is membership.Reason.SUBSCRIPTION_ENDED
    assert not ended.badge

    stripe_peer.use_card(customer, "pm_card_visa")
    second = stripe_peer.subscribe(customer, plan)
    wait_for(
        lambda: (
            db.session.get(User, member.id).subscription_id == second["id"]
            and standing_of(member).can_interact
        ),
        what="new subscription",
    )
    restored = standing_of(member)
    assert restored.badge and restored.reason is None
    assert db.session.get(User, member.id).last_payment_error is None
    # The mail is sent after the state it describes is committed (through the mail queue
    # when Redis is configured): wait for it rather than race it.
    # A returning member is welcomed back, not welcomed as new.
    again = "Subject: Welcome back to Billionaire Club"
    wait_for(lambda: again in subjects(outbox), what="welcome-back mail")
    assert subjects(outbox).count(again) == 1
    assert subjects(outbox).count("Subject: Welcome to Billionaire Club") == 1
    assert subjects(outbox).count("Subject: Your membership has ended") == 1


def handled(event_type: str) -> bool:
    """Tell whether a webhook of ``event_type`` arrived and its handler has run."""
    done = sa.select(StripeEvent.id).where(
        StripeEvent.type == event_type, StripeEvent.processed_at.is_not(None)
    )
    return db.session.scalar(done.limit(1)) is not None


def test_it_keeps_access_until_the_period_ends_after_a_cancellation(member, stripe_peer, runner):
    plan = stripe_peer.plan()
    stripe_peer.use_card(member.stripe_customer_id, "pm_card_visa")
    sub = stripe_peer.subscribe(member.stripe_customer_id, plan)
    wait_for(lambda: standing_of(member).can_interact, what="subscription.created")
    # The sign-up's last webhook re-reads the subscription: arriving after the change
    # below, it would record it before the reconciliation this test is about.
    wait_for(lambda: handled("invoice.payment_succeeded"), what="invoice.payment_succeeded")

    # localstripe emits no customer.subscription.updated: reconciliation picks it up,
    # as it would after a missed webhook.
    stripe_peer.post(f"/v1/subscriptions/{sub['id']}", {"cancel_at_period_end": "true"})
    result = runner.invoke(args=["billing", "sync", "--email", member.email])
    assert "cancel at period end False -> True" in result.output

    st = standing_of(member)
    assert st.can_interact and st.badge
    assert st.access_ends_at is not None and st.access_ends_at > utcnow() + timedelta(days=27)
    after = standing_of(member, st.access_ends_at + timedelta(seconds=1))
    assert after.frozen and after.reason is membership.Reason.SUBSCRIPTION_ENDED

    stripe_peer.delete(f"/v1/subscriptions/{sub['id']}")  # what Stripe does at period end
    wait_for(
        lambda: db.session.get(User, member.id).subscription_status == "canceled",
        what="customer.subscription.deleted",
    )
    assert standing_of(member).reason is membership.Reason.SUBSCRIPTION_ENDED
