"""Demo credit findings on the demo households of 吉强镇 (township A), made through
credit.findings.services so that they carry their events, sanctions, audit rows and outbox:

- a light finding in force (the household the "second light finding" walk-through uses);
- two consecutive light findings, the second escalated to moderate and in force: the
  household is blocked from new applications for six months;
- a moderate finding with an objection waiting for review;
- a light finding repaired after its interview;
- a severe finding confirmed by the county, with a repayment order part-paid and its
  record sent to the credit-information platform;
- a finding waiting for the township's decision, and a severe one waiting for the county.

Run after the case demo. Idempotent: a county that already holds findings is left alone.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from aid_portal.models import User
from cases.models import Application
from credit.findings import services
from credit.findings.catalogue import catalogue_load
from credit.findings.models import Behaviour, Finding, OutboxMessage

TOWNSHIP_A = "640422100"
# The facts of the demo's first finding: when a finding has them, the demo is there.
FIRST_FACTS = "申报时少报务工收入每月约600元，经核对发现后本人承认。"


def _households(count: int) -> list[Application]:
    """Enrolled cases of township A, one per household, oldest first."""
    seen: set[int] = set()
    chosen = []
    # Households with no finding yet (the spot-check demo records some), so that each
    # story starts from a clean record.
    enrolled = (
        Application.objects.filter(
            village__code__startswith=TOWNSHIP_A, state__in=Application.ENROLLED_STATES
        )
        .exclude(household__credit_findings__isnull=False)
        .order_by("id")
    )
    for application in enrolled:
        if application.household_id in seen:
            continue
        seen.add(application.household_id)
        chosen.append(application)
        if len(chosen) == count:
            break
    return chosen


def load_credit_demo() -> int:
    """Create the demo findings once; returns how many were recorded."""
    if Finding.objects.filter(facts=FIRST_FACTS).exists():
        return 0
    cases = _households(7)
    if len(cases) < 7:
        return 0
    catalogue_load(Behaviour)  # the data migration's rows, should a flush have taken them
    users = {u.username: u for u in User.objects.filter(username__in=STAFF)}
    today = timezone.localdate()
    with transaction.atomic():
        made = _Maker(users, today).all(cases)
    # Sent now if the platform (the department simulator) answers; else the worker
    # delivers it when the portal runs.
    for message in OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING):
        services.outbox_deliver(message_id=message.pk)
    return made


STAFF = ("caseworker_a", "approver_a", "auditor")


class _Maker:
    def __init__(self, users: dict[str, User], today: datetime.date):
        self.caseworker = users["caseworker_a"]
        self.approver = users["approver_a"]
        self.auditor = users["auditor"]
        self.today = today
        self.count = 0

    def ago(self, days: int) -> datetime.date:
        return self.today - datetime.timedelta(days=days)

    def record(self, app: Application, code: str, facts: str, *, days_ago: int) -> Finding:
        self.count += 1
        applicant = app.household.members.filter(relation="self").first()
        return services.finding_record(
            actor=self.caseworker,
            household_id=app.household_id,
            person_id=applicant.person_id if applicant else None,
            behaviour_code=code,
            facts=facts,
            source_kind="case",
            source_id=app.pk,
            application_id=app.pk,
            found_on=self.ago(days_ago),
        )

    def decide(self, finding: Finding, *, days_ago: int) -> Finding:
        services.finding_decide(
            actor=self.approver,
            finding_id=finding.pk,
            note="经核实，认定属实",
            today=self.ago(days_ago),
        )
        finding.refresh_from_db()
        return finding

    def interview(self, finding: Finding, *, days_ago: int, notes: str) -> None:
        services.interview_hold(
            actor=self.caseworker,
            interview_id=finding.interviews.get().pk,
            notes=notes,
            held_on=self.ago(days_ago),
        )

    def all(self, cases: list[Application]) -> int:
        light, escalated, objected, repaired, severe, proposed, county = cases

        # A light finding in force: its interview is due.
        self.decide(
            self.record(
                light,
                "xj-false-material-minor",
                FIRST_FACTS,
                days_ago=22,
            ),
            days_ago=20,
        )

        # Two consecutive light findings: the second is moderate, the family blocked.
        first = self.decide(
            self.record(
                escalated,
                "xj-false-material-minor",
                "申报时隐瞒三轮摩托车一辆，核对发现后补报。",
                days_ago=95,
            ),
            days_ago=93,
        )
        self.interview(first, days_ago=85, notes="已约谈户主，讲解诚信申报政策，本人表示改正。")
        self.decide(
            self.record(
                escalated,
                "xj-admits-at-once",
                "复核时再次少报子女务工收入每月约1200元，核对发现后承认。",
                days_ago=12,
            ),
            days_ago=10,
        )

        # A moderate finding with an objection to review.
        standing = self.decide(
            self.record(
                objected,
                "xj-hides-assets-repays",
                "申请前将名下存款5万元转至亲属账户，经教育后已主动退回违规资金。",
                days_ago=8,
            ),
            days_ago=6,
        )
        services.objection_lodge(
            actor=self.caseworker,
            finding_id=standing.pk,
            statement="户主称该笔存款系代亲属保管的建房款，已提交亲属出具的说明。",
            lodged_on=self.ago(3),
        )

        # A light finding repaired after the interview.
        mended = self.decide(
            self.record(
                repaired,
                "xj-false-material-minor",
                "申报家庭人口时未申报已分户的长子，经入户核实后更正。",
                days_ago=70,
            ),
            days_ago=68,
        )
        self.interview(mended, days_ago=60, notes="已约谈，本人承认并当场更正申报。")
        repair = services.repair_apply(
            actor=self.caseworker,
            finding_id=mended.pk,
            correction="已如实补报家庭人口，此后两次复核申报一致。",
            applied_on=self.ago(40),
        )
        services.repair_decide(
            actor=self.approver,
            repair_id=repair.pk,
            grant=True,
            note="非主观故意，已纠正，同意修复。",
            today=self.ago(38),
        )

        # A severe finding confirmed by the county, with a repayment order.
        grave = self.record(
            severe,
            "xj-hides-assets-refuses",
            "通过赠与方式将商品房一套转至子女名下后申请低保，经批评教育仍拒不退回违规资金。",
            days_ago=30,
        )
        self.decide(grave, days_ago=28)
        services.finding_confirm(
            actor=self.auditor,
            finding_id=grave.pk,
            note="经县民政局审核，确认为重度失信。",
            repayment_amount="7680",
            repayment_deadline=self.ago(-60),
            today=self.ago(25),
        )
        services.repayment_record(
            actor=self.caseworker,
            order_id=grave.repayment_order.pk,
            amount="2000",
            paid_on=self.ago(5),
        )

        # Waiting: the township's decision, and the county's confirmation.
        self.record(
            proposed,
            "xj-false-material-refuses",
            "提供虚假的务工收入证明，经批评教育后仍拒不更正。",
            days_ago=2,
        )
        self.decide(
            self.record(
                county,
                "xj-obstructs-staff",
                "入户核查时辱骂、推搡工作人员，阻挠核查。",
                days_ago=4,
            ),
            days_ago=3,
        )
        return self.count
