import re

import pytest
from django.contrib.messages import get_messages

from caseloop.cases.loop import facts as loop_facts, selectors as loop_selectors
from caseloop.cases.loop.errors import LoopError
from caseloop.cases.models import Fact, FactRequirement
from tests.builders import make_agent, make_case, make_category

pytestmark = pytest.mark.django_db


def test_a_required_fact_is_recorded_by_its_label():
    agent = make_agent()
    case = make_case(actor=agent)
    fact = loop_facts.fact_record(
        case=case, key="Date and time of the problem", value="2026-11-20 14:30", actor=agent
    )
    assert fact.key == "problem_at"
    # Case and spacing do not matter.
    nature = loop_facts.fact_record(
        case=case, key="  nature of THE   problem ", value="Leaks", actor=agent
    )
    assert nature.key == "nature"
    assert loop_selectors.handoff_missing(case=case) == []


def test_a_category_requirement_is_recorded_by_its_label():
    agent = make_agent()
    appliances = make_category(name="Appliances")
    FactRequirement.objects.create(category=appliances, key="serial", label="Serial number")
    case = make_case(actor=agent, category=appliances)
    fact = loop_facts.fact_record(case=case, key="Serial number", value="K-2 0042", actor=agent)
    assert fact.key == "serial"
    elsewhere = make_case(actor=agent)
    # Where no requirement has that label, the words become a key of their own.
    assert (
        loop_facts.fact_record(case=elsewhere, key="Serial number", value="x", actor=agent).key
        == "serial_number"
    )


def test_keys_still_work_and_a_name_without_letters_is_refused():
    agent = make_agent()
    case = make_case(actor=agent)
    order = loop_facts.fact_record(case=case, key="order_id", value="A-1", actor=agent)
    when = loop_facts.fact_record(case=case, key="Problem_At", value="x", actor=agent)
    assert (order.key, when.key) == ("order_id", "problem_at")
    with pytest.raises(LoopError, match="name the fact"):
        loop_facts.fact_record(case=case, key="?!", value="x", actor=agent)
    with pytest.raises(LoopError, match="say which fact"):
        loop_facts.fact_record(case=case, key=" ", value="x", actor=agent)
    assert Fact.objects.filter(case=case).count() == 2


def test_the_fact_form_offers_the_missing_facts_by_label_and_takes_other_names(client):
    agent = make_agent()
    case = make_case(actor=agent)
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    select = re.search(r'<select id="loop-fact-key" name="key">(.*?)</select>', page, re.S)
    assert select is not None
    options = re.findall(r'<option value="([^"]*)">([^<]*)</option>', select.group(1))
    # Name and contact come from the profile: only what is missing is offered, then "other".
    assert options == [
        ("problem_at", "Date and time of the problem *"),
        ("nature", "Nature of the problem *"),
        ("", "Other (name it below)"),
    ]

    def post(data):
        response = client.post(f"/loop/cases/{case.pk}/fact/", data)
        return [m.message for m in get_messages(response.wsgi_request) if m.level_tag == "error"]

    assert post({"key": "problem_at", "other": "", "value": "yesterday 10:00"}) == []
    # An agent who types the label under "other" gets the same fact.
    assert post({"key": "", "other": "Nature of the problem", "value": "Leaks"}) == []
    assert post({"key": "", "other": "Serial number", "value": "K-2 0042"}) == []
    assert post({"key": "", "other": "", "value": "x"}) == [
        "choose a fact, or name it under 'other'"
    ]
    current = {key: fact.value for key, fact in loop_selectors.facts_current(case=case).items()}
    assert current == {
        "problem_at": "yesterday 10:00",
        "nature": "Leaks",
        "serial_number": "K-2 0042",
    }
    again = client.get(f"/cases/{case.pk}/").content.decode()
    select = re.search(r'<select id="loop-fact-key" name="key">(.*?)</select>', again, re.S)
    assert select.group(1).count("<option") == 1  # only "other" is left
