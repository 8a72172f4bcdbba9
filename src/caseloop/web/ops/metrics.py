"""Prometheus metrics: request latency, measured by `OpsMiddleware`, and the state of the desk
(job queue, outbox, failed deliveries), read by `DeskCollector` when `/metrics` is scraped.

Labels stay bounded: a request is labelled by the name of the URL pattern it resolved to
(`web:inbox`, `api:case_list`), never by its path, by a known method (anything else is
`other`) and by status class (`2xx`…). Requests that resolve to no pattern are `static`
(under STATIC_URL) or `unmatched`.

Under `caseloop serve --workers N` each worker process counts its own requests. With
`PROMETHEUS_MULTIPROC_DIR` set (an empty directory, before the processes start) the
histograms are kept in files there and every scrape adds up all workers' counts
(prometheus_client's multiprocess mode); the desk gauges are read from the database and the
queue, so they are the same whichever process answers.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import request_finished
from django.db import DatabaseError
from django.db.models import Count, Min, Q
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone
from huey import Huey
from huey.contrib.djhuey import HUEY
from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from caseloop.cases.models import Message, OutboxEffect
from caseloop.lib.logjson import request_id

logger = logging.getLogger(__name__)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
if MULTIPROCESS and not os.path.isdir(os.environ["PROMETHEUS_MULTIPROC_DIR"]):
    # Caught at start, not as a failure of every request's first count.
    raise ImproperlyConfigured("PROMETHEUS_MULTIPROC_DIR must name an existing directory")

# The request histograms of this process. In multiprocess mode the values live in files and
# this registry is not what a scrape reads (see `scrape`).
REQUESTS_REGISTRY = CollectorRegistry()
if not MULTIPROCESS:
    ProcessCollector(registry=REQUESTS_REGISTRY)
    PlatformCollector(registry=REQUESTS_REGISTRY)
    GCCollector(registry=REQUESTS_REGISTRY)

REQUEST_DURATION = Histogram(
    "caseloop_http_request_duration_seconds",
    "Time from a request's arrival until its response is ready, by URL name, method and "
    "status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REQUESTS_REGISTRY,
)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A proxy's request id is kept when it is a plain token; anything else gets a new one.
REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_SHAPE = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


def route_label(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name
    if request.path.startswith(settings.STATIC_URL):
        return "static"
    return "unmatched"


_observe_failed: list[bool] = []


def request_observe(request: HttpRequest, status: int, seconds: float) -> None:
    """Counts one request. A count that cannot be kept (its multiprocess file unwritable)
    never fails the request; the first such failure of a process is logged."""
    method = request.method if request.method in METHODS else "other"
    try:
        REQUEST_DURATION.labels(route_label(request), method, f"{status // 100}xx").observe(seconds)
    except Exception:  # noqa: BLE001 - metrics are never worth a failed request
        if not _observe_failed:
            _observe_failed.append(True)
            logger.exception("request metrics cannot be recorded")


def _request_id_for(request: HttpRequest) -> str:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _REQUEST_ID_SHAPE.match(given) else uuid.uuid4().hex


class OpsMiddleware:
    """Outermost: gives each request an id (for the logs and the `X-Request-ID` response
    header; a proxy's plain-token `X-Request-ID` is kept) and times it into the latency
    histogram. Works in both modes: under ASGI it stays on the event loop, without a thread
    hop of its own."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        started = time.perf_counter()
        request_id.set(_request_id_for(request))
        response: HttpResponseBase = self.get_response(request)
        return self._finish(request, response, started)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        request_id.set(_request_id_for(request))
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        response = await get_response(request)
        return self._finish(request, response, started)

    @staticmethod
    def _finish(
        request: HttpRequest, response: HttpResponseBase, started: float
    ) -> HttpResponseBase:
        request_observe(request, response.status_code, time.perf_counter() - started)
        current = request_id.get()
        if current and REQUEST_ID_HEADER not in response:
            response[REQUEST_ID_HEADER] = current
        return response


def _request_id_clear(**kwargs: Any) -> None:
    request_id.set(None)


# The id stays set after the middleware returns, because Django logs a failed response
# (`django.request`) after the whole middleware chain; it ends with the request. Under
# ASGI every request runs in a context of its own, so one never sees another's id.
request_finished.connect(_request_id_clear, dispatch_uid="caseloop.web.ops.request_id")


def job_queue() -> Huey:
    """The desk's job queue (Redis or the embedded SQLite file)."""
    return HUEY


class DeskCollector(Collector):
    """Gauges read when scraped. A scrape costs one SQL statement on the outbox (an index
    range on `outbox_due` over the pending and failed effects), one on the messages whose
    delivery failed (at most once a minute per process: `delivery_status` has no index, so
    it is a scan), and two commands on the job queue (pending and scheduled counts: SQLite
    statements on the embedded queue file, LLEN and ZCARD on Redis)."""

    # Seconds a process reuses its count of failed deliveries.
    FAILED_DELIVERIES_TTL = 60.0
    _failed_deliveries: tuple[float, int] | None = None

    def __init__(self, *, queue: Huey | None = None, now: datetime | None = None) -> None:
        self.queue = queue if queue is not None else job_queue()
        self.now = now

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "caseloop_metrics_source_up",
            "Whether the source of the desk gauges answered this scrape (1) or not (0).",
            labels=["source"],
        )
        try:
            database = list(self._database_metrics())
        except DatabaseError as exc:
            logger.warning("metrics: the database did not answer: %s", type(exc).__name__)
            database = []
        up.add_metric(["database"], 1 if database else 0)
        yield from database
        try:
            queue = list(self._queue_metrics())
        except Exception as exc:  # noqa: BLE001 - a queue that is down is a gauge, not a 500
            logger.warning("metrics: the job queue did not answer: %s", type(exc).__name__)
            queue = []
        up.add_metric(["queue"], 1 if queue else 0)
        yield from queue
        yield up

    def _queue_metrics(self) -> Iterable[Metric]:
        pending = GaugeMetricFamily(
            "caseloop_job_queue_pending", "Jobs waiting in the queue for a worker."
        )
        pending.add_metric([], self.queue.pending_count())
        scheduled = GaugeMetricFamily(
            "caseloop_job_queue_scheduled",
            "Jobs a worker has set aside to run later (retries, delayed jobs).",
        )
        scheduled.add_metric([], self.queue.scheduled_count())
        return [pending, scheduled]

    def _database_metrics(self) -> Iterable[Metric]:
        now = self.now or timezone.now()
        pending = OutboxEffect.State.PENDING
        rows = (
            OutboxEffect.objects.filter(state__in=[pending, OutboxEffect.State.FAILED])
            .order_by()
            .values("state", "kind")
            .annotate(
                n=Count("id"),
                due=Count("id", filter=Q(state=pending, available_at__lte=now)),
                oldest_due=Min("available_at", filter=Q(state=pending, available_at__lte=now)),
            )
        )
        effects = GaugeMetricFamily(
            "caseloop_outbox_effects",
            "Side effects in the outbox not done: pending (waiting or retrying) and failed "
            "(given up after the last attempt), by kind.",
            labels=["state", "kind"],
        )
        due = GaugeMetricFamily(
            "caseloop_outbox_effects_due",
            "Pending side effects whose time to run has come.",
        )
        oldest: datetime | None = None
        due_total = 0
        counted: set[str] = set()
        for row in rows:
            effects.add_metric([row["state"], row["kind"]], row["n"])
            counted.add(row["state"])
            due_total += row["due"]
            if row["oldest_due"] is not None and (oldest is None or row["oldest_due"] < oldest):
                oldest = row["oldest_due"]
        for state in (pending, OutboxEffect.State.FAILED):
            if state not in counted:
                effects.add_metric([state, ""], 0)
        due.add_metric([], due_total)
        lag = GaugeMetricFamily(
            "caseloop_outbox_lag_seconds",
            "Age of the oldest due, unfinished side effect (0 when none waits).",
        )
        lag.add_metric([], max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
        failed = GaugeMetricFamily(
            "caseloop_delivery_failed_messages",
            "Outbound messages whose delivery failed (permanently, bounced or given up).",
        )
        failed.add_metric([], self._failed_deliveries_count())
        return [effects, due, lag, failed]

    def _failed_deliveries_count(self) -> int:
        cached = DeskCollector._failed_deliveries
        clock = time.monotonic()
        if cached is not None and clock - cached[0] < self.FAILED_DELIVERIES_TTL:
            return cached[1]
        count = Message.objects.filter(delivery_status=Message.Delivery.FAILED).count()
        DeskCollector._failed_deliveries = (clock, count)
        return count


def scrape() -> bytes:
    """The text exposition of every metric: this process's (or, in multiprocess mode, all
    processes') request histograms, and the desk gauges read now."""
    registry = CollectorRegistry()
    if MULTIPROCESS:
        MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS_REGISTRY)
    registry.register(DeskCollector())
    return generate_latest(registry)
