"""The membership's price: shown as Stripe holds it, asked for sparingly while Stripe fails
or hangs, and created once by `billing setup` (a recording server as Stripe)."""

from __future__ import annotations

import time

import pytest

from tests.billing.conftest import stripe_settings
from tests.conftest import login


@pytest.fixture
def app_config(app_config: dict, recording_stripe) -> dict:
    return {**app_config, **stripe_settings(recording_stripe.url, STRIPE_TIMEOUT_SECONDS=1)}


@pytest.fixture
def stripe_api(recording_stripe):
    """Stripe as the recording server; each test answers the price as it needs."""
    return recording_stripe


def test_it_shows_the_price_stripe_holds(app, stripe_api):
    stripe_api.answer(
        "GET",
        "/v1/prices/price_test_monthly",
        {
            "id": "price_test_monthly",
            "unit_amount": 500,
            "currency": "eur",
            "recurring": {"interval": "year", "interval_count": 1},
        },
    )

    rendered = app.jinja_env.from_string("{{ membership_price }}").render()

    assert rendered == "€5.00/year"


class PriceBook:
    """Just enough of Stripe's Prices API for `billing setup`: list by lookup key, create."""

    def __init__(self) -> None:
        self.prices: list[dict] = []

    def list(self, request):
        key = request.query.get("lookup_keys[0]")
        return 200, {"object": "list", "data": [p for p in self.prices if p["lookup_key"] == key]}

    def create(self, request):
        price = {
            "id": f"price_setup_{len(self.prices) + 1}",
            "object": "price",
            "lookup_key": request.form["lookup_key"],
            "unit_amount": int(request.form["unit_amount"]),
            "currency": request.form["currency"],
            "recurring": {"interval": request.form["recurring[interval]"]},
        }
        self.prices.append(price)
        return 200, price


def test_it_sets_up_the_price_once_however_often_it_runs(runner, recording_stripe):
    book = PriceBook()
    recording_stripe.answer("GET", "/v1/prices", book.list)
    recording_stripe.answer("POST", "/v1/prices", book.create)

    first = runner.invoke(args=["billing", "setup"])
    second = runner.invoke(args=["billing", "setup"])

    assert first.exit_code == 0 and second.exit_code == 0
    assert "Created the membership price $1.00/month" in first.output
    assert "Found the membership price $1.00/month" in second.output
    assert "STRIPE_PRICE_ID=price_setup_1" in second.output
    created = recording_stripe.calls("POST", "/v1/prices")
    assert len(created) == 1
    assert created[0].form["product_data[name]"] == "Billionaire Club membership"
    assert created[0].form["recurring[interval]"] == "month"
    assert created[0].form["unit_amount"] == "100" and created[0].form["currency"] == "usd"


MONTHLY = {
    "id": "price_test_monthly",
    "object": "price",
    "unit_amount": 100,
    "currency": "usd",
    "recurring": {"interval": "month"},
}


def billing_section(client) -> str:
    page = client.get("/settings").get_data(as_text=True)
    start = page.index('id="billing"')
    return page[start : page.index("</section>", start)]


def test_setup_tells_the_operator_what_stripe_said_when_it_fails(runner, recording_stripe):
    """Not the members' words ("Nothing was charged"): Stripe's own."""
    recording_stripe.answer(
        "GET",
        "/v1/prices",
        (401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}),
    )

    result = runner.invoke(args=["billing", "setup"])

    assert result.exit_code == 1
    assert "Stripe did not create or find the price: AuthenticationError" in result.output
    assert "Invalid API Key" in result.output
    assert "Nothing was charged" not in result.output


def test_it_asks_stripe_for_the_price_once_a_minute_while_stripe_fails(client, erin, stripe_api):
    stripe_api.answer(
        "GET",
        "/v1/prices/price_test_monthly",
        (500, {"error": {"type": "api_error", "message": "Something went wrong"}}),
    )
    login(client, erin)

    first, second = billing_section(client), billing_section(client)

    assert len(stripe_api.calls("GET", "/v1/prices/price_test_monthly")) == 1
    for html in (first, second):
        assert "Monthly membership" in html
        assert ">Subscribe</button>" in html


def test_it_asks_for_the_price_again_once_a_failure_is_old(app, client, erin, stripe_api):
    app.config["BILLING_PRICE_RETRY_SECONDS"] = 0.2
    stripe_api.answer(
        "GET",
        "/v1/prices/price_test_monthly",
        (500, {"error": {"type": "api_error", "message": "Something went wrong"}}),
    )
    login(client, erin)
    billing_section(client)
    stripe_api.answer("GET", "/v1/prices/price_test_monthly", MONTHLY)
    time.sleep(0.3)

    html = billing_section(client)

    assert "Subscribe for $1.00/month" in html


def test_it_renders_settings_promptly_when_stripe_hangs_on_the_price(app, client, erin, stripe_api):
    # Checkout may wait and retry; a display-only lookup must not hold the page up.
    app.config.update(STRIPE_TIMEOUT_SECONDS=10, STRIPE_MAX_NETWORK_RETRIES=2)
    stripe_api.answer("GET", "/v1/prices/price_test_monthly", MONTHLY)
    stripe_api.delay = 4
    login(client, erin)

    started = time.monotonic()
    html = billing_section(client)
    elapsed = time.monotonic() - started

    assert elapsed < 3.5
    assert ">Subscribe</button>" in html
    assert len(stripe_api.calls("GET", "/v1/prices/price_test_monthly")) == 1
