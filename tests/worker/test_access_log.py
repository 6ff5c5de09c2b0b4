"""The production web process's access log never holds the token of an emailed link."""

from __future__ import annotations

import logging
import re

import httpx
from flask import request

from tests.worker.conftest import free_port, output, start_gunicorn, wait_for


def get(url: str) -> int:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return 0


def start_web(app, processes) -> tuple[str, object]:
    port = free_port()
    web = start_gunicorn(app, port)
    processes.append(web)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: get(f"{base}/healthz/web") == 200, timeout=30)
    return base, web


def test_the_access_log_leaves_out_the_tokens_of_emailed_links(app, processes):
    base, web = start_web(app, processes)
    secrets = ["ResetSecret123", "ConfirmSecret456", "EmailSecret789"]

    for path in [f"/reset/{secrets[0]}", f"/confirm/{secrets[1]}", f"/settings/email/{secrets[2]}"]:
        get(f"{base}{path}?from=mail")
    wait_for(lambda: output(web).count("[token]") >= 3, timeout=10)

    log = output(web)
    assert '"GET /reset/[token]?from=mail HTTP/1.1"' in log
    assert not [secret for secret in secrets if secret in log], log


def test_a_token_passed_on_to_the_log_in_page_stays_out_of_the_log_too(app, processes):
    # A signed-out member opening an email-change link is sent to /login?next=%2F...%2F<t>.
    base, web = start_web(app, processes)

    page = httpx.get(f"{base}/settings/email/EmailSecret789", follow_redirects=True, timeout=5)

    assert page.status_code == 200 and "/login" in str(page.url)
    wait_for(lambda: "/login?next=" in output(web), timeout=10)
    assert "EmailSecret789" not in output(web), output(web)


def test_an_error_on_a_token_link_is_logged_without_the_token(app, caplog):
    # Flask logs "Exception on <path>" for any error in a view, and the traceback prints
    # the exception's own words, which may quote the URL it failed on: a bug behind an
    # emailed link would write the link's token to the error log either way.
    def explode(token):
        raise RuntimeError(f"could not load https://club.example{request.path}")

    app.add_url_rule("/confirm/<token>/explode", view_func=explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.ERROR):
        assert app.test_client().get("/confirm/ConfirmSecret456/explode").status_code == 500
    assert "Exception on /confirm/[token]/explode [GET]" in caplog.text
    assert "could not load https://club.example/confirm/[token]/explode" in caplog.text
    assert "ConfirmSecret456" not in caplog.text


def test_a_mail_job_is_logged_without_the_token_of_its_link(app, caplog):
    # RQ names each job it starts with its arguments: a mail job's text holds the link.
    with caplog.at_level(logging.INFO):
        logging.getLogger("rq.worker").info(
            "%s: %s",
            "mail",
            "worker.jobs.send_mail('a@example.com', 'Reset', "
            "'Open https://club.example/reset/ResetSecret123 to choose a password.')",
        )
    assert "/reset/[token]" in caplog.text and "ResetSecret123" not in caplog.text


def test_each_access_log_line_says_when_the_request_was_answered(app, processes):
    base, web = start_web(app, processes)
    get(f"{base}/healthz/web?dated=1")
    line = wait_for(
        lambda: next((x for x in output(web).splitlines() if "?dated=1" in x), None), timeout=10
    )
    assert re.match(r"\[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] 127\.0\.0\.1 ", line), line
