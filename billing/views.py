"""Member-facing billing pages: Checkout, the success page, the Portal, the local checkout.

Every view here is open to frozen accounts (``allowed_while_frozen``): a frozen member
must be able to pay. Stripe routes and local routes never both work: the local ones
answer 404 whenever a Stripe key is configured.
"""

from __future__ import annotations

import logging
import re
import secrets

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, logout_user

from billing import gateway, local, mapping, notices, plan, sync
from billing.summary import must_confirm_email_first
from billing.webhooks import stripe_page
from club import membership
from club.clock import utcnow
from club.extensions import db, limiter
from club.form_pages import form_on
from club.models import User
from club.web import per_account

log = logging.getLogger(__name__)

bp = Blueprint("billing", __name__, url_prefix="/billing")

# Each of these pages calls Stripe; a script hammering them would spend the whole site's
# Stripe rate limit and fail every other member's Checkout and webhook.
STRIPE_CALLS = "10 per minute; 60 per hour"
ATTEMPT_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
EMAIL_FIRST = (
    "Confirm your email address first: a membership starts only once it is confirmed. "
    "Nothing was charged; you can ask for a new confirmation link in your settings."
)


def _settings_url() -> str:
    return f"{current_app.config['BASE_URL']}/settings"


PAYMENT_UNCHECKED = (
    "We could not check your payment with our payment provider just now. If you completed "
    "the payment, do not pay again: your membership starts as soon as Stripe confirms it, "
    "usually within a minute. Reload this page, or look at your settings, in a moment."
)


def problem(message: str, status: int = 502):
    """Render a billing failure in the site's words; nothing was changed."""
    return render_template("billing/problem.html", message=message), status


@bp.post("/checkout")
@form_on("settings.index", anchor="billing")
@login_required
@limiter.shared_limit(STRIPE_CALLS, scope="stripe-calls", key_func=per_account("billing"))
@membership.allowed_while_frozen
def checkout():
    """Send the member to Stripe Checkout, or to the portal if they already subscribe."""
    running = membership.subscription_running(current_user)
    if not running and must_confirm_email_first(current_user):
        return problem(EMAIL_FIRST, 403)
    if plan.is_local():
        target = "billing.local_manage" if running else "billing.local_checkout"
        return redirect(url_for(target), 303)
    if running and current_user.stripe_customer_id:
        return open_portal()
    if current_user.stripe_customer_id:
        try:
            billed = record_billed_subscription(current_user.id)
        except gateway.BillingError as error:
            return problem(str(error))  # Checkout would meet the same outage
        if billed is not None and billed.get("status") in membership.LIVE_STATUSES:
            return open_portal()
        if billed is not None:
            return first_payment_page(billed)
    return open_checkout()


def first_payment_page(subscription: dict):
    """Send a member whose first payment has not gone through to that payment's page.

    Stripe keeps the subscription "incomplete" while a bank debit settles, and also while
    a declined card or a bank's 3-D Secure check waits: its invoice's hosted page shows
    which, and lets the member pay with another card or confirm. Never a second Checkout,
    which would bill twice once both went through. Without that page, settings says so.
    """
    invoice = subscription.get("latest_invoice")
    invoice_id = invoice.get("id") if isinstance(invoice, dict) else invoice
    page = None
    if isinstance(invoice_id, str) and invoice_id:
        try:
            page = stripe_page(gateway.retrieve_invoice(invoice_id))
        except gateway.NotFound:
            page = None
        except gateway.BillingError as error:
            return problem(str(error))
    if page:
        return redirect(page, 303)
    flash(FIRST_PAYMENT_SETTLING, "info")
    return redirect(url_for("settings.index", _anchor="billing"), 303)


FIRST_PAYMENT_SETTLING = (
    "Your first payment is still being processed, so there is no need to subscribe again: "
    "your membership starts as soon as it goes through, and we will email you."
)


def record_billed_subscription(user_id: int) -> dict | None:
    """Ask Stripe whether the customer already pays, or a first payment is settling; if
    so, record that subscription and return it.

    Our record can lag Stripe (a payment whose webhook has not landed, a Checkout paid in
    another tab): a second Checkout then would bill the member twice.
    """
    observed_at = utcnow()
    billed = sync.billed_subscription(db.session.get(User, user_id).stripe_customer_id)
    if billed is not None:
        record_subscription(user_id, billed, observed_at)
    return billed


def open_checkout():
    """Create the Checkout Session and redirect to it, or explain what went wrong."""
    if must_confirm_email_first(current_user):
        return problem(EMAIL_FIRST, 403)
    attempt = request.form.get("attempt", "")
    if not ATTEMPT_PATTERN.match(attempt):
        attempt = secrets.token_urlsafe(12)
    try:
        session = start_checkout(attempt)
    except AccountGone as error:
        return problem(str(error), 410)
    except gateway.BillingError as error:
        return problem(str(error))
    return redirect(session["url"], 303)


def start_checkout(attempt: str) -> dict:
    """Create (or reuse) the customer, then open (or reuse) a Checkout Session, idempotently.

    ``attempt`` comes from the settings form, so a double click or a retry after a
    timeout sends the same idempotency keys and Stripe returns the first result.
    """
    price_id = current_app.config.get("STRIPE_PRICE_ID")
    if not price_id:
        raise gateway.BillingError("Memberships are not on sale yet; please try again later.")
    user = current_user._get_current_object()
    if not user.stripe_customer_id:
        user = with_a_customer(user, attempt)
    if db.session.get_bind().dialect.name != "sqlite":
        # Under the row lock again (until the request ends), Subscribe clicked in two tabs
        # at once opens one payment page: the second tab waits, then finds the first's
        # open. Their idempotency keys differ, as each tab's form carries its own attempt.
        # Not on SQLite: its one write lock, held while Stripe answers, would stall every
        # write on the site (production runs PostgreSQL).
        user = mapping.lock_member(user.id)
        if user is None:
            raise account_gone()
        if not user.stripe_customer_id:
            # Another tab found the customer gone and is making the next: a Checkout for
            # no customer would list, or bill, anyone's.
            raise gateway.BillingError(SET_UP_ELSEWHERE)
    base, user_id, customer_id = current_app.config["BASE_URL"], user.id, user.stripe_customer_id
    try:
        waiting = open_session_selling(customer_id, price_id)
        if waiting is not None:
            return waiting
        return gateway.create_checkout_session(
            customer_id=customer_id,
            user_id=user.id,
            price_id=price_id,
            success_url=f"{base}/billing/success?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=_settings_url(),
            idempotency_key=f"club-checkout-{user.id}-{attempt}",
        )
    except gateway.NotFound:
        # Ids, not the account: it may be gone by now, and reading it would raise.
        if not sync.forget_customer_if_gone(user_id, customer_id):
            raise
        if not account_exists(user_id):
            raise account_gone() from None
        # Once: the account has no customer now (or the one another tab made since), so
        # the next try makes a new one (or uses that).
        return start_checkout(f"{attempt}-new")


def linked_customer_id(user_id: int) -> str | None:
    """The account's Stripe customer as the database holds it now, not the session's copy."""
    return db.session.scalar(sa.select(User.stripe_customer_id).where(User.id == user_id))


def account_exists(user_id: int) -> bool:
    """Ask the database, not the session's copy, whether the account is still there."""
    return db.session.scalar(sa.select(User.id).where(User.id == user_id)) is not None


SET_UP_ELSEWHERE = "Your account changed while this page was open. Reload it and try again."


class AccountGone(gateway.BillingError):
    """The account was deleted (in another tab, say) while Stripe was being asked."""


def account_gone() -> AccountGone:
    """Sign out the session of an account deleted meanwhile; the error to raise."""
    logout_user()  # the answer is a visitor's
    return AccountGone(
        "Your account was deleted while this page was open, so no membership was set up "
        "and nothing was charged."
    )


def with_a_customer(user: User, attempt: str) -> User:
    """Create the account's Stripe customer and link it; return the account.

    Stripe is asked before the account's row is locked, not under the lock: on SQLite
    that lock is the whole database's, and every write on the site would wait on Stripe.
    Two tabs subscribing at once may then each make a customer: the first linked is the
    account's, and the other, which nothing bills yet, is deleted again.
    """
    customer = gateway.create_customer(
        user_id=user.id,
        email=user.email,
        name=user.display_name,
        idempotency_key=f"club-customer-{user.id}-{attempt}",
    )
    user = mapping.lock_member(user.id)
    if user is not None and user.stripe_customer_id is None:
        membership.link_customer(user, customer["id"])
    linked = user is not None and user.stripe_customer_id == customer["id"]
    # The customer now exists in Stripe: remember it even if the next call fails.
    db.session.commit()
    if not linked:
        # Another tab's customer was linked first, or the account was deleted meanwhile
        # (its deletion removes only the customer it had linked).
        try:
            gateway.delete_customer(customer["id"])
        except gateway.BillingError:
            log.warning("could not delete the unlinked Stripe customer %s", customer["id"])
    if user is None:
        raise account_gone()
    return user


def open_session_selling(customer_id: str, price_id: str) -> dict | None:
    """The customer's unpaid Checkout Session for ``price_id``, if one is still open.

    Subscribe clicked in a second tab, or again after going back from Stripe, opens the
    same payment page rather than a second one: two open pages could both be paid, and
    the member billed twice. (Stripe's "limit customers to one subscription" setting, in
    the README's set-up, also stops a payment once a subscription runs.)
    """
    for session in gateway.list_open_checkout_sessions(customer_id):
        metadata = session.get("metadata") or {}
        if metadata.get("price_id") == price_id and session.get("url"):
            return session
    return None


@bp.get("/success")
@login_required
@limiter.shared_limit(STRIPE_CALLS, scope="stripe-calls", key_func=per_account("billing"))
def success():
    """Confirm a finished Checkout by asking Stripe, never by trusting the URL.

    Recording what Stripe already says is idempotent, so doing it on this GET is safe:
    the member sees their membership at once instead of waiting for the webhook.
    """
    if plan.is_local():
        abort(404)
    session_id = request.args.get("session_id", "")
    if not re.match(r"^cs_[A-Za-z0-9_]{1,250}$", session_id):
        abort(404)
    observed_at = utcnow()
    try:
        session = gateway.retrieve_checkout_session(session_id)
    except gateway.NotFound:
        abort(404)
    except gateway.BillingError:
        # Stripe sends members here after they paid: "nothing was charged" would be false
        # and invite a second payment.
        return problem(PAYMENT_UNCHECKED)
    user = current_user._get_current_object()
    if not is_own_session(user, session):
        log.warning("user %s opened checkout session %s of another account", user.id, session_id)
        return problem("That checkout belongs to another account.", 403)
    subscription = session.get("subscription")
    try:
        worth_recording = mapping.is_worth_recording(user, subscription)
    except gateway.BillingError:
        return problem(PAYMENT_UNCHECKED)  # which product it sells: Stripe could not say
    if session.get("status") == "complete" and worth_recording:
        record_checkout(user.id, session, subscription, observed_at)
    return render_template("billing/success.html", complete=session.get("status") == "complete")


def is_own_session(user, session: dict) -> bool:
    """Tell whether a Checkout Session was started by ``user``."""
    customer_id = mapping.object_id(session.get("customer"))
    if mapping.checkout_account_id(session) != user.id:
        return False
    return user.stripe_customer_id in (None, customer_id)


def record_checkout(user_id: int, session: dict, subscription: dict, observed_at) -> None:
    """Apply a completed session's subscription to the member, commit, send mail."""
    user = mapping.lock_member(user_id)
    if user.stripe_customer_id is None:
        membership.link_customer(user, mapping.object_id(session.get("customer")))
    _apply_and_tell(user, subscription, observed_at)


def record_subscription(user_id: int, subscription: dict, observed_at) -> None:
    """Apply a subscription read from Stripe to the member, commit, send mail."""
    _apply_and_tell(mapping.lock_member(user_id), subscription, observed_at)


def _apply_and_tell(user: User, subscription: dict, observed_at) -> None:
    change = mapping.apply_stripe_subscription(user, subscription, observed_at=observed_at)
    db.session.commit()
    notices.send(notices.for_change(user, change))


@bp.post("/portal")
@form_on("settings.index", anchor="billing")
@login_required
@limiter.shared_limit(STRIPE_CALLS, scope="stripe-calls", key_func=per_account("billing"))
@membership.allowed_while_frozen
def portal():
    """Open the Stripe Customer Portal (or the local Manage page) for this account only."""
    if plan.is_local():
        return redirect(url_for("billing.local_manage"), 303)
    if not current_user.stripe_customer_id:
        return open_checkout()
    return open_portal()


def open_portal():
    """Create a Portal session for the signed-in account's own customer and redirect."""
    # Ids, not the account: after Stripe's answer it may be gone, and reading it would raise.
    user_id, customer_id = current_user.id, current_user.stripe_customer_id
    try:
        session = gateway.create_portal_session(customer_id=customer_id, return_url=_settings_url())
    except gateway.BillingError as error:
        if not isinstance(error, gateway.NotFound):
            return problem(str(error))
        try:
            gone = sync.forget_customer_if_gone(user_id, customer_id)
        except gateway.BillingError as failure:
            return problem(str(failure))
        if not gone:
            return problem(str(error))
        if not linked_customer_id(user_id):
            flash(
                "Stripe no longer holds a subscription for this account; you can subscribe again."
            )
        # Else a Subscribe in another tab made the next customer meanwhile: settings shows it.
        return redirect(url_for("settings.index"), 303)
    return redirect(session["url"], 303)


# --- The local test checkout ----------------------------------------------------------------


@bp.before_request
def local_routes_only_without_stripe():
    """The local pages exist only while no Stripe key is configured."""
    if request.endpoint in LOCAL_ENDPOINTS and not plan.is_local():
        abort(404)


@bp.get("/local/checkout")
@login_required
def local_checkout():
    """Show the clearly-labelled test checkout."""
    if membership.subscription_running(current_user):
        return redirect(url_for("billing.local_manage"))
    if must_confirm_email_first(current_user):
        return problem(EMAIL_FIRST, 403)
    return render_template(
        "billing/local_checkout.html", amount=plan.format_amount(plan.LOCAL_PRICE)
    )


@bp.post("/local/checkout")
@form_on("billing.local_checkout")
@login_required
@membership.allowed_while_frozen
def local_checkout_submit():
    """Pay or decline on the test checkout."""
    outcome = request.form.get("outcome")
    if outcome not in ("pay", "decline"):
        abort(400)
    user = current_user._get_current_object()
    if must_confirm_email_first(user):
        return problem(EMAIL_FIRST, 403)
    settles_overdue = outcome == "pay" and user.subscription_status not in membership.PAID_STATUSES
    if membership.subscription_running(user) and not settles_overdue:
        # A test checkout left open in another tab: it cannot touch the membership that is
        # running (a decline would fail it, a payment undo its cancellation); paying still
        # settles an overdue one.
        flash("Your membership is already running (test checkout): nothing changed.", "info")
        return redirect("/settings", 303)
    if outcome == "pay":
        local.pay(user)
        flash("Payment received (test checkout): your membership is active.", "success")
    else:
        local.decline(user)
        flash("The card was declined (test checkout): nothing was charged.", "error")
    return redirect("/settings", 303)


@bp.get("/local/manage")
@login_required
def local_manage():
    """Show the local stand-in for Stripe's Customer Portal."""
    return render_template("billing/local_manage.html")


@bp.post("/local/manage")
@form_on("billing.local_manage")
@login_required
@membership.allowed_while_frozen
def local_manage_submit():
    """Cancel, resume, end or fail a renewal of the local subscription."""
    action = request.form.get("action", "")
    if action not in local.MANAGE_ACTIONS:
        abort(400)
    try:
        local.manage(current_user._get_current_object(), action)
    except local.NotLive as error:
        db.session.rollback()
        return problem(str(error), 409)
    flash(local.MANAGE_DONE[action], "success")
    return redirect(url_for("billing.local_manage"), 303)


LOCAL_ENDPOINTS = frozenset(
    {
        "billing.local_checkout",
        "billing.local_checkout_submit",
        "billing.local_manage",
        "billing.local_manage_submit",
    }
)
