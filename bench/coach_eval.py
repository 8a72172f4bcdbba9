"""Precision/recall of the reply coach per rule, as JSON: on the drafts the rules were
written with (`tests/coach/drafts.json`) and on drafts written apart from the rules and
frozen before any tuning (`tests/coach/heldout_drafts.json`), which are split in two: the
`tune` half (odd positions) may be looked at when choosing examples and thresholds, the
`test` half (even positions) is only ever reported. Each set is scored with the rules'
phrases alone (`off`) and with matching by meaning: TF-IDF (`words`, the default
install) and sentence vectors (`sentences`, the embeddings extra, when installed).

    .venv/bin/python bench/coach_eval.py [--meaning off,words,sentences] [--mistakes]

Runs against a fresh SQLite database (the default guidelines and examples from the
migrations) unless DATABASE_URL / CASELOOP_DATA_DIR point elsewhere.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("CASELOOP_DATA_DIR", tempfile.mkdtemp(prefix="coach-eval-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseloop.settings")

DRAFTS = ROOT / "tests" / "coach" / "drafts.json"
HELD_OUT = ROOT / "tests" / "coach" / "heldout_drafts.json"
# The drafts written apart from the rules are labelled for these rules only.
HELD_OUT_RULES = ["no-cant-help", "no-blame", "truthful"]


def draft_sets(limit: int | None) -> dict[str, list[dict]]:
    sets = {"rules_drafts": json.loads(DRAFTS.read_text())}
    if HELD_OUT.exists():
        held_out = json.loads(HELD_OUT.read_text())
        sets["held_out_tune"] = held_out[1::2]
        sets["held_out_test"] = held_out[0::2]
    return {name: drafts[:limit] for name, drafts in sets.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meaning", default="off,words,sentences")
    parser.add_argument("--mistakes", action="store_true", help="list every draft it got wrong")
    parser.add_argument("--limit", type=int, default=None, help="drafts per set (smoke runs)")
    parser.add_argument("--only", default="", help="one set: rules_drafts, held_out_tune…")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import override_settings

    from caseloop.coach.evaluation import evaluate
    from caseloop.lib.sentences import sentence_vectors_available

    call_command("migrate", interactive=False, verbosity=0)
    report: dict = {}
    for kind in args.meaning.split(","):
        if kind == "sentences" and not sentence_vectors_available():
            report[kind] = {"skipped": "the embeddings extra is not installed"}
            continue
        with override_settings(COACH_MEANING=kind):
            report[kind] = {}
            for name, drafts in draft_sets(args.limit).items():
                if args.only and name != args.only:
                    continue
                only = HELD_OUT_RULES if name.startswith("held_out") else None
                result = evaluate(drafts, only=only)
                if not args.mistakes:
                    result.pop("mistakes")
                report[kind][name] = result
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
