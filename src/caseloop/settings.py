"""One settings module, read from the environment through small typed helpers.

Everything has a working default: a fresh checkout runs on SQLite (WAL) in ./var with
in-process jobs and an in-memory realtime layer. DATABASE_URL and REDIS_URL switch to
PostgreSQL and Redis.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("CASELOOP_DATA_DIR", str(Path.cwd() / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
TESTING = "pytest" in sys.modules or env_bool("CASELOOP_TESTING")


def _secret_key() -> str:
    """The SECRET_KEY from the environment, else one generated once and kept in the data dir."""
    given = env_str("SECRET_KEY")
    if given:
        return given
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Reverse proxies (addresses or networks) whose X-Forwarded-For is believed, by Django's
# rate limits and by `caseloop serve`'s uvicorn; empty means the connecting address is the
# client.
TRUSTED_PROXIES = env_list("CASELOOP_TRUSTED_PROXIES")
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(f"CASELOOP_TRUSTED_PROXIES: {_error}") from None
# `caseloop serve` logs every request only when asked (or with --access-log).
ACCESS_LOG = env_bool("CASELOOP_ACCESS_LOG")
# /metrics answers loopback clients, and anyone presenting this as a bearer token.
METRICS_TOKEN = env_str("CASELOOP_METRICS_TOKEN")
SITE_URL = env_str("CASELOOP_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# The name customers know the desk by (portal, help centre, forms, every email), unless the
# admin's desk identity names it.
DESK_NAME = env_str("CASELOOP_DESK_NAME").strip() or "Caseloop"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "huey.contrib.djhuey",
    "anymail",
    # For the API docs' self-hosted Swagger UI (its static files, no CDN, no inline script).
    "ninja",
    "caseloop.accounts",
    "caseloop.customers",
    "caseloop.cases",
    "caseloop.channels",
    "caseloop.channels.email",
    "caseloop.channels.webform",
    "caseloop.channels.chat",
    "caseloop.channels.phone",
    "caseloop.channels.webhook",
    "caseloop.triage",
    "caseloop.knowledge",
    "caseloop.insights",
    "caseloop.notifications",
    "caseloop.automation",
    "caseloop.coach",
    "caseloop.api",
    "caseloop.importers",
    "caseloop.web",
    "caseloop.cli",
    "caseloop.demo",
]

MIDDLEWARE = [
    # Outermost: a request id for the logs, and every request timed for /metrics.
    "caseloop.web.ops.metrics.OpsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # A strict policy on every response: own-origin script and style only, no framing.
    "caseloop.lib.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's Accept-Language; caseloop.web.language then prefers the signed-in
    # person's own choice.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF, which may parse the form first: NUL, lone surrogates, too-deep JSON.
    "caseloop.lib.inputcheck.InputCheckMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "caseloop.web.language.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Innermost and sync-only, so that under ASGI every middleware above runs in the
    # request's thread without hops of its own (see the module).
    "caseloop.lib.syncchain.SyncChainMiddleware",
]

ROOT_URLCONF = "caseloop.urls"
ASGI_APPLICATION = "caseloop.asgi.application"
WSGI_APPLICATION = "caseloop.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:inbox"
LOGOUT_REDIRECT_URL = "web:login"
# Password sign-in is throttled per account and per address (accounts.signin); that backend
# answers every password attempt. ModelBackend stays listed for the sessions it signed in
# (the portal's magic links, sessions from before the throttle).
AUTHENTICATION_BACKENDS = [
    "caseloop.accounts.signin.ThrottledModelBackend",
    "django.contrib.auth.backends.ModelBackend",
]

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
                "caseloop.web.context.desk",
            ],
        },
    }
]

# Databases: SQLite in WAL mode with a busy timeout by default; PostgreSQL when DATABASE_URL is set.
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    # Under ASGI every request runs in a thread of its own, so per-thread persistent
    # connections would pile up until PostgreSQL refuses new clients. Instead each process
    # keeps a bounded pool: a request or job borrows a connection and gives it back when it
    # ends (Django closes it at request_finished, Huey's db_task after each job).
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if env_bool("CASELOOP_DB_POOL", True):
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("CASELOOP_DB_POOL_MIN", 2),
            "max_size": env_int("CASELOOP_DB_POOL_MAX", 10),
            # How long a request waits for a free connection before it fails.
            "timeout": env_int("CASELOOP_DB_POOL_TIMEOUT", 30),
            # Idle connections above min_size are closed after this many seconds.
            "max_idle": 300,
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "caseloop.sqlite3"),
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA busy_timeout=30000;"
                    "PRAGMA foreign_keys=ON;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Jobs and realtime: embedded by default, Redis when REDIS_URL is set.
REDIS_URL = env_str("REDIS_URL")
# Sentence embeddings in the category model: auto (when the embeddings extra is
# installed), on or off. Tests choose it per test, so the suite means the same either way.
TRIAGE_EMBEDDINGS = env_str("CASELOOP_TRIAGE_EMBEDDINGS", "off" if TESTING else "auto")
# The coach matches guidelines by meaning with sentence vectors (`sentences`, the extra),
# TF-IDF (`words`), whichever is installed (`auto`) or not at all (`off`). Tests use the
# default install's `words` unless a test chooses, so the suite means the same either way.
COACH_MEANING = env_str("CASELOOP_COACH_MEANING", "words" if TESTING else "auto")
# Knowledge search ranks by meaning with sentence vectors when the embeddings extra is
# installed (`auto`), or with TF-IDF and LSA (`off`, the default install's way, and the tests').
KNOWLEDGE_EMBEDDINGS = env_str("CASELOOP_KNOWLEDGE_EMBEDDINGS", "off" if TESTING else "auto")

HUEY_IMMEDIATE = env_bool("CASELOOP_JOBS_IMMEDIATE", TESTING)
# How long a dispatcher holds a side effect it is running; a process that dies mid-run
# leaves it to the sweep once this has passed.
OUTBOX_LEASE_SECONDS = env_int("CASELOOP_OUTBOX_LEASE_SECONDS", 300)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": env_str("CASELOOP_QUEUE_NAME", "caseloop"),
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py's default 5 s read timeout equals the layer's 5 s blocking
                # pop, so idle sockets would die with TimeoutError; allow longer reads.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                "prefix": env_str("CASELOOP_CHANNEL_PREFIX", "caseloop"),
            },
        }
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "caseloop",
        "filename": str(DATA_DIR / "jobs.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Files: attachments live under the data dir through Django's storage API.
MEDIA_ROOT = str(DATA_DIR / "media")
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = str(DATA_DIR / "static")
(DATA_DIR / "static").mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if TESTING or DEBUG
            else "whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True
MAX_ATTACHMENT_BYTES = env_int("CASELOOP_MAX_ATTACHMENT_BYTES", 25 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_ATTACHMENT_BYTES + 1024 * 1024
# Per message, from any channel; mail beyond them is still filed, and kept whole in quarantine.
MAX_ATTACHMENTS_PER_MESSAGE = env_int("CASELOOP_MAX_ATTACHMENTS_PER_MESSAGE", 50)
MAX_MIME_PARTS = env_int("CASELOOP_MAX_MIME_PARTS", 500)
# Request JSON nested deeper is refused (422) before it is parsed.
MAX_JSON_DEPTH = env_int("CASELOOP_MAX_JSON_DEPTH", 32)
# The mail gateway's longest line; RFC 5321 says 1,000 octets but real mail has longer ones.
MAIL_GATEWAY_MAX_LINE_BYTES = env_int("CASELOOP_GATEWAY_MAX_LINE_BYTES", 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Mail out: SMTP settings from the environment; the console backend when no host is given.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
# A hung mail server must fail the delivery attempt (and retry later), not block a worker.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
# For EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend: one file per message.
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(DATA_DIR / "outbox"))
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "support@caseloop.localhost")
ANYMAIL = {
    "MAILGUN_WEBHOOK_SIGNING_KEY": env_str("MAILGUN_WEBHOOK_SIGNING_KEY"),
    "WEBHOOK_SECRET": env_str("ANYMAIL_WEBHOOK_SECRET"),
}

# Security defaults.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("CASELOOP_SECURE_COOKIES", not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The desk's default language: for people who choose none and browsers that ask for none.
LANGUAGE_CODE = env_str("CASELOOP_LANGUAGE", "en")
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [str(BASE_DIR / "locale")]
TIME_ZONE = env_str("CASELOOP_TIME_ZONE", "UTC")
# The currency the desk works in: authority limits, remedies and costs are in it.
DESK_CURRENCY = env_str("CASELOOP_CURRENCY", "GBP").strip().upper() or "GBP"
USE_I18N = True
USE_TZ = True

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    )
}
if TESTING and not REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Single sign-on with OpenID Connect (caseloop.accounts.sso, README "Single sign-on"): off
# (no button, no sign-in URLs) until a client id and an issuer or discovery URL are set.
OIDC_PROVIDER_NAME = env_str("CASELOOP_OIDC_PROVIDER_NAME").strip() or "single sign-on"
OIDC_ISSUER = env_str("CASELOOP_OIDC_ISSUER").strip().rstrip("/")
OIDC_DISCOVERY_URL = env_str("CASELOOP_OIDC_DISCOVERY_URL").strip()
# Endpoints given by hand, for a provider without discovery: all three of the first, then.
OIDC_AUTHORIZATION_URL = env_str("CASELOOP_OIDC_AUTHORIZATION_URL").strip()
OIDC_TOKEN_URL = env_str("CASELOOP_OIDC_TOKEN_URL").strip()
OIDC_JWKS_URL = env_str("CASELOOP_OIDC_JWKS_URL").strip()
OIDC_USERINFO_URL = env_str("CASELOOP_OIDC_USERINFO_URL").strip()
OIDC_CLIENT_ID = env_str("CASELOOP_OIDC_CLIENT_ID").strip()
OIDC_CLIENT_SECRET = env_str("CASELOOP_OIDC_CLIENT_SECRET")
OIDC_SCOPES = env_str("CASELOOP_OIDC_SCOPES", "openid email profile").strip()
# The claim holding the groups (a dotted path reaches inside: realm_access.roles).
OIDC_GROUPS_CLAIM = env_str("CASELOOP_OIDC_GROUPS_CLAIM", "groups").strip()
# group=role,… and group=team-slug,…: the role and mapped teams follow them at each sign-in.
OIDC_ROLES = env_str("CASELOOP_OIDC_ROLES")
OIDC_TEAMS = env_str("CASELOOP_OIDC_TEAMS")
OIDC_CUSTOMERS = env_bool("CASELOOP_OIDC_CUSTOMERS")
OIDC_CREATE_USERS = env_bool("CASELOOP_OIDC_CREATE_USERS", True)
# For providers that vouch for their addresses without sending email_verified (Entra ID).
OIDC_TRUST_EMAIL = env_bool("CASELOOP_OIDC_TRUST_EMAIL")

# CASELOOP_LOG_FORMAT=json: one JSON object per line, secrets scrubbed (caseloop.lib.logjson).
LOG_FORMAT = env_str("CASELOOP_LOG_FORMAT", "text").strip().lower() or "text"
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured("CASELOOP_LOG_FORMAT must be text or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "caseloop.lib.logjson.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
    "root": {
        "handlers": ["console"],
        "level": env_str("LOG_LEVEL", "WARNING" if TESTING else "INFO"),
    },
}
