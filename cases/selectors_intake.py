"""Reads for the intake pages, each starting from the user's jurisdiction."""

from __future__ import annotations

from django.db.models import QuerySet

from aid_portal import access, permissions
from aid_portal.models import Region, User
from cases.models import Application, Document, ProofItem, ProofStatus


def intake_villages_for_user(*, user: User) -> QuerySet[Region]:
    """Villages where ``user`` may file a household: where they hold an intake role
    themselves (cover grants widen reading, never acting)."""
    jurisdiction = access.jurisdiction_for(
        user, roles=permissions.FILE_APPLICATIONS, include_grants=False
    )
    return (
        Region.objects.filter(level=Region.Level.VILLAGE)
        .filter(jurisdiction.q(None))
        .select_related("parent")
        .order_by("code")
    )


def household_documents_for_user(*, user: User, household_id: int) -> QuerySet[Document]:
    """The household file (一户一档), by kind then date; empty outside the jurisdiction."""
    return (
        access.restrict(
            Document.objects.select_related("uploaded_by"),
            user,
            region_field="household__village",
        )
        .filter(household_id=household_id)
        .order_by("kind", "uploaded_at")
    )


def proof_catalogue_for(
    application: Application,
) -> list[tuple[ProofItem, ProofStatus | None]]:
    """The catalogue items that apply to the application's type, each with its status.

    ``application`` comes from application_get_for_user (gated, proofs prefetched); the
    catalogue itself is public reference data.
    """
    statuses = {proof.item_id: proof for proof in application.proofs.all()}
    return [
        (item, statuses.get(item.pk))
        for item in ProofItem.objects.filter(active=True).order_by("code")
        if item.applies_to(application.assistance_type)
    ]
