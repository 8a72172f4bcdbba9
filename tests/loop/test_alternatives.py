import re

import pytest
from django.contrib.messages import get_messages

from caseloop.cases.loop import alternatives as loop_alternatives, selectors as loop_selectors
from caseloop.cases.loop.errors import LoopError
from caseloop.cases.models import Alternative
from caseloop.web.loop_forms import WeighForm
from tests.builders import make_agent, make_case

from .helpers import kinds

pytestmark = pytest.mark.django_db


def _weighed(case, agent, title, **scores):
    alternative = loop_alternatives.alternative_add(case=case, title=title, actor=agent)
    return loop_alternatives.alternative_weigh(alternative=alternative, actor=agent, scores=scores)


def _weigh_form(html: str, alternative: Alternative) -> str:
    """The weigh form of `alternative` as the loop panel renders it."""
    forms = re.findall(r"<form[^>]*/weigh/\".*?</form>", html, re.S)
    return next(f for f in forms if f'name="alternative" value="{alternative.pk}"' in f)


def test_an_alternative_the_customer_rejected_ranks_last_whatever_its_score():
    agent = make_agent()
    case = make_case(actor=agent)
    refund = _weighed(case, agent, "Full refund", feasibility=5, cost=5, impact=5, timeliness=5)
    _weighed(case, agent, "Repair", feasibility=3, cost=3, impact=3, timeliness=2)
    tried = _weighed(case, agent, "Descale it", feasibility=4)
    loop_alternatives.alternative_weigh(alternative=tried, actor=agent, scores={}, state="tried")
    loop_alternatives.alternative_prefer(alternative=refund, preference="rejected", actor=agent)
    ranked = loop_selectors.alternatives_ranked(case=case)
    assert [a.title for a in ranked] == ["Repair", "Descale it", "Full refund"]
    assert ranked[-1].rank == 3 and ranked[-1].score == 5.0


def test_an_alternative_the_customer_rejected_cannot_be_chosen():
    agent = make_agent()
    case = make_case(actor=agent)
    refund = _weighed(case, agent, "Full refund", feasibility=5)
    loop_alternatives.alternative_prefer(alternative=refund, preference="rejected", actor=agent)
    with pytest.raises(LoopError, match="the customer rejected 'Full refund'"):
        loop_alternatives.alternative_choose(alternative=refund, reason="best score", actor=agent)
    refund.refresh_from_db()
    assert refund.state == "considered" and "alternative_chosen" not in kinds(case)
    # When they change their mind, it can be chosen.
    loop_alternatives.alternative_prefer(alternative=refund, preference="acceptable", actor=agent)
    loop_alternatives.alternative_choose(alternative=refund, reason="they agreed", actor=agent)
    refund.refresh_from_db()
    assert refund.state == "chosen"


def test_a_chosen_alternative_the_customer_then_rejects_is_no_longer_chosen():
    agent = make_agent()
    case = make_case(actor=agent)
    voucher = _weighed(case, agent, "Voucher", impact=3)
    loop_alternatives.alternative_choose(alternative=voucher, reason="quickest", actor=agent)
    loop_alternatives.alternative_prefer(
        alternative=voucher, preference="rejected", actor=agent, note="wants cash"
    )
    voucher.refresh_from_db()
    assert (voucher.state, voucher.customer_preference) == ("considered", "rejected")
    assert case.events.filter(kind="alternative_preference").last().data["unchosen"] is True


def test_weighing_keeps_the_customers_preference_and_its_note():
    agent = make_agent()
    case = make_case(actor=agent)
    repair = _weighed(case, agent, "Repair", feasibility=3)
    loop_alternatives.alternative_prefer(
        alternative=repair, preference="preferred", actor=agent, note="no courier, please"
    )
    loop_alternatives.alternative_weigh(
        alternative=repair, actor=agent, scores={"feasibility": 4, "impact": 4}
    )
    # The same answer again, as a re-submitted form sends it, changes nothing.
    loop_alternatives.alternative_prefer(alternative=repair, preference="preferred", actor=agent)
    repair.refresh_from_db()
    assert (repair.customer_preference, repair.preference_note) == (
        "preferred",
        "no courier, please",
    )
    assert kinds(case).count("alternative_preference") == 1


def test_each_scale_says_what_one_and_five_mean():
    form = WeighForm({}, case=make_case())
    for name in ("feasibility", "cost", "impact", "timeliness"):
        help_text = str(form.fields[name].help_text)
        assert "1 = " in help_text and "5 = " in help_text, name
    assert "5 = the cheapest" in str(form.fields["cost"].help_text)


def test_the_panel_shows_the_preference_keeps_it_when_reweighing_and_refuses_a_rejected_choice(
    client,
):
    agent = make_agent()
    case = make_case(actor=agent)
    refund = _weighed(case, agent, "Full refund", feasibility=5, cost=2)
    loop_alternatives.alternative_weigh(
        alternative=refund, actor=agent, scores={}, cost_amount="80.00"
    )
    _weighed(case, agent, "Repair", feasibility=3)
    client.force_login(agent)
    client.post(
        f"/loop/cases/{case.pk}/weigh/",
        {"alternative": refund.pk, "feasibility": "5", "cost": "2", "preference": "rejected"},
    )
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Customer rejected this" in page
    assert "What it costs us: 1 = the most expensive, 5 = the cheapest." in page
    form = _weigh_form(page, refund)
    assert '<option value="rejected" selected>' in form
    assert 'name="cost_amount" inputmode="decimal" size="6" value="80.00"' in form
    assert page.index("Repair") < page.index("Full refund")
    # Re-weighing posts back what the form shows: the preference and the cost stay.
    client.post(
        f"/loop/cases/{case.pk}/weigh/",
        {
            "alternative": refund.pk,
            "feasibility": "4",
            "cost": "2",
            "cost_amount": "80.00",
            "preference": "rejected",
        },
    )
    refund.refresh_from_db()
    assert (refund.feasibility, refund.customer_preference) == (4, "rejected")
    assert str(refund.cost_amount) == "80.00"
    # No Choose button for it, and choosing it anyway is a clear error.
    assert f'action="/loop/cases/{case.pk}/choose/"' in page
    chose = [f for f in re.findall(r"<form[^>]*/choose/\".*?</form>", page, re.S)]
    assert all(f'value="{refund.pk}"' not in f for f in chose) and len(chose) == 1
    response = client.post(
        f"/loop/cases/{case.pk}/choose/", {"alternative": refund.pk, "reason": "top score"}
    )
    shown = [m.message for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    assert shown and "the customer rejected 'Full refund'" in shown[0]
    refund.refresh_from_db()
    assert refund.state == "considered"


def test_the_api_refuses_to_choose_an_alternative_the_customer_rejected(api):
    from tests.builders import bearer

    agent = make_agent()
    case = make_case(actor=agent)
    base = f"/api/v1/cases/{case.pk}/alternatives"
    added = api.post(base, {"title": "Full refund"}, headers=bearer(agent)).json()
    api.patch(
        f"{base}/{added['id']}",
        {"feasibility": 5, "customer_preference": "rejected"},
        headers=bearer(agent),
    )
    refused = api.post(f"{base}/{added['id']}/choose", {"reason": "x"}, headers=bearer(agent))
    assert refused.status_code == 409, refused.content
    assert "the customer rejected" in refused.json()["detail"]
