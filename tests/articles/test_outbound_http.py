"""Only the fetcher talks HTTP, and only the parser calls feedparser."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("club", "articles", "billing", "worker", "bench")
HTTP_MODULES = (
    "httpx",
    "httpcore",
    "requests",
    "urllib.request",
    "urllib3",
    "http.client",
    "aiohttp",
    "pycurl",
)
# Billing talks to Stripe through Stripe's own SDK, which brings its own HTTP client.
# The smoke load is a client of this site on 127.0.0.1, not part of it.
ALLOWED = {"articles/fetch.py", "bench/smoke_load.py"}


def python_files():
    for package in PACKAGES:
        yield from (ROOT / package).rglob("*.py")


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_it_finds_http_clients_only_in_the_fetcher():
    offenders = []
    for path in python_files():
        relative = path.relative_to(ROOT).as_posix()
        modules = imported_modules(path)
        for module in modules:
            if (
                any(module == m or module.startswith(m + ".") for m in HTTP_MODULES)
                and relative not in ALLOWED
            ):
                offenders.append(f"{relative}: {module}")
    assert offenders == []


def test_it_calls_feedparser_only_from_the_parser():
    # bench/ingest.py is exempt: it measures feedparser's own speed for comparison.
    offenders = [
        path.relative_to(ROOT).as_posix()
        for path in python_files()
        if path.relative_to(ROOT).parts[0] != "bench"
        and "feedparser" in {m.split(".")[0] for m in imported_modules(path)}
        and path.relative_to(ROOT).as_posix() != "articles/parse.py"
    ]
    assert offenders == []


def test_it_marks_no_template_output_safe_except_through_the_cleaner():
    templates = ROOT / "templates"
    uses = [
        p.relative_to(ROOT).as_posix()
        for p in templates.rglob("*.html")
        if "|safe" in p.read_text().replace(" ", "")
    ]
    assert uses == []
