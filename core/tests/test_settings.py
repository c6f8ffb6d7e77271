"""The settings module in both modes, each read by a fresh interpreter from a given environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

PROJECT = Path(settings.BASE_DIR)
MODE_VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "SENDGRID_API_KEY",
    "ALLOWED_HOSTS",
    "AWS_STORAGE_BUCKET_NAME",
    "LOG_FORMAT",
)
PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "debug": settings.DEBUG,
    "secret_key": settings.SECRET_KEY,
    "database": settings.DATABASES["default"]["ENGINE"],
    "database_name": settings.DATABASES["default"]["NAME"],
    "cache": settings.CACHES["default"]["BACKEND"],
    "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "broker": settings.CELERY_BROKER_URL,
    "email": settings.EMAIL_BACKEND,
    "storage": settings.STORAGES["default"]["BACKEND"],
    "time_zone": settings.TIME_ZONE,
    "use_tz": settings.USE_TZ,
    "language": settings.LANGUAGE_CODE,
    "log_format": settings.LOGGING["handlers"]["console"]["formatter"],
}))
"""


def run_python(code: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in MODE_VARIABLES}
    env.update(variables, DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def probe(**variables: str) -> dict[str, object]:
    result = run_python(PROBE, **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_with_no_variables_it_runs_on_the_embedded_default() -> None:
    values = probe()

    assert values == {
        "debug": True,
        "secret_key": (PROJECT / "var" / "secret_key").read_text().strip(),
        "database": "django.db.backends.sqlite3",
        "database_name": str(PROJECT / "var" / "db.sqlite3"),
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "channel_layer": "channels.layers.InMemoryChannelLayer",
        "eager": True,
        "broker": "",
        "email": "django.core.mail.backends.console.EmailBackend",
        "storage": "django.core.files.storage.FileSystemStorage",
        "time_zone": "America/Sao_Paulo",
        "use_tz": True,
        "language": "pt-br",
        "log_format": "text",
    }
    assert len(values["secret_key"]) >= 50  # type: ignore[arg-type]


def test_with_service_urls_it_runs_on_postgresql_redis_and_celery() -> None:
    values = probe(
        DEBUG="false",
        SECRET_KEY="x" * 60,
        ALLOWED_HOSTS="atende.example.com",
        DATABASE_URL="postgres://atende:pw@db.internal:5432/atende",
        REDIS_URL="redis://cache.internal:6379/0",
        SENDGRID_API_KEY="SG.test",
        AWS_STORAGE_BUCKET_NAME="atende-files",
    )

    assert values == {
        "debug": False,
        "secret_key": "x" * 60,
        "database": "django.db.backends.postgresql",
        "database_name": "atende",
        "cache": "django.core.cache.backends.redis.RedisCache",
        "channel_layer": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "eager": False,
        "broker": "redis://cache.internal:6379/0",
        "email": "anymail.backends.sendgrid.EmailBackend",
        "storage": "storages.backends.s3.S3Storage",
        "time_zone": "America/Sao_Paulo",
        "use_tz": True,
        "language": "pt-br",
        "log_format": "json",
    }


def test_a_separate_broker_url_wins_over_redis() -> None:
    values = probe(REDIS_URL="redis://cache:6379/0", CELERY_BROKER_URL="redis://broker:6379/3")

    assert (values["broker"], values["eager"]) == ("redis://broker:6379/3", False)


def test_without_debug_a_missing_secret_key_stops_startup() -> None:
    result = run_python(PROBE, DEBUG="false", ALLOWED_HOSTS="atende.example.com")

    assert result.returncode == 1
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off." in result.stderr
    assert result.stdout == ""


def test_the_deploy_check_reports_nothing_in_production_mode() -> None:
    result = run_python(
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
        DEBUG="false",
        SECRET_KEY="k9$Zq!v2#Lr8@Tx5^Wm1&Pb7*Hc4(Nd6)Gf3_Js0+Ye9-Ua2=Ko" + "Qi8Vs5Bt1Rw4",
        ALLOWED_HOSTS="atende.example.com",
    )

    assert result.returncode == 0, result.stderr
    # Only the HSTS preload warning is silenced, on purpose (see config/settings.py).
    assert "System check identified no issues (1 silenced)." in result.stdout
