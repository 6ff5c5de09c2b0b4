"""Checkout, the success page and the Portal, asserted at the HTTP level.

localstripe has no Checkout, Portal or Prices, so these tests point STRIPE_API_BASE at a
recording server and check the exact parameters the Stripe SDK sent.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from club import membership
from club.clock import utcnow
from club.extensions import db
from club.models import User
from tests.billing.conftest import (
    CHECKOUT,
    CUSTOMER,
    PORTAL,
    make_event,
    membership_items,
    post_event,
    reload,
    stripe_settings,
)
from tests.conftest import (
    login,
    make_user,
    read_outbox,
    table_fingerprint,
)


@pytest.fixture
def app_config(app_config: dict, recording_stripe) -> dict:
    return {**app_config, **stripe_settings(recording_stripe.url, STRIPE_TIMEOUT_SECONDS=1)}


def sign_in_with_customer(client, user: User, customer_id: str) -> None:
    """Sign ``user`` in, their account linked to the Stripe customer ``customer_id``."""
    membership.link_customer(user, customer_id)
    db.session.commit()
    login(client, user)


def test_it_creates_a_customer_then_a_subscription_checkout(client, erin, stripe_api):
    login(client, erin)

    response = client.submit("/billing/checkout", {"attempt": "attempt-0001"})

    assert response.status_code == 303
    assert response.headers["Location"] == CHECKOUT["url"]
    customer = stripe_api.calls("POST", "/v1/customers")[0]
    assert customer.form["email"] == erin.email
    assert customer.form["metadata[user_id]"] == str(erin.id)
    assert customer.headers["idempotency-key"] == f"club-customer-{erin.id}-attempt-0001"
    session = stripe_api.calls("POST", "/v1/checkout/sessions")[0]
    assert session.form == {
        "mode": "subscription",
        "customer": "cus_rec_1",
        "client_reference_id": str(erin.id),
        "line_items[0][price]": "price_test_monthly",
        "line_items[0][quantity]": "1",
        "success_url": "http://club.test/billing/success?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://club.test/settings",
        "subscription_data[metadata][user_id]": str(erin.id),
        "metadata[user_id]": str(erin.id),
        "metadata[price_id]": "price_test_monthly",
    }
    assert session.headers["idempotency-key"] == f"club-checkout-{erin.id}-attempt-0001"
    assert reload(erin).stripe_customer_id == "cus_rec_1"


def test_it_reuses_the_customer_and_keys_for_a_double_click(client, erin, stripe_api):
    login(client, erin)

    client.submit("/billing/checkout", {"attempt": "same-form-01"})
    client.submit("/billing/checkout", {"attempt": "same-form-01"})

    assert len(stripe_api.calls("POST", "/v1/customers")) == 1
    keys = {r.headers["idempotency-key"] for r in stripe_api.calls("POST", "/v1/checkout/sessions")}
    assert keys == {f"club-checkout-{erin.id}-same-form-01"}


def test_it_sends_an_active_member_to_the_portal_instead(client, alice, stripe_api):
    sign_in_with_customer(client, alice, "cus_alice")

    response = client.submit("/billing/checkout")

    assert response.headers["Location"] == PORTAL["url"]
    assert stripe_api.calls("POST", "/v1/checkout/sessions") == []


def test_it_sends_a_member_stripe_already_bills_to_the_portal(client, erin, stripe_api):
    # Paid in another tab, or the webhook has not landed: a second Checkout would bill twice.
    membership.link_customer(erin, "cus_erin")
    db.session.commit()
    running = {
        "id": "sub_paid_elsewhere", "object": "subscription", "customer": "cus_erin",
        "status": "active", "created": int(time.time()) - 60,
        "current_period_end": int(time.time()) + 30 * 86400, "cancel_at_period_end": False,
        "items": membership_items(),
    }  # fmt: skip
    stripe_api.answer("GET", "/v1/subscriptions", {"object": "list", "data": [running]})
    login(client, erin)

    response = client.submit("/billing/checkout")

    assert response.headers["Location"] == PORTAL["url"]
    assert stripe_api.calls("POST", "/v1/checkout/sessions") == []
    assert stripe_api.calls("GET", "/v1/subscriptions")[0].query["customer"] == "cus_erin"
    assert membership.standing(reload(erin)).can_interact


def stripe_keeping_checkout_sessions(
    stripe_api, customer_id: str, seconds_to_create: float = 0
) -> list[dict]:
    """Make the recording server create Checkout Sessions and list the open ones, as
    Stripe does; return the sessions created, for the test to pay or inspect."""
    created: list[dict] = []

    def create(request) -> tuple[int, dict]:
        time.sleep(seconds_to_create)  # listed only once made, as in Stripe
        number = len(created) + 1
        session = {
            "id": f"cs_test_open_{number}", "object": "checkout.session", "status": "open",
            "customer": request.form["customer"], "created": int(time.time()) + number,
            "url": f"https://checkout.stripe.com/c/pay/cs_test_open_{number}",
            "metadata": {k[9:-1]: v for k, v in request.form.items() if k.startswith("metadata[")},
        }  # fmt: skip
        created.append(session)
        return 200, session

    def list_open(request) -> tuple[int, dict]:
        assert request.query == {"customer": customer_id, "status": "open", "limit": "10"}
        return 200, {"object": "list", "data": [s for s in created if s["status"] == "open"]}

    stripe_api.answer("POST", "/v1/checkout/sessions", create)
    stripe_api.answer("GET", "/v1/checkout/sessions", list_open)
    stripe_api.answer("GET", "/v1/subscriptions", {"object": "list", "data": []})
    return created


def test_subscribe_in_a_second_tab_opens_the_same_payment_page(client, erin, stripe_api):
    # Two open Checkout pages could both be paid: the member would be billed twice.
    sign_in_with_customer(client, erin, "cus_erin")
    created = stripe_keeping_checkout_sessions(stripe_api, "cus_erin")

    first = client.submit("/billing/checkout", {"attempt": "first-tab-01"})
    second = client.submit("/billing/checkout", {"attempt": "second-tab-1"})

    assert first.headers["Location"] == created[0]["url"]
    assert second.headers["Location"] == created[0]["url"]
    assert len(created) == 1


def test_subscribe_opens_a_new_payment_page_once_the_open_one_is_gone(client, erin, stripe_api):
    sign_in_with_customer(client, erin, "cus_erin")
    created = stripe_keeping_checkout_sessions(stripe_api, "cus_erin")
    client.submit("/billing/checkout", {"attempt": "first-tab-01"})
    created[0]["status"] = "expired"  # 24 hours later, or paid and then cancelled

    response = client.submit("/billing/checkout", {"attempt": "next-day-001"})

    assert len(created) == 2
    assert response.headers["Location"] == created[1]["url"]


def test_subscribe_does_not_reuse_a_payment_page_for_an_old_price(app, client, erin, stripe_api):
    sign_in_with_customer(client, erin, "cus_erin")
    created = stripe_keeping_checkout_sessions(stripe_api, "cus_erin")
    client.submit("/billing/checkout", {"attempt": "old-price-01"})
    app.config["STRIPE_PRICE_ID"] = "price_test_new"

    response = client.submit("/billing/checkout", {"attempt": "new-price-01"})

    assert [s["metadata"]["price_id"] for s in created] == ["price_test_monthly", "price_test_new"]
    assert response.headers["Location"] == created[1]["url"]


def test_it_shows_a_clear_message_and_keeps_nothing_when_stripe_fails(client, erin, stripe_api):
    stripe_api.answer(
        "POST", "/v1/customers", (500, {"error": {"type": "api_error", "message": "boom"}})
    )
    login(client, erin)
    before = table_fingerprint()

    response = client.submit("/billing/checkout")

    assert response.status_code == 502
    assert "could not reach our payment provider" in response.get_data(as_text=True)
    assert table_fingerprint() == before


def test_it_shows_a_clear_message_when_stripe_times_out(client, erin, stripe_api):
    stripe_api.delay = 2.5  # longer than STRIPE_TIMEOUT_SECONDS
    login(client, erin)

    started = time.monotonic()
    response = client.submit("/billing/checkout")

    assert response.status_code == 502
    assert "Nothing was charged" in response.get_data(as_text=True)
    # One timed-out call takes 1 s plus the request; two take 2 s however fast the machine.
    assert time.monotonic() - started < 2
    # The page explaining the failure does not wait on Stripe again for the price.
    assert stripe_api.calls("GET", "/v1/prices/price_test_monthly") == []
    assert reload(erin).stripe_customer_id is None


def test_it_asks_stripe_once_when_it_hangs_for_a_returning_customer(client, erin, stripe_api):
    membership.link_customer(erin, "cus_erin")
    db.session.commit()
    stripe_api.delay = 2.5  # longer than STRIPE_TIMEOUT_SECONDS
    login(client, erin)

    started = time.monotonic()
    response = client.submit("/billing/checkout")

    assert response.status_code == 502
    # One timed-out call, not one per step (nor one more for the page's price): two take
    # 2 s however fast the machine, one takes 1 s plus the request.
    assert time.monotonic() - started < 2
    assert stripe_api.calls("POST", "/v1/checkout/sessions") == []
    assert stripe_api.calls("GET", "/v1/prices/price_test_monthly") == []


def test_it_opens_the_portal_for_the_accounts_own_customer_only(client, alice, stripe_api):
    sign_in_with_customer(client, alice, "cus_alice")

    response = client.submit("/billing/portal", {"customer": "cus_someone_else"})

    assert response.status_code == 303
    assert response.headers["Location"] == PORTAL["url"]
    assert stripe_api.calls("POST", "/v1/billing_portal/sessions")[0].form == {
        "customer": "cus_alice",
        "return_url": "http://club.test/settings",
    }


def test_it_lets_a_frozen_member_reach_checkout(client, bob, stripe_api):
    login(client, bob)

    response = client.submit("/billing/portal")

    assert response.status_code == 303


def _completed_session(user: User, customer: str = "cus_rec_1") -> dict:
    now = int(time.time())
    return {
        "id": "cs_test_done",
        "object": "checkout.session",
        "status": "complete",
        "payment_status": "paid",
        "mode": "subscription",
        "client_reference_id": str(user.id),
        "metadata": {"user_id": str(user.id), "price_id": "price_test_monthly"},
        "customer": customer,
        "subscription": {
            "id": "sub_rec_1",
            "object": "subscription",
            "customer": customer,
            "status": "active",
            "cancel_at_period_end": False,
            "items": membership_items(current_period_end=now + 30 * 86400),
        },
    }


def test_it_applies_a_completed_checkout_on_the_success_page(client, erin, stripe_api, outbox):
    stripe_api.answer("GET", "/v1/checkout/sessions/cs_test_done", _completed_session(erin))
    login(client, erin)

    response = client.get("/billing/success?session_id=cs_test_done")

    assert response.status_code == 200
    assert stripe_api.calls("GET", "/v1/checkout/sessions/cs_test_done")[0].query == {
        "expand[0]": "subscription"
    }
    user = reload(erin)
    assert user.stripe_customer_id == "cus_rec_1"
    assert membership.standing(user).can_interact and membership.standing(user).badge
    assert sum("Subject: Welcome" in mail for mail in read_outbox(outbox)) == 1


def test_the_success_page_links_no_customer_from_a_checkout_the_site_did_not_open(
    client, erin, stripe_api
):
    """A Payment Link session with the member's id in client_reference_id, paid by a
    stranger's customer: not the member's Checkout."""
    stranger = _completed_session(erin, customer="cus_stranger")
    stranger["metadata"] = {}
    stripe_api.answer("GET", "/v1/checkout/sessions/cs_test_done", stranger)
    login(client, erin)

    response = client.get("/billing/success?session_id=cs_test_done")

    assert response.status_code == 403
    user = reload(erin)
    assert user.stripe_customer_id is None
    assert not membership.standing(user).can_interact


def test_the_success_page_never_says_nothing_was_charged_when_stripe_is_down(
    client, erin, stripe_api
):
    # Stripe sends the member here after they paid: they must not be invited to pay again.
    error = {"error": {"type": "api_error", "message": "boom"}}
    stripe_api.answer("GET", "/v1/checkout/sessions/cs_test_paid", (500, error))
    login(client, erin)

    response = client.get("/billing/success?session_id=cs_test_paid")

    page = response.get_data(as_text=True)
    assert response.status_code == 502
    assert "Nothing was charged" not in page
    assert "do not pay again" in page


def test_it_does_not_relink_a_deleted_customer_from_an_old_success_url(client, erin, stripe_api):
    old = _completed_session(erin, customer="cus_deleted")
    old["subscription"]["status"] = "canceled"  # deleting the customer ended it
    stripe_api.answer("GET", "/v1/checkout/sessions/cs_test_done", old)
    login(client, erin)

    assert client.get("/billing/success?session_id=cs_test_done").status_code == 200

    assert reload(erin).stripe_customer_id is None
    client.submit("/billing/checkout")  # a new customer, not the deleted one
    assert len(stripe_api.calls("POST", "/v1/customers")) == 1


def test_it_does_not_relink_a_deleted_customer_from_a_late_webhook(client, erin, stripe_api):
    """Stripe does not order deliveries: checkout.session.completed can arrive after
    customer.deleted, when the subscription it names has ended with the customer."""
    old = _completed_session(erin, customer="cus_deleted")
    ended = {**old["subscription"], "status": "canceled"}
    stripe_api.answer("GET", "/v1/subscriptions/sub_rec_1", ended)
    event = make_event("checkout.session.completed", {**old, "subscription": "sub_rec_1"})

    assert post_event(client, event).status_code == 200

    assert reload(erin).stripe_customer_id is None
    login(client, erin)
    assert client.submit("/billing/checkout").status_code == 303  # a new customer's Checkout
    assert stripe_api.calls("POST", "/v1/customers")[0].form["email"] == erin.email


GONE = {
    "error": {
        "type": "invalid_request_error",
        "code": "resource_missing",
        "message": "No such customer: 'cus_gone'",
    }
}


def test_it_starts_over_with_a_new_customer_when_stripe_deleted_the_old_one(
    client, erin, stripe_api
):
    """customer.deleted was lost: Subscribe must not fail on the deleted customer forever."""
    stripe_api.answer("GET", "/v1/subscriptions", (404, GONE))
    stripe_api.answer("GET", "/v1/customers/cus_gone", {"id": "cus_gone", "deleted": True})
    stripe_api.answer(
        "POST",
        "/v1/checkout/sessions",
        lambda r: (404, GONE) if r.form.get("customer") == "cus_gone" else (200, CHECKOUT),
    )
    sign_in_with_customer(client, erin, "cus_gone")

    response = client.submit("/billing/checkout", {"attempt": "attempt-0001"})

    assert response.status_code == 303
    assert response.headers["Location"] == CHECKOUT["url"]
    assert reload(erin).stripe_customer_id == CUSTOMER["id"]


def test_a_customer_the_key_cannot_see_is_not_taken_for_a_deleted_one(client, stripe_api, outbox):
    """Stripe answers "No such customer" for a live customer asked with a test key: the
    member's access and link must survive a misconfigured key."""
    paying = make_user(handle="paying", subscription="active")
    stripe_api.answer("POST", "/v1/billing_portal/sessions", (404, GONE))
    stripe_api.answer("GET", "/v1/customers/cus_gone", (404, GONE))
    sign_in_with_customer(client, paying, "cus_gone")

    response = client.submit("/billing/portal")

    assert response.status_code == 502
    user = reload(paying)
    assert user.stripe_customer_id == "cus_gone" and user.subscription_status == "active"
    assert membership.standing(user).can_interact
    assert read_outbox(outbox) == []  # no "membership ended" mail


def test_it_ends_access_and_sends_back_to_subscribe_when_the_customer_is_gone(client, stripe_api):
    """Stripe deleted the customer, and every subscription with it."""
    paying = make_user(handle="paying", subscription="active")
    stripe_api.answer("POST", "/v1/billing_portal/sessions", (404, GONE))
    stripe_api.answer("GET", "/v1/customers/cus_gone", {"id": "cus_gone", "deleted": True})
    sign_in_with_customer(client, paying, "cus_gone")

    response = client.submit("/billing/portal", follow_redirects=True)

    assert "Stripe no longer holds a subscription for this account" in response.text
    user = reload(paying)
    assert user.stripe_customer_id is None and user.subscription_status == "canceled"
    assert not membership.standing(user).can_interact


def test_it_explains_a_stripe_failure_while_checking_the_customer(client, erin, stripe_api):
    boom = {"error": {"type": "api_error", "message": "boom"}}
    stripe_api.answer("POST", "/v1/billing_portal/sessions", (404, GONE))
    stripe_api.answer("GET", "/v1/customers/cus_gone", (500, boom))
    sign_in_with_customer(client, erin, "cus_gone")

    response = client.submit("/billing/portal")

    assert response.status_code == 502
    assert "We could not reach our payment provider" in response.text
    assert reload(erin).stripe_customer_id == "cus_gone"


def test_it_refuses_someone_elses_checkout_session(client, erin, stripe_api):
    other = make_user(handle="other")
    stripe_api.answer("GET", "/v1/checkout/sessions/cs_test_done", _completed_session(other))
    login(client, erin)
    before = table_fingerprint()

    response = client.get("/billing/success?session_id=cs_test_done")

    assert response.status_code == 403
    assert "belongs to another account" in response.get_data(as_text=True)
    assert table_fingerprint() == before


def test_it_answers_404_for_an_unknown_session(client, erin, stripe_api):
    login(client, erin)

    assert client.get("/billing/success?session_id=cs_test_nope").status_code == 404
    assert client.get("/billing/success?session_id=../../v1/customers").status_code == 404


def test_it_keeps_a_pending_checkout_pending(client, erin, stripe_api):
    session = {**_completed_session(erin), "status": "open", "subscription": None}
    stripe_api.answer("GET", "/v1/checkout/sessions/cs_test_done", session)
    login(client, erin)

    response = client.get("/billing/success?session_id=cs_test_done")

    assert "Almost there" in response.get_data(as_text=True)
    assert not membership.standing(reload(erin)).can_interact


def test_it_hides_the_local_test_checkout_when_stripe_is_configured(client, erin, stripe_api):
    login(client, erin)

    assert client.get("/billing/local/checkout").status_code == 404
    assert client.submit("/billing/local/checkout", {"outcome": "pay"}).status_code == 404
    assert client.get("/billing/local/manage").status_code == 404
    assert not membership.standing(reload(erin)).can_interact


def test_it_says_payments_are_misconfigured_when_stripe_refuses_the_key(client, erin, stripe_api):
    stripe_api.answer(
        "POST",
        "/v1/customers",
        (401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}),
    )
    login(client, erin)

    response = client.submit("/billing/checkout")

    assert response.status_code == 502
    assert "misconfigured on our side" in response.get_data(as_text=True)


def test_it_refuses_stripe_checkout_until_the_email_is_confirmed(client, dave, stripe_api):
    login(client, dave)

    response = client.submit("/billing/checkout", {"attempt": "attempt-0001"})

    assert response.status_code == 403
    assert "Confirm your email address first" in response.get_data(as_text=True)
    assert stripe_api.requests == []
    assert reload(dave).stripe_customer_id is None


def test_a_member_whose_cancelled_membership_lapsed_is_offered_checkout_not_the_portal(
    client, erin, stripe_api
):
    """Cancelled at the period's end, the period over, Stripe's customer.subscription.deleted
    not processed yet (late or lost): the site says "Subscribe again", and Subscribe must
    lead to Checkout, not to a portal with nothing left to manage."""
    membership.link_customer(erin, "cus_erin")
    membership.apply_subscription(
        erin,
        subscription_id="sub_old",
        status="active",
        period_end=utcnow() - timedelta(hours=2),
        cancel_at_period_end=True,
        observed_at=utcnow() - timedelta(days=3),
    )
    db.session.commit()
    ended = {
        "id": "sub_old",
        "object": "subscription",
        "customer": "cus_erin",
        "status": "canceled",
        "cancel_at_period_end": True,
        "created": int(time.time()) - 40 * 86400,
        "current_period_end": int(time.time()) - 7200,
        "items": membership_items(),
    }
    stripe_api.answer("GET", "/v1/subscriptions", {"object": "list", "data": [ended]})
    stripe_api.answer("GET", "/v1/subscriptions/sub_old", ended)
    login(client, erin)

    page = client.get("/settings").get_data(as_text=True)
    response = client.submit("/billing/checkout")

    assert "Subscribe again" in page and 'action="/billing/checkout"' in page
    assert response.headers["Location"] == CHECKOUT["url"]
