"""Counting a block's SQL queries, for the pinned query counts of list pages and API lists.

As Zulip's ``assert_database_query_count``: a wrong count fails with every statement,
numbered, so the comment that names each query can be checked against what ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext


class FrozenQueries(CaptureQueriesContext):
    """CaptureQueriesContext whose queries are copied when the block ends.

    Django's reads ``connection.queries[start:end]`` each time it is asked, and every
    request clears that log (``reset_queries`` on ``request_started``): a capture read
    after a later request showed that request's log, or nothing (0 queries)."""

    def __exit__(self, exc_type, exc_value, traceback):
        super().__exit__(exc_type, exc_value, traceback)
        self.frozen = list(super().captured_queries)

    @property
    def captured_queries(self):
        frozen = getattr(self, "frozen", None)
        return frozen if frozen is not None else super().captured_queries

    def __len__(self):
        return len(self.captured_queries)

    def __getitem__(self, index):
        return self.captured_queries[index]

    def __iter__(self):
        return iter(self.captured_queries)


def queries_captured() -> CaptureQueriesContext:
    """``with queries_captured() as queries:``; ``len(queries)`` and
    ``queries.captured_queries`` are read after the block."""
    return FrozenQueries(connection)


def numbered(queries: CaptureQueriesContext) -> str:
    return "\n".join(
        f"{number:>3}. {query['sql']}"
        for number, query in enumerate(queries.captured_queries, start=1)
    )


def assert_query_count(queries: CaptureQueriesContext, expected: int, *, label: str = "") -> None:
    if len(queries) != expected:
        prefix = f"{label}: " if label else ""
        pytest.fail(f"{prefix}{len(queries)} queries, expected {expected}:\n{numbered(queries)}")


def assert_same_query_count(first: CaptureQueriesContext, second: CaptureQueriesContext) -> None:
    """The second run, over more rows, costs what the first did: no query per row."""
    if len(first) != len(second):
        pytest.fail(
            f"{len(first)} queries, then {len(second)}:\n{numbered(first)}\n"
            f"--- then:\n{numbered(second)}"
        )


@contextmanager
def assert_database_query_count(
    expected: int, *, label: str = ""
) -> Iterator[CaptureQueriesContext]:
    with queries_captured() as queries:
        yield queries
    assert_query_count(queries, expected, label=label)


def queries_of(client, url: str) -> CaptureQueriesContext:
    """The queries of one GET that must succeed."""
    with queries_captured() as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return queries


def assert_get_query_count(client, url: str, expected: int, *, label: str = "") -> HttpResponse:
    """One GET that must succeed in ``expected`` queries; its response, to read further."""
    with assert_database_query_count(expected, label=label or f"GET {url}"):
        response = client.get(url)
        # Inside the block: a failing page is reported as such, not as a query count.
        assert response.status_code == 200, response.content[:500]
    return response
