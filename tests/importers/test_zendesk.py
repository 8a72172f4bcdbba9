"""`caseloop import zendesk`: an export directory and the REST API (a real HTTP server on
loopback answering Zendesk's documented JSON)."""

from __future__ import annotations

import base64
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from caseloop.cases.events import event_lines
from caseloop.cases.models import Case, CaseEvent, Message
from caseloop.importers.models import ImportedRecord
from caseloop.knowledge import search
from caseloop.triage.models import ModelVersion

from .conftest import DeskServer
from .samples import INVOICE, at, check_problems, check_sample, counts, filler, write

pytestmark = pytest.mark.django_db

CATEGORY_FIELD = 360001


def comment(cid: int, ticket: int, author: int, when: str, body: str, **more: Any) -> dict:
    return {
        "id": cid,
        "ticket_id": ticket,
        "type": "Comment",
        "author_id": author,
        "body": body,
        "html_body": f"<div class='zd-comment'><p>{body}</p></div>",
        "plain_body": body,
        "public": more.pop("public", True),
        "attachments": more.pop("attachments", []),
        "created_at": when,
    }


def ticket(tid: int, subject: str, requester: Any, status: str, created: str, **more: Any) -> dict:
    row = {
        "id": tid,
        "url": f"https://acme.zendesk.com/api/v2/tickets/{tid}.json",
        "subject": subject,
        "description": more.pop("description", subject),
        "status": status,
        "priority": more.pop("priority", None),
        "type": "incident",
        "requester_id": requester,
        "assignee_id": more.pop("assignee_id", None),
        "group_id": more.pop("group_id", None),
        "organization_id": more.pop("organization_id", None),
        "tags": more.pop("tags", []),
        "via": {"channel": "email"},
        "custom_fields": [{"id": CATEGORY_FIELD, "value": more.pop("category", None)}],
        "satisfaction_rating": more.pop("satisfaction_rating", {"score": "unoffered"}),
        "created_at": created,
        "updated_at": more.pop("updated_at", created),
    }
    row.update(more)
    return row


def zendesk_desk(base_url: str, extra: int = 0) -> dict[str, list[dict]]:
    """The sample desk as Zendesk's API objects (users, organizations, groups, group
    memberships, tickets and their comments)."""
    files = f"{base_url}/attachments"
    tickets = [
        ticket(
            1001,
            "Charged twice for my order",
            200,
            "solved",
            at(1, 9),
            priority="high",
            assignee_id=100,
            group_id=10,
            organization_id=1,
            tags=["billing", "refund"],
            category="Billing",
            satisfaction_rating={"id": 7, "score": "good", "comment": "Quick and kind"},
            updated_at=at(1, 11),
        ),
        ticket(1002, "Parcel is late", 201, "open", at(2, 8), group_id=11, category="Delivery"),
        ticket(1003, "Who sent this?", None, "open", at(2, 9)),
        ticket(1004, "Bad date", 201, "open", "yesterday-ish"),
        ticket(1005, "Spam", 201, "deleted", at(2, 10)),
        ticket(
            1006,
            "Where is my parcel",
            201,
            "closed",
            at(3, 12),
            assignee_id=100,
            group_id=11,
            category="Delivery",
        ),
    ]
    comments = [
        comment(
            1,
            1001,
            200,
            at(1, 9),
            "I was charged twice for order 4411.",
            attachments=[
                {
                    "id": 91,
                    "file_name": "invoice.pdf",
                    "content_url": f"{files}/invoice.pdf",
                    "content_type": "application/pdf",
                    "size": len(INVOICE),
                }
            ],
        ),
        comment(2, 1001, 100, at(1, 10), "Sorry! I have refunded the second charge."),
        comment(3, 1001, 100, at(1, 10, 5), "Refund id R-99 issued in Stripe.", public=False),
        comment(4, 1001, 200, at(1, 11), "Thanks, that's sorted."),
        comment(
            5,
            1002,
            201,
            at(2, 8),
            "My parcel has not arrived.",
            attachments=[
                {
                    "id": 92,
                    "file_name": "photo.jpg",
                    "content_url": f"{files}/gone.jpg",
                    "content_type": "image/jpeg",
                }
            ],
        ),
        comment(6, 1006, 201, at(3, 12), "Where is my parcel? Tracking shows nothing."),
        comment(7, 1006, 100, at(3, 13), "It arrives\x00 tomorrow."),
    ]
    for n, row in enumerate(filler(extra)):
        tickets.append(
            ticket(
                row["id"],
                row["subject"],
                row["requester"],
                "solved",
                row["created"],
                category=row["category"],
            )
        )
        comments.append(
            comment(10_000 + 2 * n, row["id"], row["requester"], row["created"], row["text"])
        )
        comments.append(comment(10_001 + 2 * n, row["id"], 100, row["reply"], "Sorted for you."))
    return {
        "users": [
            {"id": 100, "name": "Ana Lopez", "email": "ana@desk.test", "role": "agent"},
            {"id": 101, "name": "Bo Admin", "email": "bo@desk.test", "role": "admin"},
            {
                "id": 200,
                "name": "Carla Diaz",
                "email": "carla@acme.test",
                "phone": "+1 415 555 0100",
                "role": "end-user",
                "organization_id": 1,
            },
            {"id": 201, "name": "Dan Brown", "email": "dan@example.test", "role": "end-user"},
        ],
        "organizations": [{"id": 1, "name": "Acme Ltd"}],
        "groups": [{"id": 10, "name": "Billing team"}, {"id": 11, "name": "Delivery team"}],
        "group_memberships": [{"id": 5, "user_id": 100, "group_id": 10}],
        "tickets": tickets,
        "ticket_comments": comments,
    }


def export_dir(tmp_path: Path, desk_server: DeskServer, extra: int = 0) -> Path:
    desk_server.files["/attachments/invoice.pdf"] = INVOICE
    desk = zendesk_desk(desk_server.url, extra)
    return write(
        tmp_path / "zendesk", {f"{name}.json": {name: rows} for name, rows in desk.items()}
    )


def run(*args: str) -> dict:
    out = StringIO()
    call_command(
        "import", "zendesk", *args, "--category-field", str(CATEGORY_FIELD), "--json", stdout=out
    )
    return json.loads(out.getvalue())


def test_a_zendesk_export_directory_becomes_the_desks_history(
    tmp_path, desk_server, small_training_policy
):
    directory = export_dir(tmp_path, desk_server)
    report = run(str(directory))
    check_sample("zendesk", rating=5)
    check_problems(report["problem_list"])
    assert report["created"]["cases"] == 3
    assert report["created"]["messages"] == 7
    assert report["created"]["agents"] == 2
    assert report["created"]["customers"] == 2
    assert report["problems_by_kind"] == {"ticket": 3, "attachment": 1}
    # A NUL character (which PostgreSQL's text cannot hold) is dropped, not fatal.
    assert Message.objects.filter(text="It arrives tomorrow.").exists()
    # Then learned from: the category model trained on the imported solved cases, the
    # messages are searchable.
    version = ModelVersion.objects.get(kind="category")
    assert report["learned"]["category_model"] == version.version
    assert version.n_samples == 2
    assert report["learned"]["messages_indexed"] == 7
    assert Case.objects.filter(pk__in=search.message_case_ids("refunded")).exists()
    # The timeline says where the case came from.
    event = CaseEvent.objects.get(case__subject="Charged twice for my order")
    line = event_lines(events=[event])[event.pk]
    assert line.text == "Imported from Zendesk (#1001)"
    assert line.reason == "4 messages"


def test_a_dry_run_counts_what_it_would_make_and_writes_nothing(tmp_path, desk_server):
    directory = export_dir(tmp_path, desk_server)
    before = counts()
    report = run(str(directory), "--dry-run")
    assert counts() == before
    assert report["dry_run"] is True
    assert report["created"]["cases"] == 3
    assert report["created"]["messages"] == 7
    assert report["created"]["customers"] == 2
    assert report["problems_by_kind"]["ticket"] == 3
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*.pdf"))
    # Nothing was downloaded either.
    assert not any(path.startswith("/attachments") for path, _ in desk_server.requests)


def test_running_it_twice_creates_nothing_new(tmp_path, desk_server):
    directory = export_dir(tmp_path, desk_server)
    run(str(directory), "--no-train")
    first = counts()
    report = run(str(directory), "--no-train")
    assert counts() == first
    assert report["created"] == {}
    assert report["already_imported"]["cases"] == 3
    assert report["already_imported"]["customers"] == 2


def test_an_import_stopped_half_way_finishes_on_the_next_run_without_duplicates(
    tmp_path, desk_server
):
    directory = export_dir(tmp_path, desk_server, extra=10)
    stopped = run(str(directory), "--no-train", "--batch-size", "4", "--stop-after-batches", "2")
    assert stopped["stopped_early"] is True
    assert 0 < Case.objects.count() < 13
    run(str(directory), "--no-train", "--batch-size", "4")
    assert Case.objects.count() == 13
    assert Message.objects.count() == 7 + 20
    ids = list(ImportedRecord.objects.filter(kind="case").values_list("external_id", flat=True))
    assert len(ids) == len(set(ids)) == 13
    check_sample("zendesk", rating=5)


def test_the_rest_api_is_paged_through_with_the_api_token(desk_server, small_training_policy):
    base = desk_server.url
    desk = zendesk_desk(base)
    desk_server.files["/attachments/invoice.pdf"] = INVOICE
    desk_server.auth = "Basic " + base64.b64encode(b"admin@acme.test/token:t0k").decode()
    users = desk["users"]
    routes = desk_server.routes
    routes["/api/v2/organizations.json"] = {
        "organizations": desk["organizations"],
        "next_page": None,
    }
    routes["/api/v2/groups.json"] = {"groups": desk["groups"], "next_page": None}
    routes["/api/v2/group_memberships.json"] = {
        "group_memberships": desk["group_memberships"],
        "meta": {"has_more": False},
    }
    routes["/api/v2/users.json"] = lambda q: (
        {"users": users[:2], "next_page": f"{base}/api/v2/users.json?page=2"}
        if q.get("page") != "2"
        else {"users": users[2:], "next_page": None}
    )
    tickets = desk["tickets"]
    routes["/api/v2/incremental/tickets/cursor.json"] = lambda q: (
        {
            "tickets": tickets[:3],
            "after_cursor": "MTU3",
            "after_url": f"{base}/api/v2/incremental/tickets/cursor.json?cursor=MTU3",
            "end_of_stream": False,
        }
        if "cursor" not in q
        else {
            "tickets": tickets[3:],
            "after_cursor": None,
            "after_url": None,
            "end_of_stream": True,
        }
    )
    for row in tickets:
        routes[f"/api/v2/tickets/{row['id']}/comments.json"] = {
            "comments": [c for c in desk["ticket_comments"] if c["ticket_id"] == row["id"]],
            "next_page": None,
        }
    out = StringIO()
    call_command(
        "import",
        "zendesk",
        "--url",
        base,
        "--email",
        "admin@acme.test",
        "--token",
        "t0k",
        "--category-field",
        str(CATEGORY_FIELD),
        "--json",
        stdout=out,
    )
    report = json.loads(out.getvalue())
    check_sample("zendesk", rating=5)
    check_problems(report["problem_list"])
    paths = [path for path, _ in desk_server.requests]
    assert "/api/v2/users.json?page=2" in paths
    assert "/api/v2/incremental/tickets/cursor.json?cursor=MTU3" in paths
    assert ModelVersion.objects.filter(kind="category").exists()


def test_a_refused_login_is_a_clear_error(desk_server):
    desk_server.auth = "Basic nope"
    with pytest.raises(CommandError, match="401"):
        call_command(
            "import", "zendesk", "--url", desk_server.url, "--email", "a@b.c", "--token", "x"
        )


def test_an_export_with_nothing_usable_fails(tmp_path):
    write(tmp_path / "empty", {"tickets.json": {"tickets": []}})
    with pytest.raises(CommandError, match="nothing usable"):
        call_command("import", "zendesk", str(tmp_path / "empty"), stdout=StringIO())


def test_ndjson_with_comments_embedded_is_read_too(tmp_path, desk_server):
    desk = zendesk_desk(desk_server.url)
    desk_server.files["/attachments/invoice.pdf"] = INVOICE
    for row in desk["tickets"]:
        row["comments"] = [c for c in desk["ticket_comments"] if c["ticket_id"] == row["id"]]
    directory = write(
        tmp_path / "nd",
        {
            "tickets.ndjson": desk["tickets"],
            "users.ndjson": desk["users"],
            "organizations.json": desk["organizations"],
            "groups.json": {"groups": desk["groups"]},
            "group_memberships.json": desk["group_memberships"],
        },
    )
    run(str(directory), "--no-train")
    check_sample("zendesk", rating=5)


def test_without_attachments_they_are_noted_on_their_message_and_not_fetched(tmp_path, desk_server):
    directory = export_dir(tmp_path, desk_server)
    report = run(str(directory), "--no-train", "--no-attachments")
    assert "attachments" not in report["created"] or report["created"]["attachments"] == 0
    first = Message.objects.get(text__startswith="I was charged twice")
    assert first.attachments.count() == 0
    assert first.metadata["attachments_not_fetched"][0]["filename"] == "invoice.pdf"
    assert not any(path.startswith("/attachments") for path, _ in desk_server.requests)
    assert report["problems_by_kind"] == {"ticket": 3}
