"""The department simulator, over real HTTP on loopback."""

from __future__ import annotations

import datetime
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest

from aid_portal import simulator as simulator_module
from aid_portal.simulator import DEPARTMENT_RULES, records_for
from tests.verification.conftest import SEED, identity_number

CATALOGUE = {
    "public_security": {"vehicle", "household_registration"},
    "finance": {"public_salary"},
    "hrss": {"pension", "social_insurance_wage"},
    "housing": {"real_estate"},
    "bank": {"deposit"},
    "tax": {"business_tax"},
    "market": {"business_registration"},
    "financial_office": {"securities"},
    "provident_fund": {"provident_fund"},
    "civil_affairs": {"death", "other_assistance"},
}


def ask(sim, department: str, numbers: list[str], *, request_id: str | None = None, **kwargs):
    question = {
        "request_id": request_id or str(uuid.uuid4()),
        "people": [{"identity_number": number, "name": "马小明"} for number in numbers],
    }
    return httpx.post(
        f"{sim.url}/departments/{department}/query", json=question, timeout=10, **kwargs
    )


def test_health(simulator):
    response = httpx.get(f"{simulator.url}/health")
    assert (response.status_code, response.text) == (200, "ok")


def test_every_catalogue_department_answers_with_its_own_items(simulator):
    assert set(DEPARTMENT_RULES) == set(CATALOGUE)
    numbers = [identity_number(n) for n in range(1, 61)]
    today = datetime.date.today()
    for department, items in CATALOGUE.items():
        response = ask(simulator, department, numbers)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["department"] == department
        assert answer["records"], f"{department} said nothing about 60 people"
        for record in answer["records"]:
            assert set(record) == {"identity_number", "item", "value", "text", "date"}
            assert record["identity_number"] in numbers
            assert record["item"] in items
            assert record["value"] is None or Decimal(record["value"]) >= 0
            assert datetime.date.fromisoformat(record["date"]) <= today


def test_answers_are_deterministic_per_person_department_and_seed(simulator, start_simulator):
    numbers = [identity_number(n) for n in range(1, 41)]
    first = ask(simulator, "hrss", numbers).json()["records"]
    second = ask(simulator, "hrss", numbers).json()["records"]  # another request id
    assert first == second
    expected = [
        record
        for number in numbers
        for record in records_for(
            department="hrss", identity_number=number, seed=SEED, as_of=datetime.date.today()
        )
    ]
    assert first == expected
    other_seed = start_simulator(seed=SEED + 1)
    assert ask(other_seed, "hrss", numbers).json()["records"] != first


def test_shares_are_plausible(simulator):
    numbers = [identity_number(n) for n in range(1, 201)]  # the most one query takes
    records = ask(simulator, "civil_affairs", numbers).json()["records"]
    deaths = [r for r in records if r["item"] == "death"]
    assert 0 < len(deaths) < 12  # about 2 %
    pensions = ask(simulator, "hrss", numbers).json()["records"]
    assert 30 < sum(r["item"] == "pension" for r in pensions) < 80  # about 25 %


def test_the_same_request_id_gets_the_identical_answer(simulator):
    request_id = str(uuid.uuid4())
    numbers = [identity_number(n) for n in range(1, 11)]
    first = ask(simulator, "bank", numbers, request_id=request_id)
    second = ask(simulator, "bank", numbers, request_id=request_id)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert simulator.attempts(request_id) == 2


def test_a_request_id_reused_for_another_question_is_refused(simulator):
    request_id = str(uuid.uuid4())
    assert ask(simulator, "bank", [identity_number(1)], request_id=request_id).status_code == 200
    response = ask(simulator, "bank", [identity_number(2)], request_id=request_id)
    assert response.status_code == 409
    assert "different question" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "body is empty"),
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"people": [{"identity_number": "640422198001010012"}]}', "request_id"),
        (b'{"request_id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427"}', "people"),
        (b'{"request_id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "people": []}', "people"),
        (
            b'{"request_id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",'
            b' "people": [{"identity_number": "64042219800101"}]}',
            "17 digits",
        ),
        (
            b'{"request_id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",'
            b' "people": [{"identity_number": "640422198001010013"}]}',
            "check character",
        ),
    ],
)
def test_bad_input_is_a_400_with_a_json_error(simulator, body, message):
    response = httpx.post(
        f"{simulator.url}/departments/hrss/query",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_an_idempotency_key_that_differs_from_the_body_is_refused(simulator):
    response = ask(simulator, "hrss", [identity_number(1)], headers={"Idempotency-Key": "x"})
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]


def test_unknown_addresses_and_methods(simulator):
    assert ask(simulator, "weather_bureau", [identity_number(1)]).status_code == 404
    assert httpx.get(f"{simulator.url}/departments/hrss/query").status_code == 405
    assert httpx.get(f"{simulator.url}/nowhere").status_code == 404


def test_fail_first_fails_each_request_ids_first_attempts(start_simulator):
    sim = start_simulator(fail_first=2)
    request_id = str(uuid.uuid4())
    codes = [ask(sim, "hrss", [identity_number(1)], request_id=request_id).status_code]
    codes += [ask(sim, "hrss", [identity_number(1)], request_id=request_id).status_code]
    codes += [ask(sim, "hrss", [identity_number(1)], request_id=request_id).status_code]
    assert codes == [500, 500, 200]
    assert ask(sim, "hrss", [identity_number(1)]).status_code == 500  # a new request id


def test_failure_rate_one_always_fails(start_simulator):
    sim = start_simulator(failure_rate=1.0)
    for _ in range(3):
        response = ask(sim, "bank", [identity_number(1)])
        assert response.status_code == 500
        assert response.json() == {"error": "simulated failure"}
    assert sim.stats()["failed"] == 3


def test_garbage_rate_one_answers_html(start_simulator):
    sim = start_simulator(garbage_rate=1.0)
    response = ask(sim, "bank", [identity_number(1)])
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_latency_delays_each_answer(start_simulator):
    sim = start_simulator(latency_ms=400)
    started = time.monotonic()
    assert ask(sim, "bank", [identity_number(1)]).status_code == 200
    assert time.monotonic() - started >= 0.4


def test_one_log_line_per_request(start_simulator):
    sim = start_simulator()
    request_id = str(uuid.uuid4())
    ask(sim, "hrss", [identity_number(1), identity_number(2)], request_id=request_id)
    httpx.post(f"{sim.url}/departments/hrss/query", content=b"")
    sim.stop()
    lines = [line for line in sim.log().splitlines() if "/departments/" in line]
    assert len(lines) == 2
    assert f"POST /departments/hrss/query 200 hrss request_id={request_id} people=2" in lines[0]
    assert "POST /departments/hrss/query 400" in lines[1]


def test_settings_come_from_the_environment_and_the_command_line(monkeypatch):
    monkeypatch.setenv("SIMULATOR_LATENCY_MS", "150")
    monkeypatch.setenv("SIMULATOR_FAILURE_RATE", "0.05")
    arguments = simulator_module.parse_arguments([])
    assert (arguments.latency_ms, arguments.failure_rate, arguments.port) == (150, 0.05, 8090)
    arguments = simulator_module.parse_arguments(["--latency-ms", "0", "--failure-rate", "0.5"])
    assert (arguments.latency_ms, arguments.failure_rate) == (0, 0.5)
    monkeypatch.setenv("SIMULATOR_FAILURE_RATE", "often")
    with pytest.raises(SystemExit, match="SIMULATOR_FAILURE_RATE"):
        simulator_module.parse_arguments([])
    monkeypatch.delenv("SIMULATOR_FAILURE_RATE")
    with pytest.raises(SystemExit):
        simulator_module.parse_arguments(["--failure-rate", "1.5"])


def test_slow_answers_are_given_side_by_side(start_simulator):
    sim = start_simulator(latency_ms=500)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda n: ask(sim, "bank", [identity_number(n)]), range(8)))
    codes = [answer.status_code for answer in answers]
    assert codes == [200] * 8
    assert time.monotonic() - started < 2.5  # one after another would take 4 s
