"""Filing an application: the household, its members and their declaration, proofs
and commitments, authorisations, near-relative filings, and the hand-in (submit).

One keyword-only function each, one transaction each, each writing its
ApplicationEvent (the timeline) and its audit row.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from aid_portal import access, permissions
from aid_portal.audit import audit_record
from aid_portal.crypto import blind_index
from aid_portal.errors import DomainError
from aid_portal.identity import identity_facts
from aid_portal.models import Region, User
from cases.casework import documents
from cases.casework.steps import APPLICATION, application_event_write
from cases.models import (
    Application,
    Asset,
    AssistanceType,
    Authorisation,
    DailyAbility,
    Document,
    Household,
    Income,
    Member,
    NearRelativeFiling,
    Person,
    ProofItem,
    ProofStatus,
    RigidExpenditure,
)
from cases.policy import draft_days
from cases.restrictions import credit_block_in_force
from cases.selectors import application_list_for_user
from cases.transitions import _money, _release_members, _require, _transition

S = Application.State


EDITABLE = frozenset({S.DRAFT, S.RETURNED})


# --- the household and its declaration -------------------------------------------------


def household_create(
    *,
    actor: User,
    village: Region,
    address: str,
    phone: str = "",
    registration_region: Region | None = None,
) -> Household:
    access.require_role(actor, permissions.FILE_APPLICATIONS, village)
    if village.level != Region.Level.VILLAGE:
        raise DomainError(_("A household is filed in a village."), field="village")
    if not address.strip():
        raise DomainError(_("Give the address where the family lives."), field="address")
    with transaction.atomic():
        household = Household.objects.create(
            village=village,
            address=address.strip(),
            phone=phone.strip(),
            registration_region=registration_region,
        )
        audit_record(actor=actor, action="household.create", obj=household, region=village)
    return household


def _editable_application(household: Household) -> Application | None:
    """The household's application still being filled in, if any."""
    return household.applications.filter(state__in=EDITABLE).first()


def _require_editable(actor: User, household: Household) -> None:
    access.require_role(actor, permissions.FILE_APPLICATIONS, household.village)
    has_open = (
        household.applications.exclude(state__in=EDITABLE)
        .filter(state__in=Application.OPEN_STATES)
        .exists()
    )
    if has_open:
        raise DomainError(_("The declaration cannot change once the application is accepted."))
    enrolled = household.applications.filter(state__in=Application.ENROLLED_STATES)
    if enrolled.exists() and not enrolled.filter(periodic_reviews__state="redeclaration").exists():
        raise DomainError(
            _("The declaration of an enrolled case changes only in a review's re-declaration.")
        )


# domain.md §8: a person under 16 or aged 60 or over cannot work (national default).
WORKING_AGE_FROM = 16
WORKING_AGE_UNTIL = 60


def age_on(birth_date: datetime.date, on: datetime.date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def work_ability_default(
    *, birth_date: datetime.date, is_student: bool, on: datetime.date | None = None
) -> str:
    """The ability to work a member is given when none is chosen: it follows the age
    (under 16 or 60 and over: unable, domain.md §8), and a student still in school is
    not expected to work either. Anything else is for the caseworker to say."""
    age = age_on(birth_date, on or timezone.localdate())
    if age < WORKING_AGE_FROM or age >= WORKING_AGE_UNTIL or is_student:
        return Member.WorkAbility.NONE
    return Member.WorkAbility.FULL


def _check_member_facts(
    *,
    household: Household,
    relation: str,
    name: str,
    disability: str,
    disability_grade,
    work_ability: str,
    self_care_failed=None,
    exclude: Member | None = None,
) -> None:
    """The rules a member's details follow, whether added or changed."""
    known = isinstance(self_care_failed, (list, tuple)) and all(
        code in DailyAbility.values for code in self_care_failed
    )
    if self_care_failed is not None and not known:
        raise DomainError(
            _("Choose the daily abilities the person cannot manage from the six listed."),
            field="self_care_failed",
        )
    if not name.strip():
        raise DomainError(_("Give the person's name."), field="name")
    if relation not in Member.Relation.values:
        raise DomainError(_("Choose the relation to the applicant."), field="relation")
    if work_ability not in Member.WorkAbility.values:
        raise DomainError(_("Choose the ability to work."), field="work_ability")
    if disability and disability_grade is None:
        raise DomainError(_("Give the grade of the disability (1 to 4)."), field="disability_grade")
    applicants = household.members.filter(relation=Member.Relation.SELF)
    if exclude is not None:
        applicants = applicants.exclude(pk=exclude.pk)
    if relation == Member.Relation.SELF and applicants.exists():
        raise DomainError(_("The household already has an applicant."), field="relation")


def member_add(
    *,
    actor: User,
    household: Household,
    identity_number: str,
    name: str,
    relation: str,
    is_supporter: bool = False,
    work_ability: str | None = None,
    disability: str = "",
    disability_grade: int | None = None,
    health: str = Member.Health.HEALTHY,
    health_note: str = "",
    is_student: bool = False,
    self_care_failed: list[str] | None = None,
) -> Member:
    """Add a person to the household. Birth date and sex come from the identity number.

    A person may be an active member of one household only; if they are already in
    another, the error names that household's township, and nothing more unless the
    user may see it.
    """
    _require_editable(actor, household)
    try:
        facts = identity_facts(identity_number)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], field="identity_number") from None
    if not work_ability:
        work_ability = work_ability_default(birth_date=facts.birth_date, is_student=is_student)
    _check_member_facts(
        household=household,
        relation=relation,
        name=name,
        disability=disability,
        disability_grade=disability_grade,
        work_ability=work_ability,
        self_care_failed=self_care_failed,
    )
    self_care_failed = _self_care_normalised(self_care_failed)
    if not is_supporter:
        refuse_blocked_person(facts.number)
    with transaction.atomic():
        person, _created = Person.objects.get_or_create(
            identity_hash=blind_index(facts.number),
            defaults={
                "identity_number": facts.number,
                "name": name.strip(),
                "birth_date": facts.birth_date,
                "sex": facts.sex,
            },
        )
        if not is_supporter:
            _refuse_second_household(actor=actor, person=person, household=household)
        try:
            with transaction.atomic():
                member = Member.objects.create(
                    household=household,
                    person=person,
                    relation=relation,
                    is_supporter=is_supporter,
                    work_ability=work_ability,
                    disability=disability,
                    disability_grade=disability_grade or None,
                    health=health,
                    health_note=health_note,
                    is_student=is_student,
                    self_care_failed=self_care_failed,
                )
        except IntegrityError:
            # Someone added the same person elsewhere at the same moment.
            _refuse_second_household(actor=actor, person=person, household=household)
            raise DomainError(
                _("This person is already in this household."), field="identity_number"
            ) from None
        audit_record(
            actor=actor,
            action="member.add",
            obj=member,
            region=household.village,
            new={
                "person": person.pk,
                "relation": relation,
                "is_supporter": is_supporter,
                "self_care_failed": self_care_failed,
            },
        )
    return member


def refuse_blocked_person(identity_number: str, on: datetime.date | None = None) -> None:
    """A person under a credit block may not apply for new assistance: the error gives the
    reason and the day the block ends."""
    block = credit_block_in_force(
        identity_hashes=[blind_index(identity_number)], on=on or timezone.localdate()
    )
    if block is not None:
        raise DomainError(
            _(
                "This person may not apply for new assistance until %(date)s because of a "
                "credit finding: %(reason)s."
            )
            % {"date": date_format(block.ends_on), "reason": block.reason},
            field="identity_number",
        )


def refuse_blocked_household(household: Household, on: datetime.date | None = None) -> None:
    """No new application while any member (supporters living elsewhere aside) is blocked:
    every way in (intake page, API, a draft sent later) meets this one check."""
    hashes = household.members.filter(is_supporter=False).values_list(
        "person__identity_hash", flat=True
    )
    block = credit_block_in_force(identity_hashes=hashes, on=on or timezone.localdate())
    if block is not None:
        raise DomainError(
            _(
                "%(name)s may not apply for new assistance until %(date)s because of a "
                "credit finding: %(reason)s."
            )
            % {
                "name": block.person.name,
                "date": date_format(block.ends_on),
                "reason": block.reason,
            }
        )


def _refuse_second_household(*, actor: User, person: Person, household: Household) -> None:
    other = (
        Member.objects.filter(person=person, active=True, is_supporter=False)
        .exclude(household=household)
        .select_related("household__village")
        .first()
    )
    if other is None:
        return
    township = other.household.village.township()
    see = None
    if access.jurisdiction_for(actor).contains(other.household.village):
        message = _(
            "This person is already an active member of household #%(id)s in %(village)s."
        ) % {"id": other.household_id, "village": other.household.village.name}
        # Through the gate again: the page links to it only if the user may open it.
        see = (
            application_list_for_user(user=actor)
            .filter(household_id=other.household_id, state__in=Application.OPEN_STATES)
            .order_by("-created_at")
            .first()
        )
    else:
        message = _("This person is already an active member of a household in %(township)s.") % {
            "township": township.name
        }
    raise DomainError(message, field="identity_number", see=see)


# What member_update may change (the identity number stays: remove the member and add
# the right person instead, so the person's other memberships are checked again).
MEMBER_FIELDS = (
    "name",
    "relation",
    "is_supporter",
    "work_ability",
    "disability",
    "disability_grade",
    "health",
    "health_note",
    "is_student",
    "self_care_failed",
)


def _self_care_normalised(failed) -> list[str] | None:
    """The failed abilities once each, in the order of the six (None: not assessed)."""
    if failed is None:
        return None
    return [code for code in DailyAbility.values if code in failed]


def member_update(
    *,
    actor: User,
    member: Member,
    name: str,
    relation: str,
    is_supporter: bool = False,
    work_ability: str | None = None,
    disability: str = "",
    disability_grade: int | None = None,
    health: str = Member.Health.HEALTHY,
    health_note: str = "",
    is_student: bool = False,
    self_care_failed: list[str] | None = None,
) -> Member:
    """Correct a member's details, under the rules of member_add, while the application
    is being filled in. The name is the person's (the same person in every household)."""
    household = member.household
    _require_editable(actor, household)
    if not work_ability:
        work_ability = work_ability_default(
            birth_date=member.person.birth_date, is_student=is_student
        )
    if health not in Member.Health.values:
        raise DomainError(_("Choose the state of health."), field="health")
    _check_member_facts(
        household=household,
        relation=relation,
        name=name,
        disability=disability,
        disability_grade=disability_grade,
        work_ability=work_ability,
        self_care_failed=self_care_failed,
        exclude=member,
    )
    self_care_failed = _self_care_normalised(self_care_failed)
    with transaction.atomic():
        member = Member.objects.select_for_update().select_related("person").get(pk=member.pk)
        if member.is_supporter and not is_supporter:
            # Becoming a member living in the household: the one-household rule applies.
            refuse_blocked_person(member.person.identity_number)
            _refuse_second_household(actor=actor, person=member.person, household=household)
        new = {
            "name": name.strip(),
            "relation": relation,
            "is_supporter": is_supporter,
            "work_ability": work_ability,
            "disability": disability,
            "disability_grade": disability_grade if disability else None,
            "health": health,
            "health_note": health_note,
            "is_student": is_student,
            "self_care_failed": self_care_failed,
        }
        old = {field: getattr(member, field) for field in MEMBER_FIELDS if field != "name"}
        old["name"] = member.person.name
        changed = {field: value for field, value in new.items() if old[field] != value}
        if not changed:
            return member
        if "name" in changed:
            member.person.name = new["name"]
            member.person.save(update_fields=["name"])
        for field, value in changed.items():
            if field != "name":
                setattr(member, field, value)
        fields = [f for f in changed if f != "name"]
        if fields:
            try:
                with transaction.atomic():
                    member.save(update_fields=fields)
            except IntegrityError:
                # Someone added the same person elsewhere at the same moment.
                _refuse_second_household(actor=actor, person=member.person, household=household)
                raise
        audit_record(
            actor=actor,
            action="member.update",
            obj=member,
            region=household.village,
            # Health details are encrypted at rest: the audit says they changed, not what.
            old={f: ("…" if f == "health_note" else old[f]) for f in changed},
            new={f: ("…" if f == "health_note" else new[f]) for f in changed},
        )
    return member


def member_remove(*, actor: User, member: Member) -> None:
    _require_editable(actor, member.household)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="member.remove",
            obj=member,
            region=member.household.village,
            old={"person": member.person_id},
        )
        member.delete()


def income_add(
    *,
    actor: User,
    member: Member,
    source: str,
    monthly_amounts: Iterable | None = None,
    monthly_average=None,
    job_costs=0,
    note: str = "",
) -> Income:
    """Declare one source of income: twelve monthly figures, or a monthly average."""
    _require_editable(actor, member.household)
    if source not in Income.Source.values:
        raise DomainError(_("Choose a source of income."), field="source")
    given_amounts = monthly_amounts is not None
    given_average = monthly_average not in (None, "")
    # Which of the two ways was meant comes first: filling both is its own mistake, not
    # a shortfall of monthly figures.
    if given_amounts and given_average:
        raise DomainError(
            _(
                "Give either the twelve monthly figures or a monthly average, not both: "
                "clear one of them."
            ),
            field="monthly_average",
        )
    if not given_amounts and not given_average:
        raise DomainError(
            _("Give either the twelve monthly figures or a monthly average."),
            field="monthly_average",
        )
    amounts = None
    if given_amounts:
        amounts = [_money(v, "monthly_amounts") for v in monthly_amounts]
        if len(amounts) != 12:
            raise DomainError(
                _("Give twelve monthly figures, oldest first."), field="monthly_amounts"
            )
    average = _money(monthly_average, "monthly_average") if given_average else None
    with transaction.atomic():
        income = Income.objects.create(
            member=member,
            source=source,
            monthly_amounts=amounts,
            monthly_average=average,
            job_costs=_money(job_costs or 0, "job_costs"),
            note=note,
        )
        audit_record(
            actor=actor,
            action="income.add",
            obj=income,
            region=member.household.village,
            new={"source": source, "monthly": income.monthly},
        )
    return income


def asset_add(
    *,
    actor: User,
    household: Household,
    kind: str,
    description: str,
    value,
    member: Member | None = None,
    exempt: bool = False,
) -> Asset:
    _require_editable(actor, household)
    if kind not in Asset.Kind.values:
        raise DomainError(_("Choose a kind of asset."), field="kind")
    if not description.strip():
        raise DomainError(_("Describe the asset."), field="description")
    amount = _money(value, "value", limit=Decimal("1000000000"))
    with transaction.atomic():
        asset = Asset.objects.create(
            household=household,
            member=member,
            kind=kind,
            description=description.strip(),
            value=amount,
            exempt=exempt,
        )
        audit_record(
            actor=actor,
            action="asset.add",
            obj=asset,
            region=household.village,
            new={"kind": kind, "value": amount, "exempt": exempt},
        )
    return asset


def expenditure_add(
    *,
    actor: User,
    household: Household,
    kind: str,
    monthly_amount,
    member: Member | None = None,
    description: str = "",
) -> RigidExpenditure:
    _require_editable(actor, household)
    if kind not in RigidExpenditure.Kind.values:
        raise DomainError(_("Choose a kind of expenditure."), field="kind")
    amount = _money(monthly_amount, "monthly_amount")
    with transaction.atomic():
        expenditure = RigidExpenditure.objects.create(
            household=household,
            member=member,
            kind=kind,
            monthly_amount=amount,
            description=description,
        )
        audit_record(
            actor=actor,
            action="expenditure.add",
            obj=expenditure,
            region=household.village,
            new={"kind": kind, "monthly": amount},
        )
    return expenditure


def declaration_row_remove(*, actor: User, row: Income | Asset | RigidExpenditure) -> None:
    household = row.member.household if isinstance(row, Income) else row.household
    _require_editable(actor, household)
    with transaction.atomic():
        audit_record(
            actor=actor, action=f"{row._meta.model_name}.remove", obj=row, region=household.village
        )
        row.delete()


def authorisation_record(
    *,
    actor: User,
    member: Member,
    signed_on: datetime.date,
    scan: Document | None = None,
    upload=None,
    application: Application | None = None,
) -> Authorisation:
    """Record a signed authorisation; ``upload`` stores its scan in the household file
    in the same transaction (a refused record leaves no orphan document)."""
    access.require_role(actor, permissions.FILE_APPLICATIONS, member.household.village)
    if signed_on > timezone.localdate():
        raise DomainError(_("The signing date lies in the future."), field="signed_on")
    with transaction.atomic():
        if upload is not None:
            scan = documents.document_upload(
                actor=actor,
                household=member.household,
                application=application,
                kind=Document.Kind.AUTHORISATION,
                upload=upload,
            )
        authorisation, _created = Authorisation.objects.update_or_create(
            member=member,
            defaults={"signed_on": signed_on, "scan": scan},
        )
        audit_record(
            actor=actor,
            action="authorisation.record",
            obj=member,
            region=member.household.village,
            new={"signed_on": signed_on},
        )
    return authorisation


# --- the application -------------------------------------------------------------------


def application_create(*, actor: User, household: Household, assistance_type: str) -> Application:
    """Open a draft. The household's members become active (one household per person)."""
    access.require_role(actor, permissions.FILE_APPLICATIONS, household.village)
    if assistance_type not in AssistanceType.values:
        raise DomainError(_("Choose the kind of assistance."), field="assistance_type")
    with transaction.atomic():
        Household.objects.select_for_update().filter(pk=household.pk).get()
        if household.applications.filter(
            assistance_type=assistance_type,
            state__in=Application.OPEN_STATES | Application.ENROLLED_STATES,
        ).exists():
            raise DomainError(
                _(
                    "This household already has an open or approved application for this "
                    "assistance."
                ),
                field="assistance_type",
            )
        for member in household.members.filter(active=False, is_supporter=False):
            _refuse_second_household(actor=actor, person=member.person, household=household)
        refuse_blocked_household(household)
        household.members.filter(active=False).update(active=True)
        application = Application.objects.create(
            household=household,
            village=household.village,
            assistance_type=assistance_type,
            created_by=actor,
        )
        application_event_write(application, actor, "create", "", S.DRAFT)
        audit_record(
            actor=actor,
            action="application.create",
            obj=application,
            region=household.village,
            new={"assistance_type": assistance_type},
        )
    return application


def application_start(
    *,
    actor: User,
    village: Region,
    address: str,
    phone: str,
    identity_number: str,
    name: str,
    assistance_type: str,
    registration_code: str = "",
) -> Application:
    """The first intake step: the household, its applicant and the draft, all or nothing.

    The household registration (户籍) is the village itself unless a division code of
    another place is given.
    """
    with contextlib.suppress(ValidationError):  # member_add says what is wrong with it
        refuse_blocked_person(identity_facts(identity_number).number)
    registration = village
    if registration_code:
        registration = Region.objects.filter(code=registration_code).first()
        if registration is None:
            raise DomainError(
                _("No place with the division code %(code)s is known.")
                % {"code": registration_code},
                field="registration_code",
            )
    with transaction.atomic():
        household = household_create(
            actor=actor,
            village=village,
            address=address,
            phone=phone,
            registration_region=registration,
        )
        member_add(
            actor=actor,
            household=household,
            identity_number=identity_number,
            name=name,
            relation=Member.Relation.SELF,
        )
        return application_create(actor=actor, household=household, assistance_type=assistance_type)


def proof_record(
    *, actor: User, application: Application, item: ProofItem, status: str
) -> ProofStatus:
    """Record that a proof item was provided, or replaced by a commitment."""
    access.require_role(actor, permissions.FILE_APPLICATIONS, application.village)
    if status == ProofStatus.Status.COMMITTED and not item.committable:
        raise DomainError(
            _("%(item)s cannot be replaced by a commitment.") % {"item": item}, field="status"
        )
    with transaction.atomic():
        # The state is read under the lock, not from the caller's possibly stale copy.
        state = (
            Application.objects.select_for_update()
            .values_list("state", flat=True)
            .get(pk=application.pk)
        )
        if state not in EDITABLE | {S.SUBMITTED}:
            raise DomainError(_("Proof items are recorded before acceptance."))
        proof, _created = ProofStatus.objects.update_or_create(
            application=application,
            item=item,
            defaults={"status": status, "recorded_on": timezone.localdate()},
        )
        audit_record(
            actor=actor,
            action="proof.record",
            obj=application,
            region=application.village,
            new={"item": item.code, "status": status},
        )
    return proof


def declaration_commit(
    *, actor: User, application: Application, signed_on: datetime.date, informed_on: datetime.date
) -> None:
    """The family was told its duties (informed) and signed the declaration commitment."""
    access.require_role(actor, permissions.FILE_APPLICATIONS, application.village)
    today = timezone.localdate()
    if signed_on > today or informed_on > today:
        raise DomainError(_("The date lies in the future."), field="signed_on")
    with transaction.atomic():
        changed = Application.objects.filter(pk=application.pk, state__in=EDITABLE).update(
            declaration_committed_on=signed_on,
            informed_on=informed_on,
        )
        if not changed:
            raise DomainError(_("The commitment is signed before the application is submitted."))
        audit_record(
            actor=actor,
            action="declaration.commit",
            obj=application,
            region=application.village,
            new={"signed_on": signed_on, "informed_on": informed_on},
        )
    application.declaration_committed_on, application.informed_on = signed_on, informed_on


def near_relative_file(
    *,
    actor: User,
    application: Application,
    member: Member,
    official_name: str,
    position: str,
    kinship: str,
) -> NearRelativeFiling:
    access.require_role(actor, permissions.FILE_APPLICATIONS, application.village)
    if member.household_id != application.household_id:
        raise DomainError(_("Choose a member of this household."), field="member")
    if position not in NearRelativeFiling.Position.values:
        raise DomainError(_("Choose the official's position."), field="position")
    if not official_name.strip() or not kinship.strip():
        raise DomainError(_("Give the official's name and the kinship."), field="official_name")
    with transaction.atomic():
        filing = NearRelativeFiling.objects.create(
            application=application,
            member=member,
            official_name=official_name.strip(),
            position=position,
            kinship=kinship.strip(),
            filed_on=timezone.localdate(),
        )
        APPLICATION.note(
            application,
            actor,
            "near_relative_file",
            data={"position": position},
            audit_action="near_relative.file",
            audit_new={"member": member.pk, "position": position},
        )
    return filing


def missing_for_acceptance(application: Application) -> list[str]:
    """Everything that stops acceptance, all at once (domain.md §8: never piecemeal).

    A catalogue item covered by a commitment never blocks; neither does anything a
    government platform supplies (those are verified, not asked for).
    """
    missing: list[str] = []
    members = list(application.household.members.select_related("person"))
    if not any(m.is_applicant for m in members):
        missing.append(_("The applicant is not among the members."))
    if application.informed_on is None:
        missing.append(_("The applicant has not been told the duty to declare truthfully."))
    if application.declaration_committed_on is None:
        missing.append(_("The declaration commitment is not signed."))
    missing += [
        _("No signed verification authorisation from %(name)s.") % {"name": name}
        for name in unauthorised_names(application)
    ]
    covered = set(application.proofs.values_list("item_id", flat=True))
    for item in ProofItem.objects.filter(active=True):
        if item.applies_to(application.assistance_type) and item.pk not in covered:
            missing.append(_("Proof missing: %(item)s.") % {"item": item.name})
    return missing


def unauthorised_names(application: Application, *, as_read: bool = False) -> list[str]:
    """Members and supporters without a signed verification authorisation.

    ``as_read``: from the members read with the case (the case page shows them; no
    query); a check before acting reads them afresh (the default).
    """
    if as_read:
        members = sorted(application.household.members.all(), key=lambda member: member.pk)
        return [m.person.name for m in members if not hasattr(m, "authorisation")]
    return list(
        application.household.members.filter(authorisation__isnull=True)
        .order_by("id")
        .values_list("person__name", flat=True)
    )


def authorisations_check(*, application: Application) -> None:
    """No verification may be asked for a person without a signed authorisation (QY).

    The one statement of the rule: the case's verification request and verification's
    opening of a request (also for a periodic review) both ask here.
    """
    unsigned = unauthorised_names(application)
    _require(
        not unsigned,
        _("No verification may be asked for a person without a signed authorisation: %(names)s.")
        % {"names": "、".join(unsigned)},
    )


def application_submit(*, actor: User, application_id: int) -> Application:
    return _transition(
        application_id=application_id,
        actor=actor,
        step="submit",
        extra=lambda app: {"submitted_at": timezone.now()},
        check=_submittable,
    )


def _submittable(app: Application) -> None:
    _require(
        app.household.members.filter(relation=Member.Relation.SELF).exists(),
        _("Add the applicant first."),
    )
    # A draft filed before a block took effect is still a new application when sent.
    refuse_blocked_household(app.household)


# --- drafts left unfinished ---------------------------------------------------------------

DRAFT_REMIND = "draft_remind"


def drafts_follow_up(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """The daily rule for drafts left after the first intake step (the county's days,
    cases.policy.draft_days): a reminder on the draft's timeline and in the township's
    queue once it is ``remind`` days old, saying the day it will be withdrawn; on that day
    it is withdrawn. Each draft is locked and looked at again, so a second run (or two at
    once) changes nothing. Returns (reminded, withdrawn)."""
    today = timezone.localdate(now or timezone.now())
    reminded = withdrawn = 0
    days_of: dict[str, tuple[int, int]] = {}
    drafts = Application.objects.filter(state=S.DRAFT).select_related("village")
    for app in drafts.only("pk", "created_at", "village__code").order_by("pk"):
        county_code = app.village.county_code
        if county_code not in days_of:
            days_of[county_code] = draft_days(county_code=county_code, on=today)
        remind, withdraw = days_of[county_code]
        if (today - timezone.localdate(app.created_at)).days < remind:
            continue
        with transaction.atomic():
            app = Application.objects.select_for_update().select_related("village").get(pk=app.pk)
            if app.state != S.DRAFT:
                continue
            reminder = app.events.filter(action=DRAFT_REMIND).order_by("-at").first()
            if reminder is None:
                withdraw_on = max(
                    timezone.localdate(app.created_at) + datetime.timedelta(days=withdraw),
                    today + datetime.timedelta(days=withdraw - remind),
                )
                APPLICATION.note(
                    app,
                    None,
                    DRAFT_REMIND,
                    reason=_(
                        "The draft was opened %(days)s days ago and is not submitted; it "
                        "will be withdrawn on %(date)s unless it is submitted."
                    )
                    % {
                        "days": (today - timezone.localdate(app.created_at)).days,
                        "date": date_format(withdraw_on),
                    },
                    data={"withdraw_on": withdraw_on.isoformat()},
                )
                reminded += 1
            elif today >= datetime.date.fromisoformat(reminder.data["withdraw_on"]):
                APPLICATION.move(
                    app,
                    None,
                    "draft_withdraw",
                    S.WITHDRAWN,
                    reason=_("The draft was left unfinished past the county's %(days)s days.")
                    % {"days": withdraw},
                )
                _release_members(app)
                withdrawn += 1
    return reminded, withdrawn
