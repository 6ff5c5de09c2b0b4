"""never hand a deleted account's id to a new one (SQLite)

Revision ID: d3f1a6c8e210
Revises: b7d2f4a91c36
Create Date: 2026-11-26 12:50:00

SQLite gives a new row the largest id + 1, so after the newest account was deleted the
next sign-up got its id and with it the deleted account's audit history (the admin page
finds history by id), and a Stripe Checkout started by the deleted account names that id.
AUTOINCREMENT never reuses an id. PostgreSQL's sequences never do either: nothing to do
there. The table is rebuilt (SQLite cannot add AUTOINCREMENT in place); env.py turns
foreign keys off around it so the rebuild cannot cascade into the tables that refer to
accounts.
"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "d3f1a6c8e210"
down_revision = "b7d2f4a91c36"
branch_labels = None
depends_on = None

# Expression indexes are not reflected by SQLite batch mode: dropped with the old table,
# so made again here.
EMAIL_INDEX = "uq_users_email_lower"


def _rebuild_users(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with warnings.catch_warnings():
        # The expression index it warns about is made again below.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table(
            "users", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
    op.execute(f"DROP INDEX IF EXISTS {EMAIL_INDEX}")
    op.create_index(EMAIL_INDEX, "users", [sa.text("lower(email)")], unique=True)


def upgrade():
    _rebuild_users(autoincrement=True)


def downgrade():
    _rebuild_users(autoincrement=False)
