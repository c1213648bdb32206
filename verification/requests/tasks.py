"""Celery tasks of verification requests: ask one department, ask the overdue again.

Tasks named "verification.query_*" run on the "verification" queue (settings
CELERY_TASK_ROUTES), so a slow department never holds up other work. They take ids and
are safe to run twice: the service does nothing for a query already answered, or
being asked by another run.
"""

from __future__ import annotations

from celery import shared_task

from verification.requests import services
from verification.requests.models import DepartmentQuery

# Seconds before each retry of a department that failed: 30 s, 2 min, 10 min. After
# the last one the query stays FAILED until it is asked again (by hand or when overdue).
RETRY_COUNTDOWNS = (30, 120, 600)


@shared_task(name="verification.query_run", bind=True, acks_late=True, max_retries=3)
def query_run(self, query_id: int) -> str:
    query = services.query_run(query_id=query_id)
    if query.status == DepartmentQuery.Status.FAILED and self.request.retries < len(
        RETRY_COUNTDOWNS
    ):
        raise self.retry(countdown=RETRY_COUNTDOWNS[self.request.retries])
    return query.status


@shared_task(name="verification.query_reask", acks_late=True)
def query_reask() -> int:
    """Daily: every department past its due date is asked again."""
    return services.queries_reask()
