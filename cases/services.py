"""Every state change of a case: one keyword-only function each, one transaction each,
each writing its ApplicationEvent (the timeline) and its audit row.

Transitions lock the application row (select_for_update) and check its state after the
lock, so of two people acting at once exactly one succeeds; the other gets a clear
"already ..." answer (Conflict, HTTP 409).
"""

from __future__ import annotations

import calendar
import contextlib
import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from aid_portal import access, permissions
from aid_portal.audit import audit_record
from aid_portal.crypto import blind_index
from aid_portal.errors import Conflict, DomainError
from aid_portal.identity import identity_facts
from aid_portal.models import Region, Role, User
from aid_portal.workdays import CalendarYearUnknown, add_working_days
from cases import documents
from cases.models import (
    AdjustmentProposal,
    Application,
    Asset,
    AssistanceType,
    Authorisation,
    CreditRestriction,
    DemocraticReview,
    Document,
    HomeVisit,
    Household,
    Income,
    Member,
    NearRelativeFiling,
    NoticeObjection,
    Person,
    Policy,
    ProofItem,
    ProofStatus,
    PublicNotice,
    RigidExpenditure,
    Suspension,
    VerificationOutcome,
)
from cases.policy import decision_roles, policy_in_force
from cases.selectors import credit_block_in_force
from cases.steps import APPLICATION, application_event_write

S = Application.State
EDITABLE = frozenset({S.DRAFT, S.RETURNED})
MAX_MONTHLY_AMOUNT = Decimal("1000000")  # more than this a month is a typing error
CLOSED_OR_DECIDED = frozenset({S.APPROVED, S.REJECTED, S.IN_PAYMENT, S.WITHDRAWN, S.STOPPED})
# Who may put a case on hold or propose an adjustment: the township's staff, and the
# county's auditors (spot-checks, confirmed credit findings).


# --- policy -----------------------------------------------------------------------------


def policy_create(
    *, actor: User, county: Region, effective_from: datetime.date, **values
) -> Policy:
    """A new policy row for ``county`` from ``effective_from`` (earlier rows stay)."""
    access.require_role(actor, {Role.FEED_ADMIN}, county)
    if county.level != Region.Level.COUNTY:
        raise DomainError(_("A policy belongs to a county."), field="county")
    policy = Policy(county=county, effective_from=effective_from, created_by=actor, **values)
    try:
        policy.full_clean()
    except ValidationError as exc:
        raise DomainError(
            "; ".join(
                f"{Policy._meta.get_field(f).verbose_name}: {' '.join(m)}"
                for f, m in exc.message_dict.items()
            ),
            field=next(iter(exc.message_dict)),
        ) from None
    with transaction.atomic():
        policy.save()
        audit_record(
            actor=actor,
            action="policy.create",
            obj=policy,
            region=county,
            new={"effective_from": effective_from, **values},
        )
    return policy


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


def member_add(
    *,
    actor: User,
    household: Household,
    identity_number: str,
    name: str,
    relation: str,
    is_supporter: bool = False,
    work_ability: str = Member.WorkAbility.FULL,
    disability: str = "",
    disability_grade: int | None = None,
    health: str = Member.Health.HEALTHY,
    health_note: str = "",
    is_student: bool = False,
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
    if not name.strip():
        raise DomainError(_("Give the person's name."), field="name")
    if disability and disability_grade is None:
        raise DomainError(_("Give the grade of the disability (1 to 4)."), field="disability_grade")
    if (
        relation == Member.Relation.SELF
        and household.members.filter(relation=Member.Relation.SELF).exists()
    ):
        raise DomainError(_("The household already has an applicant."), field="relation")
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
            new={"person": person.pk, "relation": relation, "is_supporter": is_supporter},
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
    if access.jurisdiction_for(actor).contains(other.household.village):
        message = _(
            "This person is already an active member of household #%(id)s in %(village)s."
        ) % {"id": other.household_id, "village": other.household.village.name}
    else:
        message = _("This person is already an active member of a household in %(township)s.") % {
            "township": township.name
        }
    raise DomainError(message, field="identity_number")


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


def _money(value, field: str, *, limit: Decimal = MAX_MONTHLY_AMOUNT) -> Decimal:
    if value in (None, ""):
        raise DomainError(_("Enter an amount in yuan."), field=field)
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise DomainError(_("Enter an amount in yuan."), field=field) from None
    if not amount.is_finite():
        raise DomainError(_("Enter an amount in yuan."), field=field)
    if amount < 0:
        raise DomainError(_("An amount cannot be negative."), field=field)
    if amount >= limit:
        raise DomainError(_("This amount is implausibly large; check it."), field=field)
    return amount.quantize(Decimal("0.01"))


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
    amounts = None
    if monthly_amounts is not None:
        amounts = [_money(v, "monthly_amounts") for v in monthly_amounts]
        if len(amounts) != 12:
            raise DomainError(
                _("Give twelve monthly figures, oldest first."), field="monthly_amounts"
            )
    average = (
        _money(monthly_average, "monthly_average") if monthly_average not in (None, "") else None
    )
    if (amounts is None) == (average is None):
        raise DomainError(
            _("Give either the twelve monthly figures or a monthly average."),
            field="monthly_average",
        )
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


def unauthorised_names(application: Application) -> list[str]:
    """Members and supporters without a signed verification authorisation."""
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


def application_accept(
    *, actor: User, application_id: int, also_missing: Iterable[str] = ()
) -> Application:
    """Accept the application, or return it with the complete list of what is missing.

    ``also_missing`` adds what the caseworker found beyond the automatic checks.
    """
    with transaction.atomic():
        app = _lock_step(application_id, actor, "accept")
        missing = [*missing_for_acceptance(app), *(m for m in also_missing if m.strip())]
        if missing:
            return APPLICATION.move(
                app,
                actor,
                "return",
                S.RETURNED,
                data={"missing": missing},
                fields={"missing_items": missing},
            )
        today = timezone.localdate()
        fields = {"accepted_on": today, "missing_items": [], **_deadlines(app, today)}
        return APPLICATION.move(app, actor, "accept", S.ACCEPTED, fields=fields)


def _deadlines(app: Application, accepted_on: datetime.date) -> dict:
    policy = policy_in_force(county=app.village.county(), on=accepted_on)
    if app.extended:
        total = policy.total_days_extended
    elif policy.deciding_level == Policy.DecidingLevel.TOWNSHIP:
        total = policy.total_days_township
    else:
        total = policy.total_days_county
    try:
        return {
            "investigation_due_on": add_working_days(accepted_on, policy.investigation_start_days),
            "due_on": add_working_days(accepted_on, total),
        }
    except CalendarYearUnknown as exc:
        raise DomainError(str(exc)) from None


def application_extend(*, actor: User, application_id: int, reason: str) -> Application:
    """Use the extended time limit (45 working days): objections, living away, hard cases."""
    _require(reason.strip(), _("Say why the time limit is extended."), field="reason")
    with transaction.atomic():
        app = _lock_step(application_id, actor, "extend")
        if app.extended:
            raise Conflict(_("The time limit is already extended."))
        app.extended = True
        return APPLICATION.move(
            app,
            actor,
            "extend",
            app.state,
            reason=reason,
            fields={"extended": True, **_deadlines(app, app.accepted_on)},
        )


def application_to_verification(*, actor: User, application_id: int) -> Application:
    """Move the case under verification (domain.md §4), refused while anyone lacks a
    signed authorisation.

    Only the state: the step people take is verification.services.verification_request,
    which calls this and opens the request in the same transaction. Verification sits
    above cases, so cases never calls it.
    """
    return _transition(
        application_id=application_id,
        actor=actor,
        step="verification_request",
        check=lambda app: authorisations_check(application=app),
    )


def verification_outcome_record(
    *,
    actor: User | None,
    application_id: int,
    outcome: str,
    gap_items: list[dict] | None = None,
    source: str = VerificationOutcome.Source.MANUAL,
    reason: str = "",
) -> Application:
    """The narrow interface through which verification's result enters the case.

    Basically consistent → public notice on the simplified path (no home visit, no
    review), unless a near-relative filing forces the normal path. Clear gap → the
    family is told what differs and has the objection window.
    """
    if outcome not in VerificationOutcome.Outcome.values:
        raise DomainError(_("Choose the outcome."), field="outcome")
    if source == VerificationOutcome.Source.MANUAL and not reason.strip():
        raise DomainError(_("Say why the outcome is recorded by hand."), field="reason")
    if outcome == VerificationOutcome.Outcome.GAP and not gap_items:
        raise DomainError(_("List the items that differ."), field="gap_items")
    with transaction.atomic():
        app = _lock_step(
            application_id, actor, "verification_outcome", check_role=actor is not None
        )
        policy = policy_in_force(county=app.village.county(), on=timezone.localdate())
        record = VerificationOutcome.objects.create(
            application=app,
            outcome=outcome,
            gap_items=gap_items or [],
            source=source,
            reason=reason,
            recorded_by=actor,
        )
        if outcome == VerificationOutcome.Outcome.GAP:
            record.objection_deadline = timezone.localdate() + datetime.timedelta(
                days=policy.objection_days
            )
            record.save(update_fields=["objection_deadline"])
            return APPLICATION.move(
                app,
                actor,
                "verification_gap",
                S.FEEDBACK,
                reason=reason,
                fields={"path": Application.Path.NORMAL},
                data={"items": gap_items, "objection_deadline": record.objection_deadline},
            )
        if app.near_relative_filings.exists():
            return APPLICATION.move(
                app,
                actor,
                "verification_consistent",
                S.HOME_VISIT,
                reason=reason,
                fields={"path": Application.Path.NORMAL},
                data={"near_relative": True},
            )
        return APPLICATION.move(
            app,
            actor,
            "verification_consistent",
            S.PUBLIC_NOTICE,
            reason=reason,
            fields={"path": Application.Path.SIMPLIFIED},
        )


def feedback_objection_record(
    *, actor: User, application_id: int, text: str, has_evidence: bool
) -> Application:
    """The family objects to the gap. With evidence, the office investigates at once."""
    _require(text.strip(), _("Write down the family's explanation."), field="text")
    with transaction.atomic():
        app = _lock_step(application_id, actor, "feedback_objection")
        outcome = app.verification_outcomes.first()
        if timezone.localdate() > outcome.objection_deadline:
            raise DomainError(
                _("The objection window closed on %(date)s.") % {"date": outcome.objection_deadline}
            )
        VerificationOutcome.objects.filter(pk=outcome.pk).update(
            family_objected=has_evidence, objection_text=text.strip()
        )
        if has_evidence:
            return APPLICATION.move(
                app, actor, "feedback_objection", S.HOME_VISIT, reason=text, data={"evidence": True}
            )
        APPLICATION.note(app, actor, "feedback_objection", reason=text, data={"evidence": False})
        return app


def feedback_close(*, actor: User | None, application_id: int) -> Application:
    """The objection window is over: the office goes on with the material it has."""
    with transaction.atomic():
        app = _lock_step(application_id, actor, "feedback_close", check_role=actor is not None)
        outcome = app.verification_outcomes.first()
        if timezone.localdate() <= outcome.objection_deadline and not outcome.objection_text:
            raise DomainError(
                _("The objection window is open until %(date)s.")
                % {"date": outcome.objection_deadline}
            )
        return APPLICATION.move(app, actor, "feedback_close", S.HOME_VISIT)


def feedback_windows_due(*, today: datetime.date | None = None) -> list[int]:
    """Applications whose objection window has ended."""
    today = today or timezone.localdate()
    return list(
        Application.objects.filter(
            state=S.FEEDBACK, verification_outcomes__objection_deadline__lt=today
        )
        .values_list("pk", flat=True)
        .distinct()
    )


def home_visit_record(
    *,
    actor: User,
    application_id: int,
    visited_on: datetime.date,
    investigators: list[User],
    family_member_present: str,
    findings: str,
    investigators_signature: Document | UploadedFile | None = None,
    family_signature: Document | UploadedFile | None = None,
) -> Application:
    """At least the county's number of investigators (two by default); both sides sign.
    Democratic review follows only when someone objected; otherwise the case goes to
    public notice."""
    _require(findings.strip(), _("Write down what the visit found."), field="findings")
    _require(
        family_member_present.strip(),
        _("Name the family member who was present."),
        field="family_member_present",
    )
    _require(
        visited_on <= timezone.localdate(),
        _("The visit date lies in the future."),
        field="visited_on",
    )
    _require(
        investigators_signature is not None and family_signature is not None,
        _("Attach the signed record: the investigators' and the family's signatures."),
        field="investigators_signature",
    )
    with transaction.atomic():
        app = _lock_step(application_id, actor, "home_visit")
        policy = policy_in_force(county=app.village.county(), on=visited_on)
        _require(
            len({u.pk for u in investigators}) >= policy.home_visit_investigators,
            _("A home visit needs at least %(count)s investigators.")
            % {"count": policy.home_visit_investigators},
            field="investigators",
        )
        investigators_signature = _stored(
            actor, app, investigators_signature, Document.Kind.HOME_VISIT
        )
        family_signature = _stored(actor, app, family_signature, Document.Kind.HOME_VISIT)
        visit = HomeVisit.objects.create(
            application=app,
            visited_on=visited_on,
            family_member_present=family_member_present,
            findings=findings,
            investigators_signature=investigators_signature,
            family_signature=family_signature,
            recorded_by=actor,
        )
        visit.investigators.set(investigators)
        objected = (
            app.verification_outcomes.filter(family_objected=True).exists()
            or NoticeObjection.objects.filter(notice__application=app).exists()
        )
        target = S.DEMOCRATIC_REVIEW if objected else S.PUBLIC_NOTICE
        return APPLICATION.move(
            app,
            actor,
            "home_visit",
            target,
            fields={"path": Application.Path.NORMAL},
            data={"visit": visit.pk, "investigators": [u.pk for u in investigators]},
        )


def democratic_review_record(
    *,
    actor: User,
    application_id: int,
    held_on: datetime.date,
    participants: int,
    opinion: str,
    minutes: Document | UploadedFile | None = None,
) -> Application:
    _require(opinion.strip(), _("Write down the review's opinion."), field="opinion")
    _require(
        participants and participants >= 3,
        _("A review has at least three participants."),
        field="participants",
    )
    with transaction.atomic():
        app = _lock_step(application_id, actor, "democratic_review")
        minutes = _stored(actor, app, minutes, Document.Kind.REVIEW_MINUTES)
        review = DemocraticReview.objects.create(
            application=app,
            held_on=held_on,
            participants=participants,
            opinion=opinion,
            minutes=minutes,
        )
        return APPLICATION.move(
            app, actor, "democratic_review", S.PUBLIC_NOTICE, data={"review": review.pk}
        )


def notice_post(
    *, actor: User, application_id: int, starts_on: datetime.date, place: str
) -> PublicNotice:
    """Post the public notice; it ends after the policy's number of days (7)."""
    _require(place.strip(), _("Say where the notice is posted."), field="place")
    with transaction.atomic():
        app = _lock_step(application_id, actor, "notice_post")
        if app.notices.filter(closed_at__isnull=True).exists():
            raise Conflict(_("A notice is already posted for this application."))
        policy = policy_in_force(county=app.village.county(), on=starts_on)
        notice = PublicNotice.objects.create(
            application=app,
            starts_on=starts_on,
            place=place.strip(),
            ends_on=starts_on + datetime.timedelta(days=policy.notice_days - 1),
        )
        APPLICATION.move(
            app,
            actor,
            "notice_post",
            S.PUBLIC_NOTICE,
            data={"starts_on": starts_on, "ends_on": notice.ends_on, "place": place},
        )
    return notice


def notice_objection_record(
    *, actor: User, notice: PublicNotice, objector: str, content: str, raised_on: datetime.date
) -> NoticeObjection:
    _require(
        objector.strip() and content.strip(),
        _("Say who objected and what they said."),
        field="content",
    )
    with transaction.atomic():
        app = _lock_step(notice.application_id, actor, "notice_objection")
        objection = NoticeObjection.objects.create(
            notice=notice, objector=objector.strip(), content=content.strip(), raised_on=raised_on
        )
        APPLICATION.note(
            app, actor, "notice_objection", reason=content, data={"objector": objector}
        )
    return objection


def notice_objection_handle(*, actor: User, objection: NoticeObjection, handling: str) -> None:
    _require(handling.strip(), _("Say how the objection was handled."), field="handling")
    with transaction.atomic():
        app = _lock_step(objection.notice.application_id, actor, "notice_objection_handle")
        changed = NoticeObjection.objects.filter(pk=objection.pk, handled_on__isnull=True).update(
            handling=handling.strip(), handled_on=timezone.localdate()
        )
        if not changed:
            raise Conflict(_("This objection was already handled."))
        audit_record(
            actor=actor,
            action="application.notice_objection_handle",
            obj=app,
            region=app.village,
            new={"objection": objection.pk},
            reason=handling,
        )


def notice_close(*, actor: User, application_id: int, reinvestigate: bool = False) -> Application:
    """After the notice period: to the decision, or back to a home visit when an
    objection raised during notice calls for a new investigation."""
    with transaction.atomic():
        app = _lock_step(application_id, actor, "notice_close")
        notice = app.notices.filter(closed_at__isnull=True).first()
        _require(notice is not None, _("Post the public notice first."))
        _require(
            timezone.localdate() > notice.ends_on,
            _("The notice runs until %(date)s.") % {"date": notice.ends_on},
        )
        _require(
            not notice.objections.filter(handled_on__isnull=True).exists(),
            _("Handle every objection raised during the notice first."),
        )
        PublicNotice.objects.filter(pk=notice.pk).update(closed_at=timezone.now())
        if reinvestigate:
            return APPLICATION.move(
                app,
                actor,
                "notice_close",
                S.HOME_VISIT,
                fields={"path": Application.Path.NORMAL},
                data={"reinvestigate": True},
            )
        return APPLICATION.move(app, actor, "notice_close", S.AWAITING_DECISION)


def county_check_record(
    *, actor: User, application_id: int, done_on: datetime.date, findings: str
) -> Application:
    """The county's key check of a near-relative case, required before any decision."""
    _require(findings.strip(), _("Write down what the check found."), field="findings")
    with transaction.atomic():
        app = _lock_step(application_id, actor, "county_check")
        _require(
            app.near_relative_filings.exists(),
            _("Only near-relative filings need the county's key check."),
        )
        return APPLICATION.move(
            app,
            actor,
            "county_check",
            app.state,
            reason=findings,
            fields={"county_check_done_on": done_on},
        )


# --- the decision ----------------------------------------------------------------------


@dataclass(frozen=True)
class AmountBasis:
    """The arithmetic behind a monthly amount, shown on the page as it was computed."""

    assistance_type: str
    members: int
    monthly_income: Decimal
    monthly_rigid_expenditure: Decimal
    per_capita_income: Decimal
    standard: Decimal
    threshold: Decimal
    eligible: bool
    monthly_amount: Decimal
    rule: str
    policy_from: datetime.date

    def as_dict(self) -> dict:
        return {
            k: (str(v) if isinstance(v, (Decimal, datetime.date)) else v)
            for k, v in self.__dict__.items()
        }


def _yuan(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Eligibility:
    """A household's per-capita income against the line it must stay below."""

    per_capita_income: Decimal
    standard: Decimal
    threshold: Decimal
    eligible: bool


def eligibility_compute(
    *,
    policy: Policy,
    assistance_type: str,
    members: int,
    monthly_income: Decimal,
    monthly_rigid_expenditure: Decimal,
) -> Eligibility:
    """Per-capita counted income net of rigid expenditure, in yuan, and the eligibility
    line: the dibao standard, or standard × the edge multiple for a low-income edge
    household (domain.md §8). The amount and the verification report both judge by it.
    """
    per_capita = _yuan(max(monthly_income - monthly_rigid_expenditure, Decimal("0")) / members)
    standard = policy.dibao_standard(assistance_type)
    threshold = standard
    if assistance_type == AssistanceType.LOW_INCOME_EDGE:
        threshold = _yuan(standard * policy.edge_multiple)
    return Eligibility(
        per_capita_income=per_capita,
        standard=standard,
        threshold=threshold,
        eligible=per_capita < threshold,
    )


def amount_compute(*, application: Application, on: datetime.date | None = None) -> AmountBasis:
    """The monthly amount by the policy in force (domain.md §8).

    Dibao: (standard − per-capita counted income net of rigid expenditure) × members.
    Low-income edge: recognition only, eligible below standard × edge multiple.
    Extreme poverty: standard × its multiple × members. Temporary: a one-off of the
    standard × the policy's months × members.
    """
    on = on or timezone.localdate()
    policy = policy_in_force(county=application.village.county(), on=on)
    members = [m for m in application.household.members.all() if not m.is_supporter]
    count = len(members)
    _require(count > 0, _("The household has no members."))
    income = sum((i.monthly for m in members for i in m.incomes.all() if i.counted), Decimal("0"))
    rigid = sum((e.monthly_amount for e in application.household.expenditures.all()), Decimal("0"))
    kind = application.assistance_type
    line = eligibility_compute(
        policy=policy,
        assistance_type=kind,
        members=count,
        monthly_income=income,
        monthly_rigid_expenditure=rigid,
    )
    per_capita, standard = line.per_capita_income, line.standard
    if kind in AssistanceType.dibao():
        amount = _yuan(max(standard - per_capita, Decimal("0")) * count)
        rule = "(standard - per_capita) * members"
    elif kind == AssistanceType.LOW_INCOME_EDGE:
        amount = Decimal("0.00")
        rule = "recognition: per_capita < standard * edge_multiple"
    elif kind == AssistanceType.EXTREME_POVERTY:
        amount = _yuan(standard * policy.extreme_poverty_multiple * count)
        rule = "standard * extreme_poverty_multiple * members"
    else:
        amount = _yuan(standard * policy.temporary_months * count)
        rule = "one-off: standard * temporary_months * members"
    return AmountBasis(
        assistance_type=kind,
        members=count,
        monthly_income=_yuan(income),
        monthly_rigid_expenditure=_yuan(rigid),
        per_capita_income=per_capita,
        standard=standard,
        threshold=line.threshold,
        eligible=line.eligible,
        monthly_amount=amount,
        rule=rule,
        policy_from=policy.effective_from,
    )


def _ready_for_decision(app: Application) -> None:
    if app.near_relative_filings.exists() and app.county_check_done_on is None:
        raise DomainError(
            _("A near-relative filing needs the county's key check before any decision.")
        )


def application_approve(
    *, actor: User, application_id: int, start_month: datetime.date | None = None
) -> Application:
    """Approve with the amount computed now; payment starts the month after (default)."""
    with transaction.atomic():
        app = _lock_step(application_id, actor, "approve", decided_message=True)
        _ready_for_decision(app)
        basis = amount_compute(application=app)
        if not basis.eligible:
            raise DomainError(
                _(
                    "The per-capita income (%(income)s) is not below %(threshold)s: this "
                    "household does not qualify; reject with reasons instead."
                )
                % {"income": basis.per_capita_income, "threshold": basis.threshold}
            )
        today = timezone.localdate()
        first_of_next = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
        start = (start_month or first_of_next).replace(day=1)
        _require(
            start >= today.replace(day=1),
            _("Payment cannot start in a past month."),
            field="start_month",
        )
        from cases.reviews import next_review_date  # reviews builds on these services

        return APPLICATION.move(
            app,
            actor,
            "approve",
            S.APPROVED,
            data=basis.as_dict(),
            fields={
                "decided_at": timezone.now(),
                "decided_by": actor,
                "monthly_amount": basis.monthly_amount,
                "amount_basis": basis.as_dict(),
                "start_month": start,
                "next_review_on": next_review_date(application=app, after=today),
            },
        )


def application_reject(*, actor: User, application_id: int, reasons: str) -> Application:
    """Reject with written reasons (they go on the printed notice)."""
    _require(
        len(reasons.strip()) >= 10,
        _("Write the reasons for the rejection in full."),
        field="reasons",
    )
    with transaction.atomic():
        app = _lock_step(application_id, actor, "reject", decided_message=True)
        _ready_for_decision(app)
        app = APPLICATION.move(
            app,
            actor,
            "reject",
            S.REJECTED,
            reason=reasons,
            fields={
                "decided_at": timezone.now(),
                "decided_by": actor,
                "rejection_reasons": reasons.strip(),
            },
        )
        _release_members(app)
        return app


def application_withdraw(*, actor: User, application_id: int, reason: str) -> Application:
    """The family withdraws, at any stage before the decision."""
    _require(reason.strip(), _("Say why the application is withdrawn."), field="reason")
    with transaction.atomic():
        app = _lock_step(
            application_id, actor, "withdraw", decided_message=True, allow_suspended=True
        )
        app = APPLICATION.move(app, actor, "withdraw", S.WITHDRAWN, reason=reason)
        _release_members(app)
        return app


def payments_start(*, today: datetime.date | None = None) -> int:
    """Approved cases whose first month has come are in payment (run daily; idempotent)."""
    today = today or timezone.localdate()
    started = 0
    due = Application.objects.filter(state=S.APPROVED, start_month__lte=today).exclude(
        Exists(Suspension.objects.filter(application=OuterRef("pk"), ended_at__isnull=True))
    )
    for app_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            app = Application.objects.select_for_update().get(pk=app_id)
            if app.state != S.APPROVED or active_suspension(app) is not None:
                continue  # another run got there first, or a hold came in between
            APPLICATION.move(app, None, "payment_start", S.IN_PAYMENT)
            started += 1
    return started


# --- after approval: holds, adjustments, gradual exit, stop (domain.md §5) -------------


def active_suspension(app: Application) -> Suspension | None:
    return app.suspensions.filter(ended_at__isnull=True).order_by("started_at").first()


def application_suspend(
    *, actor: User | None, application_id: int, source: str, reason: str
) -> Suspension:
    """Put a case on hold for ``source`` (e.g. ``credit_finding:12``): an open application
    stops moving, an enrolled one is not paid. Asking twice for the same source returns the
    hold already in force."""
    _require(source.strip(), _("Say what puts the case on hold."), field="source")
    _require(reason.strip(), _("Say why the case is put on hold."), field="reason")
    with transaction.atomic():
        app = application_lock(
            application_id,
            actor,
            permissions.HOLD_AND_ADJUST_CASES,
            allowed_from=Application.OPEN_STATES | Application.ENROLLED_STATES,
            check_role=actor is not None,
            allow_suspended=True,
        )
        held = app.suspensions.filter(source=source, ended_at__isnull=True).first()
        if held is not None:
            return held
        hold = Suspension.objects.create(
            application=app, source=source, reason=reason.strip(), started_by=actor
        )
        APPLICATION.note(app, actor, "suspend", reason=reason, data={"source": source})
        return hold


def application_resume(
    *, actor: User | None, application_id: int, source: str, reason: str
) -> bool:
    """Lift the hold of ``source``; False when there was none (safe to call twice). Other
    holds on the case stay."""
    _require(reason.strip(), _("Say why the hold is lifted."), field="reason")
    with transaction.atomic():
        app = application_lock(
            application_id,
            actor,
            permissions.HOLD_AND_ADJUST_CASES,
            allowed_from=set(S.values),
            check_role=actor is not None,
            allow_suspended=True,
        )
        lifted = app.suspensions.filter(source=source, ended_at__isnull=True).update(
            ended_at=timezone.now(), ended_by=actor, end_reason=reason.strip()
        )
        if lifted:
            APPLICATION.note(app, actor, "resume", reason=reason, data={"source": source})
        return bool(lifted)


@dataclass(frozen=True)
class RestrictionStart:
    """One credit sanction that restricts casework, as the credit app reports it."""

    sanction_id: int
    kind: str  # CreditRestriction.Kind
    starts_on: datetime.date
    ends_on: datetime.date | None
    reason: str
    person_id: int | None = None
    household_id: int | None = None


def credit_restrictions_start(*, restrictions: Iterable[RestrictionStart]) -> None:
    """Record blocks and watch-list entries that a credit finding switched on.

    Called by the credit app inside the transaction that switches its sanctions on, so
    both stand or fall together; the finding's own timeline and audit rows record the
    step. Reporting a sanction twice keeps the first row (safe to call twice).
    """
    CreditRestriction.objects.bulk_create(
        [
            CreditRestriction(
                sanction_id=r.sanction_id,
                kind=r.kind,
                person_id=r.person_id,
                household_id=r.household_id,
                starts_on=r.starts_on,
                ends_on=r.ends_on,
                reason=r.reason[:200],
            )
            for r in restrictions
        ],
        ignore_conflicts=True,
    )


def credit_restrictions_end(*, sanction_ids: Iterable[int], on: datetime.date) -> int:
    """End early the restrictions of these sanctions (withdrawn or repaired), from ``on``."""
    return CreditRestriction.objects.filter(
        sanction_id__in=list(sanction_ids), ended_on__isnull=True
    ).update(ended_on=on)


def application_amount_adjust(
    *, actor: User, application_id: int, monthly_amount, reason: str
) -> Application:
    """Change the monthly amount of an enrolled case (increase or decrease)."""
    amount = _money(monthly_amount, "monthly_amount")
    _require(reason.strip(), _("Say why the amount changes."), field="reason")
    with transaction.atomic():
        app = application_lock(
            application_id, actor, None, allowed_from=Application.ENROLLED_STATES
        )
        access.require_role(actor, decision_roles(app), app.village)
        _amount_set(app, actor, amount, reason)
        return app


def _amount_set(app: Application, actor: User, amount: Decimal, reason: str) -> None:
    _require(
        amount != app.monthly_amount,
        _("The new amount is the same as the current one."),
        field="monthly_amount",
    )
    old = app.monthly_amount
    app.monthly_amount = amount
    app.save(update_fields=["monthly_amount", "updated_at"])
    APPLICATION.note(
        app,
        actor,
        "amount_adjust",
        reason=reason,
        data={"old_amount": old, "new_amount": amount},
    )


def application_stop(
    *, actor: User | None, application_id: int, reason: str, today: datetime.date | None = None
) -> Application:
    """Stop the benefits of an enrolled case (no longer eligible, end of a gradual exit)."""
    _require(reason.strip(), _("Say why the benefits stop."), field="reason")
    today = today or timezone.localdate()
    with transaction.atomic():
        app = application_lock(
            application_id,
            actor,
            None,
            allowed_from=Application.ENROLLED_STATES,
            allow_suspended=True,
        )
        if actor is not None:
            access.require_role(actor, decision_roles(app), app.village)
        return _stop(app, actor, reason, today)


def _stop(app: Application, actor: User | None, reason: str, today: datetime.date) -> Application:
    app = APPLICATION.move(
        app,
        actor,
        "stop",
        S.STOPPED,
        reason=reason,
        fields={"stopped_on": today, "next_review_on": None},
    )
    _release_members(app)
    return app


def gradual_exit_start(
    *,
    actor: User,
    application_id: int,
    months: int,
    reason: str,
    today: datetime.date | None = None,
) -> Application:
    """Work lifted the family's income above the line: benefits go on for ``months`` more
    months (at most the county's setting), then stop by themselves (domain.md §8, 渐退)."""
    today = today or timezone.localdate()
    _require(reason.strip(), _("Say why the family exits gradually."), field="reason")
    with transaction.atomic():
        app = application_lock(
            application_id, actor, None, allowed_from=Application.ENROLLED_STATES
        )
        access.require_role(actor, decision_roles(app), app.village)
        limit = policy_in_force(county=app.village.county(), on=today).gradual_exit_months
        _require(
            isinstance(months, int) and 1 <= months <= limit,
            _("A gradual exit lasts from 1 to %(limit)s months.") % {"limit": limit},
            field="months",
        )
        _require(app.exit_after_month is None, _("This case is already exiting gradually."))
        last = add_months(today.replace(day=1), months)
        app.exit_after_month = last
        app.save(update_fields=["exit_after_month", "updated_at"])
        APPLICATION.note(
            app, actor, "gradual_exit", reason=reason, data={"months": months, "last": last}
        )
        return app


def gradual_exits_finish(*, today: datetime.date | None = None) -> int:
    """Cases whose gradual exit has run its course stop (run daily; idempotent)."""
    today = today or timezone.localdate()
    ended = Application.objects.filter(
        state__in=Application.ENROLLED_STATES, exit_after_month__lt=today.replace(day=1)
    ).values_list("pk", flat=True)
    stopped = 0
    for app_id in ended:
        with transaction.atomic():
            app = Application.objects.select_for_update().select_related("village").get(pk=app_id)
            if app.state not in Application.ENROLLED_STATES:
                continue  # another run got there first
            _stop(app, None, _("end of the gradual exit"), today)
            stopped += 1
    return stopped


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later, or the month's last day (31 Jan + 1 → 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def adjustment_propose(
    *,
    actor: User,
    application_id: int,
    action: str,
    reasons: str,
    source: str,
    source_id: int | None = None,
    proposed_amount=None,
) -> AdjustmentProposal:
    """Recommend an adjustment of an enrolled case; the township acts on it. One proposal
    per spot-check finding, review or batch finding: proposing twice is refused."""
    _require(
        action in AdjustmentProposal.Action.values,
        _("Choose the recommended action."),
        field="action",
    )
    _require(source in AdjustmentProposal.Source.values, _("Unknown source."), field="source")
    _require(reasons.strip(), _("Give the reasons for the recommendation."), field="reasons")
    amount = None
    changes_amount = action in {
        AdjustmentProposal.Action.INCREASE,
        AdjustmentProposal.Action.DECREASE,
    }
    if changes_amount and proposed_amount not in (None, ""):
        amount = _money(proposed_amount, "proposed_amount")
    with transaction.atomic():
        app = application_lock(
            application_id,
            actor,
            permissions.HOLD_AND_ADJUST_CASES,
            allowed_from=Application.ENROLLED_STATES,
            allow_suspended=True,
        )
        if (
            source_id is not None
            and AdjustmentProposal.objects.filter(source=source, source_id=source_id).exists()
        ):
            raise Conflict(_("An adjustment was already proposed for this."))
        proposal = AdjustmentProposal.objects.create(
            application=app,
            action=action,
            reasons=reasons.strip(),
            proposed_amount=amount,
            source=source,
            source_id=source_id,
            proposed_by=actor,
        )
        APPLICATION.note(
            app,
            actor,
            "adjustment_propose",
            reason=reasons,
            data={"proposal": proposal.pk, "action": action, "source": source},
        )
        return proposal


def adjustment_handle(
    *,
    actor: User,
    proposal_id: int,
    adopt: bool,
    note: str = "",
    monthly_amount=None,
    today: datetime.date | None = None,
) -> AdjustmentProposal:
    """The township acts on a proposal: adopt it (keep, new amount, or stop) or decline it
    with a note. Whoever decides the case's applications decides its adjustments."""
    today = today or timezone.localdate()
    with transaction.atomic():
        proposal = AdjustmentProposal.objects.select_for_update().filter(pk=proposal_id).first()
        if proposal is None:
            raise DomainError(_("No such adjustment proposal."))
        app = application_lock(
            proposal.application_id,
            actor,
            None,
            allowed_from=set(S.values),
            allow_suspended=True,
        )
        access.require_role(actor, decision_roles(app), app.village)
        if proposal.status != AdjustmentProposal.Status.OPEN:
            raise Conflict(_("This proposal was already acted on."))
        A = AdjustmentProposal.Action
        if adopt:
            if app.state not in Application.ENROLLED_STATES:
                raise Conflict(
                    _("Not possible while the application is %(state)s.")
                    % {"state": app.get_state_display()}
                )
            if proposal.action in {A.INCREASE, A.DECREASE}:
                value = monthly_amount if monthly_amount not in (None, "") else None
                amount = _money(
                    value if value is not None else proposal.proposed_amount, "monthly_amount"
                )
                rising = amount > (app.monthly_amount or Decimal(0))
                _require(
                    rising == (proposal.action == A.INCREASE) and amount != app.monthly_amount,
                    _("The new amount must be higher than the current one.")
                    if proposal.action == A.INCREASE
                    else _("The new amount must be lower than the current one."),
                    field="monthly_amount",
                )
                _amount_set(app, actor, amount, proposal.reasons)
            elif proposal.action == A.STOP:
                _stop(app, actor, proposal.reasons, today)
        else:
            _require(note.strip(), _("Say why the proposal is declined."), field="note")
        proposal.status = (
            AdjustmentProposal.Status.ADOPTED if adopt else AdjustmentProposal.Status.DECLINED
        )
        proposal.handled_by = actor
        proposal.handled_at = timezone.now()
        proposal.handling_note = note.strip()
        proposal.save(update_fields=["status", "handled_by", "handled_at", "handling_note"])
        APPLICATION.note(
            app,
            actor,
            "adjustment_adopt" if adopt else "adjustment_decline",
            reason=note,
            data={"proposal": proposal.pk, "action": proposal.action},
        )
        return proposal


# --- the machinery ---------------------------------------------------------------------


def _stored(actor: User, app: Application, scan, kind: str) -> Document | None:
    """A scan given as a stored Document, or as an upload stored now, in the caller's
    transaction: a refused step keeps no orphan file in the household file."""
    if scan is None or isinstance(scan, Document):
        return scan
    return documents.document_upload(
        actor=actor, household=app.household, application=app, kind=kind, upload=scan
    )


def _require(condition, message: str, *, field: str | None = None) -> None:
    if not condition:
        raise DomainError(message, field=field)


def application_lock(
    application_id: int,
    actor: User | None,
    roles,
    *,
    allowed_from,
    check_role: bool = True,
    decided_message: bool = False,
    allow_suspended: bool = False,
) -> Application:
    """Lock the row, then check role, state and holds (after the lock: the race is settled)."""
    try:
        app = (
            Application.objects.select_for_update(of=("self",))
            .select_related("village", "household")
            .get(pk=application_id)
        )
    except Application.DoesNotExist:
        raise DomainError(_("No such application.")) from None
    if actor is not None and not access.jurisdiction_for(actor).contains(app.village):
        raise DomainError(_("No such application."))
    if check_role and roles is not None:
        access.require_role(actor, roles(app) if callable(roles) else roles, app.village)
    if app.state not in allowed_from:
        if decided_message and app.state in CLOSED_OR_DECIDED:
            raise Conflict(
                _("This application was already decided or closed: %(state)s.")
                % {"state": app.get_state_display()}
            )
        raise Conflict(
            _("Not possible while the application is %(state)s.")
            % {"state": app.get_state_display()}
        )
    if not allow_suspended:
        hold = active_suspension(app)
        if hold is not None:
            raise Conflict(
                _("This application is on hold since %(date)s: %(reason)s")
                % {"date": timezone.localdate(hold.started_at), "reason": hold.reason}
            )
    return app


def _lock_step(application_id: int, actor: User | None, step: str, **options) -> Application:
    """Lock the case for one step of the declared path (cases.steps): its roles, its states."""
    declared = APPLICATION[step]
    return application_lock(
        application_id, actor, declared.roles, allowed_from=declared.leaves, **options
    )


def _transition(
    *,
    application_id: int,
    actor: User,
    step: str,
    check: Callable[[Application], None] | None = None,
    extra: Callable[[Application], dict] | None = None,
) -> Application:
    """A step that only moves the case: lock, check, move to the step's state."""
    with transaction.atomic():
        app = _lock_step(application_id, actor, step)
        if check is not None:
            check(app)
        return APPLICATION.move(app, actor, step, fields=extra(app) if extra else None)


def _release_members(app: Application) -> None:
    """A closed application frees its members unless another application holds them."""
    if not app.household.applications.filter(
        state__in=Application.OPEN_STATES | Application.ENROLLED_STATES
    ).exists():
        Member.objects.filter(household=app.household).update(active=False)
