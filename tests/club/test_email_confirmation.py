"""Email confirmation: the link only shows a button; it works once, for its address; a link
opened again once the address is confirmed says so (issue #2 point 4)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa

from club import tokens
from club.clock import utcnow
from club.extensions import db
from club.models import User
from tests.club.conftest import last_link, messages_to
from tests.club.test_auth import signup_data
from tests.conftest import login


def test_it_confirms_an_email_only_when_the_button_is_pressed(client, outbox):
    client.submit("/signup", signup_data())
    link = last_link(outbox, "/confirm/")
    page = client.get(link)
    assert page.status_code == 200 and "Confirm my email" in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(User)).email_confirmed_at is None
    response = client.submit(link)
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(sa.select(User)).email_confirmed_at is not None


def test_it_says_the_address_is_already_confirmed_when_the_link_is_used_again(client, outbox):
    client.submit("/signup", signup_data())
    link = last_link(outbox, "/confirm/")
    client.submit(link)
    for open_again in (client.get, client.submit):
        again = open_again(link)
        assert again.status_code == 303
        page = client.get(again.headers["Location"]).get_data(as_text=True)
        assert "This email address is already confirmed." in page
        assert "already been used" not in page


def test_it_says_an_expired_link_is_no_matter_once_the_address_is_confirmed(client, dave):
    old = tokens.issue(tokens.CONFIRM_EMAIL, dave, now=utcnow() - timedelta(days=4))
    dave.email_confirmed_at = utcnow()
    db.session.commit()
    response = client.get(f"/confirm/{old}")
    assert response.status_code == 303
    assert "already confirmed" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_an_older_link_says_the_address_is_confirmed_without_asking_again(client, outbox):
    # Settings sends a new link on request: several can be valid at once.
    client.submit("/signup", signup_data())
    first = last_link(outbox, "/confirm/")
    user = db.session.scalar(sa.select(User))
    second = f"/confirm/{tokens.issue(tokens.CONFIRM_EMAIL, user)}"
    client.get(client.submit(second).headers["Location"])  # "Thank you…" shown there

    response = client.get(first)

    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "This email address is already confirmed." in page
    assert "Thank you" not in page


def test_it_refuses_a_spent_confirmation_link_whose_address_is_not_confirmed(client, dave):
    # The answer follows the address's state, not the spend: a spent link never claims
    # an unconfirmed address is confirmed.
    token = tokens.issue(tokens.CONFIRM_EMAIL, dave)
    client.submit(f"/confirm/{token}")
    db.session.refresh(dave)
    assert dave.email_confirmed_at is not None
    dave.email_confirmed_at = None
    db.session.commit()
    again = client.submit(f"/confirm/{token}")
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)


def test_it_refuses_an_expired_confirmation_link(client, dave):
    token = tokens.issue(tokens.CONFIRM_EMAIL, dave, now=utcnow() - timedelta(days=4))
    response = client.submit(f"/confirm/{token}")
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    db.session.refresh(dave)
    assert dave.email_confirmed_at is None


def test_it_refuses_a_tampered_link(client, dave):
    token = tokens.issue(tokens.CONFIRM_EMAIL, dave)
    response = client.get(f"/confirm/{token[:-2]}xx")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_it_refuses_a_confirmation_link_for_an_address_no_longer_on_the_account(client, dave):
    token = tokens.issue(tokens.CONFIRM_EMAIL, dave)
    dave.email = "dave.new@example.com"
    db.session.commit()
    assert client.submit(f"/confirm/{token}").status_code == 400


def test_it_does_not_accept_a_reset_token_as_a_confirmation_token(client, dave):
    token = tokens.issue(tokens.RESET_PASSWORD, dave)
    assert client.submit(f"/confirm/{token}").status_code == 400


# --- Coming back to the page the member signed up from ---------------------------------

ARTICLE = "/articles/7?comments=2"


def next_in(location: str) -> str | None:
    return parse_qs(urlsplit(location).query).get("next", [None])[0]


def sign_up_from(client, page: str) -> str:
    """Sign up from ``page`` (its ``next``); return where the sign-up sent the browser."""
    response = client.submit(f"/signup?{urlencode({'next': page})}", signup_data())
    assert response.status_code == 303
    return response.headers["Location"]


def test_a_member_who_signs_up_from_an_article_logs_in_back_to_it(client, outbox):
    check_email = sign_up_from(client, ARTICLE)
    page = client.get(check_email).get_data(as_text=True)
    log_in = re.search(r'<a href="(/login[^"]*)">log in</a>', page).group(1)
    assert next_in(log_in.replace("&amp;", "&")) == ARTICLE

    confirmed = client.submit(last_link(outbox, "/confirm/"))
    assert urlsplit(confirmed.headers["Location"]).path == "/login"
    assert next_in(confirmed.headers["Location"]) == ARTICLE
    logged_in = client.submit(
        confirmed.headers["Location"],
        {"email": "grace@example.com", "password": signup_data()["password"]},
    )

    assert logged_in.status_code == 303 and logged_in.headers["Location"] == ARTICLE


def test_a_signed_in_member_confirming_goes_straight_back_to_the_article(client, outbox):
    sign_up_from(client, ARTICLE)
    login(client, db.session.scalar(sa.select(User)))

    confirmed = client.submit(last_link(outbox, "/confirm/"))

    assert confirmed.headers["Location"] == ARTICLE
    page = client.get(ARTICLE.split("?")[0]).get_data(as_text=True)
    assert "your email address is confirmed" in page


def test_an_address_that_already_has_an_account_is_sent_a_log_in_link_back(client, outbox, alice):
    client.submit(f"/signup?{urlencode({'next': ARTICLE})}", signup_data(email=alice.email))

    notice = messages_to(outbox, alice.email)[-1]
    log_in = re.search(r"Log in: (\S+)", notice).group(1)
    assert urlsplit(log_in).path == "/login" and next_in(log_in) == ARTICLE


OFF_SITE = [
    "https://evil.example/articles/7",
    "//evil.example/articles/7",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "http:/evil.example",
    "articles/7",
    "/articles/7\r\nSet-Cookie: x=1",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_up_carries_no_next_that_leaves_the_site(client, outbox, target):
    check_email = sign_up_from(client, target)
    link = last_link(outbox, "/confirm/")

    assert next_in(check_email) is None and next_in(link) is None
    assert "evil" not in client.get(check_email).get_data(as_text=True)
    confirmed = client.submit(link)
    assert confirmed.headers["Location"] == "/login"


@pytest.mark.parametrize("target", OFF_SITE)
def test_a_confirmation_link_edited_to_lead_off_the_site_leads_to_log_in(client, dave, target):
    token = tokens.issue(tokens.CONFIRM_EMAIL, dave)

    confirmed = client.submit(f"/confirm/{token}?{urlencode({'next': target})}")

    assert confirmed.status_code == 303 and confirmed.headers["Location"] == "/login"
    login(client, dave)
    again = client.submit(f"/confirm/{token}?{urlencode({'next': target})}")
    assert again.headers["Location"] == "/settings"


# gunicorn (platform/gunicorn.conf.py keeps its default) refuses a request line longer
# than this with a 400: an emailed link longer than it cannot be opened at all.
GUNICORN_REQUEST_LINE = 4094


def test_a_page_too_long_to_carry_leaves_the_confirmation_link_openable(client, outbox):
    # A page with a long query is a page a visitor can sign up from; carried in the
    # link, %-encoded, beside the token, it made the link too long to open.
    page = "/articles/7?" + urlencode({"q": "sleep " * 520})
    assert len(f"GET {page} HTTP/1.1") < GUNICORN_REQUEST_LINE

    sign_up_from(client, page)
    link = last_link(outbox, "/confirm/")

    assert len(f"POST {urlsplit(link)._replace(scheme='', netloc='').geturl()} HTTP/1.1") <= (
        GUNICORN_REQUEST_LINE
    )
    assert client.submit(link).headers["Location"] == "/login"


def test_confirming_another_accounts_address_says_which_account_it_was(client, outbox, carol):
    """Signed in as an admin, who opened a new member's link: not "your" address."""
    client.submit("/signup", signup_data())
    login(client, carol)

    confirmed = client.submit(last_link(outbox, "/confirm/"), follow_redirects=True)

    page = confirmed.get_data(as_text=True)
    assert "grace@example.com is confirmed: log in as that account to use it." in page
    assert "your email address is confirmed" not in page
    assert db.session.scalar(sa.select(User).where(User.handle == "grace")).email_confirmed_at
