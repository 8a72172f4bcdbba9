"""Reports benchmark: seed N cases with their event history, bring the metrics' facts and
daily rollups up to date through the same catch-up the job runs, then time the reports.

    .venv/bin/python bench/insights_bench.py                    # 1,000,000 cases on SQLite
    .venv/bin/python bench/insights_bench.py --cases 20000      # a quick run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/insights_bench.py

With DATABASE_URL the benchmark creates its own database on that server and drops it
afterwards. Seeding (bulk inserts, COPY on PostgreSQL) is set-up and not measured; the
catch-up is measured as cases per second. Each report scenario runs `--repeat` times and
prints p50/p95/p99 (ms), CPU per call (ms) and SQL statements per call, as one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from api_bench import database_create, database_drop, table_fill  # noqa: E402


def database_keep(server_url: str, name: str) -> str:
    """The URL of the kept database `name` on the server, created if it is not there."""
    parts = urlsplit(server_url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    subprocess.run(  # fails, quietly, when the database is already there
        [sys.executable, str(ROOT / "scripts" / "pgdb.py"), "create", admin_url, name],
        check=False,
        stderr=subprocess.DEVNULL,
    )
    return urlunsplit(parts._replace(path=f"/{name}"))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def seed(*, cases: int, days: int, rng: random.Random) -> dict:
    from caseloop.accounts.models import Role, Team, User
    from caseloop.cases.models import Case, CaseEvent, Category
    from caseloop.customers.models import Customer, Organization
    from caseloop.insights.models import SatisfactionRating

    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=days)
    teams = [Team.objects.create(name=f"Team {i}", slug=f"team-{i}") for i in range(5)]
    agents = [
        User.objects.create(username=f"agent{i}", role=Role.AGENT, email=f"a{i}@desk.test")
        for i in range(40)
    ]
    User.objects.create(username="manager", role=Role.MANAGER, email="m@desk.test")
    categories = [
        Category.objects.create(name=f"Category {i}", slug=f"category-{i}") for i in range(20)
    ]
    orgs = [Organization.objects.create(name=f"Org {i}") for i in range(200)]
    customer_count = max(1, cases // 20)
    table_fill(
        Customer,
        ["name", "organization_id"],
        ((f"Customer {i}", rng.choice(orgs).pk) for i in range(customer_count)),
        now=now,
    )
    first_customer = Customer.objects.order_by("pk").values_list("pk", flat=True).first()
    plans = []
    for n in range(cases):
        created = start + timedelta(seconds=rng.randrange(days * 86_400))
        agent = rng.choice(agents)
        solved = rng.random() < 0.9 and created < now - timedelta(hours=6)
        first_reply = created + timedelta(minutes=rng.randrange(2, 600))
        solved_at = first_reply + timedelta(minutes=rng.randrange(5, 4000))
        if solved_at >= now:
            solved = False
        plans.append(
            {
                "pk": n + 1,
                "created": created,
                "agent": agent.pk,
                "team": rng.choice(teams).pk,
                "category": rng.choice(categories).pk,
                "customer": first_customer + rng.randrange(customer_count),
                "channel": rng.choice(["email", "web", "chat", "phone", "social"]),
                "priority": rng.choices(["low", "normal", "high", "urgent"], [2, 6, 2, 1])[0],
                "solved": solved,
                "first_reply": first_reply if first_reply < now else None,
                "second_reply": rng.random() < 0.35,
                "solved_at": solved_at,
                "escalated": rng.random() < 0.05,
                "rating": rng.choices([1, 2, 3, 4, 5], [1, 1, 2, 4, 6])[0]
                if solved and rng.random() < 0.2
                else None,
            }
        )
    table_fill(
        Case,
        [
            "id",
            "subject",
            "customer_id",
            "channel",
            "status",
            "category_id",
            "priority",
            "team_id",
            "owner_id",
            "created_at",
            "updated_at",
            "first_response_at",
            "solved_at",
        ],
        (
            (
                p["pk"],
                f"Order {p['pk']} question",
                p["customer"],
                p["channel"],
                "solved" if p["solved"] else "open",
                p["category"],
                p["priority"],
                p["team"],
                p["agent"],
                p["created"],
                p["created"],
                p["first_reply"],
                p["solved_at"] if p["solved"] else None,
            )
            for p in plans
        ),
        now=now,
    )

    def events():
        for p in plans:
            created = p["created"]
            yield (p["pk"], None, "created", json.dumps({}), created)
            yield (
                p["pk"],
                None,
                "message_added",
                json.dumps({"direction": "inbound", "channel": p["channel"]}),
                created,
            )
            if p["first_reply"] is None:
                continue
            yield (
                p["pk"],
                p["agent"],
                "message_added",
                json.dumps({"direction": "outbound", "channel": p["channel"]}),
                p["first_reply"],
            )
            if p["escalated"]:
                yield (p["pk"], p["agent"], "escalated", json.dumps({}), p["first_reply"])
            if p["solved"]:
                if p["second_reply"]:
                    at = p["first_reply"] + (p["solved_at"] - p["first_reply"]) / 3
                    yield (
                        p["pk"],
                        None,
                        "message_added",
                        json.dumps({"direction": "inbound", "channel": p["channel"]}),
                        at,
                    )
                    yield (
                        p["pk"],
                        p["agent"],
                        "message_added",
                        json.dumps({"direction": "outbound", "channel": p["channel"]}),
                        at + (p["solved_at"] - at) / 2,
                    )
                yield (
                    p["pk"],
                    p["agent"],
                    "status_changed",
                    json.dumps({"before": "open", "after": "solved"}),
                    p["solved_at"],
                )
                if p["rating"]:
                    yield (
                        p["pk"],
                        None,
                        "satisfaction_rated",
                        json.dumps({"score": p["rating"]}),
                        p["solved_at"] + timedelta(hours=1),
                    )

    event_count = table_fill(
        CaseEvent, ["case_id", "actor_id", "kind", "data", "created_at"], events(), now=now
    )
    table_fill(
        SatisfactionRating,
        ["case_id", "customer_id", "score", "created_at"],
        (
            (p["pk"], p["customer"], p["rating"], p["solved_at"] + timedelta(hours=1))
            for p in plans
            if p["rating"]
        ),
        now=now,
    )
    return {"events": event_count, "agents": [a.pk for a in agents], "orgs": len(orgs)}


def steady_catch_up(*, events: int) -> dict:
    """Append `events` events (replies and solves) to the newest cases, then time the
    catch-up that reads them."""
    from caseloop.cases.models import Case, CaseEvent
    from caseloop.insights.rollups import rollups_catch_up

    now = datetime.now(UTC)
    recent = list(Case.objects.order_by("-created_at").values_list("pk", "owner_id")[:events])
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case_id=pk,
                actor_id=owner,
                kind="message_added",
                data={"direction": "outbound", "channel": "email"},
            )
            for pk, owner in recent
        ],
        batch_size=1000,
    )
    began = time.perf_counter()
    batch = rollups_catch_up(limit=events * 2, now=now + timedelta(minutes=5))
    seconds = time.perf_counter() - began
    return {"events": batch.events, "cases": batch.cases, "seconds": round(seconds, 2)}


def timed(fn, *, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    walls, cpus, statements = [], [], []
    fn()  # warm up: imports, the API schema, the template cache
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        statements.append(len(queries))
    return {
        "p50_ms": round(percentile(walls, 0.5), 1),
        "p95_ms": round(percentile(walls, 0.95), 1),
        "p99_ms": round(percentile(walls, 0.99), 1),
        "cpu_ms": round(statistics.mean(cpus), 1),
        "sql_per_call": round(statistics.mean(statements), 1),
    }


def measure(*, repeat: int, agents: list[int]) -> dict:
    from django.test import Client
    from django.utils import timezone

    from caseloop.accounts.models import User
    from caseloop.insights import metrics
    from caseloop.web.dashboard_views import BREAKDOWN_FIGURES

    today = timezone.localdate()
    month = metrics.Period(today - timedelta(days=29), today)
    year = metrics.Period(today - timedelta(days=364), today)
    agent = str(agents[0])
    client = Client()
    client.force_login(User.objects.get(username="manager"))

    def page_then(path, params):
        def get():
            response = client.get(path, params)
            assert response.status_code == 200, response.status_code

        return get

    def drill():
        first = metrics.drilldown_page(metric="fcr", period=month, against_only=True)
        metrics.drilldown_page(metric="fcr", period=month, against_only=True, after=first.after)

    scenarios = {
        "report_30_days": lambda: metrics.report(period=month),
        "report_365_days": lambda: metrics.report(period=year),
        "report_30_days_one_agent": lambda: metrics.report(period=month, filters={"owner": agent}),
        "by_agent_30_days": lambda: metrics.report_grouped(period=month, group_by="owner"),
        "by_organization_365_days": lambda: metrics.report_grouped(
            period=year, group_by="organization"
        ),
        # What the dashboard's breakdown table reads of each slice.
        "breakdown_table_by_organization_365_days": lambda: metrics.report_grouped(
            period=year, group_by="organization", only=BREAKDOWN_FIGURES
        ),
        "trend_365_days_weekly": lambda: metrics.trend(period=year, interval="week"),
        "drill_down_fcr_30_days_two_pages": drill,
        "backlog_by_age": lambda: metrics.backlog_summary(),
        "api_metrics_30_days_by_team": page_then("/api/v1/insights/metrics", {"group_by": "team"}),
        "dashboard_page_30_days": page_then("/manager/", {}),
    }
    results = {}
    for name, fn in scenarios.items():
        results[name] = timed(fn, repeat=repeat)
        # Each figure as it comes, so a long run that fails late keeps what it measured.
        print(json.dumps({name: results[name]}), file=sys.stderr, flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--keep",
        metavar="NAME",
        help="keep the seeded desk under this name (a data directory in the system's temp "
        "folder, or a database on the server) and measure it again on the next run with "
        "the same name, without seeding",
    )
    parser.add_argument(
        "--no-rebuild",
        action="store_true",
        help="with --keep: measure the kept rollups as they are (the definitions did not change)",
    )
    args = parser.parse_args()

    keep_dir = Path(tempfile.gettempdir()) / f"caseloop-insights-bench-{args.keep}"
    if args.keep:
        keep_dir.mkdir(exist_ok=True)
    data_dir = str(keep_dir) if args.keep else tempfile.mkdtemp(prefix="caseloop-insights-bench-")
    os.environ["CASELOOP_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseloop.settings")
    server_url = os.environ.get("DATABASE_URL", "")
    database = None
    if server_url and args.keep:
        database = f"caseloop_bench_{args.keep}"
        os.environ["DATABASE_URL"] = database_keep(server_url, database)
    elif server_url:
        url, database = database_create(server_url)
        os.environ["DATABASE_URL"] = url
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        # Load the URLconf and views now, so a long run measures the code it started with.
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018

        from django.conf import settings
        from django.db import connection

        import caseloop.asgi  # noqa: F401  - what a served desk loads, then freezes (asgi.py)
        from caseloop.accounts.models import User
        from caseloop.cases.models import Case, CaseEvent
        from caseloop.insights.rollups import rollups_rebuild

        settings.DEBUG = False
        began = time.perf_counter()
        if args.keep and Case.objects.exists():
            seeded = {
                "events": CaseEvent.objects.count(),
                "agents": list(
                    User.objects.filter(username__startswith="agent")
                    .order_by("pk")
                    .values_list("pk", flat=True)
                ),
            }
        else:
            seeded = seed(cases=args.cases, days=args.days, rng=random.Random(args.seed))
        seed_seconds = time.perf_counter() - began
        # The definitions may have changed since a kept desk was seeded: rebuild, unless told.
        began = time.perf_counter()
        cases = 0 if args.keep and args.no_rebuild else rollups_rebuild()
        rebuild_seconds = time.perf_counter() - began
        # The steady state: the job reads the last minute's events (a busy desk: 2,000
        # events on recent cases) into facts and rollups that already hold the history.
        print(
            json.dumps({"rebuild_cases": cases, "seconds": round(rebuild_seconds, 1)}),
            file=sys.stderr,
            flush=True,
        )
        steady = steady_catch_up(events=2000)
        from caseloop.insights.models import DailyRollup

        result = {
            "database": connection.vendor,
            "cases": args.cases,
            "events": seeded["events"],
            "days": args.days,
            "seed_seconds": round(seed_seconds, 1),
            "rebuild": {
                "cases": cases,
                "seconds": round(rebuild_seconds, 1),
                "cases_per_second": round(cases / rebuild_seconds) if rebuild_seconds else None,
                "rollup_rows": DailyRollup.objects.count(),
            },
            "catch_up_2000_new_events": steady,
            "reports": measure(repeat=args.repeat, agents=seeded["agents"]),
        }
        print(json.dumps(result, indent=2))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            if database:
                database_drop(server_url, database)
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
