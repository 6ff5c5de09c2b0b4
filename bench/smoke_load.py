"""Smoke load against the production processes: mixed traffic, zero 5xx, comments stored once.

    DATABASE_URL=postgresql://... REDIS_URL=redis://... python bench/smoke_load.py --start-prod

starts ``platform/run_local_prod.py`` (gunicorn with 2 workers + one RQ worker with the
scheduler) on a free port against those services, seeds members and articles through the
app, then sends at least 2,000 requests from 16 concurrent clients: reads (front page,
article pages, search), sign-ins, comments, likes and signed Stripe webhooks (10 % of them
redeliveries). It fails unless every response is below 500, the run takes at most two
minutes, and every comment the site accepted is stored exactly once (and none it refused).
``--url`` targets a site that is already running (its STRIPE_WEBHOOK_SECRET must match).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "smoke-load-password"
WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET") or "whsec_smoke_load"
MEMBERS = 40
ARTICLES = 20
CLIENTS = 16
BUDGET_SECONDS = 120
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
MIX = [("read", 64), ("sign_in", 5), ("comment", 13), ("like", 10), ("webhook", 8)]
SIGN_IN_REQUESTS = 3


@dataclass
class Tally:
    """What the run saw, shared by every client thread."""

    statuses: Counter = field(default_factory=Counter)
    by_action: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    accepted_comments: list[tuple[int, str]] = field(default_factory=list)
    refused_comments: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, action: str, response: httpx.Response) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            self.by_action[action] += 1
            self.seconds[action] += response.elapsed.total_seconds()
            if response.status_code >= 500:
                url, status = response.request.url, response.status_code
                self.server_errors.append(f"{action} {url} -> {status}")

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


# --- Setup -------------------------------------------------------------------------------


def seed(tag: str) -> tuple[list[dict], list[int]]:
    """Create paying members and published articles for this run; return them."""
    from articles.models import Article, Feed
    from club import create_app, membership
    from club.clock import utcnow
    from club.extensions import db
    from club.models import User

    app = create_app()
    with app.app_context():
        members = []
        for n in range(MEMBERS):
            user = User(
                email=f"smoke-{tag}-{n}@example.com",
                handle=f"smoke{tag}{n}",
                display_name=f"Smoke Member {n}",
                email_confirmed_at=utcnow(),
            )
            user.set_password(PASSWORD)
            db.session.add(user)
            db.session.flush()
            membership.apply_subscription(
                user,
                subscription_id=f"sub_smoke_{tag}_{n}",
                status="active",
                period_end=utcnow() + timedelta(days=30),
                observed_at=utcnow(),
            )
            address = f"10.77.{n // 250}.{n % 250}"
            members.append({"id": user.id, "email": user.email, "ip": address})
        feed = Feed(url=f"https://smoke.example.com/{tag}.xml", title=f"Smoke {tag}")
        db.session.add(feed)
        db.session.flush()
        articles = [
            Article(
                feed=feed,
                guid=f"smoke-{tag}-{n}",
                url=f"https://smoke.example.com/{tag}/{n}",
                title=f"Smoke test article {n} about sleep",
                summary="Sleep, exercise and the heart.",
                status="published",
            )
            for n in range(ARTICLES)
        ]
        db.session.add_all(articles)
        db.session.commit()
        return members, [a.id for a in articles]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def migrate() -> None:
    """Bring ``DATABASE_URL``'s schema up to date (``flask db upgrade``)."""
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "club", "db", "upgrade"], cwd=ROOT, check=True
    )


def start_prod(port: int) -> subprocess.Popen:
    """Start the production processes (``make prod``) on ``port``."""
    env = dict(
        os.environ,
        PORT=str(port),
        WEB_CONCURRENCY="2",
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        # The load comes from many members through one "load balancer": believe its
        # X-Forwarded-For so per-address limits apply per member, as in production.
        TRUSTED_PROXY_HOPS="1",
    )
    return subprocess.Popen(
        [sys.executable, str(ROOT / "platform" / "run_local_prod.py")], cwd=ROOT, env=env
    )


def wait_healthy(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    sys.exit(f"the site at {base} did not become healthy in {timeout}s")


# --- Traffic -----------------------------------------------------------------------------


class Member:
    """One member's browser: a cookie jar, a CSRF token and the likes it has given."""

    def __init__(self, base: str, member: dict, tally: Tally) -> None:
        self.base, self.member, self.tally = base, member, tally
        self.liked: set[int] = set()
        self.client: httpx.Client | None = None
        self.csrf = ""

    def request(self, action: str, method: str, url: str, **kwargs) -> httpx.Response:
        headers = {"X-Forwarded-For": self.member["ip"], **kwargs.pop("headers", {})}
        response = self.client.request(method, url, headers=headers, **kwargs)
        self.tally.record(action, response)
        return response

    def sign_in(self) -> None:
        if self.client is not None:
            self.client.close()
        self.client = httpx.Client(base_url=self.base, timeout=30, follow_redirects=False)
        page = self.request("sign_in", "GET", "/login")
        self.csrf = CSRF.search(page.text).group(1)
        form = {"email": self.member["email"], "password": PASSWORD, "csrf_token": self.csrf}
        self.request("sign_in", "POST", "/login", data=form)
        # Signing in starts a new session (and CSRF token): read the front page for it.
        front = self.request("read", "GET", "/")
        found = CSRF.search(front.text)
        self.csrf = found.group(1) if found else self.csrf

    def read(self, article_ids: list[int]) -> None:
        url = random.choice(
            ["/", f"/articles/{random.choice(article_ids)}", "/search?q=sleep", "/videos"]
        )
        self.request("read", "GET", url)

    def comment(self, article_ids: list[int]) -> None:
        token = uuid.uuid4().hex
        form = {"body": f"Smoke comment {token}", "client_token": token, "csrf_token": self.csrf}
        article_id = random.choice(article_ids)
        response = self.request(
            "comment",
            "POST",
            f"/articles/{article_id}/comments",
            data=form,
            headers={"Accept": "application/json"},
        )
        outcome = (self.member["id"], token)
        with self.tally.lock:
            if response.status_code < 400:
                self.tally.accepted_comments.append(outcome)
            else:
                self.tally.refused_comments.append(outcome)

    def like(self, article_ids: list[int]) -> None:
        article_id = random.choice(article_ids)
        state = "off" if article_id in self.liked else "on"
        response = self.request(
            "like",
            "POST",
            f"/articles/{article_id}/like",
            data={"state": state, "csrf_token": self.csrf},
            headers={"Accept": "application/json"},
        )
        if response.status_code < 400:
            (self.liked.discard if state == "off" else self.liked.add)(article_id)


def post_webhook(base: str, tally: Tally, sent: list[bytes]) -> None:
    """Post a signed Stripe event; one in ten is a redelivery of an earlier one."""
    if sent and random.random() < 0.1:
        payload = random.choice(sent)
    else:
        event = {
            "id": f"evt_smoke_{uuid.uuid4().hex}",
            "object": "event",
            "type": "customer.created",
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": {"id": f"cus_{uuid.uuid4().hex[:14]}", "object": "customer"}},
        }
        payload = json.dumps(event).encode()
        sent.append(payload)
    timestamp = int(time.time())
    digest = hmac.new(
        WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    headers = {"Stripe-Signature": f"t={timestamp},v1={digest}", "Content-Type": "application/json"}
    tally.record("webhook", httpx.post(f"{base}/billing/webhook", content=payload, headers=headers))


def run_client(base, members, article_ids, actions, tally, sent) -> None:
    """Sign the client's members in, then work through its share of the actions."""
    browsers = [Member(base, m, tally) for m in members]
    for browser in browsers:
        browser.sign_in()
    for n, action in enumerate(actions):
        browser = browsers[n % len(browsers)]
        if action == "webhook":
            post_webhook(base, tally, sent)
        elif action == "sign_in":
            browser.sign_in()
        else:
            getattr(browser, action)(article_ids)


def actions_for(requests: int) -> int:
    """Return how many actions make ``requests`` requests (a sign-in takes three)."""
    share = dict(MIX)["sign_in"] / sum(dict(MIX).values())
    per_action = 1 + (SIGN_IN_REQUESTS - 1) * share
    return int((requests - SIGN_IN_REQUESTS * MEMBERS) / per_action * 1.02) + 1


def plan(total: int) -> list[str]:
    """Return about ``total`` actions in exactly the mix's proportions, shuffled.

    Exact, not drawn at random: a sign-in makes three requests, so a run that drew too few
    of them by chance used to send fewer requests than it promised.
    """
    whole = sum(weight for _, weight in MIX)
    actions = [name for name, weight in MIX for _ in range(-(-total * weight // whole))]
    random.shuffle(actions)
    return actions


def check_comments(tally: Tally) -> list[str]:
    """Return problems: accepted comments not stored exactly once, refused ones stored."""
    import sqlalchemy as sa

    from club import create_app
    from club.community.models import Comment
    from club.extensions import db

    problems = []
    with create_app().app_context():
        for outcomes, expected in ((tally.accepted_comments, 1), (tally.refused_comments, 0)):
            for author_id, token in outcomes:
                count = db.session.scalar(
                    sa.select(sa.func.count())
                    .select_from(Comment)
                    .where(Comment.author_id == author_id, Comment.client_token == token)
                )
                if count != expected:
                    problems.append(f"comment {token}: stored {count} times, expected {expected}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--start-prod", action="store_true", help="start make prod's processes")
    target.add_argument("--url", help="a site that is already running")
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()

    if args.start_prod:
        migrate()  # as `make prod` does, so a new empty database works too
    tag = uuid.uuid4().hex[:6]
    members, article_ids = seed(tag)
    prod = None
    base = args.url.rstrip("/") if args.url else None
    if args.start_prod:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        prod = start_prod(port)
    try:
        wait_healthy(base)
        tally, sent = Tally(), []
        actions = plan(actions_for(args.requests))
        shares = [actions[i::CLIENTS] for i in range(CLIENTS)]
        groups = [members[i::CLIENTS] for i in range(CLIENTS)]
        started = time.monotonic()
        with ThreadPoolExecutor(CLIENTS) as pool:
            futures = [
                pool.submit(run_client, base, groups[i], article_ids, shares[i], tally, sent)
                for i in range(CLIENTS)
            ]
            for future in futures:
                future.result()
        elapsed = time.monotonic() - started
    finally:
        if prod is not None:
            prod.terminate()
            prod.wait(60)

    problems = check_comments(tally)
    print(f"requests: {tally.total} in {elapsed:.1f}s ({tally.total / elapsed:.0f}/s)")
    print("by action:", dict(sorted(tally.by_action.items())))
    latency = {a: f"{1000 * tally.seconds[a] / n:.0f}ms" for a, n in tally.by_action.items()}
    print("mean latency:", dict(sorted(latency.items())))
    print("by status:", dict(sorted(tally.statuses.items())))
    accepted, refused = len(tally.accepted_comments), len(tally.refused_comments)
    print(f"comments accepted: {accepted}, refused: {refused}")
    failures = []
    if tally.total < args.requests:
        failures.append(f"only {tally.total} requests were sent")
    if elapsed > BUDGET_SECONDS:
        failures.append(f"took {elapsed:.0f}s, over the {BUDGET_SECONDS}s budget")
    if tally.server_errors:
        failures.append(f"{len(tally.server_errors)} server errors, e.g. {tally.server_errors[:5]}")
    if not tally.accepted_comments:
        failures.append("no comment was accepted")
    failures.extend(problems[:10])
    for failure in failures:
        print("FAIL:", failure, file=sys.stderr)
    print("smoke load:", "FAILED" if failures else "passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
