"""Import speed: generate a Zendesk-format export (NDJSON tickets with their comments
embedded, as Zendesk's full JSON export writes them) and time `history_import` on it.

    .venv/bin/python bench/import_bench.py                      # 100,000 tickets, SQLite
    .venv/bin/python bench/import_bench.py --tickets 20000      # a quicker run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/import_bench.py                  # PostgreSQL

With DATABASE_URL the benchmark creates its own database on that server and drops it
afterwards. Writing the export is set-up and not measured; the import is (tickets/s and
messages/s), then the learning after it (training the category model, indexing the
messages for search) on its own. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from api_bench import database_create, database_drop  # noqa: E402

TOPICS = {
    "Billing": ["charged twice", "refund my payment", "invoice is wrong", "card declined"],
    "Delivery": ["parcel is late", "courier lost my order", "wrong address", "tracking stuck"],
    "Account": ["cannot log in", "reset my password", "delete my account", "change my email"],
    "Product": ["hinge broke", "screen flickers", "missing screws", "does not switch on"],
}
STATUSES = ["new", "open", "pending", "hold", "solved", "closed", "closed", "solved"]


def export_write(directory: Path, *, tickets: int, comments: int, rng: random.Random) -> dict:
    """The export files; returns what they hold."""
    agents = 20
    customers = max(1, tickets // 5)
    orgs = max(1, customers // 50)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    with (directory / "organizations.json").open("w") as handle:
        json.dump(
            {"organizations": [{"id": i, "name": f"Org {i}"} for i in range(1, orgs + 1)]}, handle
        )
    with (directory / "groups.json").open("w") as handle:
        json.dump({"groups": [{"id": i, "name": name} for i, name in enumerate(TOPICS, 1)]}, handle)
    with (directory / "users.ndjson").open("w") as handle:
        for i in range(1, agents + 1):
            row = {"id": i, "name": f"Agent {i}", "email": f"agent{i}@desk.test", "role": "agent"}
            handle.write(json.dumps(row) + "\n")
        for i in range(1, customers + 1):
            row = {
                "id": 1000 + i,
                "name": f"Customer {i}",
                "email": f"customer{i}@example.test",
                "role": "end-user",
                "organization_id": rng.randint(1, orgs),
            }
            handle.write(json.dumps(row) + "\n")
    messages = 0
    names = list(TOPICS)
    with (directory / "tickets.ndjson").open("w") as handle:
        for t in range(1, tickets + 1):
            category = rng.choice(names)
            topic = rng.choice(TOPICS[category])
            requester = 1000 + rng.randint(1, customers)
            agent = rng.randint(1, agents)
            opened = start + timedelta(minutes=7 * t)
            n = max(1, round(rng.gauss(comments, 1)))
            thread = []
            for c in range(n):
                inbound = c % 2 == 0
                thread.append(
                    {
                        "id": t * 100 + c,
                        "author_id": requester if inbound else agent,
                        "public": inbound or rng.random() > 0.15,
                        "body": f"Order {t}: {topic}. "
                        + ("Please help." if inbound else "Sorted."),
                        "attachments": [],
                        "created_at": (opened + timedelta(hours=c))
                        .isoformat()
                        .replace("+00:00", "Z"),
                    }
                )
            messages += n
            row = {
                "id": t,
                "subject": f"{topic.capitalize()} ({t})",
                "description": thread[0]["body"],
                "status": rng.choice(STATUSES),
                "priority": rng.choice(["low", "normal", "normal", "high", "urgent"]),
                "requester_id": requester,
                "assignee_id": agent,
                "group_id": names.index(category) + 1,
                "tags": [category.lower(), topic.split()[0]],
                "type": category,
                "via": {"channel": "email"},
                "satisfaction_rating": {"score": rng.choice(["good", "bad", "offered"])},
                "created_at": opened.isoformat().replace("+00:00", "Z"),
                "updated_at": (opened + timedelta(hours=n)).isoformat().replace("+00:00", "Z"),
                "comments": thread,
            }
            handle.write(json.dumps(row) + "\n")
    return {"agents": agents, "customers": customers, "organizations": orgs, "messages": messages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--comments", type=int, default=3, help="comments per ticket, on average")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-learn", action="store_true", help="skip timing the learning after it")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="caseloop-import-bench-"))
    (work / "data").mkdir()
    (work / "export").mkdir()
    os.environ["CASELOOP_DATA_DIR"] = str(work / "data")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseloop.settings")
    server_url = os.environ.get("DATABASE_URL", "")
    database = None
    if server_url:
        url, database = database_create(server_url)
        os.environ["DATABASE_URL"] = url
    try:
        began = time.perf_counter()
        held = export_write(
            work / "export",
            tickets=args.tickets,
            comments=args.comments,
            rng=random.Random(args.seed),
        )
        export_seconds = time.perf_counter() - began

        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        from django.conf import settings
        from django.db import connection

        from caseloop.importers.services import history_import, history_learn
        from caseloop.importers.sources.zendesk import ZendeskSource

        settings.DEBUG = False
        began = time.perf_counter()
        report = history_import(
            source=ZendeskSource(directory=work / "export"), batch_size=args.batch_size
        )
        seconds = time.perf_counter() - began
        learned: dict = {}
        learn_seconds = None
        if not args.no_learn:
            began = time.perf_counter()
            learned = history_learn()
            learn_seconds = round(time.perf_counter() - began, 2)
        cases = report.created["cases"]
        messages = report.created["messages"]
        print(
            json.dumps(
                {
                    "benchmark": "import",
                    "database": connection.vendor,
                    "format": "zendesk ndjson, comments embedded",
                    "tickets": args.tickets,
                    "messages_in_export": held["messages"],
                    "export_mb": round(
                        sum(p.stat().st_size for p in (work / "export").iterdir()) / 2**20, 1
                    ),
                    "export_write_seconds": round(export_seconds, 2),
                    "batch_size": args.batch_size,
                    "created": dict(report.created),
                    "problems": len(report.problems),
                    "import_seconds": round(seconds, 2),
                    "tickets_per_s": round(cases / seconds, 1) if seconds else None,
                    "messages_per_s": round(messages / seconds, 1) if seconds else None,
                    "learn_seconds": learn_seconds,
                    "learned": {k: v for k, v in learned.items() if k != "knowledge_gaps"},
                },
                indent=2,
            )
        )
    finally:
        from django.db import connections

        connections.close_all()
        if database:
            database_drop(server_url, database)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
