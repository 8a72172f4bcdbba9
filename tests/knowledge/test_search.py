import pytest
from django.core.exceptions import PermissionDenied

from caseloop.knowledge.models import Audience, Kind, State
from caseloop.knowledge.search import ArticleFilters, search_articles, search_messages
from caseloop.knowledge.services import article_create, article_update
from tests.builders import make_case, make_category, make_customer_user

pytestmark = pytest.mark.django_db


def test_title_match_ranks_above_body_match(publish):
    body_only = publish(
        title="Changing your address",
        body="Update the address on file. If a refund is late, see the other article.",
    )
    in_title = publish(title="Refund timing", body="Refunds take five working days to arrive.")
    hits = search_articles("refund", audience="public")
    assert [hit.article_id for hit in hits] == [in_title.pk, body_only.pk]
    assert hits[0].score > hits[1].score


def test_article_matching_more_words_ranks_first(publish):
    one = publish(title="Card delivery", body="Cards arrive in a week.")
    both = publish(title="Card arrival is late", body="If your card has not arrived, tell us.")
    hits = search_articles("my card has not arrived yet", audience="public")
    assert hits[0].article_id == both.pk
    assert one.pk in [hit.article_id for hit in hits]


def test_snippets_highlight_matches_and_escape_the_text(publish):
    publish(
        title="Script safety",
        body="Never paste `<img src=x onerror=alert(1)>` into the chat; the password reset "
        "link arrives by email.",
    )
    [hit] = search_articles("password reset", audience="public")
    assert "<mark>password</mark>" in hit.snippet_html
    assert "<img" not in hit.snippet_html
    assert "&lt;img src=x onerror=alert(1)&gt;" in hit.snippet_html
    without_marks = hit.snippet_html.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in without_marks


def test_public_search_never_returns_internal_or_unpublished_articles(publish, agent):
    public = publish(title="Refund policy", body="Refunds within 30 days.")
    publish(title="Refund override", body="Internal refund trick.", audience=Audience.INTERNAL)
    article_create(
        title="Refund draft", body="Draft refund text.", actor=agent, audience=Audience.PUBLIC
    )
    assert [hit.article_id for hit in search_articles("refund", audience="public")] == [public.pk]
    agent_hits = search_articles("refund", audience="agent")
    assert len(agent_hits) == 2
    # Even filters asking for drafts do not widen what the public sees.
    leak = search_articles(
        "refund", audience="public", filters=ArticleFilters(states=(State.DRAFT,))
    )
    assert [hit.article_id for hit in leak] == [public.pk]


def test_filters_narrow_by_category_kind_language_and_tags(publish):
    billing = make_category(name="Billing")
    a = publish(
        title="Invoice copy",
        body="Download an invoice.",
        category=billing,
        kind=Kind.PROCEDURE,
        tags=["invoice", "pdf"],
    )
    b = publish(title="Invoice errors", body="Wrong invoice amount.", kind=Kind.TROUBLESHOOTING)
    c = publish(title="Facture", body="Télécharger une invoice.", language="fr")

    def ids(**filters):
        hits = search_articles("invoice", audience="public", filters=ArticleFilters(**filters))
        return {hit.article_id for hit in hits}

    assert ids() == {a.pk, b.pk, c.pk}
    assert ids(category=billing.pk) == {a.pk}
    assert ids(kind=Kind.TROUBLESHOOTING) == {b.pk}
    assert ids(language="fr") == {c.pk}
    assert ids(tags=("pdf",)) == {a.pk}
    assert ids(tags=("pdf", "missing")) == set()


def test_a_misspelt_query_falls_back_to_the_closest_words(publish):
    article = publish(title="Password reset", body="Use the reset link to choose a new password.")
    hits = search_articles("pasword rest", audience="public")
    assert [hit.article_id for hit in hits] == [article.pk]
    assert hits[0].corrected_query == "password reset"
    assert search_articles("zzzzqqq", audience="public") == []


def test_edits_are_searchable_at_once(publish, agent):
    article = publish(title="Delivery times", body="Parcels take three days.")
    assert search_articles("courier", audience="public") == []
    article_update(article=article, actor=agent, body="Our courier takes three days.")
    assert [hit.article_id for hit in search_articles("courier", audience="public")] == [article.pk]


def test_search_as_you_type_matches_a_word_prefix(publish):
    article = publish(title="Cancelling a subscription", body="Cancel any time.")
    hits = search_articles("subscri", audience="public", prefix=True)
    assert [hit.article_id for hit in hits] == [article.pk]


def test_agents_search_past_case_messages(agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        hit_case = make_case(subject="Broken kettle", text="The kettle lid snapped off on day two.")
        make_case(subject="Late parcel", text="Still waiting for my parcel.")
    hits = search_messages("kettle lid", user=agent)
    assert [hit.case_id for hit in hits] == [hit_case.pk]
    assert "<mark>kettle</mark>" in hits[0].snippet_html
    assert hits[0].case_reference == hit_case.reference


def test_message_search_falls_back_to_any_word(agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(subject="Broken kettle", text="The kettle lid snapped off.")
    assert {hit.case_id for hit in search_messages("kettle toaster", user=agent)} == {case.pk}


def test_customers_cannot_search_messages():
    with pytest.raises(PermissionDenied):
        search_messages("kettle", user=make_customer_user())


def test_typo_corrections_never_reveal_words_of_internal_articles(publish):
    publish(title="Refund times", body="Refunds take five days.")
    publish(
        title="Chargeback override", body="Internal chargeback steps.", audience=Audience.INTERNAL
    )
    hits = search_articles("refnd chargebak", audience="public")
    assert [hit.title for hit in hits] == ["Refund times"]
    assert hits[0].corrected_query == "refund chargebak"
    assert search_articles("chargebak", audience="public") == []
    assert search_articles("chargebak", audience="agent")[0].corrected_query == "chargeback"


def test_message_search_ranks_the_most_recent_matches(
    agent, monkeypatch, django_capture_on_commit_callbacks
):
    from caseloop.knowledge.search import lite, pg

    monkeypatch.setattr(lite, "RECENT_MATCHES", 2)
    monkeypatch.setattr(pg, "RECENT_MATCHES", 2)
    with django_capture_on_commit_callbacks(execute=True):
        oldest = make_case(subject="Blender", text="blender blender blender jar cracked")
        newer = make_case(subject="Blender", text="blender lid")
        newest = make_case(subject="Blender", text="my blender")
    hits = search_messages("blender", user=agent)
    found = {hit.case_id for hit in hits}
    assert oldest.pk not in found
    assert newest.pk in found or newer.pk in found
