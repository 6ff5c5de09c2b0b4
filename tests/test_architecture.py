"""The packages' dependency edges, as README.md states them, checked on every import
(imports inside functions included): a new edge has to be argued in the README first."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("club", "articles", "billing", "worker")


def imports_of(path: Path) -> set[str]:
    """Every absolute module name ``path`` imports, top level or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def project_imports(folder: str, *, skip: tuple[str, ...] = ()) -> dict[str, set[str]]:
    """For each module under ``folder`` (or that one file), the other project packages'
    names it imports."""
    found = {}
    start = ROOT / folder
    for path in sorted(start.rglob("*.py")) if start.is_dir() else [start]:
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(skip):
            continue
        own = relative.split("/")[0]
        found[relative] = {
            name for name in imports_of(path) if name.split(".")[0] in set(PACKAGES) - {own}
        }
    return found


def reaching(graph: dict[str, set[str]], packages: tuple[str, ...]) -> dict[str, set[str]]:
    hits = {m: {n for n in names if n.startswith(packages)} for m, names in graph.items()}
    return {module: names for module, names in hits.items() if names}


@pytest.mark.parametrize(("one", "other"), [("articles", "billing"), ("billing", "articles")])
def test_articles_and_billing_never_import_each_other(one, other):
    assert reaching(project_imports(one), (f"{other}.", other)) == {}


def test_clubs_core_imports_neither_articles_nor_billing():
    # create_app (club/__init__.py) wires the packages in; community builds on articles.
    core = project_imports("club", skip=("club/__init__.py", "club/community/"))
    assert reaching(core, ("articles", "billing")) == {}


def test_the_policy_and_the_models_import_no_other_package():
    for module in ("club/membership.py", "club/models.py"):
        assert project_imports(module) == {module: set()}, module


def test_community_builds_only_on_articles_models_and_reading():
    community = project_imports("club/community")
    used = {name for names in community.values() for name in names}
    assert {name for name in used if not name.startswith("articles.models.")} == {
        "articles.reading"
    }
    assert reaching(community, ("billing", "worker")) == {}


def test_the_queue_modules_import_no_domain_code():
    """Other worker modules count too: ``worker.jobs`` is the domain's entry points."""
    allowed = ("club.clock.", "club.config.", "worker.waiting.")
    for module in ("worker/queues.py", "worker/waiting.py"):
        project = {n for n in imports_of(ROOT / module) if n.split(".")[0] in PACKAGES}
        assert project, module  # a module that imports nothing of ours was not read
        assert {name for name in project if not name.startswith(allowed)} == set(), module
