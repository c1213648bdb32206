"""Credit restrictions on cases: what the credit app reports (a block on new
applications, a watch, a hold) and what every feature checks before it acts.

At app level because the credit app reports them through one door, and intake (refusing
a blocked person), casework (holds) and reviews (watched households) all read them.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from cases.models import (
    CreditRestriction,
)


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


# --- credit restrictions (the credit app reports them through the services) ---------------


def credit_block_in_force(
    *, identity_hashes: Iterable[str], on: datetime.date
) -> CreditRestriction | None:
    """The block in force on ``on`` for any of these people, the one ending last."""
    hashes = [h for h in identity_hashes if h]
    if not hashes:
        return None
    return (
        CreditRestriction.objects.filter(
            CreditRestriction.q_in_force(on),
            kind=CreditRestriction.Kind.BLOCK,
            person__identity_hash__in=hashes,
        )
        .select_related("person")
        .order_by("-ends_on", "-id")
        .first()
    )


def household_is_watched(*, household_id: int, on: datetime.date) -> bool:
    """On the credit watch list (a light finding in force): reviewed more often (domain.md §6)."""
    return CreditRestriction.objects.filter(
        CreditRestriction.q_in_force(on),
        kind=CreditRestriction.Kind.WATCH_LIST,
        household_id=household_id,
    ).exists()
