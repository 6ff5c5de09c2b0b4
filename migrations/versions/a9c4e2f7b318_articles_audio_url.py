"""podcast episodes keep their audio file's address

Revision ID: a9c4e2f7b318
Revises: d7be089e039c
Create Date: 2026-11-28 02:55:00

An entry whose enclosure is an audio/* file is stored with kind "audio" and the file's
address, so its page plays the episode in the site's own <audio> player. Episodes stored
before keep kind "article" until a fetch of a feed still listing them refreshes them.
"""

import sqlalchemy as sa
from alembic import op

revision = "a9c4e2f7b318"
down_revision = "d7be089e039c"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases (SQLite has ADD and DROP COLUMN since 3.35): a
# batch "move and copy" would drop the articles table, and with foreign keys on, SQLite
# would cascade that drop into the comments and likes that refer to an article.


def upgrade():
    op.add_column("articles", sa.Column("audio_url", sa.String(length=2048), nullable=True))


def downgrade():
    op.drop_column("articles", "audio_url")
