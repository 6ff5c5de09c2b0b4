"""Reading pages: what visitors see, what they never see, and what a page costs."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import quote

import feedparser
import pytest
import sqlalchemy as sa

from articles import curation
from articles.clean import ALLOWED_ATTRIBUTES, ALLOWED_TAGS
from articles.models import Article
from articles.refresh import ingest_document
from club.clock import utcnow
from club.extensions import db
from tests.articles.conftest import feed_bytes, item, rss
from tests.conftest import login, make_article, make_feed


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def make_articles(count: int, start: int = 0, **fields) -> list[Article]:
    feed = make_feed(title="Bulk Source")
    now = utcnow()
    rows = [
        Article(
            feed=feed, guid=f"bulk-{n}", url=f"https://bulk.example.com/{n}", title=f"Bulk {n}",
            summary=f"Summary of bulk article {n} about sleep.", body_text="sleep well",
            status="published", published_at=now - timedelta(minutes=n), source_name=feed.title,
            **fields,
        )
        for n in range(start, start + count)
    ]  # fmt: skip
    db.session.add_all(rows)
    db.session.commit()
    return rows


def test_it_shows_featured_articles_first(client):
    make_article(title="Newest ordinary")
    make_article(title="Pinned story", featured=True, published_at=utcnow() - timedelta(days=3))
    html = page(client, "/")
    assert html.index("Pinned story") < html.index("Newest ordinary")
    assert html.count("Pinned story") == 1


def test_it_lists_featured_articles_past_the_featured_block_among_the_latest(client):
    for n in range(8):
        make_article(title=f"Pinned {n}", featured=True, published_at=utcnow() - timedelta(hours=n))
    html = page(client, "/")
    assert all(html.count(f"Pinned {n}<") == 1 for n in range(8))


def test_it_pages_with_an_older_link(client):
    make_articles(45)
    first = page(client, "/")
    assert "Bulk 0<" in first and "Bulk 19<" in first and "Bulk 20<" not in first
    older = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = page(client, older)
    assert "Bulk 20<" in second and "Bulk 39<" in second and "Bulk 19<" not in second


def test_it_pages_articles_sharing_a_time_a_float_cannot_hold(client):
    # 2004-10-17 20:33:05.031900 as float microseconds is 1 µs short: the page would
    # continue from just before it and skip the articles that share the time.
    shared = datetime(2004, 10, 17, 20, 33, 5, 31900, tzinfo=UTC)
    for n in range(25):
        make_article(title=f"Same time {n}", published_at=shared)
    first = page(client, "/")
    older = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    both = first + page(client, older)
    assert all(both.count(f"Same time {n}<") == 1 for n in range(25))


def test_older_reaches_articles_dated_before_1970(client):
    # Stored before placeholder dates were dropped at ingestion; a negative cursor once
    # read as "first page", and "Older" showed page 1 again and again.
    make_articles(19)
    for n in range(3):
        make_article(title=f"Old {n}", published_at=datetime(1969, 12, 31, 23, n, tzinfo=UTC))
    first = page(client, "/")
    older = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = page(client, older)
    assert "Old 2<" in first  # the newest of them closes page 1
    assert "Bulk 18<" not in second and "Old 2<" not in second
    assert "Old 1<" in second and "Old 0<" in second


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Walking & back pain: 5 tips", "walking-back-pain-5-tips"),
        ("Schließungs-Pläne", "schließungs-pläne"),
        ("Cafe\u0301 au lait", "café-au-lait"),  # a combining accent, composed
        ("स्वास्थ्य के लिए", "स्वास्थ्य-के-लिए"),
        ("صحت کے لیے", "صحت-کے-لیے"),
        ("!!!", "article"),
    ],
)
def test_it_gives_every_article_a_readable_slug_in_its_own_script(client, title, slug):
    article = make_article(title=title)
    html = page(client, "/")
    assert f'href="/articles/{article.id}/{quote(slug)}"' in html
    assert client.get(f"/articles/{article.id}/{quote(slug)}").status_code == 200


def test_it_ignores_a_malformed_cursor(client):
    make_articles(2)
    assert "Bulk 0<" in page(client, "/?before=zzz-1")
    assert "Bulk 0<" in page(client, "/?before=99999999999999999999999-1")


def test_it_hides_unpublished_articles(client):
    make_article(title="Waiting for review", status="pending")
    make_article(title="Hidden away", status="hidden")
    html = page(client, "/")
    assert "Waiting for review" not in html and "Hidden away" not in html


def test_it_lists_a_topic(client):
    sleep = curation.topic_for("Sleep")
    article = make_article(title="About sleep")
    article.topics = [sleep]
    make_article(title="About knees")
    db.session.commit()
    html = page(client, "/topics/sleep")
    assert "About sleep" in html and "About knees" not in html
    assert client.get("/topics/nothing-here").status_code == 404


def test_it_filters_videos(client):
    make_article(title="A video", kind="video", video_id="abcdefghijk")
    make_article(title="A text")
    html = page(client, "/videos")
    assert "A video" in html and "A text" not in html


def query_plan(statement: str, parameters) -> str:
    """The plan the database keeps for a statement the app sent, whatever its parameters.

    PostgreSQL: the generic plan (what a prepared statement runs after its first few
    executions), which cannot use a partial index whose condition is a parameter.
    """
    connection = db.session.connection()
    if db.engine.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return " ".join(row[-1] for row in rows)
    names: list[str] = []

    def number(match: re.Match) -> str:
        names.append(match.group(1))
        return f"${len(names)}"

    numbered = re.sub(r"%\((\w+)\)s", number, statement)
    values = ", ".join(
        str(sa.literal(parameters[name]).compile(compile_kwargs={"literal_binds": True}))
        for name in names
    )
    connection.exec_driver_sql(f"PREPARE page_plan AS {numbered}")
    try:
        connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        # An empty table costs the same whichever way it is read: make scans the last resort.
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = connection.exec_driver_sql(f"EXPLAIN EXECUTE page_plan({values})")
        return " ".join(row[0] for row in rows)
    finally:
        connection.exec_driver_sql("DEALLOCATE page_plan")


def test_the_videos_page_reads_the_index_of_video_rows(app, count_queries):
    from articles.reading import latest_page

    with count_queries() as sent:
        latest_page(None, videos_only=True)
    [statement], [parameters] = sent.statements, sent.parameters
    plan = query_plan(statement, parameters)
    assert "ix_articles_videos_kind_status_published_id" in plan, plan


def test_it_links_the_for_you_tab(client):
    assert 'href="/for-you"' in page(client, "/")


def test_it_shows_an_article_with_credit_reviewer_and_original_link(client):
    feed = make_feed(title="Everyday Health Notes", auto_publish=True)
    ingest_document(feed, (curation.__file__ and open_sample("health.xml")))
    db.session.commit()
    article = db.session.scalar(sa.select(Article).where(Article.title.like("Walking%")))
    html = page(client, f"/articles/{article.id}")
    assert "Medically reviewed by Dr. Samuel Reyes" in html
    assert "Image: Lena Varga for Everyday Health Notes" in html
    assert "Read the original article on Everyday Health Notes" in html
    assert f'<link rel="canonical" href="{article.url}">' in html
    assert '<meta property="og:title" content="Walking for lower back pain' in html
    assert '<meta property="og:image"' in html


@pytest.mark.parametrize("full_content", [True, False])
def test_a_lead_image_from_the_body_shows_once_with_its_credit(client, full_content):
    image = "https://img.example.org/walk.jpg?w=1200&h=800"
    article = make_article(
        make_feed(full_content=full_content),
        content='<p>Intro.</p><p><img src="https://img.example.org/walk.jpg?w=1200&amp;h=800"></p>',
        image_url=image,
        image_credit="Ana Lopes",
    )
    html = page(client, f"/articles/{article.id}")
    assert html.count('src="https://img.example.org/walk.jpg?w=1200&amp;h=800"') == 1
    assert "Ana Lopes" in html
    # The excerpt shows no body picture: the lead image shows above it.
    assert ('class="lead-image"' in html) is not full_content


@pytest.mark.parametrize("video_id", [None, "abcdefghijk"], ids=["lead image", "video"])
def test_a_credit_the_feed_labelled_is_not_labelled_again(client, video_id):
    article = make_article(
        image_url="https://img.example.org/sleep.jpg",
        image_credit="Illustration: Priya Natarajan",
        kind="video" if video_id else "article",
        video_id=video_id,
    )
    html = page(client, f"/articles/{article.id}")
    assert ">Illustration: Priya Natarajan<" in html
    assert "Image: Illustration" not in html and "Credit: Illustration" not in html


def test_a_card_keeps_the_start_of_a_long_word_that_crosses_its_limit(client):
    link = "https://research.example.org/papers/" + "sleep-and-memory-" * 20
    make_article(summary=f"A summary with {link} in it.")
    html = page(client, "/")
    card_text = html.split('<p class="summary" dir="auto">')[1].split("</p>")[0]
    assert card_text.startswith("A summary with https://research.example.org/papers/sleep")
    assert card_text.endswith("…") and len(card_text) == 220


def test_a_card_cuts_a_long_summary_between_words(client):
    make_article(summary="Sleep well tonight. " * 20)
    html = page(client, "/")
    card_text = html.split('<p class="summary" dir="auto">')[1].split("</p>")[0]
    assert card_text.endswith("tonight. Sleep well…")


def open_sample(name: str) -> bytes:
    from articles.demo import SAMPLES

    return (SAMPLES / name).read_bytes()


def test_it_shows_only_the_excerpt_for_an_excerpt_feed(client):
    feed = make_feed(full_content=False)
    article = make_article(feed, summary="Just the excerpt.", content="<p>The whole text</p>")
    html = page(client, f"/articles/{article.id}")
    assert "Just the excerpt." in html and "The whole text" not in html


def test_it_builds_the_video_player_itself(client):
    article = make_article(
        kind="video", video_id="abcdefghijk", content='<iframe src="https://evil.example"></iframe>'
    )
    html = page(client, f"/articles/{article.id}")
    assert 'src="https://www.youtube-nocookie.com/embed/abcdefghijk"' in html
    assert "evil.example" not in html
    # Where it came from, in the words of a video, not of an article.
    assert f"See the original video on {article.source_name}</a>" in html
    assert "Read the original article" not in html


def test_it_plays_a_video_file_in_a_video_element(client):
    article = make_article(kind="video", video_url="https://media.example.com/clip.mp4")
    assert '<video controls preload="metadata" src="https://media.example.com/clip.mp4"' in page(
        client, f"/articles/{article.id}"
    )


def test_it_returns_404_for_an_unpublished_article(client):
    article = make_article(status="pending")
    assert client.get(f"/articles/{article.id}").status_code == 404


def test_it_lets_an_admin_preview_an_unpublished_article(client, carol):
    article = make_article(status="pending", title="Preview me")
    login(client, carol)
    assert "Preview me" in page(client, f"/articles/{article.id}")


@pytest.mark.parametrize("persona", [None, "bob", "erin", "frank"])
def test_it_lets_visitors_and_frozen_accounts_read(client, request, persona):
    article = make_article(title="Readable by all")
    if persona:
        login(client, request.getfixturevalue(persona))
    assert "Readable by all" in page(client, "/")
    assert "Readable by all" in page(client, f"/articles/{article.id}")


def test_it_shows_the_comment_thread_under_the_article(client, alice):
    article = make_article(title="Walking and back pain")
    login(client, alice)
    posted = client.submit(
        f"/articles/{article.id}/comments",
        {
            "body": "Walking every morning helped my back.",
            "client_token": secrets.token_urlsafe(16),
        },
    )
    assert posted.status_code == 303
    html = page(client, f"/articles/{article.id}")
    body_at = html.index('<div class="article-body"')
    comments_at = html.index('<section id="comments"')
    comment_at = html.index("Walking every morning helped my back.")
    assert body_at < comments_at < comment_at
    assert "1 comment<" in html[comments_at:]


class DomAudit(HTMLParser):
    """Walks the article body and collects anything outside the allow-list."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "div" and ("class", "article-body") in attrs:
            self.depth = 1
            return
        if not self.depth:
            return
        if tag not in ALLOWED_TAGS:
            self.problems.append(tag)
        for name, value in attrs:
            allowed = (
                ALLOWED_ATTRIBUTES.get(tag, set())
                | ALLOWED_ATTRIBUTES["*"]
                | {"rel", "loading", "referrerpolicy"}
            )
            if name not in allowed or name.startswith("on"):
                self.problems.append(f"{tag}@{name}")
            if name in ("href", "src") and not (value or "").startswith(
                ("https://", "http://", "mailto:")
            ):
                self.problems.append(f"{tag}@{name}={value}")
        if tag not in ("img", "br", "hr"):
            self.depth += 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1


def test_it_renders_hostile_entries_with_nothing_executable(client):
    feed = make_feed(auto_publish=True)
    ingest_document(feed, feed_bytes("script_onerror.xml"))
    db.session.commit()
    article = db.session.scalar(sa.select(Article))
    audit = DomAudit()
    audit.feed(page(client, f"/articles/{article.id}"))
    assert audit.problems == []


# B28's payloads beyond those in script_onerror.xml: scheme tricks, mXSS, SVG, srcset, CSS.
HOSTILE_BODIES = [
    '<a href="java\nscript:alert(1)">x</a>',
    '<a href="java&#x0A;script:alert(1)">x</a>',
    '<a href="   javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph>"
    "</table></mtext></math>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<img src="https://a.example/x.png" srcset="javascript:alert(1) 1x">',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<p style="width:expression(alert(1))">x</p>',
    "<!-- <img src=x onerror=alert(1)> --><p>ok</p>",
    "<!--[if IE]><script>alert(1)</script><![endif]-->",
    '<img src="javascript:alert(1)">',
    "<table><form><input formaction=javascript:alert(1)></form></table>",
    "<noscript><style></noscript><img src=x onerror=alert(1)>",
    "<xmp><img src=x onerror=alert(1)></xmp>",
    '<details open ontoggle="alert(1)">x</details>',
    '<video><source onerror="alert(1)"></video>',
    '<span class="badge-verified">Verified</span>',
]


@pytest.mark.parametrize("body", HOSTILE_BODIES)
def test_it_renders_each_hostile_body_with_nothing_executable(client, body):
    ingest_document(make_feed(auto_publish=True), rss(item(1, body=body)))
    db.session.commit()
    article = db.session.scalar(sa.select(Article))
    audit = DomAudit()
    audit.feed(page(client, f"/articles/{article.id}"))
    assert audit.problems == []


def test_it_escapes_titles_and_never_links_javascript(client):
    make_article(title="<script>alert(1)</script> & friends")
    html = page(client, "/")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; friends" in html
    assert "javascript:" not in html


def paywalled_article():
    feed = make_feed(full_content=False, title="Teaser Source")
    return make_article(
        feed,
        title="Island diets",
        summary="A short teaser about island diets.",
        content="<p>Zanzibar paywalled paragraph for subscribers.</p>",
        body_text="Zanzibar paywalled paragraph for subscribers.",
    )


def test_it_quotes_no_body_text_of_an_excerpt_only_source_in_search(client):
    paywalled_article()
    html = page(client, "/search?q=zanzibar")
    assert "Island diets" in html  # found by its text,
    assert "paywalled" not in html and "A short teaser" in html  # shown by its excerpt


def test_it_keeps_only_the_excerpt_when_an_excerpt_only_source_is_deleted(client, carol):
    article = paywalled_article()
    login(client, carol)
    client.submit(f"/admin/feeds/{article.feed_id}/delete", {"articles": "keep", "confirm": "y"})
    client.submit("/logout")
    html = page(client, f"/articles/{article.id}")
    assert "A short teaser" in html and "paywalled" not in html
    assert "paywalled" not in page(client, "/search?q=zanzibar")


def test_it_searches_with_ranking_and_highlights(client):
    make_article(title="Walking helps back pain", summary="A daily walk.")
    make_article(title="Knee care", summary="Walking is mentioned once in passing.")
    html = page(client, "/search?q=walking")
    assert "<mark>Walking</mark> helps back pain" in html
    assert html.index("Walking</mark> helps") < html.index("Knee care")


def test_it_quotes_the_text_not_the_title_under_a_result(client):
    make_article(
        title="Salt and sugar swaps",
        summary="Fish and chips, baked.",
        body_text="Fish and chips, baked. Swap the fryer for the oven.",
    )
    make_article(title="Labels", summary="Reading labels.", body_text="Look for salt per 100 g.")
    html = page(client, "/search?q=salt")
    assert "<mark>Salt</mark> and sugar swaps" in html and "Fish and chips, baked." in html
    assert "Look for <mark>salt</mark> per 100 g." in html
    assert html.count("<mark>Salt</mark>") == 1


def test_neither_database_reads_a_minus_or_an_or_as_an_operator(client):
    # PostgreSQL once read them as operators: "sleep -walking" left out the very article
    # SQLite found, and "walking or diet" found articles with either word.
    make_article(title="Sleep and walking")
    make_article(title="Sleep and diet")
    minus = page(client, "/search?q=sleep+-walking")
    assert "<mark>Sleep</mark> and <mark>walking</mark>" in minus and "diet" not in minus
    assert "No articles match" in page(client, "/search?q=walking+or+diet")
    phrase = page(client, '/search?q="and+walking"')
    assert "/sleep-and-walking" in phrase and "diet" not in phrase


@pytest.mark.parametrize("query", ["meniere", "Ménière", "sjogren"])
def test_a_query_without_accents_finds_accented_words_on_either_database(client, query):
    make_article(title="Living with Ménière's disease", summary="Sjögren's syndrome too.")
    assert quote("/living-with-ménière-s-disease") in page(client, f"/search?q={query}")


def test_it_escapes_search_snippets(client):
    make_article(title="Tags <b>bold</b>", summary="Text <img src=x onerror=alert(1)> sleep")
    html = page(client, "/search?q=sleep")
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt; <mark>sleep" in html


@pytest.mark.parametrize(
    "query",
    ['"unbalanced', "sleep AND", "OR OR", "NEAR(", "*", "a:b", "-", "title:x", "'", "()",
     "NOT", "sleep\x00", "😴", "x" * 5000, "%", "\\"],
)  # fmt: skip
def test_it_never_fails_on_a_strange_query(client, query):
    make_article(title="Sleep well")
    assert client.get("/search", query_string={"q": query}).status_code == 200


def test_it_says_when_a_search_has_no_more_pages(client):
    make_articles(3)
    html = page(client, "/search?q=sleep&page=50")
    assert "No more results for “sleep”." in html and "No articles match" not in html


def test_it_lays_out_right_to_left_text_by_itself(client):
    article = make_article(
        title="صحت کے لیے روزانہ چہل قدمی",
        author="ڈاکٹر علی",
        source_name="بی بی سی اردو",
        content='<p dir="rtl">متن</p>',
    )
    html = page(client, f"/articles/{article.id}")
    assert '<h1 dir="auto">صحت' in html and '<div class="article-body" dir="auto">' in html
    assert "<bdi>بی بی سی اردو</bdi>" in html and "by <bdi>ڈاکٹر علی</bdi>" in html
    assert '<h3 dir="auto"><a' in page(client, "/")


def test_it_matches_whole_words_in_scripts_with_combining_marks(client):
    make_article(title="स्वास्थ्य के लिए रोज़ टहलना")
    html = page(client, "/search?q=स्वास्थ्य")
    assert "<mark>स्वास्थ्य</mark> के लिए" in html
    assert "No articles match" in page(client, "/search?q=थ्स्व्य")  # its letters, reordered


def test_it_ignores_a_term_with_no_word_in_it(client):
    make_article(title="Sleep well")
    assert "<mark>Sleep</mark> well" in page(client, "/search?q=sleep+*+(")


def test_it_paginates_search_results(client):
    make_articles(25)
    first = page(client, "/search?q=sleep")
    second = page(client, "/search?q=sleep&page=2")
    assert first.count("<li><h3 ") == 20 and second.count("<li><h3 ") == 5
    assert 'rel="next"' in first and 'rel="next"' not in second


def test_it_publishes_a_valid_atom_feed_with_attribution(client):
    make_article(title="In the feed", source_name="Source & Co", url="https://s.example.com/1")
    response = client.get("/feed.xml")
    parsed = feedparser.parse(response.data)
    assert response.mimetype == "application/atom+xml"
    assert parsed.bozo == 0 and parsed.version == "atom10"
    entry = parsed.entries[0]
    assert entry.title == "In the feed" and "Source & Co" in entry.summary
    assert entry.source.title == "Source & Co"


def test_the_atom_feeds_updated_is_its_latest_change(client):
    """RFC 4287: the feed's <updated> is its latest significant change, so an entry the
    source updated moves it, or readers that go by it miss the change."""
    make_article(
        published_at=datetime(2026, 1, 1, tzinfo=UTC), updated_at=datetime(2026, 3, 1, tzinfo=UTC)
    )
    make_article(published_at=datetime(2026, 2, 1, tzinfo=UTC))

    parsed = feedparser.parse(client.get("/feed.xml").data)

    assert parsed.feed.updated == "2026-03-01T00:00:00Z"
    assert parsed.feed.updated >= max(entry.updated for entry in parsed.entries)


def test_the_atom_feed_stays_well_formed_with_a_control_character_stored_before(client):
    # Stored before ingestion stripped control characters that came as "&#27;".
    make_article(title="Sleep \x1b[2J tips", summary="Rest \x02well\x03")
    parsed = feedparser.parse(client.get("/feed.xml").data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.entries[0].title == "Sleep [2J tips"


def test_the_atom_feed_writes_four_digit_years(client):
    # Stored before placeholder dates were dropped at ingestion: "1-01-01T…" is no date
    # to a feed reader.
    make_article(title="Undated", published_at=datetime(1, 1, 1, tzinfo=UTC))
    xml = client.get("/feed.xml").get_data(as_text=True)
    stamps = re.findall(r"<(?:published|updated)>([^<]*)<", xml)
    assert stamps and "0001-01-01T00:00:00Z" in stamps
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s) for s in stamps), stamps


def test_search_marks_only_what_matched_in_an_entry_with_character_references(client):
    feed = make_feed(auto_publish=True)
    ingest_document(feed, rss(item(1, title="Vitamin &amp;#2;D&amp;#3; myths")))
    db.session.commit()
    found = page(client, "/search?q=myths")
    assert "Vitamin D <mark>myths</mark>" in found


def test_it_answers_a_feed_reader_that_has_the_feed_already_with_304(client):
    make_article(title="In the feed")
    first = client.get("/feed.xml")
    assert first.headers["ETag"] and first.cache_control.max_age == 300
    again = client.get("/feed.xml", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    make_article(title="Newer")
    changed = client.get("/feed.xml", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and b"Newer" in changed.data


@pytest.mark.parametrize("url", ["/", "/topics/sleep", "/videos", "/search?q=sleep", "ARTICLE"])
def test_it_costs_the_same_number_of_queries_with_20_or_500_articles(client, count_queries, url):
    topic = curation.topic_for("Sleep")
    db.session.commit()

    def measure(total: int) -> int:
        existing = db.session.scalar(sa.select(sa.func.count(Article.id)))
        rows = make_articles(total - existing, start=existing)
        for article in rows[:3]:
            article.featured = True
        for article in rows:
            article.topics = [topic]
            article.kind = "video"
        db.session.commit()
        target = f"/articles/{rows[0].id}" if url == "ARTICLE" else url
        db.session.expire_all()
        with count_queries() as counter:
            page(client, target)
        return counter.count

    assert measure(20) == measure(500)


@pytest.mark.parametrize("path", ["/", "/videos"])
def test_the_home_and_video_pages_have_one_main_heading(client, path):
    make_article(title="Sleep well")
    assert page(client, path).count("<h1") == 1
