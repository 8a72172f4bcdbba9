import re
from html import unescape

import pytest

from caseloop.cases.extensions import Panel, _panels, case_panels, panel_register
from caseloop.cases.services import case_transition, case_update, event_record, message_add
from caseloop.coach.models import CoachOverride
from caseloop.customers.models import PurchaseRecord
from caseloop.insights.services import rating_record
from tests.builders import make_agent, make_case, make_category, make_customer, make_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(client):
    agent = make_agent()
    client.force_login(agent)
    return agent


def test_the_timeline_mixes_messages_and_events_in_order(client, agent):
    case = make_case(text="Where is my kettle?", channel="email")
    message_add(case=case, direction="outbound", text="It ships today.", actor=agent)
    message_add(case=case, direction="note", text="Checked the warehouse.", actor=agent)
    message_add(case=case, direction="inbound", channel="chat", text="Thanks <b>a lot</b>")
    page = client.get(f"/cases/{case.pk}/")
    items = page.context["timeline"]
    kinds = [item.kind for item in items]
    assert kinds.count("message") == 4 and "event" in kinds
    stamps = [item.at for item in items]
    assert stamps == sorted(stamps)
    body = page.content.decode()
    assert (
        body.index("Where is my kettle?")
        < body.index("It ships today.")
        < body.index("Checked the warehouse.")
    )
    assert "Thanks &lt;b&gt;a lot&lt;/b&gt;" in body
    assert "Live chat" in body


def test_every_registered_panel_renders_and_missing_ones_are_skipped(client, agent, tmp_path):
    case = make_case()
    expected = [p["key"] for p in case_panels(case=case, user=agent)]
    page = client.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    for key in expected:
        assert f'id="panel-{key}"'.encode() in page.content


def test_a_panel_from_another_app_is_shown_and_one_returning_none_is_not(client, agent, settings):
    settings.TEMPLATES[0]["DIRS"] = []
    panel_register(
        Panel("testpanel", "Test panel", "web/partials/timeline.html", lambda *, case, user: {})
    )
    panel_register(
        Panel("hiddenpanel", "Hidden", "web/partials/timeline.html", lambda *, case, user: None)
    )
    try:
        page = client.get(f"/cases/{make_case().pk}/")
        assert b'id="panel-testpanel"' in page.content
        assert b'id="panel-hiddenpanel"' not in page.content
    finally:
        _panels.pop("testpanel", None)
        _panels.pop("hiddenpanel", None)


def test_the_sidebar_shows_the_customer_purchases_and_earlier_cases(client, agent):
    from django.utils import timezone

    customer = make_customer(name="Ada Lovelace", email="ada@example.com")
    PurchaseRecord.objects.create(
        customer=customer, order_id="A-77", product="Kettle", purchased_at=timezone.now(), amount=40
    )
    earlier = make_case(customer=customer, subject="Old complaint")
    case_update(case=earlier, actor=agent, tags=["complaint"])
    case = make_case(customer=customer)
    body = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Ada Lovelace" in body and "ada@example.com" in body
    assert "A-77" in body and "Old complaint" in body and "1 complaint" in body


def test_the_case_page_query_count_does_not_grow_with_the_thread(
    client, agent, django_assert_max_num_queries
):
    case = make_case()
    for n in range(3):
        message_add(case=case, direction="outbound", text=f"reply {n}", actor=agent)
    # The cap covers every panel other apps add; the point is that it does not grow.
    with django_assert_max_num_queries(75) as few:
        client.get(f"/cases/{case.pk}/")
    for n in range(20):
        message_add(case=case, direction="inbound", text=f"more {n}")
    with django_assert_max_num_queries(len(few.captured_queries) + 2):
        client.get(f"/cases/{case.pk}/")


def test_a_reply_with_an_attachment_and_a_chosen_channel_is_sent(client, agent):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = make_case()
    response = client.post(
        f"/cases/{case.pk}/reply/",
        {
            "text": "Your parcel arrives on Friday before noon.",
            "kind": "reply",
            "channel": "chat",
            "attachments": [SimpleUploadedFile("label.pdf", b"%PDF", "application/pdf")],
        },
    )
    assert response.status_code == 302
    reply = case.messages.get(direction="outbound")
    assert reply.channel == "chat"
    assert reply.attachments.get().filename == "label.pdf"


def test_an_internal_note_skips_the_coach_and_stays_internal(client, agent):
    case = make_case()
    client.post(f"/cases/{case.pk}/reply/", {"text": "probably a courier issue", "kind": "note"})
    assert case.messages.get(direction="note").text == "probably a courier issue"


def test_an_empty_reply_is_a_clear_error(client, agent):
    case = make_case()
    response = client.post(f"/cases/{case.pk}/reply/", {"text": "", "kind": "reply"})
    assert response.status_code == 302
    assert "Not sent: a message needs text" in client.get(response.url).content.decode()


def test_assigning_a_solver_keeps_the_owner(client, agent):
    solver = make_agent()
    case = make_case()
    client.post(f"/cases/{case.pk}/assign/", {"assignee": solver.pk, "reason": "billing"})
    case.refresh_from_db()
    assert case.owner_id == agent.pk and case.assignee_id == solver.pk


def test_prepared_responses_are_offered_and_rendered_for_the_case(client, agent):
    from caseloop.knowledge.models import Macro

    macro = Macro.objects.create(
        name="Replacement on its way", body="Hi {customer_first_name}, about {case_reference}."
    )
    case = make_case(customer=make_customer(name="Rosa Diaz"))
    page = client.get(f"/cases/{case.pk}/")
    assert b"Replacement on its way" in page.content
    rendered = client.get(f"/cases/{case.pk}/macros/{macro.pk}/")
    assert rendered.json() == {"text": f"Hi Rosa, about {case.reference}."}
    assert client.get(f"/cases/{case.pk}/macros/999999/").status_code == 404


# -- the reply flow -------------------------------------------------------------------------

BLAME = "You should have read the manual."
HTMX = {"HX-Request": "true"}


def page_text(response) -> str:
    """The page as a reader sees it: tags gone, entities and spaces plain."""
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(unescape(text).split())


def composer_draft(response) -> str:
    match = re.search(
        r'<textarea id="reply-text"[^>]*>(.*?)</textarea>', response.content.decode(), re.S
    )
    return unescape(match.group(1)) if match else ""


def test_the_composer_is_at_the_top_of_the_conversation_with_send_and_set_status(client, agent):
    case = make_case()
    body = client.get(f"/cases/{case.pk}/").content.decode()
    assert body.index('id="reply"') < body.index('id="timeline"')
    for label in ("Send", "Send and wait for customer", "Send and mark solved"):
        assert f">{label}</button>" in body


def test_a_reply_the_coach_holds_comes_back_after_a_redirect_with_its_draft(client, agent):
    case = make_case(customer=make_customer(name="Dana Reyes"))
    response = client.post(
        f"/cases/{case.pk}/reply/", {"text": BLAME, "kind": "reply", "then_status": "solved"}
    )
    assert response.status_code == 302
    assert response.url == f"/cases/{case.pk}/#reply"
    assert not case.messages.filter(direction="outbound").exists()
    page = client.get(response.url)
    text = page_text(page)
    assert "Not sent yet: the coach suggests a change before this reply goes to Dana Reyes." in text
    assert "Holds the reply Don't argue with or blame the customer" in text
    assert composer_draft(page) == BLAME
    body = page.content.decode()
    assert ">Send anyway and mark solved</button>" in body and ">Edit</a>" in body
    assert 'name="held_then_status" value="solved"' in body
    # Shown once: the next visit is the plain case page.
    assert "Not sent yet" not in page_text(client.get(f"/cases/{case.pk}/"))


def test_with_htmx_a_held_reply_comes_back_as_a_partial_under_the_composer(client, agent):
    case = make_case()
    response = client.post(
        f"/cases/{case.pk}/reply/", {"text": BLAME, "kind": "reply"}, headers=HTMX
    )
    assert response.status_code == 200
    assert [t.name for t in response.templates] == ["web/partials/reply_held.html"]
    text = page_text(response)
    assert text.startswith("Not sent yet: the coach suggests")
    assert "Send anyway" in text and "Edit" in text
    assert not case.messages.filter(direction="outbound").exists()


def test_sending_anyway_sends_it_with_a_confirmation_naming_the_customer(client, agent):
    case = make_case(customer=make_customer(name="Dana Reyes"))
    response = client.post(
        f"/cases/{case.pk}/reply/",
        {"text": BLAME, "kind": "reply", "send_anyway": "1", "held_then_status": "solved"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "solved"
    assert CoachOverride.objects.get().rule_ids == ["no-blame"]
    text = page_text(client.get(response.url))
    assert "Reply sent to Dana Reyes by email; the case is marked solved." in text
    assert f"{agent.display_name} replied to Dana Reyes by email" in text


def test_advice_does_not_hold_a_reply_and_is_shown_once_it_went(client, agent):
    case = make_case(customer=make_customer(name="Dana Reyes"), channel="web")
    response = client.post(
        f"/cases/{case.pk}/reply/", {"text": "I will look into it.", "kind": "reply"}, headers=HTMX
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/cases/{case.pk}/"
    assert case.messages.filter(direction="outbound").count() == 1
    assert not CoachOverride.objects.exists()
    text = page_text(client.get(f"/cases/{case.pk}/"))
    assert "Reply sent to Dana Reyes by email." in text
    assert "The coach suggests, for next time: A promise of action should say when." in text


def test_send_and_wait_for_customer_moves_the_case_with_the_reply(client, agent):
    case = make_case()
    response = client.post(
        f"/cases/{case.pk}/reply/",
        {"text": "Could you send a photo of the label?", "then_status": "pending_customer"},
    )
    case.refresh_from_db()
    assert case.status == "pending_customer"
    assert "the case now waits for the customer" in page_text(client.get(response.url))


def test_a_move_the_case_may_not_make_sends_nothing_and_keeps_the_draft(client, agent):
    case = make_case()
    case_transition(case=case, to="open", actor=agent)
    case_transition(case=case, to="solved", actor=agent)
    response = client.post(
        f"/cases/{case.pk}/reply/",
        {"text": "One more thing.", "then_status": "pending_customer"},
    )
    assert response.status_code == 302
    assert not case.messages.filter(direction="outbound").exists()
    page = client.get(response.url)
    assert "Not sent: cannot move a case from 'solved' to 'pending_customer'" in page_text(page)
    assert composer_draft(page) == "One more thing."


# -- the timeline -------------------------------------------------------------------------


def timeline_text(response) -> str:
    body = response.content.decode()
    start = body.index('<ol class="timeline"')
    fragment = body[start : body.index("</ol>", start)]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_the_timeline_reads_as_sentences_with_names_scores_and_labels(client, agent):
    alex = make_agent(first_name="Alex", last_name="Kim")
    priya = make_agent(first_name="Priya", last_name="Shah")
    customer = make_customer(name="Dana Reyes")
    case = make_case(customer=customer)
    case_update(case=case, actor=agent, assignee=alex, team=make_team(name="Returns"))
    case_update(case=case, actor=agent, assignee=priya, tags=["complaint"])
    case_transition(case=case, to="open", actor=agent)
    case_transition(case=case, to="pending_internal", actor=agent)
    case_transition(case=case, to="solved", actor=agent)
    rating_record(case=case, customer=customer, score=4, comment="Quick and friendly")
    event_record(
        case=case,
        kind="sla_breached",
        data={"target": "first_response", "due": "2026-11-24T11:00:00+00:00", "policy": None},
    )
    text = timeline_text(client.get(f"/cases/{case.pk}/"))
    for sentence in (
        "Assigned to Priya Shah (was Alex Kim)",
        "Team: Returns",
        "Tagged complaint",
        "Status: Open → Pending internal",
        "Rated the service 4/5: “Quick and friendly”",
        "SLA: first response breached",
    ):
        assert sentence in text, sentence
    for leak in (
        "assignee changed",
        "[",
        "pending_internal",
        f"→ {priya.pk}",
        "Satisfaction rated",
    ):
        assert leak not in text, leak


def test_the_triage_explanation_is_shown_once(client, agent):
    case = make_case()
    why = "category Refunds at 82% (model); priority high (score 3: complaint +2)"
    case_update(
        case=case,
        actor=None,
        category=make_category(name="Refunds"),
        priority="high",
        tags=["complaint"],
        reason="triage: " + why,
    )
    event_record(
        case=case,
        kind="triaged",
        data={
            "category": None,
            "confidence": 0.82,
            "priority": {"priority": "high"},
            "reason": why,
        },
    )
    text = timeline_text(client.get(f"/cases/{case.pk}/"))
    assert text.count("score 3: complaint +2") == 1
    assert "Triaged: no category found, high priority (category Refunds at 82%" in text


def test_the_live_timeline_reads_the_same(client, agent):
    case = make_case()
    case_update(case=case, actor=agent, tags=["complaint"])
    assert "Tagged complaint" in timeline_text(client.get(f"/cases/{case.pk}/timeline/"))
