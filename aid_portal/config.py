"""Settings read from the environment, failing loudly and in one line on a bad value.

Every value the portal reads from the environment is parsed here, so that a wrong
``DATABASE_URL`` stops start-up with a message naming the variable rather than a
traceback from deep inside a database driver.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import dj_database_url
from cryptography.fernet import Fernet


class ConfigError(Exception):
    """A setting in the environment is missing or malformed; the message names it."""


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def env_bool(name: str, default: bool) -> bool:
    value = env_str(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}: expected true/false (1/0), got {value!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = env_str(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {number}")
    return number


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (env_str(name) or default).lower()
    if value not in choices:
        raise ConfigError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def refuse_moved(moved: dict[str, str]) -> None:
    """Variables the portal no longer reads, each with the policy field that replaced it.

    A deployment still setting one would lose its value without a word, so start-up
    stops and names the field to enter on the county policies page instead.
    """
    for name, field in moved.items():
        if env_str(name) is not None:
            raise ConfigError(
                f"{name}: no longer a setting; enter it as {field} on each county's policy "
                "(county policies page) and remove it from the environment"
            )


def parse_database_url(url: str) -> dict:
    """Parse a PostgreSQL URL into Django's DATABASES entry, or raise ConfigError."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ConfigError(
            f"DATABASE_URL: must start with postgres:// or postgresql://, got {url[:30]!r}"
        )
    try:
        parts.port  # noqa: B018 - urlsplit validates the port lazily
    except ValueError:
        raise ConfigError("DATABASE_URL: the port is not a number between 0 and 65535") from None
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:  # dj-database-url raises ValueError subclasses
        raise ConfigError(f"DATABASE_URL: {exc}") from None
    if not config.get("NAME"):
        raise ConfigError("DATABASE_URL: no database name after the host (…/dbname)")
    if not (config.get("HOST") or config.get("OPTIONS", {}).get("host")):
        raise ConfigError("DATABASE_URL: no host (a server name or a socket folder)")
    return config


def parse_level_mapping(name: str, default: str) -> dict[str, str]:
    """``general=light,serious=severe``: Huangshi's levels onto the portal's three."""
    value = env_str(name, default)
    mapping: dict[str, str] = {}
    for pair in value.split(","):
        source, _, target = pair.partition("=")
        source, target = source.strip(), target.strip()
        if source not in {"general", "serious"} or target not in {"light", "moderate", "severe"}:
            raise ConfigError(
                f"{name}: expected general=<level>,serious=<level> with levels light, "
                f"moderate or severe, got {value!r}"
            )
        mapping[source] = target
    if set(mapping) != {"general", "serious"}:
        raise ConfigError(f"{name}: give a level for both general and serious, got {value!r}")
    return mapping


REDIS_SCHEMES = {"redis", "rediss", "redis+socket", "unix"}


def validate_redis_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in REDIS_SCHEMES:
        raise ConfigError(
            f"REDIS_URL: must start with redis://, rediss:// or redis+socket://, got {url[:30]!r}"
        )
    if parts.scheme in {"redis+socket", "unix"}:
        if not parts.path:
            raise ConfigError("REDIS_URL: a socket URL needs the socket's path")
    elif not parts.hostname:
        raise ConfigError("REDIS_URL: no host name")
    try:
        parts.port  # noqa: B018
    except ValueError:
        raise ConfigError("REDIS_URL: the port is not a number between 0 and 65535") from None
    return url


def parse_fernet_keys(name: str, value: str) -> list[str]:
    """Comma-separated Fernet keys (newest first), each checked now rather than at first use."""
    keys = [key.strip() for key in value.split(",") if key.strip()]
    if not keys:
        raise ConfigError(f"{name}: at least one key is needed")
    for key in keys:
        try:
            Fernet(key.encode())
        except ValueError:
            raise ConfigError(
                f"{name}: {key[:6]}… is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None
    return keys
