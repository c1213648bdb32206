"""County spot-checks (domain.md §5; issue 5 items 1–3): the sampler, the services that
draw a campaign, hand its cases to auditors and record what each home visit found, and
the reads of the pages, each starting from the user's jurisdiction.

The sample (docs/supervision.md, "Spot-check campaigns"):

* the population is the county's cases the rule selects, grouped by township (the
  first 9 digits of the village code, written as the township's 12-digit code);
* ``rng = random.Random(seed)``; townships are taken in ascending code order, and from
  each, ``rng.sample(ids in ascending order, ceil(ratio × n))`` is drawn;
* the seed is ``secrets.randbits(62)`` unless the auditor gives one.

Population, seed and sample are written into the audit row of the draw, so anyone can
re-derive the sample with :func:`sample_draw` and compare.
"""

from __future__ import annotations

import datetime
import math
import random
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from aid_portal import access, charts, permissions
from aid_portal.audit import audit_record
from aid_portal.errors import Conflict, DomainError
from aid_portal.models import AuditEvent, Region, Role, RoleAssignment, User
from cases.casework import documents
from cases.models import (
    AdjustmentProposal,
    Application,
    AssistanceType,
    Document,
    NearRelativeFiling,
    NoticeObjection,
    PublicReport,
)
from cases.policy import policy_in_force
from cases.reviews.services import adjustment_propose
from credit.findings.models import Finding as CreditFinding
from credit.findings.services import finding_record
from verification.spotcheck.models import SampleItem, SpotCheckCampaign, SpotCheckFinding
from verification.spotcheck.steps import SPOT_CHECK, SPOT_CHECK_CAMPAIGN

Rule = SpotCheckCampaign.Rule
Action = SpotCheckFinding.Action
# The programmes a spot-check visits: those paid month after month.
SUPERVISED_TYPES = frozenset(
    {AssistanceType.DIBAO_URBAN, AssistanceType.DIBAO_RURAL, AssistanceType.EXTREME_POVERTY}
)
SEED_BITS = 62


# --- the sampler ------------------------------------------------------------------------


def stratum_size(n: int, ratio: Decimal) -> int:
    """How many of a township's ``n`` cases are drawn: ratio × n rounded up (exactly, in
    decimals, so 30% of 10 is 3, never 4 by a float's rounding), at most ``n``."""
    return min(n, math.ceil(Decimal(n) * ratio))


def sample_draw(
    population: Mapping[str, Sequence[int]], ratio: Decimal, seed: int
) -> dict[str, list[int]]:
    """The stratified sample: for each township (ascending code), ``stratum_size`` ids
    drawn without repeats by ``random.Random(seed)`` from its ids in ascending order."""
    rng = random.Random(seed)
    sample: dict[str, list[int]] = {}
    for township in sorted(population):
        ids = sorted(population[township])
        sample[township] = sorted(rng.sample(ids, stratum_size(len(ids), ratio)))
    return sample


def new_seed() -> int:
    return secrets.randbits(SEED_BITS)


# --- populations ------------------------------------------------------------------------


def _local_bounds(start: datetime.date, end: datetime.date):
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(start, datetime.time.min, tzinfo=tz),
        datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz),
    )


def population_queryset(
    *, county: Region, rule: str, window_start: datetime.date, window_end: datetime.date
) -> QuerySet[Application]:
    """The cases ``rule`` selects in ``county``: enrolled (approved or in payment) cases of
    the programmes paid monthly, and

    * new cases: confirmed (decided) inside the window;
    * annual: all of them (the window is the year the visits are due in);
    * 100%: those with a near-relative filing or a complaint, confirmed inside the
      window. A complaint is an objection raised during the public notice
      (cases.NoticeObjection), a report by the public that opened a credit finding
      on the household (credit.Finding, source "report") dated inside the window, or a
      report (举报) from the public roster's page about one of the household's entries
      received inside the window (cases.PublicReport with an entry), whether or not the
      township has handled it yet (docs/supervision.md says why).
    """
    enrolled = Application.objects.filter(
        village__code__startswith=county.prefix,
        state__in=Application.ENROLLED_STATES,
        assistance_type__in=SUPERVISED_TYPES,
    )
    start, end = _local_bounds(window_start, window_end)
    decided_in_window = Q(decided_at__gte=start, decided_at__lt=end)
    if rule == Rule.NEW_CASES:
        return enrolled.filter(decided_in_window)
    if rule == Rule.ANNUAL:
        return enrolled
    near_relative = Exists(NearRelativeFiling.objects.filter(application=OuterRef("pk")))
    objection = Exists(NoticeObjection.objects.filter(notice__application=OuterRef("pk")))
    report = Exists(
        CreditFinding.objects.filter(
            household=OuterRef("household"),
            source_kind=CreditFinding.SourceKind.REPORT,
            found_on__range=(window_start, window_end),
        )
    )
    public_report = Exists(
        PublicReport.objects.filter(
            entry__household=OuterRef("household"), received_at__gte=start, received_at__lt=end
        )
    )
    return enrolled.annotate(
        has_near_relative=near_relative,
        has_objection=objection,
        has_report=report,
        has_public_report=public_report,
    ).filter(
        (decided_in_window & (Q(has_near_relative=True) | Q(has_objection=True)))
        | Q(has_report=True)
        | Q(has_public_report=True)
    )


# The population by township, one row per township: its ids as one text, and for the
# 100% rule each id's reason in the same order (both aggregates read the same rows in
# the same order; the ids are sorted in Python, where a sort in the query spilled to
# disk). Python splits a text
# of 1,000,000 ids in a tenth of a second; reading a row per case, and filing each under
# its township, took a second and a half.
POPULATION_SQL = """
SELECT p.township_prefix, string_agg(p.id::text, ','), string_agg({reason}, ',')
FROM ({population}) AS p({columns})
GROUP BY p.township_prefix
"""
REASON_SQL = """CASE WHEN p.near_relative AND (p.objection OR p.report OR p.public_report) THEN %s
                WHEN p.near_relative THEN %s ELSE %s END"""


@dataclass
class Population:
    """The cases a rule selects: by township code, the ids in ascending order; and why
    each was selected, where not at random (the 100% rule)."""

    strata: dict[str, list[int]]
    reasons: dict[int, str]


def population_read(
    *, county: Region, rule: str, window_start: datetime.date, window_end: datetime.date
) -> Population:
    """The population in one query, grouped by township (the first 9 digits of the
    village code, written as the township's code)."""
    queryset = population_queryset(
        county=county, rule=rule, window_start=window_start, window_end=window_end
    ).annotate(
        township_prefix=Substr("village__code", 1, Region.PREFIX_LENGTH[Region.Level.TOWNSHIP])
    )
    fields, reason, reason_params = ["pk", "township_prefix"], "NULL::text", []
    if rule == Rule.FULL:
        fields += ["has_near_relative", "has_objection", "has_report", "has_public_report"]
        reason = REASON_SQL
        reason_params = [SampleItem.Reason.BOTH, SampleItem.Reason.NEAR_RELATIVE]
        reason_params.append(SampleItem.Reason.COMPLAINT)
    columns = ["id", "township_prefix", "near_relative", "objection", "report", "public_report"]
    columns = columns[: len(fields)]
    sql, params = queryset.order_by().values_list(*fields).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            POPULATION_SQL.format(reason=reason, population=sql, columns=", ".join(columns)),
            [*reason_params, *params],
        )
        found = cursor.fetchall()
    strata, reasons = {}, {}
    for prefix, ids_text, reasons_text in found:
        ids = list(map(int, ids_text.split(",")))
        if reasons_text is not None:
            reasons.update(zip(ids, reasons_text.split(","), strict=True))
        strata[Region.code_from_prefix(prefix)] = sorted(ids)
    return Population(strata, reasons)


# --- windows, ratios, due dates ---------------------------------------------------------


def default_window(rule: str, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Last month for new cases and the 100% rule (what the monthly schedule draws); the
    current year for the annual visits."""
    if rule == Rule.ANNUAL:
        return datetime.date(today.year, 1, 1), datetime.date(today.year, 12, 31)
    end = today.replace(day=1) - datetime.timedelta(days=1)
    return end.replace(day=1), end


def policy_ratio(*, county: Region, rule: str, on: datetime.date) -> Decimal:
    if rule == Rule.FULL:
        return Decimal("1")
    policy = policy_in_force(county=county, on=on)
    if rule == Rule.ANNUAL:
        return policy.spot_check_annual_ratio
    return policy.spot_check_new_ratio


def ratio_parse(value, *, minimum: Decimal) -> Decimal:
    """A ratio given as 0.3 or "30%": more than 0, at most 1, not below the county's
    minimum, two decimals at most."""
    text = str(value).strip()
    try:
        ratio = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
    except InvalidOperation:
        raise DomainError(_("Give the share as a number, e.g. 0.3."), field="ratio") from None
    if not ratio.is_finite() or ratio <= 0 or ratio > 1:
        raise DomainError(_("The share must be more than 0 and at most 1 (100%)."), field="ratio")
    if ratio != ratio.quantize(Decimal("0.01")):
        raise DomainError(_("Give the share in whole per cent, e.g. 0.35."), field="ratio")
    if ratio < minimum:
        raise DomainError(
            _("The county's rules ask for at least %(percent)s%% of the cases.")
            % {"percent": f"{minimum * 100:g}"},
            field="ratio",
        )
    return ratio.quantize(Decimal("0.01"))


def _due(*, county: Region, rule: str, window_end: datetime.date, today) -> dict:
    """When the checks are due, as parameters of ITEMS_SQL: ``months`` after each case's
    confirmation (new cases; PostgreSQL's date + interval gives the month's last day
    when it is shorter, as :func:`cases.transitions.add_months` does), or one fixed day."""
    if rule == Rule.NEW_CASES:
        months = policy_in_force(county=county, on=today).spot_check_new_within_months
        return {"months": months, "fixed_due": None}
    if rule == Rule.ANNUAL:
        return {"months": None, "fixed_due": datetime.date(window_end.year, 12, 31)}
    days = policy_in_force(county=county, on=today).spot_check_full_within_days
    return {"months": None, "fixed_due": today + datetime.timedelta(days=days)}


def _tables() -> dict[str, str]:
    models_ = {"item": SampleItem, "application": Application}
    return {name: connection.ops.quote_name(m._meta.db_table) for name, m in models_.items()}


# The sampled cases of a campaign in one statement. Ids, townships (found once for the
# draft) and reasons (none but for the 100% rule: "sampled") come as arrays in the
# order the cases are dealt, the n-th case to the (n mod k)-th of the k auditors; the
# due day from the confirmation (or a fixed day).
ITEMS_SQL = """
INSERT INTO {item} (campaign_id, application_id, township_id, reason, due_on, assigned_to_id)
SELECT %(campaign)s, a.id, s.township, COALESCE(s.reason, %(sampled)s),
       COALESCE(%(fixed_due)s::date,
                ((a.decided_at AT TIME ZONE %(tz)s)::date
                 + make_interval(months => %(months)s::int))::date),
       (%(auditors)s::bigint[])[1 + (s.n - 1) %% cardinality(%(auditors)s::bigint[])]
FROM unnest(%(ids)s::bigint[], %(townships)s::bigint[], %(reasons)s::text[])
     WITH ORDINALITY AS s(id, township, reason, n)
JOIN {application} a ON a.id = s.id
"""


def _array(values: Iterable) -> str:
    """An array literal of numbers or plain words, for a parameter cast to an array.
    psycopg2 writes a list as ARRAY[...] of one constant each, which for 300,000 ids
    took 1.2 s to write and 0.9 s for PostgreSQL to plan; the literal is read in
    milliseconds."""
    return "{" + ",".join(map(str, values)) + "}"


# --- drawing a campaign -----------------------------------------------------------------


@dataclass
class Draft:
    """What a draw would take: checked input and the population, before anything is saved."""

    county: Region
    rule: str
    ratio: Decimal
    window_start: datetime.date
    window_end: datetime.date
    strata: dict[str, list[int]]  # by township code, the ids in ascending order
    reasons: dict[int, str]  # why each case was selected, where not at random
    townships: dict[str, Region]

    @property
    def population_size(self) -> int:
        return sum(len(ids) for ids in self.strata.values())

    @property
    def shares(self) -> list[tuple[Region, int, int]]:
        """(township, cases, to draw) in code order."""
        return [
            (
                self.townships.get(code) or Region(code=code, name=code),
                len(ids),
                stratum_size(len(ids), self.ratio),
            )
            for code, ids in sorted(self.strata.items())
        ]

    @property
    def sample_size(self) -> int:
        return sum(stratum_size(len(ids), self.ratio) for ids in self.strata.values())


def _draw_input_checked(*, county, rule, window_start, window_end, ratio, today):
    """Every refusal of a draw's input at once, by field (so that the form shows all of
    them in one submit), with the window and the ratio the draw would use."""
    errors: dict[str, str] = {}
    if rule not in Rule.values:
        errors["rule"] = _("Choose the rule of the spot-check.")
    if county is None or county.level != Region.Level.COUNTY:
        errors["county"] = _("A spot-check campaign covers a county.")
    if errors:
        return errors, window_start, window_end, ratio
    default_start, default_end = default_window(rule, today)
    window_start = window_start or default_start
    window_end = window_end or default_end
    if window_end < window_start:
        errors["window_end"] = _("The window ends before it starts.")
    if rule != Rule.ANNUAL and window_start > today:
        errors["window_start"] = _("The window lies in the future.")
    minimum = policy_ratio(county=county, rule=rule, on=today)
    try:
        if rule == Rule.FULL:
            if ratio not in (None, "") and ratio_parse(ratio, minimum=Decimal("0.01")) != 1:
                raise DomainError(
                    _("Near-relative filings and complaints are all checked (100%)."),
                    field="ratio",
                )
            ratio = Decimal("1")
        else:
            ratio = minimum if ratio in (None, "") else ratio_parse(ratio, minimum=minimum)
    except DomainError as exc:
        errors["ratio"] = exc.message
    return errors, window_start, window_end, ratio


def draw_input_errors(
    *, county, rule, window_start=None, window_end=None, ratio=None, today=None
) -> dict[str, str]:
    """The refusals of :func:`campaign_draft` by field, without reading the population:
    the draw form adds them to the errors it found itself."""
    errors, *_rest = _draw_input_checked(
        county=county,
        rule=rule,
        window_start=window_start,
        window_end=window_end,
        ratio=ratio,
        today=today or timezone.localdate(),
    )
    return errors


def campaign_draft(
    *,
    actor: User | None,
    county: Region,
    rule: str,
    window_start: datetime.date | None = None,
    window_end: datetime.date | None = None,
    ratio=None,
    today: datetime.date | None = None,
) -> Draft:
    """Check a draw's input and read its population (no write): the draw form's preview
    and the first half of :func:`campaign_draw`."""
    if actor is not None:
        access.require_role(actor, permissions.RUN_SPOT_CHECKS, county)
    today = today or timezone.localdate()
    errors, window_start, window_end, ratio = _draw_input_checked(
        county=county,
        rule=rule,
        window_start=window_start,
        window_end=window_end,
        ratio=ratio,
        today=today,
    )
    if errors:
        raise DomainError.of_fields(errors)
    population = population_read(
        county=county, rule=rule, window_start=window_start, window_end=window_end
    )
    strata = population.strata
    townships = {
        r.code: r for r in Region.objects.filter(code__in=list(strata), level=Region.Level.TOWNSHIP)
    }
    return Draft(
        county, rule, ratio, window_start, window_end, strata, population.reasons, townships
    )


def campaign_draw(
    *,
    actor: User | None,
    county: Region,
    rule: str,
    window_start: datetime.date | None = None,
    window_end: datetime.date | None = None,
    ratio=None,
    seed: int | None = None,
    assign_to: Sequence[User] = (),
    today: datetime.date | None = None,
) -> SpotCheckCampaign:
    """Draw and freeze a campaign's sample; ``assign_to`` hands its cases out at once.

    An empty population is refused with nothing saved; a second draw of the same county,
    rule and window is refused (Conflict). The audit row holds population, seed and sample.
    """
    today = today or timezone.localdate()
    draft = campaign_draft(
        actor=actor,
        county=county,
        rule=rule,
        window_start=window_start,
        window_end=window_end,
        ratio=ratio,
        today=today,
    )
    if not draft.strata:
        raise DomainError(
            _("No case falls under this rule in %(start)s – %(end)s: there is nothing to draw.")
            % {"start": draft.window_start, "end": draft.window_end},
            field="window_start",
        )
    if seed is None:
        seed = new_seed()
    try:
        seed = int(seed)
    except (TypeError, ValueError):
        seed = -1
    if not 0 <= seed < 2**63:
        raise DomainError(_("The seed is a whole number from 0 to 2⁶³ − 1."), field="seed")
    missing = sorted(set(draft.strata) - set(draft.townships))
    if missing:
        raise DomainError(_("Unknown townships: %(codes)s.") % {"codes": ", ".join(missing)})
    sample = sample_draw(draft.strata, draft.ratio, seed)
    # In the order cases are dealt to auditors: by township code, then case.
    codes = sorted(sample)
    ids = [app_id for code in codes for app_id in sample[code]]
    townships = [draft.townships[code].pk for code in codes for _app_id in sample[code]]
    reasons = [draft.reasons.get(app_id, SampleItem.Reason.SAMPLED) for app_id in ids]
    due = _due(county=county, rule=rule, window_end=draft.window_end, today=today)
    auditors = _auditors_checked(county, assign_to)
    try:
        with transaction.atomic():
            campaign = SpotCheckCampaign.objects.create(
                county=county,
                rule=rule,
                ratio=draft.ratio,
                window_start=draft.window_start,
                window_end=draft.window_end,
                seed=seed,
                population_size=draft.population_size,
                sample_size=len(ids),
                drawn_by=actor,
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    ITEMS_SQL.format(**_tables()),
                    {
                        "campaign": campaign.pk,
                        "ids": _array(ids),
                        "townships": _array(townships),
                        "reasons": _array(reasons) if draft.reasons else None,
                        "sampled": SampleItem.Reason.SAMPLED.value,
                        "auditors": [a.pk for a in auditors] or None,
                        "tz": settings.TIME_ZONE,
                        **due,
                    },
                )
            audit_record(
                actor=actor,
                action="spot_check.draw",
                obj=campaign,
                region=county,
                new={
                    "rule": rule,
                    "ratio": str(draft.ratio),
                    "window": [draft.window_start, draft.window_end],
                    "seed": seed,
                    "algorithm": "random.Random(seed).sample per township, ascending codes",
                    "population": draft.strata,
                    "sample": sample,
                },
            )
            if auditors:
                _assigned(actor, campaign, auditors, len(ids))
    except IntegrityError as exc:
        if "one_campaign_per_window" not in str(exc):
            raise
        raise Conflict(
            _("A campaign of this rule and window was already drawn for %(county)s.")
            % {"county": county.name}
        ) from None
    campaign.refresh_from_db()
    return campaign


def campaign_draw_scheduled(
    *, county: Region, rule: str, today: datetime.date | None = None
) -> SpotCheckCampaign | None:
    """The schedule's draw: the default window of ``rule``; the campaign already drawn
    for it if there is one (a task delivered twice); None when nothing is to be drawn."""
    today = today or timezone.localdate()
    start, end = default_window(rule, today)
    existing = SpotCheckCampaign.objects.filter(
        county=county, rule=rule, window_start=start, window_end=end
    ).first()
    if existing is not None:
        return existing
    try:
        return campaign_draw(actor=None, county=county, rule=rule, today=today)
    except Conflict:
        # Another delivery drew it between our look and our insert.
        return SpotCheckCampaign.objects.get(
            county=county, rule=rule, window_start=start, window_end=end
        )
    except DomainError as exc:
        if exc.field == "window_start":  # an empty population: nothing to check this time
            return None
        raise


# --- assignment -------------------------------------------------------------------------


def _above(prefix: str) -> list[str]:
    """The codes of the province, city and county nodes containing ``prefix``."""
    return Region.enclosing_codes(prefix, down_to=Region.Level.COUNTY)


def auditor_list_for_user(*, user: User) -> QuerySet[User]:
    """The county auditors of the counties where ``user`` is one (to hand cases to): one
    query, from the user's own auditor nodes."""
    prefixes = access.jurisdiction_for(
        user, roles=permissions.RUN_SPOT_CHECKS, include_grants=False
    ).prefixes
    if user.is_superuser:
        where = Q()
    elif not prefixes:
        return User.objects.none()
    else:
        where = Q(region__code__in=[c for p in prefixes for c in _above(p)])
        for prefix in prefixes:
            where |= Q(region__code__startswith=prefix)
    holders = RoleAssignment.objects.filter(where, role=Role.COUNTY_AUDITOR).values("user_id")
    return User.objects.filter(pk__in=holders, is_active=True).order_by("username")


def _auditors_checked(county: Region, auditors: Sequence[User]) -> list[User]:
    """``auditors`` in the order cases are dealt (by username), each a county auditor of
    ``county``."""
    for auditor in auditors:
        if auditor.is_superuser or not access.has_role(
            auditor, permissions.RUN_SPOT_CHECKS, county
        ):
            raise DomainError(
                _("%(name)s is not a county auditor of %(county)s.")
                % {"name": auditor, "county": county.name},
                field="auditors",
            )
    return sorted(set(auditors), key=lambda user: user.username)


def _assigned(actor, campaign, auditors: list[User], dealt: int) -> None:
    """After ``dealt`` cases were dealt in turn to ``auditors`` (their ``assigned_to``
    written): the campaign running, the audit row with how many each auditor got."""
    assign = SPOT_CHECK_CAMPAIGN["assign"]
    SpotCheckCampaign.objects.filter(pk=campaign.pk, status__in=assign.leaves).update(
        status=assign.to
    )
    audit_record(
        actor=actor,
        action="spot_check.assign",
        obj=campaign,
        region=campaign.county,
        new={a.username: len(range(n, dealt, len(auditors))) for n, a in enumerate(auditors)},
    )


def _assign(actor: User | None, campaign: SpotCheckCampaign, auditors, item_ids) -> int:
    """Deal the campaign's unvisited items (or ``item_ids`` of them) in turn to
    ``auditors``, replacing earlier assignments of those items. In the caller's transaction."""
    auditors = _auditors_checked(campaign.county, auditors)
    items = campaign.items.filter(visited_at__isnull=True)
    if item_ids is not None:
        items = items.filter(pk__in=item_ids)
    ids = list(items.order_by("township__code", "application_id").values_list("pk", flat=True))
    if not ids:
        raise DomainError(_("No unvisited case is left to assign."), field="auditors")
    for n, auditor in enumerate(auditors):
        SampleItem.objects.filter(pk__in=ids[n :: len(auditors)]).update(assigned_to=auditor)
    _assigned(actor, campaign, auditors, len(ids))
    return len(ids)


def sample_items_assign(
    *,
    actor: User,
    campaign_id: int,
    auditors: Sequence[User],
    item_ids: Sequence[int] | None = None,
) -> int:
    """Hand the campaign's unvisited cases (all, or ``item_ids``) to ``auditors`` in turn.
    Returns how many were assigned."""
    if not auditors:
        raise DomainError(_("Choose at least one auditor."), field="auditors")
    with transaction.atomic():
        campaign = (
            SpotCheckCampaign.objects.select_for_update(of=("self",))
            .select_related("county")
            .filter(pk=campaign_id)
            .first()
        )
        if campaign is None or not access.jurisdiction_for(
            actor, roles=permissions.RUN_SPOT_CHECKS
        ).contains(campaign.county):
            raise DomainError(_("No such campaign."))
        SPOT_CHECK_CAMPAIGN.check(
            "assign", campaign, actor, state_message=lambda c: _("This campaign is finished.")
        )
        return _assign(actor, campaign, list(auditors), item_ids)


# --- findings ---------------------------------------------------------------------------


def _finding_refusal(item: SampleItem) -> str:
    if item.state == SampleItem.State.VISITED:
        return _("The findings on this case were already recorded.")
    return _("This case is not assigned to an auditor yet.")


def sample_finding_record(
    *,
    actor: User,
    item_id: int,
    visited_on: datetime.date,
    visitors: str,
    facts: str,
    still_eligible: bool,
    action: str,
    proposed_amount=None,
    credit_behaviour: str = "",
    evidence: Sequence[UploadedFile] = (),
    today: datetime.date | None = None,
) -> SpotCheckFinding:
    """Record the home visit of a sampled case, in one transaction: the finding, the
    evidence in the household file, the adjustment proposal to the township (unless
    "keep"), and the credit finding when a behaviour is given.

    Only the auditor the case is assigned to records it ("not in your sample"
    otherwise); a second submission is a Conflict and adds nothing."""
    today = today or timezone.localdate()
    visitors, facts = (visitors or "").strip(), (facts or "").strip()
    credit_behaviour = (credit_behaviour or "").strip()
    if action not in Action.values:
        raise DomainError(_("Choose the recommended action."), field="action")
    if visited_on is None or visited_on > today:
        raise DomainError(_("The home visit cannot lie in the future."), field="visited_on")
    if not visitors:
        raise DomainError(_("Name who made the home visit."), field="visitors")
    if not facts:
        raise DomainError(_("Write down the facts found."), field="facts")
    if not still_eligible and action in {Action.KEEP, Action.INCREASE}:
        raise DomainError(
            _("A family found no longer eligible cannot keep or raise its benefit."),
            field="action",
        )
    if proposed_amount not in (None, "") and action not in {Action.INCREASE, Action.DECREASE}:
        raise DomainError(
            _("A proposed amount goes with an increase or a decrease."), field="proposed_amount"
        )
    with transaction.atomic():
        item = (
            SampleItem.objects.select_for_update(of=("self",))
            .select_related("campaign__county", "application__village", "application__household")
            .filter(pk=item_id)
            .first()
        )
        if item is None or not access.jurisdiction_for(
            actor, roles=permissions.RUN_SPOT_CHECKS
        ).contains(item.application.village):
            raise DomainError(_("No such sampled case."))
        if not sample_item_may_check(user=actor, item=item):
            raise DomainError(_("This case is not in your sample: it is assigned to someone else."))
        SPOT_CHECK.check("finding", item, actor, state_message=_finding_refusal)
        if SpotCheckFinding.objects.filter(item=item).exists():
            raise Conflict(_("The findings on this case were already recorded."))
        if visited_on < timezone.localdate(item.campaign.drawn_at):
            raise DomainError(
                _("The home visit was before the case was drawn."), field="visited_on"
            )
        app = item.application
        finding = SpotCheckFinding.objects.create(
            item=item,
            visited_on=visited_on,
            visitors=visitors,
            facts=facts,
            still_eligible=still_eligible,
            action=action,
            proposed_amount=None,
            credit_behaviour=credit_behaviour,
            recorded_by=actor,
        )
        stored = [
            documents.document_upload(
                actor=actor,
                household=app.household,
                application=app,
                kind=Document.Kind.HOME_VISIT,
                upload=upload,
                roles=permissions.RUN_SPOT_CHECKS | documents.UPLOADERS,
            )
            for upload in evidence
        ]
        finding.evidence.set(stored)
        reasons = _("County spot-check, home visit on %(day)s by %(who)s: %(facts)s") % {
            "day": visited_on,
            "who": visitors,
            "facts": facts,
        }
        if action != Action.KEEP:
            finding.proposal = adjustment_propose(
                actor=actor,
                application_id=app.pk,
                action=action,
                reasons=reasons,
                source=AdjustmentProposal.Source.SPOT_CHECK,
                source_id=item.pk,
                proposed_amount=proposed_amount,
            )
            finding.proposed_amount = finding.proposal.proposed_amount
        if credit_behaviour:
            finding.credit_finding = finding_record(
                actor=actor,
                household_id=app.household_id,
                person_id=None,
                behaviour_code=credit_behaviour,
                facts=reasons,
                source_kind="spot_check",
                source_id=item.pk,
                application_id=app.pk,
                evidence=stored,
                found_on=visited_on,
            )
        finding.save(update_fields=["proposal", "proposed_amount", "credit_finding"])
        now = timezone.now()
        if (
            SampleItem.objects.filter(pk=item.pk, visited_at__isnull=True).update(visited_at=now)
            != 1
        ):
            raise Conflict(_("The findings on this case were already recorded."))
        campaign = item.campaign
        if not campaign.items.filter(visited_at__isnull=True).exists():
            finish = SPOT_CHECK_CAMPAIGN["finish"]
            SpotCheckCampaign.objects.filter(pk=campaign.pk, status__in=finish.leaves).update(
                status=finish.to, finished_at=now
            )
        audit_record(
            actor=actor,
            action="spot_check.finding",
            obj=app,
            region=app.village,
            new={
                "campaign": campaign.pk,
                "item": item.pk,
                "still_eligible": still_eligible,
                "action": action,
                "proposal": finding.proposal_id,
                "credit_finding": finding.credit_finding_id,
                "evidence": [d.pk for d in stored],
            },
            reason=facts,
        )
    return finding


# --- reads ------------------------------------------------------------------------------


def campaign_county_list_for_user(*, user: User) -> QuerySet[Region]:
    """Counties where the user draws campaigns (their own role, not cover grants)."""
    jurisdiction = access.jurisdiction_for(
        user, roles=permissions.RUN_SPOT_CHECKS, include_grants=False
    )
    return Region.objects.filter(level=Region.Level.COUNTY).filter(jurisdiction.q(None))


def campaign_list_for_user(*, user: User) -> QuerySet[SpotCheckCampaign]:
    return access.restrict(
        SpotCheckCampaign.objects.select_related("county", "drawn_by")
        .annotate(visited=Count("items", filter=Q(items__visited_at__isnull=False)))
        .order_by("-drawn_at", "-id"),
        user,
        region_field="county",
        roles=permissions.RUN_SPOT_CHECKS,
    )


def campaign_get_for_user(*, user: User, campaign_id: int) -> SpotCheckCampaign:
    return access.get_object_or_404(
        SpotCheckCampaign.objects.select_related("county", "drawn_by"),
        user,
        region_field="county",
        roles=permissions.RUN_SPOT_CHECKS,
        pk=campaign_id,
    )


def _items() -> QuerySet[SampleItem]:
    return SampleItem.objects.select_related(
        "campaign__county",
        "application__village",
        "application__household",
        "township",
        "assigned_to",
        "finding__proposal",
    )


def sample_item_list_for_campaign(
    *, user: User, campaign: SpotCheckCampaign, mine: bool = False
) -> QuerySet[SampleItem]:
    """A campaign's cases (read through the gate already), by township and case;
    ``mine``: only those assigned to ``user``."""
    items = access.restrict(
        _items().filter(campaign=campaign),
        user,
        region_field="application__village",
        roles=permissions.RUN_SPOT_CHECKS,
    )
    if mine:
        items = items.filter(assigned_to=user)
    return items.order_by("township__code", "application_id")


def sample_item_list_for_user(*, user: User) -> QuerySet[SampleItem]:
    """Sampled cases of every campaign in the auditor's places (the list's export finds
    one campaign's by filtering these), by campaign, township and case."""
    return access.restrict(
        _items(), user, region_field="application__village", roles=permissions.RUN_SPOT_CHECKS
    ).order_by("campaign_id", "township__code", "application_id")


def sample_item_get_for_user(*, user: User, item_id: int) -> SampleItem:
    return access.get_object_or_404(
        _items(),
        user,
        region_field="application__village",
        roles=permissions.RUN_SPOT_CHECKS,
        pk=item_id,
    )


def sample_item_may_check(*, user: User, item: SampleItem) -> bool:
    """Whether ``user`` records the findings on ``item``: the auditor it is assigned to
    (an active account; a superuser may, as with any grant). The assignment is the
    item's own column: a per-object grant row beside it could only repeat it, at the
    cost of a second row, three indexes and three key checks per case drawn."""
    if not user.is_active:
        return False
    return user.is_superuser or (item.assigned_to_id is not None and item.assigned_to_id == user.pk)


@dataclass
class ProgressRow:
    township: Region
    sampled: int
    visited: int
    ineligible: int
    adjusted: int
    overdue: int


@dataclass
class Progress:
    rows: list[ProgressRow]
    total: ProgressRow


def campaign_progress(
    *, campaign: SpotCheckCampaign, today: datetime.date | None = None
) -> Progress:
    """Sampled, visited, found ineligible, adjusted (proposal adopted) and overdue, by
    township: one grouped query."""
    today = today or timezone.localdate()
    counts = (
        campaign.items.values("township")
        .annotate(
            sampled=Count("id"),
            visited=Count("id", filter=Q(visited_at__isnull=False)),
            ineligible=Count("id", filter=Q(finding__still_eligible=False)),
            adjusted=Count(
                "id", filter=Q(finding__proposal__status=AdjustmentProposal.Status.ADOPTED)
            ),
            overdue=Count("id", filter=Q(visited_at__isnull=True, due_on__lt=today)),
            code=F("township__code"),
            name=F("township__name"),
        )
        .order_by("code")
    )
    rows = [
        ProgressRow(
            Region(pk=c["township"], code=c["code"], name=c["name"]),
            c["sampled"],
            c["visited"],
            c["ineligible"],
            c["adjusted"],
            c["overdue"],
        )
        for c in counts
    ]
    total = ProgressRow(
        Region(name=_("Total")),
        *(
            sum(getattr(r, f) for r in rows)
            for f in ("sampled", "visited", "ineligible", "adjusted", "overdue")
        ),
    )
    return Progress(rows=rows, total=total)


# --- the campaign's charts (issue 15 item 9) -----------------------------------------------


@dataclass
class StateRow:
    """Sampled cases of one township by state (SampleItem.State)."""

    township: Region
    drawn: int  # not assigned to an auditor yet
    assigned: int  # assigned, not visited yet
    visited: int

    @property
    def total(self) -> int:
        return self.drawn + self.assigned + self.visited


@dataclass
class DeadlineRow:
    """Sampled cases of one township by their deadline ("check due by")."""

    township: Region
    on_time: int  # findings recorded on or before the day due
    late: int  # findings recorded after it
    overdue: int  # no findings yet, the day due has passed
    pending: int  # no findings yet, still in time

    @property
    def total(self) -> int:
        return self.on_time + self.late + self.overdue + self.pending


def _campaign_items_for(user: User, campaign: SpotCheckCampaign) -> QuerySet[SampleItem]:
    return access.restrict(
        SampleItem.objects.filter(campaign=campaign),
        user,
        region_field="application__village",
        roles=permissions.RUN_SPOT_CHECKS,
    )


def _by_township(items: QuerySet[SampleItem], **counts) -> QuerySet:
    return (
        items.values("township")
        .annotate(**counts, code=F("township__code"), name=F("township__name"))
        .order_by("code")
    )


def _township(row: dict) -> Region:
    return Region(pk=row["township"], code=row["code"], name=row["name"])


def sample_states_by_township(*, user: User, campaign: SpotCheckCampaign) -> list[StateRow]:
    """The campaign's cases in the user's jurisdiction by township and state: one grouped
    query. The state is read from the row as SampleItem.state reads it."""
    unvisited = Q(visited_at__isnull=True)
    rows = _by_township(
        _campaign_items_for(user, campaign),
        drawn=Count("id", filter=unvisited & Q(assigned_to__isnull=True)),
        assigned=Count("id", filter=unvisited & Q(assigned_to__isnull=False)),
        visited=Count("id", filter=Q(visited_at__isnull=False)),
    )
    return [StateRow(_township(r), r["drawn"], r["assigned"], r["visited"]) for r in rows]


def sample_deadlines_by_township(
    *, user: User, campaign: SpotCheckCampaign, today: datetime.date | None = None
) -> list[DeadlineRow]:
    """The campaign's cases in the user's jurisdiction by township and deadline met: one
    grouped query. A visit counts on the local day its findings were recorded, which is
    what "check due by" asks (the progress table's "overdue" counts the same way)."""
    today = today or timezone.localdate()
    unvisited = Q(visited_at__isnull=True)
    rows = _by_township(
        _campaign_items_for(user, campaign),
        on_time=Count("id", filter=Q(visited_at__date__lte=F("due_on"))),
        late=Count("id", filter=Q(visited_at__date__gt=F("due_on"))),
        overdue=Count("id", filter=unvisited & Q(due_on__lt=today)),
        pending=Count("id", filter=unvisited & Q(due_on__gte=today)),
    )
    return [
        DeadlineRow(_township(r), r["on_time"], r["late"], r["overdue"], r["pending"]) for r in rows
    ]


def _stacked_by_township(rows, *, caption: str, fields: list[tuple[str, str]]) -> charts.Chart:
    series = [charts.Series(label, [getattr(r, f) for r in rows]) for f, label in fields]
    return charts.chart(
        caption=caption,
        summary=caption + _(": ") + charts.listing([(s.label, sum(s.values)) for s in series]),
        labels=[r.township.name for r in rows],
        series=series,
        y_title=_("Sampled cases"),
        stacked=True,
    )


STATE_FIELDS = [
    ("drawn", _lazy("not assigned yet")),
    ("assigned", _lazy("assigned, not visited")),
    ("visited", _lazy("visited")),
]
DEADLINE_FIELDS = [
    ("on_time", _lazy("checked in time")),
    ("late", _lazy("checked late")),
    ("overdue", _lazy("overdue")),
    ("pending", _lazy("not due yet")),
]


def sample_states_chart(rows: list[StateRow]) -> charts.Chart:
    return _stacked_by_township(
        rows, caption=_("Sampled cases by state and township"), fields=STATE_FIELDS
    )


def sample_deadlines_chart(rows: list[DeadlineRow]) -> charts.Chart:
    return _stacked_by_township(
        rows, caption=_("Deadlines met by township"), fields=DEADLINE_FIELDS
    )


# --- the coverage of new cases, for the case overview (issue 15 item 9) -----------------------


@dataclass(frozen=True)
class NewCaseCoverage:
    """The cases newly confirmed in a window and how many of them a new-cases campaign
    sampled (domain.md §5: the county spot-checks at least 30% of the year's new cases)."""

    window_start: datetime.date
    window_end: datetime.date
    new_cases: int
    sampled: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.sampled / self.new_cases, 1) if self.new_cases else None


def coverage_window(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The year so far up to the end of last month, the months the monthly draw has
    covered; in January the whole year just ended."""
    end = today.replace(day=1) - datetime.timedelta(days=1)
    return datetime.date(end.year, 1, 1), end


def new_case_coverage_for_user(
    *, user: User, today: datetime.date | None = None
) -> NewCaseCoverage:
    """The new cases of the user's places (the overview's jurisdiction) confirmed in the
    coverage window, and how many of them a new-cases campaign sampled: one aggregate
    query. A new case is one of the programmes the county spot-checks, approved in the
    window (population_queryset's rule); one stopped since still counts, as it was new."""
    window_start, window_end = coverage_window(today or timezone.localdate())
    start, end = _local_bounds(window_start, window_end)
    sampled = Exists(
        SampleItem.objects.filter(
            application=OuterRef("pk"), campaign__rule=SpotCheckCampaign.Rule.NEW_CASES
        )
    )
    counts = (
        access.restrict(
            Application.objects.filter(
                assistance_type__in=SUPERVISED_TYPES, decided_at__gte=start, decided_at__lt=end
            ).exclude(state=Application.State.REJECTED),
            user,
            region_field="village",
            roles=permissions.READ_CASE_OVERVIEW,
        )
        .annotate(was_sampled=sampled)
        .aggregate(new_cases=Count("id"), sampled=Count("id", filter=Q(was_sampled=True)))
    )
    return NewCaseCoverage(window_start, window_end, counts["new_cases"], counts["sampled"])


def campaign_audit_payload(*, campaign: SpotCheckCampaign) -> dict:
    """The draw's audit row as written: population, seed and sample, to re-derive."""
    event = AuditEvent.objects.get(
        action="spot_check.draw",
        object_type=campaign._meta.label_lower,
        object_id=str(campaign.pk),
    )
    return event.new_values
