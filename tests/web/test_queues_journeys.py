"""Journeys through the agent inbox's queues: an escalation reaches the person it goes to,
a routed case lands in its agent's Mine, and a search finds a case whatever the queue."""

import pytest

from caseloop.cases.loop import escalations, facts
from caseloop.cases.models import CaseEvent, Status
from caseloop.cases.services import case_transition
from caseloop.lib.realtime import user_group
from caseloop.triage.models import RoutingRule, TeamRouting
from caseloop.triage.routing import case_route
from tests.builders import make_agent, make_case, make_category, make_escalation, make_team

pytestmark = pytest.mark.django_db


def queue(client, name, **params):
    response = client.get("/inbox/", {"queue": name, **params})
    return {case.reference for case in response.context["page"].cases}


def queues_holding(client, case):
    names = ["mine", "team", "unassigned", "escalated", "waiting", "all"]
    return {name for name in names if case.reference in queue(client, name)}


def escalate_to_team(*, case, owner, team):
    facts.fact_record(case=case, key="problem_at", value="2026-11-20 14:30", actor=owner)
    facts.fact_record(case=case, key="nature", value=case.subject, actor=owner)
    return escalations.case_escalate(case=case, actor=owner, reason="billing expert", to_team=team)


# -- an escalation reaches the person it goes to ----------------------------------------


def test_an_escalation_waiting_for_a_specialist_is_in_their_escalated_queue(client):
    owner, specialist = make_agent(), make_agent()
    case = make_case(subject="Refund over my limit")
    escalation = make_escalation(case=case, owner=owner, solver=specialist, accept=False)
    client.force_login(specialist)
    assert queues_holding(client, case) == {"escalated", "all"}
    assert client.get("/inbox/").context["counts"]["escalated"] == 1
    # Accepted, it stays there; returned to the owner with a question, it leaves.
    escalations.escalation_accept(escalation=escalation, solver=specialist)
    assert queues_holding(client, case) == {"escalated", "waiting", "all"}
    escalations.escalation_return(escalation=escalation, actor=specialist, question="Which card?")
    assert "escalated" not in queues_holding(client, case)
    client.force_login(owner)
    assert "escalated" not in queues_holding(client, case)


def test_an_escalation_to_a_team_waits_in_each_members_escalated_queue(client):
    owner, member, outsider = make_agent(), make_agent(), make_agent()
    team = make_team(members=[member, owner])
    case = make_case(subject="Charged twice")
    escalate_to_team(case=case, owner=owner, team=team)
    client.force_login(member)
    assert case.reference in queue(client, "escalated")
    client.force_login(outsider)
    assert case.reference not in queue(client, "escalated")
    # The owner escalated it to a team they belong to: it is theirs, not escalated to them.
    client.force_login(owner)
    assert case.reference not in queue(client, "escalated")


def test_finished_cases_never_wait_in_the_escalated_queue(client):
    owner, specialist = make_agent(), make_agent()
    case = make_case()
    make_escalation(case=case, owner=owner, solver=specialist, accept=False)
    case_transition(case=case, to=Status.SOLVED, actor=owner)
    client.force_login(specialist)
    assert case.reference not in queue(client, "escalated")


def test_the_specialist_is_told_at_once_on_their_own_socket(
    monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(
        "caseloop.web.live.publish", lambda group, payload: sent.append((group, payload))
    )
    owner, specialist, member, bystander = make_agent(), make_agent(), make_agent(), make_agent()
    team = make_team(members=[member])
    case = make_case(subject="Refund over my limit")
    other = make_case(subject="Charged twice")
    with django_capture_on_commit_callbacks(execute=True):
        escalation = make_escalation(case=case, owner=owner, solver=specialist, accept=False)
        escalate_to_team(case=other, owner=owner, team=team)
    assert [group for group, _ in sent] == [user_group(specialist.pk), user_group(member.pk)]
    payload = sent[0][1]
    assert payload["kind"] == "escalation.waiting" and payload["case_id"] == case.pk
    assert payload["escalation"] == escalation.pk and payload["reference"] == case.reference
    assert user_group(bystander.pk) not in {group for group, _ in sent}


@pytest.mark.django_db(transaction=True)
async def test_a_push_to_a_user_reaches_only_that_users_sockets():
    from asgiref.sync import sync_to_async
    from django.db import connections

    from caseloop.lib.realtime import publish
    from caseloop.web.consumers import DeskConsumer
    from tests.sockets import SocketPeer

    specialist, colleague = await sync_to_async(make_agent)(), await sync_to_async(make_agent)()
    theirs = SocketPeer(DeskConsumer.as_asgi(), "/ws/desk/", user=specialist)
    others = SocketPeer(DeskConsumer.as_asgi(), "/ws/desk/", user=colleague)
    assert (await theirs.connect())[0] and (await others.connect())[0]
    await sync_to_async(publish)(
        user_group(specialist.pk), {"kind": "escalation.waiting", "case_id": 7}
    )
    assert (await theirs.receive_json_from(timeout=5))["case_id"] == 7
    assert await others.receive_nothing(timeout=0.2)
    await theirs.disconnect()
    await others.disconnect()
    await sync_to_async(connections.close_all)()


# -- a routed case lands in its agent's Mine ---------------------------------------------


def _routing(*, agents, auto_assign=True):
    billing = make_category(name="Billing")
    team = make_team(name="Billing desk", members=agents)
    RoutingRule.objects.create(category=billing, team=team)
    TeamRouting.objects.create(team=team, auto_assign=auto_assign, require_skill=False)
    return billing, team


def test_a_case_routed_to_an_agent_is_in_their_mine_not_unassigned_or_escalated(client):
    agent = make_agent()
    billing, _team = _routing(agents=[agent])
    case = make_case(subject="Invoice wrong", category=billing)
    case_route(case=case)
    client.force_login(agent)
    assert queues_holding(client, case) == {"mine", "team", "waiting", "all"}
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.OWNER_TRANSFERRED)
    assert event.data["after"] == agent.pk and event.actor is None
    assert "by the rule Billing → Billing desk" in event.data["reason"]


def test_a_case_routed_to_a_team_stays_unowned_in_the_teams_queue(client):
    agent = make_agent()
    billing, _team = _routing(agents=[agent], auto_assign=False)
    case = make_case(subject="Invoice wrong", category=billing)
    case_route(case=case)
    client.force_login(agent)
    assert queues_holding(client, case) == {"team", "unassigned", "all"}


# -- a search finds a case whatever the queue --------------------------------------------


def test_a_reference_search_from_mine_finds_someone_elses_case(client):
    agent, colleague = make_agent(), make_agent()
    theirs = make_case(subject="Kettle sparks")
    case_transition(case=theirs, to=Status.OPEN, actor=colleague)
    client.force_login(agent)
    assert queue(client, "mine", q=theirs.reference) == {theirs.reference}
    # Even when the filters would leave it out: a reference names one case.
    assert queue(client, "mine", q=theirs.reference, status="closed") == {theirs.reference}
    live = client.get(f"/inbox/row/{theirs.pk}/", {"queue": "mine", "q": theirs.reference})
    assert live.status_code == 200


def test_a_text_search_looks_through_all_cases_and_says_so(client):
    agent, colleague = make_agent(), make_agent()
    theirs = make_case(subject="Kettle sparks")
    case_transition(case=theirs, to=Status.OPEN, actor=colleague)
    mine = make_case(subject="Kettle lid")
    case_transition(case=mine, to=Status.OPEN, actor=agent)
    make_case(subject="Toaster")
    client.force_login(agent)
    response = client.get("/inbox/", {"queue": "mine", "q": "kettle"})
    assert {c.reference for c in response.context["page"].cases} == {
        theirs.reference,
        mine.reference,
    }
    body = response.content.decode()
    assert "Searching all cases for “kettle”, not only Mine." in body
    assert 'href="?queue=mine">Clear the search' in body
    # Without a search the queue is the queue.
    assert queue(client, "mine") == {mine.reference}
    assert "Searching all cases" not in client.get("/inbox/", {"queue": "mine"}).content.decode()
    # Filters still narrow a text search; the near-target queue's order gives way to newest.
    assert queue(client, "mine", q="kettle", status="new") == set()
    assert queue(client, "target", q="kettle") == {theirs.reference, mine.reference}
