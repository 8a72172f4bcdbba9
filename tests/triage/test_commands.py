"""`caseloop triage eval|train|accuracy|run` and the scheduled retraining."""

import json

import pytest
from django.core.management import CommandError, call_command

from caseloop.triage.models import CaseTriage, ModelVersion, TriagePolicy
from tests.builders import make_case

from .helpers import FIXTURES, desk_history


def _run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("triage", *args, stdout=out)
    return out.getvalue()


def test_eval_trains_on_one_csv_and_measures_on_another():
    result = json.loads(
        _run(
            "eval",
            "--train",
            str(FIXTURES / "tickets.csv"),
            "--test",
            str(FIXTURES / "tickets_test.csv"),
        )
    )
    assert set(result) >= {"accuracy", "macro_f1", "train_seconds", "predictions_per_second"}
    assert result["accuracy"] >= 0.75
    assert 0 < result["macro_f1"] <= 1
    assert result["n_train"] == 48 and result["n_test"] == 12 and result["n_labels"] == 4
    assert result["predictions_per_second"] > 0


def test_eval_takes_other_column_names(tmp_path):
    train = tmp_path / "train.csv"
    test = tmp_path / "test.csv"
    lines = ["body,label"] + [f"invoice charge {i},billing" for i in range(5)]
    lines += [f"parcel courier {i},delivery" for i in range(5)]
    train.write_text("\n".join(lines))
    test.write_text("body,label\ninvoice charge again,billing\nparcel courier late,delivery\n")
    result = json.loads(
        _run(
            "eval",
            "--train",
            str(train),
            "--test",
            str(test),
            "--text-col",
            "body",
            "--label-col",
            "label",
        )
    )
    assert result["accuracy"] == 1.0


def test_eval_explains_a_missing_column_or_file(tmp_path):
    train = tmp_path / "train.csv"
    train.write_text("text,category\nhello,a\n")
    with pytest.raises(CommandError, match="no column"):
        _run("eval", "--train", str(train), "--test", str(train), "--label-col", "nope")
    with pytest.raises(CommandError, match="no such file"):
        _run("eval", "--train", str(tmp_path / "missing.csv"), "--test", str(train))
    with pytest.raises(CommandError, match="two distinct labels"):
        _run("eval", "--train", str(train), "--test", str(train))


@pytest.mark.django_db
def test_train_says_when_history_is_short_then_trains_a_new_version():
    out = json.loads(_run("train", "--kind", "category"))
    assert "not enough labelled history" in out["category"]
    desk_history()
    out = json.loads(_run("train", "--kind", "category"))
    assert out["category"]["version"] == 1
    assert out["category"]["n_samples"] == 48
    assert ModelVersion.objects.get().metrics["holdout_accuracy"] > 0.5


@pytest.mark.django_db
def test_the_scheduled_retraining_learns_from_new_history():
    from caseloop.triage.tasks import models_retrain

    models_retrain.call_local()
    assert not ModelVersion.objects.exists()
    desk_history()
    models_retrain.call_local()
    assert ModelVersion.objects.filter(kind="category").count() == 1


@pytest.mark.django_db
def test_accuracy_and_run_commands():
    TriagePolicy.objects.create(pk=1, accuracy_window=50)
    assert json.loads(_run("accuracy"))["window"] == 50
    case = make_case()
    assert "triaged 1 case(s)" in _run("run")
    assert CaseTriage.objects.filter(case=case).exists()
