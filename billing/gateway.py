"""The only module that talks to Stripe.

Every call goes through one configured ``stripe.StripeClient`` (with a timeout, retries
and, in tests, ``STRIPE_API_BASE`` pointing at localstripe or a recording server) and
returns plain dicts, so the rest of billing never sees the SDK's types. Any failure
becomes a ``BillingError`` whose message is safe to show a member; the detail goes to
the log, never the key.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import stripe
from flask import current_app, has_request_context, request

log = logging.getLogger(__name__)

DISPLAY_TIMEOUT_SECONDS = 2
MISCONFIGURED = "Payments are misconfigured on our side. Nothing was charged; please try later."
UNAVAILABLE = "We could not reach our payment provider. Nothing was charged; please try again."
# Set in a request's environ once a Stripe call in it failed to connect or timed out.
UNREACHABLE_KEY = "club.stripe_unreachable"


class BillingError(Exception):
    """A Stripe call failed; ``str(error)`` is safe to show to the member.

    ``permanent`` says whether asking again can help: a network failure, a 5xx, a rate
    limit or a refused key (which an operator fixes) may pass later; Stripe rejecting the
    request itself will not. ``worker.jobs`` stops retrying a job on a permanent error.
    """

    permanent = False


class NotFound(BillingError):
    """Stripe has no object with that id."""

    permanent = True


class Refused(BillingError):
    """Stripe rejected the request as invalid; sending it again gets the same answer."""

    permanent = True


class InvalidSignature(Exception):
    """A webhook's ``Stripe-Signature`` does not prove it came from Stripe just now."""


# Stripe's own libraries default to five minutes; older deliveries may be replays.
SIGNATURE_TOLERANCE_SECONDS = 300


def verify_signature(payload: bytes, header: str | None, secrets: list[str]) -> None:
    """Check ``header`` signs the raw ``payload`` with one of ``secrets``, recently.

    Several secrets are accepted so an endpoint secret can be rotated without dropping
    events: Stripe signs with both the old and the new one while both are live.
    """
    if not header or not secrets:
        raise InvalidSignature("missing signature or secret")
    try:
        payload.decode("utf-8")  # stripe-python decodes it unguarded; Stripe sends UTF-8
    except UnicodeDecodeError:
        raise InvalidSignature("body is not UTF-8") from None
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(
                payload, header, secret, tolerance=SIGNATURE_TOLERANCE_SECONDS
            )
            break
        except stripe.SignatureVerificationError:
            continue
    else:
        raise InvalidSignature("no signature matches")
    # stripe-python rejects only old timestamps; one far ahead of our clock is as
    # suspect as a stale one, so the tolerance applies both ways.
    if _signed_at(header) > time.time() + SIGNATURE_TOLERANCE_SECONDS:
        raise InvalidSignature("timestamp in the future")


def _signed_at(header: str) -> int:
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    raise InvalidSignature("no timestamp")


def is_live_key(key: str | None) -> bool:
    """Tell whether ``key`` is a live-mode Stripe key (events must then be live too)."""
    return bool(key) and key.startswith(("sk_live_", "rk_live_"))


def client() -> stripe.StripeClient:
    """Return the app's Stripe client, built once from the configuration."""
    config = current_app.config
    return _cached_client(
        "stripe_client",
        timeout=config["STRIPE_TIMEOUT_SECONDS"],
        retries=config["STRIPE_MAX_NETWORK_RETRIES"],
    )


def display_client() -> stripe.StripeClient:
    """Return a client for lookups a page only displays: a short timeout, no retries.

    A page must not wait out the full timeout and its retries to show a price; it
    renders without it instead.
    """
    config = current_app.config
    timeout = min(
        config.get("STRIPE_DISPLAY_TIMEOUT_SECONDS", DISPLAY_TIMEOUT_SECONDS),
        config["STRIPE_TIMEOUT_SECONDS"],
    )
    return _cached_client("stripe_display_client", timeout=timeout, retries=0)


def _cached_client(name: str, *, timeout: float, retries: int) -> stripe.StripeClient:
    cached = current_app.extensions.get(name)
    if cached is None:
        key = current_app.config.get("STRIPE_SECRET_KEY")
        if not key:
            raise BillingError("Payments are not configured on this site.")
        base = current_app.config.get("STRIPE_API_BASE")
        cached = stripe.StripeClient(
            key,
            base_addresses={"api": base} if base else None,
            max_network_retries=retries,
            http_client=stripe.new_default_http_client(timeout=timeout),
        )
        current_app.extensions[name] = cached
    return cached


def _call(what: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> dict:
    """Run one SDK call and return its result as a dict, translating every failure."""
    try:
        result = func(*args, **kwargs)
    except stripe.InvalidRequestError as error:
        log.warning("stripe %s refused: %s (%s)", what, error.user_message, error.code)
        if error.code == "resource_missing" or error.http_status == 404:
            raise NotFound("Stripe has no record of that.") from error
        raise Refused("Our payment provider refused the request.") from error
    except stripe.CardError as error:
        raise BillingError(error.user_message or "Your card was declined.") from error
    except (stripe.AuthenticationError, stripe.PermissionError) as error:
        log.error("stripe %s: the API key was refused (%s)", what, type(error).__name__)
        raise BillingError(MISCONFIGURED) from error
    except stripe.StripeError as error:
        log.warning("stripe %s failed: %s: %s", what, type(error).__name__, error.user_message)
        if isinstance(error, stripe.APIConnectionError) and has_request_context():
            request.environ[UNREACHABLE_KEY] = True
        raise BillingError(UNAVAILABLE) from error
    return result.to_dict()


def unreachable_in_this_request() -> bool:
    """Tell whether a Stripe call in this request already failed to connect or timed out.

    The page that then explains the failure must not wait out a timeout again to show
    the price in its banner.
    """
    return has_request_context() and bool(request.environ.get(UNREACHABLE_KEY))


def _options(idempotency_key: str | None) -> dict:
    # Keys make a retried POST (double click, timeout, SDK retry) return the first
    # result instead of creating a second object. Stripe caps them at 255 characters.
    return {"idempotency_key": idempotency_key[:255]} if idempotency_key else {}


def create_customer(*, user_id: int, email: str, name: str, idempotency_key: str) -> dict:
    """Create the Stripe customer for an account; its metadata names the account."""
    params = {"email": email, "name": name, "metadata": {"user_id": str(user_id)}}
    return _call(
        "customer create",
        client().v1.customers.create,
        params,
        _options(idempotency_key),
    )


def require_customer(customer_id: str | None) -> None:
    """Refuse a call about no customer: the SDK drops a None parameter, and Stripe then
    lists every open Checkout on the account, or opens one that bills nobody we know."""
    if not customer_id:
        raise ValueError("a Checkout call needs the account's Stripe customer")


def create_checkout_session(
    *,
    customer_id: str,
    user_id: int,
    price_id: str,
    success_url: str,
    cancel_url: str,
    idempotency_key: str,
) -> dict:
    """Create a Checkout Session in subscription mode for one monthly membership."""
    require_customer(customer_id)
    params = {
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": str(user_id),
        "line_items": [{"price": price_id, "quantity": 1}],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "subscription_data": {"metadata": {"user_id": str(user_id)}},
        # The price, so a later click can tell whether this session still sells the
        # current one (``list_open_checkout_sessions``).
        "metadata": {"user_id": str(user_id), "price_id": price_id},
    }
    return _call(
        "checkout create", client().v1.checkout.sessions.create, params, _options(idempotency_key)
    )


def list_open_checkout_sessions(customer_id: str) -> list[dict]:
    """Return the customer's Checkout Sessions that can still be paid, newest first."""
    require_customer(customer_id)
    params = {"customer": customer_id, "status": "open", "limit": 10}
    page = _call("checkout list", client().v1.checkout.sessions.list, params)
    sessions = list(page.get("data", []))
    return sorted(sessions, key=lambda s: s.get("created") or 0, reverse=True)


def retrieve_checkout_session(session_id: str) -> dict:
    """Fetch a Checkout Session with its subscription expanded."""
    return _call(
        "checkout retrieve",
        client().v1.checkout.sessions.retrieve,
        session_id,
        {"expand": ["subscription"]},
    )


def create_portal_session(*, customer_id: str, return_url: str) -> dict:
    """Open a Customer Portal session (card, cancellation, invoices) for a customer."""
    params = {"customer": customer_id, "return_url": return_url}
    return _call("portal create", client().v1.billing_portal.sessions.create, params)


def retrieve_subscription(subscription_id: str) -> dict:
    """Fetch a subscription's current state."""
    return _call("subscription retrieve", client().v1.subscriptions.retrieve, subscription_id)


def retrieve_invoice(invoice_id: str) -> dict:
    """Fetch an invoice (its hosted page is where its payment is made or confirmed)."""
    return _call("invoice retrieve", client().v1.invoices.retrieve, invoice_id)


def list_subscriptions(customer_id: str) -> list[dict]:
    """Return every subscription of a customer, ended ones included, newest first."""
    params = {"customer": customer_id, "status": "all", "limit": 100}
    page = _call("subscription list", client().v1.subscriptions.list, params)
    subscriptions = list(page.get("data", []))
    return sorted(subscriptions, key=lambda s: s.get("created") or 0, reverse=True)


def retrieve_customer(customer_id: str) -> dict:
    """Fetch a customer (a deleted one comes back with ``deleted: true``)."""
    return _call("customer retrieve", client().v1.customers.retrieve, customer_id)


def update_customer(customer_id: str, *, email: str, name: str) -> dict:
    """Set the customer's email and name (receipts and Stripe's own mails use them)."""
    params = {"email": email, "name": name}
    return _call("customer update", client().v1.customers.update, customer_id, params)


def cancel_subscription(subscription_id: str) -> dict:
    """End a subscription now (account deletion)."""
    return _call("subscription cancel", client().v1.subscriptions.cancel, subscription_id)


def delete_customer(customer_id: str) -> dict:
    """Delete a customer: Stripe cancels its subscriptions at once and forgets its cards."""
    return _call("customer delete", client().v1.customers.delete, customer_id)


def retrieve_price_for_display(price_id: str) -> dict:
    """Fetch a price (amount, currency, interval) quickly, for showing on a page."""
    return _call("price retrieve", display_client().v1.prices.retrieve, price_id)


def find_price(lookup_key: str) -> dict | None:
    """Return the active price with ``lookup_key``, or None."""
    params = {"lookup_keys": [lookup_key], "active": True, "limit": 1}
    page = _call("price list", client().v1.prices.list, params)
    data = page.get("data", [])
    return data[0] if data else None


def create_price(*, product: dict, price: dict, idempotency_key: str) -> dict:
    """Create a recurring price and its product in one call."""
    params = {**price, "product_data": product}
    return _call("price create", client().v1.prices.create, params, _options(idempotency_key))
