"""Category classification quality and speed on real customer text (banking77).

Holds out a stratified 20 % of banking77/train.csv (fixed seed, never trained on), trains
on the rest through the same code path the desk uses in production
(`caseloop.triage.classifier.category_model_fit`, as `caseloop triage train` and
`caseloop triage eval` do), and prints JSON: accuracy, macro-F1, training seconds and
predictions per second (batched).

    .venv/bin/python bench/triage_eval.py
    .venv/bin/python bench/triage_eval.py --word-vectors off   # the vote of before (networks)
    .venv/bin/python bench/triage_eval.py --word-vectors off --networks 0  # the SVM alone
    .venv/bin/python bench/triage_eval.py --inner          # model selection, see below
    .venv/bin/python bench/triage_eval.py --per-category 10  # a quick run on 770 queries
    .venv/bin/python bench/triage_eval.py --embeddings on  # with the embeddings extra

Choose model changes with `--inner`, never with the held-out figure: it splits the training
portion only into three stratified 80/20 inner splits (seeds 1, 2, 3) and prints the inner
accuracies and their mean, so the held-out 20 % stays an honest final check.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "banking77" / "train.csv"
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--test-size", type=float, default=0.2)
    parser.add_argument(
        "--networks", type=int, default=None, help="override the number of networks"
    )
    parser.add_argument(
        "--word-vectors",
        choices=["on", "off"],
        default="on",
        help="the default install's static word vectors (off: the SVM and networks of before)",
    )
    parser.add_argument(
        "--embeddings",
        choices=["auto", "on", "off"],
        default="off",
        help="sentence embeddings from the optional extra (default off: the default install)",
    )
    parser.add_argument(
        "--per-category",
        type=int,
        default=0,
        help="keep only the first N queries of each category (a quick run); 0 keeps all",
    )
    parser.add_argument(
        "--inner",
        action="store_true",
        help="score on inner splits of the training portion instead of the held-out split",
    )
    args = parser.parse_args()

    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split

    from caseloop.triage import classifier

    with Path(args.data).resolve().open(newline="", encoding="utf-8") as handle:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(handle)]
    if args.per_category:
        seen: dict[str, int] = {}
        kept = []
        for text, category in rows:
            seen[category] = seen.get(category, 0) + 1
            if seen[category] <= args.per_category:
                kept.append((text, category))
        rows = kept
    texts = [t for t, _ in rows]
    labels = [c for _, c in rows]
    train_x, test_x, train_y, test_y = train_test_split(
        texts, labels, test_size=args.test_size, stratify=labels, random_state=args.seed
    )
    os.environ["CASELOOP_TRIAGE_EMBEDDINGS"] = args.embeddings
    if args.inner:
        inner_evaluate(classifier, train_x, train_y, args)
        return
    started = time.perf_counter()
    cpu_started = time.process_time()
    model = model_fit(classifier, train_x, train_y, args)
    train_seconds = time.perf_counter() - started
    train_cpu_seconds = time.process_time() - cpu_started

    started = time.perf_counter()
    predictions = classifier.category_model_predict(model, test_x)
    predict_seconds = time.perf_counter() - started
    predicted = [p.label for p in predictions]

    # One at a time, as a new case arrives: the latency the desk sees per case.
    sample = test_x[:200]
    started = time.perf_counter()
    for text in sample:
        classifier.category_model_predict(model, [text])
    single_seconds = time.perf_counter() - started

    confidences = [p.confidence for p in predictions]
    correct = [p.label == y for p, y in zip(predictions, test_y, strict=True)]
    confident = [c for p, c in zip(predictions, correct, strict=True) if p.confidence >= 0.5]
    print(
        json.dumps(
            {
                "dataset": "banking77/train.csv",
                "n_train": len(train_x),
                "n_test": len(test_x),
                "n_labels": len(set(labels)),
                "seed": args.seed,
                "accuracy": round(float(accuracy_score(test_y, predicted)), 4),
                "macro_f1": round(float(f1_score(test_y, predicted, average="macro")), 4),
                "train_seconds": round(train_seconds, 1),
                # CPU time of this process: the fair figure when other work shares the cores.
                "train_cpu_seconds": round(train_cpu_seconds, 1),
                "predictions_per_second": round(len(test_x) / predict_seconds, 1),
                "single_predictions_per_second": round(len(sample) / single_seconds, 1),
                "mean_confidence": round(sum(confidences) / len(confidences), 4),
                "coverage_at_0.5": round(len(confident) / len(predictions), 4),
                "accuracy_at_0.5": round(sum(confident) / max(len(confident), 1), 4),
                "networks": len(getattr(model, "networks_", [])),
                "word_vectors": model.uses_word_vectors,
                "embeddings": model.uses_embeddings,
                "cpu_count": os.cpu_count(),
            },
            indent=2,
        )
    )


def model_fit(classifier, texts: list[str], labels: list[str], args):
    """The desk's own training path, unless the options ask for another model."""
    if args.networks is None and args.word_vectors == "on":
        return classifier.category_model_fit(texts, labels)
    options: dict = {"word_vectors": args.word_vectors == "on"}
    if args.networks is not None:
        options["n_networks"] = args.networks
    embeddings = classifier.embeddings_enabled()
    return classifier.TextClassifier(embeddings=embeddings, **options).fit(texts, labels)


def inner_evaluate(classifier, texts: list[str], labels: list[str], args) -> None:
    """Accuracy on three inner 80/20 splits of the training portion: the figure to compare
    candidate configurations by, leaving the held-out split untouched."""
    from sklearn.metrics import accuracy_score
    from sklearn.model_selection import train_test_split

    accuracies = []
    for inner_seed in (1, 2, 3):
        fit_x, score_x, fit_y, score_y = train_test_split(
            texts, labels, test_size=0.2, stratify=labels, random_state=inner_seed
        )
        model = model_fit(classifier, fit_x, fit_y, args)
        predicted = [p.label for p in classifier.category_model_predict(model, score_x)]
        accuracies.append(round(float(accuracy_score(score_y, predicted)), 4))
    print(
        json.dumps(
            {
                "dataset": "banking77/train.csv (training portion only)",
                "inner_seeds": [1, 2, 3],
                "inner_accuracies": accuracies,
                "mean_inner_accuracy": round(sum(accuracies) / len(accuracies), 4),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
