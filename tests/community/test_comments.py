"""Posting, replying, editing and deleting comments."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from html import escape as html_escape
from html import unescape as html_unescape

import pytest
import sqlalchemy as sa

from club.community import comments
from club.community.models import Comment, CommentStatus
from club.extensions import db
from tests.community.conftest import add_comment, page_of, post_comment, token
from tests.conftest import login, make_article, table_fingerprint


def all_comments() -> list[Comment]:
    return list(db.session.scalars(sa.select(Comment).order_by(Comment.id)))


def test_it_posts_a_comment_and_redirects_back_to_it(member, article, alice):
    response = post_comment(member, article, "Great read", next=f"/articles/{article.id}/walking")
    [comment] = all_comments()
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/articles/{article.id}/walking#comment-{comment.id}"
    )
    assert comment.author_id == alice.id and comment.body == "Great read"
    assert "Great read" in page_of(member, article)


def test_it_marks_an_admins_comment_so_members_tell_a_moderator_from_a_member(
    member, article, alice, carol
):
    by_admin, by_member = (
        add_comment(article, carol, "Please stay on topic."),
        add_comment(article, alice, "Agreed."),
    )
    html = page_of(member, article)
    admin_header = html.split(f'id="comment-{by_admin.id}"')[1].split("</header>")[0]
    member_header = html.split(f'id="comment-{by_member.id}"')[1].split("</header>")[0]
    assert '<span class="pill pill-staff">Admin</span>' in admin_header
    assert "pill-staff" not in member_header


def test_it_counts_comments_on_the_article(member, article):
    post_comment(member, article, "one")
    post_comment(member, article, "two")
    db.session.refresh(article)
    assert article.comment_count == 2


def test_it_keeps_paragraphs_and_links_urls_with_ugc_rel(member, article):
    post_comment(member, article, "First line\nsecond line\n\nSee https://example.org/a_(b).")
    html = page_of(member, article)
    assert "<p>First line<br>\nsecond line</p>" in html
    assert (
        '<a href="https://example.org/a_(b)" rel="nofollow noopener ugc">'
        "https://example.org/a_(b)</a>." in html
    )


def test_it_shows_html_and_script_as_text(member, article):
    post_comment(member, article, '<script>alert(1)</script><b onmouseover="x()">hi</b>')
    html = page_of(member, article)
    assert "<script>alert(1)" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_it_does_not_link_javascript_urls(member, article):
    post_comment(member, article, "javascript:alert(1) and http://ok.example/x")
    html = page_of(member, article)
    assert 'href="javascript' not in html
    assert 'href="http://ok.example/x"' in html


def test_it_nests_replies_three_levels_and_attaches_deeper_ones_at_the_third(
    member, article, alice
):
    top = add_comment(article, alice, "level 1")
    second = add_comment(article, alice, "level 2", parent=top)
    third = add_comment(article, alice, "level 3", parent=second)
    post_comment(member, article, "level 4 attempt", parent_id=third.id)
    deeper = all_comments()[-1]
    assert (second.depth, third.depth) == (1, 2)
    assert deeper.depth == 2 and deeper.parent_id == second.id


@pytest.mark.parametrize("state", ["deleted", "removed", "hidden"])
def test_it_attaches_no_reply_under_a_comment_that_takes_none(member, article, alice, state):
    """A reply to the third level attaches to the second, which may have been deleted,
    removed or hidden since: it takes no replies, however they arrive."""
    top = add_comment(article, alice, "level 1")
    second = add_comment(article, alice, "level 2", parent=top)
    third = add_comment(article, alice, "level 3", parent=second)
    if state == "hidden":
        second.hidden = True
    else:
        second.status = state
    db.session.commit()
    before = table_fingerprint()

    response = post_comment(member, article, "a reply kept safe", parent_id=third.id)

    assert response.status_code == 400
    assert "takes no more replies" in response.text and "a reply kept safe" in response.text
    assert "Try again" not in response.text  # it would fail the same way
    assert table_fingerprint() == before


def test_a_comments_time_says_its_zone(member, article, alice):
    """The edit page says "11:52 UTC"; the comment beside it said "11:36", in no zone."""
    comment = add_comment(article, alice, "timed")
    stamp = comment.created_at.strftime("%d %b %Y %H:%M")
    assert f"{stamp} UTC</time>" in page_of(member, article)


def test_it_refuses_a_double_submitted_form_with_one_comment(member, article):
    nonce = token()
    first = post_comment(member, article, "only once", client_token=nonce)
    second = post_comment(member, article, "only once", client_token=nonce)
    [comment] = all_comments()
    assert first.status_code == second.status_code == 303
    assert second.headers["Location"].endswith(f"#comment-{comment.id}")
    db.session.refresh(article)
    assert article.comment_count == 1


def test_it_links_a_permalink_to_the_comment_in_its_thread(client, article, alice):
    comment = add_comment(article, alice)
    response = client.get(f"/comments/{comment.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/articles/{article.id}/walking-eases-lower-back-pain#comment-{comment.id}"
    )


@pytest.mark.parametrize("status", [CommentStatus.DELETED, CommentStatus.REMOVED])
def test_a_permalink_to_a_comment_the_page_no_longer_shows_says_why_at_the_comments(
    client, article, alice, carol, status
):
    comment = add_comment(article, alice, "gone since")
    reply = add_comment(article, carol, "deleted too", parent=comment)
    comment.status = reply.status = status  # nothing under it shows: no "[deleted]" marker
    db.session.commit()

    response = client.get(f"/comments/{comment.id}")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/articles/{article.id}/walking-eases-lower-back-pain#comments"
    )
    page = client.get(response.headers["Location"]).text
    assert "That comment was deleted, removed or is under review." in page


def test_a_permalink_to_a_deleted_comment_with_replies_goes_to_its_marker(
    client, article, alice, carol
):
    comment = add_comment(article, alice, "gone since")
    add_comment(article, carol, "a reply that stays", parent=comment)
    comment.status = CommentStatus.DELETED
    db.session.commit()
    response = client.get(f"/comments/{comment.id}")
    assert response.headers["Location"].endswith(f"#comment-{comment.id}")


def test_an_admin_follows_a_permalink_to_an_article_no_longer_published(
    client, article, alice, carol
):
    # The audit log links every comment it names; the article may have been hidden since.
    comment = add_comment(article, alice)
    article.status = "hidden"
    db.session.commit()
    assert client.get(f"/comments/{comment.id}").status_code == 404  # a visitor
    login(client, alice)
    # Its author is sent to their profile (test_hidden_article_comments.py).
    assert (
        client.get(f"/comments/{comment.id}")
        .headers["Location"]
        .endswith(f"/u/alice?before={comment.id + 1}#comment-{comment.id}")
    )

    login(client, carol)
    response = client.get(f"/comments/{comment.id}")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#comment-{comment.id}")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and f'id="comment-{comment.id}"' in page.get_data(as_text=True)


def test_it_sorts_oldest_newest_and_most_liked(member, article, alice, bob):
    first = add_comment(article, alice, "first comment")
    second = add_comment(article, alice, "second comment")
    second.created_at = first.created_at + timedelta(seconds=5)
    first.like_count = 3
    db.session.commit()

    def order(sort):
        html = member.get(f"/articles/{article.id}?sort={sort}").get_data(as_text=True)
        return html.index("first comment") < html.index("second comment")

    assert order("oldest") is True
    assert order("newest") is False
    first.like_count, second.like_count = 0, 4
    db.session.commit()
    assert order("liked") is False


def test_it_edits_own_comment_within_15_minutes_and_marks_it_edited(member, article, alice):
    comment = add_comment(article, alice, "typo heer")
    response = member.submit(f"/comments/{comment.id}/edit", {"body": "typo here"})
    db.session.refresh(comment)
    assert response.status_code == 303
    assert comment.body == "typo here" and comment.edited_at is not None
    assert "(edited)" in page_of(member, article)


def edit_form_fields(html: str, comment) -> dict[str, str]:
    """The hidden fields of the page's edit form for ``comment``, as a browser sends them."""
    action = f'action="/comments/{comment.id}/edit"'
    form = html[html.index(action) : html.index("</form>", html.index(action))]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def test_an_edit_from_a_stale_tab_keeps_the_newer_edit_and_the_typed_text(member, article, alice):
    comment = add_comment(article, alice, "first words")
    tab_a = edit_form_fields(page_of(member, article), comment)
    tab_b = edit_form_fields(page_of(member, article), comment)
    saved = member.submit(f"/comments/{comment.id}/edit", {**tab_a, "body": "words from A"})
    assert saved.status_code == 303

    stale = member.submit(f"/comments/{comment.id}/edit", {**tab_b, "body": "words from B"})

    db.session.refresh(comment)
    assert stale.status_code == 409
    assert comment.body == "words from A"
    assert "changed in another tab or window" in stale.text and "words from A" in stale.text
    assert ">words from B</textarea>" in stale.text
    # Saved again from that page, knowing what it replaces, the edit goes through.
    again = member.submit(
        f"/comments/{comment.id}/edit",
        {**edit_form_fields(stale.text, comment), "body": "words from B"},
    )
    db.session.refresh(comment)
    assert again.status_code == 303 and comment.body == "words from B"


def test_the_same_edit_made_in_two_tabs_is_no_conflict(member, article, alice):
    comment = add_comment(article, alice, "typo heer")
    tab_a = edit_form_fields(page_of(member, article), comment)
    tab_b = edit_form_fields(page_of(member, article), comment)
    member.submit(f"/comments/{comment.id}/edit", {**tab_a, "body": "typo here"})
    response = member.submit(f"/comments/{comment.id}/edit", {**tab_b, "body": "typo here"})
    assert response.status_code == 303


def test_it_tells_a_json_client_its_edit_came_from_a_stale_form(member, article, alice):
    comment = add_comment(article, alice, "first words")
    drawn = edit_form_fields(page_of(member, article), comment)
    member.submit(f"/comments/{comment.id}/edit", {**drawn, "body": "newer words"})
    response = member.submit(
        f"/comments/{comment.id}/edit",
        {**drawn, "body": "older tab"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 409
    assert "changed in another tab or window" in response.get_json()["message"]
    db.session.refresh(comment)
    assert comment.body == "newer words"


def test_it_asks_for_words_before_saving_an_emptied_edit(member, article, alice):
    comment = add_comment(article, alice, "first thoughts")
    response = member.submit(f"/comments/{comment.id}/edit", {"body": "   "})
    assert response.status_code == 400
    assert "Write something before saving: the comment is empty." in response.text


def test_it_refuses_an_edit_after_15_minutes(member, article, alice):
    comment = add_comment(article, alice, "old words")
    comment.created_at -= timedelta(minutes=16)
    db.session.commit()
    before = table_fingerprint()
    response = member.submit(f"/comments/{comment.id}/edit", {"body": "new words"})
    assert response.status_code == 403
    assert "first 15 minutes" in response.get_data(as_text=True)
    assert table_fingerprint() == before
    # The new words are there to copy; no "Try again" that would fail the same way.
    assert "<title>Not saved" in response.text
    assert ">new words</textarea>" in response.text and "Try again" not in response.text


def test_it_refuses_editing_someone_elses_comment(client, article, alice, carol):
    from tests.conftest import login

    comment = add_comment(article, alice, "alice's words")
    login(client, carol)
    before = table_fingerprint()
    response = client.submit(f"/comments/{comment.id}/edit", {"body": "carol was here"})
    assert response.status_code == 403
    assert "your own comments" in response.get_data(as_text=True)
    assert table_fingerprint() == before


def test_it_refuses_deleting_someone_elses_comment(client, article, alice, carol):
    from tests.conftest import login

    comment = add_comment(article, alice)
    login(client, carol)
    before = table_fingerprint()
    assert client.submit(f"/comments/{comment.id}/delete").status_code == 403
    assert table_fingerprint() == before


def test_it_logs_an_attempt_on_someone_elses_comment(client, article, alice, caplog):
    from tests.conftest import login, make_user

    comment = add_comment(article, alice)
    other = make_user(handle="mallory", subscription="active")
    login(client, other)
    with caplog.at_level(logging.WARNING, logger="club.community.views"):
        client.submit(f"/comments/{comment.id}/edit", {"body": "not mine"})
    assert f"denied POST /comments/{comment.id}/edit to user {other.id}" in caplog.text


def test_it_keeps_the_thread_of_a_deleted_comment_under_a_marker(member, article, alice, carol):
    top = add_comment(article, alice, "to be deleted")
    add_comment(article, carol, "a reply that stays", parent=top)
    response = member.submit(f"/comments/{top.id}/delete")
    html = page_of(member, article)
    assert response.status_code == 303
    assert "[deleted]" in html and "a reply that stays" in html
    assert "to be deleted" not in html
    db.session.refresh(article)
    assert article.comment_count == 1


def test_it_drops_a_deleted_comment_without_replies_from_the_page(member, article, alice):
    comment = add_comment(article, alice, "gone soon")
    member.submit(f"/comments/{comment.id}/delete")
    html = page_of(member, article)
    assert "[deleted]" not in html and "gone soon" not in html


@pytest.mark.parametrize(
    "blank",
    [
        "   \n\t  ",
        "\u200b\u200b\u2066\u202e",  # zero-width space and direction controls
        "\u00a0\u3000\u200d\ufeff",  # no-break and ideographic spaces, joiner, BOM
        "\u3164\uffa0\u115f\u1160\u2800",  # Hangul fillers, the blank Braille cell
    ],
)
def test_it_rejects_an_empty_comment_keeping_nothing(member, article, blank):
    before = table_fingerprint()
    response = post_comment(member, article, blank)
    assert response.status_code == 400
    assert "the comment is empty" in response.get_data(as_text=True)
    assert table_fingerprint() == before


@pytest.mark.parametrize("short", ["👍", "?", "+1", "ok", "\u0928\u093e"])
def test_it_posts_a_comment_of_one_symbol_or_word(member, article, short):
    assert post_comment(member, article, short).status_code == 303


def test_it_rejects_an_over_long_comment_and_gives_the_text_back(member, article):
    before = table_fingerprint()
    response = post_comment(member, article, "x" * 5001)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "at most 5,000 characters; this one has 5,001" in html
    assert "x" * 5001 in html  # nothing the member typed is lost
    assert table_fingerprint() == before


def test_it_refuses_accents_stacked_to_draw_over_the_page_and_gives_the_text_back(member, article):
    before = table_fingerprint()
    tower = "Z" + "\u0301" * 4000
    response = post_comment(member, article, tower)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Use at most 8 accents on one letter" in html
    assert tower in html
    assert table_fingerprint() == before
    assert post_comment(member, article, "Ca\u0301c be\u0323\u0302nh").status_code == 303


@pytest.mark.parametrize(
    "written",
    [
        "\u1012\u102b \u101c\u103b\u103e\u102d\u102f\u1037\u101d\u103e\u1000\u103a",  # Burmese
        "\u0f67\u0f90\u0fb5\u0fa8\u0fb3\u0fba\u0fbc\u0fbb",  # Tibetan: the Kalachakra
        "\u05e9\u05bc\u05c1\u05b8\u05bd\u0591\u05dc\u05d5\u05b9\u05dd",  # cantillated Hebrew
    ],
)
def test_it_posts_the_marks_real_scripts_stack(member, article, written):
    assert post_comment(member, article, written).status_code == 303


def test_it_accepts_exactly_5000_characters(member, article):
    assert post_comment(member, article, "y" * 5000).status_code == 303


def test_it_refuses_a_reply_to_a_deleted_comment(member, article, alice):
    parent = add_comment(article, alice)
    member.submit(f"/comments/{parent.id}/delete")
    before = table_fingerprint()
    response = post_comment(member, article, "hello?", parent_id=parent.id)
    assert response.status_code == 400
    assert "takes no replies" in response.get_data(as_text=True)
    assert table_fingerprint() == before


@pytest.mark.parametrize("status", ["published", "hidden", "pending"])
def test_a_reply_to_a_comment_on_another_article_is_answered_as_one_to_no_comment(
    member, article, alice, status
):
    other = make_article()
    elsewhere = add_comment(other, alice)
    other.status = status
    db.session.commit()
    before = table_fingerprint()
    response = post_comment(member, article, "wrong thread", parent_id=elsewhere.id)
    nowhere = post_comment(member, article, "wrong thread", parent_id=elsewhere.id + 1000)
    assert response.status_code == nowhere.status_code == 404
    said = "The comment you are replying to does not exist."
    assert said in response.get_data(as_text=True) and said in nowhere.get_data(as_text=True)
    assert table_fingerprint() == before


def test_it_answers_404_for_a_missing_article(member):
    before = table_fingerprint()
    response = member.submit("/articles/999999/comments", {"body": "hi", "client_token": token()})
    assert response.status_code == 404
    assert "does not exist" in response.get_data(as_text=True)
    assert table_fingerprint() == before


def test_it_answers_404_for_an_unpublished_article(member):
    hidden = make_article(status="hidden")
    response = member.submit(
        f"/articles/{hidden.id}/comments", {"body": "hi", "client_token": token()}
    )
    assert response.status_code == 404


def test_it_answers_404_for_a_reply_to_a_missing_comment(member, article):
    before = table_fingerprint()
    response = post_comment(member, article, "hi", parent_id=999999)
    assert response.status_code == 404
    assert table_fingerprint() == before


def test_it_answers_404_for_a_missing_comment(member):
    assert member.get("/comments/999999").status_code == 404
    assert member.submit("/comments/999999/delete").status_code == 404


def test_it_answers_json_errors_to_json_clients(member, article):
    response = member.submit(
        f"/articles/{article.id}/comments",
        {"body": "", "client_token": token()},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("Write something")


def test_it_ignores_fields_a_form_does_not_have(member, article, alice, carol):
    post_comment(
        member, article, "mine", author_id=carol.id, like_count=99, status="removed", depth=2
    )
    [comment] = all_comments()
    assert (comment.author_id, comment.like_count, comment.status, comment.depth) == (
        alice.id,
        0,
        "visible",
        0,
    )


def test_it_never_links_back_off_the_site(member, article):
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:x"):
        response = post_comment(member, article, "", next=target)
        assert 'href="/">Go back' in response.get_data(as_text=True), target
        response = post_comment(member, article, "ok", next=target)
        assert response.headers["Location"].startswith(f"/articles/{article.id}/"), target


def test_it_rejects_a_reply_target_that_is_not_an_id(member, article):
    before = table_fingerprint()
    response = post_comment(member, article, "hi", parent_id="abc")
    assert response.status_code == 400
    assert "Reply to: Not a valid integer value." in response.get_data(as_text=True)
    assert table_fingerprint() == before


def test_it_refuses_the_edit_form_for_someone_elses_comment(client, article, alice, carol):
    from tests.conftest import login

    comment = add_comment(article, alice)
    login(client, carol)
    assert client.get(f"/comments/{comment.id}/edit").status_code == 403


def test_it_shows_the_edit_form_to_the_author(member, article, alice):
    comment = add_comment(article, alice, "first draft")
    html = member.get(f"/comments/{comment.id}/edit").get_data(as_text=True)
    assert "first draft" in html and "15 minutes after posting" in html


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of the page's form, as a browser would send them."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def send_again(client, article, html: str):
    """Send the problem page's form again, with the text it kept."""
    body = re.search(r"<textarea[^>]*>([^<]*)</textarea>", html).group(1)
    return client.post(
        f"/articles/{article.id}/comments", data={**hidden_fields(html), "body": body}
    )


def test_it_keeps_the_comment_when_the_forms_token_has_expired(member, article):
    before = table_fingerprint()
    response = member.post(
        f"/articles/{article.id}/comments",
        data={
            "body": "Two paragraphs I do not want to type",
            "csrf_token": "old",
            "client_token": token(),
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This form had expired, so nothing was posted" in html
    assert "Two paragraphs I do not want to type</textarea>" in html
    assert table_fingerprint() == before
    # The page's form carries fresh tokens: sending it again posts the comment.
    assert send_again(member, article, html).status_code == 303
    assert db.session.scalar(sa.select(Comment.body)) == "Two paragraphs I do not want to type"


def test_it_keeps_new_words_sent_again_from_a_form_that_already_posted(member, article):
    nonce = token()
    post_comment(member, article, "my first thought", client_token=nonce)
    # The Back button brings the same form back; the member writes something else.
    response = post_comment(member, article, "a second thought", client_token=nonce)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "the new text was not posted" in html and "a second thought</textarea>" in html

    assert send_again(member, article, html).status_code == 303
    bodies = db.session.scalars(sa.select(Comment.body).order_by(Comment.id)).all()
    assert bodies == ["my first thought", "a second thought"]


def many_threads(article, author, count: int) -> list[Comment]:
    return [add_comment(article, author, f"thread {n}") for n in range(count)]


def test_it_shows_fifty_threads_a_page_and_links_the_rest(member, article, alice):
    many_threads(article, alice, 51)
    first, second = (
        member.get(f"/articles/{article.id}?comments={n}").get_data(as_text=True) for n in (1, 2)
    )
    assert "thread 49</" in first and "thread 50</" not in first
    assert "thread 50</" in second and "Page 2 of 2" in second
    assert "?sort=oldest&amp;comments=2#comments" in first
    assert "thread 50</" in member.get(f"/articles/{article.id}?comments=99").get_data(
        as_text=True
    )  # past the end: the last page


def test_a_form_on_a_later_page_of_threads_comes_back_to_that_page(member, article, carol):
    """Without the page script, Like, Edit, Delete and Report return to the page they were
    on, in the order the reader chose, not to the first page."""
    last = many_threads(article, carol, 51)[-1]
    html = member.get(f"/articles/{article.id}?sort=oldest&comments=2").text
    like = re.search(
        rf'action="/comments/{last.id}/like".*?name="next" value="([^"]*)"', html, re.S
    )
    assert like.group(1) == f"/articles/{article.id}?sort=oldest&amp;comments=2"

    response = member.submit(
        f"/comments/{last.id}/like", {"state": "on", "next": html_unescape(like.group(1))}
    )
    assert response.headers["Location"].endswith(f"?sort=oldest&comments=2#comment-{last.id}")
    assert f'id="comment-{last.id}"' in member.get(response.headers["Location"]).text
    report = f"/comments/{last.id}/report?next=/articles/{article.id}?sort%3Doldest%26comments%3D2"
    assert html_escape(report) in html


def test_it_sends_a_permalink_and_a_new_comment_to_the_page_that_shows_it(member, article, alice):
    threads = many_threads(article, alice, 50)
    assert (
        member.get(f"/comments/{threads[0].id}")
        .headers["Location"]
        .endswith(f"#comment-{threads[0].id}")
    )
    response = post_comment(member, article, "the fifty-first", next=f"/articles/{article.id}")
    newest = all_comments()[-1]
    assert response.headers["Location"].endswith(f"?comments=2#comment-{newest.id}")
    assert (
        member.get(f"/comments/{newest.id}")
        .headers["Location"]
        .endswith(f"?comments=2#comment-{newest.id}")
    )


def test_a_form_whose_comment_was_deleted_keeps_the_new_words(member, article):
    form_token = token()
    post_comment(member, article, "first words", client_token=form_token)
    [first] = db.session.scalars(sa.select(Comment)).all()
    member.submit(f"/comments/{first.id}/delete")

    # Back to the page (the browser keeps the form and its nonce), new words, send.
    response = post_comment(member, article, "different words", client_token=form_token)

    page = response.get_data(as_text=True)
    assert "That comment was already posted." not in page
    assert "different words" in page  # given back, to send as a new comment


def test_the_same_words_sent_again_from_a_fresh_form_are_not_a_second_comment(member, article):
    """Back after posting shows the words in the box again, under a new form nonce."""
    post_comment(member, article, "Ten minutes after lunch helps.")

    again = post_comment(member, article, "Ten minutes after lunch helps.", next="/")

    assert [c.body for c in all_comments()] == ["Ten minutes after lunch helps."]
    assert again.headers["Location"].endswith(f"#comment-{all_comments()[0].id}")
    assert "That comment was already posted." in member.get("/").get_data(as_text=True)


def test_the_same_words_elsewhere_or_later_are_new_comments(member, article, alice):
    first = add_comment(article, alice, "Which shoes?")
    post_comment(member, article, "Thank you!")
    post_comment(member, article, "Thank you!", parent_id=first.id)  # a reply is elsewhere
    posted = all_comments()[-1]
    posted.created_at -= comments.REPOSTED_WITHIN  # long enough ago
    db.session.commit()

    post_comment(member, article, "Thank you!", parent_id=first.id)

    assert [c.body for c in all_comments()] == ["Which shoes?"] + ["Thank you!"] * 3
