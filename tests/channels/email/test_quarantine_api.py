"""The quarantine API: list, read, retry, discard — for admins and managers only."""

import pytest

from caseloop.cases.models import Case
from caseloop.channels.email.services import email_ingest
from caseloop.channels.models import QuarantinedMessage
from tests.builders import bearer, make_case, make_customer_user, make_user

from .mail import make_email

pytestmark = pytest.mark.django_db


def quarantine_unsent_bounce() -> QuarantinedMessage:
    raw = make_email(
        sender="MAILER-DAEMON@mx.example.net",
        subject="Undelivered Mail Returned to Sender",
        text="Your message to x@example.net could not be delivered.\n"
        "Message-ID: <never-sent-by-us@desk.test>\n",
    )
    outcome = email_ingest(raw=raw, source="smtp:support@desk.test")
    assert outcome.quarantined is not None
    return outcome.quarantined


def quarantine_senderless() -> QuarantinedMessage:
    raw = b"To: support@desk.test\r\nSubject: anonymous\r\n\r\nhello\r\n"
    return email_ingest(raw=raw, source="smtp:support@desk.test").quarantined


@pytest.fixture
def admin_headers():
    return bearer(make_user(role="admin"))


def test_admins_list_quarantined_input_newest_first_with_a_cursor(
    api, admin_headers, mailbox, django_assert_max_num_queries
):
    items = [quarantine_senderless() for _ in range(3)]
    with django_assert_max_num_queries(4):
        page = api.get("/api/v1/quarantine", headers=admin_headers, limit=2).json()
    assert [i["id"] for i in page["items"]] == [items[2].pk, items[1].pk]
    assert page["items"][0]["reason"] == "no usable sender address (From)"
    assert page["items"][0]["channel"] == "email" and page["items"][0]["state"] == "held"
    assert page["items"][0]["source"] == "smtp:support@desk.test"
    assert "raw" not in page["items"][0]
    rest = api.get(
        "/api/v1/quarantine", headers=admin_headers, limit=2, cursor=page["next_cursor"]
    ).json()
    assert [i["id"] for i in rest["items"]] == [items[0].pk] and rest["next_cursor"] is None
    bad = api.get("/api/v1/quarantine", headers=admin_headers, cursor="!!")
    assert bad.status_code == 422


def test_a_manager_reads_one_record_with_its_raw_source(api, mailbox):
    item = quarantine_senderless()
    response = api.get(f"/api/v1/quarantine/{item.pk}", headers=bearer(make_user(role="manager")))
    body = response.json()
    assert response.status_code == 200
    assert body["raw"].startswith("To: support@desk.test") and body["raw_size"] == len(item.raw)
    assert body["metadata"]["envelope_recipients"] == []
    assert (
        api.get("/api/v1/quarantine/999999", headers=bearer(make_user(role="admin"))).status_code
        == 404
    )


def test_agents_and_customers_are_refused(api, mailbox):
    item = quarantine_senderless()
    agent = bearer(make_user(role="agent"))
    customer = bearer(make_customer_user())
    for headers in (agent, customer):
        assert api.get("/api/v1/quarantine", headers=headers).status_code == 403
        assert api.get(f"/api/v1/quarantine/{item.pk}", headers=headers).status_code == 403
        assert api.post(f"/api/v1/quarantine/{item.pk}/retry", headers=headers).status_code == 403
        assert api.post(f"/api/v1/quarantine/{item.pk}/discard", headers=headers).status_code == 403
    assert api.get("/api/v1/quarantine").status_code == 401
    item.refresh_from_db()
    assert item.state == "held" and item.attempts == 0


def test_retry_runs_the_pipeline_again_and_links_the_case(api, admin_headers, mailbox):
    case = make_case()
    item = quarantine_unsent_bounce()
    assert not Case.objects.exclude(pk=case.pk).exists()
    response = api.post(f"/api/v1/quarantine/{item.pk}/retry", headers=admin_headers)
    body = response.json()
    assert response.status_code == 200
    assert body["state"] == "retried" and body["attempts"] == 1
    new_case = Case.objects.exclude(pk=case.pk).get()
    assert body["case_id"] == new_case.pk and body["case_reference"] == new_case.reference
    again = api.post(f"/api/v1/quarantine/{item.pk}/retry", headers=admin_headers)
    assert again.status_code == 422 and "already retried" in again.json()["detail"]


def test_a_failing_retry_keeps_the_record_held_with_the_reason(api, admin_headers, mailbox):
    item = quarantine_senderless()
    response = api.post(f"/api/v1/quarantine/{item.pk}/retry", headers=admin_headers)
    assert response.status_code == 422
    assert response.json()["reason"] == "no usable sender address (From)"
    item.refresh_from_db()
    assert item.state == "held" and item.attempts == 1 and item.case_id is None


def test_discard_sets_the_state_and_keeps_the_raw_source(api, admin_headers, mailbox):
    item = quarantine_senderless()
    response = api.post(f"/api/v1/quarantine/{item.pk}/discard", headers=admin_headers)
    assert response.status_code == 200 and response.json()["state"] == "discarded"
    item.refresh_from_db()
    assert item.state == "discarded" and bytes(item.raw).startswith(b"To: support")
    listed = api.get("/api/v1/quarantine", headers=admin_headers, state="held").json()
    assert listed["items"] == []
