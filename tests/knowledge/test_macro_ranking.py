"""Prepared responses ranked for the case: category, loop stage, what agents used, what the
customer was already sent, the problem's words and the team; each with its reasons."""

from datetime import timedelta
from typing import get_args

import pytest
from django.utils import timezone

from caseloop.cases.loop.problem import problem_paraphrase_set, problem_send_for_confirmation
from caseloop.cases.loop.selectors import LOOP_STAGES, case_stage_current
from caseloop.cases.models import Message
from caseloop.cases.services import case_update
from caseloop.knowledge.api import StageName
from caseloop.knowledge.errors import MacroInvalid, MacroNotAllowed
from caseloop.knowledge.macro_ranking import macros_rank_for_case
from caseloop.knowledge.models import Macro, MacroUse
from caseloop.knowledge.services import (
    macro_apply,
    macro_create,
    macro_update,
    macros_sent_record,
)
from tests.builders import bearer, make_agent, make_case, make_category, make_customer, make_team

pytestmark = pytest.mark.django_db


def names(ranked):
    return [item.macro.name for item in ranked]


def reasons_of(ranked, name):
    return next(item.reasons for item in ranked if item.macro.name == name)


def card_case(**overrides):
    return make_case(
        category=make_category(name="Card payments"),
        subject="Payment declined",
        text="My card was declined at checkout.",
        **overrides,
    )


def test_a_macro_for_the_cases_category_comes_first_and_one_for_others_last():
    agent = make_agent()
    card, delivery = make_category(name="Card payments"), make_category(name="Delivery")
    macro_create(name="A general note", body="Thanks for writing.", actor=agent)
    macro_create(name="B delivery", body="About your parcel.", actor=agent, categories=[delivery])
    macro_create(name="C charges", body="We have looked into it.", actor=agent, categories=[card])
    case = card_case()
    ranked = macros_rank_for_case(user=agent, case=case)
    assert names(ranked) == ["C charges", "A general note", "B delivery"]
    assert reasons_of(ranked, "C charges")[0] == "fits Card payments"
    assert "made for other categories" in reasons_of(ranked, "B delivery")
    # Without categories named, the same macros come back to name order.
    Macro.objects.get(name="C charges").categories.clear()
    Macro.objects.get(name="B delivery").categories.clear()
    assert names(macros_rank_for_case(user=agent, case=case)) == [
        "A general note",
        "B delivery",
        "C charges",
    ]


def test_the_loop_stage_moves_the_macros_made_for_it():
    agent = make_agent()
    macro_create(
        name="A ask to confirm", body="Did I get it right?", actor=agent, stages=["problem"]
    )
    macro_create(name="B facts", body="When did it happen?", actor=agent, stages=["needs"])
    case = make_case(subject="Kettle", text="It leaks.")
    assert case_stage_current(case=case) == "problem"
    ranked = macros_rank_for_case(user=agent, case=case)
    assert names(ranked) == ["A ask to confirm", "B facts"]
    assert reasons_of(ranked, "A ask to confirm") == ["fits this stage (problem statement)"]
    assert reasons_of(ranked, "B facts") == ["made for other stages"]
    # The paraphrase sent for confirmation: the loop waits on the customer and works on.
    problem_paraphrase_set(case=case, paraphrase="The kettle leaks.", actor=agent)
    problem_send_for_confirmation(case=case, actor=agent)
    assert case_stage_current(case=case) == "needs"
    assert names(macros_rank_for_case(user=agent, case=case)) == ["B facts", "A ask to confirm"]


def test_what_agents_used_on_such_cases_lifts_a_macro_smoothed():
    agent = make_agent()
    first = macro_create(name="A first by name", body="Hello.", actor=agent)
    learned = macro_create(name="B learned", body="Hello again.", actor=agent)
    earlier = [card_case() for _ in range(3)]
    macro_apply(macro=learned, case=earlier[0], agent=agent)
    use = MacroUse.objects.get()
    assert (use.category, use.stage, use.customer_id, use.agent) == (
        earlier[0].category,
        "problem",
        earlier[0].customer_id,
        agent,
    )
    ranked = macros_rank_for_case(user=agent, case=card_case())
    assert names(ranked) == ["B learned", "A first by name"]
    assert reasons_of(ranked, "B learned") == [
        "used once in Card payments",
        "used once at this stage",
    ]
    one_use = ranked[0].score
    for case in earlier[1:]:
        macro_apply(macro=learned, case=case, agent=agent)
    ranked_again = macros_rank_for_case(user=agent, case=card_case())
    assert "used 3 times in Card payments" in reasons_of(ranked_again, "B learned")
    # Three times the uses lift it further, but less than three times as far: smoothed.
    assert one_use < ranked_again[0].score < 3 * one_use
    # Uses on other categories and at other stages teach nothing about this one.
    other = make_case(category=make_category(name="Delivery"), subject="Late", text="Late.")
    problem_paraphrase_set(case=other, paraphrase="Late parcel.", actor=agent)
    problem_send_for_confirmation(case=other, actor=agent)
    for _ in range(5):
        MacroUse.objects.create(
            macro=first, case=other, category=other.category, stage="needs", agent=agent
        )
    assert names(macros_rank_for_case(user=agent, case=card_case()))[0] == "B learned"


def test_a_macro_already_sent_to_the_customer_at_this_stage_is_not_offered_first_again():
    agent = make_agent()
    card = make_category(name="Card payments")
    customer = make_customer(name="Grace Hopper")
    fits = macro_create(name="A fits best", body="About your card.", actor=agent, categories=[card])
    macro_create(name="B next best", body="Thanks for writing.", actor=agent)
    earlier = make_case(customer=customer, category=card, subject="Declined", text="Declined.")
    macro_apply(macro=fits, case=earlier, agent=agent)
    now = make_case(customer=customer, category=card, subject="Declined", text="Again.")
    ranked = macros_rank_for_case(user=agent, case=now)
    assert names(ranked) == ["B next best", "A fits best"]
    sent = ranked[1]
    assert sent.sent_at_this_stage and sent.sent_to_customer_at is not None
    day = timezone.localtime(sent.sent_to_customer_at)
    assert f"sent to this customer on {day.day} {day:%b %Y}" in sent.reasons
    # Another customer's case is not affected, and the use still teaches the category.
    other = macros_rank_for_case(user=agent, case=card_case())
    assert names(other)[0] == "A fits best" and not other[0].sent_at_this_stage
    # Long ago is not "already sent".
    MacroUse.objects.update(created_at=timezone.now() - timedelta(days=200))
    assert names(macros_rank_for_case(user=agent, case=now))[0] == "A fits best"


def test_the_problems_words_and_the_cases_team_count():
    member = make_agent()
    team = make_team(name="Payments", members=[member])
    macro_create(name="A parcel", body="Your parcel is on its way with the courier.", actor=member)
    macro_create(
        name="B declined card", body="Your card payment was declined by the bank.", actor=member
    )
    case = card_case()
    ranked = macros_rank_for_case(user=member, case=case)
    assert names(ranked) == ["B declined card", "A parcel"]
    assert "its words match the problem" in reasons_of(ranked, "B declined card")
    macro_create(name="C team", body="Hello.", actor=member, team=team)
    case = case_update(case=case, actor=member, team=team)
    ranked = macros_rank_for_case(user=member, case=case)
    assert "for Payments" in reasons_of(ranked, "C team")
    assert names(ranked).index("C team") < names(ranked).index("A parcel")


def test_another_teams_macro_is_never_offered_however_well_it_fits():
    member, outsider = make_agent(), make_agent()
    team = make_team(name="Payments", members=[member])
    card = make_category(name="Card payments")
    macro_create(
        name="Team card", body="Card declined.", actor=member, team=team, categories=[card]
    )
    macro_create(name="Global", body="Hello.", actor=member)
    case = card_case()
    case = case_update(case=case, actor=member, team=team)
    assert names(macros_rank_for_case(user=member, case=case)) == ["Team card", "Global"]
    assert names(macros_rank_for_case(user=outsider, case=case)) == ["Global"]
    with pytest.raises(MacroNotAllowed):
        macro_apply(macro=Macro.objects.get(name="Team card"), case=case, agent=outsider)
    # A reply carrying it does not count it either.
    assert (
        macros_sent_record(
            macro_ids=[Macro.objects.get(name="Team card").pk], case=case, agent=outsider
        )
        == []
    )
    assert not MacroUse.objects.exists()


def test_unknown_stages_are_refused_and_stages_keep_the_loops_order():
    agent = make_agent()
    with pytest.raises(MacroInvalid) as refused:
        macro_create(name="Bad", body="Hi", actor=agent, stages=["data"])
    assert refused.value.field == "stages" and "data" in str(refused.value)
    macro = macro_create(name="Good", body="Hi", actor=agent, stages=["plan", "problem", "plan"])
    assert macro.stages == ["problem", "plan"]
    with pytest.raises(MacroInvalid):
        macro_update(macro=macro, actor=agent, stages=["nope"])
    assert set(get_args(StageName)) == set(LOOP_STAGES)


# -- the case page -----------------------------------------------------------------------------


def test_the_case_page_shows_the_ranked_macros_with_reasons_and_use_fills_placeholders(client):
    agent = make_agent(first_name="Ada", last_name="Lovelace")
    card = make_category(name="Card payments")
    macro_create(name="A general", body="Thanks for writing.", actor=agent)
    fits = macro_create(
        name="B card",
        body="Hello {customer_first_name}, {agent_first_name} here about {case_reference}.",
        actor=agent,
        categories=[card],
    )
    case = make_case(customer=make_customer(name="Grace Hopper"), category=card, subject="Card")
    client.force_login(agent)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    panel = html[html.index('class="kb-macros"') :]
    assert panel.index("B card") < panel.index("A general")
    assert "fits Card payments" in panel
    filled = f"Hello Grace, Ada here about {case.reference}."
    assert f'data-macro="{fits.pk}" data-text="{filled}"' in panel
    assert ">Use</button>" in panel
    # The composer's list is in the same order, and its "Use" gets the same text.
    composer = html[html.index('id="reply-macro"') :]
    assert composer.index("B card") < composer.index("A general")
    assert client.get(f"/cases/{case.pk}/macros/{fits.pk}/").json() == {"text": filled}
    # "Use" sends nothing.
    assert not Message.objects.filter(case=case, direction="outbound").exists()


def test_a_reply_that_carries_a_used_macro_counts_as_its_use(client):
    agent = make_agent()
    macro = macro_create(name="Thanks", body="Thanks {customer_name}.", actor=agent)
    case = card_case()
    client.force_login(agent)
    response = client.post(
        f"/cases/{case.pk}/reply/",
        {"text": "Thanks, we are on it.", "kind": "reply", "macro": [str(macro.pk), "x", "9" * 40]},
    )
    assert response.status_code == 302
    use = MacroUse.objects.get()
    assert (use.macro, use.case, use.category, use.stage) == (
        macro,
        case,
        case.category,
        "problem",
    )
    macro.refresh_from_db()
    assert macro.times_used == 1
    # A note is not sent to the customer: it does not count.
    client.post(f"/cases/{case.pk}/reply/", {"text": "Note.", "kind": "note", "macro": macro.pk})
    assert MacroUse.objects.count() == 1


# -- the API -----------------------------------------------------------------------------------


def test_the_api_lists_macros_ranked_for_a_case_with_scores_and_reasons(api):
    agent = make_agent()
    headers = bearer(agent)
    card = make_category(name="Card payments")
    created = api.post(
        "/api/v1/knowledge/macros",
        {
            "name": "B card",
            "body": "About your card, {customer_name}.",
            "categories": ["card-payments"],
            "stages": ["problem"],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.content
    assert (created.json()["categories"], created.json()["stages"]) == (
        ["card-payments"],
        ["problem"],
    )
    macro_create(name="A general", body="Hello.", actor=agent)
    case = make_case(category=card, subject="Card", text="Declined.")
    listed = api.get("/api/v1/knowledge/macros", headers=headers, case=case.reference)
    assert listed.status_code == 200
    body = listed.json()
    assert [m["name"] for m in body] == ["B card", "A general"]
    assert body[0]["score"] > body[1]["score"]
    assert body[0]["reasons"][:2] == ["fits Card payments", "fits this stage (problem statement)"]
    # Without a case: by name, no score.
    plain = api.get("/api/v1/knowledge/macros", headers=headers).json()
    assert [m["name"] for m in plain] == ["A general", "B card"]
    assert plain[0]["score"] is None and plain[0]["reasons"] == []


def test_the_api_refuses_unknown_categories_and_stages_with_a_4xx(api):
    agent = make_agent()
    headers = bearer(agent)
    make_category(name="Card payments")
    base = {"name": "M", "body": "Hi"}
    unknown_category = api.post(
        "/api/v1/knowledge/macros", {**base, "categories": ["no-such"]}, headers=headers
    )
    assert unknown_category.status_code == 422
    assert "no-such" in unknown_category.content.decode()
    huge_id = api.post(
        "/api/v1/knowledge/macros", {**base, "categories": ["9" * 40]}, headers=headers
    )
    assert huge_id.status_code == 422
    unknown_stage = api.post(
        "/api/v1/knowledge/macros", {**base, "stages": ["data"]}, headers=headers
    )
    assert unknown_stage.status_code == 422
    assert not Macro.objects.exists()
    macro = macro_create(name="M", body="Hi", actor=agent)
    patched = api.patch(
        f"/api/v1/knowledge/macros/{macro.pk}",
        {"categories": ["card-payments"], "stages": ["plan"]},
        headers=headers,
    )
    assert patched.status_code == 200, patched.content
    assert (patched.json()["categories"], patched.json()["stages"]) == (["card-payments"], ["plan"])
    bad = api.patch(f"/api/v1/knowledge/macros/{macro.pk}", {"stages": ["x"]}, headers=headers)
    assert bad.status_code == 422
    cleared = api.patch(
        f"/api/v1/knowledge/macros/{macro.pk}", {"categories": None, "stages": []}, headers=headers
    )
    assert (cleared.json()["categories"], cleared.json()["stages"]) == ([], [])
    missing_case = api.get("/api/v1/knowledge/macros", headers=headers, case="CL-999999")
    assert missing_case.status_code == 404


# -- the settings pages ------------------------------------------------------------------------


def test_the_settings_form_saves_what_a_macro_fits_and_refuses_unknown_ones(client):
    from caseloop.accounts.models import Role
    from tests.builders import make_user

    client.force_login(make_user(role=Role.ADMIN))
    card, delivery = make_category(name="Card payments"), make_category(name="Delivery")
    form = {
        "name": "Card declined",
        "body": "Hello {customer_name}, about your card.",
        "categories": [card.pk, delivery.pk],
        "stages": ["alternatives", "problem"],
        "is_active": "on",
    }
    page = client.get("/settings/macros/new/").content.decode()
    assert "Fits the loop stages" in page and "Gather data" in page and "Card payments" in page
    assert client.post("/settings/macros/new/", form).status_code == 302
    macro = Macro.objects.get()
    assert set(macro.categories.all()) == {card, delivery}
    assert macro.stages == ["problem", "alternatives"]
    listed = client.get("/settings/macros/").content.decode()
    assert "Card payments, Delivery, problem statement, alternatives" in listed
    edit = client.get(f"/settings/macros/{macro.pk}/")
    assert set(edit.context["form"].initial["categories"]) == {card.pk, delivery.pk}
    assert edit.context["form"].initial["stages"] == ["problem", "alternatives"]
    changed = {**form, "categories": [delivery.pk], "stages": []}
    assert client.post(f"/settings/macros/{macro.pk}/", changed).status_code == 302
    macro.refresh_from_db()
    assert list(macro.categories.all()) == [delivery] and macro.stages == []
    for bad, field in (
        ({"stages": ["data"]}, "stages"),
        ({"categories": ["999999"]}, "categories"),
    ):
        response = client.post(f"/settings/macros/{macro.pk}/", {**form, **bad})
        assert response.status_code == 422, bad
        assert field in response.context["form"].errors
    response = client.post("/settings/macros/new/", {**form, "categories": ["x" * 30]})
    assert response.status_code == 422
    assert Macro.objects.count() == 1


# The macros with their categories, what agents used, what the customer was sent, the
# problem's text and the loop stage (most of them: `case_stage_current` reads each stage).
RANK_QUERIES = 19


def test_ranking_reads_the_same_number_of_queries_for_few_macros_as_for_many():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    agent = make_agent()
    team = make_team(name="Payments", members=[agent])
    card = make_category(name="Card payments")
    customer = make_customer()
    case = make_case(customer=customer, category=card, subject="Card", text="Declined.")
    case = case_update(case=case, actor=agent, team=team)

    def grow(to):
        while Macro.objects.count() < to:
            n = Macro.objects.count()
            macro = macro_create(
                name=f"Macro {n}",
                body="Hello {customer_name}.",
                actor=agent,
                team=team if n % 2 else None,
                categories=[card],
                stages=["problem"],
            )
            macro_apply(macro=macro, case=make_case(customer=customer, category=card), agent=agent)

    counts = []
    for size in (2, 6):
        grow(size)
        ranked = macros_rank_for_case(user=agent, case=case)
        assert len(ranked) == size
        with CaptureQueriesContext(connection) as captured:
            macros_rank_for_case(user=agent, case=case)
        counts.append(len(captured))
    assert counts == [RANK_QUERIES, RANK_QUERIES]
