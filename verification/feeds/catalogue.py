"""The catalogue of departments and the data items each supplies (domain.md §4).

Reference data, loaded idempotently: running it again adds what is missing and leaves
what an admin has changed alone.
"""

from __future__ import annotations

from django.db import transaction

from verification.feeds.models import DataItem, Department, Feed

C = DataItem.CompareAs
S = DataItem.Sensitivity

# Our field -> the department's column. "text" (details such as a plate number) is
# optional and not mapped by default.
DEFAULT_COLUMN_MAPPING = {
    "identity_number": "身份证号",
    "name": "姓名",
    "item": "项目",
    "value": "数值",
    "date": "日期",
}

# code, name, [(item code, item name, sensitivity, compared as)]
CATALOGUE: list[tuple[str, str, list[tuple[str, str, str, str]]]] = [
    (
        "public_security",
        "公安",
        [
            ("household_registration", "户籍信息", S.MEDIUM, C.INFORMATION),
            ("vehicle", "机动车", S.MEDIUM, C.VEHICLE),
        ],
    ),
    ("finance", "财政", [("public_salary", "财政供养人员工资", S.HIGH, C.PUBLIC_SALARY)]),
    (
        "hrss",
        "人社",
        [
            ("pension", "养老金", S.MEDIUM, C.MONTHLY_INCOME),
            ("social_insurance_wage", "社保缴费工资", S.MEDIUM, C.MONTHLY_INCOME),
        ],
    ),
    ("housing", "住建/不动产", [("real_estate", "不动产登记", S.HIGH, C.REAL_ESTATE)]),
    ("bank", "人民银行/银行", [("deposit", "存款", S.HIGH, C.DEPOSIT)]),
    ("tax", "税务", [("business_tax", "经营纳税", S.HIGH, C.BUSINESS)]),
    ("market", "市场监管", [("business_registration", "工商登记", S.LOW, C.BUSINESS)]),
    ("financial_office", "金融办", [("securities", "证券", S.HIGH, C.SECURITIES)]),
    ("provident_fund", "公积金中心", [("provident_fund", "住房公积金", S.MEDIUM, C.INFORMATION)]),
    (
        "civil_affairs",
        "民政",
        [
            ("death", "死亡火化", S.MEDIUM, C.DEATH),
            ("other_assistance", "其他救助", S.LOW, C.INFORMATION),
        ],
    ),
]


@transaction.atomic
def load_catalogue() -> list[Department]:
    """Every department of the catalogue with its items, and a feed for each snapshot
    department. Returns the departments in catalogue order."""
    departments = []
    for code, name, items in CATALOGUE:
        department, _created = Department.objects.get_or_create(code=code, defaults={"name": name})
        for item_code, item_name, sensitivity, compare_as in items:
            DataItem.objects.get_or_create(
                department=department,
                code=item_code,
                defaults={"name": item_name, "sensitivity": sensitivity, "compare_as": compare_as},
            )
        if department.channel == Department.Channel.SNAPSHOT:
            Feed.objects.get_or_create(
                department=department,
                defaults={"column_mapping": dict(DEFAULT_COLUMN_MAPPING)},
            )
        departments.append(department)
    return departments
