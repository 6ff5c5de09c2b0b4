"""Migrations on an existing SQLite database keep every row (CI checks an empty one)."""

from __future__ import annotations

import os
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa

from club import config, create_app
from club.clock import utcnow
from club.extensions import db
from club.models import Appeal, User
from tests.conftest import base_test_config, is_postgres

MIGRATIONS = str(Path(__file__).resolve().parents[2] / "migrations")
BEFORE_AUTOINCREMENT = "b7d2f4a91c36"


@pytest.fixture
def old_site(tmp_path):
    """A site whose SQLite database stands at the revision before users got AUTOINCREMENT."""
    site = create_app(
        base_test_config(f"sqlite:///{tmp_path}/club.sqlite3", tmp_path) | {"REDIS_URL": None}
    )
    with site.app_context():
        flask_migrate.upgrade(directory=MIGRATIONS, revision=BEFORE_AUTOINCREMENT)
        yield site
        db.session.remove()
        db.engine.dispose()


def insert_as_the_database_stands(table: sa.Table, **values) -> int:
    """Insert a row naming ``values`` and the model's defaults for the other columns the
    database has at its revision: the ORM would name every column of today's model, some
    of which an old database lacks. Return its id."""
    present = {c["name"] for c in sa.inspect(db.session.connection()).get_columns(table.name)}
    defaults = {
        column.name: column.default.arg if column.default.is_scalar else column.default.arg(None)
        for column in table.c
        if column.default is not None and column.name in present and column.name not in values
    }
    typed = {column.name: column.type for column in table.c}
    as_it_stands = sa.table(table.name, *(sa.column(n, typed.get(n)) for n in present))
    insert = sa.insert(as_it_stands).values(**defaults, **values)
    return db.session.execute(insert.returning(as_it_stands.c.id)).scalar_one()


def add_member(handle: str, email: str | None = None) -> int:
    values = {"email": email or f"{handle}@example.com", "handle": handle}
    return insert_as_the_database_stands(
        User.__table__, **values, display_name=handle, password_hash="!"
    )


def add_old_feed(url: str, title: str) -> int:
    from articles.models import Feed

    return insert_as_the_database_stands(Feed.__table__, url=url, title=title)


def add_old_article(feed_id: int, **values) -> int:
    from articles.models import Article

    return insert_as_the_database_stands(Article.__table__, feed_id=feed_id, **values)


def test_it_rebuilds_the_accounts_table_without_losing_what_refers_to_it(old_site):
    member = add_member("kept")
    db.session.add(Appeal(user_id=member, freeze_started_at=utcnow(), text="Please."))
    db.session.commit()

    flask_migrate.upgrade(directory=MIGRATIONS)

    db.session.expire_all()
    assert db.session.scalars(sa.select(Appeal.text)).all() == ["Please."]
    add_member("other")
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        add_member("kept2", email="KEPT@example.com")  # email still unique, ignoring case


def test_it_never_gives_a_new_account_a_deleted_ones_id(old_site):
    flask_migrate.upgrade(directory=MIGRATIONS)
    add_member("first")
    deleted_id = add_member("newest")
    db.session.commit()
    db.session.execute(sa.delete(User).where(User.id == deleted_id))
    db.session.commit()

    assert add_member("newcomer") > deleted_id


def test_it_rebuilds_the_search_index_so_hindi_words_stay_whole(old_site):
    from articles.search import search_articles

    feed_id = add_old_feed("https://feeds.example.com/hi.xml", "Hindi source")
    add_old_article(
        feed_id,
        guid="hi-1",
        url="https://hi.example.com/1",
        title="स्वास्थ्य के लिए रोज़ टहलना",
        summary="",
        status="published",
    )
    db.session.commit()

    flask_migrate.upgrade(directory=MIGRATIONS)

    assert [h.article.guid for h in search_articles("स्वास्थ्य").hits] == ["hi-1"]
    assert search_articles("थ्स्व्य").hits == []  # letters of the word, not the word


def test_it_drops_the_likes_members_gave_their_own_comments(old_site):
    from club.community.models import Comment, CommentLike

    flask_migrate.upgrade(directory=MIGRATIONS, revision="f2c8e4a7b951")
    author, other = add_member("author"), add_member("other")
    feed_id = add_old_feed("https://feeds.example.com/f.xml", "Source")
    article_id = add_old_article(feed_id, guid="g", url="https://x.example.com/1", title="T")
    # The comments table as it was: today's model names columns it did not have yet.
    old_columns = {"depth": 0, "status": "visible", "hidden": False, "created_at": utcnow()}
    names = ["id", "article_id", "author_id", "body", "like_count", *old_columns]
    comments = sa.table("comments", *(sa.column(name) for name in names))

    def add_old_comment(author_id: int, body: str, like_count: int) -> int:
        values = dict(article_id=article_id, author_id=author_id, body=body, **old_columns)
        insert = sa.insert(comments).values(like_count=like_count, **values)
        return db.session.execute(insert.returning(comments.c.id)).scalar_one()

    mine, theirs = add_old_comment(author, "mine", 2), add_old_comment(other, "theirs", 1)
    db.session.add_all(
        [
            CommentLike(user_id=author, comment_id=mine),  # a self-like
            CommentLike(user_id=other, comment_id=mine),
            CommentLike(user_id=author, comment_id=theirs),
        ]
    )
    db.session.commit()

    flask_migrate.upgrade(directory=MIGRATIONS)

    db.session.expire_all()
    likes = db.session.execute(sa.select(CommentLike.user_id, CommentLike.comment_id)).all()
    assert sorted(likes) == sorted([(other, mine), (author, theirs)])
    counts = (db.session.get(Comment, mine).like_count, db.session.get(Comment, theirs).like_count)
    assert counts == (1, 1)


@pytest.fixture
def old_postgres_site(tmp_path):
    """A site on a fresh PostgreSQL database at the revision before accent-free search."""
    server = sa.engine.make_url(config.database_url(os.environ))
    name = f"{server.database}_accents"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    site = create_app(
        base_test_config(server.set(database=name).render_as_string(False), tmp_path)
        | {"REDIS_URL": None}
    )
    try:
        with site.app_context():
            flask_migrate.upgrade(directory=MIGRATIONS, revision="a4d7c2e9f316")
            yield site
            db.session.remove()
            db.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()


@pytest.mark.pg
@pytest.mark.skipif(not is_postgres(), reason="needs PostgreSQL (its search configuration)")
def test_it_rebuilds_the_postgresql_search_index_to_ignore_accents(old_postgres_site):
    from articles.search import create_postgres_search_config, search_articles

    feed_id = add_old_feed("https://feeds.example.com/ear.xml", "Ear source")
    add_old_article(
        feed_id,
        guid="ear-1",
        url="https://ear.example.com/1",
        title="Living with Ménière's disease",
        summary="",
        status="published",
    )
    db.session.commit()
    accent_free = sa.text(
        "SELECT count(*) FROM articles WHERE to_tsvector('english', title) "
        "@@ plainto_tsquery('english', 'meniere')"
    )
    assert db.session.scalar(accent_free) == 0  # what the old index could find
    db.session.commit()  # a read lock would hold the migration's DROP INDEX

    flask_migrate.upgrade(directory=MIGRATIONS)

    assert [h.article.guid for h in search_articles("meniere").hits] == ["ear-1"]
    create_postgres_search_config(None, db.session.connection())  # again: changes nothing
    plan = db.session.execute(
        sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_articles_search'")
    ).scalar_one()
    assert "club_search" in plan
    db.session.commit()
    flask_migrate.downgrade(directory=MIGRATIONS, revision="a4d7c2e9f316")
    assert (
        "'english'"
        in db.session.execute(
            sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_articles_search'")
        ).scalar_one()
    )


def test_it_moves_topics_to_addresses_that_keep_their_marks(old_site):
    from articles.models import Topic, TopicRedirect

    flask_migrate.upgrade(directory=MIGRATIONS, revision="eb83aa215e2a")
    db.session.add_all(
        [
            Topic(slug="ह-न-द", name="हिन्दी"),  # as the rule before made it
            Topic(slug="sleep", name="Sleep"),
            Topic(slug="cafe", name="Cafe\u0301"),  # its new address is "café"…
            Topic(slug="café", name="Café"),  # …which this topic holds already
        ]
    )
    db.session.commit()

    flask_migrate.upgrade(directory=MIGRATIONS)

    db.session.expire_all()
    slugs = dict(db.session.execute(sa.select(Topic.name, Topic.slug)).all())
    assert slugs == {"हिन्दी": "हिन्दी", "Sleep": "sleep", "Cafe\u0301": "cafe", "Café": "café"}
    redirects = db.session.execute(sa.select(TopicRedirect.slug, Topic.name).join(Topic)).all()
    assert redirects == [("ह-न-द", "हिन्दी")]

    flask_migrate.downgrade(directory=MIGRATIONS, revision="eb83aa215e2a")

    db.session.expire_all()
    assert db.session.scalar(sa.select(Topic.slug).where(Topic.name == "हिन्दी")) == "ह-न-द"


def test_it_remembers_which_existing_accounts_have_paid(old_site):
    flask_migrate.upgrade(directory=MIGRATIONS, revision="b7d2e9f4a610")
    ended, never = add_member("ended"), add_member("never")
    db.session.execute(
        sa.update(sa.table("users", sa.column("id"), sa.column("subscription_status")))
        .where(sa.column("id") == ended)
        .values(subscription_status="canceled")
    )
    db.session.commit()

    flask_migrate.upgrade(directory=MIGRATIONS)

    paid = dict(db.session.execute(sa.select(User.id, User.has_paid)).all())
    assert paid == {ended: True, never: False}  # a return is welcomed back, a first time not


def test_it_never_gives_a_new_feed_or_article_a_deleted_ones_id(old_site):
    """The audit log's rows about a deleted feed must not come to name the next one; and
    the rebuilt articles table keeps its search index working, old rows and new."""
    from articles.models import Article, Feed
    from articles.search import search_articles
    from club.models import AuditEntry

    flask_migrate.upgrade(directory=MIGRATIONS, revision="c3e8a1f5d290")
    kept = add_old_feed("https://feeds.example.com/kept.xml", "Kept")
    add_old_article(kept, guid="old-1", url="https://kept.example.com/1", title="Walking helps",
                    summary="", status="published")  # fmt: skip
    # A feed deleted before the upgrade, which only the audit log still names.
    insert_as_the_database_stands(
        AuditEntry.__table__, action="feed.delete", target_type="feed", target_id="41"
    )
    db.session.commit()

    flask_migrate.upgrade(directory=MIGRATIONS)

    newest = add_old_feed("https://feeds.example.com/newest.xml", "Newest")
    assert newest == 42  # past the id the audit log names
    db.session.execute(sa.delete(Feed).where(Feed.id == newest))
    assert add_old_feed("https://feeds.example.com/next.xml", "Next") > newest
    add_old_article(kept, guid="new-1", url="https://kept.example.com/2", title="Walking daily",
                    summary="", status="published")  # fmt: skip
    deleted = db.session.scalar(sa.select(sa.func.max(Article.id)))
    db.session.execute(sa.delete(Article).where(Article.id == deleted))
    add_old_article(kept, guid="new-2", url="https://kept.example.com/3", title="Walking more",
                    summary="", status="published")  # fmt: skip
    db.session.commit()

    assert db.session.scalar(sa.select(sa.func.max(Article.id))) > deleted
    found = sorted(hit.article.guid for hit in search_articles("walking").hits)
    assert found == ["new-2", "old-1"]  # indexed before the rebuild, and by its triggers after


def test_it_writes_a_feeds_fully_qualified_host_without_its_final_dot(old_site):
    """Else the same file imported again would add the feed a second time."""
    from articles.curation import feed_at
    from articles.models import Feed

    flask_migrate.upgrade(directory=MIGRATIONS, revision="a9d4c6e2f173")
    dotted = add_old_feed("https://example.com./rss", "Dotted")
    twice = add_old_feed("https://twice.example.com.:8080/rss", "Both spellings")
    plain = add_old_feed("https://twice.example.com:8080/rss", "Plain")
    db.session.commit()

    flask_migrate.upgrade(directory=MIGRATIONS)

    urls = dict(db.session.execute(sa.select(Feed.id, Feed.url)).all())
    assert urls[dotted] == "https://example.com/rss"
    assert feed_at("https://example.com./rss").id == dotted
    # The plain spelling was a feed of its own: neither is renamed onto the other.
    assert (urls[twice], urls[plain]) == (
        "https://twice.example.com.:8080/rss",
        "https://twice.example.com:8080/rss",
    )
