"""The load test of issue 16 (item 2): the work of each role, as people do it, on the
scale data set (``manage.py load_scale``). Run it through ``benchmarks/load.py``, which
starts the portal, writes the plan this file reads (SCALE_LOAD_PLAN: the users, the cases
of each township and identity numbers to search for) and prints the figures.

- Caseworkers open their queue, search (an identity number, a name), open cases, look at
  the batch-comparison findings of their township and act:
  they accept a submitted application (the step, with its audit row and deadlines).
- County auditors read the lists and dashboards: the overview, the audit log, the
  decisions, the periodic reviews, and open a case.
- API clients (a token each, as a township's system would) page through the
  applications list and read single applications.

Requests are named by page, not by URL, so each page gets one line of figures.
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

from locust import HttpUser, between, task

PLAN = json.loads(Path(os.environ["SCALE_LOAD_PLAN"]).read_text(encoding="utf-8"))
CASE_LINK = re.compile(r'href="/cases/(\d+)/"')


def login(user: HttpUser, username: str) -> None:
    user.client.get("/login/", name="login page")
    user.client.post(
        "/login/",
        data={
            "username": username,
            "password": PLAN["password"],
            "csrfmiddlewaretoken": user.client.cookies.get("csrftoken", ""),
        },
        name="login",
    )


class Caseworker(HttpUser):
    weight = 5
    wait_time = between(1, 3)

    def on_start(self):
        self.township = random.choice(PLAN["townships"])
        login(self, self.township["caseworker"])
        self.seen: list[str] = []

    @task(4)
    def queue(self):
        page = self.client.get("/cases/", name="caseworker: queue")
        self.seen = CASE_LINK.findall(page.text)[:20] or self.seen

    @task(2)
    def search_identity_number(self):
        number = random.choice(self.township["numbers"])
        self.client.get(
            "/cases/search/", params={"q": number}, name="caseworker: search (id number)"
        )

    @task(1)
    def search_name(self):
        name = random.choice(self.township["names"])
        self.client.get("/cases/search/", params={"q": name}, name="caseworker: search (name)")

    @task(1)
    def findings(self):
        self.client.get("/verification/findings/", name="caseworker: batch findings")

    @task(4)
    def case(self):
        case_id = random.choice(self.seen or self.township["cases"])
        self.client.get(f"/cases/{case_id}/", name="caseworker: case page")

    @task(1)
    def accept(self):
        if not self.township["submitted"]:
            return
        case_id = self.township["submitted"].pop()
        self.client.get(f"/cases/{case_id}/", name="caseworker: case page")
        with self.client.post(
            f"/cases/{case_id}/act/accept/",
            data={"also_missing": ""},
            headers={"X-CSRFToken": self.client.cookies.get("csrftoken", "")},
            name="caseworker: accept (POST)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            # Done: back to the case page. Taken already by another caseworker of the
            # township: the page again, saying so (200): not an error of the portal.
            if response.status_code in (200, 302):
                response.success()


class Auditor(HttpUser):
    weight = 2
    wait_time = between(1, 3)

    def on_start(self):
        self.county = random.choice(PLAN["counties"])
        login(self, self.county["auditor"])

    @task(3)
    def overview(self):
        self.client.get("/cases/overview/", name="auditor: overview")

    @task(2)
    def audit_log(self):
        self.client.get("/audit/", name="auditor: audit log")

    @task(2)
    def reviews(self):
        self.client.get("/cases/reviews/", name="auditor: periodic reviews")

    @task(2)
    def decisions(self):
        self.client.get("/cases/decisions/", name="auditor: decisions")

    @task(2)
    def case(self):
        case_id = random.choice(self.county["cases"])
        self.client.get(f"/cases/{case_id}/", name="auditor: case page")


class ApiClient(HttpUser):
    weight = 2
    wait_time = between(0.5, 2)

    def on_start(self):
        self.township = random.choice(PLAN["townships"])
        token = self.client.post(
            "/api/auth/token/",
            data={"username": self.township["caseworker"], "password": PLAN["password"]},
            name="api: token",
        ).json()["token"]
        self.client.headers["Authorization"] = f"Token {token}"
        self.next_page: str | None = None

    @task(3)
    def applications(self):
        response = self.client.get("/api/applications/", name="api: applications list")
        self.next_page = response.json().get("next") if response.ok else None

    @task(2)
    def applications_next_page(self):
        if self.next_page:
            response = self.client.get(self.next_page, name="api: applications next page")
            self.next_page = response.json().get("next") if response.ok else None

    @task(3)
    def application(self):
        case_id = random.choice(self.township["cases"])
        self.client.get(f"/api/applications/{case_id}/", name="api: application")
