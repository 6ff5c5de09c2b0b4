"""Stripe webhook intake: verify, store once, answer fast, process in the background.

``POST /billing/webhook`` checks the signature on the raw body, stores the event under
its unique id and enqueues ``process_event``; a redelivered event is acknowledged and
never processed twice. Stripe does not deliver in order, so no handler trusts the
object in the event: each re-reads the subscription from Stripe and records it with
the time it was read, and ``membership.apply_subscription`` ignores any reading older
than the one it already holds. See https://docs.stripe.com/webhooks#handle-duplicate-events
and https://docs.stripe.com/webhooks#event-ordering.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, request
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from billing import gateway, mapping, notices, sync
from billing.models import FORGOTTEN_PAYLOAD, StripeEvent
from club import membership
from club.clock import utcnow
from club.extensions import csrf, db
from club.models import User

log = logging.getLogger(__name__)

bp = Blueprint("billing_webhooks", __name__, url_prefix="/billing")


class InvalidEvent(Exception):
    """The request is not a well-formed event signed by Stripe."""


@bp.post("/webhook")
@csrf.exempt
@membership.public_write
def webhook():
    """Receive one Stripe event: 400 if unverifiable, 200 once stored (or already known)."""
    payload = request.get_data(cache=False)  # the raw bytes Stripe signed
    try:
        event = parse_event(payload, request.headers.get("Stripe-Signature"))
    except InvalidEvent as error:
        log.warning("rejected webhook: %s", error)
        return {"error": "invalid event"}, 400
    if not is_for_this_account(event):
        return {"received": True, "ignored": "livemode mismatch"}, 200
    row_id = record_event(event, payload)
    if row_id is None:
        log.info("duplicate delivery of %s ignored", event["id"])
    else:
        dispatch(row_id)
    return {"received": True}, 200


def webhook_secrets() -> list[str]:
    """Return the configured endpoint secrets (comma-separated while rotating)."""
    raw = current_app.config.get("STRIPE_WEBHOOK_SECRET") or ""
    return [secret.strip() for secret in raw.split(",") if secret.strip()]


def parse_event(payload: bytes, signature: str | None) -> dict:
    """Verify ``payload`` against ``signature`` and return the event it holds."""
    try:
        gateway.verify_signature(payload, signature, webhook_secrets())
    except gateway.InvalidSignature as error:
        raise InvalidEvent(f"signature: {error}") from None
    try:
        event = json.loads(payload.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError included
        raise InvalidEvent("body is not UTF-8 JSON") from None
    if not (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and isinstance(event.get("type"), str)
        and isinstance(event.get("created"), int)
        and isinstance((event.get("data") or {}).get("object"), dict)
    ):
        raise InvalidEvent("not a Stripe event")
    return event


def is_for_this_account(event: dict) -> bool:
    """Tell whether a test-mode event reached a live site (or the reverse): ack, ignore."""
    live = gateway.is_live_key(current_app.config.get("STRIPE_SECRET_KEY"))
    if bool(event.get("livemode")) != live:
        log.warning(
            "ignored %s: livemode=%s on a %s site",
            event["id"],
            event.get("livemode"),
            "live" if live else "test",
        )
        return False
    return True


def record_event(event: dict, payload: bytes) -> int | None:
    """Store the event once and commit; return its row id, or None for a duplicate."""
    row = StripeEvent(
        event_id=event["id"][:255],
        type=event["type"][:100],
        created=datetime.fromtimestamp(event["created"], UTC),
        livemode=bool(event.get("livemode")),
        payload=payload.decode("utf-8"),
    )
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        # The unique event id, not a check-then-insert, decides: a concurrent copy of
        # the same delivery lands here and is acknowledged without processing.
        db.session.rollback()
        return None
    return row.id


def dispatch(row_id: int) -> None:
    """Enqueue processing; with Redis down it runs here (the event is stored either way).

    A job that fails for a reason that can pass is logged and left unprocessed: RQ
    retries it, and the sweeper (``sync.unprocessed_event_ids``) re-enqueues whatever
    is still waiting. A permanent failure is recorded and not retried (``process_event``).
    """
    from worker.jobs import enqueue_stripe_event

    try:
        enqueue_stripe_event(row_id)
    except Exception:
        # Stored already: Stripe gets its 200 and the sweeper picks the event up.
        log.exception("could not start processing stripe event %s", row_id)
        db.session.rollback()


# --- Processing ---------------------------------------------------------------------------


def process_event(row_id: int) -> None:
    """Run the handler for one stored event, once; the job and the sweeper call this.

    A Stripe failure that can pass (network, 5xx) is recorded on the event and raised,
    so RQ and the sweeper try again. One that cannot (the object is gone, the request
    is refused) would fail the same way forever: the event is given up — marked
    processed with its error — and logged, instead of being retried without end.
    """
    row = db.session.get(StripeEvent, row_id)
    if row is None or row.processed_at is not None:
        return
    event_id, event_type = row.event_id, row.type
    handler = HANDLERS.get(event_type)
    subject = json.loads(row.payload)["data"]["object"]
    try:
        mails = handler(subject) if handler else []
    except gateway.BillingError as error:
        db.session.rollback()  # drop whatever the handler half-did
        if not error.permanent:
            record_failure(row_id, error)
            raise
        log.error("giving up on stripe event %s (%s): %s", event_id, event_type, describe(error))
        if claim(row_id, last_error=describe(error)):
            forget_if_no_member(row_id, subject)
            db.session.commit()
        else:
            db.session.rollback()
        return
    if not claim(row_id):
        db.session.rollback()  # another worker processed it meanwhile
        return
    forget_if_no_member(row_id, subject)
    db.session.commit()
    notices.send(mails)


def customer_of(subject: dict) -> str | None:
    """Return the Stripe customer an event's object belongs to (or is)."""
    if subject.get("object") == "customer":
        return subject.get("id")
    return mapping.object_id(subject.get("customer"))


def forget_if_no_member(row_id: int, subject: dict) -> None:
    """Drop the personal data of a processed event whose customer no account holds.

    Deleting an account makes Stripe send more events about its customer (the
    subscription's end, ``customer.deleted``); they must not bring its email back.
    """
    customer_id = customer_of(subject)
    if customer_id and mapping.member_for_customer(customer_id) is None:
        db.session.execute(
            sa.update(StripeEvent).where(StripeEvent.id == row_id).values(payload=FORGOTTEN_PAYLOAD)
        )


def describe(error: BaseException) -> str:
    """Return an error with Stripe's own words (its cause) for the event row and the log."""
    cause = error.__cause__
    detail = f" ({cause})" if cause is not None else ""
    return f"{type(error).__name__}: {error}{detail}"[:2000]


def record_failure(row_id: int, error: BaseException) -> None:
    """Note why this attempt failed on a still-unprocessed event, for whoever looks.

    Best effort: if the database fails too, the Stripe error is the one to raise.
    """
    try:
        db.session.execute(
            sa.update(StripeEvent)
            .where(StripeEvent.id == row_id, StripeEvent.processed_at.is_(None))
            .values(last_error=describe(error))
        )
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not record the failure of stripe event row %s", row_id)


def claim(row_id: int, *, last_error: str | None = None) -> bool:
    """Mark the event processed in this transaction; False if someone already did."""
    result = db.session.execute(
        sa.update(StripeEvent)
        .where(StripeEvent.id == row_id, StripeEvent.processed_at.is_(None))
        .values(processed_at=utcnow(), last_error=last_error)
    )
    return result.rowcount == 1


def sync_subscription(
    subscription_id: str | None, *, payment_error: str | None = None
) -> tuple[User | None, list[notices.Mail]]:
    """Re-read a subscription from Stripe and record it on its member."""
    if not subscription_id:
        return None, []
    observed_at = utcnow()  # taken before the read: a later read always wins
    subscription = gateway.retrieve_subscription(subscription_id)
    if not mapping.sells_membership(subscription):
        return _moved_off_the_membership(subscription, observed_at)
    customer_id = mapping.object_id(subscription.get("customer"))
    found = mapping.member_for_customer(customer_id)
    if found is None:
        log.warning("subscription %s belongs to no account; ignored", subscription_id)
        return None, []
    if subscription.get("status") not in membership.PAID_STATUSES:
        # A customer can hold two subscriptions (two Checkouts paid at once): the end or
        # failed renewal of one must not freeze a member the other still bills.
        running = sync.running_subscription(customer_id)
        if running is not None and running.get("id") != subscription.get("id"):
            subscription, payment_error = running, None
    user = mapping.lock_member(found.id)
    change = mapping.apply_stripe_subscription(
        user, subscription, observed_at=observed_at, payment_error=payment_error
    )
    return user, notices.for_change(user, change)


def _moved_off_the_membership(
    subscription: dict, observed_at: datetime
) -> tuple[User | None, list[notices.Mail]]:
    """Apply a subscription that sells no membership, if it is the one on its member's record.

    The Stripe account may sell other things, and those are ignored. But a member's own
    subscription moved onto another product's price (a plan switch in the Customer Portal,
    an edit in the dashboard) keeps its id: it no longer grants the membership, and its
    later end would be ignored too. The member keeps another membership subscription Stripe
    still bills them for, if any; else none is on record, as the nightly reconcile finds.
    """
    customer_id = mapping.object_id(subscription.get("customer"))
    found = mapping.member_for_customer(customer_id)
    if found is None or found.subscription_id != subscription.get("id"):
        log.warning("subscription %s sells no membership; ignored", subscription.get("id"))
        return None, []
    running = sync.running_subscription(customer_id)
    user = mapping.lock_member(found.id)
    if running is not None:
        change = mapping.apply_stripe_subscription(user, running, observed_at=observed_at)
    else:
        change = membership.apply_subscription(
            user, subscription_id=None, status=None, period_end=None, observed_at=observed_at
        )
    return user, notices.for_change(user, change)


def invoice_subscription_id(invoice: dict) -> str | None:
    """Return the subscription an invoice bills, in the old or the current API shape."""
    if invoice.get("subscription"):
        return mapping.object_id(invoice["subscription"])
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return mapping.object_id(details.get("subscription"))


def on_checkout_session_completed(session: dict) -> list[notices.Mail]:
    """Link the customer to the account that started Checkout, then apply its subscription."""
    if session.get("mode") != "subscription":
        return []
    customer_id = mapping.object_id(session.get("customer"))
    account_id = mapping.checkout_account_id(session)
    user = db.session.get(User, account_id) if account_id is not None else None
    if user is None or not customer_id:
        log.warning("checkout session %s names no account of ours; ignored", session.get("id"))
        return []
    if user.stripe_customer_id not in (None, customer_id):
        log.warning("checkout session %s: customer differs from the account's", session.get("id"))
        return []
    subscription_id = mapping.object_id(session.get("subscription"))
    if user.stripe_customer_id is None:
        subscription = gateway.retrieve_subscription(subscription_id) if subscription_id else None
        if not mapping.is_worth_recording(user, subscription):
            log.info("checkout session %s: subscription ended; not linked", session.get("id"))
            return []
        membership.link_customer(mapping.lock_member(user.id), customer_id)
        db.session.flush()
    return sync_subscription(subscription_id)[1]


def on_subscription_event(subscription: dict) -> list[notices.Mail]:
    """Apply Stripe's current state of the subscription the event is about."""
    return sync_subscription(subscription.get("id"))[1]


def on_invoice_paid(invoice: dict) -> list[notices.Mail]:
    """A payment went through: apply the subscription it paid for."""
    return sync_subscription(invoice_subscription_id(invoice))[1]


def invoice_amount(invoice: dict) -> str:
    """What the invoice asks for, as "1.00 USD"."""
    amount = (invoice.get("amount_due") or 0) / 100
    return f"{amount:.2f} {str(invoice.get('currency') or '').upper()}".strip()


def on_invoice_payment_failed(invoice: dict) -> list[notices.Mail]:
    """A payment failed: apply the subscription and tell the member, if still unpaid."""
    amount = invoice_amount(invoice)
    problem = f"A payment of {amount} failed."
    user, mails = sync_subscription(invoice_subscription_id(invoice), payment_error=problem)
    # A late "failed" for an invoice since paid must not alarm anyone (order is not
    # guaranteed): mail only while the subscription still waits for this payment.
    if user is not None and notices.awaits_payment(user) and not confirmation_requested(invoice):
        mails.append(notices.payment_failed(user, amount))
    return mails


def confirmation_requested(invoice: dict) -> bool:
    """Tell whether Stripe also asked the member to confirm this attempt (3-D Secure).

    For a payment the bank holds, Stripe sends invoice.payment_action_required and
    invoice.payment_failed for the same attempt. "Confirm the payment" is the mail that
    helps; "update your payment method" would send the member after a card that works.
    Both events are stored on arrival, before either is processed.
    """
    invoice_id = invoice.get("id")
    if not invoice_id:
        return False
    payloads = db.session.scalars(
        sa.select(StripeEvent.payload).where(
            StripeEvent.type == "invoice.payment_action_required",
            StripeEvent.payload.contains(f'"{invoice_id}"', autoescape=True),
        )
    )
    for payload in payloads:
        asked = (json.loads(payload).get("data") or {}).get("object") or {}
        if asked.get("id") == invoice_id and asked.get("attempt_count") == invoice.get(
            "attempt_count"
        ):
            return True
    return False


def on_invoice_payment_action_required(invoice: dict) -> list[notices.Mail]:
    """The bank wants the member to authenticate a payment: send them to Stripe's page."""
    user, mails = sync_subscription(invoice_subscription_id(invoice))
    if user is not None and notices.awaits_payment(user):
        mails.append(notices.payment_needs_confirmation(user, stripe_page(invoice)))
    return mails


def stripe_page(invoice: dict) -> str | None:
    """Return the invoice's hosted page (where 3-D Secure is completed), if it is Stripe's."""
    url = str(invoice.get("hosted_invoice_url") or "")
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = parts.hostname or ""
    # The whole authority must be the host: no user part, port or backslash a browser
    # would read differently from urlsplit.
    plain = parts.netloc == host and not any(c in url for c in "\\ \t\r\n")
    if (
        url.startswith("https://")
        and plain
        and (host == "stripe.com" or host.endswith(".stripe.com"))
    ):
        return url
    return None


def on_customer_deleted(customer: dict) -> list[notices.Mail]:
    """The customer is gone (and with it every subscription): end access, unlink."""
    found = mapping.member_for_customer(customer.get("id"))
    if found is None:
        return []
    forgotten = mapping.forget_deleted_customer(found.id, customer.get("id"))
    return notices.for_change(*forgotten) if forgotten is not None else []


HANDLERS: dict[str, Callable[[dict], list[notices.Mail]]] = {
    "checkout.session.completed": on_checkout_session_completed,
    "customer.subscription.created": on_subscription_event,
    "customer.subscription.updated": on_subscription_event,
    "customer.subscription.deleted": on_subscription_event,
    "customer.subscription.paused": on_subscription_event,
    "customer.subscription.resumed": on_subscription_event,
    # Stripe sends both for one payment; current API versions prefer invoice.paid.
    "invoice.paid": on_invoice_paid,
    "invoice.payment_succeeded": on_invoice_paid,
    "invoice.payment_failed": on_invoice_payment_failed,
    "invoice.payment_action_required": on_invoice_payment_action_required,
    "customer.deleted": on_customer_deleted,
}
