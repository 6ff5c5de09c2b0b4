"""On a phone (390 px wide) nothing the site shows makes the page scroll sideways, and a
long name does not swallow the header; an admin table too wide for it scrolls in a named region
a keyboard can reach and scroll, and on a wide screen, where it fits, Tab goes past it.
Screenshots go to ``test-artifacts/browser/``."""

from __future__ import annotations

import fakeredis
import pytest

from articles import curation
from club import membership
from club.community import moderation
from club.extensions import db
from tests.browser.conftest import ARTIFACTS, signed_in_page
from tests.community.conftest import add_comment
from tests.conftest import make_article, make_feed, make_user
from tests.worker.conftest import use_redis, work_off
from worker.queues import enqueue

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
    page = signed_in_page(browser, live_server, admin, viewport=PHONE)

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
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"

    page.get_by_role("button", name="Menu").click()  # a phone's header folds its links
    name = page.locator(".site-header .account-name").bounding_box()
    assert name["height"] < 30 and name["width"] < PHONE["width"] / 2, name  # one short line


def test_a_long_link_typed_by_a_member_or_a_moderator_stays_inside_a_phone_screen(
    app, live_server, browser
):
    link = "https://example.com/guidelines?term=" + "lowerbackpain+walking" * 12
    admin = make_user(handle="mod", admin=True)
    member = make_user(handle="linky", subscription="active")
    member.bio = f"My list: {link}"
    membership.freeze(member, by=admin, reason=f"Posted {link}")
    db.session.commit()
    pages = {
        admin: [f"/u/{member.handle}", f"/admin/users/{member.id}"],
        member: ["/settings", f"/u/{member.handle}"],  # the freeze's reason, quoted
    }
    for n, (who, paths) in enumerate(pages.items()):
        page = signed_in_page(browser, live_server, who, viewport=PHONE)
        for path in paths:
            assert page.goto(f"{live_server}{path}").status == 200, path
            page.screenshot(path=str(ARTIFACTS / f"long-link-{n}-{path.count('/')}.png"))
            assert page_width(page) <= PHONE["width"], (who.handle, path)


def test_a_long_article_title_on_a_members_profile_stays_inside_a_phone_screen(
    app, live_server, browser
):
    word = "Hippopotomonstrosesquippedaliophobia" * 5  # one 180-letter word
    member = make_user(handle="talker", subscription="active")
    add_comment(make_article(title=f"On {word}"), member, "Worth a read.")
    # Its author also sees, quoted, the title of an article no longer published.
    hidden = make_article(title=f"Also on {word}")
    add_comment(hidden, member, "Me too.")
    hidden.status = "hidden"
    db.session.commit()
    narrow = {"width": 375, "height": 812}
    visitor = browser.new_context(viewport=narrow).new_page()
    author = signed_in_page(browser, live_server, member, viewport=narrow)
    for n, page in enumerate((visitor, author)):
        assert page.goto(f"{live_server}/u/{member.handle}").status == 200
        page.screenshot(path=str(ARTIFACTS / f"profile-title-{n}.png"), full_page=True)
        assert page_width(page) <= narrow["width"], n


def test_a_moderators_buttons_keep_apart_when_a_phone_wraps_them(app, live_server, browser):
    admin = make_user(handle="mod", admin=True)
    comment = add_comment(make_article(), make_user(subscription="active"), "Buy pills")
    moderation.report_comment(make_user(subscription="active"), comment.id, "spam", "")
    db.session.commit()
    page = signed_in_page(
        browser, live_server, admin, "/admin/reports", viewport={"width": 320, "height": 700}
    )
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


# Every admin page with a table, and the name its table's scroll region reads out.
ADMIN_TABLES = {
    "/admin/feeds/": "Feeds",
    "/admin/topics/": "Topics",
    "/admin/users": "Members",
    "/admin/audit": "Audit log",
    "/admin/jobs/": "Failed jobs",
}
# Named all the same, with no hint: their columns wrap to fit.
FITS_A_PHONE = {
    "/admin/feeds/rules": "Keyword rules",
    "/admin/articles/?status=published": "Articles",
}

# What a keyboard or screen-reader user meets at each table on the page.
REGIONS_OF_TABLES = """() => [...document.querySelectorAll('main table')].map((table) => {
    const region = table.closest('[role=region]');
    return region && {name: region.getAttribute('aria-label'), tabIndex: region.tabIndex};
})"""


@pytest.fixture
def failed_job(app):
    """A feed job that failed, so the jobs page lists it with Requeue and Delete."""
    connection = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    use_redis(app, connection, "redis://fake.invalid:6379/0", is_async=True)
    enqueue("tests.worker.sample_jobs.fail_permanently", queue="feeds")
    work_off(app, connection)


def fill_admin_tables(admin) -> None:
    """Give every admin table a row as wide as real ones get."""
    topic = curation.topic_for("Sleep and recovery")
    feed = make_feed(title="The Sleep Research Weekly", topic=topic)
    make_article(feed=feed, title="Naps after lunch, and what they do for an afternoon")
    curation.add_rule("block", "miracle cure", None)
    membership.freeze(make_user(handle="spammer"), by=admin, reason="Posted adverts")
    db.session.commit()


def assert_tables_are_named_regions(page, path: str, *, tab_stops: bool) -> None:
    """Check each table on the page sits in a region with a name of its own, which is a tab
    stop (``tab_stops``) only while it has columns to scroll into view."""
    regions = page.evaluate(REGIONS_OF_TABLES)
    assert all(r and r["name"] for r in regions), (path, regions)
    assert all((r["tabIndex"] == 0) is tab_stops for r in regions), (path, regions)
    assert len({r["name"] for r in regions}) == len(regions), (path, regions)


def scroll_to_the_end_by_keyboard(page) -> None:
    """Press ArrowRight on the focused region until it scrolls no further."""
    for _ in range(60):
        before = page.evaluate("document.activeElement.scrollLeft")
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(50)
        if page.evaluate("document.activeElement.scrollLeft") == before:
            return


def test_each_admin_table_on_a_phone_is_a_named_region_a_keyboard_can_scroll(
    app, live_server, browser, failed_job
):
    admin = make_user(handle="carol", admin=True)
    fill_admin_tables(admin)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = signed_in_page(browser, live_server, admin, viewport=PHONE)

    for n, (path, name) in enumerate(ADMIN_TABLES.items()):
        assert page.goto(f"{live_server}{path}").status == 200, path
        page.screenshot(path=str(ARTIFACTS / f"admin-table-{n}.png"), full_page=True)
        assert_tables_are_named_regions(page, path, tab_stops=True)
        region = page.get_by_role("region", name=name, exact=True)
        last_cell = region.locator("tbody tr:first-child td:last-child")
        assert not in_view(last_cell, region), path  # wider than the phone: it scrolls
        hint = page.locator(".scroll-hint").first
        assert hint.is_visible() and "Scroll sideways" in hint.inner_text(), path
        for _ in range(80):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.getAttribute('aria-label')") == name:
                break
        else:
            raise AssertionError(f"Tab never reaches the {name} table on {path}")
        scroll_to_the_end_by_keyboard(page)
        page.screenshot(path=str(ARTIFACTS / f"admin-table-{n}-scrolled.png"), full_page=True)
        assert in_view(last_cell, region), path
        assert page_width(page) <= PHONE["width"], path
    for path, name in FITS_A_PHONE.items():
        page.goto(f"{live_server}{path}")
        assert_tables_are_named_regions(page, path, tab_stops=False)
        assert page.get_by_role("region", name=name, exact=True).is_visible()
        assert page.locator(".scroll-hint").count() == 0, path
    page.set_viewport_size({"width": 1280, "height": 844})
    page.goto(f"{live_server}/admin/feeds/")
    assert page.locator(".scroll-hint").is_hidden()  # the hint is for phones only


def in_view(cell, region) -> bool:
    """Whether ``cell`` shows whole inside ``region``'s visible box, left to right."""
    a, b = cell.bounding_box(), region.bounding_box()
    return a["x"] >= b["x"] - 1 and a["x"] + a["width"] <= b["x"] + b["width"] + 1


def tab_stops(page, limit: int = 120) -> list[str]:
    """Press Tab from the top of the page until focus leaves it; say where each press landed."""
    page.locator("body").focus()
    landed = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        where = page.evaluate(
            """() => {
                const at = document.activeElement;
                if (at === document.body) return null;
                if (at.getAttribute('role') === 'region') return 'region ' + at.ariaLabel;
                return at.outerHTML.slice(0, 80);
            }"""
        )
        if where is None or where in landed[:1]:
            break
        landed.append(where)
    return landed


def test_a_wide_screen_tabs_past_admin_tables_that_need_no_scrolling(
    app, live_server, browser, failed_job
):
    admin = make_user(handle="carol", admin=True)
    fill_admin_tables(admin)
    page = signed_in_page(browser, live_server, admin, viewport={"width": 1280, "height": 844})

    for path, name in {**ADMIN_TABLES, **FITS_A_PHONE}.items():
        page.goto(f"{live_server}{path}")
        assert_tables_are_named_regions(page, path, tab_stops=False)
        stops = tab_stops(page)
        assert len(stops) > 3 and f"region {name}" not in stops, (path, stops)
    # Narrowed to a phone's width, a table with columns out of view becomes a tab stop.
    page.goto(f"{live_server}/admin/feeds/")
    page.set_viewport_size(PHONE)
    page.wait_for_function("() => document.querySelector('.table-scroll').tabIndex === 0")
    assert "region Feeds" in tab_stops(page)


def test_the_frozen_banner_leaves_most_of_a_phone_screen_to_the_page(app, live_server, browser):
    # Its words are required on every page; a quarter of the first screen is its limit.
    lapsed = make_user(handle="lapsed", subscription="past_due", past_due_days=10)
    page = signed_in_page(browser, live_server, lapsed, "/", viewport=PHONE)
    banner = page.locator(".banner-frozen")
    assert "Your account is frozen." in banner.inner_text()
    page.screenshot(path=str(ARTIFACTS / "phone-frozen-banner.png"))
    assert banner.bounding_box()["height"] <= PHONE["height"] / 4
