"""Shared fixtures: the app on a real database, a client that speaks CSRF, and personas.

The suite runs on a SQLite file by default. With ``DATABASE_URL`` set (CI's second pass)
it runs on that PostgreSQL database instead; with ``REDIS_URL`` set, enqueued jobs go
through RQ on that Redis (synchronously, unless a test asks for a real worker).
"""

from __future__ import annotations

import email
import email.policy
import itertools
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf

from club import accounts, create_app, membership
from club.clock import utcnow
from club.extensions import db
from club.models import User

PASSWORD = "correct horse battery"
_handles = itertools.count(1)


def is_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))


WAITING_ON_A_LOCK = sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")


def settle(thread: threading.Thread, timeout: float = 15) -> None:
    """Wait until ``thread`` has finished, or waits on a lock another connection holds
    (PostgreSQL).

    A fixed sleep let some requests still be checking a password when the paused one
    went on, and the interleaving under test never happened.
    """
    deadline = time.monotonic() + timeout
    while thread.is_alive() and time.monotonic() < deadline:
        with db.engine.connect() as connection:
            if connection.scalar(WAITING_ON_A_LOCK):
                return
        time.sleep(0.05)


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory: pytest.TempPathFactory) -> str | None:
    """Return a SQLite file URI for this run, or None to use DATABASE_URL."""
    if is_postgres():
        return None
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'club-test.sqlite3'}"


def base_test_config(database_uri: str | None, tmp_path: Path) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "MAIL_SERVER": None,
        "RATELIMIT_ENABLED": False,
        "BILLING_BACKEND": "local",
        "STRIPE_SECRET_KEY": None,
        "STRIPE_WEBHOOK_SECRET": None,
        "FEEDS_ALLOW_PRIVATE_NETWORKS": False,
        "RQ_ASYNC": False,
        "SERVER_NAME": None,
    }
    if database_uri:
        config["SQLALCHEMY_DATABASE_URI"] = database_uri
    return config


@pytest.fixture(scope="session")
def _schema(database_uri: str | None, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Create every table once per run."""
    app = create_app(base_test_config(database_uri, tmp_path_factory.mktemp("schema")))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.remove()
        db.engine.dispose()


def wipe_tables() -> None:
    """Delete every row, children first, so the next test starts empty."""
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


class ClubClient(FlaskClient):
    """A test client whose ``submit`` posts a form with a valid CSRF token.

    Each request runs in its own app context, as in production: a fresh ``g`` and its
    own database session, committed or rolled back by the view itself. A test's objects
    are therefore stale after a request; re-read them (``db.session.refresh``) to see
    what the request wrote — and a view that forgets to commit fails its test.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        return self.get("/__test__/csrf").get_data(as_text=True)

    def submit(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)


@pytest.fixture
def app_config(database_uri: str | None, tmp_path: Path) -> dict:
    """The configuration the ``app`` fixture uses; override keys in a test module."""
    return base_test_config(database_uri, tmp_path)


@pytest.fixture
def app(_schema: None, app_config: dict) -> Iterator[Flask]:
    """The site, with an app context pushed and an empty database."""
    app = create_app(app_config)
    app.test_client_class = ClubClient
    # A test-only route that hands out a CSRF token for the client's session.
    app.add_url_rule("/__test__/csrf", "test_csrf", lambda: generate_csrf())
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            wipe_tables()
            # Jobs that failed inline while Redis was down wait, per process, to be
            # reported to the next Redis reached: never to another test's.
            from worker.queues import failed_while_down

            failed_while_down.clear()
            # Each test builds its own engine; close its pool now rather than when the
            # garbage collector finds open PostgreSQL connections (a ResourceWarning).
            db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> ClubClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def outbox(app: Flask) -> Path:
    """The folder where mail lands when no SMTP server is configured."""
    return Path(app.config["MAIL_OUTBOX_DIR"])


def read_outbox(folder: Path) -> list[str]:
    """Return every message in ``folder`` as headers plus decoded body, oldest first.

    Decoded, because long lines (links) are quoted-printable encoded in the .eml file.
    """
    if not folder.exists():
        return []
    messages = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        headers = "".join(f"{name}: {value}\n" for name, value in message.items())
        messages.append(f"{headers}\n{message.get_content()}")
    return messages


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


# --- Factories and personas -------------------------------------------------------------


def make_user(
    *,
    email: str | None = None,
    handle: str | None = None,
    display_name: str | None = None,
    password: str = PASSWORD,
    confirmed: bool = True,
    admin: bool = False,
    subscription: str | None = None,
    complimentary: bool = False,
    past_due_days: int | None = None,
) -> User:
    """Create and commit an account; ``subscription`` is a Stripe status to apply."""
    n = next(_handles)
    handle = handle or f"user{n}"
    user = User(
        email=(email or f"{handle}@example.com").lower(),
        handle=handle,
        display_name=display_name or handle.title(),
        is_admin=admin,
        complimentary=complimentary,
        email_confirmed_at=utcnow() if confirmed else None,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    if subscription:
        membership.apply_subscription(
            user,
            subscription_id=f"sub_test_{n}",
            status=subscription,
            period_end=utcnow() + timedelta(days=30),
            observed_at=utcnow() - timedelta(days=past_due_days or 0),
        )
    db.session.commit()
    return user


def login(client: FlaskClient, user: User) -> None:
    """Sign ``user`` in on ``client`` the way Flask-Login's session does."""
    with client.session_transaction() as session:
        session["_user_id"] = accounts.session_id(user, utcnow())
        session["_fresh"] = True


@pytest.fixture
def alice(app: Flask) -> User:
    """alice: paying member, subscription active, badge."""
    return make_user(handle="alice", display_name="Alice Active", subscription="active")


@pytest.fixture
def bob(app: Flask) -> User:
    """bob: frozen because his payment failed (past due beyond the grace period)."""
    return make_user(
        handle="bob", display_name="Bob Behind", subscription="past_due", past_due_days=10
    )


@pytest.fixture
def carol(app: Flask) -> User:
    """carol: admin."""
    return make_user(handle="carol", display_name="Carol Admin", admin=True)


@pytest.fixture
def dave(app: Flask) -> User:
    """dave: signed up, email not confirmed yet."""
    return make_user(handle="dave", display_name="Dave New", confirmed=False)


@pytest.fixture
def erin(app: Flask) -> User:
    """erin: confirmed but never subscribed."""
    return make_user(handle="erin", display_name="Erin Reader")


@pytest.fixture
def frank(app: Flask, carol: User) -> User:
    """frank: paying, but frozen by a moderator (carol)."""
    user = make_user(handle="frank", display_name="Frank Frozen", subscription="active")
    membership.freeze(user, by=carol, reason="Spam in comments")
    db.session.commit()
    return user


def table_fingerprint() -> dict[str, tuple[int, int]]:
    """Return (row count, checksum of all rows) for every table, to prove nothing changed."""
    result = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(sa.select(table)).all()
        checksum = hash(tuple(sorted(repr(tuple(row)) for row in rows)))
        result[table.name] = (len(rows), checksum)
    return result


def make_feed(**fields):
    """Create and commit a feed."""
    from articles.models import Feed

    n = next(_handles)
    feed = Feed(url=fields.pop("url", f"https://feeds.example.com/{n}.xml"), **fields)
    feed.title = feed.title or f"Example Source {n}"
    db.session.add(feed)
    db.session.commit()
    return feed


def make_article(feed=None, **fields):
    """Create and commit a published article (pass ``status`` to change that)."""
    from articles.models import Article

    n = next(_handles)
    fields.setdefault("status", "published")
    fields.setdefault("title", f"Article number {n}")
    fields.setdefault("summary", f"A short summary of article {n}.")
    article = Article(
        feed=feed or make_feed(),
        guid=fields.pop("guid", f"guid-{n}"),
        url=fields.pop("url", f"https://news.example.com/articles/{n}"),
        **fields,
    )
    db.session.add(article)
    db.session.commit()
    return article


class QueryCounter:
    """Counts SQL statements sent while it is active."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.parameters: list[object] = []  # what was bound to each statement, in order

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append(statement)
        self.parameters.append(parameters)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask):
    """Return a context manager that counts the SQL statements run inside it."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        counter = QueryCounter()
        sa.event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", counter)

    return counting


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    # This machine has no network: without these Chromium keeps trying to reach Google.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser():
    """Debian's Chromium, headless, driven by Playwright (its own browser downloads fail here)."""
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (make browser-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
