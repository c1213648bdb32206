"""Case objects for the access matrix: one application inside township A, one in the
other county. Rows of the matrix that concern cases read them from ``world.cases``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from aid_portal import services as core_services
from aid_portal.models import Role
from cases.intake import services
from cases.models import Application, Member, Policy, ProofItem
from tests.cases.conftest import identity


@dataclass
class CaseWorld:
    case_a: Application  # in 龙王坝村, township A
    case_other: Application  # in the other county


def build_case_world(places, people) -> CaseWorld:
    for county in (places.county, places.other_county):
        Policy.objects.get_or_create(
            county=county,
            effective_from=datetime.date(2026, 1, 1),
            defaults={
                "dibao_standard_urban": Decimal("800"),
                "dibao_standard_rural": Decimal("600"),
            },
        )
    ProofItem.objects.get_or_create(code="id_card", defaults={"name": "身份证复印件"})
    other_caseworker = core_services.user_create(
        actor=None, username="caseworker_other", full_name="caseworker_other", password=None
    )
    core_services.role_grant(
        actor=None,
        user=other_caseworker,
        role=Role.TOWNSHIP_CASEWORKER,
        region=places.other_township,
    )

    def family(actor, village, area, sequence):
        household = services.household_create(actor=actor, village=village, address="某村1号")
        services.member_add(
            actor=actor,
            household=household,
            identity_number=identity(area, "19650505", sequence),
            name=f"户主{sequence}",
            relation=Member.Relation.SELF,
        )
        return services.application_create(
            actor=actor, household=household, assistance_type="dibao_rural"
        )

    return CaseWorld(
        case_a=family(people.caseworker_a, places.village_a, "642222", 901),
        case_other=family(other_caseworker, places.other_village, "640402", 903),
    )
