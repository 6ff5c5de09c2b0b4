"""Cookie flags outside local development (#2 point 9; C1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie

import pytest

from club import config
from tests.conftest import PASSWORD

HTTPS = "https://localhost"


@pytest.fixture
def app_config(app_config):
    """The site as configured for https://club.example (cookie settings from config.load)."""
    loaded = config.load({"BASE_URL": "https://club.example", "SECRET_KEY": "k" * 40})
    cookie_keys = {k: v for k, v in loaded.items() if k.startswith(("SESSION_", "REMEMBER_"))}
    return {**app_config, **cookie_keys}


def set_cookies(response) -> dict[str, SimpleCookie]:
    cookies = {}
    for header in response.headers.getlist("Set-Cookie"):
        parsed = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            cookies[name] = morsel
    return cookies


def https_login(client, user, remember: bool = True):
    token = client.get("/__test__/csrf", base_url=HTTPS).get_data(as_text=True)
    data = {"csrf_token": token, "email": user.email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data, base_url=HTTPS, headers={"Referer": f"{HTTPS}/login"})


@pytest.mark.parametrize("name", ["__Host-session", "__Host-remember"])
def test_it_sets_host_prefixed_secure_http_only_lax_cookies(client, alice, name):
    cookies = set_cookies(https_login(client, alice))
    morsel = cookies[name]
    assert morsel["secure"] and morsel["httponly"]
    assert morsel["samesite"] == "Lax"
    assert morsel["path"] == "/" and not morsel["domain"]


def test_it_keeps_remember_cookies_for_at_most_30_days(client, alice):
    morsel = set_cookies(https_login(client, alice))["__Host-remember"]
    expires = parsedate_to_datetime(morsel["expires"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)


def test_it_uses_plain_names_and_no_secure_flag_for_local_http():
    loaded = config.load({"SECRET_KEY": "k" * 40})
    assert loaded["SESSION_COOKIE_NAME"] == "session" and not loaded["SESSION_COOKIE_SECURE"]
    assert loaded["SESSION_COOKIE_HTTPONLY"] and loaded["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_a_publicly_cacheable_response_never_carries_a_session_cookie(client, alice):
    # Signed in by the remember-me cookie alone (the browser was closed): the first page
    # restores the session. /feed.xml is cacheable by anyone, so a CDN or shared cache
    # could hand that cookie, and the member's session with it, to other visitors.
    https_login(client, alice)
    client.delete_cookie("__Host-session", domain="localhost")

    feed = client.get("/feed.xml", base_url=HTTPS)

    assert feed.cache_control.public
    assert "__Host-session" not in set_cookies(feed)
    # The next private page restores the session as before.
    page = client.get("/settings", base_url=HTTPS)
    assert page.status_code == 200
    assert "__Host-session" in set_cookies(page)
