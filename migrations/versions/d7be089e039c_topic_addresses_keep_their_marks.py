"""topic addresses keep their marks

Revision ID: d7be089e039c
Revises: eb83aa215e2a
Create Date: 2026-11-28 02:37:20

A topic's address dropped combining marks as separators, so a Hindi topic lost its vowel
signs ("हिन्दी" had the address "ह-न-द") and a name typed with a combining accent had
another address than the same name composed; a long name cut at a space ended in "-". Each topic whose address the rule now
gives differently moves to it; the old address redirects there, as after a rename. A
topic whose new address another topic already holds keeps its own.
"""

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "d7be089e039c"
down_revision = "eb83aa215e2a"
branch_labels = None
depends_on = None

topics = sa.table("topics", sa.column("id", sa.Integer), sa.column("slug"), sa.column("name"))
redirects = sa.table(
    "topic_redirects",
    sa.column("slug"),
    sa.column("topic_id", sa.Integer),
    sa.column("created_at", sa.DateTime),
)


def slugify(text: str) -> str:
    """The rule as this revision wrote it (``articles.text.slug_of`` may change)."""
    composed = unicodedata.normalize("NFC", text[:240].lower())
    kept = "".join(c if unicodedata.category(c)[0] in "LMN" else " " for c in composed)
    return "-".join(kept.split())[:60].strip("-")


def slugify_before(text: str) -> str:
    """The rule before this revision: marks were separators."""
    return re.sub(r"[\W_]+", "-", text.lower()).strip("-")[:60]


def upgrade():
    move_topics_to(slugify)


def downgrade():
    move_topics_to(slugify_before)


def move_topics_to(rule: Callable[[str], str]) -> None:
    """Give each topic the address ``rule`` makes of its name, if no other topic holds it;
    the address it leaves redirects to it."""
    connection = op.get_bind()
    # In id order: where two topics want one address, the older gets it on any database.
    query = sa.select(topics.c.id, topics.c.slug, topics.c.name).order_by(topics.c.id)
    rows = connection.execute(query).all()
    taken = {slug for _, slug, _ in rows}
    now = datetime.now(UTC).replace(tzinfo=None)
    for topic_id, old, name in rows:
        new = rule(name)
        if not new or new == old or new in taken:
            continue
        taken.add(new)
        # A live topic's own address wins over a redirect that held it.
        connection.execute(sa.delete(redirects).where(redirects.c.slug.in_([new, old])))
        connection.execute(
            sa.insert(redirects).values(slug=old, topic_id=topic_id, created_at=now)
        )
        connection.execute(sa.update(topics).where(topics.c.id == topic_id).values(slug=new))
