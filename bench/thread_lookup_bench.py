"""How long a webhook channel takes to find the case of a conversation thread it has not
seen before, on a large SQLite desk: the indexed `thread_key` column against the same
column without its index and the JSON-path filter used before. Prints JSON.

    .venv/bin/python bench/thread_lookup_bench.py --messages 500000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _p50_ms(lookup, repeat: int) -> float:
    timings = []
    for n in range(repeat):
        started = time.perf_counter()
        lookup(f"shop:new-{n}")
        timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    os.environ["CASELOOP_DATA_DIR"] = tempfile.mkdtemp(prefix="thread-bench-")
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseloop.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from caseloop.cases.models import Case, Message
    from caseloop.channels.webhook.services import thread_messages
    from caseloop.customers.models import Customer

    call_command("migrate", verbosity=0)
    customer = Customer.objects.create(name="Bench")
    cases = max(1, args.messages // 10)
    Case.objects.bulk_create(
        [
            Case(id=pk, subject="s", customer=customer, channel="social")
            for pk in range(1, cases + 1)
        ]
    )
    for start in range(0, args.messages, 20_000):
        Message.objects.bulk_create(
            [
                Message(
                    case_id=n % cases + 1,
                    direction="inbound",
                    channel="social",
                    text="hi",
                    # A third of the messages came through a webhook with a thread id.
                    metadata={"webhook": "shop", "thread": f"shop:t{n}"} if n % 3 == 0 else {},
                )
                for n in range(start, min(start + 20_000, args.messages))
            ]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    def latest_in_thread(thread: str):
        return thread_messages(thread).order_by("-id").first()

    def latest_by_json_path(thread: str):
        return Message.objects.filter(metadata__thread=thread).order_by("-id").first()

    indexed = _p50_ms(latest_in_thread, args.repeat)
    json_path = _p50_ms(latest_by_json_path, max(5, args.repeat // 3))
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA index_list(cases_message)")
        for row in cursor.fetchall():
            if "thread_key" in row[1]:
                cursor.execute(f'DROP INDEX "{row[1]}"')
    unindexed = _p50_ms(latest_in_thread, max(5, args.repeat // 3))
    print(
        json.dumps(
            {
                "database": "sqlite",
                "messages": args.messages,
                "new_thread_lookup_p50_ms": {
                    "thread_key_indexed": indexed,
                    "thread_key_without_index": unindexed,
                    "json_path_filter": json_path,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
