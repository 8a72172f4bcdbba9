import pytest

from caseloop.cases.extensions import Panel, _panels, case_panels, panel_register
from caseloop.cases.services import case_update, message_add
from caseloop.customers.models import PurchaseRecord
from tests.builders import make_agent, make_case, make_customer

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
    assert response.status_code == 422
    assert b"a message needs text" in response.content


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
