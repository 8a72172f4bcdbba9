"""How many SQL statements opening a case costs: the request writes the customer, the case,
its first message, its events and its side effects in a handful of statements; the side
effects (triage, mood, acknowledgement, SLA clock, indexing…) run after the commit.

Pinned per database like tests/test_query_counts.py: a change that adds statements to the
front door shows here. Inside the test's transaction the request's own transaction is a
savepoint, so both databases count its SAVEPOINT and RELEASE."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from caseloop.cases.errors import AttachmentTooLarge
from caseloop.cases.models import Case, CaseEvent, OutboxEffect
from caseloop.cases.services import AttachmentUpload, case_create
from tests.builders import bearer, make_agent, make_customer

pytestmark = pytest.mark.django_db

PINNED = {
    # token, savepoint, contact lookup, customer, customer event, contact point, release,
    # case (reference written by the database), message, events, side effects, and the
    # request's own savepoint and release.
    "request": {"sqlite": 13, "postgresql": 13},
    # Everything after the commit: one batch of the case's reactions in one transaction
    # with no savepoints inside it (triage, mood, SLA clock, problem statement,
    # acknowledgement, search index), the acknowledgement's delivery alone, then the
    # acknowledgement's own reactions. Settings (policies, rules, templates, the live model)
    # are read from the process's cache.
    "jobs": {"sqlite": 78, "postgresql": 76},
}


def body(email):
    return {
        "customer": {"email": email, "name": "Ann"},
        "subject": "Kettle leaks",
        "message": {"text": "Water comes out of the base and I would like a refund."},
        "channel": "email",
    }


def test_opening_a_case_writes_in_a_handful_of_statements(api, django_capture_on_commit_callbacks):
    headers = bearer(make_agent())
    with django_capture_on_commit_callbacks(execute=True):  # warm the caches, jobs too
        api.post("/api/v1/cases", body("first@example.com"), headers=headers)
    with (
        CaptureQueriesContext(connection) as request,
        django_capture_on_commit_callbacks(execute=False) as after_commit,
    ):
        response = api.post("/api/v1/cases", body("second@example.com"), headers=headers)
    assert response.status_code == 201
    case = Case.objects.get(pk=response.json()["id"])
    assert response.json()["reference"] == case.reference == f"CL-{case.pk:06d}"
    # The opening events went in together, in order, and every reaction waits in the outbox.
    kinds = list(case.events.order_by("id").values_list("kind", flat=True))
    assert kinds == [CaseEvent.Kind.CREATED, CaseEvent.Kind.MESSAGE_ADDED, "owner_assigned"]
    assert case.owner_id is not None
    waiting = OutboxEffect.objects.filter(case_id=case.pk, state=OutboxEffect.State.PENDING)
    assert {e.kind.split(":")[0] for e in waiting} == {"case_created", "message_added"}
    assert len(request.captured_queries) == PINNED["request"][connection.vendor], "\n".join(
        q["sql"][:120] for q in request.captured_queries
    )

    # After the commit the dispatcher runs them: triage and the acknowledgement happen.
    with (
        CaptureQueriesContext(connection) as jobs,
        django_capture_on_commit_callbacks(execute=True),
    ):
        for callback in after_commit:
            callback()
    # The SLA policies were read by the first case's jobs and are kept across requests.
    policy_reads = [q for q in jobs.captured_queries if 'FROM "automation_slapolicy"' in q["sql"]]
    assert policy_reads == []
    assert not OutboxEffect.objects.filter(
        case_id=case.pk, state=OutboxEffect.State.PENDING
    ).exists()
    assert case.events.filter(kind="triaged").exists()
    assert case.messages.filter(direction="outbound").exists()  # the acknowledgement
    assert len(jobs.captured_queries) == PINNED["jobs"][connection.vendor], "\n".join(
        q["sql"][:120] for q in jobs.captured_queries
    )


def test_a_case_refused_for_its_attachments_writes_nothing_and_the_caller_goes_on(settings):
    """Refusals come before the first write, so a channel that catches one (to quarantine
    the message, say) can go on in its own transaction."""
    settings.MAX_ATTACHMENT_BYTES = 10
    customer = make_customer()
    with transaction.atomic():
        with pytest.raises(AttachmentTooLarge):
            case_create(
                customer=customer,
                subject="Photo of the leak",
                text="See the photo.",
                channel="email",
                attachments=[AttachmentUpload("leak.jpg", b"x" * 11, "image/jpeg")],
            )
        assert not Case.objects.filter(subject="Photo of the leak").exists()
        kept = case_create(customer=customer, subject="Leak", text="No photo.", channel="email")
    assert Case.objects.filter(pk=kept.pk).exists()
