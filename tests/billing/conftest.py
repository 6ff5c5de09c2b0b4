"""Billing fixtures: localstripe, a recording Stripe stand-in, a live app server, signed events.

Stripe itself cannot be reached from here. The billing suite talks to real peers instead:
localstripe (a stateful fake Stripe, run as a subprocess) for the subscription lifecycle,
and a small recording HTTP server for the calls localstripe lacks (Checkout, Portal,
Prices), where the test asserts the exact parameters the SDK sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from flask import Flask

from club import membership
from club.extensions import db
from club.models import User
from tests.live_server import serving

SECRET_KEY = "sk_test_club_billing"
WEBHOOK_SECRET = "whsec_test_club_billing"
BLACKHOLE = "http://127.0.0.1:9/nowhere"
MEMBERSHIP_PRICE = "price_test_monthly"  # STRIPE_PRICE_ID; localstripe names its plan so


@pytest.fixture(autouse=True)
def _fast_sqlite(app: Flask) -> None:
    """Skip fsync on the throwaway SQLite test file: the storm test commits ~1,000 times."""
    if db.engine.dialect.name != "sqlite":
        return

    def no_sync(connection, record) -> None:
        connection.execute("PRAGMA synchronous=OFF")

    sa.event.listen(db.engine, "connect", no_sync)
    db.engine.dispose()


# --- Signed events ---------------------------------------------------------------------


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, t: int | None = None) -> str:
    """Return a Stripe-Signature header exactly as Stripe computes it."""
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


_event_numbers = iter(range(1, 10**9))


def make_event(type_: str, obj: dict, *, event_id: str | None = None, created=None) -> dict:
    """Return a Stripe-shaped event around ``obj``."""
    return {
        "id": event_id or f"evt_test_{next(_event_numbers)}",
        "object": "event",
        "type": type_,
        "created": int(time.time()) if created is None else created,
        "livemode": False,
        "api_version": "2017-08-15",
        "data": {"object": obj},
    }


def encode(event: dict) -> bytes:
    return json.dumps(event).encode()


def post_event(client, event: dict | bytes, secret: str = WEBHOOK_SECRET, t=None):
    """Deliver a signed event to the app through the test client."""
    payload = event if isinstance(event, bytes) else encode(event)
    return client.post(
        "/billing/webhook",
        data=payload,
        headers={"Stripe-Signature": sign(payload, secret, t), "Content-Type": "application/json"},
    )


# --- localstripe -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    """Start localstripe once per run on a free port; stop it at the end."""
    script = Path(__file__).with_name("localstripe_main.py")
    process = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        port = int(process.stdout.readline().strip())
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/v1/customers", auth=(SECRET_KEY, ""), timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("localstripe did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


class LocalStripe:
    """Drive localstripe directly, as Stripe's dashboard or its clock would."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, auth=(SECRET_KEY, ""), timeout=10)

    def post(self, path: str, data: dict | None = None) -> dict:
        response = self.http.post(path, data=data or {})
        return self._json(response)

    def get(self, path: str, params: dict | None = None) -> dict:
        return self._json(self.http.get(path, params=params))

    def delete(self, path: str) -> dict:
        return self._json(self.http.delete(path))

    @staticmethod
    def _json(response: httpx.Response) -> dict:
        body = response.json()
        if response.status_code >= 400:
            raise LocalStripeError(response.status_code, body)
        return body

    def send_webhooks_to(self, url: str, secret: str = WEBHOOK_SECRET) -> None:
        self.http.post("/_config/webhooks/club", data={"url": url, "secret": secret})

    def wipe(self) -> None:
        self.http.delete("/_config/data").raise_for_status()
        self.send_webhooks_to(BLACKHOLE)

    # Domain helpers
    def plan(self) -> str:
        """The membership's plan: the one ``STRIPE_PRICE_ID`` names (``stripe_settings``)."""
        try:
            return self.get(f"/v1/plans/{MEMBERSHIP_PRICE}")["id"]
        except LocalStripeError:
            return self.other_plan(plan_id=MEMBERSHIP_PRICE)

    def other_plan(self, amount: int = 100, plan_id: str | None = None) -> str:
        """A plan the Stripe account sells besides the membership (or, named, the membership)."""
        product = self.post("/v1/products", {"name": "Billionaire Club membership"})
        params = {"product": product["id"], "amount": amount, "currency": "usd"}
        params |= {"interval": "month"} | ({"id": plan_id} if plan_id else {})
        plan = self.post("/v1/plans", params)
        return plan["id"]

    def customer(self, email: str, card: str = "pm_card_visa") -> str:
        customer = self.post("/v1/customers", {"email": email})
        self.use_card(customer["id"], card)
        return customer["id"]

    def use_card(self, customer_id: str, card: str) -> None:
        """Attach ``card`` (a test PaymentMethod id) and make it the default."""
        self.post(f"/v1/payment_methods/{card}/attach", {"customer": customer_id})
        self.post(
            f"/v1/customers/{customer_id}",
            {"invoice_settings[default_payment_method]": card},
        )

    def subscribe(self, customer_id: str, plan_id: str) -> dict:
        return self.post("/v1/subscriptions", {"customer": customer_id, "items[0][plan]": plan_id})

    def card_needing_authentication_then_declined(self) -> str:
        """A card that asks for 3-D Secure and is then declined (4000 0082 6000 3178)."""
        pm = self.post(
            "/v1/payment_methods",
            {
                "type": "card",
                "card[number]": "4000008260003178",
                "card[exp_month]": "12",
                "card[exp_year]": "2040",
                "card[cvc]": "123",
            },
        )
        return pm["id"]

    def fail_next_invoice(self, customer_id: str, subscription_id: str) -> None:
        """Make the subscription past due the way localstripe can.

        localstripe's ``/pay`` swallows an immediate card failure, so: switch the default
        card to one that needs authentication and is then declined, force a new invoice,
        pay it (→ requires_action), then complete authentication. The declined charge
        makes localstripe emit ``invoice.payment_failed`` and mark the subscription
        ``past_due`` (resources.py: PaymentIntent._api_authenticate → _report_failure →
        Invoice._on_payment_failure_now → Subscription._on_recurring_payment_failure).
        """
        self.use_card(customer_id, self.card_needing_authentication_then_declined())
        invoice = self.post(
            "/v1/invoices", {"customer": customer_id, "subscription": subscription_id}
        )
        invoice = self.post(f"/v1/invoices/{invoice['id']}/pay")
        intent = self.get(f"/v1/payment_intents/{invoice['payment_intent']}")
        try:
            self.post(
                f"/v1/payment_intents/{intent['id']}/_authenticate",
                {"client_secret": intent["client_secret"], "success": "true"},
            )
        except LocalStripeError as error:
            assert error.status == 402  # the decline itself
        else:
            raise AssertionError("the charge should have been declined")


class LocalStripeError(Exception):
    def __init__(self, status: int, body: dict) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


@pytest.fixture
def stripe_peer(localstripe_url: str) -> Iterator[LocalStripe]:
    """localstripe, emptied, delivering webhooks nowhere until a test says otherwise."""
    peer = LocalStripe(localstripe_url)
    peer.wipe()
    try:
        yield peer
    finally:
        peer.wipe()
        peer.http.close()


def stripe_settings(api_base: str, **extra) -> dict:
    return {
        "BILLING_BACKEND": "stripe",
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": api_base,
        "STRIPE_PRICE_ID": MEMBERSHIP_PRICE,
        "STRIPE_MAX_NETWORK_RETRIES": 0,
        "STRIPE_TIMEOUT_SECONDS": 5,
        "BASE_URL": "http://club.test",
        **extra,
    }


# --- A live app server ----------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """Serve ``app`` over real HTTP on 127.0.0.1 (a free port) in a thread."""
    with serving(app) as base_url:
        yield LiveServer(base_url)


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition"):
    """Poll ``predicate`` (re-reading the database each time) until it holds."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()
        db.session.expire_all()
        if predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


# --- A recording Stripe stand-in --------------------------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    form: dict
    headers: dict


Responder = Callable[[Recorded], tuple[int, dict]]


@dataclass
class RecordingStripe:
    """An HTTP server that records each request and answers from ``routes``."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    routes: dict[tuple[str, str], Responder | tuple[int, dict]] = field(default_factory=dict)
    delay: float = 0.0

    def answer(self, method: str, path: str, response: Responder | tuple[int, dict] | dict):
        self.routes[(method, path)] = (
            response if not isinstance(response, dict) else (200, response)
        )

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]


@pytest.fixture
def recording_stripe() -> Iterator[RecordingStripe]:
    """A recording server to point STRIPE_API_BASE at."""
    state = RecordingStripe()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            record = Recorded(
                self.command,
                parts.path,
                dict(parse_qsl(parts.query)),
                dict(parse_qsl(body)),
                {k.lower(): v for k, v in self.headers.items()},
            )
            state.requests.append(record)
            if state.delay:
                time.sleep(state.delay)
            route = state.routes.get((self.command, parts.path))
            if route is None:
                status, reply = (
                    404,
                    {
                        "error": {
                            "type": "invalid_request_error",
                            "code": "resource_missing",
                            "message": f"No such route {parts.path}",
                        }
                    },
                )
            elif callable(route):
                status, reply = route(record)
            else:
                status, reply = route
            data = json.dumps(reply).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_test")
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = do_DELETE = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- Helpers the billing tests share -------------------------------------------------------


def subscribed(peer, user: User, *, link: bool = True) -> dict:
    """Give ``user`` a customer and an active subscription on localstripe."""
    customer = peer.customer(user.email)
    if link:
        membership.link_customer(user, customer)
        db.session.commit()
    return peer.subscribe(customer, peer.plan())


def membership_items(**item: object) -> dict:
    """A subscription's ``items`` as Stripe writes them, for one item on the membership."""
    price = {"id": MEMBERSHIP_PRICE, "object": "price", "product": "prod_membership"}
    return {"object": "list", "data": [{"id": "si_membership", "price": price, **item}]}


def reload(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


# What the recording stand-in answers for a Checkout: a customer, a session, a portal.
CUSTOMER = {"id": "cus_rec_1", "object": "customer"}
CHECKOUT = {
    "id": "cs_test_rec_1",
    "object": "checkout.session",
    "url": "https://checkout.stripe.com/c/pay/cs_test_rec_1",
}
PORTAL = {
    "id": "bps_1",
    "object": "billing_portal.session",
    "url": "https://billing.stripe.com/p/session/test_1",
}


@pytest.fixture
def stripe_api(recording_stripe):
    """The recording stand-in, ready to answer Subscribe: customer, Checkout, portal."""
    recording_stripe.answer("POST", "/v1/customers", CUSTOMER)
    recording_stripe.answer("POST", "/v1/checkout/sessions", CHECKOUT)
    recording_stripe.answer("POST", "/v1/billing_portal/sessions", PORTAL)
    recording_stripe.answer("GET", "/v1/checkout/sessions", {"object": "list", "data": []})
    return recording_stripe
