"""The snapshot import task (imported by verification/tasks.py for autodiscovery)."""

from celery import shared_task

from verification.feeds import services as feeds


# Large files take minutes; the hard limit stays under the broker's visibility timeout,
# and a redelivered task waits on the snapshot's advisory lock or finds it finished.
@shared_task(name="verification.feed_import", acks_late=True, soft_time_limit=600, time_limit=660)
def feed_import(*, snapshot_id: int) -> None:
    """Validate, load and swap in one uploaded snapshot (safe to run twice)."""
    feeds.snapshot_import(snapshot_id=snapshot_id)
