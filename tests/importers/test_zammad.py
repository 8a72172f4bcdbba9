"""`caseloop import zammad`: its API's JSON in a directory, and the API itself (a real HTTP
server on loopback; `Authorization: Token token=…`, `page`/`per_page`)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from caseloop.cases.models import Case
from caseloop.triage.models import ModelVersion

from .conftest import paged
from .samples import INVOICE, at, check_problems, check_sample, counts, filler, write

pytestmark = pytest.mark.django_db


def article(aid: int, ticket: int, by: int, sender: str, when: str, body: str, **more: Any) -> dict:
    html = more.pop("html", False)
    return {
        "id": aid,
        "ticket_id": ticket,
        "type": "email",
        "sender": sender,
        "from": "",
        "subject": "",
        "body": f"<p>{body}</p>" if html else body,
        "content_type": "text/html" if html else "text/plain",
        "internal": more.pop("internal", False),
        "created_by_id": by,
        "attachments": more.pop("attachments", []),
        "created_at": when,
        "updated_at": when,
    }


def ticket(tid: int, title: str, customer: Any, state: str, created: str, **more: Any) -> dict:
    row = {
        "id": tid,
        "number": f"{31000 + tid}",
        "title": title,
        "group_id": more.pop("group_id", 11),
        "group": "",
        "state": state,
        "state_id": 2,
        "priority": more.pop("priority", "2 normal"),
        "priority_id": 2,
        "customer_id": customer,
        "owner_id": more.pop("owner_id", 1),
        "organization_id": more.pop("organization_id", None),
        "tags": more.pop("tags", []),
        "category": more.pop("category", None),
        "created_at": created,
        "updated_at": more.pop("updated_at", created),
    }
    row.update(more)
    return row


def zammad_desk(extra: int = 0) -> dict[str, list[dict]]:
    tickets = [
        ticket(
            1001,
            "Charged twice for my order",
            200,
            "closed",
            at(1, 9),
            priority="3 high",
            owner_id=100,
            group_id=10,
            organization_id=1,
            tags=["billing", "refund"],
            category="Billing",
            updated_at=at(1, 11),
        ),
        ticket(1002, "Parcel is late", 201, "open", at(2, 8), category="Delivery"),
        ticket(1003, "Who sent this?", None, "open", at(2, 9)),
        ticket(1004, "Bad date", 201, "open", "2024-13-45T99:00:00Z"),
        ticket(1005, "Gone", 201, "removed", at(2, 10)),
        ticket(
            1006,
            "Where is my parcel",
            201,
            "closed",
            at(3, 12),
            owner_id=100,
            category="Delivery",
        ),
    ]
    articles = [
        article(
            1,
            1001,
            200,
            "Customer",
            at(1, 9),
            "I was charged twice for order 4411.",
            attachments=[
                {
                    "id": 91,
                    "filename": "invoice.pdf",
                    "size": str(len(INVOICE)),
                    "preferences": {"Content-Type": "application/pdf"},
                    "path": "attachments/invoice.pdf",
                }
            ],
        ),
        article(
            2, 1001, 100, "Agent", at(1, 10), "Sorry! I have refunded the second charge.", html=True
        ),
        article(
            3, 1001, 100, "Agent", at(1, 10, 5), "Refund id R-99 issued in Stripe.", internal=True
        ),
        article(4, 1001, 200, "Customer", at(1, 11), "Thanks, that's sorted."),
        article(
            5,
            1002,
            201,
            "Customer",
            at(2, 8),
            "My parcel has not arrived.",
            attachments=[{"id": 92, "filename": "photo.jpg", "path": "attachments/gone.jpg"}],
        ),
        article(6, 1006, 201, "Customer", at(3, 12), "Where is my parcel? Tracking shows nothing."),
        article(7, 1006, 100, "Agent", at(3, 13), "It arrives tomorrow."),
    ]
    for n, row in enumerate(filler(extra)):
        tickets.append(
            ticket(
                row["id"],
                row["subject"],
                row["requester"],
                "closed",
                row["created"],
                category=row["category"],
            )
        )
        articles.append(
            article(
                10_000 + 2 * n, row["id"], row["requester"], "Customer", row["created"], row["text"]
            )
        )
        articles.append(article(10_001 + 2 * n, row["id"], 100, "Agent", row["reply"], "Sorted."))
    return {
        "users": [
            {"id": 1, "login": "-", "firstname": "-", "lastname": "", "email": "", "role_ids": [3]},
            {
                "id": 100,
                "login": "ana@desk.test",
                "firstname": "Ana",
                "lastname": "Lopez",
                "email": "ana@desk.test",
                "role_ids": [2],
                "group_ids": {"10": ["full"]},
            },
            {
                "id": 101,
                "firstname": "Bo",
                "lastname": "Admin",
                "email": "bo@desk.test",
                "role_ids": [1, 2],
            },
            {
                "id": 200,
                "firstname": "Carla",
                "lastname": "Diaz",
                "email": "carla@acme.test",
                "phone": "+1 415 555 0100",
                "organization_id": 1,
                "role_ids": [3],
            },
            {
                "id": 201,
                "firstname": "Dan",
                "lastname": "Brown",
                "email": "dan@example.test",
                "role_ids": [3],
            },
        ],
        "roles": [
            {"id": 1, "name": "Admin"},
            {"id": 2, "name": "Agent"},
            {"id": 3, "name": "Customer"},
        ],
        "organizations": [{"id": 1, "name": "Acme Ltd", "shared": True}],
        "groups": [{"id": 10, "name": "Billing team"}, {"id": 11, "name": "Delivery team"}],
        "tickets": tickets,
        "ticket_articles": articles,
    }


def export_dir(tmp_path: Path, extra: int = 0) -> Path:
    desk = zammad_desk(extra)
    files: dict[str, Any] = {f"{name}.json": rows for name, rows in desk.items()}
    directory = write(tmp_path / "zammad", files)
    (directory / "attachments").mkdir()
    (directory / "attachments" / "invoice.pdf").write_bytes(INVOICE)
    return directory


def run(*args: str) -> dict:
    out = StringIO()
    call_command("import", "zammad", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_a_zammad_export_becomes_the_desks_history(tmp_path, small_training_policy):
    report = run(str(export_dir(tmp_path)))
    check_sample("zammad", rating=None, finished="closed")
    check_problems(report["problem_list"])
    assert ModelVersion.objects.filter(kind="category", n_samples=2).exists()


def test_dry_run_twice_and_resume(tmp_path):
    directory = str(export_dir(tmp_path, extra=6))
    before = counts()
    assert run(directory, "--dry-run")["created"]["cases"] == 9
    assert counts() == before
    run(directory, "--no-train", "--batch-size", "2", "--stop-after-batches", "2")
    assert Case.objects.count() < 9
    run(directory, "--no-train", "--batch-size", "2")
    done = counts()
    assert done["cases"] == 9
    assert run(directory, "--no-train")["created"] == {}
    assert counts() == done


def test_the_api_is_read_with_the_token(tmp_path, desk_server, small_training_policy):
    desk = zammad_desk()
    desk_server.auth = "Token token=s3cret"
    desk_server.files["/api/v1/ticket_attachment/1001/1/91"] = INVOICE
    for row in desk["ticket_articles"]:
        for item in row["attachments"]:
            del item["path"]
    routes = desk_server.routes
    for name in ("users", "roles", "organizations", "groups"):
        routes[f"/api/v1/{name}"] = paged(desk[name])
    tickets = [dict(row) for row in desk["tickets"]]
    tags = {row["id"]: row.pop("tags") for row in tickets}
    routes["/api/v1/tickets"] = paged(tickets)
    routes["/api/v1/tags"] = lambda q: {"tags": tags[int(q["o_id"])]}
    for row in tickets:
        routes[f"/api/v1/ticket_articles/by_ticket/{row['id']}"] = [
            a for a in desk["ticket_articles"] if a["ticket_id"] == row["id"]
        ]
    out = StringIO()
    call_command(
        "import", "zammad", "--url", desk_server.url, "--token", "s3cret", "--json", stdout=out
    )
    check_sample("zammad", rating=None, finished="closed")
    check_problems(json.loads(out.getvalue())["problem_list"])
    downloads = [auth for path, auth in desk_server.requests if "ticket_attachment" in path]
    assert downloads and all(auth == "Token token=s3cret" for auth in downloads)
