"""On a phone (390 px wide) nothing the site shows makes the page scroll sideways, and a
long name does not swallow the header. Screenshots go to ``test-artifacts/browser/``."""

from __future__ import annotations

import pytest

from club.community import moderation
from club.extensions import db
from tests.browser.conftest import ARTIFACTS, log_in
from tests.community.conftest import add_comment
from tests.conftest import PASSWORD, make_article, make_feed, make_user

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_it_keeps_long_words_names_and_admin_tables_inside_a_phone_screen(
    app,
    live_server,
    browser,
):
    make_article(title="Notes", summary="Pneumonoultramicroscopicsilicovolcanoconiosis" * 3)
    make_article(title="Featured notes", featured=True, summary="Supercalifragilistic" * 6)
    word = "Hippopotomonstrosesquippedaliophobia" * 5  # one 180-letter word
    long = make_article(
        title=f"On {word}",
        summary=f"About {word}.",
        feed=make_feed(url="https://feeds.example.com/" + "very-long-path/" * 30 + "feed.xml"),
    )
    admin = make_user(
        handle="carol", display_name="Carolina " + "Wolfeschlegelsteinhausen" * 2, admin=True
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server, admin.email, PASSWORD)

    paths = [
        "/",
        "/admin/feeds/",
        "/admin/articles/?status=published",
        "/admin/audit",
        f"/articles/{long.id}",
        f"/search?q={word}",
        f"/search?q={word}&page=3",
    ]
    for width in (PHONE["width"], 1280):
        page.set_viewport_size({"width": width, "height": 844})
        for n, path in enumerate(paths):
            response = page.goto(f"{live_server}{path}")
            assert response.status == 200, path
            page.screenshot(path=str(ARTIFACTS / f"layout-{width}-{n}.png"), full_page=True)
            assert page_width(page) <= width, (width, path)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/")
    name = page.locator(".site-header .account-name").bounding_box()
    assert name["height"] < 30 and name["width"] < PHONE["width"] / 2, name  # one short line

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"


def test_a_moderators_buttons_keep_apart_when_a_phone_wraps_them(app, live_server, browser):
    admin = make_user(handle="mod", admin=True)
    comment = add_comment(make_article(), make_user(subscription="active"), "Buy pills")
    moderation.report_comment(make_user(subscription="active"), comment.id, "spam", "")
    db.session.commit()
    page = browser.new_context(viewport={"width": 320, "height": 700}).new_page()
    log_in(page, live_server, admin.email, PASSWORD)
    page.goto(f"{live_server}/admin/reports")
    dismiss = page.locator(f"#report-{comment.id} button:has-text('Dismiss reports')")
    remove = page.locator(f"#report-{comment.id} button:has-text('Remove comment')")
    a, b = dismiss.bounding_box(), remove.bounding_box()
    apart_across = b["x"] - (a["x"] + a["width"])
    apart_down = b["y"] - (a["y"] + a["height"])
    assert max(apart_across, apart_down) >= 6, (a, b)


def test_an_episodes_player_spans_a_phone_screen_and_may_fetch_its_file(app, live_server, browser):
    episode = "https://127.0.0.1:9/episode-42.mp3"  # over https, as stored; nothing listens
    article = make_article(title="Episode 42: naps", kind="audio", audio_url=episode)
    page = browser.new_context(viewport=PHONE).new_page()
    page.goto(f"{live_server}/articles/{article.id}")

    player = page.locator(".player audio").bounding_box()
    column = page.locator(".article-page").bounding_box()
    assert abs(player["width"] - column["width"]) < 2, (player, column)
    assert page_width(page) <= PHONE["width"]
    # preload="none" fetches nothing until asked; asked, the page's policy lets it try.
    blocked = page.evaluate(
        """() => new Promise((resolve) => {
            const blocked = [];
            document.addEventListener('securitypolicyviolation', (e) => blocked.push(e.blockedURI));
            const audio = document.querySelector('.player audio');
            audio.addEventListener('error', () => setTimeout(() => resolve(blocked), 300));
            audio.preload = 'auto';
            audio.load();
        })"""
    )
    assert blocked == []
