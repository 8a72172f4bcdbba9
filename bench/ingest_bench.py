"""Email intake throughput: parse → dedupe → thread → store, on SQLite and on PostgreSQL.

    .venv/bin/python bench/ingest_bench.py [--messages 3000] [--postgres URL] [--no-postgres]

Generates realistic synthetic mail (new questions, replies threading by In-Reply-To and by
reply token, HTML alternatives, attachments, auto-replies, duplicate deliveries), runs each
message through the same pipeline the SMTP gateway, IMAP poller and webhooks use, and prints
JSON: messages per second and per-message p50/p95 latency, overall and per kind.

Each database runs in its own process on a fresh database: SQLite in a temporary data
directory, PostgreSQL in a database created for the run (scripts/pgdb.py) and dropped after.
The headline figures ("intake") are the pipeline's own: the after-commit reactions of other
apps are detached. "with_reactions" attaches them as a server runs them (acknowledgement and
mood inline, jobs queued for a worker, mail to memory).
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
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FIRST_NAMES = ["Ann", "Bob", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jon"]
LAST_NAMES = ["Lee", "Martin", "Novák", "Okafor", "Pérez", "Quinn", "Rossi", "Schmidt", "Tan"]
PRODUCTS = ["kettle", "toaster", "blender", "coffee grinder", "air fryer", "desk lamp", "fan"]
PROBLEMS = [
    "arrived with a cracked lid",
    "stopped working after two days",
    "was charged twice on my card",
    "never arrived although tracking says delivered",
    "is missing the power cable",
    "makes a loud rattling noise",
]
REPLIES = [
    "Thanks for the quick answer. A replacement would be great.",
    "I have attached a photo of the damage as you asked.",
    "The order number is {order}. Please let me know what else you need.",
    "Still waiting on this — any update?",
]


def _person(rng: random.Random, n: int) -> tuple[str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return f"{first} {last}", f"customer{n}@example.com"


def synthetic_mail(count: int, seed: int = 7) -> list[tuple[str, bytes]]:
    """(kind, raw bytes) in arrival order: ~55% new, ~25% replies, ~10% duplicates,
    the rest auto-replies and replies by token-less subject tag."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    sent: list[tuple[str, str, str, str]] = []  # (name, address, subject, message id)
    out: list[tuple[str, bytes]] = []
    while len(out) < count:
        roll = rng.random()
        when = start + timedelta(seconds=len(out) * 37)
        msg = EmailMessage()
        msg["Date"] = format_datetime(when)
        msg["To"] = "Support <support@bench.test>"
        if roll < 0.10 and out:
            kind, raw = out[rng.randrange(len(out))]
            out.append(("duplicate", raw))
            continue
        if roll < 0.35 and sent:
            name, address, subject, parent = sent[rng.randrange(len(sent))]
            kind = "reply"
            msg["From"] = f"{name} <{address}>"
            msg["Subject"] = f"Re: {subject}"
            msg["In-Reply-To"] = f"<{parent}>"
            msg["References"] = f"<{parent}>"
            body = rng.choice(REPLIES).format(order=rng.randint(10000, 99999))
            body += f"\n\nOn {format_datetime(when)} {name} wrote:\n> earlier message\n> more\n"
        elif roll < 0.40 and sent:
            name, address, subject, _ = sent[rng.randrange(len(sent))]
            kind = "auto_reply"
            msg["From"] = f"{name} <{address}>"
            msg["Subject"] = f"Automatic reply: {subject}"
            msg["Auto-Submitted"] = "auto-replied"
            body = "I am out of the office until Monday with limited access to email."
        else:
            kind = "new"
            name, address = _person(rng, len(out))
            product = rng.choice(PRODUCTS)
            subject = f"My {product} {rng.choice(PROBLEMS)}"
            msg["From"] = f"{name} <{address}>"
            msg["Subject"] = subject
            body = (
                f"Hello,\n\nI bought a {product} from you on {when:%d %B} and it "
                f"{rng.choice(PROBLEMS)}. Order {rng.randint(10000, 99999)}.\n\n"
                f"Could you help?\n\n-- \n{name}\n"
            )
        message_id = make_msgid(domain="mail.example.com").strip("<>")
        msg["Message-ID"] = f"<{message_id}>"
        msg.set_content(body)
        if rng.random() < 0.4:
            msg.add_alternative(
                "<html><body>"
                + "".join(f"<p>{line}</p>" for line in body.splitlines() if line)
                + "</body></html>",
                subtype="html",
            )
        if rng.random() < 0.1:
            msg.add_attachment(
                rng.randbytes(20_000), maintype="image", subtype="jpeg", filename="photo.jpg"
            )
        if kind == "new":
            sent.append((name, address, subject, message_id))
        out.append((kind, msg.as_bytes()))
    return out


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def worker(count: int, reactions: bool) -> dict:
    """Run inside a configured environment: migrate, ingest, measure. Without `reactions`
    the after-commit hooks of other apps (acknowledgement, triage, mood) are detached, so
    the figures are the intake pipeline's own."""
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseloop.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from caseloop.cases.models import Case, Message
    from caseloop.channels.email.services import email_ingest, mailbox_add
    from caseloop.channels.models import QuarantinedMessage

    if not reactions:
        from caseloop.cases import hooks

        hooks._case_created.callbacks.clear()
        hooks._message_added.callbacks.clear()
    mailbox = mailbox_add(address="support@bench.test", display_name="Bench Support")
    mail = synthetic_mail(count)
    timings: dict[str, list[float]] = {}
    outcomes = {"created": 0, "joined": 0, "duplicate": 0, "quarantined": 0}
    started = time.perf_counter()
    for kind, raw in mail:
        t0 = time.perf_counter()
        outcome = email_ingest(raw=raw, source="bench", mailbox=mailbox)
        elapsed = time.perf_counter() - t0
        timings.setdefault(kind, []).append(elapsed)
        if outcome.quarantined is not None:
            outcomes["quarantined"] += 1
        elif outcome.result.duplicate:
            outcomes["duplicate"] += 1
        elif outcome.result.created:
            outcomes["created"] += 1
        else:
            outcomes["joined"] += 1
    total = time.perf_counter() - started
    every = [t for values in timings.values() for t in values]
    return {
        "database": connection.vendor,
        "after_commit_reactions": reactions,
        "messages": len(mail),
        "seconds": round(total, 3),
        "msgs_per_s": round(len(mail) / total, 1),
        "p50_ms": round(statistics.median(every) * 1000, 2),
        "p95_ms": round(_percentile(every, 95) * 1000, 2),
        "by_kind": {
            kind: {
                "count": len(values),
                "p50_ms": round(statistics.median(values) * 1000, 2),
                "p95_ms": round(_percentile(values, 95) * 1000, 2),
            }
            for kind, values in sorted(timings.items())
        },
        "outcomes": outcomes,
        "cases": Case.objects.count(),
        "messages_stored": Message.objects.filter(direction="inbound").count(),
        "quarantined": QuarantinedMessage.objects.count(),
    }


def _run(count: int, database_url: str | None, reactions: bool) -> dict:
    env = {
        **os.environ,
        "CASELOOP_DATA_DIR": tempfile.mkdtemp(prefix="caseloop-bench-"),
        "CASELOOP_JOBS_IMMEDIATE": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "ERROR",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    result = subprocess.run(
        [sys.executable, __file__, "--worker", "--messages", str(count)]
        + (["--reactions"] if reactions else []),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1:] or ["failed"]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="A PostgreSQL server URL (its maintenance database); a bench database is created.",
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--with-reactions",
        type=int,
        default=300,
        help="Also run this many messages with the desk's after-commit reactions attached "
        "(acknowledgement, triage, mood; jobs queued as on a server); 0 skips it.",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--reactions", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.messages, args.reactions)))
        return
    databases = {"sqlite": None}
    if not args.no_postgres:
        databases["postgresql"] = args.postgres
    report: dict = {"benchmark": "email ingest: parse, dedupe, thread, store"}
    runs = [("intake", args.messages, False)]
    if args.with_reactions:
        runs.append(("with_reactions", args.with_reactions, True))
    for label, count, reactions in runs:
        report[label] = {}
        for vendor, url in databases.items():
            report[label][vendor] = _on_database(vendor, url, count, reactions)
    print(json.dumps(report, indent=2))


def _on_database(vendor: str, url: str | None, count: int, reactions: bool) -> dict:
    if url is None:
        return _run(count, None, reactions)
    server = url.rsplit("/", 1)[0]
    name = f"caseloop_ingest_bench_{os.getpid()}_{int(reactions)}"
    pgdb = [sys.executable, str(ROOT / "scripts" / "pgdb.py")]
    created = subprocess.run([*pgdb, "create", url, name], capture_output=True)
    if created.returncode != 0:
        return {"error": created.stderr.decode().strip()[-300:]}
    try:
        return _run(count, f"{server}/{name}", reactions)
    finally:
        subprocess.run([*pgdb, "drop", url, name], capture_output=True)


if __name__ == "__main__":
    main()
