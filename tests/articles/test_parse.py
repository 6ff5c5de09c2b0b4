"""Parsing hostile and old-fashioned documents: entity attacks, encodings, non-feeds."""

from __future__ import annotations

import contextlib
import io
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from articles import parse
from articles.parse import ParseError, neutralise_dtd, parse_feed, time_budget
from tests.articles.conftest import feed_bytes, item, rss

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def quadratic_blowup(
    entity_kb: int = 50, references: int = 2000, prolog: str = '<?xml version="1.0"?>'
) -> bytes:
    big = "A" * (entity_kb * 1024)
    refs = "&big;" * references
    return (
        f'{prolog}<!DOCTYPE rss [<!ENTITY big "{big}">]>'
        f'<rss version="2.0"><channel><title>Q</title><link>https://q.example.com/</link>'
        f"<item><title>Q</title><link>https://q.example.com/1</link><description>{refs}"
        "</description></item></channel></rss>"
    ).encode()


def test_it_never_expands_a_quadratic_blowup():
    started = time.monotonic()
    parsed = parse_feed(quadratic_blowup())
    assert time.monotonic() - started < 1
    assert all(len(e.summary_html) < 100_000 for e in parsed.entries)


@pytest.mark.parametrize(
    ("prolog", "codec", "content_type"),
    [
        # A "<a" in a comment or processing instruction before the DOCTYPE is not the root.
        ('<?xml version="1.0"?><!-- <a -->', "utf-8", ""),
        ('<?xml version="1.0"?><?note <a?>', "utf-8", ""),
        # In EBCDIC and UTF-7 the declaration's bytes are not ASCII; feedparser decodes them.
        ('<?xml version="1.0"?>', "cp037", "application/xml; charset=cp037"),
        ('<?xml version="1.0" encoding="cp037"?>', "cp037", ""),
        ('<?xml version="1.0"?>', "utf-7", "application/xml; charset=utf-7"),
    ],
    ids=["comment", "processing-instruction", "ebcdic-by-server", "ebcdic-by-itself", "utf-7"],
)
def test_it_never_expands_an_entity_hidden_from_a_byte_scan(prolog, codec, content_type):
    # Under expat's own amplification limit (100x), so only removing the DOCTYPE helps.
    document = quadratic_blowup(1024, 50, prolog).decode().encode(codec)
    parsed = parse_feed(document, content_type, memory=1 << 40)  # as if no budget applied
    assert [e.title for e in parsed.entries] == ["Q"]
    assert all(len(e.summary_html) < 100_000 for e in parsed.entries)


def test_it_never_expands_billion_laughs():
    started = time.monotonic()
    parsed = parse_feed(feed_bytes("billion_laughs.xml"))
    assert time.monotonic() - started < 1
    assert "lollollol" not in parsed.title + "".join(e.title for e in parsed.entries)


def test_it_never_resolves_external_entities():
    parsed = parse_feed(feed_bytes("xxe_file.xml"))
    text = "".join(e.title + e.summary_html for e in parsed.entries)
    assert "root:" not in text


def test_it_never_fetches_an_external_dtd_or_entity(feed_server):
    dtd = feed_server.route("/evil.dtd", body=b'<!ENTITY leak "leaked">')
    document = (
        f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{dtd}" ['
        f'<!ENTITY % remote SYSTEM "{dtd}"> %remote; <!ENTITY ext SYSTEM "{dtd}">]>'
        '<rss version="2.0"><channel><title>T</title><link>https://t.example.com/</link>'
        "<item><title>Entry &ext;</title><link>https://t.example.com/1</link></item>"
        "</channel></rss>"
    ).encode()
    parsed = parse_feed(document)
    assert feed_server.hits() == 0
    assert [e.title for e in parsed.entries] == ["Entry &ext;"]  # never expanded


def test_it_removes_the_doctype_and_declarations_but_not_body_text():
    document = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "]>"><!ENTITY b \'x>y\'>]>'
        b"<rss><channel><description><![CDATA[<!DOCTYPE kept> <!ENTITY kept>]]></description>"
        b"</channel></rss>"
    )
    cleaned = neutralise_dtd(document)
    # Re-declared as UTF-8, the character set it now is (as feedparser itself does), and
    # on a line of its own.
    assert cleaned.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<rss>")
    assert b"<!DOCTYPE kept> <!ENTITY kept>" in cleaned


def test_it_still_reads_an_old_feed_with_a_doctype():
    parsed = parse_feed(feed_bytes("rss091_doctype.xml"))
    assert [e.title for e in parsed.entries] == ["Still works"]
    assert "é" in parsed.entries[0].summary_html


@pytest.mark.parametrize(
    ("name", "title"),
    [("atom03.xml", "Old Atom entry"), ("rdf10.xml", "RDF entry")],
)
def test_it_reads_old_formats(name, title):
    assert parse_feed(feed_bytes(name)).entries[0].title == title


def test_it_reads_the_encoding_a_one_line_document_declares():
    # feedparser's own sniff takes the last "encoding=" on the first line: in a minified
    # document, text in an entry.
    one_line = rss(item(1, title="Price: 5 €", body='Set encoding="windows-1252"?> by hand'))
    one_line = one_line.replace(b"?>\n", b"?>", 1)
    assert b"\n" not in one_line
    parsed = parse_feed(one_line)
    assert parsed.entries[0].title == "Price: 5 €"
    assert parsed.warning is None


def test_it_reads_utf16_documents():
    document = rss(item(1)).decode().replace('encoding="utf-8"', 'encoding="utf-16"')
    parsed = parse_feed(document.encode("utf-16"))
    assert parsed.entries[0].title == "Entry 1"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_it_reads_utf16_documents_whose_server_declares_the_charset(codec):
    document = rss(item(1, title="Cafe")).decode().replace('encoding="utf-8"', 'encoding="utf-16"')
    parsed = parse_feed(document.encode(codec), f"application/rss+xml; charset={codec}")
    assert [entry.title for entry in parsed.entries] == ["Cafe"]


def test_it_keeps_a_warning_for_an_ill_formed_feed_whose_entries_parse():
    parsed = parse_feed(feed_bytes("illformed.xml"))
    assert parsed.entries and parsed.warning.startswith("ill-formed feed")


def test_it_recovers_from_invalid_utf8():
    parsed = parse_feed(feed_bytes("invalid_utf8.xml"))
    assert parsed.entries[0].link == "https://bytes.example.com/1"


def test_it_says_when_a_web_page_is_not_a_feed():
    with pytest.raises(ParseError, match="not a feed: it is a web page"):
        parse_feed(feed_bytes("html_page.html"))


@pytest.mark.parametrize("body", [b"", b"   \n", feed_bytes("empty.xml")])
def test_it_refuses_an_empty_document(body):
    with pytest.raises(ParseError, match="empty"):
        parse_feed(body)


def test_it_refuses_plain_text():
    with pytest.raises(ParseError) as refused:
        parse_feed(b"just some words, no markup")
    assert str(refused.value) == "not a feed: it is plain text"


def test_it_says_a_document_that_is_not_a_feed_has_broken_xml():
    with pytest.raises(ParseError) as refused:
        parse_feed(b"<notes><unclosed></notes>")
    assert str(refused.value).startswith("not a feed: its XML is broken (")


def test_it_enforces_the_time_budget():
    big = rss(*(item(n, body="<p>" + "word " * 200 + "</p>") for n in range(2000)))
    with pytest.raises(ParseError, match="too long"):
        parse_feed(big, seconds=0.01)


def test_the_time_budget_holds_when_its_first_expiry_is_lost():
    """A signal landing in a finalizer has its exception dropped; the next one ends it."""
    with pytest.raises(ParseError, match="too long"), time_budget(0.01):
        with contextlib.suppress(ParseError):
            time.sleep(0.2)  # the first expiry lands here and is dropped
        busy_until = time.monotonic() + 2
        while time.monotonic() < busy_until:  # a parse that would otherwise run on
            pass


MEMORY_HUNGRY = """
import resource
from articles.parse import ParseError, parse_feed
from tests.articles.conftest import item, rss

before = resource.getrlimit(resource.RLIMIT_AS)
hungry = rss("<item><title>t</title></item>" * 70_000)  # 2 MB; about 70 MB to parse
try:
    parse_feed(hungry, memory=16 * 1024 * 1024)
except ParseError as error:
    print("refused:", error)
print("limit restored:", resource.getrlimit(resource.RLIMIT_AS) == before)
print("next feed:", [e.title for e in parse_feed(rss(item(1))).entries])
"""


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="Linux measures memory")
def test_it_enforces_the_memory_budget():
    # A fresh interpreter: the test process may hold freed memory a parse would reuse.
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_HUNGRY],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert result.stdout.splitlines() == [
        "refused: the feed needed too much memory to parse",
        "limit restored: True",
        "next feed: ['Entry 1']",
    ], result.stderr


def in_a_thread(function, *args, **kwargs):
    """Run ``function`` off the main thread, as a web request or an inline job does."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args, **kwargs).result()


def test_it_parses_off_the_main_thread_with_the_same_result():
    document = feed_bytes("media.xml")
    assert in_a_thread(parse_feed, document) == parse_feed(document)


def test_it_enforces_the_time_budget_off_the_main_thread():
    big = rss(*(item(n, body="<p>" + "word " * 200 + "</p>") for n in range(2000)))
    with pytest.raises(ParseError, match="too long"):
        in_a_thread(parse_feed, big, seconds=0.01)


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="Linux measures memory")
def test_it_enforces_the_memory_budget_off_the_main_thread():
    before = resource.getrlimit(resource.RLIMIT_AS)
    hungry = rss("<item><title>t</title></item>" * 70_000)  # 2 MB; about 70 MB to parse
    with pytest.raises(ParseError, match="too much memory"):
        in_a_thread(parse_feed, hungry, memory=16 * 1024 * 1024)
    assert resource.getrlimit(resource.RLIMIT_AS) == before  # this process was not limited


def test_it_leaves_the_memory_limit_as_it_found_it():
    before = resource.getrlimit(resource.RLIMIT_AS)
    parse_feed(rss(item(1)))
    assert resource.getrlimit(resource.RLIMIT_AS) == before


def test_it_leaves_an_outer_alarm_running():
    # RQ times jobs out with SIGALRM too; parsing must not cancel that deadline.
    import signal

    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *a: fired.append(True))
    signal.setitimer(signal.ITIMER_REAL, 60)
    try:
        parse_feed(rss(item(1)))
        left, _ = signal.getitimer(signal.ITIMER_REAL)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert 59 < left <= 60 and fired == []


def test_it_gives_an_entry_without_an_update_time_none():
    entry = parse_feed(rss(item(1, date="Mon, 23 Nov 2026 08:00:00 GMT"))).entries[0]
    assert entry.published is not None and entry.updated is None


def test_it_reads_an_atom_update_time():
    document = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><id>a1</id>'
        b'<title>One</title><link href="https://a.example.com/1"/>'
        b"<published>2026-11-20T10:00:00Z</published><updated>2026-11-21T09:30:00Z</updated>"
        b"</entry></feed>"
    )
    entry = parse_feed(document).entries[0]
    assert (entry.published.day, entry.updated.day, entry.updated.hour) == (20, 21, 9)


def test_it_caps_entries_per_document():
    parsed = parse_feed(rss(*(item(n) for n in range(parse.MAX_ENTRIES + 5))))
    assert len(parsed.entries) == parse.MAX_ENTRIES
    assert "first 500" in parsed.warning


def test_it_hands_feedparser_a_stream_only(monkeypatch):
    seen = []
    real = feedparser.parse

    def spy(source, *args, **kwargs):
        seen.append(type(source))
        return real(source, *args, **kwargs)

    monkeypatch.setattr(feedparser, "parse", spy)
    parse_feed(rss(item(1)))
    assert seen == [io.BytesIO]


def test_it_documents_why_feedparser_never_gets_a_path(tmp_path):
    # The hazard this module avoids: given a string, feedparser reads a local file.
    secret = tmp_path / "secret.xml"
    secret.write_bytes(rss(title="Local secret"))
    assert feedparser.parse(str(secret)).feed.title == "Local secret"


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("2020/1/10 14:33:00", datetime(2020, 1, 10, 14, 33, tzinfo=UTC)),
        ("2026/11/05", datetime(2026, 11, 5, tzinfo=UTC)),
    ],
)
def test_it_reads_a_slash_separated_date_as_the_day_it_names(written, meant):
    (entry,) = parse_feed(rss(item(1, date=written))).entries
    assert entry.published == meant


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("Seg, 24 Set 2018 19:42:40 -0300", datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)),
        ("Seg, 24 Jun 2018 19:42:40 -0300", datetime(2018, 6, 24, 22, 42, 40, tzinfo=UTC)),
        ("Lun, 5 Dic 2022 10:00:00 +0100", datetime(2022, 12, 5, 9, 0, tzinfo=UTC)),
        ("mar., 3 déc. 2024 09:15:00 +0100", datetime(2024, 12, 3, 8, 15, tzinfo=UTC)),
        ("Mi, 2 Okt 2019 10:00:00 +0200", datetime(2019, 10, 2, 8, 0, tzinfo=UTC)),
        ("Mon, 23 Nov 2026 08:00:00 GMT", datetime(2026, 11, 23, 8, 0, tzinfo=UTC)),
        ("jeu., 3 juil. 2024 09:15:00 +0100", datetime(2024, 7, 3, 8, 15, tzinfo=UTC)),
        ("lun., 3 juin 2024 09:15:00 +0100", datetime(2024, 6, 3, 8, 15, tzinfo=UTC)),
        ("Seg, 24 Set 2018 19:42:40 -03:00", datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)),
        ("Seg, 24 Set 18 19:42:40 -0300", datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)),
        ("Do, 5 Mrz 2020 12:00:00 +0100", datetime(2020, 3, 5, 11, 0, tzinfo=UTC)),
    ],
    ids=["pt", "pt-jun", "es", "fr", "de", "en", "fr-juil", "fr-juin", "colon-offset",
         "two-digit-year", "de-mrz"],
)  # fmt: skip
def test_it_reads_a_date_written_in_the_feeds_language(written, meant):
    (entry,) = parse_feed(rss(item(1, date=written))).entries
    assert entry.published == meant


@pytest.mark.parametrize(
    "written",
    [
        "Seg, 24 Xyz 2018 19:42:40 -0300",  # no month it knows
        "Seg, 24 Set 2018 7:42:40 PM -0300",  # a 12-hour clock it would read 12 hours out
        "Seg, 24 Set 0001 00:00:00 GMT",  # a placeholder year, not 2001
    ],
)
def test_a_date_it_cannot_read_for_certain_stays_unread(written):
    (entry,) = parse_feed(rss(item(1, date=written))).entries
    assert entry.published is None


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("<author>jane@example.org (Jane Doe)</author>", "Jane Doe"),
        ("<author>Jane Doe &lt;jane@example.org&gt;</author>", "Jane Doe"),
        ("<author>jane@example.org</author>", ""),
        ("<author>noreply@blogger.com (Unknown)</author>", ""),
        ("<dc:creator>Jane Doe</dc:creator>", "Jane Doe"),
        # Address endings longer than four letters, which feedparser cuts in two.
        ("<author>news@example.health (Dr. Ana Lima)</author>", "Dr. Ana Lima"),
        ("<author>desk@mayo.clinic (Jane Smith)</author>", "Jane Smith"),
        ("<author>Jane Smith &lt;jane@site.fitness&gt;</author>", "Jane Smith"),
        ("<author>jane@site.fitness</author>", ""),
        ("<author>x@y.z (Dr. Jane &amp; Co)</author>", "Dr. Jane & Co"),
        ("<author>a@example.org (b@example.org)</author>", ""),
        # No address at all: the byline is kept as written, handles and smileys too.
        ("<dc:creator>Jane Doe (@janedoe)</dc:creator>", "Jane Doe (@janedoe)"),
        ("<dc:creator>Jane Doe @ Reuters</dc:creator>", "Jane Doe @ Reuters"),
        ("<author>Dr. Ana Lima :)</author>", "Dr. Ana Lima :)"),
    ],
)
def test_it_names_the_author_without_their_email_address(written, shown):
    document = rss(item(1, extra=written)).replace(
        b"<rss ", b'<rss xmlns:dc="http://purl.org/dc/elements/1.1/" '
    )
    assert parse_feed(document).entries[0].author == shown


def test_it_names_an_atom_author_without_their_email_address():
    document = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><id>urn:x:1</id>'
        b'<title>One</title><link href="https://source.example.com/1"/>'
        b"<author><name>Jane Doe</name><email>jane@example.org</email></author></entry></feed>"
    )
    assert parse_feed(document).entries[0].author == "Jane Doe"
    long_ending = document.replace(b"example.org", b"example.health")
    assert parse_feed(long_ending).entries[0].author == "Jane Doe"


def test_it_takes_the_real_address_of_a_feedburner_proxied_entry():
    proxied = item(
        1,
        link="http://feedproxy.google.com/~r/healthblog/~3/abc/walk",
        extra="<feedburner:origLink>https://healthblog.example.com/walk</feedburner:origLink>",
    )
    document = rss(proxied).replace(
        b"<rss ", b'<rss xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0" '
    )
    assert parse_feed(document).entries[0].link == "https://healthblog.example.com/walk"


def atom_by(feed_author: str, *entry_authors: str) -> bytes:
    """An Atom feed by ``feed_author``, one entry for each of ``entry_authors``."""
    entries = "".join(
        f'<entry><id>urn:x:{n}</id><title>E{n}</title><link href="https://a.example.com/{n}"/>'
        f"{author}</entry>"
        for n, author in enumerate(entry_authors)
    )
    return (
        f'<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>{feed_author}{entries}</feed>'
    ).encode()


def test_an_atom_entry_without_an_author_is_by_the_feeds_author():
    document = atom_by(
        "<author><name>Tim Bray</name><email>tim@example.org</email></author>",
        "",
        "<author><name>Jane Doe</name></author>",
    )
    assert [e.author for e in parse_feed(document).entries] == ["Tim Bray", "Jane Doe"]


def test_a_feed_author_known_only_by_email_names_no_entry():
    document = atom_by("<author><email>tim@example.org</email></author>", "")
    assert parse_feed(document).entries[0].author == ""


def test_an_rss_item_is_not_by_the_channels_managing_editor():
    document = rss(item(1), extra="<managingEditor>Jane Doe</managingEditor>")
    assert parse_feed(document).entries[0].author == ""


FEEDPROXY = "http://feedproxy.google.com/~r/hb/~3/abc/walk"


def test_an_empty_item_nested_in_an_entry_loses_it_nothing():
    # PCMag's feed: an "<item />" inside each item ended the entry before its origLink.
    nested = "".join(
        item(n, link=f"http://feedproxy.google.com/~r/pc/~3/{n}/", extra="<item />"
             f"<feedburner:origLink>https://pc.example.com/a/{n}</feedburner:origLink>")
        for n in (1, 2)
    )  # fmt: skip
    document = rss(nested).replace(
        b"<rss ", b'<rss xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0" '
    )
    entries = parse_feed(document).entries
    assert [e.link for e in entries] == ["https://pc.example.com/a/1", "https://pc.example.com/a/2"]


FEEDBURNER_PROXY = "http://feeds.feedburner.com/~r/hb/~3/abc/walk"
POST = "https://hb.example.com/walk"


@pytest.mark.parametrize(
    ("link", "guid", "address"),
    [
        (FEEDPROXY, POST, POST),
        (FEEDBURNER_PROXY, POST, POST),
        # Not an address: the dead redirect is all there is.
        (FEEDPROXY, "tag:hb.example.com,2018:1", FEEDPROXY),
    ],
)
def test_it_takes_a_permalink_guid_over_a_feedburner_proxy_link(link, guid, address):
    # No <feedburner:origLink>, as when feedparser loses it to an "<item />" nested before it.
    proxied = f"<item><title>Walk</title><link>{link}</link><guid>{guid}</guid></item>"
    assert parse_feed(rss(proxied)).entries[0].link == address


PHEEDO_CLICK = "http://feeds.example.com/click.phdo?i=cc0c5fb0"


@pytest.mark.parametrize(
    ("orig_link", "address"),
    [
        ("https://news.example.com/2012/walk.html", "https://news.example.com/2012/walk.html"),
        # Not http(s): the tracker's redirect still reaches the story, this would not.
        ("javascript:alert(1)", PHEEDO_CLICK),
    ],
    ids=["http", "not-http"],
)
def test_it_takes_the_real_address_of_a_pheedo_tracked_entry(orig_link, address):
    tracked = item(1, link=PHEEDO_CLICK, extra=f"<pheedo:origLink>{orig_link}</pheedo:origLink>")
    document = rss(tracked).replace(
        b"<rss ", b'<rss xmlns:pheedo="http://www.pheedo.com/namespace/pheedo" '
    )
    assert parse_feed(document).entries[0].link == address


def test_it_takes_the_real_address_of_a_feedblitz_redirected_entry():
    redirect = "https://feeds.feedblitz.com/~/812345678/0/healthblog~Walk/"
    origin = "<feedblitz:origLink>https://healthblog.example.com/walk</feedblitz:origLink>"
    document = rss(item(1, link=redirect, extra=origin)).replace(
        b"<rss ", b'<rss xmlns:feedblitz="http://www.feedblitz.com/xml/rss" '
    )
    assert parse_feed(document).entries[0].link == "https://healthblog.example.com/walk"


@pytest.mark.parametrize("content_type", ["text/xml", "text/xml; q=1", "text/rss+xml"])
def test_a_utf8_feed_served_as_text_xml_is_not_called_ill_formed(content_type):
    parsed = parse_feed(rss(item(1, title="Café santé")), content_type)
    assert parsed.entries[0].title == "Café santé"
    assert parsed.warning is None


def test_a_charset_the_server_names_still_decides():
    document = (
        rss(item(1, title="Café"))
        .replace(b"utf-8", b"iso-8859-1")
        .replace("Café".encode(), "Café".encode("iso-8859-1"))
    )
    parsed = parse_feed(document, "text/xml; charset=iso-8859-1")
    assert parsed.entries[0].title == "Café" and parsed.warning is None


def test_an_atom_entry_whose_only_link_is_a_pdf_links_to_it():
    document = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Papers</title><entry>'
        b"<id>urn:uuid:1</id><title>A paper</title>"
        b'<link rel="alternate" type="application/pdf" href="https://a.example.com/paper.pdf"/>'
        b"</entry></feed>"
    )
    assert parse_feed(document).entries[0].link == "https://a.example.com/paper.pdf"


def test_a_relative_html_link_is_kept_beside_an_absolute_pdf_alternate():
    document = (
        b'<feed xmlns="http://www.w3.org/2005/Atom">'
        b"<title>Papers</title><entry><id>urn:uuid:1</id><title>A paper</title>"
        b'<link rel="alternate" type="text/html" href="/papers/1"/>'
        b'<link rel="alternate" type="application/pdf" href="https://cdn.example.net/1.pdf"/>'
        b"</entry></feed>"
    )
    # Relative, as written: clean resolves it against the feed's address.
    assert parse_feed(document).entries[0].link == "/papers/1"


def test_co_authors_are_all_credited_once_each():
    """feedparser's "author" is the last one an entry names."""
    atom = 'xmlns:atom="http://www.w3.org/2005/Atom"'
    names = ["Chris Rawles", "Ryan Gillard", "Chris Rawles"]
    authors = "".join(
        f"<atom:author {atom}><atom:name>{n}</atom:name></atom:author>" for n in names
    )

    [entry] = parse_feed(rss(item(1, extra=authors))).entries

    assert entry.author == "Chris Rawles, Ryan Gillard"


def test_a_podcasts_show_named_beside_its_host_is_no_co_author():
    itunes = 'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'
    dc = 'xmlns:dc="http://purl.org/dc/elements/1.1/"'
    show = f"<itunes:author {itunes}>The Health Pod</itunes:author>"
    document = rss(
        item(1, extra=f"{show}<dc:creator {dc}>Jane Roe</dc:creator>"),
        # One source written twice (Taverncast's <author>, <dc:creator>, <itunes:author>).
        item(2, extra=f"<dc:creator {dc}>Health Pod: healthpod.example</dc:creator>{show}"),
        extra=show,
    )

    assert [entry.author for entry in parse_feed(document).entries] == [
        "Jane Roe",
        "Health Pod: healthpod.example",
    ]
