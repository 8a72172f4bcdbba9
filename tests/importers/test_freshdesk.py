"""`caseloop import freshdesk`: API v2 JSON in a directory, and the API itself (a real
HTTP server on loopback; `page`/`per_page`, the API key as basic-auth user with `X`)."""

from __future__ import annotations

import base64
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from caseloop.cases.models import Case, Message
from caseloop.importers.models import ImportedRecord
from caseloop.triage.models import ModelVersion

from .conftest import DeskServer, paged
from .samples import INVOICE, at, check_problems, check_sample, counts, filler, write

pytestmark = pytest.mark.django_db


def conversation(cid: int, ticket: int, user: int, when: str, body: str, **more: Any) -> dict:
    return {
        "id": cid,
        "ticket_id": ticket,
        "user_id": user,
        "body": f"<div>{body}</div>",
        "body_text": body,
        "incoming": more.pop("incoming", False),
        "private": more.pop("private", False),
        "source": 0,
        "attachments": more.pop("attachments", []),
        "created_at": when,
        "updated_at": when,
    }


def ticket(tid: int, subject: str, requester: Any, status: Any, created: str, **more: Any) -> dict:
    text = more.pop("text", subject)
    row = {
        "id": tid,
        "subject": subject,
        "description": f"<div>{text}</div>",
        "description_text": text,
        "status": status,
        "priority": more.pop("priority", 1),
        "source": 1,
        "type": more.pop("type", None),
        "requester_id": requester,
        "responder_id": more.pop("responder_id", None),
        "group_id": more.pop("group_id", None),
        "company_id": more.pop("company_id", None),
        "tags": more.pop("tags", []),
        "attachments": more.pop("attachments", []),
        "created_at": created,
        "updated_at": more.pop("updated_at", created),
    }
    row.update(more)
    return row


def freshdesk_desk(base_url: str, extra: int = 0) -> dict[str, list[dict]]:
    files = f"{base_url}/attachments"
    tickets = [
        ticket(
            1001,
            "Charged twice for my order",
            200,
            4,
            at(1, 9),
            text="I was charged twice for order 4411.",
            priority=3,
            responder_id=100,
            group_id=10,
            company_id=1,
            tags=["billing", "refund"],
            type="Billing",
            attachments=[
                {
                    "id": 91,
                    "name": "invoice.pdf",
                    "content_type": "application/pdf",
                    "size": len(INVOICE),
                    "attachment_url": f"{files}/invoice.pdf",
                }
            ],
            updated_at=at(1, 11),
        ),
        ticket(
            1002,
            "Parcel is late",
            201,
            2,
            at(2, 8),
            text="My parcel has not arrived.",
            group_id=11,
            type="Delivery",
            attachments=[{"id": 92, "name": "photo.jpg", "attachment_url": f"{files}/gone.jpg"}],
        ),
        ticket(1003, "Who sent this?", None, 2, at(2, 9)),
        ticket(1004, "Bad date", 201, 2, "31/02/2024 25:00"),
        ticket(1005, "Spam", 201, 42, at(2, 10)),
        ticket(
            1006,
            "Where is my parcel",
            201,
            5,
            at(3, 12),
            text="Where is my parcel? Tracking shows nothing.",
            responder_id=100,
            group_id=11,
            type="Delivery",
        ),
    ]
    conversations = [
        conversation(2, 1001, 100, at(1, 10), "Sorry! I have refunded the second charge."),
        conversation(3, 1001, 100, at(1, 10, 5), "Refund id R-99 issued in Stripe.", private=True),
        conversation(4, 1001, 200, at(1, 11), "Thanks, that's sorted.", incoming=True),
        conversation(7, 1006, 100, at(3, 13), "It arrives tomorrow."),
    ]
    for n, row in enumerate(filler(extra)):
        tickets.append(
            ticket(
                row["id"],
                row["subject"],
                row["requester"],
                4,
                row["created"],
                text=row["text"],
                type=row["category"],
            )
        )
        conversations.append(conversation(10_000 + n, row["id"], 100, row["reply"], "Sorted."))
    return {
        "agents": [
            {
                "id": 100,
                "available": True,
                "role_ids": [1],
                "group_ids": [10],
                "contact": {"name": "Ana Lopez", "email": "ana@desk.test"},
            },
            {
                "id": 101,
                "role_ids": [3],
                "contact": {"name": "Bo Admin", "email": "bo@desk.test"},
            },
        ],
        "roles": [
            {"id": 1, "name": "Agent", "default": True},
            {"id": 2, "name": "Supervisor", "default": True},
            {"id": 3, "name": "Account Administrator", "default": True},
        ],
        "contacts": [
            {
                "id": 200,
                "name": "Carla Diaz",
                "email": "carla@acme.test",
                "phone": "+1 415 555 0100",
                "company_id": 1,
            },
            {"id": 201, "name": "Dan Brown", "email": "dan@example.test", "phone": None},
        ],
        "companies": [{"id": 1, "name": "Acme Ltd", "domains": ["acme.test"]}],
        "groups": [
            {"id": 10, "name": "Billing team", "agent_ids": [100]},
            {"id": 11, "name": "Delivery team", "agent_ids": []},
        ],
        "tickets": tickets,
        "conversations": conversations,
        "satisfaction_ratings": [
            {
                "id": 5,
                "survey_id": 1,
                "user_id": 200,
                "agent_id": 100,
                "ticket_id": 1001,
                "feedback": "Quick and kind",
                "ratings": {"default_question": 103},
                "created_at": at(1, 12),
            }
        ],
    }


def export_dir(tmp_path: Path, desk_server: DeskServer, extra: int = 0) -> Path:
    desk_server.files["/attachments/invoice.pdf"] = INVOICE
    desk = freshdesk_desk(desk_server.url, extra)
    return write(tmp_path / "freshdesk", {f"{name}.json": rows for name, rows in desk.items()})


def run(*args: str) -> dict:
    out = StringIO()
    call_command("import", "freshdesk", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_a_freshdesk_export_becomes_the_desks_history(tmp_path, desk_server, small_training_policy):
    report = run(str(export_dir(tmp_path, desk_server)))
    check_sample("freshdesk", rating=5)
    check_problems(report["problem_list"])
    bo = ImportedRecord.objects.get(source="freshdesk", kind="agent", external_id="101")
    assert bo.local_id and report["created"]["agents"] == 2
    assert ModelVersion.objects.filter(kind="category", n_samples=2).exists()


def test_dry_run_twice_and_resume(tmp_path, desk_server):
    directory = str(export_dir(tmp_path, desk_server, extra=8))
    before = counts()
    dry = run(directory, "--dry-run")
    assert counts() == before
    assert dry["created"]["cases"] == 11
    stopped = run(directory, "--no-train", "--batch-size", "3", "--stop-after-batches", "1")
    assert stopped["stopped_early"] and Case.objects.count() < 11
    run(directory, "--no-train", "--batch-size", "3")
    done = counts()
    assert done["cases"] == 11
    assert Message.objects.count() == 7 + 16
    again = run(directory, "--no-train")
    assert counts() == done
    assert again["created"] == {}
    check_sample("freshdesk", rating=5)


def test_the_api_is_read_page_by_page_with_the_api_key(desk_server, small_training_policy):
    desk = freshdesk_desk(desk_server.url)
    desk_server.files["/attachments/invoice.pdf"] = INVOICE
    desk_server.auth = "Basic " + base64.b64encode(b"k3y:X").decode()
    routes = desk_server.routes
    for name in ("agents", "roles", "contacts", "companies", "groups"):
        routes[f"/api/v2/{name}"] = paged(desk[name])
    routes["/api/v2/tickets"] = paged(desk["tickets"])
    routes["/api/v2/surveys/satisfaction_ratings"] = paged(desk["satisfaction_ratings"])
    for row in desk["tickets"]:
        routes[f"/api/v2/tickets/{row['id']}/conversations"] = paged(
            [c for c in desk["conversations"] if c["ticket_id"] == row["id"]]
        )
    out = StringIO()
    call_command(
        "import", "freshdesk", "--url", desk_server.url, "--api-key", "k3y", "--json", stdout=out
    )
    check_sample("freshdesk", rating=5)
    check_problems(json.loads(out.getvalue())["problem_list"])
    assert any("updated_since=" in path for path, _ in desk_server.requests)
