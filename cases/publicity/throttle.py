"""A small rate limit for the public pages: a counter per client address, scope and
time window in Django's cache. The login has django-axes; nothing else in the portal
limits requests, and the public pages are the only ones open without an account."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from aid_portal.middleware import client_address_of

# Requests per client address and window (seconds); PUBLIC_RATE_LIMITS overrides.
DEFAULT_LIMITS = {
    "page": (60, 60),  # a page of the public roster: 60 a minute
    "report": (5, 3600),  # a report sent: 5 an hour
}


def limits(scope: str) -> tuple[int, int]:
    return getattr(settings, "PUBLIC_RATE_LIMITS", {}).get(scope, DEFAULT_LIMITS[scope])


def allow(request, scope: str) -> bool:
    """Count this request; False once the address has used up its window."""
    limit, window = limits(scope)
    bucket = int(time.time() // window)
    key = f"publicity:{scope}:{client_address_of(request) or '-'}:{bucket}"
    if cache.add(key, 1, timeout=window + 1):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window + 1)
        return True
    return count <= limit
