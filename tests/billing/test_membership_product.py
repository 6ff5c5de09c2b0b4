"""Which subscriptions are the membership: one on STRIPE_PRICE_ID, or on another price of
its product (a member who kept an older price), never anything else the Stripe account
sells. Against the recording Stripe stand-in, which can answer Prices (localstripe has
none of its own)."""

from __future__ import annotations

import time

import pytest

from club import membership
from club.extensions import db
from tests.billing.conftest import reload, stripe_settings
from tests.conftest import login

PORTAL_URL = "https://billing.stripe.com/p/session/test_1"
MEMBERSHIP_PRICE = {"id": "price_test_monthly", "object": "price", "product": "prod_membership"}
BOOM = {"error": {"type": "api_error", "message": "boom"}}


@pytest.fixture
def app_config(app_config: dict, recording_stripe) -> dict:
    return {**app_config, **stripe_settings(recording_stripe.url, STRIPE_TIMEOUT_SECONDS=1)}


@pytest.fixture
def stripe_api(recording_stripe, erin):
    """Stripe with a checkout to open, a portal to send a member to, and erin's customer."""
    recording_stripe.answer("POST", "/v1/billing_portal/sessions", {"url": PORTAL_URL})
    recording_stripe.answer("GET", "/v1/checkout/sessions", {"object": "list", "data": []})
    recording_stripe.answer(
        "POST", "/v1/checkout/sessions", {"id": "cs_1", "url": "https://checkout.stripe.com/c/1"}
    )
    membership.link_customer(erin, "cus_erin")
    db.session.commit()
    return recording_stripe


def subscribed_on(stripe_api, price: dict) -> None:
    """Stripe lists one running subscription for erin's customer, on ``price``."""
    running = {
        "id": "sub_running", "object": "subscription", "customer": "cus_erin",
        "status": "active", "created": int(time.time()) - 60,
        "current_period_end": int(time.time()) + 30 * 86400, "cancel_at_period_end": False,
        "items": {"object": "list", "data": [{"id": "si_1", "price": price}]},
    }  # fmt: skip
    stripe_api.answer("GET", "/v1/subscriptions", {"object": "list", "data": [running]})


@pytest.mark.parametrize(
    ("product", "membership_found"),
    [("prod_membership", True), ("prod_the_shop", False)],
)
def test_a_member_on_an_older_price_of_the_membership_is_still_a_member(
    client, erin, stripe_api, product, membership_found
):
    """The price changed since this member subscribed: their old price is on the same
    product, so it is the membership; a price of another product is not."""
    stripe_api.answer("GET", "/v1/prices/price_test_monthly", MEMBERSHIP_PRICE)
    subscribed_on(stripe_api, {"id": "price_2025", "object": "price", "product": product})
    login(client, erin)

    response = client.submit("/billing/checkout")

    assert (response.headers["Location"] == PORTAL_URL) is membership_found
    assert membership.standing(reload(erin)).can_interact is membership_found


def test_an_older_price_is_not_taken_for_something_else_while_stripe_cannot_say(
    client, erin, stripe_api
):
    """Which product the membership is, Stripe could not say: the member on an older
    price must not be sent to a second Checkout (and billed twice) meanwhile."""
    stripe_api.answer("GET", "/v1/prices/price_test_monthly", (500, BOOM))
    subscribed_on(stripe_api, {"id": "price_2025", "object": "price", "product": "prod_membership"})
    login(client, erin)

    response = client.submit("/billing/checkout")

    assert response.status_code == 502
    assert stripe_api.calls("POST", "/v1/checkout/sessions") == []
