"""mail stops: mail queued to a deleted account is not sent when Redis missed the deletion

Revision ID: c7e1b5d9a362
Revises: b4f7e2a9c815
Create Date: 2026-11-29 14:10:00

Deleting an account drops the mail still queued to its address from Redis; when Redis
could not be reached at that moment the mail went out later all the same. The deletion
now leaves a keyed hash of the address here, which the mail job checks before sending.
"""

import sqlalchemy as sa
from alembic import op

revision = "c7e1b5d9a362"
down_revision = "b4f7e2a9c815"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mail_stops",
        sa.Column("email_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("email_digest", name=op.f("pk_mail_stops")),
    )
    op.create_index(op.f("ix_mail_stops_created_at"), "mail_stops", ["created_at"])


def downgrade():
    op.drop_index(op.f("ix_mail_stops_created_at"), table_name="mail_stops")
    op.drop_table("mail_stops")
