"""The comment section costs the same number of queries with 0 or 300 comments."""

from __future__ import annotations

import re
import secrets

import sqlalchemy as sa

from club.clock import utcnow
from club.community.models import Comment, CommentLike
from club.extensions import db
from tests.community.conftest import quick_member
from tests.conftest import login, make_article


def fill_with_comments(article, viewer, count: int = 300) -> None:
    """Add ``count`` comments by 30 authors in three levels, half liked by ``viewer``."""
    authors = [quick_member(f"Author {n}", badge=n % 2 == 0) for n in range(30)]
    parents: list[Comment] = []
    for n in range(count):
        parent = parents[-1] if n % 3 and parents else None
        comment = Comment(
            article_id=article.id,
            author_id=authors[n % 30].id,
            parent_id=parent.id if parent else None,
            depth=min(parent.depth + 1, 2) if parent else 0,
            body=f"comment {n} https://example.org/{n}",
            client_token=secrets.token_urlsafe(16),
        )
        db.session.add(comment)
        db.session.flush()
        if n % 3 == 0:
            parents.append(comment)
        if n % 2:
            db.session.add(CommentLike(user_id=viewer.id, comment_id=comment.id))
    article.comment_count = count
    db.session.commit()


def queries_for_page(client, article, count_queries) -> int:
    db.session.expire_all()
    with count_queries() as counter:
        response = client.get(f"/articles/{article.id}")
    assert response.status_code == 200
    return counter.count


def test_it_renders_the_comment_section_with_a_fixed_number_of_queries(
    client, alice, count_queries
):
    login(client, alice)
    empty, busy = make_article(), make_article()
    fill_with_comments(busy, alice)
    with_none = queries_for_page(client, empty, count_queries)
    with_300 = queries_for_page(client, busy, count_queries)
    # 100 threads of three: 50 threads a page, so every comment shows once over two pages.
    pages = [client.get(f"/articles/{busy.id}?comments={n}").get_data(as_text=True) for n in (1, 2)]
    shown = [re.findall(r'id="comment-(\d+)"', html) for html in pages]
    assert [len(ids) for ids in shown] == [150, 150]
    assert len(set(shown[0]) | set(shown[1])) == 300
    assert "Page 1 of 2" in pages[0] and "More comments" in pages[0]
    assert with_300 == with_none, (with_none, with_300)
    assert with_300 <= 12, with_300  # a handful: user, article, thread, likes, saves, nav


def test_comments_by_members_a_moderator_froze_cost_no_query_each(client, alice, count_queries):
    """Each author's badge asks the membership policy; what a frozen author's appeal says
    is for that author alone, and must not be read for every comment shown."""
    login(client, alice)
    article = make_article()
    fill_with_comments(article, alice, count=60)
    plain = queries_for_page(client, article, count_queries)
    for comment in db.session.scalars(sa.select(Comment)):
        comment.author.frozen_at, comment.author.frozen_reason = utcnow(), "Spam."
    db.session.commit()
    assert queries_for_page(client, article, count_queries) == plain
