"""Shapes real feeds take (found in the shared corpus), each as a reader sees the result."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from articles.clean import SkipEntry, clean_html
from articles.models import Article
from articles.parse import parse_feed
from articles.refresh import ingest_document
from club.extensions import db
from tests.articles.conftest import cleaned, item, rss
from tests.conftest import make_feed

PROJECT = str(Path(__file__).resolve().parents[2])


def atom_entry(summary: str, summary_type: str = "text") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Source</title><id>urn:source</id><updated>2026-11-23T08:00:00Z</updated>"
        '<entry><title>Release notes</title><id>urn:e1</id><link href="https://source.example.com/e1"/>'
        f'<updated>2026-11-23T08:00:00Z</updated><summary type="{summary_type}">{summary}</summary>'
        "</entry></feed>"
    ).encode()


def test_paragraphs_a_blank_line_apart_stay_paragraphs_beside_a_link():
    body = (
        'Kick-off is at 20:00 on <a href="https://club.example.com/tv">TV</a>.'
        "\n\nTickets are sold out."
    )
    entry = cleaned(rss(item(1, body=body)))
    assert (
        "<p>Kick-off is at 20:00" in entry.content
        and "<p>Tickets are sold out.</p>" in entry.content
    )


def test_text_with_blocks_of_its_own_is_kept_as_written():
    body = "<p>One.</p>\n\n<p>Two.</p>"
    assert cleaned(rss(item(1, body=body))).content == "<p>One.</p>\n\n<p>Two.</p>"


def test_a_plain_text_summary_escaped_twice_reads_as_text():
    entry = cleaned(atom_entry("ZXLightControl v.1.0.0&amp;nbsp;Brightness fixed &amp;amp; faster"))
    assert "&nbsp;" not in entry.summary and "&amp;" not in entry.summary
    assert entry.summary == "ZXLightControl v.1.0.0 Brightness fixed & faster"
    # Only whole references: "this&copy" is not a copyright sign.
    assert (
        cleaned(atom_entry("Keep this&amp;copy of the form")).summary
        == "Keep this&copy of the form"
    )


def test_an_items_own_image_and_episode_art_lead_the_entry():
    medscape = "<image><url>https://img.example.com/telemedicine-800x450.jpg</url></image>"
    assert cleaned(rss(item(1, extra=medscape))).image_url == (
        "https://img.example.com/telemedicine-800x450.jpg"
    )
    episode = rss(
        item(2, extra='<itunes:image href="https://cdn.example.com/episode-2.png"/>')
    ).replace(b"<rss ", b'<rss xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" ')
    assert cleaned(episode).image_url == "https://cdn.example.com/episode-2.png"


CLIP = '<media:content medium="video" url="https://videos.example.com/clip-of-the-day.mp4"/>'


def test_a_media_rss_clip_beside_a_long_article_does_not_make_it_a_video():
    long_text = "<p>" + "The school ordered custom hijabs for its teams. " * 60 + "</p>"
    entry = cleaned(rss(item(1, body=long_text, extra=CLIP)))
    assert (entry.kind, entry.video_url) == ("article", None)
    short = cleaned(rss(item(2, body="<p>Watch the save.</p>", extra=CLIP)))
    assert (short.kind, short.video_url) == (
        "video",
        "https://videos.example.com/clip-of-the-day.mp4",
    )


def test_idgs_closing_line_is_not_part_of_the_summary():
    body = (
        "<p>Apple's new update fixes the battery drain. "
        "To read this article in full, please click here</p>"
    )
    assert cleaned(rss(item(1, body=body))).summary == "Apple's new update fixes the battery drain."


def test_a_password_protected_post_is_skipped():
    body = "<p>There is no excerpt because this is a protected post.</p>"
    document = rss(item(1, title="Protected: How to start a second podcast", body=body))
    with pytest.raises(SkipEntry, match="password-protected"):
        cleaned(document)
    # A post that only talks about protection is an article.
    assert cleaned(rss(item(2, title="Protected: sleep and the immune system"))).title


def test_an_unchanged_entry_cleans_the_same_in_every_worker_process():
    """Otherwise a refresh by another process finds every entry with a picture changed,
    and rewrites it and its search index entry."""
    markup = '<p>Walk<img src="/walk.jpg" alt="A walk" width="600"></p>'
    script = (
        "from articles.clean import clean_html; "
        f"print(clean_html({markup!r}, 'https://source.example.com/'), end='')"
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT, stdout=subprocess.PIPE)
        for _ in range(6)
    ]
    outputs = {run.communicate(timeout=60)[0].decode() for run in runs}
    here = clean_html(markup, "https://source.example.com/")
    assert outputs == {here}
    assert here == (
        '<p>Walk<img src="https://source.example.com/walk.jpg" alt="A walk" width="600"'
        ' loading="lazy" referrerpolicy="no-referrer"></p>'
    )


def test_the_feed_parser_reads_each_entrys_own_image_once():
    medscape = "<image><url>https://img.example.com/a.jpg</url></image>"
    (entry,) = parse_feed(rss(item(1, extra=medscape))).entries
    assert [t["url"] for t in entry.thumbnails] == ["https://img.example.com/a.jpg"]


def test_a_video_posts_summary_is_not_the_sites_own_link_text():
    player = '<iframe src="https://www.youtube.com/embed/abcdefghijk"></iframe>'
    only_player = cleaned(rss(item(1, body=f"<p>{player}</p>")))
    assert only_player.kind == "video" and only_player.summary == ""
    with_words = cleaned(rss(item(2, body=f"<p>{player}</p><p>Goals from Sunday's match.</p>")))
    assert with_words.summary == "Goals from Sunday's match."


def test_a_heading_does_not_run_into_the_sentence_after_it():
    body = "<h2>Fixes and improvements</h2><p>For those of you on the beta, <b>thanks</b>.</p>"
    entry = cleaned(rss(item(1, body=body)))
    assert entry.summary == "Fixes and improvements. For those of you on the beta, thanks."
    asked = cleaned(rss(item(2, body="<h2>Does walking help?</h2><p>Yes.</p>")))
    assert asked.summary == "Does walking help? Yes."


def test_a_summary_in_a_script_without_spaces_is_cut_at_its_limit_not_its_first_space():
    body = "<p>概要 " + "健康的な生活には毎日の散歩が役立ちます。" * 60 + "</p>"
    summary = cleaned(rss(item(1, body=body))).summary
    assert 550 <= len(summary) <= 600 and summary.endswith("…")


FEEDFLARE = (
    '<div class="feedflare">\n'
    '<a href="http://feeds.feedburner.com/~ff/source/daily?a=abc:def:yIl2AUoC8zA">'
    '<img src="http://feeds.feedburner.com/~ff/source/daily?d=yIl2AUoC8zA" border="0"></img>'
    '</a> <a href="http://feeds.feedburner.com/~ff/source/daily?a=abc:def:V_sGLiPBpWU">'
    '<img src="http://feeds.feedburner.com/~ff/source/daily?i=abc:def:V_sGLiPBpWU" border="0">'
    "</img></a>\n</div>"
    '<img src="http://feeds.feedburner.com/~r/source/daily/~4/abc" height="1" width="1" alt=""/>'
)


def test_feedburners_share_buttons_leave_no_empty_links_behind():
    """Their images come from a tracking host and go; a link left with nothing inside
    is an unnamed tab stop a screen reader announces and nobody can see."""
    entry = cleaned(rss(item(1, body=f"<p>Walking eases back pain.</p>{FEEDFLARE}")))
    assert "<a" not in entry.content and "feedburner" not in entry.content
    assert entry.content.startswith("<p>Walking eases back pain.</p>")


def test_a_link_with_only_white_space_inside_is_dropped_but_not_its_neighbours():
    body = (
        '<p><a href="https://source.example.com/share">\n  <img src="https://feeds.feedburner'
        '.com/~ff/x?d=1"></a>See <a href="https://source.example.com/gait">the study</a>.'
        '<a href="https://source.example.com/chart"><img src="/chart.png" alt="Chart"></a></p>'
    )
    content = cleaned(rss(item(1, body=body))).content
    assert "/share" not in content
    study = '<a href="https://source.example.com/gait" rel="nofollow noopener ugc">the study</a>'
    assert study in content
    assert '<a href="https://source.example.com/chart" rel="nofollow noopener ugc"><img' in content


def test_an_empty_link_between_two_words_leaves_the_space_it_held():
    body = '<p>Walking<a href="https://source.example.com/share"> </a>eases back pain.</p>'
    entry = cleaned(rss(item(1, body=body)))
    assert "<a" not in entry.content
    assert entry.body_text == "Walking eases back pain."


def reddit_post(text: str, user: str = "/u/walker_42", to: str = " to /r/running") -> str:
    """A Reddit entry's HTML: the post, then the byline and links Reddit appends to each."""
    comments = "https://www.reddit.com/r/running/comments/abc123/gait/"
    subreddit = f' &#32; to &#32; <a href="https://www.reddit.com/r/running/">{to[4:]}</a>'
    return (
        f'<div class="md"><p>{text}</p></div> &#32; submitted by &#32; '
        f'<a href="https://www.reddit.com/user/walker_42"> {user} </a>'
        f'{subreddit if to else ""} <br/> <span><a href="{comments}">[link]</a></span> &#32; '
        f'<span><a href="{comments}">[17 comments]</a></span>'
    )


@pytest.mark.parametrize(
    ("user", "to"),
    [("/u/walker_42", " to /r/running"), ("walker_42", " to running"), ("/u/walker_42", "")],
)
def test_reddits_byline_is_not_part_of_the_summary(user, to):
    entry = cleaned(rss(item(1, body=reddit_post("My gait changed after new shoes.", user, to))))
    assert entry.summary == "My gait changed after new shoes."
    assert "submitted by" in entry.content  # the post's page still says who wrote it


def test_a_reddit_link_post_has_no_summary_rather_than_its_byline():
    link_post = reddit_post("").replace('<div class="md"><p></p></div>', "")
    assert cleaned(rss(item(1, body=link_post))).summary == ""


def test_a_post_that_talks_about_a_submission_keeps_its_words():
    body = "<p>The paper was submitted by the team in May [link] [comments]</p>"
    assert cleaned(rss(item(1, body=body))).summary == (
        "The paper was submitted by the team in May [link] [comments]"
    )


def medscape_item(n: int, excerpt: str, label: str, extra: str = "") -> str:
    """An item as Medscape writes it: escaped markup, the section label in a CDATA section."""
    return (
        f"<item><title>Story {n}</title><link>https://www.medscape.com/viewarticle/s-{n}</link>"
        f"<description>{excerpt}   &lt;br /&gt; &lt;i&gt;<![CDATA[{label}]]>&lt;/i&gt;"
        f"</description><pubDate>Wed, 5 Nov 2025 13:52:10  EST</pubDate>{extra}</item>"
    )


@pytest.mark.parametrize(
    ("excerpt", "label", "summary"),
    [
        (
            "Virtual care partners must protect public trust, experts warn.",
            "Medscape News Canada",
            "Virtual care partners must protect public trust, experts warn.",
        ),
        (
            "Ireland orders birds housed after the first outbreak of highly...",
            "Reuters Health Information",
            "Ireland orders birds housed after the first outbreak of highly...",
        ),
        (
            "A consensus report on type 1 diabetes in adults.",
            "Medscape Diabetes & Endocrinology",
            "A consensus report on type 1 diabetes in adults.",
        ),
    ],
)
def test_medscapes_section_label_is_not_part_of_the_summary(excerpt, label, summary):
    entry = cleaned(rss(medscape_item(1, excerpt, label)))
    assert entry.summary == summary
    assert entry.body_text.endswith(label)  # the article's page keeps it
    story = f"<content:encoded><![CDATA[<p>{'The whole story. ' * 20}</p>]]></content:encoded>"
    assert cleaned(rss(medscape_item(2, excerpt, label, extra=story))).summary == summary


@pytest.mark.parametrize(
    "body",
    [
        # An italic closing sentence is the writer's.
        "<p>Walk daily.<br><i>It is never too late to start.</i></p>",
        # Emphasis inside the last line, not a line of its own.
        "<p>Walk daily, <i>whatever the weather</i></p>",
    ],
)
def test_a_closing_italic_line_that_is_prose_stays_in_the_summary(body):
    entry = cleaned(rss(item(1, body=body)))
    assert entry.summary == entry.body_text


FOLHA_STORY = "https://www1.folha.uol.com.br/poder/2018/09/match-eleitoral-ja-soma-500-mil.shtml"


def test_a_story_listed_again_behind_folhas_redirect_is_one_article(app):
    """UOL's feed lists a Folha story by its address and again wrapped in Folha's redirect,
    which spells the address out: both are one article, at the story's own address."""
    wrapped = f"https://redir.folha.com.br/redir/online/poder/eleicoes-2018/rss091/*{FOLHA_STORY}"
    document = rss(
        item(1, title="Match Eleitoral soma 500 mil testes", link=FOLHA_STORY),
        item(2, title="Match Eleitoral soma 500 mil testes", link=wrapped),
    )
    summary = ingest_document(make_feed(), document)
    assert (summary.new, summary.skipped) == (1, 1)
    assert db.session.scalars(sa.select(Article.url)).all() == [FOLHA_STORY]


@pytest.mark.parametrize(
    ("link", "url"),
    [
        (f"https://redir.folha.com.br/redir/online/poder/rss091/*{FOLHA_STORY}", FOLHA_STORY),
        (
            "https://www.google.com/url?rct=j&sa=t&url=https://news.example.com/gait%3Fid%3D7"
            "&ct=ga&cd=CAIyGjE&usg=AOvVaw0",
            "https://news.example.com/gait?id=7",
        ),
        # Not a wrapper's shape, or nothing usable inside: the link as the feed wrote it.
        (
            "https://redir.folha.com.br/other/*https://x.example.com/a",
            "https://redir.folha.com.br/other/*https://x.example.com/a",
        ),
        (
            "https://redir.folha.com.br/redir/online/*javascript:alert(1)",
            "https://redir.folha.com.br/redir/online/*javascript:alert(1)",
        ),
        (
            "https://www.google.com/search?q=https://news.example.com/gait",
            "https://www.google.com/search?q=https://news.example.com/gait",
        ),
        (
            "https://go.example.com/redir/online/*https://x.example.com/a",
            "https://go.example.com/redir/online/*https://x.example.com/a",
        ),
    ],
)
def test_an_entry_is_stored_at_the_address_a_known_redirect_wrapper_spells_out(link, url):
    assert cleaned(rss(item(1, link=link))).url == url


# PCMag's excerpts: the first 100 characters of the story, then FeedBurner's flare.
CUT_AT_100 = [
    "Sleep researchers say a consistent wake time matters more than an early bedtime for most"
    " adults toda",
    "A review of 40 trials finds that strength training twice a week cuts the risk of falls"
    " in older peop",
    "Short bursts of stair climbing improved fitness in office workers who had not exercised"
    " for years be",
    "Walking after meals lowers blood sugar more than a morning walk does, a small trial of"
    " adults found.",
    "Apple is taking a different approach to review units. What does it all mean?",
]


def test_excerpts_a_source_cut_at_one_length_end_with_an_ellipsis_at_a_word(app):
    document = rss(*(item(n, body=text + FEEDFLARE) for n, text in enumerate(CUT_AT_100)))
    ingest_document(make_feed(), document)
    summaries = db.session.scalars(sa.select(Article.summary).order_by(Article.guid)).all()
    assert summaries == [
        "Sleep researchers say a consistent wake time matters more than an early bedtime for most"
        " adults…",
        "A review of 40 trials finds that strength training twice a week cuts the risk of falls"
        " in older…",
        "Short bursts of stair climbing improved fitness in office workers who had not exercised"
        " for years…",
        # A whole sentence, at the limit or under it: as written.
        CUT_AT_100[3],
        CUT_AT_100[4],
    ]


@pytest.mark.parametrize(
    "summaries",
    [
        # Written to a limit, each a sentence (heise's are).
        [
            "Sleep researchers say a consistent wake time matters more than an early bedtime.",
            "A review of 40 trials finds strength training twice a week cuts the risk of falls.",
            "Short bursts of stair climbing improved fitness in workers who had not exercised.",
        ],
        # Headlines of their own lengths, without full stops (the Guardian's standfirsts).
        [
            "Sleep researchers say a consistent wake time matters more than a bedtime",
            "Strength training twice a week cuts the risk of falls, a review of 40 trials finds",
            "Stair climbing: short bursts improve fitness in office workers who never exercised",
        ],
    ],
)
def test_summaries_that_only_lack_a_full_stop_get_no_ellipsis(app, summaries):
    ingest_document(make_feed(), rss(*(item(n, body=text) for n, text in enumerate(summaries))))
    assert db.session.scalars(sa.select(Article.summary).order_by(Article.guid)).all() == summaries


def test_a_stock_line_on_every_entry_is_not_taken_for_a_cut(app):
    stock = "Listen to this week's episode of the show, with guests from the sleep clinic"
    items = (item(n, body=stock, link=f"https://source.example.com/e/{n}") for n in range(4))
    ingest_document(make_feed(), rss(*items))
    assert set(db.session.scalars(sa.select(Article.summary))) == {stock}


STORY = (
    "<p>Walking after meals lowers blood sugar more than a morning walk does, a small trial"
    " of adults found: here is why.</p><p>" + "The whole story. " * 20 + "</p>"
)


@pytest.mark.parametrize(
    ("excerpt", "summary"),
    [
        # Cut mid-word: the half word goes.
        (
            "Walking after meals lowers blood sugar more than a morning walk does, a small tri",
            "Walking after meals lowers blood sugar more than a morning walk does, a small…",
        ),
        # Cut between words, or before the colon that leads on.
        (
            "Walking after meals lowers blood sugar more than a morning walk does, a small",
            "Walking after meals lowers blood sugar more than a morning walk does, a small…",
        ),
        (
            "Walking after meals lowers blood sugar more than a morning walk does, a small trial"
            " of adults found",
            "Walking after meals lowers blood sugar more than a morning walk does, a small trial"
            " of adults found…",
        ),
        # A whole sentence is no cut, though the story goes on.
        (
            "Walking after meals lowers blood sugar more than a morning walk does.",
            "Walking after meals lowers blood sugar more than a morning walk does.",
        ),
    ],
)
def test_an_excerpt_cut_from_the_start_of_the_story_ends_with_an_ellipsis(excerpt, summary):
    story = f"<content:encoded><![CDATA[{STORY}]]></content:encoded>"
    assert cleaned(rss(item(1, body=excerpt, extra=story))).summary == summary


def test_a_cut_excerpt_keeps_its_ellipsis_when_the_next_fetch_shows_fewer_cuts(app):
    # The feed moves on: two of the three excerpts cut at 100 are still listed, beside
    # new entries of other lengths. Their stored summaries must not lose the "…" they
    # were given (and be updated back and forth on every refresh).
    feed = make_feed()
    ingest_document(feed, rss(*(item(n, body=CUT_AT_100[n] + FEEDFLARE) for n in range(4))))
    before = db.session.scalars(sa.select(Article.summary).order_by(Article.guid)).all()
    later = [item(n, body=CUT_AT_100[n] + FEEDFLARE) for n in (0, 1)]
    later.append(item(4, body=CUT_AT_100[4] + FEEDFLARE))
    summary = ingest_document(feed, rss(*later))
    after = db.session.scalars(sa.select(Article.summary).order_by(Article.guid)).all()
    assert after[:2] == before[:2] and after[0].endswith("adults…")
    assert summary.updated == 0


@pytest.mark.parametrize(
    "content",
    [
        "<h2>Lawmakers agree on a deal after weeks of talks</h2><p>The vote is on Tuesday.</p>",
        "<p>Lawmakers agree on a deal after weeks of talks</p><p>The vote is on Tuesday.</p>",
        "<p><strong>Lawmakers agree on a deal after weeks of talks</strong></p><p>The vote.</p>",
        "<p>Lawmakers agree on a deal after weeks of talks<br>The vote is on Tuesday.</p>",
    ],
)
def test_an_excerpt_that_is_the_storys_whole_first_line_gets_no_ellipsis(content):
    # A standfirst or heading without a full stop, given again as the excerpt: the story
    # goes on, but in a new block, so the source wrote this ending; it did not cut it.
    excerpt = "Lawmakers agree on a deal after weeks of talks"
    story = f"<content:encoded><![CDATA[{content}]]></content:encoded>"
    assert cleaned(rss(item(1, body=excerpt, extra=story))).summary == excerpt
