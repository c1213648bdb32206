"""The review pages: the list of reviews due, a review worked step by step, the case
page's section, and the county's monthly check of new dibao files."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import Application, MonthlyFileCheck, PeriodicReview
from cases.reviews import services as review_services
from tests.queries import assert_get_query_count

R = PeriodicReview.State
pytestmark = pytest.mark.django_db


def client_for(user, *, api: bool = False):
    client = APIClient() if api else APIClient(enforce_csrf_checks=False)
    client.force_login(user)
    return client


def due_reviews(enrol, count: int) -> list[PeriodicReview]:
    made = []
    for _ in range(count):
        family = enrol()
        Application.objects.filter(pk=family.application.pk).update(
            next_review_on=timezone.localdate() - datetime.timedelta(days=1)
        )
    review_services.reviews_open_due()
    made = list(PeriodicReview.objects.order_by("pk"))
    return made


# The review list (page or API) for township A's caseworker:
#   1 session, 2 user, 3 role assignments, 4 per-object grants, 5 count for the pager,
#   6 the page of reviews with their cases and villages, 7 their applicants with persons.
REVIEW_LIST_QUERIES = 7


@pytest.mark.parametrize(
    ("name", "api"), [("cases:reviews", False), ("api-cases-review-list", True)]
)
def test_the_review_list_costs_the_same_for_one_review_and_many(name, api, enrol, people):
    client = client_for(people.caseworker_a, api=api)
    url = reverse(name)
    client.get(url)
    due_reviews(enrol, 1)
    # The page also draws its filters: one more query, the user's villages.
    expected = REVIEW_LIST_QUERIES + (0 if api else 1)
    assert_get_query_count(client, url, expected)
    due_reviews(enrol, 3)
    assert PeriodicReview.objects.count() == 4
    assert_get_query_count(client, url, expected)


def test_overdue_reviews_are_marked(enrol, people):
    [review] = due_reviews(enrol, 1)
    page = client_for(people.caseworker_a).get(reverse("cases:reviews")).content.decode()
    assert f'id="review-{review.pk}" class="overdue"' in page
    assert 'class="deadline overdue"' in page and "已超期" in page


def test_a_caseworker_and_an_approver_work_a_review_on_its_page(enrol, people):
    family = enrol()
    [review] = due_reviews(enrol, 0) or [
        review_services.review_open(
            actor=people.caseworker_a, application_id=family.application.pk, reason="到期"
        )
    ]
    cw, approver = client_for(people.caseworker_a), client_for(people.approver_a)

    def act(client, step, **data):
        return client.post(reverse("cases:review-act", args=[review.pk, step]), data)

    assert act(cw, "redeclaration_start").status_code == 302
    # Bad input: shown on the page, nothing saved.
    response = act(cw, "income_add", member=family.spouse.pk, source="wages", monthly_average="-3")
    assert response.status_code == 400
    assert family.spouse.incomes.count() == 0
    response = act(cw, "income_add", member=family.spouse.pk, source="other", monthly_average="200")
    assert response.status_code == 302 and family.spouse.incomes.count() == 1
    response = act(cw, "redeclaration_finish", note="")
    assert response.status_code == 400
    assert (
        act(cw, "redeclaration_finish", note="配偶有零工收入", income_irregular="on").status_code
        == 302
    )
    # The approver may not work the caseworker's steps, nor the caseworker decide.
    assert act(approver, "outcome", outcome="consistent", reason="人工").status_code == 403
    assert act(cw, "outcome", outcome="consistent", reason="人工核对").status_code == 302
    assert act(cw, "decide", decision="continue", reason="x").status_code == 403
    page = approver.get(reverse("cases:review", args=[review.pk])).content.decode()
    assert 'value="700.00"' in page  # the amount the declaration gives now: (600-250)×2
    response = act(approver, "decide", decision="adjust", reason="收入增加", monthly_amount="")
    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.state, review.new_amount) == (R.DECIDED, Decimal("700.00"))
    # A step out of turn is a warning, not an error page.
    response = act(approver, "decide", decision="continue", reason="再次")
    assert response.status_code == 302


def test_a_step_that_does_not_exist_is_not_found(enrol, people):
    family = enrol()
    review = review_services.review_open(
        actor=people.caseworker_a, application_id=family.application.pk, reason="到期"
    )
    url = reverse("cases:review-act", args=[review.pk, "teleport"])
    assert client_for(people.caseworker_a).post(url).status_code == 404
    # Township B's caseworker does not learn that the review exists.
    url = reverse("cases:review-act", args=[review.pk, "redeclaration_start"])
    assert client_for(people.caseworker_b).post(url).status_code == 404
    review.refresh_from_db()
    assert review.state == R.OPENED


def test_the_case_page_shows_the_next_review_and_opens_one(enrol, people):
    family = enrol()
    cw = client_for(people.caseworker_a)
    url = reverse("cases:detail", args=[family.application.pk])
    page = cw.get(url).content.decode()
    assert family.application.next_review_on.isoformat() in page
    assert reverse("cases:review-open", args=[family.application.pk]) in page
    response = cw.post(reverse("cases:review-open", args=[family.application.pk]), {"reason": ""})
    assert response.status_code == 302 and not PeriodicReview.objects.exists()
    response = cw.post(
        reverse("cases:review-open", args=[family.application.pk]), {"reason": "群众举报"}
    )
    review = PeriodicReview.objects.get()
    assert response["Location"] == reverse("cases:review", args=[review.pk])
    died = (timezone.localdate() - datetime.timedelta(days=3)).isoformat()
    response = cw.post(
        reverse("cases:member-death", args=[family.application.pk]),
        {"member": family.spouse.pk, "died_on": died},
    )
    assert response.status_code == 302
    assert family.refresh().next_review_on <= timezone.localdate() + datetime.timedelta(days=92)
    page = cw.get(url).content.decode()
    assert family.spouse.person.name in page and "到期" not in page


# --- the monthly check of new dibao files ----------------------------------------------------


@pytest.fixture
def october_files(enrol, places):
    """Two dibao cases approved in October 2026, one in September; the November check."""
    first, second, earlier = enrol(), enrol(), enrol()
    october = datetime.datetime(2026, 10, 12, 10, tzinfo=timezone.get_current_timezone())
    Application.objects.filter(pk__in=[first.application.pk, second.application.pk]).update(
        decided_at=october
    )
    Application.objects.filter(pk=second.application.pk).update(path="normal")
    Application.objects.filter(pk=earlier.application.pk).update(
        decided_at=october - datetime.timedelta(days=30)
    )
    check, created = review_services.monthly_check_create(
        county=places.county, today=datetime.date(2026, 11, 1)
    )
    assert created
    return check, first, second


def test_the_monthly_check_lists_last_months_new_dibao_files_once(october_files, places):
    check, first, second = october_files
    assert (check.month, check.due_on) == (datetime.date(2026, 10, 1), datetime.date(2026, 11, 15))
    items = {item.application_id: item for item in check.items.all()}
    assert set(items) == {first.application.pk, second.application.pk}
    assert (
        items[first.application.pk].visit_needed,
        items[second.application.pk].visit_needed,
    ) == (
        False,
        True,
    )
    again, created = review_services.monthly_check_create(
        county=places.county, today=datetime.date(2026, 11, 20)
    )
    assert (again.pk, created) == (check.pk, False)
    assert MonthlyFileCheck.objects.count() == 1


def test_the_auditor_checks_each_file_then_finishes(october_files, people):
    from aid_portal.errors import Conflict, DomainError

    check, first, second = october_files
    items = {item.application_id: item for item in check.items.all()}
    with pytest.raises(DomainError, match="2"):
        review_services.monthly_check_done(actor=people.auditor, check_id=check.pk)
    with pytest.raises(DomainError) as refused:
        review_services.monthly_check_item_record(
            actor=people.auditor,
            item_id=items[first.application.pk].pk,
            file_complete=False,
            amount_right=True,
            notice_done=True,
        )
    assert refused.value.field == "note"
    with pytest.raises(DomainError) as refused:
        review_services.monthly_check_item_record(
            actor=people.auditor,
            item_id=items[second.application.pk].pk,
            file_complete=True,
            amount_right=True,
            notice_done=True,
        )
    assert refused.value.field == "visit_record"
    with pytest.raises(DomainError, match="不存在"):
        review_services.monthly_check_item_record(
            actor=people.outsider_auditor,
            item_id=items[first.application.pk].pk,
            file_complete=True,
            amount_right=True,
            notice_done=True,
        )
    auditor = client_for(people.auditor)
    url = reverse("cases:file-check-item", args=[check.pk, items[first.application.pk].pk])
    assert auditor.post(url, {"file_complete": "yes"}).status_code == 400
    response = auditor.post(
        url,
        {"file_complete": "no", "amount_right": "yes", "notice_done": "yes", "note": "缺户口簿"},
    )
    assert response.status_code == 302
    review_services.monthly_check_item_record(
        actor=people.auditor,
        item_id=items[second.application.pk].pk,
        file_complete=True,
        amount_right=True,
        notice_done=True,
        visit_record=True,
    )
    response = auditor.post(reverse("cases:file-check-done", args=[check.pk]), {"note": "已通报"})
    assert response.status_code == 302
    check.refresh_from_db()
    assert check.done_by == people.auditor
    with pytest.raises(Conflict):
        review_services.monthly_check_done(actor=people.auditor, check_id=check.pk)
    page = auditor.get(reverse("cases:file-check", args=[check.pk])).content.decode()
    assert "缺户口簿" in page


# The monthly checks list for the county auditor: 1 session, 2 user, 3 role assignments,
# 4 per-object grants (none for this role), 5 the count for the pager, 6 the page of checks
# with their counts.
FILE_CHECK_LIST_QUERIES = 6


def test_the_monthly_check_list_costs_the_same_for_one_check_and_many(people, places):
    client = client_for(people.auditor)
    url = reverse("cases:file-checks")
    client.get(url)
    MonthlyFileCheck.objects.create(
        county=places.county, month=datetime.date(2026, 1, 1), due_on=datetime.date(2026, 2, 15)
    )
    assert_get_query_count(client, url, FILE_CHECK_LIST_QUERIES)
    for month in range(2, 10):
        MonthlyFileCheck.objects.create(
            county=places.county,
            month=datetime.date(2026, month, 1),
            due_on=datetime.date(2026, month + 1, 15),
        )
    assert_get_query_count(client, url, FILE_CHECK_LIST_QUERIES)
