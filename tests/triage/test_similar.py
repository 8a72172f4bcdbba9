"""Similar cases: TF-IDF cosine over subject and first message, with resolutions."""

import pytest

from caseloop.cases.models import Case
from caseloop.cases.services import message_add
from caseloop.triage.models import TriagePolicy
from caseloop.triage.selectors import SimilarCase, cases_similar
from tests.builders import make_agent, make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    agent = make_agent()
    cases = {
        "kettle": make_case(subject="Kettle leaking", text="My new kettle is leaking water"),
        "kettle2": make_case(subject="Kettle", text="The kettle leaks from the bottom"),
        "password": make_case(subject="Password", text="I forgot my password"),
        "invoice": make_case(subject="Invoice", text="Wrong amount on my invoice"),
    }
    message_add(case=cases["kettle"], direction="outbound", text="We sent a new seal.", actor=agent)
    message_add(
        case=cases["kettle"],
        direction="outbound",
        text="Replaced the kettle under warranty.",
        actor=agent,
    )
    # An automatic follow-up after the fix is not how the case was resolved.
    message_add(case=cases["kettle"], direction="outbound", text="Did this solve it?", system=True)
    Case.objects.filter(pk=cases["kettle"].pk).update(status="solved")
    return cases


def test_the_most_similar_cases_come_first_with_their_resolution(history):
    query = make_case(subject="Leaking kettle", text="Water leaks out of my kettle")
    found = cases_similar(case=query, k=5)
    assert all(isinstance(item, SimilarCase) for item in found)
    assert [s.case for s in found[:2]] == [history["kettle"], history["kettle2"]] or [
        s.case for s in found[:2]
    ] == [history["kettle2"], history["kettle"]]
    assert query not in [s.case for s in found]
    assert found[0].score >= found[-1].score > 0
    by_case = {s.case.pk: s for s in found}
    assert by_case[history["kettle"].pk].resolution == "Replaced the kettle under warranty."
    assert by_case[history["kettle2"].pk].resolution == ""
    assert history["password"].pk not in by_case  # nothing in common


def test_solved_only_and_k_limit_the_answer(history):
    query = make_case(subject="Leaking kettle", text="Water leaks out of my kettle")
    solved = cases_similar(case=query, k=5, solved_only=True)
    assert [s.case for s in solved] == [history["kettle"]]
    assert len(cases_similar(case=query, k=1)) == 1


def test_the_candidate_set_is_bounded_to_recent_cases(history):
    TriagePolicy.objects.update_or_create(pk=1, defaults={"similar_candidates": 2})
    query = make_case(subject="Leaking kettle", text="Water leaks out of my kettle")
    found = cases_similar(case=query, k=5)
    # only the query itself and the invoice case are among the 2 most recent
    assert found == []


def test_the_index_is_rebuilt_when_a_case_arrives(history):
    query = make_case(subject="Broken toaster", text="My toaster is broken")
    assert cases_similar(case=query, k=5) == []
    other = make_case(subject="Toaster", text="The toaster is broken again")
    assert [s.case for s in cases_similar(case=query, k=5)] == [other]
