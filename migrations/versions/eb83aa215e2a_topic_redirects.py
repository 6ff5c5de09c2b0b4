"""topics keep their former addresses

Revision ID: eb83aa215e2a
Revises: b7e3f9a1c524
Create Date: 2026-11-27 23:01:51

Admins can rename a topic or merge it into another; its old /topics/<slug> address, in
readers' bookmarks and links elsewhere, redirects to the topic it became.
"""

import sqlalchemy as sa
from alembic import op

revision = "eb83aa215e2a"
down_revision = "b7e3f9a1c524"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "topic_redirects",
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_topic_redirects_topic_id_topics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_topic_redirects")),
    )
    op.create_index(
        op.f("ix_topic_redirects_topic_id"), "topic_redirects", ["topic_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_topic_redirects_topic_id"), table_name="topic_redirects")
    op.drop_table("topic_redirects")
