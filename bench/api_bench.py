"""API benchmark: seed N cases, serve the desk on loopback, measure it over HTTP.

    .venv/bin/python bench/api_bench.py                      # 100,000 cases on SQLite
    .venv/bin/python bench/api_bench.py --cases 1000000      # a million
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/api_bench.py

With DATABASE_URL, the URL names the server: the benchmark creates its own database there
(scripts/pgdb.py) and drops it afterwards. Seeding uses bulk inserts (COPY on PostgreSQL;
it is set-up, not what is measured) and writes messages and events too, so lists and
details read realistic rows.
Then `caseloop serve --no-jobs` runs in a subprocess on a free loopback port and each
scenario (create, list, filtered list, deep page, detail) is driven for a bounded time with
bounded concurrency. Prints one JSON document: per scenario requests/s, p50/p95/p99 in ms,
the server's CPU ms and SQL statements per request.

Subjects and first messages are BANKING77 customer queries, read at run time from
../shared/data/banking77/train.csv (generated sentences when it is absent); the search
scenarios look for a common word, a phrase, a rare word, a word nothing holds, a customer's
name and a word found only in messages.

    .venv/bin/python bench/api_bench.py --cases 1000000 --keep big   # seed once, keep it
    .venv/bin/python bench/api_bench.py --cases 1000000 --keep big   # measure again, no seeding

`--keep NAME` keeps the seeded desk (a data directory in the temporary folder, or the
database caseloop_bench_NAME next to DATABASE_URL's) and reuses it when the same NAME and
--cases are asked again; it is migrated (and its messages indexed) before each run.

    .venv/bin/python bench/api_bench.py --cases 200 --duration 0.5 --concurrency 2  # smoke
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Set in the server's environment: each of its processes counts the SQL statements it runs
# and the requests it finishes, into a file of its own in this directory.
SQL_COUNT_DIR = "CASELOOP_BENCH_SQL_COUNT_DIR"
STATUSES = ["new", "open", "pending_customer", "pending_internal", "solved", "closed"]
STATUS_WEIGHTS = [8, 22, 10, 8, 22, 30]
BANKING77 = ROOT.parent / "shared" / "data" / "banking77" / "train.csv"
FIRST_NAMES = ["Amara", "Bastian", "Chiara", "Dmitri", "Elif", "Farid", "Greta", "Hiroshi"]
FIRST_NAMES += ["Ines", "Jonas", "Kalani", "Leopold", "Marisol", "Nnamdi", "Oksana", "Priya"]
LAST_NAMES = ["Abernathy", "Bergstrom", "Castellanos", "Dunmore", "Eriksen", "Fairweather"]
LAST_NAMES += ["Gallagher", "Halvorsen", "Iwasaki", "Jankowski", "Kowalczyk", "Lindqvist"]
LAST_NAMES += ["Mbeki", "Nakashima", "Ortega", "Pellegrini"]
# Searched for in the search scenarios; none is in any seeded text.
NO_HIT = "zzqx-nohit"
PHRASE = "exchange rate"
COMMON = "card"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_create(server_url: str, *, keep: str = "") -> tuple[str, str]:
    """A fresh database on the server DATABASE_URL names (or the kept one, created if it
    is not there yet); returns (its URL, its name)."""
    name = f"caseloop_bench_{keep}" if keep else f"caseloop_bench_{os.getpid()}_{int(time.time())}"
    parts = urlsplit(server_url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    if not (keep and database_exists(server_url, name)):
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "pgdb.py"), "create", admin_url, name],
            check=True,
        )
    return urlunsplit(parts._replace(path=f"/{name}")), name


def database_exists(server_url: str, name: str) -> bool:
    import psycopg

    admin_url = urlunsplit(urlsplit(server_url)._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            is not None
        )


def desk_kept(keep: str, *, server_url: str, cases: int) -> dict | None:
    """What the kept desk NAME was seeded with, when it can be measured again as it is (same
    size, same database server); None when it must be seeded (again). A desk that cannot
    be reused is dropped here."""
    data_dir = Path(tempfile.gettempdir()) / f"caseloop-bench-{keep}"
    desk = data_dir / "desk.json"
    info = json.loads(desk.read_text()) if desk.exists() else None
    vendor = "postgresql" if server_url else "sqlite"
    name = f"caseloop_bench_{keep}"
    usable = (
        info is not None
        and info["max_case_id"] == cases
        and info["vendor"] == vendor
        and (not server_url or database_exists(server_url, name))
    )
    if usable:
        return info
    if server_url:
        database_drop(server_url, name)
    return None


def database_drop(server_url: str, name: str) -> None:
    admin_url = urlunsplit(urlsplit(server_url)._replace(path="/postgres"))
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "pgdb.py"), "drop", admin_url, name], check=False
    )


# -- seeding -------------------------------------------------------------------------------


def table_fill(model, names: list[str], rows, *, now) -> int:
    """Insert `rows` (tuples for the columns `names`) into the model's table as fast as the
    database allows: COPY on PostgreSQL, executemany on SQLite. Columns not named get the
    field's default (timestamps: `now`), so fields added later do not break the benchmark.
    Generated columns are the database's to compute and are never written."""
    from django.db import connection

    columns, fixed = list(names), []
    for field in model._meta.concrete_fields:
        if field.generated:
            if field.column in names:
                raise RuntimeError(f"{model.__name__}.{field.name} is a generated column")
            continue
        if field.column in names or field.primary_key:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        elif field.has_default():
            value = field.get_default()
        elif field.null:
            value = None
        elif field.get_internal_type() in ("CharField", "TextField", "SlugField"):
            value = ""
        else:
            raise RuntimeError(f"no value for {model.__name__}.{field.name}")
        columns.append(field.column)
        fixed.append(db_value(value))
    constants = tuple(fixed)
    table = model._meta.db_table
    count = 0
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        with (
            connection.connection.cursor() as cursor,
            cursor.copy(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row + constants)
                count += 1
    else:
        placeholders = ", ".join(["%s"] * len(columns))
        sql = (
            f"INSERT INTO {connection.ops.quote_name(table)} "
            f"({', '.join(connection.ops.quote_name(c) for c in columns)}) VALUES ({placeholders})"
        )
        batch = []
        with connection.cursor() as cursor:
            for row in rows:
                batch.append(row + constants)
                if len(batch) >= 10_000:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                count += len(batch)
    return count


def db_value(value):
    """A Python value in the form both COPY (text) and sqlite3 accept."""
    from datetime import datetime

    from django.db import connection

    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, datetime):
        if connection.vendor == "postgresql":
            return value.isoformat()
        return connection.ops.adapt_datetimefield_value(value)
    return value


def corpus_read(rng: random.Random) -> tuple[list[str], list[str], str]:
    """(texts for subjects, texts for first messages, a word only the latter hold). BANKING77
    split in two, so some words are in messages and never in a subject; generated
    sentences when the data set is absent."""
    import csv

    texts: list[str] = []
    if BANKING77.exists():
        with BANKING77.open(newline="", encoding="utf-8") as handle:
            texts = [row["text"].strip() for row in csv.DictReader(handle) if row["text"].strip()]
    if not texts:
        nouns = ["card", "transfer", "refund", "payment", "account", "pin", "fee", "app"]
        verbs = ["declined", "missing", "pending", "blocked", "charged twice", "delayed"]
        texts = [
            f"My {rng.choice(nouns)} is {rng.choice(verbs)}, what is the {PHRASE} today?"
            if n % 7 == 0
            else f"My {rng.choice(nouns)} {n} is {rng.choice(verbs)} since {rng.choice(nouns)}"
            for n in range(2000)
        ]
        texts += [f"Is the courier wobbling {n}?" for n in range(5)]
    rng.shuffle(texts)
    subjects, messages = texts[0::2], texts[1::2]

    def words(text: str) -> set[str]:
        return set(re.findall(r"[a-z]{5,}", text.lower()))

    in_subjects = set().union(*map(words, subjects))
    counts: dict[str, int] = {}
    for text in messages:
        for word in words(text) - in_subjects:
            counts[word] = counts.get(word, 0) + 1
    only_in_messages = max(sorted(counts), key=lambda w: counts[w]) if counts else "wobbling"
    return subjects, messages, only_in_messages


def rare_word(subjects: list[str]) -> str:
    """A word of exactly one subject text, so about cases/len(subjects) cases hold it."""
    counts: dict[str, int] = {}
    for text in subjects:
        for word in set(re.findall(r"[a-z]{7,}", text.lower())):
            counts[word] = counts.get(word, 0) + 1
    once = sorted(word for word, n in counts.items() if n == 1)
    return once[len(once) // 2] if once else "wobbling"


def seed(*, cases: int, rng: random.Random) -> dict:
    """Teams and agents through the services; customers, cases, messages and events as bulk
    rows, then the message search index. Returns what the load generator needs (a token,
    team slugs, the id range, the words to search for)."""
    import django
    from django.core.management import call_command

    django.setup()
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from caseloop.accounts.models import Team
    from caseloop.accounts.services import token_issue, user_create
    from caseloop.cases.models import Case, CaseEvent, Category, Message
    from caseloop.customers.models import ContactPoint, Customer
    from caseloop.knowledge.search import messages_backfill

    subjects, texts, only_in_messages = corpus_read(rng)
    began = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrated = time.perf_counter() - began
    agents = [user_create(username=f"bench-agent-{i}", role="agent") for i in range(8)]
    agent_ids = [a.pk for a in agents]
    teams = []
    for slug in ["billing", "orders-delivery", "technical-support", "escalations"]:
        team = Team.objects.create(name=slug.replace("-", " ").title(), slug=slug)
        team.members.add(*agents[:4])
        teams.append(team)
    team_ids = [t.pk for t in teams]
    category_ids = [
        Category.objects.create(name=name, slug=name.lower()).pk
        for name in ["Billing", "Delivery", "Returns", "Technical", "Account"]
    ]
    customer_count = max(10, cases // 5)
    now = timezone.now()
    stamp = db_value(now)
    empty = json.dumps({})

    def case_rows():
        for pk in range(1, cases + 1):
            status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
            fresh = status == "new"
            yield (
                pk,
                rng.choice(subjects)[:300],
                rng.randint(1, customer_count),
                rng.choice(["email", "web", "chat", "phone", "api"]),
                status,
                rng.choice(["low", "normal", "normal", "high", "urgent"]),
                None if fresh else rng.choice(team_ids),
                None if fresh else rng.choice(category_ids),
                None if fresh else agent_ids[pk % len(agent_ids)],
                stamp,
            )

    def owned(pk: int) -> int | None:
        return agent_ids[pk % len(agent_ids)]

    def message_rows():
        for pk in range(1, cases + 1):
            yield (pk, "inbound", "email", rng.choice(texts), None, stamp)
            if pk % 10 >= 1:
                yield (pk, "outbound", "email", "Thanks, we're on it.", owned(pk), stamp)

    def event_rows():
        for pk in range(1, cases + 1):
            yield (pk, None, "created", json.dumps({"after": {"status": "new"}}), stamp)
            yield (pk, None, "message_added", empty, stamp)
            if pk % 10 >= 1:
                yield (pk, owned(pk), "owner_assigned", json.dumps({"after": owned(pk)}), stamp)
                yield (pk, owned(pk), "message_added", empty, stamp)

    with transaction.atomic():
        table_fill(
            Customer,
            ["id", "name"],
            ((i, customer_name(i)) for i in range(1, customer_count + 1)),
            now=now,
        )
        table_fill(
            ContactPoint,
            ["customer_id", "kind", "value", "is_primary"],
            ((i, "email", f"bench{i}@example.com", True) for i in range(1, customer_count + 1)),
            now=now,
        )
        table_fill(
            Case,
            [
                "id",
                "subject",
                "customer_id",
                "channel",
                "status",
                "priority",
                "team_id",
                "category_id",
                "owner_id",
                "last_customer_message_at",
            ],
            case_rows(),
            now=now,
        )
        messages = table_fill(
            Message,
            ["case_id", "direction", "channel", "text", "author_user_id", "created_at"],
            message_rows(),
            now=now,
        )
        events = table_fill(
            CaseEvent,
            ["case_id", "actor_id", "kind", "data", "created_at"],
            event_rows(),
            now=now,
        )
    # Explicit ids were inserted: move the sequences past them so new rows get fresh ids.
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [Case, Customer]):
            cursor.execute(statement)
    seeded = time.perf_counter()
    indexed = messages_backfill()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    token = token_issue(user=agents[0], name="bench")
    info = {
        "vendor": connection.vendor,
        "token": token,
        "teams": [t.slug for t in teams],
        "max_case_id": cases,
        "customers": customer_count,
        "messages": messages,
        "events": events,
        "migrate_seconds": round(migrated, 1),
        "message_index_seconds": round(time.perf_counter() - seeded, 1),
        "messages_indexed": indexed,
        "search": {
            "common": COMMON,
            "phrase": PHRASE,
            "rare": rare_word(subjects),
            "nohit": NO_HIT,
            "customer": customer_name(customer_count // 2),
            "message": only_in_messages,
        },
    }
    connection.close()
    return info


def customer_name(i: int) -> str:
    """A first name and two family names: one of 4,096 names, so on a large desk a name is
    shared by a few dozen customers, as real names are."""
    first, rest = FIRST_NAMES[i % 16], i // 16
    return f"{first} {LAST_NAMES[rest % 16]} {LAST_NAMES[(rest // 16) % 16]}"


def desk_refresh() -> dict:
    """A kept desk brought up to date before measuring it again: migrated, every message
    indexed, statistics fresh. Returns how long that took."""
    import django
    from django.core.management import call_command

    django.setup()
    from django.db import connection

    from caseloop.knowledge.search import messages_backfill

    began = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    indexed = messages_backfill()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()
    return {"refresh_seconds": round(time.perf_counter() - began, 1), "messages_indexed": indexed}


def query_plans(info: dict) -> dict:
    """The database's plan (and, on PostgreSQL, timing) for the queries the API runs,
    searches included (each statement a search runs, in order)."""
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Subquery
    from django.test.utils import CaptureQueriesContext

    from caseloop.accounts.models import Team, User
    from caseloop.cases import selectors

    user = User.objects.get(username="bench-agent-0")
    team_slug, middle = info["teams"][0], info["max_case_id"] // 2
    cases = selectors.case_visible_to(user=user)
    # The same filter the list selector builds: the team's id as a scalar subquery.
    team = Subquery(Team.objects.filter(slug=team_slug).values("id")[:1])
    queries = {
        "list": cases.order_by("-id")[:51],
        "filtered_list": cases.filter(status__in=["open"], team_id=team).order_by("-id")[:51],
        # No seeded case is both new and in a team: the worst case for a filtered list.
        "filtered_list_no_match": cases.filter(status__in=["new"], team_id=team).order_by("-id")[
            :51
        ],
        "deep_page": cases.filter(pk__lt=middle).order_by("-id")[:51],
        "detail": cases.filter(pk=middle),
        "events": selectors.case_events(case=cases.get(pk=middle)),
    }
    analyze = connection.vendor == "postgresql"
    plans = {
        name: (query.explain(analyze=True) if analyze else query.explain()).splitlines()
        for name, query in queries.items()
    }
    prefix = "EXPLAIN (ANALYZE) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    for kind, q in info["search"].items():
        with CaptureQueriesContext(connection) as captured:
            selectors.case_list(user=user, filters=selectors.CaseFilters(q=q), limit=50)
        lines: list[str] = []
        with connection.cursor() as cursor:
            for statement in captured.captured_queries:
                sql = statement["sql"]
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute(prefix + sql)
                lines.append("-- " + sql[:300])
                lines += [
                    str(row[-1] if connection.vendor == "sqlite" else row[0]) for row in cursor
                ]
        plans[f"search_{kind}"] = lines
    connection.close()
    return plans


# -- load ----------------------------------------------------------------------------------


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def cursor_for(pk: int) -> str:
    return base64.urlsafe_b64encode(str(pk).encode()).decode().rstrip("=")


async def scenario_run(
    *, base: str, token: str, name: str, make_request, duration: float, concurrency: int
) -> dict:
    import httpx

    latencies: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=60
    ) as client:
        for _ in range(min(20, concurrency * 2)):  # warm-up: connections, caches
            await make_request(client)
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = await make_request(client)
                    ok = response.status_code < 400
                    key = str(response.status_code)
                except httpx.HTTPError as exc:
                    ok, key = False, type(exc).__name__
                elapsed = time.perf_counter() - started
                if ok:
                    latencies.append(elapsed * 1000)
                else:
                    errors[key] = errors.get(key, 0) + 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else 0.0,
    }


def scenarios(info: dict, rng: random.Random) -> dict:
    max_id, teams = info["max_case_id"], info["teams"]

    async def create(client):
        n = rng.randint(1, info["customers"])
        return await client.post(
            "/api/v1/cases",
            json={
                "customer": {"email": f"bench{n}@example.com"},
                "subject": f"Parcel {rng.randint(1000, 99999)} is late",
                "message": {"text": "The tracking has not moved for four days."},
                "channel": "email",
            },
        )

    async def list_(client):
        return await client.get("/api/v1/cases")

    async def filtered(client):
        status = rng.choice(["open", "pending_customer", "solved"])
        return await client.get(
            "/api/v1/cases", params={"status": status, "team": rng.choice(teams)}
        )

    async def deep_page(client):
        return await client.get(
            "/api/v1/cases", params={"cursor": cursor_for(rng.randint(2, max_id))}
        )

    async def detail(client):
        return await client.get(f"/api/v1/cases/{rng.randint(1, max_id)}")

    def search(kind: str):
        async def run(client):
            return await client.get("/api/v1/cases", params={"q": info["search"][kind]})

        return run

    return {
        "create": create,
        "list": list_,
        "filtered_list": filtered,
        "deep_page": deep_page,
        "detail": detail,
        **{f"search_{kind}": search(kind) for kind in info["search"]},
    }


# -- counting the server's SQL ----------------------------------------------------------------


def sql_counting_install(directory: str) -> None:
    """Count, in this process, every SQL statement Django runs and every request it finishes;
    a daemon thread writes both to `<directory>/<pid>.json` a few times a second."""
    import threading

    from django.core.signals import request_finished
    from django.db.backends.signals import connection_created

    lock = threading.Lock()
    counts = {"statements": 0, "requests": 0}

    def statement(execute, sql, params, many, context):
        with lock:
            counts["statements"] += 1
        return execute(sql, params, many, context)

    def connected(sender, connection, **kwargs) -> None:
        if statement not in connection.execute_wrappers:
            connection.execute_wrappers.append(statement)

    def finished(sender, **kwargs) -> None:
        with lock:
            counts["requests"] += 1

    connection_created.connect(connected, weak=False)
    request_finished.connect(finished, weak=False)
    path = Path(directory) / f"{os.getpid()}.json"

    def flush() -> None:
        while True:
            with lock:
                text = json.dumps(counts)
            path.with_suffix(".tmp").write_text(text)
            path.with_suffix(".tmp").replace(path)
            time.sleep(0.1)

    threading.Thread(target=flush, daemon=True).start()


def sql_counts(directory: Path) -> tuple[int, int]:
    """(statements, requests) summed over the server's processes, once their counters have
    been written after the last request."""
    time.sleep(0.5)
    statements = requests = 0
    for path in directory.glob("*.json"):
        counts = json.loads(path.read_text())
        statements += counts["statements"]
        requests += counts["requests"]
    return statements, requests


def serve_counting(argv: list[str]) -> None:
    """`caseloop serve` with SQL counting in this process (and, through the spawn start
    method, in uvicorn's worker processes, which import this module as __mp_main__)."""
    sys.path.insert(0, str(ROOT / "src"))
    from caseloop.cli import main as caseloop_main

    sql_counting_install(os.environ[SQL_COUNT_DIR])
    sys.argv = ["caseloop", *argv]
    caseloop_main()


if __name__ == "__mp_main__" and os.environ.get(SQL_COUNT_DIR):
    sql_counting_install(os.environ[SQL_COUNT_DIR])


def server_start(*, port: int, env: dict, workers: int, log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--serve-counting",
        "serve",
        "--no-jobs",
        "--no-migrate",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    # The log goes to a file: an undrained pipe would stall the server once it fills.
    with log.open("ab") as sink:
        return subprocess.Popen(
            command, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )


def server_wait(base: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited: " + log.read_text()[-2000:])
        try:
            if httpx.get(base + "/api/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not answer in time")


def process_cpu_seconds(pid: int) -> float | None:
    """CPU time used by the server process and every process under it (uvicorn's workers,
    alive or reaped; Linux /proc), or None."""

    def stat(process: int) -> list[str] | None:
        try:
            return Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None

    root = stat(pid)
    if root is None:
        return None
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := stat(int(entry.name))) is not None:
            parents[int(entry.name)] = (int(fields[1]), fields)
    ticks = sum(int(value) for value in root[11:15])  # utime stime cutime cstime
    for process, (parent, fields) in parents.items():
        ancestor = parent
        while ancestor not in (pid, 0, 1) and ancestor in parents:
            ancestor = parents[ancestor][0]
        if ancestor == pid and process != pid:
            ticks += int(fields[11]) + int(fields[12])  # utime stime
    return ticks / os.sysconf("SC_CLK_TCK")


def errors_from_log(log: Path) -> list[str]:
    """The last distinct error lines of the server log, to say why requests failed."""
    lines = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if "Error" in line or "Exception" in line
    ]
    return list(dict.fromkeys(lines))[-10:]


def server_stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> None:
    if sys.argv[1:2] == ["--serve-counting"]:
        serve_counting(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--explain", action="store_true", help="add the query plans")
    parser.add_argument("--server-log", default="", help="keep the server's log at this path")
    parser.add_argument(
        "--keep",
        default="",
        metavar="NAME",
        help="keep the seeded desk under NAME and reuse it on the next run with NAME",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)

    sys.path.insert(0, str(ROOT / "src"))
    server_url = os.environ.get("DATABASE_URL", "")
    kept = desk_kept(args.keep, server_url=server_url, cases=args.cases) if args.keep else None
    if args.keep:
        data_dir = Path(tempfile.gettempdir()) / f"caseloop-bench-{args.keep}"
        if kept is None:
            shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(exist_ok=True)
    else:
        data_dir = Path(tempfile.mkdtemp(prefix="caseloop-bench-"))
    db_name = ""
    env = {
        **os.environ,
        "CASELOOP_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "caseloop.settings",
        "LOG_LEVEL": "WARNING",
        "CASELOOP_SECURE_COOKIES": "0",
        SQL_COUNT_DIR: str(data_dir / "sql-counts"),
    }
    shutil.rmtree(data_dir / "sql-counts", ignore_errors=True)
    (data_dir / "sql-counts").mkdir()
    (data_dir / "server.log").unlink(missing_ok=True)
    env.pop("REDIS_URL", None)
    process = None
    try:
        if server_url:
            env["DATABASE_URL"], db_name = database_create(server_url, keep=args.keep)
        os.environ.update(env)
        os.environ.pop("REDIS_URL", None)
        began = time.perf_counter()
        if kept is None:
            info = seed(cases=args.cases, rng=rng)
            if args.keep:
                (data_dir / "desk.json").write_text(json.dumps(info))
        else:
            info = {**kept, **desk_refresh(), "migrate_seconds": 0.0}
        seed_seconds = time.perf_counter() - began
        plans = query_plans(info) if args.explain else {}
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = data_dir / "server.log"
        process = server_start(port=port, env=env, workers=args.workers, log=log)
        server_wait(base, process, log)
        chosen = scenarios(info, rng)
        if args.only:
            chosen = {k: v for k, v in chosen.items() if k in args.only.split(",")}
        results = {}
        for name, make_request in chosen.items():
            statements_before, requests_before = sql_counts(data_dir / "sql-counts")
            cpu_before = process_cpu_seconds(process.pid)
            results[name] = asyncio.run(
                scenario_run(
                    base=base,
                    token=info["token"],
                    name=name,
                    make_request=make_request,
                    duration=args.duration,
                    concurrency=args.concurrency,
                )
            )
            cpu_after = process_cpu_seconds(process.pid)
            statements_after, requests_after = sql_counts(data_dir / "sql-counts")
            if requests_after > requests_before:
                # Per request as the server saw it, warm-up requests included.
                results[name]["sql_per_request"] = round(
                    (statements_after - statements_before) / (requests_after - requests_before), 1
                )
            served = results[name]["requests"] + sum(results[name]["errors"].values())
            if cpu_before is not None and cpu_after is not None and served:
                # Load-independent cost: what each request took of the server's CPU (warm-up
                # requests included), useful when the machine is shared.
                warm = min(20, args.concurrency * 2)
                results[name]["server_cpu_ms_per_request"] = round(
                    (cpu_after - cpu_before) * 1000 / (served + warm), 1
                )
        report = {
            "benchmark": "api",
            "db_vendor": info["vendor"],
            "cases": args.cases,
            "messages": info["messages"],
            "events": info["events"],
            "migrate_seconds": info["migrate_seconds"],
            "seed_seconds": round(seed_seconds - info["migrate_seconds"], 1),
            "reused_kept_desk": kept is not None,
            "searched_for": info["search"],
            "concurrency": args.concurrency,
            "duration_s_per_scenario": args.duration,
            "server_workers": args.workers,
            "cpu_count": os.cpu_count(),
            "scenarios": results,
        }
        if args.explain:
            report["plans"] = plans
        if any(r["errors"] for r in results.values()):
            report["server_log_tail"] = errors_from_log(log)
        print(json.dumps(report, indent=2))
    finally:
        if process is not None:
            server_stop(process)
        if args.server_log and (data_dir / "server.log").exists():
            shutil.copy(data_dir / "server.log", args.server_log)
        if not args.keep:
            if db_name:
                database_drop(server_url, db_name)
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
