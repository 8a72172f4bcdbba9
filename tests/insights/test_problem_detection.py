"""Detecting recurring problems: a burst across customers becomes one suggestion while the
desk's usual cases stay quiet, with TF-IDF and with sentence embeddings; the graph of close
cases is computed in bounded blocks and agrees with a brute-force one; linking at intake
follows every change of the known problems."""

from __future__ import annotations

import tracemalloc
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone
from scipy.sparse import csr_matrix, random as sparse_random
from scipy.sparse.csgraph import connected_components

from caseloop.accounts.models import Role
from caseloop.cases import outbox
from caseloop.cases.models import Case
from caseloop.insights import problem_detection, problem_vectors, problems
from caseloop.insights.models import ProblemCase, ProblemStatus
from tests.builders import make_agent, make_case, make_user

pytestmark = pytest.mark.django_db

CRASHES = [
    ("App crashes when I open my statement", "The app crashes every time I open my statement."),
    ("Statement crashes the app", "Opening the monthly statement makes the app crash."),
    ("Crash on statement screen", "Since yesterday the app crashes when I open my statement."),
    ("Cannot open statement, app crashes", "The app crashes as soon as I tap statement."),
    ("Statement makes app crash", "Each time I open the statement the app crashes and closes."),
    ("App closes on statements", "My app crashes whenever I try to view my statement."),
]
USUAL = [
    ("Change my delivery address", "Please send the parcel to my office instead of home."),
    ("Refund for a broken kettle", "The kettle arrived broken, I would like a refund."),
    ("Password reset email missing", "I asked for a password reset but no email came."),
    ("Invoice for my order", "Could you send me the invoice for my last order?"),
    ("Cancel my subscription", "I would like to cancel my subscription from next month."),
    ("Wrong size shoes", "The shoes I received are a size too small, can I swap them?"),
    ("Opening hours", "Is your shop in the city centre open on Sunday afternoons?"),
    ("Gift card balance", "How do I check how much is left on my gift card?"),
    ("Missing parcel", "Tracking says delivered but there is no parcel at my door."),
    ("Update phone number", "I have a new mobile number, please update my account."),
]
CARD_DECLINED = [
    ("Card declined at checkout", "My card is declined at checkout with error 402."),
    ("Checkout declines my card", "At checkout my card is declined, error 402."),
]
VOUCHER = [
    (
        "Voucher code rejected",
        "The newsletter voucher code says invalid when I apply it.",
    ),
    ("Newsletter voucher invalid", "Your newsletter voucher code is rejected as invalid."),
]


@pytest.fixture(params=[problem_vectors.TFIDF, problem_vectors.EMBEDDINGS])
def kind(request, settings):
    """Each test runs with TF-IDF and with sentence embeddings (the extra is installed)."""
    if request.param == problem_vectors.EMBEDDINGS:
        request.applymarker(pytest.mark.embeddings)
    settings.TRIAGE_EMBEDDINGS = "on" if request.param == problem_vectors.EMBEDDINGS else "off"
    assert problem_vectors.representation() == request.param
    return request.param


def cases_of(texts, *, at=None):
    """One case per text, each from a different customer."""
    cases = [make_case(subject=subject, text=text) for subject, text in texts]
    if at is not None:
        Case.objects.filter(pk__in=[c.pk for c in cases]).update(created_at=at)
    return cases


def run_effects() -> None:
    while outbox.effects_sweep():
        pass


def test_a_burst_across_customers_is_one_suggestion_with_its_cases_and_the_rest_is_quiet(
    kind, monkeypatch
):
    encoded: list[str] = []
    embed = problem_vectors.texts_embed
    monkeypatch.setattr(
        problem_vectors, "texts_embed", lambda texts: encoded.extend(texts) or embed(texts)
    )
    now = timezone.now()
    for days_ago in (3, 9, 16, 24):  # the desk's usual cases, weeks of them
        cases_of(USUAL, at=now - timedelta(days=days_ago))
    cases_of(USUAL)
    crashes = cases_of(CRASHES)

    found = problem_detection.problems_detect()

    assert [(d.created, sorted(d.case_ids)) for d in found] == [
        (True, sorted(c.pk for c in crashes))
    ]
    assert found[0].problem.status == ProblemStatus.SUGGESTED
    assert "statement" in found[0].problem.title.lower()
    # Sentence vectors are what embeddings detection compares, and only then.
    assert bool(encoded) is (kind == problem_vectors.EMBEDDINGS)
    assert problem_detection.problems_detect() == []


def test_usual_cases_alone_suggest_nothing(kind):
    now = timezone.now()
    for days_ago in (3, 9, 16, 24):
        cases_of(USUAL, at=now - timedelta(days=days_ago))
    cases_of(USUAL + USUAL[:4])
    assert problem_detection.problems_detect() == []


def brute_force_groups(matrix, threshold) -> list[list[int]]:
    scores = problem_vectors.dense(matrix @ matrix.T)
    _, labels = connected_components(csr_matrix(scores >= threshold), directed=False)
    groups: dict[int, list[int]] = {}
    for row, label in enumerate(labels):
        groups.setdefault(int(label), []).append(row)
    return sorted(groups.values(), key=lambda group: group[0])


@pytest.mark.parametrize("budget", [1, 97, 10_000_000])
def test_the_graph_in_blocks_is_the_brute_force_graph(budget):
    rng = np.random.default_rng(3)
    sparse = sparse_random(300, 40, density=0.08, random_state=4, format="csr")
    sparse = csr_matrix(sparse.multiply(1 / np.sqrt(sparse.multiply(sparse).sum(axis=1) + 1e-12)))
    dense = rng.normal(size=(300, 8)).astype(np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    for matrix, threshold in ((sparse, 0.5), (dense, 0.8)):
        expected = brute_force_groups(matrix, threshold)
        assert len(expected) not in (1, 300)  # some groups, not all one, not all apart
        found = problem_vectors.similarity_groups(
            matrix, threshold, pair_budget=budget, edge_budget=50
        )
        assert found == expected


def test_twenty_thousand_cases_are_grouped_in_bounded_memory():
    """200 topics of 100 cases each: grouped exactly, while the memory used stays a small
    fraction of what the 20,000 × 20,000 similarity matrix alone would take (1.6 GB)."""
    rng = np.random.default_rng(5)
    topics = rng.normal(size=(200, 32))
    vectors = np.repeat(topics, 100, axis=0) + rng.normal(scale=0.08, size=(20_000, 32))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    order = rng.permutation(20_000)
    tracemalloc.start()
    groups = problem_vectors.similarity_groups(vectors[order], 0.85)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 80 * 2**20
    assert len(groups) == 200
    assert all(len(set((order[g] // 100).tolist())) == 1 for g in groups)


# --- linking at intake --------------------------------------------------------------------


def known_problem(boss, cases):
    problem = problems.problem_create(actor=boss, title="Known", cases=cases)
    problems.problem_update(problem=problem, actor=boss, why_chain=["A gateway rule"])
    return problems.problem_transition(problem=problem, to=ProblemStatus.KNOWN_ERROR, actor=boss)


def intake_problem(texts):
    """The known problem each new case (one per text) was linked to at intake, or None."""
    cases = cases_of(texts)
    run_effects()
    links = dict(
        ProblemCase.objects.filter(case__in=cases, via="intake").values_list("case_id", "problem")
    )
    return [links.get(case.pk) for case in cases]


def test_intake_follows_links_unlinks_and_status_changes_of_known_problems(kind):
    boss, agent = make_user(role=Role.MANAGER), make_agent()
    [declined] = cases_of(CARD_DECLINED[:1])
    problem = known_problem(boss, [declined])
    assert intake_problem(CARD_DECLINED[1:]) == [problem.pk]
    assert intake_problem(VOUCHER[:1]) == [None]

    # A case linked by an agent after the index was built is compared with from then on.
    [voucher] = cases_of(VOUCHER[:1])
    problems.problem_case_link(problem=problem, case=voucher, actor=agent)
    assert intake_problem(VOUCHER[1:]) == [problem.pk]

    # Unlinked, it no longer draws new cases.
    for link in ProblemCase.objects.filter(problem=problem).exclude(case=declined):
        problems.problem_case_unlink(problem=problem, case=link.case, actor=agent)
    assert intake_problem(VOUCHER[1:]) == [None]

    # A closed problem is not matched at intake; reopened, it is again.
    problems.problem_transition(problem=problem, to=ProblemStatus.CLOSED, actor=boss)
    assert intake_problem(CARD_DECLINED[1:]) == [None]
    problems.problem_transition(problem=problem, to=ProblemStatus.INVESTIGATING, actor=boss)
    assert intake_problem(CARD_DECLINED[1:]) == [problem.pk]
