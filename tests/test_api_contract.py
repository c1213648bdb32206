"""The API's contract: schemathesis drives every operation of the OpenAPI schema as
each role, and every answer must be what the schema says.

One test, so that the run is bounded and its figures come out in one place: for each
operation a fixed number of schema-valid and schema-invalid requests (fixed seed), each
sent once per role through the WSGI application. The checks:

- no server error (5xx);
- the body of every answer matches the schema of its status;
- every status and every content type the API answers with is documented;
- a schema-valid request is not refused as malformed (400), unless the refusal is a rule
  of the domain the operation documents (see ``_documented_refusal``);
- a schema-invalid request is not accepted.

The schema has no OpenAPI links, so there is no stateful phase to run. Failures are
collected, not raised one by one, so that a broken contract is reported whole.
"""

from __future__ import annotations

import collections
import os

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi import checks
from stdnum.cn import ric

from aid_portal import tokens
from aid_portal.models import AuditEvent
from cases.intake import services as intake_services
from cases.models import Member

SEED = 20261205
# Requests per operation and generation mode; each goes to every role.
EXAMPLES = int(os.environ.get("API_CONTRACT_EXAMPLES", "3"))
ROLES = [
    "assistant_a",
    "caseworker_a",
    "approver_a",
    "auditor",
    "verifier",
    "feedadmin",
    "finance",
    "superuser",
]
CHECKS = [
    not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.positive_data_acceptance,
    checks.negative_data_rejection,
]


@pytest.fixture
def wsgi_app():
    """The WSGI application, with Django's per-request closing of the database
    connection switched off, as its test client does: the test's transaction holds."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _detail(case, failure: Failure) -> str:
    if not os.environ.get("API_CONTRACT_REPORT"):
        return ""
    return (
        f"\n    query={case.query} body={case.body!r:.300} media={case.media_type}"
        f"\n    {failure.message[:600]}"
    )


def _case_file(people, places) -> dict[str, dict[str, object]]:
    """A small case file in village A, and the path parameters that name it, by the
    path's start: so that some requests reach a real object, not only a 404."""
    actor = people.caseworker_a
    household = intake_services.household_create(
        actor=actor, village=places.village_a, address="龙王坝村1号"
    )
    first17 = "64222219700101003"
    member = intake_services.member_add(
        actor=actor,
        household=household,
        identity_number=first17 + ric.calc_check_digit(first17 + "0"),
        name="马一",
        relation=Member.Relation.SELF,
    )
    income = intake_services.income_add(
        actor=actor, member=member, source="wages", monthly_average="300"
    )
    application = intake_services.application_create(
        actor=actor, household=household, assistance_type="dibao_rural"
    )
    return {
        "/api/applications/": {"id": application.pk, "application_id": application.pk},
        "/api/households/": {"household_id": household.pk},
        "/api/members/": {"member_id": member.pk},
        "/api/incomes/": {"income_id": income.pk},
        "/api/regions/": {"code": places.village_a.code},
        "/api/audit-events/": {"event_id": AuditEvent.objects.latest("id").pk},
    }


def _real_path_parameters(files: dict, path: str) -> dict[str, object] | None:
    names = {p.strip("{}") for p in path.split("/") if p.startswith("{")}
    for start, values in files.items():
        if path.startswith(start) and names and names <= set(values):
            return {name: values[name] for name in names}
    return None


def _documented_refusal(case, response, failure: Failure) -> bool:
    """A schema-valid change refused with the 400 its operation documents for the rules
    of the domain: a household id that names no household, a step the case's state does
    not allow, wrong credentials. A schema cannot say which ids exist or which state a
    case is in."""
    if not (
        isinstance(failure, RejectedPositiveData)
        and failure.status_code == 400
        and "400" in case.operation.definition.raw.get("responses", {})
    ):
        return False
    if case.method.upper() in {"POST", "PUT", "PATCH", "DELETE"}:
        return True
    # A read may be refused by a rule (no policy in force to work an amount out by), but
    # never for a query parameter the schema allows.
    return not set(response.json()) & set(case.query or {})


def _kind(failure: Failure) -> str:
    return type(failure).__name__


@pytest.mark.django_db
def test_every_operation_keeps_to_the_schema_for_every_role(people, places, wsgi_app):
    users = people.by_name()
    headers = {
        role: {"Authorization": f"Token {tokens.api_token_create(user=users[role], name='c')[1]}"}
        for role in ROLES
    }
    files = _case_file(people, places)
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", wsgi_app, headers=headers["superuser"]
    )
    calls = 0
    operations = 0
    failures: dict[str, list[str]] = collections.defaultdict(list)

    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        real = _real_path_parameters(files, operation.path)
        strategies = [
            operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE),
        ]
        if real is not None:  # schema-valid requests about the real case file, too
            strategies.append(
                operation.as_strategy(
                    generation_mode=schemathesis.GenerationMode.POSITIVE, path_parameters=real
                )
            )
        for strategy in strategies:

            @hypothesis.seed(SEED)
            @hypothesis.settings(
                max_examples=EXAMPLES,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                derandomize=False,
            )
            @hypothesis.given(case=strategy)
            def run(case):
                nonlocal calls
                for role in ROLES:
                    calls += 1
                    response = case.call(headers=headers[role])
                    try:
                        case.validate_response(response, checks=CHECKS)
                    except (FailureGroup, Failure) as error:
                        group = error.exceptions if isinstance(error, FailureGroup) else [error]
                        for failure in group:
                            if _documented_refusal(case, response, failure):
                                continue
                            failures[_kind(failure)].append(
                                f"{role} {case.operation.label} -> {response.status_code}: "
                                f"{failure.title}" + _detail(case, failure)
                            )

            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                # Nothing of this operation can be made invalid (it takes no input).
                assert strategy is strategies[1]

    summary = {kind: len(items) for kind, items in failures.items()}
    print(f"\n{calls} calls, {operations} operations, {len(ROLES)} roles: {summary}")
    report = [line for items in failures.values() for line in sorted(set(items))]
    if os.environ.get("API_CONTRACT_REPORT"):  # the whole list, for whoever fixes them
        with open(os.environ["API_CONTRACT_REPORT"], "w", encoding="utf-8") as out:
            out.write("\n".join(report))
    assert not failures, "\n".join(report[:200])
