"""Knowledge-base retrieval quality and search latency, through the desk's own search.

Quality: every banking77 intent becomes one published article (title from the intent name,
body from a handful of its questions); held-out questions of each intent are the queries; a
hit is the article of the question's own intent. Reports recall@1, recall@5 and MRR for
full-text search alone, with the meaning ranker, and with the desk's history too.

The desk's history: other questions of each intent (never a query, never in an article body)
become solved cases, each with an agent's "used" verdict on its intent's article, as a desk
records when an article solved a case. The retrieval index is built from the articles and
that history by the job the desk runs (`retrieval_rebuild`).

Latency: with 10,000 more articles and 1,000,000 case messages (synthetic but varied text,
bulk-loaded, then indexed by the production indexer), p50/p95 of `search_articles` and
`search_messages`.

Each database runs in its own process with its own database (SQLite in a temporary data
directory; PostgreSQL in a database created and dropped by this script):

    .venv/bin/python bench/kb_eval.py                       # both, full size
    .venv/bin/python bench/kb_eval.py --db sqlite --messages 50000   # quick run

Prints JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "banking77"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"


def load_intents(seed: int, body_questions: int, eval_per_intent: int, history_per_intent: int):
    by_intent: dict[str, list[str]] = defaultdict(list)
    with open(DATA / "train.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            by_intent[row["category"]].append(row["text"].strip())
    rng = random.Random(seed)
    articles, queries, history = {}, [], []
    for intent in sorted(by_intent):
        questions = by_intent[intent][:]
        rng.shuffle(questions)
        articles[intent] = questions[:body_questions]
        held_out = questions[body_questions:]
        queries += [(q, intent) for q in held_out[:eval_per_intent]]
        answered = held_out[eval_per_intent:]
        if history_per_intent >= 0:
            answered = answered[:history_per_intent]
        history += [(q, intent) for q in answered]
    return articles, queries, history


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def timed(fn, queries) -> dict:
    times = []
    for query in queries:
        start = time.perf_counter()
        fn(query)
        times.append((time.perf_counter() - start) * 1000)
    return {
        "queries": len(times),
        "p50_ms": round(percentile(times, 50), 2),
        "p95_ms": round(percentile(times, 95), 2),
        "mean_ms": round(statistics.fmean(times), 2) if times else 0.0,
    }


def _row_values(model, values: dict) -> tuple[list[str], list]:
    """Column names and values for a bulk insert, defaults filled for every other column;
    generated columns are the database's to compute."""
    columns, row = [], []
    for field in model._meta.concrete_fields:
        if field.generated or (field.primary_key and field.attname not in values):
            continue
        columns.append(field.column)
        if field.attname in values:
            value = values[field.attname]
        elif field.null:
            value = None
        elif field.has_default():
            value = field.get_default()
        else:
            value = ""
        if isinstance(value, dict | list):
            value = json.dumps(value)
        row.append(value)
    return columns, row


def bulk_insert(model, rows: list[dict], *, connection) -> None:
    """Insert many rows fast: COPY on PostgreSQL, executemany in one transaction on SQLite."""
    if not rows:
        return
    columns, _ = _row_values(model, rows[0])
    table = model._meta.db_table
    data = [_row_values(model, row)[1] for row in rows]
    if connection.vendor == "postgresql":
        raw = connection.connection
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for values in data:
                copy.write_row(values)
    else:
        marks = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", data)


def worker(args) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseloop.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from caseloop.accounts.models import Role
    from caseloop.accounts.services import user_create
    from caseloop.cases.models import Case, Message
    from caseloop.customers.models import Customer
    from caseloop.knowledge import search
    from caseloop.knowledge.models import Article, Audience, Kind, State, SuggestionFeedback
    from caseloop.knowledge.search import text as search_text
    from caseloop.knowledge.services import article_create, article_transition, markdown_render
    from caseloop.lib.html import html_to_text

    call_command("migrate", verbosity=0, interactive=False)
    agent = user_create(
        username="bench-agent", email="bench@desk.test", role=Role.AGENT, password=None
    )
    rng = random.Random(args.seed)
    result: dict = {"database": connection.vendor}

    # 1. Retrieval quality on the labelled set, through the production search path.
    intents, queries, history = load_intents(
        args.seed, args.body_questions, args.eval_per_intent, args.history_per_intent
    )
    article_of: dict[int, str] = {}
    for intent, questions in intents.items():
        body = "Customers ask about this:\n\n" + "\n".join(f"- {q}" for q in questions) + "\n"
        article = article_create(
            title=intent.replace("_", " ").capitalize(),
            body=body,
            actor=agent,
            kind=Kind.FAQ,
            audience=Audience.PUBLIC,
        )
        article_transition(article=article, to=State.REVIEW, actor=agent)
        article_transition(article=article, to=State.PUBLISHED, actor=agent)
        article_of[article.pk] = intent

    # The desk's history: a solved case per answered question, the article marked as used.
    now = timezone.now()
    article_id_of = {intent: pk for pk, intent in article_of.items()}
    history_customer = Customer.objects.create(name="Bench history customer")
    with transaction.atomic():
        first_case = Case.objects.order_by("-id").values_list("id", flat=True).first() or 0
        bulk_insert(
            Case,
            [
                {
                    "subject": "",
                    "customer_id": history_customer.pk,
                    "channel": "webform",
                    "status": "solved",
                    "priority": "normal",
                    "created_at": now,
                    "updated_at": now,
                }
                for _ in history
            ],
            connection=connection,
        )
        history_cases = list(
            Case.objects.filter(id__gt=first_case).order_by("id").values_list("id", flat=True)
        )
        bulk_insert(
            Message,
            [
                {
                    "case_id": case_id,
                    "direction": "inbound",
                    "channel": "webform",
                    "text": question,
                    "created_at": now,
                }
                for case_id, (question, _) in zip(history_cases, history, strict=True)
            ],
            connection=connection,
        )
        bulk_insert(
            SuggestionFeedback,
            [
                {
                    "case_id": case_id,
                    "article_id": article_id_of[intent],
                    "verdict": "used",
                    "user_id": agent.pk,
                    "created_at": now,
                }
                for case_id, (_, intent) in zip(history_cases, history, strict=True)
            ],
            connection=connection,
        )
    result["history_cases"] = len(history_cases)

    rankers = {
        "text": {"text": 1.0, "meaning": 0.0, "history": 0.0},
        "text+meaning": {"text": 1.0, "meaning": 1.0, "history": 0.0},
        "text+meaning+history": dict(search.FUSION_WEIGHTS),
    }

    def quality() -> dict:
        r1 = r5 = mrr = 0.0
        for question, intent in queries:
            hits = search.search_articles(question, audience="public", limit=10)
            ranks = [i for i, hit in enumerate(hits, 1) if article_of.get(hit.article_id) == intent]
            rank = ranks[0] if ranks else None
            if rank == 1:
                r1 += 1
            if rank is not None and rank <= 5:
                r5 += 1
            if rank is not None:
                mrr += 1 / rank
        n = len(queries) or 1
        return {
            "articles": Article.objects.count(),
            "queries": len(queries),
            "recall_at_1": round(r1 / n, 4),
            "recall_at_5": round(r5 / n, 4),
            "mrr": round(mrr / n, 4),
        }

    def each_ranking(measure) -> dict:
        out = {}
        for name, weights in rankers.items():
            search.FUSION_WEIGHTS.update(weights)
            out[name] = measure()
        search.FUSION_WEIGHTS.update(rankers["text+meaning+history"])
        return out

    started = time.perf_counter()
    model = search.retrieval_rebuild(force=True)
    result["index_build_s"] = round(time.perf_counter() - started, 1)
    result["index_encoder"] = model.encoder if model else ""
    result["quality"] = each_ranking(quality)

    # 2. Latency with many articles: synthetic but varied text, indexed by the production code.
    vocabulary = sorted({w for qs in intents.values() for q in qs for w in search_text.words(q)})
    all_questions = [q for qs in intents.values() for q in qs] + [q for q, _ in queries]
    topics = [
        "account",
        "card",
        "transfer",
        "payment",
        "refund",
        "fee",
        "app",
        "identity",
        "limit",
        "currency",
        "statement",
        "pin",
        "top",
        "cash",
        "beneficiary",
    ]
    started = time.perf_counter()
    rows = []
    for i in range(args.articles):
        topic = rng.choice(topics)
        title = f"{topic.capitalize()} {' '.join(rng.sample(vocabulary, 3))} ({i})"
        # Words of the domain but never the labelled questions themselves, so the distractors
        # compete on vocabulary without containing a held-out query.
        body = "\n\n".join(" ".join(rng.sample(vocabulary, n)) + "." for n in (12, 10, 20))
        body_html = markdown_render(body)
        rows.append(
            {
                "title": title,
                "slug": f"synthetic-{i}",
                "body": body,
                "body_html": body_html,
                "body_text": html_to_text(body_html),
                "kind": rng.choice(Kind.values),
                "audience": rng.choice(Audience.values),
                "language": "en",
                "state": State.PUBLISHED,
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "published_at": now,
            }
        )
    with transaction.atomic():
        first_id = Article.objects.order_by("-id").values_list("id", flat=True).first() or 0
        bulk_insert(Article, rows, connection=connection)
        new_ids = list(Article.objects.filter(id__gt=first_id).values_list("id", flat=True))
        search.articles_reindex(article_ids=new_ids)
    result["articles_load_s"] = round(time.perf_counter() - started, 1)
    result["articles_total"] = Article.objects.count()
    started = time.perf_counter()
    search.retrieval_rebuild()
    result["index_rebuild_with_distractors_s"] = round(time.perf_counter() - started, 1)
    result["quality_with_distractors"] = each_ranking(quality)
    latency_queries = [q for q, _ in rng.sample(queries, min(args.latency_queries, len(queries)))]
    result["search_articles_latency"] = each_ranking(
        lambda: timed(
            lambda q: search.search_articles(q, audience="public", limit=10), latency_queries
        )
    )
    result["search_articles_typeahead_latency"] = timed(
        lambda q: search.search_articles(q[:12], audience="public", limit=5, prefix=True),
        latency_queries,
    )

    # 3. Latency with many case messages, bulk-loaded then indexed by the backfill.
    started = time.perf_counter()
    customers = [Customer.objects.create(name=f"Bench customer {i}") for i in range(50)]
    per_case = 10
    n_cases = max(1, args.messages // per_case)
    with transaction.atomic():
        bulk_insert(
            Case,
            [
                {
                    "subject": rng.choice(all_questions)[:300],
                    "customer_id": rng.choice(customers).pk,
                    "channel": "email",
                    "status": rng.choice(["open", "solved", "closed", "pending_customer"]),
                    "priority": "normal",
                    "created_at": now,
                    "updated_at": now,
                }
                for _ in range(n_cases)
            ],
            connection=connection,
        )
    case_ids = list(Case.objects.exclude(pk__in=history_cases).values_list("id", flat=True))
    fillers = [
        "order",
        "invoice",
        "parcel",
        "yesterday",
        "urgent",
        "again",
        "thanks",
        "help",
        "branch",
        "phone",
        "email",
        "website",
        "weekend",
        "manager",
        "screenshot",
    ]
    batch: list[dict] = []
    loaded = 0
    for case_id in case_ids:
        for j in range(per_case):
            text = " ".join(
                [
                    rng.choice(all_questions),
                    " ".join(rng.sample(fillers, 3)),
                    f"Ref {rng.randrange(10**6, 10**7)}.",
                    rng.choice(all_questions) if rng.random() < 0.5 else "",
                ]
            )
            batch.append(
                {
                    "case_id": case_id,
                    "direction": "inbound" if j % 2 == 0 else "outbound",
                    "channel": "email",
                    "text": text,
                    "created_at": now,
                }
            )
        if len(batch) >= 50000:
            with transaction.atomic():
                bulk_insert(Message, batch, connection=connection)
            loaded += len(batch)
            batch = []
    if batch:
        with transaction.atomic():
            bulk_insert(Message, batch, connection=connection)
        loaded += len(batch)
    result["messages_load_s"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    with transaction.atomic():
        indexed = search.messages_backfill(batch=50000)
    result["messages_index_s"] = round(time.perf_counter() - started, 1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    result["messages_total"] = Message.objects.count()
    result["messages_indexed"] = indexed
    keyword_queries = []
    for question in latency_queries:
        terms = search_text.query_terms(question)
        keyword_queries.append(" ".join(rng.sample(terms, min(2, len(terms)))) or question)
    result["search_messages_latency"] = timed(
        lambda q: search.search_messages(q, user=agent, limit=20), keyword_queries
    )
    result["search_messages_question_latency"] = timed(
        lambda q: search.search_messages(q, user=agent, limit=20), latency_queries[:100]
    )
    return result


def pgdb(action: str, server: str, name: str) -> None:
    """Create or drop a database of the benchmark's own with scripts/pgdb.py."""
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "pgdb.py"), action, f"{server}/postgres", name],
        check=True,
    )


def run_in_process(db: str, args) -> dict:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    data_dir = tempfile.mkdtemp(prefix="kb-bench-")
    env["CASELOOP_DATA_DIR"] = data_dir
    env["CASELOOP_JOBS_IMMEDIATE"] = "1"
    env["CASELOOP_KNOWLEDGE_EMBEDDINGS"] = "auto" if args.encoder == "sentences" else "off"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    name = f"kb_bench_{os.getpid()}"
    if db == "postgres":
        pgdb("drop", args.pg_server, name)
        pgdb("create", args.pg_server, name)
        env["DATABASE_URL"] = f"{args.pg_server}/{name}"
    try:
        command = [sys.executable, __file__, "--worker", *sys.argv[1:]]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return {"database": db, "error": done.stderr[-3000:]}
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if db == "postgres":
            pgdb("drop", args.pg_server, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--body-questions", type=int, default=8)
    parser.add_argument("--eval-per-intent", type=int, default=20)
    parser.add_argument(
        "--history-per-intent",
        type=int,
        default=-1,
        help="solved cases per article in the desk's history (-1: every question left)",
    )
    parser.add_argument(
        "--encoder",
        choices=["words", "sentences"],
        default="words",
        help="meaning ranker: TF-IDF with LSA, or sentence vectors (the embeddings extra)",
    )
    parser.add_argument("--latency-queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=77)
    parser.add_argument("--pg-server", default=PG_SERVER)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args)))
        return
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = {
        "data": "banking77",
        "articles": args.articles,
        "messages": args.messages,
        "body_questions_per_article": args.body_questions,
        "history_per_article": args.history_per_intent,
        "encoder": args.encoder,
        "runs": [run_in_process(db, args) for db in databases],
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
