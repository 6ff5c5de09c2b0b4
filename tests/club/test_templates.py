"""Member-facing templates read what the policy (``standing``) and billing_summary() say,
never the account's raw status columns; only the admin pages display those facts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2] / "templates"
ADMIN_PAGES = ("admin/", "articles/admin/", "community/admin_")
TEMPLATES = sorted(
    path
    for path in ROOT.rglob("*.html")
    if not path.relative_to(ROOT).as_posix().startswith(ADMIN_PAGES)
)
# The User columns the policy and billing_summary() interpret; a template that reads one
# makes its own decision about access or status, which drifts from the policy's. The
# standing's own attributes of the same name (standing.frozen_until) are the policy's.
RAW_COLUMNS = re.compile(
    r"(?<!standing)\.(subscription_status|subscription_cancel_at_period_end|subscription_period_end"
    r"|subscription_id|past_due_since|frozen_at|frozen_until|complimentary|is_admin"
    r"|email_confirmed_at|stripe_customer_id)\b"
)


def test_it_finds_the_member_facing_templates():
    names = {path.relative_to(ROOT).as_posix() for path in TEMPLATES}
    assert {"billing/local_manage.html", "settings/index.html", "_banner.html"} <= names
    assert not any(name.startswith(ADMIN_PAGES) for name in names)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_it_reads_no_raw_status_column_in_member_facing_templates(template: Path):
    found = [
        f"line {number}: {match.group(0)}"
        for number, line in enumerate(template.read_text().splitlines(), start=1)
        for match in RAW_COLUMNS.finditer(line)
    ]

    assert found == []
