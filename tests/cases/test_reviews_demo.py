"""The demo's reviews: due this month in both townships, one finished, proposals to act
on, the county's monthly check; loaded once."""

import pytest
from django.utils import timezone

from aid_portal.demo import load_demo
from aid_portal.demo.reviews import load_review_demo
from cases.models import AdjustmentProposal, Application, MonthlyFileCheck, PeriodicReview

pytestmark = pytest.mark.django_db


def test_the_demo_has_reviews_due_this_month_in_both_townships():
    load_demo()
    today = timezone.localdate()
    for township in ("640422100", "640422101"):
        here = PeriodicReview.objects.filter(application__village__code__startswith=township)
        assert here.exclude(state="decided").filter(due_on__month=today.month).count() >= 2
        assert AdjustmentProposal.objects.filter(
            application__village__code__startswith=township, status="open"
        ).exists()
    assert PeriodicReview.objects.filter(state="decided", decision="continue").count() == 1
    assert PeriodicReview.objects.filter(state="awaiting_decision").exists()
    # Every enrolled case has its next review date.
    assert not Application.objects.filter(
        state__in=Application.ENROLLED_STATES, next_review_on__isnull=True
    ).exists()
    assert MonthlyFileCheck.objects.filter(county__code="640422000000").count() == 1
    before = PeriodicReview.objects.count(), AdjustmentProposal.objects.count()
    assert load_review_demo() == 0
    load_demo()
    assert (PeriodicReview.objects.count(), AdjustmentProposal.objects.count()) == before
