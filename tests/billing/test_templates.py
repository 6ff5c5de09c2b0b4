"""Billing's templates read what billing_summary() and the policy say, never raw columns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = sorted((Path(__file__).parents[2] / "templates" / "billing").glob("*.html"))
# The User columns the policy and billing_summary() interpret; a template that reads one
# makes its own decision about access or status, which drifts from the policy's.
RAW_COLUMNS = re.compile(
    r"\.(subscription_status|subscription_cancel_at_period_end|subscription_period_end"
    r"|subscription_id|past_due_since|frozen_at|frozen_until|complimentary|is_admin"
    r"|email_confirmed_at|stripe_customer_id)\b"
)


def test_it_finds_the_billing_templates():
    assert {path.name for path in TEMPLATES} >= {"local_manage.html", "_settings_section.html"}


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_it_reads_no_raw_status_column_in_billing_templates(template: Path):
    found = [
        f"line {number}: {match.group(0)}"
        for number, line in enumerate(template.read_text().splitlines(), start=1)
        for match in RAW_COLUMNS.finditer(line)
    ]

    assert found == []
