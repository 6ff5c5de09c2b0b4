"""Reconciliation against localstripe, and the event-table housekeeping."""

from __future__ import annotations

from datetime import timedelta

import pytest

from billing import mapping, sync
from billing.models import StripeEvent
from club import membership
from club.clock import utcnow
from club.extensions import db
from club.models import User
from tests.billing.conftest import membership_items, reload, stripe_settings
from tests.conftest import make_user
from tests.worker.conftest import free_port


@pytest.fixture
def app_config(app_config: dict, localstripe_url: str) -> dict:
    return {**app_config, **stripe_settings(localstripe_url)}


def linked_member(peer, handle: str, plan: str) -> tuple[User, dict]:
    """An account whose database row says active, with a real subscription behind it."""
    user = make_user(handle=handle)
    customer = peer.customer(user.email)
    membership.link_customer(user, customer)
    subscription = peer.subscribe(customer, plan)
    mapping.apply_stripe_subscription(user, subscription, observed_at=utcnow())
    db.session.commit()
    return user, subscription


def test_it_repairs_a_missed_cancellation_and_prints_it(runner, stripe_peer):
    plan = stripe_peer.plan()
    user, sub = linked_member(stripe_peer, "missed", plan)
    stripe_peer.delete(f"/v1/subscriptions/{sub['id']}")  # the webhook never arrived

    result = runner.invoke(args=["billing", "sync"])

    assert result.exit_code == 0
    assert f"{user.email}: " in result.output and "status active -> canceled" in result.output
    assert membership.standing(reload(user)).reason is membership.Reason.SUBSCRIPTION_ENDED


def test_it_changes_nothing_on_a_second_pass(runner, stripe_peer):
    plan = stripe_peer.plan()
    linked_member(stripe_peer, "steady1", plan)
    linked_member(stripe_peer, "steady2", plan)
    runner.invoke(args=["billing", "sync"])

    result = runner.invoke(args=["billing", "sync"])

    assert "Everything matches Stripe (2 account(s) checked)." in result.output


def test_it_says_which_accounts_it_could_not_check_and_fails(app, runner, stripe_peer):
    user, _ = linked_member(stripe_peer, "unreachable", stripe_peer.plan())
    app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{free_port()}"  # Stripe down
    app.config["STRIPE_MAX_NETWORK_RETRIES"] = 0
    app.extensions.pop("stripe_client", None)

    result = runner.invoke(args=["billing", "sync"])

    assert result.exit_code == 1
    assert f"account {user.id}: not checked (APIConnectionError" in result.output
    assert "1 account(s) could not be checked against Stripe; 0 of the 0 checked" in result.output
    assert "Everything matches" not in result.output


def test_it_names_an_email_with_no_stripe_customer(runner, stripe_peer):
    result = runner.invoke(args=["billing", "sync", "--email", "nobody@example.com"])
    assert result.exit_code == 1
    assert "No account with the email 'nobody@example.com' has a Stripe customer." in result.output


def test_it_reconciles_only_the_account_asked_for(runner, stripe_peer):
    plan = stripe_peer.plan()
    asked, sub_a = linked_member(stripe_peer, "asked", plan)
    other, sub_b = linked_member(stripe_peer, "other", plan)
    for sub in (sub_a, sub_b):
        stripe_peer.delete(f"/v1/subscriptions/{sub['id']}")

    runner.invoke(args=["billing", "sync", "--email", asked.email.upper()])

    assert reload(asked).subscription_status == "canceled"
    assert reload(other).subscription_status == "active"


def test_it_sends_stripe_an_email_change_its_push_job_missed(runner, stripe_peer):
    """The push after an email change gives up after its retries; a Stripe outage then
    would leave receipts and dunning mails going to the old address for good."""
    user, sub = linked_member(stripe_peer, "moved", stripe_peer.plan())
    user.email = "moved.new@example.com"  # changed while Stripe was down
    db.session.commit()

    result = runner.invoke(args=["billing", "sync"])

    assert result.exit_code == 0, result.output
    assert "moved.new@example.com: Stripe customer's email updated" in result.output
    customer = stripe_peer.get(f"/v1/customers/{sub['customer']}")
    assert customer["email"] == "moved.new@example.com"
    again = runner.invoke(args=["billing", "sync"])
    assert "Everything matches Stripe" in again.output


def test_a_customer_the_key_cannot_see_is_reported_not_ended(runner, stripe_peer, monkeypatch):
    """A test key on the live site: Stripe says "No such customer" for every member. The
    daily pass must leave them paid and say it could not check them."""
    user, _ = linked_member(stripe_peer, "elsewhere", stripe_peer.plan())
    membership.link_customer(user, "cus_onlyinlivemode")
    db.session.commit()

    result = runner.invoke(args=["billing", "sync"])

    assert "not checked" in result.output
    user = reload(user)
    assert user.stripe_customer_id == "cus_onlyinlivemode"
    assert membership.standing(user).can_interact


def test_it_ends_access_when_stripe_deleted_the_customer_unseen(runner, stripe_peer):
    """customer.deleted was lost: the daily pass must end paid access, not skip the
    account as unchecked every day."""
    user, sub = linked_member(stripe_peer, "gone", stripe_peer.plan())
    stripe_peer.delete(f"/v1/customers/{sub['customer']}")

    result = runner.invoke(args=["billing", "sync"])

    assert result.exit_code == 0, result.output
    assert "Stripe deleted the customer; membership ended, customer unlinked" in result.output
    user = reload(user)
    assert user.stripe_customer_id is None and user.subscription_status == "canceled"
    assert (
        "Everything matches Stripe (0 account(s)" in runner.invoke(args=["billing", "sync"]).output
    )


def test_it_prefers_a_running_subscription_over_an_ended_one(app):
    ended = {"id": "sub_old", "status": "canceled", "created": 200, "items": membership_items()}
    running = {"id": "sub_new", "status": "active", "created": 100, "items": membership_items()}

    assert mapping.current_subscription([ended, running]) is running


def _event(event_id: str, *, processed: bool, age: timedelta) -> StripeEvent:
    row = StripeEvent(
        event_id=event_id,
        type="invoice.paid",
        created=utcnow() - age,
        payload="{}",
        received_at=utcnow() - age,
        processed_at=utcnow() if processed else None,
    )
    db.session.add(row)
    return row


def test_it_prunes_only_old_processed_events(app):
    _event("evt_old_done", processed=True, age=timedelta(days=40))
    _event("evt_old_pending", processed=False, age=timedelta(days=40))
    _event("evt_new_done", processed=True, age=timedelta(days=1))
    db.session.commit()

    assert sync.prune_events(timedelta(days=30)) == 1
    left = set(db.session.scalars(db.select(StripeEvent.event_id)))
    assert left == {"evt_old_pending", "evt_new_done"}


def test_it_lists_events_left_unprocessed_for_the_sweeper(app):
    stuck = _event("evt_stuck", processed=False, age=timedelta(minutes=10))
    _event("evt_just_in", processed=False, age=timedelta(seconds=5))
    _event("evt_done", processed=True, age=timedelta(minutes=10))
    db.session.commit()

    assert sync.unprocessed_event_ids(timedelta(minutes=5)) == [stuck.id]
