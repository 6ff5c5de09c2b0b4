"""drop the likes members gave their own comments

Revision ID: a8e3c5d27f16
Revises: f2c8e4a7b951
Create Date: 2026-11-26 19:00:00

Members can no longer like their own comments (a like ranks "Most liked"), and the Like
button is gone from one's own comments, so a self-like stored before could be neither
seen as one nor taken back. This removes them and sets those comments' counts again.
"""

import sqlalchemy as sa
from alembic import op

revision = "a8e3c5d27f16"
down_revision = "f2c8e4a7b951"
branch_labels = None
depends_on = None

comments = sa.table(
    "comments", sa.column("id", sa.Integer), sa.column("author_id", sa.Integer),
    sa.column("like_count", sa.Integer),
)  # fmt: skip
likes = sa.table(
    "comment_likes", sa.column("comment_id", sa.Integer), sa.column("user_id", sa.Integer)
)


def upgrade():
    own = sa.select(comments.c.id).where(
        comments.c.id == likes.c.comment_id, comments.c.author_id == likes.c.user_id
    )
    connection = op.get_bind()
    touched = connection.execute(
        sa.select(likes.c.comment_id).where(own.exists())
    ).scalars().all()
    if not touched:
        return
    connection.execute(sa.delete(likes).where(own.exists()))
    counted = (
        sa.select(sa.func.count())
        .select_from(likes)
        .where(likes.c.comment_id == comments.c.id)
        .scalar_subquery()
    )
    connection.execute(
        sa.update(comments).where(comments.c.id.in_(touched)).values(like_count=counted)
    )


def downgrade():
    pass  # the likes are gone; nothing to put back
