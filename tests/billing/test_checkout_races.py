"""Subscribe racing itself and others: two tabs at once, a slow Stripe, an account that
changes while Stripe answers. Against the recording Stripe stand-in (see test_checkout)."""

from __future__ import annotations

import threading
import time

import pytest

from club import accounts, membership
from club.extensions import db
from club.models import User
from tests.billing.conftest import reload, stripe_settings
from tests.billing.test_checkout import stripe_keeping_checkout_sessions
from tests.conftest import is_postgres, login, make_article


@pytest.fixture
def app_config(app_config: dict, recording_stripe) -> dict:
    return {**app_config, **stripe_settings(recording_stripe.url, STRIPE_TIMEOUT_SECONDS=5)}


def subscribe_in_two_tabs_at_once(app, user: User) -> list[str]:
    """Press Subscribe in two tabs at the same moment; return where each was sent."""
    tabs = [app.test_client() for _ in range(2)]
    for tab in tabs:
        login(tab, user)
    forms = [{"csrf_token": tab.csrf_token(), "attempt": f"tab-{n}-attempt"} for n, tab in
             enumerate(tabs)]  # fmt: skip
    barrier, locations = threading.Barrier(2), []

    def press(tab, form) -> None:
        barrier.wait()
        locations.append(tab.post("/billing/checkout", data=form).headers.get("Location"))

    threads = [threading.Thread(target=press, args=pair) for pair in zip(tabs, forms, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return locations


@pytest.mark.skipif(not is_postgres(), reason="needs row locks: CI's PostgreSQL pass runs it")
@pytest.mark.parametrize("returning", [True, False], ids=["returning", "new customer"])
def test_subscribe_in_two_tabs_at_once_opens_one_payment_page(app, erin, stripe_api, returning):
    """Each tab's form carries its own idempotency key: only the member's row lock, held
    while Stripe is asked, keeps the second tab from opening a second payable page. (On
    SQLite the lock would stall the whole site; see the next test.)"""
    if returning:
        membership.link_customer(erin, "cus_rec_1")
        db.session.commit()
    created = stripe_keeping_checkout_sessions(stripe_api, "cus_rec_1", seconds_to_create=0.3)

    locations = subscribe_in_two_tabs_at_once(app, erin)

    assert len(created) == 1
    assert locations == [created[0]["url"]] * 2


def slow_customer(seconds: float):
    """A Stripe that takes ``seconds`` to create each customer, each with its own id."""
    made: list[str] = []

    def create(request) -> tuple[int, dict]:
        made.append(f"cus_made_{len(made) + 1}")
        customer_id = made[-1]
        time.sleep(seconds)
        return 200, {"id": customer_id, "object": "customer"}

    return create, made


@pytest.mark.parametrize("returning", [True, False], ids=["returning", "new customer"])
def test_a_slow_stripe_behind_one_subscribe_holds_up_no_one_else(
    app, erin, alice, stripe_api, returning
):
    """Another member's comment goes through while Stripe takes its time with a Checkout,
    or with the customer a first Subscribe makes (on SQLite a lock is the database's)."""
    app.config["STRIPE_TIMEOUT_SECONDS"] = 10
    if returning:
        membership.link_customer(erin, "cus_rec_1")
        db.session.commit()
        stripe_keeping_checkout_sessions(stripe_api, "cus_rec_1", seconds_to_create=3)
    else:
        stripe_api.answer("POST", "/v1/customers", slow_customer(3)[0])
    article = make_article()
    subscriber, commenter = app.test_client(), app.test_client()
    login(subscriber, erin)
    login(commenter, alice)
    form = {"csrf_token": subscriber.csrf_token(), "attempt": "slow-stripe-1"}
    pressed = threading.Thread(target=lambda: subscriber.post("/billing/checkout", data=form))
    pressed.start()
    time.sleep(0.5)  # Stripe is making the page now

    started = time.monotonic()
    comment = {"body": "Walked today.", "client_token": "slow-stripe-comment-1"}
    response = commenter.submit(f"/articles/{article.id}/comments", comment)
    waited = time.monotonic() - started
    pressed.join(30)

    assert response.status_code == 303
    assert waited < 1.5


def test_two_tabs_making_the_first_customer_at_once_leave_one_and_delete_the_other(
    app, erin, stripe_api
):
    """Customers are made before the account is locked: the first linked is the account's,
    and the second, which nothing bills, does not linger in Stripe."""
    create, made = slow_customer(0.3)
    stripe_api.answer("POST", "/v1/customers", create)
    for n in (1, 2):
        stripe_api.answer("DELETE", f"/v1/customers/cus_made_{n}", {"deleted": True})

    subscribe_in_two_tabs_at_once(app, erin)

    assert sorted(made) == ["cus_made_1", "cus_made_2"]
    linked = reload(erin).stripe_customer_id
    deleted = [call.path for call in stripe_api.requests if call.method == "DELETE"]
    assert linked in made and deleted == [f"/v1/customers/{c}" for c in made if c != linked]


@pytest.mark.skipif(not is_postgres(), reason="needs row locks: CI's PostgreSQL pass runs it")
def test_a_tab_waiting_while_another_replaces_a_deleted_customer_opens_no_strangers_page(
    app, erin, stripe_api
):
    """Stripe deleted the account's customer: the first tab unlinks it and makes the next.
    The second, let through the lock in between, must not ask Stripe about no customer:
    Stripe would list every open Checkout on the account, another member's among them."""
    membership.link_customer(erin, "cus_gone")
    db.session.commit()
    create, _ = slow_customer(0.5)
    missing = {"error": {"type": "invalid_request_error", "code": "resource_missing",
                         "message": "No such customer: 'cus_gone'"}}  # fmt: skip
    strangers = {"object": "list", "data": [{
        "id": "cs_alice", "object": "checkout.session", "status": "open", "created": 1,
        "customer": "cus_alice", "url": "https://checkout.stripe.com/c/pay/cs_ALICE",
        "metadata": {"user_id": "999", "price_id": "price_test_monthly"},
    }]}  # fmt: skip

    def list_open(request) -> tuple[int, dict]:
        if request.query.get("customer") == "cus_gone":
            time.sleep(0.3)
            return 404, missing
        if "customer" not in request.query:  # Stripe: every open Checkout of the account
            return 200, strangers
        return 200, {"object": "list", "data": []}

    stripe_api.answer("POST", "/v1/customers", create)
    stripe_api.answer("GET", "/v1/customers/cus_gone", {"id": "cus_gone", "deleted": True})
    stripe_api.answer("GET", "/v1/checkout/sessions", list_open)
    stripe_api.answer("GET", "/v1/subscriptions", {"object": "list", "data": []})

    locations = subscribe_in_two_tabs_at_once(app, erin)

    assert not any("cs_ALICE" in (where or "") for where in locations)
    asked = stripe_api.calls("GET", "/v1/checkout/sessions")
    assert all("customer" in call.query for call in asked)
    assert all(
        call.form.get("customer") for call in stripe_api.calls("POST", "/v1/checkout/sessions")
    )


def subscribe_while_the_account_is_deleted(app, user: User, after: float) -> None:
    """Press Subscribe and, ``after`` seconds into it, delete the account from elsewhere;
    check that Subscribe says what happened."""
    tab = app.test_client()
    login(tab, user)
    form = {"csrf_token": tab.csrf_token(), "attempt": "deleted-meanwhile"}
    answered = []
    pressed = threading.Thread(
        target=lambda: answered.append(tab.post("/billing/checkout", data=form))
    )
    pressed.start()
    time.sleep(after)  # Stripe is answering now
    accounts.delete_account(db.session.get(User, user.id))
    db.session.commit()
    pressed.join(30)
    (response,) = answered  # none if it raised
    assert response.status_code == 410
    said = "Your account was deleted while this page was open, so no membership was set up"
    assert said in response.get_data(as_text=True)


def test_an_account_deleted_while_stripe_makes_its_customer_leaves_no_customer_behind(
    app, erin, stripe_api
):
    """The deletion removes only the customer it finds linked: the one made meanwhile
    must go too, with the member's email and name in it."""
    create, made = slow_customer(1.0)
    stripe_api.answer("POST", "/v1/customers", create)
    stripe_api.answer("DELETE", "/v1/customers/cus_made_1", {"deleted": True})
    subscribe_while_the_account_is_deleted(app, erin, after=0.4)

    assert made == ["cus_made_1"]
    assert [c.path for c in stripe_api.requests if c.method == "DELETE"] == [
        "/v1/customers/cus_made_1"
    ]


GONE = {"error": {"type": "invalid_request_error", "code": "resource_missing",
                  "message": "No such customer: 'cus_gone'"}}  # fmt: skip


def stripe_opening_checkouts(stripe_api) -> list[dict]:
    """Make the stand-in open a Checkout for whatever customer it is asked; return them."""
    opened: list[dict] = []

    def create(request) -> tuple[int, dict]:
        number = len(opened) + 1
        opened.append({
            "id": f"cs_{number}", "object": "checkout.session", "status": "open",
            "customer": request.form["customer"], "metadata": {},
            "url": f"https://checkout.stripe.com/c/pay/cs_{number}",
        })  # fmt: skip
        return 200, opened[-1]

    stripe_api.answer("POST", "/v1/checkout/sessions", create)
    stripe_api.answer("GET", "/v1/customers/cus_gone", {"id": "cus_gone", "deleted": True})
    stripe_api.answer("GET", "/v1/subscriptions", {"object": "list", "data": []})
    return opened


def test_two_tabs_replacing_a_deleted_customer_bill_the_one_the_account_keeps(
    app, erin, stripe_api
):
    """Both tabs find the account's customer deleted. The second to find out must not
    unlink the one the first made since: the first tab's page would bill a customer no
    account holds, and its payment would buy nothing."""
    membership.link_customer(erin, "cus_gone")
    db.session.commit()
    create, _ = slow_customer(0.3)
    asked_about_gone: list[int] = []

    def list_open(request) -> tuple[int, dict]:
        if request.query.get("customer") == "cus_gone":
            asked_about_gone.append(1)
            time.sleep(0.1 if len(asked_about_gone) == 1 else 1.5)
            return 404, GONE
        return 200, {"object": "list", "data": []}

    stripe_api.answer("POST", "/v1/customers", create)
    stripe_api.answer("GET", "/v1/checkout/sessions", list_open)
    opened = stripe_opening_checkouts(stripe_api)

    subscribe_in_two_tabs_at_once(app, erin)

    linked = reload(erin).stripe_customer_id
    assert linked and opened
    assert all(session["customer"] == linked for session in opened)


def test_manage_finding_the_customer_deleted_keeps_the_one_subscribe_made_meanwhile(
    app, erin, stripe_api
):
    membership.link_customer(erin, "cus_gone")
    db.session.commit()
    create, _ = slow_customer(0.2)

    def portal(request) -> tuple[int, dict]:
        time.sleep(1.5)  # Subscribe replaces the customer meanwhile
        return 404, GONE

    def list_open(request) -> tuple[int, dict]:
        if request.query.get("customer") == "cus_gone":
            return 404, GONE
        return 200, {"object": "list", "data": []}

    stripe_api.answer("POST", "/v1/customers", create)
    stripe_api.answer("GET", "/v1/checkout/sessions", list_open)
    stripe_api.answer("POST", "/v1/billing_portal/sessions", portal)
    opened = stripe_opening_checkouts(stripe_api)
    manage_tab, subscribe_tab = app.test_client(), app.test_client()
    for tab in (manage_tab, subscribe_tab):
        login(tab, erin)
    manage_form = {"csrf_token": manage_tab.csrf_token()}
    subscribe_form = {"csrf_token": subscribe_tab.csrf_token(), "attempt": "subscribe-tab"}
    manage = threading.Thread(target=lambda: manage_tab.post("/billing/portal", data=manage_form))
    manage.start()
    time.sleep(0.3)  # Manage is waiting on Stripe
    subscribe_tab.post("/billing/checkout", data=subscribe_form)
    manage.join(30)

    linked = reload(erin).stripe_customer_id
    assert linked and [session["customer"] for session in opened] == [linked]
    # Nor does Manage tell the member to subscribe again: they just did.
    assert "you can subscribe again" not in manage_tab.get("/settings").get_data(as_text=True)


def test_an_account_deleted_while_a_returning_member_subscribes_answers_plainly(
    app, erin, stripe_api
):
    membership.link_customer(erin, "cus_gone")
    db.session.commit()

    def list_open(request) -> tuple[int, dict]:
        time.sleep(1.0)  # the account is deleted meanwhile
        return 404, GONE

    stripe_api.answer("GET", "/v1/checkout/sessions", list_open)
    stripe_api.answer("DELETE", "/v1/customers/cus_gone", {"deleted": True})
    stripe_opening_checkouts(stripe_api)
    subscribe_while_the_account_is_deleted(app, erin, after=0.5)
