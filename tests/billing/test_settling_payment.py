"""A first payment still settling, and what a late or failed payment says: no second
Checkout while Stripe may still bill the first, no late word of an old subscription's end
hiding a newer one, and no mail promising a moderator-frozen member that paying lifts
the freeze."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from club import membership
from club.clock import utcnow
from club.extensions import db
from tests.billing.conftest import make_event, membership_items, post_event, reload, stripe_settings
from tests.conftest import login, read_outbox


@pytest.fixture
def app_config(app_config: dict, recording_stripe) -> dict:
    return {**app_config, **stripe_settings(recording_stripe.url, STRIPE_TIMEOUT_SECONDS=1)}


def _sub(sub_id: str, status: str, *, age_days: int = 0) -> dict:
    now = int(time.time())
    return {
        "id": sub_id, "object": "subscription", "customer": "cus_erin", "status": status,
        "created": now - age_days * 86400 - 60, "cancel_at_period_end": False,
        "current_period_end": now + 30 * 86400 - age_days * 86400,
        "items": membership_items(),
    }  # fmt: skip


def _pending_first_payment(erin, status: str = "incomplete"):
    """Checkout completed with a bank debit: Stripe says 'incomplete' until it settles."""
    membership.link_customer(erin, "cus_erin")
    membership.apply_subscription(
        erin, subscription_id="sub_pending", status=status,
        period_end=utcnow() + timedelta(days=30), observed_at=utcnow() - timedelta(minutes=1),
    )  # fmt: skip
    db.session.commit()


@pytest.mark.parametrize("recorded", [True, False], ids=["recorded", "webhook-not-landed"])
def test_subscribe_from_another_tab_while_the_first_payment_is_pending_opens_no_second_checkout(
    client, erin, stripe_api, recorded
):
    # The site itself says "Subscribing again would pay twice" for this state.
    if recorded:
        _pending_first_payment(erin)
    else:
        membership.link_customer(erin, "cus_erin")
        db.session.commit()
    stripe_api.answer(
        "GET", "/v1/subscriptions", {"object": "list", "data": [_sub("sub_pending", "incomplete")]}
    )
    login(client, erin)

    answer = client.submit("/billing/checkout", {"attempt": "other-tab-0001"})

    assert stripe_api.calls("POST", "/v1/checkout/sessions") == []
    assert answer.status_code == 303 and answer.location.endswith("/settings#billing")
    page = client.get("/settings").get_data(as_text=True)
    assert "Your first payment is still being processed, so there is no need" in page
    assert reload(erin).subscription_status == "incomplete"


@pytest.mark.parametrize("status", ["incomplete", "unpaid"])
def test_a_late_event_about_an_ended_subscription_does_not_hide_the_pending_new_one(
    client, erin, stripe_api, status
):
    _pending_first_payment(erin, status)
    old = _sub("sub_old", "canceled", age_days=60)
    pending = _sub("sub_pending", status)
    stripe_api.answer("GET", "/v1/subscriptions/sub_old", old)
    stripe_api.answer("GET", "/v1/subscriptions", {"object": "list", "data": [pending, old]})

    # Stripe retries a delivery for days: the old subscription's end lands now.
    assert post_event(client, make_event("customer.subscription.deleted", old)).status_code == 200

    user = reload(erin)
    assert user.subscription_id == "sub_pending"
    assert user.subscription_status == status  # not "canceled": settings would offer Subscribe


def test_a_moderator_frozen_member_is_not_told_paying_will_unfreeze_the_account(
    client, frank, stripe_api, outbox
):
    # frank pays and is frozen by a moderator; his renewal fails.
    membership.link_customer(frank, "cus_erin")
    db.session.commit()
    overdue = {**_sub(frank.subscription_id, "past_due"), "customer": "cus_erin"}
    stripe_api.answer("GET", f"/v1/subscriptions/{frank.subscription_id}", overdue)
    stripe_api.answer("GET", "/v1/subscriptions", {"object": "list", "data": [overdue]})
    invoice = {
        "id": "in_1", "object": "invoice", "customer": "cus_erin",
        "subscription": frank.subscription_id, "amount_due": 100, "currency": "usd",
        "attempt_count": 1,
    }  # fmt: skip

    assert post_event(client, make_event("invoice.payment_failed", invoice)).status_code == 200

    mails = [m for m in read_outbox(outbox) if "payment failed" in m]
    assert mails, "the payment-failed mail was sent"
    # Paying does not lift a moderator's freeze (settings says so); the mail must not
    # promise that it does.
    assert "read-only until the payment goes through" not in mails[0]
    assert "does not lift the moderator's freeze" in mails[0]


def test_subscribe_while_a_first_payment_waits_opens_that_payments_own_page(
    client, erin, stripe_api
):
    """A declined card or a bank's check also keeps it "incomplete": on the invoice's page
    the member pays with another card or confirms, and sees a settling debit as such."""
    membership.link_customer(erin, "cus_erin")
    db.session.commit()
    waiting = {**_sub("sub_pending", "incomplete"), "latest_invoice": "in_first"}
    page = "https://invoice.stripe.com/i/acct_1/test_first"
    stripe_api.answer("GET", "/v1/subscriptions", {"object": "list", "data": [waiting]})
    stripe_api.answer(
        "GET",
        "/v1/invoices/in_first",
        {"id": "in_first", "object": "invoice", "hosted_invoice_url": page},
    )
    login(client, erin)

    answer = client.submit("/billing/checkout", {"attempt": "other-tab-0002"})

    assert answer.status_code == 303 and answer.location == page
    assert stripe_api.calls("POST", "/v1/checkout/sessions") == []
