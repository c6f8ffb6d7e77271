"""Atende's one settings module, read from the environment.

With no environment variables at all the platform runs on the embedded default: SQLite, the
in-memory channel layer, the local-memory cache, eager Celery tasks, console email, sandbox
providers and a secret key generated once into ``var/secret_key``. Setting ``DATABASE_URL``,
``REDIS_URL`` and ``CELERY_BROKER_URL`` moves the same code to PostgreSQL, Redis and a Celery
worker + beat. The README lists every variable.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A local .env file is a convenience for development; real deployments set real variables.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG: bool = env.bool("DEBUG", default=True)


def _secret_key() -> str:
    """Return SECRET_KEY from the environment, or (only while DEBUG) a generated local one.

    Generating the key once into an ignored file keeps sessions valid across restarts of
    ``make run`` without anyone having to invent a key. With DEBUG off a missing key is a
    startup error: a production process must never sign cookies with a key nobody chose.
    """
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL: str = env.str("SITE_URL", default="http://localhost:8000")

INSTALLED_APPS = [
    # daphne first so `runserver` is the ASGI one that also serves WebSockets.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "django_filters",
    "channels",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.headless",
    "allauth.usersessions",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "guardian",
    "anymail",
    "phonenumber_field",
    "simple_history",
    # Ours. core and realtime know no domain app; accounts is imported by everyone.
    "core",
    "realtime",
    "accounts",
    "wallet",
    "calls",
    "queueing",
    "chat",
    "crm",
    "gamification",
    "telephony",
    "reports",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "accounts.middleware.SecondFactorGateMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

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
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # The browser tests run a real server process next to pytest, so the test database has
    # to be a file both processes can open (SQLite's default test database is in memory).
    _sqlite_file = Path(DATABASES["default"]["NAME"])
    DATABASES["default"]["TEST"] = {
        "NAME": str(_sqlite_file.with_name(f"test_{_sqlite_file.name}"))
    }
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        # WAL lets the server process read while another process writes.
        {
            "init_command": "PRAGMA journal_mode=WAL;",
            "timeout": 20,
            # Take the write lock when a transaction starts: two requests that both read and
            # then write (session activity, say) otherwise fail with "database is locked".
            "transaction_mode": "IMMEDIATE",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, channel layer, Celery ---------------------------------------------------------

REDIS_URL: str = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "atende",
            # Fail fast when Redis is away: a cache miss is better than a hung request.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    # The pub/sub layer: a group send is one PUBLISH, and each server process hands it to its
    # own sockets. The list layer (channels_redis.core) costs every receiving socket a blocking
    # BZPOPMIN round and grows with the number of sockets, and under redis-py's 5 s read
    # timeout an idle socket's BZPOPMIN timed out and daphne dropped it (bench/README.md,
    # "chat_fanout.py"). Delivery is at most once either way: clients resync through REST.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "atende:channels"},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL: str = env.str("CELERY_BROKER_URL", default=REDIS_URL)
# Without a broker the embedded default runs tasks in-process, and `manage.py serve` runs the
# beat schedule in the server's own event loop (core/scheduler.py).
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Calls and the marketplace queue (DESIGN.md §7) -------------------------------------------
# Starting a call needs this much available; it is held when the professional accepts and is
# the least a connected call costs.
CALLS_MINIMUM_FEE: int = env.int("CALLS_MINIMUM_FEE", default=10)
# The billing unit: a call is charged per started unit of connected time. 60 in production;
# tests use a few seconds.
CALLS_BILLING_UNIT_SECONDS: int = env.int("CALLS_BILLING_UNIT_SECONDS", default=60)
# How often the billing task looks for due calls (Celery beat and the embedded scheduler).
CALLS_BILLING_INTERVAL_SECONDS: float = env.float("CALLS_BILLING_INTERVAL_SECONDS", default=2.0)
CALLS_BILLING_BATCH_SIZE: int = env.int("CALLS_BILLING_BATCH_SIZE", default=500)
# A ringing call not answered in this many seconds is missed.
CALLS_RING_SECONDS: int = env.int("CALLS_RING_SECONDS", default=30)
# An accepted call whose media has not connected in this many seconds fails (hold voided).
CALLS_CONNECT_TIMEOUT_SECONDS: int = env.int("CALLS_CONNECT_TIMEOUT_SECONDS", default=45)
# A side that drops out of an active call has this long to come back before the call ends.
CALLS_DISCONNECT_GRACE_SECONDS: int = env.int("CALLS_DISCONNECT_GRACE_SECONDS", default=30)
# A professional whose last socket has been gone this long is offline.
CALLS_OFFLINE_AFTER_SECONDS: int = env.int("CALLS_OFFLINE_AFTER_SECONDS", default=60)
# Which media path calls use: "webrtc" (peer to peer through STUN/TURN) or "agora".
CALLS_MEDIA_PATH: str = env.str("CALLS_MEDIA_PATH", default="webrtc")
# STUN and TURN servers given to the browsers of a call. TURN credentials are coturn's REST
# API ones (use-auth-secret): username "<expiry>:<user id>", password base64(HMAC-SHA1(secret)).
CALLS_STUN_URLS: list[str] = env.list("CALLS_STUN_URLS", default=[])
CALLS_TURN_URLS: list[str] = env.list("CALLS_TURN_URLS", default=[])
CALLS_TURN_SECRET: str = env.str("CALLS_TURN_SECRET", default="")
CALLS_TURN_TTL_SECONDS: int = env.int("CALLS_TURN_TTL_SECONDS", default=600)
# Agora.io: the project's App ID and App Certificate; tokens are AccessToken2 ("007").
AGORA_APP_ID: str = env.str("AGORA_APP_ID", default="")
AGORA_APP_CERTIFICATE: str = env.str("AGORA_APP_CERTIFICATE", default="")
AGORA_TOKEN_TTL_SECONDS: int = env.int("AGORA_TOKEN_TTL_SECONDS", default=3600)
# The marketplace queue: the fee held while waiting (it counts toward the call, so it may not
# exceed the minimum fee), how long a turn is offered, and what a no-show costs: "refund"
# (the hold is voided) or "charge" (it is taken, 85/15, like a call charge).
QUEUE_FEE: int = env.int("QUEUE_FEE", default=5)
QUEUE_OFFER_SECONDS: int = env.int("QUEUE_OFFER_SECONDS", default=60)
QUEUE_NO_SHOW_FEE: str = env.str("QUEUE_NO_SHOW_FEE", default="refund")
QUEUE_MAX_LENGTH: int = env.int("QUEUE_MAX_LENGTH", default=50)

# --- Support inbox ---------------------------------------------------------------------------
# Open conversations an agent holds at once, unless their organization sets another.
INBOX_DEFAULT_CAPACITY: int = env.int("INBOX_DEFAULT_CAPACITY", default=5)
# An agent whose sockets all closed stops receiving conversations after this long.
INBOX_OFFLINE_AFTER_SECONDS: int = env.int("INBOX_OFFLINE_AFTER_SECONDS", default=60)
# How long a widget visitor's signed token stays valid (it is renewed on every visit).
WIDGET_TOKEN_MAX_AGE_DAYS: int = env.int("WIDGET_TOKEN_MAX_AGE_DAYS", default=30)
# Where visitors' pages are told to open the widget's socket and API (empty: the request's host).
WIDGET_PUBLIC_URL: str = env.str("WIDGET_PUBLIC_URL", default="")

# --- CRM ------------------------------------------------------------------------------------
# Keys that encrypt secrets at rest (BotConversa API keys): the first encrypts, all decrypt.
# Without them a key is derived from SECRET_KEY.
FIELD_ENCRYPTION_KEYS: list[str] = env.list("FIELD_ENCRYPTION_KEYS", default=[])
# The public address BotConversa flows call back (inbound endpoint); the request's host if empty.
CRM_PUBLIC_URL: str = env.str("CRM_PUBLIC_URL", default="")
# Attempts of one outbound BotConversa call before it is marked failed.
BOTCONVERSA_MAX_ATTEMPTS: int = env.int("BOTCONVERSA_MAX_ATTEMPTS", default=5)
BOTCONVERSA_TIMEOUT_SECONDS: float = env.float("BOTCONVERSA_TIMEOUT_SECONDS", default=10.0)
# Largest CSV accepted by the import wizard.
CRM_IMPORT_MAX_BYTES: int = env.int("CRM_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)

# --- Scheduled tasks ------------------------------------------------------------------------
# One schedule for both modes: Celery beat (production) and core.scheduler (embedded).
CELERY_BEAT_SCHEDULE = {
    "accounts.purge_expired_credentials": {
        "task": "accounts.purge_expired_credentials",
        "schedule": crontab(minute="17"),
    },
    "wallet.reconcile_pix_charges": {
        "task": "wallet.reconcile_pix_charges",
        "schedule": 60.0,
    },
    "wallet.expire_holds": {"task": "wallet.expire_holds", "schedule": 60.0},
    "wallet.release_cleared_earnings": {
        "task": "wallet.release_cleared_earnings",
        "schedule": crontab(minute="*/15"),
    },
    "wallet.purge_idempotency_records": {
        "task": "wallet.purge_idempotency_records",
        "schedule": crontab(minute="41"),
    },
    "wallet.ledger_check": {
        "task": "wallet.ledger_check",
        "schedule": crontab(minute="5", hour="3"),
    },
    "chat.sweep_presence": {"task": "chat.sweep_presence", "schedule": 30.0},
    "chat.send_notification_digests": {
        "task": "chat.send_notification_digests",
        "schedule": 60.0,
    },
    "calls.bill_due_calls": {
        "task": "calls.bill_due_calls",
        "schedule": CALLS_BILLING_INTERVAL_SECONDS,
    },
    "calls.sweep_calls": {"task": "calls.sweep_calls", "schedule": 5.0},
    "calls.sweep_professionals": {"task": "calls.sweep_professionals", "schedule": 30.0},
    "queueing.expire_offers": {"task": "queueing.expire_offers", "schedule": 5.0},
    "queueing.requeue_unanswered": {"task": "queueing.requeue_unanswered", "schedule": 15.0},
    "queueing.check_sla": {"task": "queueing.check_sla", "schedule": 30.0},
    "queueing.wake_snoozed": {"task": "queueing.wake_snoozed", "schedule": 30.0},
    "queueing.sweep_agents": {"task": "queueing.sweep_agents", "schedule": 30.0},
    "crm.send_task_reminders": {"task": "crm.send_task_reminders", "schedule": 30.0},
    "crm.retry_dispatches": {"task": "crm.retry_dispatches", "schedule": 60.0},
    "crm.rebalance_long_positions": {
        "task": "crm.rebalance_long_positions",
        "schedule": crontab(minute="*/10"),
    },
    "chat.purge_unsent_attachments": {
        "task": "chat.purge_unsent_attachments",
        "schedule": crontab(minute="23"),
    },
}

# --- Auth ---------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/signin"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# Verification of email and phone is ours (accounts.verification: hashed, single-use codes);
# allauth signs people up and in, resets passwords, and rate-limits failed sign-ins.
ACCOUNT_EMAIL_VERIFICATION = "none"
# A lock after 5 failures in 5 minutes per account (and 10 per minute per IP) that lifts
# by itself, and at once with a password reset: an attacker cannot lock a victim out for good.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/300s/key"}
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_USER_DISPLAY = "accounts.adapters.user_display"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
HEADLESS_ONLY = True
# Lists a person's signed-in browsers (device, IP, last seen) so they can end the others.
USERSESSIONS_TRACK_ACTIVITY = True
HEADLESS_CLIENTS = ("browser",)
HEADLESS_FRONTEND_URLS = {
    "account_confirm_email": f"{SITE_URL}/verify-email/{{key}}",
    "account_reset_password_from_key": f"{SITE_URL}/reset-password/{{key}}",
    "account_signup": f"{SITE_URL}/signup",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_SECONDS", default=300)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_REFRESH_SECONDS", default=14 * 86400)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SESSION_COOKIE_AGE = 14 * 86400
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- API ----------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.LocalizedJWTAuthentication",
        "accounts.authentication.VerifiedSessionAuthentication",
    ],
    # Deny by default: a view that forgets its permission class is closed, not open.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PagePagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
        "auth": env.str("API_THROTTLE_AUTH", default="20/min"),
        # Posting to chat: a flood of messages from one person is refused with 429.
        "chat_message": env.str("API_THROTTLE_CHAT_MESSAGE", default="60/min"),
        "chat_upload": env.str("API_THROTTLE_CHAT_UPLOAD", default="20/min"),
        # The support widget, per visitor: its messages and everything else it asks.
        "widget_message": env.str("API_THROTTLE_WIDGET_MESSAGE", default="20/min"),
        "widget": env.str("API_THROTTLE_WIDGET", default="120/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Atende API",
    "DESCRIPTION": (
        "REST API of the Atende platform. Errors share one shape: "
        '`{"code": "...", "message": "...", "extra": {}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two choice sets share the field name "role": an organization role and a channel role.
    "ENUM_NAME_OVERRIDES": {
        "OrganizationRoleEnum": "accounts.roles.Role",
        "RoomRoleEnum": "chat.models.RoomRole",
    },
}
# Bodies beyond this are refused with `request_too_large` before anything is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)

# --- Internationalization -----------------------------------------------------------------

LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", _("Brazilian Portuguese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Stored in UTC, shown in São Paulo time unless the user chose another zone.
USE_TZ = True
TIME_ZONE = "America/Sao_Paulo"
PHONENUMBER_DEFAULT_REGION = "BR"

# --- Static and media files ---------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
# Documents that must never be public (KYC): outside MEDIA_ROOT, served only by
# permission-checked views.
PRIVATE_MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private"))
WHITENOISE_USE_FINDERS = DEBUG
AWS_STORAGE_BUCKET_NAME: str = env.str("AWS_STORAGE_BUCKET_NAME", default="")
STORAGES = {
    "default": {
        "BACKEND": "storages.backends.s3.S3Storage"
        if AWS_STORAGE_BUCKET_NAME
        else "django.core.files.storage.FileSystemStorage"
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default=None)
    AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default=None)
    # Private by default: attachments, KYC documents and recordings are served through
    # short-lived signed URLs, never public ones.
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    AWS_QUERYSTRING_EXPIRE = 300

# --- Email --------------------------------------------------------------------------------

SENDGRID_API_KEY: str = env.str("SENDGRID_API_KEY", default="")
ANYMAIL = {
    "SENDGRID_API_KEY": SENDGRID_API_KEY,
    # SendGrid's signed event webhook: the public key (base64, as SendGrid shows it).
    "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": env.str(
        "SENDGRID_WEBHOOK_VERIFICATION_KEY", default=""
    )
    or None,
    # Optional HTTP basic auth ("user:password") in the webhook URL, checked as well.
    "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default="") or None,
}
if SENDGRID_API_KEY:
    EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
else:
    EMAIL_BACKEND = env.str(
        "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
    )
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Atende <no-reply@atende.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security -----------------------------------------------------------------------------

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # /healthz is probed by load balancers over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    # Joining the browsers' HSTS preload list is a one-way decision per domain, taken by
    # whoever owns the domain (SECURE_HSTS_PRELOAD=true), not a default of the code.
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Providers ----------------------------------------------------------------------------
# Each outside service is chosen by a dotted path (core.providers.load_provider). Later
# issues add their adapters here; the embedded default always points at a sandbox.

ZENVIA_API_TOKEN: str = env.str("ZENVIA_API_TOKEN", default="")
ZENVIA_SMS_FROM: str = env.str("ZENVIA_SMS_FROM", default="")
ZENVIA_API_URL: str = env.str("ZENVIA_API_URL", default="https://api.zenvia.com")
ZENVIA_TIMEOUT_SECONDS: float = env.float("ZENVIA_TIMEOUT_SECONDS", default=10.0)
# The sandbox SMS adapter also appends each message here as a JSON line when set.
SANDBOX_SMS_OUTBOX_FILE: str = env.str("SANDBOX_SMS_OUTBOX_FILE", default="")

# PIX through a PSP's Banco Central "API Pix": OAuth2 client credentials over mutual TLS.
# The certificate and key are the ones the PSP issued for this application (PEM files).
PIX_API_URL: str = env.str("PIX_API_URL", default="")
PIX_CLIENT_ID: str = env.str("PIX_CLIENT_ID", default="")
PIX_CLIENT_SECRET: str = env.str("PIX_CLIENT_SECRET", default="")
PIX_CERT_FILE: str = env.str("PIX_CERT_FILE", default="")
PIX_KEY_FILE: str = env.str("PIX_KEY_FILE", default="")
# The CA bundle that signs the PSP's server certificate; empty trusts the system's bundle.
PIX_CA_FILE: str = env.str("PIX_CA_FILE", default="")
# Our receiving PIX key (chave): charges are paid into it and its webhook is ours.
PIX_RECEIVER_KEY: str = env.str("PIX_RECEIVER_KEY", default="")
PIX_TIMEOUT_SECONDS: float = env.float("PIX_TIMEOUT_SECONDS", default=10.0)
# The PSP calls POST <our webhook url>/pix; the secret is part of the registered URL.
PIX_WEBHOOK_SECRET: str = env.str("PIX_WEBHOOK_SECRET", default="")
# The merchant name and city written into sandbox BR Codes (and shown to payers).
PIX_MERCHANT_NAME: str = env.str("PIX_MERCHANT_NAME", default="Atende")
PIX_MERCHANT_CITY: str = env.str("PIX_MERCHANT_CITY", default="SAO PAULO")

# The sandbox PSP's "mark as paid" button and simulate command: on only while developing
# (DEBUG, no real PSP configured), so a deployment can never hand out free tokens.
PIX_SANDBOX_SIMULATION: bool = env.bool("PIX_SANDBOX_SIMULATION", default=DEBUG and not PIX_API_URL)

# --- Wallet -------------------------------------------------------------------------------
# What one token is worth in centavos: the price of custom amounts and the value of payouts.
WALLET_TOKEN_VALUE_CENTAVOS: int = env.int("WALLET_TOKEN_VALUE_CENTAVOS", default=100)
WALLET_CUSTOM_TOKENS_MIN: int = env.int("WALLET_CUSTOM_TOKENS_MIN", default=10)
WALLET_CUSTOM_TOKENS_MAX: int = env.int("WALLET_CUSTOM_TOKENS_MAX", default=5000)
WALLET_PIX_CHARGE_EXPIRES_SECONDS: int = env.int("WALLET_PIX_CHARGE_EXPIRES_SECONDS", default=1800)
# Earnings wait this long before they can be withdrawn (chargebacks and disputes).
WALLET_CLEARING_DAYS: int = env.int("WALLET_CLEARING_DAYS", default=7)
WALLET_PAYOUT_MIN_TOKENS: int = env.int("WALLET_PAYOUT_MIN_TOKENS", default=20)
WALLET_DISPUTE_WINDOW_DAYS: int = env.int("WALLET_DISPUTE_WINDOW_DAYS", default=7)

# --- Chat, notifications, presence ---------------------------------------------------------
CHAT_MESSAGE_MAX_LENGTH: int = env.int("CHAT_MESSAGE_MAX_LENGTH", default=4000)
CHAT_GROUP_DM_MAX_MEMBERS: int = env.int("CHAT_GROUP_DM_MAX_MEMBERS", default=8)
# Attachments: the largest file accepted and the content types allowed (checked against the
# file's own bytes, not only the name the browser sent).
CHAT_ATTACHMENT_MAX_BYTES: int = env.int("CHAT_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
CHAT_ATTACHMENT_TYPES: list[str] = env.list(
    "CHAT_ATTACHMENT_TYPES",
    default=[
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "audio/webm",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/zip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ],
)
CHAT_VOICE_MAX_SECONDS: int = env.int("CHAT_VOICE_MAX_SECONDS", default=300)
# Sockets send a heartbeat this often; a user with no heartbeat for PRESENCE_TIMEOUT_SECONDS is
# offline and their online-time session is closed at the last heartbeat.
PRESENCE_HEARTBEAT_SECONDS: int = env.int("PRESENCE_HEARTBEAT_SECONDS", default=30)
PRESENCE_TIMEOUT_SECONDS: int = env.int("PRESENCE_TIMEOUT_SECONDS", default=90)
# Mentions and direct messages still unread this long after they arrived are emailed, in one
# digest per person.
NOTIFICATION_EMAIL_DELAY_SECONDS: int = env.int("NOTIFICATION_EMAIL_DELAY_SECONDS", default=600)

PROVIDERS: dict[str, str] = {
    "accounts.sms": "accounts.providers.zenvia.ZenviaSms"
    if ZENVIA_API_TOKEN
    else "accounts.providers.sandbox.SandboxSms",
    "wallet.pix": "wallet.providers.bacen.BacenPix"
    if PIX_API_URL
    else "wallet.providers.sandbox.SandboxPix",
    # The real adapter talks to each organization's configured API address; the sandbox
    # (embedded default, demo) answers like BotConversa without leaving the machine.
    "crm.botconversa": env.str(
        "BOTCONVERSA_PROVIDER", default="crm.providers.botconversa.BotConversaApi"
    ),
}

# --- Logging ------------------------------------------------------------------------------

LOG_LEVEL: str = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT: str = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django attaches its own console handler in DEBUG; route it through ours once.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.db.backends": {"level": "INFO"},
        "daphne": {"level": "WARNING"},
    },
}
CSRF_FAILURE_VIEW = "config.views.csrf_failure"

# django-guardian would otherwise insert an "AnonymousUser" row into our users table.
ANONYMOUS_USER_NAME = None
