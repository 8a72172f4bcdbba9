"""`caseloop triage train|eval|accuracy|run`: the triage models from the command line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from caseloop.cases.models import Case
from caseloop.triage.classifier import category_model_evaluate
from caseloop.triage.learning import model_train
from caseloop.triage.selectors import triage_accuracy
from caseloop.triage.services import case_triage_run


def read_labelled_csv(path: str, *, text_col: str, label_col: str) -> tuple[list[str], list[str]]:
    """Texts and labels from a CSV with a header; rows missing either are skipped."""
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"no such file: {path}")
    texts, labels = [], []
    with file.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {text_col, label_col} - set(reader.fieldnames or [])
        if missing:
            raise CommandError(
                f"{path} has no column(s) {', '.join(sorted(missing))}; "
                f"columns: {', '.join(reader.fieldnames or [])}"
            )
        for row in reader:
            text, label = (row.get(text_col) or "").strip(), (row.get(label_col) or "").strip()
            if text and label:
                texts.append(text)
                labels.append(label)
    if not texts:
        raise CommandError(f"{path} has no labelled rows")
    return texts, labels


class Command(BaseCommand):
    help = "Triage models: train from the desk's history, evaluate on CSVs, report accuracy."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser("train", help="train new model versions from the desk's history")
        train.add_argument("--kind", choices=["category", "priority", "all"], default="all")
        train.add_argument(
            "--force", action="store_true", help="train even under the minimum sample count"
        )
        evaluate = sub.add_parser(
            "eval", help="train a fresh model on one CSV, measure it on another (prints JSON)"
        )
        evaluate.add_argument("--train", required=True)
        evaluate.add_argument("--test", required=True)
        evaluate.add_argument("--text-col", default="text")
        evaluate.add_argument("--label-col", default="category")
        sub.add_parser("accuracy", help="the live model's rolling accuracy (prints JSON)")
        run = sub.add_parser("run", help="triage cases again (by id, or every untriaged case)")
        run.add_argument("case_ids", nargs="*", type=int)

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"_{action}")(**options)

    def _train(self, *, kind: str, force: bool, **_) -> None:

        kinds = ["category", "priority"] if kind == "all" else [kind]
        out = {}
        for name in kinds:
            version = model_train(kind=name, force=force)
            out[name] = (
                {
                    "version": version.version,
                    "n_samples": version.n_samples,
                    "labels": len(version.labels),
                    "metrics": version.metrics,
                }
                if version
                else "not enough labelled history yet; keyword rules keep guessing"
            )
        self.stdout.write(json.dumps(out, indent=2))

    def _eval(self, *, train: str, test: str, text_col: str, label_col: str, **_) -> None:

        train_texts, train_labels = read_labelled_csv(train, text_col=text_col, label_col=label_col)
        test_texts, test_labels = read_labelled_csv(test, text_col=text_col, label_col=label_col)
        if len(set(train_labels)) < 2:
            raise CommandError("the training CSV needs at least two distinct labels")
        result = category_model_evaluate(
            train_texts=train_texts,
            train_labels=train_labels,
            test_texts=test_texts,
            test_labels=test_labels,
        )
        self.stdout.write(json.dumps(result))

    def _accuracy(self, **_) -> None:

        self.stdout.write(json.dumps(triage_accuracy(), indent=2))

    def _run(self, *, case_ids: list[int], **_) -> None:

        ids = case_ids or list(
            Case.objects.filter(triage__isnull=True).order_by("id").values_list("pk", flat=True)
        )
        for case_id in ids:
            case_triage_run(case_id=case_id)
        self.stdout.write(f"triaged {len(ids)} case(s)")
