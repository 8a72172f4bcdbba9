import json
from pathlib import Path

import pytest

from caseloop.cases.services import case_update, message_add
from caseloop.coach.engine import check_text, is_complaint_text
from caseloop.coach.evaluation import evaluate
from caseloop.coach.models import CoachOverride, Guideline, JargonTerm
from caseloop.coach.selectors import coach_check, coach_override_counts
from tests.builders import bearer, make_agent, make_case, make_customer_user

pytestmark = pytest.mark.django_db

DRAFTS = json.loads((Path(__file__).parent / "drafts.json").read_text())


def rules_of(text, complaint=False):
    return {f.rule_id for f in check_text(text=text, complaint=complaint)}


def test_the_labelled_drafts_hold_at_least_forty_good_and_bad_examples():
    assert len(DRAFTS) >= 40
    assert sum(1 for d in DRAFTS if not d["expected"]) >= 15
    assert sum(1 for d in DRAFTS if d["expected"]) >= 25


def test_every_rule_meets_its_precision_and_recall_on_the_labelled_drafts():
    report = evaluate(DRAFTS)
    for rule_id, figures in report["per_rule"].items():
        assert figures["tp"] >= 2, rule_id
        assert figures["precision"] >= 0.75, (rule_id, figures)
        assert figures["recall"] >= 0.8, (rule_id, figures)
    assert report["overall"]["precision"] >= 0.9
    assert report["overall"]["recall"] >= 0.9
    assert report["overall"]["clean_draft_false_alarm_rate"] <= 0.1


def test_i_cant_help_you_is_flagged_with_its_span_and_a_rewrite():
    text = "Hello. I can't help you with that."
    [finding] = check_text(text=text)
    assert finding.rule_id == "no-cant-help"
    assert text[finding.start : finding.end] == "I can't help you"
    assert finding.suggestion


def test_cant_help_but_agree_is_not_a_refusal():
    assert "no-cant-help" not in rules_of("I can't help but agree, it looks great.")


def test_blaming_the_customer_is_flagged():
    for phrase in [
        "You should have read the manual.",
        "As I already said, it ships Monday.",
        "That's not our fault.",
        "You failed to enter the code.",
    ]:
        assert "no-blame" in rules_of(phrase), phrase


def test_guesses_hopes_and_exaggeration_are_flagged():
    for phrase in [
        "It will probably arrive.",
        "Hopefully that works.",
        "I think it should be there soon.",
        "It never fails.",
        "It always works.",
    ]:
        assert "truthful" in rules_of(phrase), phrase


def test_blame_refusal_and_false_hope_hold_a_reply_and_tone_is_advice():
    holding = check_text(
        text="You should have read the manual. I can't help you. It will probably arrive."
    )
    assert {f.rule_id: f.blocks for f in holding} == {
        "no-blame": True,
        "no-cant-help": True,
        "truthful": True,
    }
    advice = check_text(text="I will look into it. It is with L2 now.", complaint=True)
    assert {f.rule_id for f in advice} >= {"promise-when", "jargon", "complaint-apology"}
    assert not [f for f in advice if f.blocks]
    assert all(f.as_dict()["blocks"] is f.blocks for f in holding + advice)


def test_whether_a_rule_holds_a_reply_is_its_severity_which_an_admin_sets():
    assert not [f for f in check_text(text="I will look into it.") if f.blocks]
    Guideline.objects.filter(rule_id="promise-when").update(severity="error")
    assert [f for f in check_text(text="I will look into it.") if f.blocks]
    Guideline.objects.filter(rule_id="truthful").update(severity="warning")
    assert not [f for f in check_text(text="It will probably arrive.") if f.blocks]


def test_jargon_comes_from_the_editable_list_and_suggests_the_plain_word():
    [finding] = [f for f in check_text(text="It is with L2 now.") if f.rule_id == "jargon"]
    assert "our specialist team" in finding.suggestion
    assert rules_of("The flux capacitor is broken.") == set()
    JargonTerm.objects.create(term="flux capacitor", plain="the power unit")
    assert "jargon" in rules_of("The flux capacitor is broken.")


def test_long_rambling_drafts_are_flagged_and_short_ones_are_not():
    long_sentence = "This is a sentence that " + "goes on and on " * 12 + "without stopping."
    findings = [f for f in check_text(text=long_sentence) if f.rule_id == "succinct"]
    assert findings and "sentence" in findings[0].message
    assert "succinct" not in rules_of("Your order ships today.")
    many = " ".join(["The parcel left the depot this morning."] * 30)
    assert any("words" in f.message for f in check_text(text=many) if f.rule_id == "succinct")


def test_a_promise_without_a_time_is_flagged_and_with_one_it_is_not():
    assert "promise-when" in rules_of("I will look into it.")
    assert "promise-when" not in rules_of("I will look into it and update you by 3pm today.")
    assert "promise-when" not in rules_of("I'll call you tomorrow.")


def test_a_plan_must_ask_permission():
    assert "plan-permission" in rules_of("I suggest we replace the unit.")
    assert "plan-permission" not in rules_of("I suggest we replace the unit. Shall I go ahead?")


def test_a_resolution_must_ask_whether_the_customer_is_satisfied():
    assert "resolution-satisfied" in rules_of("I have refunded your order.")
    assert "resolution-satisfied" not in rules_of(
        "I have refunded your order. Does this solve it for you?"
    )


def test_complaint_rules_apply_only_to_complaints():
    text = "Your refund was sent today."
    assert {"complaint-apology", "complaint-thanks"} <= rules_of(text, complaint=True)
    assert not {"complaint-apology", "complaint-thanks"} & rules_of(text, complaint=False)
    assert not {"complaint-apology", "complaint-thanks"} & rules_of(
        "I'm sorry, and thank you for raising this. Your refund was sent today.", complaint=True
    )


def test_complaints_are_recognised_from_the_case_wording_or_its_tag():
    assert is_complaint_text("This is unacceptable.")
    assert not is_complaint_text("Where is my order?")
    agent = make_agent()
    angry = make_case(text="I am furious, the worst service I have had.")
    calm = make_case(text="Could you tell me your opening hours?")
    assert {f.rule_id for f in coach_check(text="Done.", case=angry)} >= {"complaint-apology"}
    assert not [
        f for f in coach_check(text="Done.", case=calm) if f.rule_id.startswith("complaint")
    ]
    case_update(case=calm, actor=agent, tags=["complaint"])
    assert [f for f in coach_check(text="Done.", case=calm) if f.rule_id == "complaint-apology"]


def test_guidelines_are_data_an_admin_can_switch_off_or_add():
    assert "truthful" in rules_of("It will probably arrive.")
    Guideline.objects.filter(rule_id="truthful").update(is_active=False)
    assert "truthful" not in rules_of("It will probably arrive.")
    Guideline.objects.create(
        rule_id="no-dear-customer",
        kind="phrase",
        patterns=[r"\bdear customer\b"],
        message="Use the customer's name.",
        suggestion="Hi Alex,",
    )
    assert "no-dear-customer" in rules_of("Dear customer, thanks.")


def test_a_broken_pattern_typed_in_the_admin_never_breaks_the_coach():
    Guideline.objects.create(rule_id="broken", kind="phrase", patterns=["(unclosed"], message="x")
    assert "broken" not in rules_of("anything (unclosed")


def test_the_coach_api_returns_findings_with_spans(api):
    agent = make_agent()
    case = make_case(text="This is unacceptable, my order is lost.")
    response = api.post(
        "/api/v1/coach", {"text": "I can't help you.", "case": case.pk}, headers=bearer(agent)
    )
    assert response.status_code == 200
    findings = response.json()["findings"]
    rules = {f["rule_id"] for f in findings}
    assert {"no-cant-help", "complaint-apology", "complaint-thanks"} <= rules
    cant = next(f for f in findings if f["rule_id"] == "no-cant-help")
    assert (cant["start"], cant["end"]) == (0, 16)
    assert cant["blocks"] is True
    assert {f["rule_id"] for f in findings if not f["blocks"]} >= {"complaint-apology"}


def test_the_coach_api_is_for_agents_and_checks_the_case(api):
    customer_user = make_customer_user()
    assert (
        api.post("/api/v1/coach", {"text": "hi"}, headers=bearer(customer_user)).status_code == 403
    )
    agent = make_agent()
    assert (
        api.post("/api/v1/coach", {"text": "hi", "case": 999999}, headers=bearer(agent)).status_code
        == 404
    )
    assert api.post("/api/v1/coach", {"case": 1}, headers=bearer(agent)).status_code == 422
    assert api.post("/api/v1/coach", {"text": "hi"}).status_code == 401


def test_sending_despite_findings_is_counted_as_an_override(client):
    agent = make_agent()
    case = make_case(text="Where is my parcel?")
    client.force_login(agent)
    url = f"/cases/{case.pk}/reply/"
    refused = client.post(url, {"text": "It will probably arrive.", "kind": "reply"})
    assert refused.status_code == 302
    assert b'data-rule="truthful"' in client.get(refused.url).content
    assert case.messages.filter(direction="outbound").count() == 0
    sent = client.post(
        url, {"text": "It will probably arrive.", "kind": "reply", "send_anyway": "1"}
    )
    assert sent.status_code == 302
    assert case.messages.filter(direction="outbound").count() == 1
    override = CoachOverride.objects.get()
    assert override.rule_ids == ["truthful"] and override.case_id == case.pk
    assert coach_override_counts()["per_rule"] == {"truthful": 1}
    client.post(url, {"text": "Your parcel arrives on Friday before noon.", "kind": "reply"})
    assert CoachOverride.objects.count() == 1
    message_add(case=case, direction="note", text="probably fine", actor=agent)
    assert CoachOverride.objects.count() == 1
