"""Django settings, read from the environment only; infra/.env.example lists every variable."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    envbool,
    envfloat,
    envint,
    envlist,
    envnetworks,
    envsecret,
    envstr,
    kombu_redis_url,
    required,
)
from gateway.proxy.config import redis_cluster_from_env
from gateway.shared.managed_access import KEYLESS_PROVIDERS
from gateway.shared.providers_catalog import PROVIDERS, platform_key_variable

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = required("DJANGO_SECRET_KEY")
DEBUG = envbool("DEBUG", False)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
# Where people reach web and the proxy: links the web prints (invitations)
# start with SITE_URL, and the new-key page shows PROXY_URL to point SDKs at.
# Unset, they follow make run's ports (CONTRACT.md section 2); SITE_URL is
# SELIXES_SITE_URL's older name, still read.
SITE_URL = envstr("SELIXES_SITE_URL", "") or envstr(
    "SITE_URL", f"http://localhost:{envint('SELIXES_WEB_PORT', 8000)}"
)
PROXY_URL = envstr("SELIXES_PROXY_URL", f"http://localhost:{envint('SELIXES_PROXY_PORT', 8080)}")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_htmx",
    "tenants",
    "gateway",
    "gateway.budgets",
    "gateway.pii_policy",
    "observability",
    "dashboard",
]

MIDDLEWARE = [
    "observability.web_metrics.MetricsMiddleware",  # outermost: every answer counts
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tenants.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenants.identity.middleware.ClerkAuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "tenants.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.context.navigation",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(required("DATABASE_URL"), conn_max_age=60)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = required("REDIS_URL")
# REDIS_URL names one node of a Redis Cluster; every per-org key carries the
# org's hash tag, so scripts stay on one node (DESIGN.md).
REDIS_CLUSTER = redis_cluster_from_env()

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".selixes" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# The only cookies are the session and CSRF cookies (CONTRACT.md section 6).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG and SITE_URL.startswith("https"))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 7
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Bodies larger than this are refused with 413 before they are parsed.
MAX_BODY_BYTES = envint("SELIXES_MAX_BODY_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenants.api.auth.ManagementTokenAuthentication",
        "tenants.api.auth.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "tenants.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "tenants.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Selixes management API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"ErrorTypeEnum": "tenants.api.schema.ERROR_TYPE_CHOICES"},
}

# Identity: local accounts or Clerk (CONTRACT.md section 2).
SELIXES_AUTH = envstr("SELIXES_AUTH", "local")
if SELIXES_AUTH not in ("local", "clerk"):
    raise RuntimeError("SELIXES_AUTH must be 'local' or 'clerk'")
CLERK_SECRET_KEY = envsecret("CLERK_SECRET_KEY")
CLERK_JWT_KEY = envsecret("CLERK_JWT_KEY")
CLERK_WEBHOOK_SECRET = envsecret("CLERK_WEBHOOK_SECRET")
CLERK_AUTHORIZED_PARTIES = envlist("CLERK_AUTHORIZED_PARTIES")
CLERK_ISSUER = envsecret("CLERK_ISSUER")
CLERK_SIGN_IN_URL = envstr("CLERK_SIGN_IN_URL", "/login/")

# Keyed hash for API keys and management tokens; shared with the proxy.
SELIXES_HASH_KEY = required("SELIXES_HASH_KEY")
SELIXES_MASTER_KEYS = required("SELIXES_MASTER_KEYS")

# Providers the platform has a key of its own for (SELIXES_PLATFORM_KEY_<PROVIDER>,
# managed access). Web needs only the names: the route editor offers the platform's
# key for these alone. The keys are read by the proxy and the health pinger.
PLATFORM_KEY_PROVIDERS = frozenset(
    provider
    for provider in PROVIDERS
    if provider not in KEYLESS_PROVIDERS and os.environ.get(platform_key_variable(provider))
)

# May a tenant's api_base reach loopback, private, link-local or metadata
# addresses? "deny" for a hosted service; "allow" for self-hosting (CONTRACT.md §2).
SELIXES_PRIVATE_UPSTREAMS = envstr("SELIXES_PRIVATE_UPSTREAMS", "deny")
if SELIXES_PRIVATE_UPSTREAMS not in ("deny", "allow"):
    raise RuntimeError("SELIXES_PRIVATE_UPSTREAMS must be 'deny' or 'allow'")

# Active health pings (gateway/tasks.py), for deployments that opt in: how often, and
# how long one may take. Each ping is a one-token call billed by the tenant's provider.
HEALTH_PING_INTERVAL_S = envfloat("SELIXES_HEALTH_PING_INTERVAL_S", 30.0)
HEALTH_PING_TIMEOUT_S = envfloat("SELIXES_HEALTH_PING_TIMEOUT_S", 5.0)
if HEALTH_PING_INTERVAL_S <= 0 or HEALTH_PING_TIMEOUT_S <= 0:
    raise RuntimeError("SELIXES_HEALTH_PING_INTERVAL_S and _TIMEOUT_S must be positive")

# Request metadata, traces and per-request ledger rows are kept this many days
# (CONTRACT.md section 6: default and maximum 30); older day partitions are dropped.
RETENTION_DAYS = envint("SELIXES_RETENTION_DAYS", 30)
if not 1 <= RETENTION_DAYS <= 30:
    raise ImproperlyConfigured("SELIXES_RETENTION_DAYS must be a whole number of days from 1 to 30")
# Prometheus metrics of web and worker, each on its own internal port (observability.
# web_metrics, observability.worker_metrics); 0 = not served. `make run` serves them on
# 9092 and 9093. PROMETHEUS_MULTIPROC_DIR: where the processes of one kind sum their counts.
WEB_METRICS_HOST = envstr("SELIXES_WEB_METRICS_HOST", "127.0.0.1")
WEB_METRICS_PORT = envint("SELIXES_WEB_METRICS_PORT", 0)
WORKER_METRICS_HOST = envstr("SELIXES_WORKER_METRICS_HOST", "127.0.0.1")
WORKER_METRICS_PORT = envint("SELIXES_WORKER_METRICS_PORT", 0)
PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
INVITATION_TTL_HOURS = envint("SELIXES_INVITATION_TTL_HOURS", 72)
AUTH_RATE_LIMIT_PER_HOUR = envint("SELIXES_AUTH_RATE_LIMIT_PER_HOUR", 20)

# Celery's Redis transport cannot use a Redis Cluster: there the broker is
# separate (RabbitMQ's amqp://, or a plain Redis) and must be named.
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", "") or kombu_redis_url(REDIS_URL)
if REDIS_CLUSTER and not os.environ.get("CELERY_BROKER_URL"):
    raise RuntimeError(
        "SELIXES_REDIS_CLUSTER=1 needs CELERY_BROKER_URL (amqp://… or a non-cluster redis://…)"
    )
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "republish-stale-snapshots": {
        "task": "tenants.tasks.republish_snapshots",
        "schedule": 15.0,
    },
    "drain-usage-stream": {
        "task": "observability.tasks.drain_usage",
        "schedule": 2.0,
    },
    "rebuild-lost-budget-counters": {
        "task": "budgets.tasks.rebuild_lost_counters",
        "schedule": 1.0,
    },
    "reap-expired-reservations": {
        "task": "budgets.tasks.reap_expired_reservations",
        "schedule": 5.0,
    },
    "ping-deployments": {
        "task": "gateway.tasks.ping_deployments",
        "schedule": HEALTH_PING_INTERVAL_S,
        # A run still queued when the next is due is dropped, not piled up.
        "options": {"expires": HEALTH_PING_INTERVAL_S},
    },
    "reconcile-budget-counters": {
        "task": "budgets.tasks.reconcile_counters",
        "schedule": 600.0,
    },
    # Trace data keys are made DAYS_AHEAD days ahead (observability.data_keys);
    # every 15 minutes leaves a day and more of margin before a day lacks one.
    "create-data-keys-ahead": {
        "task": "observability.tasks.create_data_keys_ahead",
        "schedule": 900.0,
        "options": {"expires": 900.0},
    },
    # Day partitions of the request log and traces (observability.partitions):
    # hourly, a no-op once a day's exist, so a missed run costs nothing.
    "create-partitions-ahead": {
        "task": "observability.tasks.create_partitions_ahead",
        "schedule": 3600.0,
    },
    # The retention purge (observability.retention): daily, just after
    # midnight UTC; a missed day is caught up by the next run.
    "purge-expired-data": {
        "task": "observability.tasks.purge_expired_data",
        "schedule": crontab(hour="0", minute="20"),
    },
}

LOG_LEVEL = envstr("LOG_LEVEL", "INFO").upper()
# Celery's lines for every task sent, received and finished: with beat ticking
# every second they drown everything else (make run's banner first). Shown at
# DEBUG; failures are logged at ERROR by the same loggers, so they still show.
_TASK_LINES_LEVEL = "DEBUG" if LOG_LEVEL == "DEBUG" else "WARNING"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"one_line_client_errors": {"()": "config.log_filters.OneLineClientErrors"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["one_line_client_errors"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        name: {"level": _TASK_LINES_LEVEL}
        for name in ("celery.app.trace", "celery.worker.strategy", "celery.beat")
    },
}
# Proxies (IPs or CIDRs) whose X-Forwarded-For is believed (tenants/client_address.py);
# none by default, so the header is ignored and the peer address is the client's.
TRUSTED_PROXIES = envnetworks("SELIXES_TRUSTED_PROXIES")
if envbool("SELIXES_TRUST_FORWARDED_FOR", False):
    # Its replacement names who may forward: refuse to start rather than
    # silently count every client as the load balancer.
    raise ImproperlyConfigured(
        "SELIXES_TRUST_FORWARDED_FOR is gone: set SELIXES_TRUSTED_PROXIES to your "
        "load balancer's addresses (IPs or CIDRs, comma-separated)"
    )
