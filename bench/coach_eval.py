"""Precision/recall of the reply coach per rule on the labelled drafts, as JSON.

    .venv/bin/python bench/coach_eval.py [path/to/drafts.json]

Runs against a fresh SQLite database (the default guidelines from the migrations) unless
DATABASE_URL / CASELOOP_DATA_DIR point elsewhere.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("CASELOOP_DATA_DIR", tempfile.mkdtemp(prefix="coach-eval-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseloop.settings")


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from caseloop.coach.evaluation import evaluate

    call_command("migrate", interactive=False, verbosity=0)
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "coach" / "drafts.json"
    drafts = json.loads(path.read_text())
    report = evaluate(drafts)
    report["complaint_cues_on_banking77"] = banking77_complaints()
    print(json.dumps(report, indent=2))


def banking77_complaints() -> dict:
    """How often the lexical complaint cues fire on real customer queries (banking77),
    with a few of the flagged texts to judge them by."""
    import csv

    from caseloop.coach.engine import is_complaint_text

    path = ROOT / ".." / "shared" / "data" / "banking77" / "train.csv"
    if not path.exists():
        return {"skipped": f"{path} not found"}
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    flagged = [row for row in rows if is_complaint_text(row["text"])]
    return {
        "queries": len(rows),
        "read_as_complaints": len(flagged),
        "rate": round(len(flagged) / len(rows), 4),
        "examples": [row["text"][:160] for row in flagged[:5]],
    }


if __name__ == "__main__":
    main()
