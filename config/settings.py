"""Shipcheck settings.

With no environment at all Shipcheck runs as a self-contained development
server: SQLite, a filesystem Celery broker, console e-mail, DEBUG on.
Production differs only through environment variables (see README).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from core.env import env_bool, env_float, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SHIPCHECK_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

TESTING = "pytest" in sys.modules or env_bool("SHIPCHECK_TESTING", False)
PRODUCTION = env_bool("SHIPCHECK_PRODUCTION", False)
DEBUG = env_bool("DEBUG", not PRODUCTION)

SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver", "[::1]"])
if PRODUCTION:
    if len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to at least 32 random characters when SHIPCHECK_PRODUCTION is on"
        )
    if not os.environ.get("ALLOWED_HOSTS"):
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when SHIPCHECK_PRODUCTION is on")
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off when SHIPCHECK_PRODUCTION is on")
elif not SECRET_KEY:
    # Development only: a fixed key so sessions survive restarts of `make run`.
    SECRET_KEY = "shipcheck-development-key-not-for-production-use-0123456789"  # noqa: S105

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "core",
    "audit",
    "projects",
    "releases",
    "checklists",
    "approvals",
    "monitoring",
    "integrations",
    # Invitations, deactivation, OpenID Connect sign-in, MFA, sessions (docs/sign-in.md).
    "accounts",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.mfa",
    "allauth.usersessions",
    # Composed capabilities (docs/architecture.md): they build on the feature apps.
    "deploycalendar",
    "flags",
    "incidents",
    "releasenotes",
    "configfile",
    # Beside compliance: they read every app below (notifications listen to core's events).
    "notifications",
    "metrics",
    # The top of the layers (docs/architecture.md): auditors' reports, and the demo story.
    "compliance",
    "demo",
]

MIDDLEWARE = [
    # A request id on every log line, answer and API error; request metrics (core/observability.py).
    "core.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Each person's time zone for every page (core/middleware.py).
    "core.middleware.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Body size limit and Idempotency-Key for every /api/ POST (integrations/idempotency.py).
    "integrations.middleware.IdempotencyMiddleware",
    "core.middleware.ApiErrorMiddleware",
    # The login page of an instance with nobody yet leads to /setup/ (the first administrator).
    "projects.middleware.FirstRunMiddleware",
    # The product's 404 page instead of Django's URL list when DEBUG is on.
    "core.middleware.NotFoundPageMiddleware",
]
if not DEBUG:
    # Without DEBUG Django serves no static files: WhiteNoise serves the collected
    # ones (manage.py collectstatic) from the web processes, so no extra proxy is needed.
    MIDDLEWARE.insert(2, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "core.context_processors.navigation",
            ],
            "builtins": ["core.templatetags.shipcheck"],
        },
    }
]


# --- Database -------------------------------------------------------------
def _sqlite_test_file() -> str:
    """The SQLite test database: a file (in memory-backed /dev/shm where there is one).

    Not ``:memory:``: the browser tests' live server, its request threads and the
    test's own threads (a scheduler, a mail server) would then share one connection,
    which SQLite does not make safe ("database table is locked" under load). A file
    gives each thread its own connection, WAL readers and the busy timeout. The name
    is unique per test run (xdist adds its worker suffix), so parallel runs and
    checkouts never meet.
    """
    import tempfile

    shm = Path("/dev/shm")  # noqa: S108 - a file name unique per run, in a folder of our choosing
    folder = shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")[:12] or str(os.getpid())
    return str(folder / f"shipcheck-test-{run}.sqlite3")


DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "sqlite"))
if DATABASE_URL and not DATABASE_URL.startswith("sqlite"):
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})
    if TESTING:
        # The audit table refuses UPDATE/DELETE/TRUNCATE. The test runner must
        # still empty tables between transactional tests, so test connections
        # carry this flag, which the trigger honours (see audit/migrations).
        DATABASES["default"]["OPTIONS"]["options"] = "-c shipcheck.audit_purge=on"
else:
    sqlite_path = (
        DATABASE_URL.removeprefix("sqlite:///")
        if DATABASE_URL
        else str(VAR_DIR / "shipcheck.sqlite3")
    )
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": sqlite_path,
            "OPTIONS": {
                # IMMEDIATE takes the write lock when a transaction begins, so two
                # writers never read the same audit chain head (see audit/services.py).
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            "TEST": {"NAME": env_str("SHIPCHECK_TEST_SQLITE", "") or _sqlite_test_file()},
        }
    }
    # A covering index (metrics.FirstDeployment's INCLUDE of lead_seconds) is PostgreSQL's;
    # SQLite builds the plain index, which is all it needs, so its warning is noise here.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery -----------------------------------------------------
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss"))
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    broker_dir = VAR_DIR / "broker"
    # kombu's filesystem transport with atomic writes and claims (core/broker.py): its stock
    # version loses the worker to half-written files when several processes enqueue.
    CELERY_BROKER_URL = "embedded://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(broker_dir / "queue"),
        "data_folder_out": str(broker_dir / "queue"),
        "processed_folder": str(broker_dir / "processed"),
        # Broadcast (remote control) exchanges; kombu's default is ./control in the cwd.
        "control_folder": str(broker_dir / "control"),
        "store_processed": False,
    }
if TESTING and not REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif TESTING and REDIS_URL:
    # Parallel test workers must not share a cache: some tests empty it (FLUSHDB),
    # which would reset another worker's rate-limit counters mid-test. Each xdist
    # worker gets a Redis database of its own, after the one REDIS_URL names.
    _worker = os.environ.get("PYTEST_XDIST_WORKER", "gw-1")
    _worker_index = int(_worker[2:]) if _worker[2:].lstrip("-").isdigit() else -1
    _parsed = urlparse(REDIS_URL)
    _base_db = int(_parsed.path.strip("/") or 0) if _parsed.path.strip("/").isdigit() else 0
    CACHES["default"]["LOCATION"] = _parsed._replace(
        path=f"/{(_base_db + 1 + _worker_index + 1) % 16}"
    ).geturl()
    CACHES["default"]["KEY_PREFIX"] = "test-" + _worker

CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task whose worker died mid-run (OOM, SIGKILL) goes back to the queue instead of vanishing;
# every task is safe to run twice (acks late).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Time limits (prefork workers; docs/operations.md): the soft one raises inside the task so it
# can end cleanly, the hard one kills the child. No task of ours needs more than seconds.
CELERY_TASK_TIME_LIMIT = env_int("SHIPCHECK_TASK_TIME_LIMIT", 300, minimum=10)
CELERY_TASK_SOFT_TIME_LIMIT = env_int(
    "SHIPCHECK_TASK_SOFT_TIME_LIMIT", max(CELERY_TASK_TIME_LIMIT - 30, 5), minimum=5
)
if CELERY_TASK_SOFT_TIME_LIMIT >= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        "SHIPCHECK_TASK_SOFT_TIME_LIMIT must be smaller than SHIPCHECK_TASK_TIME_LIMIT, got "
        f"{CELERY_TASK_SOFT_TIME_LIMIT} and {CELERY_TASK_TIME_LIMIT}"
    )
# Two queues: monitoring polls (the scheduler's tick, baselines, prechecks) and rollback hooks
# go to "monitoring", everything else (e-mail, clean-ups) to "celery", so a slow SMTP server
# never delays a poll. Workers consume both (runall, docker-compose.yml); a dedicated
# monitoring worker is `celery -A config worker -Q monitoring`.
CELERY_TASK_DEFAULT_QUEUE = "celery"
SHIPCHECK_MONITORING_QUEUE = "monitoring"
CELERY_TASK_ROUTES = {"monitoring.tasks.*": {"queue": SHIPCHECK_MONITORING_QUEUE}}
SHIPCHECK_WORKER_QUEUES = f"{CELERY_TASK_DEFAULT_QUEUE},{SHIPCHECK_MONITORING_QUEUE}"
# A web process that cannot reach the broker gives up quickly (the write is already committed).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Beat entries are declared by each app in its tasks module (core/celery wiring).
CELERY_BEAT_SCHEDULE: dict = {
    "heartbeat": {"task": "core.tasks.heartbeat", "schedule": 15.0},
}

# --- Auth ----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# Sign-in, OpenID Connect, MFA, throttling and invitations: accounts/settings.py (docs/sign-in.md).
from accounts.settings import *  # noqa: E402, F403

SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HTTPS behind a TLS-terminating proxy (docs/configuration.md). Production defaults: redirect
# plain http to https, and tell browsers to use https only for a year (HSTS), subdomains too.
# The probes answer over plain http, for load balancers and container health checks.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)

# --- I18N / static --------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
# Collected files get a content hash in their name (app.3f2a1c.css) and a compressed copy, so
# WhiteNoise serves them with a year's cache and a new release never shows stale CSS. With DEBUG
# on, and in the tests (which never run collectstatic), names stay plain.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- E-mail --------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
# A real provider: credentials, STARTTLS (usually port 587) or implicit TLS (465), a time limit.
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured(
        "EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on: STARTTLS (587) or implicit TLS (465)"
    )
# Seconds an SMTP connection may block a worker (Django's default is no limit at all).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "shipcheck@localhost")
if TESTING:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# --- API -----------------------------------------------------------------
REST_FRAMEWORK: dict[str, Any] = {
    # An empty Accept header is read as */* (core/api/negotiation.py), not answered with 406.
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.api.negotiation.EmptyAcceptMeansAny",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "projects.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Tokens read only with a read scope (projects/api/permissions.py); services check writes.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "projects.api.permissions.TokenReadScope",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # JSON that cannot crash the parser (depth, NUL, surrogates): integrations/api/parsers.py.
    "DEFAULT_PARSER_CLASSES": [
        "integrations.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["integrations.api.throttles.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": None},  # set below from SHIPCHECK_TOKEN_RATE_LIMIT
}
# Requests per API token, "<n>/<s|min|hour|day>"; "off" disables the limit.
SHIPCHECK_TOKEN_RATE_LIMIT = env_str("SHIPCHECK_TOKEN_RATE_LIMIT", "600/min").strip()
if SHIPCHECK_TOKEN_RATE_LIMIT.lower() != "off":
    if not re.fullmatch(
        r"[1-9]\d*/(s|sec|second|m|min|minute|h|hour|d|day)", SHIPCHECK_TOKEN_RATE_LIMIT
    ):
        raise ImproperlyConfigured(
            f"SHIPCHECK_TOKEN_RATE_LIMIT must look like 600/min (or 10/s, 5000/hour, 'off'); "
            f"got {SHIPCHECK_TOKEN_RATE_LIMIT!r}"
        )
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"] = SHIPCHECK_TOKEN_RATE_LIMIT
# Idempotency-Key (integrations/idempotency.py, docs/ci.md): how long a retry waits for the first
# request's answer, when an unfinished claim is taken over, how long answers are kept (24 h at least).
SHIPCHECK_IDEMPOTENCY_WAIT_SECONDS = env_int("SHIPCHECK_IDEMPOTENCY_WAIT_SECONDS", 5, minimum=0)
SHIPCHECK_IDEMPOTENCY_LOCK_SECONDS = env_int("SHIPCHECK_IDEMPOTENCY_LOCK_SECONDS", 120, minimum=10)
SHIPCHECK_IDEMPOTENCY_TTL_HOURS = env_int("SHIPCHECK_IDEMPOTENCY_TTL_HOURS", 24, minimum=24)
# Largest request body, in bytes (JUnit reports travel inside JSON); larger bodies get 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("SHIPCHECK_MAX_REQUEST_BYTES", 5 * 1024 * 1024, minimum=1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "Shipcheck API",
    "DESCRIPTION": "Release management for people and pipelines. Errors share one shape: "
    '{"error": code, "message": text, "details": {...}}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's files come from drf-spectacular-sidecar, so /api/docs/ works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status"; name each enum after its choices class.
    "ENUM_NAME_OVERRIDES": {
        "ReleaseStatusEnum": "releases.choices.ReleaseStatus",
        "DeploymentStatusEnum": "releases.choices.DeploymentStatus",
        "GateStateEnum": "releases.choices.GateState",
        "RoleEnum": "projects.choices.Role",
        "ItemRoleEnum": "checklists.choices.ITEM_ROLES",
        "ApprovalKindEnum": "approvals.choices.ApprovalKind",
        "ApprovalDecisionEnum": "approvals.choices.Decision",
        "ApprovalStateEnum": "approvals.choices.ApprovalState",
        "DeploymentFinishStatusEnum": "releases.choices.DEPLOYMENT_FINISH_CHOICES",
        "MeetingDecisionEnum": "approvals.choices.MeetingDecision",
        "WindowKindEnum": "monitoring.choices.WindowKind",
        "WindowStatusEnum": "monitoring.choices.WindowStatus",
        "MetricDirectionEnum": "monitoring.choices.Direction",
        "MoveDirectionEnum": "checklists.choices.MOVE_DIRECTIONS",
        # The release calendar's own kinds and statuses (deploycalendar/api).
        "CalendarWindowKindEnum": "deploycalendar.choices.WindowKind",
        "QueueStatusEnum": "deploycalendar.choices.QueueStatus",
        "NotificationChannelKindEnum": "notifications.choices.ChannelKind",
        "AudienceEnum": "notifications.choices.AUDIENCE_CHOICES",
    },
    # Errors every operation can answer (413, 415, 429, Idempotency-Key 409/422): integrations/api/schema.py.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "integrations.api.schema.document_common_errors",
    ],
}

# --- Shipcheck -------------------------------------------------------------
# Hosts that health and metric checks may reach although they resolve to a
# private or loopback address (internal health endpoints). Comma separated.
# A development server allows 127.0.0.1, where `make run` starts the demo
# metrics server; production and the tests start from an empty list.
SHIPCHECK_FETCH_ALLOWLIST = env_list(
    "SHIPCHECK_FETCH_ALLOWLIST", [] if (PRODUCTION or TESTING) else ["127.0.0.1"]
)
SHIPCHECK_BASE_URL = env_str("SHIPCHECK_BASE_URL", "http://127.0.0.1:8000")
# Notification deliveries (docs/notifications.md): how long a worker holds a claimed row before
# another may take it (at least the request deadline plus a second), the deadline, the first retry's delay (doubling, with jitter, up to the cap) and the
# attempts before a delivery becomes a dead letter.
SHIPCHECK_NOTIFY_LEASE_SECONDS = env_int("SHIPCHECK_NOTIFY_LEASE_SECONDS", 60, minimum=1)
SHIPCHECK_NOTIFY_TIMEOUT_SECONDS = env_int("SHIPCHECK_NOTIFY_TIMEOUT_SECONDS", 10, minimum=1)
SHIPCHECK_NOTIFY_RETRY_BASE_SECONDS = env_int("SHIPCHECK_NOTIFY_RETRY_BASE_SECONDS", 30, minimum=0)
SHIPCHECK_NOTIFY_RETRY_CAP_SECONDS = env_int("SHIPCHECK_NOTIFY_RETRY_CAP_SECONDS", 3600, minimum=1)
SHIPCHECK_NOTIFY_MAX_ATTEMPTS = env_int("SHIPCHECK_NOTIFY_MAX_ATTEMPTS", 8, minimum=1)

# Signs audit checkpoints (docs/audit.md). Lives only in the environment, never
# in the database: whoever can rewrite the tables must not be able to re-sign.
SHIPCHECK_AUDIT_SIGNING_KEY = env_str("SHIPCHECK_AUDIT_SIGNING_KEY")
if PRODUCTION and len(SHIPCHECK_AUDIT_SIGNING_KEY) < 32:
    raise ImproperlyConfigured(
        "SHIPCHECK_AUDIT_SIGNING_KEY must be set to at least 32 random characters when "
        "SHIPCHECK_PRODUCTION is on (it signs the audit trail's checkpoints)"
    )
elif not SHIPCHECK_AUDIT_SIGNING_KEY:
    SHIPCHECK_AUDIT_SIGNING_KEY = "shipcheck-development-audit-key-not-for-production"  # noqa: S105
# Ed25519 private key (64 hex digits: the 32-byte seed) that signs checkpoints so
# auditors verify them with the public key alone. Unset: derived from the signing
# key (then whoever holds that key can sign too; set it in production).
SHIPCHECK_AUDIT_ED25519_PRIVATE_KEY = env_str("SHIPCHECK_AUDIT_ED25519_PRIVATE_KEY").strip()
if SHIPCHECK_AUDIT_ED25519_PRIVATE_KEY and not re.fullmatch(
    r"[0-9a-fA-F]{64}", SHIPCHECK_AUDIT_ED25519_PRIVATE_KEY
):
    raise ImproperlyConfigured(
        "SHIPCHECK_AUDIT_ED25519_PRIVATE_KEY must be 64 hex digits (a 32-byte seed), e.g. "
        "python3 -c 'import secrets; print(secrets.token_hex(32))'"
    )
# Where checkpoints are published outside the database: a directory that gets
# audit-checkpoints.jsonl appended, and/or a URL each checkpoint is POSTed to.
SHIPCHECK_AUDIT_CHECKPOINT_DIR = env_str("SHIPCHECK_AUDIT_CHECKPOINT_DIR")
SHIPCHECK_AUDIT_CHECKPOINT_WEBHOOK = env_str("SHIPCHECK_AUDIT_CHECKPOINT_WEBHOOK")
# How often beat takes a signed checkpoint of the audit chain heads.
SHIPCHECK_AUDIT_CHECKPOINT_SECONDS = env_int("SHIPCHECK_AUDIT_CHECKPOINT_SECONDS", 300, minimum=10)

# --- Logs, metrics, errors (docs/operations.md) ----------------------------------
# json: one JSON object per line (time, level, logger, message, request_id, ...), the production
# default; plain: one readable line, the development default. Both carry the request id.
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "plain").strip().lower()
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.observability.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "core.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per request from core/observability.py replaces Django's own 4xx lines.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}
# Workers log through the same handler (JSON, task id as request_id) instead of Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# /metrics (Prometheus): with a token, only `Authorization: Bearer <token>`; without one, only
# clients on the loopback address. Anyone else gets 404.
SHIPCHECK_METRICS_TOKEN = env_str("SHIPCHECK_METRICS_TOKEN", "").strip()
# Sentry: errors of the web processes and the workers, only when SENTRY_DSN is set.
SENTRY_DSN = env_str("SENTRY_DSN", "").strip()
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production" if PRODUCTION else "development"),
        traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0, minimum=0.0, maximum=1.0),
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )
