"""Meaning without torch: TF-IDF against WordLlama static word vectors (`l2_supercat`,
256 dimensions, shipped inside the `wordllama` wheel; `caseloop.lib.word_vectors`), with
all-MiniLM-L6-v2 (the embeddings extra) as a reference, on the data the other benchmarks
use. Prints JSON. The comparison that made word vectors part of the default install's
category model is in bench/README.md (`static_meaning_eval.py`).

    .venv/bin/python bench/static_meaning_eval.py                        # everything
    .venv/bin/python bench/static_meaning_eval.py --parts triage,coach   # some parts
    .venv/bin/python bench/static_meaning_eval.py --encoders wordllama,minilm --inner
    .venv/bin/python bench/static_meaning_eval.py --quick                # a tiny run

Parts, each on the data and split its own benchmark uses:

- `speed`: texts encoded per second on one thread (2,000 banking77 queries);
- `triage`: the category model on the banking77 held-out split of `triage_eval.py` (20 %,
  seed 42): TF-IDF under the SVM and four networks (the model before word vectors), the SVM
  beside a logistic regression over each encoder's vectors at twice its weight (the shape
  of the default install's and the embeddings extra's models), and that regression alone.
  `--inner` adds the three inner splits of the training portion that choices are made on;
- `coach`: the held-out drafts of `coach_eval.py` (tests/coach/heldout_drafts.json), the
  vectors in the place of the sentence vectors; the threshold is chosen on the tune half
  by the rule the others were (highest recall with good drafts at least 0.95 clean, or
  the fewest flagged when none is) and only then is the test half scored;
- `kb`: the meaning and history rankers of knowledge search alone (no full-text search, no
  fusion, no distractors) on the articles and queries of `kb_eval.py` (seed 77).

All work runs on one thread.
"""

from __future__ import annotations

import os

# One thread everywhere, set before numpy, torch or tokenizers start their pools.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[_name] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["HF_HUB_OFFLINE"] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "banking77" / "train.csv"
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("CASELOOP_DATA_DIR", tempfile.mkdtemp(prefix="static-meaning-eval-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseloop.settings")

Encoder = Callable[[list[str]], np.ndarray]


def wordllama_encoder() -> Encoder:
    from caseloop.lib.word_vectors import word_vectors

    return word_vectors


def minilm_encoder(precision: str = "int8") -> Encoder:
    import torch

    from caseloop.lib.sentences import sentence_vectors

    torch.set_num_threads(1)

    def encode(texts: list[str]) -> np.ndarray:
        return sentence_vectors(list(texts), precision=precision)

    return encode


ENCODERS: dict[str, Callable[[], Encoder]] = {
    "wordllama": wordllama_encoder,
    "minilm": minilm_encoder,
}


def memo(encode: Encoder) -> Encoder:
    """The same encoder, keeping each text's vector: the inner splits re-read the same texts."""
    seen: dict[str, np.ndarray] = {}

    def encode_memo(texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in seen))
        if missing:
            seen.update(zip(missing, encode(missing), strict=True))
        return np.vstack([seen[t] for t in texts])

    return encode_memo


def banking77(quick: bool) -> tuple[list[str], list[str]]:
    with DATA.resolve().open(newline="", encoding="utf-8") as handle:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(handle)]
    if quick:  # the first 10 queries of each intent, as `triage_eval.py --per-category 10`
        seen: Counter[str] = Counter()
        kept = []
        for text, category in rows:
            seen[category] += 1
            if seen[category] <= 10:
                kept.append((text, category))
        rows = kept
    return [t for t, _ in rows], [c for _, c in rows]


def triage_split(quick: bool):
    from sklearn.model_selection import train_test_split

    texts, labels = banking77(quick)
    return train_test_split(texts, labels, test_size=0.2, stratify=labels, random_state=42)


def rate(count: int, seconds: float) -> float:
    return round(count / max(seconds, 1e-9), 1)


# --- speed -------------------------------------------------------------------------------


def part_speed(encoders: dict[str, Encoder], quick: bool) -> dict:
    from caseloop.triage import classifier

    train_x, test_x, _train_y, _test_y = triage_split(quick)
    sample = test_x[:2000]
    singles = 20 if quick else 200
    features = classifier.features_build().fit([classifier.text_normalize(t) for t in train_x])
    result = {}
    started = time.perf_counter()
    features.transform([classifier.text_normalize(t) for t in sample])
    result["tfidf_triage_features"] = {
        "batched_texts_per_second": rate(len(sample), time.perf_counter() - started)
    }
    for name, encode in encoders.items():
        encode(sample[:50])  # warm up (loading, first-call costs)
        started = time.perf_counter()
        encode(sample)
        batched = time.perf_counter() - started
        started = time.perf_counter()
        for text in sample[:singles]:
            encode([text])
        single = time.perf_counter() - started
        result[name] = {
            "batched_texts_per_second": rate(len(sample), batched),
            "one_at_a_time_per_second": rate(singles, single),
        }
    return {"texts": len(sample), "threads": 1, **result}


# --- triage ------------------------------------------------------------------------------


def _triage_fit(classifier, kind: str, texts: list[str], labels: list[str]):
    """`tfidf`: the SVM and networks. `tfidf+vectors`: the SVM and a regression over the
    vectors (patched in where the extra's go). `vectors`: that regression alone."""
    from sklearn.linear_model import LogisticRegression

    if kind == "tfidf":
        return classifier.TextClassifier(embeddings=False, word_vectors=False).fit(texts, labels)
    if kind == "tfidf+vectors":
        return classifier.TextClassifier(embeddings=True).fit(texts, labels)
    return LogisticRegression(C=10.0, max_iter=2000).fit(classifier.texts_embed(texts), labels)


def _triage_predict(classifier, model, texts: list[str]) -> list[str]:
    if isinstance(model, classifier.TextClassifier):
        return [str(label) for label in model.predict(texts)]
    return [str(label) for label in model.predict(classifier.texts_embed(texts))]


def part_triage(
    encoders: dict[str, Encoder], *, inner: bool, tfidf_default: bool, quick: bool
) -> dict:
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split

    from caseloop.triage import classifier

    train_x, test_x, train_y, test_y = triage_split(quick)
    singles = 20 if quick else 200
    runs: list[tuple[str, str, Encoder | None]] = []
    if tfidf_default:
        runs.append(("tfidf SVM x2 + four networks (the model before)", "tfidf", None))
    for name, encode in encoders.items():
        runs.append((f"tfidf SVM + {name} regression x2", "tfidf+vectors", encode))
        runs.append((f"{name} regression alone", "vectors", encode))
    result: dict = {
        "dataset": "banking77/train.csv",
        "split": "stratified 20 % held out, seed 42",
        "n_train": len(train_x),
        "n_test": len(test_x),
    }
    original = classifier.texts_embed
    try:
        for label, kind, encode in runs:
            if encode is not None:
                classifier.texts_embed = lambda texts, precision=None, e=encode: e(texts)
            row: dict = {}
            if inner and kind != "tfidf":
                accuracies = []
                memoised = memo(encode) if encode is not None else None
                if memoised is not None:
                    classifier.texts_embed = lambda texts, precision=None, e=memoised: e(texts)
                for seed in (1, 2, 3):
                    fit_x, score_x, fit_y, score_y = train_test_split(
                        train_x, train_y, test_size=0.2, stratify=train_y, random_state=seed
                    )
                    model = _triage_fit(classifier, kind, fit_x, fit_y)
                    predicted = _triage_predict(classifier, model, score_x)
                    accuracies.append(round(float(accuracy_score(score_y, predicted)), 4))
                row["inner_accuracies"] = accuracies
                row["inner_mean"] = round(sum(accuracies) / 3, 4)
                if encode is not None:
                    classifier.texts_embed = lambda texts, precision=None, e=encode: e(texts)
            started = time.perf_counter()
            cpu_started = time.process_time()
            model = _triage_fit(classifier, kind, train_x, train_y)
            row["train_seconds"] = round(time.perf_counter() - started, 1)
            row["train_cpu_seconds"] = round(time.process_time() - cpu_started, 1)
            started = time.perf_counter()
            predicted = _triage_predict(classifier, model, test_x)
            row["predictions_per_second"] = rate(len(test_x), time.perf_counter() - started)
            started = time.perf_counter()
            for text in test_x[:singles]:
                _triage_predict(classifier, model, [text])
            row["one_at_a_time_per_second"] = rate(singles, time.perf_counter() - started)
            row["accuracy"] = round(float(accuracy_score(test_y, predicted)), 4)
            row["macro_f1"] = round(float(f1_score(test_y, predicted, average="macro")), 4)
            result[label] = row
    finally:
        classifier.texts_embed = original
    return result


# --- coach -------------------------------------------------------------------------------


def part_coach(encoders: dict[str, Encoder], quick: bool) -> dict:
    from coach_eval import HELD_OUT_RULES, draft_sets
    from django.core.management import call_command
    from django.test import override_settings

    from caseloop.coach import meaning
    from caseloop.coach.evaluation import evaluate

    call_command("migrate", interactive=False, verbosity=0)
    sets = draft_sets(12 if quick else None)
    tune, test = sets["held_out_tune"], sets["held_out_test"]

    def scored(drafts: list[dict]) -> dict:
        overall = evaluate(drafts, only=HELD_OUT_RULES)["overall"]
        return {
            "precision": overall["precision"],
            "recall": overall["recall"],
            "good_drafts_flagged": f"{overall['clean_drafts_flagged']} / {overall['clean_drafts']}",
            "_flagged": overall["clean_drafts_flagged"],
            "_clean": overall["clean_drafts"],
        }

    def public(row: dict) -> dict:
        return {k: v for k, v in row.items() if not k.startswith("_")}

    result: dict = {"drafts": "tests/coach/heldout_drafts.json: tune = odd, test = even"}
    with override_settings(COACH_MEANING="words"):
        result["words (default, threshold 0.7)"] = {
            "tune": public(scored(tune)),
            "test": public(scored(test)),
        }
    original = (meaning.sentence_vectors, meaning.sentence_vectors_available)
    threshold = meaning.THRESHOLDS["sentences"]
    try:
        meaning.sentence_vectors_available = lambda: True
        for name, encode in encoders.items():
            if name == "minilm":  # the coach reads the extra's encoder in full precision
                encode = minilm_encoder("fp32")
            meaning.sentence_vectors = lambda texts, precision=None, e=encode: e(texts)
            meaning._indexes.clear()
            sweep = {}
            with override_settings(COACH_MEANING="sentences"):
                for step in range(10, 20):
                    meaning.THRESHOLDS["sentences"] = step / 20
                    sweep[step / 20] = scored(tune)
                # As for the others: good drafts at least 0.95 clean, or when no threshold
                # gets there (as for `words`), the fewest good drafts flagged; then the
                # highest recall.
                allowed = max(
                    min(row["_flagged"] for row in sweep.values()),
                    int(0.05 * len([d for d in tune if not d.get("expected")])),
                )
                chosen = max(
                    (row["recall"] or 0.0, row["precision"] or 0.0, t)
                    for t, row in sweep.items()
                    if row["_flagged"] <= allowed
                )[2]
                meaning.THRESHOLDS["sentences"] = chosen
                result[name] = {
                    "threshold_chosen_on_tune": chosen,
                    "tune": public(sweep[chosen]),
                    "test": public(scored(test)),
                    "tune_sweep": {
                        str(t): f"P {row['precision']} R {row['recall']} "
                        f"good flagged {row['good_drafts_flagged']}"
                        for t, row in sweep.items()
                    },
                }
            meaning._indexes.clear()
    finally:
        meaning.sentence_vectors, meaning.sentence_vectors_available = original
        meaning.THRESHOLDS["sentences"] = threshold
    return result


# --- knowledge retrieval -----------------------------------------------------------------


def part_kb(encoders: dict[str, Encoder], quick: bool) -> dict:
    from kb_eval import load_intents

    from caseloop.knowledge.search import meaning
    from caseloop.lib import sentences

    intents, queries, history = load_intents(77, 8, *((2, 5) if quick else (20, -1)))
    ids = {intent: i + 1 for i, intent in enumerate(sorted(intents))}
    articles = [
        (
            ids[intent],
            intent.replace("_", " ").capitalize(),
            "Customers ask about this:\n\n" + "\n".join(q),
        )
        for intent, q in intents.items()
    ]
    examples = [meaning.Example(article_id=ids[intent], text=text) for text, intent in history]

    def scores(index, with_history: bool) -> dict:
        recall1 = recall5 = reciprocal = 0.0
        for text, intent in queries:
            encoded = index.query_encode(text)
            if with_history:
                ranked = index.history_ranked(encoded, limit=10)
            else:
                ranked = index.meaning_ranked(encoded, limit=10)
            order = [pk for pk, _score in ranked]
            target = ids[intent]
            if target in order:
                position = order.index(target)
                recall1 += position == 0
                recall5 += position < 5
                reciprocal += 1 / (position + 1)
        n = len(queries)
        return {
            "recall@1": round(recall1 / n, 3),
            "recall@5": round(recall5 / n, 3),
            "mrr@10": round(reciprocal / n, 3),
        }

    floors = dict(meaning.MEANING_MIN), meaning.TFIDF_MIN
    original = sentences.sentence_vectors
    result: dict = {
        "articles": len(articles),
        "queries": len(queries),
        "history": len(examples),
        "note": "rankers alone, no noise floor on meaning, no full-text search or fusion",
    }
    try:
        # The floors are tuned per encoder; without them every ranking is complete.
        meaning.MEANING_MIN.update({k: -1.0 for k in meaning.MEANING_MIN})
        meaning.TFIDF_MIN = -1.0
        index = meaning.index_build(articles=articles, examples=examples, encoder="words")
        result["tfidf (default: LSA 192)"] = {
            "meaning": scores(index, False),
            "history": scores(index, True),
        }
        for name, encode in encoders.items():
            sentences.sentence_vectors = lambda texts, precision=None, e=encode: e(texts)
            index = meaning.index_build(articles=articles, examples=examples, encoder="sentences")
            result[name] = {"meaning": scores(index, False), "history": scores(index, True)}
    finally:
        sentences.sentence_vectors = original
        meaning.MEANING_MIN.update(floors[0])
        meaning.TFIDF_MIN = floors[1]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="speed,triage,coach,kb")
    parser.add_argument("--encoders", default="wordllama")
    parser.add_argument("--inner", action="store_true", help="triage: also the inner splits")
    parser.add_argument(
        "--no-tfidf-triage",
        action="store_true",
        help="triage: skip retraining the default model (about 90 s)",
    )
    parser.add_argument("--quick", action="store_true", help="a tiny run (the smoke test)")
    args = parser.parse_args()
    import django

    django.setup()
    encoders = {name: ENCODERS[name]() for name in args.encoders.split(",") if name}
    parts = args.parts.split(",")
    report: dict = {"encoders": list(encoders), "cpu_count": os.cpu_count()}
    if "speed" in parts:
        report["speed"] = part_speed(encoders, args.quick)
    if "triage" in parts:
        report["triage"] = part_triage(
            encoders, inner=args.inner, tfidf_default=not args.no_tfidf_triage, quick=args.quick
        )
    if "coach" in parts:
        report["coach"] = part_coach(encoders, args.quick)
    if "kb" in parts:
        report["kb"] = part_kb(encoders, args.quick)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
