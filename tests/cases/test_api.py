"""The cases API: a whole application from household to approval, the bad inputs, the
gate (404 outside, 403 for the wrong role, 409 for the wrong state), the pinned query
count of the list, and the OpenAPI schema of these views."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.urls import include, path, reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from aid_portal.models import AuditEvent, CalendarYear
from cases.casework import services as casework_services
from cases.intake import services as intake_services
from cases.models import Application, Household
from tests.cases.conftest import PNG, identity, scan
from tests.queries import assert_get_query_count
from verification.requests import services as verification_services

pytestmark = pytest.mark.django_db
S = Application.State

# A URL configuration holding only this API, for the schema check of these views alone.
urlpatterns = [path("api/", include("cases.api_urls"))]


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def post(client, url_name, /, *args, expect=200, **data):
    response = client.post(reverse(url_name, args=args), data, format="json")
    assert response.status_code == expect, response.content.decode()
    return response.json()


def act(client, application_id, action, /, *, expect=200, **data):
    return post(client, f"api-cases-{action}", application_id, expect=expect, **data)


def upload(client, household_id, application_id, kind="authorisation") -> dict:
    response = client.post(
        reverse("api-households-document-upload", args=[household_id]),
        {"kind": kind, "file": scan(), "application": application_id},
        format="multipart",
    )
    assert response.status_code == 201, response.content.decode()
    return response.json()


def awaiting_decision(family, caseworker) -> int:
    """Drive a complete family through the services to the decision (simplified path)."""
    app_id = family.application.pk
    intake_services.application_submit(actor=caseworker, application_id=app_id)
    casework_services.application_accept(actor=caseworker, application_id=app_id)
    verification_services.verification_request(actor=caseworker, application_id=app_id)
    casework_services.verification_outcome_record(
        actor=caseworker, application_id=app_id, outcome="consistent", reason="手工录入"
    )
    casework_services.notice_post(
        actor=caseworker,
        application_id=app_id,
        starts_on=timezone.localdate() - datetime.timedelta(days=8),
        place="村务公开栏",
    )
    casework_services.notice_close(actor=caseworker, application_id=app_id)
    return app_id


def test_a_whole_application_through_the_api(people, places, policy, proof_items):
    cw = client_for(people.caseworker_a)
    today = timezone.localdate()

    household = post(
        cw,
        "api-households-create",
        expect=201,
        village=places.village_a.code,
        address="龙王坝村3组12号",
        phone="13800000000",
    )
    hid = household["id"]
    applicant_number = identity("642222", "19700101", 11)
    applicant = post(
        cw,
        "api-households-member-add",
        hid,
        expect=201,
        identity_number=applicant_number,
        name="马福",
        relation="self",
    )
    spouse = post(
        cw,
        "api-households-member-add",
        hid,
        expect=201,
        identity_number=identity("642222", "19720202", 12),
        name="李梅",
        relation="spouse",
        work_ability="none",
    )
    assert applicant["identity_number"] == applicant_number[:6] + "********" + applicant_number[-4:]
    assert applicant["birth_date"] == "1970-01-01" and applicant["sex"] == "M"
    income = post(
        cw,
        "api-households-income-add",
        applicant["id"],
        expect=201,
        source="wages",
        monthly_amounts=["300"] * 12,
    )
    assert income["monthly"] == "300.00"

    application = post(
        cw, "api-cases-application-list", expect=201, household=hid, assistance_type="dibao_rural"
    )
    app_id = application["id"]
    assert application["state"] == S.DRAFT
    for member in (applicant, spouse):
        document = upload(cw, hid, app_id)
        act(
            cw,
            app_id,
            "authorisations",
            member=member["id"],
            signed_on=str(today),
            document=document["id"],
        )
    act(cw, app_id, "commitment", signed_on=str(today), informed_on=str(today))
    act(cw, app_id, "proofs", item="id_card", status="provided")
    act(cw, app_id, "proofs", item="income_proof", status="committed")
    assert act(cw, app_id, "submit")["state"] == S.SUBMITTED
    accepted = act(cw, app_id, "accept")
    assert accepted["state"] == S.ACCEPTED, accepted["missing_items"]
    assert accepted["due_on"] and accepted["investigation_due_on"]
    act(cw, app_id, "verification-request")
    verified = act(cw, app_id, "verification-outcome", outcome="consistent", reason="手工录入")
    assert (verified["state"], verified["path"]) == (S.PUBLIC_NOTICE, "simplified")
    act(
        cw,
        app_id,
        "notice-post",
        starts_on=str(today - datetime.timedelta(days=8)),
        place="村务公开栏",
    )
    assert act(cw, app_id, "notice-close")["state"] == S.AWAITING_DECISION

    # The preview: rural standard 600; 300 a month for 2 people is 150 per head;
    # (600 - 150) x 2 = 900.
    preview = cw.get(reverse("api-cases-amount", args=[app_id])).json()
    assert (preview["monthly_amount"], preview["per_capita_income"]) == ("900.00", "150.00")
    assert preview["eligible"] is True

    approved = act(client_for(people.approver_a), app_id, "approve")
    assert approved["state"] == S.APPROVED
    assert approved["monthly_amount"] == "900.00"
    assert approved["amount_basis"]["per_capita_income"] == "150.00"
    assert approved["decided_by"] == "approver_a"
    assert [e["action"] for e in approved["events"]] == [
        "create",
        "submit",
        "accept",
        "verification_request",
        "verification_consistent",
        "notice_post",
        "notice_close",
        "approve",
    ]
    members = approved["declaration"]["members"]
    assert {m["identity_number"] for m in members} == {
        m["identity_number"] for m in (applicant, spouse)
    }
    assert applicant_number not in str(approved)
    assert all(m["authorised_on"] == str(today) for m in members)

    # The household file: masked numbers, and the scans, read through the gate.
    detail = cw.get(reverse("api-households-detail", args=[hid])).json()
    assert applicant_number not in str(detail)
    assert [a["state"] for a in detail["applications"]] == [S.APPROVED]
    scan_url = detail["documents"][0]["download"]
    response = cw.get(scan_url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert AuditEvent.objects.filter(
        action="document.download", object_id=str(hid), actor=people.caseworker_a
    ).exists()
    assert client_for(people.caseworker_b).get(scan_url).status_code == 404


def test_the_normal_path_with_a_gap_an_objection_and_a_near_relative(make_family, people):
    family = make_family(income="2000")
    app_id, hid = family.application.pk, family.application.household_id
    cw = client_for(people.caseworker_a)
    today = str(timezone.localdate())
    filed = act(
        cw,
        app_id,
        "near-relative",
        member=family.spouse.pk,
        official_name="李强",
        position="village_committee",
        kinship="兄妹",
    )
    assert filed["near_relative_filings"][0]["member_name"] == family.spouse.person.name
    act(cw, app_id, "submit")
    act(cw, app_id, "accept")
    # 45 working days may reach into next year, whose holidays must then be known.
    CalendarYear.objects.get_or_create(
        year=timezone.localdate().year + 1, defaults={"source": "测试"}
    )
    assert act(cw, app_id, "extend", reason="户籍不在本地，调查困难")["extended"] is True
    act(cw, app_id, "verification-request")
    assert "gap_items" in act(
        cw, app_id, "verification-outcome", expect=400, outcome="gap", reason="存款不一致"
    )
    gap = act(
        cw,
        app_id,
        "verification-outcome",
        outcome="gap",
        reason="存款不一致",
        gap_items=[{"item": "存款", "declared": "0", "verified": "85000"}],
    )
    assert gap["state"] == S.FEEDBACK
    assert gap["verification_outcomes"][0]["objection_deadline"]
    objected = act(cw, app_id, "feedback-objection", text="存款为借款，附借条", has_evidence=True)
    assert objected["state"] == S.HOME_VISIT

    signatures = [upload(cw, hid, app_id, kind="home_visit")["id"] for _ in range(2)]
    visit = {
        "visited_on": today,
        "family_member_present": family.applicant.person.name,
        "findings": "家中有新购轿车一辆",
        "investigators_signature": signatures[0],
        "family_signature": signatures[1],
    }
    refused = act(
        cw,
        app_id,
        "home-visit",
        expect=400,
        investigators=["caseworker_a", "caseworker_b"],
        **visit,
    )
    assert "caseworker_b" in str(refused["investigators"])  # not staff of this village
    assert "investigators" in act(
        cw, app_id, "home-visit", expect=400, investigators=["caseworker_a"], **visit
    )
    visited = act(
        cw,
        app_id,
        "home-visit",
        investigators=["caseworker_a", str(people.assistant_a.pk)],
        **visit,
    )
    assert visited["state"] == S.DEMOCRATIC_REVIEW  # the family objected with evidence
    assert sorted(visited["home_visits"][0]["investigators"]) == ["assistant_a", "caseworker_a"]
    act(cw, app_id, "democratic-review", held_on=today, participants=7, opinion="多数认为不符合")
    starts = str(timezone.localdate() - datetime.timedelta(days=8))
    act(cw, app_id, "notice-post", starts_on=starts, place="村务公开栏")
    assert act(cw, app_id, "notice-close")["state"] == S.AWAITING_DECISION

    approver = client_for(people.approver_a)
    act(approver, app_id, "reject", expect=400, reasons="家庭人均收入高于当地低保标准。")
    act(
        client_for(people.caseworker_a),
        app_id,
        "county-check",
        expect=403,
        done_on=today,
        findings="x",
    )
    checked = act(
        client_for(people.auditor), app_id, "county-check", done_on=today, findings="已入户核实"
    )
    assert checked["county_check_done_on"] == today
    rejected = act(approver, app_id, "reject", reasons="家庭人均收入高于当地低保标准。")
    assert (rejected["state"], rejected["decided_by"]) == (S.REJECTED, "approver_a")
    act(cw, app_id, "withdraw", expect=409, reason="家属撤回")


def test_a_gap_without_objection_closes_after_the_window(make_family, people):
    family = make_family()
    app_id = family.application.pk
    cw = client_for(people.caseworker_a)
    for action in ("submit", "accept", "verification-request"):
        act(cw, app_id, action)
    act(cw, app_id, "verification-outcome", outcome="gap", gap_items=[{"item": "车辆"}], reason="x")
    assert "non_field_errors" in act(cw, app_id, "feedback-close", expect=400)
    act(cw, app_id, "feedback-objection", text="无异议材料", has_evidence=False)
    assert act(cw, app_id, "feedback-close")["state"] == S.HOME_VISIT
    withdrawn = act(cw, app_id, "withdraw", reason="家庭决定撤回申请")
    assert withdrawn["state"] == S.WITHDRAWN


def test_the_declaration_rows_are_added_and_removed(make_family, people):
    family = make_family(complete=False)
    cw = client_for(people.caseworker_a)
    hid = family.application.household_id
    asset = post(
        cw,
        "api-households-asset-add",
        hid,
        expect=201,
        kind="vehicle",
        description="三轮车",
        value="3000",
        member=family.applicant.pk,
        exempt=True,
    )
    expenditure = post(
        cw,
        "api-households-expenditure-add",
        hid,
        expect=201,
        kind="medical",
        monthly_amount="120.50",
    )
    income_id = family.applicant.incomes.get().pk
    for name, pk in [
        ("api-households-asset-remove", asset["id"]),
        ("api-households-expenditure-remove", expenditure["id"]),
        ("api-households-income-remove", income_id),
        ("api-households-member-remove", family.spouse.pk),
    ]:
        response = cw.delete(reverse(name, args=[pk]))
        assert response.status_code == 204, (name, response.content)
    household = Household.objects.get(pk=hid)
    assert not household.assets.exists() and not household.expenditures.exists()
    assert list(household.members.values_list("pk", flat=True)) == [family.applicant.pk]


def test_an_invalid_identity_number_is_a_field_error(make_family, people):
    family = make_family(complete=False)
    number = identity("642222", "19800101", 21)
    bad = number[:-1] + ("0" if number[-1] != "0" else "1")
    response = client_for(people.caseworker_a).post(
        reverse("api-households-member-add", args=[family.application.household_id]),
        {"identity_number": bad, "name": "马三", "relation": "child"},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["identity_number"]
    assert family.application.household.members.count() == 2


def test_a_negative_income_is_refused(make_family, people):
    family = make_family(complete=False)
    client = client_for(people.caseworker_a)
    url = reverse("api-households-income-add", args=[family.spouse.pk])
    response = client.post(url, {"source": "wages", "monthly_average": "-50"}, format="json")
    assert response.status_code == 400
    assert "monthly_average" in response.json()
    amounts = ["100"] * 11 + ["-1"]
    response = client.post(url, {"source": "wages", "monthly_amounts": amounts}, format="json")
    assert response.status_code == 400
    assert "monthly_amounts" in response.json()
    response = client.post(url, {"source": "wages"}, format="json")
    assert response.status_code == 400
    assert "monthly_average" in response.json()
    assert not family.spouse.incomes.exists()


@pytest.mark.parametrize("participants", [-1, 0, 2])
def test_too_few_review_participants_get_the_services_message(make_family, people, participants):
    family = make_family()
    cw = people.caseworker_a
    app_id = family.application.pk
    intake_services.application_submit(actor=cw, application_id=app_id)
    casework_services.application_accept(actor=cw, application_id=app_id)
    verification_services.verification_request(actor=cw, application_id=app_id)
    casework_services.verification_outcome_record(
        actor=cw,
        application_id=app_id,
        outcome="gap",
        reason="存款不一致",
        gap_items=[{"item": "存款", "declared": "0", "verified": "85000"}],
    )
    casework_services.feedback_objection_record(
        actor=cw, application_id=app_id, text="存款为借款，附借条", has_evidence=True
    )
    casework_services.home_visit_record(
        actor=cw,
        application_id=app_id,
        visited_on=timezone.localdate(),
        investigators=[cw, people.assistant_a],
        family_member_present="马1",
        findings="家中陈设简陋",
        investigators_signature=scan("a.png"),
        family_signature=scan("b.png"),
    )
    with translation.override("zh-hans"):
        message = translation.gettext("A review has at least three participants.")
    refused = act(
        client_for(cw),
        app_id,
        "democratic-review",
        expect=400,
        held_on=str(timezone.localdate()),
        participants=participants,
        opinion="同意纳入",
    )
    assert refused == {"participants": [message]}
    assert family.refresh().state == S.DEMOCRATIC_REVIEW


def test_a_step_from_the_wrong_state_is_a_conflict(make_family, people):
    family = make_family()
    response = act(client_for(people.caseworker_a), family.application.pk, "accept", expect=409)
    assert "non_field_errors" in response
    assert family.refresh().state == S.DRAFT


def test_a_rejection_needs_written_reasons(make_family, people):
    family = make_family()
    app_id = awaiting_decision(family, people.caseworker_a)
    approver = client_for(people.approver_a)
    assert "reasons" in act(approver, app_id, "reject", expect=400)
    assert "reasons" in act(approver, app_id, "reject", expect=400, reasons="不符合")
    assert family.refresh().state == S.AWAITING_DECISION
    rejected = act(approver, app_id, "reject", reasons="家庭人均收入高于当地低保标准。")
    assert rejected["state"] == S.REJECTED


def test_only_the_approver_approves(make_family, people):
    family = make_family()
    app_id = awaiting_decision(family, people.caseworker_a)
    act(client_for(people.caseworker_a), app_id, "approve", expect=403)
    assert family.refresh().state == S.AWAITING_DECISION


def test_another_townships_application_is_not_found(make_family, people):
    family = make_family()
    app_id = family.application.pk
    outsider = client_for(people.caseworker_b)
    for name in ("api-cases-application-detail", "api-cases-amount"):
        assert outsider.get(reverse(name, args=[app_id])).status_code == 404
    act(outsider, app_id, "submit", expect=404)
    hid = family.application.household_id
    assert outsider.get(reverse("api-households-detail", args=[hid])).status_code == 404
    post(outsider, "api-households-asset-add", hid, expect=404, kind="deposit", value="1")
    assert (
        outsider.delete(
            reverse("api-households-member-remove", args=[family.spouse.pk])
        ).status_code
        == 404
    )
    # Naming it in a body is "no such household", not a confirmation that it exists.
    body = post(
        outsider,
        "api-cases-application-list",
        expect=400,
        household=hid,
        assistance_type="temporary_emergency",
    )
    assert list(body) == ["household"]
    assert family.refresh().state == S.DRAFT


def test_an_auditor_reads_but_does_not_write(make_family, people, places):
    family = make_family(complete=False)
    auditor = client_for(people.auditor)
    assert (
        auditor.get(
            reverse("api-cases-application-detail", args=[family.application.pk])
        ).status_code
        == 200
    )
    post(auditor, "api-households-create", expect=403, village=places.village_a.code, address="x")
    act(auditor, family.application.pk, "withdraw", expect=403, reason="家属撤回")


def test_the_list_filters(make_family, people, places):
    first = make_family(complete=False)
    second = make_family(complete=False, kind="temporary_emergency")
    intake_services.application_submit(
        actor=people.caseworker_a, application_id=second.application.pk
    )
    client = client_for(people.caseworker_a)
    url = reverse("api-cases-application-list")

    def ids(**params):
        response = client.get(url, params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [second.application.pk, first.application.pk]
    assert ids(state="submitted") == [second.application.pk]
    assert ids(assistance_type="dibao_rural") == [first.application.pk]
    assert ids(village=places.township_b.code[:9]) == []
    assert len(ids(village=places.village_a.code)) == 2
    assert ids(due_before="2000-01-01") == []
    assert client.get(url, {"state": "nonsense"}).status_code == 400
    row = client.get(url).json()["results"][0]
    assert row["applicant"] == "马2" and row["member_count"] == 2


# The applications list for a township caseworker:
#   1 the session, 2 the user, 3 the user's role assignments with their regions (the
#   role check and the jurisdiction share them), 4 per-object region grants,
#   5 the count for the pager, 6 the page of rows with village and household,
#   7 the applicants of those households with their people (one prefetch).
APPLICATION_LIST_QUERIES = 7


def test_the_list_costs_the_same_for_1_and_20_applications(make_family, people):
    client = client_for(people.caseworker_a)
    url = reverse("api-cases-application-list")
    client.get(url)  # the first request after login records the session's start

    make_family(complete=False)
    one = assert_get_query_count(client, url, APPLICATION_LIST_QUERIES)
    assert one.json()["count"] == 1
    for _ in range(19):
        make_family(complete=False)
    twenty = assert_get_query_count(client, url, APPLICATION_LIST_QUERIES)
    assert twenty.json()["count"] == 20


def test_the_schema_renders(people):
    assert client_for(people.caseworker_a).get(reverse("api-schema")).status_code == 200


def test_the_schema_of_these_views_has_no_warnings(tmp_path):
    call_command(
        "spectacular",
        urlconf="tests.cases.test_api",
        validate=True,
        fail_on_warn=True,
        file=str(tmp_path / "schema.yaml"),
    )


def test_a_member_is_corrected_by_patch_under_the_services_rules(make_family, people):
    family = make_family(complete=False)
    spouse = family.spouse
    url = reverse("api-households-member-remove", args=[spouse.pk])
    cw = client_for(people.caseworker_a)

    # The service's rules: a field error, and nothing changes.
    response = cw.patch(url, {"disability": "visual"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["disability_grade"]
    response = cw.patch(url, {"relation": "self"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["relation"]
    response = cw.patch(url, {"health": "nonsense"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["health"]
    spouse.refresh_from_db()
    assert (spouse.disability, spouse.relation, spouse.health) == ("", "spouse", "healthy")
    assert not AuditEvent.objects.filter(action="member.update").exists()

    # What is left out stays; blank ability to work follows the age (a spouse of 50-odd).
    response = cw.patch(
        url, {"health": "serious", "work_ability": "", "name": "李新名"}, format="json"
    )
    assert response.status_code == 200, response.content.decode()
    body = response.json()
    assert (body["name"], body["health"], body["work_ability"]) == ("李新名", "serious", "full")
    spouse.refresh_from_db()
    assert (spouse.relation, spouse.health, spouse.work_ability) == ("spouse", "serious", "full")
    audit = AuditEvent.objects.get(action="member.update", object_id=str(spouse.pk))
    assert audit.actor == people.caseworker_a
    assert set(audit.new_values) == {"name", "health", "work_ability"}
    assert (audit.old_values["health"], audit.old_values["work_ability"]) == ("healthy", "none")

    # Outside the jurisdiction: 404; a role that reads only: 403; nothing changes.
    response = client_for(people.caseworker_b).patch(url, {"health": "chronic"}, format="json")
    assert response.status_code == 404
    response = client_for(people.approver_a).patch(url, {"health": "chronic"}, format="json")
    assert response.status_code == 403
    spouse.refresh_from_db()
    assert spouse.health == "serious"
    assert AuditEvent.objects.filter(action="member.update").count() == 1
