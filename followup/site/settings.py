"""Followup settings: one module, driven by the environment.

``DJANGO_ENV`` picks the shape (development, test, production); every other knob is an
environment variable parsed strictly by :mod:`followup.site.env`. With nothing set, the app runs
on the embedded default: SQLite under ``var/`` and a file-based Celery broker.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from followup.site.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_rate,
    env_str,
    env_timezone,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("FOLLOWUP_VAR_DIR", str(BASE_DIR / "var")))

# Under pytest the default is the test shape (in-memory cache, fast hashing), so a bare
# `pytest` behaves like `make test`; an explicit DJANGO_ENV always wins.
ENV = env_choice(
    "DJANGO_ENV",
    ["development", "test", "production"],
    "test" if "pytest" in sys.modules else "development",
)
PRODUCTION = ENV == "production"
DEBUG = env_bool("DJANGO_DEBUG", ENV == "development")
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG cannot be true when DJANGO_ENV=production.")

if PRODUCTION:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be at least 50 random characters in production."
        )
else:
    SECRET_KEY = env_str(
        "DJANGO_SECRET_KEY", "dev-only-insecure-key-never-use-in-production-0123456789"
    )

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS is required in production (comma-separated).")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# The one site address: every absolute link (e-mails, the calendar feed and its .ics, webhook
# payloads, invitation links, the demo's start-up line) is built from BASE_URL. Without
# FOLLOWUP_BASE_URL it is the development server's address, on FOLLOWUP_PORT (what
# `make run` serves on; 8000 by default).
PORT = env_int("FOLLOWUP_PORT", 8000, minimum=1)
BASE_URL: str = str(
    env_url("FOLLOWUP_BASE_URL", f"http://127.0.0.1:{PORT}", schemes=["http", "https"])
).rstrip("/")

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
    "template_partials",
    "axes",
    "csp",
    # Ours, in dependency order (import-linter checks it): accounts <- kernel <- engine <-
    # engagements <- projects <- risks; the site composes them all.
    "accounts",
    "followup.kernel",
    "followup.engine",
    "engagements",
    "projects",
    "risks",
    "followup.site",
]

MIDDLEWARE = [
    # Every request starts and ends with no tenant context (accounts.rls).
    "accounts.rls.RequestScopeMiddleware",
    # Outermost: sees every answer, so nothing under /api/ leaves as HTML (Django's own 404
    # and, with DEBUG, its technical error pages included).
    "followup.kernel.api.middleware.ApiProblemsMiddleware",
    # Marks calls of /api/v1/: the middleware wrapped in followup.site.fastpath (sessions,
    # user, messages, htmx, CSP) pass them straight on.
    "followup.site.fastpath.ApiFastPath",
    # NUL characters in the path or query, chunked API bodies: refused before any view.
    "followup.site.middleware.HostileRequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "followup.site.fastpath.Session",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Not wrapped: its process_view returns at once for DRF's views (they are exempt), and
    # the deploy check wants it by name.
    "django.middleware.csrf.CsrfViewMiddleware",
    "followup.site.fastpath.Authentication",
    "accounts.web.middleware.UserPreferencesMiddleware",
    "accounts.web.middleware.AuditOriginMiddleware",
    "followup.site.fastpath.Messages",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "followup.site.fastpath.Htmx",
    "followup.site.fastpath.Csp",
    # Last, so that a locked-out login is answered before the view runs (it only reads a
    # flag its login signal sets: nearly free, and its system check wants it by name).
    "axes.middleware.AxesMiddleware",
]

if PRODUCTION:
    # Static files from the app server itself (runserver and the test server do it otherwise).
    MIDDLEWARE.insert(3, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "followup.site.urls"
CSRF_FAILURE_VIEW = "followup.site.views.csrf_failure"
WSGI_APPLICATION = "followup.site.wsgi.application"
ASGI_APPLICATION = "followup.site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.web.context_processors.organization",
                "followup.engine.web.context_processors.notifications",
            ],
            "builtins": ["accounts.templatetags.org_urls"],
        },
    }
]


# --- Database ---------------------------------------------------------------------------
def _database() -> dict:
    url = env_url("DATABASE_URL", None, schemes=["postgres", "postgresql", "pgsql", "sqlite"])
    if url is None:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{VAR_DIR / 'followup.sqlite3'}"
    try:
        config = dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Web, worker and beat write at once: WAL lets readers run beside the writer, the
        # busy timeout makes a writer wait instead of failing, and IMMEDIATE transactions
        # take the write lock up front so two writers cannot deadlock on lock upgrade.
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
        }
        if ENV == "test":
            # Tests with real threads (two requests completing one follow-up, two reminder
            # ticks) need the busy timeout, which a shared-cache in-memory database ignores
            # ("database table is locked"): test on a file, like the app runs.
            config["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    else:
        config["CONN_HEALTH_CHECKS"] = True
        # Every statement carries its tenant setting as a prefix (accounts.rls); a named
        # cursor's DECLARE cannot, and PgBouncer in transaction mode cannot keep one anyway.
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
    return config


def _owner_database() -> dict[str, Any] | None:
    """``MIGRATE_DATABASE_URL``: the role that owns the tables (migrations, test databases,
    ``setup_db_roles``). ``DATABASE_URL`` is then the runtime role, under row-level security.
    Unset: the runtime connection is the owner too (SQLite, or a development superuser)."""
    url = env_url("MIGRATE_DATABASE_URL", None, schemes=["postgres", "postgresql", "pgsql"])
    if url is None:
        return None
    try:
        return dict(dj_database_url.parse(url))
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"MIGRATE_DATABASE_URL is not a valid database URL: {exc}"
        ) from None


DATABASES = {"default": _database()}
MIGRATE_DATABASE = _owner_database()
if MIGRATE_DATABASE is not None and DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    raise ImproperlyConfigured("MIGRATE_DATABASE_URL needs a PostgreSQL DATABASE_URL.")
# Row-level security (accounts/rls.py, accounts/rls_schema.py): the runtime role and the
# BYPASSRLS role it switches to for the named cross-organization work.
FOLLOWUP_DB_APP_ROLE = env_str(
    "FOLLOWUP_DB_APP_ROLE",
    DATABASES["default"].get("USER") if MIGRATE_DATABASE else "followup_app",
)
FOLLOWUP_DB_BYPASS_ROLE = env_str("FOLLOWUP_DB_BYPASS_ROLE", "followup_bypass")
# A statement on a tenant table with no tenant context raises instead of seeing no rows
# (tests: every missing context is a failure with a traceback, not an empty page).
FOLLOWUP_RLS_STRICT = env_bool("FOLLOWUP_RLS_STRICT", ENV == "test")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The largest request body read into memory (the API's JSON, a form post). A larger one is
# a 413 (problem+json under /api/, with the limit in its detail). Uploaded files (CSV
# imports) are bounded by their own form.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("FOLLOWUP_MAX_BODY_BYTES", 5 * 1024 * 1024, minimum=1024)

# --- Redis, cache, Celery -----------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", None, schemes=["redis", "rediss"])

if ENV == "test":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # Shared by the web process and the workers (throttling must see every process).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

if ENV == "test":
    # Tests never publish to a broker that a development or CI worker consumes; the
    # real-worker tests start their worker (and beats) with tests.followup.worker_settings.
    CELERY_BROKER_URL = "memory://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
elif REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
# With the broker down, a publish gives up quickly (every caller has a fallback: the outbox
# relay, the requeue ticks) instead of holding the request for many seconds.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_RESULT_BACKEND = None
# A task is acknowledged only after it ran: a worker killed mid-task leaves it in the queue.
# Every task is written so that running it twice does no harm.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The periodic work of every app, composed here and only here (DESIGN.md).
CELERY_BEAT_SCHEDULE = {
    "purge-idempotency-records": {
        "task": "followup.kernel.tasks.purge_idempotency_records",
        "schedule": timedelta(hours=1),
    },
    "relay-pending-events": {
        "task": "followup.kernel.tasks.relay_pending_events",
        "schedule": timedelta(minutes=1),
    },
    "expire-invitations": {
        "task": "accounts.tasks.expire_invitations",
        "schedule": timedelta(hours=1),
    },
    # The follow-up engine: due state lives in the database, ticks claim it (idempotent).
    "dispatch-reminders": {
        "task": "followup.engine.tasks.dispatch_reminders",
        "schedule": timedelta(minutes=1),
    },
    "dispatch-webhooks": {
        "task": "followup.engine.tasks.dispatch_webhooks",
        "schedule": timedelta(minutes=1),
    },
    "send-digests": {
        "task": "followup.engine.tasks.send_digests",
        "schedule": timedelta(minutes=5),
    },
    "sweep-notification-emails": {
        "task": "followup.engine.tasks.sweep_notification_emails",
        "schedule": timedelta(minutes=5),
    },
    "engagement-health-snapshots": {
        "task": "engagements.tasks.health_snapshots_tick",
        "schedule": timedelta(hours=1),
    },
    # Weekly project status reports: schedules claimed when due (each drafted once).
    "status-reports": {
        "task": "projects.tasks.status_reports_tick",
        "schedule": timedelta(minutes=5),
    },
    # Milestone risk reviews: scheduled from the milestones' dates, opened once when due.
    "milestone-reviews": {
        "task": "risks.tasks.milestone_reviews_tick",
        "schedule": timedelta(minutes=5),
    },
    # Early-warning rules over what no event names (days passing without a touch).
    "early-warning-sweep": {
        "task": "risks.tasks.early_warning_sweep",
        "schedule": timedelta(hours=1),
    },
    "sweep-survey-emails": {
        "task": "engagements.tasks.sweep_survey_emails",
        "schedule": timedelta(minutes=5),
    },
    # CSV imports whose task never reached a worker (broker down) or whose run died.
    "requeue-imports": {
        "task": "engagements.tasks.imports_tick",
        "schedule": timedelta(minutes=1),
    },
}

# --- Follow-up engine ---------------------------------------------------------------------
# A claim older than this belongs to a worker presumed dead; a later tick takes it over.
FOLLOWUP_CLAIM_TIMEOUT = timedelta(
    seconds=env_int("FOLLOWUP_CLAIM_TIMEOUT_SECONDS", 300, minimum=1)
)
# A CSV import's run refreshes its claim while it checks rows; one silent for longer than
# this is presumed dead and taken over. It also bounds the write pass (one transaction).
FOLLOWUP_IMPORT_CLAIM_TIMEOUT = timedelta(
    seconds=env_int("FOLLOWUP_IMPORT_CLAIM_TIMEOUT_SECONDS", 900, minimum=1)
)
# Reminder moments further in the past than this are skipped (after an outage, or when a
# due time is set close to now), so nobody gets a stale "due tomorrow" mail.
FOLLOWUP_REMINDER_GRACE = timedelta(minutes=env_int("FOLLOWUP_REMINDER_GRACE_MINUTES", 30))
FOLLOWUP_REMINDER_BATCH = env_int("FOLLOWUP_REMINDER_BATCH", 1000, minimum=1)
FOLLOWUP_REMINDER_CHUNK = env_int("FOLLOWUP_REMINDER_CHUNK", 50, minimum=1)
FOLLOWUP_REMINDER_MAX_ROUNDS = env_int("FOLLOWUP_REMINDER_MAX_ROUNDS", 200, minimum=1)
FOLLOWUP_DIGEST_HOUR = env_int("FOLLOWUP_DIGEST_HOUR", 8, minimum=0)
# Webhooks may call private and loopback addresses only when this is on (SSRF): on by
# default outside production (local receivers, tests), off in production.
FOLLOWUP_WEBHOOKS_ALLOW_PRIVATE = env_bool("FOLLOWUP_WEBHOOKS_ALLOW_PRIVATE", not PRODUCTION)
FOLLOWUP_WEBHOOK_TIMEOUT = env_int("FOLLOWUP_WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)

# --- Auth ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
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
if ENV == "test":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "root"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
# Failures count per normalised identifier (strip + casefold): case variants share a count.
AXES_USERNAME_CALLABLE = "accounts.identity.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.web.views.locked_out"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env_int("AXES_PROXY_COUNT", 0, minimum=0)

INVITATION_TTL = timedelta(days=env_int("FOLLOWUP_INVITATION_DAYS", 7, minimum=1))
SIGNUP_CONFIRMATION_TTL = timedelta(hours=env_int("FOLLOWUP_SIGNUP_CONFIRM_HOURS", 48, minimum=1))

# --- I18N ---------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
# Named date formats and number grouping per language (followup/site/formats/).
FORMAT_MODULE_PATH = ["followup.site.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_timezone("FOLLOWUP_DEFAULT_TIMEZONE", "UTC")
USE_TZ = True

# --- Static -------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- E-mail -------------------------------------------------------------------------------
# Development prints mail to the console (visible in `make run`); docker-compose points
# EMAIL_HOST at the mail catcher; production must name a real SMTP server.
EMAIL_HOST = env_str("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
    EMAIL_TIMEOUT = 15
elif PRODUCTION:
    raise ImproperlyConfigured("EMAIL_HOST is required in production; mail must not be lost.")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Followup <noreply@followup.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security -----------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # Probes of the orchestrator speak plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Behind a TLS-terminating proxy (docker-compose, most PaaS).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# No inline script or style anywhere: htmx's own indicator style is switched off in the
# page's htmx-config meta tag; SVG charts use presentation attributes, not style=.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- REST framework -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["followup.kernel.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["followup.kernel.api.permissions.RolePermission"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["followup.kernel.api.parsers.BoundedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "followup.kernel.api.pagination.StableCursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["followup.kernel.api.filters.TenantFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["followup.kernel.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "followup.kernel.api.schema.ProblemAutoSchema",
    "EXCEPTION_HANDLER": "followup.kernel.api.problems.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "PAGE_SIZE": 50,
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
FOLLOWUP_API_RATE = env_rate("FOLLOWUP_API_RATE", "1200/min")
FOLLOWUP_MAX_PAGE_SIZE = 200
# Failed API-key authentications allowed per client address and minute; more are 429.
FOLLOWUP_API_AUTH_FAILURES = env_int("FOLLOWUP_API_AUTH_FAILURES", 20, minimum=1)
# Sign-ups and password-reset requests allowed per client address and hour.
FOLLOWUP_SIGNUP_RATE = env_int("FOLLOWUP_SIGNUP_PER_HOUR", 10, minimum=1)
FOLLOWUP_PASSWORD_RESET_RATE = env_int("FOLLOWUP_PASSWORD_RESET_PER_HOUR", 10, minimum=1)
IDEMPOTENCY_TTL = timedelta(hours=env_int("FOLLOWUP_IDEMPOTENCY_HOURS", 24, minimum=24))
# A request that has held its idempotency key this long without finishing is presumed dead
# (its process crashed); a retry may then take the key over.
IDEMPOTENCY_LOCK_TIMEOUT = timedelta(
    seconds=env_int("FOLLOWUP_IDEMPOTENCY_LOCK_SECONDS", 120, minimum=5)
)

SPECTACULAR_SETTINGS = {
    "TITLE": "Followup API",
    "DESCRIPTION": (
        "Business and project follow-up. Authenticate with `Authorization: Bearer <api key>`. "
        "Errors are application/problem+json (RFC 9457); every operation lists the ones it "
        "can answer. Limits: a request body may be at most "
        f"{DATA_UPLOAD_MAX_MEMORY_SIZE} bytes ({DATA_UPLOAD_MAX_MEMORY_SIZE / 1048576:g} MiB; "
        "larger is a 413), JSON nested at most 32 levels (deeper is a 400), a chunked body "
        "without Content-Length is a 411; failed authentications are limited per client "
        "address (429 with Retry-After); while the database is unreachable every request "
        "answers 503 with Retry-After."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "accounts.roles.Role",
        "FollowUpStatusEnum": "followup.engine.models.FollowUpStatus",
        "WebhookDeliveryStatusEnum": "followup.engine.models.WebhookDeliveryStatus",
        "ProjectStatusEnum": "projects.models.ProjectStatus",
        # Green/amber/red: engagement health and a risk indicator's zone share one set.
        "HealthLevelEnum": "engagements.models.HealthLevel",
        "RiskLevelEnum": "risks.models.Level",
    },
    # Errors on every operation, formats and bounds introspection cannot see
    # (followup.kernel.api.schema).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "followup.kernel.api.schema.postprocess",
        # Summaries, Idempotency-Key and If-Match on every operation (issue 11).
        "followup.kernel.api.conventions_schema.add_conventions",
    ],
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "ApiKey": {"type": "http", "scheme": "bearer", "description": "Organization API key"}
        }
    },
    "SECURITY": [{"ApiKey": []}],
}

# --- Logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"client_errors_one_line": {"()": "followup.site.logfilters.ClientErrorsOnOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice(
            "LOG_LEVEL",
            ["DEBUG", "INFO", "WARNING", "ERROR"],
            "INFO" if ENV != "test" else "WARNING",
        ),
    },
    "loggers": {
        "axes": {"level": "WARNING"},
        # Django's own console handler (DEBUG only) would print each request error a second
        # time beside the root's: one handler, the root's.
        "django": {"handlers": [], "propagate": True},
        "django.request": {"filters": ["client_errors_one_line"]},
    },
}
