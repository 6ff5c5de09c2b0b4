"""search: words in scripts with combining marks stay whole (SQLite)

Revision ID: f2c8e4a7b951
Revises: d3f1a6c8e210
Create Date: 2026-11-26 15:45:00

FTS5's unicode61 tokenizer split words at combining marks (Unicode category M), so Hindi,
Bengali and vowelled Arabic words became single letters: any text with those letters
matched, and highlights fell inside words. The search table is rebuilt with marks counted
as part of a word. PostgreSQL's search is unchanged.
"""

from alembic import op

revision = "f2c8e4a7b951"
down_revision = "d3f1a6c8e210"
branch_labels = None
depends_on = None

TOKENIZERS = {
    "upgrade": "porter unicode61 remove_diacritics 2 categories ''L* N* Co M*''",
    "downgrade": "porter unicode61 remove_diacritics 2",
}


def _rebuild_search_table(tokenize: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # An external-content table: dropping it loses no data; the triggers on articles stay.
    op.execute("DROP TABLE IF EXISTS article_search")
    op.execute(
        "CREATE VIRTUAL TABLE article_search USING fts5(title, summary, body_text, "
        f"content='articles', content_rowid='id', tokenize='{tokenize}')"
    )
    op.execute("INSERT INTO article_search(article_search) VALUES ('rebuild')")


def upgrade():
    _rebuild_search_table(TOKENIZERS["upgrade"])


def downgrade():
    _rebuild_search_table(TOKENIZERS["downgrade"])
