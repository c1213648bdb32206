"""Fixtures for credit tests: the case fixtures, and a family of village A whose findings
the tests record ("the Ma family")."""

from __future__ import annotations

import datetime

import pytest

from credit.findings import services
from credit.findings.models import Finding
from tests.cases.conftest import (  # noqa: F401 (fixtures)
    Family,
    enrol,
    identity,
    make_family,
    policy,
    proof_items,
    scan,
)

DAY = datetime.date(2026, 3, 2)  # a Monday; tests move the clock from here


@pytest.fixture
def record(people):
    """Record a finding on ``family`` (township A's caseworker by default)."""

    def run(
        family: Family,
        code: str = "xj-false-material-minor",
        *,
        on: datetime.date = DAY,
        actor=None,
        facts: str = "申报收入比核对结果少每月800元",
    ) -> Finding:
        return services.finding_record(
            actor=actor or people.caseworker_a,
            household_id=family.application.household_id,
            person_id=family.applicant.person_id,
            behaviour_code=code,
            facts=facts,
            source_kind="case",
            source_id=family.application.pk,
            application_id=family.application.pk,
            found_on=on,
        )

    return run


@pytest.fixture
def in_force(people, record):
    """Record and decide a finding (county-confirmed when severe); returns it fresh."""

    def run(family: Family, code: str = "xj-false-material-minor", *, on=DAY, **confirm):
        finding = record(family, code, on=on)
        services.finding_decide(actor=people.approver_a, finding_id=finding.pk, today=on)
        finding.refresh_from_db()
        if finding.state == Finding.State.COUNTY_PENDING:
            services.finding_confirm(
                actor=people.auditor, finding_id=finding.pk, today=on, **confirm
            )
        finding.refresh_from_db()
        return finding

    return run
