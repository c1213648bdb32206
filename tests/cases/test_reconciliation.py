"""Four-ledger reconciliation and the monthly statistics table (domain.md §7), on the real
database: each kind of disagreement, the agreement rate, explanations kept across runs,
closing, the statistics built from the closed month and frozen once submitted."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from aid_portal.errors import Conflict, DomainError
from cases.payments import bankfiles
from cases.payments import reconciliation as rec
from cases.payments import services as payments
from cases.payments.models import Award, ReconciliationException, RosterLine
from cases.publicity import services as publicity
from tests.cases.test_payments import NEXT_MONTH as NEXT
from tests.cases.test_payments import THIS_MONTH, _return, approve, prepare

X = ReconciliationException.Kind


def run(people, places):
    return rec.reconciliation_run(
        actor=people.auditor, county_id=places.county.pk, month=THIS_MONTH
    )


def paid_month(people, places, finance, abc, *, fail=()):
    roster = approve(people, finance, prepare(people, places))
    lines = list(roster.lines.order_by("id"))
    results = {line.pk: ("failed", "account_closed") for line in lines if line.pk in fail}
    bankfiles.return_apply(
        actor=people.auditor,
        roster_id=roster.pk,
        bank_id=abc.pk,
        file_name="r.csv",
        content=_return(lines, results=results),
    )
    return roster


def publish(people, places):
    """The village's public roster of the month (cases.publicity), from the frozen roster."""
    return publicity.public_roster_publish(
        actor=people.caseworker_a, village_id=places.village_a.pk, month=THIS_MONTH
    )


def kinds(reconciliation):
    return sorted(reconciliation.exceptions.values_list("kind", flat=True))


def test_a_month_paid_as_due_agrees_fully(paying, people, places, finance, abc):
    paying()
    paying()
    paid_month(people, places, finance, abc)
    publish(people, places)
    reconciliation = run(people, places)
    assert kinds(reconciliation) == []
    assert reconciliation.rate == Decimal("1.0000")
    township = reconciliation.rates[places.township_a.code[:9]]
    assert (township["due"], township["with_exceptions"], township["rate"]) == (2, 0, "1.0000")


def test_each_disagreement_is_listed_by_household(paying, people, places, finance, abc):
    late = paying()  # due, but enrolled after the roster was frozen
    failed = paying()
    changed = paying()
    roster = approve(people, finance, prepare(people, places))
    late_award = Award.objects.get(application=late.application)
    RosterLine.objects.filter(roster=roster, application=late.application).delete()
    line = roster.lines.get(application=failed.application)
    # The decision changed after the roster was frozen: the roster no longer matches it.
    Award.objects.filter(application=changed.application).update(monthly_amount=Decimal("1.00"))
    # The bank's answer, as a return would record it (the test edited the frozen roster,
    # so no file goes out).
    RosterLine.objects.filter(pk=line.pk).update(outcome="failed", failure="frozen")
    RosterLine.objects.filter(roster=roster).exclude(pk=line.pk).update(outcome="paid")
    publish(people, places)
    reconciliation = run(people, places)
    found = {(e.kind, e.application_id) for e in reconciliation.exceptions.all()}
    assert found == {
        (X.DUE_NOT_ROSTERED, late.application.pk),
        # Not on the roster, so not on the public roster built from it either.
        (X.ENROLLED_NOT_PUBLISHED, late.application.pk),
        (X.FAILED, failed.application.pk),
        (X.AMOUNT_DIFFERS, changed.application.pk),
    }
    assert (
        late_award.monthly_amount == reconciliation.exceptions.get(kind=X.DUE_NOT_ROSTERED).expected
    )
    assert reconciliation.rate == Decimal("0.0000")


def test_a_reissue_paid_clears_the_failure(paying, people, places, finance, abc):
    paying()
    roster = approve(people, finance, prepare(people, places))
    line = roster.lines.get()
    bankfiles.return_apply(
        actor=people.auditor,
        roster_id=roster.pk,
        bank_id=abc.pk,
        file_name="r.csv",
        content=_return([line], results={line.pk: ("failed", "account_closed")}),
    )
    publish(people, places)
    assert kinds(run(people, places)) == [X.FAILED]
    extra = payments.supplementary_prepare(
        actor=people.caseworker_a,
        township_id=places.township_a.pk,
        month=THIS_MONTH,
        reissue_line_ids=[line.pk],
    )
    approve(people, finance, extra)
    bankfiles.return_apply(
        actor=people.auditor,
        roster_id=extra.pk,
        bank_id=abc.pk,
        file_name="r2.csv",
        content=_return(list(extra.lines.all())),
    )
    assert kinds(run(people, places)) == []


def test_explanations_survive_a_new_comparison_and_the_month_closes(
    paying, people, places, finance, abc
):
    paying()
    reconciliation = run(people, places)  # no roster yet: due but not rostered
    assert kinds(reconciliation) == [X.DUE_NOT_ROSTERED, X.ENROLLED_NOT_PUBLISHED]
    village = reconciliation.exceptions.get(kind=X.ENROLLED_NOT_PUBLISHED)
    assert (village.household_id, village.village_id) == (None, places.village_a.pk)
    rec.exception_handle(
        actor=people.caseworker_a,
        exception_id=village.pk,
        note="名册未锁定，未公示",
        resolved=False,
    )
    exception = reconciliation.exceptions.get(kind=X.DUE_NOT_ROSTERED)
    with pytest.raises(DomainError):
        rec.reconciliation_close(actor=people.auditor, reconciliation_id=reconciliation.pk)
    with pytest.raises(DomainError):  # another township's: as if it did not exist
        rec.exception_handle(
            actor=people.caseworker_b, exception_id=exception.pk, note="不是本乡镇", resolved=False
        )
    with pytest.raises(PermissionDenied):  # the county's finance may read, not explain
        rec.exception_handle(
            actor=finance, exception_id=exception.pk, note="财政核对", resolved=False
        )
    rec.exception_handle(
        actor=people.caseworker_a,
        exception_id=exception.pk,
        note="账户待开立，下月补发",
        resolved=False,
    )
    again = run(people, places)
    kept = again.exceptions.get(kind=X.DUE_NOT_ROSTERED)
    assert (kept.status, kept.note) == ("explained", "账户待开立，下月补发")
    closed = rec.reconciliation_close(actor=people.auditor, reconciliation_id=again.pk)
    assert closed.state == "closed"
    with pytest.raises(Conflict):
        run(people, places)


def test_statistics_come_from_the_closed_month_and_freeze(paying, people, places, finance, abc):
    paying()
    paying()
    with pytest.raises(DomainError):
        rec.statistics_build(actor=people.auditor, county_id=places.county.pk, month=THIS_MONTH)
    roster = paid_month(people, places, finance, abc)
    publish(people, places)
    reconciliation = run(people, places)
    rec.reconciliation_close(actor=people.auditor, reconciliation_id=reconciliation.pk)
    table = rec.statistics_build(actor=people.auditor, county_id=places.county.pk, month=THIS_MONTH)
    (row,) = table.rows
    assert (row["households"], row["people"], row["new"], row["stopped"]) == (2, 4, 2, 0)
    assert Decimal(row["paid"]) == roster.total
    assert Decimal(row["average_per_person"]) == (roster.total / 4).quantize(Decimal("0.01"))
    assert table.due_on.day == 20
    rec.statistics_submit(actor=people.auditor, statistics_id=table.pk)
    with pytest.raises(Conflict):
        rec.statistics_build(actor=people.auditor, county_id=places.county.pk, month=THIS_MONTH)


def test_the_pages_show_each_township_its_own_exceptions(client, paying, people, places):
    paying()
    done = run(people, places)
    village = done.exceptions.get(kind=X.ENROLLED_NOT_PUBLISHED)
    rec.exception_handle(
        actor=people.caseworker_a, exception_id=village.pk, note="尚未公示", resolved=False
    )
    exception = done.exceptions.get(kind=X.DUE_NOT_ROSTERED)
    client.force_login(people.caseworker_b)
    page = client.get(f"/cases/payments/reconciliation/{done.pk}/")
    assert page.status_code == 200
    assert f'id="exception-{exception.pk}"' not in page.content.decode()
    client.force_login(people.caseworker_a)
    page = client.get(f"/cases/payments/reconciliation/{done.pk}/")
    assert f'id="exception-{exception.pk}"' in page.content.decode()
    row = client.post(
        f"/cases/payments/exceptions/{exception.pk}/",
        {"note": "本月开户，下月补发"},
        headers={"HX-Request": "true"},
    )
    assert row.status_code == 200 and "本月开户，下月补发" in row.content.decode()
    client.force_login(people.auditor)
    client.post(f"/cases/payments/reconciliation/{done.pk}/close/")
    done.refresh_from_db()
    assert done.state == "closed"
    built = client.post(f"/cases/payments/reconciliation/{done.pk}/statistics/")
    assert built.status_code == 302
    table = client.get(built.url + "?format=xlsx")
    assert table["Content-Type"].startswith("application/vnd.openxmlformats")
    listing = client.get("/cases/payments/reconciliation/")
    assert "100.00%" not in listing.content.decode()  # the one household has an exception
    assert listing.status_code == 200


def test_the_public_roster_is_a_ledger_of_its_own(paying, people, places, finance, abc):
    kept = paying()
    gone = paying()
    paid_month(people, places, finance, abc)
    published = publish(people, places)
    # Published, then the family's benefit was stopped back to before the month.
    Award.objects.filter(application=gone.application).update(until_month=None, from_month=NEXT)
    # Enrolled, and its entry missing from what was published.
    published.entries.filter(household=kept.application.household).delete()
    found = {(e.kind, e.household_id) for e in run(people, places).exceptions.all()}
    assert (X.PUBLISHED_NOT_ENROLLED, gone.application.household_id) in found
    assert (X.ENROLLED_NOT_PUBLISHED, kept.application.household_id) in found
