"""Ingest every document of a feed corpus into a throwaway SQLite site and check the result.

Usage: python bench/corpus_check.py PATH_TO_FEEDS_FOLDER   (CI passes ../shared/corpus/feeds)

Exits non-zero if any document raises, the whole run takes over 30 s, any stored HTML
holds markup outside the sanitiser's allow-list, or fewer than 90 % of documents yield
articles.
"""

from __future__ import annotations

import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

TIME_LIMIT = 30.0
MIN_YIELD = 0.90
SAFE_SCHEMES = ("http://", "https://", "mailto:")
# rel, loading and referrerpolicy are set by us; the allow-list's "*" entry is on every tag.
GENERIC_ATTRIBUTES = frozenset({"rel", "loading", "referrerpolicy"})


class UnsafeMarkup(HTMLParser):
    """Collects anything in stored HTML that the allow-list should have removed."""

    def __init__(self, allowed_tags: frozenset[str], allowed_attributes: dict) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed_tags = allowed_tags
        self.allowed_attributes = allowed_attributes
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.allowed_tags:
            self.problems.append(f"tag <{tag}>")
        permitted = (
            self.allowed_attributes.get(tag, set())
            | self.allowed_attributes.get("*", set())
            | GENERIC_ATTRIBUTES
        )
        for name, value in attrs:
            if name not in permitted or name.startswith("on") or name == "style":
                self.problems.append(f"attribute {name} on <{tag}>")
            if name in ("href", "src") and not (value or "").startswith(SAFE_SCHEMES):
                self.problems.append(f"{name}={value!r}")


def main(folder: Path) -> int:
    from club import create_app
    from club.extensions import db

    files = sorted(p for p in folder.iterdir() if p.is_file())
    if not files:
        print(f"no documents in {folder}")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/corpus.sqlite3",
                "SECRET_KEY": "corpus-check",
                "TESTING": True,
            }
        )
        with app.app_context():
            db.create_all()
            return check(files)


def check(files: list[Path]) -> int:
    import sqlalchemy as sa

    from articles.clean import ALLOWED_ATTRIBUTES, ALLOWED_TAGS
    from articles.cli import ingest_file
    from articles.models import Article
    from club.extensions import db

    failures, yielded = [], 0
    started = time.perf_counter()
    for path in files:
        url = f"https://corpus.example.org/{path.name}"
        try:
            summary = ingest_file(path, url, auto_publish=True)
            db.session.commit()
        except Exception as error:  # the point is to catch anything at all
            failures.append(f"{path.name}: raised {type(error).__name__}: {error}")
            db.session.rollback()
            continue
        if summary.get("error"):
            print(f"  {path.name}: no articles ({summary['error']})")
        elif summary["new"] + summary["unchanged"] + summary["updated"] > 0:
            yielded += 1
        else:
            print(f"  {path.name}: no articles (skipped {summary['skipped']})")
    elapsed = time.perf_counter() - started
    for content in db.session.scalars(sa.select(Article.content)):
        scanner = UnsafeMarkup(ALLOWED_TAGS, ALLOWED_ATTRIBUTES)
        scanner.feed(content)
        failures += [f"unsafe markup stored: {p}" for p in scanner.problems[:3]]
    ratio = yielded / len(files)
    articles = db.session.scalar(sa.select(sa.func.count(Article.id)))
    print(
        f"{len(files)} documents, {yielded} yielded articles ({ratio:.0%}), "
        f"{articles} articles stored, {elapsed:.1f} s"
    )
    if elapsed > TIME_LIMIT:
        failures.append(f"took {elapsed:.1f} s (limit {TIME_LIMIT:.0f} s)")
    if ratio < MIN_YIELD:
        failures.append(f"only {ratio:.0%} of documents yielded articles (need {MIN_YIELD:.0%})")
    for failure in failures:
        print(f"FAIL {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
