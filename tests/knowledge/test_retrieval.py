"""Knowledge search ranks by words, by meaning and by the desk's history, fused: a question
phrased like one an article already answered finds that article, and what a search may show
is still decided by the database alone."""

import io

import pytest
from django.core.management import call_command

from caseloop.cases.services import case_transition
from caseloop.knowledge import search
from caseloop.knowledge.models import Audience, RetrievalModel
from caseloop.knowledge.search.meaning import ENCODER_WORDS, Example, index_build
from caseloop.knowledge.selectors import case_suggestions
from caseloop.knowledge.services import (
    article_create,
    article_update,
    deflection_record,
    suggestion_feedback_record,
)
from caseloop.knowledge.tasks import retrieval_refresh
from caseloop.lib.sentences import sentence_vectors_available
from tests.builders import make_case

pytestmark = pytest.mark.django_db

# Said the way customers said it before; the refund article uses none of these words.
ANSWERED = [
    ("My sofa arrived torn", "The couch was delivered with a ripped cushion, I want my money back"),
    ("Broken settee", "Our settee came with a cracked leg, can I get my money back"),
    ("Damaged couch", "The couch frame is split and the fabric ripped, I want my money returned"),
]
QUESTION = "my couch came with a ripped cushion and I would like my money back"


@pytest.fixture(autouse=True)
def _models_in_tmp(settings, tmp_path):
    settings.DATA_DIR = tmp_path


@pytest.fixture
def desk(publish):
    refund = publish(
        title="Refunds for items damaged in delivery",
        body="If furniture reaches you damaged, we refund the full price after a photo.",
    )
    password = publish(
        title="Resetting your password",
        body="Use the link on the sign-in page to choose a new password for your account.",
    )
    loyalty = publish(
        title="Loyalty points",
        body="Every purchase earns points; points buy discounts on your next order.",
    )
    return refund, password, loyalty


def _answered_with(article, agent, questions=ANSWERED):
    """Solved cases an agent solved with `article`, as the desk records them."""
    for subject, text in questions:
        case = make_case(subject=subject, text=text)
        suggestion_feedback_record(case=case, user=agent, verdict="used", article=article)
        case_transition(case=case, to="open", actor=agent)
        case_transition(case=case, to="solved", actor=agent)


def _ids(hits):
    return [hit.article_id for hit in hits]


def test_a_question_like_a_resolved_case_finds_the_article_that_solved_it(agent, desk):
    refund, _, _ = desk
    _answered_with(refund, agent)
    # Full text alone cannot: the question shares no word with the article.
    assert refund.pk not in _ids(search.search_articles(QUESTION, audience="public"))
    assert search.retrieval_rebuild() is not None
    hits = search.search_articles(QUESTION, audience="public")
    assert _ids(hits)[0] == refund.pk
    assert hits[0].snippet_html.startswith("If furniture reaches you damaged")


def test_history_counts_only_cases_that_were_solved(agent, desk):
    refund, _, _ = desk
    for subject, text in ANSWERED:
        case = make_case(subject=subject, text=text)
        suggestion_feedback_record(case=case, user=agent, verdict="used", article=refund)
    search.retrieval_rebuild()
    assert RetrievalModel.objects.get().n_examples == 0
    assert search.retrieval_index_active().history is None


def test_a_deflected_search_teaches_the_article_its_question(agent, desk):
    refund, _, _ = desk
    for _, text in ANSWERED:
        deflection_record(article=refund, query=text)
    search.retrieval_rebuild()
    assert _ids(search.search_articles(QUESTION, audience="public"))[0] == refund.pk


def test_the_meaning_ranker_finds_an_article_full_text_misses(agent, desk):
    _, password, _ = desk
    query = "paswords resseting"
    assert search.search_articles(query, audience="public", typo_fallback=False) == []
    search.retrieval_rebuild()
    search.FUSION_WEIGHTS["history"], saved = 0.0, search.FUSION_WEIGHTS["history"]
    try:
        hits = search.search_articles(query, audience="public", typo_fallback=False)
    finally:
        search.FUSION_WEIGHTS["history"] = saved
    assert _ids(hits)[:1] == [password.pk]


def test_unrelated_words_find_nothing_by_meaning(agent, desk):
    refund, _, _ = desk
    _answered_with(refund, agent)
    search.retrieval_rebuild()
    assert search.search_articles("zebra xylophone quantum", audience="public") == []


def test_the_public_never_sees_internal_or_draft_articles_the_index_knows(agent, publish):
    internal = publish(
        title="Refund approvals above the limit",
        body="Ask a team lead to approve a refund above 500.",
        audience=Audience.INTERNAL,
    )
    draft = article_create(
        title="Refund draft", body="Not reviewed yet.", actor=agent, audience=Audience.PUBLIC
    )
    _answered_with(internal, agent)
    _answered_with(draft, agent)
    search.retrieval_rebuild()
    public = _ids(search.search_articles(QUESTION, audience="public"))
    assert internal.pk not in public and draft.pk not in public
    assert _ids(search.search_articles(QUESTION, audience="agent"))[0] == internal.pk
    assert search.search_articles(QUESTION, audience="agent", limit=5)
    assert draft.pk not in _ids(search.search_articles(QUESTION, audience="agent"))


def test_the_index_is_rebuilt_only_when_articles_or_history_change(agent, desk):
    refund, _, _ = desk
    assert retrieval_refresh.call_local() is True
    assert retrieval_refresh.call_local() is False
    article_update(article=refund, actor=agent, body="Damaged furniture is refunded in full.")
    assert retrieval_refresh.call_local() is True
    _answered_with(refund, agent, ANSWERED[:1])
    assert retrieval_refresh.call_local() is True
    assert RetrievalModel.objects.count() == 2  # older builds removed with their files


def test_an_edited_article_is_found_by_its_new_words_before_the_rebuild(agent, desk):
    refund, _, _ = desk
    search.retrieval_rebuild()
    article_update(article=refund, actor=agent, body="Torn upholstery? We pay you back.")
    assert _ids(search.search_articles("torn upholstery", audience="public"))[0] == refund.pk


def test_fusion_prefers_agreement_between_rankers():
    fused = search.rankings_fuse({"text": [1, 2, 3], "meaning": [2, 1, 3], "history": [3]})
    # 3 is only third by words and meaning, but history, which counts most, ranks it first;
    # 1 and 2 tie, and a tie goes to the lower id.
    assert [pk for pk, _ in fused] == [3, 1, 2]


def test_the_case_page_suggests_the_article_that_solved_cases_like_it(agent, desk):
    refund, password, loyalty = desk
    _answered_with(refund, agent)
    search.retrieval_rebuild()
    case = make_case(
        subject="Sofa delivered damaged",
        text="The couch has a ripped cushion. I would like a refund, my account number is 4411.",
    )
    suggested = [s.article_id for s in case_suggestions(case=case, user=agent).articles]
    assert suggested[0] == refund.pk


def test_an_index_without_history_still_ranks_by_meaning():
    index = index_build(
        articles=[(1, "Resetting your password", "Choose a new password"), (2, "Refunds", "Money")],
        examples=[],
        encoder=ENCODER_WORDS,
    )
    assert index.history is None
    ranked = index.meaning_ranked(index.query_encode("new password please"), limit=5)
    assert ranked[0][0] == 1


def test_one_learned_article_is_told_apart_from_the_rest():
    index = index_build(
        articles=[(1, "Refunds", "Money back"), (2, "Passwords", "Sign in"), (3, "Points", "Earn")],
        examples=[Example(article_id=1, text="couch ripped want money back")],
        encoder=ENCODER_WORDS,
    )
    ranked = index.history_ranked(index.query_encode("ripped couch money back"), limit=5)
    assert [pk for pk, _ in ranked][:1] == [1]


@pytest.mark.skipif(not sentence_vectors_available(), reason="needs the embeddings extra")
def test_with_the_embeddings_extra_articles_are_ranked_by_sentence_vectors(agent, desk, settings):
    refund, _, _ = desk
    settings.KNOWLEDGE_EMBEDDINGS = "auto"
    _answered_with(refund, agent)
    model = search.retrieval_rebuild()
    assert model is not None and model.encoder == "sentences"
    assert _ids(search.search_articles(QUESTION, audience="public"))[0] == refund.pk


def test_kb_index_builds_the_meaning_and_history_index(agent, desk):
    out = io.StringIO()
    call_command("kb_index", "--articles", stdout=out)
    assert "meaning and history index v1 (words): 3 articles" in out.getvalue()
    assert search.retrieval_index_active() is not None
