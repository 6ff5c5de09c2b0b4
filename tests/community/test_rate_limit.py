"""Comments are rate-limited per account with a clear message."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from club.community.models import Comment
from club.community.views import CEILING_FACTOR
from club.extensions import db
from tests.community.conftest import add_comment, post_comment, quick_member, token
from tests.conftest import login, table_fingerprint


@pytest.fixture
def app_config(app_config):
    return app_config | {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "COMMENT_RATE_LIMIT": "5 per minute",
    }


def test_it_refuses_the_sixth_comment_in_a_minute_keeping_the_text(member, article):
    for n in range(5):
        assert post_comment(member, article, f"comment {n}").status_code == 303
    before = table_fingerprint()
    response = post_comment(member, article, "one too many")
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "You are commenting too fast: members can post 5 a minute." in html
    # As long as the limit's window has left: a minute, not "about 2 minutes" for the
    # fraction of a second the limit's reset time is rounded up by.
    assert "Try again in a minute; your text is kept below." in html
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert "one too many" in html
    assert table_fingerprint() == before


def test_it_names_both_limits_in_words_when_there_is_a_daily_one_too(app, member, article):
    app.config["COMMENT_RATE_LIMIT"] = "5 per minute; 100 per day"
    for n in range(5):
        post_comment(member, article, f"comment {n}")

    response = post_comment(member, article, "one too many")

    assert response.status_code == 429
    assert "members can post 5 a minute and 100 a day." in response.text


def test_it_says_how_long_to_wait_for_the_limit_that_was_reached(app, member, article):
    app.config["COMMENT_RATE_LIMIT"] = "100 per minute; 3 per day"
    for n in range(3):
        assert post_comment(member, article, f"comment {n}").status_code == 303
    day = post_comment(member, article, "over the day's limit")
    assert day.status_code == 429
    assert "Try again in about 24 hours;" in day.text and "Try again in a minute" not in day.text


def test_it_limits_each_account_separately(client, article, alice, carol):
    login(client, alice)
    for n in range(5):
        post_comment(client, article, f"alice {n}")
    login(client, carol)
    assert post_comment(client, article, "carol's first").status_code == 303


def test_it_answers_the_limit_as_json_to_scripts(member, article):
    for n in range(5):
        post_comment(member, article, f"comment {n}")
    response = post_comment(member, article, "again", headers={"Accept": "application/json"})
    assert response.status_code == 429
    assert response.get_json()["error"] == "rate_limited"


def test_it_counts_only_comments_that_were_posted(member, article):
    refused = post_comment(member, article, "x" * 20_000)
    assert refused.status_code == 400
    form = {"client_token": token()}
    assert post_comment(member, article, "double-clicked", **form).status_code == 303
    assert post_comment(member, article, "double-clicked", **form).status_code == 303
    for n in range(4):
        assert post_comment(member, article, f"comment {n}").status_code == 303, n
    assert post_comment(member, article, "the sixth").status_code == 429


def test_it_limits_reports_to_twenty_an_hour_per_member(client, article, alice):
    """Three reports hide a comment: one member must not be able to flood the queue."""
    author = quick_member("Author")
    targets = [add_comment(article, author, f"comment {n}") for n in range(21)]
    login(client, alice)
    for comment in targets[:20]:
        response = client.submit(f"/comments/{comment.id}/report", {"reason": "spam"})
        assert response.status_code == 303
    before = table_fingerprint()
    response = client.submit(f"/comments/{targets[20].id}/report", {"reason": "spam"})
    assert response.status_code == 429
    assert "You are reporting too fast: members can file 20 an hour and 60 a day." in response.text
    assert table_fingerprint() == before
    assert client.get(f"/comments/{targets[20].id}/report").status_code == 200  # reading is not


def test_a_parallel_burst_of_comments_cannot_get_past_the_limit(app, article, alice):
    """The limit counts created comments once each response is out: posts sent at once all
    pass its check first. The ceiling counts each post as it arrives."""
    browsers = []
    for _ in range(30):
        browser = app.test_client()
        login(browser, alice)
        browsers.append((browser, browser.csrf_token()))
    start = threading.Barrier(len(browsers))
    statuses = []

    def send(n: int) -> None:
        browser, csrf = browsers[n]
        with app.app_context():
            start.wait()
            form = {"csrf_token": csrf, "body": f"burst {n}", "client_token": token()}
            statuses.append(browser.post(f"/articles/{article.id}/comments", data=form))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(browsers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    created = db.session.scalar(sa.select(sa.func.count()).select_from(Comment))
    assert created <= 5 * CEILING_FACTOR, created
    refused = [r for r in statuses if r.status_code == 429]
    assert refused, [r.status_code for r in statuses]
    assert all("members can post 5 a minute." in r.text for r in refused)
