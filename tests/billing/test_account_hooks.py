"""Billing's part in account deletion, data export and the demo data."""

from __future__ import annotations

import html
import json
import re

import pytest
import sqlalchemy as sa

from billing import local
from billing.models import StripeEvent
from club import accounts, membership
from club.extensions import db
from club.models import User
from tests.billing.conftest import make_event, post_event, stripe_settings
from tests.club.conftest import last_link
from tests.conftest import PASSWORD, login, table_fingerprint
from worker import jobs


def flashed_errors(response) -> list[str]:
    """Return the error messages flashed on ``response``'s page, as the member reads them."""
    found = re.findall(r'<p class="flash flash-error"[^>]*>(.*?)</p>', response.text, re.S)
    return [html.unescape(message) for message in found]


def find(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(db.select(User).where(User.email == email))


class TestWithStripe:
    @pytest.fixture
    def app_config(self, app_config: dict, localstripe_url: str) -> dict:
        return {**app_config, **stripe_settings(localstripe_url)}

    @pytest.fixture
    def paying(self, stripe_peer, erin) -> tuple[User, dict]:
        customer = stripe_peer.customer(erin.email)
        membership.link_customer(erin, customer)
        db.session.commit()
        return erin, stripe_peer.subscribe(customer, stripe_peer.plan())

    def test_it_cancels_the_subscription_when_the_member_deletes_the_account(
        self, client, stripe_peer, paying
    ):
        user, sub = paying
        login(client, user)

        response = client.submit("/settings/delete", {"password": PASSWORD, "confirm": "y"})

        assert response.status_code == 303
        assert find(user.email) is None
        assert stripe_peer.get(f"/v1/subscriptions/{sub['id']}")["status"] == "canceled"
        assert stripe_peer.get(f"/v1/customers/{sub['customer']}")["deleted"] is True

    def test_it_keeps_the_customer_when_the_deletion_is_rolled_back(self, stripe_peer, paying):
        user, sub = paying
        accounts.delete_account(user)  # billing's part has run: charging has stopped
        # ...but the deletion never commits (a database error, a lock timeout).
        db.session.rollback()

        customer = stripe_peer.get(f"/v1/customers/{sub['customer']}")
        assert not customer.get("deleted")
        assert customer["invoice_settings"]["default_payment_method"] == "pm_card_visa"
        # The member subscribes again with the saved card; the club sees it on the same
        # customer, so Checkout and the portal still work for this account.
        again = stripe_peer.subscribe(sub["customer"], stripe_peer.plan())
        jobs.reconcile_member(user.id)
        member = find(user.email)
        assert (member.stripe_customer_id, member.subscription_id) == (sub["customer"], again["id"])
        assert membership.standing(member).can_interact

    def test_it_sends_stripe_the_new_email_so_receipts_follow_the_member(
        self, client, stripe_peer, paying, outbox
    ):
        user, sub = paying
        login(client, user)
        client.submit(
            "/settings/email", {"new_email": "erin.new@example.com", "password": PASSWORD}
        )

        response = client.submit(last_link(outbox, "/settings/email/"))

        assert response.status_code == 303
        customer = stripe_peer.get(f"/v1/customers/{sub['customer']}")
        assert (customer["email"], customer["name"]) == ("erin.new@example.com", user.display_name)

    def test_it_sends_stripe_a_new_display_name_for_receipts(self, client, stripe_peer, paying):
        user, sub = paying
        login(client, user)

        profile = {"display_name": "Erin Newname", "handle": user.handle, "bio": ""}
        assert client.submit("/settings/profile", profile).status_code == 303

        assert stripe_peer.get(f"/v1/customers/{sub['customer']}")["name"] == "Erin Newname"

    def test_it_keeps_the_new_email_when_stripe_cannot_be_reached(
        self, app, client, paying, outbox
    ):
        user, _ = paying
        login(client, user)
        client.submit(
            "/settings/email", {"new_email": "erin.new@example.com", "password": PASSWORD}
        )
        app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"
        app.extensions.pop("stripe_client", None)

        response = client.submit(last_link(outbox, "/settings/email/"))

        assert response.status_code == 303
        assert find("erin.new@example.com") is not None

    def test_it_forgets_what_stripe_sent_about_a_deleted_account(self, client, stripe_peer, paying):
        user, sub = paying
        customer = {"id": sub["customer"], "object": "customer", "email": user.email}
        post_event(client, make_event("customer.updated", customer))
        login(client, user)

        client.submit("/settings/delete", {"password": PASSWORD, "confirm": "y"})
        # Deleting the customer makes Stripe send more about it, after the account is gone.
        late = make_event("customer.deleted", customer)
        assert post_event(client, late).status_code == 200
        assert post_event(client, late).status_code == 200  # a redelivery is still a no-op

        payloads = db.session.scalars(sa.select(StripeEvent.payload)).all()
        assert len(payloads) == 1
        assert not [p for p in payloads if user.email in p or sub["customer"] in p]

    def test_it_forgets_what_stripe_sent_about_a_customer_deleted_before_the_account(
        self, client, paying
    ):
        user, sub = paying
        customer = {"id": sub["customer"], "object": "customer", "email": user.email}
        post_event(client, make_event("customer.updated", customer))
        # The customer is deleted in Stripe's dashboard: the account stays, unlinked...
        post_event(client, make_event("customer.deleted", customer))
        login(client, user)
        # ...and later the member leaves, with no customer left to name.
        client.submit("/settings/delete", {"password": PASSWORD, "confirm": "y"})

        payloads = db.session.scalars(sa.select(StripeEvent.payload)).all()
        assert len(payloads) == 2
        assert not [p for p in payloads if user.email in p or sub["customer"] in p]

    def test_it_keeps_the_account_when_stripe_cannot_cancel(self, app, client, paying):
        user, _ = paying
        app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"
        app.extensions.pop("stripe_client", None)
        login(client, user)

        response = client.submit("/settings/delete", {"password": PASSWORD, "confirm": "y"})

        assert response.status_code == 409
        # One message, saying once that nothing was deleted.
        assert flashed_errors(response) == [
            "Your account was not deleted: we could not cancel your subscription with our "
            "payment provider. Nothing was charged; please try again in a few minutes."
        ]
        assert find(user.email) is not None


class TestWhenStripeFailsHalfway:
    """The subscription is cancelled, then deleting the customer fails."""

    @pytest.fixture
    def app_config(self, app_config: dict, recording_stripe) -> dict:
        return {**app_config, **stripe_settings(recording_stripe.url, STRIPE_TIMEOUT_SECONDS=1)}

    def test_it_deletes_the_account_once_charging_has_stopped(self, client, erin, recording_stripe):
        sub = {"id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "active"}
        recording_stripe.answer("GET", "/v1/subscriptions", {"object": "list", "data": [sub]})
        recording_stripe.answer("DELETE", "/v1/subscriptions/sub_1", {**sub, "status": "canceled"})
        boom = {"error": {"type": "api_error", "message": "boom"}}
        recording_stripe.answer("DELETE", "/v1/customers/cus_1", (500, boom))
        membership.link_customer(erin, "cus_1")
        db.session.commit()
        login(client, erin)

        response = client.submit("/settings/delete", {"password": PASSWORD, "confirm": "y"})

        # Not "we could not cancel your subscription": it was cancelled, so the account goes.
        assert response.status_code == 303
        assert find(erin.email) is None
        assert len(recording_stripe.calls("DELETE", "/v1/subscriptions/sub_1")) == 1
        # The customer's deletion is tried again as a job (inline here, without Redis).
        assert len(recording_stripe.calls("DELETE", "/v1/customers/cus_1")) >= 2


def test_it_adds_the_membership_to_the_data_export(client, alice):
    login(client, alice)

    response = client.submit("/settings/export")

    exported = json.loads(response.get_data(as_text=True))
    assert exported["membership"]["status"] == "Active"
    assert exported["membership"]["price"] == "$1.00/month"
    # The same key whatever the state; the label says what the date means.
    assert exported["membership"]["period_end"] is not None
    assert exported["membership"]["period_end_label"] == "Renews on"


def test_it_gives_the_demo_accounts_their_standing_through_the_test_checkout(runner):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output

    member, frozen = find("member@example.com"), find("frozen@example.com")
    assert member.subscription_id.startswith(local.LOCAL_PREFIX)
    assert membership.standing(member).badge
    assert membership.standing(frozen).reason is membership.Reason.PAYMENT_FAILED
    assert "declined" in frozen.last_payment_error

    before = table_fingerprint()["users"]
    runner.invoke(args=["demo", "seed"])
    assert table_fingerprint()["users"] == before
