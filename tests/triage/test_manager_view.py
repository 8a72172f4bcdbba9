"""Managers see how triage is doing on the team page and can retrain it on demand."""

import pytest

from caseloop.cases.services import case_update
from caseloop.triage import learning
from caseloop.triage.models import ModelVersion
from tests.builders import make_agent, make_case, make_user

from .helpers import desk_history

pytestmark = pytest.mark.django_db


def test_the_team_page_reports_the_live_model_its_accuracy_and_waiting_decisions(
    client, django_capture_on_commit_callbacks
):
    cats = desk_history()
    learning.model_train()
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(subject="Invoice", text="I was charged twice on my invoice")
    case.refresh_from_db()
    predicted = case.triage.category_id
    other = next(c for c in cats.values() if c.pk != predicted)
    with django_capture_on_commit_callbacks(execute=True):
        case_update(case=case, actor=make_agent(), category=other)

    client.force_login(make_user(role="manager"))
    response = client.get("/manager/")
    overview = response.context["triage"]
    assert overview["category_model"].version == 1
    assert overview["decisions_not_learned"] == 1
    assert overview["accuracy"]["category"]["by_source"]["set"] == {
        "n": 1,
        "correct": 0,
        "accuracy": 0.0,
    }
    body = response.content.decode()
    assert "<strong>v1</strong>" in body and 'id="triage-unlearned">1<' in body
    assert 'action="/triage/models/retrain/"' in body

    # Retraining learns the correction: a new version, nothing left unlearned.
    followed = client.post("/triage/models/retrain/", follow=True)
    assert "Retraining from the agents" in followed.content.decode()
    assert ModelVersion.objects.filter(kind="category").count() == 2
    assert client.get("/manager/").context["triage"]["decisions_not_learned"] == 0


def test_only_managers_may_retrain(client):
    desk_history()
    client.force_login(make_agent())
    assert client.post("/triage/models/retrain/").status_code == 403
    assert client.get("/triage/models/retrain/").status_code == 405
    assert not ModelVersion.objects.exists()


def test_before_any_model_the_page_says_rules_guess(client):
    client.force_login(make_user(role="manager"))
    body = client.get("/manager/").content.decode()
    assert "none yet; keyword rules guess" in body
    assert 'id="triage-accuracy">no decisions yet<' in body
