"""Recurring problems: the record and its status machine, every change an event on each
linked case, linking at intake and recurrence, agents' flags and their review, and
publishing the fix to every affected customer through the outbox; and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from caseloop.accounts.models import Role
from caseloop.cases import extensions, outbox
from caseloop.cases.errors import CaseError
from caseloop.cases.events import event_lines
from caseloop.cases.models import Case, CaseEvent, FollowUp, Message, OutboxEffect, Status
from caseloop.cases.services import case_transition
from caseloop.insights import problem_detection, problem_fixes, problem_flags, problems
from caseloop.insights.models import (
    ProblemCase,
    ProblemChange,
    ProblemContributor,
    ProblemFlag,
    ProblemStatus,
)
from tests.builders import bearer, make_agent, make_case, make_customer, make_user

pytestmark = pytest.mark.django_db

CARD_DECLINED = (
    "Card declined at checkout",
    "My card is declined at checkout with error 402 even though the bank says it is fine.",
)
CARD_DECLINED_AGAIN = (
    "Checkout declines my card",
    "At checkout my card is declined, error 402, and the bank says the card is fine.",
)
UNRELATED = (
    "Change my delivery address",
    "Please send the parcel to my office address on Baker Street instead of home.",
)
FIX = (
    "We corrected the payment gateway setting that refused valid cards; payments go through again."
)


def run_effects() -> None:
    """What the worker does: run every due outbox effect, and those they record."""
    while outbox.effects_sweep():
        pass


def manager():
    return make_user(role=Role.MANAGER)


def case_about(subject_text, **extra):
    subject, text = subject_text
    return make_case(subject=subject, text=text, **extra)


def kinds(case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))


def known_error(boss, *cases):
    problem = problems.problem_create(actor=boss, title="Valid cards declined", cases=cases)
    problems.problem_update(
        problem=problem,
        actor=boss,
        why_chain=["Payments fail", "The gateway refuses the card", "A fraud rule is too strict"],
        cause_type="product_defect",
        workaround="Offer the customer a payment link by email.",
    )
    return problems.problem_transition(problem=problem, to=ProblemStatus.KNOWN_ERROR, actor=boss)


# --- the record ---------------------------------------------------------------------------


def test_a_known_error_needs_its_root_cause_and_a_fixed_problem_its_fix():
    boss = manager()
    problem = problems.problem_create(actor=boss, title="Valid cards declined")
    with pytest.raises(problems.ProblemTransitionRefused, match="root cause"):
        problems.problem_transition(problem=problem, to="known_error", actor=boss)
    with pytest.raises(problems.ProblemTransitionRefused, match="permanent fix"):
        problems.problem_transition(problem=problem, to="fixed", actor=boss)
    with pytest.raises(problems.ProblemTransitionRefused) as refused:
        problems.problem_transition(problem=problem, to="suggested", actor=boss)
    assert refused.value.facts()["allowed"] == ["known_error", "fixed", "closed"]
    problems.problem_update(problem=problem, actor=boss, why_chain=["  ", "A fraud rule ", ""])
    problem = problems.problem_transition(problem=problem, to="known_error", actor=boss)
    problem.refresh_from_db()
    assert (problem.status, problem.why_chain, problem.root_cause) == (
        "known_error",
        ["A fraud rule"],
        "A fraud rule",
    )


def test_every_change_is_written_on_each_linked_case_and_in_the_problems_history():
    boss = manager()
    first, second = case_about(CARD_DECLINED), case_about(CARD_DECLINED_AGAIN)
    problem = problems.problem_create(
        actor=boss, title="Valid cards declined", cases=[first, second]
    )
    problems.problem_update(problem=problem, actor=boss, workaround="Send a payment link.")
    problems.problem_update(problem=problem, actor=boss, workaround="Send a payment link.")

    for case in (first, second):
        assert kinds(case).count("problem_linked") == 1
        changed = CaseEvent.objects.get(case=case, kind="problem_changed")
        assert changed.actor == boss
        assert changed.data["fields"] == ["workaround"]
        assert changed.data["after"] == {"workaround": "Send a payment link."}
    history = list(ProblemChange.objects.filter(problem=problem).values_list("kind", flat=True))
    assert history == ["created", "case_linked", "case_linked", "updated"]  # no change, no row
    assert ProblemContributor.objects.filter(problem=problem, user=boss, part="workaround").exists()


def test_only_managers_and_the_owner_change_a_problem():
    boss, agent, owner = manager(), make_agent(), make_agent()
    problem = problems.problem_create(actor=boss, title="Valid cards declined", owner=owner)
    with pytest.raises(problems.ProblemForbidden):
        problems.problem_update(problem=problem, actor=agent, workaround="Try again later.")
    with pytest.raises(problems.ProblemForbidden):
        problems.problem_create(actor=agent, title="Anything")
    problems.problem_update(problem=problem, actor=owner, workaround="Send a payment link.")
    problem.refresh_from_db()
    assert problem.workaround == "Send a payment link."


def test_bad_input_is_refused_with_the_field_at_fault():
    boss = manager()
    problem = problems.problem_create(actor=boss, title="Valid cards declined")
    with pytest.raises(problems.ProblemError) as error:
        problems.problem_update(problem=problem, actor=boss, cause_type="gremlins")
    assert error.value.facts()["field"] == "cause_type"
    with pytest.raises(problems.ProblemError, match="at most 10 steps"):
        problems.problem_update(problem=problem, actor=boss, why_chain=["why"] * 11)
    with pytest.raises(problems.ProblemError, match="unknown placeholder"):
        problems.problem_update(problem=problem, actor=boss, fix_notice="Hi {customer.email}")
    with pytest.raises(problems.ProblemError, match="written plainly"):
        problems.problem_update(problem=problem, actor=boss, fix_notice="{fix:>999999999}")
    with pytest.raises(problems.ProblemError, match="stray brace"):
        problems.problem_update(problem=problem, actor=boss, fix_notice="Hi {customer_name")
    with pytest.raises(problems.ProblemError, match="title is required"):
        problems.problem_update(problem=problem, actor=boss, title="  ")


# --- linked cases -------------------------------------------------------------------------


def test_a_link_says_who_linked_it_how_and_an_unlink_is_an_event_too():
    boss, agent = manager(), make_agent()
    case = case_about(CARD_DECLINED)
    problem = problems.problem_create(actor=boss, title="Valid cards declined")
    link = problems.problem_case_link(problem=problem, case=case, actor=agent)
    assert (link.via, link.linked_by, link.linked_at is not None) == ("agent", agent, True)
    assert problems.problem_case_link(problem=problem, case=case, actor=agent) is None
    assert problems.problem_case_unlink(problem=problem, case=case, actor=agent) is True
    assert not ProblemCase.objects.filter(problem=problem).exists()
    assert kinds(case)[-2:] == ["problem_linked", "problem_unlinked"]
    problems.problem_transition(problem=problem, to="closed", actor=boss)
    with pytest.raises(problems.ProblemConflict, match="closed"):
        problems.problem_case_link(problem=problem, case=case, actor=agent)


def test_a_new_case_like_a_known_problems_cases_is_linked_at_intake():
    boss = manager()
    problem = known_error(boss, case_about(CARD_DECLINED))
    suggested = problems.problem_create(
        actor=boss, title="Address changes", status="suggested", cases=[case_about(UNRELATED)]
    )
    run_effects()

    matching = case_about(CARD_DECLINED_AGAIN)
    unrelated = case_about(UNRELATED)
    run_effects()

    link = ProblemCase.objects.get(case=matching)
    assert (link.problem, link.via, link.linked_by) == (problem, "intake", None)
    assert link.score >= problems.INTAKE_MIN_SCORE
    linked = CaseEvent.objects.get(case=matching, kind="problem_linked")
    assert event_lines(events=[linked])[linked.pk].text == (
        f"Linked to the recurring problem PRB-{problem.pk} (Valid cards declined) at intake"
    )
    # A suggested problem is not yet known: nothing is linked to it at intake.
    assert not ProblemCase.objects.filter(case=unrelated).exists()
    assert ProblemCase.objects.filter(problem=suggested).count() == 1


def test_a_case_opened_after_the_fix_reopens_the_problem():
    boss, agent = manager(), make_agent()
    old = case_about(CARD_DECLINED)
    problem = known_error(boss)
    problems.problem_update(problem=problem, actor=boss, permanent_fix=FIX)
    problems.problem_transition(problem=problem, to="fixed", actor=boss)
    # Linking a case from before the fix is tidying up, not a recurrence.
    problems.problem_case_link(problem=problem, case=old, actor=agent)
    problem.refresh_from_db()
    assert problem.status == "fixed"

    new = case_about(CARD_DECLINED_AGAIN)
    run_effects()
    problem.refresh_from_db()
    assert problem.status == "investigating"
    assert problem.fixed_at is None
    reopened = ProblemChange.objects.filter(problem=problem, kind="status").last()
    assert reopened.data["after"] == "investigating"
    assert new.reference in reopened.data["reason"]
    assert ProblemCase.objects.get(case=new).via == "intake"
    on_old = CaseEvent.objects.filter(case=old, kind="problem_changed").last()
    assert on_old.data["after"] == "investigating"


# --- flags --------------------------------------------------------------------------------


def test_an_agents_flag_waits_for_review_and_becomes_a_problem():
    boss, agent = manager(), make_agent()
    case = case_about(CARD_DECLINED)
    when = timezone.now() - timedelta(hours=2)
    flag = problem_flags.problem_flag_raise(
        case=case,
        actor=agent,
        occurred_at=when,
        problem_text="Third card declined today at checkout",
        solution_text="Sent a payment link",
    )
    assert (flag.state, flag.occurred_at) == ("open", when)
    assert CaseEvent.objects.get(case=case, kind="problem_flagged").actor == agent

    problem = problem_flags.problem_flag_convert(
        flag=flag, actor=boss, title="Valid cards declined"
    )
    flag.refresh_from_db()
    assert (flag.state, flag.problem, flag.reviewed_by) == ("converted", problem, boss)
    assert problem.workaround == "Sent a payment link"
    assert ProblemCase.objects.get(problem=problem).via == "flag"
    assert ProblemContributor.objects.filter(problem=problem, user=agent, part="reported").exists()
    with pytest.raises(problems.ProblemConflict, match="already reviewed"):
        problem_flags.problem_flag_dismiss(flag=flag, actor=boss)


def test_a_flag_can_join_an_existing_problem_or_be_dismissed_by_a_manager_only():
    boss, agent = manager(), make_agent()
    problem = problems.problem_create(actor=boss, title="Valid cards declined")
    now = timezone.now()
    first = problem_flags.problem_flag_raise(
        case=case_about(CARD_DECLINED), actor=agent, occurred_at=now, problem_text="Again"
    )
    second = problem_flags.problem_flag_raise(
        case=case_about(UNRELATED), actor=agent, occurred_at=now, problem_text="Again"
    )
    with pytest.raises(problems.ProblemForbidden):
        problem_flags.problem_flag_dismiss(flag=second, actor=agent)
    problem_flags.problem_flag_link(flag=first, problem=problem, actor=boss)
    problem_flags.problem_flag_dismiss(flag=second, actor=boss, note="one customer's typo")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.problem) == ("linked", problem)
    assert (second.state, second.review_note) == ("dismissed", "one customer's typo")
    assert ProblemCase.objects.filter(problem=problem, case=first.case).exists()


def test_a_flag_needs_what_happened_and_a_time_not_in_the_future():
    agent = make_agent()
    case = case_about(CARD_DECLINED)
    with pytest.raises(problems.ProblemError, match="future"):
        problem_flags.problem_flag_raise(
            case=case,
            actor=agent,
            occurred_at=timezone.now() + timedelta(days=1),
            problem_text="Again",
        )
    with pytest.raises(problems.ProblemError, match="required"):
        problem_flags.problem_flag_raise(
            case=case, actor=agent, occurred_at=timezone.now(), problem_text=" "
        )
    customer = make_user(role=Role.CUSTOMER, customer=case.customer)
    with pytest.raises(problems.ProblemForbidden):
        problem_flags.problem_flag_raise(
            case=case, actor=customer, occurred_at=timezone.now(), problem_text="Again"
        )
    assert not ProblemFlag.objects.exists()


# --- fix once, tell everyone --------------------------------------------------------------


def test_publishing_the_fix_tells_each_open_case_once_solves_it_and_follows_it_up():
    boss, agent = manager(), make_agent()
    fresh = case_about(CARD_DECLINED, customer=make_customer(name="Ada Lovelace"))
    worked = case_about(CARD_DECLINED_AGAIN)
    case_transition(case=worked, to=Status.OPEN, actor=agent)
    done = case_about(CARD_DECLINED)
    case_transition(case=done, to=Status.OPEN, actor=agent)
    case_transition(case=done, to=Status.SOLVED, actor=agent)
    problem = known_error(boss, fresh, worked, done)
    problems.problem_update(problem=problem, actor=boss, permanent_fix=FIX)
    run_effects()

    publication = problem_fixes.problem_fix_publish(
        problem=problem,
        actor=boss,
        notice="Hello {customer_name}, about {reference}: {fix} Reply if it is not right.",
    )
    assert publication.cases_notified == 2
    problem.refresh_from_db()
    assert (problem.status, problem.fix_published_by) == ("fixed", boss)
    effects = OutboxEffect.objects.filter(kind=problem_fixes.FIX_NOTIFY_EFFECT)
    assert sorted(effects.values_list("case_id", flat=True)) == sorted([fresh.pk, worked.pk])

    run_effects()
    for case in (fresh, worked):
        case.refresh_from_db()
        assert case.status == Status.SOLVED
        sent = Message.objects.get(case=case, direction="outbound", text__contains=FIX)
        assert sent.channel == case.channel
        assert f"about {case.reference}:" in sent.text
        assert sent.delivery_status in (Message.Delivery.QUEUED, Message.Delivery.SENT)
        assert FollowUp.objects.filter(case=case, state="scheduled").count() == 1
        event = CaseEvent.objects.get(case=case, kind="problem_fix_sent")
        assert (event.data["solved"], event.data["message"]) == (True, sent.pk)
    assert "Hello Ada Lovelace," in Message.objects.get(case=fresh, text__contains=FIX).text
    assert not Message.objects.filter(case=done, text__contains=FIX).exists()

    # The worker may run an effect again after a crash: nobody is told twice.
    for effect in effects:
        problem_fixes.problem_fix_notify(effect.payload)
    assert Message.objects.filter(text__contains=FIX).count() == 2


def test_a_case_the_desk_may_not_solve_yet_is_told_and_stays_open_saying_why(monkeypatch):
    boss = manager()
    held, free = case_about(CARD_DECLINED), case_about(CARD_DECLINED_AGAIN)
    problem = known_error(boss, held, free)
    problems.problem_update(problem=problem, actor=boss, permanent_fix=FIX)

    def refuse(case, actor):
        if case.pk == held.pk:
            raise CaseError("a refund is waiting for approval")

    monkeypatch.setitem(extensions._solve_checks, "test.refuse", refuse)
    problem_fixes.problem_fix_publish(problem=problem, actor=boss)
    run_effects()
    held.refresh_from_db()
    free.refresh_from_db()
    assert (held.status, free.status) == (Status.OPEN, Status.SOLVED)
    assert Message.objects.filter(case=held, text__contains=FIX).count() == 1
    event = CaseEvent.objects.get(case=held, kind="problem_fix_sent")
    assert (event.data["solved"], event.data["reason"]) == (
        False,
        "a refund is waiting for approval",
    )
    assert not FollowUp.objects.filter(case=held).exists()


def test_the_coach_holds_a_fix_notice_that_blames_the_customer():
    boss = manager()
    case = case_about(CARD_DECLINED)
    problem = known_error(boss, case)
    problems.problem_update(problem=problem, actor=boss, permanent_fix=FIX)
    with pytest.raises(problem_fixes.FixNoticeObjection) as held:
        problem_fixes.problem_fix_publish(
            problem=problem, actor=boss, notice="{fix} You should have read the manual."
        )
    assert "no-blame" in {f["rule_id"] for f in held.value.facts()["findings"]}
    problem.refresh_from_db()
    assert (problem.status, problem.fix_published_at) == ("known_error", None)
    assert not OutboxEffect.objects.filter(kind=problem_fixes.FIX_NOTIFY_EFFECT).exists()


def test_a_fix_is_published_only_once_written():
    boss = manager()
    problem = known_error(boss, case_about(CARD_DECLINED))
    with pytest.raises(problems.ProblemConflict, match="permanent fix"):
        problem_fixes.problem_fix_publish(problem=problem, actor=boss)


# --- the API ------------------------------------------------------------------------------


def test_the_api_lists_problems_by_status_with_their_case_ids(api, django_assert_num_queries):
    boss, agent = manager(), make_agent()
    first, second = case_about(CARD_DECLINED), case_about(CARD_DECLINED_AGAIN)
    known = known_error(boss, first, second)
    problems.problem_create(actor=boss, title="Address changes", status="suggested")
    headers = bearer(agent)
    with django_assert_num_queries(4):  # token, user, problems, their case ids
        response = api.get("/api/v1/problems", headers=headers, status="known_error")
    assert response.status_code == 200
    assert [(p["id"], p["case_ids"]) for p in response.json()] == [
        (known.pk, sorted([first.pk, second.pk]))
    ]
    assert response.json()[0]["root_cause"] == "A fraud rule is too strict"
    assert api.get("/api/v1/problems", headers=headers, status="nonsense").status_code == 422


def test_customers_never_see_a_problem_through_the_api(api):
    boss = manager()
    case = case_about(CARD_DECLINED)
    problem = known_error(boss, case)
    customer = make_user(role=Role.CUSTOMER, customer=case.customer)
    headers = bearer(customer)
    assert api.get("/api/v1/problems", headers=headers).status_code == 403
    assert api.get(f"/api/v1/problems/{problem.pk}", headers=headers).status_code == 403
    assert api.post("/api/v1/problems", {"title": "x"}, headers=headers).status_code == 403


def test_managers_open_move_and_fix_problems_and_agents_link_cases_through_the_api(api):
    boss, agent = manager(), make_agent()
    case = case_about(CARD_DECLINED)
    other = case_about(CARD_DECLINED_AGAIN)
    assert api.post("/api/v1/problems", {"title": "x"}, headers=bearer(agent)).status_code == 403

    boss_headers = bearer(boss)
    created = api.post(
        "/api/v1/problems",
        {"title": "Valid cards declined", "case_ids": [case.reference]},
        headers=boss_headers,
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["status"], body["case_ids"]) == ("investigating", [case.pk])

    linked = api.post(
        f"/api/v1/problems/{body['id']}/cases", {"case_id": str(other.pk)}, headers=bearer(agent)
    )
    assert linked.status_code == 201
    assert linked.json()["case_ids"] == sorted([case.pk, other.pk])

    refused = api.post(
        f"/api/v1/problems/{body['id']}/status", {"to": "known_error"}, headers=boss_headers
    )
    assert refused.status_code == 409
    assert "root cause" in refused.json()["detail"]
    patched = api.patch(
        f"/api/v1/problems/{body['number']}",
        {"why_chain": ["Gateway refuses", "Fraud rule too strict"], "permanent_fix": FIX},
        headers=boss_headers,
    )
    assert patched.status_code == 200
    assert patched.json()["root_cause"] == "Fraud rule too strict"
    bad = api.patch(
        f"/api/v1/problems/{body['id']}", {"cause_type": "gremlins"}, headers=boss_headers
    )
    assert (bad.status_code, bad.json()["field"]) == (422, "cause_type")

    held = api.post(
        f"/api/v1/problems/{body['id']}/fix",
        {"message": "{fix} You should have read the manual."},
        headers=boss_headers,
    )
    assert held.status_code == 422
    assert held.json()["code"] == "fix_notice_objection"
    fixed = api.post(f"/api/v1/problems/{body['id']}/fix", {"message": ""}, headers=boss_headers)
    assert fixed.status_code == 200
    assert (fixed.json()["cases_notified"], fixed.json()["problem"]["status"]) == (2, "fixed")
    assert api.get("/api/v1/problems/999999", headers=boss_headers).status_code == 404
    assert api.get("/api/v1/problems/PRB-x", headers=boss_headers).status_code == 404


# --- detection ----------------------------------------------------------------------------

BURST = [
    ("App crashes when I open my statement", "The app crashes every time I open my statement."),
    ("Statement crashes the app", "Opening the monthly statement makes the app crash."),
    ("Crash on statement screen", "Since yesterday the app crashes when I open my statement."),
    ("Cannot open statement, app crashes", "The app crashes as soon as I tap statement."),
    ("Statement makes app crash", "Each time I open the statement the app crashes and closes."),
]
BACKGROUND = [
    ("Change my delivery address", "Please send the parcel to my office instead of home."),
    ("Refund for a broken kettle", "The kettle arrived broken, I would like a refund."),
    ("Password reset email missing", "I asked for a password reset but no email came."),
    ("Invoice for my order", "Could you send me the invoice for my last order?"),
    ("Cancel my subscription", "I would like to cancel my subscription from next month."),
]


def burst(texts=BURST, *, at=None):
    """One case per text, each from a different customer."""
    cases = [case_about(text) for text in texts]
    if at is not None:
        Case.objects.filter(pk__in=[c.pk for c in cases]).update(created_at=at)
    return cases


def test_a_burst_from_different_customers_becomes_a_suggested_problem_with_its_cases():
    burst(BACKGROUND)
    crashes = burst()
    found = problem_detection.problems_detect()
    assert len(found) == 1 and found[0].created
    problem = found[0].problem
    assert problem.status == "suggested"
    assert "statement" in problem.title.lower() or "crash" in problem.title.lower()
    assert sorted(found[0].case_ids) == sorted(c.pk for c in crashes)
    assert set(ProblemCase.objects.filter(problem=problem).values_list("via", flat=True)) == {
        "detection"
    }
    # Its cases are held now: running again suggests nothing new.
    assert problem_detection.problems_detect() == []


def test_what_the_weeks_before_saw_as_often_is_no_trend():
    weeks_ago = timezone.now() - timedelta(days=10)
    burst(BURST * 6, at=weeks_ago)  # 30 such cases in the baseline: ~2 per two days
    burst()
    assert problem_detection.problems_detect() == []


def test_a_burst_from_one_customer_is_not_a_problem_across_customers():
    customer = make_customer()
    for subject, text in BURST:
        make_case(subject=subject, text=text, customer=customer)
    assert problem_detection.problems_detect() == []


def test_a_rejected_suggestion_is_learned_and_a_confirmed_one_grows():
    boss = manager()
    burst()
    suggestion = problem_detection.problems_detect()[0].problem
    problems.problem_transition(
        problem=suggestion, to="closed", actor=boss, reason="planned maintenance"
    )
    burst()
    assert problem_detection.problems_detect() == []  # like the rejected one's cases

    other = burst(
        [
            ("Card declined at checkout", "My card is declined at checkout with error 402."),
            ("Checkout declines my card", "At checkout my card is declined, error 402."),
            ("Error 402 at checkout", "Checkout says error 402 and my card is declined."),
            ("Card refused at checkout", "My card is declined at the checkout, error 402."),
        ]
    )
    confirmed = problem_detection.problems_detect()[0].problem
    problems.problem_transition(problem=confirmed, to="investigating", actor=boss)
    burst(
        [
            ("Declined card, error 402", "My card is declined at checkout, error 402 again."),
            ("Checkout error 402", "Error 402 at checkout, my card is declined."),
            ("402 card declined", "Card declined with error 402 when I pay at checkout."),
            ("Checkout refuses card", "The checkout declines my card with error 402."),
        ]
    )
    grown = problem_detection.problems_detect()
    # New cases like a problem under investigation may already be linked at intake; the
    # rest join it rather than make a second suggestion.
    assert all(d.problem == confirmed and not d.created for d in grown)
    linked = set(ProblemCase.objects.filter(problem=confirmed).values_list("case_id", flat=True))
    assert linked >= {c.pk for c in other}


def test_a_manager_merges_a_suggestion_into_the_problem_it_duplicates():
    boss = manager()
    first, second = case_about(CARD_DECLINED), case_about(CARD_DECLINED_AGAIN)
    target = problems.problem_create(actor=boss, title="Valid cards declined", cases=[first])
    source = problems.problem_create(
        actor=boss, title="Checkout declines", status="suggested", cases=[second]
    )
    problem_detection.problem_merge(source=source, target=target, actor=boss)
    source.refresh_from_db()
    assert source.status == "closed"
    assert set(ProblemCase.objects.filter(problem=target).values_list("case_id", flat=True)) == {
        first.pk,
        second.pk,
    }
    assert kinds(second)[-3:] == ["problem_unlinked", "problem_linked", "problem_changed"]
    with pytest.raises(problems.ProblemConflict):
        problem_detection.problem_merge(source=source, target=target, actor=boss)
    with pytest.raises(problems.ProblemError):
        problem_detection.problem_merge(source=target, target=target, actor=boss)


def test_managers_run_detection_and_merge_through_the_api(api):
    boss, agent = manager(), make_agent()
    crashes = burst()
    assert api.post("/api/v1/problems/detect", headers=bearer(agent)).status_code == 403
    response = api.post("/api/v1/problems/detect", headers=bearer(boss))
    assert response.status_code == 200
    [detection] = response.json()
    assert detection["created"] is True
    assert detection["problem"]["status"] == "suggested"
    assert detection["case_ids"] == sorted(c.pk for c in crashes)
    listed = api.get("/api/v1/problems", headers=bearer(agent), status="suggested").json()
    assert [p["case_ids"] for p in listed] == [detection["case_ids"]]

    target = problems.problem_create(actor=boss, title="Statement screen crashes")
    merged = api.post(
        f"/api/v1/problems/{detection['problem']['id']}/merge",
        {"into": target.number},
        headers=bearer(boss),
    )
    assert merged.status_code == 200
    assert merged.json()["case_ids"] == detection["case_ids"]
    again = api.post(
        f"/api/v1/problems/{detection['problem']['id']}/merge",
        {"into": str(target.pk)},
        headers=bearer(boss),
    )
    assert again.status_code == 409
