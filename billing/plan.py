"""The one membership plan: what ``billing setup`` creates and how its price reads.

The amount shown on the site always comes from a price object — Stripe's (looked up
by ``STRIPE_PRICE_ID``) or, with the local test checkout, ``LOCAL_PRICE`` below, which
has the same shape — never from a constant in a template.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from flask import current_app

from billing import gateway

log = logging.getLogger(__name__)

LOOKUP_KEY = "club_membership_monthly"
PRODUCT = {"name": "Billionaire Club membership", "metadata": {"club": "membership"}}
PRICE = {
    "unit_amount": 100,
    "currency": "usd",
    "recurring": {"interval": "month"},
    "lookup_key": LOOKUP_KEY,
    "nickname": "Monthly membership",
}
LOCAL_PRICE = {"id": "price_local_test", **PRICE}
CURRENCY_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$"}
# How long a failed price lookup is remembered before Stripe is asked again.
PRICE_RETRY_SECONDS = 60


@dataclass(frozen=True)
class CachedPrice:
    """A price lookup's outcome: the price (kept for good), or None until ``retry_at``."""

    price: dict | None
    retry_at: float | None


def is_local() -> bool:
    """Tell whether the site uses the local test checkout instead of Stripe."""
    return current_app.config.get("BILLING_BACKEND") == "local"


def format_amount(price: dict) -> str:
    """Return a price's amount in the site's words, e.g. "$1.00"."""
    currency = str(price.get("currency") or "usd").lower()
    amount = f"{(price.get('unit_amount') or 0) / 100:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{amount}" if symbol else f"{amount} {currency.upper()}"


def format_price(price: dict) -> str:
    """Return a recurring price in the site's words, e.g. "$1.00/month"."""
    recurring = price.get("recurring") or {}
    interval = recurring.get("interval") or "month"
    count = recurring.get("interval_count") or 1
    period = interval if count == 1 else f"{count} {interval}s"
    return f"{format_amount(price)}/{period}"


def current_price() -> dict | None:
    """Return the membership's price object, or None while Stripe cannot say.

    Every settings page shows the price, so it is read from Stripe once per process and
    kept. A failure is kept too, for ``BILLING_PRICE_RETRY_SECONDS`` (60 by default):
    while Stripe is down each page renders at once without the amount, instead of
    every render waiting on Stripe again.
    """
    if is_local():
        return LOCAL_PRICE
    price_id = current_app.config.get("STRIPE_PRICE_ID")
    if not price_id:
        return None
    cache = current_app.extensions.setdefault("billing_price", {})
    now = time.monotonic()
    cached = cache.get(price_id)
    if cached is not None and (cached.retry_at is None or now < cached.retry_at):
        return cached.price
    if gateway.unreachable_in_this_request():
        return None  # this request already waited on Stripe once; render without it
    try:
        price = gateway.retrieve_price_for_display(price_id)
    except gateway.BillingError:
        log.warning("could not read the membership price %s from Stripe", price_id)
        retry_in = current_app.config.get("BILLING_PRICE_RETRY_SECONDS", PRICE_RETRY_SECONDS)
        cache[price_id] = CachedPrice(price=None, retry_at=now + retry_in)
        return None
    cache[price_id] = CachedPrice(price=price, retry_at=None)
    return price


def membership_product() -> str | None:
    """The id of the product the membership's price belongs to; None when there is none.

    Raises ``gateway.BillingError`` while Stripe cannot say (unlike ``current_price``):
    a subscription to an older price of the membership must not be taken for something
    else, and ignored for good, because Stripe was briefly down.
    """
    price_id = current_app.config.get("STRIPE_PRICE_ID")
    if is_local() or not price_id:
        return None
    price = current_price()
    if price is None:
        try:
            price = gateway.retrieve_price_for_display(price_id)
        except gateway.NotFound:
            return None  # no such price: only its id can name the membership
    product = price.get("product")
    return product.get("id") if isinstance(product, dict) else product


class MembershipPrice:
    """The ``membership_price`` template global: renders as "$1.00/month", lazily."""

    def _text(self) -> str:
        price = current_price()
        return format_price(price) if price else ""

    def __str__(self) -> str:
        return self._text()

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(self._text()))

    def __bool__(self) -> bool:
        return bool(self._text())


def ensure_price() -> tuple[dict, bool]:
    """Find the membership price by its lookup key, or create it; tell whether it is new."""
    existing = gateway.find_price(LOOKUP_KEY)
    if existing is not None:
        return existing, False
    created = gateway.create_price(
        product=PRODUCT, price=PRICE, idempotency_key=f"club-setup-{LOOKUP_KEY}"
    )
    return created, True
