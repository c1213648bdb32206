"""Celery beat that runs once across every machine: django-celery-beat's database
scheduler behind a lock in Redis (docs/deploy.md, "Beat exactly once").

A beat started while another holds the lock waits, as a standby, and sends nothing. The
holder renews the lock on every tick (at most ``DEFAULT_MAX_INTERVAL``, 5 s, apart); on
a clean stop it releases it and a standby takes over at once; if its machine is lost,
the lock expires after ``BEAT_LOCK_SECONDS`` and a standby takes over then. A beat that
finds it has lost the lock (it stalled past the expiry and another took over) stops, so
two never send at once; its process manager starts it again as a standby.

celery-redbeat does the same but keeps the schedules in Redis; the portal's live in
PostgreSQL, where admins edit them (aid_portal/schedules.py), so only the lock is added.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket

import redis
from django_celery_beat.schedulers import DEFAULT_MAX_INTERVAL, DatabaseScheduler
from redis.exceptions import LockError

from aid_portal import config

logger = logging.getLogger(__name__)

LOCK_KEY = "aid_portal:beat:lock"
# Waiting for the lock, look again this often (seconds).
STANDBY_POLL = 1.0


def lock_seconds() -> int:
    """How long the lock outlives its holder. Several ticks, so that a busy holder
    (a slow database) does not lose it; short enough for a quick takeover."""
    return config.env_int("BEAT_LOCK_SECONDS", 60, minimum=DEFAULT_MAX_INTERVAL * 2)


def beat_lock(client: redis.Redis):
    return client.lock(LOCK_KEY, timeout=lock_seconds(), sleep=STANDBY_POLL, thread_local=False)


def broker_client(app) -> redis.Redis:
    """A client of the broker's Redis, however REDIS_URL names it (a socket too)."""
    return app.connection_for_write().default_channel.client


class LostBeatLock(SystemExit):
    """Raised from a tick when another beat holds the lock now: stop sending."""


class SingleBeatScheduler(DatabaseScheduler):
    """DatabaseScheduler that sends only while it holds the installation's beat lock."""

    lock = None

    def setup_schedule(self):
        self.lock = beat_lock(broker_client(self.app))
        holder = f"{socket.gethostname()}:{os.getpid()}"
        if not self.lock.acquire(blocking=False):
            logger.warning(
                "beat %s: another beat holds the lock %s; waiting as a standby", holder, LOCK_KEY
            )
            self.lock.acquire(blocking=True)
        logger.warning("beat %s: took the lock %s, sending the schedules", holder, LOCK_KEY)
        super().setup_schedule()

    def tick(self, *args, **kwargs):
        # Renew before sending anything: a beat that lost the lock must not send.
        try:
            self.lock.reacquire()
        except LockError:
            logger.error("beat: the lock %s is held by another beat now; stopping", LOCK_KEY)
            raise LostBeatLock(1) from None
        return super().tick(*args, **kwargs)

    def close(self):
        try:
            super().close()
        finally:
            if self.lock is not None:
                # Expired, or taken by another: then nothing of ours is left to free.
                with contextlib.suppress(LockError):
                    self.lock.release()
