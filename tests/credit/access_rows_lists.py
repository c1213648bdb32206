"""Access-matrix rows of search and export on the credit lists (aid_portal.listing): the
findings, the decisions queue, the interviews, objections, repairs and outbox, the trust
records and the rewards list, for every role: searched, exported (CSV, XLSX) and
exported unmasked with a purpose. The data: tests.credit.access_rows_credit.findings."""

from django.urls import reverse

from tests.cases.access_rows_lists import UNMASK, UNMASKED
from tests.credit.access_rows_credit import READERS, findings
from tests.credit.access_rows_trust import NOT_OTHER as NOT_OTHER_TRUST
from tests.credit.access_rows_trust import NOT_OTHER_APPLICANT, TRUST_READERS, trust_data
from tests.test_access_matrix import ANON, API_ANON, PAGE_LOGIN, PEOPLE, Row

DECIDERS = {"approver_a", "auditor", "outsider_auditor", "superuser"}


def statuses(allowed, *, otherwise: int) -> dict[str, int]:
    allowed = set(allowed) | {"superuser"}
    return {p: (200 if p in allowed else otherwise) for p in PEOPLE} | {ANON: PAGE_LOGIN}


def url(name: str, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return lambda w: (findings(w), f"{reverse(name)}?{query}")[1]


NOT_OTHER_COUNTY = {
    p: (lambda w: f"\n#{findings(w)[1]},") for p in READERS - {"outsider_auditor", "caseworker_b"}
}

ROWS = [
    Row(
        "search: credit findings",
        url("credit:findings", q="户主", level="light"),
        statuses(READERS, otherwise=403),
    ),
    Row(
        "export: credit findings, CSV",
        url("credit:findings", export="csv"),
        statuses(READERS, otherwise=403),
        must_not_contain=NOT_OTHER_COUNTY,
    ),
    Row(
        "export: credit findings, XLSX",
        url("credit:findings", export="xlsx"),
        statuses(READERS, otherwise=403),
    ),
    Row(
        "export: credit findings, unmasked",
        url("credit:findings", export="csv", **UNMASKED),
        statuses(READERS & UNMASK, otherwise=403),
    ),
    Row(
        "search: credit decisions",
        url("credit:decisions", q="户主"),
        statuses(DECIDERS, otherwise=403),
    ),
    Row(
        "export: credit decisions, CSV",
        url("credit:decisions", export="csv"),
        statuses(DECIDERS, otherwise=403),
        must_not_contain={"auditor": lambda w: f"\n#{findings(w)[1]},"},
    ),
    Row(
        "export: credit decisions, XLSX",
        url("credit:decisions", export="xlsx"),
        statuses(DECIDERS, otherwise=403),
    ),
    Row(
        "export: credit decisions, unmasked",
        url("credit:decisions", export="csv", **UNMASKED),
        statuses(DECIDERS & UNMASK, otherwise=403),
    ),
]

# The queues of a finding's rows: the roles of their pages (tests.credit.access_rows_credit).
QUEUES = [
    ("credit:interviews", "interviews", {"caseworker_a", "approver_a", "caseworker_b"}),
    (
        "credit:objections",
        "objections",
        {"caseworker_a", "approver_a", "caseworker_b", "auditor", "outsider_auditor"},
    ),
    ("credit:repairs", "repairs", {"approver_a", "auditor", "outsider_auditor"}),
    ("credit:outbox", "outbox", {"auditor", "feedadmin", "outsider_auditor"}),
]

for _name, _label, _allowed in QUEUES:
    ROWS += [
        Row(
            f"search: credit {_label}",
            url(_name, q="户主", village="64"),
            statuses(_allowed, otherwise=403),
        ),
        Row(
            f"export: credit {_label}, CSV",
            url(_name, export="csv"),
            statuses(_allowed, otherwise=403),
            must_not_contain={"caseworker_b": lambda w: f",#{findings(w)[0]},"},
        ),
        Row(
            f"export: credit {_label}, XLSX",
            url(_name, export="xlsx"),
            statuses(_allowed, otherwise=403),
        ),
        Row(
            f"export: credit {_label}, unmasked",
            url(_name, export="csv", **UNMASKED),
            statuses(_allowed & UNMASK, otherwise=403),
        ),
    ]
ROWS.append(
    Row(
        "search: api credit outbox",
        url("api-credit-outbox", q="户主", state="pending"),
        statuses(QUEUES[-1][2], otherwise=403) | {ANON: API_ANON},
        api=True,
    )
)


def trust_url(name: str, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return lambda w: (trust_data(w), f"{reverse(name)}?{query}")[1]


for _name, _label, _hide in (
    ("credit:trust-records", "trust records", NOT_OTHER_TRUST),
    ("credit:rewards", "rewards", NOT_OTHER_APPLICANT),
):
    ROWS += [
        Row(
            f"search: {_label}",
            trust_url(_name, q="户主", village="64"),
            statuses(TRUST_READERS, otherwise=403),
            must_not_contain=_hide,
        ),
        Row(
            f"export: {_label}, CSV",
            trust_url(_name, export="csv"),
            statuses(TRUST_READERS, otherwise=403),
            must_not_contain=_hide,
        ),
        Row(
            f"export: {_label}, XLSX",
            trust_url(_name, export="xlsx"),
            statuses(TRUST_READERS, otherwise=403),
        ),
        Row(
            f"export: {_label}, unmasked",
            trust_url(_name, export="csv", **UNMASKED),
            statuses(TRUST_READERS & UNMASK, otherwise=403),
        ),
    ]
for _name, _label in (
    ("api-credit-trust-records", "trust records"),
    ("api-credit-rewards", "rewards"),
):
    ROWS.append(
        Row(
            f"search: api {_label}",
            trust_url(_name, q="户主", year="2025"),
            statuses(TRUST_READERS, otherwise=403) | {ANON: API_ANON},
            api=True,
        )
    )
