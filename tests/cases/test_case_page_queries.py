"""The case page reads a case in a fixed number of queries, whatever the case holds."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.casework import documents
from cases.casework import services as casework_services
from cases.intake import services as intake_services
from cases.models import HomeVisit, Member, PublicNotice
from tests.cases.conftest import identity, scan
from tests.queries import assert_get_query_count
from verification.requests import services as verification_services

pytestmark = pytest.mark.django_db

# The case page of a case awaiting decision, for its approver (who also sees the amount
# the approval would set and the latest verification gap):
#   1 the session, 2 the user, 3 the user's role assignments with their regions, 4
#   per-object region grants, 5 the case with its village, household, deciders and
#   every list the page shows (members with persons and authorisations, incomes, assets,
#   expenditures, timeline with actors, proofs, near-relative filings, verification
#   outcomes, requests and their department queries, home visits and investigators,
#   notices and objections, democratic reviews, documents, extreme-poverty exceptions,
#   periodic reviews, holds, deaths, adjustment proposals: aid_portal.onequery), 6 the
#   county's policy in force (who decides, the amount), 7 whether a credit finding
#   stands against the household, 8 the household's trust records (the credit panel).
# Measured before issue 16: 33 for the small case, more for the large one.
CASE_PAGE_QUERIES = 8


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def to_decision(people, family, *, objections: int = 0) -> int:
    """The simplified path to awaiting decision, with ``objections`` during the notice."""
    cw, app_id = people.caseworker_a, family.application.pk
    intake_services.application_submit(actor=cw, application_id=app_id)
    casework_services.application_accept(actor=cw, application_id=app_id)
    verification_services.verification_request(actor=cw, application_id=app_id)
    casework_services.verification_outcome_record(
        actor=cw, application_id=app_id, outcome="consistent", reason="核对一致（手工录入）"
    )
    casework_services.notice_post(
        actor=cw,
        application_id=app_id,
        starts_on=timezone.localdate() - datetime.timedelta(days=8),
        place="龙王坝村村务公开栏",
    )
    notice = PublicNotice.objects.get(application_id=app_id)
    for number in range(objections):
        objection = casework_services.notice_objection_record(
            actor=cw,
            notice=notice,
            objector=f"村民{number}",
            content="收入与申报不符",
            raised_on=timezone.localdate() - datetime.timedelta(days=3),
        )
        casework_services.notice_objection_handle(
            actor=cw, objection=objection, handling="已核实，申报无误"
        )
    casework_services.notice_close(actor=cw, application_id=app_id)
    return app_id


def enlarge(people, family) -> None:
    """Three more members with incomes, assets, expenditures and documents, and two home
    visits by two investigators."""
    cw = people.caseworker_a
    household = family.application.household
    for number in range(3):
        member = intake_services.member_add(
            actor=cw,
            household=household,
            identity_number=identity("642222", "20100303", 300 + number),
            name=f"马小{number}",
            relation=Member.Relation.CHILD,
            work_ability="none",
        )
        doc = documents.document_upload(
            actor=cw,
            household=household,
            application=family.application,
            kind="authorisation",
            upload=scan(),
        )
        intake_services.authorisation_record(
            actor=cw, member=member, signed_on=timezone.localdate(), scan=doc
        )
        intake_services.income_add(
            actor=cw, member=member, source="pension", monthly_average=str(10 + number)
        )
        intake_services.asset_add(
            actor=cw, household=household, kind="deposit", description="存款", value="100"
        )
        intake_services.expenditure_add(
            actor=cw, household=household, kind="medical", monthly_amount="50", member=member
        )
    for number in range(2):
        visit = HomeVisit.objects.create(
            application=family.application,
            visited_on=timezone.localdate() - datetime.timedelta(days=number),
            family_member_present="马1",
            findings="家中无大额财产",
            recorded_by=cw,
        )
        visit.investigators.set([people.caseworker_a, people.approver_a])


def test_case_page_costs_the_same_for_a_small_and_a_large_case(make_family, people):
    small = to_decision(people, make_family())
    family = make_family()
    enlarge(people, family)
    large = to_decision(people, family, objections=2)
    client = client_for(people.approver_a)
    client.get(reverse("cases:detail", args=[small]))  # the session's start
    assert_get_query_count(client, reverse("cases:detail", args=[small]), CASE_PAGE_QUERIES)
    response = assert_get_query_count(
        client, reverse("cases:detail", args=[large]), CASE_PAGE_QUERIES
    )
    page = response.content.decode()
    # What was read in the one query is on the page.
    for name in ("马小0", "马小1", "马小2", "村民0", "村民1"):
        assert name in page
    assert 'id="action-approve"' in page
    assert page.count("print-home-visit-") == 2


@pytest.mark.parametrize("who", ["caseworker_a", "auditor"])
def test_case_page_queries_for_other_readers(make_family, people, who):
    family = make_family()
    enlarge(people, family)
    app_id = to_decision(people, family, objections=1)
    client = client_for(getattr(people, who))
    url = reverse("cases:detail", args=[app_id])
    client.get(url)
    assert_get_query_count(client, url, CASE_PAGE_QUERIES)
