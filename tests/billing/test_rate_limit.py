"""Checkout, the Portal and the success page each call Stripe, so they are rate-limited
per account: a script looping on them would spend the site's Stripe rate limit and fail
every other member's Checkout and webhook."""

from __future__ import annotations

import pytest

from club.extensions import limiter
from tests.billing.conftest import stripe_settings
from tests.conftest import login, make_user


@pytest.fixture
def app_config(app_config: dict, recording_stripe) -> dict:
    return {
        **app_config,
        **stripe_settings(recording_stripe.url, STRIPE_TIMEOUT_SECONDS=1),
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
    }


@pytest.fixture
def stripe_api(recording_stripe):
    made = iter(range(1, 100))
    recording_stripe.answer(
        "POST",
        "/v1/customers",
        lambda request: (200, {"id": f"cus_rl_{next(made)}", "object": "customer"}),
    )
    recording_stripe.answer(
        "POST",
        "/v1/checkout/sessions",
        {"id": "cs_rl_1", "object": "checkout.session", "url": "https://checkout.stripe.com/c/1"},
    )
    recording_stripe.answer("GET", "/v1/subscriptions", {"object": "list", "data": []})
    recording_stripe.answer("GET", "/v1/checkout/sessions", {"object": "list", "data": []})
    yield recording_stripe
    limiter.reset()


def test_it_lets_one_account_call_stripe_ten_times_a_minute(client, erin, stripe_api):
    login(client, erin)
    for n in range(10):
        assert client.submit("/billing/checkout", {"attempt": f"attempt-{n:04}"}).status_code == 303
    calls = len(stripe_api.requests)

    refused = client.submit("/billing/checkout", {"attempt": "attempt-0010"})

    assert refused.status_code == 429
    assert "Slow down" in refused.text
    assert client.submit("/billing/portal").status_code == 429  # one allowance for both
    assert client.get("/billing/success?session_id=cs_rl_1").status_code == 429
    # Only the price the pages show, which the site reads once and caches.
    assert {r.path for r in stripe_api.requests[calls:]} <= {"/v1/prices/price_test_monthly"}


def test_it_counts_each_account_on_its_own(client, erin, stripe_api):
    login(client, erin)
    for n in range(10):
        client.submit("/billing/checkout", {"attempt": f"attempt-{n:04}"})
    login(client, make_user(subscription=None))
    assert client.submit("/billing/checkout", {"attempt": "other-0001"}).status_code == 303
