"""A month of payments through the REST API: the same services as the pages, field errors
for bad input, accounts masked, the bank file and the return as files."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.cases.conftest import luhn_number
from tests.cases.test_payments import THIS_MONTH, _return

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_month_through_the_api(paying, people, places, finance):
    family = paying()
    township = places.township_a.pk
    bad = api(people.caseworker_a).post("/api/rosters/", {"township": township}, format="json")
    assert bad.status_code == 400 and "month" in bad.json()
    made = api(people.caseworker_a).post(
        "/api/rosters/", {"township": township, "month": f"{THIS_MONTH:%Y-%m}"}, format="json"
    )
    assert made.status_code == 201, made.content
    roster = made.json()
    (line,) = roster["lines"]
    assert line["account"].startswith("****") and len(line["account"]) == 8
    assert line["payee_name"] == family.applicant.person.name
    assert "identity_number" not in line
    rid = roster["id"]
    assert api(people.caseworker_a).post(f"/api/rosters/{rid}/county-approve/").status_code == 403
    assert api(people.auditor).post(f"/api/rosters/{rid}/county-approve/").status_code == 200
    frozen = api(finance).post(f"/api/rosters/{rid}/finance-approve/")
    assert frozen.status_code == 200 and len(frozen.json()["content_hash"]) == 64
    sent = api(people.auditor).get(f"/api/rosters/{rid}/bank-file/?bank=abc&form=jsonl")
    assert sent.status_code == 200
    rows = sent.content.decode().splitlines()
    assert '"control"' in rows[-1] and len(rows) == 2
    assert (
        api(people.caseworker_a).get(f"/api/rosters/{rid}/bank-file/?bank=abc&form=csv").status_code
        == 403
    )

    from cases.payments.models import RosterLine

    lines = list(RosterLine.objects.filter(roster_id=rid))
    upload = SimpleUploadedFile(
        "return.csv", _return(lines, results={lines[0].pk: ("failed", "frozen")})
    )
    applied = api(people.auditor).post(
        f"/api/rosters/{rid}/return-apply/", {"bank": "abc", "file": upload}, format="multipart"
    )
    assert applied.status_code == 200, applied.content
    assert applied.json()["state"] == "paid"
    failed = api(people.caseworker_a).get("/api/payments/failed/").json()
    assert [row["id"] for row in failed["results"]] == [lines[0].pk]
    account = api(people.caseworker_a).post(
        f"/api/households/{family.application.household_id}/payment-account/",
        {
            "bank": "abc",
            "number": luhn_number("622841"),
            "holder_name": family.applicant.person.name,
        },
        format="json",
    )
    assert account.status_code == 400 and "reason" in account.json()
    account = api(people.caseworker_a).post(
        f"/api/households/{family.application.household_id}/payment-account/",
        {
            "bank": "abc",
            "number": luhn_number("622841"),
            "holder_name": family.applicant.person.name,
            "reason": "账户冻结",
        },
        format="json",
    )
    assert account.status_code == 201 and account.json()["account"].startswith("****")
    extra = api(people.caseworker_a).post(
        "/api/rosters/supplementary/",
        {"township": township, "month": f"{THIS_MONTH:%Y-%m}", "reissue_lines": [lines[0].pk]},
        format="json",
    )
    assert extra.status_code == 201, extra.content
    assert extra.json()["lines"][0]["refers_to"] == lines[0].pk


def test_funds_through_the_api(paying, people, places, finance):
    body = {"county": places.county.pk, "programme": "dibao_rural", "month": f"{THIS_MONTH:%Y-%m}"}
    assert (
        api(people.auditor)
        .post("/api/funds/", {**body, "amount": "100"}, format="json")
        .status_code
        == 403
    )
    refused = api(finance).post("/api/funds/", {**body, "amount": "-1"}, format="json")
    assert refused.status_code == 400 and "amount" in refused.json()
    assert (
        api(finance).post("/api/funds/", {**body, "amount": "1000"}, format="json").status_code
        == 201
    )
    ledger = api(people.caseworker_a).get(
        f"/api/funds/?county={places.county.pk}&month={THIS_MONTH:%Y-%m}"
    )
    assert ledger.status_code == 200
    assert ledger.json()[0]["allocated"] == "1000.00"
    other = api(people.outsider_auditor).get(
        f"/api/funds/?county={places.county.pk}&month={THIS_MONTH:%Y-%m}"
    )
    assert other.status_code == 404
