"""Trust (domain.md §6; issue 6 items 7 and 8): trustworthy behaviour, the honest
declarant, rewards and the yearly credit result.

- **Trust records**: a township caseworker records one of Xiji's four kinds of
  trustworthy behaviour for a household (``trust_record``).
- **Honest declarant** (NC Hubei), computed per application: no bad credit record, no
  anomaly in the verified data, no objection during the public notice, every
  authorisation signed. All four: the case qualifies for the simplified path.
- **Rewards** (Xiji): households with a trust record in the year and no finding in force
  at any time of it are candidates; the township approver grants the honour roll, a priority holiday
  visit or priority for a public-welfare job (``reward_grant``).
- **Yearly results**: one INSERT ... SELECT ... ON CONFLICT per county and year writes
  each household's result (good, watch, untrustworthy); the county dashboard reads the
  untrustworthy rate by township from them, and computes the current year live with the
  same SQL.

The rules of the yearly result (docs/credit.md): a finding *stands at the end of* a year
when it was found on or before the year's last day, took effect (not merely proposed,
not dismissed), was not withdrawn, and was not repaired on or before that day. A finding
never repaired stands at the end of every year after it, until it is. Untrustworthy: a
moderate or severe finding stands. Watch: a light finding stands, or the household is on
the watch list on the year's last day. Good: otherwise. The population of a year is
every household with an application decided in the year or enrolled during it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.postgres.aggregates import ArrayAgg
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from aid_portal import access, charts, permissions
from aid_portal.audit import audit_record
from aid_portal.celery import enqueue_on_commit
from aid_portal.errors import Conflict, DomainError
from aid_portal.models import Region, User
from cases.intake.services import unauthorised_names
from cases.models import (
    Application,
    ApplicationEvent,
    Household,
    Member,
    VerificationOutcome,
)
from credit.findings.models import Finding
from credit.findings.selectors import bad_record_exists, watched_household_ids
from credit.trust.models import Reward, TrustRecord, YearlyResult

# Who reads trust records and the rewards list: the township and the county's auditor.
FIRST_YEAR = 2000
R = YearlyResult.Result


# --- what a finding is, for trust -----------------------------------------------------------


def _findings_in_force_during(*, first_day: datetime.date, last_day: datetime.date) -> QuerySet:
    """Findings in force at some time of the period: found by its last day, took effect,
    not withdrawn, not repaired before its first day (what bars a reward)."""
    return Finding.objects.filter(found_on__lte=last_day, state__in=Finding.TOOK_EFFECT).exclude(
        ended_on__lt=first_day
    )


# --- trust records --------------------------------------------------------------------------


def trust_record(
    *,
    actor: User,
    household_id: int,
    kind: str,
    facts: str,
    person_id: int | None = None,
    application_id: int | None = None,
    recorded_on: datetime.date | None = None,
    today: datetime.date | None = None,
) -> TrustRecord:
    """Record trustworthy behaviour of a household (a township caseworker of its village)."""
    today = today or timezone.localdate()
    recorded_on = recorded_on or today
    facts = (facts or "").strip()
    with transaction.atomic():
        try:
            household = (
                Household.objects.select_for_update(of=("self",))
                .select_related("village")
                .get(pk=household_id)
            )
        except Household.DoesNotExist:
            raise DomainError(_("No such household."), field="household") from None
        if not access.jurisdiction_for(actor).contains(household.village):
            raise DomainError(_("No such household."), field="household")
        if not access.has_role(actor, permissions.RECORD_TRUST, household.village):
            raise PermissionDenied(
                _("Only a caseworker of the household's township records trustworthy behaviour.")
            )
        if kind not in TrustRecord.Kind.values:
            raise DomainError(_("Choose the kind of trustworthy behaviour."), field="kind")
        if not facts:
            raise DomainError(_("Describe the facts."), field="facts")
        if recorded_on > today:
            raise DomainError(_("The date cannot be in the future."), field="recorded_on")
        if (
            person_id is not None
            and not Member.objects.filter(household=household, person_id=person_id).exists()
        ):
            raise DomainError(_("This person is not in the household."), field="person")
        application = None
        if application_id is not None:
            application = Application.objects.filter(pk=application_id, household=household).first()
            if application is None:
                raise DomainError(
                    _("This application is not the household's."), field="application"
                )
        record = TrustRecord.objects.create(
            household=household,
            person_id=person_id,
            application=application,
            kind=kind,
            facts=facts,
            recorded_on=recorded_on,
            recorded_by=actor,
        )
        new = {"kind": kind, "recorded_on": recorded_on.isoformat(), "record": record.pk}
        if application is not None:
            ApplicationEvent.objects.create(
                application=application,
                actor=actor,
                action="trust_record",
                from_state=application.state,
                to_state=application.state,
                reason=facts,
                data=new,
            )
        audit_record(
            actor=actor,
            action="trust.record",
            obj=record,
            region=household.village,
            new=new,
            reason=facts,
        )
    return record


def trust_record_list_for_user(*, user: User, year: int | None = None) -> QuerySet[TrustRecord]:
    queryset = TrustRecord.objects.select_related(
        "household__village", "person", "application__village", "recorded_by"
    ).order_by("-recorded_on", "-id")
    if year is not None:
        queryset = queryset.filter(recorded_on__year=year)
    return access.restrict(
        queryset, user, region_field="household__village", roles=permissions.READ_TRUST
    )


def trust_records_of_household(*, household: Household) -> list[TrustRecord]:
    """A household already read through the gate: its trust records, newest first."""
    return list(
        TrustRecord.objects.filter(household=household)
        .select_related("person", "recorded_by")
        .order_by("-recorded_on", "-id")[:20]
    )


# --- the honest declarant -------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    code: str
    label: str
    met: bool
    reason: str


@dataclass(frozen=True)
class HonestDeclarant:
    conditions: list[Condition] = field(default_factory=list)

    @property
    def qualifies(self) -> bool:
        """All four hold: the case qualifies for the simplified path."""
        return all(condition.met for condition in self.conditions)


def honest_declarant_status(
    *, application: Application, on: datetime.date | None = None, verification=None
) -> HonestDeclarant:
    """NC Hubei's four conditions for ``application``, each with its reason.

    Reads the verification outcomes and notices from the prefetch of
    cases.selectors.application_get_for_user when present. ``verification`` is where the
    case's verification stands as verification reads it (its ``label`` and
    ``consistent``), passed in by the case page: credit sits below verification and
    cannot read the request itself, and without it a case whose departments have all
    answered would read "not verified yet" here while the page says otherwise.
    """
    on = on or timezone.localdate()
    conditions = []

    bad = bad_record_exists(household_id=application.household_id, on=on)
    conditions.append(
        Condition(
            "no_bad_record",
            _("No bad credit record"),
            not bad,
            _("The household has a finding that stands and is not repaired.")
            if bad
            else _("No standing finding against the household."),
        )
    )

    outcomes = sorted(
        application.verification_outcomes.all(), key=lambda o: (o.recorded_at, o.pk), reverse=True
    )
    latest = outcomes[0] if outcomes else None
    if verification is not None:
        verified = Condition(
            "no_anomaly",
            _("No anomaly in the verified data"),
            bool(verification.consistent),
            str(verification.label),
        )
    elif latest is None:
        verified = Condition(
            "no_anomaly",
            _("No anomaly in the verified data"),
            False,
            _("Not verified yet."),
        )
    elif latest.outcome == VerificationOutcome.Outcome.CONSISTENT:
        verified = Condition(
            "no_anomaly",
            _("No anomaly in the verified data"),
            True,
            _("Verification: basically consistent (%(date)s).")
            % {"date": timezone.localdate(latest.recorded_at).isoformat()},
        )
    else:
        verified = Condition(
            "no_anomaly",
            _("No anomaly in the verified data"),
            False,
            _("Verification found a clear gap (%(date)s).")
            % {"date": timezone.localdate(latest.recorded_at).isoformat()},
        )
    conditions.append(verified)

    notices = list(application.notices.all())
    objections = [o for notice in notices for o in notice.objections.all()]
    if objections:
        first = min(objections, key=lambda o: o.raised_on)
        notice_reason = _("%(count)s objection(s) during the notice, the first on %(date)s.") % {
            "count": len(objections),
            "date": first.raised_on.isoformat(),
        }
    elif notices:
        notice_reason = _("No objection during the public notice.")
    else:
        notice_reason = _("No public notice yet, and so no objection.")
    conditions.append(
        Condition(
            "no_notice_objection",
            _("No objection during the public notice"),
            not objections,
            notice_reason,
        )
    )

    # The case page read the members with the case: no query for them then.
    members_read = "members" in getattr(application.household, "_prefetched_objects_cache", {})
    missing = unauthorised_names(application, as_read=members_read)
    conditions.append(
        Condition(
            "authorisations_signed",
            _("Every authorisation signed"),
            not missing,
            _("Not signed by: %(names)s.") % {"names": "、".join(missing)}
            if missing
            else _("Every member and supporter signed."),
        )
    )
    return HonestDeclarant(conditions=conditions)


def honest_declarant_context(*, user: User, application: Application, verification=None) -> dict:
    """What templates/credit/trust/_honest_declarant.html needs on the case page."""
    return {
        "honest_declarant": honest_declarant_status(
            application=application, verification=verification
        ),
        "trust_records": trust_records_of_household(household=application.household),
        "can_record_trust": access.has_role(user, permissions.RECORD_TRUST, application.village),
    }


# --- rewards --------------------------------------------------------------------------------


def _year_bounds(year: int) -> tuple[datetime.date, datetime.date]:
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)


def reward_candidates_for_user(*, user: User, year: int) -> QuerySet[Household]:
    """Households with a trust record in ``year`` and no finding in force during it, inside
    the user's places, with what the list shows (applicant, kinds, rewards granted)."""
    return reward_candidates_in_year(household_list_for_trust(user=user), year=year)


def household_list_for_trust(*, user: User) -> QuerySet[Household]:
    """The households of the places where the user reads trust (the rewards list's rows
    before its year: reward_candidates_in_year)."""
    return access.restrict(
        Household.objects.all(), user, region_field="village", roles=permissions.READ_TRUST
    )


def reward_candidates_in_year(households: QuerySet[Household], *, year: int) -> QuerySet[Household]:
    """Of ``households``, those with a trust record in ``year`` and no finding in force
    during it, with what the list shows (applicant, kinds, rewards granted)."""
    first_day, last_day = _year_bounds(year)
    records = TrustRecord.objects.filter(recorded_on__gte=first_day, recorded_on__lte=last_day)
    counting = _findings_in_force_during(first_day=first_day, last_day=last_day)
    applicant = Member.objects.filter(household=OuterRef("pk"), relation=Member.Relation.SELF)
    return (
        households.filter(
            Exists(records.filter(household=OuterRef("pk"))),
            ~Exists(counting.filter(household=OuterRef("pk"))),
        )
        .select_related("village__parent")
        .annotate(
            trust_count=Count(
                "trust_records",
                filter=_in_year("trust_records__recorded_on", first_day, last_day),
            ),
            trust_kinds=ArrayAgg(
                "trust_records__kind",
                filter=_in_year("trust_records__recorded_on", first_day, last_day),
                distinct=True,
                default=[],
            ),
            applicant_name=Subquery(applicant.values("person__name")[:1]),
        )
        .prefetch_related(
            Prefetch(
                "rewards",
                queryset=Reward.objects.filter(year=year).order_by("kind"),
                to_attr="year_rewards",
            )
        )
        .order_by("village__code", "id")
    )


def _in_year(lookup: str, first_day: datetime.date, last_day: datetime.date):
    return Q(**{f"{lookup}__gte": first_day, f"{lookup}__lte": last_day})


def reward_grant(
    *,
    actor: User,
    household_id: int,
    year: int,
    kind: str,
    note: str = "",
    today: datetime.date | None = None,
) -> Reward:
    """The township approver grants a reward to a trustworthy household for ``year``."""
    today = today or timezone.localdate()
    if kind not in Reward.Kind.values:
        raise DomainError(_("Choose the reward."), field="kind")
    if not FIRST_YEAR <= year <= today.year:
        raise DomainError(_("Choose a year that has begun."), field="year")
    with transaction.atomic():
        try:
            household = (
                Household.objects.select_for_update(of=("self",))
                .select_related("village")
                .get(pk=household_id)
            )
        except Household.DoesNotExist:
            raise DomainError(_("No such household."), field="household") from None
        if not access.jurisdiction_for(actor).contains(household.village):
            raise DomainError(_("No such household."), field="household")
        if not access.has_role(actor, permissions.GRANT_REWARDS, household.village):
            raise PermissionDenied(_("Only the township's approver grants rewards."))
        first_day, last_day = _year_bounds(year)
        if not TrustRecord.objects.filter(
            household=household, recorded_on__gte=first_day, recorded_on__lte=last_day
        ).exists():
            raise DomainError(
                _("The household has no trustworthy behaviour recorded in %(year)s.")
                % {"year": year},
                field="household",
            )
        if (
            _findings_in_force_during(first_day=first_day, last_day=last_day)
            .filter(household=household)
            .exists()
        ):
            raise DomainError(
                _("The household has a finding standing in %(year)s: no reward.") % {"year": year},
                field="household",
            )
        try:
            with transaction.atomic():
                reward = Reward.objects.create(
                    household=household,
                    year=year,
                    kind=kind,
                    note=(note or "").strip()[:200],
                    granted_by=actor,
                    granted_on=today,
                )
        except IntegrityError:
            raise Conflict(_("This reward has already been granted for the year.")) from None
        audit_record(
            actor=actor,
            action="reward.grant",
            obj=reward,
            region=household.village,
            new={"year": year, "kind": kind, "household": household.pk},
            reason=reward.note,
        )
    return reward


# --- yearly results -------------------------------------------------------------------------


def _tables() -> dict[str, str]:
    models = {
        "application": Application,
        "household": Household,
        "region": Region,
        "finding": Finding,
        "result": YearlyResult,
    }
    return {name: connection.ops.quote_name(m._meta.db_table) for name, m in models.items()}


# The households of the year and the result of each, as CTEs ending in "results".
# Parameters: patterns (LIKE patterns of the region codes), first_day, last_day,
# year_start/next_year_start (aware datetimes), enrolled states, watched household ids.
RESULTS_CTE = """
WITH population AS (
    SELECT DISTINCT h.id AS household_id, h.village_id
    FROM {application} a
    JOIN {household} h ON h.id = a.household_id
    JOIN {region} v ON v.id = h.village_id
    WHERE v.code LIKE ANY(%(patterns)s)
      AND a.decided_at IS NOT NULL
      AND a.decided_at < %(next_year_start)s
      AND (a.decided_at >= %(year_start)s
           OR a.state = ANY(%(enrolled)s)
           OR a.stopped_on >= %(first_day)s)
),
standing AS (
    -- Findings standing at the end of the period (Finding.TOOK_EFFECT, not repaired by then).
    SELECT f.id, f.household_id, f.level
    FROM {finding} f
    WHERE f.found_on <= %(last_day)s
      AND f.state IN ('standing', 'objected', 'repaired')
      AND (f.ended_on IS NULL OR f.ended_on > %(last_day)s)
      AND f.household_id IN (SELECT household_id FROM population)
),
results AS (
    SELECT p.household_id, p.village_id,
           CASE WHEN bool_or(c.level IN ('moderate', 'severe')) THEN 'untrustworthy'
                WHEN bool_or(c.level = 'light') OR p.household_id = ANY(%(watched)s)
                     THEN 'watch'
                ELSE 'good' END AS result,
           COALESCE(jsonb_agg(c.id ORDER BY c.id) FILTER (WHERE c.id IS NOT NULL), '[]')
               AS findings
    FROM population p
    LEFT JOIN standing c ON c.household_id = p.household_id
    GROUP BY p.household_id, p.village_id
)
"""

# Store a county's year: rows of households no longer in the population go, the others
# are inserted or brought up to date. One statement, safe to run twice.
STORE_SQL = """{results},
gone AS (
    DELETE FROM {result} y USING {region} v
    WHERE y.year = %(year)s AND v.id = y.village_id AND v.code LIKE ANY(%(patterns)s)
      AND NOT EXISTS (SELECT 1 FROM results r WHERE r.household_id = y.household_id)
)
INSERT INTO {result} (household_id, year, village_id, result, findings, computed_at)
SELECT household_id, %(year)s, village_id, result, findings, now() FROM results
ON CONFLICT (household_id, year) DO UPDATE
SET village_id = EXCLUDED.village_id, result = EXCLUDED.result,
    findings = EXCLUDED.findings, computed_at = EXCLUDED.computed_at
"""

# The same results counted by township, not stored (the current year, live).
LIVE_SQL = """{results}
SELECT substr(v.code, 1, {township_length}) AS township, count(*) AS households,
       count(*) FILTER (WHERE r.result = 'untrustworthy') AS untrustworthy,
       count(*) FILTER (WHERE r.result = 'watch') AS watch
FROM results r JOIN {region} v ON v.id = r.village_id
GROUP BY 1
"""


def _sql(template: str) -> str:
    tables = _tables()
    return template.format(
        results=RESULTS_CTE.format(**tables),
        township_length=Region.PREFIX_LENGTH[Region.Level.TOWNSHIP],
        **tables,
    )


def _parameters(*, patterns: list[str], year: int, until: datetime.date) -> dict:
    tz = timezone.get_current_timezone()
    first_day = datetime.date(year, 1, 1)
    return {
        "patterns": patterns,
        "year": year,
        "first_day": first_day,
        "last_day": until,
        "year_start": datetime.datetime.combine(first_day, datetime.time.min, tzinfo=tz),
        "next_year_start": datetime.datetime.combine(
            until + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
        ),
        "enrolled": sorted(Application.ENROLLED_STATES),
        "watched": sorted(watched_household_ids(on=until)),
    }


def yearly_results_compute(
    *,
    county: Region,
    year: int,
    actor: User | None = None,
    today: datetime.date | None = None,
) -> dict[str, int]:
    """Store the results of ``county``'s households for ``year`` (a year that has ended);
    return the counts by result. Running it again recomputes the same rows."""
    today = today or timezone.localdate()
    if county.level != Region.Level.COUNTY:
        raise DomainError(_("Yearly results are computed for a county."), field="county")
    if not FIRST_YEAR <= year < today.year:
        raise DomainError(
            _("Only a year that has ended is stored; the current year is shown live."),
            field="year",
        )
    parameters = _parameters(
        patterns=[county.prefix + "%"], year=year, until=datetime.date(year, 12, 31)
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_sql(STORE_SQL), parameters)
        counts = dict.fromkeys(R.values, 0)
        rows = (
            YearlyResult.objects.filter(year=year, village__code__startswith=county.prefix)
            .values("result")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            counts[row["result"]] = row["n"]
        audit_record(
            actor=actor,
            action="yearly_result.compute",
            obj=county,
            region=county,
            new={"year": year, "counts": counts},
        )
    return counts


def yearly_results_request(
    *, actor: User, county: Region, year: int, today: datetime.date | None = None
) -> None:
    """The county auditor asks for ``county``'s results of ``year`` to be (re)computed by
    the worker, after this transaction commits."""
    today = today or timezone.localdate()
    access.require_role(actor, permissions.READ_CREDIT_DASHBOARD, county)
    if county.level != Region.Level.COUNTY:
        raise DomainError(_("Yearly results are computed for a county."), field="county")
    if not FIRST_YEAR <= year < today.year:
        raise DomainError(
            _("Only a year that has ended is stored; the current year is shown live."),
            field="year",
        )
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="yearly_result.request",
            obj=county,
            region=county,
            new={"year": year},
        )
        enqueue_on_commit("credit.yearly_results", county.pk, year)


# --- the dashboard --------------------------------------------------------------------------


@dataclass
class Rate:
    untrustworthy: int
    households: int
    provisional: bool = False

    @property
    def percent(self) -> Decimal | None:
        if not self.households:
            return None
        value = Decimal(100 * self.untrustworthy) / Decimal(self.households)
        return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Dashboard:
    years: list[int]
    current_year: int
    rows: list[tuple[Region, list[Rate | None]]]  # township, one rate per year
    totals: list[Rate | None]


def dashboard_county_list_for_user(*, user: User) -> QuerySet[Region]:
    jurisdiction = access.jurisdiction_for(
        user, roles=permissions.READ_CREDIT_DASHBOARD, include_grants=False
    )
    return Region.objects.filter(level=Region.Level.COUNTY).filter(jurisdiction.q(None))


def _patterns_for(user: User) -> list[str]:
    jurisdiction = access.jurisdiction_for(
        user, roles=permissions.READ_CREDIT_DASHBOARD, include_grants=False
    )
    if jurisdiction.everything:
        return ["%"]
    return [prefix + "%" for prefix in jurisdiction.prefixes]


def untrustworthy_rates_for_user(
    *, user: User, today: datetime.date | None = None, years_back: int = 5
) -> Dashboard:
    """The untrustworthy rate by township and year in the user's counties: stored results
    of past years, and the current year computed live (provisional)."""
    today = today or timezone.localdate()
    current = today.year
    patterns = _patterns_for(user)
    by_township: dict[str, dict[int, Rate]] = {}
    if patterns:
        stored = (
            access.restrict(
                YearlyResult.objects.filter(year__gte=current - years_back, year__lt=current),
                user,
                region_field="village",
                roles=permissions.READ_CREDIT_DASHBOARD,
            )
            .annotate(
                township=Substr("village__code", 1, Region.PREFIX_LENGTH[Region.Level.TOWNSHIP])
            )
            .values("year", "township")
            .annotate(
                households=Count("id"),
                untrustworthy=Count("id", filter=_result_q(R.UNTRUSTWORTHY)),
            )
            .order_by()
        )
        for row in stored:
            by_township.setdefault(row["township"], {})[row["year"]] = Rate(
                row["untrustworthy"], row["households"]
            )
        with connection.cursor() as cursor:
            cursor.execute(
                _sql(LIVE_SQL),
                _parameters(patterns=patterns, year=current, until=today),
            )
            for township, households, untrustworthy, _watch in cursor.fetchall():
                by_township.setdefault(township, {})[current] = Rate(
                    untrustworthy, households, provisional=True
                )
    years = sorted({year for rates in by_township.values() for year in rates} | {current})
    names = {
        r.township_prefix: r
        for r in Region.objects.filter(
            code__in=[Region.code_from_prefix(p) for p in by_township]
        ).order_by("code")
    }
    rows = [
        (
            names.get(prefix) or Region(code=Region.code_from_prefix(prefix), name=prefix),
            [by_township[prefix].get(year) for year in years],
        )
        for prefix in sorted(by_township)
    ]
    totals = []
    for i, year in enumerate(years):
        cells = [cells[i] for _township, cells in rows if cells[i] is not None]
        totals.append(
            Rate(
                sum(c.untrustworthy for c in cells),
                sum(c.households for c in cells),
                provisional=year == current,
            )
            if cells
            else None
        )
    return Dashboard(years=years, current_year=current, rows=rows, totals=totals)


def untrustworthy_rate_chart(dashboard: Dashboard) -> charts.Chart:
    """The county's rate by year: the total row of the dashboard's table, drawn as bars
    (the same figures, from the same grouped queries)."""
    labels = [
        _("%(year)s (provisional)") % {"year": year}
        if year == dashboard.current_year
        else str(year)
        for year in dashboard.years
    ]
    percents = [rate.percent if rate else None for rate in dashboard.totals]
    caption = _("Untrustworthy rate by year, all townships")
    return charts.chart(
        caption=caption,
        summary=caption
        + _(": ")
        + charts.listing(
            [(label, f"{p}%") for label, p in zip(labels, percents, strict=True) if p is not None]
        ),
        labels=labels,
        series=[charts.Series(_("Untrustworthy rate in per cent"), percents)],
        y_title=_("Untrustworthy rate in per cent"),
        percent=True,
    )


def _result_q(result: str):
    return Q(result=result)


def latest_county_rate_for_user(*, user: User, today: datetime.date | None = None) -> tuple:
    """(year, Rate) of the latest stored year in the user's counties, for the home page."""
    today = today or timezone.localdate()
    rows = list(
        access.restrict(
            YearlyResult.objects.filter(year__lt=today.year),
            user,
            region_field="village",
            roles=permissions.READ_CREDIT_DASHBOARD,
        )
        .values("year")
        .annotate(
            households=Count("id"), untrustworthy=Count("id", filter=_result_q(R.UNTRUSTWORTHY))
        )
        .order_by("-year")[:1]
    )
    if not rows:
        return None, None
    return rows[0]["year"], Rate(rows[0]["untrustworthy"], rows[0]["households"])
