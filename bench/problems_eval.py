"""Recurring-problem detection on real customer text (banking77): how well it finds bursts
of one kind of case across customers, and what grouping and linking at intake cost.

    .venv/bin/python bench/problems_eval.py                       # both representations
    .venv/bin/python bench/problems_eval.py --representation tfidf
    .venv/bin/python bench/problems_eval.py --seed 2 --bursts 8 --background-per-day 150
    .venv/bin/python bench/problems_eval.py --quick               # a tiny run (the smoke test)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/problems_eval.py                   # in a database of its own

A desk's background: `--background-per-day` cases a day from thousands of customers over
four weeks of history and `--weeks` weeks more, every intent at its share of the data set,
grouped into eight coarse categories (cards, transfers, top-ups...). On top of it,
`--bursts` bursts: 8 to 16 cases of one intent from as many customers within 2 to 6 hours,
at known times. Detection then runs every hour through the simulated weeks, as the
periodic job does, with each representation (TF-IDF; sentence embeddings when the extra
is installed), and the JSON gives:

- precision: the share of suggested problems whose cases are mostly one burst's, and the
  share of the cases linked to those problems that are that burst's;
- recall: the bursts a problem was suggested for; and the share of a burst's cases linked;
- time to detect: hours from a burst's first case to its suggestion;
- false suggestions per week of background;
- the cost of grouping `--scale-cases` recent cases (seconds, peak memory of the arrays);
- linking a new case at intake against `--intake-problems` known problems with
  `--intake-linked` cases each: p50/p95 ms per new case (the first call, which builds the
  index of linked cases, apart).

With DATABASE_URL the benchmark creates its own database on that server and drops it at
the end; otherwise SQLite in a temporary data directory.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "banking77"
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from api_bench import database_create, database_drop, table_fill  # noqa: E402

# Days of cases before detection starts: more than the baseline weeks detection reads.
HISTORY_DAYS = 28
# Coarse desk categories over banking77's 77 intents: the first rule an intent matches.
CATEGORY_RULES = [
    ("Top-ups", ("top_up", "topping_up")),
    ("Cash", ("cash", "atm")),
    ("Transfers", ("transfer", "beneficiary", "receiving_money", "direct_debit")),
    ("Exchange", ("exchange", "currenc", "fiat", "country")),
    ("Identity", ("verify", "identity", "personal_details", "age_limit", "passcode")),
    ("Cards", ("card", "pin", "contactless", "visa", "apple_pay")),
    ("Refunds", ("refund", "charged_twice")),
    ("Account", ("",)),
]
CLOSINGS = ["", "", "", "Thanks.", "Please help.", "Any update?", "Regards, {name}", "{name}"]
NAMES = ["Ana", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jon"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def category_of(intent: str) -> str:
    return next(name for name, keys in CATEGORY_RULES if any(k in intent for k in keys))


def load(path: Path) -> dict[str, list[str]]:
    with (path / "train.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    intents = json.loads((path / "categories.json").read_text())
    texts: dict[str, list[str]] = {intent: [] for intent in intents}
    for row in rows:
        texts[row["category"]].append(row["text"].strip())
    return {intent: found for intent, found in texts.items() if found}


def with_closing(text: str, rng: random.Random) -> str:
    closing = rng.choice(CLOSINGS).format(name=rng.choice(NAMES))
    return f"{text} {closing}".strip()


# --- the desk ------------------------------------------------------------------------------


def plan_desk(args, texts: dict[str, list[str]], rng: random.Random) -> dict:
    """Every case of the simulation: (created, customer, intent, text, burst or None)."""
    days = HISTORY_DAYS + args.detection_days
    start = datetime(2026, 1, 5, tzinfo=UTC)
    intents = sorted(texts)
    weights = [len(texts[i]) for i in intents]
    customers = max(50, args.background_per_day * days // 3)
    # Busier in the day than at night.
    hours = [0.3] * 7 + [1.0] * 3 + [1.6] * 8 + [1.0] * 4 + [0.5] * 2
    cases = []
    for day in range(days):
        for _ in range(
            max(0, round(rng.gauss(args.background_per_day, 0.1 * args.background_per_day)))
        ):
            hour = rng.choices(range(24), hours)[0]
            created = start + timedelta(days=day, hours=hour, seconds=rng.randrange(3600))
            intent = rng.choices(intents, weights)[0]
            text = with_closing(rng.choice(texts[intent]), rng)
            cases.append((created, rng.randrange(customers), intent, text, None))
    evaluation = start + timedelta(days=HISTORY_DAYS)
    end = start + timedelta(days=days)
    bursts = []
    chosen = rng.sample(intents, args.bursts)
    for n, intent in enumerate(chosen):
        began = evaluation + timedelta(
            seconds=rng.randrange(int((end - evaluation).total_seconds()) - 86_400)
        )
        size = rng.randint(8, 16)
        spread = rng.uniform(2, 6) * 3600
        who = rng.sample(range(customers), size)
        times = sorted(began + timedelta(seconds=rng.uniform(0, spread)) for _ in range(size))
        times[0] = began
        bursts.append({"intent": intent, "start": began, "cases": size})
        for created, customer in zip(times, who, strict=True):
            cases.append(
                (created, customer, intent, with_closing(rng.choice(texts[intent]), rng), n)
            )
    cases.sort(key=lambda c: c[0])
    return {
        "start": start,
        "evaluation": evaluation,
        "end": end,
        "customers": customers,
        "cases": cases,
        "bursts": bursts,
    }


def seed_desk(plan: dict) -> dict:
    """Insert the planned cases (bulk: seeding is not what is measured). Returns the case ids
    of each burst and each case's intent."""
    from django.core.management.color import no_style
    from django.db import connection

    from caseloop.cases.models import Case, Category, Message
    from caseloop.customers.models import Customer

    now = datetime.now(UTC)
    categories = {
        name: Category.objects.get_or_create(name=name, defaults={"slug": name.lower()})[0].pk
        for name, _ in CATEGORY_RULES
    }
    first_customer = (
        Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ) + 1
    table_fill(
        Customer,
        ["id", "name"],
        ((first_customer + i, f"Eval customer {i}") for i in range(plan["customers"])),
        now=now,
    )
    first_case = (Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    cases = plan["cases"]
    table_fill(
        Case,
        [
            "id",
            "subject",
            "customer_id",
            "channel",
            "status",
            "category_id",
            "created_at",
            "updated_at",
        ],
        (
            (
                first_case + n,
                "",
                first_customer + customer,
                "web",
                "open",
                categories[category_of(intent)],
                created,
                created,
            )
            for n, (created, customer, intent, _, _) in enumerate(cases)
        ),
        now=now,
    )
    table_fill(
        Message,
        ["case_id", "direction", "channel", "text", "created_at"],
        (
            (first_case + n, "inbound", "web", text, created)
            for n, (created, _, _, text, _) in enumerate(cases)
        ),
        now=now,
    )
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [Case, Customer]):
            cursor.execute(statement)
    burst_cases: dict[int, set[int]] = defaultdict(set)
    intent_of = {}
    for n, (_, _, intent, _, burst) in enumerate(cases):
        intent_of[first_case + n] = intent
        if burst is not None:
            burst_cases[burst].add(first_case + n)
    return {"bursts": burst_cases, "intent_of": intent_of, "categories": categories}


# --- detection through the weeks -----------------------------------------------------------


def problems_forget() -> None:
    """Back to a desk with no problems, for the next representation."""
    from caseloop.insights.models import Problem

    Problem.objects.all().delete()


def simulate(plan: dict, seeded: dict) -> dict:
    from caseloop.insights.models import Problem, ProblemCase
    from caseloop.insights.problem_detection import problems_detect

    first_seen: dict[int, datetime] = {}
    runs, seconds = 0, []
    at = plan["evaluation"]
    while at <= plan["end"]:
        began = time.perf_counter()
        for detection in problems_detect(now=at):
            first_seen.setdefault(detection.problem.pk, at)
        seconds.append(time.perf_counter() - began)
        runs += 1
        at += timedelta(hours=1)
    bursts = seeded["bursts"]
    linked: dict[int, set[int]] = defaultdict(set)
    for problem_id, case_id in ProblemCase.objects.values_list("problem_id", "case_id"):
        linked[problem_id].add(case_id)
    suggested = list(Problem.objects.filter(pk__in=list(first_seen)).values_list("pk", "title"))
    matched: dict[int, int] = {}  # problem -> burst
    for problem_id, _ in suggested:
        cases = linked[problem_id]
        share, burst = max(
            ((len(cases & members) / max(len(cases), 1), b) for b, members in bursts.items()),
            default=(0.0, -1),
        )
        if share >= 0.5:
            matched[problem_id] = burst
    detected_at: dict[int, datetime] = {}
    for problem_id, burst in matched.items():
        when = first_seen[problem_id]
        detected_at[burst] = min(detected_at.get(burst, when), when)
    hours = [
        (detected_at[b] - plan["bursts"][b]["start"]).total_seconds() / 3600 for b in detected_at
    ]
    in_matched = sum(len(linked[p]) for p in matched)
    right = sum(len(linked[p] & bursts[b]) for p, b in matched.items())
    caught = sum(
        len(set().union(*(linked[p] for p, b2 in matched.items() if b2 == b)) & bursts[b])
        for b in detected_at
    )
    all_linked = set().union(*linked.values()) if linked else set()
    all_burst = set().union(*bursts.values()) if bursts else set()
    false = [title for pk, title in suggested if pk not in matched]
    weeks = (plan["end"] - plan["evaluation"]).total_seconds() / (7 * 86_400)
    intent_of = seeded["intent_of"]
    same_intent = sum(
        sum(intent_of[c] == plan["bursts"][b]["intent"] for c in linked[p])
        for p, b in matched.items()
    )
    return {
        "runs": runs,
        "run_seconds_p50": round(statistics.median(seconds), 3),
        "run_seconds_max": round(max(seconds), 3),
        "suggested": len(suggested),
        "precision_problems": round(len(matched) / len(suggested), 3) if suggested else None,
        "precision_cases": round(right / in_matched, 3) if in_matched else None,
        "precision_cases_same_intent": round(same_intent / in_matched, 3) if in_matched else None,
        "linked_cases_from_bursts": round(len(all_linked & all_burst) / len(all_linked), 3)
        if all_linked
        else None,
        "recall_bursts": round(len(detected_at) / len(bursts), 3) if bursts else None,
        "recall_cases": round(caught / sum(len(m) for m in bursts.values()), 3) if bursts else None,
        "suggestions_per_detected_burst": round(len(matched) / len(detected_at), 2)
        if detected_at
        else None,
        "hours_to_detect": {
            "mean": round(statistics.mean(hours), 1) if hours else None,
            "max": round(max(hours), 1) if hours else None,
            "each": [round(h, 1) for h in sorted(hours)],
        },
        "false_suggestions": len(false),
        "false_suggestions_per_week": round(len(false) / weeks, 2),
        "false_titles": false[:10],
        "missed": [plan["bursts"][b]["intent"] for b in bursts if b not in detected_at],
    }


# --- cost of grouping many cases -----------------------------------------------------------


def scale_cost(kind: str, texts: dict[str, list[str]], n: int, rng: random.Random) -> dict:
    """Group `n` recent cases (per category) with the detection's own code: TF-IDF fitted
    and applied to their texts, or sentence vectors (of banking77 texts, each case a little
    apart from its text's so that no two are equal; encoding is measured on its own)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    from caseloop.insights.problem_detection import similarity_for
    from caseloop.insights.problem_vectors import similarity_groups, texts_vectors

    intents = sorted(texts)
    weights = [len(texts[i]) for i in intents]
    chosen = rng.choices(intents, weights, k=n)
    docs = [with_closing(rng.choice(texts[i]), rng) for i in chosen]
    categories = np.array([category_of(i) for i in chosen])
    result: dict = {"cases": n}
    encoding = None
    if kind == "embeddings":
        sample = sorted({t for i in intents for t in texts[i][:40]})
        began = time.perf_counter()
        base = texts_vectors(sample)
        encoding = {"texts": len(sample), "seconds": round(time.perf_counter() - began, 2)}
        noise = np.random.default_rng(0)
        picks = noise.integers(0, len(sample), n)
    tracemalloc.start()
    began = time.perf_counter()
    if kind == "embeddings":
        matrix = base[picks] + noise.normal(0, 0.017, (n, base.shape[1])).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    else:
        matrix = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, stop_words="english"
        ).fit_transform(docs)
    represented = time.perf_counter() - began
    held, represent_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    began = time.perf_counter()
    groups = 0
    largest = 0
    for category in sorted(set(categories.tolist())):
        rows = np.flatnonzero(categories == category)
        found = similarity_groups(matrix[rows], similarity_for(kind))
        groups += len(found)
        largest = max(largest, max(len(g) for g in found))
    seconds = time.perf_counter() - began
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result.update(
        {
            "group_seconds": round(seconds, 2),
            "represent_seconds": round(represented, 2),
            # Beyond the matrix of vectors, which grouping only reads.
            "group_peak_mb": round((peak - held) / 2**20, 1),
            "represent_peak_mb": round(represent_peak / 2**20, 1),
            "groups": groups,
            "largest_group": largest,
        }
    )
    if encoding:
        result["encoding_sample"] = encoding
        result["encode_texts_per_second"] = round(
            encoding["texts"] / max(encoding["seconds"], 1e-9), 1
        )
    return result


# --- linking at intake ---------------------------------------------------------------------


def intake_cost(args, texts: dict[str, list[str]], seeded: dict, rng: random.Random) -> dict:
    """Known problems with linked cases, then new cases linked one at a time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from caseloop.cases.models import Case, Category, Message
    from caseloop.customers.models import Customer
    from caseloop.insights.models import Problem, ProblemCase, ProblemChange, ProblemStatus
    from caseloop.insights.problems import problem_intake_match

    now = timezone.now()
    intents = sorted(texts)
    customer = Customer.objects.order_by("pk").values_list("pk", flat=True).first()
    category = Category.objects.order_by("pk").values_list("pk", flat=True).first()
    problems = Problem.objects.bulk_create(
        Problem(title=f"Known problem {n}", status=ProblemStatus.KNOWN_ERROR, why_chain=["cause"])
        for n in range(args.intake_problems)
    )
    plans = []  # (problem or None, text)
    intent_of_problem, intent_of_new = {}, []
    for problem in problems:
        intent = intent_of_problem[problem.pk] = rng.choice(intents)
        for _ in range(args.intake_linked):
            plans.append((problem.pk, with_closing(rng.choice(texts[intent]), rng)))
    for _ in range(args.intake_cases + 1):
        intent = rng.choice(intents)
        intent_of_new.append(intent)
        plans.append((None, with_closing(rng.choice(texts[intent]), rng)))
    first_case = Case.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
    table_fill(
        Case,
        ["id", "subject", "customer_id", "channel", "status", "category_id"],
        ((first_case + n, "", customer, "web", "open", category) for n in range(len(plans))),
        now=now,
    )
    table_fill(
        Message,
        ["case_id", "direction", "channel", "text", "created_at"],
        ((first_case + n, "inbound", "web", text, now) for n, (_, text) in enumerate(plans)),
        now=now,
    )
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [Case]):
            cursor.execute(statement)
    links = [(first_case + n, p) for n, (p, _) in enumerate(plans) if p is not None]
    ProblemCase.objects.bulk_create(
        ProblemCase(problem_id=p, case_id=c, via="agent") for c, p in links
    )
    ProblemChange.objects.bulk_create(
        ProblemChange(problem_id=p, kind="case_linked", data={"case": c}) for c, p in links
    )
    new = [first_case + n for n, (p, _) in enumerate(plans) if p is None]
    began = time.perf_counter()
    problem_intake_match(new[0])
    cold = (time.perf_counter() - began) * 1000
    walls, cpus, statements = [], [], []
    for case_id in new[1:]:
        with CaptureQueriesContext(connection) as queries:
            began, cpu = time.perf_counter(), time.process_time()
            problem_intake_match(case_id)
            walls.append((time.perf_counter() - began) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        statements.append(len(queries))
    linked_to = dict(
        ProblemCase.objects.filter(case_id__in=new, via="intake").values_list(
            "case_id", "problem_id"
        )
    )
    covered = set(intent_of_problem.values())
    right = sum(
        intent_of_problem[linked_to[c]] == intent
        for c, intent in zip(new, intent_of_new, strict=True)
        if c in linked_to
    )
    wanted = sum(intent in covered for intent in intent_of_new)
    return {
        "known_problems": len(problems),
        "linked_cases": len(links),
        "new_cases": len(new),
        "first_call_ms": round(cold, 1),
        "p50_ms": round(percentile(walls, 0.5), 1),
        "p95_ms": round(percentile(walls, 0.95), 1),
        "max_ms": round(max(walls), 1),
        # This process's CPU (all its threads; on SQLite the database's work too).
        "cpu_p50_ms": round(percentile(cpus, 0.5), 1),
        "cpu_p95_ms": round(percentile(cpus, 0.95), 1),
        "sql_per_call": round(statistics.mean(statements), 1),
        "new_cases_linked": len(linked_to),
        # Linked to a problem whose cases are of the new case's intent; and of the new cases
        # whose intent some problem has, the share linked to such a problem.
        "link_precision": round(right / len(linked_to), 3) if linked_to else None,
        "link_recall": round(right / wanted, 3) if wanted else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bursts", type=int, default=8)
    parser.add_argument("--background-per-day", type=int, default=150)
    parser.add_argument("--weeks", type=int, default=2, help="weeks of hourly detection")
    parser.add_argument(
        "--representation",
        choices=["tfidf", "embeddings", "both"],
        default=None,
        help="default: both (tfidf alone with --quick)",
    )
    parser.add_argument("--scale-cases", type=int, default=100_000)
    parser.add_argument("--intake-problems", type=int, default=200)
    parser.add_argument("--intake-linked", type=int, default=25)
    parser.add_argument("--intake-cases", type=int, default=100)
    parser.add_argument(
        "--parts",
        default="detection,clustering,intake",
        help="what to measure, of detection, clustering and intake (comma-separated)",
    )
    parser.add_argument("--quick", action="store_true", help="a tiny run")
    args = parser.parse_args()
    if args.quick:
        args.bursts, args.background_per_day = min(args.bursts, 1), min(args.background_per_day, 20)
        args.scale_cases, args.intake_problems = (
            min(args.scale_cases, 2000),
            min(args.intake_problems, 5),
        )
        args.intake_linked, args.intake_cases = (
            min(args.intake_linked, 4),
            min(args.intake_cases, 5),
        )
    args.detection_days = 2 if args.quick else args.weeks * 7
    kinds = {
        "both": ["tfidf", "embeddings"],
        None: ["tfidf"] if args.quick else ["tfidf", "embeddings"],
    }.get(args.representation, [args.representation])

    parts = set(args.parts.split(","))
    data_dir = tempfile.mkdtemp(prefix="caseloop-problems-eval-")
    os.environ["CASELOOP_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseloop.settings")
    server_url = os.environ.get("DATABASE_URL", "")
    database = None
    if server_url:
        url, database = database_create(server_url)
        os.environ["DATABASE_URL"] = url
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        settings.DEBUG = False
        texts = load(Path(args.data))
        plan = plan_desk(args, texts, random.Random(args.seed))
        began = time.perf_counter()
        seeded = seed_desk(plan)
        result: dict = {
            "database": connection.vendor,
            "data": "banking77",
            "seed": args.seed,
            "background_per_day": args.background_per_day,
            "history_days": HISTORY_DAYS,
            "detection_days": (plan["end"] - plan["evaluation"]).days,
            "cases": len(plan["cases"]),
            "bursts": [
                {"intent": b["intent"], "cases": b["cases"], "start": b["start"].isoformat()}
                for b in plan["bursts"]
            ],
            "seed_seconds": round(time.perf_counter() - began, 1),
            "representations": {},
        }
        for kind in kinds:
            settings.TRIAGE_EMBEDDINGS = "on" if kind == "embeddings" else "off"
            problems_forget()
            figures: dict = {}
            try:
                if "detection" in parts:
                    figures["detection"] = simulate(plan, seeded)
                    print(json.dumps({kind: figures["detection"]}), file=sys.stderr, flush=True)
                if "clustering" in parts:
                    figures["clustering"] = scale_cost(
                        kind, texts, args.scale_cases, random.Random(args.seed)
                    )
                    print(json.dumps({kind: figures["clustering"]}), file=sys.stderr, flush=True)
                if "intake" in parts:
                    problems_forget()
                    figures["intake"] = intake_cost(args, texts, seeded, random.Random(args.seed))
            except Exception as exc:  # noqa: BLE001 - report it and go on to the next
                import traceback

                figures["error"] = f"{exc!r}\n{traceback.format_exc()}"
            result["representations"][kind] = figures
        from caseloop.insights import problem_detection, problems

        result["constants"] = {
            "similarity_tfidf": problem_detection.SIMILARITY,
            "similarity_embeddings": problem_detection.SIMILARITY_EMBEDDINGS,
            "min_cases": problem_detection.MIN_CASES,
            "min_customers": problem_detection.MIN_CUSTOMERS,
            "growth": problem_detection.GROWTH,
            "surprise": problem_detection.SURPRISE,
            "expected_floor": problem_detection.EXPECTED_FLOOR,
            "window_hours": problem_detection.WINDOW / timedelta(hours=1),
            "baseline_days": problem_detection.BASELINE / timedelta(days=1),
            "intake_min_score_tfidf": problems.INTAKE_MIN_SCORE,
            "intake_min_score_embeddings": problems.INTAKE_MIN_SCORE_EMBEDDINGS,
        }
        print(json.dumps(result, indent=2))
    finally:
        from django.db import connections

        connections.close_all()
        if database:
            database_drop(server_url, database)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
