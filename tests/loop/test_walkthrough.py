"""One case walked through every stage of the loop by API, checking the recorded events."""

import re
from datetime import timedelta

import pytest

from caseloop.cases.loop import escalations as loop_escalations, followups as loop_followups
from caseloop.cases.models import Case, FollowUp, Plan
from tests.builders import bearer, make_agent, make_customer

from .helpers import kinds, make_purchase, refund_matrix, return_window_policy

pytestmark = pytest.mark.django_db(transaction=True)


def _path(url: str) -> str:
    return re.sub(r"^http://[^/]+", "", url)


def _is_subsequence(wanted: list[str], log: list[str]) -> bool:
    it = iter(log)
    return all(kind in it for kind in wanted)


def test_a_case_walks_through_every_stage_by_api(api, client):
    return_window_policy(days=30)
    refund_matrix()
    agent = make_agent(tier=1, username="fran")
    solver = make_agent(tier=2, username="sam")
    customer = make_customer(email="ann@example.com", name="Ann Lee")
    a = bearer(agent)
    s = bearer(solver)

    created = api.post(
        "/api/v1/cases",
        {
            "customer": {"email": "ann@example.com"},
            "subject": "Kettle leaks",
            "message": {"text": "My kettle leaks all over the counter. I want my money back."},
            "channel": "email",
        },
        headers=a,
    )
    assert created.status_code == 201, created.content
    case_id = created.json()["id"]
    case = Case.objects.get(pk=case_id)
    make_purchase(customer=customer, bought_at=case.created_at - timedelta(days=40), amount="80.00")
    base = f"/api/v1/cases/{case_id}"

    stages = api.get(f"{base}/stages", headers=a).json()
    assert stages["next"] == "Paraphrase it" and not any(st["done"] for st in stages["stages"])

    # 1. Problem statement: the customer's words were kept; paraphrase, confirm by link.
    problem = api.get(f"{base}/problem", headers=a).json()
    assert problem["customer_words"].startswith("My kettle leaks")
    put = api.client.put(
        f"{base}/problem",
        '{"paraphrase": "Your kettle leaks and you want a refund"}',
        content_type="application/json",
        headers=a,
    )
    assert put.status_code == 200
    api.post(f"{base}/problem/send-for-confirmation", headers=a)
    sent = case.messages.filter(metadata__loop="problem_confirmation").get()
    confirm = re.search(r"please confirm: (\S+)", sent.text).group(1)
    assert client.post(_path(confirm)).status_code == 200

    # 2. Needs solving? Out of the return window: alternatives proposed.
    check = api.post(f"{base}/policy-check", headers=a).json()
    assert check["outcome"] == "out_of_policy"
    assert "40 days ago; returns are accepted within 30 days" in check["summary"]

    # 4. Facts and records.
    for key, value in [("problem_at", "2026-11-22 08:00"), ("nature", "Leaking kettle")]:
        assert api.post(f"{base}/facts", {"key": key, "value": value}, headers=a).status_code == 201
    purchase_id = customer.purchases.get().pk
    link = api.post(f"{base}/links", {"kind": "purchase", "purchase_id": purchase_id}, headers=a)
    assert link.status_code == 201 and link.json()["ref"] == "order A-1001 (Kettle)"
    facts = api.get(f"{base}/facts", headers=a).json()
    assert facts["missing_for_handoff"] == []

    # 3. Authority: an 80.00 refund is over a tier-1 limit.
    decision = api.post(
        f"{base}/authority", {"remedy": "refund", "amount": "80.00"}, headers=a
    ).json()
    assert decision["solve_now"] is False and "sam" in decision["eligible"]

    # 5. Alternatives: proposed by policy plus one typed by the agent; weigh, prefer, choose.
    added = api.post(
        f"{base}/alternatives", {"title": "Refund as a goodwill exception"}, headers=a
    ).json()
    listed = api.get(f"{base}/alternatives", headers=a).json()
    assert {x["title"] for x in listed} == {
        "Repair under warranty",
        "Store credit",
        "Refund as a goodwill exception",
    }
    repair = next(x for x in listed if x["title"] == "Repair under warranty")
    api.patch(
        f"{base}/alternatives/{repair['id']}",
        {"feasibility": 3, "cost": 4, "impact": 2, "timeliness": 2},
        headers=a,
    )
    weighed = api.patch(
        f"{base}/alternatives/{added['id']}",
        {"feasibility": 5, "cost": 2, "impact": 5, "timeliness": 5, "cost_amount": "80.00"},
        headers=a,
    ).json()
    assert weighed["score"] == 4.55
    api.patch(f"{base}/alternatives/{added['id']}", {"customer_preference": "preferred"}, headers=a)
    ranked = api.get(f"{base}/alternatives", headers=a).json()
    assert ranked[0]["id"] == added["id"] and ranked[0]["rank"] == 1
    chosen = api.post(
        f"{base}/alternatives/{added['id']}/choose",
        {"reason": "Customer prefers it; leaking kettles are a safety risk"},
        headers=a,
    ).json()
    assert chosen["state"] == "chosen"

    # 6. Plan and consent by signed link.
    plan = api.post(
        f"{base}/plan",
        {
            "summary": "Refund 80.00 to your card",
            "steps": ["Approve the refund", "Issue the refund"],
            "expected_timeline": "within 3 business days",
        },
        headers=a,
    ).json()
    assert plan["alternative_id"] == added["id"] and len(plan["steps"]) == 2
    shared = api.post(f"{base}/plan/share", headers=a).json()
    assert shared["state"] == "shared"
    share_text = case.messages.get(pk=Plan.objects.get(pk=plan["id"]).shared_message_id).text
    yes = re.search(r"Yes, go ahead: (\S+)", share_text).group(1)
    assert client.post(_path(yes)).status_code == 200
    assert api.get(f"{base}/plan", headers=a).json()["state"] == "approved"

    # 8. Escalation to someone with the authority; the owner stays the owner.
    escalated = api.post(
        f"{base}/escalations",
        {"reason": "refund over my limit", "to_user": "sam", "remedy": "refund", "amount": "80.00"},
        headers=a,
    )
    assert escalated.status_code == 201, escalated.content
    eid = escalated.json()["id"]
    assert escalated.json()["package"]["plan"]["summary"] == "Refund 80.00 to your card"
    assert (
        api.post(f"{base}/escalations/{eid}/accept", headers=s).json()["solver"]["username"]
        == "sam"
    )

    # 7. Implement: steps, and an update stating the timeline.
    for step in plan["steps"]:
        api.patch(f"{base}/plan/steps/{step['id']}", {"status": "done"}, headers=s)
    update = api.post(f"{base}/plan/updates", {}, headers=a)
    assert update.status_code == 201 and "2 of 2 steps are done" in update.json()["text"]
    solved = api.post(
        f"{base}/escalations/{eid}/solved", {"text": "Refunded 80.00"}, headers=s
    ).json()
    assert solved["state"] == "solved"
    case.refresh_from_db()
    assert case.status == "solved" and case.owner_id == agent.pk

    # 9. Follow-up: asked when due; the customer confirms by link; the case closes.
    followup = FollowUp.objects.get(case=case)
    loop_followups.followups_process(now=followup.due_at)
    followup.refresh_from_db()
    yes = re.search(r"Yes, it is solved: (\S+)", followup.asked_message.text).group(1)
    assert client.post(_path(yes)).status_code == 200
    case.refresh_from_db()
    assert case.status == "closed"
    loop_escalations.escalation_reminders_send(now=followup.due_at)

    # 11. Lessons learned.
    lesson = api.post(
        f"{base}/lessons",
        {"summary": "Leaking kettles: refund even out of window", "needs_article": True},
        headers=a,
    )
    assert lesson.status_code == 201

    stages = api.get(f"{base}/stages", headers=a).json()
    assert stages["next"] == ""
    assert all(st["done"] for st in stages["stages"] if st["applies"]), stages

    log = kinds(case)
    assert _is_subsequence(
        [
            "created",
            "problem_recorded",
            "paraphrase_set",
            "problem_sent_for_confirmation",
            "problem_answered",
            "policy_checked",
            "fact_recorded",
            "fact_recorded",
            "link_added",
            "authority_checked",
            "alternative_added",
            "alternative_weighed",
            "alternative_weighed",
            "alternative_preference",
            "alternative_chosen",
            "plan_created",
            "plan_shared",
            "plan_consent",
            "escalated",
            "escalation_accepted",
            "plan_step_changed",
            "plan_step_changed",
            "plan_update_sent",
            "escalation_solved",
            "followup_scheduled",
            "followup_asked",
            "followup_answered",
            "reminders_stopped",
            "lesson_recorded",
        ],
        log,
    ), log
    events = api.get(f"{base}/events", headers=a).json()
    consent = next(e for e in events if e["kind"] == "plan_consent")
    assert consent["data"]["channel"] == "link" and consent["data"]["decision"] == "approved"
