"""The catalogue of untrustworthy behaviours (domain.md §6), from the Xiji pilot's
three levels and Huangshi's two.

Reference data, loaded idempotently by a data migration: loading again adds what is
missing and leaves alone what an admin has changed (names, retired rows, added rows).
The two "two consecutive findings" rows of Xiji are not on the catalogue: escalation is
applied by credit.findings.services, not chosen by hand.
"""

from __future__ import annotations

# code, name, level as the source gives it, source
BEHAVIOURS: list[tuple[str, str, str, str]] = [
    (
        "xj-false-material-minor",
        "通过提供虚假申请材料或虚假证明申请最低生活保障待遇且情节较轻",
        "light",
        "XJ",
    ),
    (
        "xj-admits-at-once",
        "经办机构发现弄虚作假后，能够主动承认错误并及时改正",
        "light",
        "XJ",
    ),
    (
        "xj-false-material-refuses",
        "提供虚假申请材料或虚假证明，经批评教育后仍拒不改正",
        "moderate",
        "XJ",
    ),
    (
        "xj-hides-assets-repays",
        "通过谎报瞒报、离婚、赠与及转让等方式放弃应得财产骗取救助，经批评教育及时改正并主动退回违规资金",
        "moderate",
        "XJ",
    ),
    (
        "xj-hides-assets-refuses",
        "通过谎报瞒报、离婚、赠与及转让等方式放弃应得财产骗取救助，经批评教育仍拒不改正且不主动退回违规资金",
        "severe",
        "XJ",
    ),
    (
        "xj-false-report",
        "个人举报的社会救助相关问题，经查证举报不实",
        "severe",
        "XJ",
    ),
    (
        "xj-obstructs-staff",
        "通过贿赂、胁迫、殴打、辱骂等不正当方式影响、干扰和阻挠工作人员履行职责",
        "severe",
        "XJ",
    ),
    (
        "hs-general",
        "一般失信行为：未如实申报家庭经济状况，情节一般",
        "general",
        "HS",
    ),
    (
        "hs-serious",
        "严重失信行为：以虚假申报等手段骗取社会救助，情节严重",
        "serious",
        "HS",
    ),
]


def catalogue_load(behaviour_model) -> int:
    """Add the rows that are missing; return how many were added. Takes the model so a
    data migration can pass its historical one."""
    existing = set(behaviour_model.objects.values_list("code", flat=True))
    missing = [
        behaviour_model(code=code, name=name, level=level, source=source)
        for code, name, level, source in BEHAVIOURS
        if code not in existing
    ]
    behaviour_model.objects.bulk_create(missing)
    return len(missing)
