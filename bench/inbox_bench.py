"""Inbox rendering on a large desk: bulk-seeds N cases (default 1,000,000) and reports
p50/p95 milliseconds and query counts of rendering each inbox queue, as JSON.

    .venv/bin/python bench/inbox_bench.py --database sqlite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/inbox_bench.py --database postgres
    .venv/bin/python bench/inbox_bench.py --database both --cases 200000

SQLite runs in a fresh temporary data directory; PostgreSQL in a database created for the
run on the server of DATABASE_URL and dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

STATUS_MIX = [
    ("closed", 880),
    ("solved", 40),
    ("new", 20),
    ("open", 35),
    ("pending_customer", 15),
    ("pending_internal", 10),
]
PRIORITY_MIX = [("low", 20), ("normal", 60), ("high", 15), ("urgent", 5)]
CHANNELS = ["email", "web", "chat", "phone", "social"]
SUBJECTS = [
    "Order has not arrived",
    "Refund still missing",
    "Kettle lid cracked",
    "Cannot sign in to my account",
    "Charged twice this month",
    "Wrong size delivered",
    "Invoice needs a VAT number",
    "App crashes on start",
]


def _weighted(rng: random.Random, mix: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in mix], weights=[w for _, w in mix])[0]


def seed(*, cases: int, batch: int = 5000) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from caseloop.accounts.models import Role, Team, User
    from caseloop.cases.models import Case, Message
    from caseloop.customers.models import Customer

    rng = random.Random(7)
    started = time.perf_counter()
    teams = [Team.objects.create(name=f"Team {n}", slug=f"team-{n}") for n in range(5)]
    agents = User.objects.bulk_create(
        [User(username=f"agent{n}", role=Role.AGENT, password="!") for n in range(50)]
    )
    agents = list(User.objects.filter(username__startswith="agent").order_by("id"))
    bench_agent = agents[0]
    teams[0].members.add(bench_agent)
    customer_count = max(1, cases // 20)
    for start in range(0, customer_count, batch):
        Customer.objects.bulk_create(
            [
                Customer(name=f"Customer {n}")
                for n in range(start, min(start + batch, customer_count))
            ]
        )
    customer_ids = list(Customer.objects.values_list("id", flat=True))
    now = timezone.now()
    messages = 0
    for start in range(1, cases + 1, batch):
        rows, inbound = [], []
        for pk in range(start, min(start + batch, cases + 1)):
            status = _weighted(rng, STATUS_MIX)
            owner = None if status == "new" else rng.choice(agents)
            created = now - (cases - pk) * timezone.timedelta(seconds=30)
            # New and internally pending cases wait on the desk; some open ones were answered.
            waits = status in ("new", "pending_internal") or (
                status == "open" and rng.random() < 0.6
            )
            rows.append(
                Case(
                    id=pk,
                    subject=rng.choice(SUBJECTS),
                    customer_id=rng.choice(customer_ids),
                    channel=rng.choice(CHANNELS),
                    status=status,
                    priority=_weighted(rng, PRIORITY_MIX),
                    team=rng.choice(teams),
                    owner=owner,
                    assignee=owner if rng.random() < 0.9 else rng.choice(agents),
                    last_customer_message_at=created,
                    awaiting_reply_since=created if waits else None,
                    first_response_at=None if status == "new" else created,
                )
            )
            if status not in ("closed", "solved"):
                inbound.append(
                    Message(case_id=pk, direction="inbound", channel="email", text="Any news?")
                )
        with transaction.atomic():
            Case.objects.bulk_create(rows)
            Message.objects.bulk_create(inbound)
        messages += len(inbound)
    return {
        "cases": cases,
        "customers": customer_count,
        "agents": len(agents),
        "messages": messages,
        "seconds": round(time.perf_counter() - started, 1),
        "agent": bench_agent.username,
    }


def measure(*, username: str, repeat: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from caseloop.accounts.models import User
    from caseloop.web.selectors import InboxParams, inbox_page

    setup_test_environment()  # records the template context, so rows can be counted
    client = Client()
    client.force_login(User.objects.get(username=username))
    user = User.objects.get(username=username)
    first_page = inbox_page(user=user, params=InboxParams(queue="all"))
    by_priority = inbox_page(user=user, params=InboxParams(queue="all", sort="priority"))
    by_priority = by_priority.next_cursor
    by_wait = inbox_page(user=user, params=InboxParams(queue="all", sort="waiting"))
    by_wait = by_wait.next_cursor
    views = {
        "mine": "queue=mine",
        "team": "queue=team",
        "unassigned": "queue=unassigned",
        "escalated": "queue=escalated",
        "waiting": "queue=waiting",
        "target": "queue=target",
        "review": "queue=review",
        "all": "queue=all",
        "all, page 2": f"queue=all&cursor={first_page.next_cursor}",
        "all, oldest first": "queue=all&sort=oldest",
        "all, highest priority first": "queue=all&sort=priority",
        "all, highest priority first, page 2": f"queue=all&sort=priority&cursor={by_priority}",
        "mine, highest priority first": "queue=mine&sort=priority",
        "all, longest waiting first": "queue=all&sort=waiting",
        "all, longest waiting first, page 2": f"queue=all&sort=waiting&cursor={by_wait}",
        "mine, longest waiting first": "queue=mine&sort=waiting",
        "team, longest waiting first": "queue=team&sort=waiting",
        "all, urgent": "queue=all&priority=urgent",
        "all, open, team 2": "queue=all&status=open&team=2",
        "all, by reference": "queue=all&q=CL-500000",
        "all, subject search": "queue=all&q=kettle",
    }
    results = {}
    for name, query in views.items():
        timings = []
        queries = 0
        status = None
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get("/inbox/?" + query)
                timings.append((time.perf_counter() - started) * 1000)
            status = response.status_code
            queries = len(captured.captured_queries)
        timings.sort()
        results[name] = {
            "status": status,
            "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 1),
            "queries": queries,
            "rows": len(response.context["page"].cases) if response.context else None,
        }
    return results


def run_one(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    seeded = seed(cases=args.cases)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "seed": seeded,
                "repeat": args.repeat,
                "views": measure(username=seeded["agent"], repeat=args.repeat),
            },
            indent=2,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(args)
        return
    targets = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for target in targets:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "caseloop.settings",
            "CASELOOP_DATA_DIR": tempfile.mkdtemp(prefix="inbox-bench-"),
        }
        env.pop("REDIS_URL", None)
        admin = db = None
        if target == "sqlite":
            env.pop("DATABASE_URL", None)
        else:
            if not os.environ.get("DATABASE_URL"):
                raise SystemExit("set DATABASE_URL to a PostgreSQL server for --database postgres")
            admin = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
            db = f"inbox_bench_{os.getpid()}"
            subprocess.run(
                [sys.executable, str(ROOT / "scripts" / "pgdb.py"), "create", admin, db], check=True
            )
            env["DATABASE_URL"] = admin.rsplit("/", 1)[0] + "/" + db
        try:
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    "--cases",
                    str(args.cases),
                    "--repeat",
                    str(args.repeat),
                ],
                env=env,
                check=True,
            )
        finally:
            if db:
                subprocess.run(
                    [sys.executable, str(ROOT / "scripts" / "pgdb.py"), "drop", admin, db],
                    check=False,
                )


if __name__ == "__main__":
    main()
