"""The one settings module. Everything that differs between machines comes from the environment."""

import secrets
from pathlib import Path
from urllib.parse import urlsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
DATA_DIR = Path(env.str("QUORUM_DATA_DIR", default=str(BASE_DIR / "var")))


def _development_secret_key() -> str:
    """A per-checkout random key kept on disk so sessions survive restarts."""
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or (
    _development_secret_key() if DEBUG else environ.Env.NOTSET
)
if SECRET_KEY is environ.Env.NOTSET:
    raise environ.ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "projects",
    "labeling",
    "labeling.monitor",
    "exports",
]

MIDDLEWARE = [
    "labeling.site.request_logging.RequestIdMiddleware",
    "labeling.site.upload_limits.UploadLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "labeling.site.security_headers.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "labeling.site.urls"
WSGI_APPLICATION = "labeling.site.wsgi.application"

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

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'quorum.sqlite3'}"),
}
# Persistent connections (seconds; 0 closes after each request): throughput halves without
# them on PostgreSQL. Health checks make a reused connection that died be replaced, not fail.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=True))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process and in-process jobs share the file; in WAL mode
    # synchronous=NORMAL stays crash-safe and commits far faster.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DATABASE_PREPARED_STATEMENTS", default=True
):
    # The server keeps the statements of projects.direct_sql.prepared_cursor parsed and planned
    # (planning cost the token query three times its run); Django's own cursors bind on the
    # client and are never prepared. DATABASE_PREPARED_STATEMENTS=false behind a pooler that
    # cannot keep them (PgBouncer's transaction mode before 1.21).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", default=10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed logins allowed per username and per client address within the window (seconds).
LOGIN_FAILURES_PER_USER = env.int("LOGIN_FAILURES_PER_USER", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=20)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=15 * 60)
# Days an API token lives unless its owner chooses otherwise (0: no expiry by default).
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=90)
# Days an expired or revoked token is kept (listed, and answered "Token expired.") before
# the daily purge deletes it.
API_TOKEN_KEEP_DAYS = env.int("API_TOKEN_KEEP_DAYS", default=30)
# Behind a proxy that appends the client's address to X-Forwarded-For (docker-compose's nginx).
TRUST_X_FORWARDED_FOR = env.bool("TRUST_X_FORWARDED_FOR", default=False)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "project-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(DATA_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))
# With a proxy in front (nginx): the internal location it serves MEDIA_ROOT from; media answers
# then carry X-Accel-Redirect and the proxy sends the file (docker-compose.yml does this).
MEDIA_ACCEL_REDIRECT = env.str("MEDIA_ACCEL_REDIRECT", default="")
# Uploads and exports go to local disk, or to S3-compatible object storage when a bucket is named.
# Items keep stable paths of their files; URLs handed to browsers are presigned when asked for
# (projects.media), for S3_PUBLIC_ENDPOINT_URL when the servers reach the storage by another name.
S3_BUCKET = env.str("S3_BUCKET", default="")
S3_ENDPOINT_URL = env.str("S3_ENDPOINT_URL", default="")
S3_PUBLIC_ENDPOINT_URL = env.str("S3_PUBLIC_ENDPOINT_URL", default="")
S3_OPTIONS = {
    "bucket_name": S3_BUCKET,
    "endpoint_url": S3_ENDPOINT_URL or None,
    "access_key": env.str("S3_ACCESS_KEY", default="") or None,
    "secret_key": env.str("S3_SECRET_KEY", default="") or None,
    "region_name": env.str("S3_REGION", default="") or None,
    "file_overwrite": False,
    "querystring_auth": True,
    "signature_version": "s3v4",
    "querystring_expire": env.int("S3_PRESIGN_SECONDS", default=3600),
}
MEDIA_STORAGES = (
    {
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": S3_OPTIONS},
        "media_links": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **S3_OPTIONS,
                "endpoint_url": S3_PUBLIC_ENDPOINT_URL or S3_ENDPOINT_URL or None,
            },
        },
    }
    if S3_BUCKET
    else {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
)
STORAGES = {
    **MEDIA_STORAGES,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=64 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "labeling.site.upload_limits.UploadLimitHandler",  # first: cuts off an oversized upload
    "projects.imports.uploads.ImportUploadHandler",  # an import's file, straight to storage
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "labeling.site.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Signed in, and the roles each view declares (projects.permissions).
    "DEFAULT_PERMISSION_CLASSES": ["projects.permissions.ProjectRolePermission"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "labeling.site.api_errors.api_exception_handler",
    # DRF's parsers, refusing a NUL character with a 400 naming the field.
    "DEFAULT_PARSER_CLASSES": [
        "labeling.site.parsers.JSONParser",
        "labeling.site.parsers.FormParser",
        "labeling.site.parsers.MultiPartParser",
    ],
    # "format" is a domain word here (import and export formats), not content negotiation.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Quorum API",
    "DESCRIPTION": "Projects, items, the annotator queue, annotations, consensus and exports.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from the installed sidecar package: the docs work without the internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Items and jobs have different status choices: each set under its own name.
    "ENUM_NAME_OVERRIDES": {
        "ItemStatusEnum": "projects.models.Item.Status",
        "JobStatusEnum": "projects.models.ImportJob.Status",  # export jobs share it
        "MemberRoleEnum": "projects.models.Membership.Role",
        "StorageRoleEnum": "labeling.integrations.models.CloudStorage.Role",
        "ItemBulkActionEnum": "labeling.models.ItemBulkJob.Action",
        "ReviewActionEnum": ["accept", "edit", "send_back"],
        "ApiTokenStateEnum": "projects.models.ApiToken.State",
        "StateEnum": "labeling.models.Resolution.State",  # keeps its name beside the token state
    },
    # Row ids in URLs are integers (labeling.site.urls registers the converter).
    "PATH_CONVERTER_OVERRIDES": {"row_id": int},
}

# Celery: without a broker, jobs run in-process (the embedded default).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# Jobs: a queued job or a chunk nobody has worked on for JOB_STALL_SECONDS is sent again by
# the sweep celery beat runs every JOBS_SWEEP_SECONDS (so a lost worker's import goes on within
# a minute, whatever the broker's visibility timeout).
JOB_STALL_SECONDS = env.int("JOB_STALL_SECONDS", default=45)
JOBS_SWEEP_SECONDS = env.int("JOBS_SWEEP_SECONDS", default=15)
# Full-text search is filled after items arrive (projects.items.search_index): the beat sweep
# indexes every SEARCH_INDEX_SWEEP_SECONDS the projects whose items a lost message left out.
SEARCH_INDEX_SWEEP_SECONDS = env.int("SEARCH_INDEX_SWEEP_SECONDS", default=300)
# Days to keep import source files and export files (0: forever); pinned exports stay.
IMPORT_FILE_RETENTION_DAYS = env.int("IMPORT_FILE_RETENTION_DAYS", default=30)
EXPORT_RETENTION_DAYS = env.int("EXPORT_RETENTION_DAYS", default=90)
# A job whose attempts killed their worker this many times fails instead of coming back.
JOB_MAX_CRASHES = env.int("JOB_MAX_CRASHES", default=3)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", 3600)}
# `celery -A labeling.site beat`: refit the Dawid-Skene models of projects whose answers moved.
CONSENSUS_REFIT_EVERY_SECONDS = env.int("CONSENSUS_REFIT_EVERY_SECONDS", default=300)

# One cache for every process (fitted models, quality reports, activity counts, login
# throttling): Redis when
# CACHE_URL names it, or the broker when that is Redis; local memory for `make run`.
CACHE_URL = env.str("CACHE_URL", default="") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else ""
)
CACHES = {
    "default": (
        {
            "BACKEND": "labeling.site.cache.ClientKeepingRedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "quorum-cache",
        }
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Limits on what users may upload.
IMPORT_MAX_FILE_BYTES = env.int("IMPORT_MAX_FILE_BYTES", default=2 * 1024**3)
IMPORT_CHUNK_BYTES = env.int("IMPORT_CHUNK_BYTES", default=16 * 1024**2)  # CSV/JSONL split size
IMPORT_CHUNK_ROWS = env.int("IMPORT_CHUNK_ROWS", default=250_000)  # Parquet split size
IMPORT_BATCH_ROWS = env.int("IMPORT_BATCH_ROWS", default=5000)  # rows per committed batch
IMPORT_ZIP_MAX_TOTAL_BYTES = env.int("IMPORT_ZIP_MAX_TOTAL_BYTES", default=4 * 1024**3)
IMPORT_ZIP_MAX_RATIO = env.int("IMPORT_ZIP_MAX_RATIO", default=100)
IMPORT_MAX_IMAGE_BYTES = env.int("IMPORT_MAX_IMAGE_BYTES", default=100 * 1024**2)
IMPORT_MAX_IMAGE_PIXELS = env.int("IMPORT_MAX_IMAGE_PIXELS", default=89_478_485)  # Pillow's
ITEMS_PER_API_CALL = 10_000
# The data manager's bulk actions: items per committed batch, and the largest selection done
# inside the request (larger ones run as a background job).
ITEM_BULK_BATCH = env.int("ITEM_BULK_BATCH", default=5000)
ITEM_BULK_INLINE_LIMIT = env.int("ITEM_BULK_INLINE_LIMIT", default=500)

# Email: set EMAIL_HOST to send new accounts their set-password link (projects.members);
# without it the lead hands the link over. The link is Django's reset token, valid this long.
EMAIL_HOST = env.str("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="quorum@localhost")
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)

# Model monitoring (labeling/monitor): how far in the future an event's timestamp may be, and
# how often the worker folds new resolutions into the rollups (celery beat).
MONITOR_FUTURE_TOLERANCE_SECONDS = env.int("MONITOR_FUTURE_TOLERANCE_SECONDS", default=300)
MONITOR_ROLLUP_SECONDS = env.int("MONITOR_ROLLUP_SECONDS", default=60)
# The API's calls of a few events commit without waiting for PostgreSQL to flush its log to disk
# (synchronous_commit off, for those transactions only): a crash of the database may lose the
# events it acknowledged in its last moments (at most three times wal_writer_delay, 0.6 s by
# default) and never corrupts anything, and a disk's slow flushes no longer stall every call.
# True: each call waits for its flush, as every other write does.
MONITOR_EVENTS_SYNCHRONOUS_COMMIT = env.bool("MONITOR_EVENTS_SYNCHRONOUS_COMMIT", default=False)
# Deepest nesting of objects and arrays accepted in a JSON body or a JSON import.
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=100)

# LOG_FORMAT=json: one JSON object per line (time, level, logger, message, request_id).
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "labeling.site.request_logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "labeling.site.request_logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Error reporting: with SENTRY_DSN set (and `pip install quorum[sentry]`), errors go to Sentry.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,
    )

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)

# Integrations (labeling.integrations): webhooks, cloud storage sync, model backends.
# Webhook URLs resolving to loopback, private or link-local addresses are refused unless allowed.
WEBHOOKS_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOKS_ALLOW_PRIVATE_HOSTS", default=False)
# Model backends and storage endpoints usually live on a private network: the host names and
# networks listed here may resolve to private addresses (e.g. "ml,minio,10.0.0.0/8"; "*": any
# but link-local). Development allows loopback.
# A cloud storage saved without keys reaches its bucket unsigned; true: with this server's own
# AWS credentials (environment, instance role) instead, which every lead then borrows.
STORAGE_SERVER_CREDENTIALS = env.bool("STORAGE_SERVER_CREDENTIALS", default=False)
INTEGRATIONS_PRIVATE_HOSTS = env.list(
    "INTEGRATIONS_PRIVATE_HOSTS", default=["127.0.0.0/8", "::1"] if DEBUG else []
)
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=10.0)
WEBHOOKS_RETRY_BASE_SECONDS = env.float("WEBHOOKS_RETRY_BASE_SECONDS", default=30.0)
WEBHOOKS_RETRY_MAX_DELAY_SECONDS = env.float("WEBHOOKS_RETRY_MAX_DELAY_SECONDS", default=3600.0)
WEBHOOKS_RETRY_FOR_SECONDS = env.float("WEBHOOKS_RETRY_FOR_SECONDS", default=24 * 3600.0)
WEBHOOKS_PAUSE_AFTER_FAILURES = env.int("WEBHOOKS_PAUSE_AFTER_FAILURES", default=20)
# Key for secrets at rest (webhook secrets, storage credentials); empty: derived from SECRET_KEY.
INTEGRATIONS_SECRET_KEY = env.str("INTEGRATIONS_SECRET_KEY", default="")
# HTTPS. Behind a TLS-terminating proxy (docker-compose's nginx), it says so in X-Forwarded-Proto.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere: pages load static/js modules and static/css files only.
# Images may come from elsewhere (image URL imports, object storage).
# Images may also come from the object storage's public endpoint (presigned media URLs).
_MEDIA_ORIGIN = (
    "{0.scheme}://{0.netloc}".format(urlsplit(S3_PUBLIC_ENDPOINT_URL or S3_ENDPOINT_URL))
    if S3_BUCKET and (S3_PUBLIC_ENDPOINT_URL or S3_ENDPOINT_URL)
    else ""
)
CONTENT_SECURITY_POLICY = env.str(
    "CONTENT_SECURITY_POLICY",
    default=(
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data: blob: https:{' http:' if DEBUG else ''}"
        f"{' ' + _MEDIA_ORIGIN if _MEDIA_ORIGIN else ''}; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
    ),
)

# `celery -A labeling.site beat` runs these (every concern's periodic work in one schedule).
CELERY_BEAT_SCHEDULE = {
    "imports-sweep": {"task": "projects.tasks.imports_sweep_task", "schedule": JOBS_SWEEP_SECONDS},
    "exports-sweep": {"task": "exports.tasks.exports_sweep_task", "schedule": JOBS_SWEEP_SECONDS},
    "items-search-sweep": {
        "task": "projects.tasks.items_search_sweep_task",
        "schedule": SEARCH_INDEX_SWEEP_SECONDS,
    },
    "import-files-retention": {
        "task": "projects.tasks.import_files_retention_task",
        "schedule": 3600,
    },
    "export-files-retention": {
        "task": "exports.tasks.export_files_retention_task",
        "schedule": 3600,
    },
    "api-tokens-purge": {"task": "projects.tasks.api_tokens_purge_task", "schedule": 86400},
    "consensus-refit-when-answers-moved": {
        "task": "labeling.tasks.consensus_jobs_due_task",
        "schedule": CONSENSUS_REFIT_EVERY_SECONDS,
    },
    "monitor-rollups": {
        "task": "labeling.monitor.tasks.monitor_rollups_all_task",
        "schedule": MONITOR_ROLLUP_SECONDS,
    },
    # Retries whose task was lost (a broker restart) and storages due for a scheduled sync.
    "webhook-deliveries-due": {
        "task": "labeling.integrations.tasks.webhook_deliveries_due",
        "schedule": 60.0,
    },
    "storage-syncs-due": {
        "task": "labeling.integrations.tasks.storage_syncs_due",
        "schedule": 60.0,
    },
}
