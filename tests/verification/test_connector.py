"""The live connector against the real simulator on loopback: answers, retries,
timeouts, failures and garbage."""

from __future__ import annotations

import datetime
import json
import time
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from aid_portal.simulator import records_for
from tests.verification.conftest import SEED, identity_number
from verification.feeds.models import DataItem, Department
from verification.requests.connector import (
    BadAnswer,
    ConnectorError,
    DepartmentUnavailable,
    QueryRefused,
    answer_parse,
    query_department,
)

pytestmark = pytest.mark.django_db

PEOPLE = [(identity_number(n), f"成员{n}") for n in range(1, 21)]


@pytest.fixture(autouse=True)
def _english():
    # The messages are checked in their English source form.
    with translation.override("en"):
        yield


def live_department(url: str, *, code: str = "hrss", timeout_seconds: int = 5) -> Department:
    department = Department.objects.create(
        code=code,
        name={"hrss": "人社局", "bank": "人民银行"}[code],
        channel=Department.Channel.LIVE,
        live_url=url,
        timeout_seconds=timeout_seconds,
    )
    items = {
        "hrss": [
            ("pension", "养老金", DataItem.CompareAs.MONTHLY_INCOME),
            ("social_insurance_wage", "社保缴费工资", DataItem.CompareAs.MONTHLY_INCOME),
        ],
        "bank": [("deposit", "存款", DataItem.CompareAs.DEPOSIT)],
    }[code]
    for item_code, name, compare_as in items:
        DataItem.objects.create(
            department=department,
            code=item_code,
            name=name,
            sensitivity=DataItem.Sensitivity.HIGH,
            compare_as=compare_as,
        )
    return department


@pytest.fixture
def hrss(simulator) -> Department:
    return live_department(simulator.url)


def expected_records(department: str) -> list[tuple]:
    return [
        (
            record["identity_number"],
            record["item"],
            Decimal(record["value"]),
            record["text"],
            datetime.date.fromisoformat(record["date"]),
        )
        for number, _name in PEOPLE
        for record in records_for(
            department=department, identity_number=number, seed=SEED, as_of=datetime.date.today()
        )
    ]


def as_tuples(records: list[dict]) -> list[tuple]:
    return [
        (r["identity_number"], r["item"].code, r["value"], r["text"], r["record_date"])
        for r in records
    ]


def test_the_connector_returns_the_departments_records(hrss, simulator):
    request_id = uuid.uuid4()
    records = query_department(department=hrss, request_id=request_id, people=PEOPLE)
    assert records, "20 people and not one pension or wage: the fixture people changed?"
    assert as_tuples(records) == expected_records("hrss")
    assert all(isinstance(r["item"], DataItem) and r["item"].department == hrss for r in records)
    assert simulator.attempts(request_id) == 1


def test_asking_again_with_the_same_request_id_gives_the_same_records(hrss, simulator):
    request_id = uuid.uuid4()
    first = query_department(department=hrss, request_id=request_id, people=PEOPLE)
    second = query_department(department=hrss, request_id=str(request_id), people=PEOPLE)
    assert as_tuples(first) == as_tuples(second)
    assert simulator.attempts(request_id) == 2


def test_it_retries_and_succeeds_after_failures(start_simulator):
    sim = start_simulator(fail_first=2)
    department = live_department(sim.url)
    request_id = uuid.uuid4()
    records = query_department(department=department, request_id=request_id, people=PEOPLE)
    assert as_tuples(records) == expected_records("hrss")
    assert sim.attempts(request_id) == 3


def test_it_retries_through_random_failures_with_a_fixed_seed(start_simulator):
    # With seed 7 and a failure rate of 0.5, the simulator's first roll is a failure
    # and its second is not: one retry, then the answer.
    sim = start_simulator(failure_rate=0.5)
    department = live_department(sim.url)
    request_id = uuid.uuid4()
    records = query_department(department=department, request_id=request_id, people=PEOPLE)
    assert as_tuples(records) == expected_records("hrss")
    assert sim.attempts(request_id) == 2
    assert sim.stats()["failed"] == 1


def test_it_gives_up_when_the_department_always_fails(start_simulator):
    sim = start_simulator(failure_rate=1.0)
    department = live_department(sim.url)
    request_id = uuid.uuid4()
    started = time.monotonic()
    with pytest.raises(DepartmentUnavailable) as caught:
        query_department(department=department, request_id=request_id, people=PEOPLE)
    assert "HTTP 500" in caught.value.message
    assert "人社局" in caught.value.message
    assert sim.attempts(request_id) == 3
    assert time.monotonic() - started >= 1.5  # waited 0.5 s, then 1 s, between attempts


def test_a_department_slower_than_its_timeout_times_out(start_simulator):
    sim = start_simulator(latency_ms=1600)
    department = live_department(sim.url, timeout_seconds=1)
    request_id = uuid.uuid4()
    with pytest.raises(DepartmentUnavailable, match="timed out") as caught:
        query_department(department=department, request_id=request_id, people=PEOPLE)
    assert "after 1 s, 3 attempts" in caught.value.message
    assert sim.attempts(request_id) == 3


def test_an_unreachable_department_is_unavailable(db):
    department = live_department("http://127.0.0.1:9")  # discard port: nobody listens
    with pytest.raises(DepartmentUnavailable, match="could not be reached after 3 attempts"):
        query_department(department=department, request_id=uuid.uuid4(), people=PEOPLE)


def test_a_garbage_answer_is_a_bad_answer_and_not_retried(start_simulator):
    sim = start_simulator(garbage_rate=1.0)
    department = live_department(sim.url, code="bank")
    request_id = uuid.uuid4()
    with pytest.raises(BadAnswer, match="not JSON"):
        query_department(department=department, request_id=request_id, people=PEOPLE)
    assert sim.attempts(request_id) == 1


def test_a_malformed_question_is_refused_and_not_retried(hrss, simulator):
    queries_before = simulator.stats()["queries"]
    with pytest.raises(QueryRefused, match="HTTP 400") as caught:
        query_department(
            department=hrss, request_id=uuid.uuid4(), people=[("64042219800101001X", "马")]
        )
    assert "check character" in caught.value.message
    assert simulator.stats()["queries"] == queries_before + 1


def test_a_request_id_reused_for_other_people_is_refused(hrss):
    request_id = uuid.uuid4()
    query_department(department=hrss, request_id=request_id, people=PEOPLE[:1])
    with pytest.raises(QueryRefused, match="HTTP 409"):
        query_department(department=hrss, request_id=request_id, people=PEOPLE[1:2])


def test_a_department_without_an_address_cannot_be_asked(db):
    department = live_department("")
    with pytest.raises(ConnectorError, match="no connector address"):
        query_department(department=department, request_id=uuid.uuid4(), people=PEOPLE)


# -- what an answer must look like (the same checks, fed answers the simulator never gives)


def answer(request_id, records, **extra) -> bytes:
    return json.dumps(
        {"request_id": str(request_id), "department": "hrss", "records": records, **extra}
    ).encode()


def record(**fields) -> dict:
    return {
        "identity_number": PEOPLE[0][0],
        "item": "pension",
        "value": "1200.50",
        "text": "养老金",
        "date": "2026-01-31",
        **fields,
    }


@pytest.fixture
def hrss_offline(db) -> Department:
    return live_department("http://127.0.0.1:9")


def parse(department, body, request_id):
    return answer_parse(department=department, request_id=request_id, people=PEOPLE, body=body)


def test_a_good_answer_is_normalised(hrss_offline):
    request_id = uuid.uuid4()
    records = parse(
        hrss_offline,
        answer(request_id, [record(), record(item="social_insurance_wage", value=3000, date=None)]),
        request_id,
    )
    assert records[0]["value"] == Decimal("1200.50")
    assert records[0]["record_date"] == datetime.date(2026, 1, 31)
    assert records[0]["item"].code == "pension"
    assert records[1]["value"] == Decimal("3000.00")
    assert records[1]["record_date"] is None
    assert (
        parse(hrss_offline, answer(request_id, [record(value=None)]), request_id)[0]["value"]
        is None
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>", "not JSON"),
        (b'{"request_id": "x"}', "no list of records"),
        (b"[]", "no list of records"),
    ],
)
def test_answers_that_are_not_answers(hrss_offline, body, message):
    with pytest.raises(BadAnswer, match=message):
        parse(hrss_offline, body, uuid.uuid4())


def test_an_answer_to_another_request_is_refused(hrss_offline):
    with pytest.raises(BadAnswer, match="answers request"):
        parse(hrss_offline, answer(uuid.uuid4(), [record()]), uuid.uuid4())


def test_an_answer_from_another_department_is_refused(hrss_offline):
    request_id = uuid.uuid4()
    body = json.dumps({"request_id": str(request_id), "department": "bank", "records": []})
    with pytest.raises(BadAnswer, match="comes from bank"):
        parse(hrss_offline, body.encode(), request_id)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"colour": "red"}, "unknown fields colour"),
        ({"identity_number": identity_number(99)}, "not asked about"),
        ({"item": "vehicle"}, "'vehicle' is not one this department supplies"),
        ({"value": "-5"}, "negative"),
        ({"value": "abc"}, "not a number"),
        ({"value": "NaN"}, "not a number"),
        ({"value": "1.005"}, "more than two decimals"),
        ({"value": "1e15"}, "too large"),
        ({"value": True}, "not a number"),
        ({"date": "31.01.2026"}, "not a date"),
        ({"date": "2026-02-30"}, "not a date"),
        ({"text": "长" * 201}, "at most 200"),
    ],
)
def test_a_bad_record_rejects_the_whole_answer(hrss_offline, fields, message):
    request_id = uuid.uuid4()
    with pytest.raises(BadAnswer, match=message) as caught:
        parse(hrss_offline, answer(request_id, [record(), record(**fields)]), request_id)
    assert "record 2:" in caught.value.message


def test_a_record_dated_in_the_future_is_refused(hrss_offline):
    request_id = uuid.uuid4()
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    with pytest.raises(BadAnswer, match="lies in the future"):
        parse(hrss_offline, answer(request_id, [record(date=tomorrow)]), request_id)


def test_many_bad_records_are_summed_up(hrss_offline):
    request_id = uuid.uuid4()
    body = answer(request_id, [record(value="-1") for _ in range(8)])
    with pytest.raises(BadAnswer, match=r"record 5: .*\(and 3 more\)") as caught:
        parse(hrss_offline, body, request_id)
    assert "record 6" not in caught.value.message
