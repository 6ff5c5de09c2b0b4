"""Interleavings PostgreSQL allows between two requests (READ COMMITTED, several gunicorn
processes): one request stops at a chosen point, a second runs to its commit, then the
first carries on. Each decision must hold whichever lands first."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from articles import topics
from articles.models import Article, Topic
from club.community import account_data, comments, likes, moderation, views
from club.community import admin as community_admin
from club.community.models import ArticleLike, Comment, Report, TopicFollow
from club.extensions import db
from club.models import User
from tests.community.conftest import add_comment, token
from tests.conftest import PASSWORD, is_postgres, login, make_user, settle

pytestmark = [
    pytest.mark.pg,
    pytest.mark.skipif(not is_postgres(), reason="needs PostgreSQL: SQLite runs one writer"),
]


class Pause:
    """Stop the first call of ``owner.name`` once it returns, until ``go`` is set.

    The real function runs; the pause only chooses where another request gets in.
    """

    def __init__(self, monkeypatch, owner, name: str) -> None:
        self.reached, self.go = threading.Event(), threading.Event()
        original = getattr(owner, name)

        def paused(*args, **kwargs):
            result = original(*args, **kwargs)
            if not self.reached.is_set():
                self.reached.set()
                assert self.go.wait(20), "never released"
            return result

        monkeypatch.setattr(owner, name, paused)


def post_in_thread(app, user, url: str, data: dict) -> tuple[threading.Thread, dict]:
    """POST ``data`` to ``url`` as ``user`` from a thread; its answer lands in the dict."""
    client = app.test_client()
    login(client, user)
    data = data | {"csrf_token": client.csrf_token()}
    outcome: dict = {}

    def send() -> None:
        response = client.post(url, data=data)
        outcome["status"] = response.status_code
        outcome["text"] = response.get_data(as_text=True)
        outcome["at"] = time.monotonic()  # when the answer, and so the commit, was done

    thread = threading.Thread(target=send)
    thread.start()
    return thread, outcome


def signed_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


@pytest.fixture
def production_errors(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 is a page, as in production


class SecondCall(Pause):
    """Stop the second call of ``owner.name`` once it returns (the first runs through)."""

    def __init__(self, monkeypatch, owner, name: str) -> None:
        self.reached, self.go = threading.Event(), threading.Event()
        original, calls = getattr(owner, name), []

        def paused(*args, **kwargs):
            result = original(*args, **kwargs)
            calls.append(1)
            if len(calls) == 2:
                self.reached.set()
                assert self.go.wait(20), "never released"
            return result

        monkeypatch.setattr(owner, name, paused)


DELETE = {"password": PASSWORD, "confirm": "y"}


def like_article_and_comment(app, user, article, comment) -> None:
    client = signed_in(app, user)
    assert client.submit(f"/articles/{article.id}/like", {"state": "on"}).status_code == 303
    assert client.submit(f"/comments/{comment.id}/like", {"state": "on"}).status_code == 303


def race_with_deletion(app, pause, first: tuple, leaver) -> tuple[dict, dict]:
    """Send ``first`` (user, url, form) until ``pause``, delete ``leaver``'s account
    meanwhile, let both finish; their answers."""
    user, url, form = first
    thread, answered = post_in_thread(app, user, url, form)
    assert pause.reached.wait(20)
    deleting, deleted = post_in_thread(app, leaver, "/settings/delete", DELETE)
    settle(deleting)
    pause.go.set()
    thread.join(30)
    deleting.join(30)
    return answered, deleted


@pytest.mark.parametrize("decision", ["a moderator removes it", "its author deletes it"])
def test_a_reply_never_lands_under_a_comment_taken_down_meanwhile(
    app, article, alice, carol, monkeypatch, decision
):
    """The reply has checked that its parent takes replies. A removal or deletion now
    must wait for the reply, not land between the check and the reply's insert."""
    replier = make_user(subscription="active")
    parent = add_comment(article, alice, "the parent")
    pause = Pause(monkeypatch, comments, "_reply_target")
    form = {"body": "a reply", "client_token": token(), "parent_id": str(parent.id)}
    thread, replied = post_in_thread(app, replier, f"/articles/{article.id}/comments", form)
    assert pause.reached.wait(20)
    if decision.startswith("a moderator"):
        decider, url = carol, f"/admin/reports/{parent.id}/remove"
    else:
        decider, url = alice, f"/comments/{parent.id}/delete"
    decide, decided = post_in_thread(app, decider, url, {})
    settle(decide)
    pause.go.set()
    for waited in (thread, decide):
        waited.join(30)
    finished = sorted([("reply", replied["at"]), ("decision", decided["at"])], key=lambda x: x[1])

    assert decided["status"] == 303 and replied["status"] == 303
    # The decision waited for the reply: the reply was stored under a visible comment.
    assert [name for name, _ in finished] == ["reply", "decision"]


def test_a_comment_never_lands_on_an_article_hidden_meanwhile(
    app, article, alice, carol, monkeypatch
):
    pause = Pause(monkeypatch, comments, "find_article")  # published, when it looked
    form = {"body": "on a hidden article", "client_token": token()}
    thread, posted = post_in_thread(app, alice, f"/articles/{article.id}/comments", form)
    assert pause.reached.wait(20)
    hidden = signed_in(app, carol).submit(f"/admin/articles/{article.id}/hide", {})
    assert hidden.status_code in (302, 303)
    pause.go.set()
    thread.join(30)

    db.session.expire_all()
    article = db.session.get(Article, article.id)
    assert article.status == "hidden"
    stored = db.session.scalar(sa.select(sa.func.count()).select_from(Comment))
    assert (stored, article.comment_count) == (0, 0)
    assert posted["status"] == 404 and "on a hidden article" in posted["text"]


def test_a_like_sent_while_the_account_is_deleted_leaves_no_count_behind(app, article, monkeypatch):
    member = make_user(subscription="active")
    # The deletion has locked the account and is busy removing its data.
    pause = Pause(monkeypatch, account_data, "_remove_likes")
    deleting, deleted = post_in_thread(
        app, member, "/settings/delete", {"password": PASSWORD, "confirm": "y"}
    )
    assert pause.reached.wait(20)
    liking, _ = post_in_thread(app, member, f"/articles/{article.id}/like", {"state": "on"})
    settle(liking)  # the like waits on the account's row
    pause.go.set()
    deleting.join(30)
    liking.join(30)
    assert deleted["status"] == 303

    db.session.expire_all()
    likes = db.session.scalar(sa.select(sa.func.count()).select_from(ArticleLike))
    assert (likes, db.session.get(Article, article.id).like_count) == (0, 0)


def test_an_unlike_sent_while_the_account_is_deleted_does_not_deadlock(
    app, article, monkeypatch, production_errors
):
    member = make_user(subscription="active")
    liked = signed_in(app, member).submit(f"/articles/{article.id}/like", {"state": "on"})
    assert liked.status_code == 303
    pause = Pause(monkeypatch, account_data, "_remove_likes")
    deleting, deleted = post_in_thread(
        app, member, "/settings/delete", {"password": PASSWORD, "confirm": "y"}
    )
    assert pause.reached.wait(20)
    unliking, unliked = post_in_thread(
        app, member, f"/articles/{article.id}/like", {"state": "off"}
    )
    settle(unliking)
    pause.go.set()
    deleting.join(30)
    unliking.join(30)

    assert deleted["status"] == 303
    assert unliked["status"] in (303, 401), unliked["status"]  # never a 503 (deadlock)
    db.session.expire_all()
    assert db.session.get(Article, article.id).like_count == 0


@pytest.mark.parametrize("deleted_first", [True, False])
def test_a_comment_posted_as_its_account_goes_gets_a_clean_answer(
    app, article, monkeypatch, production_errors, deleted_first
):
    """Signed in when the request began; the account went before the comment was stored
    (a 401 saying so, the text kept), or after (the comment stays, authorless)."""
    member = make_user(subscription="active")
    # Before anything is locked, or once the account and the article are held.
    owner, name = (views, "require_valid") if deleted_first else (comments, "find_article")
    pause = Pause(monkeypatch, owner, name)
    form = {"body": "posted as I leave", "client_token": token()}
    thread, posted = post_in_thread(app, member, f"/articles/{article.id}/comments", form)
    assert pause.reached.wait(20)
    deleting, deleted = post_in_thread(
        app, member, "/settings/delete", {"password": PASSWORD, "confirm": "y"}
    )
    if deleted_first:
        deleting.join(30)
    else:
        settle(deleting)  # the deletion waits on the account the comment holds
    pause.go.set()
    thread.join(30)
    deleting.join(30)

    assert deleted["status"] == 303
    db.session.expire_all()
    stored = db.session.scalars(sa.select(Comment)).all()
    if deleted_first:
        assert posted["status"] == 401 and stored == []
        assert (
            "Your account was deleted" in posted["text"] and "posted as I leave" in posted["text"]
        )
    else:
        assert posted["status"] == 303
        assert [(c.body, c.author_id) for c in stored] == [("posted as I leave", None)]
    assert db.session.get(Article, article.id).comment_count == len(stored)


@pytest.mark.parametrize("author_liked_the_article", [False, True])
def test_a_reply_and_its_parent_authors_account_deletion_do_not_deadlock(
    app, article, monkeypatch, production_errors, author_liked_the_article
):
    """The reply holds its parent; the deletion of the parent's author anonymises that
    comment, and the reply notifies that account: each once waited on the other."""
    author = make_user(subscription="active")
    replier = make_user(subscription="active")
    parent = add_comment(article, author, "the parent")
    if author_liked_the_article:  # the deletion also lowers this article's like count
        liked = signed_in(app, author).submit(f"/articles/{article.id}/like", {"state": "on"})
        assert liked.status_code == 303
    pause = Pause(monkeypatch, comments, "_reply_target")
    form = {"body": "a reply", "client_token": token(), "parent_id": str(parent.id)}
    first = (replier, f"/articles/{article.id}/comments", form)

    replied, deleted = race_with_deletion(app, pause, first, author)

    assert (replied["status"], deleted["status"]) == (303, 303)
    db.session.expire_all()
    stored = db.session.scalar(sa.select(sa.func.count()).select_from(Comment))
    assert db.session.get(Article, article.id).comment_count == stored == 2


def test_a_reply_by_an_account_being_deleted_does_not_deadlock(
    app, article, alice, monkeypatch, production_errors
):
    """The replier liked the article: their deletion lowers its count while the reply,
    holding the article, inserts a comment pointing at their account."""
    replier = make_user(subscription="active")
    liked = signed_in(app, replier).submit(f"/articles/{article.id}/like", {"state": "on"})
    assert liked.status_code == 303
    parent = add_comment(article, alice, "the parent")
    pause = Pause(monkeypatch, comments, "_lock_published_article")
    form = {"body": "a reply", "client_token": token(), "parent_id": str(parent.id)}
    first = (replier, f"/articles/{article.id}/comments", form)

    replied, deleted = race_with_deletion(app, pause, first, replier)

    assert (replied["status"], deleted["status"]) == (303, 303)
    db.session.expire_all()
    article = db.session.get(Article, article.id)
    assert article.like_count == 0
    assert article.comment_count == db.session.scalar(
        sa.select(sa.func.count()).select_from(Comment)
    )


def test_a_comment_like_and_its_authors_account_deletion_do_not_deadlock(
    app, article, alice, monkeypatch, production_errors
):
    """The like holds the comment's row (its count) and notifies the author; the author's
    deletion holds their account and anonymises the comment."""
    author = make_user(subscription="active")
    comment = add_comment(article, author, "liked as its author leaves")
    pause = Pause(monkeypatch, likes, "insert_once")  # the like row is in
    first = (alice, f"/comments/{comment.id}/like", {"state": "on"})

    liked, deleted = race_with_deletion(app, pause, first, author)

    assert (liked["status"], deleted["status"]) == (303, 303)


def test_a_report_and_the_reporters_account_deletion_do_not_deadlock(
    app, article, alice, monkeypatch, production_errors
):
    """The reporter liked the comment: their deletion lowers its count while the report,
    holding the comment, inserts a row pointing at their account."""
    reporter = make_user(subscription="active")
    comment = add_comment(article, alice, "liked, then reported")
    liked = signed_in(app, reporter).submit(f"/comments/{comment.id}/like", {"state": "on"})
    assert liked.status_code == 303
    pause = Pause(monkeypatch, moderation, "find_comment")  # the comment is locked
    first = (reporter, f"/comments/{comment.id}/report", {"reason": "spam", "details": ""})

    reported, deleted = race_with_deletion(app, pause, first, reporter)

    assert (reported["status"], deleted["status"]) == (303, 303)
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).like_count == 0


@pytest.mark.parametrize("decision", ["a moderator removes it", "its author deletes it"])
def test_taking_a_comment_down_and_a_likers_account_deletion_do_not_deadlock(
    app, article, alice, carol, monkeypatch, production_errors, decision
):
    """The member liked the article and the comment: their deletion lowers both counts
    while the comment, held by the decision, waits to lower the article's."""
    liker = make_user(subscription="active")
    comment = add_comment(article, alice, "liked, then taken down")
    like_article_and_comment(app, liker, article, comment)
    if decision.startswith("a moderator"):
        pause = Pause(monkeypatch, moderation, "_reported_comment")
        first = (carol, f"/admin/reports/{comment.id}/remove", {})
    else:
        pause = Pause(monkeypatch, comments, "find_comment")
        first = (alice, f"/comments/{comment.id}/delete", {})

    decided, deleted = race_with_deletion(app, pause, first, liker)

    assert (decided["status"], deleted["status"]) == (303, 303)
    db.session.expire_all()
    assert db.session.get(Article, article.id).like_count == 0


def test_a_reply_and_the_deletion_of_a_member_who_liked_its_parent_do_not_deadlock(
    app, article, alice, monkeypatch, production_errors
):
    liker = make_user(subscription="active")
    parent = add_comment(article, alice, "the parent")
    like_article_and_comment(app, liker, article, parent)
    pause = Pause(monkeypatch, comments, "_reply_target")  # the parent is share-locked
    form = {"body": "a reply", "client_token": token(), "parent_id": str(parent.id)}
    first = (make_user(subscription="active"), f"/articles/{article.id}/comments", form)

    replied, deleted = race_with_deletion(app, pause, first, liker)

    assert (replied["status"], deleted["status"]) == (303, 303)


def test_a_deep_reply_and_the_deletion_of_the_author_it_attaches_under_do_not_deadlock(
    app, article, alice, monkeypatch, production_errors
):
    """A reply to the third level attaches to the second, whose author is leaving and
    had liked the article."""
    middle_author = make_user(subscription="active")
    top = add_comment(article, alice, "top")
    middle = add_comment(article, middle_author, "middle", parent=top)
    deep = add_comment(article, alice, "deep", parent=middle)
    liked = signed_in(app, middle_author).submit(f"/articles/{article.id}/like", {"state": "on"})
    assert liked.status_code == 303
    pause = SecondCall(monkeypatch, comments, "_lock_for_reply")  # the middle one is held
    form = {"body": "deeper", "client_token": token(), "parent_id": str(deep.id)}
    first = (make_user(subscription="active"), f"/articles/{article.id}/comments", form)

    replied, deleted = race_with_deletion(app, pause, first, middle_author)

    assert (replied["status"], deleted["status"]) == (303, 303)


def test_freezing_an_author_and_that_authors_account_deletion_do_not_deadlock(
    app, article, carol, monkeypatch, production_errors
):
    author = make_user(subscription="active")
    comment = add_comment(article, author, "frozen for this")
    reporter = make_user(subscription="active")
    db.session.add(Report(comment_id=comment.id, reporter_id=reporter.id, reason="spam"))
    db.session.commit()
    pause = Pause(monkeypatch, moderation, "_reported_comment")
    first = (carol, f"/admin/reports/{comment.id}/freeze", {"reason": "spam", "until": ""})

    froze, deleted = race_with_deletion(app, pause, first, author)

    assert deleted["status"] == 303
    assert froze["status"] in (303, 400), froze["text"][:300]  # frozen, or "author left"


def test_an_author_who_leaves_the_moment_their_freeze_commits_does_not_break_the_freeze(
    app, article, carol, monkeypatch, production_errors
):
    """The deletion waits on the freeze's locks and goes on as it commits: the freeze's
    answer and its mail must not need the account again (a 500 in CI once)."""
    author = make_user(subscription="active")
    author_id = author.id
    comment = add_comment(article, author, "frozen for this")
    reporter = make_user(subscription="active")
    db.session.add(Report(comment_id=comment.id, reporter_id=reporter.id, reason="spam"))
    db.session.commit()
    pause = Pause(monkeypatch, community_admin, "decided")  # the freeze has committed
    first = (carol, f"/admin/reports/{comment.id}/freeze", {"reason": "spam", "until": ""})

    froze, deleted = race_with_deletion(app, pause, first, author)

    assert (froze["status"], deleted["status"]) == (303, 303), froze["text"][:300]
    db.session.expire_all()
    assert db.session.get(User, author_id) is None


def test_a_report_filed_as_its_author_leaves_keeps_the_comment_for_the_moderators(
    app, article, alice, monkeypatch, production_errors
):
    """The author asked for their comments to go with the account, but one was reported
    meanwhile: it waits for the moderators, whichever commits first."""
    author = make_user(subscription="active")
    comment = add_comment(article, author, "words a moderator must see")
    # The report row is in and the comment locked; the report has not committed.
    pause = Pause(monkeypatch, moderation, "open_reporter_count")
    first = (alice, f"/comments/{comment.id}/report", {"reason": "spam", "details": ""})
    thread, reported = post_in_thread(app, *first)
    assert pause.reached.wait(20)
    leaving = DELETE | {"delete_comments": "y"}
    deleting, deleted = post_in_thread(app, author, "/settings/delete", leaving)
    settle(deleting)  # the deletion waits on the comment the report holds
    pause.go.set()
    thread.join(30)
    deleting.join(30)

    assert (reported["status"], deleted["status"]) == (303, 303)
    db.session.expire_all()
    kept = db.session.get(Comment, comment.id)
    assert (kept.status, kept.body, kept.author_id) == (
        "visible",
        "words a moderator must see",
        None,
    )


def test_a_follow_sent_while_its_topic_is_merged_is_never_claimed_unsaved(
    app, alice, carol, monkeypatch, production_errors
):
    """The merge holds the topic when the follow asks for it: the follow waits, then
    either follows the topic the merge left or says it could not; never "followed" with
    nothing saved."""
    diet, nutrition = Topic(slug="diet", name="Diet"), Topic(slug="nutrition", name="Nutrition")
    db.session.add_all([diet, nutrition])
    db.session.commit()
    pause = Pause(monkeypatch, topics, "lock_topics")
    merging, merged = post_in_thread(
        app, carol, f"/admin/topics/{diet.id}/merge", {"into": nutrition.id}
    )
    assert pause.reached.wait(20)
    following, followed = post_in_thread(app, alice, f"/topics/{diet.id}/follow", {"state": "on"})
    settle(following)  # the follow waits on the topic the merge holds
    pause.go.set()
    merging.join(30)
    following.join(30)

    assert merged["status"] == 302
    db.session.expire_all()
    follows = db.session.scalars(
        sa.select(TopicFollow.topic_id).where(TopicFollow.user_id == alice.id)
    )
    if followed["status"] == 303:
        assert list(follows) == [nutrition.id]
    else:
        assert followed["status"] == 404 and list(follows) == []
        assert "it may have been merged into another or deleted" in followed["text"]
