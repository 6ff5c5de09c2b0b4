"""index the audit log by what each action was on

Revision ID: b9e1f3a7c520
Revises: a8e3c5d27f16
Create Date: 2026-11-26 21:00:00

A member's admin page lists the latest actions on their account and on their comments;
without an index each visit read the whole audit log.
"""

from alembic import op

revision = "b9e1f3a7c520"
down_revision = "a8e3c5d27f16"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_audit_entries_target", "audit_entries", ["target_type", "target_id"])


def downgrade():
    op.drop_index("ix_audit_entries_target", table_name="audit_entries")
