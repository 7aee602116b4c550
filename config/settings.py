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
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str, env_url

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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Each person's time zone for every page (core/middleware.py).
    "core.middleware.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Body size limit and Idempotency-Key for every /api/ POST (integrations/idempotency.py).
    "integrations.middleware.IdempotencyMiddleware",
    "core.middleware.ApiErrorMiddleware",
]
if not DEBUG:
    # Without DEBUG Django serves no static files: WhiteNoise serves the collected
    # ones (manage.py collectstatic) from the web processes, so no extra proxy is needed.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

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
            "TEST": {"NAME": env_str("SHIPCHECK_TEST_SQLITE", "") or None},
        }
    }
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
    CELERY_BROKER_URL = "filesystem://"
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
elif TESTING:
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

SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- I18N / static --------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"

# --- E-mail --------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "shipcheck@localhost")
if TESTING:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# --- API -----------------------------------------------------------------
REST_FRAMEWORK = {
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
        "MeetingDecisionEnum": "approvals.choices.MeetingDecision",
        "WindowKindEnum": "monitoring.choices.WindowKind",
        "WindowStatusEnum": "monitoring.choices.WindowStatus",
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
# How often beat takes a signed checkpoint of the audit chain heads.
SHIPCHECK_AUDIT_CHECKPOINT_SECONDS = env_int("SHIPCHECK_AUDIT_CHECKPOINT_SECONDS", 300, minimum=10)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
