"""One small desk's history, written out in each vendor's documented export shape, and the
checks every format's import must pass on it.

The desk: Acme Ltd; agents Ana (agent, Billing team) and Bo (admin); customers Carla (of
Acme, email and phone) and Dan; tickets 1001 (Carla, solved, billing, four messages: in,
reply, internal note, in; an attachment; rated), 1002 (Dan, open, an attachment whose
download fails), 1006 (Dan, closed, delivery); bad tickets 1003 (no requester), 1004 (an
unreadable date), 1005 (an unknown status); and `extra` solved filler tickets.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core import mail

from caseloop.accounts.models import Role, Team, User
from caseloop.automation.models import CaseSla
from caseloop.cases.models import Case, CaseEvent, Message, OutboxEffect
from caseloop.customers.models import Customer, Organization
from caseloop.importers.models import ImportedRecord
from caseloop.insights.models import SatisfactionRating

INVOICE = b"%PDF-1.4 the invoice for order 4411"
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> str:
    return f"2024-03-{day:02d}T{hour:02d}:{minute:02d}:00Z"


def filler(extra: int) -> list[dict[str, Any]]:
    """Solved tickets alternating between two categories (with words the model can learn)."""
    rows = []
    for i in range(extra):
        billing = i % 2 == 0
        rows.append(
            {
                "id": 2000 + i,
                "subject": f"{'Invoice amount wrong' if billing else 'Courier lost parcel'} {i}",
                "requester": 200 if billing else 201,
                "category": "Billing" if billing else "Delivery",
                "text": "my invoice charge refund payment is wrong"
                if billing
                else "the courier parcel delivery never came",
                "created": at(10 + i % 15, 9, i % 60),
                "reply": at(10 + i % 15, 10, i % 60),
            }
        )
    return rows


# --- what every format's import must give --------------------------------------------------


def imported_case(source: str, external_id: str) -> Case:
    local = ImportedRecord.objects.get(source=source, kind="case", external_id=external_id)
    return Case.objects.get(pk=local.local_id)


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def check_sample(source: str, *, rating: int | None, finished: str = "solved") -> None:
    acme = Organization.objects.get(name="Acme Ltd")
    carla = Customer.objects.get(name="Carla Diaz")
    assert carla.organization == acme
    assert {(p.kind, p.value) for p in carla.contact_points.all()} >= {("email", "carla@acme.test")}
    assert Customer.objects.filter(contact_points__value="dan@example.test").count() == 1

    ana = User.objects.get(email="ana@desk.test")
    assert ana.role == Role.AGENT
    assert not ana.has_usable_password()
    assert list(ana.teams.values_list("name", flat=True)) == ["Billing team"]
    assert set(Team.objects.values_list("name", flat=True)) >= {"Billing team", "Delivery team"}

    case = imported_case(source, "1001")
    assert case.subject == "Charged twice for my order"
    assert case.customer == carla
    assert case.status == finished
    assert case.category is not None and case.category.name == "Billing"
    assert case.team is not None and case.team.name == "Billing team"
    assert case.owner == ana
    assert set(case.tags.values_list("name", flat=True)) == {"billing", "refund"}
    assert case.created_at == when(at(1, 9))
    assert case.first_response_at == when(at(1, 10))
    messages = list(case.messages.order_by("created_at"))
    assert [(m.direction, m.created_at) for m in messages] == [
        (Message.Direction.INBOUND, when(at(1, 9))),
        (Message.Direction.OUTBOUND, when(at(1, 10))),
        (Message.Direction.NOTE, when(at(1, 10, 5))),
        (Message.Direction.INBOUND, when(at(1, 11))),
    ]
    assert "charged twice" in messages[0].text
    assert messages[0].author_customer == carla
    assert messages[1].author_user == ana
    assert "Refund id R-99" in messages[2].text
    assert all(m.delivery_status == Message.Delivery.NOT_APPLICABLE for m in messages)
    (attachment,) = messages[0].attachments.all()
    assert attachment.filename == "invoice.pdf"
    assert attachment.file.read() == INVOICE
    ratings = list(SatisfactionRating.objects.filter(case=case))
    if rating is None:
        assert ratings == []
    else:
        assert [(r.score, r.customer_id) for r in ratings] == [(rating, carla.pk)]

    (event,) = case.events.all()
    assert event.kind == "imported"
    assert event.data["source"] == source and event.data["source_id"] == "1001"
    assert event.created_at == when(at(1, 9))

    late = imported_case(source, "1002")
    assert late.status == "open"
    assert late.awaiting_reply_since == when(at(2, 8))
    (first,) = late.messages.all()
    assert first.attachments.count() == 0
    assert first.metadata["attachments_failed"][0]["filename"] == "photo.jpg"
    assert imported_case(source, "1006").status == "closed"

    # History only: nothing was sent, queued or clocked.
    assert OutboxEffect.objects.count() == 0
    assert CaseSla.objects.count() == 0
    assert mail.outbox == []
    assert not CaseEvent.objects.exclude(kind="imported").exists()


def check_problems(problems: list[dict[str, str]]) -> None:
    by_id = {p["id"]: p["reason"] for p in problems}
    assert "missing requester" in by_id["1003"]
    assert "unparseable" in by_id["1004"]
    assert "unknown status" in by_id["1005"]
    assert any(p["kind"] == "attachment" and "1002/photo.jpg" in p["id"] for p in problems)


def counts() -> dict[str, int]:
    return {
        "cases": Case.objects.count(),
        "messages": Message.objects.count(),
        "customers": Customer.objects.count(),
        "users": User.objects.count(),
        "teams": Team.objects.count(),
        "orgs": Organization.objects.count(),
        "ratings": SatisfactionRating.objects.count(),
        "events": CaseEvent.objects.count(),
        "records": ImportedRecord.objects.count(),
    }


def write(directory: Path, files: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = directory / name
        if name.endswith(".ndjson"):
            path.write_text("".join(json.dumps(row) + "\n" for row in content))
        elif isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content)
        else:
            path.write_text(json.dumps(content))
    return directory
