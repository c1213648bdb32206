"""A stand-in for the departments' live connectors: a small HTTP service that answers
verification queries with synthetic records.

    python -m aid_portal.simulator --host 127.0.0.1 --port 8090 \\
        --latency-ms 150 --failure-rate 0.05 --seed 7

``POST /departments/<code>/query`` takes ``{"request_id": "<uuid>", "people":
[{"identity_number": "...", "name": "..."}]}`` and answers ``{"request_id", "department",
"records": [{"identity_number", "item", "value", "text", "date"}]}``. The records come
from a hash of (identity number, department, seed), so a person always gets the same
answer from the same simulator; the same request id always gets the identical answer
(departments are asked again after a timeout, and must not count the question twice).

Latency, failures (HTTP 500) and garbage (a 200 with an HTML body) are configurable, so
the connector's timeouts and retries can be tried on loopback. ``GET /health`` answers
"ok"; ``GET /stats`` counts the queries seen, for tests.

Standard library only: it runs beside the portal without Django.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import logging
import os
import random
import re
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

logger = logging.getLogger("aid_portal.simulator")

QUERY_PATH = re.compile(r"^/departments/(?P<code>[a-z0-9_-]{1,40})/query/?$")
# The credit outbox delivers here (credit.findings.tasks).
PLATFORM_PATH = "/credit-platform/records"
IDENTITY_NUMBER = re.compile(r"^\d{17}[\dX]$")
CHECK_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
CHECK_CHARACTERS = "10X98765432"
MAX_PEOPLE = 200
MAX_BODY_BYTES = 1_000_000
CACHE_SIZE = 10_000


def check_character(first17: str) -> str:
    """The MOD 11-2 check character of a resident identity number (GB 11643-1999)."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, CHECK_WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def identity_number_problem(value: object) -> str | None:
    if not isinstance(value, str) or not IDENTITY_NUMBER.match(value):
        return "an identity number has 17 digits and a check character (0-9 or X)"
    if value[-1] != check_character(value[:17]):
        return "the check character does not match the identity number"
    return None


# What each department can say about a person: (item, share of people it applies to,
# how to make the record). The item codes are those of the portal's catalogue.


@dataclass(frozen=True)
class Draw:
    """Deterministic numbers drawn from a hash, one after another."""

    digest: bytes

    def fraction(self, index: int) -> float:
        start = (index * 4) % 28
        chunk = self.digest[start : start + 4]
        return int.from_bytes(chunk, "big") / 2**32

    def between(self, index: int, low: int, high: int) -> int:
        return low + int(self.fraction(index) * (high - low + 1))


@dataclass(frozen=True)
class ItemRule:
    item: str
    share: float  # of people who have such a record
    make: Callable[[Draw, datetime.date], tuple[Decimal | None, str, datetime.date | None]]


def _month_end_before(as_of: datetime.date) -> datetime.date:
    return as_of.replace(day=1) - datetime.timedelta(days=1)


def _days_back(draw: Draw, as_of: datetime.date, index: int, most: int) -> datetime.date:
    return as_of - datetime.timedelta(days=draw.between(index, 30, most))


def _monthly(low: int, high: int, text: str):
    def make(draw: Draw, as_of: datetime.date):
        return Decimal(draw.between(2, low * 100, high * 100)) / 100, text, _month_end_before(as_of)

    return make


def _vehicle(draw: Draw, as_of: datetime.date):
    plate = f"宁D·{draw.between(3, 10000, 99999)}"
    value = Decimal(draw.between(2, 20, 180) * 1000)
    return value, f"小型汽车 {plate}", _days_back(draw, as_of, 4, 3650)


def _household_registration(draw: Draw, as_of: datetime.date):
    kind = "农业家庭户口" if draw.fraction(2) < 0.8 else "非农业家庭户口"
    return None, kind, _days_back(draw, as_of, 3, 15000)


def _real_estate(draw: Draw, as_of: datetime.date):
    area = draw.between(3, 45, 160)
    value = Decimal(draw.between(2, 80, 900) * 1000)
    return value, f"住宅 {area}㎡", _days_back(draw, as_of, 4, 5000)


def _deposit(draw: Draw, as_of: datetime.date):
    # Most balances are small; a few are well above any asset limit.
    high = 200_000_00 if draw.fraction(3) < 0.1 else 30_000_00
    return Decimal(draw.between(2, 0, high)) / 100, "活期及定期存款余额", _month_end_before(as_of)


def _business(draw: Draw, as_of: datetime.date):
    kind = "个体工商户" if draw.fraction(2) < 0.7 else "有限责任公司股东"
    return None, kind, _days_back(draw, as_of, 3, 3650)


def _death(draw: Draw, as_of: datetime.date):
    return None, "死亡（火化）登记", _days_back(draw, as_of, 3, 400)


def _securities(draw: Draw, as_of: datetime.date):
    return Decimal(draw.between(2, 1000, 300_000)), "证券账户市值", _month_end_before(as_of)


DEPARTMENT_RULES: dict[str, tuple[ItemRule, ...]] = {
    "public_security": (
        ItemRule("household_registration", 1.0, _household_registration),
        ItemRule("vehicle", 0.10, _vehicle),
    ),
    "finance": (ItemRule("public_salary", 0.05, _monthly(3500, 9000, "财政供养人员工资")),),
    "hrss": (
        ItemRule("pension", 0.25, _monthly(150, 3500, "养老金（月）")),
        ItemRule("social_insurance_wage", 0.30, _monthly(1900, 8000, "社保缴费工资（月）")),
    ),
    "housing": (ItemRule("real_estate", 0.15, _real_estate),),
    "bank": (ItemRule("deposit", 0.60, _deposit),),
    "tax": (ItemRule("business_tax", 0.05, _monthly(50, 3000, "经营纳税（月）")),),
    "market": (ItemRule("business_registration", 0.06, _business),),
    "financial_office": (ItemRule("securities", 0.04, _securities),),
    "provident_fund": (ItemRule("provident_fund", 0.10, _monthly(200, 2500, "公积金缴存（月）")),),
    "civil_affairs": (
        ItemRule("death", 0.02, _death),
        ItemRule("other_assistance", 0.10, _monthly(100, 900, "临时救助")),
    ),
}


def records_for(
    *, department: str, identity_number: str, seed: int, as_of: datetime.date
) -> list[dict]:
    """What ``department`` holds about one person: the same for the same inputs."""
    records = []
    for rule in DEPARTMENT_RULES[department]:
        key = f"{seed}:{department}:{rule.item}:{identity_number}".encode()
        draw = Draw(hashlib.sha256(key).digest())
        if draw.fraction(0) >= rule.share:
            continue
        value, text, date = rule.make(draw, as_of)
        records.append(
            {
                "identity_number": identity_number,
                "item": rule.item,
                "value": None if value is None else f"{value:.2f}",
                "text": text,
                "date": date.isoformat() if date else None,
            }
        )
    return records


@dataclass
class Behaviour:
    """How the simulated departments misbehave."""

    latency_ms: int = 0
    failure_rate: float = 0.0
    garbage_rate: float = 0.0
    fail_first: int = 0  # the first N attempts of each request id answer 500
    seed: int = 7
    as_of: datetime.date | None = None  # records dated relative to this day (default today)
    platform_latency_ms: int = 0  # the credit platform answers this late (after storing)


@dataclass
class Simulator:
    behaviour: Behaviour
    answers: OrderedDict = field(default_factory=OrderedDict)  # request id -> (question, body)
    attempts: OrderedDict = field(default_factory=OrderedDict)  # request id -> count
    counts: dict = field(default_factory=lambda: {"queries": 0, "answered": 0, "failed": 0})
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The credit-information sharing platform (credit outbox): records by idempotency
    # key, and how many times each key was received.
    platform_records: OrderedDict = field(default_factory=OrderedDict)
    platform_received: dict = field(default_factory=dict)

    def __post_init__(self):
        self.random = random.Random(self.behaviour.seed)

    # -- WSGI ---------------------------------------------------------------------------

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        started = time.monotonic()
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        status, headers, body, note = self.dispatch(method, path, environ)
        start_response(status, headers)
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info("%s %s %s %s %.0fms", method, path, status.split()[0], note, elapsed_ms)
        return [body]

    def dispatch(self, method: str, path: str, environ) -> tuple[str, list, bytes, str]:
        if path == "/health":
            if method != "GET":
                return error(405, "use GET")
            return "200 OK", [("Content-Type", "text/plain; charset=utf-8")], b"ok", ""
        if path == "/stats":
            with self.lock:
                stats = {**self.counts, "attempts": dict(self.attempts)}
            return as_json(200, stats)
        if path == PLATFORM_PATH:
            return self.platform(method, environ)
        match = QUERY_PATH.match(path)
        if not match:
            return error(404, f"no such address: {path}")
        if method != "POST":
            return error(405, "use POST")
        return self.query(match["code"], environ)

    # -- the credit-information sharing platform ----------------------------------------

    def platform(self, method: str, environ) -> tuple[str, list, bytes, str]:
        """POST a record with an Idempotency-Key header: kept once per key, however many
        times it arrives (answered 200 each time). GET: every record kept, and how many
        times each key arrived."""
        if method == "GET":
            with self.lock:
                body = {
                    "records": list(self.platform_records.values()),
                    "received": dict(self.platform_received),
                }
            return as_json(200, body)
        if method != "POST":
            return error(405, "use POST or GET")
        try:
            key = str(uuid.UUID(environ.get("HTTP_IDEMPOTENCY_KEY", "")))
        except ValueError:
            return error(400, "the Idempotency-Key header must be a UUID")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            record = json.loads(environ["wsgi.input"].read(length).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return error(400, "the body is not JSON in UTF-8")
        if not isinstance(record, dict):
            return error(400, "the body must be a JSON object")
        with self.lock:
            self.platform_received[key] = self.platform_received.get(key, 0) + 1
            first = key not in self.platform_records
            if first:
                self.platform_records[key] = {**record, "key": key}
        if self.behaviour.platform_latency_ms:
            time.sleep(self.behaviour.platform_latency_ms / 1000)
        status, headers, body, _note = as_json(200, {"key": key, "duplicate": not first})
        return status, headers, body, f"credit-platform key={key} duplicate={not first}"

    # -- one query ----------------------------------------------------------------------

    def query(self, department: str, environ) -> tuple[str, list, bytes, str]:
        with self.lock:
            self.counts["queries"] += 1
        if department not in DEPARTMENT_RULES:
            return error(404, f"no department {department!r} here")
        try:
            question = read_question(environ)
        except BadQuestion as exc:
            return error(400, str(exc))
        request_id = question["request_id"]
        key_header = environ.get("HTTP_IDEMPOTENCY_KEY")
        if key_header is not None and key_header != request_id:
            return error(400, "the Idempotency-Key header differs from the body's request_id")
        note = f"{department} request_id={request_id} people={len(question['people'])}"
        with self.lock:
            attempt = self.attempts.get(request_id, 0) + 1
            self.attempts[request_id] = attempt
            self.attempts.move_to_end(request_id)
            while len(self.attempts) > CACHE_SIZE:
                self.attempts.popitem(last=False)
            roll = self.random.random()
            garbage_roll = self.random.random()
        # Slow after the question is counted, so a test can count a question that the
        # connector has already given up on.
        if self.behaviour.latency_ms:
            time.sleep(self.behaviour.latency_ms / 1000)
        if attempt <= self.behaviour.fail_first or roll < self.behaviour.failure_rate:
            with self.lock:
                self.counts["failed"] += 1
            status, headers, body, _note = error(500, "simulated failure")
            return status, headers, body, f"{note} (simulated failure)"
        if garbage_roll < self.behaviour.garbage_rate:
            body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            headers = [("Content-Type", "text/html")]
            return "200 OK", headers, body, f"{note} (simulated garbage)"
        key = (department, tuple((p["identity_number"], p["name"]) for p in question["people"]))
        with self.lock:
            cached = self.answers.get(request_id)
        if cached is not None:
            cached_key, body = cached
            if cached_key != key:
                status, headers, body, _note = error(
                    409, "this request_id was already used for a different question"
                )
                return status, headers, body, f"{note} (request id reused)"
            with self.lock:
                self.counts["answered"] += 1
            return "200 OK", json_headers(), body, f"{note} (repeated)"
        as_of = self.behaviour.as_of or datetime.date.today()
        records = [
            record
            for person in question["people"]
            for record in records_for(
                department=department,
                identity_number=person["identity_number"],
                seed=self.behaviour.seed,
                as_of=as_of,
            )
        ]
        answer = {"request_id": request_id, "department": department, "records": records}
        body = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        with self.lock:
            # A concurrent twin may have answered first: keep the first answer.
            stored = self.answers.setdefault(request_id, (key, body))
            body = stored[1]
            self.answers.move_to_end(request_id)
            while len(self.answers) > CACHE_SIZE:
                self.answers.popitem(last=False)
            self.counts["answered"] += 1
        return "200 OK", json_headers(), body, f"{note} records={len(records)}"


class BadQuestion(ValueError):
    pass


def read_question(environ) -> dict:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadQuestion("the Content-Length header is not a number") from None
    if length <= 0:
        raise BadQuestion("the body is empty; send JSON with request_id and people")
    if length > MAX_BODY_BYTES:
        raise BadQuestion(f"the body is larger than {MAX_BODY_BYTES} bytes")
    raw = environ["wsgi.input"].read(length)
    try:
        question = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadQuestion("the body is not JSON in UTF-8") from None
    if not isinstance(question, dict):
        raise BadQuestion("the body must be a JSON object")
    try:
        request_id = str(uuid.UUID(str(question.get("request_id", ""))))
    except ValueError:
        raise BadQuestion("request_id must be a UUID") from None
    people = question.get("people")
    if not isinstance(people, list) or not people:
        raise BadQuestion("people must be a non-empty list")
    if len(people) > MAX_PEOPLE:
        raise BadQuestion(f"at most {MAX_PEOPLE} people per query")
    checked = []
    for position, person in enumerate(people, start=1):
        if not isinstance(person, dict):
            raise BadQuestion(f"person {position} must be an object")
        number = person.get("identity_number")
        if problem := identity_number_problem(number):
            raise BadQuestion(f"person {position}: {problem}")
        name = person.get("name", "")
        if not isinstance(name, str):
            raise BadQuestion(f"person {position}: name must be text")
        checked.append({"identity_number": number, "name": name})
    return {"request_id": request_id, "people": checked}


def json_headers() -> list[tuple[str, str]]:
    return [("Content-Type", "application/json; charset=utf-8")]


STATUS_TEXT = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    500: "Internal Server Error",
}


def as_json(code: int, payload: dict) -> tuple[str, list, bytes, str]:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return f"{code} {STATUS_TEXT[code]}", json_headers(), body, ""


def error(code: int, message: str) -> tuple[str, list, bytes, str]:
    status, headers, body, _note = as_json(code, {"error": message})
    return status, headers, body, message


# -- serving ------------------------------------------------------------------------------


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow answer in progress never holds up Ctrl-C
    allow_reuse_address = True


class QuietHandler(WSGIRequestHandler):
    """The application logs one line per request itself."""

    def log_message(self, format, *args):
        pass


def env_number(name: str, default: float, kind: type = float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        raise SystemExit(f"configuration error: {name}={raw!r} is not a number") from None


def rate(value: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError("a rate lies between 0 and 1")
    return number


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m aid_portal.simulator",
        description="Simulated departments answering verification queries over HTTP.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=int(env_number("SIMULATOR_LATENCY_MS", 0, int)),
        help="delay before each answer (default: SIMULATOR_LATENCY_MS or 0)",
    )
    parser.add_argument(
        "--failure-rate",
        type=rate,
        default=env_number("SIMULATOR_FAILURE_RATE", 0.0),
        help="share of queries answered with HTTP 500 (default: SIMULATOR_FAILURE_RATE or 0)",
    )
    parser.add_argument(
        "--garbage-rate",
        type=rate,
        default=env_number("SIMULATOR_GARBAGE_RATE", 0.0),
        help="share of queries answered with a body that is not JSON",
    )
    parser.add_argument(
        "--fail-first",
        type=int,
        default=0,
        help="answer HTTP 500 to the first N attempts of each request id",
    )
    parser.add_argument("--seed", type=int, default=int(env_number("SIMULATOR_SEED", 7, int)))
    parser.add_argument(
        "--platform-latency-ms",
        type=int,
        default=0,
        help="the credit platform stores a record, then waits this long before answering",
    )
    parser.add_argument(
        "--as-of",
        type=datetime.date.fromisoformat,
        default=None,
        help="date the records relative to this day (YYYY-MM-DD; default today)",
    )
    arguments = parser.parse_args(argv)
    if arguments.latency_ms < 0 or arguments.fail_first < 0:
        parser.error("--latency-ms and --fail-first cannot be negative")
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    logging.basicConfig(
        level=logging.INFO, format="[simulator] %(asctime)s %(message)s", stream=sys.stderr
    )
    behaviour = Behaviour(
        latency_ms=arguments.latency_ms,
        failure_rate=arguments.failure_rate,
        garbage_rate=arguments.garbage_rate,
        fail_first=arguments.fail_first,
        seed=arguments.seed,
        as_of=arguments.as_of,
        platform_latency_ms=arguments.platform_latency_ms,
    )
    server = make_server(
        arguments.host,
        arguments.port,
        Simulator(behaviour),
        server_class=ThreadingWSGIServer,
        handler_class=QuietHandler,
    )
    logger.info(
        "departments answering at http://%s:%s/ (%s)",
        arguments.host,
        server.server_port,
        ", ".join(f"{key}={value}" for key, value in vars(behaviour).items()),
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
