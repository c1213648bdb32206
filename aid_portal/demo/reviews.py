"""The demo's periodic reviews, adjustment proposals and monthly file check.

Every enrolled demo case gets its next-review date from its (backdated) decision; in each
township a few fall due this month and are opened (one more falls due later this month,
on its own), one review in township A is finished, one waits for the approver, and each
township has an adjustment proposal to act on. The county's check of last month's new
dibao files is created. Idempotent: nothing is done once a demo review exists.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from aid_portal.models import Region, User
from cases import transitions
from cases.models import AdjustmentProposal, Application, PeriodicReview
from cases.reviews import services as review_services

COUNTY = "640422000000"
TOWNSHIPS = {
    "640422100": ("caseworker_a", "approver_a"),
    "640422101": ("caseworker_b", "approver_b"),
}


def load_review_demo(*, today: datetime.date | None = None) -> int:
    """Returns the number of reviews opened (0 when the demo already has them)."""
    today = today or timezone.localdate()
    county = Region.objects.filter(code=COUNTY).first()
    if county is None or PeriodicReview.objects.exists():
        return 0
    enrolled = list(
        Application.objects.filter(
            state__in=Application.ENROLLED_STATES,
            village__code__startswith=county.prefix,
            decided_at__isnull=False,
        )
        .select_related("village", "household")
        .order_by("pk")
    )
    with transaction.atomic():
        for app in enrolled:
            decided = timezone.localtime(app.decided_at).date()
            app.next_review_on = review_services.next_review_date(application=app, after=decided)
        Application.objects.bulk_update(enrolled, ["next_review_on"])
        month_start = today.replace(day=1)
        month_end = transitions.add_months(month_start, 1) - datetime.timedelta(days=1)
        due_days = [max(month_start, today - datetime.timedelta(days=d)) for d in (12, 6, 0)]
        for prefix in TOWNSHIPS:
            cases = [a for a in enrolled if a.village.code.startswith(prefix)]
            for app, day in zip(cases[:3], due_days, strict=False):
                Application.objects.filter(pk=app.pk).update(next_review_on=day)
            if len(cases) > 3 and month_end > today:
                Application.objects.filter(pk=cases[3].pk).update(next_review_on=month_end)
    opened = review_services.reviews_open_due(today=today)
    users = {u.username: u for u in User.objects.filter(username__in=sum(TOWNSHIPS.values(), ()))}
    for prefix, (caseworker, approver) in TOWNSHIPS.items():
        township = list(
            PeriodicReview.objects.filter(application__village__code__startswith=prefix).order_by(
                "due_on", "pk"
            )
        )
        if not township or caseworker not in users:
            continue
        cw = users[caseworker]
        first = township[0]
        review_services.review_redeclaration_start(actor=cw, review_id=first.pk)
        review_services.review_redeclaration_finish(
            actor=cw, review_id=first.pk, note="入户核实：家庭人口、收入与上次申报一致。"
        )
        review_services.review_outcome_record(
            actor=cw,
            review_id=first.pk,
            outcome=PeriodicReview.Outcome.CONSISTENT,
            reason="经办人查阅银行流水与务工证明，与申报一致。",
        )
        if prefix == "640422100" and approver in users:
            review_services.review_decide(
                actor=users[approver],
                review_id=first.pk,
                decision=PeriodicReview.Decision.CONTINUE,
                reason="家庭情况稳定，继续保障。",
            )
        if len(township) > 1:
            second = township[1]
            app = second.application
            amount = (app.monthly_amount or Decimal("0")) - Decimal("100")
            if amount > 0:
                review_services.adjustment_propose(
                    actor=cw,
                    application_id=app.pk,
                    action=AdjustmentProposal.Action.DECREASE,
                    reasons="复核中发现子女外出务工，月收入增加约300元。",
                    source=AdjustmentProposal.Source.REVIEW,
                    source_id=second.pk,
                    proposed_amount=amount,
                )
    review_services.monthly_check_create(county=county, today=today)
    return opened
