"""`/metrics`: request latency by URL name, the job queue, the outbox and failed deliveries,
read when scraped; served to this machine or to the bearer of the metrics token only."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from huey import RedisHuey, SqliteHuey

from caseloop.cases import outbox
from caseloop.cases.models import Message, OutboxEffect
from caseloop.cases.services import message_delivery_mark, reply_send
from caseloop.web.ops import metrics
from tests.builders import make_agent, make_case

from .helpers import samples, scraped, value

pytestmark = pytest.mark.django_db

DURATION_COUNT = "caseloop_http_request_duration_seconds_count"


@pytest.fixture(autouse=True)
def _fresh_failed_deliveries_count():
    metrics.DeskCollector._failed_deliveries = None
    yield
    metrics.DeskCollector._failed_deliveries = None


def test_requests_are_counted_by_url_name_method_and_status_class(client):
    before = scraped(client)
    client.get("/login/")
    client.get("/login/")
    client.get("/no/such/page/cl-12345/")
    after = scraped(client)
    login = {"route": "web:login", "method": "GET", "status": "2xx"}
    assert value(after, DURATION_COUNT, **login) == value(before, DURATION_COUNT, **login) + 2
    unmatched = {"route": "unmatched", "method": "GET", "status": "4xx"}
    assert (
        value(after, DURATION_COUNT, **unmatched) == value(before, DURATION_COUNT, **unmatched) + 1
    )
    assert value(after, "caseloop_http_request_duration_seconds_sum", **login) > 0
    routes = {dict(labels).get("route", "") for _, labels in after}
    assert not any("/" in route for route in routes), routes


def test_an_unknown_method_is_counted_as_other(client):
    client.generic("BREW", "/login/")
    found = scraped(client)
    assert value(found, DURATION_COUNT, route="web:login", method="other", status="4xx") >= 1


def test_every_response_carries_a_request_id(client):
    response = client.get("/login/")
    assert len(response["X-Request-ID"]) == 32
    assert client.get("/login/", headers={"X-Request-ID": "lb-7f3a"})["X-Request-ID"] == "lb-7f3a"
    forged = client.get("/login/", headers={"X-Request-ID": "x\r\nSet-Cookie: a=b"})
    assert forged["X-Request-ID"] != "x\r\nSet-Cookie: a=b"


def test_outbox_lag_is_the_age_of_the_oldest_due_effect(client):
    assert value(scraped(client), "caseloop_outbox_lag_seconds") == 0
    late = outbox.effect_record(kind="test.ops", payload={})
    later = outbox.effect_record(kind="test.ops", payload={})
    OutboxEffect.objects.filter(pk=late.pk).update(
        available_at=timezone.now() - timedelta(seconds=120)
    )
    # Waiting for a retry is not lag: its time has not come.
    OutboxEffect.objects.filter(pk=later.pk).update(
        available_at=timezone.now() + timedelta(minutes=5)
    )
    found = scraped(client)
    assert 120 <= value(found, "caseloop_outbox_lag_seconds") < 180
    assert value(found, "caseloop_outbox_effects", state="pending", kind="test.ops") == 2
    assert value(found, "caseloop_outbox_effects_due") == 1


def test_failed_deliveries_and_given_up_effects_are_counted(client):
    found = scraped(client)
    assert value(found, "caseloop_delivery_failed_messages") == 0
    assert value(found, "caseloop_outbox_effects", state="failed", kind="") == 0
    agent = make_agent()
    case = make_case()
    reply = reply_send(case=case, actor=agent, text="Your refund is on its way.", send_anyway=True)
    message_delivery_mark(message_id=reply.pk, status=Message.Delivery.FAILED, error="550")
    # No handler knows this kind: the dispatcher gives it up at once, with the reason.
    doomed = outbox.effect_record(kind="test.ops.unknown", payload={})
    outbox.effects_run([doomed.pk])
    metrics.DeskCollector._failed_deliveries = None
    found = scraped(client)
    assert value(found, "caseloop_delivery_failed_messages") == 1
    assert value(found, "caseloop_outbox_effects", state="failed", kind="test.ops.unknown") == 1


@pytest.fixture
def real_queue(monkeypatch, tmp_path):
    """A job queue of the kind the desk is configured with (Redis, or a SQLite file), of
    its own, so jobs wait in it for a worker."""
    if settings.REDIS_URL:
        queue = RedisHuey(name=f"cl_ops_test_{uuid.uuid4().hex[:8]}", url=settings.REDIS_URL)
    else:
        queue = SqliteHuey(name="cl_ops_test", filename=str(tmp_path / "jobs.sqlite3"))
    monkeypatch.setattr(metrics, "job_queue", lambda: queue)
    yield queue
    queue.flush()


def test_queue_depth_counts_real_enqueued_jobs(client, real_queue):
    @real_queue.task()
    def nothing() -> None:
        pass

    found = scraped(client)
    assert value(found, "caseloop_job_queue_pending") == 0
    nothing()
    nothing()
    found = scraped(client)
    assert value(found, "caseloop_job_queue_pending") == 2
    assert ("caseloop_job_queue_scheduled", ()) in found
    assert value(found, "caseloop_metrics_source_up", source="queue") == 1
    assert value(found, "caseloop_metrics_source_up", source="database") == 1


def test_a_scrape_costs_two_sql_statements_then_one(client, django_assert_num_queries):
    with django_assert_num_queries(2):
        scraped(client)
    with django_assert_num_queries(1):
        scraped(client)


def test_metrics_are_not_found_from_another_address_without_a_configured_token(client, settings):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 404
    assert b"caseloop_" not in response.content


def test_metrics_need_the_token_from_another_address(client, settings):
    settings.METRICS_TOKEN = "metrics-token-for-the-test"
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", **outside).status_code == 403
    wrong = {"Authorization": "Bearer metrics-token-wrong"}
    assert client.get("/metrics", headers=wrong, **outside).status_code == 403
    right = {"Authorization": "Bearer metrics-token-for-the-test"}
    response = client.get("/metrics", headers=right, **outside)
    assert response.status_code == 200
    assert b"caseloop_outbox_lag_seconds" in response.content


def test_a_request_through_a_proxy_is_not_local(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    proxied = {"X-Forwarded-For": "203.0.113.9"}
    assert client.get("/metrics", headers=proxied, REMOTE_ADDR="127.0.0.1").status_code == 404


# Serve one request in this process; with PROMETHEUS_MULTIPROC_DIR the histogram lands in
# files that another process reads.
REQUEST = """
import django
django.setup()
from django.test import Client
assert Client().get("/healthz").status_code in (200, 503)
"""
SCRAPE = """
import django
django.setup()
from caseloop.web.ops import metrics
print(metrics.scrape().decode())
"""


def test_worker_processes_add_up_in_multiprocess_mode(tmp_path):
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "DJANGO_SETTINGS_MODULE": "caseloop.settings",
        "CASELOOP_DATA_DIR": str(tmp_path / "data"),
        "PROMETHEUS_MULTIPROC_DIR": str(shared),
    }

    def run(script: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    run(REQUEST)
    run(REQUEST)
    found = samples(run(SCRAPE))
    counted = sum(
        count
        for (name, labels), count in found.items()
        if name == DURATION_COUNT and dict(labels)["route"] == "healthz"
    )
    assert counted == 2
