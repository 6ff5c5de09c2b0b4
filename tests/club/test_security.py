"""Headers, error pages, request limits and logging (#2 point 9; C10, C28-C32)."""

from __future__ import annotations

import logging
import re

import pytest

from club.web import CONTENT_SECURITY_POLICY
from tests.conftest import PASSWORD, login

SITE_LOOK = ('<a class="brand" href="/">Billionaire Club</a>', "/static/site.css")


def assert_security_headers(response) -> None:
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert csp == CONTENT_SECURITY_POLICY
    script_src = re.search(r"script-src ([^;]+)", csp).group(1)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "path", ["/login", "/signup", "/reset", "/settings", "/healthz", "/static/site.css", "/nowhere"]
)
def test_it_sends_security_headers_on_every_kind_of_response(client, alice, path):
    login(client, alice)
    with client.get(path) as response:
        assert_security_headers(response)


def test_it_keeps_signed_in_pages_out_of_shared_caches(client, alice):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    login(client, alice)
    for path in ("/", "/settings", "/nowhere"):
        assert client.get(path).headers["Cache-Control"] == "private, no-store", path
    with client.get("/static/site.css") as static:
        assert "no-store" not in static.headers.get("Cache-Control", "")


@pytest.mark.parametrize("accept", ["text/html", "application/json", "*/*"])
def test_it_tells_caches_that_error_pages_depend_on_accept(client, accept):
    response = client.get("/nowhere", headers={"Accept": accept})
    assert response.status_code == 404 and "Accept" in response.vary


def test_it_sends_security_headers_on_error_pages(client):
    assert_security_headers(client.post("/login", data={}))  # 400: no CSRF token


@pytest.mark.parametrize(
    ("path", "persona"),
    [
        ("/login", None),
        ("/signup", None),
        ("/reset", None),
        ("/settings", "frank"),
        ("/admin/", "carol"),
        ("/admin/users", "carol"),
    ],
)
def test_it_renders_no_inline_script(client, request, path, persona):
    if persona:
        login(client, request.getfixturevalue(persona))
    page = client.get(path).get_data(as_text=True)
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts and all("src=" in tag for tag in scripts)
    assert not re.search(r"\son[a-z]+\s*=", page), "inline event handler"


def test_it_asks_for_https_in_production(app, client):
    app.config["PRODUCTION"] = True
    assert "max-age=31536000" in client.get("/login").headers["Strict-Transport-Security"]


def test_it_leaves_hsts_off_for_local_http(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


# --- Error pages ------------------------------------------------------------------------


def assert_site_look(response, code: int) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == code
    assert all(mark in page for mark in SITE_LOOK)
    assert "Traceback" not in page and "Werkzeug" not in page
    return page


def test_it_shows_a_400_page_for_a_form_without_its_csrf_token(client):
    page = assert_site_look(client.post("/signup", data={"email": "x@example.com"}), 400)
    assert "did not come from this site" in page


def test_it_shows_a_403_page_in_the_site_look(client, alice):
    login(client, alice)
    assert_site_look(client.get("/admin/"), 403)


def test_it_shows_a_404_page_in_the_site_look(client):
    page = assert_site_look(client.get("/no/such/page"), 404)
    assert "could not find that page" in page


def test_it_shows_a_405_page_in_the_site_look(client):
    assert_site_look(client.get("/logout"), 405)


def test_it_shows_a_413_page_for_an_oversized_request(client):
    response = client.post("/login", data={"email": "x" * (1024 * 1024 + 10)})
    assert_site_look(response, 413)


def test_it_shows_a_generic_500_page_without_a_traceback(app, caplog):
    app.config.update(TESTING=False, DEBUG=False, PROPAGATE_EXCEPTIONS=False)

    def explode():
        raise RuntimeError("secret-database-password in a stack trace")

    app.add_url_rule("/__test__/explode", "test_explode", explode)
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/__test__/explode")
    page = assert_site_look(response, 500)
    assert "secret-database-password" not in page
    assert "Something broke on our side" in page
    assert "secret-database-password" in caplog.text  # the log keeps the detail


def test_the_500_page_still_renders_for_a_signed_in_member_after_a_failed_write(app, client, alice):
    """A failed flush leaves the session needing a rollback (on PostgreSQL, any failed
    statement aborts the transaction); the page's own queries must not fail on top."""
    from club.extensions import db
    from club.models import User

    app.config.update(PROPAGATE_EXCEPTIONS=False)

    def duplicate_email():
        db.session.add(
            User(email=alice.email, handle=alice.handle, password_hash="x", display_name="Twin")
        )
        db.session.flush()

    app.add_url_rule("/__test__/duplicate", "test_duplicate", duplicate_email)
    login(client, alice)
    page = assert_site_look(client.get("/__test__/duplicate"), 500)
    assert "Something broke on our side" in page
    assert "Log out" in page  # rendered as the signed-in member sees it


def test_it_explains_403_and_405_in_plain_words(client, alice):
    login(client, alice)
    forbidden = client.get("/admin/users").text
    assert "You do not have access to this page." in forbidden
    assert "read-protected" not in forbidden
    wrong_method = client.get("/logout")
    assert wrong_method.status_code == 405
    assert "Use the Log out button" in wrong_method.text
    assert "The method is not allowed" not in wrong_method.text


def test_it_answers_errors_in_json_to_scripts(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.get_json()["error"] == "Page not found"


def test_it_has_no_debugger_console(client):
    assert client.get("/console").status_code == 404


# --- Hosts, proxies and referers --------------------------------------------------------


def test_it_refuses_a_host_it_does_not_serve(app):
    app.config["TRUSTED_HOSTS"] = ["club.example"]
    client = app.test_client()
    assert client.get("/login", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/login", headers={"Host": "club.example"}).status_code == 200


def test_it_refuses_a_cross_site_post_over_https(client, alice):
    token_client = client
    token = token_client.get("/__test__/csrf", base_url="https://localhost").get_data(as_text=True)
    response = client.post(
        "/login",
        data={"csrf_token": token, "email": alice.email, "password": PASSWORD},
        base_url="https://localhost",
        headers={"Referer": "https://evil.example/form"},
    )
    assert response.status_code == 400


# --- Logging ----------------------------------------------------------------------------


def test_it_logs_a_failed_log_in_without_the_password(client, alice, caplog):
    with caplog.at_level(logging.INFO, logger="club"):
        client.submit("/login", {"email": alice.email, "password": "hunter2 guess word"})
    assert f"wrong password for user {alice.id}" in caplog.text
    assert "hunter2" not in caplog.text


def test_it_logs_a_refused_write(client, bob, caplog, interaction_route):
    login(client, bob)
    with caplog.at_level(logging.INFO, logger="club.membership"):
        client.submit(interaction_route)
    assert f"refused POST /__test__/interact for user {bob.id}: payment failed" in caplog.text


def test_it_logs_a_member_denied_an_admin_page(client, alice, caplog):
    login(client, alice)
    with caplog.at_level(logging.WARNING, logger="club.admin"):
        client.get("/admin/users")
    assert f"denied GET /admin/users to non-admin user {alice.id}" in caplog.text


@pytest.mark.parametrize(("hops", "expected"), [(0, "10.0.0.2"), (1, "203.0.113.5")])
def test_it_trusts_forwarded_addresses_only_from_the_configured_proxies(app_config, hops, expected):
    from flask import request

    from club import create_app
    from club.extensions import db

    proxied = create_app({**app_config, "TRUSTED_PROXY_HOPS": hops})
    proxied.add_url_rule("/__test__/addr", "test_addr", lambda: request.remote_addr)
    response = proxied.test_client().get(
        "/__test__/addr",
        headers={"X-Forwarded-For": "203.0.113.5"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    with proxied.app_context():
        db.engine.dispose()
    assert response.get_data(as_text=True) == expected
