"""The live connector: asks a department over HTTP what it holds about some people.

One call is one question with one request id. Asked again with the same id (after a
timeout, or by a task that runs twice), a department gives the answer it gave before
instead of counting the question twice; the id travels in the body and in the
``Idempotency-Key`` header.

Timeouts, refused connections and 5xx answers are retried with exponential backoff; a
4xx is our mistake and is not. Whatever comes back is checked record by record before
anything is returned, so nothing half-understood reaches the database.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import re
import uuid
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

import httpx
import tenacity
from django.utils import timezone
from django.utils.translation import gettext as _

from verification.feeds.models import DataItem, Department

logger = logging.getLogger(__name__)

ATTEMPTS = 3
FIRST_WAIT_SECONDS = 0.5
LONGEST_WAIT_SECONDS = 2.0
RECORD_FIELDS = {"identity_number", "item", "value", "text", "date"}
MAX_VALUE = Decimal("999999999999.99")  # DecimalField(max_digits=14, decimal_places=2)
MAX_TEXT = 200
PROBLEMS_SHOWN = 5
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ConnectorError(Exception):
    """A department could not be asked, or its answer cannot be used. ``message`` is for
    the verification officer's page."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DepartmentUnavailable(ConnectorError):
    """No usable answer after the retries: timed out, unreachable, or answering 5xx."""


class BadAnswer(ConnectorError):
    """The department answered, but not something we can store."""


class QueryRefused(ConnectorError):
    """The department refused the question (4xx): retrying the same question is useless."""


class _ServerError(Exception):
    def __init__(self, response: httpx.Response):
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, httpx.TransportError | _ServerError)


def query_department(
    *,
    department: Department,
    request_id: uuid.UUID | str,
    people: Sequence[tuple[str, str]],
) -> list[dict]:
    """Ask ``department`` about ``people`` ((identity number, name) pairs).

    Returns one dict per record: identity_number, item (a DataItem), value (Decimal or
    None), text, record_date (date or None). Raises a ConnectorError subclass otherwise.
    """
    if not people:
        raise ValueError("query_department needs at least one person")
    if not department.live_url:
        raise ConnectorError(
            _("%(department)s has no connector address.") % {"department": department.name}
        )
    request_id = str(uuid.UUID(str(request_id)))
    url = f"{department.live_url.rstrip('/')}/departments/{department.code}/query"
    question = {
        "request_id": request_id,
        "people": [{"identity_number": number, "name": name} for number, name in people],
    }
    headers = {"Idempotency-Key": request_id, "User-Agent": "aid-portal-connector"}
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(ATTEMPTS),
        wait=tenacity.wait_exponential(
            multiplier=FIRST_WAIT_SECONDS, min=FIRST_WAIT_SECONDS, max=LONGEST_WAIT_SECONDS
        ),
        retry=tenacity.retry_if_exception(_is_transient),
        before_sleep=lambda state: logger.warning(
            "%s request %s attempt %s failed: %r; trying again",
            department.code,
            request_id,
            state.attempt_number,
            state.outcome.exception(),
        ),
        reraise=True,
    )
    timeout = httpx.Timeout(float(max(department.timeout_seconds, 1)))
    try:
        with httpx.Client(timeout=timeout, headers=headers) as client:
            response = retrying(_post, client, url, question)
    except httpx.TimeoutException as exc:
        raise DepartmentUnavailable(
            _(
                "%(department)s did not answer: timed out after %(seconds)s s, "
                "%(attempts)s attempts."
            )
            % {
                "department": department.name,
                "seconds": department.timeout_seconds,
                "attempts": ATTEMPTS,
            }
        ) from exc
    except httpx.TransportError as exc:
        raise DepartmentUnavailable(
            _("%(department)s could not be reached after %(attempts)s attempts: %(error)s")
            % {"department": department.name, "attempts": ATTEMPTS, "error": _describe(exc)}
        ) from exc
    except _ServerError as exc:
        raise DepartmentUnavailable(
            _("%(department)s answered HTTP %(status)s %(attempts)s times; giving up for now.")
            % {
                "department": department.name,
                "status": exc.response.status_code,
                "attempts": ATTEMPTS,
            }
        ) from exc
    if response.status_code >= 400:
        raise QueryRefused(
            _("%(department)s refused the query (HTTP %(status)s): %(error)s")
            % {
                "department": department.name,
                "status": response.status_code,
                "error": _error_text(response),
            }
        )
    return answer_parse(
        department=department, request_id=request_id, people=people, body=response.content
    )


def _post(client: httpx.Client, url: str, question: dict) -> httpx.Response:
    response = client.post(url, json=question)
    if response.status_code >= 500:
        raise _ServerError(response)
    return response


def _describe(exc: httpx.TransportError) -> str:
    return str(exc) or type(exc).__name__


def _error_text(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(payload, dict) and isinstance(payload.get("error"), str):
        return payload["error"][:200]
    return response.text[:200]


def answer_parse(
    *,
    department: Department,
    request_id: uuid.UUID | str,
    people: Sequence[tuple[str, str]],
    body: bytes,
) -> list[dict]:
    """Check a department's answer and turn it into records; BadAnswer if any part of it
    cannot be used (all or nothing: one bad record rejects the answer)."""

    def bad(reason: str) -> BadAnswer:
        return BadAnswer(
            _("%(department)s gave an answer that cannot be used: %(reason)s")
            % {"department": department.name, "reason": reason}
        )

    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise bad(_("it is not JSON.")) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("records"), list):
        raise bad(_("it has no list of records."))
    if str(payload.get("request_id")) != str(request_id):
        raise bad(
            _("it answers request %(theirs)s, not %(ours)s.")
            % {"theirs": payload.get("request_id"), "ours": request_id}
        )
    if "department" in payload and payload["department"] != department.code:
        raise bad(_("it comes from %(code)s.") % {"code": payload["department"]})
    items = {item.code: item for item in DataItem.objects.filter(department=department)}
    asked = {number for number, _name in people}
    today = timezone.localdate()
    records, problems = [], []
    for position, raw in enumerate(payload["records"], start=1):
        record, record_problems = _record_parse(raw, items=items, asked=asked, today=today)
        problems.extend(
            _("record %(position)s: %(problem)s") % {"position": position, "problem": problem}
            for problem in record_problems
        )
        if record is not None:
            records.append(record)
    if problems:
        shown = "; ".join(problems[:PROBLEMS_SHOWN])
        if len(problems) > PROBLEMS_SHOWN:
            shown += " " + _("(and %(count)s more)") % {"count": len(problems) - PROBLEMS_SHOWN}
        raise bad(shown)
    return records


def _record_parse(
    raw: object, *, items: dict[str, DataItem], asked: set[str], today: datetime.date
) -> tuple[dict | None, list[str]]:
    if not isinstance(raw, dict):
        return None, [_("not an object")]
    problems = []
    if unknown := sorted(set(raw) - RECORD_FIELDS):
        problems.append(_("unknown fields %(fields)s") % {"fields": ", ".join(unknown)})
    number = raw.get("identity_number")
    if number not in asked:
        problems.append(_("an identity number that was not asked about"))
    item = items.get(raw.get("item")) if isinstance(raw.get("item"), str) else None
    if item is None:
        problems.append(
            _("item %(item)r is not one this department supplies") % {"item": raw.get("item")}
        )
    value, value_problem = _value_parse(raw.get("value"))
    if value_problem:
        problems.append(value_problem)
    text = raw.get("text") or ""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        problems.append(_("text must be at most %(count)s characters") % {"count": MAX_TEXT})
    record_date, date_problem = _date_parse(raw.get("date"), today=today)
    if date_problem:
        problems.append(date_problem)
    if problems:
        return None, problems
    return {
        "identity_number": number,
        "item": item,
        "value": value,
        "text": text,
        "record_date": record_date,
    }, []


def _value_parse(raw: object) -> tuple[Decimal | None, str | None]:
    if raw is None or raw == "":
        return None, None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return None, _("the value is not a number")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        return None, _("the value %(value)r is not a number") % {"value": raw}
    if not value.is_finite():
        return None, _("the value %(value)r is not a number") % {"value": raw}
    if value < 0:
        return None, _("the value %(value)s is negative") % {"value": raw}
    if value > MAX_VALUE or value != value.quantize(Decimal("0.01")):
        return None, _("the value %(value)s is too large or has more than two decimals") % {
            "value": raw
        }
    return value.quantize(Decimal("0.01")), None


def _date_parse(raw: object, *, today: datetime.date) -> tuple[datetime.date | None, str | None]:
    if raw is None or raw == "":
        return None, None
    day = None
    if isinstance(raw, str) and ISO_DATE.match(raw):
        with contextlib.suppress(ValueError):  # 2026-02-30 matches the pattern
            day = datetime.date.fromisoformat(raw)
    if day is None:
        return None, _("the date %(date)r is not a date (YYYY-MM-DD)") % {"date": raw}
    if day > today:
        return None, _("the date %(date)s lies in the future") % {"date": raw}
    return day, None
