"""OPML under /admin/feeds and on the command line: import (hostile files too) and export."""

from __future__ import annotations

import html
import io

import pytest
import sqlalchemy as sa

from articles import opml_import
from articles.models import Feed
from articles.opml import read_opml, write_opml
from club.extensions import db
from tests.articles.conftest import audit_actions, feed_bytes
from tests.conftest import make_feed


def test_it_explains_an_opml_file_over_the_upload_limit(admin_client):
    huge = b"<opml><body>" + b"<!-- padding -->" * 70_000 + b"</body></opml>"  # about 1.1 MB
    response = admin_client.submit(
        "/admin/feeds/import",
        {"file": (io.BytesIO(huge), "big.opml")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<h1>Feeds</h1>" in html
    assert "Nothing imported: the OPML file is larger than 1 MB." in html


def test_the_import_option_comes_before_the_import_button(admin_client):
    page = admin_client.get("/admin/feeds/").get_data(as_text=True)
    form = page[page.index('action="/admin/feeds/import"') :]
    form = form[: form.index("</form>")]
    assert form.index('name="keep_settings"') < form.index(">Import</button>")


def test_it_imports_and_exports_opml(admin_client):
    make_feed(url="https://known.example.com/feed.xml", title="Known")
    opml = (
        b'<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>'
        b'<outline text="Health"><outline type="rss" text="New One" xmlUrl="https://new.example.com/rss"/></outline>'
        b'<outline type="rss" text="Known" xmlUrl="https://known.example.com/feed.xml"/>'
        b'<outline type="rss" text="Bad" xmlUrl="javascript:alert(1)"/></body></opml>'
    )
    page = admin_client.submit(
        "/admin/feeds/import",
        {"file": (io.BytesIO(opml), "feeds.opml")},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert (
        "Imported 1 new feed(s) of 3 listed (1 already on the site, 1 not a usable address)."
        in page
    )
    new = db.session.scalar(sa.select(Feed).where(Feed.url == "https://new.example.com/rss"))
    assert new.title == "New One" and new.topic.name == "Health"
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 2
    assert audit_actions() == ["feed.add", "feed.import_opml"]  # each new feed, then the file
    exported = admin_client.get("/admin/feeds/export.opml").data
    assert b'xmlUrl="https://new.example.com/rss"' in exported and b"Known" in exported


def test_it_refuses_feeds_on_internal_addresses_as_the_add_form_does(admin_client):
    opml = (
        b'<opml version="2.0"><body>'
        b'<outline type="rss" text="Metadata" xmlUrl="http://169.254.169.254/latest/"/>'
        b'<outline type="rss" text="Redis" xmlUrl="http://[::1]:6379/"/>'
        b'<outline type="rss" text="Loopback" xmlUrl="http://127.0.0.1/feed.xml"/>'
        # Loopback by name, and 127.0.0.1 as resolvers read a number: no DNS answer needed.
        b'<outline type="rss" text="Local" xmlUrl="http://localhost/feed.xml"/>'
        b'<outline type="rss" text="Dev" xmlUrl="http://blog.localhost./feed.xml"/>'
        b'<outline type="rss" text="Number" xmlUrl="http://2130706433/feed.xml"/>'
        b'<outline type="rss" text="Odd port" xmlUrl="https://feeds.example.com:9000/rss"/>'
        b'<outline type="rss" text="Token" xmlUrl="https://me:token@feeds.example.org/rss"/>'
        b'<outline type="rss" text="Public" xmlUrl="https://public.example.com/rss"/>'
        b"</body></opml>"
    )
    import_opml(admin_client, opml)

    page = admin_client.get("/admin/feeds/").get_data(as_text=True)
    assert (
        "Imported 1 new feed(s) of 9 listed "
        "(8 refused: an internal address, an odd port or a password)." in html.unescape(page)
    )
    urls = db.session.scalars(sa.select(Feed.url)).all()
    assert urls == ["https://public.example.com/rss"]


def test_a_feed_listed_twice_in_the_file_is_not_counted_as_already_on_the_site(admin_client):
    make_feed(url="https://known.example.com/feed.xml", title="Known")
    opml = (
        b'<opml version="2.0"><body>'
        b'<outline type="rss" text="Twice" xmlUrl="https://twice.example.com/rss"/>'
        b'<outline type="rss" text="Twice" xmlUrl="https://TWICE.example.com/rss#again"/>'
        b'<outline type="rss" text="Known" xmlUrl="https://known.example.com/feed.xml"/>'
        b"</body></opml>"
    )
    import_opml(admin_client, opml)
    page = admin_client.get("/admin/feeds/").get_data(as_text=True)
    assert (
        "Imported 1 new feed(s) of 3 listed (1 already on the site, 1 listed again in the file)."
        in page
    )


def import_opml(admin_client, data: bytes, **fields):
    return admin_client.submit(
        "/admin/feeds/import",
        {"file": (io.BytesIO(data), "feeds.opml"), **fields},
        content_type="multipart/form-data",
    )


def test_an_opml_export_imported_again_keeps_each_feeds_settings(admin_client):
    make_feed(url="https://a.example.com/rss", title="Reviewed Source", auto_publish=True,
              full_content=False, interval_minutes=240)  # fmt: skip
    make_feed(url="https://b.example.com/rss", status="paused")
    untitled = make_feed(url="https://c.example.com/rss")
    untitled.title = ""  # never fetched, so no name yet
    db.session.commit()
    exported = admin_client.get("/admin/feeds/export.opml").data
    db.session.execute(sa.delete(Feed))
    db.session.commit()

    import_opml(admin_client, exported, keep_settings="y")

    feeds = {f.url: f for f in db.session.scalars(sa.select(Feed))}
    a, b, c = (feeds[f"https://{x}.example.com/rss"] for x in "abc")
    assert (a.title, a.auto_publish, a.full_content, a.interval_minutes) == (
        "Reviewed Source", True, False, 240,
    )  # fmt: skip
    assert b.status == "paused" and not b.auto_publish and b.full_content
    assert c.title == "" and c.status == "active"
    listed = {o.url: o.title for o in read_opml(exported)}  # any reader still sees names
    assert listed["https://a.example.com/rss"] == "Reviewed Source"


def test_an_opml_file_with_odd_settings_gets_the_defaults(admin_client):
    ns = b'xmlns:club="tag:billionaire-club.example,2026:opml"'
    outline = (
        b'<outline type="rss" text="Odd" xmlUrl="https://odd.example.com/rss" '
        b'club:autoPublish="yes please" club:interval="1" club:fullContent="FALSE"/>'
    )
    import_opml(
        admin_client,
        b"<opml " + ns + b' version="2.0"><body>' + outline + b"</body></opml>",
        keep_settings="y",
    )
    feed = db.session.scalar(sa.select(Feed))
    assert (feed.auto_publish, feed.full_content, feed.interval_minutes) == (False, False, 30)


def test_an_opml_file_cannot_switch_off_review_unless_the_admin_asks(admin_client):
    # A list from elsewhere may carry the site's attributes: by default they are ignored.
    ns = b'xmlns:club="tag:billionaire-club.example,2026:opml"'
    outline = (
        b'<outline type="rss" text="Eager" xmlUrl="https://eager.example.com/rss" '
        b'club:autoPublish="true" club:fullContent="true" club:interval="5" club:paused="true"/>'
    )
    import_opml(
        admin_client, b"<opml " + ns + b' version="2.0"><body>' + outline + b"</body></opml>"
    )
    feed = db.session.scalar(sa.select(Feed))
    assert (feed.auto_publish, feed.interval_minutes, feed.status) == (False, 30, "active")


def test_it_refuses_an_opml_bomb(admin_client):
    bomb = (
        feed_bytes("billion_laughs.xml").replace(b"<rss", b"<opml").replace(b"</rss>", b"</opml>")
    )
    response = admin_client.submit(
        "/admin/feeds/import",
        {"file": (io.BytesIO(bomb), "x.opml")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200 and db.session.scalar(sa.select(sa.func.count(Feed.id))) == 0


def test_it_never_expands_an_entity_declared_after_a_comment_in_opml():
    big = "A" * 500_000  # 40 references: under expat's own amplification limit (100x)
    opml = (
        f'<?xml version="1.0"?><!-- <a --><!DOCTYPE opml [<!ENTITY big "{big}">]><opml><body>'
        f'<outline xmlUrl="https://x.example.com/feed" title="{"&big;" * 40}"/></body></opml>'
    ).encode()
    with pytest.raises(ValueError, match="not a readable OPML file"):
        read_opml(opml)


def test_it_imports_an_opml_file_nested_thousands_deep(admin_client):
    feed = b'<outline type="rss" text="Deep" xmlUrl="https://deep.example.com/rss"/>'
    depth = 20_000  # far past Python's recursion limit, under the upload's memory spool
    opml = b"<opml><body>" + b"<outline>" * depth + feed + b"</outline>" * depth + b"</body></opml>"
    response = admin_client.submit(
        "/admin/feeds/import",
        {"file": (io.BytesIO(opml), "deep.opml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Feed.title)) == "Deep"


def test_an_untitled_feed_exported_and_read_again_stays_untitled(app):
    """OPML needs a text for every outline; ours writes the site's address for a feed with
    no title. Read back as its title, it would hide the feed's own name for good."""
    untitled = make_feed(url="https://a.example.com/feed.xml", site_url="https://a.example.com/")
    untitled.title = ""
    named = make_feed(url="https://b.example.com/feed.xml", site_url="https://b.example.com/")
    named.title = "Bee News"
    db.session.commit()

    outlines = read_opml(write_opml([untitled, named], "Feeds"))

    assert [(o.url, o.title) for o in outlines] == [
        ("https://a.example.com/feed.xml", ""),
        ("https://b.example.com/feed.xml", "Bee News"),
    ]


def test_it_keeps_the_order_and_folders_of_an_opml_file():
    opml = (
        b'<opml><body><outline type="rss" text="A" xmlUrl="https://a.example/rss"/>'
        b'<outline text="Sleep"><outline text="Inner">'
        b'<outline type="rss" text="B" xmlUrl="https://b.example/rss"/></outline>'
        b'<outline type="rss" text="C" xmlUrl="https://c.example/rss"/></outline>'
        b'<outline type="rss" text="D" xmlUrl="https://d.example/rss"/></body></opml>'
    )
    found = [(o.title, o.category) for o in read_opml(opml)]
    assert found == [("A", ""), ("B", "Inner"), ("C", "Sleep"), ("D", "")]


@pytest.mark.parametrize(
    "opml",
    [
        b'<OPML version="1.0"><BODY><OUTLINE text="A" xmlUrl="https://a.example/rss"/></BODY></OPML>',
        b'<opml xmlns="http://opml.org/spec2" version="2.0"><body>'
        b'<outline text="A" xmlUrl="https://a.example/rss"/></body></opml>',
    ],
)
def test_it_reads_opml_written_in_capitals_or_in_a_namespace(opml):
    assert [(o.title, o.url) for o in read_opml(opml)] == [("A", "https://a.example/rss")]


def test_it_reads_opml_with_an_unescaped_ampersand_or_an_html_entity():
    document = (
        b'<?xml version="1.0"?><opml version="2.0"><body>'
        b'<outline text="Caf&eacute; Sant&eacute; &amp; Co" type="rss"'
        b' xmlUrl="https://a.example.com/feed?format=rss&cat=health"/>'
        b'<outline text="Plain" type="rss" xmlUrl="https://b.example.com/feed&#46;xml"/>'
        b"</body></opml>"
    )
    [first, second] = read_opml(document)
    assert first.title == "Café Santé & Co"
    assert first.url == "https://a.example.com/feed?format=rss&cat=health"
    assert second.url == "https://b.example.com/feed.xml"


def test_it_still_refuses_a_file_that_is_not_xml_at_all():
    with pytest.raises(ValueError, match="not a readable OPML file"):
        read_opml(b"<opml><body><outline text='x'></body>")


def test_it_imports_feeds_nested_under_a_feed_and_attributes_in_any_case(admin_client):
    opml = (
        b'<opml version="2.0"><body><outline text="Parent" xmlUrl="https://a.example/rss">'
        b'<outline text="Child" xmlUrl="https://b.example/rss"/></outline>'
        b'<outline text="Lower" xmlurl="https://c.example/rss" htmlurl="https://c.example/"/>'
        b"</body></opml>"
    )

    import_opml(admin_client, opml)
    page = admin_client.get("/admin/feeds/").get_data(as_text=True)

    assert (
        "Imported 3 new feed(s) of 3 listed. Each is fetched on the next pass; what it stored "
        "shows under Last fetch."
    ) in page
    feeds = dict(db.session.execute(sa.select(Feed.url, Feed.site_url)).all())
    assert feeds == {
        "https://a.example/rss": None,
        "https://b.example/rss": None,
        "https://c.example/rss": "https://c.example/",
    }


def test_it_says_an_opml_file_lists_no_feeds_and_imports_nothing(admin_client):
    opml = b'<opml version="2.0"><body><outline text="An empty folder"/></body></opml>'

    import_opml(admin_client, opml)
    page = admin_client.get("/admin/feeds/").get_data(as_text=True)

    assert "Nothing imported: the file lists no feeds." in page
    assert "Imported 0" not in page and audit_actions() == []


def outlines_for(*hosts: str) -> bytes:
    items = "".join(f'<outline type="rss" text="{h}" xmlUrl="https://{h}/rss"/>' for h in hosts)
    return f'<opml version="2.0"><body>{items}</body></opml>'.encode()


def test_an_upload_of_more_new_feeds_than_one_adds_imports_nothing_and_says_so(
    admin_client, monkeypatch
):
    monkeypatch.setattr(opml_import, "MAX_NEW_FEEDS_PER_UPLOAD", 2)

    import_opml(admin_client, outlines_for("a.example.com", "b.example.com", "c.example.com"))

    page = html.unescape(admin_client.get("/admin/feeds/").get_data(as_text=True))
    assert opml_import.TOO_MANY_NEW_FEEDS in page
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 0


def test_feeds_the_site_has_do_not_count_against_an_uploads_limit(admin_client, monkeypatch):
    """Re-importing the site's own export adds only what is new, however long it is."""
    monkeypatch.setattr(opml_import, "MAX_NEW_FEEDS_PER_UPLOAD", 2)
    make_feed(url="https://a.example.com/rss")
    make_feed(url="https://b.example.com/rss")

    hosts = ("a.example.com", "B.example.com", "c.example.com", "c.example.com")
    import_opml(admin_client, outlines_for(*hosts))

    page = html.unescape(admin_client.get("/admin/feeds/").get_data(as_text=True))
    assert "Imported 1 new feed(s) of 4 listed" in page
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 3


def test_addresses_an_import_refuses_do_not_count_against_an_uploads_limit(
    admin_client, monkeypatch
):
    monkeypatch.setattr(opml_import, "MAX_NEW_FEEDS_PER_UPLOAD", 1)
    unusable = "".join(
        f'<outline type="rss" text="x" xmlUrl="{url}"/>'
        for url in ("mailto:editor@example.com", "ftp://example.com/rss", "http://localhost/rss")
    )
    opml = outlines_for("a.example.com").replace(b"</body>", unusable.encode() + b"</body>")

    import_opml(admin_client, opml)

    page = html.unescape(admin_client.get("/admin/feeds/").get_data(as_text=True))
    assert "Imported 1 new feed(s) of 4 listed" in page
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 1


def test_the_command_line_imports_any_number_of_feeds(app, tmp_path, monkeypatch):
    monkeypatch.setattr(opml_import, "MAX_NEW_FEEDS_PER_UPLOAD", 1)
    path = tmp_path / "feeds.opml"
    path.write_bytes(outlines_for("a.example.com", "b.example.com"))

    result = app.test_cli_runner().invoke(args=["feeds", "import-opml", str(path)])

    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 2


def test_an_upload_with_an_address_that_cannot_be_read_imports_the_others(admin_client):
    import_opml(admin_client, outlines_for("ok.example.com", "[::1"))

    page = html.unescape(admin_client.get("/admin/feeds/").get_data(as_text=True))
    assert "Imported 1 new feed(s) of 2 listed (1 not a usable address)" in page
