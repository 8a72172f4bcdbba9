"""Notifications: who is told of what (escalations, returned questions, the solver's word,
cases given to someone, SLA alerts, departments' answers, customers' replies, mentions and
notes), once per person and cause; followers; the list, the badge and marking read in the
desk; the email digest; and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from caseloop.automation.services import sla_check
from caseloop.cases import outbox
from caseloop.cases.loop import (
    escalations as loop_escalations,
    facts as loop_facts,
    requests as loop_requests,
)
from caseloop.cases.services import case_update, message_add
from caseloop.notifications import services
from caseloop.notifications.handlers import mentioned_users
from caseloop.notifications.models import CaseFollower, Notification
from tests.builders import bearer, make_agent, make_case, make_team

pytestmark = pytest.mark.django_db


def run_effects() -> None:
    while outbox.effects_sweep():
        pass


def notes_for(user) -> list[tuple[str, int | None]]:
    return list(
        Notification.objects.filter(user=user).order_by("id").values_list("kind", "case_id")
    )


def ready_case(owner):
    case = make_case(actor=owner)
    loop_facts.fact_record(case=case, key="problem_at", value="2026-11-20 14:30", actor=owner)
    loop_facts.fact_record(case=case, key="nature", value="Kettle leaks", actor=owner)
    return case


def test_an_escalation_tells_the_solver_and_a_returned_question_tells_the_owner():
    owner, solver, follower = make_agent(), make_agent(tier=2), make_agent()
    case = ready_case(owner)
    services.case_follow(case=case, user=follower)
    escalation = loop_escalations.case_escalate(
        case=case, actor=owner, reason="refund over my limit", to_user=solver
    )
    run_effects()
    assert notes_for(solver) == [("escalated", case.pk)]
    text = Notification.objects.get(user=solver).text
    assert case.reference in text and "refund over my limit" in text
    assert ("escalated", case.pk) in notes_for(follower)
    assert not Notification.objects.filter(user=owner, kind="escalated").exists()

    loop_escalations.escalation_return(
        escalation=escalation, actor=solver, question="Which model is it?"
    )
    run_effects()
    returned = Notification.objects.get(user=owner, kind="returned")
    assert "Which model is it?" in returned.text


def test_escalating_to_a_team_tells_each_member_and_a_repeat_tells_nobody_twice():
    owner, first, second = make_agent(), make_agent(tier=2), make_agent(tier=2)
    team = make_team(members=[first, second, owner])
    case = ready_case(owner)
    loop_escalations.case_escalate(case=case, actor=owner, reason="specialist", to_team=team)
    run_effects()
    assert Notification.objects.filter(kind="escalated").count() == 2
    assert {n.user_id for n in Notification.objects.all()} == {first.pk, second.pk}
    # The reaction runs again (a worker crashed before marking it done): still two.
    event_id = int(Notification.objects.first().source.split(":")[1])
    from caseloop.notifications.handlers import event_notify

    event_notify(event_id)
    assert Notification.objects.filter(kind="escalated").count() == 2


def test_a_case_given_to_someone_tells_them_but_not_whoever_gave_it_to_themselves():
    manager, agent = make_agent(), make_agent()
    case = make_case()
    case_update(case=case, actor=manager, assignee=agent)
    run_effects()
    assert notes_for(agent) == [("assigned", case.pk)]
    case_update(case=case, actor=manager, assignee=manager)
    run_effects()
    assert notes_for(manager) == []


def test_a_customers_reply_tells_the_owner_and_followers_but_the_opening_message_does_not():
    owner, follower = make_agent(), make_agent()
    case = make_case(actor=owner)
    run_effects()
    assert notes_for(owner) == []
    services.case_follow(case=case, user=follower)
    message_add(
        case=case,
        direction="inbound",
        text="Still leaking this morning.",
        author_customer=case.customer,
    )
    run_effects()
    assert notes_for(owner) == [("customer_replied", case.pk)]
    assert notes_for(follower) == [("customer_replied", case.pk)]
    assert "Still leaking this morning." in Notification.objects.filter(user=owner).get().text


def test_a_note_tells_whom_it_mentions_and_the_owner_and_followers_once_each():
    owner, author, ana, bystander = (
        make_agent(),
        make_agent(),
        make_agent(username="ana.lopez"),
        make_agent(),
    )
    case = make_case(actor=owner)
    services.case_follow(case=case, user=ana)
    message_add(
        case=case,
        direction="note",
        text="@Ana.Lopez can you check the warranty? (not bob@example.com) Thanks.",
        actor=author,
    )
    run_effects()
    assert notes_for(ana) == [("mentioned", case.pk)]  # mentioned, not also "note"
    assert notes_for(owner) == [("note", case.pk)]
    assert notes_for(author) == notes_for(bystander) == []


def test_mentions_name_only_active_staff_by_username():
    ana = make_agent(username="ana")
    gone = make_agent(username="gone")
    gone.is_active = False
    gone.save()
    assert mentioned_users("@ana, @gone and @nobody; mail ana@example.com") == {ana.pk}
    assert mentioned_users("ana@example.com") == set()


def test_an_sla_breach_tells_the_owner():
    owner = make_agent()
    make_case(actor=owner)
    run_effects()  # the case's SLA clocks start in the worker
    alerts = sla_check(now=timezone.now() + timedelta(days=30))
    assert alerts
    run_effects()
    kinds = {kind for kind, _ in notes_for(owner)}
    assert "sla_breached" in kinds


def test_a_departments_answer_tells_who_asked():
    owner, asker, member = make_agent(), make_agent(), make_agent()
    team = make_team(members=[member])
    case = make_case(actor=owner)
    request = loop_requests.request_create(
        case=case,
        actor=asker,
        question="Was the refund issued?",
        due_at=timezone.now() + timedelta(days=1),
        to_team=team,
    )
    loop_requests.request_answer(request=request, answer="Yes, on Monday.", actor=member)
    run_effects()
    assert ("request_answered", case.pk) in notes_for(asker)
    assert ("request_answered", case.pk) in notes_for(owner)


def test_the_desk_lists_counts_and_marks_read_and_opening_the_case_reads_its_own(client):
    owner, solver = make_agent(), make_agent(tier=2)
    case = ready_case(owner)
    other = ready_case(owner)
    for c in (case, other):
        loop_escalations.case_escalate(case=c, actor=owner, reason="over my limit", to_user=solver)
    run_effects()
    client.force_login(solver)
    badge = client.get(reverse("web:notifications_badge"))
    assert 'data-unread="2"' in badge.content.decode()
    page = client.get(reverse("web:notifications"))
    assert page.status_code == 200 and case.reference in page.content.decode()

    client.get(reverse("web:case", args=[case.pk]))
    assert Notification.objects.filter(user=solver, read_at__isnull=True).count() == 1
    client.post(reverse("web:notifications_read"))
    assert "data-unread" not in client.get(reverse("web:notifications_badge")).content.decode()
    assert client.post(reverse("web:notifications_read"), {"id": "x"}).status_code == 400


def test_following_a_case_from_its_page(client):
    agent = make_agent()
    case = make_case()
    client.force_login(agent)
    response = client.post(reverse("web:case_follow", args=[case.pk]), {"action": "follow"})
    assert response.status_code == 302
    assert CaseFollower.objects.filter(case=case, user=agent).exists()
    page = client.get(reverse("web:case", args=[case.pk]))
    assert agent.display_name in page.content.decode().split('id="followers"')[1][:300]
    assert 'value="unfollow"' in page.content.decode()
    client.post(reverse("web:case_follow", args=[case.pk]), {"action": "unfollow"})
    assert not CaseFollower.objects.exists()
    bad = client.post(reverse("web:case_follow", args=[case.pk]), {"action": "shout"})
    assert bad.status_code == 400


def test_the_digest_emails_what_waits_unread_once_and_respects_the_switch():
    owner, solver, quiet = make_agent(), make_agent(tier=2), make_agent(tier=2)
    for person in (owner, solver, quiet):
        person.email = f"{person.username}@desk.example"
        person.save()
    services.preference_set(user=quiet, email_digest=False)
    case = ready_case(owner)
    loop_escalations.case_escalate(case=case, actor=owner, reason="over my limit", to_user=solver)
    other = ready_case(owner)
    loop_escalations.case_escalate(case=other, actor=owner, reason="over my limit", to_user=quiet)
    run_effects()
    mail.outbox.clear()
    # Too fresh: nothing yet.
    assert services.digests_record() == 0
    later = timezone.now() + services.DIGEST_AFTER + timedelta(minutes=1)
    assert services.digests_record(now=later) == 1
    run_effects()
    assert [m.to for m in mail.outbox] == [[solver.email]]
    assert case.reference in mail.outbox[0].body
    assert Notification.objects.get(user=solver).emailed_at is not None
    # Nothing new: no second digest.
    assert services.digests_record(now=later + timedelta(hours=2)) == 0


def test_the_api_lists_and_marks_read_and_follows(api):
    owner, solver = make_agent(), make_agent(tier=2)
    case = ready_case(owner)
    loop_escalations.case_escalate(case=case, actor=owner, reason="over my limit", to_user=solver)
    run_effects()
    listed = api.get("/api/v1/notifications?unread=true", headers=bearer(solver))
    assert listed.status_code == 200
    body = listed.json()
    assert body["unread"] == 1 and body["items"][0]["case_id"] == case.pk
    assert body["items"][0]["kind"] == "escalated"
    done = api.post("/api/v1/notifications/read", {}, headers=bearer(solver))
    assert done.json() == {"marked": 1}
    assert (
        api.get("/api/v1/notifications?unread=true", headers=bearer(solver)).json()["items"] == []
    )

    follow = api.post(f"/api/v1/cases/{case.pk}/followers", {}, headers=bearer(solver))
    assert follow.status_code == 200 and follow.json()["following"] is True
    assert CaseFollower.objects.filter(case=case, user=solver).exists()
    gone = api.client.delete(f"/api/v1/cases/{case.pk}/followers", headers=bearer(solver))
    assert gone.json()["following"] is False
