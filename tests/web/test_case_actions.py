"""From the case page: split a customer's message into a case of its own, forward a message,
merge the case into another of the same customer, reply with copies; and the agent's own
settings page (signature, digest)."""

import pytest
from django.urls import reverse

from caseloop.cases.models import Attachment, Case, CaseEvent, OutboxEffect
from caseloop.cases.services import AttachmentUpload, message_add
from caseloop.notifications.models import NotificationPreference
from tests.builders import bearer, make_agent, make_case, make_customer, make_customer_user

pytestmark = pytest.mark.django_db


def second_problem(case):
    return message_add(
        case=case,
        direction="inbound",
        text="Also, my loyalty points never arrived.\nOrder 5521.",
        author_customer=case.customer,
        attachments=[AttachmentUpload("points.png", b"\x89PNG", "image/png")],
    )


def test_a_customers_second_problem_becomes_a_case_of_its_own(client):
    agent = make_agent()
    case = make_case(subject="Kettle leaks")
    message = second_problem(case)
    client.force_login(agent)
    page = client.get(reverse("web:case", args=[case.pk])).content.decode()
    assert reverse("web:message_split", args=[case.pk, message.pk]) in page

    response = client.post(reverse("web:message_split", args=[case.pk, message.pk]), {})
    new = Case.objects.exclude(pk=case.pk).get()
    assert response.status_code == 302 and response.url == reverse("web:case", args=[new.pk])
    assert new.subject == "Also, my loyalty points never arrived."
    assert new.customer_id == case.customer_id and new.channel == message.channel
    assert new.messages.get().text == message.text
    assert [a.filename for a in Attachment.objects.filter(case=new)] == ["points.png"]
    assert message.case_id == case.pk and case.messages.filter(pk=message.pk).exists()
    out = CaseEvent.objects.get(case=case, kind="case_split_out")
    assert out.data["reference"] == new.reference
    assert CaseEvent.objects.get(case=new, kind="case_split_from").data["case"] == case.pk
    timeline = client.get(reverse("web:case", args=[case.pk])).content.decode()
    assert f"split into its own case, {new.reference}" in timeline

    # Only a customer's message; a message of another case is not found.
    note = message_add(case=case, direction="note", text="internal", actor=agent)
    refused = client.post(reverse("web:message_split", args=[case.pk, note.pk]), {})
    assert refused.status_code == 422
    other = make_case()
    foreign = client.post(
        reverse("web:message_split", args=[other.pk, message.pk]), {"subject": "x"}
    )
    assert foreign.status_code == 422
    assert Case.objects.count() == 3


def test_forwarding_from_the_page_records_it_and_queues_the_email(client):
    agent = make_agent()
    case = make_case()
    message = case.messages.get()
    client.force_login(agent)
    bad = client.post(
        reverse("web:message_forward", args=[case.pk, message.pk]), {"to": "not mail"}
    )
    assert bad.status_code == 422 and "email address" in bad.content.decode()
    done = client.post(
        reverse("web:message_forward", args=[case.pk, message.pk]),
        {"to": "carrier@example.com", "note": "Please check the parcel."},
    )
    assert done.status_code == 302
    event = CaseEvent.objects.get(case=case, kind="message_forwarded")
    assert OutboxEffect.objects.filter(kind="message.forward", payload={"event": event.pk}).exists()


def test_merging_from_the_case_page(client):
    agent = make_agent()
    customer = make_customer()
    first = make_case(customer=customer, subject="Kettle leaks")
    second = make_case(customer=customer, subject="Kettle still leaking")
    stranger = make_case()
    client.force_login(agent)
    unknown = client.post(reverse("web:case_merge", args=[second.pk]), {"into": "CL-999999"})
    assert unknown.status_code == 422
    other = client.post(reverse("web:case_merge", args=[second.pk]), {"into": stranger.reference})
    assert other.status_code == 422 and "same customer" in other.content.decode()
    done = client.post(reverse("web:case_merge", args=[second.pk]), {"into": first.reference})
    assert done.status_code == 302 and done.url == reverse("web:case", args=[first.pk])
    second.refresh_from_db()
    assert second.status == "closed"
    assert first.messages.count() == 2


def test_a_reply_with_copies_from_the_composer_and_a_bad_copy_held_with_the_draft(client):
    agent = make_agent()
    case = make_case(channel="email")
    client.force_login(agent)
    url = reverse("web:case_reply", args=[case.pk])
    client.post(
        url, {"text": "Hello there.", "kind": "reply", "cc": "a@example.com; b@example.com"}
    )
    sent = case.messages.filter(direction="outbound").get()
    assert sent.metadata["cc"] == ["a@example.com", "b@example.com"]
    held = client.post(url, {"text": "Second.", "kind": "reply", "cc": "nope"}, follow=True)
    page = held.content.decode()
    assert "not an email address" in page and 'value="nope"' in page
    assert case.messages.filter(direction="outbound").count() == 1


def test_my_settings_keep_a_signature_and_the_digest_switch(client):
    agent = make_agent()
    client.force_login(agent)
    assert client.get(reverse("web:profile")).status_code == 200
    saved = client.post(reverse("web:profile"), {"signature": "Ana\nSupport  \n"})
    assert saved.status_code == 302
    agent.refresh_from_db()
    assert agent.signature == "Ana\nSupport"
    assert NotificationPreference.objects.get(user=agent).email_digest is False
    too_long = client.post(reverse("web:profile"), {"signature": "x" * 1001})
    assert too_long.status_code == 400
    case = make_case()
    page = client.get(reverse("web:case", args=[case.pk])).content.decode()
    assert "Your signature goes under each reply" in page
    client.force_login(make_customer_user())
    assert client.get(reverse("web:profile")).status_code == 403


def test_the_api_splits_a_message(api):
    agent = make_agent()
    case = make_case()
    message = second_problem(case)
    made = api.post(
        f"/api/v1/cases/{case.pk}/messages/{message.pk}/split",
        {"subject": "Loyalty points"},
        headers=bearer(agent),
    )
    assert made.status_code == 201, made.content
    assert made.json()["subject"] == "Loyalty points"
    missing = api.post(
        f"/api/v1/cases/{case.pk}/messages/99999999999999999999/split", {}, headers=bearer(agent)
    )
    assert missing.status_code in (404, 422)
