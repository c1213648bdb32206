"""PostgreSQL unreachable in the middle of the day (issue 17, item 5): a request gets a
clear Chinese 503 page (not a stack trace, nothing half-saved), and the next request
after the server is back works, without restarting anything.

The connection really fails: the test points the database connection at a port where
nothing listens, as when the server is down or restarting, then points it back."""

import contextlib

import pytest
from django.db import connection
from django.test import Client

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def database_away():
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update({"HOST": "127.0.0.1", "PORT": "1"})
    connection.settings_dict.setdefault("OPTIONS", {})
    options = dict(saved.get("OPTIONS", {}))
    options.pop("host", None)
    connection.settings_dict["OPTIONS"] = options
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


def test_pages_answer_503_while_the_database_is_away_and_recover(people):
    client = Client(raise_request_exception=False)
    client.force_login(people.caseworker_a)
    assert client.get("/cases/").status_code == 200
    with database_away():
        page = client.get("/cases/")
        api = client.get("/api/applications/")
    assert page.status_code == 503 and page["Retry-After"] == "30"
    assert "系统暂时无法访问数据库" in page.content.decode()
    assert "Traceback" not in page.content.decode()
    assert api.status_code == 503 and "数据库暂时无法访问" in api.json()["detail"]
    # Back: the same client and process carry on.
    assert client.get("/cases/").status_code == 200
