"""Fixtures for case tests: a county policy, the proof catalogue, and a family builder."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from stdnum import luhn
from stdnum.cn import ric

from cases.casework import documents
from cases.casework import services as casework_services
from cases.intake import services as intake_services
from cases.models import Application, Member, Policy, ProofItem
from cases.payments import services as payments_services
from cases.payments.models import Bank
from verification.requests import services as verification_services


def identity(area: str, birth: str, sequence: int) -> str:
    """A valid identity number: area code, birth date (YYYYMMDD), sequence (odd = male)."""
    first17 = f"{area}{birth}{sequence:03d}"
    return first17 + ric.calc_check_digit(first17 + "0")


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def scan(name: str = "scan.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


@pytest.fixture
def policy(places) -> Policy:
    return Policy.objects.create(
        county=places.county,
        effective_from=datetime.date(2026, 1, 1),
        dibao_standard_urban=Decimal("800"),
        dibao_standard_rural=Decimal("600"),
    )


@pytest.fixture
def proof_items(db) -> list[ProofItem]:
    return [
        ProofItem.objects.create(code="id_card", name="身份证复印件", committable=False),
        ProofItem.objects.create(code="income_proof", name="收入证明"),
    ]


@dataclass
class Family:
    application: Application
    applicant: Member
    spouse: Member

    def refresh(self) -> Application:
        self.application.refresh_from_db()
        return self.application


@pytest.fixture
def make_family(people, places, policy, proof_items):
    """A rural dibao family of two in village A, filled in and ready to submit."""
    counter = iter(range(1, 999))

    def make(
        *, complete: bool = True, income: str = "300", actor=None, kind: str = "dibao_rural"
    ) -> Family:
        actor = actor or people.caseworker_a
        n = next(counter)
        household = intake_services.household_create(
            actor=actor, village=places.village_a, address=f"龙王坝村{n}号"
        )
        applicant = intake_services.member_add(
            actor=actor,
            household=household,
            identity_number=identity("642222", "19700101", 2 * n + 1),
            name=f"马{n}",
            relation=Member.Relation.SELF,
        )
        spouse = intake_services.member_add(
            actor=actor,
            household=household,
            identity_number=identity("642222", "19720202", 2 * n),
            name=f"李{n}",
            relation=Member.Relation.SPOUSE,
            work_ability="none",
        )
        intake_services.income_add(
            actor=actor, member=applicant, source="wages", monthly_average=income
        )
        application = intake_services.application_create(
            actor=actor, household=household, assistance_type=kind
        )
        if complete:
            today = datetime.date.today()
            for member in (applicant, spouse):
                doc = documents.document_upload(
                    actor=actor,
                    household=household,
                    application=application,
                    kind="authorisation",
                    upload=scan(),
                )
                intake_services.authorisation_record(
                    actor=actor, member=member, signed_on=today, scan=doc
                )
            intake_services.declaration_commit(
                actor=actor, application=application, signed_on=today, informed_on=today
            )
            intake_services.proof_record(
                actor=actor, application=application, item=proof_items[0], status="provided"
            )
            intake_services.proof_record(
                actor=actor, application=application, item=proof_items[1], status="committed"
            )
        return Family(application=application, applicant=applicant, spouse=spouse)

    return make


def to_decision(people, family: Family) -> int:
    """Take a filled-in family along the simplified path to awaiting decision."""
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
    casework_services.notice_close(actor=cw, application_id=app_id)
    return app_id


@pytest.fixture
def enrol(make_family, people):
    """Take a family the whole way to an approved case (simplified path), and into payment
    when ``paying``; returns the Family. For tests of what happens after approval."""

    def run(*, income: str = "300", paying: bool = True, family: Family | None = None) -> Family:
        family = family or make_family(income=income)
        app_id = to_decision(people, family)
        casework_services.application_approve(
            actor=people.approver_a,
            application_id=app_id,
            start_month=timezone.localdate().replace(day=1),
        )
        if paying:
            casework_services.payments_start()
        family.refresh()
        return family

    return run


# --- money (cases.payments) ------------------------------------------------------------


def luhn_number(prefix: str, length: int = 19) -> str:
    """An account number of ``length`` digits starting with ``prefix``, Luhn-valid."""
    body = prefix.ljust(length - 1, "7")
    return body + luhn.calc_check_digit(body)


@pytest.fixture
def finance(people):
    """The county's finance reviewer (the shared ``people.finance``)."""
    return people.finance


@pytest.fixture
def abc(db) -> Bank:
    return Bank.objects.get(code="abc")


@pytest.fixture
def paying(enrol, people, abc):
    """Enrolled families with a valid account at the ABC, paid from this month."""
    counter = iter(range(100, 999))

    def make(**options):
        family = enrol(**options)
        payments_services.account_set(
            actor=people.caseworker_a,
            household_id=family.application.household_id,
            bank_id=abc.pk,
            number=luhn_number(f"6228{next(counter)}"),
            holder_name=family.applicant.person.name,
        )
        return family

    return make
