"""Feed and article edits that name a topic while another admin merges it, or names
the same new topic (PostgreSQL).

The edit waits for the merge and then does what it would a moment later (a merged
topic's name makes a new topic); never a database error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from articles import curation, topics
from articles.models import Feed, Topic
from club.edit_conflicts import drawn_record
from club.extensions import db
from tests.articles.test_topics_admin import make_topic, post_as_admin, topic_names_of
from tests.conftest import is_postgres, make_article, make_feed, make_user, settle

pytestmark = [
    pytest.mark.pg,
    pytest.mark.skipif(not is_postgres(), reason="needs PostgreSQL: SQLite runs one writer"),
]


@pytest.fixture
def diet(app) -> Topic:
    return make_topic("Diet")


@pytest.fixture
def merge_diet(app, carol, monkeypatch, diet):
    """Start merging Diet into Nutrition and stop once the merge holds what it locks; the
    answer, ``finish``, lets it go on and returns its page."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 is a page, as in production
    nutrition = make_topic("Nutrition")
    reached, go = threading.Event(), threading.Event()
    lock = topics.lock_topics

    def paused(*ids):
        locked = lock(*ids)
        reached.set()
        assert go.wait(20), "never released"
        return locked

    def start():
        url = f"/admin/topics/{diet.id}/merge"
        return post_and_hold(app, carol, url, {"into": nutrition.id}, reached, go)

    monkeypatch.setattr(topics, "lock_topics", paused)
    return start


def post_and_hold(app, admin, url: str, data: dict, reached, go) -> Callable[[], str]:
    """Send the form as ``admin`` and return once it is held (``reached``); the answer lets
    it go on (``go``) and returns its page."""
    thread, outcome = post_as_admin(app, admin, url, data)
    assert reached.wait(20)

    def finish() -> str:
        go.set()
        thread.join(30)
        return outcome["text"]

    return finish


def edit_meanwhile(app, url: str, data: dict, finish) -> tuple[str, str]:
    """Save an edit as another admin while the merge holds its topics; both pages."""
    editing, edited = post_as_admin(app, make_user(admin=True), url, data)
    settle(editing)  # the edit waits on what the merge holds
    merged = finish()
    editing.join(30)
    return merged, edited["text"]


def topic_names() -> list[str]:
    return list(db.session.scalars(sa.select(Topic.name).order_by(Topic.name)))


def test_a_feed_edit_naming_a_topic_being_merged_is_saved(app, merge_diet):
    feed = make_feed(topic=make_topic("Sleep"))
    finish = merge_diet()
    data = {"topic": "Diet", "interval_minutes": 60}

    merged, edited = edit_meanwhile(app, f"/admin/feeds/{feed.id}/edit", data, finish)

    assert "Merged “Diet”" in merged
    assert "Feed saved." in edited
    db.session.expire_all()
    assert db.session.get(Feed, feed.id).topic.name == "Diet"
    assert topic_names() == ["Diet", "Nutrition", "Sleep"]


def test_an_article_edit_naming_a_topic_being_merged_is_saved(app, merge_diet):
    article = make_article(title="Eating slowly", topics=[make_topic("Sleep")])
    finish = merge_diet()
    data = {"title": "Eating slowly", "topics": "Sleep, Diet"}

    merged, edited = edit_meanwhile(app, f"/admin/articles/{article.id}/edit", data, finish)

    assert "Merged “Diet”" in merged
    assert "Article saved." in edited
    assert topic_names_of(article.id) == ["Diet", "Sleep"]


def test_an_article_edit_keeping_a_topic_being_merged_does_not_deadlock(app, merge_diet, diet):
    """The merge moves the article being edited: one waits for the other (the edit then
    shows what the merge saved, as for another admin's save), neither deadlocks."""
    article = make_article(title="Eating slowly", topics=[diet])
    drawn = drawn_record(curation.article_edit_values(article))
    finish = merge_diet()
    data = {"title": "Eating slowly", "topics": "Diet", "revision": drawn}

    merged, edited = edit_meanwhile(app, f"/admin/articles/{article.id}/edit", data, finish)

    assert "Merged “Diet”" in merged
    assert "Someone saved this article after you opened it." in edited or (
        "Article saved." in edited
    )
    assert topic_names_of(article.id) == ["Nutrition"]


@pytest.fixture
def naming_hydration(app):
    """Make the next save that names the new topic "Hydration" stop once it has inserted
    it, before it commits; the answer, ``finish``, lets it go on and returns its page."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 is a page, as in production
    reached, go = threading.Event(), threading.Event()

    def paused(mapper, connection, topic: Topic) -> None:
        if topic.name == "Hydration" and not reached.is_set():
            reached.set()
            assert go.wait(20), "never released"

    sa.event.listen(Topic, "after_insert", paused)

    def start(url: str, data: dict):
        return post_and_hold(app, make_user(admin=True), url, data, reached, go)

    yield start
    sa.event.remove(Topic, "after_insert", paused)


@pytest.mark.parametrize("second", ["feed", "article"])
def test_two_admins_naming_the_same_new_topic_at_once_share_it(app, naming_hydration, second):
    first_feed, second_feed = make_feed(), make_feed()
    article = make_article(title="Drinking water")
    finish = naming_hydration(
        f"/admin/feeds/{first_feed.id}/edit", {"topic": "Hydration", "interval_minutes": 60}
    )
    url, data = {
        "feed": (
            f"/admin/feeds/{second_feed.id}/edit",
            {"topic": "Hydration", "interval_minutes": 60},
        ),
        "article": (
            f"/admin/articles/{article.id}/edit",
            {"title": "Drinking water", "topics": "Hydration"},
        ),
    }[second]

    first, edited = edit_meanwhile(app, url, data, finish)

    assert "Feed saved." in first
    assert ("Feed saved." if second == "feed" else "Article saved.") in edited
    assert topic_names() == ["Hydration"]
    db.session.expire_all()
    hydration = db.session.scalar(sa.select(Topic).where(Topic.name == "Hydration"))
    assert db.session.get(Feed, first_feed.id).topic == hydration
    if second == "feed":
        assert db.session.get(Feed, second_feed.id).topic == hydration
    else:
        assert topic_names_of(article.id) == ["Hydration"]
