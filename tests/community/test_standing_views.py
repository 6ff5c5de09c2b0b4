"""What visitors, members and read-only accounts see and may do."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from club.extensions import db
from tests.community.conftest import add_comment, page_of, post_comment, token
from tests.conftest import login, make_user, table_fingerprint


def comments_section(html: str) -> str:
    return html.split('id="community"', 1)[1]


def test_it_invites_visitors_to_sign_up_instead_of_showing_controls(client, article, alice):
    add_comment(article, alice, "visible to all")
    html = comments_section(page_of(client, article))
    assert "visible to all" in html
    assert "Sign up to join the conversation" in html
    assert "<textarea" not in html and "<button" not in html


def test_it_shows_members_working_controls(member, article):
    html = comments_section(page_of(member, article))
    assert "<textarea" in html and "disabled" not in html
    assert "Sign up to join" not in html


@pytest.mark.parametrize("persona", ["bob", "dave", "erin", "frank"])
def test_it_shows_read_only_accounts_disabled_controls_with_the_reason(
    client, article, alice, persona, request
):
    add_comment(article, alice)
    login(client, request.getfixturevalue(persona))
    html = page_of(client, article)
    section = comments_section(html)
    assert "banner-frozen" in html.split("<main", 1)[0]  # the read-only banner
    section_of_settings = "status" if persona in ("dave", "frank") else "billing"
    assert 'id="readonly-note"' in section
    assert f'href="/settings#{section_of_settings}"' in section
    assert section.count("disabled") >= 3  # like, save, comment box, post button...
    assert "Reply</summary>" not in section


def test_it_refuses_a_crafted_comment_from_a_frozen_account_with_the_reason(client, article, bob):
    login(client, bob)
    before = table_fingerprint()
    response = post_comment(client, article, "sneaky")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "payment failed" in html and "Account Frozen" in html
    assert table_fingerprint() == before


def test_it_answers_a_frozen_json_request_with_json(client, article, frank):
    login(client, frank)
    before = table_fingerprint()
    response = client.submit(
        f"/articles/{article.id}/like", {"state": "on"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 403
    assert response.get_json()["reason"] == "frozen by a moderator"
    assert table_fingerprint() == before


def test_it_refuses_the_edit_form_to_a_frozen_author(client, article, alice, carol):
    from club import membership

    comment = add_comment(article, alice)
    membership.freeze(alice, by=carol, reason="pause")
    db.session.commit()
    login(client, alice)
    assert client.get(f"/comments/{comment.id}/edit").status_code == 403


def test_it_answers_401_to_a_visitor_posting(client, article):
    before = table_fingerprint()
    response = client.submit(
        f"/articles/{article.id}/comments", {"body": "hi", "client_token": token()}
    )
    assert response.status_code == 401
    assert table_fingerprint() == before


def test_it_lets_a_member_whose_payment_is_in_grace_comment(client, article):
    grace = make_user(subscription="past_due", past_due_days=1)
    login(client, grace)
    assert post_comment(client, article, "still here").status_code == 303


def test_it_offers_no_comment_box_on_an_unpublished_preview(client, carol):
    from tests.conftest import make_article

    draft = make_article(status="pending")
    login(client, carol)
    html = client.get(f"/articles/{draft.id}").get_data(as_text=True)
    assert "Comments open when the article is published." in html
    assert 'id="comment-body"' not in html and 'data-kind="like"' not in html


def test_a_hidden_articles_comments_show_to_an_admin_without_controls_that_would_404(
    client, carol, alice
):
    from tests.conftest import make_article

    article = make_article()
    comment = add_comment(article, alice, "Said while it was published.")
    article.status = "hidden"
    db.session.commit()
    login(client, carol)

    html = client.get(f"/articles/{article.id}").get_data(as_text=True)

    assert "Said while it was published." in html
    assert f"/comments/{comment.id}/like" not in html
    assert f'name="parent_id" value="{comment.id}"' not in html
    assert f"/comments/{comment.id}/report" not in html


def test_a_comment_refused_as_the_account_turned_read_only_keeps_its_text(client, article, alice):
    """Typed while paid; sent after the grace period ended (or a moderator froze it)."""
    login(client, alice)
    alice.subscription_status = "canceled"
    db.session.commit()

    response = post_comment(client, article, "Twenty minutes of careful writing")

    assert response.status_code == 403
    assert "Twenty minutes of careful writing</textarea>" in response.text


def test_a_comment_sent_after_the_session_ended_elsewhere_keeps_its_text(client, article, alice):
    from club import accounts

    login(client, alice)
    accounts.end_all_sessions(alice)  # logged out on another device meanwhile
    db.session.commit()

    response = post_comment(client, article, "Twenty minutes of careful writing")

    assert response.status_code == 401
    assert "Twenty minutes of careful writing</textarea>" in response.text


LOGGED_OUT = "You are logged out (perhaps on another device)."


def test_a_like_sent_after_the_session_ended_elsewhere_says_to_log_in_again(client, article, alice):
    from club import accounts

    login(client, alice)
    accounts.end_all_sessions(alice)  # "Log out" on another device ends this session too
    db.session.commit()
    page = f"/articles/{article.id}"

    response = client.submit(
        f"{page}/like",
        {"state": "on", "next": page},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 401
    body = response.get_json()
    assert body["message"] == LOGGED_OUT
    assert body["login"] == f"/login?next={page}"
    assert "reason" not in body and "Sign up" not in body.get("action", "")


def test_a_script_that_never_logged_in_is_asked_to_log_in_not_told_it_logged_out(client, article):
    response = client.submit(
        f"/articles/{article.id}/like", {"state": "on"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 401
    assert response.get_json()["message"] == "You need to log in to do that."


def log_in_link(html: str, text: str) -> str:
    """The address of the first link called ``text``, its ``&amp;`` read back as ``&``."""
    href = re.search(rf'<a href="([^"]*)">{text}</a>', html).group(1)
    return href.replace("&amp;", "&")


def next_of(href: str) -> str | None:
    parts = urlsplit(href)
    assert parts.path == "/login"
    return parse_qs(parts.query).get("next", [None])[0]


def test_the_401_page_logs_in_back_to_the_article_the_comment_was_for(client, article, alice):
    from club import accounts

    login(client, alice)
    accounts.end_all_sessions(alice)
    db.session.commit()

    page = f"/articles/{article.id}"
    response = post_comment(client, article, "Typed before the phone logged out", next=page)

    assert response.status_code == 401
    assert next_of(log_in_link(response.text, "log in")) == page


@pytest.mark.parametrize(
    ("referrer", "back"),
    [
        ("http://localhost/articles/7?comments=2", "/articles/7?comments=2"),
        ("https://evil.example/articles/7", None),
        (None, None),
    ],
)
def test_the_401_page_falls_back_to_the_same_site_page_that_sent_the_form(
    client, article, referrer, back
):
    headers = {"Referer": referrer} if referrer else {}
    response = post_comment(client, article, "hi", headers=headers, next="//evil.example")

    assert response.status_code == 401
    assert next_of(log_in_link(response.text, "log in")) == back


def test_the_header_log_in_link_comes_back_to_the_page_being_read(client, article):
    page = f"/articles/{article.id}?comments=2"
    html = client.get(page).get_data(as_text=True)

    assert next_of(log_in_link(html, "Log in")) == page
    assert next_of(log_in_link(comments_section(html), "log in")) == page


def sign_up_link(html: str, text: str) -> str:
    """The address of the first link whose text starts with ``text``, read back."""
    href = re.search(rf'<a (?:class="button" )?href="([^"]*)">{text}', html).group(1)
    return href.replace("&amp;", "&")


def test_the_sign_up_links_come_back_to_the_article_being_read(client, article):
    page = f"/articles/{article.id}?comments=2"
    html = client.get(page).get_data(as_text=True)

    for link in (sign_up_link(html, "Sign up<"), sign_up_link(comments_section(html), "Sign up")):
        parts = urlsplit(link)
        assert parts.path == "/signup" and parse_qs(parts.query)["next"] == [page]


@pytest.mark.parametrize(("asked", "kept"), [("/saved", "/saved"), ("//evil.example", None)])
def test_log_in_and_sign_up_pass_on_the_page_to_come_back_to(client, asked, kept):
    login_page = client.get(f"/login?next={asked}").get_data(as_text=True)
    signup_page = client.get(f"/signup?next={asked}").get_data(as_text=True)

    in_page = sign_up_link(login_page.split("<main", 1)[1], "Sign up")
    assert parse_qs(urlsplit(in_page).query).get("next", [None])[0] == kept
    assert next_of(log_in_link(signup_page.split("<main", 1)[1], "Log in")) == kept


def test_the_log_in_page_itself_leads_nowhere_back(client):
    html = client.get("/login?next=/saved").get_data(as_text=True)

    assert log_in_link(html, "Log in") == "/login"


def test_a_page_too_long_to_carry_still_has_sign_up_and_log_in_links_that_open(client, article):
    # gunicorn refuses a request line over 4094 bytes: the page itself opens, but its
    # address %-encoded into the sign-up or log-in link made that link a 400.
    page = f"/articles/{article.id}?" + urlencode({"q": "sleep " * 520})
    assert len(f"GET {page} HTTP/1.1") < 4094
    html = client.get(page).get_data(as_text=True)

    for link, path in (
        (sign_up_link(html, "Sign up<"), "/signup"),
        (log_in_link(html, "Log in"), "/login"),
    ):
        assert len(f"GET {link} HTTP/1.1") <= 4094 and urlsplit(link).path == path


def comment_box(html: str) -> str:
    return re.search(r'<textarea id="comment-body"[^>]*>', html).group(0)


def test_the_comment_box_is_described_by_its_hint(member, article):
    html = page_of(member, article)
    assert 'id="comment-body-hint"' in html
    assert 'aria-describedby="comment-body-hint"' in comment_box(html)
    # A maxlength would cut a long paste short without a word; the server's refusal says
    # how long it is and gives the whole text back.
    assert "maxlength" not in comment_box(html)


def test_a_read_only_comment_box_is_described_by_the_reason_and_the_hint(client, article, bob):
    login(client, bob)
    html = page_of(client, article)
    assert 'aria-describedby="readonly-note comment-body-hint"' in comment_box(html)
    assert 'id="readonly-note"' in html and 'id="comment-body-hint"' in html
