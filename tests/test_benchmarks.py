"""Every benchmark under bench/ runs on a tiny desk, as a real process, on SQLite (or, with
DATABASE_URL, on PostgreSQL), and prints the JSON it promises: a schema change that breaks
a benchmark's seeding or its measuring fails here, not on the next long run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
SERVER = os.environ.get("DATABASE_URL", "")


def server_url(path: str) -> str:
    """The PostgreSQL server DATABASE_URL names, with another path (database)."""
    return urlunsplit(urlsplit(SERVER)._replace(path=path, query=""))


@dataclass(frozen=True)
class Benchmark:
    keys: set[str]
    sqlite: tuple[str, ...] | None = None
    postgres: tuple[str, ...] | None = None
    # None: the benchmark uses no database; its arguments are `sqlite`'s.
    databases: tuple[str, ...] = ("sqlite", "postgres")
    marks: tuple = field(default_factory=tuple)


def benchmarks() -> dict[str, Benchmark]:
    tiny_api = ("--cases", "200", "--duration", "0.5", "--concurrency", "2")
    tiny_kb = (
        "--articles",
        "50",
        "--messages",
        "500",
        "--eval-per-intent",
        "2",
        "--latency-queries",
        "10",
    )
    tiny_ingest = ("--messages", "40", "--with-reactions", "10")
    tiny_crash = ("--cases", "10", "--clients", "2", "--kill-after", "5")
    return {
        "api_bench.py": Benchmark(
            keys={"benchmark", "db_vendor", "cases", "messages", "events", "scenarios"},
            sqlite=tiny_api,
            postgres=tiny_api,
        ),
        "coach_eval.py": Benchmark(
            keys={"off", "words", "sentences", "complaint_cues_on_banking77"},
            sqlite=("--limit", "12"),
            postgres=("--limit", "12"),
        ),
        "crash_bench.py": Benchmark(
            keys={"backend", "cases_acknowledged", "missing_acknowledgements", "seconds"},
            sqlite=tiny_crash,
            postgres=tiny_crash,
            marks=(pytest.mark.crash,),
        ),
        "import_bench.py": Benchmark(
            keys={"benchmark", "database", "tickets", "tickets_per_s", "messages_per_s"},
            sqlite=("--tickets", "200", "--batch-size", "50", "--no-learn"),
            postgres=("--tickets", "200", "--batch-size", "50", "--no-learn"),
        ),
        "inbox_bench.py": Benchmark(
            keys={"database", "seed", "repeat", "views"},
            sqlite=("--database", "sqlite", "--cases", "200", "--repeat", "2"),
            postgres=("--database", "postgres", "--cases", "200", "--repeat", "2"),
        ),
        "ingest_bench.py": Benchmark(
            keys={"benchmark", "intake", "with_reactions"},
            sqlite=(*tiny_ingest, "--no-postgres"),
            postgres=(*tiny_ingest, "--postgres", server_url("/postgres")),
        ),
        "insights_bench.py": Benchmark(
            keys={"database", "cases", "events", "rebuild", "catch_up_2000_new_events", "reports"},
            sqlite=("--cases", "200", "--days", "30", "--repeat", "2"),
            postgres=("--cases", "200", "--days", "30", "--repeat", "2"),
        ),
        "kb_eval.py": Benchmark(
            keys={"data", "articles", "messages", "runs"},
            sqlite=("--db", "sqlite", *tiny_kb),
            postgres=("--db", "postgres", "--pg-server", server_url(""), *tiny_kb),
        ),
        "problems_eval.py": Benchmark(
            keys={"database", "bursts", "representations", "constants"},
            sqlite=("--quick",),
            postgres=("--quick",),
        ),
        "static_meaning_eval.py": Benchmark(
            keys={"encoders", "speed", "triage", "coach", "kb"},
            sqlite=("--quick",),
            databases=("none",),
        ),
        "thread_lookup_bench.py": Benchmark(
            keys={"database", "messages", "new_thread_lookup_p50_ms"},
            sqlite=("--messages", "500", "--repeat", "3"),
            databases=("sqlite",),
        ),
        "triage_eval.py": Benchmark(
            keys={"dataset", "n_train", "n_test", "accuracy", "macro_f1", "train_seconds"},
            sqlite=("--per-category", "10"),
            databases=("none",),
        ),
    }


def runs() -> Iterator:
    """Each benchmark on the database of the run: SQLite (and no database) when the suite
    runs on SQLite, PostgreSQL when it runs with DATABASE_URL; `make test` does both."""
    for name, benchmark in benchmarks().items():
        for database in benchmark.databases:
            if (database == "postgres") != bool(SERVER):
                continue
            marks = list(benchmark.marks)
            if database == "postgres":
                marks.append(pytest.mark.postgres)
            yield pytest.param(name, database, marks=marks, id=f"{name}-{database}")


def test_every_benchmark_is_smoke_tested():
    assert {path.name for path in BENCH.glob("*.py")} == set(benchmarks())


def errors_in(document, path: str = "") -> list[str]:
    """Where the document reports an error instead of a figure (some benchmarks catch a
    failed run and go on)."""
    found = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "error" and value:
                found.append(f"{path}: {str(value)[-1500:]}")
            elif key == "errors" and value and path.startswith("scenarios"):
                found.append(f"{path}: {value}")
            found += errors_in(value, f"{path}.{key}".lstrip("."))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += errors_in(value, f"{path}[{index}]")
    return found


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("name", "database"), list(runs()))
def test_the_benchmark_runs_on_a_tiny_desk(name, database, tmp_path):
    benchmark = benchmarks()[name]
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CASELOOP_TESTING", "CASELOOP_DATA_DIR"}
    }
    env["CASELOOP_DATA_DIR"] = str(tmp_path / "data")
    args = benchmark.postgres if database == "postgres" else benchmark.sqlite
    assert args is not None
    own_database = ""
    if database == "postgres":
        env["DATABASE_URL"] = SERVER
        if name == "crash_bench.py" and os.environ.get("REDIS_URL"):
            # With both it runs the scaled deployment: a worker on a queue of its own.
            env["REDIS_URL"] = os.environ["REDIS_URL"]
        if name == "coach_eval.py":
            # It works in the database it is given: give it one of its own.
            own_database = f"coach_eval_smoke_{uuid.uuid4().hex[:8]}"
            pgdb("create", own_database)
            env["DATABASE_URL"] = server_url(f"/{own_database}")
    try:
        done = subprocess.run(
            [sys.executable, str(BENCH / name), *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=540,
        )
    finally:
        if own_database:
            pgdb("drop", own_database)
    assert done.returncode == 0, done.stderr[-3000:]
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"{name} did not print one JSON document:\n{done.stdout[-2000:]}")
    assert isinstance(report, dict)
    assert benchmark.keys <= set(report), sorted(report)
    assert errors_in(report) == []
    vendor = report.get("db_vendor") or report.get("database")
    if vendor is not None:
        assert vendor == {"postgres": "postgresql", "sqlite": "sqlite"}[database]
    if name == "api_bench.py":
        for scenario, figures in report["scenarios"].items():
            assert figures["requests"] > 0, scenario
            assert figures["sql_per_request"] > 0, scenario
            assert figures["server_cpu_ms_per_request"] > 0, scenario


def pgdb(action: str, name: str) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "pgdb.py"), action, server_url("/postgres"), name],
        check=True,
    )
