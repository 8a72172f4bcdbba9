"""Settings read from the environment: checked in fresh interpreters with their own data dir."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json
from django.conf import settings
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    journal = cursor.fetchone()[0]
    cursor.execute("PRAGMA busy_timeout")
    busy = cursor.fetchone()[0]
print(json.dumps({"key": settings.SECRET_KEY, "vendor": connection.vendor,
                  "journal": journal, "busy": busy, "debug": settings.DEBUG,
                  "db": settings.DATABASES["default"]["NAME"]}))
"""


def probe(data_dir: Path, **env) -> dict:
    environment = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY", "DEBUG"}
    }
    environment.update(
        CASELOOP_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="caseloop.settings",
        PYTHONPATH=str(ROOT / "src"),
        **env,
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=environment, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_secret_key_is_generated_once_and_reused_from_the_data_dir(tmp_path):
    first = probe(tmp_path)
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == first["key"] and len(first["key"]) >= 50
    assert key_file.stat().st_mode & 0o077 == 0, "the key file is private"
    assert probe(tmp_path)["key"] == first["key"]
    assert probe(tmp_path / "other")["key"] != first["key"]


def test_a_secret_key_from_the_environment_wins_and_is_not_written(tmp_path):
    assert probe(tmp_path, SECRET_KEY="from-the-environment")["key"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_the_embedded_database_is_sqlite_in_wal_mode_in_the_data_dir(tmp_path):
    found = probe(tmp_path)
    assert found["vendor"] == "sqlite"
    assert found["journal"] == "wal"
    assert found["busy"] >= 5000
    assert Path(found["db"]).parent == tmp_path
    assert found["debug"] is False


def test_postgresql_connections_come_from_a_bounded_pool_not_from_each_thread(tmp_path):
    """Under ASGI each request has its own thread; connections kept per thread would pile
    up until PostgreSQL refuses clients, so they are borrowed from a bounded pool."""
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default']))"
    )
    environment = {
        **{k: v for k, v in os.environ.items() if k != "SECRET_KEY"},
        "CASELOOP_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "caseloop.settings",
        "PYTHONPATH": str(ROOT / "src"),
        "DATABASE_URL": "postgres://desk@db.example:5432/caseloop",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True
    )
    database = json.loads(result.stdout.strip().splitlines()[-1])
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["HOST"]) == ("caseloop", "db.example")
    assert database["CONN_MAX_AGE"] == 0
    assert database["OPTIONS"]["pool"]["max_size"] == 10
