"""`/healthz`: 200 while the database and the job queue answer, 503 naming the check that
failed (never its reason) when one does not."""

from __future__ import annotations

from functools import partial

import pytest
from django.db.utils import ConnectionHandler
from django.test import Client

from caseloop.web.ops import health

from .helpers import closed_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def unreachable_database():
    """A real PostgreSQL connection to a loopback port nothing listens on."""
    handler = ConnectionHandler(
        {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "caseloop",
                "USER": "caseloop",
                "PASSWORD": "db-password-never-shown",
                "HOST": "127.0.0.1",
                "PORT": str(closed_port()),
                "OPTIONS": {"connect_timeout": 2},
            }
        }
    )
    connection = handler["default"]
    yield connection
    connection.close()


def test_healthz_is_ok_while_the_database_and_the_queue_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "queue": "ok"}}
    assert "Set-Cookie" not in response.headers
    assert "no-cache" in response["Cache-Control"]


def test_healthz_needs_no_sign_in_no_csrf_token_and_is_not_rate_limited():
    client = Client(enforce_csrf_checks=True)
    for _ in range(30):
        assert client.get("/healthz").status_code == 200
    assert client.head("/healthz").status_code == 200


def test_healthz_is_503_naming_the_database_when_it_does_not_answer(
    client, monkeypatch, unreachable_database
):
    monkeypatch.setattr(
        health,
        "CHECKS",
        [
            health.Check("database", partial(health.database_check, unreachable_database)),
            health.Check("queue", health.queue_check),
        ],
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "failing", "queue": "ok"},
        "failing": ["database"],
    }
    body = response.content.decode()
    for leak in ("db-password-never-shown", "127.0.0.1", "refused", "Error"):
        assert leak not in body


def test_healthz_is_503_naming_the_queue_when_redis_does_not_answer(client, monkeypatch):
    url = f"redis://:redis-password-never-shown@127.0.0.1:{closed_port()}/0"
    monkeypatch.setattr(
        health,
        "CHECKS",
        [
            health.Check("database", health.database_check),
            health.Check("queue", partial(health.redis_check, url)),
        ],
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["queue"]
    assert response.json()["checks"]["database"] == "ok"
    assert "redis-password-never-shown" not in response.content.decode()


def test_healthz_only_reads(client):
    assert client.post("/healthz").status_code == 405
