"""On PostgreSQL each process keeps a bounded pool of connections: requests and jobs borrow
one and give it back, so the server opens no new backend per request and never more than
the pool's size, however many threads ASGI runs requests in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.conf import settings
from django.db import connection, connections

from caseloop.accounts.services import token_issue
from tests.builders import make_agent
from tests.serving import serving

ROOT = Path(__file__).resolve().parents[1]
on_postgresql = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL"),
    reason="SQLite is a file opened in the process: there are no server connections to pool",
)

POOL_SIZE = 3


def database_settings(tmp_path: Path, **environment: str) -> dict:
    """DATABASES["default"] as settings.py reads it from `environment` (nothing connects)."""
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default']))"
    )
    pool_variables = {"CASELOOP_DB_POOL", "CASELOOP_DB_POOL_MIN", "CASELOOP_DB_POOL_MAX"}
    env = {
        **{k: v for k, v in os.environ.items() if k not in pool_variables},
        "CASELOOP_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "caseloop.settings",
        "PYTHONPATH": str(ROOT / "src"),
        **environment,
    }
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_postgresql_gets_a_pool_sized_by_the_environment(tmp_path):
    url = "postgres://desk@db.example:5432/caseloop"
    default = database_settings(tmp_path, DATABASE_URL=url)
    assert default["OPTIONS"]["pool"]["min_size"] == 2
    assert default["OPTIONS"]["pool"]["max_size"] == 10
    # Django refuses persistent connections beside a pool: the pool is what keeps them.
    assert default["CONN_MAX_AGE"] == 0
    sized = database_settings(
        tmp_path, DATABASE_URL=url, CASELOOP_DB_POOL_MIN="1", CASELOOP_DB_POOL_MAX="4"
    )
    assert (sized["OPTIONS"]["pool"]["min_size"], sized["OPTIONS"]["pool"]["max_size"]) == (1, 4)
    unpooled = database_settings(tmp_path, DATABASE_URL=url, CASELOOP_DB_POOL="0")
    assert "pool" not in unpooled.get("OPTIONS", {})


def test_sqlite_has_no_pool(tmp_path):
    database = database_settings(tmp_path, DATABASE_URL="")
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert "pool" not in database["OPTIONS"]


def backend_pid_in_a_new_thread() -> int:
    """What a request or a job does: in a thread of its own, use the database, then close
    the connection as request_finished and Huey's db_task do."""
    found: list[int] = []

    def work() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                found.append(cursor.fetchone()[0])
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return found[0]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_threads_that_close_their_connection_hand_the_backend_to_the_next_one():
    pool = settings.DATABASES["default"]["OPTIONS"].get("pool")
    assert pool, "DATABASES has no connection pool (CASELOOP_DB_POOL is off)"
    pids = {backend_pid_in_a_new_thread() for _ in range(20)}
    # Twenty threads, each with a connection of its own while it ran, were served by the
    # pool's backends (how many of them depends on the pool's own upkeep, never more than
    # its maximum); without a pool each would have been a new backend.
    assert len(pids) <= pool["max_size"] < 20


def database_url(application_name: str) -> str:
    """The test database as a DATABASE_URL, naming the application so its backends can be
    told apart in pg_stat_activity."""
    db = settings.DATABASES["default"]
    user = quote(db["USER"] or "")
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{user}{password}@{host}/{db['NAME']}?application_name={application_name}"


def server_backends(application_name: str) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", [application_name]
        )
        return {row[0] for row in cursor.fetchall()}


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_server_reuses_a_bounded_set_of_connections_across_requests(tmp_path):
    token = token_issue(user=make_agent())
    application_name = f"caseloop-pool-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(application_name),
        "CASELOOP_DATA_DIR": str(tmp_path),
        "CASELOOP_DB_POOL_MIN": str(POOL_SIZE),
        "CASELOOP_DB_POOL_MAX": str(POOL_SIZE),
    }
    headers = {"Authorization": f"Bearer {token}"}
    with serving(env=env, log=tmp_path / "serve.log") as base_url:

        def read(_: int) -> int:
            return requests.get(f"{base_url}/api/v1/cases", headers=headers, timeout=30).status_code

        with ThreadPoolExecutor(8) as clients:
            assert set(clients.map(read, range(40))) == {200}
        deadline = time.monotonic() + 10
        while len(before := server_backends(application_name)) < POOL_SIZE:
            assert time.monotonic() < deadline, before
            time.sleep(0.1)
        with ThreadPoolExecutor(8) as clients:
            assert set(clients.map(read, range(80))) == {200}
        after = server_backends(application_name)
    # 120 requests on eight concurrent clients, each in its own thread on the server: the
    # same few backends answered them all.
    assert len(before) == POOL_SIZE
    assert after == before
