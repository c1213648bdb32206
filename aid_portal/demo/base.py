"""The demo's places and staff: the region tree of Xiji county and the eleven demo logins."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from aid_portal import services
from aid_portal.models import CalendarYear, Region, Role, RoleAssignment, User

DEMO_PASSWORD = "Demo2026!xj"  # noqa: S105 - printed by the launcher on purpose
REGIONS_CSV = Path(__file__).with_name("regions.csv")
COUNTY_CODE = "640422000000"
TOWNSHIP_A = "640422100000"  # 吉强镇
TOWNSHIP_B = "640422101000"  # 兴隆镇
VILLAGE_A = "640422100201"  # 龙王坝村
VILLAGE_B = "640422101201"  # 单家集村


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: str | None
    region_code: str | None
    superuser: bool = False


DEMO_USERS = [
    DemoUser("caseworker_a", "马秀兰", Role.TOWNSHIP_CASEWORKER, TOWNSHIP_A),
    DemoUser("approver_a", "李建国", Role.TOWNSHIP_APPROVER, TOWNSHIP_A),
    DemoUser("assistant_a", "杨文华", Role.VILLAGE_ASSISTANT, VILLAGE_A),
    DemoUser("caseworker_b", "王海燕", Role.TOWNSHIP_CASEWORKER, TOWNSHIP_B),
    DemoUser("approver_b", "张志强", Role.TOWNSHIP_APPROVER, TOWNSHIP_B),
    DemoUser("assistant_b", "苏玉梅", Role.VILLAGE_ASSISTANT, VILLAGE_B),
    DemoUser("auditor", "田明", Role.COUNTY_AUDITOR, COUNTY_CODE),
    DemoUser("verifier", "何丽", Role.VERIFICATION_OFFICER, COUNTY_CODE),
    DemoUser("feedadmin", "周斌", Role.FEED_ADMIN, COUNTY_CODE),
    DemoUser("finance", "韩淑琴", Role.FINANCE_REVIEWER, COUNTY_CODE),
    DemoUser("admin", "系统管理员", None, None, superuser=True),
]


def load_staff() -> None:
    services.region_tree_load(csv_text=REGIONS_CSV.read_text(encoding="utf-8"), actor=None)
    with transaction.atomic():
        for demo in DEMO_USERS:
            user = User.objects.filter(username=demo.username).first()
            if user is None:
                user = services.user_create(
                    actor=None,
                    username=demo.username,
                    full_name=demo.full_name,
                    password=DEMO_PASSWORD,
                    is_superuser=demo.superuser,
                )
            if demo.role is not None:
                region = Region.objects.get(code=demo.region_code)
                if not RoleAssignment.objects.filter(
                    user=user, role=demo.role, region=region
                ).exists():
                    services.role_grant(actor=None, user=user, role=demo.role, region=region)
        # chinese-calendar knows the State Council schedules up to 2026. The demo marks
        # 2027 as entered so that deadlines past New Year can be computed; a real
        # office enters the published 2027 schedule instead.
        CalendarYear.objects.get_or_create(
            year=2027, defaults={"source": "演示数据：2027年放假安排公布前按周末计算，公布后须更新"}
        )
