"""Access-matrix rows of credit findings (tests/test_access_matrix.py): the findings list
and detail, the notice, recording, the queues of each role, the outbox, the intake's block
check, and their API.

A light finding in force is made on the world's case_a (township A) and a proposed one on
case_other (the other county), so that every list and object is tried from both sides.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from aid_portal.models import User
from credit.api_urls import STEP_VIEWS
from credit.findings import services
from credit.findings.catalogue import catalogue_load
from credit.findings.models import Behaviour
from tests.test_access_matrix import ANON, API_ANON, PAGE_LOGIN, PEOPLE, Row

READERS_A = {"assistant_a", "caseworker_a", "approver_a", "auditor", "verifier"}
READERS = READERS_A | {"caseworker_b", "outsider_auditor"}
RECORDERS = {"caseworker_a", "approver_a", "caseworker_b"}
FACTS_A = "甲乡少报务工收入每月900元"
FACTS_OTHER = "外县少报务工收入每月700元"


def statuses(allowed, *, otherwise: int, anon: int = PAGE_LOGIN, **others: int) -> dict:
    allowed = set(allowed) | {"superuser"}
    return {p: (200 if p in allowed else otherwise) for p in PEOPLE} | others | {ANON: anon}


def findings(w) -> tuple[int, int]:
    """A light finding in force in township A, a proposed one in the other county."""
    if "credit_findings" not in w.__dict__:
        catalogue_load(Behaviour)  # a transactional test may have emptied the table
        today = timezone.localdate()
        inside = services.finding_record(
            actor=w.people.caseworker_a,
            household_id=w.cases.case_a.household_id,
            person_id=None,
            behaviour_code="xj-false-material-minor",
            facts=FACTS_A,
            source_kind="case",
            application_id=w.cases.case_a.pk,
            found_on=today,
        )
        services.finding_decide(actor=w.people.approver_a, finding_id=inside.pk, today=today)
        outside = services.finding_record(
            actor=User.objects.get(username="caseworker_other"),
            household_id=w.cases.case_other.household_id,
            person_id=None,
            behaviour_code="xj-false-material-minor",
            facts=FACTS_OTHER,
            source_kind="case",
            found_on=today,
        )
        w.__dict__["credit_findings"] = (inside.pk, outside.pk)
    return w.__dict__["credit_findings"]


def inside(w) -> int:
    return findings(w)[0]


def with_data(name: str, *args):
    return lambda w: (findings(w), reverse(name, args=args))[1]


ROWS = [
    Row(
        "credit: findings list",
        with_data("credit:findings"),
        statuses(READERS, otherwise=403),
        url_name="credit:findings",
        must_not_contain={
            "caseworker_b": lambda w: f'id="finding-{inside(w)}"',
            "auditor": lambda w: f'id="finding-{findings(w)[1]}"',
            "outsider_auditor": lambda w: f'id="finding-{inside(w)}"',
        },
    ),
    Row(
        "credit: finding detail",
        lambda w: reverse("credit:finding", args=[inside(w)]),
        statuses(READERS_A, otherwise=403, caseworker_b=404, outsider_auditor=404),
        url_name="credit:finding",
    ),
    Row(
        "credit: finding in the other county",
        lambda w: reverse("credit:finding", args=[findings(w)[1]]),
        statuses(
            {"outsider_auditor"}, otherwise=403, **{p: 404 for p in READERS_A}, caseworker_b=404
        ),
    ),
    Row(
        "credit: notice",
        lambda w: reverse("credit:notice", args=[inside(w)]),
        statuses(READERS_A, otherwise=403, caseworker_b=404, outsider_auditor=404),
        url_name="credit:notice",
    ),
    Row(
        "credit: record a finding",
        lambda w: reverse("credit:finding-new"),
        statuses(RECORDERS, otherwise=403),
        url_name="credit:finding-new",
    ),
    Row(
        "credit: record a finding on case A",
        lambda w: reverse("credit:finding-new") + f"?application={w.cases.case_a.pk}",
        statuses({"caseworker_a", "approver_a"}, otherwise=403, caseworker_b=400),
    ),
    Row(
        "credit: decisions",
        with_data("credit:decisions"),
        statuses({"approver_a", "auditor", "outsider_auditor"}, otherwise=403),
        url_name="credit:decisions",
        must_not_contain={"auditor": lambda w: f'id="finding-{findings(w)[1]}"'},
    ),
    Row(
        "credit: interviews",
        with_data("credit:interviews"),
        statuses(RECORDERS, otherwise=403),
        url_name="credit:interviews",
        must_not_contain={"caseworker_b": lambda w: f"#{inside(w)}<"},
    ),
    Row(
        "credit: objections",
        with_data("credit:objections"),
        statuses(RECORDERS | {"auditor", "outsider_auditor"}, otherwise=403),
        url_name="credit:objections",
    ),
    Row(
        "credit: repairs",
        with_data("credit:repairs"),
        statuses({"approver_a", "auditor", "outsider_auditor"}, otherwise=403),
        url_name="credit:repairs",
    ),
    Row(
        "credit: outbox",
        with_data("credit:outbox"),
        statuses({"auditor", "feedadmin", "outsider_auditor"}, otherwise=403),
        url_name="credit:outbox",
    ),
    Row(
        "credit: block check",
        lambda w: reverse("credit:block-check") + "?identity_number=x",
        statuses({"assistant_a", "caseworker_a", "caseworker_b"}, otherwise=403),
        url_name="credit:block-check",
    ),
    # API
    Row(
        "api: credit findings",
        with_data("api-credit-findings"),
        statuses(READERS, otherwise=403, anon=API_ANON),
        api=True,
        url_name="api-credit-findings",
        must_not_contain={
            "caseworker_b": lambda w: FACTS_A,
            "auditor": lambda w: FACTS_OTHER,
            "outsider_auditor": lambda w: FACTS_A,
        },
    ),
    Row(
        "api: credit finding",
        lambda w: reverse("api-credit-finding", args=[inside(w)]),
        statuses(READERS_A, otherwise=403, anon=API_ANON, caseworker_b=404, outsider_auditor=404),
        api=True,
        url_name="api-credit-finding",
    ),
    Row(
        "api: credit behaviours",
        lambda w: reverse("api-credit-behaviours"),
        statuses(READERS, otherwise=403, anon=API_ANON),
        api=True,
        url_name="api-credit-behaviours",
    ),
    Row(
        "api: credit outbox",
        with_data("api-credit-outbox"),
        statuses({"auditor", "feedadmin", "outsider_auditor"}, otherwise=403, anon=API_ANON),
        api=True,
        url_name="api-credit-outbox",
    ),
    Row(
        "api: credit block check",
        lambda w: reverse("api-credit-block-check") + "?identity_number=x",
        statuses({"assistant_a", "caseworker_a", "caseworker_b"}, otherwise=403, anon=API_ANON),
        api=True,
        url_name="api-credit-block-check",
    ),
]

POST_ONLY = {
    "credit:act",
    "credit:outbox-export",
    "api-credit-outbox-export",
    *(f"api-credit-{slug}" for slug in STEP_VIEWS),
}
